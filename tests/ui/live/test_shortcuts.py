"""Keyboard shortcuts: the visible list, the infusion keys, and nothing fires inside a dialog."""

from __future__ import annotations

import gc
import weakref

import pytest
from PySide6.QtCore import Qt

from monitor.core.queues import BoundedQueue
from monitor.core.workflow.messages import ChangeInfusion, InfusionAction
from monitor.ui.live.keys_dialog import KeysDialog
from monitor.ui.live.shortcuts import SHORTCUTS
from monitor.ui.live.view import LiveView
from tests.ui.helpers import T0, session_started
from tests.ui.workflow_helpers import INFUSION_AT, baseline_readings, started

pytestmark = pytest.mark.qt_log_ignore(r"does not support propagateSizeHints")


@pytest.fixture
def sent() -> list:
    return []


@pytest.fixture
def key_view(qtbot, make_view, ui_queue, sent):
    view = make_view(send_command=sent.append, sound=False)
    view.resize(1280, 800)
    view.show()
    qtbot.waitExposed(view)
    view.activateWindow()
    qtbot.waitUntil(view.isActiveWindow, timeout=2000)
    ui_queue.put(session_started())
    view.drain()
    return view


def test_the_list_names_every_shortcut(qtbot):
    dialog = KeysDialog()
    qtbot.addWidget(dialog)
    keys = [k for k, _ in dialog.rows]
    for expected in ("Space", "F1", "F8", "Ctrl+M", "Ctrl+I", "Ctrl+P", "Ctrl+Shift+S",
                     "Ctrl+E", "Ctrl+N", "F12 or ?"):
        assert expected in keys
    assert len(dialog.rows) == len(SHORTCUTS)
    assert ("F1", "Record: Nausea") in dialog.rows


@pytest.mark.parametrize("key,modifier", [(Qt.Key.Key_F12, Qt.KeyboardModifier.NoModifier),
                                          (Qt.Key.Key_Question, Qt.KeyboardModifier.NoModifier)])
def test_f12_or_question_mark_shows_the_list(qtbot, key_view, key, modifier):
    qtbot.keyClick(key_view, key, modifier)
    assert key_view.keys_dialog is not None and key_view.keys_dialog.isVisible()
    key_view.keys_dialog.close()


def test_keys_button_shows_the_list(qtbot, key_view):
    qtbot.mouseClick(key_view.events_bar.keys_button, Qt.MouseButton.LeftButton)
    assert key_view.keys_dialog.isVisible()
    key_view.keys_dialog.close()


def test_ctrl_i_goes_through_the_gate(qtbot, key_view, ui_queue, clock, sent):
    clock.advance_to(INFUSION_AT - 5)
    for r in baseline_readings(120, 80):
        ui_queue.put(r)
    key_view.drain()
    qtbot.keyClick(key_view, Qt.Key.Key_I, Qt.KeyboardModifier.ControlModifier)
    dialog = key_view.workflow_panel.dialog
    assert dialog is not None and dialog.windowTitle() == "Start infusion"
    qtbot.waitUntil(dialog.isActiveWindow, timeout=2000)
    # Typing in the dialog's field never triggers the window's keys.
    dialog.edits["by"].clear()
    qtbot.keyClicks(dialog.edits["by"], "RN")
    qtbot.keyClick(dialog.edits["by"], Qt.Key.Key_F2)
    qtbot.keyClick(dialog.edits["by"], Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    assert sent == []
    qtbot.keyClick(dialog.edits["by"], Qt.Key.Key_Return)
    assert sent == [ChangeInfusion(InfusionAction.START, "RN")]


def test_ctrl_p_pauses_and_ctrl_shift_s_stops(qtbot, key_view, ui_queue, clock, sent):
    clock.advance_to(INFUSION_AT + 60)
    for m in started():
        ui_queue.put(m)
    key_view.drain()
    qtbot.keyClick(key_view, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
    assert key_view.workflow_panel.dialog.windowTitle() == "Pause infusion"
    key_view.workflow_panel.dialog.reject()
    qtbot.keyClick(key_view, Qt.Key.Key_S,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert key_view.workflow_panel.dialog.windowTitle() == "Stop infusion"
    key_view.workflow_panel.dialog.reject()
    qtbot.keyClick(key_view, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    assert key_view.workflow_panel.dialog.windowTitle() == "End session"
    key_view.workflow_panel.dialog.reject()
    assert sent == []


def test_a_closed_view_is_freed_at_once(qtbot):
    """No reference cycles: a view kept alive past the QApplication crashes the process."""
    from monitor.core.clock import SimClock

    def make() -> weakref.ref:
        view = LiveView(SimClock(T0, None), BoundedQueue(10, "ui"), simulated=True,
                        sound=False)
        view.show()
        view.events_bar.record  # noqa: B018 -- touch the wiring
        view.close()
        return weakref.ref(view)

    gc.disable()
    try:
        ref = make()
        assert ref() is None
    finally:
        gc.enable()
