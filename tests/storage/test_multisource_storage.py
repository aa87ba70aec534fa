"""Several sources in one session (schema v8): recorded through the real recorder, read back
per source, old databases migrated, resumed sessions merged by name."""

import json
import sqlite3
import time

import numpy as np
import pytest

from monitor.core.events import ClockOffset, RawBytes, Selection, SourceInfo
from monitor.core.queues import BoundedQueue
from monitor.core.reading import Quality, WaveChunk, make_device_numeric, make_reading
from monitor.core.session import SessionStatus
from monitor.core.vitals import Vital
from monitor.devices.protocols import PROTOCOLS, codec_class
from monitor.storage import database
from monitor.storage.recorder import CloseSession, Recorder
from monitor.storage.schema import MIGRATIONS, OLD_DEVICE_NAMES, OLD_OXIMETERS, migrate
from monitor.storage.store import SessionStore

T0 = 1_795_351_151.0
MASIMO = SourceInfo("Masimo", "serial:/dev/ttyUSB0", "masimo-ascii", False, "oximeter",
                    frozenset({Vital.SPO2, Vital.PULSE_RATE, Vital.PLETH}), "9600 8N1")
DATEX = SourceInfo("Datex S/5", "serial:/dev/ttyUSB1", "datex-s5", False, "monitor", None,
                   "19200 8E1")


def _record(db, sid, items):
    q = BoundedQueue(10_000, "recorder")
    rec = Recorder(db, sid, q, on_status=lambda s: None, clock_now=time.time)
    rec.start()
    for it in items:
        q.put(it)
    q.put(CloseSession(SessionStatus.COMPLETED, T0 + 100.0))
    rec.join(10)
    assert not rec.is_alive()
    return rec


def _wave(t0, source, n=100, rate=100.0, level=0.0):
    return WaveChunk(Vital.PLETH, t0, rate, np.full(n, level, dtype=np.float32),
                     source=source)


@pytest.fixture
def two(tmp_path):
    """A session of a Masimo and a Datex S/5: both measure SpO2 and pulse rate."""
    db = database.open_database(tmp_path / "data")
    sid = database.create_session(db, started_at=T0, source="serial:/dev/ttyUSB0",
                                  simulated=False, protocol="masimo-ascii",
                                  serial_settings="9600 8N1", sources=(MASIMO, DATEX))
    items = []
    for s in range(20):
        t = T0 + s
        items.append(make_reading(Vital.SPO2, 97 - (s >= 10), t, source="Masimo"))
        items.append(make_reading(Vital.SPO2, 95, t + 0.2, source="Datex S/5"))
        items.append(make_reading(Vital.PULSE_RATE, 70, t, source="Masimo"))
        items.append(make_reading(Vital.HR, 72, t + 0.2, source="Datex S/5"))
        # The two pleths arrive interleaved, each contiguous with its own previous chunk.
        items.append(_wave(t, "Masimo", level=1.0))
        items.append(_wave(t + 0.2, "Datex S/5", level=2.0))
        items.append(RawBytes(t, b"M%d" % s, source="Masimo"))
        items.append(RawBytes(t + 0.2, b"D%d" % s, source="Datex S/5"))
    items.append(make_reading(Vital.NIBP_SYS, 131, T0 + 5, Quality.MANUAL))
    items.append(make_device_numeric(T0 + 3, 0x4A15, "ART", 120.0, "mmHg", source="Datex S/5"))
    items += [Selection(T0, Vital.SPO2, "Masimo", "start"),
              Selection(T0 + 12, Vital.SPO2, "Datex S/5", "sensor", "Masimo"),
              Selection(T0 + 18, Vital.SPO2, "Masimo", "returned", "Datex S/5"),
              ClockOffset(T0 + 2, "Datex S/5", -3.5), ClockOffset(T0 + 15, "Datex S/5", -5.0)]
    rec = _record(db, sid, items)
    return db, sid, rec


def test_a_two_source_session_is_read_back_per_source(two):
    db, sid, rec = two
    assert rec.committed_readings == 81
    with SessionStore(db) as store:
        assert [s.name for s in store.sources(sid)] == ["Masimo", "Datex S/5"]
        first = store.sources(sid)[0]
        assert (first.label, first.protocol, first.kind, first.settings, first.simulated) \
            == ("serial:/dev/ttyUSB0", "masimo-ascii", "oximeter", "9600 8N1", False)
        spo2 = store.readings(sid, Vital.SPO2)
        assert len(spo2) == 40
        assert {r.source for r in spo2} == {"Masimo", "Datex S/5"}
        masimo = store.readings(sid, vitals=[Vital.SPO2], source="Masimo")
        datex = store.readings(sid, vitals=[Vital.SPO2], source="Datex S/5")
        assert [r.value for r in masimo] == [97.0] * 10 + [96.0] * 10
        assert [r.value for r in datex] == [95.0] * 20
        assert all(r.source == "Datex S/5" for r in datex)
        # A typed reading belongs to no device, not even the first.
        [manual] = store.readings(sid, Vital.NIBP_SYS)
        assert manual.source == "" and manual.quality is Quality.MANUAL
        assert store.readings(sid, Vital.NIBP_SYS, source="Masimo") == []
        assert [r.vital for r in store.readings(sid, source="Datex S/5")].count(Vital.HR) == 20
        # Waves: never merged across two devices; each device's merged into long rows.
        mw = store.waves(sid, Vital.PLETH, source="Masimo")
        dw = store.waves(sid, Vital.PLETH, source="Datex S/5")
        assert sum(len(c) for c in mw) == sum(len(c) for c in dw) == 2000
        assert all(np.all(c.samples == 1.0) and c.source == "Masimo" for c in mw)
        assert all(np.all(c.samples == 2.0) and c.source == "Datex S/5" for c in dw)
        assert len(mw) == 2          # 2000 contiguous samples: two rows of 1000
        assert {c.source for c in store.waves(sid)} == {"Masimo", "Datex S/5"}
        # Raw capture: each source's own bytes and protocol; None is the first.
        assert store.raw_capture(sid) == store.raw_capture(sid, "Masimo")
        protocol, chunks = store.raw_capture(sid, "Datex S/5")
        assert protocol == "datex-s5"
        assert [d for _, d in chunks] == [b"D%d" % s for s in range(20)]
        assert store.raw_capture(sid, "Nonin") == (None, [])
        assert store.source_settings(sid) == "9600 8N1"
        assert store.source_settings(sid, "Datex S/5") == "19200 8E1"
        # Selections and clock offsets.
        assert [(s.t - T0, s.source, s.reason, s.previous) for s in store.selections(sid)] == [
            (0, "Masimo", "start", ""), (12, "Datex S/5", "sensor", "Masimo"),
            (18, "Masimo", "returned", "Datex S/5")]
        assert store.clock_offsets(sid) == [ClockOffset(T0 + 2, "Datex S/5", -3.5),
                                            ClockOffset(T0 + 15, "Datex S/5", -5.0)]
        datex_row = store.sources(sid)[1]
        assert (datex_row.clock_offset_s, datex_row.clock_offset_at) == (-5.0, T0 + 15)
        assert store.sources(sid)[0].clock_offset_s is None
        [numeric] = store.device_numerics(sid)
        assert numeric.source == "Datex S/5"


def test_the_session_list_names_every_source(two):
    db, sid, _ = two
    row = database.session_row(db, sid)
    assert row.source == "Masimo (serial:/dev/ttyUSB0) + Datex S/5 (serial:/dev/ttyUSB1)"
    assert row.sources == ("Masimo", "Datex S/5")
    assert json.loads(json.dumps(row.to_json()))["sources"] == ["Masimo", "Datex S/5"]


def test_a_session_created_without_sources_has_one_named_as_the_migration_names_it(tmp_path):
    db = database.open_database(tmp_path / "data")
    a = database.create_session(db, started_at=T0, source="serial:/dev/ttyUSB0",
                                simulated=False, protocol="nonin-2", serial_settings="9600 8N1")
    b = database.create_session(db, started_at=T0, source="sim:typical", simulated=True)
    assert database.session_row(db, a).source == "serial:/dev/ttyUSB0"    # as before
    assert database.session_row(db, a).sources == ("Nonin",)
    [nonin] = database.load_sources(db, a)
    assert (nonin.kind, nonin.protocol, nonin.settings) == ("oximeter", "nonin-2", "9600 8N1")
    assert database.session_row(db, b).sources == ("Simulator",)
    # A reading recorded without a source is the only source's.
    _record(db, a, [make_reading(Vital.SPO2, 97, T0 + 1)])
    with SessionStore(db) as store:
        assert [r.source for r in store.readings(a, source="Nonin")] == ["Nonin"]


def test_resume_merges_sources_by_name(two):
    db, sid, _ = two
    moved = SourceInfo("Datex S/5", "serial:/dev/ttyUSB2", "datex-s5", False, "monitor", None,
                       "19200 8E1")
    nonin = SourceInfo("Nonin", "serial:/dev/ttyUSB3", "nonin-2", False, "oximeter", None)
    database.add_sources(db, sid, [moved, nonin])
    rows = database.load_sources(db, sid)
    assert [(r.name, r.label) for r in rows] == [("Masimo", "serial:/dev/ttyUSB0"),
                                                 ("Datex S/5", "serial:/dev/ttyUSB2"),
                                                 ("Nonin", "serial:/dev/ttyUSB3")]
    assert rows[1].clock_offset_s == -5.0     # what was known of it is kept
    assert database.session_row(db, sid).source == (
        "Masimo (serial:/dev/ttyUSB0) + Datex S/5 (serial:/dev/ttyUSB2)"
        " + Nonin (serial:/dev/ttyUSB3)")
    with pytest.raises(KeyError):
        database.add_sources(db, sid + 1, [nonin])
    with pytest.raises(ValueError, match="unique"):
        database.add_sources(db, sid, [nonin, nonin])


def test_names_must_be_unique_in_a_session(tmp_path):
    db = database.open_database(tmp_path / "data")
    with pytest.raises(ValueError, match="unique"):
        database.create_session(db, started_at=T0, source="x", simulated=False,
                                sources=(MASIMO, MASIMO))
    assert database.list_sessions(db) == []


def test_the_migration_knows_every_protocol_s_device_name_and_kind():
    """The v8 migration writes the names out (storage may not import the device layer)."""
    assert OLD_DEVICE_NAMES == {p: codec_class(p).device_name for p in PROTOCOLS}
    assert set(OLD_OXIMETERS) == {p for p in PROTOCOLS
                                  if codec_class(p).device_kind == "oximeter"}


def _v7_database(path):
    conn = sqlite3.connect(path, isolation_level=None)
    for version, script in enumerate(MIGRATIONS[:7]):
        for statement in [s for s in script.split(";") if s.strip()]:
            conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {version + 1}")
    rows = [(T0, "serial:/dev/ttyUSB0", 0, "masimo-ascii", "9600 8N1"),
            (T0 + 1000, "sim:typical", 1, None, None),
            (T0 + 2000, "replay:session 1", 1, "masimo-ascii", None),
            (T0 + 3000, "lan:10.0.0.5", 0, "intellivue-lan", "lan"),
            (T0 + 4000, "sim:typical", 1, "datex-s5", None)]
    ids = [conn.execute("INSERT INTO sessions (started_at, ended_at, status, source, simulated,"
                        " protocol, serial_settings) VALUES (?, ?, 'completed', ?, ?, ?, ?)",
                        (t, t + 60, src, sim, p, st)).lastrowid
           for t, src, sim, p, st in rows]
    first = ids[0]
    conn.executemany("INSERT INTO readings (session_id, t, vital, value, quality)"
                     " VALUES (?, ?, ?, ?, ?)",
                     [(first, T0 + 1, "spo2", 97, "ok"), (first, T0 + 2, "spo2", 96, "ok"),
                      (first, T0 + 3, "nibp_sys", 120, "manual")])
    conn.execute("INSERT INTO waves (session_id, vital, t0, rate, n, quality, samples)"
                 " VALUES (?, 'pleth', ?, 100, 3, 'ok', ?)",
                 (first, T0 + 1, np.ones(3, dtype="<f4").tobytes()))
    conn.executemany("INSERT INTO raw_capture (session_id, t, direction, data)"
                     " VALUES (?, ?, 'in', ?)", [(first, T0 + 1, b"a"), (first, T0 + 2, b"b")])
    conn.execute("INSERT INTO device_numerics (session_id, t, code, label, value, unit,"
                 " quality, source) VALUES (?, ?, 1, 'ART', 90, 'mmHg', 'ok', 'intellivue-lan')",
                 (ids[3], T0 + 3001))
    return conn, ids


def test_a_v7_database_read_without_migrating_has_one_source_per_session(tmp_path):
    path = tmp_path / "v7.sqlite3"
    conn, ids = _v7_database(path)
    conn.close()
    with SessionStore(path) as store:
        assert [s.name for s in store.sources(ids[0])] == ["Masimo"]
        assert [r.source for r in store.readings(ids[0])] == ["Masimo", "Masimo", ""]
        assert [r.value for r in store.readings(ids[0], source="Masimo")] == [97, 96]
        assert store.readings(ids[0], source="Nonin") == []
        assert [c.source for c in store.waves(ids[0])] == ["Masimo"]
        assert store.raw_capture(ids[0]) == ("masimo-ascii", [(T0 + 1, b"a"), (T0 + 2, b"b")])
        assert store.selections(ids[0]) == [] and store.clock_offsets(ids[0]) == []
    assert [r.sources for r in database.list_sessions(path)] == [()] * 5


def test_a_v7_database_is_migrated_with_one_source_per_session(tmp_path):
    path = tmp_path / "v7.sqlite3"
    conn, ids = _v7_database(path)
    assert migrate(conn) == 7
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) == 8
    got = conn.execute("SELECT session_id, idx, name, label, protocol, settings, simulated, kind"
                       " FROM session_sources ORDER BY session_id").fetchall()
    assert got == [(ids[0], 0, "Masimo", "serial:/dev/ttyUSB0", "masimo-ascii", "9600 8N1", 0,
                    "oximeter"),
                   (ids[1], 0, "Simulator", "sim:typical", None, None, 1, "monitor"),
                   (ids[2], 0, "Masimo", "replay:session 1", "masimo-ascii", None, 1,
                    "oximeter"),
                   (ids[3], 0, "IntelliVue", "lan:10.0.0.5", "intellivue-lan", "lan", 0,
                    "monitor"),
                   (ids[4], 0, "Datex S/5", "sim:typical", "datex-s5", None, 1, "monitor")]
    indexes = dict(conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index'"
                                " AND sql IS NOT NULL").fetchall())
    assert "vital, source, t" in indexes["readings_by_session"]
    assert "source, t" in indexes["raw_capture_by_session"]
    conn.close()
    with SessionStore(path) as store:
        assert [r.source for r in store.readings(ids[0])] == ["Masimo", "Masimo", ""]
        assert [r.value for r in store.readings(ids[0], Vital.SPO2, source="Masimo")] == [97, 96]
        assert [c.source for c in store.waves(ids[0], source="Masimo")] == ["Masimo"]
        assert store.raw_capture(ids[0], "Masimo")[1] == [(T0 + 1, b"a"), (T0 + 2, b"b")]
        [numeric] = store.device_numerics(ids[3])
        assert numeric.source == "IntelliVue"    # was the protocol: now the source's name
    rows = database.list_sessions(path)
    assert [r.sources for r in rows] == [("Masimo",), ("Simulator",), ("Masimo",),
                                         ("IntelliVue",), ("Datex S/5",)]
    assert rows[0].source == "serial:/dev/ttyUSB0"      # a single source reads as before


def test_a_migrated_session_can_be_resumed_and_recorded_into(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    conn, ids = _v7_database(data / database.DB_NAME)
    conn.close()
    db = database.open_database(data)
    _record(db, ids[0], [make_reading(Vital.SPO2, 95, T0 + 10, source="Masimo"),
                         RawBytes(T0 + 10, b"c", source="Masimo")])
    with SessionStore(db) as store:
        assert [r.value for r in store.readings(ids[0], Vital.SPO2, source="Masimo")] \
            == [97, 96, 95]
        assert [d for _, d in store.raw_capture(ids[0])[1]] == [b"a", b"b", b"c"]
