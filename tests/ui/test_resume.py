"""After a crash, the window offers to resume the unfinished session in the same record."""

import json
import os
import signal
import subprocess

import pytest
from PySide6 import QtCore, QtWidgets

from monitor.acquisition.sources import make_driver
from monitor.app import GuiOptions, prepare_session
from monitor.core.session import SessionStatus
from monitor.core.vitals import Vital
from monitor.devices.registry import parse_source
from monitor.storage import database
from monitor.storage.store import SessionStore
from monitor.ui.application import ResumeDialog
from monitor.ui.live.view import LiveView
from tests.integration.helpers import REPO, monitor_cmd


def _crashed_session(data_dir) -> dict:
    """A real headless session killed with SIGKILL after some readings were recorded."""
    proc = subprocess.Popen(
        monitor_cmd("run", "--headless", "--source", "sim:typical", "--speed", "60",
                    "--data-dir", str(data_dir), "--readings"),
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=REPO)
    session, count = None, 0
    for line in proc.stdout:
        obj = json.loads(line)
        if obj["type"] == "session":
            session = obj
        count += obj["type"] == "reading"
        if count >= 600:
            break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    proc.stdout.close()
    db = database.open_database(data_dir)
    with SessionStore(db) as store:  # wait until the last commit is visible
        assert store.session(session["id"]).reading_count > 0
    return session


def store_events(db, sid):
    with SessionStore(db) as store:
        return store.events(sid)


def _options(data_dir):
    driver = make_driver(parse_source("sim:typical"), seed=0)
    return GuiOptions(driver, data_dir, 60.0, 10.0)


def test_resume_continues_in_the_same_record(qtbot, tmp_path):
    crashed = _crashed_session(tmp_path)
    db = database.open_database(tmp_path)
    before = database.session_row(db, crashed["id"]).reading_count
    with SessionStore(db) as store:
        hr_before = store.numeric_arrays(crashed["id"], Vital.HR)[0].size
    asked = []

    def ask(row, gap):
        asked.append((row.id, gap))
        return True

    pipeline, clock = prepare_session(_options(tmp_path), ask)
    pipeline.start()
    view = LiveView(clock, pipeline.ui_queue, simulated=True)
    view.events_bar.initials_edit.setText("RN")   # every action records who
    qtbot.addWidget(view)
    view.resize(1280, 800)
    view.show()
    view.start()
    try:
        assert [a[0] for a in asked] == [crashed["id"]] and asked[0][1] >= 0
        assert pipeline.session_id == crashed["id"]
        qtbot.waitUntil(lambda: view.tiles[Vital.HR].value_text().isdigit(), timeout=10_000)
        qtbot.waitUntil(lambda: "resumed" in view.header.status_label.text().lower(),
                        timeout=10_000)
        qtbot.waitUntil(lambda: database.session_row(db, crashed["id"]).reading_count
                        > before + 50, timeout=15_000)
    finally:
        view.stop()
        pipeline.stop()
        assert pipeline.join(timeout=15)
    row = database.session_row(db, crashed["id"])
    assert row.status is SessionStatus.COMPLETED
    with SessionStore(db) as store:
        kinds = [e.kind for e in store.events(crashed["id"])]
        t, _ = store.numeric_arrays(crashed["id"], Vital.HR)
    assert "resumed" in kinds
    resumed_at = next(e.t for e in store_events(db, crashed["id"]) if e.kind == "resumed")
    # One record: HR from before the crash and after the resume, times strictly increasing.
    assert t[0] < crashed["start"] + 30
    assert (t < resumed_at).sum() == hr_before
    assert (t > resumed_at).sum() >= 5
    assert (t[1:] > t[:-1]).all()
    assert [s.id for s in database.list_sessions(db)] == [crashed["id"]]


def test_declining_closes_it_as_interrupted_and_starts_new(tmp_path):
    crashed = _crashed_session(tmp_path)
    pipeline, _ = prepare_session(_options(tmp_path), lambda row, gap: False)
    db = database.open_database(tmp_path)
    assert database.session_row(db, crashed["id"]).status is SessionStatus.INTERRUPTED
    assert pipeline.resume is None  # a new session is created on start
    assert pipeline.session_id is None


# The offscreen platform plugin warns that it cannot propagate a top-level
# dialog's size hints; that is the test platform, not the dialog.
dialog_on_offscreen = pytest.mark.qt_log_ignore("does not support propagateSizeHints")


def _dialog(qtbot):
    row = database.SessionRow(7, 1_700_000_000.0, None, SessionStatus.OPEN, "sim:typical",
                              True, 1_700_000_600.0, 600)
    dialog = ResumeDialog(row, 185.0)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


@dialog_on_offscreen
def test_resume_dialog_says_which_session_and_how_long(qtbot):
    dialog = _dialog(qtbot)
    text = " ".join(label.text() for label in dialog.findChildren(QtWidgets.QLabel))
    assert "Session 7" in text and "3 min ago" in text and "sim:typical" in text
    assert dialog.resume_button.isDefault()


@dialog_on_offscreen
def test_resume_dialog_resume_button_accepts(qtbot):
    dialog = _dialog(qtbot)
    qtbot.mouseClick(dialog.resume_button, QtCore.Qt.MouseButton.LeftButton)
    assert dialog.result() == QtWidgets.QDialog.DialogCode.Accepted


@dialog_on_offscreen
def test_resume_dialog_new_button_rejects(qtbot):
    dialog = _dialog(qtbot)
    qtbot.mouseClick(dialog.new_button, QtCore.Qt.MouseButton.LeftButton)
    assert dialog.result() == QtWidgets.QDialog.DialogCode.Rejected
