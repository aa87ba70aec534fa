"""Events at the chair: one-click buttons and keys, notes, the list, corrections, trend markers."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from monitor.core.alarms.model import Acknowledge
from monitor.core.events import Note
from monitor.core.workflow.messages import (
    AddEvent,
    CorrectEventTime,
    EventKind,
    EventTimeCorrected,
    SessionEvent,
)
from monitor.ui.live.shortcuts import EVENT_KEYS
from monitor.ui.workflow.events_list import correction_text
from tests.ui.helpers import T0, session_started

pytestmark = pytest.mark.qt_log_ignore(r"does not support propagateSizeHints")


@pytest.fixture
def sent() -> list:
    return []


@pytest.fixture
def ev_view(qtbot, make_view, ui_queue, sent):
    view = make_view(send_command=sent.append, sound=False)
    view.resize(1280, 800)
    view.show()
    qtbot.waitExposed(view)
    view.activateWindow()
    qtbot.waitUntil(view.isActiveWindow, timeout=2000)
    ui_queue.put(session_started())
    view.drain()
    return view


def test_each_button_records_its_event_with_the_initials(qtbot, ev_view, sent):
    ev_view.events_bar.initials_edit.setText(" AB ")
    for button in ev_view.events_bar.event_buttons.values():
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert sent == [AddEvent(kind, "", "AB") for kind in EVENT_KEYS]
    assert len(sent) == 8


@pytest.mark.parametrize("key,kind", [(Qt.Key.Key_F1, EventKind.NAUSEA),
                                      (Qt.Key.Key_F6, EventKind.ANTIEMETIC),
                                      (Qt.Key.Key_F8, EventKind.DOSE_CHANGED)])
def test_function_keys_record_events(qtbot, ev_view, sent, key, kind):
    qtbot.keyClick(ev_view, key)
    assert sent == [AddEvent(kind, "", "RN")]


def test_note_field_sends_a_note_on_enter(qtbot, ev_view, sent):
    qtbot.keyClick(ev_view, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    note = ev_view.events_bar.note_edit
    assert note.hasFocus()
    qtbot.keyClicks(note, "patient asks for water")
    qtbot.keyClick(note, Qt.Key.Key_Space)         # typing a space never pauses the sound
    qtbot.keyClick(note, Qt.Key.Key_Return)
    assert sent == [AddEvent(EventKind.NOTE, "patient asks for water", "RN")]
    assert note.text() == "" and not note.hasFocus()


def test_empty_note_sends_nothing(qtbot, ev_view, sent):
    qtbot.mouseClick(ev_view.events_bar.note_button, Qt.MouseButton.LeftButton)
    assert sent == []


def test_recorded_events_show_in_the_list_and_on_the_trends(qtbot, ev_view, ui_queue, clock):
    clock.advance_to(T0 + 1500)
    ui_queue.put(SessionEvent("e1", T0 + 1200, EventKind.NAUSEA, "mild", "RN"))
    ui_queue.put(SessionEvent("e2", T0 + 1260, EventKind.ANTIEMETIC, "ondansetron 4 mg", "RN"))
    ui_queue.put(Note(T0 + 1300, "manual_entry", "NIBP 130/85 mmHg (mean 100)", "AB"))
    ev_view.drain()
    lst = ev_view.events_list
    assert [lst.cell_text(i, 0) for i in range(3)] == ["0:20:00", "0:21:00", "0:21:40"]
    assert [lst.cell_text(i, 1) for i in range(3)] == ["Nausea", "Antiemetic given",
                                                       "Manual entry"]
    assert lst.cell_text(1, 2) == "ondansetron 4 mg" and lst.cell_text(2, 3) == "AB"
    assert ev_view.events_bar.events_button.text() == "Events (3)"
    lines = ev_view.trends.event_lines
    assert set(lines) == {"e1", "e2"}                       # manual entries are not marked
    assert len(lines["e1"]) == len(ev_view.trends.plots)
    assert lines["e1"][0].value() == pytest.approx(20.0)
    # Drawing happens on change only.
    first = lines["e1"][0]
    ev_view.drain()
    assert ev_view.trends.event_lines["e1"][0] is first


def test_events_list_opens_with_the_button_and_ctrl_l(qtbot, ev_view):
    assert not ev_view.events_list.isVisible()
    qtbot.mouseClick(ev_view.events_bar.events_button, Qt.MouseButton.LeftButton)
    assert ev_view.events_list.isVisible()
    qtbot.keyClick(ev_view, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert not ev_view.events_list.isVisible()


def test_correcting_an_event_time(qtbot, ev_view, ui_queue, clock, sent):
    clock.advance_to(T0 + 1500)
    ui_queue.put(SessionEvent("e1", T0 + 1200, EventKind.NAUSEA, "", "RN"))
    ev_view.drain()
    lst = ev_view.events_list
    assert not lst.correct_button.isEnabled()
    lst.select(0)
    assert lst.correct_button.isEnabled()
    ev_view.events_bar.initials_edit.setText("AB")
    lst.correct_selected()
    dialog = lst.dialog
    assert dialog.time_edit.time().toString("H:mm:ss") == "0:20:00"
    dialog.set_session_time(1600)                           # after now: refused
    assert dialog.time_edit.time().toString("H:mm:ss") == "0:25:00"   # capped at now
    dialog.set_session_time(1140)
    dialog.buttons.accepted.emit()
    assert sent == [CorrectEventTime("e1", T0 + 1140, "AB")]
    ui_queue.put(EventTimeCorrected("e1", T0 + 1200, T0 + 1140, "AB", T0 + 1500))
    ev_view.drain()
    assert lst.cell_text(0, 0) == "0:19:00"
    assert lst.cell_text(0, 4) == "was 0:20:00, corrected by AB"
    assert ev_view.trends.event_lines["e1"][0].value() == pytest.approx(19.0)


def test_a_correction_needs_initials_and_a_new_time(qtbot, ev_view, ui_queue, clock, sent):
    clock.advance_to(T0 + 1500)
    ui_queue.put(SessionEvent("e1", T0 + 1200, EventKind.NAUSEA, "", "RN"))
    ev_view.drain()
    ev_view.events_list.select(0)
    ev_view.events_list.correct_selected()
    dialog = ev_view.events_list.dialog
    dialog.initials_edit.clear()
    dialog.set_session_time(1100)
    dialog.buttons.accepted.emit()
    assert dialog.error_text() == "Your initials are required." and sent == []
    dialog.initials_edit.setText("AB")
    dialog.set_session_time(1200)
    dialog.buttons.accepted.emit()
    assert dialog.error_text() == "That is the time already recorded." and sent == []


def test_manual_entries_cannot_be_corrected(ev_view, ui_queue):
    ui_queue.put(Note(T0, "manual_entry", "HR 80 bpm", "AB"))
    ev_view.drain()
    ev_view.events_list.select(0)
    assert not ev_view.events_list.correct_button.isEnabled()
    ev_view.events_list.correct_selected()
    assert ev_view.events_list.dialog is None


def test_correction_text_counts_repeated_corrections():
    from monitor.ui.workflow.model import EventRow

    row = EventRow("e1", T0 + 100, "Nausea", corrections=(
        EventTimeCorrected("e1", T0 + 200, T0 + 150, "AB", T0 + 300),
        EventTimeCorrected("e1", T0 + 150, T0 + 100, "CD", T0 + 400)))
    assert correction_text(row, T0) == "was 0:03:20, 2 corrections, last by CD"


def test_without_initials_an_action_asks_for_them_and_keeps_the_note(qtbot, make_view):
    """Every nurse action records who did it (issue 11 point 10): nothing leaves unsigned."""
    sent: list = []
    view = make_view(send_command=sent.append, sound=False, initials="")
    view.resize(1280, 800)
    view.show()
    qtbot.waitExposed(view)
    bar = view.events_bar
    qtbot.mouseClick(bar.event_buttons[EventKind.NAUSEA], Qt.MouseButton.LeftButton)
    bar.note_edit.setText("cuff re-sited")
    qtbot.mouseClick(bar.note_button, Qt.MouseButton.LeftButton)
    view._on_acknowledge()
    view._on_audio_pause()
    assert sent == []
    assert bar.initials_edit.property("needed") and bar.note_edit.text() == "cuff re-sited"
    assert view.refusal_box is not None and "initials" in view.refusal_box.text()
    # The window's light text on a dark ground (it was light on light grey, unreadable).
    ground = view.refusal_box.grab().toImage().pixelColor(3, 3)
    assert ground.lightness() < 80, ground.name()
    qtbot.keyClicks(bar.initials_edit, "AB")
    assert not bar.initials_edit.property("needed")
    qtbot.mouseClick(bar.note_button, Qt.MouseButton.LeftButton)
    view._on_acknowledge()
    assert sent == [AddEvent(EventKind.NOTE, "cuff re-sited", "AB"), Acknowledge(by="AB")]
