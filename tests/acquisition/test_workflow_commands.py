"""The nurse's commands through the real hub thread: accepted, refused, recorded, alarmed."""

from __future__ import annotations

import math

import pytest

from monitor.acquisition.hub import Hub
from monitor.core.alarms.model import AlarmTransition, Priority, TransitionState
from monitor.core.clock import SimClock
from monitor.core.events import Condition, Note, PhaseChanged, StreamEnded, Technical
from monitor.core.queues import BoundedQueue
from monitor.core.reading import Quality, Reading, make_reading
from monitor.core.session import Phase, PhaseSpan, SessionModel
from monitor.core.vitals import Vital
from monitor.core.workflow.discharge import ChecklistItem
from monitor.core.workflow.messages import (
    AddEvent,
    ChangeInfusion,
    CommandRefused,
    CorrectEventTime,
    EndSession,
    EventKind,
    EventTimeCorrected,
    InfusionAction,
    InfusionChanged,
    ManualEntry,
    SessionDischarged,
    SessionEvent,
    TickChecklist,
)
from monitor.storage.recorder import CloseSession
from tests.acquisition.workflow_rig import START, Rig, _only, feed_baseline


@pytest.fixture
def rig():
    r = Rig()
    yield r
    r.end(r.hub._now + 1)


# -- manual entry ---------------------------------------------------------------


def test_manual_nibp_is_recorded_shown_and_alarmed_like_a_device_one(rig):
    rig.at(START + 60)
    reply = rig.command(ManualEntry(Vital.NIBP_SYS, 205, by="RN", dia=100))
    readings = [m for m in reply if isinstance(m, Reading)]
    assert [(r.vital, r.value, r.t, r.quality) for r in readings] == [
        (Vital.NIBP_SYS, 205, START + 60, Quality.MANUAL),
        (Vital.NIBP_DIA, 100, START + 60, Quality.MANUAL),
        (Vital.NIBP_MEAN, 135, START + 60, Quality.MANUAL)]   # 100 + (205 - 100) / 3
    assert _only(reply, Note) == Note(START + 60, "manual_entry", "NIBP 205/100 mmHg (mean 135)",
                                      "RN")                    # who typed it, for the record
    raised = [m for m in reply if isinstance(m, AlarmTransition)
              and m.alarm_id == "nibp_sys.high"]
    assert [(a.priority, a.state, a.value, a.t) for a in raised] == [
        (Priority.HIGH, TransitionState.RAISED, 205, START + 60)]
    snap = rig.hub.alarm_state.get()
    assert "nibp_sys.high" in [a.alarm_id for a in snap.alarms]
    rig.end(START + 61)
    recorded = [m for m in rig.rec_q.drain() if isinstance(m, Reading)
                and m.quality is Quality.MANUAL]
    assert recorded == readings


@pytest.mark.parametrize(("cmd", "words"), [
    (ManualEntry(Vital.SPO2, 101, by="RN"), ["SpO2 101 %", "0-100 %"]),
    (ManualEntry(Vital.HR, 5, by="RN"), ["HR 5 bpm", "15-300 bpm"]),
    (ManualEntry(Vital.HR, math.nan, by="RN"), ["HR: nan is not a number"]),
    (ManualEntry(Vital.NIBP_SYS, 320, by="RN", dia=80), ["NIBP sys 320 mmHg", "30-300 mmHg"]),
    (ManualEntry(Vital.NIBP_SYS, 120, by="RN", dia=5), ["NIBP dia 5 mmHg", "10-250 mmHg"]),
    (ManualEntry(Vital.NIBP_SYS, 80, by="RN", dia=80),
     ["NIBP 80/80: the diastolic must be below the systolic"]),
    (ManualEntry(Vital.NIBP_SYS, 120, by="RN"), ["NIBP dia: a value is required"]),
    (ManualEntry(Vital.HR, 80, by="RN", dia=60), ["a diastolic only goes with an NIBP, not HR"]),
    (ManualEntry(Vital.NIBP_MEAN, 90, by="RN"),
     ["NIBP mean cannot be entered by hand", "allowed: NIBP, HR, SpO2"]),
])
def test_implausible_manual_readings_are_refused_with_the_allowed_range(rig, cmd, words):
    rig.at(START + 5)
    reply = rig.command(cmd)
    refused = _only(reply, CommandRefused)
    assert refused.command == "manual_entry" and refused.t == START + 5
    for w in words:
        assert w in refused.message
    assert not [m for m in reply if isinstance(m, Reading)]


def test_a_manual_value_does_not_count_as_data_from_the_source(rig):
    rig.feed(*[make_reading(Vital.SPO2, 98, START + k) for k in range(1, 5)])
    rig.command(ManualEntry(Vital.HR, 80, by="RN"))
    # SpO2 keeps coming: no "no valid HR" 10 s after the typed HR, no "no data" either.
    rig.feed(*[make_reading(Vital.SPO2, 98, START + k) for k in range(5, 40)])
    out = rig.end(START + 40)
    assert not [m for m in out if isinstance(m, Technical)]


def test_manual_entry_during_silence_does_not_clear_no_data(rig):
    rig.feed(make_reading(Vital.SPO2, 98, START + 1))
    rig.at(START + 15)                                  # silent since +1: no data at +11
    rig.command(ManualEntry(Vital.SPO2, 97, by="RN"))
    rig.feed(make_reading(Vital.SPO2, 98, START + 30))  # the device is back
    tech = [(m.condition, m.active, m.t) for m in rig.out if isinstance(m, Technical)]
    assert tech == [(Condition.NO_DATA, True, START + 11), (Condition.NO_DATA, False, START + 30)]


# -- events -----------------------------------------------------------------------


def test_events_get_stable_ids_and_session_times(rig):
    rig.at(START + 100)
    e1 = _only(rig.command(AddEvent(EventKind.NAUSEA, "mild", "RN")), SessionEvent)
    e2 = _only(rig.command(AddEvent(EventKind.ANTIEMETIC, "ondansetron 4 mg", "RN",
                                    t=START + 90)), SessionEvent)
    assert e1 == SessionEvent("e1", START + 100, EventKind.NAUSEA, "mild", "RN")
    assert (e2.event_id, e2.t) == ("e2", START + 90)


@pytest.mark.parametrize(("cmd", "words"), [
    (AddEvent(EventKind.NOTE, "  ", "RN"), "a note needs text"),
    (AddEvent(EventKind.NAUSEA, author="RN", t=START - 1), "within the session"),
    (AddEvent(EventKind.NAUSEA, author="RN", t=START + 500), "within the session"),
])
def test_bad_events_are_refused(rig, cmd, words):
    rig.at(START + 100)
    refused = _only(rig.command(cmd), CommandRefused)
    assert refused.command == "add_event" and words in refused.message


def test_an_event_time_is_corrected_and_the_change_kept(rig):
    rig.at(START + 100)
    rig.command(AddEvent(EventKind.VOMITING, author="RN"))
    rig.at(START + 200)
    fix = _only(rig.command(CorrectEventTime("e1", START + 80, by="RN B")),
                EventTimeCorrected)
    assert fix == EventTimeCorrected("e1", START + 100, START + 80, "RN B", START + 200)
    again = _only(rig.command(CorrectEventTime("e1", START + 85, by="RN B")),
                  EventTimeCorrected)
    assert again.old_t == START + 80


@pytest.mark.parametrize(("cmd", "words"), [
    (CorrectEventTime("e9", START + 50, "RN"), "no event 'e9'"),
    (CorrectEventTime("e1", START + 50, " "), "say who corrects it"),
    (CorrectEventTime("e1", START - 5, "RN"), "within the session"),
    (CorrectEventTime("e1", START + 300, "RN"), "within the session"),
])
def test_bad_corrections_are_refused(rig, cmd, words):
    rig.at(START + 100)
    rig.command(AddEvent(EventKind.HEADACHE, author="RN"))
    refused = _only(rig.command(cmd), CommandRefused)
    assert refused.command == "correct_event_time" and words in refused.message


# -- infusion ---------------------------------------------------------------------


def test_infusion_start_pause_resume_stop_and_the_phases(rig):
    def do(t, action, reason=""):
        rig.at(t)
        return rig.command(ChangeInfusion(action, by="RN", reason=reason))

    def refused(t, action, words, reason=""):
        r = _only(do(t, action, reason), CommandRefused)
        assert r.command == f"change_infusion:{action.value}" and words in r.message, r

    feed_baseline(rig)
    refused(START + 10, InfusionAction.PAUSE, "(it is not started)", reason="x")
    refused(START + 10, InfusionAction.RESUME, "(it is not started)")
    refused(START + 10, InfusionAction.STOP, "(it is not started)")
    reply = do(START + 600, InfusionAction.START, reason="baseline 150/95, Dr A")
    assert _only(reply, InfusionChanged) == InfusionChanged(
        InfusionAction.START, START + 600, "RN", "baseline 150/95, Dr A")
    assert _only(reply, PhaseChanged) == PhaseChanged(Phase.INFUSION, START + 600)
    assert reply.index(_only(reply, InfusionChanged)) < reply.index(_only(reply, PhaseChanged))
    refused(START + 700, InfusionAction.START, "(it is running)")
    refused(START + 700, InfusionAction.RESUME, "(it is running)")
    refused(START + 700, InfusionAction.PAUSE, "needs a reason")
    assert _only(do(START + 800, InfusionAction.PAUSE, "nausea"), InfusionChanged).reason \
        == "nausea"
    assert rig.hub.workflow.infusion_state == "paused"
    refused(START + 810, InfusionAction.PAUSE, "(it is infusion paused)", reason="again")
    assert _only(do(START + 900, InfusionAction.RESUME), InfusionChanged).action \
        is InfusionAction.RESUME
    reply = do(START + 3000, InfusionAction.STOP)
    assert _only(reply, PhaseChanged) == PhaseChanged(Phase.RECOVERY, START + 3000)
    assert rig.hub.alarms.phase is Phase.RECOVERY   # the alarm engine follows the phase
    refused(START + 3100, InfusionAction.STOP, "(it is stopped)")
    refused(START + 3100, InfusionAction.START, "(it is stopped)")
    rig.end(START + 3200)
    rec = rig.rec_q.drain()
    assert [m.action for m in rec if isinstance(m, InfusionChanged)] == [
        InfusionAction.START, InfusionAction.PAUSE, InfusionAction.RESUME, InfusionAction.STOP]
    assert [m.phase for m in rec if isinstance(m, PhaseChanged)] == [
        Phase.INFUSION, Phase.RECOVERY, Phase.ENDED]


def test_stop_while_paused_goes_to_recovery(rig):
    feed_baseline(rig)
    rig.at(START + 310)
    rig.command(ChangeInfusion(InfusionAction.START, by="RN"))
    rig.command(ChangeInfusion(InfusionAction.PAUSE, by="RN", reason="BP 185/112"))
    rig.at(START + 320)
    reply = rig.command(ChangeInfusion(InfusionAction.STOP, by="RN", reason="BP stays high"))
    assert _only(reply, PhaseChanged).phase is Phase.RECOVERY
    assert rig.hub.workflow.infusion_state == "stopped"


# -- end of session ---------------------------------------------------------------


def test_end_session_discharges_and_stops_the_source():
    rig = Rig()
    feed_baseline(rig)
    rig.at(START + 310)
    rig.command(ChangeInfusion(InfusionAction.START, by="RN"))
    assert _only(rig.command(EndSession(" ")), CommandRefused).command == "end_session"
    rig.command(TickChecklist(ChecklistItem.ESCORT_PRESENT, by="RN"))
    rig.command(TickChecklist(ChecklistItem.ALERT_ORIENTED, by="RN"))
    rig.at(START + 350)
    reply = rig.command(EndSession("RN", note="escort: partner", cadss=14))
    assert _only(reply, InfusionChanged) == InfusionChanged(
        InfusionAction.STOP, START + 350, "RN", "session ended")
    assert _only(reply, PhaseChanged) == PhaseChanged(Phase.ENDED, START + 350)
    note = _only(reply, SessionEvent)
    assert note.kind is EventKind.NOTE and note.author == "RN" and note.t == START + 350
    assert "alert and oriented; escort present. CADSS 14" in note.text
    assert "partner" in note.text
    assert _only(reply, SessionDischarged) == SessionDischarged(
        START + 350, "RN", ("alert and oriented", "escort present"), "escort: partner", 14)
    out = rig.end(START + 360)
    assert rig.stop_reasons == ["session ended by RN"]
    ended = _only(out, StreamEnded)
    assert ended.reason == "session ended by RN"
    assert [m.phase for m in out if isinstance(m, PhaseChanged)] == [Phase.INFUSION, Phase.ENDED]
    rec = rig.rec_q.drain()
    assert rec[-1] == CloseSession(rec[-1].status, ended.t)


def test_commands_after_the_end_are_refused():
    rig = Rig()
    rig.hub._stop_source = None     # keep the stream open after the discharge
    rig.at(START + 10)
    rig.command(EndSession("RN"))
    for cmd in (AddEvent(EventKind.NAUSEA), ManualEntry(Vital.HR, 70, by="RN"),
                ChangeInfusion(InfusionAction.START), EndSession("RN")):
        assert "has ended" in _only(rig.command(cmd), CommandRefused).message
    rig.end(START + 20)


# -- resume and scripted sessions -------------------------------------------------


def test_a_resumed_session_continues_numbering_and_infusion_state():
    model = SessionModel(1, START, spans=[PhaseSpan(Phase.BASELINE, START, START + 600),
                                          PhaseSpan(Phase.INFUSION, START + 600)])
    events = [SessionEvent("e1", START + 700, EventKind.NAUSEA),
              SessionEvent("e4", START + 650, EventKind.ANXIETY)]
    infusion = [InfusionChanged(InfusionAction.START, START + 600),
                InfusionChanged(InfusionAction.PAUSE, START + 800, reason="nausea")]
    rig = Rig(model, events=events, infusion=infusion)
    rig.at(START + 900)
    assert _only(rig.command(AddEvent(EventKind.HEADACHE, author="RN")), SessionEvent).event_id == "e5"
    assert _only(rig.command(CorrectEventTime("e4", START + 640, "RN")),
                 EventTimeCorrected).old_t == START + 650
    assert rig.hub.workflow.timer.elapsed(START + 900) == 200   # from the recorded times
    assert _only(rig.command(ChangeInfusion(InfusionAction.RESUME, by="RN")),
                 InfusionChanged).action is InfusionAction.RESUME
    rig.end(START + 1000)


def test_a_session_recorded_with_phases_only_resumes_with_a_running_infusion():
    model = SessionModel(1, START, spans=[PhaseSpan(Phase.BASELINE, START, START + 600),
                                          PhaseSpan(Phase.INFUSION, START + 600)])
    rig = Rig(model)
    rig.at(START + 700)
    assert rig.hub.workflow.infusion_state == "running"
    reply = rig.command(ChangeInfusion(InfusionAction.STOP, by="RN"))
    assert _only(reply, PhaseChanged) == PhaseChanged(Phase.RECOVERY, START + 700)
    rig.end(START + 800)


def test_scripted_events_and_phases_arrive_in_time_order():
    plan = [(START + 600, Phase.INFUSION), (START + 3000, Phase.RECOVERY)]
    scripted = [AddEvent(EventKind.NAUSEA, "mild", "scenario", START + 1500),
                AddEvent(EventKind.DISSOCIATION, "", "scenario", START + 1200)]
    items = [make_reading(Vital.HR, 70, START + k * 100) for k in range(1, 40)]
    # A complete baseline, so the scripted start passes the gate.
    for t in (START + 60, START + 360):
        items += [make_reading(Vital.NIBP_SYS, 120, t), make_reading(Vital.NIBP_DIA, 75, t)]
    items.append(make_reading(Vital.SPO2, 98, START + 500))
    items.sort(key=lambda r: r.t)
    items.append(StreamEnded(START + 4000))
    inbox = BoundedQueue(1000, "in", block_when_full=True)
    out: list = []
    hub = Hub(SessionModel(1, START), SimClock(START, speed=None), inbox, recorder_q=None,
              ui_q=None, sink=out.append, phase_plan=plan, event_plan=scripted,
              stale_after=1000.0)
    for it in items:
        inbox.put(it)
    hub.start()
    hub.join(10)
    seq = [(type(m).__name__, m.t) for m in out
           if isinstance(m, (PhaseChanged, SessionEvent, InfusionChanged))]
    assert seq == [("InfusionChanged", START + 600), ("PhaseChanged", START + 600),
                   ("SessionEvent", START + 1200), ("SessionEvent", START + 1500),
                   ("InfusionChanged", START + 3000), ("PhaseChanged", START + 3000),
                   ("PhaseChanged", START + 4000)]
    assert [m.event_id for m in out if isinstance(m, SessionEvent)] == ["e1", "e2"]


def test_a_resumed_scripted_session_does_not_repeat_its_recorded_events():
    model = SessionModel(1, START, spans=[PhaseSpan(Phase.BASELINE, START, START + 600),
                                          PhaseSpan(Phase.INFUSION, START + 600)])
    recorded = [SessionEvent("e1", START + 1200, EventKind.DISSOCIATION, "", "scenario")]
    scripted = [AddEvent(EventKind.DISSOCIATION, "", "scenario", START + 1200),
                AddEvent(EventKind.NAUSEA, "mild", "scenario", START + 1500)]
    inbox = BoundedQueue(1000, "in", block_when_full=True)
    out: list = []
    hub = Hub(model, SimClock(START, speed=None), inbox, recorder_q=None, ui_q=None,
              sink=out.append, phase_plan=[(START + 600, Phase.INFUSION)],
              event_plan=scripted, events=recorded, stale_after=1000.0)
    inbox.put(make_reading(Vital.HR, 70, START + 1400))   # resumed at +1400
    inbox.put(make_reading(Vital.HR, 70, START + 1600))
    inbox.put(StreamEnded(START + 1700))
    hub.start()
    hub.join(10)
    assert [(m.event_id, m.kind) for m in out if isinstance(m, SessionEvent)] == [
        ("e2", EventKind.NAUSEA)]
    assert not [m for m in out if isinstance(m, InfusionChanged)]


def test_malformed_commands_are_refused_and_monitoring_goes_on(rig):
    rig.at(START + 5)
    for cmd, words in ((AddEvent("hiccups", author="RN"), "unknown event kind 'hiccups'"),
                       (ChangeInfusion("faster", by="RN"), "unknown infusion action 'faster'"),
                       (ManualEntry(Vital.HR, "80", by="RN"), "'80' is not a number")):
        assert words in _only(rig.command(cmd), CommandRefused).message
    rig.feed(make_reading(Vital.HR, 70, START + 6))
    assert rig.hub.is_alive()


def test_the_end_of_the_planned_time_is_one_low_reminder():
    r = Rig(planned_infusion_s=600.0)
    try:
        feed_baseline(r)
        r.at(START + 310)
        r.command(ChangeInfusion(InfusionAction.START, by="RN"))
        r.at(START + 909)
        r.at(START + 911)
        r.at(START + 1200)
    finally:
        out = r.end(START + 1201)
    planned = [m for m in out if isinstance(m, AlarmTransition)
               and m.alarm_id == "infusion.planned_end"]
    assert [(m.state, m.priority) for m in planned] == [
        (TransitionState.RAISED, Priority.LOW), (TransitionState.CLEARED, Priority.LOW)]
    assert planned[0].t == START + 911 and "10 min" in planned[0].message


@pytest.mark.parametrize("cmd", [
    AddEvent(EventKind.NAUSEA),
    AddEvent(EventKind.NOTE, "BP cuff re-sited", "  "),
    ManualEntry(Vital.HR, 80),
    TickChecklist(ChecklistItem.ESCORT_PRESENT),
    ChangeInfusion(InfusionAction.PAUSE),
])
def test_a_nurse_action_without_initials_is_refused_and_nothing_recorded(rig, cmd):
    """They used to be recorded with an empty author (issue 11 point 10)."""
    rig.at(START + 100)
    if isinstance(cmd, ChangeInfusion):
        feed_baseline(rig, 128, 82)
        rig.at(START + 320)
        rig.command(ChangeInfusion(InfusionAction.START, by="RN"))
    reply = rig.command(cmd)
    refused = _only(reply, CommandRefused)
    assert "enter your initials" in refused.message
    assert not [m for m in reply if isinstance(m, (SessionEvent, InfusionChanged, Reading))]
