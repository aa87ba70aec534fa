"""What the nurse's workflow panel and events list show, derived from hub messages (no Qt).

:class:`WorkflowModel` follows the session's shape the way
:class:`~monitor.ui.live.model.LiveModel` follows the vitals: it applies the
messages taken from the UI queue (phase changes, infusion actions, events,
time corrections, refusals, readings, and a resumed session's
:class:`~monitor.core.events.History`) and answers, for a clock time
``now``, what the panel shows: the baseline and the start gate, the infusion
timer, the NIBP cycle reminder, the discharge readiness. The rules
themselves live in :mod:`monitor.core.workflow`; this module only keeps the
inputs and asks them.

Everything is computed from recorded times, so a model fed a resumed
session's history shows the same phase and timers as before the gap.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from dataclasses import dataclass, field

from monitor.core.alarms.profile import AlarmProfile, NibpCycle
from monitor.core.events import History, Note, PhaseChanged, SessionStarted
from monitor.core.reading import Reading
from monitor.core.session import Phase, PhaseSpan, SessionModel
from monitor.core.vitals import Vital
from monitor.core.workflow.baseline_gate import BaselineGate, GateResult, Override
from monitor.core.workflow.discharge import DischargeReadiness, Readiness
from monitor.core.workflow.infusion import InfusionState, InfusionTimer, NibpDue, next_nibp_due
from monitor.core.workflow.messages import (
    MANUAL_NOTE_KIND,
    ChecklistTicked,
    CommandRefused,
    EventKind,
    EventTimeCorrected,
    InfusionAction,
    InfusionChanged,
    SessionDischarged,
    SessionEvent,
)
from monitor.core.workflow.setup import DEFAULT_PLANNED_MIN
from monitor.core.workflow.values import BaselineValues, NibpDetermination
from monitor.ui.shared.formatting import format_gap

log = logging.getLogger(__name__)

SAME_DETERMINATION_S = 1e-3
"""NIBP readings whose times differ by less than this belong to one determination."""


WORKFLOW_MESSAGES = (SessionEvent, EventTimeCorrected, InfusionChanged, ChecklistTicked,
                     CommandRefused, SessionDischarged)
"""Messages only the workflow model takes (the live model does not know them)."""

SHARED_MESSAGES = (Reading, SessionStarted, PhaseChanged, History, Note)
"""Messages both the live model and the workflow model take."""


@dataclass(frozen=True)
class EventRow:
    """One line of the events list.

    Attributes
    ----------
    event_id : str or None
        The event's id; ``None`` for a manual-entry line (not correctable).
    t : float
        Its current session-clock time.
    label : str
        What happened (``"Nausea"``, ``"Manual entry"``...).
    text, author : str
    corrections : tuple of EventTimeCorrected
        Every time correction kept for it, oldest first.
    """

    event_id: str | None
    t: float
    label: str
    text: str = ""
    author: str = ""
    corrections: tuple[EventTimeCorrected, ...] = ()


def _manual_row(note: Note) -> EventRow:
    """The events-list line of a manual entry (not correctable: it has no event id)."""
    return EventRow(None, note.t, "Manual entry", note.text, note.author)


@dataclass(frozen=True)
class WorkflowState:
    """What the workflow panel shows at one moment.

    Attributes
    ----------
    phase : Phase or None
        ``None`` before a session started.
    baseline : BaselineValues
        The baseline as it stands (frozen once the infusion started).
    gate : GateResult or None
        The start gate, in the baseline phase only.
    infusion : InfusionState
    elapsed_s, remaining_s, planned_s : float
        Running infusion time (pauses excluded), planned minus elapsed
        (negative once overrun), and the planned time.
    pause_reason : str
    paused_for_s : float
    planned_end_reached : bool
        The planned time has been reached (the low-key reminder stays on).
    nibp_due : NibpDue or None
        The NIBP cycle reminder.
    since_infusion_end_s : float or None
    readiness : Readiness or None
        The discharge criteria, in the recovery phase only.
    discharged : SessionDischarged or None
    resume_text : str
        ``"Session resumed after a gap of N min"`` after a restart, else empty.
    """

    phase: Phase | None
    baseline: BaselineValues = field(default_factory=BaselineValues)
    gate: GateResult | None = None
    infusion: InfusionState = InfusionState.NOT_STARTED
    elapsed_s: float = 0.0
    remaining_s: float = 0.0
    planned_s: float = DEFAULT_PLANNED_MIN * 60.0
    pause_reason: str = ""
    paused_for_s: float = 0.0
    planned_end_reached: bool = False
    nibp_due: NibpDue | None = None
    since_infusion_end_s: float | None = None
    readiness: Readiness | None = None
    discharged: SessionDischarged | None = None
    resume_text: str = ""


class WorkflowModel:
    """The session's workflow state, fed with hub messages.

    Parameters
    ----------
    planned_s : float
        Planned infusion time (from the session set-up; 40 min by default).
    cycle : NibpCycle
        The alarm profile's NIBP intervals, for the cycle reminder.
    clinician : str
        The responsible clinician from the set-up (the default name of a
        start-gate override).
    stale_after_s : float
        A current HR or SpO2 older than this does not count for discharge.
    readiness : DischargeReadiness or None
        The discharge rules (default margin 20 %).

    Attributes
    ----------
    checklist : set of str
        The :class:`~monitor.core.workflow.discharge.ChecklistItem` values ticked.
    events_version : int
        Increases whenever the events list changes (to redraw on change only).
    """

    def __init__(self, planned_s: float = DEFAULT_PLANNED_MIN * 60.0, *,
                 cycle: NibpCycle | None = None, clinician: str = "",
                 stale_after_s: float = 10.0,
                 readiness: DischargeReadiness | None = None) -> None:
        self.planned_s = planned_s
        self.cycle = cycle if cycle is not None else NibpCycle()
        self.clinician = clinician
        self.stale_after_s = stale_after_s
        self.readiness_rules = readiness if readiness is not None else DischargeReadiness()
        self.session: SessionModel | None = None
        self.gate = BaselineGate()
        self.checklist: set[str] = set()
        self.events_version = 0
        self.resume_text = ""
        self.discharged: SessionDischarged | None = None
        self._records: list[InfusionChanged] = []
        self._timer = InfusionTimer(planned_s)
        self._events: dict[str, SessionEvent] = {}
        self._corrections: dict[str, list[EventTimeCorrected]] = {}
        self._manual: list[EventRow] = []
        self._refusals: deque[CommandRefused] = deque(maxlen=20)
        self._dets: deque[NibpDetermination] = deque(maxlen=2)
        self._nibp_part: tuple[float, dict[Vital, float]] | None = None
        self._last_nibp_t: float | None = None
        self._current: dict[Vital, tuple[float, float]] = {}
        self._handlers = {
            SessionStarted: self._on_session_started,
            PhaseChanged: self._on_phase_changed,
            History: self._on_history,
            Reading: self._on_reading,
            Note: self._on_note,
            SessionEvent: self._on_event,
            EventTimeCorrected: self._on_correction,
            InfusionChanged: self._on_infusion,
            ChecklistTicked: self._on_tick,
            CommandRefused: self._on_refused,
            SessionDischarged: self._on_discharged,
        }

    # -- applying messages ---------------------------------------------------

    def apply(self, message: object) -> None:
        """Apply one message from the UI queue (other types are ignored)."""
        handler = self._handlers.get(type(message))
        if handler is not None:
            handler(message)

    def _on_session_started(self, msg: SessionStarted) -> None:
        self.session = SessionModel(msg.session_id, msg.started_at, msg.source,
                                    msg.simulated, list(msg.spans))
        self.resume_text = format_gap(msg.gap_s) if msg.resumed else ""

    def _on_phase_changed(self, msg: PhaseChanged) -> None:
        if self.session is None:
            self.session = SessionModel(0, msg.t, spans=[PhaseSpan(msg.phase, msg.t)])
            return
        if self.session.phase is msg.phase:
            return
        try:
            self.session.set_phase(msg.phase, msg.t)
        except ValueError as exc:
            log.warning("workflow: phase change ignored: %s", exc)

    def _on_history(self, msg: History) -> None:
        """A resumed session's record: rebuild the gate, the timer and the events from it."""
        infusion_at = self._phase_start(Phase.INFUSION)
        for reading in sorted(msg.readings, key=lambda r: r.t):
            self._take_reading(reading, baseline=infusion_at is None or reading.t < infusion_at)
        if msg.infusion:
            self._records = sorted({*self._records, *msg.infusion}, key=lambda r: r.t)
            self._rebuild_timer()
        for event in msg.events:   # at their current (corrected) times already
            self._events[event.event_id] = event
        for corr in msg.corrections:   # a repeated history adds nothing twice
            kept = self._corrections.setdefault(corr.event_id, [])
            if corr not in kept:
                kept.append(corr)
        for note in msg.notes:
            if _manual_row(note) not in self._manual:
                self._on_note(note)
        for tick in sorted(msg.checklist, key=lambda c: c.t):
            self._on_tick(tick)
        if msg.events or msg.corrections:
            self.events_version += 1

    def _on_reading(self, reading: Reading) -> None:
        phase = self.session.phase if self.session is not None else Phase.BASELINE
        self._take_reading(reading, baseline=phase is Phase.BASELINE)

    def _take_reading(self, reading: Reading, *, baseline: bool) -> None:
        if baseline:
            self.gate.add(reading)
        if not reading.valid:
            return
        v = reading.vital
        if v in (Vital.HR, Vital.PULSE_RATE, Vital.SPO2):
            last = self._current.get(v)
            if last is None or reading.t >= last[0]:
                self._current[v] = (reading.t, reading.value)
        elif v in (Vital.NIBP_SYS, Vital.NIBP_DIA):
            self._take_nibp(v, reading.t, reading.value)

    def _take_nibp(self, vital: Vital, t: float, value: float) -> None:
        part = self._nibp_part
        if part is None or abs(part[0] - t) > SAME_DETERMINATION_S:
            if part is not None and t < part[0]:
                return   # an older determination than the one being assembled
            part = (t, {})
            self._nibp_part = part
        part[1][vital] = value
        values = part[1]
        if Vital.NIBP_SYS in values and Vital.NIBP_DIA in values:
            det = NibpDetermination(part[0], values[Vital.NIBP_SYS], values[Vital.NIBP_DIA])
            if not self._dets or self._dets[-1].t < det.t:
                self._dets.append(det)
            self._last_nibp_t = det.t

    def _on_note(self, note: Note) -> None:
        if note.kind == MANUAL_NOTE_KIND:
            self._manual.append(_manual_row(note))
            self.events_version += 1

    def _on_event(self, event: SessionEvent) -> None:
        self._events[event.event_id] = event
        self.events_version += 1

    def _on_correction(self, corr: EventTimeCorrected) -> None:
        event = self._events.get(corr.event_id)
        if event is None:
            log.warning("workflow: correction of unknown event %r ignored", corr.event_id)
            return
        self._events[corr.event_id] = SessionEvent(event.event_id, corr.new_t, event.kind,
                                                   event.text, event.author)
        self._corrections.setdefault(corr.event_id, []).append(corr)
        self.events_version += 1

    def _on_infusion(self, rec: InfusionChanged) -> None:
        self._records.append(rec)
        self._rebuild_timer()

    def _rebuild_timer(self) -> None:
        self._timer = InfusionTimer(self.planned_s, self._records)
        for rec in self._timer.ignored:
            log.warning("workflow: infusion record %r is not a valid transition", rec)

    def _on_tick(self, msg: ChecklistTicked) -> None:
        self.set_checked(msg.item, msg.ticked)

    def _on_refused(self, msg: CommandRefused) -> None:
        self._refusals.append(msg)

    def _on_discharged(self, msg: SessionDischarged) -> None:
        self.discharged = msg

    # -- the nurse's side ----------------------------------------------------

    def set_checked(self, item: str, checked: bool) -> None:
        """Tick or untick a discharge checklist item.

        The panel calls it as the nurse clicks, so the box answers at once;
        the hub's :class:`ChecklistTicked` (recorded, and replayed on resume)
        then confirms it.
        """
        if checked:
            self.checklist.add(item)
        else:
            self.checklist.discard(item)

    def take_refusals(self) -> list[CommandRefused]:
        """Refusals not yet shown, oldest first (each is returned once)."""
        out = list(self._refusals)
        self._refusals.clear()
        return out

    def use_profile(self, profile: AlarmProfile) -> None:
        """Follow the clinic's profile: its NIBP cycle and discharge thresholds."""
        self.cycle = profile.nibp_cycle
        d = profile.discharge
        if (d.margin, d.min_recovery_s, d.min_spo2) != (
                self.readiness_rules.margin, self.readiness_rules.min_recovery_s,
                self.readiness_rules.min_spo2):
            self.readiness_rules = DischargeReadiness(d.margin, d.min_recovery_s, d.min_spo2)

    def evaluate_gate(self, now: float, override: Override | None = None) -> GateResult:
        """The start gate at ``now``, with an override if one is given."""
        return self.gate.evaluate(now, override)

    # -- questions the widgets ask ------------------------------------------

    @property
    def phase(self) -> Phase | None:
        """The current phase, ``None`` before a session started."""
        return None if self.session is None else self.session.phase

    def _phase_start(self, phase: Phase) -> float | None:
        return None if self.session is None else self.session.started(phase)

    def timer(self) -> InfusionTimer:
        """The infusion timer from the recorded actions.

        A session whose phases moved without any recorded infusion action (a
        record from before actions were kept) gets its timer from the phase
        times: start at the infusion phase, stop at the recovery phase.
        """
        if self._records or self.session is None:
            return self._timer
        start = self._phase_start(Phase.INFUSION)
        if start is None:
            return self._timer
        stop = self._phase_start(Phase.RECOVERY) or self._phase_start(Phase.ENDED)
        recs = [InfusionChanged(InfusionAction.START, start)]
        if stop is not None:
            recs.append(InfusionChanged(InfusionAction.STOP, stop))
        return InfusionTimer(self.planned_s, recs)

    def events(self) -> list[EventRow]:
        """The events list: nurse events (current times) and manual entries, in time order."""
        rows = [EventRow(e.event_id, e.t, e.kind.label, e.text, e.author,
                         tuple(self._corrections.get(e.event_id, ())))
                for e in self._events.values()]
        rows.extend(self._manual)
        order = {id(r): i for i, r in enumerate(rows)}
        return sorted(rows, key=lambda r: (r.t, order[id(r)]))

    def event(self, event_id: str) -> SessionEvent | None:
        """A nurse event as it stands now."""
        return self._events.get(event_id)

    def event_kinds(self) -> dict[str, EventKind]:
        """Event id to kind, for the trend markers."""
        return {eid: e.kind for eid, e in self._events.items()}

    def determinations(self) -> tuple[NibpDetermination, ...]:
        """The session's last two complete NIBP determinations, oldest first."""
        return tuple(self._dets)

    def current(self, vital: Vital, now: float) -> float | None:
        """The newest valid value of HR, pulse rate or SpO2 if it is fresh at ``now``."""
        last = self._current.get(vital)
        if last is None or not 0 <= now - last[0] <= self.stale_after_s:
            return None
        return last[1]

    def state(self, now: float, active_alarms: int = 0) -> WorkflowState:
        """What the panel shows at ``now``; ``active_alarms`` counts for discharge."""
        session = self.session
        if session is None:
            return WorkflowState(None, planned_s=self.planned_s)
        phase = session.phase
        timer = self.timer()
        baseline = self.gate.baseline()
        gate = self.gate.evaluate(now) if phase is Phase.BASELINE else None
        due = next_nibp_due(self.cycle, phase, session.phase_started_at(),
                            self._last_nibp_t, now)
        stopped = timer.stopped_at
        since = None if stopped is None else max(0.0, now - stopped)
        readiness = None
        if phase is Phase.RECOVERY:
            hr = self.current(Vital.HR, now)
            if hr is None:
                hr = self.current(Vital.PULSE_RATE, now)
            readiness = self.readiness_rules.evaluate(
                now, stopped if stopped is not None else session.started(Phase.RECOVERY),
                baseline, self.determinations(), hr, self.current(Vital.SPO2, now),
                active_alarms, self.checklist)
        return WorkflowState(
            phase, baseline, gate, timer.state, timer.elapsed(now), timer.remaining(now),
            self.planned_s, timer.pause_reason, timer.paused_for(now),
            timer.planned_end_reached(now), due, since, readiness, self.discharged,
            self.resume_text)


def minutes_text(seconds: float) -> str:
    """``M:SS`` for a timer (``-M:SS`` when negative), minutes not wrapped at 60."""
    if not math.isfinite(seconds):
        return "--:--"
    sign = "-" if seconds < 0 else ""
    total = int(abs(seconds))
    return f"{sign}{total // 60}:{total % 60:02d}"
