"""The .vital export read back with vitaldb and compared with the recording."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from monitor.core.vitals import SPECS, Vital
from monitor.export.common import timeline
from monitor.export.vital_export import montype, track_name, write_vital
from tests.export.helpers import read_vital

MONTYPES = {"HR": 2, "PLETH_HR": 9, "PLETH_SPO2": 10, "NIBP_SBP": 16, "NIBP_DBP": 17,
            "NIBP_MBP": 18, "RR": 12, "ETCO2": 15, "BT": 19, "PLETH": 8}


@pytest.fixture
def vital(tmp_path, record):
    path = write_vital(record, tmp_path / "s.vital")
    return record, read_vital(path)


def test_numerics_are_sparse_num_tracks_with_the_recorded_values_and_times(vital):
    rec, vf = vital
    valued = [v for v, s in rec.numerics.items() if np.isfinite(s.v).any()]
    names = {f"Monitor/{track_name(v)}" for v in valued}
    assert names | {"Monitor/PLETH", "EVENT"} == set(vf.trks)
    for v in valued:
        trk = vf.trks[f"Monitor/{track_name(v)}"]
        t, val = rec.numerics[v].valid()
        assert trk.type == 2 and trk.unit == SPECS[v].unit
        got_t = np.array([r["dt"] for r in trk.recs])
        got_v = np.array([r["val"] for r in trk.recs])
        np.testing.assert_array_equal(got_t, t)
        np.testing.assert_array_equal(got_v, val.astype(np.float32))


def test_montype_codes_follow_vitalrecorder(vital):
    _, vf = vital
    seen = {k.split("/")[1]: t.montype for k, t in vf.trks.items() if k.startswith("Monitor/")}
    for name, code in seen.items():
        assert code == MONTYPES.get(name, 0), name
    assert {"HR", "PLETH_SPO2", "NIBP_SBP", "PLETH"} <= set(seen)
    assert montype(Vital.ETCO2) == 15 and montype(Vital.P1_SYS) == 0


def test_pleth_is_one_wav_track_at_its_rate_with_the_recorded_samples(vital):
    rec, vf = vital
    trk = vf.trks["Monitor/PLETH"]
    assert trk.type == 1 and trk.srate == rec.pleth.rate
    assert len(trk.recs) == 1                       # packed: gaps are NaN inside
    r = trk.recs[0]
    first = np.flatnonzero(np.isfinite(rec.pleth.v))[0]
    assert r["dt"] == rec.pleth.t[first]
    samples = np.asarray(r["val"])
    np.testing.assert_array_equal(samples[np.isfinite(samples)],
                                  rec.pleth.v[np.isfinite(rec.pleth.v)].astype(np.float32))
    # each sample sits at its recorded time
    idx = np.round((rec.pleth.t[np.isfinite(rec.pleth.v)] - r["dt"]) * trk.srate).astype(int)
    np.testing.assert_array_equal(samples[idx], rec.pleth.v[np.isfinite(rec.pleth.v)])


def test_the_sensor_off_gap_is_nan_in_the_wave_and_absent_from_the_numerics(datex, tmp_path):
    vf = read_vital(write_vital(datex, tmp_path / "d.vital"))
    samples = np.asarray(vf.trks["Monitor/PLETH"].recs[0]["val"])
    assert np.isnan(samples).sum() >= 25 * datex.pleth.rate
    spo2_t = [r["dt"] for r in vf.trks["Monitor/PLETH_SPO2"].recs]
    off = datex.numerics[Vital.SPO2].t[np.isnan(datex.numerics[Vital.SPO2].v)]
    assert len(off) >= 25 and not set(off) & set(spo2_t)


def test_events_track_holds_the_timeline(vital):
    rec, vf = vital
    got = [(r["dt"], r["val"]) for r in vf.trks["EVENT"].recs]
    want = [(m.t, m.text) for m in timeline(rec)]
    assert sorted(got) == sorted(want)
    texts = [v for _, v in got]
    for e in rec.events:
        assert any(e.kind.label in x and e.text in x for x in texts)


def test_header_times_and_device(typical, tmp_path):
    vf = read_vital(write_vital(typical, tmp_path / "s.vital"))
    assert vf.dtstart == pytest.approx(typical.start)
    assert vf.dgmt == -(typical.utc_offset_s // 60)
    assert vf.devs["Monitor"].port == typical.session.source
    assert "ALARM medium: NIBP sys 142 > 140" in [r["val"] for r in vf.trks["EVENT"].recs]


def test_deidentified_vital_starts_at_zero_without_port_or_time_stamp(typical, tmp_path):
    path = write_vital(typical, tmp_path / "s.vital", deidentify=True, key=b"k" * 32)
    vf = read_vital(path)
    assert vf.dgmt == 0 and vf.devs["Monitor"].port == ""
    hr = vf.trks["Monitor/HR"].recs
    t, _ = typical.numerics[Vital.HR].valid()
    np.testing.assert_allclose([r["dt"] for r in hr], t - typical.start, atol=1e-6)
    assert min(r["dt"] for trk in vf.trks.values() for r in trk.recs) >= 0
    assert path.read_bytes()[4:8] == b"\0\0\0\0"        # gzip MTIME
    body = gzip.decompress(path.read_bytes())
    assert typical.session.source.encode() not in body
