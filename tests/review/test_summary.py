"""summarize(): on real recorded sessions, and on small hand-built records for exact arithmetic."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pytest

from monitor.core.alarms.model import (
    AlarmKind,
    AlarmTransition,
    LimitChanged,
    Priority,
    TransitionState,
)
from monitor.core.alarms.profile_file import load_default_profile
from monitor.core.session import Phase, PhaseSpan, SessionStatus
from monitor.core.vitals import Vital
from monitor.core.workflow.messages import (
    ChecklistTicked,
    EventKind,
    InfusionAction,
    InfusionChanged,
)
from monitor.review.record import Series, SessionRecord, load_record
from monitor.review.summary import Pause, summarize
from monitor.storage.database import SessionRow

REPO = Path(__file__).resolve().parents[2]
PROFILE = load_default_profile()


# -- real recorded sessions ------------------------------------------------------


def test_typical_session_baseline_timings_and_events(recorded):
    s = summarize(load_record(recorded.path, recorded.ids["typical"]))
    scenario = tomllib.loads((REPO / "simulators/scenarios/typical.toml").read_text())
    # The scenario's description names its baseline: 125/78, HR 72.
    assert "125/78, HR 72" in scenario["description"]
    assert s.baseline.sys == pytest.approx(125, abs=8)
    assert s.baseline.dia == pytest.approx(78, abs=8)
    assert s.baseline.hr == pytest.approx(72, abs=4)
    assert s.baseline.spo2 is not None and s.baseline.spo2 >= 95
    minutes = scenario["session"]
    assert s.phase_durations == {Phase.BASELINE: pytest.approx(minutes["baseline_min"] * 60),
                                 Phase.INFUSION: pytest.approx(minutes["infusion_min"] * 60),
                                 Phase.RECOVERY: pytest.approx(minutes["recovery_min"] * 60)}
    assert s.infusion_s == pytest.approx(40 * 60)
    assert s.pauses == []
    assert s.duration_s == pytest.approx(90 * 60)
    scripted = [EventKind(e["kind"]) for e in scenario["events"]]
    assert {k: n for k, n in s.event_counts.items() if n} == {k: 1 for k in scripted}
    assert s.peak_rise[Vital.NIBP_SYS] is not None and s.peak_rise[Vital.NIBP_SYS] > 5
    assert s.vitals[Vital.NIBP_SYS].peak_t >= s.start + 600    # after the baseline phase
    assert s.vitals[Vital.HR].limits == PROFILE.limit_lines()[Vital.HR]
    assert s.alarm_counts == {Priority.LOW: 0, Priority.MEDIUM: 0, Priority.HIGH: 0}
    assert all(t == 0 for t in s.vitals[Vital.NIBP_SYS].time_beyond.values())
    # Headless runs record no checklist ticks: never ready for discharge.
    assert s.ready_at is None and s.time_to_ready_s is None
    assert s.scores == {"phq9": 18, "madrs": 30, "cadss": 12}


def test_hypertensive_surge_peak_time_beyond_and_high_alarm(recorded):
    s = summarize(load_record(recorded.path, recorded.ids["surge"]))
    sys_ = s.vitals[Vital.NIBP_SYS]
    assert sys_.peak >= 180
    assert sys_.time_beyond["high_high"] > 0
    assert sys_.time_beyond["high_medium"] >= sys_.time_beyond["high_high"]
    assert s.alarm_counts[Priority.HIGH] >= 1
    assert s.peak_rise[Vital.NIBP_SYS] == pytest.approx(sys_.peak - s.baseline.sys)
    assert s.peak_nibp_sys == sys_.peak


def test_desaturation_lowest_spo2_and_time_below(recorded):
    s = summarize(load_record(recorded.path, recorded.ids["desaturation"]))
    assert s.lowest_spo2 <= 88
    spo2 = s.vitals[Vital.SPO2]
    assert spo2.lowest == s.lowest_spo2
    assert 0 < spo2.time_beyond["low_high"] <= spo2.time_beyond["low_medium"] <= 300
    assert s.alarm_counts[Priority.HIGH] >= 1


# -- hand-built records ----------------------------------------------------------

T_END = 6000.0


def _series(t, v, manual=None) -> Series:
    t = np.asarray(t, dtype=float)
    return Series(t, np.asarray(v, dtype=float),
                  np.zeros(len(t), bool) if manual is None else np.asarray(manual))


def _record(numerics, *, phases=None, infusion=(), limit_changes=(), alarms=(),
            checklist=(), setup=None) -> SessionRecord:
    phases = phases or [PhaseSpan(Phase.BASELINE, 0.0, 600.0),
                        PhaseSpan(Phase.INFUSION, 600.0, 3000.0),
                        PhaseSpan(Phase.RECOVERY, 3000.0, T_END),
                        PhaseSpan(Phase.ENDED, T_END, None)]
    row = SessionRow(1, 0.0, T_END, SessionStatus.COMPLETED, "test", True, T_END, 0)
    return SessionRecord(row, None, setup, phases, numerics, None,
                         infusion=list(infusion), limit_changes=list(limit_changes),
                         alarms=list(alarms), checklist=list(checklist))


def test_time_beyond_continuous_counts_between_readings_not_across_gaps():
    hr = _series([0, 1, 2, 3, 4, 20, 21, 22], [110, 115, 115, np.nan, 135, 140, 140, 90])
    spo2 = _series([0, 2, 4], [88, 92, 95])
    s = summarize(_record({Vital.HR: hr, Vital.SPO2: spo2}), PROFILE)
    # HR > 110 (110 itself is not beyond): [1,3) and [20,22); [3,4) has no value; [4,20) is a gap.
    assert s.vitals[Vital.HR].time_beyond == {"high_medium": 4.0, "high_high": 2.0,
                                              "low_medium": 0.0, "low_high": 0.0}
    # SpO2 <= 88 is the high limit (inclusive), < 92 the medium one: 92 itself is not beyond.
    assert s.vitals[Vital.SPO2].time_beyond == {"low_medium": 2.0, "low_high": 2.0}


def test_nibp_holds_until_the_next_determination_at_most_15_min_and_limit_changes_apply():
    nibp = _series([0, 600, 2400], [170, 185, 150])
    s = summarize(_record({Vital.NIBP_SYS: nibp}), PROFILE)
    # 170 held 600 s; 185 held 900 s (not until 2400); 150 held to the end: never beyond.
    assert s.vitals[Vital.NIBP_SYS].time_beyond["high_medium"] == 1500.0
    assert s.vitals[Vital.NIBP_SYS].time_beyond["high_high"] == 900.0
    assert s.peak_nibp_sys == 185.0
    # The high limit raised to 190 at t=1000: 185 is beyond it only from 600 to 1000.
    change = LimitChanged(1000.0, "nibp_sys.high.confirmed", "limit", 180.0, 190.0, "RN")
    changed = summarize(_record({Vital.NIBP_SYS: nibp}, limit_changes=[change]), PROFILE)
    assert changed.vitals[Vital.NIBP_SYS].time_beyond["high_high"] == 400.0
    assert changed.vitals[Vital.NIBP_SYS].time_beyond["high_medium"] == 1500.0
    assert changed.vitals[Vital.NIBP_SYS].limits.high_high == 180.0   # as at the start


def test_infusion_time_excludes_pauses():
    infusion = [InfusionChanged(InfusionAction.START, 600.0, "RN"),
                InfusionChanged(InfusionAction.PAUSE, 1200.0, "RN", "line blocked"),
                InfusionChanged(InfusionAction.RESUME, 1500.0, "RN"),
                InfusionChanged(InfusionAction.STOP, 3000.0, "RN")]
    s = summarize(_record({}, infusion=infusion), PROFILE)
    assert s.infusion_s == 2100.0
    assert s.pauses == [Pause(1200.0, 1500.0, "line blocked")]
    # Without recorded actions the phases give the times (older records).
    assert summarize(_record({}), PROFILE).infusion_s == 2400.0


def _recovering_patient():
    """Baseline 120/80 HR 70; back near it in recovery; SpO2 97 throughout."""
    t = np.arange(0.0, T_END, 1.0)
    nibp_t = [60, 360, 3900, 4500]
    return {Vital.HR: _series(t, np.full(len(t), 70.0)),
            Vital.SPO2: _series(t, np.full(len(t), 97.0)),
            Vital.NIBP_SYS: _series(nibp_t, [118, 122, 126, 124]),
            Vital.NIBP_DIA: _series(nibp_t, [78, 82, 84, 82])}


TICKS = [ChecklistTicked(4000.0, "alert_oriented", True, "RN"),
         ChecklistTicked(4100.0, "nausea_controlled", True, "RN"),
         ChecklistTicked(4150.0, "nausea_controlled", False, "RN"),   # unticked again
         ChecklistTicked(4700.0, "escort_present", True, "RN"),
         ChecklistTicked(4800.0, "nausea_controlled", True, "RN")]


def test_readiness_time_waits_for_the_last_tick():
    s = summarize(_record(_recovering_patient(), checklist=TICKS), PROFILE)
    assert s.baseline.sys == 120.0 and s.baseline.dia == 80.0 and s.baseline.hr == 70.0
    assert s.ready_at == 4800.0
    assert s.time_to_ready_s == 1800.0
    # Without the ticks every measurable criterion holds but the patient is never ready.
    assert summarize(_record(_recovering_patient()), PROFILE).ready_at is None


def test_readiness_waits_for_an_active_alarm_to_clear():
    raised = AlarmTransition("hr.high", AlarmKind.PHYSIOLOGICAL, Vital.HR, Priority.MEDIUM,
                             TransitionState.RAISED, 4790.0, 112.0, 110.0, "HR 112 > 110")
    cleared = AlarmTransition("hr.high", AlarmKind.PHYSIOLOGICAL, Vital.HR, Priority.MEDIUM,
                              TransitionState.CLEARED, 4900.0, 112.0, 110.0, "HR 112 > 110")
    s = summarize(_record(_recovering_patient(), checklist=TICKS, alarms=[raised, cleared]),
                  PROFILE)
    assert s.ready_at == 4900.0
    assert s.alarm_counts == {Priority.LOW: 0, Priority.MEDIUM: 1, Priority.HIGH: 0}


def test_readiness_needs_a_determination_after_the_infusion_and_the_minimum_time():
    vitals = _recovering_patient()
    vitals[Vital.NIBP_SYS] = _series([60, 360, 2900], [118, 122, 126])
    vitals[Vital.NIBP_DIA] = _series([60, 360, 2900], [78, 82, 84])
    assert summarize(_record(vitals, checklist=TICKS), PROFILE).ready_at is None
    early = [ChecklistTicked(3100.0, item, True) for item in
             ("alert_oriented", "nausea_controlled", "escort_present")]
    s = summarize(_record(_recovering_patient(), checklist=early), PROFILE)
    assert s.ready_at == 4200.0   # 20 min after the stop, with the 3900 determination
    assert s.time_to_ready_s == 1200.0
