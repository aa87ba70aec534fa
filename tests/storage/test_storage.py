import os
import sqlite3
import stat
import subprocess
import sys
import time

import numpy as np
import pytest

from monitor.core.events import Condition, Note, PhaseChanged, Technical
from monitor.core.queues import BoundedQueue
from monitor.core.reading import Quality, Reading, WaveChunk, make_reading
from monitor.core.session import Phase, SessionStatus
from monitor.core.vitals import Vital
from monitor.storage import database
from monitor.storage.recorder import CloseSession, Recorder
from monitor.storage.schema import SCHEMA_VERSION, migrate
from monitor.storage.store import SessionStore


@pytest.fixture
def db(tmp_path):
    return database.open_database(tmp_path / "data")


def _record(db, sid, items, **kw):
    statuses = []
    q = BoundedQueue(100_000, "recorder")
    rec = Recorder(db, sid, q, on_status=statuses.append, clock_now=time.time, **kw)
    rec.start()
    for it in items:
        q.put(it)
    return rec, q, statuses


def test_database_is_created_private_with_wal_and_version(db):
    assert stat.S_IMODE(os.stat(db).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(db.parent).st_mode) == 0o700
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    conn.close()


def test_reopening_keeps_data_and_does_not_remigrate(db):
    sid = database.create_session(db, started_at=1.0, source="sim:typical", simulated=True)
    again = database.open_database(db.parent)
    assert [s.id for s in database.list_sessions(again)] == [sid]


def test_newer_schema_is_refused_and_left_untouched(tmp_path):
    path = database.open_database(tmp_path)
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    conn.close()
    with pytest.raises(database.StorageError, match="newer than this app"):
        database.open_database(tmp_path)
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 5


def test_migrate_from_empty_creates_all_tables(tmp_path):
    conn = sqlite3.connect(tmp_path / "x.db", isolation_level=None)
    assert migrate(conn) == 0
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"sessions", "phases", "readings", "waves", "events"} <= names


def test_unusable_data_dir_gives_a_clear_message(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(database.StorageError, match="cannot create the data folder .*--data-dir"):
        database.open_database(blocker / "sub")


def test_recorder_round_trip(db):
    sid = database.create_session(db, started_at=1000.0, source="sim:typical", simulated=True)
    items = [make_reading(Vital.HR, 72, 1001.0, device_time=5.0),
             Reading.invalid(Vital.SPO2, 1001.0, Quality.SENSOR_OFF),
             make_reading(Vital.NIBP_SYS, 131, 1002.0),
             WaveChunk(Vital.PLETH, 1000.0, 100.0, np.arange(150)),
             WaveChunk(Vital.PLETH, 1001.5, 100.0, np.arange(150, 250)),
             PhaseChanged(Phase.INFUSION, 1600.0),
             Note(1601.0, "nausea", "mild", "RN"),
             Technical(Condition.STALE, True, 1602.0, "no valid SpO2", Vital.SPO2),
             CloseSession(SessionStatus.COMPLETED, 1700.0)]
    rec, _, statuses = _record(db, sid, items)
    rec.join(10)
    assert not rec.is_alive() and statuses == []
    with SessionStore(db) as store:
        rs = store.readings(sid)
        assert [(r.vital, r.t, r.quality) for r in rs] == [
            (Vital.HR, 1001.0, Quality.OK), (Vital.SPO2, 1001.0, Quality.SENSOR_OFF),
            (Vital.NIBP_SYS, 1002.0, Quality.OK)]
        assert rs[0].value == 72 and rs[0].device_time == 5.0 and np.isnan(rs[1].value)
        waves = store.waves(sid)
        joined = np.concatenate([w.samples for w in waves])
        np.testing.assert_array_equal(joined, np.arange(250, dtype=np.float32))
        assert waves[0].t0 == 1000.0
        assert [p.phase for p in store.phases(sid)] == [Phase.BASELINE, Phase.INFUSION]
        kinds = [e.kind for e in store.events(sid)]
        assert kinds == ["nausea", "technical:stale:start"]
        row = store.session(sid)
        assert row.status is SessionStatus.COMPLETED and row.ended_at == 1700.0
        assert row.reading_count == 3 and row.last_data_at == 1002.5
        assert store.integrity_ok()


def test_wave_gap_starts_a_new_row(db):
    sid = database.create_session(db, started_at=0.0, source="s", simulated=True)
    rec, _, _ = _record(db, sid, [WaveChunk(Vital.PLETH, 0.0, 100.0, np.zeros(100)),
                                   WaveChunk(Vital.PLETH, 61.0, 100.0, np.ones(100)),
                                   CloseSession(SessionStatus.COMPLETED, 62.0)])
    rec.join(10)
    with SessionStore(db) as store:
        assert [w.t0 for w in store.waves(sid)] == [0.0, 61.0]


def test_respiration_and_co2_waves_are_recorded_apart_from_the_pleth(db):
    sid = database.create_session(db, started_at=0.0, source="s", simulated=True)
    rec, _, _ = _record(db, sid, [WaveChunk(Vital.PLETH, 0.0, 125.0, np.zeros(125)),
                                   WaveChunk(Vital.RESP_WAVE, 0.0, 62.5, np.full(62, 5.0)),
                                   WaveChunk(Vital.CO2_WAVE, 0.0, 125.0, np.full(125, 38.0)),
                                   CloseSession(SessionStatus.COMPLETED, 2.0)])
    rec.join(10)
    with SessionStore(db) as store:
        assert [len(w) for w in store.waves(sid)] == [125]
        [resp] = store.waves(sid, Vital.RESP_WAVE)
        [co2] = store.waves(sid, Vital.CO2_WAVE)
    assert (resp.rate, len(resp), float(resp.samples[0])) == (62.5, 62, 5.0)
    assert (co2.rate, float(co2.samples[-1])) == (125.0, 38.0)


def test_commits_within_half_a_second_while_running(db):
    sid = database.create_session(db, started_at=0.0, source="s", simulated=True)
    rec, q, _ = _record(db, sid, [make_reading(Vital.HR, 70, 1.0)])
    try:
        deadline = time.monotonic() + 5
        with SessionStore(db) as store:
            while not store.readings(sid) and time.monotonic() < deadline:
                time.sleep(0.05)
            found = store.readings(sid)
        assert len(found) == 1
    finally:
        q.put(CloseSession(SessionStatus.COMPLETED, 2.0))
        rec.join(10)


def test_write_failure_is_reported_kept_and_retried(db):
    sid = database.create_session(db, started_at=0.0, source="s", simulated=True)
    # Another process holds the write lock: every write attempt fails.
    locker = subprocess.Popen(
        [sys.executable, "-c",
         "import sqlite3, sys; c = sqlite3.connect(sys.argv[1], isolation_level=None);"
         "c.execute('BEGIN EXCLUSIVE'); print('locked', flush=True); sys.stdin.readline()",
         str(db)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert locker.stdout.readline().strip() == "locked"
    rec, q, statuses = _record(db, sid, [make_reading(Vital.HR, 70 + i, float(i))
                                         for i in range(1, 6)],
                               retry_interval=0.2, busy_timeout_ms=50)
    try:
        deadline = time.monotonic() + 10
        while not statuses and time.monotonic() < deadline:
            time.sleep(0.05)
        assert statuses and statuses[0].ok is False and "recording failed" in statuses[0].message
        q.put(make_reading(Vital.HR, 99, 6.0))
    finally:
        locker.stdin.write("\n")
        locker.stdin.close()
        locker.wait(10)
        locker.stdout.close()
    deadline = time.monotonic() + 10
    while len(statuses) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    q.put(CloseSession(SessionStatus.COMPLETED, 7.0))
    rec.join(10)
    assert [s.ok for s in statuses] == [False, True]
    with SessionStore(db) as store:
        assert [r.value for r in store.readings(sid)] == [71, 72, 73, 74, 75, 99]


def test_unfinished_session_of_dead_process_is_found_and_marked(db):
    sid = database.create_session(db, started_at=100.0, source="s", simulated=True)
    assert database.find_unfinished(db) == []  # our own process is alive
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    conn = sqlite3.connect(db)
    conn.execute("UPDATE sessions SET writer_pid = ? WHERE id = ?", (int(dead), sid))
    conn.execute("INSERT INTO readings VALUES (?, 160.0, 'hr', 70, 'ok', NULL, '')", (sid,))
    conn.commit()
    conn.close()
    assert [s.id for s in database.find_unfinished(db)] == [sid]
    assert database.mark_interrupted(db, sid) == 160.0
    row = database.session_row(db, sid)
    assert row.status is SessionStatus.INTERRUPTED and row.ended_at == 160.0
    assert database.find_unfinished(db) == []
    assert [p.phase for p in database.load_phases(db, sid)] == [Phase.BASELINE, Phase.ENDED]


def test_claim_refuses_a_closed_session(db):
    sid = database.create_session(db, started_at=0.0, source="s", simulated=True)
    database.mark_interrupted(db, sid)
    with pytest.raises(database.StorageError, match="cannot be resumed"):
        database.claim_session(db, sid)


def test_large_backlog_is_written_in_bounded_batches_then_closed(db):
    from monitor.storage.recorder import MAX_BATCH_ITEMS

    sid = database.create_session(db, started_at=0.0, source="s", simulated=True)
    n = 2 * MAX_BATCH_ITEMS + 123
    items = [make_reading(Vital.HR, 60 + i % 40, float(i)) for i in range(n)]
    rec, _, statuses = _record(db, sid, [*items, CloseSession(SessionStatus.COMPLETED, n)])
    rec.join(20)
    assert not rec.is_alive() and statuses == []
    with SessionStore(db) as store:
        t, v = store.numeric_arrays(sid, Vital.HR)
        row = store.session(sid)
    assert t.size == n and (t == np.arange(n)).all()
    assert row.status is SessionStatus.COMPLETED and row.reading_count == n
