"""Messages the acquisition hub publishes to the live view and the headless printer.

They are plain frozen dataclasses: the same objects travel on the UI queue,
become JSON lines in headless runs, and are what tests assert on.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from monitor.core.reading import Reading, WaveChunk
from monitor.core.session import Phase, PhaseSpan
from monitor.core.vitals import Vital
from monitor.core.workflow.messages import (
    ChecklistTicked,
    EventTimeCorrected,
    InfusionChanged,
    SessionEvent,
    WorkflowMessage,
)


class Condition(enum.StrEnum):
    """Technical conditions the pipeline itself detects."""

    STALE = "stale"                      # one vital stopped while others still arrive
    NO_DATA = "no_data"                  # nothing at all from the source
    QUEUE_OVERFLOW = "queue_overflow"    # a bounded queue was full; items were lost
    RECORDING_FAILED = "recording_failed"
    SOURCE_ERROR = "source_error"
    UNDECODABLE = "undecodable"          # bytes arrive but the codec finds no valid frame
    SENSOR_PROBLEM = "sensor_problem"    # the device reports a probe off or failing
    PORT_LOST = "port_lost"              # the serial port disappeared (USB unplugged)
    INTERNAL_ERROR = "internal_error"    # a bug met one item; it was skipped, monitoring goes on
    CENTRAL_LOST = "central_lost"        # the clinic's central station cannot be reached


@dataclass(frozen=True)
class CentralLink:
    """How the chair's link to the clinic's central station is (issue 17).

    ``connected``: the broker accepted the chair; ``message`` says why not
    ("broker refused: bad user name or password", "no answer from HOST:PORT").
    ``alarms_sent`` counts the alarm transitions handed to the broker and
    ``alarms_confirmed`` those the central station confirmed it received
    (``last_confirmed``: the sequence number of the latest); ``outbox`` is what
    waits to be sent, ``dropped`` what a full outbox lost.
    """

    t: float
    connected: bool
    url: str
    message: str = ""
    alarms_sent: int = 0
    alarms_confirmed: int = 0
    last_confirmed: int = 0
    outbox: int = 0
    dropped: int = 0


@dataclass(frozen=True)
class SessionStarted:
    """A session is live (new, or resumed after a gap).

    ``gap_s`` is the length of the interruption when resumed, else ``None``.
    ``measures`` is what the source can measure (``Driver.measures``; ``None``:
    not declared): the live view shows any other vital as "not measured".
    """

    session_id: int
    started_at: float
    source: str
    simulated: bool
    spans: tuple[PhaseSpan, ...]
    resumed: bool = False
    gap_s: float | None = None
    measures: frozenset[Vital] | None = None
    banner: str = ""
    """What the banner says of a source that is not a live patient (``Driver.banner``)."""
    sources: tuple[SourceInfo, ...] = ()
    """Every source (device) of the session, in the order given."""


@dataclass(frozen=True)
class SourceInfo:
    """One source (device) of a session.

    Attributes
    ----------
    name : str
        Unique in the session, short, shown to the nurse ("Masimo",
        "Datex S/5"); the key in the database, JSON and exports.
    label : str
        The source as given, e.g. ``serial:/dev/ttyUSB0`` or ``sim:typical``.
    protocol : str or None
    simulated : bool
    kind : str
        ``"oximeter"`` (a dedicated pulse oximeter) or ``"monitor"``.
    measures : frozenset of Vital or None
        What it can measure (``Driver.measures``); ``None``: not declared.
    settings : str or None
        Its serial settings or listener options (``Driver.settings_text``).
    """

    name: str
    label: str
    protocol: str | None
    simulated: bool
    kind: str
    measures: frozenset[Vital] | None
    settings: str | None = None


@dataclass(frozen=True)
class Selection:
    """The source now shown and alarmed for ``vital`` changed (or was first chosen).

    ``reason`` is one of ``start`` (once per vital at the start, ``previous``
    empty), ``stale``, ``sensor`` (invalid readings or a probe off),
    ``no_data`` (the source went silent), ``ended`` (its stream ended),
    ``returned`` (a higher-priority source valid again long enough) and
    ``newer`` (NIBP: a newer determination from another device).
    """

    t: float
    vital: Vital
    source: str
    reason: str
    previous: str = ""


@dataclass(frozen=True)
class ClockOffset:
    """A source's device clock minus host arrival time, in seconds (robust over recent readings)."""

    t: float
    source: str
    offset_s: float


@dataclass(frozen=True)
class PhaseChanged:
    """The session entered ``phase`` at ``t``."""

    phase: Phase
    t: float


@dataclass(frozen=True)
class Technical:
    """A technical condition became active (``active``) or ended."""

    condition: Condition
    active: bool
    t: float
    message: str
    vital: Vital | None = None
    count: int = 0
    source: str = ""
    """The source (device) it concerns in a session of several sources; else empty."""


@dataclass(frozen=True)
class RecordingStatus:
    """Whether the recorder is writing. ``ok=False`` means readings are not being saved."""

    ok: bool
    t: float
    message: str = ""


@dataclass(frozen=True)
class History:
    """What a resumed session already recorded, oldest first.

    ``events`` carry their current (corrected) times and ``corrections``
    says which were moved, by whom and when; ``infusion`` is every start,
    pause, resume and stop so far; ``notes`` are the manual-entry notes
    (who typed which value); ``checklist`` every tick and untick.
    """

    readings: tuple[Reading, ...] = ()
    waves: tuple[WaveChunk, ...] = ()
    events: tuple[SessionEvent, ...] = ()
    infusion: tuple[InfusionChanged, ...] = ()
    corrections: tuple[EventTimeCorrected, ...] = ()
    notes: tuple[Note, ...] = ()
    checklist: tuple[ChecklistTicked, ...] = ()


@dataclass(frozen=True)
class StreamEnded:
    """The source finished (scenario over, duration reached, or stopped)."""

    t: float
    reason: str = ""
    source: str = ""


@dataclass(frozen=True)
class SourceStatus:
    """How the device link is doing, sent about once a second by a serial driver.

    Attributes
    ----------
    t : float
    label : str
        The source, e.g. ``serial:/dev/ttyUSB0 (masimo-ascii)``.
    connected : bool
    bytes_per_s : float
        Over the last status interval.
    frames_ok, frames_bad, bytes_discarded : int
        Totals since the source was opened.
    last_data_t : float or None
        When the last valid frame arrived.
    message : str
        Why not connected, or empty.
    link_state : str
        The protocol session's state where the protocol has one (IntelliVue:
        ``associated``, ``associating``, ``refused: ...``), else empty.
    detail : str
        The protocol's own counts worth a look (IntelliVue: polls answered of
        polls sent), else empty.
    link_ok : bool
        False when the protocol session lets no data through (an IntelliVue not
        associated, an HL7 feed with only other beds' messages): the header says so.
    """

    t: float
    label: str
    connected: bool
    bytes_per_s: float = 0.0
    frames_ok: int = 0
    frames_bad: int = 0
    bytes_discarded: int = 0
    last_data_t: float | None = None
    message: str = ""
    link_state: str = ""
    detail: str = ""
    link_ok: bool = True
    source: str = ""


@dataclass(frozen=True)
class DeviceFlag:
    """Something the device itself reports: its own alarm or a probe problem.

    ``name`` is stable (e.g. ``"masimo.alarm.spo2_low"``, ``"sensor_off"``);
    ``active`` says whether it started or ended; ``text`` is for people.
    Codecs emit a flag when its state changes, not on every frame.
    """

    t: float
    name: str
    active: bool
    text: str = ""
    source: str = ""


@dataclass(frozen=True)
class RawBytes:
    """Bytes exactly as they arrived from the device, with their host arrival time."""

    t: float
    data: bytes
    direction: str = "in"   # "in" from the device, "out" requests we sent
    source: str = ""


@dataclass(frozen=True)
class Note:
    """A timestamped annotation on the session (system notes now, nurse events later)."""

    t: float
    kind: str
    text: str = ""
    author: str = ""


HubMessage = (Reading | WaveChunk | SessionStarted | PhaseChanged | Technical
              | RecordingStatus | History | StreamEnded | Note | SourceStatus | RawBytes
              | Selection | ClockOffset | WorkflowMessage)


@dataclass
class Counters:
    """Running totals the hub keeps for the end-of-run summary."""

    readings: int = 0
    wave_samples: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    alarms: dict[str, int] = field(default_factory=dict)   # transitions by state
    internal_errors: int = 0
