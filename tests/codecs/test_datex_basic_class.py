"""GE S/5 basic class: every numeric of the displayed-values subrecord, not only the shown ones.

Records come from the byte-level builder in ``test_datex`` (absolute offsets written from
the reference's group order and sizes, independently of ``datex_layout``).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.core.reading import Quality, make_reading
from monitor.core.vitals import SPECS, SUPPLEMENTARY_VITALS, Vital
from monitor.devices.codecs.datex import DatexS5Codec
from simulators.encoders.datex import DatexS5Encoder
from tests.codecs.test_datex import (
    AMB,
    CO2_RR,
    FAST,
    FI,
    IMP_RR,
    NIBP_DIA,
    NIBP_MEAN,
    NIBP_SYS,
    NONIN_ONLY,
    NORMAL,
    SPECIALS,
    VALUES,
    T,
    by_vital,
    displayed,
    push_all,
    run_encoder,
    wire,
)

NIBP_HR = 84
NMT_PTC = 224
PTC_WORD = 12 | (3 << 5) | (40 << 9)          # PTC 12, TOF count 3, 40 mA

# (absolute offset in the class data, vital, raw int16, decoded value)
FIELDS: list[tuple[int, Vital, int, float]] = [
    (8, Vital.ST1, 120, 1.2), (10, Vital.ST2, -35, -0.35), (12, Vital.ST3, 0, 0.0),
    (IMP_RR, Vital.IMP_RR, 17, 17),
    (22, Vital.P1_SYS, 12345, 123.45), (24, Vital.P1_DIA, 6789, 67.89),
    (26, Vital.P1_MEAN, 8800, 88.0), (28, Vital.P1_HR, 71, 71),
    (36, Vital.P2_SYS, 1200, 12.0), (38, Vital.P2_DIA, 300, 3.0),
    (40, Vital.P2_MEAN, 700, 7.0), (42, Vital.P2_HR, 72, 72),
    (50, Vital.P3_SYS, 2500, 25.0), (52, Vital.P3_DIA, 1000, 10.0),
    (54, Vital.P3_MEAN, 1600, 16.0), (56, Vital.P3_HR, 73, 73),
    (64, Vital.P4_SYS, 1400, 14.0), (66, Vital.P4_DIA, -250, -2.5),
    (68, Vital.P4_MEAN, 900, 9.0), (70, Vital.P4_HR, 74, 74),
    (84, Vital.NIBP_HR, NIBP_HR, NIBP_HR),
    (100, Vital.TEMP2, 3512, 35.12), (108, Vital.TEMP3, 2250, 22.5),
    (116, Vital.TEMP4, 3701, 37.01),
    (128, Vital.SPO2_IR_AMP, 345, 3.45), (130, Vital.SO2, 7250, 72.5),
    (FI, Vital.FICO2, 40, 3.0), (AMB, Vital.AMB_PRESS, 7600, 760.0),   # 0.40 % at 760 mmHg
    (152, Vital.O2_ET, 4550, 45.5), (154, Vital.O2_FI, 5020, 50.2),
    (162, Vital.N2O_ET, 5500, 55.0), (164, Vital.N2O_FI, 6000, 60.0),
    (172, Vital.AA_ET, 180, 1.8), (174, Vital.AA_FI, 210, 2.1), (176, Vital.AA_MAC, 95, 0.95),
    (184, Vital.SPIRO_RR, 12, 12), (186, Vital.PPEAK, 2250, 22.5), (188, Vital.PEEP, 500, 5.0),
    (190, Vital.PPLAT, 1800, 18.0), (192, Vital.TV_INSP, 5123, 512.3),
    (194, Vital.TV_EXP, 4987, 498.7), (196, Vital.COMPLIANCE, 4550, 45.5),
    (198, Vital.MV_EXP, 612, 6.12),
    (206, Vital.CO, 5230, 5.23), (208, Vital.BLOOD_TEMP, 3712, 37.12),
    (210, Vital.RVEF, 4500, 45.0), (212, Vital.PCWP, 1150, 11.5),
    (220, Vital.NMT_T1, 955, 95.5), (222, Vital.NMT_RATIO, 873, 87.3),
    (NMT_PTC, Vital.NMT_PTC, PTC_WORD, 12), (NMT_PTC, Vital.NMT_COUNT, PTC_WORD, 3),
    (226, Vital.HR_ECG, 73, 73), (228, Vital.HR_MAX, 110, 110), (230, Vital.HR_MIN, 55, 55),
    (238, Vital.SVO2, 7150, 71.5),
    (246, Vital.P5_SYS, 3000, 30.0), (248, Vital.P5_DIA, 1100, 11.0),
    (250, Vital.P5_MEAN, 1800, 18.0), (252, Vital.P5_HR, 75, 75),
    (260, Vital.P6_SYS, 13500, 135.0), (262, Vital.P6_DIA, 7000, 70.0),
    (264, Vital.P6_MEAN, 9200, 92.0), (266, Vital.P6_HR, 76, 76),
]
EVERY = {off: raw for off, _, raw, _ in FIELDS}
NEW_VITALS = [vital for _, vital, _, _ in FIELDS]


def test_the_table_covers_every_supplementary_datex_vital() -> None:
    assert sorted(NEW_VITALS) == sorted(set(SUPPLEMENTARY_VITALS) - set(NONIN_ONLY))


def test_every_basic_class_numeric_is_decoded() -> None:
    got = by_vital(DatexS5Codec().feed(wire(displayed({**NORMAL, **EVERY})), T))
    for _, vital, _, value in FIELDS:
        r = got[vital]
        assert r.quality is Quality.OK and r.value == pytest.approx(value, abs=1e-9), vital
        assert r.t == T and r.device_time is not None
    # the shown vitals are unchanged by the neighbouring fields
    assert got[Vital.HR].value == 72 and got[Vital.RESP_RATE].value == 14
    assert got[Vital.ETCO2].value == pytest.approx(38.0)


@pytest.mark.parametrize(("raw", "quality"), SPECIALS)
def test_special_values_of_every_new_field(raw: int, quality: Quality) -> None:
    specials = {off: raw for off in EVERY}
    got = by_vital(DatexS5Codec().feed(wire(displayed({**NORMAL, **specials})), T))
    for vital in NEW_VITALS:
        r = got[vital]
        assert r.quality is quality and math.isnan(r.value) and not r.valid, vital


def test_special_values_stay_distinct_field_by_field() -> None:
    kinds = [(-32767, Quality.NO_VALUE), (-32766, Quality.NOT_UPDATED),
             (-32764, Quality.OUT_OF_RANGE), (-32762, Quality.QUESTIONABLE)]
    offsets = sorted(EVERY)
    values = {off: kinds[i % len(kinds)][0] for i, off in enumerate(offsets)}
    got = by_vital(DatexS5Codec().feed(wire(displayed({**NORMAL, **values})), T))
    expected = dict(kinds)
    for off, vital, _, _ in FIELDS:
        if vital is Vital.FICO2:
            continue                                    # depends on AMB too: below
        assert got[vital].quality is expected[values[off]], vital


def test_fico2_uses_ambient_pressure_and_both_specials() -> None:
    def fico2(fi: int, amb: int) -> tuple:
        got = by_vital(DatexS5Codec().feed(wire(displayed({**NORMAL, FI: fi, AMB: amb})), T))
        return tuple(r.value if r.valid else r.quality for r in (got[Vital.FICO2],
                                                                 got[Vital.AMB_PRESS]))

    assert fico2(40, 7000) == (2.8, 700.0)
    assert fico2(0, 7600) == (0.0, 760.0)
    assert fico2(-32766, 7600) == (Quality.NOT_UPDATED, 760.0)
    assert fico2(40, -32763) == (Quality.OUT_OF_RANGE, Quality.OUT_OF_RANGE)
    assert fico2(40, 0) == (Quality.NO_VALUE, Quality.OUT_OF_RANGE)   # 0 mmHg: impossible


@pytest.mark.parametrize(("word", "ptc", "count"), [
    (PTC_WORD, 12, 3),
    (31 | (4 << 5), Quality.NO_VALUE, 4),                   # 31: count not available
    (5 | (2 << 5) | (70 << 9) - 65536, 5, 2),              # 70 mA sets the sign bit
    (25, Quality.OUT_OF_RANGE, 0),                          # PTC at most 21
    (-30999, 9, Quality.OUT_OF_RANGE),                      # above the limit: bits are read
    (-31000, Quality.NO_VALUE, Quality.NO_VALUE),           # at or below: nothing is
    (-32766, Quality.NOT_UPDATED, Quality.NOT_UPDATED),
])
def test_nmt_ptc_bit_field(word: int, ptc: object, count: object) -> None:
    got = by_vital(DatexS5Codec().feed(wire(displayed({**NORMAL, NMT_PTC: word})), T))
    assert [r.value if r.valid else r.quality
            for r in (got[Vital.NMT_PTC], got[Vital.NMT_COUNT])] == [ptc, count]


def test_nibp_pulse_rate_comes_with_each_new_determination() -> None:
    codec = DatexS5Codec()
    second = {NIBP_SYS: 13000, NIBP_DIA: 8500, NIBP_MEAN: 10000}
    records = [{**NORMAL, 84: 84}, {**NORMAL, 84: 84}, {**NORMAL, **second, 84: 91},
               {**NORMAL, 84: -32766}]
    got = []
    for i, values in enumerate(records):
        r = by_vital(codec.feed(wire(displayed(values)), T + 5 * i)).get(Vital.NIBP_HR)
        got.append(None if r is None else r.value if r.valid else r.quality)
    assert got == [84, None, 91, Quality.NOT_UPDATED]   # the last: a change back to NORMAL
    assert SPECS[Vital.NIBP_HR].kind.value == "discrete"


def test_impedance_rate_is_kept_next_to_the_co2_rate() -> None:
    got = by_vital(DatexS5Codec().feed(wire(displayed({**NORMAL, IMP_RR: 18})), T))
    assert got[Vital.RESP_RATE].value == NORMAL[CO2_RR] and got[Vital.IMP_RR].value == 18


# -- encoder round trip ----------------------------------------------------------------------

SCALES = {Vital.CO: 0.001, Vital.AMB_PRESS: 0.1, Vital.TV_INSP: 0.1, Vital.TV_EXP: 0.1,
          Vital.NMT_T1: 0.1, Vital.NMT_RATIO: 0.1, Vital.NIBP_HR: 1, Vital.IMP_RR: 1,
          Vital.SPIRO_RR: 1, Vital.HR_ECG: 1, Vital.HR_MAX: 1, Vital.HR_MIN: 1,
          Vital.NMT_PTC: 1, Vital.NMT_COUNT: 1, Vital.FICO2: 1,
          **{v: 1 for v in NEW_VITALS if v.value.endswith("_hr")}}


def value_at_resolution(vital: Vital) -> st.SearchStrategy[float]:
    """Values a device can send: within the plausible range, on the field's resolution."""
    lo, hi = SPECS[vital].plausible
    if vital is Vital.AMB_PRESS:
        lo, hi = 700, 800                   # keeps the EtCO2 conversion near sea level
    if vital is Vital.FICO2:
        hi = 10
    scale = SCALES.get(vital, 0.01)
    raw_lo, raw_hi = max(math.ceil(lo / scale), -32000), min(math.floor(hi / scale), 32767)
    return st.integers(raw_lo, raw_hi).map(lambda raw: round(raw * scale, 3))


@FAST
@given(st.fixed_dictionaries({v: value_at_resolution(v) for v in NEW_VITALS}),
       st.integers(0, 99))
def test_round_trip_of_every_pushed_vital(values: dict[Vital, float], seed: int) -> None:
    encoder, codec = DatexS5Encoder(np.random.default_rng(seed)), DatexS5Codec()
    encoder.receive(codec.open_requests())
    push_all(encoder, VALUES, T)
    push_all(encoder, values, T)
    got = by_vital(run_encoder(encoder, codec, T + 1))
    for vital, value in values.items():
        assert got[vital].quality is Quality.OK, (vital, got[vital])
        assert got[vital].value == pytest.approx(value, abs=1e-9), vital
    assert got[Vital.ETCO2].value == VALUES[Vital.ETCO2]        # at the pushed pressure


def test_encoder_defaults_follow_the_scenario() -> None:
    encoder, codec = DatexS5Encoder(np.random.default_rng(5)), DatexS5Codec()
    encoder.receive(codec.open_requests())
    push_all(encoder, VALUES, T)
    got = by_vital(run_encoder(encoder, codec, T + 1))
    assert got[Vital.HR_ECG].value == VALUES[Vital.HR]
    assert got[Vital.NIBP_HR].value == VALUES[Vital.PULSE_RATE]   # pulse at the determination
    assert got[Vital.FICO2].value == 0.0
    assert got[Vital.AMB_PRESS].value == pytest.approx(encoder.amb_raw / 10)
    sourced = {Vital.HR_ECG, Vital.NIBP_HR, Vital.FICO2, Vital.AMB_PRESS}
    for vital in set(NEW_VITALS) - sourced:                       # no module: "no data"
        assert got[vital].quality is Quality.NO_VALUE, vital


def test_encoder_without_capnography_sends_the_rate_as_impedance() -> None:
    encoder, codec = DatexS5Encoder(np.random.default_rng(6)), DatexS5Codec()
    encoder.receive(codec.open_requests())
    push_all(encoder, {Vital.HR: 64, Vital.RESP_RATE: 11}, T)
    encoder.push(make_reading(Vital.PULSE_RATE, 66, T))
    got = by_vital(run_encoder(encoder, codec, T + 1))
    assert got[Vital.IMP_RR].value == 11 and got[Vital.RESP_RATE].value == 11
    assert got[Vital.FICO2].quality is Quality.NO_VALUE
    assert got[Vital.AMB_PRESS].quality is Quality.NO_VALUE
    assert Vital.NIBP_HR not in got                               # no determination yet
