"""The nurse's session with real parts: simulator -> pipeline -> hub -> live view -> record.

No fakes: the view sends its commands through ``hub.notify``; the hub applies
them on its thread, records them and publishes them back to the view.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import pytest
from PySide6.QtCore import Qt

from monitor.acquisition.pipeline import Pipeline
from monitor.acquisition.sources import make_driver
from monitor.app import GuiOptions, prepare_session, session_setup, setup_record
from monitor.core.clock import SimClock
from monitor.core.session import Phase, SessionStatus
from monitor.core.vitals import Vital
from monitor.core.workflow.baseline_gate import GateStatus
from monitor.core.workflow.discharge import ChecklistItem
from monitor.core.workflow.infusion import InfusionState
from monitor.core.workflow.messages import EventKind, InfusionAction
from monitor.core.workflow.setup import SessionSetup
from monitor.devices.registry import parse_source
from monitor.storage import database
from monitor.storage.store import SessionStore
from monitor.ui.live.view import LiveView
from tests.integration.helpers import REPO, monitor_cmd

pytestmark = [
    pytest.mark.qt_log_ignore(r"does not support propagateSizeHints"),
    pytest.mark.slow,
]

SETUP = SessionSetup("SIM-01", 70, 0.5, "Dr Lee", planned_infusion_min=40, source="sim:typical")


@pytest.fixture
def running(qtbot, tmp_path):
    """The typical scenario at 60x from its start, with the real window and a set-up."""
    db = database.open_database(tmp_path / "data")
    driver = make_driver(parse_source("sim:typical"), seed=0, duration_s=None,
                         protocol=None, overrides=None, data_dir=None)
    clock = SimClock(time.time(), 60.0)
    pipe = Pipeline(driver, db, clock, with_ui=True, setup=setup_record(SETUP))
    pipe.start()
    hub = pipe.hub
    view = LiveView(clock, pipe.ui_queue, simulated=True, alarm_state=hub.alarm_state.get,
                    send_command=hub.notify, profile=hub.alarms.profile, sound=False,
                    setup=SETUP)
    view.events_bar.initials_edit.setText("RN")   # every action records who
    qtbot.addWidget(view)
    view.resize(1280, 800)
    view.show()
    qtbot.waitExposed(view)
    yield view, hub, pipe, db, clock
    view.stop()
    pipe.stop()
    assert pipe.join(timeout=15)
    view.close()


def _phase(view):
    return view.workflow.phase


def test_a_whole_session_from_the_window(qtbot, running):
    view, hub, pipe, db, clock = running
    panel = view.workflow_panel
    view.events_bar.initials_edit.setText("RN")
    # Baseline: the simulator's cuff gives two determinations 5 min apart (~6 s here).
    qtbot.waitUntil(lambda: (g := view.workflow.state(clock.now()).gate) is not None
                    and g.status is GateStatus.READY, timeout=15_000)
    assert _phase(view) is Phase.BASELINE     # before the scenario's own start at 10 min
    panel.request_start()
    panel.dialog.ok()
    qtbot.waitUntil(lambda: _phase(view) is Phase.INFUSION, timeout=5_000)
    assert view.header.phase_label.text() == "INFUSION"
    assert hub.model.phase is Phase.INFUSION
    # A one-click event: recorded by the hub, back in the list and on the trends.
    qtbot.mouseClick(view.events_bar.event_buttons[EventKind.NAUSEA], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: any(r.label == "Nausea" for r in view.events_list.rows()),
                    timeout=5_000)
    assert view.trends.event_lines
    # A manual NIBP: recorded, shown tagged manual.
    view.open_manual_entry()
    dialog = view.manual_dialog
    dialog.sys_edit.setText("131")
    dialog.dia_edit.setText("83")
    dialog.buttons.accepted.emit()
    qtbot.waitUntil(lambda: view.nibp_tile.value_text() == "131/83", timeout=5_000)
    assert view.nibp_tile.is_manual()
    assert any(r.label == "Manual entry" for r in view.events_list.rows())
    # Pause (with its reason), resume, stop.
    panel.request_pause_resume()
    panel.dialog.edits["reason"].setText("nausea")
    panel.dialog.ok()
    qtbot.waitUntil(lambda: view.workflow.state(clock.now()).infusion is InfusionState.PAUSED,
                    timeout=5_000)
    qtbot.waitUntil(lambda: panel.infusion_state_label.text().startswith("INFUSION PAUSED"),
                    timeout=2_000)
    panel.request_pause_resume()             # resume, one click
    qtbot.waitUntil(lambda: view.workflow.state(clock.now()).infusion is InfusionState.RUNNING,
                    timeout=5_000)
    panel.request_stop()
    panel.dialog.ok()
    qtbot.waitUntil(lambda: _phase(view) is Phase.RECOVERY, timeout=5_000)
    assert panel.readiness_text() == "NOT READY FOR DISCHARGE"
    panel.checklist_boxes[ChecklistItem.ESCORT_PRESENT].click()   # recorded by the hub
    qtbot.waitUntil(lambda: hub.workflow.ticked == {"escort_present"}, timeout=5_000)
    panel.request_end()
    panel.dialog.edits["cadss"].setText("9")
    panel.dialog.ok()
    qtbot.waitUntil(lambda: _phase(view) is Phase.ENDED, timeout=10_000)
    qtbot.waitUntil(lambda: database.session_row(db, pipe.session_id).status
                    is SessionStatus.COMPLETED, timeout=15_000)
    with SessionStore(db) as store:
        actions = [a.action for a in store.infusion_actions(pipe.session_id)]
        kinds = [e.kind for e in store.session_events(pipe.session_id)]
        setup = store.setup(pipe.session_id)
        manual = store.numeric_arrays(pipe.session_id, Vital.NIBP_SYS)
        ticks = store.checklist_ticks(pipe.session_id)
    assert actions == [InfusionAction.START, InfusionAction.PAUSE, InfusionAction.RESUME,
                       InfusionAction.STOP]
    assert EventKind.NAUSEA in kinds and kinds[-1] is EventKind.NOTE   # the discharge note
    assert setup["patient_ref"] == "SIM-01" and setup["discharge_by"] == "RN"
    assert setup["discharge_checklist"] == ("escort present",) and setup["post_cadss"] == 9
    assert [(c.item, c.ticked, c.by) for c in ticks] == [("escort_present", True, "RN")]
    assert 131 in manual[1]


def _crash_during_infusion(data_dir) -> dict:
    """A headless typical session killed (SIGKILL) a few minutes into the infusion."""
    proc = subprocess.Popen(
        monitor_cmd("run", "--headless", "--source", "sim:typical", "--speed", "60",
                    "--data-dir", str(data_dir)),
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=REPO)
    session = infusion_t = None
    for line in proc.stdout:
        obj = json.loads(line)
        if obj["type"] == "session":
            session = obj
        if obj["type"] == "phase" and obj["phase"] == "infusion":
            infusion_t = obj["t"]
        if infusion_t is not None and obj.get("t", 0) > infusion_t + 240:
            break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    proc.stdout.close()
    assert session is not None and infusion_t is not None
    db = database.open_database(data_dir)
    with SessionStore(db) as store:
        assert store.infusion_actions(session["id"])      # committed before the kill
    return {"id": session["id"], "start": session["start"], "infusion_t": infusion_t}


def test_crash_and_resume_restores_phase_and_timers(qtbot, tmp_path):
    crashed = _crash_during_infusion(tmp_path)
    driver = make_driver(parse_source("sim:typical"), seed=0)
    pipeline, clock = prepare_session(GuiOptions(driver, tmp_path, 60.0, 10.0),
                                      lambda row, gap: True)
    pipeline.start()
    view = LiveView(clock, pipeline.ui_queue, simulated=True, sound=False,
                    setup=session_setup(pipeline))
    view.events_bar.initials_edit.setText("RN")   # every action records who
    qtbot.addWidget(view)
    view.resize(1280, 800)
    view.show()
    try:
        assert pipeline.session_id == crashed["id"]
        qtbot.waitUntil(lambda: _phase(view) is Phase.INFUSION, timeout=10_000)
        state = view.workflow.state(clock.now())
        # The timer counts from the recorded start, not from the restart.
        expected = clock.now() - crashed["infusion_t"]
        assert state.elapsed_s == pytest.approx(expected, abs=2.0)
        assert state.elapsed_s > 240
        assert state.resume_text.startswith("Session resumed after a gap of")
        qtbot.waitUntil(lambda: "resumed after a gap of" in view.header.status_text(),
                        timeout=5_000)
        panel = view.workflow_panel
        qtbot.waitUntil(lambda: panel.elapsed_label.text() not in ("", "0:00"), timeout=5_000)
        minutes = int(panel.elapsed_label.text().split(":")[0])
        assert minutes >= 4
    finally:
        view.stop()
        pipeline.stop()
        assert pipeline.join(timeout=15)
