"""The session workflow in the database (schema v4): set-up, events, corrections, infusion."""

import sqlite3
import time

import pytest

from monitor.core.queues import BoundedQueue
from monitor.core.session import SessionStatus
from monitor.core.workflow.messages import (
    CommandRefused,
    EventKind,
    EventTimeCorrected,
    InfusionAction,
    InfusionChanged,
    SessionDischarged,
    SessionEvent,
)
from monitor.storage import database
from monitor.storage.recorder import CloseSession, Recorder
from monitor.storage.schema import MIGRATIONS, SCHEMA_VERSION, migrate
from monitor.storage.store import SessionStore

ITEMS = [
    InfusionChanged(InfusionAction.START, 600.0, "RN", "baseline 150/95, override Dr A"),
    SessionEvent("e1", 1200.0, EventKind.DISSOCIATION, "", "RN"),
    SessionEvent("e2", 1500.0, EventKind.NAUSEA, "mild", "RN"),
    InfusionChanged(InfusionAction.PAUSE, 1510.0, "RN", "nausea"),
    SessionEvent("e3", 1620.0, EventKind.ANTIEMETIC, "ondansetron 4 mg", "RN"),
    EventTimeCorrected("e2", 1500.0, 1450.0, "RN B", 1700.0),
    EventTimeCorrected("e3", 1620.0, 1100.0, "RN B", 1710.0),
    EventTimeCorrected("e3", 1100.0, 1600.0, "RN B", 1720.0),
    CommandRefused(1730.0, "change_infusion:pause", "cannot pause the infusion: it is paused",
                   "RN"),
    InfusionChanged(InfusionAction.RESUME, 1800.0, "RN"),
    InfusionChanged(InfusionAction.STOP, 3000.0, "RN"),
    SessionEvent("e4", 4800.0, EventKind.NOTE, "Discharged; checklist: escort present", "RN"),
    SessionDischarged(4800.0, "RN", ("alert and oriented", "escort present"), "partner"),
]


@pytest.fixture
def recorded(tmp_path):
    db = database.open_database(tmp_path / "data")
    sid = database.create_session(db, started_at=0.0, source="s", simulated=True)
    database.save_setup(db, sid, {"patient_ref": "AB-12", "weight_kg": 70.0,
                                  "dose_mg_per_kg": 0.5, "total_mg": 35.0})
    q = BoundedQueue(1000, "recorder")
    rec = Recorder(db, sid, q, on_status=lambda s: None, clock_now=time.time)
    rec.start()
    for it in ITEMS:
        q.put(it)
    q.put(CloseSession(SessionStatus.COMPLETED, 4800.0))
    rec.join(10)
    assert not rec.is_alive()
    return db, sid


def test_events_come_back_at_their_corrected_times(recorded):
    db, sid = recorded
    with SessionStore(db) as store:
        events = store.session_events(sid)
        corrections = store.event_corrections(sid)
    assert [(e.event_id, e.t) for e in events] == [
        ("e1", 1200.0), ("e2", 1450.0), ("e3", 1600.0), ("e4", 4800.0)]
    assert events[1] == SessionEvent("e2", 1450.0, EventKind.NAUSEA, "mild", "RN")
    assert corrections == [x for x in ITEMS if isinstance(x, EventTimeCorrected)]


def test_the_first_recorded_time_is_never_overwritten(recorded):
    db, sid = recorded
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT event_id, t FROM session_events WHERE session_id = ?"
                            " ORDER BY id", (sid,)).fetchall()
    assert rows == [("e1", 1200.0), ("e2", 1500.0), ("e3", 1620.0), ("e4", 4800.0)]


def test_infusion_actions_refusals_and_discharge(recorded):
    db, sid = recorded
    with SessionStore(db) as store:
        actions = store.infusion_actions(sid)
        refused = [e for e in store.events(sid) if e.kind == "refused"]
        setup = store.setup(sid)
    assert actions == [x for x in ITEMS if isinstance(x, InfusionChanged)]
    assert [(e.t, e.text, e.author) for e in refused] == [
        (1730.0, "change_infusion:pause: cannot pause the infusion: it is paused", "RN")]
    assert setup is not None
    # The discharge is added to the set-up saved at the start; nothing else changes.
    assert (setup["weight_kg"], setup["total_mg"], setup["patient_ref"]) == (70.0, 35.0, "AB-12")
    assert (setup["discharge_at"], setup["discharge_by"], setup["discharge_checklist"]) == (
        4800.0, "RN", ("alert and oriented", "escort present"))


def test_setup_round_trip_partial_updates_and_bad_keys(tmp_path):
    db = database.open_database(tmp_path)
    sid = database.create_session(db, started_at=0.0, source="s", simulated=True)
    assert database.load_setup(db, sid) is None
    full = {"patient_ref": "CD", "weight_kg": 82.5, "dose_mg_per_kg": 0.5, "total_mg": 41.25,
            "planned_infusion_min": 40.0, "course_number": 2, "course_total": 6,
            "clinician": "Dr B", "alarm_profile": "Ketamine infusion, adult",
            "pre_phq9": 15, "pre_madrs": 30}
    database.save_setup(db, sid, full)
    database.save_setup(db, sid, {"post_cadss": 12})   # later, after the session
    got = database.load_setup(db, sid)
    assert got is not None
    assert set(got) == set(database.SETUP_FIELDS)
    assert {k: got[k] for k in full} == full
    assert got["post_cadss"] == 12 and got["discharge_at"] is None
    with pytest.raises(ValueError, match="unknown set-up field.*weight.*valid: patient_ref"):
        database.save_setup(db, sid, {"weight": 80})
    with pytest.raises(KeyError):
        database.save_setup(db, sid + 1, {"weight_kg": 80})


def test_a_version_3_database_gains_the_workflow_tables(tmp_path):
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    for version, script in enumerate(MIGRATIONS[:3]):
        for statement in [s for s in script.split(";") if s.strip()]:
            conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {version + 1}")
    conn.execute("INSERT INTO sessions (started_at, status, source, patient_ref)"
                 " VALUES (1, 'completed', 's', 'AB')")
    conn.execute("INSERT INTO events (session_id, t, kind, created_at) VALUES (1, 2, 'x', 3)")
    assert migrate(conn) == 3
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"session_setup", "infusion_actions", "session_events",
            "event_corrections"} <= tables
    assert conn.execute("SELECT count(*) FROM sessions").fetchone()[0] == 1
    assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == 1
    conn.close()
    # The migrated file is usable as a whole: a v3 session reads back with no workflow rows.
    with SessionStore(path) as store:
        assert store.session_events(1) == [] and store.infusion_actions(1) == []
        assert store.setup(1) is None


def test_setup_accepts_the_setup_dataclass_names(tmp_path):
    from monitor.core.workflow.setup import SessionSetup

    db = database.open_database(tmp_path)
    sid = database.create_session(db, started_at=0.0, source="sim:typical", simulated=True)
    setup = SessionSetup(patient_ref="AB-12", weight_kg=72.5, dose_mg_per_kg=0.5,
                         clinician="Dr A", course_number=3, course_total=6, phq9=18, madrs=30)
    database.save_setup(db, sid, {**setup.as_dict(), "total_mg": setup.total_mg})
    got = database.load_setup(db, sid)
    assert got is not None
    assert (got["pre_phq9"], got["pre_madrs"], got["post_cadss"]) == (18, 30, None)
    assert (got["weight_kg"], got["total_mg"], got["course_number"]) == (72.5, 36.3, 3)
