"""Infusion timer: transitions, pauses, restart from records, the planned-end reminder."""

import pytest

from monitor.core.clock import SimClock
from monitor.core.workflow.infusion import InfusionState, InfusionTimer
from monitor.core.workflow.messages import (
    ChangeInfusion,
    CommandRefused,
    InfusionAction,
    InfusionChanged,
)

T0 = 1_700_000_000.0
START, PAUSE, RESUME, STOP = (InfusionAction.START, InfusionAction.PAUSE, InfusionAction.RESUME,
                              InfusionAction.STOP)


def cmd(action, reason="", by="RN Lee"):
    return ChangeInfusion(action, by, reason)


def test_not_started():
    timer = InfusionTimer(2400)
    assert timer.state is InfusionState.NOT_STARTED
    assert timer.elapsed(T0) == 0 and timer.remaining(T0) == 2400
    assert not timer.planned_end_reached(T0 + 10_000)
    assert timer.planned_end_at(T0) is None


def test_running_under_the_simulated_clock():
    clock = SimClock(T0, speed=None)
    timer = InfusionTimer(2400)
    rec = timer.apply(cmd(START), clock.now())
    assert rec == InfusionChanged(START, T0, "RN Lee", "")
    assert timer.state is InfusionState.RUNNING and timer.started_at == T0
    clock.advance_to(T0 + 600)
    assert timer.elapsed(clock.now()) == 600
    assert timer.remaining(clock.now()) == 1800
    assert timer.planned_end_at(clock.now()) == T0 + 2400


def test_pause_excludes_time_and_shows_reason():
    timer = InfusionTimer(2400)
    timer.apply(cmd(START), T0)
    rec = timer.apply(cmd(PAUSE, " nausea, antiemetic given "), T0 + 600)
    assert isinstance(rec, InfusionChanged) and rec.reason == "nausea, antiemetic given"
    assert timer.state is InfusionState.PAUSED
    assert timer.state.label == "INFUSION PAUSED"
    assert timer.paused_since == T0 + 600 and timer.pause_reason == "nausea, antiemetic given"
    assert timer.elapsed(T0 + 900) == 600          # frozen while paused
    assert timer.paused_for(T0 + 900) == 300
    assert timer.planned_end_at(T0 + 900) is None
    timer.apply(cmd(RESUME), T0 + 900)
    assert timer.state is InfusionState.RUNNING
    assert timer.paused_since is None and timer.pause_reason == ""
    assert timer.elapsed(T0 + 1000) == 700
    assert timer.remaining(T0 + 1000) == 1700
    assert timer.planned_end_at(T0 + 1000) == T0 + 2700


def test_stop_while_paused_ends_the_pause():
    timer = InfusionTimer(2400)
    timer.apply(cmd(START), T0)
    timer.apply(cmd(PAUSE, "BP 190/115"), T0 + 1200)
    timer.apply(cmd(STOP), T0 + 1500)
    assert timer.state is InfusionState.STOPPED and timer.stopped_at == T0 + 1500
    assert timer.paused_since is None
    assert timer.elapsed(T0 + 9999) == 1200
    assert timer.remaining(T0 + 9999) == 1200


def test_overrun_gives_negative_remaining():
    timer = InfusionTimer(2400)
    timer.apply(cmd(START), T0)
    assert timer.remaining(T0 + 2520) == -120
    assert timer.planned_end_reached(T0 + 2520)


@pytest.mark.parametrize("history,action,fragment", [
    ((), PAUSE, "only a running infusion can be paused (it is not started)"),
    ((), RESUME, "only a paused infusion can be resumed"),
    ((), STOP, "not running or paused"),
    ((START,), START, "already been started"),
    ((START,), RESUME, "only a paused infusion can be resumed (it is running)"),
    ((START, PAUSE), PAUSE, "only a running infusion can be paused (it is infusion paused)"),
    ((START, STOP), START, "already been started"),
    ((START, STOP), RESUME, "only a paused infusion"),
    ((START, STOP), STOP, "(it is stopped)"),
])
def test_invalid_transitions_are_refused(history, action, fragment):
    timer = InfusionTimer(2400)
    for i, a in enumerate(history):
        assert isinstance(timer.apply(cmd(a, "why"), T0 + i), InfusionChanged)
    state = timer.state
    out = timer.apply(cmd(action, "why"), T0 + 100)
    assert isinstance(out, CommandRefused)
    assert out.command == f"change_infusion:{action.value}" and out.t == T0 + 100
    assert out.by == "RN Lee"
    assert out.message.startswith(f"Cannot {action.value} the infusion: ")
    assert fragment in out.message
    assert timer.state is state and len(timer.records) == len(history)


@pytest.mark.parametrize("reason", ["", "   "])
def test_pause_needs_a_reason(reason):
    timer = InfusionTimer(2400)
    timer.apply(cmd(START), T0)
    out = timer.apply(cmd(PAUSE, reason), T0 + 60)
    assert isinstance(out, CommandRefused) and "a pause needs a reason" in out.message
    assert timer.state is InfusionState.RUNNING


def test_time_cannot_go_backwards():
    timer = InfusionTimer(2400)
    timer.apply(cmd(START), T0 + 100)
    out = timer.apply(cmd(STOP), T0 + 50)
    assert isinstance(out, CommandRefused) and "before the infusion's last change" in out.message
    assert isinstance(timer.apply(cmd(STOP), float("nan")), CommandRefused)


def test_planned_time_must_be_positive():
    with pytest.raises(ValueError, match="positive"):
        InfusionTimer(0)


def test_restart_recomputes_from_recorded_times():
    live = InfusionTimer(2400)
    live.apply(cmd(START), T0)
    live.apply(cmd(PAUSE, "anxiety"), T0 + 900)
    live.apply(cmd(RESUME), T0 + 1020)
    # crash at T0 + 1500; the app comes back at T0 + 1800
    reopened = InfusionTimer(2400, list(reversed(live.records)))   # any order
    assert reopened.state is InfusionState.RUNNING
    assert reopened.started_at == T0
    assert reopened.elapsed(T0 + 1800) == live.elapsed(T0 + 1800) == 1680
    assert reopened.remaining(T0 + 1800) == 720
    assert reopened.records == live.records and reopened.ignored == []


def test_restart_while_paused_keeps_pause_and_reason():
    history = [InfusionChanged(START, T0), InfusionChanged(PAUSE, T0 + 600, "RN", "vomiting")]
    timer = InfusionTimer(2400, history)
    assert timer.state is InfusionState.PAUSED
    assert timer.pause_reason == "vomiting" and timer.paused_since == T0 + 600
    assert timer.elapsed(T0 + 5000) == 600


def test_restart_skips_damaged_records():
    bad = InfusionChanged(RESUME, T0 + 10)
    history = [InfusionChanged(START, T0), bad, InfusionChanged(STOP, T0 + 2400)]
    timer = InfusionTimer(2400, history)
    assert timer.ignored == [bad]
    assert timer.state is InfusionState.STOPPED and timer.elapsed(T0 + 9999) == 2400


def test_planned_end_reminder_comes_exactly_once():
    timer = InfusionTimer(2400)
    timer.apply(cmd(START), T0)
    polls = [T0 + t for t in range(0, 3600, 1)]
    fired = [t for t in polls if timer.take_planned_end_reminder(t)]
    assert fired == [T0 + 2400]
    assert timer.planned_end_reached(T0 + 3000)   # the state stays true


def test_planned_end_reminder_waits_for_pauses():
    timer = InfusionTimer(600)
    timer.apply(cmd(START), T0)
    timer.apply(cmd(PAUSE, "headache"), T0 + 300)
    assert not timer.take_planned_end_reminder(T0 + 900)
    timer.apply(cmd(RESUME), T0 + 900)
    assert not timer.take_planned_end_reminder(T0 + 1199)
    assert timer.take_planned_end_reminder(T0 + 1200)
    assert not timer.take_planned_end_reminder(T0 + 1201)


def test_no_reminder_once_stopped_early():
    timer = InfusionTimer(2400)
    timer.apply(cmd(START), T0)
    timer.apply(cmd(STOP), T0 + 2400)
    assert not timer.take_planned_end_reminder(T0 + 3000)


def test_rebuilt_timer_past_its_end_reminds_once_more():
    timer = InfusionTimer(2400, [InfusionChanged(START, T0)])
    assert timer.take_planned_end_reminder(T0 + 2500)
    assert not timer.take_planned_end_reminder(T0 + 2501)
