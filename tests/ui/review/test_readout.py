"""What the cursor reads at a moment (pure functions, on a real record)."""

from __future__ import annotations

import time

import numpy as np

from monitor.core.vitals import Vital
from monitor.review.record import Series
from monitor.ui.review.readout import CursorReader, earlier_text, readout_text


def test_reads_the_last_valid_reading_at_or_before_the_time(loaded):
    record = loaded["surge"].record
    reader = CursorReader(record.numerics)
    hr = record.numerics[Vital.HR]
    i = len(hr) // 2
    at = reader.at(float(hr.t[i]))              # exactly on a reading: that reading
    assert at[Vital.HR].value == hr.v[i] and at[Vital.HR].age_s == 0.0
    later = reader.at(float(hr.t[i]) + 0.5)      # between readings: the one before
    assert later[Vital.HR].value == hr.v[i]
    assert reader.at(record.start - 1.0)[Vital.HR].value is None   # before the first


def test_nibp_keeps_its_age_continuous_vitals_go_stale():
    t0 = 1000.0
    numerics = {
        Vital.NIBP_SYS: Series(np.array([t0]), np.array([132.0]), np.zeros(1, bool)),
        Vital.NIBP_DIA: Series(np.array([t0]), np.array([84.0]), np.zeros(1, bool)),
        Vital.HR: Series(np.array([t0, t0 + 1, t0 + 2]), np.array([70.0, np.nan, np.nan]),
                         np.zeros(3, bool)),
    }
    reader = CursorReader(numerics, stale_after_s=10.0)
    at = reader.at(t0 + 5)
    assert at[Vital.HR].value == 70.0                 # 5 s old: still the value
    at = reader.at(t0 + 600)
    assert at[Vital.HR].value is None                  # the NaNs are no value; 70 is stale
    assert at[Vital.NIBP_SYS].value == 132.0 and at[Vital.NIBP_SYS].age_s == 600.0
    text = readout_text(at, t0 + 600, t0)
    assert "(+0:10:00)" in text
    taken = time.strftime("%H:%M:%S", time.localtime(t0))
    assert f"NIBP 132/84 taken {taken}, 10 min earlier" in text
    assert "ago" not in text and "just now" not in text
    assert "HR\u00a0---" in text
    assert "SpO2" not in text                          # not recorded: not shown


def test_a_fresh_determination_reads_its_seconds_not_just_now():
    t0 = 5000.0
    numerics = {
        Vital.NIBP_SYS: Series(np.array([t0]), np.array([120.0]), np.zeros(1, bool)),
        Vital.NIBP_DIA: Series(np.array([t0]), np.array([80.0]), np.zeros(1, bool)),
    }
    text = readout_text(CursorReader(numerics).at(t0 + 37), t0 + 37, t0)
    assert "37 s earlier" in text and "just now" not in text
    assert [earlier_text(s) for s in (0, 59, 60, 250, 3600 + 5 * 60)] == [
        "0 s", "59 s", "1 min", "4 min 10 s", "1 h 05 min"]
