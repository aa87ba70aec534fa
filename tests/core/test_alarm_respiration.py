"""Issue 13: respiration and EtCO2 alarms, alarms a source cannot feed, no-BP-source reminder.

The default profile's RR / apnoea / EtCO2 rules with their delays, evaluated
only on readings that arrive; a value with the low-perfusion caveat alarmed
as a value; which vitals raise no alarm (the tiles' crossed bell); and a
session whose devices measure no NIBP.
"""

from __future__ import annotations

import pytest

from monitor.core.alarms.coverage import alarms_off
from monitor.core.alarms.engine import AlarmEngine
from monitor.core.alarms.model import (
    AlarmAction,
    AlarmTransition,
    Priority,
    SetVitalAlarms,
    TransitionState,
)
from monitor.core.alarms.profile_file import load_default_profile
from monitor.core.reading import Quality, make_reading
from monitor.core.session import Phase
from monitor.core.vitals import NIBP_VITALS, Vital

T0 = 2_000_000.0
OXIMETER = frozenset({Vital.SPO2, Vital.PULSE_RATE, Vital.PERF_INDEX})
MONITOR = frozenset({Vital.HR, Vital.PULSE_RATE, Vital.SPO2, Vital.RESP_RATE, Vital.ETCO2,
                     *NIBP_VITALS})


class Bench:
    """An engine on a virtual clock (seconds from T0), collecting what it says."""

    def __init__(self, measures: frozenset[Vital] | None = None,
                 phase: Phase = Phase.INFUSION) -> None:
        self.engine = AlarmEngine(load_default_profile(), started_at=T0, phase=phase,
                                  phase_started_at=T0, measures=measures)
        self.out: list = []

    def tick(self, s: float) -> None:
        self.out += self.engine.tick(T0 + s)

    def read(self, s: float, vital: Vital, value: float, quality: Quality = Quality.OK) -> None:
        self.tick(s)
        self.out += self.engine.on_reading(make_reading(vital, value, T0 + s, quality))

    def every_second(self, vital: Vital, value: float, start: int, stop: int) -> None:
        for s in range(start, stop):
            self.read(s, vital, value)

    def raised(self, alarm_id: str) -> list[tuple[Priority, str, float, str]]:
        return [(m.priority, m.state, round(m.t - T0, 3), m.message) for m in self.out
                if isinstance(m, AlarmTransition) and m.alarm_id == alarm_id
                and m.state in (TransitionState.RAISED, TransitionState.ESCALATED)]

    def ids(self) -> set[str]:
        return {m.alarm_id for m in self.out if isinstance(m, AlarmTransition)}


def test_rr_below_8_is_medium_after_15_s_and_no_breath_is_high_after_20_s():
    b = Bench(MONITOR)
    b.every_second(Vital.RESP_RATE, 14, 0, 10)
    b.every_second(Vital.RESP_RATE, 6, 10, 24)          # 14 s below 8: not yet
    assert b.raised("resp_rate.low") == []
    b.read(25, Vital.RESP_RATE, 6)
    assert b.raised("resp_rate.low") == [(Priority.MEDIUM, TransitionState.RAISED, 25.0,
                                          "RR 6 < 8")]
    b.every_second(Vital.RESP_RATE, 0, 26, 45)          # apnoea for 19 s
    assert len(b.raised("resp_rate.low")) == 1
    b.read(46, Vital.RESP_RATE, 0)
    assert b.raised("resp_rate.low")[-1] == (Priority.HIGH, TransitionState.ESCALATED, 46.0,
                                             "APNOEA: RR 0 for 20 s")


def test_an_apnoea_completes_its_delay_between_readings():
    b = Bench(MONITOR)
    b.every_second(Vital.RESP_RATE, 0, 0, 8)             # the monitor updates every 8 s
    b.read(8, Vital.RESP_RATE, 0)
    b.tick(15)
    b.read(16, Vital.RESP_RATE, 0)
    b.tick(20)
    assert [(p, round(t)) for p, _, t, _ in b.raised("resp_rate.low")] == [
        (Priority.MEDIUM, 15), (Priority.HIGH, 20)]


def test_etco2_high_medium_then_high_and_low_each_after_its_delay():
    b = Bench(MONITOR)
    b.every_second(Vital.ETCO2, 52, 0, 15)
    assert b.raised("etco2.high") == []
    b.every_second(Vital.ETCO2, 61, 15, 31)
    got = b.raised("etco2.high")
    assert [(p, t) for p, _, t, _ in got] == [(Priority.MEDIUM, 15.0), (Priority.HIGH, 30.0)]
    assert got[-1][3] == "EtCO2 61 ≥ 60"
    b.every_second(Vital.ETCO2, 20, 31, 61)
    assert b.raised("etco2.low") == []
    b.read(61, Vital.ETCO2, 20)
    assert b.raised("etco2.low") == [(Priority.MEDIUM, TransitionState.RAISED, 61.0,
                                      "EtCO2 20 < 25")]


def test_a_source_without_rr_or_etco2_never_raises_their_alarms():
    b = Bench(OXIMETER)
    for s in range(600):
        b.read(s, Vital.SPO2, 97)
        b.read(s, Vital.PULSE_RATE, 75)
    assert not {i for i in b.ids() if i.startswith(("resp_rate", "etco2"))}


def test_a_low_perfusion_value_is_alarmed_like_any_value():
    b = Bench(OXIMETER)
    for s in range(3):
        b.read(s, Vital.SPO2, 86, Quality.LOW_PERFUSION)
    assert b.raised("spo2.low")[0][:3] == (Priority.HIGH, TransitionState.RAISED, 0.0)


def test_no_bp_source_one_reminder_and_no_overdue_until_a_typed_nibp():
    b = Bench(OXIMETER, phase=Phase.BASELINE)
    for s in range(0, 3600, 5):
        b.read(s, Vital.SPO2, 97)
    reminders = b.raised("nibp.no_source")
    assert [(p, t) for p, _, t, _ in reminders] == [(Priority.LOW, 0.0)]
    assert "enter NIBP by hand" in reminders[0][3]
    assert "nibp.overdue" not in b.ids()
    for vital, value in ((Vital.NIBP_SYS, 128), (Vital.NIBP_DIA, 80)):   # the nurse types one
        b.out += b.engine.on_reading(make_reading(vital, value, T0 + 3600, Quality.MANUAL))
    b.tick(3600 + 300 + 119)
    assert "nibp.overdue" not in b.ids()
    b.tick(3600 + 300 + 121)          # the baseline cycle plus the grace: now it is overdue
    assert b.raised("nibp.overdue")[0][:2] == (Priority.LOW, TransitionState.RAISED)
    assert len(b.raised("nibp.no_source")) == 1


@pytest.mark.parametrize("measures", [None, MONITOR])
def test_a_source_with_nibp_keeps_the_overdue_alarm_and_no_reminder(measures):
    b = Bench(measures, phase=Phase.BASELINE)
    b.tick(300 + 121)
    assert b.raised("nibp.overdue")[0][:2] == (Priority.LOW, TransitionState.RAISED)
    assert "nibp.no_source" not in b.ids()


def test_alarms_that_can_never_fire_do_not_count_when_turning_alarms_off():
    b = Bench(OXIMETER)       # RR and EtCO2 are not measured: their rules cannot fire
    for vital in (Vital.SPO2, Vital.HR, Vital.NIBP_SYS):
        b.out += b.engine.command(SetVitalAlarms(vital, False, by="RN"), T0 + 1)
    b.out += b.engine.command(SetVitalAlarms(Vital.NIBP_DIA, False, by="RN"), T0 + 2)
    assert set(b.engine.snapshot().vitals_off) == {Vital.SPO2, Vital.HR, Vital.NIBP_SYS}
    assert any(isinstance(m, AlarmAction) and m.action == "refused"
               and "cannot all be off" in m.detail for m in b.out)


def test_which_vitals_raise_no_alarm():
    p = load_default_profile()
    for vital in (Vital.HR, Vital.SPO2, Vital.RESP_RATE, Vital.ETCO2, Vital.NIBP_SYS):
        assert not alarms_off(vital, p, (), MONITOR)
    assert alarms_off(Vital.TEMP, p, (), MONITOR)               # no rule for it
    assert alarms_off(Vital.SPO2, p, (Vital.SPO2,), MONITOR)    # turned off by the nurse
    assert alarms_off(Vital.PULSE_RATE, p, (), MONITOR)         # beside an ECG HR: none
    assert alarms_off(Vital.PULSE_RATE, p, (), None)
    assert not alarms_off(Vital.PULSE_RATE, p, (), OXIMETER)    # stands in for HR
    assert alarms_off(Vital.PULSE_RATE, p, (Vital.HR,), OXIMETER)


def test_a_resumed_session_counts_nibp_overdue_from_its_last_determination():
    engine = AlarmEngine(load_default_profile(), started_at=T0, phase=Phase.BASELINE,
                         phase_started_at=T0, measures=OXIMETER, last_nibp_t=T0 + 3000)
    out = engine.tick(T0 + 3000 + 300 + 119)      # typed 7 min ago: not yet overdue, and
    assert not [m for m in out if isinstance(m, AlarmTransition)]   # no "no source" reminder
    out = engine.tick(T0 + 3000 + 300 + 121)
    assert [m.alarm_id for m in out if isinstance(m, AlarmTransition)] == ["nibp.overdue"]
