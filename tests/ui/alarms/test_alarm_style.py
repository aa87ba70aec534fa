"""Alarm colours, flash periods and duty, and message texts as pure functions."""

from __future__ import annotations

import time

import pytest

from monitor.core.alarms.model import Priority
from monitor.ui.alarms.style import (
    COLOURS,
    PREFIX,
    alarm_text,
    countdown_text,
    entry_lit,
    flash_on,
    flashes,
    next_switch,
)
from tests.ui.alarm_fakes import entry
from tests.ui.helpers import T0

STEP = 0.01


def _edges(priority: Priority, seconds: float, steady: bool = False) -> list[float]:
    """Times (from sampling every 10 ms) at which the signal switches on or off."""
    edges, previous = [], flash_on(priority, 0.0, steady=steady)
    for i in range(1, round(seconds / STEP)):
        t = i * STEP
        now = flash_on(priority, t, steady=steady)
        if now != previous:
            edges.append(round(t, 3))
        previous = now
    return edges


def _duty(priority: Priority, seconds: float) -> float:
    samples = [flash_on(priority, i * STEP) for i in range(round(seconds / STEP))]
    return sum(samples) / len(samples)


def test_colours_per_priority():
    assert COLOURS[Priority.HIGH].lit == "#d50000"       # red
    assert COLOURS[Priority.MEDIUM].lit == "#ffd600"     # yellow
    assert COLOURS[Priority.LOW].lit == "#00e5ff"        # cyan
    assert PREFIX == {Priority.HIGH: "***", Priority.MEDIUM: "**", Priority.LOW: "*"}


def test_high_flashes_at_2_hz_with_half_duty():
    edges = _edges(Priority.HIGH, 3.0)
    assert edges[:4] == [0.25, 0.5, 0.75, 1.0]
    assert all(b - a == pytest.approx(0.25) for a, b in zip(edges, edges[1:], strict=False))
    assert _duty(Priority.HIGH, 3.0) == pytest.approx(0.5, abs=0.01)
    assert flash_on(Priority.HIGH, 0.0) and not flash_on(Priority.HIGH, 0.3)


def test_medium_flashes_at_half_hz_with_half_duty():
    edges = _edges(Priority.MEDIUM, 6.0)
    assert edges == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert _duty(Priority.MEDIUM, 6.0) == pytest.approx(0.5, abs=0.01)


def test_low_never_flashes():
    assert _edges(Priority.LOW, 5.0) == []
    assert flash_on(Priority.LOW, 0.3)


@pytest.mark.parametrize("priority", list(Priority))
def test_acknowledged_alarms_never_flash_but_stay_lit(priority):
    assert _edges(priority, 5.0, steady=True) == []
    acked = entry(priority, "x", acknowledged=True)
    assert not flashes(acked)
    assert all(entry_lit(acked, i * 0.1) for i in range(50))


def test_a_non_latching_leftover_does_not_flash():
    leftover = entry(Priority.MEDIUM, "HR 115 > 110", active=False, cleared_at=T0 + 3)
    assert not leftover.signalling and not flashes(leftover)
    assert flashes(entry(Priority.MEDIUM, "HR 115 > 110"))


def test_alarm_text_has_the_priority_prefix():
    assert alarm_text(entry(Priority.HIGH, "SpO2 87 < 92")) == "*** SpO2 87 < 92"
    assert alarm_text(entry(Priority.MEDIUM, "HR 118 > 110")) == "** HR 118 > 110"
    assert alarm_text(entry(Priority.LOW, "NIBP overdue", None)) == "* NIBP overdue"


def test_latched_cleared_alarm_says_when_it_cleared():
    cleared = T0 + 600
    e = entry(Priority.HIGH, "SpO2 85 \u2264 88", active=False, latched=True, cleared_at=cleared)
    assert e.signalling  # a latched alarm keeps signalling until acknowledged
    hhmm = time.strftime("%H:%M", time.localtime(cleared))
    assert alarm_text(e) == f"*** SpO2 85 \u2264 88 \u2014 cleared at {hhmm}"


@pytest.mark.parametrize(("seconds", "text"), [
    (120.0, "2:00"), (103.0, "1:43"), (102.2, "1:43"), (59.5, "1:00"), (0.4, "0:01"),
    (0.0, "0:00"), (-3.0, "0:00")])
def test_countdown_text(seconds, text):
    assert countdown_text(seconds) == text


def test_the_flash_timer_sleeps_until_the_next_switch():
    """Nothing changes between two switches, so the one timer wakes only at them."""
    assert next_switch([Priority.HIGH], 0.0) == pytest.approx(0.25)
    assert next_switch([Priority.HIGH], 0.3) == pytest.approx(0.5)
    assert next_switch([Priority.MEDIUM], 0.2) == pytest.approx(1.0)
    assert next_switch([Priority.MEDIUM], 1.0) == pytest.approx(2.0)
    assert next_switch([Priority.MEDIUM, Priority.HIGH], 0.9) == pytest.approx(1.0)
    assert next_switch([Priority.LOW], 3.0) is None
    # At each switch the lit state really changes, and never between two of them.
    for priorities in ([Priority.HIGH], [Priority.MEDIUM], [Priority.HIGH, Priority.MEDIUM]):
        t = 0.0
        while t < 6.0:
            nxt = next_switch(priorities, t)
            before = [flash_on(p, t) for p in priorities]
            mid = [flash_on(p, (t + nxt) / 2) for p in priorities]
            after = [flash_on(p, nxt) for p in priorities]
            assert before == mid != after
            t = nxt
