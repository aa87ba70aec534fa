"""Exports of a session of two sources (issue 16 §3): each value with its device, none lost.

A Masimo oximeter and a Datex S/5 monitor both measure SpO2 (and pulse
rate); the Datex alone HR and NIBP; the nurse types one NIBP in. The
session is recorded through the app's own recorder into a real SQLite file,
loaded with :func:`monitor.export.load_export_record`, written in every
format and read back with the independent readers (csv, vitaldb, pyedflib,
hl7apy). Each device's values are distinct, so a value under the wrong
device shows.
"""

from __future__ import annotations

import gzip
import time
from collections import Counter

import numpy as np
import pyedflib
import pytest
from hl7apy.parser import parse_message

from monitor.core.events import Selection, SourceInfo
from monitor.core.queues import BoundedQueue
from monitor.core.reading import Quality, WaveChunk, make_reading
from monitor.core.session import SessionStatus
from monitor.core.vitals import SPECS, Vital
from monitor.export import load_export_record, write_export
from monitor.export.common import ExportError, timeline
from monitor.export.csv_export import READING_COLUMNS, SOURCE_COLUMNS, write_csv
from monitor.export.edf_export import annotation_text, signal_label, unique_labels, write_edf
from monitor.export.hl7 import session_messages
from monitor.export.vital_export import write_vital
from monitor.review.record import load_record
from monitor.storage import database
from monitor.storage.recorder import CloseSession, Recorder
from monitor.storage.store import SessionStore
from tests.export.helpers import read_csv, read_vital
from tests.integration.helpers import run_monitor

T0 = 1_795_351_151.0
N = 40
MASIMO = SourceInfo("Masimo", "serial:/dev/ttyUSB0", "masimo-ascii", False, "oximeter",
                    frozenset({Vital.SPO2, Vital.PULSE_RATE, Vital.PLETH}), "9600 8N1")
DATEX = SourceInfo("Datex S/5", "serial:/dev/ttyUSB1", "datex-s5", False, "monitor", None,
                   "19200 8E1")
VALUES = {("Masimo", Vital.SPO2): 97.0, ("Masimo", Vital.PULSE_RATE): 70.0,
          ("Datex S/5", Vital.SPO2): 94.0, ("Datex S/5", Vital.PULSE_RATE): 74.0,
          ("Datex S/5", Vital.HR): 72.0}
NIBP_DATEX = {Vital.NIBP_SYS: 121.0, Vital.NIBP_DIA: 79.0, Vital.NIBP_MEAN: 93.0}
NIBP_TYPED = {Vital.NIBP_SYS: 131.0, Vital.NIBP_DIA: 85.0}
SENSOR_OFF = range(12, 20)
"""Seconds where the Masimo sent SpO2 without a value (probe off): the Datex was shown."""


def _wave(t0: float, source: str, level: float, rate: float) -> WaveChunk:
    n = int(rate)
    return WaveChunk(Vital.PLETH, t0, rate, np.full(n, level, dtype=np.float32), source=source)


@pytest.fixture(scope="module")
def two(tmp_path_factory):
    """The database, the session id and its record for export."""
    db = database.open_database(tmp_path_factory.mktemp("multi") / "data")
    sid = database.create_session(db, started_at=T0, source="serial:/dev/ttyUSB0",
                                  simulated=False, protocol="masimo-ascii",
                                  sources=(MASIMO, DATEX))
    items: list = [Selection(T0, Vital.SPO2, "Masimo", "start"),
                   Selection(T0, Vital.PULSE_RATE, "Masimo", "start"),
                   Selection(T0 + 0.2, Vital.HR, "Datex S/5", "start")]
    for s in range(N):
        t = T0 + s
        for (name, vital), value in VALUES.items():
            dt = 0.0 if name == "Masimo" else 0.2
            if name == "Masimo" and vital is Vital.SPO2 and s in SENSOR_OFF:
                items.append(make_reading(vital, float("nan"), t + dt, Quality.SENSOR_OFF,
                                          source=name))
            else:
                items.append(make_reading(vital, value, t + dt, source=name))
        items.append(_wave(t, "Masimo", 1.0, 100.0))
        items.append(_wave(t + 0.2, "Datex S/5", 2.0, 50.0))
    items.append(Selection(T0 + 12, Vital.SPO2, "Datex S/5", "sensor", "Masimo"))
    items.append(Selection(T0 + 25, Vital.SPO2, "Masimo", "returned", "Datex S/5"))
    for vital, value in NIBP_DATEX.items():
        items.append(make_reading(vital, value, T0 + 10.5, source="Datex S/5"))
    items.append(Selection(T0 + 10.5, Vital.NIBP_SYS, "Datex S/5", "start"))
    for vital, value in NIBP_TYPED.items():
        items.append(make_reading(vital, value, T0 + 30.0, Quality.MANUAL))
    q: BoundedQueue = BoundedQueue(10_000, "recorder")
    rec = Recorder(db, sid, q, on_status=lambda s: None, clock_now=time.time)
    rec.start()
    for it in items:
        q.put(it)
    q.put(CloseSession(SessionStatus.COMPLETED, T0 + N))
    rec.join(10)
    assert not rec.is_alive() and not rec.ever_failed
    return db, sid, load_export_record(db, sid)


def _stored(db, sid) -> Counter:
    """Every reading in the database: (vital, t ms, value or None, source)."""
    with SessionStore(db) as store:
        return Counter((r.vital.value, round((r.t - T0) * 1000),
                        None if np.isnan(r.value) else r.value, r.source)
                       for r in store.readings(sid))


def test_the_csv_has_every_reading_once_with_its_device_and_whether_it_was_shown(two, tmp_path):
    db, sid, record = two
    readings, *_ = write_csv(record, tmp_path / "s.csv")
    with open(readings, encoding="utf-8") as f:
        assert tuple(f.readline().strip().split(",")) == READING_COLUMNS + SOURCE_COLUMNS
    rows = read_csv(readings)
    got = Counter((r["vital"], round(float(r["t_s"]) * 1000),
                   float(r["value"]) if r["value"] else None, r["source"]) for r in rows)
    assert got == _stored(db, sid)             # nothing lost, nothing moved to another device
    for r in rows:
        if r["source"] and r["vital"] in {"spo2", "pulse_rate", "hr"} and r["value"]:
            assert float(r["value"]) == VALUES[(r["source"], Vital(r["vital"]))]
    typed = [r for r in rows if r["manual"] == "1"]
    assert {(r["vital"], r["value"], r["source"], r["shown"]) for r in typed} == {
        ("nibp_sys", "131.0", "", "1"), ("nibp_dia", "85.0", "", "1")}
    spo2 = [r for r in rows if r["vital"] == "spo2"]
    for r in spo2:
        second = int(float(r["t_s"]))
        datex_shown = 12 <= second < 25
        assert r["shown"] == ("1" if (r["source"] == "Datex S/5") == datex_shown else "0"), r
    assert {r["shown"] for r in rows if r["vital"] == "hr"} == {"1"}
    pr = {(r["source"], r["shown"]) for r in rows if r["vital"] == "pulse_rate"}
    assert pr == {("Masimo", "1"), ("Datex S/5", "0")}


def test_the_vital_file_has_a_device_per_source_with_its_own_tracks(two, tmp_path):
    _, _, record = two
    vf = read_vital(write_vital(record, tmp_path / "s.vital"))
    assert {n: (d.type, d.port) for n, d in vf.devs.items()} == {
        "Masimo": ("masimo-ascii", "serial:/dev/ttyUSB0"),
        "Datex S-5": ("datex-s5", "serial:/dev/ttyUSB1"),
        "Manual": ("InfusionMonitor", "")}
    assert set(vf.trks) == {
        "Masimo/PLETH_SPO2", "Masimo/PLETH_HR", "Masimo/PLETH",
        "Datex S-5/PLETH_SPO2", "Datex S-5/PLETH_HR", "Datex S-5/HR", "Datex S-5/PLETH",
        "Datex S-5/NIBP_SBP", "Datex S-5/NIBP_DBP", "Datex S-5/NIBP_MBP",
        "Manual/NIBP_SBP", "Manual/NIBP_DBP", "EVENT"}
    device = {"Masimo": "Masimo", "Datex S-5": "Datex S/5"}
    for name, trk in vf.trks.items():
        dev, _, track = name.partition("/")
        assert trk.dname == (dev if track else "")
        values = {float(r["val"]) for r in trk.recs} if trk.type == 2 else None
        if track in ("PLETH_SPO2", "PLETH_HR", "HR"):
            vital = {"PLETH_SPO2": Vital.SPO2, "PLETH_HR": Vital.PULSE_RATE,
                     "HR": Vital.HR}[track]
            assert values == {VALUES[(device[dev], vital)]}
    spo2_masimo = vf.trks["Masimo/PLETH_SPO2"].recs
    assert len(spo2_masimo) == N - len(SENSOR_OFF)   # the probe-off readings had no value
    assert [r["val"] for r in vf.trks["Datex S-5/NIBP_SBP"].recs] == [121.0]
    assert [r["val"] for r in vf.trks["Manual/NIBP_SBP"].recs] == [131.0]
    masimo, datex = vf.trks["Masimo/PLETH"], vf.trks["Datex S-5/PLETH"]
    assert (masimo.srate, datex.srate) == (100.0, 50.0)
    assert set(np.unique(np.concatenate([r["val"] for r in masimo.recs]))) == {1.0}
    assert set(np.unique(np.concatenate([r["val"] for r in datex.recs]))) == {2.0}
    events = [r["val"] for r in vf.trks["EVENT"].recs]
    assert "SpO2 from Datex S/5: Masimo sensor problem" in events
    assert "SpO2 from Masimo: Masimo valid again" in events


def test_the_deidentified_vital_file_names_the_devices_but_no_port(two, tmp_path):
    _, _, record = two
    path = write_vital(record, tmp_path / "d.vital", deidentify=True, key=b"k" * 32)
    vf = read_vital(path)
    assert {n: d.port for n, d in vf.devs.items()} == {"Masimo": "", "Datex S-5": "",
                                                       "Manual": ""}
    assert b"ttyUSB" not in path.read_bytes()
    assert min(r["dt"] for r in vf.trks["Masimo/PLETH_SPO2"].recs) == pytest.approx(0.0)


def _edf(path):
    r = pyedflib.EdfReader(str(path))
    try:
        labels = r.getSignalLabels()
        transducers = [r.getTransducer(i) for i in range(r.signals_in_file)]
        data = {lab: r.readSignal(i) for i, lab in enumerate(labels)}
        _, _, texts = r.readAnnotations()
    finally:
        r.close()
    return labels, transducers, data, list(texts)


def test_the_edf_has_a_signal_per_vital_and_device_labelled_with_the_device(two, tmp_path):
    _, _, record = two
    labels, transducers, data, texts = _edf(write_edf(record, tmp_path / "s.edf"))
    assert labels == ["HR Datex S/5", "PR Masimo", "PR Datex S/5", "SpO2 Masimo",
                      "SpO2 Datex S/5", "NIBP sys Datex S", "NIBP sys Manual",
                      "NIBP dia Datex S", "NIBP dia Manual", "NIBP mean Datex", "Pleth Masimo",
                      "Pleth Datex S/5"]
    assert transducers[labels.index("SpO2 Masimo")] == "Masimo (masimo-ascii)"
    assert transducers[labels.index("SpO2 Datex S/5")] == "Datex S/5 (datex-s5)"
    assert transducers[labels.index("NIBP sys Manual")] == "typed in by the nurse"
    for label, (device, vital) in {"SpO2 Masimo": ("Masimo", Vital.SPO2),
                                   "SpO2 Datex S/5": ("Datex S/5", Vital.SPO2),
                                   "PR Masimo": ("Masimo", Vital.PULSE_RATE),
                                   "HR Datex S/5": ("Datex S/5", Vital.HR)}.items():
        lo = SPECS[vital].plausible[0]
        held = data[label][data[label] > lo]       # digital -32768 (no data) reads below
        assert len(held) >= 20
        np.testing.assert_allclose(held, VALUES[(device, vital)], atol=0.01)
    assert np.nanmax(data["NIBP sys Manual"]) == pytest.approx(131.0, abs=0.01)
    assert np.nanmax(data["NIBP sys Datex S"]) == pytest.approx(121.0, abs=0.01)
    assert annotation_text("SpO2 from Datex S/5: Masimo sensor problem") in texts


def test_edf_labels_keep_the_vital_whole_and_stay_unique():
    assert signal_label("NIBP sys", "IntelliVue 2") == "NIBP sys Intel 2"
    assert signal_label("NIBP mean", "IntelliVue 2") == "NIBP mean Inte 2"
    assert signal_label("SpO2", "") == "SpO2"
    labels = unique_labels(["SpO2 Datex S/5 A", "SpO2 Datex S/5 A"])
    assert labels[0] != labels[1] and labels[1].endswith("~2") and len(labels[1]) <= 16


def test_hl7_names_the_device_of_each_value_in_obx_18_and_obx_4(two, tmp_path):
    db, sid, record = two
    sent: Counter = Counter()
    mds = {"Masimo": "1", "Datex S/5": "2", "": "3"}
    for er7 in session_messages(record, deidentify=True, key=b"k" * 32):
        msg = parse_message(er7, find_groups=True)
        obxs = [seg for seg in msg.children[1].children if seg.name == "ORU_R01_ORDER_OBSERVATION"]
        keys = set()
        for group in obxs[0].children:
            if group.name != "ORU_R01_OBSERVATION":
                continue
            obx = group.obx
            device = obx.obx_18.ei_1.to_er7() if obx.obx_18.children else ""
            namespace = obx.obx_18.ei_2.to_er7() if obx.obx_18.children else ""
            assert namespace == {"Masimo": "masimo-ascii", "Datex S/5": "datex-s5",
                                 "": ""}[device]
            assert obx.obx_4.to_er7().split(".")[0] == mds[device]
            code = int(obx.obx_3.cwe_1.to_er7())
            vital = next(v for v in Vital if SPECS[v].mdc_code == code)
            assert (vital, device) not in keys        # never twice in one message
            keys.add((vital, device))
            sent[(vital.value, float(obx.obx_5.to_er7()), device)] += 1
    want: Counter = Counter()
    for (vital, _, value, source), n in _stored(db, sid).items():
        if value is not None and SPECS[Vital(vital)].mdc_code is not None:
            want[(vital, value, source)] += n
    assert sent == want


def test_a_plain_record_of_two_sources_is_refused_rather_than_misattributed(two, tmp_path):
    db, sid, _ = two
    plain = load_record(db, sid)
    for fmt in ("csv", "vital", "edf", "hl7"):
        with pytest.raises(ExportError, match="several sources"):
            write_export(plain, fmt, tmp_path / f"s.{fmt}", deidentify=True, key=b"k" * 32)
    assert not list(tmp_path.iterdir())


def test_the_timeline_has_the_selections_only_with_several_sources(two, typical):
    _, _, record = two
    texts = [m.text for m in timeline(record)]
    assert texts.count("SpO2 from Masimo") == 1
    assert not [m for m in timeline(typical) if " from " in m.text]


@pytest.mark.parametrize("fmt", ["csv", "vital", "edf", "hl7"])
def test_deidentified_exports_of_two_sources_carry_no_port_or_setting(two, tmp_path, fmt):
    _, _, record = two
    paths = write_export(record, fmt, tmp_path / f"s.{fmt}", deidentify=True, key=b"k" * 32)
    for path in paths:
        data = path.read_bytes()
        if fmt == "vital":
            data = gzip.decompress(data)
        for secret in (b"ttyUSB", b"9600", b"19200", b"serial:/"):
            assert secret not in data, (path, secret)
    text = b"".join(p.read_bytes() for p in paths)
    if fmt in ("csv", "hl7"):
        assert b"Datex S/5" in text and b"Masimo" in text     # the devices stay named


def test_the_command_line_exports_a_session_of_two_sources(two, tmp_path):
    db, sid, _ = two
    out = tmp_path / "s.csv"
    proc = run_monitor("export", str(sid), "--format", "csv", "-o", str(out),
                       "--data-dir", str(db.parent), timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert {r["source"] for r in read_csv(out)} == {"Masimo", "Datex S/5", ""}
