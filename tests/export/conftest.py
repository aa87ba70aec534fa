"""Recorded sessions to export: real headless simulated runs, plus what a nurse adds at the chair.

Session 1 is ``sim:typical`` (28 min of session, scripted events) with the
set-up form filled in (patient reference, clinician), nurse events (one
corrected, one too long for an EDF annotation), a manual NIBP, an alarm
acknowledged by the nurse, a port-lost alarm naming the port and the
device's serial number, an infusion pause and the discharge, all written
through the app's own recorder. Session 2 is ``sim:sensor-off`` through the
Datex S/5 protocol (31 min: SpO2, pulse rate and pleth missing for 30 s).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from monitor.core.alarms.model import (
    AlarmAction,
    AlarmKind,
    AlarmTransition,
    Priority,
    TransitionState,
)
from monitor.core.events import Note
from monitor.core.queues import BoundedQueue
from monitor.core.reading import Quality, make_reading
from monitor.core.vitals import Vital
from monitor.core.workflow.messages import (
    MANUAL_NOTE_KIND,
    EventKind,
    EventTimeCorrected,
    InfusionAction,
    InfusionChanged,
    SessionDischarged,
    SessionEvent,
)
from monitor.review.record import load_record
from monitor.storage import database
from monitor.storage.recorder import Recorder
from tests.integration.helpers import run_monitor

PATIENT = "MRN-0042917"
CLINICIAN = "Dr Alice Moreau"
NURSE = "Nurse Bob Ellis"
PORT = "/dev/ttyUSB7"
SERIAL_NO = "SN=00056661"
LONG_NOTE = "patient asks for the lights dimmed; partner waiting outside the room"


@dataclass(frozen=True)
class Recorded:
    """The data folder, its database and the ids of the two sessions."""

    data_dir: Path
    db: Path
    typical: int
    datex: int


def _run(data: Path, *args: str) -> int:
    proc = run_monitor("run", "--headless", "--speed", "max", "--data-dir", str(data), *args,
                       timeout=300)
    assert proc.returncode == 0, proc.stderr
    return max(r.id for r in database.list_sessions(database.open_database(data)))


def _nurse_items(s0: float) -> list:
    """What the nurse adds to session 1, at seconds from its start."""
    nibp = ("nibp_sys.high", AlarmKind.PHYSIOLOGICAL, Vital.NIBP_SYS, Priority.MEDIUM)
    port = ("source.port_lost", AlarmKind.TECHNICAL, None, Priority.HIGH)
    port_msg = f"PORT LOST: {PORT} disconnected ({SERIAL_NO})"
    return [
        SessionEvent("n1", s0 + 700.0, EventKind.HEADACHE, "mild, wants water", NURSE),
        EventTimeCorrected("n1", s0 + 700.0, s0 + 650.5, NURSE, s0 + 900.0),
        SessionEvent("n2", s0 + 800.25, EventKind.NOTE, LONG_NOTE, NURSE),
        make_reading(Vital.NIBP_SYS, 142.0, s0 + 930.0, Quality.MANUAL),
        make_reading(Vital.NIBP_DIA, 88.0, s0 + 930.0, Quality.MANUAL),
        Note(s0 + 930.0, MANUAL_NOTE_KIND, "NIBP 142/88 mmHg", NURSE),
        AlarmTransition(*nibp, TransitionState.RAISED, s0 + 930.0, 142.0, 140.0,
                        "NIBP sys 142 > 140"),
        AlarmTransition(*nibp, TransitionState.ACKNOWLEDGED, s0 + 950.0, 142.0, 140.0,
                        "NIBP sys 142 > 140", NURSE),
        AlarmAction(s0 + 950.0, "acknowledge", "nibp_sys.high", NURSE),
        AlarmTransition(*nibp, TransitionState.CLEARED, s0 + 1260.0, 142.0, 140.0,
                        "NIBP sys 142 > 140"),
        AlarmTransition(*port, TransitionState.RAISED, s0 + 1000.0, None, None, port_msg),
        AlarmTransition(*port, TransitionState.CLEARED, s0 + 1012.0, None, None, port_msg),
        Note(s0 + 1012.0, "technical:port_lost:end", f"{PORT} connected", "system"),
        InfusionChanged(InfusionAction.PAUSE, s0 + 1100.0, NURSE, "patient anxious"),
        InfusionChanged(InfusionAction.RESUME, s0 + 1160.0, NURSE, ""),
        SessionDischarged(s0 + 1675.0, NURSE, ("alert",), "", 3),
    ]


def _add_nurse_items(db: Path, sid: int) -> None:
    s0 = database.session_row(db, sid).started_at
    q: BoundedQueue = BoundedQueue(1000, "rec", block_when_full=True)
    rec = Recorder(db, sid, q, on_status=lambda status: None, clock_now=lambda: s0)
    rec.start()
    for item in _nurse_items(s0):
        q.put(item)
    rec.stop()
    rec.join(30)
    assert not rec.is_alive() and not rec.ever_failed
    database.save_setup(db, sid, {
        "patient_ref": PATIENT, "weight_kg": 72.5, "dose_mg_per_kg": 0.5, "total_mg": 36.25,
        "planned_infusion_min": 40, "course_number": 3, "course_total": 6,
        "clinician": CLINICIAN, "pre_phq9": 18, "pre_madrs": 30})


@pytest.fixture(scope="session")
def recorded(tmp_path_factory) -> Recorded:
    data = tmp_path_factory.mktemp("exports-data")
    typical = _run(data, "--source", "sim:typical", "--duration", "1680", "--seed", "3")
    db = database.open_database(data)
    _add_nurse_items(db, typical)
    datex = _run(data, "--source", "sim:sensor-off", "--protocol", "datex-s5",
                 "--duration", "1860", "--seed", "2")
    return Recorded(data, db, typical, datex)


@pytest.fixture(scope="session")
def typical(recorded):
    return load_record(recorded.db, recorded.typical)


@pytest.fixture(scope="session")
def datex(recorded):
    return load_record(recorded.db, recorded.datex)


@pytest.fixture(params=["typical", "datex"])
def record(request):
    return request.getfixturevalue(request.param)
