"""A recorded session of two devices, loaded for review (issue 16 §2, §5).

The series of a vital is what the nurse was shown: the readings of the device
selected at each moment, never the two devices' values interleaved; each
device's own series and a source filter give the rest.
"""

from __future__ import annotations

import numpy as np
import pytest

from monitor.core.events import ClockOffset
from monitor.core.reading import make_reading
from monitor.core.vitals import Vital
from monitor.review.record import RecordError, load_record
from monitor.review.summary import summarize
from monitor.storage import database
from tests.review.two_devices import T0, record, record_two_devices


@pytest.fixture
def two(tmp_path):
    return record_two_devices(tmp_path)


def test_the_series_is_the_shown_device_at_each_moment(two):
    db, sid = two
    rec = load_record(db, sid)
    assert rec.several_sources and [s.name for s in rec.sources] == ["Masimo", "Datex S/5"]
    spo2 = rec.numerics[Vital.SPO2]
    rel = spo2.t - T0
    from_masimo = (rel < 20) | (rel >= 40)
    # One value per second, never the two devices' values interleaved.
    assert len(spo2) == 60
    assert np.all(spo2.v[from_masimo] == 97) and np.all(spo2.v[~from_masimo] == 91)
    assert set(spo2.source[from_masimo]) == {"Masimo"}
    assert set(spo2.source[~from_masimo]) == {"Datex S/5"}
    assert rec.shown_sources(Vital.SPO2) == ["Masimo", "Datex S/5"]
    # Blood pressure: the typed one and the device's, both shown.
    assert list(rec.numerics[Vital.NIBP_SYS].v) == [131, 142]
    assert rec.pleth is not None and set(np.unique(rec.pleth.v[np.isfinite(rec.pleth.v)])) \
        == {1.0}
    assert [(s.vital, s.source, s.reason) for s in rec.selections][:3] == [
        (Vital.SPO2, "Masimo", "start"), (Vital.PLETH, "Masimo", "start"),
        (Vital.HR, "Datex S/5", "start")]
    assert rec.clock_offsets == [ClockOffset(T0 + 3, "Datex S/5", -4.0)]
    # Each device's own series is there too.
    assert np.all(rec.by_source["Datex S/5"][Vital.SPO2].v == 91)
    assert len(rec.by_source["Masimo"][Vital.SPO2]) == 60


def test_the_summary_counts_the_shown_values_only(two):
    db, sid = two
    spo2 = summarize(load_record(db, sid)).vitals[Vital.SPO2]
    # The Datex's 91 was shown from 20 to 40 s; its 91s before and after never were.
    assert (spo2.lowest, spo2.peak) == (91, 97)
    assert spo2.lowest_t - T0 == pytest.approx(20.5)
    assert spo2.end == 97


def test_the_source_filter_gives_one_device(two):
    db, sid = two
    datex = load_record(db, sid, source="Datex S/5")
    assert datex.source_filter == "Datex S/5"
    assert np.all(datex.numerics[Vital.SPO2].v == 91) and len(datex.numerics[Vital.SPO2]) == 60
    # The typed blood pressure belongs to the session, so to every filter.
    assert list(datex.numerics[Vital.NIBP_SYS].v) == [131, 142]
    masimo = load_record(db, sid, source="Masimo")
    assert Vital.HR not in masimo.numerics
    assert list(masimo.numerics[Vital.NIBP_SYS].v) == [131]
    assert set(np.unique(masimo.pleth.v[np.isfinite(masimo.pleth.v)])) == {1.0}
    assert set(np.unique(datex.pleth.v[np.isfinite(datex.pleth.v)])) == {2.0}
    with pytest.raises(RecordError, match="no source 'Nonin'.*'Masimo', 'Datex S/5'"):
        load_record(db, sid, source="Nonin")


def test_a_session_of_one_source_reads_as_before(tmp_path):
    db = database.open_database(tmp_path / "data")
    sid = database.create_session(db, started_at=T0, source="sim:typical", simulated=True)
    record(db, sid, [make_reading(Vital.SPO2, 96 + (s % 2), T0 + s) for s in range(10)])
    rec = load_record(db, sid)
    assert not rec.several_sources and rec.by_source == {} and rec.selections == []
    assert list(rec.numerics[Vital.SPO2].v) == [96 + (s % 2) for s in range(10)]
