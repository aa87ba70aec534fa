"""The session's timings: phase durations, the infusion and its pauses, discharge readiness.

Used by :func:`monitor.review.summary.summarize`, with the live app's own rules:
the infusion time from the :class:`~monitor.core.workflow.infusion.InfusionTimer`
rebuilt from the recorded actions, and the discharge readiness from
:class:`~monitor.core.workflow.discharge.DischargeReadiness` replayed over the
recovery phase.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from monitor.core.alarms.profile import AlarmProfile
from monitor.core.session import Phase
from monitor.core.vitals import Vital
from monitor.core.workflow.baseline_gate import SAME_DETERMINATION_S
from monitor.core.workflow.discharge import ChecklistItem, DischargeReadiness
from monitor.core.workflow.infusion import InfusionTimer
from monitor.core.workflow.messages import InfusionAction, InfusionChanged
from monitor.core.workflow.setup import DEFAULT_PLANNED_MIN
from monitor.core.workflow.values import BaselineValues, NibpDetermination
from monitor.review.record import SessionRecord

SUMMARY_PHASES: tuple[Phase, ...] = (Phase.BASELINE, Phase.INFUSION, Phase.RECOVERY)
_ALL_ITEMS = {item.value for item in ChecklistItem}
STALE_S = 10.0
"""A current HR or SpO2 older than this does not count for discharge (the live default)."""


@dataclass(frozen=True)
class Pause:
    """An infusion pause: from ``start`` to ``end`` (None if never resumed), and why."""

    start: float
    end: float | None
    reason: str


def phase_durations(starts: Mapping[Phase, float], end: float) -> dict[Phase, float]:
    """Seconds in baseline, infusion and recovery, from when each phase began.

    A phase lasts until the next phase that happened began (the session
    ``end`` for the last one); a phase that never happened lasts 0.
    """
    out = {}
    for phase in SUMMARY_PHASES:
        t0 = starts.get(phase)
        t1 = _after(starts, phase)
        out[phase] = 0.0 if t0 is None else max(0.0, (end if t1 is None else t1) - t0)
    return out


_LATER = {p: tuple(Phase)[i + 1:] for i, p in enumerate(Phase)}


def _after(starts: Mapping[Phase, float], phase: Phase) -> float | None:
    """When the phase after ``phase`` (the next one that happened) began."""
    for p in _LATER[phase]:
        if p in starts:
            return starts[p]
    return None


# -- infusion --------------------------------------------------------------------

def infusion_timer(record: SessionRecord) -> InfusionTimer:
    """The infusion timer rebuilt from the recorded actions.

    A session with no recorded actions (from before they were kept) gets
    them from its phases: start with the infusion, stop with the recovery
    (or the end), as the live window does.
    """
    planned = (record.setup or {}).get("planned_infusion_min")
    planned_s = float(planned) * 60.0 if isinstance(planned, (int, float)) and planned > 0 \
        else DEFAULT_PLANNED_MIN * 60.0
    actions = list(record.infusion)
    start = record.phase_start(Phase.INFUSION)
    if not actions and start is not None:
        actions.append(InfusionChanged(InfusionAction.START, start))
        stop = _after({p.phase: p.start for p in record.phases}, Phase.INFUSION)
        if stop is not None:
            actions.append(InfusionChanged(InfusionAction.STOP, stop))
    return InfusionTimer(planned_s, actions)


def _pauses(records: list[InfusionChanged]) -> list[Pause]:
    out: list[Pause] = []
    for rec in records:
        if rec.action is InfusionAction.PAUSE:
            out.append(Pause(rec.t, None, rec.reason))
        elif out and out[-1].end is None and rec.action in (InfusionAction.RESUME,
                                                           InfusionAction.STOP):
            out[-1] = Pause(out[-1].start, rec.t, out[-1].reason)
    return out


# -- discharge readiness ---------------------------------------------------------

def determinations(record: SessionRecord) -> list[NibpDetermination]:
    """Every complete NIBP determination (valid sys and dia at the same time), in order."""
    sys_, dia = record.numerics.get(Vital.NIBP_SYS), record.numerics.get(Vital.NIBP_DIA)
    if sys_ is None or dia is None:
        return []
    (ts, vs), (td, vd) = sys_.valid(), dia.valid()
    out = []
    for t, v in zip(ts.tolist(), vs.tolist(), strict=True):
        i = int(np.searchsorted(td, t - SAME_DETERMINATION_S))
        if i < len(td) and abs(td[i] - t) <= SAME_DETERMINATION_S:
            out.append(NibpDetermination(t, v, float(vd[i])))
    return out


def _ready_at(record: SessionRecord, profile: AlarmProfile, baseline: BaselineValues,
              stopped: float | None, starts: Mapping[Phase, float]) -> float | None:
    rec_start = starts.get(Phase.RECOVERY)
    if rec_start is None or stopped is None:
        return None
    rec_end = _after(starts, Phase.RECOVERY)
    rec_end = record.end if rec_end is None else rec_end
    d = profile.discharge
    rules = DischargeReadiness(d.margin, d.min_recovery_s, d.min_spo2)
    earliest = max(rec_start, stopped + d.min_recovery_s)
    if earliest > rec_end:
        return None
    current = {v: record.numerics[v].valid() for v in (Vital.HR, Vital.PULSE_RATE, Vital.SPO2)
               if v in record.numerics}
    dets = determinations(record)
    det_t = np.array([x.t for x in dets])
    # Physiological alarms only, as at the chair. An alarm's episodes are contiguous
    # ([start, end) each), so a moment counts an escalated alarm once.
    spans = [s for s in record.alarm_spans() if not s.technical]
    ticks = sorted(record.checklist, key=lambda c: c.t)
    moments = {earliest, *(c.t for c in ticks), *(s.end for s in spans if s.end is not None),
               *det_t.tolist()}
    for times, _ in current.values():
        moments.update(times.tolist())

    def now_value(vital: Vital, now: float) -> float | None:
        t, v = current.get(vital, (det_t[:0], det_t[:0]))
        i = int(np.searchsorted(t, now, side="right")) - 1
        return float(v[i]) if i >= 0 and now - t[i] <= STALE_S else None

    ticked: set[str] = set()
    done = 0
    for now in sorted(m for m in moments if earliest <= m <= rec_end):
        while done < len(ticks) and ticks[done].t <= now:
            (ticked.add if ticks[done].ticked else ticked.discard)(ticks[done].item)
            done += 1
        if not _ALL_ITEMS <= ticked:
            continue   # the checklist is a criterion: no need to evaluate the rest
        hr = now_value(Vital.HR, now)
        k = int(np.searchsorted(det_t, now, side="right"))
        active = sum(1 for s in spans if s.start <= now and (s.end is None or now < s.end))
        readiness = rules.evaluate(now, stopped, baseline, dets[max(0, k - 2):k],
                                   hr if hr is not None else now_value(Vital.PULSE_RATE, now),
                                   now_value(Vital.SPO2, now), active, set(ticked))
        if readiness.ready:
            return now
    return None
