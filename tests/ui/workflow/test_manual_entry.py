"""Manual entry: range-checked, sent to the hub, and tagged "MANUAL" wherever it is shown."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from monitor.core.vitals import Vital
from monitor.core.workflow.messages import ManualEntry
from monitor.ui.live.model import MANUAL_SHOWN_S, MANUAL_TAG
from monitor.ui.workflow.manual_entry_dialog import NO_MEAN_TEXT, ManualEntryDialog
from tests.ui.helpers import T0, reading, session_started
from tests.ui.workflow_helpers import manual

pytestmark = pytest.mark.qt_log_ignore(r"does not support propagateSizeHints")


@pytest.fixture
def dialog(qtbot):
    d = ManualEntryDialog("AB")
    qtbot.addWidget(d)
    d.made = []
    d.entry_made.connect(d.made.append)
    return d


def test_nibp_mean_is_computed_as_typed(dialog):
    assert dialog.vital() is Vital.NIBP_SYS
    dialog.sys_edit.setText("130")
    assert dialog.mean_label.text() == NO_MEAN_TEXT
    dialog.dia_edit.setText("85")
    assert dialog.mean_label.text() == "100 mmHg"
    dialog.buttons.accepted.emit()
    assert dialog.made == [ManualEntry(Vital.NIBP_SYS, 130.0, "AB", 85.0)]
    assert dialog.result() == QDialog.DialogCode.Accepted


@pytest.mark.parametrize("sys,dia,message", [
    ("120", "125", "the diastolic must be below the systolic"),
    ("310", "90", "NIBP sys 310 mmHg is outside the plausible range 30-300 mmHg"),
    ("120", "", "Diastolic: is required"),
    ("12o", "80", "Systolic: must be a number"),
])
def test_bad_nibp_is_refused(dialog, sys, dia, message):
    dialog.sys_edit.setText(sys)
    dialog.dia_edit.setText(dia)
    dialog.buttons.accepted.emit()
    assert message in dialog.error_text()
    assert dialog.made == [] and dialog.result() != QDialog.DialogCode.Accepted


@pytest.mark.parametrize("vital,text,value", [(Vital.HR, "88", 88.0), (Vital.SPO2, "95", 95.0),
                                              (Vital.RESP_RATE, "14", 14.0)])
def test_single_values(dialog, vital, text, value):
    dialog.select(vital)
    assert not dialog.sys_edit.isVisible() or dialog.isHidden()
    dialog.value_edit.setText(text)
    dialog.buttons.accepted.emit()
    assert dialog.made == [ManualEntry(vital, value, "AB")]


def test_spo2_above_100_is_refused(dialog):
    dialog.select(Vital.SPO2)
    dialog.value_edit.setText("101")
    dialog.buttons.accepted.emit()
    assert "SpO2 101 % is outside the plausible range 0-100 %" in dialog.error_text()
    assert dialog.made == []


def test_initials_are_required(dialog):
    dialog.initials_edit.clear()
    dialog.select(Vital.HR)
    dialog.value_edit.setText("80")
    dialog.buttons.accepted.emit()
    assert dialog.error_text() == "Your initials are required." and dialog.made == []


def test_ctrl_m_opens_it_and_the_entry_goes_to_the_hub(qtbot, make_view, ui_queue):
    sent = []
    view = make_view(send_command=sent.append, sound=False)
    view.show()
    qtbot.waitExposed(view)
    view.activateWindow()
    qtbot.waitUntil(view.isActiveWindow, timeout=2000)
    view.events_bar.initials_edit.setText("RN")
    qtbot.keyClick(view, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier)
    dialog = view.manual_dialog
    assert dialog is not None and dialog.initials_edit.text() == "RN"
    qtbot.waitUntil(dialog.isActiveWindow, timeout=2000)
    # Keys typed into the dialog never reach the window's shortcuts.
    qtbot.keyClicks(dialog.sys_edit, "128")
    qtbot.keyClick(dialog.sys_edit, Qt.Key.Key_F1)
    qtbot.keyClick(dialog.sys_edit, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(dialog.sys_edit, Qt.Key.Key_Space)
    assert sent == []
    qtbot.keyClicks(dialog.dia_edit, "84")
    qtbot.keyClick(dialog.dia_edit, Qt.Key.Key_Return)
    assert sent == [ManualEntry(Vital.NIBP_SYS, 128.0, "RN", 84.0)]
    qtbot.waitUntil(lambda: view.manual_dialog is None, timeout=2000)


def test_tiles_tag_manual_values(view, ui_queue, clock):
    ui_queue.put(session_started())
    ui_queue.put(manual(Vital.HR, 84, T0 + 10))
    ui_queue.put(reading(Vital.SPO2, 97, T0 + 10))
    for v, x in ((Vital.NIBP_SYS, 130), (Vital.NIBP_DIA, 85), (Vital.NIBP_MEAN, 100)):
        ui_queue.put(manual(v, x, T0 + 20))
    clock.advance_to(T0 + 140)
    view.drain()
    hr = view.tiles[Vital.HR]
    assert hr.value_text() == "84" and hr.is_manual()
    assert hr.reason_text() == f"{MANUAL_TAG} \u00b7 2 min ago"   # no device: stays, with its age
    assert not view.tiles[Vital.SPO2].is_manual()
    assert view.nibp_tile.value_text() == "130/85" and view.nibp_tile.is_manual()
    assert view.nibp_tile.reason_text() == MANUAL_TAG
    ui_queue.put(reading(Vital.HR, 77, T0 + 141))       # the device takes over again
    clock.advance_to(T0 + 141)
    view.drain()
    assert hr.value_text() == "77" and not hr.is_manual() and hr.reason_text() == ""


def test_a_manual_value_goes_stale_after_its_time(view, ui_queue, clock):
    ui_queue.put(session_started())
    ui_queue.put(manual(Vital.HR, 84, T0 + 10))
    clock.advance_to(T0 + 10 + MANUAL_SHOWN_S + 1)
    view.drain()
    assert view.tiles[Vital.HR].value_text() == "---"
    assert not view.tiles[Vital.HR].is_manual()
