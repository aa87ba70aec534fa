"""The workflow model: gate, timers, readiness and events from hub messages (no Qt)."""

from __future__ import annotations

import pytest

from monitor.core.events import History, Note, PhaseChanged
from monitor.core.session import Phase, PhaseSpan
from monitor.core.workflow.baseline_gate import GateStatus, Override
from monitor.core.workflow.discharge import ChecklistItem, Criterion
from monitor.core.workflow.infusion import InfusionState
from monitor.core.workflow.messages import (
    ChecklistTicked,
    CommandRefused,
    EventKind,
    EventTimeCorrected,
    InfusionAction,
    InfusionChanged,
    SessionDischarged,
    SessionEvent,
)
from monitor.ui.workflow.model import WorkflowModel, minutes_text
from tests.ui.helpers import T0, nibp, session_started
from tests.ui.workflow_helpers import (
    INFUSION_AT,
    baseline_readings,
    started,
    stopped,
    vitals_at,
)

PLANNED = 40 * 60.0


def feed(model: WorkflowModel, *messages) -> None:
    for m in messages:
        if isinstance(m, list):
            feed(model, *m)
        else:
            model.apply(m)


@pytest.fixture
def model() -> WorkflowModel:
    m = WorkflowModel(PLANNED, clinician="Dr Lee")
    m.apply(session_started())
    return m


def test_no_session_yet():
    state = WorkflowModel().state(T0)
    assert state.phase is None and state.gate is None and state.planned_s == 2400


@pytest.mark.parametrize("sys,dia,status", [
    (120, 80, GateStatus.READY), (150, 85, GateStatus.OVERRIDE_NEEDED),
    (130, 95, GateStatus.OVERRIDE_NEEDED), (185, 100, GateStatus.BLOCKED),
    (170, 110, GateStatus.BLOCKED)])
def test_the_gate_judges_the_baseline(model, sys, dia, status):
    feed(model, baseline_readings(sys, dia))
    state = model.state(INFUSION_AT)
    assert state.phase is Phase.BASELINE
    assert state.gate.status is status
    assert (state.baseline.sys, state.baseline.dia) == (sys, dia)
    assert state.baseline.hr == 70 and state.baseline.spo2 == 98


def test_gate_needs_two_determinations(model):
    feed(model, nibp(120, 80, 93, T0 + 60), vitals_at(T0 + 100))
    gate = model.state(T0 + 100).gate
    assert gate.status is GateStatus.NOT_ENOUGH_DATA
    assert "1 of 2 determinations" in gate.message


def test_blocked_override_needs_the_clinician_named(model):
    feed(model, baseline_readings(185, 112))
    assert not model.evaluate_gate(INFUSION_AT, Override("", "urgent", INFUSION_AT)).may_start
    ok = model.evaluate_gate(INFUSION_AT, Override("Dr Lee", "treated, rechecked", INFUSION_AT))
    assert ok.may_start and ok.override is not None


def test_the_baseline_freezes_when_the_infusion_starts(model):
    feed(model, baseline_readings(120, 80), started())
    feed(model, nibp(170, 100, 123, INFUSION_AT + 300), vitals_at(INFUSION_AT + 300, hr=110))
    state = model.state(INFUSION_AT + 300)
    assert state.gate is None
    assert (state.baseline.sys, state.baseline.hr) == (120, 70)


def test_infusion_timer_excludes_pauses(model):
    feed(model, started())
    feed(model, InfusionChanged(InfusionAction.PAUSE, INFUSION_AT + 600, "RN", "BP 182/104"))
    paused = model.state(INFUSION_AT + 720)
    assert paused.infusion is InfusionState.PAUSED
    assert paused.pause_reason == "BP 182/104" and paused.paused_for_s == 120
    assert paused.elapsed_s == 600 and paused.remaining_s == PLANNED - 600
    feed(model, InfusionChanged(InfusionAction.RESUME, INFUSION_AT + 900, "RN"))
    running = model.state(INFUSION_AT + 1000)
    assert running.infusion is InfusionState.RUNNING
    assert running.elapsed_s == 700 and running.remaining_s == PLANNED - 700


def test_planned_end_is_shown_from_the_planned_time(model):
    feed(model, started())
    assert not model.state(INFUSION_AT + PLANNED - 1).planned_end_reached
    state = model.state(INFUSION_AT + PLANNED + 65)
    assert state.planned_end_reached and state.remaining_s == -65


def test_phase_without_recorded_actions_times_the_infusion_from_the_phases(model):
    feed(model, PhaseChanged(Phase.INFUSION, INFUSION_AT))
    assert model.state(INFUSION_AT + 90).elapsed_s == 90
    feed(model, PhaseChanged(Phase.RECOVERY, INFUSION_AT + 2400))
    assert model.state(INFUSION_AT + 2500).since_infusion_end_s == 100


def test_nibp_cycle_reminder_follows_the_phase(model):
    feed(model, nibp(120, 80, 93, T0 + 60))
    assert model.state(T0 + 100).nibp_due.due_at == T0 + 360          # baseline: 5 min
    feed(model, started(), nibp(122, 80, 94, INFUSION_AT + 1000))
    due = model.state(INFUSION_AT + 1000).nibp_due
    assert due.interval_s == 600 and due.due_at == INFUSION_AT + 1600  # after 15 min: 10


def _recovery(model, stop_t):
    feed(model, baseline_readings(120, 80), started(), stopped(stop_t))
    for item in ChecklistItem:
        model.set_checked(item.value, True)


def test_readiness_turns_green_exactly_when_everything_holds(model):
    stop_t = INFUSION_AT + PLANNED
    _recovery(model, stop_t)
    feed(model, nibp(124, 82, 96, stop_t + 600), nibp(122, 80, 94, stop_t + 1150))
    feed(model, vitals_at(stop_t + 1199))
    early = model.state(stop_t + 1199).readiness
    assert [c.criterion for c in early.unmet] == [Criterion.RECOVERY_TIME]
    feed(model, vitals_at(stop_t + 1200))
    assert model.state(stop_t + 1200).readiness.ready
    assert not model.state(stop_t + 1200, active_alarms=1).readiness.ready
    model.set_checked(ChecklistItem.ESCORT_PRESENT.value, False)
    unmet = model.state(stop_t + 1200).readiness.unmet
    assert [c.criterion for c in unmet] == [Criterion.ESCORT_PRESENT]


def test_the_profile_sets_the_discharge_thresholds(model):
    from dataclasses import replace

    from monitor.core.alarms.profile import DischargeCriteria
    from monitor.core.alarms.profile_file import load_default_profile

    stop_t = INFUSION_AT + PLANNED
    feed(model, baseline_readings(120, 80), started(), stopped(stop_t),
         nibp(140, 90, 107, stop_t + 600), nibp(141, 92, 108, stop_t + 1150),
         vitals_at(stop_t + 1200))
    for item in ChecklistItem:
        model.set_checked(item.value, True)
    assert model.state(stop_t + 1200).readiness.ready          # 141 is within 20 % of 120
    strict = replace(load_default_profile(),
                     discharge=DischargeCriteria(margin=0.10, min_recovery_s=1800.0))
    model.use_profile(strict)
    state = model.state(stop_t + 1200)
    assert {c.criterion for c in state.readiness.unmet} == {
        Criterion.RECOVERY_TIME, Criterion.NIBP_SYS, Criterion.NIBP_DIA}


def test_readiness_needs_a_current_hr_and_spo2(model):
    stop_t = INFUSION_AT + PLANNED
    _recovery(model, stop_t)
    feed(model, nibp(124, 82, 96, stop_t + 600), nibp(122, 80, 94, stop_t + 1150),
         vitals_at(stop_t + 1180))
    state = model.state(stop_t + 1200)        # 20 s old: stale after 10 s
    assert {c.criterion for c in state.readiness.unmet} == {Criterion.HR, Criterion.SPO2}


def test_readiness_needs_nibp_after_the_infusion_ended(model):
    stop_t = INFUSION_AT + PLANNED
    _recovery(model, stop_t)
    feed(model, nibp(124, 82, 96, stop_t - 60), vitals_at(stop_t + 1200))
    unmet = {c.criterion for c in model.state(stop_t + 1200).readiness.unmet}
    assert {Criterion.NIBP_SYS, Criterion.NIBP_DIA} <= unmet


def test_events_with_corrections_and_manual_entries(model):
    feed(model, SessionEvent("e1", T0 + 120, EventKind.NAUSEA, "", "RN"),
         SessionEvent("e2", T0 + 60, EventKind.NOTE, "patient anxious", "RN"),
         Note(T0 + 90, "manual_entry", "NIBP 130/85 mmHg (mean 100)", "AB"))
    rows = model.events()
    assert [(r.event_id, r.label) for r in rows] == [
        ("e2", "Note"), (None, "Manual entry"), ("e1", "Nausea")]
    version = model.events_version
    feed(model, EventTimeCorrected("e1", T0 + 120, T0 + 30, "AB", T0 + 200))
    assert model.events_version > version
    rows = model.events()
    assert rows[0].event_id == "e1" and rows[0].t == T0 + 30
    assert rows[0].corrections[0].by == "AB"
    feed(model, Note(T0 + 95, "recording", "resumed"))      # other notes are not events
    assert len(model.events()) == 3


def test_refusals_are_taken_once(model):
    feed(model, CommandRefused(T0 + 5, "change_infusion:pause", "pausing needs a reason", "RN"))
    assert [r.message for r in model.take_refusals()] == ["pausing needs a reason"]
    assert model.take_refusals() == []


def test_discharge_ends_the_panel(model):
    feed(model, started(), stopped(INFUSION_AT + PLANNED),
         SessionDischarged(INFUSION_AT + PLANNED + 1500, "RN", ("escort present",)),
         PhaseChanged(Phase.ENDED, INFUSION_AT + PLANNED + 1500))
    state = model.state(INFUSION_AT + PLANNED + 1600)
    assert state.phase is Phase.ENDED and state.discharged.by == "RN"


def test_a_resumed_session_rebuilds_phase_and_timers_from_the_record():
    """After a crash the same times come back: computed from the record, never restarted."""
    model = WorkflowModel(PLANNED)
    spans = (PhaseSpan(Phase.BASELINE, T0, INFUSION_AT), PhaseSpan(Phase.INFUSION, INFUSION_AT))
    from monitor.core.events import SessionStarted

    model.apply(SessionStarted(1, T0, "sim", True, spans, resumed=True, gap_s=185.0))
    history = History(
        readings=tuple(baseline_readings(150, 85)) + tuple(nibp(160, 95, 117, INFUSION_AT + 300)),
        infusion=(InfusionChanged(InfusionAction.START, INFUSION_AT, "RN"),
                  InfusionChanged(InfusionAction.PAUSE, INFUSION_AT + 600, "RN", "nausea"),
                  InfusionChanged(InfusionAction.RESUME, INFUSION_AT + 660, "RN")),
        events=(SessionEvent("e3", INFUSION_AT + 590, EventKind.NAUSEA, "", "RN"),))
    model.apply(history)
    now = INFUSION_AT + 1500
    state = model.state(now)
    assert state.phase is Phase.INFUSION and state.infusion is InfusionState.RUNNING
    assert state.elapsed_s == 1440 and state.remaining_s == PLANNED - 1440
    assert state.baseline.sys == 150          # only baseline-phase readings count
    assert state.resume_text == "Session resumed after a gap of 3 min"
    assert [r.event_id for r in model.events()] == ["e3"]
    model.apply(history)                      # a repeated history changes nothing
    assert model.state(now).elapsed_s == 1440


def test_a_resumed_session_brings_back_corrections_manual_entries_and_ticks():
    model = WorkflowModel(PLANNED)
    spans = (PhaseSpan(Phase.BASELINE, T0, INFUSION_AT),
             PhaseSpan(Phase.INFUSION, INFUSION_AT, INFUSION_AT + PLANNED),
             PhaseSpan(Phase.RECOVERY, INFUSION_AT + PLANNED))
    from monitor.core.events import SessionStarted

    model.apply(SessionStarted(1, T0, "sim", True, spans, resumed=True, gap_s=60.0))
    fix = EventTimeCorrected("e1", INFUSION_AT + 900, INFUSION_AT + 840, "RN B",
                             INFUSION_AT + 1000)
    history = History(
        events=(SessionEvent("e1", INFUSION_AT + 840, EventKind.VOMITING, "", "RN"),),
        corrections=(fix,),
        notes=(Note(INFUSION_AT + 700, "manual_entry", "HR 88 bpm", "RN"),),
        checklist=(ChecklistTicked(INFUSION_AT + PLANNED + 60, "escort_present", True, "RN"),
                   ChecklistTicked(INFUSION_AT + PLANNED + 70, "alert_oriented", True, "RN"),
                   ChecklistTicked(INFUSION_AT + PLANNED + 80, "alert_oriented", False, "RN")))
    model.apply(history)
    model.apply(history)                      # a repeated history adds nothing twice
    rows = model.events()
    assert [(r.label, r.t) for r in rows] == [("Manual entry", INFUSION_AT + 700),
                                              ("Vomiting", INFUSION_AT + 840)]
    assert rows[0].text == "HR 88 bpm" and rows[0].event_id is None
    assert rows[1].corrections == (fix,)
    assert model.checklist == {"escort_present"}


def test_minutes_text():
    assert minutes_text(0) == "0:00"
    assert minutes_text(2399.9) == "39:59"
    assert minutes_text(3725) == "62:05"
    assert minutes_text(-65) == "-1:05"
