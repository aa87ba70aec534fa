"""The one driver interface every source implements: simulator, serial device, replay."""

from __future__ import annotations

import abc
import threading
from collections.abc import Sequence

from monitor.core.clock import Clock
from monitor.core.reading import DeviceNumeric, Reading, WaveChunk
from monitor.core.session import Phase
from monitor.core.vitals import Vital
from monitor.core.workflow.messages import AddEvent, ScriptedStart

DriverItem = Reading | WaveChunk | DeviceNumeric


class Driver(abc.ABC):
    """A source of readings and wave chunks.

    A reader thread calls :meth:`open` once, then :meth:`read` in a loop
    until it returns ``None`` (the source has ended) or the thread is asked
    to stop, then :meth:`close`.

    Attributes
    ----------
    label : str
        The source as the user named it, e.g. ``sim:typical``.
    simulated : bool
        True for simulators and replays: the window then says so.
    protocol : str or None
        The protocol name when bytes go through a codec (serial, replay,
        simulator with a protocol); ``None`` otherwise.
    phase_plan : sequence of (time, Phase)
        Phase changes the source scripts (simulated sessions); empty for
        real devices, where the nurse drives the phases.
    event_plan : sequence of AddEvent
        Events the source scripts, each with its time (simulated sessions);
        empty for real devices, where the nurse records them.
    """

    label: str = ""
    name: str = ""
    """The source's name in the session ("Masimo", "Datex S/5"), unique and shown to the
    nurse; set by the composition (chair configuration, ``--name``), and when empty the
    pipeline gives the protocol's device name (:func:`monitor.devices.protocols.default_names`)."""
    simulated: bool = False
    banner: str = ""
    """What the window's banner says of a source that is not a live patient (a replay:
    what and from when); empty: the simulated-data banner, when ``simulated``."""
    protocol: str | None = None
    """The wire protocol the bytes are decoded with (recorded with the session)."""

    @property
    def settings_text(self) -> str | None:
        """The serial settings in use, e.g. ``9600 8N1``, or ``None`` without a port."""
        return None

    @property
    def phase_plan(self) -> Sequence[tuple[float, Phase]]:
        return ()

    @property
    def event_plan(self) -> Sequence[AddEvent]:
        return ()

    @property
    def scripted_start(self) -> ScriptedStart | None:
        """The override a scripted infusion start declares (simulator, replay); ``None``."""
        return None

    @property
    def planned_infusion_s(self) -> float | None:
        """A replayed session's planned infusion time; ``None`` for any other source."""
        return None

    @property
    def measures(self) -> frozenset[Vital] | None:
        """The monitor's own vitals this source can deliver; ``None``: not declared.

        A vital outside it is "not measured": the live view says so (the pulse
        rate takes the heart rate's place when there is no ECG) and no alarm
        waits for it (no NIBP overdue without a blood-pressure source).
        """
        return None

    @abc.abstractmethod
    def open(self, clock: Clock, session_start: float) -> None:
        """Prepare to deliver data for a session that started at ``session_start``."""

    @abc.abstractmethod
    def read(self, should_stop: threading.Event) -> list[DriverItem] | None:
        """Block briefly for data; return what arrived, or ``None`` when the source ended."""

    def close(self) -> None:
        """Release the source. Safe to call more than once."""


class SourceError(ValueError):
    """A source that cannot be used; the message says what is allowed."""
