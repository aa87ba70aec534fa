"""The device's numerics that are none of our vitals in the exports, read back independently."""

from __future__ import annotations

import csv
import time
from pathlib import Path

import pytest

from monitor.core.queues import BoundedQueue
from monitor.core.reading import DeviceNumeric, Quality, make_device_numeric, make_reading
from monitor.core.session import SessionStatus
from monitor.core.vitals import Vital
from monitor.export import write_export
from monitor.export.csv_export import DEVICE_NUMERIC_COLUMNS, write_csv
from monitor.review.record import SessionRecord, load_record
from monitor.storage import database
from monitor.storage.recorder import CloseSession, Recorder

T0 = 1_795_351_151.0
SRC = "intellivue-mib"


def _session(tmp_path: Path, items: list) -> SessionRecord:
    db = database.open_database(tmp_path / "data")
    sid = database.create_session(db, started_at=T0, source="serial:/dev/ttyUSB3",
                                  simulated=False, protocol=SRC)
    q = BoundedQueue(10_000, "recorder", block_when_full=True)
    rec = Recorder(db, sid, q, on_status=lambda s: None, clock_now=time.time)
    rec.start()
    for it in items:
        q.put(it)
    q.put(CloseSession(SessionStatus.COMPLETED, T0 + 60.0))
    rec.join(10)
    assert not rec.is_alive() and not rec.ever_failed
    return load_record(db, sid)


def _items() -> list:
    items: list = []
    for k in range(1, 31):
        t = T0 + k + 0.25
        items += [make_reading(Vital.HR, 70 + k % 3, t),
                  make_device_numeric(t, 0x4A15, "ART", 118.5 + k, "mmHg",
                                      device_time=t - 0.4, source=SRC),
                  make_device_numeric(t, 0x4A16, "ART", 71.0, "mmHg", source=SRC),
                  make_device_numeric(t, 0x4A17, "ABP", 90.0, "mmHg", source=SRC),
                  # never a value in the whole session: left out, like a supplementary vital
                  DeviceNumeric.invalid(t, 0x4A45, "PAP", "mmHg", Quality.NO_VALUE, source=SRC)]
        if k in (10, 11):    # the ART line flushing: no value, then back
            items[-4] = DeviceNumeric.invalid(t, 0x4A15, "ART", "mmHg", Quality.QUESTIONABLE,
                                              source=SRC)
    items.append(make_device_numeric(T0 + 40.0, 0xF0A1, "NOM_0xF0A1", 3.25, "", source=SRC))
    return items


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_csv_writes_device_numerics_in_their_own_file_by_label_and_code(tmp_path):
    record = _session(tmp_path, _items())
    out = tmp_path / "out"
    out.mkdir()
    paths = write_csv(record, out / "s.csv")
    assert [p.name for p in paths] == ["s.csv", "s-events.csv", "s-alarms.csv",
                                       "s-device-numerics.csv"]
    with open(paths[3], newline="", encoding="utf-8") as f:
        assert tuple(next(csv.reader(f))) == DEVICE_NUMERIC_COLUMNS
    rows = _rows(paths[3])
    assert {(r["label"], r["code"]) for r in rows} == {
        ("ART", str(0x4A15)), ("ART", str(0x4A16)), ("ABP", str(0x4A17)),
        ("NOM_0xF0A1", str(0xF0A1))}                 # PAP never had a value
    assert len(rows) == 30 * 3 + 1
    art = [r for r in rows if r["code"] == str(0x4A15)]
    assert [r["value"] for r in art[8:12]] == ["127.5", "", "", "130.5"]
    assert [r["quality"] for r in art[8:12]] == ["ok", "questionable", "questionable", "ok"]
    assert {r["unit"] for r in art} == {"mmHg"} and {r["source"] for r in rows} == {SRC}
    assert float(art[0]["t_s"]) == pytest.approx(1.25, abs=0.0005)
    assert art[0]["time_iso"].startswith("20")
    assert [float(r["t_s"]) for r in rows] == sorted(float(r["t_s"]) for r in rows)
    unknown = next(r for r in rows if r["label"] == "NOM_0xF0A1")
    assert (unknown["value"], unknown["unit"]) == ("3.25", "")
    # Our vitals' file is unchanged: only the vitals.
    assert {r["vital"] for r in _rows(paths[0])} == {"hr"}


def test_a_deidentified_csv_has_relative_times_and_no_device_clock(tmp_path):
    record = _session(tmp_path, _items())
    paths = write_csv(record, tmp_path / "anon.csv", deidentify=True)
    rows = _rows(paths[3])
    assert "time_iso" not in rows[0]
    assert float(rows[0]["t_s"]) == pytest.approx(1.25, abs=0.0005)
    assert str(int(T0)) not in paths[3].read_text(encoding="utf-8")


def test_no_device_numerics_no_file_and_an_older_one_is_emptied(tmp_path):
    plain = _session(tmp_path / "a", [make_reading(Vital.HR, 70, T0 + k) for k in range(1, 5)])
    with_numerics = _session(tmp_path / "b", _items())
    out = tmp_path / "out"
    out.mkdir()
    assert len(write_csv(plain, out / "x.csv")) == 3
    assert not (out / "x-device-numerics.csv").exists()
    assert len(write_csv(with_numerics, out / "x.csv")) == 4
    # Another session exported under the same name: the older numerics do not stay beside it.
    paths = write_csv(plain, out / "x.csv")
    assert [p.name for p in paths][-1] == "x-device-numerics.csv"
    assert _rows(paths[3]) == []


@pytest.mark.parametrize("fmt", ["vital", "edf", "hl7"])
def test_the_other_formats_leave_device_numerics_out_and_still_write(tmp_path, fmt):
    record = _session(tmp_path, _items())
    paths = write_export(record, fmt, tmp_path / f"s.{fmt}", deidentify=fmt == "hl7")
    assert all(p.stat().st_size > 0 for p in paths)
    assert all(b"NOM_0xF0A1" not in p.read_bytes() for p in paths)   # CSV only, for now
