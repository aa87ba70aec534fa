"""The start gate: each of its outcomes, the data it needs, and the overrides."""

import pytest

from monitor.core.baseline import BaselineTracker
from monitor.core.reading import Quality, Reading, make_reading
from monitor.core.vitals import Vital
from monitor.core.workflow.baseline_gate import (
    BaselineGate,
    GateStatus,
    Override,
    classify,
    override_problem,
)
from monitor.core.workflow.values import NibpDetermination

T0 = 1_700_000_000.0


def nibp(gate, t, sys, dia, mean=None, quality=Quality.OK):
    gate.add(make_reading(Vital.NIBP_SYS, sys, T0 + t, quality))
    gate.add(make_reading(Vital.NIBP_DIA, dia, T0 + t, quality))
    if mean is not None:
        gate.add(make_reading(Vital.NIBP_MEAN, mean, T0 + t, quality))


def continuous(gate, start, end, hr=72.0, spo2=98.0, hr_vital=Vital.HR, step=5):
    for t in range(start, end + 1, step):
        if hr is not None:
            gate.add(make_reading(hr_vital, hr, T0 + t))
        if spo2 is not None:
            gate.add(make_reading(Vital.SPO2, spo2, T0 + t))


def ready_gate(sys1=120, dia1=80, sys2=124, dia2=78, gap=300):
    g = BaselineGate()
    continuous(g, 0, 600)
    nibp(g, 60, sys1, dia1)
    nibp(g, 60 + gap, sys2, dia2)
    return g


def test_ready_with_two_determinations_five_minutes_apart_and_hr_spo2():
    g = ready_gate()
    r = g.evaluate(T0 + 600)
    assert r.status is GateStatus.READY
    assert r.may_start and r.missing == ()
    assert r.baseline.sys == 122.0 and r.baseline.dia == 79.0
    assert r.baseline.hr == 72.0 and r.baseline.spo2 == 98.0
    assert "122/79" in r.message


def test_nothing_yet_lists_everything_missing():
    r = BaselineGate().evaluate(T0)
    assert r.status is GateStatus.NOT_ENOUGH_DATA
    assert not r.may_start
    assert r.missing == ("NIBP: 0 of 2 determinations", "HR or pulse rate in the last 5 min",
                         "SpO2 in the last 5 min")
    assert r.baseline.sys is None and r.baseline.hr is None


def test_one_determination_is_not_enough():
    g = BaselineGate()
    continuous(g, 0, 300)
    nibp(g, 100, 120, 80)
    r = g.evaluate(T0 + 300)
    assert r.status is GateStatus.NOT_ENOUGH_DATA
    assert r.missing == ("NIBP: 1 of 2 determinations",)
    assert r.baseline.sys == 120.0   # the running estimate is still shown


@pytest.mark.parametrize("gap,ok", [(239.0, False), (240.0, True), (300.0, True)])
def test_determinations_must_be_at_least_four_minutes_apart(gap, ok):
    g = ready_gate(gap=gap)
    r = g.evaluate(T0 + 600)
    assert (r.status is GateStatus.READY) is ok
    if not ok:
        assert r.missing == (("NIBP: the last two determinations are 3 min 59 s apart; "
                              "take another at least 4 min after the last"),)


def test_the_last_two_determinations_count():
    g = ready_gate()            # at 60 s and 360 s
    nibp(g, 420, 130, 84)       # a quick re-check one minute later
    r = g.evaluate(T0 + 600)
    assert r.status is GateStatus.NOT_ENOUGH_DATA
    assert "are 1 min apart" in r.missing[0]
    assert [d.t - T0 for d in g.determinations] == [360.0, 420.0]
    assert r.baseline.sys == 127.0   # (124 + 130) / 2


def test_hr_and_spo2_must_be_recent():
    g = ready_gate()   # continuous data up to 600 s
    assert g.evaluate(T0 + 900).status is GateStatus.READY
    r = g.evaluate(T0 + 901)
    assert r.status is GateStatus.NOT_ENOUGH_DATA
    assert r.missing == ("HR or pulse rate in the last 5 min", "SpO2 in the last 5 min")


def test_pulse_rate_stands_in_for_hr():
    g = BaselineGate()
    continuous(g, 0, 600, hr=66.0, hr_vital=Vital.PULSE_RATE)
    nibp(g, 0, 118, 76)
    nibp(g, 300, 118, 76)
    r = g.evaluate(T0 + 600)
    assert r.status is GateStatus.READY
    assert r.baseline.hr == 66.0


def test_missing_spo2_alone_holds_the_gate():
    g = BaselineGate()
    continuous(g, 0, 600, spo2=None)
    nibp(g, 0, 118, 76)
    nibp(g, 300, 118, 76)
    assert g.evaluate(T0 + 600).missing == ("SpO2 in the last 5 min",)


def test_invalid_readings_do_not_count():
    g = BaselineGate()
    continuous(g, 0, 600)
    nibp(g, 0, 120, 80)
    g.add(Reading.invalid(Vital.NIBP_SYS, T0 + 300, Quality.ARTIFACT))
    g.add(Reading.invalid(Vital.NIBP_DIA, T0 + 300, Quality.ARTIFACT))
    nibp(g, 400, 400, 80)   # systolic out of range: make_reading marks it OUT_OF_RANGE
    assert len(g.determinations) == 1
    assert g.evaluate(T0 + 600).status is GateStatus.NOT_ENOUGH_DATA


def test_manual_determinations_count():
    g = BaselineGate()
    continuous(g, 0, 600)
    nibp(g, 0, 120, 80, quality=Quality.MANUAL)
    nibp(g, 300, 122, 82, quality=Quality.MANUAL)
    assert g.evaluate(T0 + 600).status is GateStatus.READY


def test_sys_dia_and_mean_in_any_order_make_one_determination():
    g = BaselineGate()
    g.add(make_reading(Vital.NIBP_MEAN, 93, T0 + 10.0))
    g.add(make_reading(Vital.NIBP_DIA, 80, T0 + 10.0002))
    g.add(make_reading(Vital.NIBP_SYS, 120, T0 + 10.0004))
    assert g.determinations == (NibpDetermination(T0 + 10.0, 120.0, 80.0, 93.0),)
    g.add(make_reading(Vital.NIBP_SYS, 130, T0 + 300))
    g.add(make_reading(Vital.NIBP_DIA, 84, T0 + 300))
    g.add(make_reading(Vital.NIBP_MEAN, 99, T0 + 300))   # the mean comes last
    assert g.determinations[-1] == NibpDetermination(T0 + 300, 130.0, 84.0, 99.0)
    assert len(g.determinations) == 2


def test_a_systolic_without_diastolic_is_no_determination():
    g = BaselineGate()
    g.add(make_reading(Vital.NIBP_SYS, 120, T0))
    g.add(make_reading(Vital.NIBP_DIA, 80, T0 + 300))
    assert g.determinations == ()


@pytest.mark.parametrize("sys,dia,status", [
    (140, 90, GateStatus.READY),              # at 140/90 is not above it
    (141, 80, GateStatus.OVERRIDE_NEEDED),
    (130, 91, GateStatus.OVERRIDE_NEEDED),
    (179, 109, GateStatus.OVERRIDE_NEEDED),
    (180, 90, GateStatus.BLOCKED),
    (150, 110, GateStatus.BLOCKED),
    (200, 120, GateStatus.BLOCKED),
])
def test_thresholds_on_the_mean_of_the_last_two(sys, dia, status):
    g = ready_gate(sys - 2, dia - 1, sys + 2, dia + 1)   # mean is exactly sys/dia
    r = g.evaluate(T0 + 600)
    assert r.status is status
    assert r.may_start is (status is GateStatus.READY)


def test_override_needed_accepts_a_reason():
    g = ready_gate(150, 92, 148, 94)
    r = g.evaluate(T0 + 600)
    assert r.status is GateStatus.OVERRIDE_NEEDED and not r.may_start
    assert "140/90" in r.message and "149/93" in r.message
    ov = Override("", "known hypertensive, usual BP", T0 + 610)
    ok = g.evaluate(T0 + 610, ov)
    assert ok.may_start and ok.override == ov and ok.override_problem == ""
    assert ok.status is GateStatus.OVERRIDE_NEEDED   # the judgement itself stands


def test_override_needed_refuses_an_empty_reason():
    g = ready_gate(150, 92, 148, 94)
    r = g.evaluate(T0 + 600, Override("Dr A", "  ", T0 + 600))
    assert not r.may_start and r.override is None
    assert r.override_problem == "the override must name the reason"


def test_blocked_needs_clinician_and_reason():
    g = ready_gate(184, 112, 186, 110)
    r = g.evaluate(T0 + 600)
    assert r.status is GateStatus.BLOCKED and not r.may_start
    assert "cannot start" in r.message and "185/111" in r.message
    no_name = g.evaluate(T0 + 600, Override("", "urgent", T0 + 600))
    assert not no_name.may_start
    assert no_name.override_problem == "the override must name the clinician"
    nothing = g.evaluate(T0 + 600, Override(" ", "", T0 + 600))
    assert nothing.override_problem == "the override must name the clinician and the reason"
    both = Override("Dr Okafor", "BP treated, recheck 170/100, benefit outweighs risk", T0 + 600)
    ok = g.evaluate(T0 + 600, both)
    assert ok.may_start and ok.override == both and ok.status is GateStatus.BLOCKED


def test_incomplete_baseline_cannot_be_overridden():
    g = BaselineGate()
    r = g.evaluate(T0, Override("Dr A", "cuff broken", T0))
    assert not r.may_start and r.status is GateStatus.NOT_ENOUGH_DATA
    assert "cannot be overridden" in override_problem(r.status, Override("Dr A", "x", T0))


def test_ready_needs_no_override():
    assert override_problem(GateStatus.READY, Override("A", "b", 0.0)) == "no override is needed"


def test_shared_tracker_is_not_fed_twice():
    tracker = BaselineTracker()
    g = BaselineGate(tracker)
    hr = make_reading(Vital.HR, 80, T0)
    tracker.add(hr)          # the owner (alarm engine) feeds it ...
    g.add(hr)                # ... and the gate only reads it
    tracker.add(make_reading(Vital.HR, 60, T0 + 1))
    assert g.baseline().hr == 70.0   # median of 80 and 60, not of 80, 80, 60


def test_hr_shown_is_the_median_of_the_last_five_minutes():
    g = BaselineGate()
    for i, v in enumerate([60, 61, 200, 62, 63]):
        g.add(make_reading(Vital.HR, v, T0 + i))
    assert g.baseline().hr == 62.0


@pytest.mark.parametrize("sys,dia,status", [(140, 90, GateStatus.READY),
                                            (140.5, 60, GateStatus.OVERRIDE_NEEDED),
                                            (100, 90.5, GateStatus.OVERRIDE_NEEDED),
                                            (179.9, 109.9, GateStatus.OVERRIDE_NEEDED),
                                            (180, 60, GateStatus.BLOCKED),
                                            (120, 110, GateStatus.BLOCKED)])
def test_classify(sys, dia, status):
    assert classify(sys, dia) is status
