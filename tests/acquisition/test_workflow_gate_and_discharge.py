"""The hub's own start gate, the recorded checklist and the post-session CADSS.

The window asks for an override before it sends a start, but the hub is
what decides: a start that reaches it without the override the baseline
needs is refused, whatever sent it.
"""

from __future__ import annotations

import pytest

from monitor.core.alarms.model import AlarmTransition, Priority, TransitionState
from monitor.core.events import PhaseChanged
from monitor.core.reading import make_reading
from monitor.core.session import Phase, PhaseSpan, SessionModel
from monitor.core.vitals import Vital
from monitor.core.workflow.discharge import ChecklistItem
from monitor.core.workflow.messages import (
    ChangeInfusion,
    ChecklistTicked,
    CommandRefused,
    EndSession,
    EventKind,
    InfusionAction,
    InfusionChanged,
    ManualEntry,
    ScriptedStart,
    SessionDischarged,
    SessionEvent,
    TickChecklist,
)
from tests.acquisition.workflow_rig import START, Rig, _only, feed_baseline


@pytest.fixture
def rig():
    r = Rig()
    yield r
    r.end(r.hub._now + 1)


def _start(rig: Rig, by: str = "", reason: str = "") -> list:
    rig.at(START + 320)
    return rig.command(ChangeInfusion(InfusionAction.START, by, reason))


# -- the start gate, at the hub -------------------------------------------------------


def test_an_incomplete_baseline_is_refused_even_with_an_override(rig):
    rig.feed(make_reading(Vital.NIBP_SYS, 120, START + 5), make_reading(Vital.NIBP_DIA, 75,
                                                                          START + 5))
    refused = _only(_start(rig, "Dr A", "patient anxious to start"), CommandRefused)
    assert refused.command == "change_infusion:start"
    assert "NIBP: 1 of 2 determinations" in refused.message
    assert "cannot be overridden" in refused.message
    assert rig.hub.model.phase is Phase.BASELINE
    assert rig.hub.workflow.infusion_state == "not_started"


def test_a_normal_baseline_starts_without_an_override(rig):
    feed_baseline(rig, 128, 82)
    reply = _start(rig, "RN")
    assert _only(reply, InfusionChanged) == InfusionChanged(InfusionAction.START, START + 320,
                                                            "RN")
    assert _only(reply, PhaseChanged).phase is Phase.INFUSION
    assert not [m for m in reply if isinstance(m, SessionEvent)]   # no override to log


def test_above_140_90_needs_a_reason_and_the_override_is_logged(rig):
    feed_baseline(rig, 150, 88)
    refused = _only(_start(rig, "Dr A"), CommandRefused)
    assert "above 140/90" in refused.message and "must name the reason" in refused.message
    assert _only(_start(rig, "", "anxious, repeat BP falling"), CommandRefused).message \
        .endswith("the override must name the clinician")
    reply = _start(rig, "Dr A", "anxious, repeat BP falling")
    started = _only(reply, InfusionChanged)
    assert (started.action, started.by, started.reason) == (
        InfusionAction.START, "Dr A", "anxious, repeat BP falling")
    logged = _only(reply, SessionEvent)
    assert (logged.kind, logged.author, logged.t) == (EventKind.NOTE, "Dr A", START + 320)
    assert logged.text == ("Baseline override: Baseline 150/88 mmHg is above 140/90: a "
                           "clinician override with a reason is needed to start. Clinician: "
                           "Dr A. Reason: anxious, repeat BP falling.")
    assert reply.index(logged) < reply.index(started)   # the decision, then the start


def test_at_180_110_the_override_must_name_the_clinician_and_the_reason(rig):
    feed_baseline(rig, 150, 112)   # diastolic alone reaches the block
    for by, reason, lacking in (("", "", "the clinician and the reason"),
                                ("", "Dr B agrees", "the clinician"),
                                ("Dr B", "", "the reason")):
        refused = _only(_start(rig, by, reason), CommandRefused)
        assert "at or above 180/110" in refused.message
        assert refused.message.endswith(f"the override must name {lacking}")
    assert rig.hub.model.phase is Phase.BASELINE
    reply = _start(rig, "Dr B", "chronic hypertension, treated; cardiology clearance")
    assert _only(reply, PhaseChanged).phase is Phase.INFUSION
    assert "Clinician: Dr B. Reason: chronic hypertension" in _only(reply, SessionEvent).text
    rig.end(START + 400)
    recorded = [m for m in rig.rec_q.drain() if isinstance(m, (SessionEvent, InfusionChanged))]
    assert [type(m).__name__ for m in recorded] == ["SessionEvent", "InfusionChanged"]


def test_device_and_typed_readings_after_the_start_do_not_move_the_gate(rig):
    feed_baseline(rig, 120, 75)
    _start(rig, "RN")
    rig.feed(make_reading(Vital.NIBP_SYS, 200, START + 400),
             make_reading(Vital.NIBP_DIA, 120, START + 400))
    assert rig.hub.workflow.gate.baseline().sys == 120


def test_a_resumed_baseline_keeps_its_gate():
    model = SessionModel(1, START, spans=[PhaseSpan(Phase.BASELINE, START)])
    history = [make_reading(v, x, t) for t in (START + 5, START + 305)
               for v, x in ((Vital.NIBP_SYS, 185), (Vital.NIBP_DIA, 95))]
    rig = Rig(model, history=history)
    try:
        rig.feed(make_reading(Vital.HR, 70, START + 310), make_reading(Vital.SPO2, 97,
                                                                         START + 310))
        assert "at or above 180/110" in _only(_start(rig, "RN"), CommandRefused).message
    finally:
        rig.end(START + 400)


def test_a_scripted_scenario_start_passes_the_gate_like_a_nurses():
    """Issue 11 point 7: the scripted start used to skip the gate."""
    rig = Rig(phase_plan=[(START + 60, Phase.INFUSION)])
    try:
        rig.at(START + 61)   # no baseline at all: refused and reported, stays in baseline
        assert rig.hub.model.phase is Phase.BASELINE
        refused = [m for m in rig.out if isinstance(m, CommandRefused)]
        assert [(r.command, r.by) for r in refused] == [("change_infusion:start", "scenario")]
        assert "incomplete" in refused[0].message
    finally:
        rig.end(START + 70)


def test_a_scripted_start_over_140_90_uses_the_scenarios_declared_override():
    script = ScriptedStart("Dr B", "stable on repeat", "scenario x")
    rig = Rig(phase_plan=[(START + 320, Phase.INFUSION)], scripted_start=script)
    try:
        feed_baseline(rig, 150, 92)
        rig.at(START + 321)
        assert rig.hub.model.phase is Phase.INFUSION
        notes = [m for m in rig.out if isinstance(m, SessionEvent)]
        assert len(notes) == 1 and notes[0].author == "Dr B"   # as a nurse's override is
        assert "Clinician: Dr B. Reason: stable on repeat." in notes[0].text
        started = [m for m in rig.out if isinstance(m, InfusionChanged)]
        assert [(m.by, m.reason) for m in started] == [("Dr B", "stable on repeat")]
        assert "scripted override of scenario x" in notes[0].text
    finally:
        rig.end(START + 330)


# -- the discharge checklist ------------------------------------------------------------


def test_checklist_ticks_are_recorded_once_and_unknown_items_refused(rig):
    rig.at(START + 100)
    tick = _only(rig.command(TickChecklist(ChecklistItem.ESCORT_PRESENT, True, "RN")),
                 ChecklistTicked)
    assert tick == ChecklistTicked(START + 100, "escort_present", True, "RN")
    assert rig.command(TickChecklist("escort_present", True, "RN")) == []   # already ticked
    rig.at(START + 110)
    assert _only(rig.command(TickChecklist("escort_present", False, "RN B")),
                 ChecklistTicked).ticked is False
    refused = _only(rig.command(TickChecklist("pain_free", by="RN")), CommandRefused)
    assert refused.command == "tick_checklist"
    assert refused.message == ("unknown checklist item 'pain_free'; valid items: "
                               "alert_oriented, nausea_controlled, escort_present")
    assert rig.hub.workflow.ticked == set()


def test_a_resumed_session_keeps_its_ticks_for_the_discharge():
    model = SessionModel(1, START, spans=[PhaseSpan(Phase.BASELINE, START, START + 600),
                                          PhaseSpan(Phase.INFUSION, START + 600, START + 3000),
                                          PhaseSpan(Phase.RECOVERY, START + 3000)])
    ticks = [ChecklistTicked(START + 4000, "nausea_controlled", True, "RN"),
             ChecklistTicked(START + 4100, "escort_present", True, "RN"),
             ChecklistTicked(START + 4200, "nausea_controlled", False, "RN"),
             ChecklistTicked(START + 4300, "alert_oriented", True, "RN")]
    rig = Rig(model, checklist=ticks)
    rig.hub._stop_source = None
    try:
        rig.at(START + 4500)
        assert rig.hub.workflow.ticked == {"escort_present", "alert_oriented"}
        discharged = _only(rig.command(EndSession("RN")), SessionDischarged)
        assert discharged.checklist == ("alert and oriented", "escort present")
    finally:
        rig.end(START + 4600)


# -- the post-session CADSS ------------------------------------------------------------


@pytest.mark.parametrize(("cadss", "words"), [
    (93, "CADSS 93 must be a whole number from 0 to 92"),
    (-1, "CADSS -1 must be a whole number from 0 to 92"),
    (12.5, "CADSS 12.5 must be a whole number from 0 to 92"),
])
def test_an_implausible_cadss_is_refused_and_the_session_goes_on(rig, cadss, words):
    rig.at(START + 100)
    refused = _only(rig.command(EndSession("RN", cadss=cadss)), CommandRefused)
    assert refused.command == "end_session"
    assert refused.message == f"{words}; the session goes on"
    assert rig.hub.model.phase is Phase.BASELINE


def test_a_cadss_of_zero_is_kept(rig):
    rig.hub._stop_source = None
    rig.at(START + 100)
    assert _only(rig.command(EndSession("RN", cadss=0)), SessionDischarged).cadss == 0


# -- the NIBP cycle -----------------------------------------------------------------------


def test_a_manual_nibp_answers_the_nibp_overdue_alarm(rig):
    rig.at(START + 421)   # baseline cycle 5 min + 2 min grace, with no NIBP at all
    overdue = [m for m in rig.out if isinstance(m, AlarmTransition)
               and m.alarm_id == "nibp.overdue"]
    assert [(m.priority, m.state) for m in overdue] == [(Priority.LOW, TransitionState.RAISED)]
    reply = rig.command(ManualEntry(Vital.NIBP_SYS, 126, by="RN", dia=80))
    cleared = [m for m in reply if isinstance(m, AlarmTransition)
               and m.alarm_id == "nibp.overdue"]
    assert [(m.state, m.t) for m in cleared] == [(TransitionState.CLEARED, START + 421)]
