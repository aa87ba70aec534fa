"""The alarm engine: delays, confirmation, SatSeconds, suppression, latching, pause, off."""

from __future__ import annotations

import tracemalloc

import pytest

from monitor.core.alarms.engine import AlarmEngine, LoadProfile
from monitor.core.alarms.model import (
    Acknowledge,
    AlarmAction,
    AlarmKind,
    AlarmReminder,
    AlarmTransition,
    AudioOutput,
    ChangeLimit,
    LimitChanged,
    PauseAudio,
    Priority,
    ResumeAudio,
    SetVitalAlarms,
    TransitionState,
)
from monitor.core.alarms.profile import Op, Rule
from monitor.core.alarms.profile_file import load_default_profile
from monitor.core.alarms.rules import RuleState
from monitor.core.events import Condition, RecordingStatus, Technical
from monitor.core.reading import Quality, make_reading
from monitor.core.session import Phase
from monitor.core.vitals import Vital

T0 = 1_000_000.0
R, E, A, C = (TransitionState.RAISED, TransitionState.ESCALATED, TransitionState.ACKNOWLEDGED,
              TransitionState.CLEARED)


class Bench:
    """An engine fed on a virtual session clock, collecting everything it says."""

    def __init__(self, phase: Phase = Phase.INFUSION, profile=None) -> None:
        self.engine = AlarmEngine(profile or load_default_profile(), started_at=T0,
                                  phase=phase, phase_started_at=T0)
        self.out: list = []
        self.t = T0

    def at(self, s: float) -> float:
        return T0 + s

    def read(self, s: float, vital: Vital, value, quality: Quality = Quality.OK) -> None:
        self.tick(s)
        self.out += self.engine.on_reading(make_reading(vital, value, self.at(s), quality))

    def series(self, vital: Vital, values, start: float, step: float = 1.0) -> None:
        for i, v in enumerate(values):
            self.read(start + i * step, vital, v)

    def tick(self, s: float) -> None:
        self.out += self.engine.tick(self.at(s))

    def tech(self, s: float, cond: Condition, active: bool, vital: Vital | None = None) -> None:
        self.tick(s)
        self.out += self.engine.on_technical(Technical(cond, active, self.at(s), "x", vital))

    def cmd(self, s: float, command) -> None:
        self.tick(s)
        self.out += self.engine.command(command, self.at(s))

    def transitions(self, alarm_id: str | None = None) -> list[tuple[str, Priority, str, float]]:
        return [(m.alarm_id, m.priority, m.state, round(m.t - T0, 3)) for m in self.out
                if isinstance(m, AlarmTransition) and (alarm_id is None or m.alarm_id == alarm_id)]

    def shown(self):
        return self.engine.snapshot().alarms


# -- physiological: delays and priorities ---------------------------------


def test_spo2_medium_after_its_10_s_delay_then_high_at_once():
    b = Bench()
    b.series(Vital.SPO2, [97] * 5, 0)
    b.series(Vital.SPO2, [91] * 12, 5)          # below 92 from t=5
    assert b.transitions() == [("spo2.low", Priority.MEDIUM, R, 15.0)]
    b.read(17, Vital.SPO2, 88)                  # <= 88: no delay
    assert b.transitions()[-1] == ("spo2.low", Priority.HIGH, E, 17.0)
    m = [x for x in b.out if isinstance(x, AlarmTransition)][0]
    assert m.message == "SpO2 91 < 92" and m.value == 91 and m.limit == 92
    assert m.kind is AlarmKind.PHYSIOLOGICAL and m.vital is Vital.SPO2


def test_a_short_dip_under_the_delay_raises_nothing():
    b = Bench()
    b.series(Vital.SPO2, [91] * 9 + [95] + [91] * 9, 0)
    assert b.transitions() == []


def test_the_delay_completes_on_a_clock_tick_between_readings():
    b = Bench()
    b.read(0, Vital.HR, 115)
    b.tick(5.9)
    assert b.transitions() == []
    b.tick(6.0)
    assert b.transitions() == [("hr.high", Priority.MEDIUM, R, 6.0)]


def test_hr_high_sustained_five_minutes_is_high():
    b = Bench()
    b.series(Vital.HR, [125] * 301, 0)
    assert b.transitions() == [("hr.high", Priority.MEDIUM, R, 6.0),
                               ("hr.high", Priority.HIGH, E, 300.0)]


def test_clears_when_back_in_range_and_logs_the_worst_value():
    b = Bench()
    b.series(Vital.HR, [112, 118, 116, 115, 114, 113, 112, 111], 0)
    b.read(8, Vital.HR, 90)
    cleared = [m for m in b.out if isinstance(m, AlarmTransition) and m.state is C]
    assert len(cleared) == 1 and cleared[0].value == 118 and cleared[0].t == b.at(8)


# -- NIBP: each determination, confirmation --------------------------------


def test_systolic_high_needs_two_determinations_within_five_minutes():
    b = Bench()
    b.read(0, Vital.NIBP_SYS, 185)
    assert b.transitions() == [("nibp_sys.high", Priority.MEDIUM, R, 0.0)]
    b.read(300, Vital.NIBP_SYS, 182)            # the second qualifying one, 5 min later
    assert b.transitions()[-1] == ("nibp_sys.high", Priority.HIGH, E, 300.0)


def test_two_qualifying_determinations_too_far_apart_stay_medium():
    b = Bench()
    b.read(0, Vital.NIBP_SYS, 185)
    b.read(301, Vital.NIBP_SYS, 185)
    assert [x[1] for x in b.transitions()] == [Priority.MEDIUM]


def test_systolic_200_once_is_high_at_once_and_low_80_is_high():
    b = Bench()
    b.read(0, Vital.NIBP_SYS, 201)
    assert b.transitions() == [("nibp_sys.high", Priority.HIGH, R, 0.0)]
    b.read(600, Vital.NIBP_SYS, 78)
    assert ("nibp_sys.low", Priority.HIGH, R, 600.0) in b.transitions()
    assert ("nibp_sys.high", Priority.HIGH, C, 600.0) in b.transitions()


def test_a_failed_determination_does_not_clear_an_nibp_alarm():
    b = Bench()
    b.read(0, Vital.NIBP_DIA, 105)
    b.read(300, Vital.NIBP_DIA, None, Quality.NO_VALUE)
    assert b.transitions() == [("nibp_dia.high", Priority.MEDIUM, R, 0.0)]


# -- SatSeconds -------------------------------------------------------------


def _sat_rule(op: Op, limit: float, setting: float) -> Rule:
    return Rule("s", "spo2.low", Vital.SPO2, Priority.MEDIUM, op, limit, satseconds=setting)


def test_satseconds_ge_worked_example():
    # GE CARESCAPE One: limit 90, values 92 89 87 87 80 -> 0 2 6 10 21; setting 20 -> 4 s.
    state = RuleState(_sat_rule(Op.LE, 90, 20))
    totals, met = [], []
    for i, v in enumerate([92, 89, 87, 87, 80]):
        met.append(state.feed(T0 + i, v, None))
        totals.append(state.sat_total)
    assert totals == [0, 2, 6, 10, 21]
    assert met == [False, False, False, False, True]


def test_satseconds_mindray_worked_example():
    # Mindray: setting 50, limit 90: 2 points x 2 s + 4 x 3 s + 6 x 6 s = 52, alarm near 10.9 s.
    state = RuleState(_sat_rule(Op.LT, 90, 50))
    values = [88] * 2 + [86] * 3 + [84] * 6
    met_at = next(i for i, v in enumerate(values) if state.feed(T0 + i, v, None))
    assert met_at == 10 and state.sat_total == 52


def test_satseconds_three_violations_within_a_minute_alarm_regardless():
    state = RuleState(_sat_rule(Op.LT, 90, 100), window_s=60, violations=3)
    met = []
    for t, v in [(0, 89), (1, 95), (20, 89), (21, 95), (40, 89)]:
        met.append(state.feed(T0 + t, v, None))
    assert met == [False, False, False, False, True]
    assert state.sat_total < 100


def test_satseconds_counts_back_down_in_range():
    state = RuleState(_sat_rule(Op.LT, 90, 100))
    for t in range(5):
        state.feed(T0 + t, 85, None)            # 5 points x 5 s
    assert state.sat_total == 25
    state.feed(T0 + 5, 92, None)                # 2 points inside for 1 s
    assert state.sat_total == 23 and not state.met


def test_satseconds_in_the_engine_replaces_the_delay():
    profile = load_default_profile().with_change("spo2.low.medium", "satseconds", 25)
    b = Bench(profile=profile)
    b.series(Vital.SPO2, [89] * 10, 0)          # 3 points a second: 25 reached at the 9th
    assert b.transitions() == [("spo2.low", Priority.MEDIUM, R, 8.0)]


# -- technical conditions suppress what they invalidate -------------------------


def test_a_probe_off_is_not_a_desaturation():
    b = Bench()
    b.series(Vital.SPO2, [97] * 5, 0)
    b.tech(5, Condition.SENSOR_PROBLEM, True)
    b.series(Vital.SPO2, [70] * 20, 6)          # junk values while the device says probe off
    assert [x[0] for x in b.transitions()] == ["sensor.problem"]
    assert b.transitions()[0][1] is Priority.MEDIUM


def test_invalid_readings_reset_the_delay():
    b = Bench()
    b.series(Vital.SPO2, [90] * 8, 0)
    b.read(8, Vital.SPO2, None, Quality.SENSOR_OFF)
    b.series(Vital.SPO2, [90] * 8, 9)
    assert b.transitions() == []


def test_no_data_clears_physiological_alarms_and_escalates_in_infusion():
    b = Bench(phase=Phase.INFUSION)
    b.series(Vital.SPO2, [91] * 12, 0)
    b.tech(21, Condition.NO_DATA, True)         # silent since t=11 (stale_after 10)
    assert ("spo2.low", Priority.MEDIUM, C, 21.0) in b.transitions()
    assert ("source.no_data", Priority.MEDIUM, R, 21.0) in b.transitions()
    b.tick(70.9)
    assert b.transitions("source.no_data")[-1][2] is R
    b.tick(71)                                  # 60 s after the data stopped
    assert b.transitions("source.no_data")[-1] == ("source.no_data", Priority.HIGH, E, 71.0)
    b.tech(80, Condition.NO_DATA, False)
    assert b.transitions("source.no_data")[-1] == ("source.no_data", Priority.HIGH, C, 80.0)


def test_no_data_stays_medium_outside_the_infusion():
    b = Bench(phase=Phase.BASELINE)
    b.tech(10, Condition.NO_DATA, True)
    b.tick(200)
    assert b.transitions() == [("source.no_data", Priority.MEDIUM, R, 10.0)]


def test_stale_vital_is_a_medium_technical_alarm():
    b = Bench()
    b.tech(10, Condition.STALE, True, Vital.SPO2)
    b.tech(15, Condition.STALE, False, Vital.SPO2)
    assert b.transitions() == [("spo2.stale", Priority.MEDIUM, R, 10.0),
                               ("spo2.stale", Priority.MEDIUM, C, 15.0)]


@pytest.mark.parametrize("cond, alarm_id", [(Condition.UNDECODABLE, "source.undecodable"),
                                            (Condition.PORT_LOST, "source.port_lost")])
def test_link_conditions_are_medium(cond, alarm_id):
    b = Bench()
    b.tech(1, cond, True)
    assert b.transitions() == [(alarm_id, Priority.MEDIUM, R, 1.0)]


def test_nibp_overdue_low_then_medium_and_cleared_by_a_determination():
    b = Bench(phase=Phase.RECOVERY)            # 15-min cycle + 2 min grace
    b.read(0, Vital.NIBP_SYS, 130)
    b.tick(1019)
    assert b.transitions() == []
    b.tick(1020)
    assert b.transitions() == [("nibp.overdue", Priority.LOW, R, 1020.0)]
    b.tick(1320)
    assert b.transitions()[-1] == ("nibp.overdue", Priority.MEDIUM, E, 1320.0)
    b.read(1330, Vital.NIBP_SYS, 128)
    assert b.transitions()[-1] == ("nibp.overdue", Priority.MEDIUM, C, 1330.0)


def test_nibp_cycle_follows_the_infusion_phase():
    b = Bench(phase=Phase.INFUSION)            # every 5 min for the first 15 min
    b.read(0, Vital.NIBP_SYS, 130)
    b.tick(420)
    assert b.transitions() == [("nibp.overdue", Priority.LOW, R, 420.0)]


def test_recording_failure_latches_until_acknowledged():
    b = Bench()
    b.out += b.engine.on_recording(RecordingStatus(False, b.at(1), "disk full"))
    b.out += b.engine.on_recording(RecordingStatus(True, b.at(5), "recording resumed"))
    assert b.transitions() == [("recording.failed", Priority.MEDIUM, R, 1.0),
                               ("recording.failed", Priority.MEDIUM, C, 5.0)]
    b.tick(60)
    entry = b.shown()[0]
    assert entry.alarm_id == "recording.failed" and not entry.active and entry.latched
    b.cmd(61, Acknowledge(by="AB"))
    b.tick(62)
    assert b.shown() == ()


def test_no_audio_output_latches_and_flags_the_snapshot():
    b = Bench()
    b.cmd(1, AudioOutput(False, "no audio device"))
    snap = b.engine.snapshot()
    assert not snap.audio_ok
    assert b.transitions() == [("audio.unavailable", Priority.MEDIUM, R, 1.0)]
    assert snap.alarms[0].latched


def test_queue_overflow_is_one_low_alarm_until_acknowledged():
    b = Bench()
    for s in range(100):
        b.tech(s, Condition.QUEUE_OVERFLOW, True)
    assert b.transitions() == [("data.lost", Priority.LOW, R, 0.0),
                               ("data.lost", Priority.LOW, C, 0.0)]
    assert len(b.shown()) == 1


# -- latching, minimum display, acknowledge ------------------------------------


def test_high_latches_until_acknowledged_and_says_when_it_cleared():
    b = Bench()
    b.read(0, Vital.SPO2, 86)
    b.read(1, Vital.SPO2, 97)
    b.tick(100)
    (entry,) = b.shown()
    assert entry.priority is Priority.HIGH and not entry.active and entry.latched
    assert entry.cleared_at == b.at(1) and entry.signalling
    assert b.engine.snapshot().sounding is Priority.HIGH
    b.cmd(101, Acknowledge(by="RN"))
    b.tick(102)
    assert b.shown() == ()
    ack = [m for m in b.out if isinstance(m, AlarmTransition) and m.state is A]
    assert ack[0].by == "RN" and ack[0].value == 86


def test_an_ended_session_releases_its_latches_and_its_audio_pause():
    """Issue 11 §9: latched alarms kept flashing after the source ended, with no way to
    acknowledge them (nothing is monitored any more); the record says which were not."""
    b = Bench()
    b.read(0, Vital.SPO2, 86)
    b.read(1, Vital.SPO2, 97)          # spo2.low cleared, latched and sounding
    b.read(2, Vital.HR, 135)
    b.tick(10)                          # hr.high active
    b.cmd(11, PauseAudio(by="RN"))
    assert {e.alarm_id for e in b.shown()} == {"spo2.low", "hr.high"}
    b.out += b.engine.on_phase(Phase.ENDED, b.at(12))
    snap = b.engine.snapshot()
    assert snap.alarms == () and snap.sounding is None and snap.audio_paused_until is None
    [released] = [m for m in b.out if isinstance(m, AlarmAction) and m.action == "released"]
    assert released.t == b.at(12) and released.by == "system"
    assert "spo2.low" in released.detail and "hr.high" in released.detail
    assert "not acknowledged" in released.detail
    cleared = [m.alarm_id for m in b.out if isinstance(m, AlarmTransition) and m.state is C]
    assert cleared.count("hr.high") == 1    # the active one ends once, in the log


def test_non_latching_alarm_stays_visible_at_least_five_seconds():
    b = Bench()
    b.series(Vital.HR, [115] * 7, 0)            # raised at 6
    b.read(7, Vital.HR, 80)                     # cleared at 7
    b.tick(10.9)
    assert [e.alarm_id for e in b.shown()] == ["hr.high"]
    assert not b.shown()[0].signalling
    b.tick(11)
    assert b.shown() == ()


def test_acknowledged_alarm_stops_signalling_and_escalation_signals_again():
    b = Bench()
    b.series(Vital.SPO2, [91] * 11, 0)
    b.cmd(11, Acknowledge(by="RN"))
    snap = b.engine.snapshot()
    assert snap.alarms[0].acknowledged and snap.sounding is None and snap.highest is Priority.MEDIUM
    b.read(12, Vital.SPO2, 87)
    snap = b.engine.snapshot()
    assert not snap.alarms[0].acknowledged and snap.sounding is Priority.HIGH


# -- audio pause -----------------------------------------------------------------


def test_audio_pause_silences_for_two_minutes_and_ends_by_itself():
    b = Bench()
    b.series(Vital.SPO2, [91] * 11, 0)
    b.cmd(11, PauseAudio(by="RN"))
    snap = b.engine.snapshot()
    assert snap.audio_paused_until == b.at(131) and snap.sounding is None
    assert snap.alarms[0].signalling            # still flashing: only the sound is paused
    b.tick(131)
    assert b.engine.snapshot().sounding is Priority.MEDIUM
    actions = [m.action for m in b.out if isinstance(m, AlarmAction)]
    assert actions == ["audio_pause", "audio_pause_ended"]


def test_new_high_breaks_through_the_pause_but_a_new_medium_does_not():
    b = Bench()
    b.cmd(0, PauseAudio(minutes=3, by="RN"))
    assert b.engine.audio_paused_until == b.at(180)
    b.series(Vital.HR, [115] * 7, 1)            # new medium: still paused
    assert b.engine.audio_paused_until == b.at(180)
    b.read(10, Vital.SPO2, 85)                  # new high
    assert b.engine.audio_paused_until is None
    assert b.engine.snapshot().sounding is Priority.HIGH
    assert "breakthrough" in [m.action for m in b.out if isinstance(m, AlarmAction)]


def test_pause_lengths_are_the_offered_ones_and_resume_ends_it():
    b = Bench()
    b.cmd(0, PauseAudio(minutes=60, by="RN"))
    assert b.engine.audio_paused_until == b.at(180)
    b.cmd(5, ResumeAudio(by="RN"))
    assert b.engine.audio_paused_until is None


# -- one vital's alarms off --------------------------------------------------


def test_vital_alarms_off_with_reminders_and_back_on():
    b = Bench()
    b.series(Vital.SPO2, [91] * 11, 0)
    b.cmd(11, SetVitalAlarms(Vital.SPO2, False, by="RN", reason="probe on ear, known low"))
    assert b.shown() == () and b.engine.snapshot().vitals_off == (Vital.SPO2,)
    b.series(Vital.SPO2, [85] * 30, 12)
    assert [x for x in b.transitions() if x[2] is R] == [("spo2.low", Priority.MEDIUM, R, 10.0)]
    b.tick(11 + 300)
    b.tick(11 + 600)
    reminders = [m for m in b.out if isinstance(m, AlarmReminder)]
    assert [round(m.t - T0) for m in reminders] == [311, 611]
    b.cmd(700, SetVitalAlarms(Vital.SPO2, True, by="RN"))
    b.read(701, Vital.SPO2, 85)
    assert b.transitions()[-1] == ("spo2.low", Priority.HIGH, R, 701.0)


def test_alarms_cannot_all_be_turned_off_and_off_needs_initials():
    b = Bench()
    b.cmd(0, SetVitalAlarms(Vital.SPO2, False, by=""))
    assert b.engine.snapshot().vitals_off == ()
    for vital in (Vital.SPO2, Vital.HR, Vital.NIBP_SYS, Vital.RESP_RATE, Vital.ETCO2):
        b.cmd(1, SetVitalAlarms(vital, False, by="RN"))
    b.cmd(2, SetVitalAlarms(Vital.NIBP_DIA, False, by="RN"))
    assert Vital.NIBP_DIA not in b.engine.snapshot().vitals_off
    refused = [m.detail for m in b.out if isinstance(m, AlarmAction) and m.action == "refused"]
    assert any("initials" in d for d in refused) and any("cannot all be off" in d for d in refused)


# -- baseline-relative advisories --------------------------------------------


def test_baseline_rise_advisory_is_low_and_starts_with_the_infusion():
    b = Bench(phase=Phase.BASELINE)
    b.read(60, Vital.NIBP_SYS, 120)
    b.read(360, Vital.NIBP_SYS, 124)            # baseline 122
    b.out += b.engine.on_phase(Phase.INFUSION, b.at(600))
    b.read(900, Vital.NIBP_SYS, 158)            # +36 mmHg = +29.5 %: not yet
    b.read(1200, Vital.NIBP_SYS, 159)           # +37 = 30.3 %: the % rule
    rises = b.transitions("nibp_sys.rise")
    assert rises == [("nibp_sys.rise", Priority.LOW, R, 1200.0)]
    msg = [m for m in b.out if isinstance(m, AlarmTransition) and m.alarm_id == "nibp_sys.rise"]
    assert "baseline 122" in msg[0].message


def test_no_baseline_advisory_during_the_baseline_phase():
    b = Bench(phase=Phase.BASELINE)
    b.series(Vital.HR, [70] * 60, 0)
    b.series(Vital.HR, [100] * 60, 60)          # +43 % but the baseline is still being taken
    assert b.transitions("hr.rise") == []


def test_spo2_fall_from_baseline():
    b = Bench(phase=Phase.BASELINE)
    b.series(Vital.SPO2, [98] * 60, 0)
    b.out += b.engine.on_phase(Phase.INFUSION, b.at(60))
    b.series(Vital.SPO2, [94] * 11, 61)         # -4 points for 10 s
    assert b.transitions() == [("spo2.fall", Priority.LOW, R, 71.0)]


# -- pulse rate stands in for a missing ECG heart rate ---------------------------


def test_pulse_rate_alarms_as_heart_rate_only_without_ecg():
    b = Bench()
    for s in range(10):
        b.read(s, Vital.HR, 80)
        b.read(s, Vital.PULSE_RATE, 140)       # oximeter artefact; ECG says 80
    assert b.transitions() == []
    b.series(Vital.PULSE_RATE, [140] * 30, 10)  # ECG gone: pulse rate takes over after 10 s
    first = [m for m in b.out if isinstance(m, AlarmTransition)][0]
    assert first.alarm_id == "hr.high" and first.vital is Vital.PULSE_RATE
    assert first.message.startswith("PR 140")


# -- limits changed during the session ----------------------------------------


def test_limit_change_is_logged_and_judges_the_last_determination_again():
    b = Bench()
    b.read(0, Vital.NIBP_SYS, 165)
    assert b.transitions() == [("nibp_sys.high", Priority.MEDIUM, R, 0.0)]
    b.cmd(30, ChangeLimit("nibp_sys.high.medium", "limit", 170, by="RN", reason="known HTN"))
    change = [m for m in b.out if isinstance(m, LimitChanged)]
    assert [(c.rule_id, c.old, c.new, c.by) for c in change] == [
        ("nibp_sys.high.medium", 160, 170, "RN")]
    assert b.transitions()[-1] == ("nibp_sys.high", Priority.MEDIUM, C, 30.0)


def test_bad_limit_change_is_refused_and_the_old_limit_stays():
    b = Bench()
    b.cmd(0, ChangeLimit("hr.low.medium", "limit", 130, by="RN"))
    b.cmd(0, ChangeLimit("spo2.low.medium", "limit", 91, by=""))
    assert b.engine.profile.rule("hr.low.medium").limit == 50
    assert b.engine.profile.rule("spo2.low.medium").limit == 92
    refused = [m.detail for m in b.out if isinstance(m, AlarmAction) and m.action == "refused"]
    assert "inverted limits" in refused[0] and "initials" in refused[1]


def test_loading_a_profile_replaces_the_rules():
    b = Bench()
    b.series(Vital.SPO2, [91] * 11, 0)
    b.cmd(12, LoadProfile(load_default_profile().with_change("spo2.low.medium", "limit", 90)))
    assert b.transitions()[-1] == ("spo2.low", Priority.MEDIUM, C, 12.0)
    assert b.engine.profile.rule("spo2.low.medium").limit == 90


# -- floods ------------------------------------------------------------------------


def test_a_flood_neither_delays_an_alarm_nor_grows_memory():
    b = Bench()
    tracemalloc.start()
    try:
        for i in range(20_000):                 # flapping condition and noisy readings
            s = i * 0.01
            b.out = []
            b.tech(s, Condition.STALE, i % 2 == 0, Vital.ETCO2)
            b.read(s, Vital.RESP_RATE, 12 + i % 5)
            if i == 1000:
                before = tracemalloc.get_traced_memory()[0]
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert after - before < 200_000
    b.out = []
    b.read(200.0, Vital.SPO2, 85)
    assert b.transitions() == [("spo2.low", Priority.HIGH, R, 200.0)]


def test_one_alarm_per_cause_not_one_per_vital():
    b = Bench()
    b.tech(0, Condition.SENSOR_PROBLEM, True)
    b.tech(9, Condition.STALE, True, Vital.SPO2)     # explained by the probe off
    b.tech(9, Condition.STALE, True, Vital.PERF_INDEX)  # no alarm rules: no alarm
    b.tech(30, Condition.SENSOR_PROBLEM, False)
    b.tech(31, Condition.STALE, False, Vital.SPO2)   # values back within the grace
    b.tick(60)
    assert [x[0] for x in b.transitions()] == ["sensor.problem", "sensor.problem"]
    b.tech(100, Condition.SENSOR_PROBLEM, True)
    b.tech(109, Condition.STALE, True, Vital.SPO2)
    b.tech(110, Condition.SENSOR_PROBLEM, False)     # probe back but still no SpO2
    b.tick(119.9)
    assert "spo2.stale" not in [x[0] for x in b.transitions()]
    b.tick(120)
    assert b.transitions()[-1] == ("spo2.stale", Priority.MEDIUM, R, 120.0)


def test_a_resumed_session_keeps_its_baseline():
    history = [make_reading(Vital.NIBP_SYS, v, T0 + s) for s, v in ((60, 120), (360, 124))]
    engine = AlarmEngine(load_default_profile(), started_at=T0, phase=Phase.INFUSION,
                         phase_started_at=T0 + 600, baseline_readings=history)
    assert engine.baseline.frozen and engine.baseline.value(Vital.NIBP_SYS) == 122
    out = engine.on_reading(make_reading(Vital.NIBP_SYS, 163, T0 + 1500))
    assert any(isinstance(m, AlarmTransition) and m.alarm_id == "nibp_sys.rise" for m in out)


# -- what an alarm says while it lasts and when it clears ------------------


def _shown(b, alarm_id):
    return next(e for e in b.shown() if e.alarm_id == alarm_id)


def test_an_active_alarm_says_the_latest_determination_that_keeps_it_active():
    """It used to keep quoting the determination that raised it ('dia 116 >= 110')."""
    b = Bench()
    b.read(0, Vital.NIBP_DIA, 116)
    b.read(300, Vital.NIBP_DIA, 116)
    entry = _shown(b, "nibp_dia.high")
    assert entry.priority is Priority.HIGH and entry.message.startswith("NIBP dia 116 ≥ 110")
    b.read(600, Vital.NIBP_DIA, 104)              # only the medium rule (> 100) still holds
    entry = _shown(b, "nibp_dia.high")
    assert entry.active and entry.message == "NIBP dia 104 > 100" and entry.value == 104
    assert entry.priority is Priority.HIGH        # the priority never drops while it lasts


def test_a_cleared_alarm_says_the_reading_that_cleared_it_and_the_worst():
    b = Bench()
    b.read(0, Vital.NIBP_DIA, 116)
    b.read(300, Vital.NIBP_DIA, 118)
    b.read(600, Vital.NIBP_DIA, 88)
    cleared = [m for m in b.out if isinstance(m, AlarmTransition) and m.state is C]
    assert [(m.alarm_id, m.t - T0, m.message) for m in cleared] == [
        ("nibp_dia.high", 600.0, "Cleared by NIBP dia 88 (worst NIBP dia 118)")]
    assert cleared[0].value == 118                # the log's value column stays the worst


def test_a_cleared_alarm_says_which_condition_cleared_it():
    b = Bench()
    b.series(Vital.SPO2, [85] * 3, 0)
    b.tech(5, Condition.SENSOR_PROBLEM, True)
    cleared = [m for m in b.out if isinstance(m, AlarmTransition) and m.state is C
               and m.alarm_id == "spo2.low"]
    assert [m.message for m in cleared] == ["Cleared: values invalid: x (worst SpO2 85)"]

    b = Bench()
    b.series(Vital.HR, [130] * 8, 0)
    b.cmd(10, SetVitalAlarms(Vital.HR, False, by="AB"))
    b.engine.on_phase(Phase.ENDED, b.at(11))
    b2 = Bench()
    b2.series(Vital.HR, [130] * 8, 0)
    b2.out += b2.engine.on_phase(Phase.ENDED, b2.at(11))
    [off] = [m.message for m in b.out if isinstance(m, AlarmTransition) and m.state is C]
    [ended] = [m.message for m in b2.out if isinstance(m, AlarmTransition) and m.state is C]
    assert off == "Cleared: HR alarms turned off by AB (worst HR 130)"
    assert ended == "Cleared: the session ended (worst HR 130)"


def test_a_technical_alarm_that_ends_says_so():
    b = Bench()
    b.tech(0, Condition.NO_DATA, True)
    b.tech(20, Condition.NO_DATA, False)
    cleared = [m for m in b.out if isinstance(m, AlarmTransition) and m.state is C
               and m.kind is AlarmKind.TECHNICAL]
    assert cleared and all(m.message.startswith("Ended: ") for m in cleared)


def test_acknowledge_and_pause_without_initials_are_refused_and_say_why():
    """Who did it is recorded for every nurse action (issue 11 point 10)."""
    b = Bench()
    b.series(Vital.SPO2, [91] * 11, 0)
    b.cmd(11, Acknowledge(by=" "))
    b.cmd(12, PauseAudio())
    refused = [m.detail for m in b.out if isinstance(m, AlarmAction) and m.action == "refused"]
    assert refused == ["acknowledging needs the nurse's initials",
                       "pausing the sound needs the nurse's initials"]
    snap = b.engine.snapshot()
    assert not snap.alarms[0].acknowledged and snap.audio_paused_until is None
    b.cmd(13, ResumeAudio())                     # turning the sound on is never refused
    assert not [m for m in b.out if isinstance(m, AlarmAction)
                and m.action == "refused" and m.t == b.at(13)]
