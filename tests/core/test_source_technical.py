"""Technical alarms of one device of several (issue 16): "NO DATA from Masimo" while the
monitor goes on, escalation only when the whole chair is silent."""

from __future__ import annotations

from monitor.core.alarms.engine import AlarmEngine
from monitor.core.alarms.model import AlarmTransition, Priority, TransitionState
from monitor.core.alarms.profile_file import load_default_profile
from monitor.core.events import Condition, Technical
from monitor.core.reading import make_reading
from monitor.core.session import Phase
from monitor.core.vitals import Vital

T0 = 1_000_000.0
R, E, C = TransitionState.RAISED, TransitionState.ESCALATED, TransitionState.CLEARED
SOURCES = ("Masimo", "Datex S/5")


class Chair:
    """An engine of a chair with two devices, on a virtual session clock."""

    def __init__(self, phase: Phase = Phase.INFUSION) -> None:
        self.engine = AlarmEngine(load_default_profile(), started_at=T0, phase=phase,
                                  phase_started_at=T0, sources=SOURCES)
        self.out: list = []

    def tick(self, s: float) -> None:
        self.out += self.engine.tick(T0 + s)

    def read(self, s: float, vital: Vital, value: float, source: str) -> None:
        self.tick(s)
        self.out += self.engine.on_reading(make_reading(vital, value, T0 + s, source=source))

    def tech(self, s: float, cond: Condition, active: bool, source: str,
             message: str = "") -> None:
        self.tick(s)
        self.out += self.engine.on_technical(Technical(cond, active, T0 + s, message,
                                                       source=source))

    def transitions(self, alarm_id: str) -> list[tuple[Priority, str, float]]:
        return [(m.priority, m.state, round(m.t - T0, 3)) for m in self.out
                if isinstance(m, AlarmTransition) and m.alarm_id == alarm_id]

    def message(self, alarm_id: str) -> str:
        return next(m.message for m in reversed(self.out)
                    if isinstance(m, AlarmTransition) and m.alarm_id == alarm_id)


def test_one_silent_device_has_its_own_alarm_and_the_other_goes_on_alarming():
    chair = Chair()
    for s in range(40):
        chair.read(s, Vital.SPO2, 86.0, "Datex S/5")     # the monitor shows a desaturation
    assert chair.transitions("spo2.low")[0][1] is R
    chair.tech(20, Condition.NO_DATA, True, "Masimo")
    assert chair.transitions("source.no_data@Masimo") == [(Priority.MEDIUM, R, 20.0)]
    assert chair.message("source.no_data@Masimo") == "NO DATA from Masimo"
    # The desaturation seen by the monitor is not suppressed by the oximeter's silence.
    assert all(state is not C for _, state, _ in chair.transitions("spo2.low"))
    assert not chair.transitions("source.no_data")        # the chair's own alarm: not raised


def test_one_silent_device_stays_medium_while_another_delivers():
    chair = Chair()
    chair.tech(10, Condition.NO_DATA, True, "Masimo")
    for s in range(10, 200):
        chair.read(s, Vital.HR, 80.0, "Datex S/5")
    assert chair.transitions("source.no_data@Masimo") == [(Priority.MEDIUM, R, 10.0)]
    chair.tech(200, Condition.NO_DATA, False, "Masimo")
    assert chair.transitions("source.no_data@Masimo")[-1] == (Priority.MEDIUM, C, 200.0)


def test_the_whole_chair_silent_escalates_every_device_and_suppresses_the_values():
    chair = Chair()
    for s in range(12):
        chair.read(s, Vital.SPO2, 86.0, "Masimo")
    assert chair.transitions("spo2.low")[0][1] is R
    chair.tech(15, Condition.NO_DATA, True, "Masimo")      # silent since 5 (stale 10)
    chair.tech(30, Condition.NO_DATA, True, "Datex S/5")   # silent since 20: the chair too
    # No value of any device is valid: the physiological alarm is not kept up on nothing.
    assert chair.transitions("spo2.low")[-1][1] is C
    chair.tick(79.9)
    assert all(p is Priority.MEDIUM for p, _, _ in chair.transitions("source.no_data@Masimo"))
    chair.tick(80)                            # a minute since the last device fell silent
    for source in SOURCES:
        assert chair.transitions(f"source.no_data@{source}")[-1] == (Priority.HIGH, E, 80.0)
    assert "no source delivers data" in chair.message("source.no_data@Masimo")
    # The monitor comes back: its alarm clears; the oximeter's stays high until it does.
    chair.tech(90, Condition.NO_DATA, False, "Datex S/5")
    assert chair.transitions("source.no_data@Datex S/5")[-1] == (Priority.HIGH, C, 90.0)
    assert chair.transitions("source.no_data@Masimo")[-1][1] is E


def test_the_chair_silent_outside_the_infusion_stays_medium():
    chair = Chair(phase=Phase.BASELINE)
    chair.tech(10, Condition.NO_DATA, True, "Masimo")
    chair.tech(10, Condition.NO_DATA, True, "Datex S/5")
    chair.tick(300)
    for source in SOURCES:
        assert chair.transitions(f"source.no_data@{source}") == [(Priority.MEDIUM, R, 10.0)]


def test_a_lost_link_names_its_device_and_why():
    chair = Chair()
    chair.tech(5, Condition.PORT_LOST, True, "Datex S/5", "/dev/ttyUSB1: device unplugged")
    assert chair.transitions("source.port_lost@Datex S/5") == [(Priority.MEDIUM, R, 5.0)]
    assert chair.message("source.port_lost@Datex S/5") == (
        "Datex S/5 link lost: /dev/ttyUSB1: device unplugged")
    assert not chair.transitions("source.port_lost")
