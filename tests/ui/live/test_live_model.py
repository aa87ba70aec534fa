"""The Qt-free display rules behind the live view."""

from __future__ import annotations

import math

import numpy as np

from monitor.core.events import Condition, History, StreamEnded, Technical
from monitor.core.reading import Quality, Reading
from monitor.core.session import Phase
from monitor.core.vitals import Vital
from monitor.ui.alarms.style import clock_text
from monitor.ui.live.model import LiveModel
from monitor.ui.live.sweep import SweepBuffer
from monitor.ui.live.trend_store import CONTINUOUS_CAPACITY, TrendSeries
from tests.ui.helpers import T0, nibp, phase, pleth_chunk, reading, session_started


def test_stale_rule_uses_the_given_time():
    m = LiveModel(stale_after_s=10)
    m.apply(reading(Vital.HR, 80, T0))
    assert m.tile_state(Vital.HR, T0 + 10).text == "80"
    stale = m.tile_state(Vital.HR, T0 + 10.5)
    assert (stale.text, stale.reason) == ("---", "NO DATA")


def test_invalid_reading_gives_its_reason_until_it_is_stale():
    m = LiveModel(stale_after_s=10)
    m.apply(reading(Vital.SPO2, 97, T0))
    m.apply(Reading.invalid(Vital.SPO2, T0 + 1, Quality.SENSOR_OFF))
    assert m.tile_state(Vital.SPO2, T0 + 1).reason == "SENSOR OFF"
    assert m.tile_state(Vital.SPO2, T0 + 30).reason == "NO DATA"


def test_nibp_determination_groups_by_time_and_new_time_replaces():
    m = LiveModel()
    for r in nibp(120, 80, 93, T0):
        m.apply(r)
    assert (m.nibp_state(T0).text, m.nibp_state(T0).mean_text) == ("120/80", "(93)")
    m.apply(reading(Vital.NIBP_SYS, 130, T0 + 300))
    state = m.nibp_state(T0 + 300)
    assert state.text == "---" and state.reason == "INCOMPLETE" and state.mean_text == ""
    m.apply(reading(Vital.NIBP_DIA, 85, T0 + 300))
    assert m.nibp_state(T0 + 300).text == "130/85"


def test_history_is_merged_in_time_order_and_old_readings_do_not_override():
    m = LiveModel()
    m.apply(session_started(resumed=True, gap_s=300))
    m.apply(reading(Vital.HR, 90, T0 + 100))
    m.apply(History(readings=(reading(Vital.HR, 60, T0 + 10), reading(Vital.HR, 61, T0 + 11))))
    t, v = m.trends.series(Vital.HR).view()
    assert list(t) == [T0 + 10, T0 + 11, T0 + 100]
    assert list(v) == [60, 61, 90]
    assert m.tile_state(Vital.HR, T0 + 100).text == "90"
    assert "Session resumed after a gap of 5 min" in m.status_messages(T0 + 100)


def test_technical_messages_come_and_go_and_stream_end_is_reported():
    m = LiveModel()
    m.apply(Technical(Condition.NO_DATA, True, T0, "No data from source"))
    assert m.status_messages(T0) == ["No data from source"]
    m.apply(Technical(Condition.NO_DATA, False, T0 + 5, "No data from source"))
    assert m.status_messages(T0 + 5) == []
    m.apply(StreamEnded(T0 + 6))
    assert m.status_messages(T0 + 6) == [
        f"SESSION ENDED at {clock_text(T0 + 6)}: not monitoring, nothing more is recorded"]


def test_phase_out_of_order_is_ignored():
    m = LiveModel()
    m.apply(session_started())
    m.apply(phase(Phase.RECOVERY, T0 + 60))
    m.apply(phase(Phase.INFUSION, T0 + 90))  # backwards: ignored, logged
    assert m.session is not None and m.session.phase is Phase.RECOVERY


def test_trend_series_tracks_nan_and_capacity():
    s = TrendSeries(4)
    s.append(T0, 1.0)
    assert s.all_finite()
    s.append(T0 + 1, math.nan)
    assert not s.all_finite()
    for i in range(2, 6):
        s.append(T0 + i, float(i))
    assert s.all_finite()  # the NaN was overwritten
    assert CONTINUOUS_CAPACITY >= 24 * 3600


def test_sweep_writes_left_to_right_with_gap_and_nan_for_missing_time():
    sweep = SweepBuffer(window_s=10.0, gap_s=0.3)
    sweep.add(pleth_chunk(T0, n=100))
    assert sweep.cursor is not None
    first_cursor = sweep.cursor
    sweep.add(pleth_chunk(T0 + 1.0, n=100))
    assert sweep.cursor == (first_cursor + 100) % 1000
    ahead = (sweep.cursor + 1 + np.arange(30)) % 1000
    assert np.isnan(sweep.y[ahead]).all()
    sweep.add(pleth_chunk(T0 + 5.0, n=100))  # 3 s of missing samples
    missing = (first_cursor + 101 + np.arange(300)) % 1000
    assert np.isnan(sweep.y[missing]).all()
    assert sweep.blank_if_stale(T0 + 30, 10.0)
    assert np.isnan(sweep.y).all()


def test_device_link_status_and_device_flags_for_the_nurse():
    from monitor.core.events import DeviceFlag, SourceStatus
    from monitor.ui.live.model import LiveModel

    m = LiveModel(stale_after_s=10.0)
    m.apply(SourceStatus(100.0, "serial:/dev/ttyUSB0 (masimo-ascii)", True, 95.0, 60, 2, 0,
                         99.0))
    text = m.status_messages(101.0)[0]
    assert "serial:/dev/ttyUSB0" in text and "95 B/s" in text and "2 bad frames" in text
    m.apply(DeviceFlag(101.0, "masimo.alarm.spo2_low", True, "SpO2 low (device alarm)"))
    assert "Device: SpO2 low (device alarm)" in m.status_messages(101.0)
    m.apply(DeviceFlag(105.0, "masimo.alarm.spo2_low", False))
    assert not any("SpO2 low" in x for x in m.status_messages(105.0))
    m.apply(SourceStatus(110.0, "serial:/dev/ttyUSB0 (masimo-ascii)", False,
                         message="serial port /dev/ttyUSB0 does not exist (unplugged?)"))
    assert m.status_messages(110.0)[0].startswith("DEVICE DISCONNECTED: serial port")


def test_a_protocol_session_that_does_not_export_data_is_said_first():
    """IntelliVue: bytes flow, but until the association holds no value comes."""
    from monitor.core.events import SourceStatus
    from monitor.ui.live.model import LiveModel

    m = LiveModel(stale_after_s=10.0)
    label = "serial:/dev/ttyUSB0 (intellivue-mib)"
    m.apply(SourceStatus(100.0, label, True, 40.0, 3, 0, 0, 99.0,
                         link_state="refused: the monitor's data export is off", link_ok=False))
    text = m.status_messages(101.0)[0]
    assert text.startswith("MONITOR NOT SENDING DATA: refused: the monitor's data export")
    assert label in text
    m.apply(SourceStatus(102.0, label, True, 1200.0, 30, 1, 0, 101.5, link_state="associated",
                         detail="41 of 42 polls answered"))
    text = m.status_messages(102.0)[0]
    assert text.startswith(label + " \u00b7 associated \u00b7 41 of 42 polls answered"
                           " \u00b7 1200 B/s")
    assert "1 bad frames" in text and "NOT SENDING" not in text
    # An HL7 feed: its working state is not a fault; only other beds' messages are.
    hl7 = "hl7:10.0.0.5:2575 (hl7-pcd01)"
    m.apply(SourceStatus(103.0, hl7, True, 300.0, 9, 0, 0, 102.5,
                         link_state="receiving for bed CHAIR1", detail="9 messages"))
    assert m.status_messages(103.0)[0].startswith(hl7 + " \u00b7 receiving for bed CHAIR1")
    m.apply(SourceStatus(104.0, hl7, True, 300.0, 12, 0, 0, 103.5,
                         link_state="messages for other beds only (seen: CHAIR2)",
                         link_ok=False))
    assert m.status_messages(104.0)[0].startswith(
        "MONITOR NOT SENDING DATA: messages for other beds only (seen: CHAIR2)")


def test_a_monitor_in_demo_mode_raises_the_not_a_patient_banner():
    from monitor.core.events import DeviceFlag
    from monitor.ui.live.model import LiveModel

    m = LiveModel(stale_after_s=10.0)
    assert m.demo_banner() == ""
    m.apply(DeviceFlag(100.0, "intellivue.demo_data", True, "Monitor in demo mode"))
    assert m.demo_banner() == "MONITOR IN DEMO MODE \u2014 NOT PATIENT DATA"
    m.apply(DeviceFlag(130.0, "intellivue.demo_data", False))
    assert m.demo_banner() == ""
