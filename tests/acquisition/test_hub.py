import time

from monitor.acquisition.hub import Hub
from monitor.core.clock import SimClock
from monitor.core.events import Condition, PhaseChanged, StreamEnded, Technical
from monitor.core.queues import BoundedQueue
from monitor.core.reading import Quality, Reading, make_reading
from monitor.core.session import Phase, SessionModel
from monitor.core.vitals import Vital
from monitor.storage.recorder import CloseSession


def _run(items, plan=(), start=1000.0):
    clock = SimClock(start, speed=None)
    inbox = BoundedQueue(10_000, "in", block_when_full=True)
    rec_q = BoundedQueue(10_000, "rec", block_when_full=True)
    ui_q = BoundedQueue(10_000, "ui")
    out = []
    hub = Hub(SessionModel(1, start), clock, inbox, recorder_q=rec_q, ui_q=ui_q,
              sink=out.append, phase_plan=plan, stale_after=10.0)
    for it in items:
        inbox.put(it)
    hub.start()
    hub.join(10)
    assert not hub.is_alive()
    return out, rec_q.drain(), ui_q.drain(), hub


def test_phase_plan_applied_on_session_time_and_session_ended():
    # A complete baseline (two NIBP 5 min apart, HR, SpO2), so the scripted start passes
    # the gate; then HR every second.
    items = [make_reading(v, x, t) for t in (700.0, 1000.0)
             for v, x in ((Vital.NIBP_SYS, 120), (Vital.NIBP_DIA, 75))]
    items.append(make_reading(Vital.SPO2, 98, 1000.0))
    items += [make_reading(Vital.HR, 70, 1000.0 + k) for k in range(1, 20)]
    items.append(StreamEnded(1030.0))
    out, rec, ui, hub = _run(items, plan=[(1000.0, Phase.BASELINE), (1005.0, Phase.INFUSION),
                                          (1012.5, Phase.RECOVERY)], start=600.0)
    phases = [(m.phase, m.t) for m in out if isinstance(m, PhaseChanged)]
    assert phases == [(Phase.INFUSION, 1005.0), (Phase.RECOVERY, 1012.5),
                      (Phase.ENDED, 1030.0)]
    # The phase change is published before the first reading at or after it.
    i_phase = out.index(next(m for m in out if isinstance(m, PhaseChanged)))
    assert all(m.t < 1005.0 for m in out[:i_phase] if isinstance(m, Reading))
    assert isinstance(rec[-1], CloseSession)
    assert hub.counters.readings == 24
    assert [m for m in ui if isinstance(m, Reading)] == items[:-1]


def test_stale_vital_while_others_arrive_and_back():
    items = []
    for k in range(1, 40):
        t = 1000.0 + k
        items.append(make_reading(Vital.HR, 70, t))
        spo2_off = 5 <= k < 25
        items.append(Reading.invalid(Vital.SPO2, t, Quality.SENSOR_OFF) if spo2_off
                     else make_reading(Vital.SPO2, 98, t))
    items.append(StreamEnded(1040.0))
    out, *_ = _run(items)
    tech = [m for m in out if isinstance(m, Technical)]
    assert [(m.condition, m.active, m.vital, m.t) for m in tech] == [
        (Condition.STALE, True, Vital.SPO2, 1014.0),  # last valid at 1004 + 10 s
        (Condition.STALE, False, Vital.SPO2, 1025.0)]


def test_no_data_on_silence_without_stale_storm():
    items = [make_reading(v, 70 if v is Vital.HR else 98, 1000.0 + k)
             for k in range(1, 11) for v in (Vital.HR, Vital.SPO2)]
    items += [make_reading(v, 70 if v is Vital.HR else 98, 1070.0 + k)
              for k in range(0, 30) for v in (Vital.HR, Vital.SPO2)]
    items.append(StreamEnded(1100.0))
    out, *_ = _run(items)
    tech = [(m.condition, m.active, m.t) for m in out if isinstance(m, Technical)]
    assert tech == [(Condition.NO_DATA, True, 1020.0), (Condition.NO_DATA, False, 1070.0)]


def test_alarm_state_is_current_even_when_the_display_queue_overflows():
    from monitor.core.alarms.model import AlarmTransition, Priority

    start = 1000.0
    clock = SimClock(start, speed=None)
    inbox = BoundedQueue(100_000, "in", block_when_full=True)
    rec_q = BoundedQueue(200_000, "rec", block_when_full=True)
    ui_q = BoundedQueue(50, "ui")                      # never drained: overflows at once
    out = []
    hub = Hub(SessionModel(1, start), clock, inbox, recorder_q=rec_q, ui_q=ui_q,
              sink=out.append, stale_after=10.0)
    for k in range(20_000):                          # a flood of readings
        inbox.put(make_reading(Vital.RESP_RATE, 12, start + k * 0.001))
    inbox.put(make_reading(Vital.SPO2, 85, start + 20.5))
    hub.start()
    try:
        deadline = time.monotonic() + 30
        while not hub.alarm_state.get().alarms and time.monotonic() < deadline:
            time.sleep(0.01)
        snap = hub.alarm_state.get()
    finally:
        inbox.put(StreamEnded(start + 21.0))
        hub.join(30)
    assert [(a.alarm_id, a.priority) for a in snap.alarms] == [("spo2.low", Priority.HIGH)]
    assert ui_q.dropped_total > 0
    assert not hub.is_alive()
    assert hub.alarm_state.get().alarms == ()   # an ended session shows no alarm
    raised = [m for m in out if isinstance(m, AlarmTransition)]
    assert raised[0].t == start + 20.5
    # The recorder got the transition too (its queue holds producers back, never drops).
    assert any(isinstance(m, AlarmTransition) for m in rec_q.drain())


def test_operator_command_reaches_the_engine_through_notify():
    from monitor.core.alarms.model import PauseAudio

    start = 1000.0
    clock = SimClock(start, speed=None)
    inbox = BoundedQueue(1000, "in", block_when_full=True)
    out = []
    hub = Hub(SessionModel(1, start), clock, inbox, recorder_q=None, ui_q=None,
              sink=out.append, stale_after=10.0)
    hub.notify(PauseAudio(by="RN"))
    inbox.put(make_reading(Vital.HR, 70, start + 1))
    inbox.put(StreamEnded(start + 2))
    hub.start()
    hub.join(10)
    assert [m.action for m in out if type(m).__name__ == "AlarmAction"] == ["audio_pause"]


def test_a_refused_profile_file_leaves_the_current_profile_in_force(tmp_path):
    from monitor.core.alarms.model import LoadProfileFile
    from monitor.core.alarms.profile_file import default_profile_path

    bad = tmp_path / "bad.toml"
    bad.write_text(default_profile_path().read_text().replace("limit = 92", "limit = -92"))
    good = tmp_path / "good.toml"
    good.write_text(default_profile_path().read_text().replace("limit = 92", "limit = 90"))
    start = 1000.0
    inbox = BoundedQueue(1000, "in", block_when_full=True)
    out = []
    hub = Hub(SessionModel(1, start), SimClock(start, speed=None), inbox, recorder_q=None,
              ui_q=None, sink=out.append, stale_after=10.0)
    hub.notify(LoadProfileFile(str(bad), by="RN"))
    inbox.put(make_reading(Vital.SPO2, 91, start + 1))
    inbox.put(StreamEnded(start + 2))
    hub.start()
    hub.join(10)
    refused = [m.detail for m in out if type(m).__name__ == "AlarmAction"]
    assert len(refused) == 1 and str(bad) in refused[0] and "-92" in refused[0]
    assert hub.alarms.profile.rule("spo2.low.medium").limit == 92
    inbox2 = BoundedQueue(1000, "in", block_when_full=True)
    hub2 = Hub(SessionModel(1, start), SimClock(start, speed=None), inbox2, recorder_q=None,
               ui_q=None, sink=out.append, stale_after=10.0)
    hub2.notify(LoadProfileFile(str(good), by="RN"))
    inbox2.put(StreamEnded(start + 2))
    hub2.start()
    hub2.join(10)
    assert hub2.alarms.profile.rule("spo2.low.medium").limit == 90


def test_a_supplementary_vital_never_goes_stale():
    start = 1000.0
    items = [make_reading(Vital.SPO2_DISPLAY, 97, start + 1)]
    items += [make_reading(Vital.HR, 70, start + k) for k in range(1, 40)]
    items.append(StreamEnded(start + 40))
    out, _, _, _ = _run(items, start=start)
    assert not [m for m in out if isinstance(m, Technical) and m.condition is Condition.STALE]


def test_a_bug_meeting_one_item_is_an_alarm_and_monitoring_goes_on():
    from monitor.core.alarms.model import AlarmTransition

    start = 1000.0
    inbox = BoundedQueue(1000, "in", block_when_full=True)
    out = []
    hub = Hub(SessionModel(1, start), SimClock(start, speed=None), inbox, recorder_q=None,
              ui_q=None, sink=out.append, stale_after=10.0)
    real = hub.alarms.on_reading
    calls = {"n": 0}

    def flaky(reading):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("planted bug")
        return real(reading)

    hub.alarms.on_reading = flaky
    for k in range(1, 6):
        inbox.put(make_reading(Vital.HR, 70, start + k))
    inbox.put(make_reading(Vital.SPO2, 85, start + 6))
    inbox.put(StreamEnded(start + 7))
    hub.start()
    hub.join(10)
    assert not hub.is_alive() and hub.ended is not None
    assert hub.counters.internal_errors == 1
    ids = [m.alarm_id for m in out if isinstance(m, AlarmTransition)]
    assert "system.error" in ids and "spo2.low" in ids      # later readings still alarm
    assert any(isinstance(m, Technical) and m.condition is Condition.INTERNAL_ERROR for m in out)
