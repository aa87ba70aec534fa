"""What the live view shows, derived from hub messages (no Qt).

:class:`LiveModel` applies the messages taken from the UI queue and answers
the questions the widgets ask on every refresh tick ("what does the HR tile
show at time ``now``?"). Keeping this Qt-free makes the display rules
testable without widgets.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from typing import NamedTuple

import numpy as np

from monitor.core.events import (
    CentralLink,
    ClockOffset,
    Condition,
    DeviceFlag,
    History,
    Note,
    PhaseChanged,
    RecordingStatus,
    Selection,
    SessionStarted,
    SourceInfo,
    SourceStatus,
    StreamEnded,
    Technical,
)
from monitor.core.freshness import Freshness
from monitor.core.reading import Quality, Reading, WaveChunk
from monitor.core.session import Phase, PhaseSpan, SessionModel
from monitor.core.vitals import NIBP_VITALS, Vital
from monitor.ui.live.header_texts import HeaderTextsMixin
from monitor.ui.live.sweep import SweepBuffer
from monitor.ui.live.tile_texts import (
    MANUAL_SHOWN_S,
    MANUAL_TAG,
    NO_BP_SOURCE_REASON,
    NOT_MEASURED_REASON,
    NibpState,
    TileState,
    TileTextsMixin,
)
from monitor.ui.live.trend_store import TrendStore
from monitor.ui.shared.formatting import (
    format_gap,
)

log = logging.getLogger(__name__)

SAME_DETERMINATION_S = 1e-3
"""NIBP readings whose times differ by less than this belong to one determination."""


MANUAL_MARKS_KEPT = 5000
"""Manual readings kept for the trend markers (the oldest go first; entries are rare)."""

class ManualMark(NamedTuple):
    """A value the nurse typed in, as the trends mark it."""

    t: float
    vital: Vital
    value: float


def _manual_mark(reading: Reading) -> ManualMark | None:
    """The trend mark of ``reading``, or ``None`` unless it is a valid manual value."""
    if reading.quality is not Quality.MANUAL or not math.isfinite(reading.value):
        return None
    return ManualMark(reading.t, reading.vital, reading.value)


def _shown_history(readings: tuple[Reading, ...]) -> list[Reading]:
    """A resumed session's readings as the tiles and trends take them: one device per vital.

    With several devices, each vital keeps the readings of the device that sent its
    newest valid value (typed values always stay); the live selections resume from the
    hub's next ``Selection`` messages.
    """
    newest: dict[Vital, str] = {}
    for r in readings:
        if r.source and r.valid and r.quality is not Quality.MANUAL:
            newest[r.vital] = r.source
    return [r for r in readings if not r.source or r.quality is Quality.MANUAL
            or newest.get(r.vital, r.source) == r.source]


class LiveModel(TileTextsMixin, HeaderTextsMixin):
    """State of the live display, fed with hub messages.

    What the header says (device link, status messages, the end banner, the
    session clock) comes from :class:`~monitor.ui.live.header_texts.HeaderTextsMixin`,
    what the tiles show from :class:`~monitor.ui.live.tile_texts.TileTextsMixin`.

    Parameters
    ----------
    stale_after_s : float
        A continuous vital with no valid reading for this long shows ``---``.
    nibp_grey_after_s : float
        An NIBP determination older than this is shown grey.

    Attributes
    ----------
    manual_version : int
        Increases whenever the manual readings kept for the trends
        (:meth:`manual_points`) change.
    """

    def __init__(self, stale_after_s: float = 10.0, nibp_grey_after_s: float = 900.0) -> None:
        self.stale_after_s = stale_after_s
        self.nibp_grey_after_s = nibp_grey_after_s
        self.freshness = Freshness(stale_after_s)
        self.trends = TrendStore()
        self.sweep = SweepBuffer()
        self.session: SessionModel | None = None
        self.session_version = 0
        self.simulated_source = False
        self.banner = ""
        """What the banner says of a replay (empty: the simulated-data banner)."""
        self.recording_ok: bool | None = None
        self.recording_message = ""
        self._recording_note_at: float | None = None
        self.resume_text = ""
        self.stream_ended: StreamEnded | None = None
        self.overflow_lost = 0
        self._overflow_at: float | None = None
        self._technical: dict[tuple[Condition, Vital | None, str], str] = {}
        self._nibp_t: float | None = None
        self._nibp: dict[Vital, Reading] = {}
        self._first_t: float | None = None
        self._manual: deque[ManualMark] = deque(maxlen=MANUAL_MARKS_KEPT)
        self.manual_version = 0
        self._handlers = {
            Reading: self._on_reading,
            WaveChunk: self._on_wave_chunk,
            SessionStarted: self._on_session_started,
            PhaseChanged: self._on_phase_changed,
            Technical: self._on_technical,
            RecordingStatus: self._on_recording_status,
            History: self._on_history,
            StreamEnded: self._on_stream_ended,
            Note: self._on_note,
            SourceStatus: self._on_source_status,
            DeviceFlag: self._on_device_flag,
            Selection: self._on_selection,
            ClockOffset: self._on_clock_offset,
            CentralLink: self._on_central_link,
        }
        self.central_link: CentralLink | None = None
        """The chair's link to the clinic's central station (``None``: not published)."""
        self.source_status: SourceStatus | None = None
        """The newest device status (of any source)."""
        self.source_statuses: dict[str, SourceStatus] = {}
        """The newest device status of each source, by source name (in arrival order)."""
        self.sources: tuple[SourceInfo, ...] = ()
        """The session's sources (from ``SessionStarted``)."""
        self.selected: dict[Vital, str] = {}
        """The source shown and alarmed for each vital (from the hub's ``Selection``)."""
        self.selection_version = 0
        self.clock_offsets: dict[str, float] = {}
        self._device_flags: dict[tuple[str, str], str] = {}
        self.measures: frozenset[Vital] | None = None
        """What the source can measure (from ``SessionStarted``); ``None``: not declared."""

    # -- applying messages ---------------------------------------------------

    def apply(self, message: object) -> None:
        """Apply one message from the UI queue (unknown types are logged and skipped)."""
        handler = self._handlers.get(type(message))
        if handler is None:
            log.warning("live view ignores unknown message %r", type(message).__name__)
            return
        handler(message)

    def note_dropped(self, count: int, now: float) -> None:
        """Record that ``count`` UI-queue items were lost at ``now``."""
        if count > 0:
            self.overflow_lost += count
            self._overflow_at = now

    @property
    def multi_source(self) -> bool:
        """Whether the session has several sources (the tiles then name the device shown)."""
        return len(self.sources) > 1

    def shown_source(self, vital: Vital) -> str:
        """The name of the source shown for ``vital`` ("" when none was chosen yet)."""
        return self.selected.get(vital, "")

    def is_shown(self, reading: Reading) -> bool:
        """Whether ``reading`` is of the source shown for its vital (or typed by the nurse)."""
        if not reading.source or reading.quality is Quality.MANUAL:
            return True
        chosen = self.selected.get(reading.vital)
        return chosen is None or chosen == reading.source

    def _on_selection(self, msg: Selection) -> None:
        if self.selected.get(msg.vital) != msg.source:
            self.selected[msg.vital] = msg.source
            self.selection_version += 1

    def _on_clock_offset(self, msg: ClockOffset) -> None:
        self.clock_offsets[msg.source] = msg.offset_s

    def _on_reading(self, reading: Reading) -> None:
        if reading.source and self.multi_source and reading.vital is not Vital.PLETH:
            self.trends.add_device(reading)   # each device's own series, drawn dotted
        if not self.is_shown(reading):
            # Another device's value of a vital: only its own trend series has it; the
            # tile, the freshness, the NIBP tile and the main trend are the shown device's.
            if self._first_t is None:
                self._first_t = reading.t
            return
        if self._first_t is None:
            self._first_t = reading.t
        previous = self.freshness.last(reading.vital)
        if previous is None or reading.t >= previous.t:
            self.freshness.update(reading)
        if reading.vital in NIBP_VITALS:
            self._on_nibp(reading)
        if reading.vital is not Vital.PLETH:
            self.trends.add(reading)
        if reading.quality is Quality.MANUAL:
            mark = _manual_mark(reading)
            if mark is not None:
                self._manual.append(mark)
                self.manual_version += 1

    def _on_nibp(self, reading: Reading) -> None:
        if self._nibp_t is None or reading.t > self._nibp_t + SAME_DETERMINATION_S:
            self._nibp_t = reading.t
            self._nibp = {reading.vital: reading}
        elif abs(reading.t - self._nibp_t) <= SAME_DETERMINATION_S:
            self._nibp[reading.vital] = reading

    def _on_wave_chunk(self, chunk: WaveChunk) -> None:
        chosen = self.selected.get(Vital.PLETH)
        if chunk.source and chosen is not None and chunk.source != chosen:
            return   # the hub sends the shown device's pleth only; never mix two sweeps
        if chunk.vital is Vital.PLETH:
            self.sweep.add(chunk)

    def _on_session_started(self, msg: SessionStarted) -> None:
        self.session = SessionModel(msg.session_id, msg.started_at, msg.source,
                                    msg.simulated, list(msg.spans))
        self.simulated_source = msg.simulated
        self.banner = msg.banner
        self.measures = msg.measures
        self.sources = msg.sources
        self.resume_text = format_gap(msg.gap_s) if msg.resumed else ""
        self.stream_ended = None
        self.session_version += 1

    def _on_phase_changed(self, msg: PhaseChanged) -> None:
        if self.session is None:
            self.session = SessionModel(0, msg.t, spans=[PhaseSpan(msg.phase, msg.t)])
        elif self.session.phase is msg.phase:
            return
        else:
            try:
                self.session.set_phase(msg.phase, msg.t)
            except ValueError as exc:
                log.warning("phase change ignored: %s", exc)
                return
        self.session_version += 1

    def _on_technical(self, msg: Technical) -> None:
        key = (msg.condition, msg.vital, msg.source)
        if msg.active:
            self._technical[key] = msg.message or msg.condition.value
        else:
            self._technical.pop(key, None)

    def _on_recording_status(self, msg: RecordingStatus) -> None:
        self.recording_ok = msg.ok
        self.recording_message = msg.message
        self._recording_note_at = msg.t if msg.ok and msg.message else None

    @property
    def recording(self) -> bool | None:
        """Whether readings are being saved: ``False`` after a reported failure.

        The recorder reports only failures and recoveries, so a live session
        with no failure reported counts as recording; ``None`` before any
        session or status.
        """
        if self.recording_ok is not None:
            return self.recording_ok
        live = (self.session is not None and self.session.phase is not Phase.ENDED
                and self.stream_ended is None)
        return True if live else None

    def _on_history(self, msg: History) -> None:
        marks: list[ManualMark] = []
        readings = _shown_history(msg.readings)
        for r in readings:
            if r.quality is Quality.MANUAL:
                mark = _manual_mark(r)
                if mark is not None:
                    marks.append(mark)
            if self._first_t is None or r.t < self._first_t:
                self._first_t = r.t
            previous = self.freshness.last(r.vital)
            if previous is None or r.t >= previous.t:
                self.freshness.update(r)
            if r.vital in NIBP_VITALS:
                self._on_nibp(r)
        self.trends.load_history(readings)
        for chunk in msg.waves:
            self._on_wave_chunk(chunk)
        if marks:
            self._merge_manual(marks)

    def _merge_manual(self, marks: list[ManualMark]) -> None:
        """Add recorded manual readings, oldest first, once each."""
        merged = sorted(set(self._manual).union(marks), key=lambda m: m.t)
        self._manual = deque(merged, maxlen=MANUAL_MARKS_KEPT)
        self.manual_version += 1

    def _on_stream_ended(self, msg: StreamEnded) -> None:
        self.stream_ended = msg

    def _on_note(self, msg: Note) -> None:
        """Session annotations are for the record and review, not the live screen."""

    # -- questions the widgets ask ------------------------------------------

    @property
    def origin(self) -> float | None:
        """Time zero of the trend axis: session start, else the first reading."""
        if self.session is not None:
            return self.session.started_at
        return self._first_t

    def manual_points(self, vital: Vital) -> tuple[np.ndarray, np.ndarray]:
        """Times and values of the manual readings of ``vital`` kept for the trends.

        Only valid readings the nurse typed in (:attr:`Quality.MANUAL`); new
        arrays on each call, so call it when :attr:`manual_version` moved.
        """
        found = [(m.t, m.value) for m in self._manual if m.vital is vital]
        if not found:
            return np.empty(0), np.empty(0)
        tv = np.array(found, dtype=np.float64)
        return tv[:, 0], tv[:, 1]

    def _on_central_link(self, msg: CentralLink) -> None:
        self.central_link = msg

    def _on_source_status(self, msg: SourceStatus) -> None:
        self.source_status = msg
        self.source_statuses[msg.source] = msg

    def _on_device_flag(self, msg: DeviceFlag) -> None:
        if msg.active:
            self._device_flags[(msg.source, msg.name)] = msg.text or msg.name
        else:
            self._device_flags.pop((msg.source, msg.name), None)

    def spans(self) -> list[PhaseSpan]:
        """The session's phase spans (empty before a session started)."""
        return [] if self.session is None else list(self.session.spans)


__all__ = ["MANUAL_SHOWN_S", "MANUAL_TAG", "NOT_MEASURED_REASON", "NO_BP_SOURCE_REASON",
           "LiveModel", "ManualMark", "NibpState", "TileState"]
