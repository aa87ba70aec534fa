"""The NIBP cycle reminder: interval per phase, next due time, agreement with the alarm."""

import pytest

from monitor.core.alarms.profile import AlarmProfile, NibpCycle
from monitor.core.alarms.technical import TechnicalAlarms
from monitor.core.session import Phase
from monitor.core.workflow.nibp_cycle import NibpDue, next_nibp_due, nibp_interval_s

T0 = 1_700_000_000.0

CYCLE = NibpCycle()


@pytest.mark.parametrize("phase,elapsed,interval", [
    (Phase.BASELINE, 0, 300), (Phase.INFUSION, 0, 300), (Phase.INFUSION, 899, 300),
    (Phase.INFUSION, 900, 600), (Phase.INFUSION, 3000, 600), (Phase.RECOVERY, 0, 900),
    (Phase.ENDED, 0, None),
])
def test_interval_follows_the_phase(phase, elapsed, interval):
    assert nibp_interval_s(CYCLE, phase, elapsed) == interval


def test_interval_uses_the_profile_cycle():
    custom = NibpCycle(baseline_s=240, infusion_early_s=180, infusion_early_for_s=600,
                       infusion_s=480, recovery_s=720)
    assert nibp_interval_s(custom, Phase.INFUSION, 599) == 180
    assert nibp_interval_s(custom, Phase.INFUSION, 600) == 480
    assert nibp_interval_s(custom, Phase.RECOVERY, 10) == 720


@pytest.mark.parametrize("phase,last,now,due", [
    (Phase.BASELINE, 60, 100, 360),
    (Phase.INFUSION, 0, 100, 300),           # early infusion: every 5 min
    (Phase.INFUSION, 600, 700, 1200),        # 600 + 300 reaches 15 min: the 10-min interval
    (Phase.INFUSION, 599, 700, 899),
    (Phase.INFUSION, 840, 900, 1440),        # 14 min in: next at the 10-min interval
    (Phase.INFUSION, 300, 1000, 600),        # missed in the early part: overdue since 10 min
    (Phase.INFUSION, 1200, 1300, 1800),
    (Phase.INFUSION, -360, 0, -60),          # baseline NIBP 6 min before the start
    (Phase.INFUSION, None, 100, 300),        # none yet: counted from the phase start
    (Phase.RECOVERY, 2300, 2500, 3200),
])
def test_next_nibp_due(phase, last, now, due):
    phase_start = {Phase.BASELINE: -600.0, Phase.INFUSION: 0.0, Phase.RECOVERY: 2400.0}[phase]
    got = next_nibp_due(CYCLE, phase, T0 + phase_start,
                        None if last is None else T0 + last, T0 + now)
    assert got is not None
    assert got.due_at == T0 + due
    assert got.interval_s == nibp_interval_s(CYCLE, phase, now - phase_start)


def test_nibp_overdue_by_and_ended_session():
    due = next_nibp_due(CYCLE, Phase.RECOVERY, T0, T0, T0 + 1000)
    assert due == NibpDue(900.0, T0 + 900)
    assert due.overdue_by(T0 + 1000) == 100
    assert due.overdue_by(T0 + 800) == -100
    assert next_nibp_due(CYCLE, Phase.ENDED, T0, T0, T0 + 10) is None


def test_no_early_part_when_profile_sets_it_to_zero():
    cycle = NibpCycle(infusion_early_for_s=0.0)
    got = next_nibp_due(cycle, Phase.INFUSION, T0, T0 - 60, T0 + 10)
    assert got is not None and got.due_at == T0 + 540 and got.interval_s == 600


def test_due_time_agrees_with_the_nibp_overdue_alarm():
    """The reminder is due exactly when the technical alarm starts counting its grace."""
    profile = AlarmProfile("test", ())
    tech = TechnicalAlarms(profile, T0 - 600, stale_after=10.0)
    tech.on_phase(Phase.INFUSION, T0)
    for last in range(-400, 2400, 37):
        due = next_nibp_due(profile.nibp_cycle, Phase.INFUSION, T0, T0 + last, T0)
        assert due is not None
        first = next(t for t in range(max(0, last), 6000)
                     if t - last >= tech.cycle_s(T0 + t, Phase.INFUSION))
        assert max(due.due_at - T0, 0) == first, last


def test_a_shorter_later_interval_starts_counting_at_the_switch():
    """With a profile whose later interval is shorter, nothing is due before the switch."""
    cycle = NibpCycle(infusion_early_s=600, infusion_early_for_s=900, infusion_s=300)
    got = next_nibp_due(cycle, Phase.INFUSION, T0, T0 + 400, T0 + 500)
    assert got is not None and got.due_at == T0 + 900
