import math

import numpy as np
import pytest

from monitor.core.reading import Quality, Reading, WaveChunk, make_reading
from monitor.core.vitals import NUMERIC_VITALS, SPECS, Kind, Vital, mean_arterial, parse_vital


def test_every_vital_has_unit_range_and_mdc_code():
    for vital in Vital:
        s = SPECS[vital]
        assert s.vital is vital
        lo, hi = s.plausible
        assert lo < hi
        # IEEE 11073-10101: partition 2 (SCADA) << 16 | term code; device-private
        # quantities carry no code rather than a guessed one.
        assert s.mdc_code is None or s.mdc_code >> 16 == 2, vital
        assert s.mdc_ref.startswith("MDC_") == (s.mdc_code is not None)
        assert s.unit_mdc_ref.startswith("MDC_DIM_")


def test_mdc_codes_match_the_reference_table():
    assert SPECS[Vital.HR].mdc_code == 147842
    assert SPECS[Vital.PULSE_RATE].mdc_code == 149530
    assert SPECS[Vital.SPO2].mdc_code == 150456
    assert [SPECS[v].mdc_code for v in (Vital.NIBP_SYS, Vital.NIBP_DIA, Vital.NIBP_MEAN)] == [
        150021, 150022, 150023]
    assert SPECS[Vital.RESP_RATE].mdc_code == 151562
    assert SPECS[Vital.ETCO2].mdc_code == 151708
    assert SPECS[Vital.SPO2].unit_mdc_code == 262688
    assert SPECS[Vital.NIBP_SYS].unit_mdc_code == 266016


def test_names_are_the_cli_contract():
    assert [v.value for v in NUMERIC_VITALS][:8] == [
        "hr", "pulse_rate", "spo2", "nibp_sys", "nibp_dia", "nibp_mean", "resp_rate", "etco2"]
    for vital in (Vital.HR, Vital.SPO2, Vital.NIBP_SYS, Vital.ETCO2, Vital.TEMP):
        assert SPECS[vital].mdc_code is not None
    assert SPECS[Vital.NIBP_SYS].kind is Kind.DISCRETE
    assert SPECS[Vital.PLETH].kind is Kind.WAVEFORM


def test_parse_vital_lists_valid_names():
    assert parse_vital("spo2") is Vital.SPO2
    with pytest.raises(ValueError, match="valid names: hr, pulse_rate"):
        parse_vital("sat")


def test_make_reading_keeps_good_values():
    r = make_reading(Vital.SPO2, 97.0, 100.0, device_time=99.5)
    assert r.valid and r.value == 97.0 and r.quality is Quality.OK and r.device_time == 99.5


@pytest.mark.parametrize("value", [None, math.nan, math.inf])
def test_missing_values_become_nan_no_value(value):
    r = make_reading(Vital.HR, value, 1.0)
    assert not r.valid and math.isnan(r.value) and r.quality is Quality.NO_VALUE


def test_implausible_values_are_not_values():
    # 127 is Nonin's "missing SpO2" sentinel: it must never be shown as 127 %.
    r = make_reading(Vital.SPO2, 127, 1.0)
    assert not r.valid and math.isnan(r.value) and r.quality is Quality.OUT_OF_RANGE
    assert not make_reading(Vital.HR, 511, 1.0).valid


def test_invalid_quality_discards_value():
    r = make_reading(Vital.SPO2, 98, 1.0, Quality.SENSOR_OFF)
    assert math.isnan(r.value) and not r.valid
    assert Reading.invalid(Vital.SPO2, 1.0, Quality.ARTIFACT).quality is Quality.ARTIFACT
    with pytest.raises(ValueError):
        Reading.invalid(Vital.SPO2, 1.0, Quality.OK)


def test_manual_and_demo_carry_values():
    assert make_reading(Vital.NIBP_SYS, 130, 1.0, Quality.MANUAL).valid
    assert make_reading(Vital.NIBP_SYS, 130, 1.0, Quality.DEMO).valid


def test_wave_chunk_times_and_dtype():
    c = WaveChunk(Vital.PLETH, 10.0, 100.0, np.arange(5, dtype=np.float64))
    assert c.samples.dtype == np.float32
    assert len(c) == 5
    np.testing.assert_allclose(c.times(), [10.0, 10.01, 10.02, 10.03, 10.04])
    assert c.t_end == pytest.approx(10.05)
    with pytest.raises(ValueError):
        WaveChunk(Vital.PLETH, 0.0, 0.0, np.zeros(1))


def test_mean_arterial():
    assert mean_arterial(120, 81) == pytest.approx(94.0)
