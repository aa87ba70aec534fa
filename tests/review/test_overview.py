"""The session index: list_overviews(), the recorder's columns, and the v5 migration."""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3
import time

import pytest

from monitor.core.alarms.model import AlarmKind, AlarmTransition, Priority, TransitionState
from monitor.core.queues import BoundedQueue
from monitor.core.reading import Quality, Reading, make_reading
from monitor.core.session import SessionStatus
from monitor.core.vitals import Vital
from monitor.review.overview import list_overviews
from monitor.review.record import RecordError, load_record
from monitor.review.summary import summarize
from monitor.storage import database
from monitor.storage.opening import DB_NAME
from monitor.storage.recorder import CloseSession, Recorder
from monitor.storage.schema import MIGRATIONS, SCHEMA_VERSION, migrate


def test_columns_equal_what_summarize_says(recorded):
    overviews = list_overviews(recorded.path)
    assert [o.id for o in overviews] == sorted(recorded.ids.values(), reverse=True)
    for o in overviews:
        s = summarize(load_record(recorded.path, o.id))
        assert (o.start, o.end, o.duration_s) == (s.start, s.end, s.duration_s)
        assert o.phase_durations == s.phase_durations
        assert o.alarm_counts == s.alarm_counts
        assert o.technical_alarms == s.technical_alarms
        assert o.peak_nibp_sys == s.peak_nibp_sys
        assert o.min_spo2 == s.lowest_spo2
        assert o.status is SessionStatus.COMPLETED and o.simulated
    by_id = {o.id: o for o in overviews}
    surge = by_id[recorded.ids["surge"]]
    assert (surge.patient_ref, surge.course_number, surge.course_total, surge.clinician) == (
        "AB-77", 1, 6, "Dr Lund")
    assert surge.alarm_counts[Priority.HIGH] >= 1 and surge.peak_nibp_sys >= 180
    assert by_id[recorded.ids["desaturation"]].min_spo2 <= 88


def test_patient_filter_is_a_case_insensitive_prefix(recorded):
    def ids(patient):
        return {o.id for o in list_overviews(recorded.path, patient=patient)}

    pt = {recorded.ids["typical"], recorded.ids["desaturation"]}
    assert ids("pt-00") == pt
    assert ids("PT-001") == pt
    assert ids("ab") == {recorded.ids["surge"]}
    assert ids("T-001") == set()        # a prefix, not a substring
    assert ids("%") == set()            # LIKE wildcards are taken literally
    assert ids("_T") == set()
    assert ids("  ") == set(recorded.ids.values())


def test_date_filter_and_limit(recorded):
    everything = list_overviews(recorded.path)
    day = dt.datetime.fromtimestamp(everything[-1].start).date()
    last_day = dt.datetime.fromtimestamp(everything[0].start).date()
    assert list_overviews(recorded.path, date_from=day, date_to=last_day) == everything
    assert list_overviews(recorded.path, date_to=day - dt.timedelta(days=1)) == []
    assert list_overviews(recorded.path, date_from=last_day + dt.timedelta(days=1)) == []
    assert list_overviews(recorded.path, limit=1) == everything[:1]
    assert list_overviews(recorded.path, patient="pt", limit=1) == [
        o for o in everything if o.patient_ref == "PT-001"][:1]
    with pytest.raises(ValueError, match="after the last"):
        list_overviews(recorded.path, date_from=day, date_to=day - dt.timedelta(days=1))
    with pytest.raises(ValueError, match="date_from must be a datetime.date"):
        list_overviews(recorded.path, date_from="2026-11-22")
    for bad in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match="positive whole number"):
            list_overviews(recorded.path, limit=bad)


def _copy(src, dst):
    with sqlite3.connect(src) as a, sqlite3.connect(dst) as b:
        a.backup(b)
    a.close()
    b.close()


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_newer_older_missing_and_broken_databases_are_refused_untouched(recorded, tmp_path):
    newer = tmp_path / "newer.sqlite3"
    _copy(recorded.path, newer)
    conn = sqlite3.connect(newer)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    before = _digest(newer)
    with pytest.raises(RecordError, match="newer than this app.*not changed"):
        list_overviews(newer)
    assert _digest(newer) == before
    older = tmp_path / "v4.sqlite3"
    _v4_database(older).close()
    with pytest.raises(RecordError, match="version 4, older than the session browser needs"):
        list_overviews(older)
    with pytest.raises(RecordError, match="no database at"):
        list_overviews(tmp_path / "missing.sqlite3")
    (tmp_path / "text.sqlite3").write_text("not a database at all " * 100)
    with pytest.raises(RecordError, match="cannot read"):
        list_overviews(tmp_path / "text.sqlite3")


# -- the recorder keeps the columns; the migration fills them in ----------------------

def _alarm(alarm_id, priority, state, t, kind=AlarmKind.PHYSIOLOGICAL):
    return AlarmTransition(alarm_id, kind, None, priority, state, t, None, None, alarm_id)


def _columns(db, sid):
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT peak_nibp_sys, min_spo2, alarms_high, alarms_medium,"
                           " alarms_low, reading_count FROM sessions WHERE id = ?",
                           (sid,)).fetchone()
    conn.close()
    return row


def _wait_for_readings(db, sid, n):
    deadline = time.monotonic() + 10
    while _columns(db, sid)[5] < n:
        assert time.monotonic() < deadline, "the recorder did not commit in 10 s"
        time.sleep(0.05)


def test_recorder_keeps_the_columns_with_each_batch(tmp_path):
    db = database.open_database(tmp_path / "data")
    sid = database.create_session(db, started_at=0.0, source="test", simulated=True)
    q = BoundedQueue(1000, "recorder")
    rec = Recorder(db, sid, q, on_status=lambda s: None, clock_now=time.time)
    rec.start()
    try:
        for it in (make_reading(Vital.NIBP_SYS, 150, 1.0),
                   make_reading(Vital.NIBP_SYS, 190, 2.0, Quality.MANUAL),   # typed: counts
                   Reading.invalid(Vital.NIBP_SYS, 3.0, Quality.ARTIFACT),
                   make_reading(Vital.SPO2, 95, 1.0),
                   make_reading(Vital.SPO2, 91, 2.0, Quality.MANUAL),
                   Reading.invalid(Vital.SPO2, 3.0, Quality.SENSOR_OFF),
                   _alarm("nibp_sys.high", Priority.MEDIUM, TransitionState.RAISED, 2.0)):
            q.put(it)
        _wait_for_readings(db, sid, 6)
        assert _columns(db, sid)[:5] == (190.0, 91.0, 0, 1, 0)
        for it in (make_reading(Vital.NIBP_SYS, 170, 4.0),
                   make_reading(Vital.SPO2, 93, 4.0),
                   _alarm("nibp_sys.high", Priority.HIGH, TransitionState.ESCALATED, 4.0),
                   _alarm("nibp_sys.rise", Priority.LOW, TransitionState.RAISED, 4.0)):
            q.put(it)
        _wait_for_readings(db, sid, 8)
        # The escalation moved the alarm from medium to high; the extremes stand.
        assert _columns(db, sid)[:5] == (190.0, 91.0, 1, 0, 1)
    finally:
        q.put(CloseSession(SessionStatus.COMPLETED, 5.0))
        rec.join(10)
    s = summarize(load_record(db, sid))
    assert s.alarm_counts == {Priority.LOW: 1, Priority.MEDIUM: 0, Priority.HIGH: 1}
    assert (s.peak_nibp_sys, s.lowest_spo2) == (190.0, 91.0)


def _v4_database(path):
    conn = sqlite3.connect(path, isolation_level=None)
    for version, script in enumerate(MIGRATIONS[:4]):
        for statement in [s for s in script.split(";") if s.strip()]:
            conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {version + 1}")
    return conn


def _copy_into_v4(conn, src):
    """Copy every row of the recorded database's v4 tables into a v4 database."""
    conn.execute("ATTACH DATABASE ? AS src", (str(src),))
    for table in ("sessions", "phases", "readings", "alarms", "session_setup",
                  "session_events", "infusion_actions"):
        cols = ", ".join(r[1] for r in conn.execute(f"PRAGMA main.table_info({table})"))
        conn.execute(f"INSERT INTO main.{table} ({cols}) SELECT {cols} FROM src.{table}")
    conn.execute("DETACH DATABASE src")


def test_migration_fills_the_columns_of_existing_sessions(recorded, tmp_path):
    path = tmp_path / "old.sqlite3"
    conn = _v4_database(path)
    _copy_into_v4(conn, recorded.path)
    # One more session with what the SQL must get right: a re-raised alarm counts twice,
    # a technical alarm counts apart, a typed reading counts and an invalid one does not.
    sid = conn.execute("INSERT INTO sessions (started_at, ended_at, status, source)"
                       " VALUES (0, 100, 'completed', 'old')").lastrowid
    conn.executemany("INSERT INTO readings (session_id, t, vital, value, quality)"
                     " VALUES (?, ?, ?, ?, ?)",
                     [(sid, 1, "nibp_sys", 150, "ok"), (sid, 2, "nibp_sys", 210, "manual"),
                      (sid, 3, "nibp_sys", None, "artifact"), (sid, 1, "spo2", 96, "ok"),
                      (sid, 2, "spo2", None, "sensor_off")])
    transitions = [("spo2.stale", "technical", "medium", "raised", 1),
                   ("hr.high", "physiological", "medium", "raised", 2),
                   ("hr.high", "physiological", "high", "escalated", 3),
                   ("hr.high", "physiological", "high", "acknowledged", 4),
                   ("hr.high", "physiological", "high", "cleared", 5),
                   ("hr.high", "physiological", "medium", "raised", 6),
                   ("hr.high", "physiological", "medium", "cleared", 7),
                   ("hr.rise", "physiological", "low", "raised", 8)]
    conn.executemany("INSERT INTO alarms (session_id, alarm_id, kind, priority, state, t,"
                     " message) VALUES (?, ?, ?, ?, ?, ?, '')",
                     [(sid, *tr) for tr in transitions])
    assert migrate(conn) == 4
    conn.close()
    migrated = list_overviews(path)
    assert migrated[:-1] == list_overviews(recorded.path)   # as the recorder kept them
    old = migrated[-1]   # started at 0: the oldest
    assert old.id == sid
    assert (old.peak_nibp_sys, old.min_spo2) == (210.0, 96.0)
    assert old.alarm_counts == {Priority.HIGH: 1, Priority.MEDIUM: 1, Priority.LOW: 1}
    assert old.technical_alarms == 1
    summary = summarize(load_record(path, sid))
    assert (old.alarm_counts, old.technical_alarms) == (summary.alarm_counts,
                                                        summary.technical_alarms)


def _v5_with_technical_alarms(path):
    """A v5 database as the v5 app left it: NO ALARM SOUND and NO DATA counted as clinical."""
    conn = _v4_database(path)
    sid = conn.execute("INSERT INTO sessions (started_at, ended_at, status, source)"
                       " VALUES (0, 100, 'completed', 'old')").lastrowid
    transitions = [("audio.unavailable", "technical", "medium", "raised", 10),   # latched
                   ("source.no_data", "technical", "medium", "raised", 20),
                   ("spo2.low", "physiological", "medium", "raised", 30),
                   ("spo2.low", "physiological", "high", "escalated", 40),
                   ("spo2.low", "physiological", "high", "cleared", 50),
                   ("source.no_data", "technical", "high", "escalated", 80),
                   ("source.no_data", "technical", "high", "cleared", 90)]
    conn.executemany("INSERT INTO alarms (session_id, alarm_id, kind, priority, state, t,"
                     " message) VALUES (?, ?, ?, ?, ?, ?, '')",
                     [(sid, *tr) for tr in transitions])
    for statement in [s for s in MIGRATIONS[4].split(";") if s.strip()]:   # the v5 upgrade
        conn.execute(statement)
    conn.execute("PRAGMA user_version = 5")
    v5 = conn.execute("SELECT alarms_high, alarms_medium, alarms_low FROM sessions"
                      " WHERE id = ?", (sid,)).fetchone()
    assert v5 == (2, 1, 0)   # what a v5 browser showed: both technical alarms as clinical
    conn.close()
    return sid


def test_a_v5_database_listed_read_only_counts_technical_alarms_apart(tmp_path):
    path = tmp_path / "v5.sqlite3"
    sid = _v5_with_technical_alarms(path)
    before = _digest(path)
    [row] = list_overviews(path)      # read-only: not migrated, counted from the alarm log
    assert _digest(path) == before
    assert row.id == sid
    assert row.alarm_counts == {Priority.HIGH: 1, Priority.MEDIUM: 0, Priority.LOW: 0}
    assert row.technical_alarms == 2


def test_a_v5_database_opened_by_this_app_counts_technical_alarms_apart(tmp_path):
    """The v5 app counted NO ALARM SOUND and NO DATA as medium and high alarms; v6 does not."""
    data = tmp_path / "data"
    data.mkdir()
    sid = _v5_with_technical_alarms(data / DB_NAME)
    path = database.open_database(data)   # how the app opens its data folder: migrates
    with sqlite3.connect(path) as check:
        assert check.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    check.close()
    [row] = list_overviews(path)
    assert row.alarm_counts == {Priority.HIGH: 1, Priority.MEDIUM: 0, Priority.LOW: 0}
    assert row.technical_alarms == 2
    summary = summarize(load_record(path, sid))
    assert (summary.alarm_counts, summary.technical_alarms) == (row.alarm_counts,
                                                                row.technical_alarms)


def test_the_recorder_counts_technical_alarms_apart(tmp_path):
    db = database.open_database(tmp_path / "data")
    sid = database.create_session(db, started_at=0.0, source="test", simulated=True)
    q = BoundedQueue(1000, "recorder")
    rec = Recorder(db, sid, q, on_status=lambda s: None, clock_now=time.time)
    rec.start()
    try:
        for it in (make_reading(Vital.SPO2, 95, 1.0),
                   _alarm("audio.unavailable", Priority.MEDIUM, TransitionState.RAISED, 1.0,
                          AlarmKind.TECHNICAL),
                   _alarm("spo2.low", Priority.MEDIUM, TransitionState.RAISED, 1.0)):
            q.put(it)
        _wait_for_readings(db, sid, 1)
        assert _columns(db, sid)[2:5] == (0, 1, 0)
        for it in (make_reading(Vital.SPO2, 90, 2.0),
                   _alarm("source.no_data", Priority.HIGH, TransitionState.RAISED, 2.0,
                          AlarmKind.TECHNICAL)):
            q.put(it)
        _wait_for_readings(db, sid, 2)
        assert _columns(db, sid)[2:5] == (0, 1, 0)
    finally:
        q.put(CloseSession(SessionStatus.COMPLETED, 5.0))
        rec.join(10)
    [row] = list_overviews(db)
    assert row.technical_alarms == 2
    assert row.alarm_counts == summarize(load_record(db, sid)).alarm_counts
