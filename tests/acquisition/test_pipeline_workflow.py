"""The workflow through a whole pipeline: set-up saved, commands recorded, discharge ends it."""

from __future__ import annotations

import sqlite3
import time

from monitor.acquisition.pipeline import Pipeline
from monitor.acquisition.sources import make_driver
from monitor.core.clock import SimClock
from monitor.core.events import History, Note, PhaseChanged
from monitor.core.queues import BoundedQueue
from monitor.core.reading import Quality, Reading
from monitor.core.session import Phase, SessionStatus
from monitor.core.vitals import Vital
from monitor.core.workflow.discharge import ChecklistItem
from monitor.core.workflow.messages import (
    MANUAL_NOTE_KIND,
    AddEvent,
    ChangeInfusion,
    ChecklistTicked,
    EndSession,
    EventKind,
    EventTimeCorrected,
    InfusionAction,
    InfusionChanged,
    ManualEntry,
    SessionEvent,
    TickChecklist,
)
from monitor.devices.registry import parse_source
from monitor.storage import database
from monitor.storage.recorder import Recorder
from monitor.storage.store import SessionStore


def _wait_until(pred, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, "the session clock did not get there"
        time.sleep(0.02)


SETUP = {"patient_ref": "AB-12", "weight_kg": 70.0, "dose_mg_per_kg": 0.5, "total_mg": 35.0,
         "planned_infusion_min": 40.0, "course_number": 3, "course_total": 6,
         "clinician": "Dr A", "pre_phq9": 18}


def test_end_session_stops_the_pipeline_and_everything_is_recorded(tmp_path):
    db = database.open_database(tmp_path)
    driver = make_driver(parse_source("sim:typical"), seed=1)
    clock = SimClock(time.time(), speed=60.0)   # a minute of session per second
    out: list = []
    pipeline = Pipeline(driver, db, clock, sink=out.append, setup=SETUP)
    started = pipeline.start()
    hub = pipeline.hub
    # The scenario's cuff cycles every 5 min: two determinations complete the baseline.
    _wait_until(lambda: sum(isinstance(m, Reading) and m.vital is Vital.NIBP_DIA
                            for m in list(out)) >= 2)
    hub.notify(ChangeInfusion(InfusionAction.START, by="RN", reason="baseline fine"))
    hub.notify(AddEvent(EventKind.NAUSEA, "mild", "RN"))
    hub.notify(ManualEntry(Vital.NIBP_SYS, 150, by="RN", dia=90))
    hub.notify(TickChecklist(ChecklistItem.ESCORT_PRESENT, by="RN"))
    hub.notify(TickChecklist(ChecklistItem.ALERT_ORIENTED, by="RN"))
    hub.notify(EndSession("RN", cadss=22))
    assert pipeline.join(timeout=20), "the pipeline did not stop after the discharge"
    sid = started.session_id
    assert hub.ended is not None and hub.ended.reason == "session ended by RN"
    with SessionStore(db) as store:
        row = store.session(sid)
        assert row.status is SessionStatus.COMPLETED
        assert [p.phase for p in store.phases(sid)] == [Phase.BASELINE, Phase.INFUSION,
                                                        Phase.ENDED]
        assert [(a.action, a.reason) for a in store.infusion_actions(sid)] == [
            (InfusionAction.START, "baseline fine"), (InfusionAction.STOP, "session ended")]
        events = store.session_events(sid)
        assert [(e.event_id, e.kind) for e in events] == [("e1", EventKind.NAUSEA),
                                                          ("e2", EventKind.NOTE)]
        assert "escort present" in events[1].text
        manual = [(r.vital, r.value) for r in store.readings(sid) if r.quality is Quality.MANUAL]
        assert manual == [(Vital.NIBP_SYS, 150), (Vital.NIBP_DIA, 90), (Vital.NIBP_MEAN, 110)]
        assert [(c.item, c.ticked) for c in store.checklist_ticks(sid)] == [
            ("escort_present", True), ("alert_oriented", True)]
        setup = store.setup(sid)
        assert setup is not None
        assert {k: setup[k] for k in SETUP} == SETUP
        assert setup["discharge_by"] == "RN"
        assert setup["discharge_checklist"] == ("alert and oriented", "escort present")
        assert setup["post_cadss"] == 22
        assert setup["discharge_at"] == next(m.t for m in out if isinstance(m, PhaseChanged)
                                             and m.phase is Phase.ENDED)
        assert [e.text for e in store.events(sid) if e.kind == "session_end"] == [
            "session ended by RN"]
    with sqlite3.connect(db) as conn:   # the patient reference links sessions into a course
        assert conn.execute("SELECT patient_ref FROM sessions WHERE id = ?",
                            (sid,)).fetchone() == ("AB-12",)


def test_a_resumed_session_gets_its_events_and_infusion_state_back(tmp_path):
    db = database.open_database(tmp_path)
    t0 = time.time() - 1400   # resumed at 23 min, before the scripted nausea
    sid = database.create_session(db, started_at=t0, source="sim:typical", simulated=True)
    q = BoundedQueue(100, "recorder")
    rec = Recorder(db, sid, q, on_status=lambda s: None, clock_now=time.time)
    rec.start()
    for item in (InfusionChanged(InfusionAction.START, t0 + 600, "RN"),
                 PhaseChanged(Phase.INFUSION, t0 + 600),
                 SessionEvent("e1", t0 + 1200, EventKind.DISSOCIATION, "", "scenario"),
                 SessionEvent("e2", t0 + 1300, EventKind.ANXIETY, "", "RN"),
                 EventTimeCorrected("e2", t0 + 1300, t0 + 1290, "RN B", t0 + 1305),
                 Note(t0 + 1306, MANUAL_NOTE_KIND, "NIBP 150/90 mmHg (mean 110)", "RN"),
                 Note(t0 + 1307, "source", "something else", "system"),
                 ChecklistTicked(t0 + 1308, "escort_present", True, "RN"),
                 InfusionChanged(InfusionAction.PAUSE, t0 + 1310, "RN", "anxiety")):
        q.put(item)
    rec.stop()          # the process "dies": the session stays open
    rec.join(10)
    driver = make_driver(parse_source("sim:typical"), seed=1)
    out: list = []
    pipeline = Pipeline(driver, db, SimClock(time.time(), speed=1.0), sink=out.append,
                        resume=sid)
    pipeline.start()
    pipeline.hub.notify(ChangeInfusion(InfusionAction.RESUME, by="RN"))
    pipeline.hub.notify(AddEvent(EventKind.HEADACHE, author="RN"))
    pipeline.hub.notify(EndSession("RN"))
    assert pipeline.join(timeout=20)
    history = next(m for m in out if isinstance(m, History))
    assert [(e.event_id, e.t) for e in history.events] == [("e1", t0 + 1200),
                                                           ("e2", t0 + 1290)]
    assert history.corrections == (
        EventTimeCorrected("e2", t0 + 1300, t0 + 1290, "RN B", t0 + 1305),)
    assert history.notes == (Note(t0 + 1306, MANUAL_NOTE_KIND, "NIBP 150/90 mmHg (mean 110)",
                                  "RN"),)
    assert history.checklist == (ChecklistTicked(t0 + 1308, "escort_present", True, "RN"),)
    assert pipeline.hub.workflow.ticked == {"escort_present"}
    assert [a.action for a in history.infusion] == [InfusionAction.START, InfusionAction.PAUSE]
    # The scripted dissociation at 20 min is not recorded twice; numbering goes on.
    assert [(m.event_id, m.kind) for m in out if isinstance(m, SessionEvent)] == [
        ("e3", EventKind.HEADACHE), ("e4", EventKind.NOTE)]
    assert [m.action for m in out if isinstance(m, InfusionChanged)] == [
        InfusionAction.RESUME, InfusionAction.STOP]
