"""What a clinician reads first about a session: baseline, peaks, time beyond limits, timings.

:func:`summarize` reads a loaded :class:`~monitor.review.record.SessionRecord`
with the live app's own rules, so review and the chair agree: the baseline
comes from the start gate (:class:`~monitor.core.workflow.baseline_gate.BaselineGate`)
fed with the baseline phase's readings, the infusion time from the
:class:`~monitor.core.workflow.infusion.InfusionTimer` rebuilt from the recorded
actions, and the discharge readiness from
:class:`~monitor.core.workflow.discharge.DischargeReadiness` replayed over the
recovery phase. Those timings (phase durations, the infusion and its pauses,
the discharge readiness) are worked out in :mod:`monitor.review.summary_timings`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from monitor.core.alarms.model import LimitLines, Priority
from monitor.core.alarms.profile import AlarmProfile
from monitor.core.alarms.profile_file import load_default_profile
from monitor.core.baseline import CONTINUOUS_WINDOW_S, TRACKED
from monitor.core.reading import Quality, Reading
from monitor.core.session import Phase
from monitor.core.vitals import Vital
from monitor.core.workflow.baseline_gate import BaselineGate
from monitor.core.workflow.messages import EventKind
from monitor.core.workflow.values import BaselineValues
from monitor.review.alarm_episodes import alarm_counts, escalated_count
from monitor.review.record import Series, SessionRecord
from monitor.review.summary_limits import LimitEpoch, limit_epochs, time_beyond
from monitor.review.summary_timings import (
    STALE_S,
    SUMMARY_PHASES,
    Pause,
    _after,
    _pauses,
    _ready_at,
    determinations,
    infusion_timer,
    phase_durations,
)

SUMMARY_VITALS: tuple[Vital, ...] = (Vital.NIBP_SYS, Vital.NIBP_DIA, Vital.NIBP_MEAN, Vital.HR,
                                     Vital.PULSE_RATE, Vital.SPO2)
"""Always summarised (with ``None`` values when not recorded)."""
OPTIONAL_VITALS: tuple[Vital, ...] = (Vital.RESP_RATE, Vital.ETCO2)
"""Summarised when recorded."""

__all__ = ["OPTIONAL_VITALS", "STALE_S", "SUMMARY_PHASES", "SUMMARY_VITALS", "Pause",
           "SessionSummary", "VitalSummary", "baseline_gate", "determinations", "infusion_timer",
           "phase_durations", "summarize"]


@dataclass(frozen=True)
class VitalSummary:
    """One vital over the session.

    Attributes
    ----------
    vital : Vital
    baseline : float or None
        The pre-infusion baseline (NIBP: mean of the last two determinations
        before the infusion; HR/SpO2: median of the baseline phase).
    peak, peak_t : float or None
        Highest valid value after the baseline phase (whole session if none), and when.
    lowest, lowest_t : float or None
        Lowest valid value after the baseline phase, and when.
    end : float or None
        The last valid value of the session.
    limits : LimitLines or None
        The limits in force at the session start (the session's profile).
    time_beyond : dict of str to float
        Seconds beyond each limit that exists, keyed by the ``LimitLines``
        field (``"high_medium"``, ``"high_high"``, ``"low_medium"``,
        ``"low_high"``). Continuous vitals count the time between readings;
        NIBP holds each determination until the next one (at most 15 min).
    """

    vital: Vital
    baseline: float | None
    peak: float | None
    peak_t: float | None
    lowest: float | None
    lowest_t: float | None
    end: float | None
    limits: LimitLines | None
    time_beyond: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class SessionSummary:
    """The session in numbers (see :func:`summarize`).

    Attributes
    ----------
    session_id : int
    start, end : float
    duration_s : float
    phase_durations : dict of Phase to float
        Seconds in baseline, infusion and recovery.
    baseline : BaselineValues
    vitals : dict of Vital to VitalSummary
        NIBP sys/dia/mean, HR, pulse rate, SpO2, and RR/EtCO2 when recorded.
    infusion_s : float or None
        Infusion running time, pauses excluded.
    pauses : list of Pause
    ready_at : float or None
        When every measurable discharge criterion first held in recovery (the
        checklist ticks counted as recorded).
    time_to_ready_s : float or None
        ``ready_at`` minus the end of the infusion.
    alarm_counts : dict of Priority to int
        Physiological alarms raised, each alarm condition counted once at the
        highest priority it reached (an alarm raised medium and escalated to
        high is one high alarm; its two episodes are two rows of the lists).
        Technical alarms are not in it.
    event_counts : dict of EventKind to int
    peak_rise : dict of Vital to float or None
        NIBP sys, NIBP dia and HR: the highest value after the baseline phase
        minus baseline.
    lowest_spo2 : float or None
        The lowest valid SpO2 of the whole session, baseline included (the
        session browser's column).
    scores : dict of str to int or None
        ``phq9``, ``madrs`` (before) and ``cadss`` (after).
    peak_nibp_sys : float or None
        The highest valid systolic of the whole session, baseline included
        (the session browser's column; ``vitals[NIBP_SYS].peak`` is after
        the baseline phase).
    escalated_alarms : int
        Of the physiological alarms, how many escalated (each is listed as one
        episode per priority, but counted once, at its highest).
    technical_alarms : int
        Technical alarms raised (no data, sensor off, no alarm sound...),
        each condition once whatever its priority; apart from ``alarm_counts``.
    """

    session_id: int
    start: float
    end: float
    duration_s: float
    phase_durations: dict[Phase, float]
    baseline: BaselineValues
    vitals: dict[Vital, VitalSummary]
    infusion_s: float | None
    pauses: list[Pause]
    ready_at: float | None
    time_to_ready_s: float | None
    alarm_counts: dict[Priority, int]
    event_counts: dict[EventKind, int]
    peak_rise: dict[Vital, float | None]
    lowest_spo2: float | None
    scores: dict[str, int | None]
    peak_nibp_sys: float | None = None
    technical_alarms: int = 0
    escalated_alarms: int = 0


def summarize(record: SessionRecord, profile: AlarmProfile | None = None) -> SessionSummary:
    """The summary of ``record``; ``profile`` defaults to the shipped default profile.

    Limits: ``VitalSummary.limits`` are the profile's at the session start;
    ``time_beyond`` applies the session's recorded limit changes in time
    order from the moment each was made (a change the profile refuses, e.g.
    for a rule it does not have, is skipped). Pulse rate is measured against
    the HR limits, which it stands in for when there is no ECG. A value
    counts as beyond a limit when the limit's rule holds (``>= 180`` counts
    180).

    Time beyond: a continuous vital's valid reading holds until the next
    reading of that vital, valid or not; an interval longer than
    :data:`~monitor.review.summary_limits.GAP_S` (a gap) counts nothing. An NIBP
    determination holds until the next valid one, at most 15 min, and not
    past the session end.

    Discharge readiness is replayed at every time it could turn green (each
    HR, pulse rate, SpO2 and NIBP reading in recovery, each checklist tick,
    each alarm clearing, and the minimum recovery time): an alarm is active
    from raised to cleared (physiological alarms only, as at the chair), HR
    and SpO2 count while at most :data:`STALE_S` old, and the thresholds are
    ``profile.discharge``.
    """
    profile = profile if profile is not None else load_default_profile()
    starts = {p.phase: p.start for p in record.phases}
    base_end = _after(starts, Phase.BASELINE)
    gate = baseline_gate(record, base_end)
    baseline = gate.baseline()
    epochs = limit_epochs(profile, record.limit_changes)
    shown = SUMMARY_VITALS + tuple(v for v in OPTIONAL_VITALS if v in record.numerics)
    vitals = {v: _vital_summary(v, record, _vital_baseline(v, gate, record, base_end),
                                base_end, epochs) for v in shown}
    timer = infusion_timer(record)
    stopped = timer.stopped_at if timer.stopped_at is not None else starts.get(Phase.RECOVERY)
    ready_at = _ready_at(record, profile, baseline, stopped, starts)
    spans = record.alarm_spans()
    counts, technical = alarm_counts(spans)
    events = [e.kind for e in record.events]
    setup = record.setup or {}
    return SessionSummary(
        session_id=record.session_id, start=record.start, end=record.end,
        duration_s=max(0.0, record.end - record.start),
        phase_durations=phase_durations(starts, record.end),
        baseline=baseline, vitals=vitals,
        infusion_s=None if timer.started_at is None else timer.elapsed(record.end),
        pauses=_pauses(timer.records),
        ready_at=ready_at,
        time_to_ready_s=None if ready_at is None or stopped is None else ready_at - stopped,
        alarm_counts=counts,
        event_counts={k: events.count(k) for k in EventKind},
        peak_rise=_peak_rise(vitals),
        lowest_spo2=_extreme(record.numerics.get(Vital.SPO2), highest=False),
        scores={"phq9": _int(setup.get("pre_phq9")), "madrs": _int(setup.get("pre_madrs")),
                "cadss": _int(setup.get("post_cadss"))},
        peak_nibp_sys=_extreme(record.numerics.get(Vital.NIBP_SYS), highest=True),
        technical_alarms=technical, escalated_alarms=escalated_count(spans))


# -- baseline ------------------------------------------------------------------

_GATE_VITALS = (*TRACKED, Vital.NIBP_SYS, Vital.NIBP_DIA, Vital.NIBP_MEAN)


def baseline_gate(record: SessionRecord, until: float | None) -> BaselineGate:
    """A start gate fed, in time order, with the readings made before ``until``."""
    gate = BaselineGate()
    rows: list[tuple[float, Vital, float, bool]] = []
    for vital in dict.fromkeys(_GATE_VITALS):
        s = record.numerics.get(vital)
        if s is None:
            continue
        n = len(s) if until is None else int(np.searchsorted(s.t, until, side="left"))
        rows.extend(zip(s.t[:n].tolist(), [vital] * n, s.v[:n].tolist(),
                        s.manual[:n].tolist(), strict=True))
    rows.sort(key=lambda r: r[0])
    for t, vital, value, manual in rows:
        gate.add(Reading(vital, value, t, Quality.MANUAL if manual else Quality.OK)
                 if math.isfinite(value) else Reading.invalid(vital, t, Quality.NO_VALUE))
    return gate


def _vital_baseline(vital: Vital, gate: BaselineGate, record: SessionRecord,
                    until: float | None) -> float | None:
    if vital is Vital.NIBP_SYS:
        return gate.baseline().sys
    if vital is Vital.NIBP_DIA:
        return gate.baseline().dia
    if vital in TRACKED:
        return gate.tracker.value(vital)
    s = record.numerics.get(vital)   # not tracked live (EtCO2): the same window median
    if s is None:
        return None
    t, v = s.valid()
    if until is not None:
        t, v = t[t < until], v[t < until]
    if not len(t):
        return None
    return float(np.median(v[t >= t[-1] - CONTINUOUS_WINDOW_S]))


# -- per vital -----------------------------------------------------------------

def _line_vital(vital: Vital) -> Vital:
    return Vital.HR if vital is Vital.PULSE_RATE else vital


def _vital_summary(vital: Vital, record: SessionRecord, baseline: float | None,
                   base_end: float | None, epochs: list[LimitEpoch]) -> VitalSummary:
    limits = epochs[0].lines.get(_line_vital(vital))
    s = record.numerics.get(vital)
    if s is None:
        return VitalSummary(vital, baseline, None, None, None, None, None, limits, {})
    t, v = s.valid()
    if base_end is not None and bool(np.any(t >= base_end)):
        tp, vp = t[t >= base_end], v[t >= base_end]
    else:
        tp, vp = t, v
    if not len(tp):
        return VitalSummary(vital, baseline, None, None, None, None, None, limits,
                            time_beyond(vital, s, record.end, epochs, _line_vital(vital)))
    hi, lo = int(np.argmax(vp)), int(np.argmin(vp))
    return VitalSummary(vital, baseline, float(vp[hi]), float(tp[hi]), float(vp[lo]),
                        float(tp[lo]), float(v[-1]), limits,
                        time_beyond(vital, s, record.end, epochs, _line_vital(vital)))


def _peak_rise(vitals: dict[Vital, VitalSummary]) -> dict[Vital, float | None]:
    def rise(v: Vital) -> float | None:
        s = vitals.get(v)
        if s is None or s.peak is None or s.baseline is None:
            return None
        return s.peak - s.baseline

    hr = rise(Vital.HR)
    return {Vital.NIBP_SYS: rise(Vital.NIBP_SYS), Vital.NIBP_DIA: rise(Vital.NIBP_DIA),
            Vital.HR: hr if hr is not None else rise(Vital.PULSE_RATE)}


def _extreme(s: Series | None, highest: bool) -> float | None:
    if s is None or not np.isfinite(s.v).any():
        return None
    return float(np.nanmax(s.v) if highest else np.nanmin(s.v))


def _int(x: object) -> int | None:
    return None if x is None else int(x)  # type: ignore[call-overload]
