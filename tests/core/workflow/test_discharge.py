"""Discharge readiness turns green exactly when every criterion holds."""

import pytest

from monitor.core.workflow.discharge import (
    ChecklistItem,
    Criterion,
    DischargeReadiness,
)
from monitor.core.workflow.values import BaselineValues, NibpDetermination

T0 = 1_700_000_000.0
STOP = T0 + 2400.0
BASE = BaselineValues(sys=120.0, dia=80.0, hr=70.0, spo2=98.0)
ALL_TICKED = tuple(i.value for i in ChecklistItem)


def nibp(t, sys=122.0, dia=78.0):
    return NibpDetermination(STOP + t, sys, dia)


def good(**kw):
    args = {"now": STOP + 1200, "infusion_stopped_at": STOP, "baseline": BASE,
            "last_nibp": [nibp(-600, 150, 95), nibp(300), nibp(1150)], "hr": 74.0,
            "spo2": 97.0, "active_alarms": 0, "checklist": ALL_TICKED}
    args.update(kw)
    return args


def test_green_when_everything_holds():
    r = DischargeReadiness().evaluate(**good())
    assert r.ready and r.unmet == ()
    assert [c.criterion for c in r.criteria] == list(Criterion)
    assert r.time_since_infusion_end == 1200
    assert r.result(Criterion.RECOVERY_TIME).reason == \
        "20 min since the infusion ended (needs 20 min)"
    assert r.result(Criterion.NIBP_SYS).reason == \
        "NIBP sys 122, 122 vs baseline 120 (±20 %: 96-144)"


def test_not_green_one_second_before_twenty_minutes():
    r = DischargeReadiness().evaluate(**good(now=STOP + 1199))
    assert not r.ready
    assert [c.criterion for c in r.unmet] == [Criterion.RECOVERY_TIME]


def test_infusion_not_ended():
    r = DischargeReadiness().evaluate(**good(infusion_stopped_at=None))
    assert not r.ready and r.time_since_infusion_end is None
    assert r.result(Criterion.RECOVERY_TIME).reason == "the infusion has not ended"


@pytest.mark.parametrize("field,value,criterion", [
    ("hr", 84.0, None), ("hr", 56.0, None),                  # ±20 % inclusive
    ("hr", 84.1, Criterion.HR), ("hr", 55.9, Criterion.HR), ("hr", None, Criterion.HR),
    ("spo2", 94.0, None), ("spo2", 93.9, Criterion.SPO2), ("spo2", None, Criterion.SPO2),
    ("spo2", float("nan"), Criterion.SPO2),
    ("active_alarms", 1, Criterion.NO_ALARMS),
])
def test_each_current_value_criterion(field, value, criterion):
    r = DischargeReadiness().evaluate(**good(**{field: value}))
    assert r.ready is (criterion is None)
    assert [c.criterion for c in r.unmet] == ([] if criterion is None else [criterion])


@pytest.mark.parametrize("older,newer,unmet", [
    ((144, 96), (96, 64), []),                                   # on the edges
    ((145, 80), (120, 80), [Criterion.NIBP_SYS]),                # the older one counts too
    ((120, 80), (95, 80), [Criterion.NIBP_SYS]),                 # low is off baseline too
    ((120, 97), (120, 80), [Criterion.NIBP_DIA]),
    ((150, 100), (120, 63), [Criterion.NIBP_SYS, Criterion.NIBP_DIA]),
])
def test_last_two_determinations_within_margin(older, newer, unmet):
    dets = [nibp(-900, 170, 105), nibp(600, *older), nibp(1100, *newer)]
    r = DischargeReadiness().evaluate(**good(last_nibp=dets))
    assert [c.criterion for c in r.unmet] == unmet


def test_needs_two_determinations():
    r = DischargeReadiness().evaluate(**good(last_nibp=[nibp(600)]))
    assert [c.criterion for c in r.unmet] == [Criterion.NIBP_SYS, Criterion.NIBP_DIA]
    assert r.result(Criterion.NIBP_SYS).reason == "NIBP sys: needs 2 determinations"


def test_latest_determination_must_follow_the_end_of_the_infusion():
    dets = [nibp(-600), nibp(-10)]
    r = DischargeReadiness().evaluate(**good(last_nibp=dets))
    assert [c.criterion for c in r.unmet] == [Criterion.NIBP_SYS, Criterion.NIBP_DIA]
    assert r.result(Criterion.NIBP_DIA).reason == "no NIBP dia since the infusion ended"
    ok = DischargeReadiness().evaluate(**good(last_nibp=[nibp(-10), nibp(600)]))
    assert ok.ready


def test_no_baseline_is_unmet():
    r = DischargeReadiness().evaluate(**good(baseline=BaselineValues(spo2=98.0)))
    assert {c.criterion for c in r.unmet} == {Criterion.NIBP_SYS, Criterion.NIBP_DIA,
                                              Criterion.HR}
    assert r.result(Criterion.HR).reason == "no baseline HR"


@pytest.mark.parametrize("missing", list(ChecklistItem))
def test_each_checklist_item_must_be_ticked(missing):
    ticked = [i for i in ALL_TICKED if i != missing.value]
    r = DischargeReadiness().evaluate(**good(checklist=ticked))
    assert [c.criterion for c in r.unmet] == [Criterion(missing.value)]
    assert r.result(Criterion(missing.value)).reason == f"{missing.label} (not ticked)"


def test_checklist_accepts_enum_members_and_ignores_unknown_ticks():
    r = DischargeReadiness().evaluate(**good(checklist=[*ChecklistItem, "pain_free"]))
    assert r.ready


def test_margin_and_limits_are_configurable():
    strict = DischargeReadiness(margin=0.10, min_recovery_s=1800, min_spo2=95)
    r = strict.evaluate(**good(hr=78.0, spo2=94.5))
    assert {c.criterion for c in r.unmet} == {Criterion.RECOVERY_TIME, Criterion.HR,
                                              Criterion.SPO2}
    assert "±10 %" in r.result(Criterion.HR).reason


@pytest.mark.parametrize("kw", [{"margin": 0}, {"margin": 1.5}, {"min_recovery_s": -1},
                                {"min_spo2": 101}])
def test_bad_configuration_is_refused(kw):
    with pytest.raises(ValueError):
        DischargeReadiness(**kw)


def test_turns_green_exactly_when_the_last_condition_is_met():
    """A recovery stepped minute by minute: green from the first minute all hold, never before."""
    checker = DischargeReadiness()
    dets: list[NibpDetermination] = [nibp(-300, 158, 98)]
    greens = []
    for minute in range(41):
        now = STOP + minute * 60
        if minute in (10, 25):
            dets.append(nibp(minute * 60, 150 if minute == 10 else 130, 85))
        if minute == 28:
            dets.append(nibp(minute * 60, 128, 82))
        hr = 95.0 if minute < 22 else 76.0
        ticks = ALL_TICKED if minute >= 30 else ALL_TICKED[:2]
        r = checker.evaluate(now, STOP, BASE, dets, hr, 97.0, 0, ticks)
        greens.append(r.ready)
    assert greens.index(True) == 30 and all(greens[30:])
