"""Trend buffers are allocated for vitals that carry values, not for every vital a device names."""

from __future__ import annotations

import math

from monitor.core.reading import Quality, Reading, make_reading
from monitor.core.vitals import SUPPLEMENTARY_VITALS, Vital
from monitor.ui.live.trend_store import TrendStore

T0 = 1_760_000_000.0


def test_supplementary_vitals_without_values_get_no_buffer() -> None:
    store = TrendStore()
    for k in range(20):           # a monitor without the modules: "no data" on every record
        for vital in SUPPLEMENTARY_VITALS:
            store.add(Reading.invalid(vital, T0 + k, Quality.NO_VALUE))
    assert not any(store.has(v) for v in SUPPLEMENTARY_VITALS)
    assert store._series == {}
    store.add(make_reading(Vital.P1_SYS, 120, T0 + 20))
    store.add(Reading.invalid(Vital.P1_SYS, T0 + 21, Quality.NO_VALUE))   # a gap once valid
    t, v = store.series(Vital.P1_SYS).view()
    assert list(t) == [T0 + 20, T0 + 21] and v[0] == 120 and math.isnan(v[1])
    assert set(store._series) == {Vital.P1_SYS}


def test_shown_vitals_keep_their_gaps_from_the_first_reading() -> None:
    store = TrendStore()
    store.add(Reading.invalid(Vital.ETCO2, T0, Quality.NO_VALUE))
    assert store.has(Vital.ETCO2)


def test_history_of_supplementary_vitals_without_values_is_skipped() -> None:
    store = TrendStore()
    store.load_history([Reading.invalid(Vital.O2_FI, T0, Quality.NO_VALUE),
                        make_reading(Vital.O2_ET, 40, T0),
                        Reading.invalid(Vital.HR, T0, Quality.NO_VALUE)])
    assert not store.has(Vital.O2_FI) and store.has(Vital.O2_ET) and store.has(Vital.HR)
