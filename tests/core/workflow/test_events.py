"""Event log: stable ids, session-clock stamps, time corrections kept, nothing deleted."""

import pytest

from monitor.core.workflow.events import MAX_TEXT, EventLog
from monitor.core.workflow.messages import (
    AddEvent,
    CommandRefused,
    CorrectEventTime,
    EventKind,
    EventTimeCorrected,
    SessionEvent,
)

T0 = 1_700_000_000.0


def test_events_get_sequential_ids_and_the_session_clock():
    log = EventLog(T0)
    a = log.add(AddEvent(EventKind.NAUSEA, author="RN Lee"), T0 + 600)
    b = log.add(AddEvent(EventKind.ANTIEMETIC, " ondansetron 4 mg iv ", "RN Lee"), T0 + 660)
    assert a == SessionEvent("e1", T0 + 600, EventKind.NAUSEA, "", "RN Lee")
    assert b == SessionEvent("e2", T0 + 660, EventKind.ANTIEMETIC, "ondansetron 4 mg iv",
                             "RN Lee")
    assert log.events() == [a, b]
    assert log.get("e2") == b and log.get("e9") is None


def test_event_at_a_given_time_within_the_session():
    log = EventLog(T0)
    ev = log.add(AddEvent(EventKind.HEADACHE, t=T0 + 120), T0 + 600)
    assert isinstance(ev, SessionEvent) and ev.t == T0 + 120


@pytest.mark.parametrize("t", [T0 - 1, T0 + 601, float("nan"), float("inf")])
def test_event_outside_the_session_is_refused(t):
    log = EventLog(T0)
    out = log.add(AddEvent(EventKind.ANXIETY, author="RN Lee", t=t), T0 + 600)
    assert isinstance(out, CommandRefused)
    assert out.command == "add_event" and out.t == T0 + 600 and out.by == "RN Lee"
    assert out.message.startswith("Cannot add anxiety: the time must lie within the session")
    assert "0 to 10 min" in out.message
    assert log.events() == []


def test_session_start_and_now_are_allowed():
    log = EventLog(T0)
    assert isinstance(log.add(AddEvent(EventKind.NOTE, "arrived", t=T0), T0 + 5), SessionEvent)
    assert isinstance(log.add(AddEvent(EventKind.NOTE, "now", t=T0 + 5), T0 + 5), SessionEvent)


def test_a_note_needs_text():
    log = EventLog(T0)
    out = log.add(AddEvent(EventKind.NOTE, "   "), T0 + 1)
    assert isinstance(out, CommandRefused) and "a note needs text" in out.message
    ok = log.add(AddEvent(EventKind.NOTE, "patient asked for a blanket"), T0 + 2)
    assert isinstance(ok, SessionEvent) and ok.event_id == "e1"   # no id used by the refusal


def test_text_length_is_bounded():
    log = EventLog(T0)
    assert isinstance(log.add(AddEvent(EventKind.NOTE, "x" * MAX_TEXT), T0), SessionEvent)
    out = log.add(AddEvent(EventKind.NOTE, "x" * (MAX_TEXT + 1)), T0)
    assert isinstance(out, CommandRefused) and f"at most {MAX_TEXT}" in out.message


def test_events_are_sorted_by_time_then_order_added():
    log = EventLog(T0)
    late = log.add(AddEvent(EventKind.VOMITING), T0 + 900)
    early = log.add(AddEvent(EventKind.NAUSEA, t=T0 + 300), T0 + 950)
    same = log.add(AddEvent(EventKind.ANTIEMETIC, t=T0 + 900), T0 + 960)
    assert [e.event_id for e in log.events()] == [early.event_id, late.event_id, same.event_id]


def test_correction_moves_the_event_and_is_kept():
    log = EventLog(T0)
    log.add(AddEvent(EventKind.NAUSEA), T0 + 600)
    log.add(AddEvent(EventKind.DISSOCIATION), T0 + 700)
    corr = log.correct(CorrectEventTime("e2", T0 + 500, " RN Lee "), T0 + 800)
    assert corr == EventTimeCorrected("e2", T0 + 700, T0 + 500, "RN Lee", T0 + 800)
    assert [e.event_id for e in log.events()] == ["e2", "e1"]
    assert log.get("e2").t == T0 + 500
    second = log.correct(CorrectEventTime("e2", T0 + 550, "Dr A"), T0 + 900)
    assert isinstance(second, EventTimeCorrected) and second.old_t == T0 + 500
    assert log.corrections("e2") == [corr, second]
    assert log.corrections("e1") == []
    assert log.corrections() == [corr, second]


@pytest.mark.parametrize("command,fragment", [
    (CorrectEventTime("e7", T0 + 10, "RN"), "there is no event 'e7'"),
    (CorrectEventTime("e1", T0 + 10, "  "), "say who corrects it"),
    (CorrectEventTime("e1", T0 - 1, "RN"), "within the session"),
    (CorrectEventTime("e1", T0 + 1001, "RN"), "within the session"),
    (CorrectEventTime("e1", float("nan"), "RN"), "within the session"),
    (CorrectEventTime("e1", T0 + 600, "RN"), "already at that time"),
])
def test_bad_corrections_are_refused(command, fragment):
    log = EventLog(T0)
    log.add(AddEvent(EventKind.NAUSEA), T0 + 600)
    out = log.correct(command, T0 + 1000)
    assert isinstance(out, CommandRefused) and out.command == "correct_event_time"
    assert out.by == command.by.strip()
    assert out.message.startswith("Cannot correct the event time: ")
    assert fragment in out.message
    assert log.get("e1").t == T0 + 600 and log.corrections() == []


def test_reopened_log_replays_corrections_and_continues_ids():
    log = EventLog(T0)
    e1 = log.add(AddEvent(EventKind.NAUSEA), T0 + 600)
    e2 = log.add(AddEvent(EventKind.HEADACHE), T0 + 700)
    c1 = log.correct(CorrectEventTime("e1", T0 + 550, "RN"), T0 + 800)
    c2 = log.correct(CorrectEventTime("e1", T0 + 560, "RN"), T0 + 900)
    orphan = EventTimeCorrected("e99", T0, T0 + 1, "RN", T0 + 950)
    reopened = EventLog(T0, [e2, e1], [c2, orphan, c1])   # originals as recorded, any order
    assert reopened.events() == log.events()
    assert reopened.get("e1").t == T0 + 560
    assert reopened.corrections() == [c1, c2]
    e3 = reopened.add(AddEvent(EventKind.NOTE, "after the restart"), T0 + 1000)
    assert isinstance(e3, SessionEvent) and e3.event_id == "e3"

