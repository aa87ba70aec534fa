"""Numerics that are none of our vitals in the database: the v7 table, written and read back."""

import math
import sqlite3
import time
from dataclasses import replace

import pytest

from monitor.core.queues import BoundedQueue
from monitor.core.reading import DeviceNumeric, Quality, make_device_numeric, make_reading
from monitor.core.session import SessionStatus
from monitor.core.vitals import Vital
from monitor.review.record import load_record
from monitor.storage import database
from monitor.storage.recorder import CloseSession, Recorder
from monitor.storage.schema import MIGRATIONS, SCHEMA_VERSION, migrate
from monitor.storage.store import SessionStore

T0 = 1_795_351_151.0
ART_SYS, ART_DIA, ART_MEAN = 0x4A15, 0x4A16, 0x4A17   # the codes are whatever the device says

NUMERICS = [
    make_device_numeric(T0 + 1.0, ART_SYS, "ART", 121.0, "mmHg", device_time=T0 + 0.6,
                        source="intellivue-mib"),
    make_device_numeric(T0 + 1.0, ART_DIA, "ART", 79.5, "mmHg", device_time=T0 + 0.6,
                        source="intellivue-mib"),
    make_device_numeric(T0 + 1.0, ART_MEAN, "ABP", 93.0, "mmHg", source="intellivue-mib"),
    make_device_numeric(T0 + 2.0, 0x4B74, "Tblood", 37.25, "°C", source="intellivue-mib"),
    DeviceNumeric.invalid(T0 + 3.0, ART_SYS, "ART", "mmHg", Quality.NO_VALUE,
                          source="intellivue-mib"),
    make_device_numeric(T0 + 4.0, 0xF123, "NOM_0xF123", 7.0, "", Quality.QUESTIONABLE,
                        source="intellivue-lan"),
    make_device_numeric(T0 + 5.0, 0x4A15, "P1", 140.0, "mmHg", Quality.DEMO),
]


def _record(db, items) -> tuple[int, Recorder]:
    sid = database.create_session(db, started_at=T0, source="serial:/dev/ttyUSB0",
                                  simulated=False, protocol="intellivue-mib")
    q = BoundedQueue(1000, "recorder")
    rec = Recorder(db, sid, q, on_status=lambda s: None, clock_now=time.time)
    rec.start()
    for it in items:
        q.put(it)
    q.put(CloseSession(SessionStatus.COMPLETED, T0 + 10.0))
    rec.join(10)
    assert not rec.is_alive()
    return sid, rec


def _same(a: DeviceNumeric, b: DeviceNumeric) -> bool:
    """Equal field by field, NaN equal to NaN."""
    return (a.t, a.code, a.label, a.unit, a.quality, a.device_time, a.source) == \
        (b.t, b.code, b.label, b.unit, b.quality, b.device_time, b.source) and \
        (a.value == b.value or (math.isnan(a.value) and math.isnan(b.value)))


def test_a_fresh_database_has_the_device_numerics_table_and_index(tmp_path):
    db = database.open_database(tmp_path / "data")
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION >= 7
        cols = [r[1] for r in conn.execute("PRAGMA table_info(device_numerics)")]
        index = [r[1] for r in conn.execute("PRAGMA index_list(device_numerics)")]
    assert cols == ["session_id", "t", "code", "label", "value", "unit", "quality",
                    "device_time", "source"]
    assert "device_numerics_by_session" in index


def test_the_recorder_writes_device_numerics_and_the_store_reads_them_back(tmp_path):
    db = database.open_database(tmp_path / "data")
    reading = make_reading(Vital.HR, 72.0, T0 + 1.0)
    sid, rec = _record(db, [reading, *NUMERICS])
    assert rec.committed_device_numerics == len(NUMERICS)
    assert rec.committed_readings == 1
    with SessionStore(db) as store:
        got = store.device_numerics(sid)
        later = store.device_numerics(sid, since=T0 + 3.0)
        # Kept apart: the readings table has only our vitals. Recorded without a source,
        # the reading is read back as the session's only source's.
        assert store.readings(sid) == [replace(reading, source="IntelliVue")]
    assert len(got) == len(NUMERICS)
    assert all(_same(a, b) for a, b in zip(got, NUMERICS, strict=True))
    assert [n.t for n in later] == [T0 + 3.0, T0 + 4.0, T0 + 5.0]
    with sqlite3.connect(db) as conn:
        # No value is NULL (never a number), as in readings; the sessions row counts readings.
        nulls = conn.execute("SELECT quality FROM device_numerics WHERE value IS NULL"
                             " ORDER BY t").fetchall()
        count, last = conn.execute("SELECT reading_count, last_data_at FROM sessions"
                                   " WHERE id = ?", (sid,)).fetchone()
    assert nulls == [("no_value",), ("questionable",)]   # questionable carries no value
    assert count == 1
    assert last == T0 + 5.0   # the last data was a device numeric
    assert database.last_data_time(db, sid) == T0 + 5.0


def test_a_session_record_carries_its_device_numerics(tmp_path):
    db = database.open_database(tmp_path / "data")
    sid, _ = _record(db, NUMERICS)
    other, _ = _record(db, NUMERICS[:1])
    record = load_record(db, sid)
    assert len(record.device_numerics) == len(NUMERICS)
    assert all(_same(a, b) for a, b in zip(record.device_numerics, NUMERICS, strict=True))
    assert record.numerics == {}   # none of them became a vital
    assert len(load_record(db, other).device_numerics) == 1


def test_a_version_6_database_gains_the_table_and_keeps_its_data(tmp_path):
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    for version, script in enumerate(MIGRATIONS[:6]):
        for statement in [s for s in script.split(";") if s.strip()]:
            conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {version + 1}")
    conn.execute("INSERT INTO sessions (started_at, status, source) VALUES (1, 'completed', 's')")
    conn.execute("INSERT INTO readings (session_id, t, vital, value, quality)"
                 " VALUES (1, 2, 'hr', 70, 'ok')")
    # A version 6 database read without migrating (the browser does): no numerics, no error.
    with SessionStore(path) as store:
        assert store.device_numerics(1) == []
    assert database.last_data_time(path, 1) == 2
    assert migrate(conn) == 6
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("SELECT count(*) FROM device_numerics").fetchone()[0] == 0
    assert conn.execute("SELECT value FROM readings").fetchall() == [(70.0,)]
    conn.close()


def test_device_numerics_keep_the_invariant_of_readings():
    assert make_device_numeric(0.0, 1, "X", math.inf, "").quality is Quality.NO_VALUE
    assert math.isnan(make_device_numeric(0.0, 1, "X", None, "").value)
    off = make_device_numeric(0.0, 1, "X", 12.0, "", Quality.SENSOR_OFF)
    assert math.isnan(off.value) and not off.valid
    assert make_device_numeric(0.0, 1, "X", 12, "", Quality.DEMO).value == 12.0
    with pytest.raises(ValueError, match="carries a value"):
        DeviceNumeric.invalid(0.0, 1, "X", "", Quality.OK)


def test_a_numeric_sqlite_cannot_hold_is_skipped_and_recording_goes_on(tmp_path):
    import numpy as np

    db = database.open_database(tmp_path / "data")
    bad = DeviceNumeric(T0 + 1.0, 2**70, "HUGE", 1.0, "")          # no 64-bit integer
    odd = DeviceNumeric(T0 + 2.0, np.int64(0x4A15), "ART", np.float32(120.5), "mmHg")
    good = make_device_numeric(T0 + 3.0, 0x4A16, "ART", 80.0, "mmHg")
    sid, rec = _record(db, [bad, odd, good, make_reading(Vital.HR, 70.0, T0 + 3.0)])
    assert not rec.ever_failed
    assert rec.committed_device_numerics == 2 and rec.committed_readings == 1
    with SessionStore(db) as store:
        got = store.device_numerics(sid)
    assert [(n.code, n.label, n.value) for n in got] == [(0x4A15, "ART", 120.5),
                                                        (0x4A16, "ART", 80.0)]
