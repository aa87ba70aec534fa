"""The EDF+ export read back with pyedflib's strict reader and compared with the recording."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

import numpy as np
import pyedflib
import pytest

from monitor.core.vitals import SPECS, Kind, Vital
from monitor.export.common import timeline
from monitor.export.edf_export import (
    MISSING,
    MISSING_NOTE,
    annotation_text,
    header_number,
    hold,
    scale_for,
    write_edf,
)


@pytest.fixture
def edf(tmp_path, record):
    path = write_edf(record, tmp_path / "s.edf")
    reader = pyedflib.EdfReader(str(path))
    yield record, reader
    reader.close()


def _valued(rec) -> list[Vital]:
    return [v for v in Vital if v in rec.numerics and np.isfinite(rec.numerics[v].v).any()]


def _expected_hold(rec, vital: Vital, n: int) -> np.ndarray:
    """Second by second, written out plainly: the last reading at or before k s, if recent."""
    s = rec.numerics[vital]
    origin = math.floor(rec.start)
    t = np.round(s.t - origin, 3)
    limit = math.inf if SPECS[vital].kind is Kind.DISCRETE else 10.0
    out = np.full(n, np.nan)
    j = -1
    for k in range(n):
        while j + 1 < len(t) and t[j + 1] <= k:
            j += 1
        if j >= 0 and k - t[j] <= limit:
            out[k] = s.v[j]
    return out


def test_signals_labels_rates_and_units(edf):
    rec, r = edf
    vitals = _valued(rec)
    assert r.getSignalLabels() == [SPECS[v].label for v in vitals] + ["Pleth"]
    assert list(r.getSampleFrequencies()) == [1.0] * len(vitals) + [rec.pleth.rate]
    for i, v in enumerate(vitals):
        assert r.getPhysicalDimension(i) == SPECS[v].unit.replace("°", "deg")
        lo, hi = SPECS[v].plausible
        assert r.getPhysicalMinimum(i) < lo <= hi <= r.getPhysicalMaximum(i)
        assert r.getDigitalMinimum(i) == MISSING and r.getDigitalMaximum(i) == 32767
    assert r.filetype == pyedflib.FILETYPE_EDFPLUS


def test_numerics_are_one_hertz_sample_and_hold_within_quantisation(edf):
    rec, r = edf
    for i, v in enumerate(_valued(rec)):
        digital = r.readSignal(i, digital=True)
        physical = r.readSignal(i)
        want = _expected_hold(rec, v, len(digital))
        step = (r.getPhysicalMaximum(i) - r.getPhysicalMinimum(i)) / 65535
        missing = digital == MISSING
        np.testing.assert_array_equal(missing, np.isnan(want), err_msg=v.value)
        np.testing.assert_allclose(physical[~missing], want[~missing], atol=step / 2 + 1e-9,
                                   err_msg=v.value)
        assert not missing.all()


def test_nibp_is_held_until_the_next_determination(typical, tmp_path):
    r = pyedflib.EdfReader(str(write_edf(typical, tmp_path / "s.edf")))
    try:
        i = r.getSignalLabels().index("NIBP sys")
        sys = r.readSignal(i)
        nibp = typical.numerics[Vital.NIBP_SYS]
        k0 = int(np.ceil(round(nibp.t[0] - math.floor(typical.start), 3)))
        assert (r.readSignal(i, digital=True)[:k0] == MISSING).all()
        gap = np.diff(nibp.t).max()
        assert gap > 60                                  # determinations minutes apart
        assert np.unique(np.round(sys[k0:], 3)).size <= len(nibp)
    finally:
        r.close()


def test_pleth_samples_at_their_times_and_missing_marker_in_the_gap(edf):
    rec, r = edf
    i = r.signals_in_file - 1
    digital = r.readSignal(i, digital=True)
    physical = r.readSignal(i)
    step = (r.getPhysicalMaximum(i) - r.getPhysicalMinimum(i)) / 65535
    ok = np.isfinite(rec.pleth.v)
    idx = np.round((rec.pleth.t[ok] - math.floor(rec.start)) * rec.pleth.rate).astype(int)
    np.testing.assert_allclose(physical[idx], rec.pleth.v[ok], atol=step / 2 + 1e-9)
    assert (digital[idx] != MISSING).all()
    others = np.ones(len(digital), bool)
    others[idx] = False
    assert (digital[others] == MISSING).all()          # nothing invented between runs
    if (~ok).sum() > 1:                                  # the sensor-off gap
        assert (digital == MISSING).sum() >= 25 * rec.pleth.rate


def test_annotations_are_the_timeline_with_the_missing_marker_first(edf):
    rec, r = edf
    onsets, durations, texts = r.readAnnotations()
    origin = math.floor(rec.start)
    markers = timeline(rec)
    assert texts[0] == MISSING_NOTE and onsets[0] == 0
    assert len(texts) == len(markers) + 1
    got = sorted(zip(onsets[1:], texts[1:], durations[1:], strict=True))
    want = sorted((m.t - origin, annotation_text(m.text),
                   -1.0 if m.duration is None else m.duration) for m in markers)
    for (go, gt, gd), (wo, wt, wd) in zip(got, want, strict=True):
        assert gt == wt
        assert go == pytest.approx(wo, abs=1e-4)
        assert gd == pytest.approx(wd, abs=1e-4)
    for e in rec.events:
        assert annotation_text(f"{e.kind.label}: {e.text}") in texts


def test_alarm_annotation_spans_raised_to_cleared_and_long_texts_are_cut(typical, tmp_path):
    r = pyedflib.EdfReader(str(write_edf(typical, tmp_path / "s.edf")))
    try:
        _onsets, durations, texts = r.readAnnotations()
    finally:
        r.close()
    i = list(texts).index("ALARM medium: NIBP sys 142 > 140")
    assert durations[i] == pytest.approx(330.0, abs=1e-4)
    cut = [t for t in texts if t.startswith("Note: patient asks")]
    assert len(cut) == 1 and cut[0].endswith("...") and len(cut[0].encode()) <= 40


def test_header_has_patient_start_and_missing_marker(typical, tmp_path):
    r = pyedflib.EdfReader(str(write_edf(typical, tmp_path / "s.edf")))
    try:
        h = r.getHeader()
    finally:
        r.close()
    assert h["patientcode"] == typical.patient_ref
    assert h["admincode"] == f"session {typical.session_id}"
    assert h["recording_additional"] == f"missing={MISSING}"
    tz = timezone(timedelta(seconds=typical.utc_offset_s))
    assert h["startdate"] == datetime.fromtimestamp(math.floor(typical.start),
                                                    tz).replace(tzinfo=None)


def test_deidentified_edf_header_is_anonymous(typical, tmp_path):
    path = write_edf(typical, tmp_path / "s.edf", deidentify=True, key=b"k" * 32)
    r = pyedflib.EdfReader(str(path))
    try:
        h = r.getHeader()
        labels = r.getSignalLabels()
    finally:
        r.close()
    assert h["patientcode"].startswith("P-") and len(h["patientcode"]) == 12
    assert h["startdate"] == datetime(1985, 1, 1)
    assert h["technician"] == "" and h["admincode"] == ""
    raw = path.read_bytes()[:256]
    assert raw[88:99] == b"Startdate X" and raw[168:184] == b"01.01.8500.00.00"
    assert "HR" in labels


@pytest.mark.parametrize("lo,hi,max_step", [
    (15, 300, 0.005), (0, 100, 0.002), (-50, 350, 0.01), (0, 4, 1e-4), (300, 900, 0.01),
    (-1.0129, 1.0931, 5e-5), (999.9, 1000.2, 5e-4), (-1e6, 1e6, 50)])
def test_scale_keeps_the_plausible_range_off_the_missing_marker(lo, hi, max_step):
    s = scale_for(lo, hi)
    d = s.digital(np.array([lo, hi, (lo + hi) / 2, np.nan]))
    assert d[0] > MISSING and d[1] <= 32767 and d[3] == MISSING
    back = s.pmin + (d[:3].astype(float) - MISSING) * s.step
    np.testing.assert_allclose(back, [lo, hi, (lo + hi) / 2], atol=s.step / 2 + 1e-12)
    assert len(str(header_number(s.pmin))) <= 8 and len(str(header_number(s.pmax))) <= 8
    assert s.step == pytest.approx(max_step)


def test_hold_counts_a_reading_from_its_millisecond_and_ends_on_no_value_or_age():
    t = np.array([0.9996, 2.0006, 3.5, 4.0])
    v = np.array([1.0, 2.0, np.nan, 4.0])
    out = hold(t, v, 16, 1.0, 10.0)
    np.testing.assert_array_equal(out[:5], [np.nan, 1.0, 1.0, 2.0, 4.0])
    assert (out[5:15] == 4.0).all() and np.isnan(out[15])      # held 10 s, then stale
    assert (hold(t, v, 30, 1.0, None)[4:] == 4.0).all()          # NIBP: until the next one
