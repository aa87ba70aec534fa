"""Replay of raw captures through the real codec: a recorded session, or a byte file.

``replay:SESSION`` (composed in :mod:`monitor.acquisition.sources`, which
reads the recording) plays the bytes a session recorded (``raw_capture``) at
their original times from the session's start, through the codec of the
protocol the session used, together with what the bytes cannot carry: the
session's phases (the infusion start and stop, through the baseline gate
with the override the session recorded), the nurse's events, and the
readings that did not come through the wire (typed values, and the blood
pressure of a separate cuff beside an oximeter). The replay then raises the
alarms the session raised, at the same session times.

``replay:FILE`` plays a plain capture (e.g. ``infusion-sim run --stdout >
FILE`` or ``cat /dev/ttyUSB0 > FILE``) at the rate the device sent it: the
capture is decoded as it goes and each chunk is released when the device
time its frames cover has passed (the wave's sample count where the stream
carries a wave, else the device's own clock, else the protocol's frame
rate; see :class:`DeviceClock`). A plain file has no record of silences, so
a cable pulled during the capture replays as no gap at all.

Either goes at ``--speed``. This is how a field problem becomes a
regression test.

A replay never sends: a raw capture keeps both directions (``"in"`` from the
device, ``"out"`` the requests, polls and keep-alives the host sent), and
only the ``"in"`` bytes are fed, to a codec that never opened a session of
its own (no ``open_requests``, no ``tick``): a protocol with a session
(IntelliVue) decodes what the monitor sent whatever it was asked. A plain
capture of a LAN protocol is its datagrams end to end, split again by the
messages' own length fields.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from monitor.core.clock import Clock
from monitor.core.events import RawBytes
from monitor.core.reading import Reading, WaveChunk
from monitor.core.session import Phase
from monitor.core.vitals import Vital
from monitor.core.workflow.messages import (
    AddEvent,
    ScriptedStart,
)
from monitor.devices.base import Driver, SourceError
from monitor.devices.codecs.base import Codec, CodecItem
from monitor.devices.protocols import codec_class

FILE_CHUNK = 64
"""Bytes a file replay hands the codec at a time (a serial read's size)."""

MAX_DEVICE_STEP_S = 600.0
"""A device clock that leaps further than this between frames was set, not waited on."""


class DeviceClock:
    """Device seconds a byte stream covers, from what its own frames say.

    A private codec decodes the stream ahead of the replay. The time is the
    wave's sample count over its rate where the stream carries a wave (exact
    for Nonin and the Datex pleth), else the device's own clock (the Masimo
    line time, the Datex record time; steps back or leaps over
    :data:`MAX_DEVICE_STEP_S` count as no time), else the frames decoded
    times the protocol's frame period (one text line a second). It never
    goes back.
    """

    def __init__(self, protocol: str) -> None:
        self._codec = codec_class(protocol)()
        self._period = self._codec.frame_period_s
        self._wave_s: dict[object, float] = {}
        self._device_s = 0.0
        self._last_device: float | None = None
        self.elapsed = 0.0

    def advance(self, data: bytes) -> float:
        """Seconds from the stream's start to the end of the last frame in ``data``."""
        for item in self._codec.feed(data, self.elapsed):
            if isinstance(item, WaveChunk):
                self._wave_s[item.vital] = self._wave_s.get(item.vital, 0.0) + len(item) / item.rate
            elif isinstance(item, Reading) and item.device_time is not None:
                if self._last_device is not None:
                    step = item.device_time - self._last_device
                    if 0.0 < step <= MAX_DEVICE_STEP_S:
                        self._device_s += step
                self._last_device = item.device_time
        if self._wave_s:
            t = max(self._wave_s.values())
        elif self._last_device is not None:
            t = self._device_s
        elif self._period is not None:
            t = self._codec.stats.frames_ok * self._period
        else:
            t = self.elapsed
        self.elapsed = max(self.elapsed, t)
        return self.elapsed


@dataclass(frozen=True)
class RecordedPlan:
    """What a recorded session did besides its bytes, on times relative to its start."""

    phases: Sequence[tuple[float, Phase]] = ()
    events: Sequence[AddEvent] = ()
    start: ScriptedStart | None = None
    planned_infusion_s: float | None = None
    off_wire: frozenset[Vital] = frozenset()
    """Vitals another device measured beside the one on the wire (a separate cuff's NIBP)."""


class ReplayDriver(Driver):
    """Feeds recorded bytes (and readings the bytes did not carry) on the session clock.

    Parameters
    ----------
    items : iterable of (relative seconds, bytes or Reading)
        In time order, taken as the replay goes; a reading's own ``t`` is
        replaced by its replay time.
    protocol : str
    label : str
    plan : RecordedPlan
        Phases and events of the recorded session, if any.
    banner : str
        What is replayed and from when (:func:`replay_banner`).
    codec_options : dict or None
        The codec's constructor options as the session used them
        (:meth:`~monitor.devices.codecs.base.Codec.replay_options`).
    """

    simulated = True

    def __init__(self, items: Iterable[tuple[float, bytes | Reading]], protocol: str,
                 label: str, plan: RecordedPlan | None = None, banner: str = "",
                 codec_options: dict[str, object] | None = None) -> None:
        self.protocol = protocol
        # The session's own set-up: an HL7 capture holds every bed's messages.
        self.codec: Codec = codec_class(protocol)(**(codec_options or {}))
        self.label = label
        self.banner = banner or replay_banner(label.removeprefix("replay:"), None)
        self._items: Iterator[tuple[float, bytes | Reading]] = iter(items)
        self._next = next(self._items, None)
        self._plan = plan or RecordedPlan()
        self._clock: Clock | None = None
        self._start = 0.0

    @property
    def phase_plan(self) -> Sequence[tuple[float, Phase]]:
        return [(self._start + rel, phase) for rel, phase in self._plan.phases]

    @property
    def event_plan(self) -> Sequence[AddEvent]:
        return [AddEvent(e.kind, e.text, e.author, self._start + (e.t or 0.0))
                for e in self._plan.events]

    @property
    def scripted_start(self) -> ScriptedStart | None:
        return self._plan.start

    @property
    def planned_infusion_s(self) -> float | None:
        """The recorded session's planned infusion time (its set-up is not copied)."""
        return self._plan.planned_infusion_s

    @property
    def measures(self) -> frozenset[Vital] | None:
        """What the protocol carries, and what a separate device measured beside it."""
        wire = self.codec.measures
        return None if wire is None else wire | self._plan.off_wire

    def open(self, clock: Clock, session_start: float) -> None:
        self._clock = clock
        self._start = session_start
        now = clock.now()
        while self._next is not None and session_start + self._next[0] < now:
            self._next = next(self._items, None)   # resumed: what fell due meanwhile is gone

    def read(self, should_stop: threading.Event) -> list[CodecItem | RawBytes] | None:
        """The next recorded chunk at its time; the codec is fed and never asked to send."""
        assert self._clock is not None
        if self._next is None:
            return None
        rel, payload = self._next
        t = self._start + rel
        if self._clock.sleep_until(t, should_stop):
            return None
        self._next = next(self._items, None)
        if isinstance(payload, Reading):
            return [Reading(payload.vital, payload.value, t, payload.quality,
                            payload.device_time)]
        return [RawBytes(t, payload), *self.codec.feed(payload, t)]


def from_file(path: Path, protocol: str) -> ReplayDriver:
    """A replay of a plain byte capture, paced at the rate the device sent it."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"cannot read the capture {path}: {exc.strerror or exc}") from exc
    if not data:
        raise SourceError(f"the capture {path} is empty")
    try:
        made: float | None = path.stat().st_mtime
    except OSError:
        made = None
    return ReplayDriver(_paced(data, protocol), protocol, f"replay:{path.name}",
                        banner=replay_banner(f"{path.name} ({protocol} capture)", made))


def replay_banner(what: str, recorded_at: float | None) -> str:
    """``"REPLAY of session 12 (PT-0042) recorded 30 Nov 2026 14:02 — NOT A LIVE PATIENT"``.

    ``recorded_at``: when the recording was made (a capture file: when it was
    written), ``None`` if unknown.
    """
    when = ("" if recorded_at is None
            else time.strftime(" recorded %d %b %Y %H:%M", time.localtime(recorded_at)))
    return f"REPLAY of {what}{when} \u2014 NOT A LIVE PATIENT"


def _paced(data: bytes, protocol: str) -> Iterator[tuple[float, bytes]]:
    """The capture in serial-read-sized chunks, each at the device time its frames reach.

    A line protocol's chunks also end at each line's end, so two short lines
    (a text line is 17 bytes, a second apart) never arrive together.
    """
    clock = DeviceClock(protocol)
    lines = codec_class(protocol).frame_period_s is not None
    pieces = _LINE.findall(data) if lines else [data]
    for piece in pieces:
        for i in range(0, len(piece), FILE_CHUNK):
            chunk = piece[i:i + FILE_CHUNK]
            yield clock.advance(chunk), chunk


_LINE = re.compile(rb"[^\n]*\n|[^\n]+")
