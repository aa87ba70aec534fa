"""The alarm log in the database: transitions, actions and limit changes, and the v3 migration."""

import sqlite3
import time

from monitor.core.alarms.model import (
    AlarmAction,
    AlarmKind,
    AlarmTransition,
    LimitChanged,
    Priority,
    TransitionState,
)
from monitor.core.queues import BoundedQueue
from monitor.core.session import SessionStatus
from monitor.core.vitals import Vital
from monitor.storage import database
from monitor.storage.recorder import CloseSession, Recorder
from monitor.storage.schema import MIGRATIONS, SCHEMA_VERSION, migrate
from monitor.storage.store import SessionStore

ITEMS = [
    AlarmTransition("spo2.low", AlarmKind.PHYSIOLOGICAL, Vital.SPO2, Priority.MEDIUM,
                    TransitionState.RAISED, 10.0, 89.0, 92.0, "SpO2 89 < 92"),
    AlarmTransition("spo2.low", AlarmKind.PHYSIOLOGICAL, Vital.SPO2, Priority.HIGH,
                    TransitionState.ESCALATED, 12.0, 87.0, 88.0, "SpO2 87 ≤ 88"),
    AlarmAction(13.0, "audio_pause", "2 min", "RN"),
    AlarmTransition("spo2.low", AlarmKind.PHYSIOLOGICAL, Vital.SPO2, Priority.HIGH,
                    TransitionState.ACKNOWLEDGED, 14.0, 86.0, 88.0, "SpO2 87 ≤ 88", "RN"),
    LimitChanged(15.0, "spo2.low.medium", "limit", 92.0, 90.0, "RN", "COPD, usual 90"),
    AlarmTransition("source.no_data", AlarmKind.TECHNICAL, None, Priority.MEDIUM,
                    TransitionState.RAISED, 16.0, None, None, "NO DATA from the monitor"),
]


def test_recorder_writes_the_alarm_log_and_store_reads_it_back(tmp_path):
    db = database.open_database(tmp_path / "data")
    sid = database.create_session(db, started_at=0.0, source="s", simulated=True,
                                  alarm_profile="Ketamine infusion, adult (x.toml)")
    q = BoundedQueue(1000, "recorder")
    rec = Recorder(db, sid, q, on_status=lambda s: None, clock_now=time.time)
    rec.start()
    for it in ITEMS:
        q.put(it)
    try:
        # Written while the session runs (commits every <= 0.5 s), not only at the end.
        deadline = time.monotonic() + 10
        with SessionStore(db) as store:
            while len(store.alarms(sid)) < 4 and time.monotonic() < deadline:
                time.sleep(0.05)
            alarms = store.alarms(sid)
            actions = store.alarm_actions(sid)
            changes = store.limit_changes(sid)
    finally:
        q.put(CloseSession(SessionStatus.COMPLETED, 20.0))
        rec.join(10)
    assert alarms == [x for x in ITEMS if isinstance(x, AlarmTransition)]
    assert actions == [ITEMS[2]]
    assert changes == [ITEMS[4]]
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT alarm_profile FROM sessions WHERE id = ?",
                            (sid,)).fetchone()[0] == "Ketamine infusion, adult (x.toml)"


def test_a_version_2_database_gains_the_alarm_tables(tmp_path):
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    for version, script in enumerate(MIGRATIONS[:2]):
        for statement in [s for s in script.split(";") if s.strip()]:
            conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {version + 1}")
    conn.execute("INSERT INTO sessions (started_at, status, source) VALUES (1, 'completed', 's')")
    assert migrate(conn) == 2
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"alarms", "alarm_actions", "settings_changes"} <= tables
    assert conn.execute("SELECT count(*) FROM sessions").fetchone()[0] == 1
    conn.close()
