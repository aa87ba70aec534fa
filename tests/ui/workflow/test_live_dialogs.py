"""The live window's dialogs: over the trends (never the alarm bar or the numbers), never stale.

Every dialog the nurse opens from the live window (confirmations, refusals,
manual entry, alarm limits, event-time correction, the shortcut list) is
opened through the window as the nurse opens it, at 1280x800 and
1920x1080; its frame must not touch the alarm bar or any numeric tile. A
confirmation about live state follows it: its question is updated while it
is open, and it closes itself (saying why, nothing sent) once the state it
asks about has changed.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PySide6.QtCore import QPoint, QRect
from PySide6.QtWidgets import QWidget

from monitor.core.alarms.profile_file import load_default_profile
from monitor.core.events import PhaseChanged
from monitor.core.session import Phase
from monitor.core.workflow.messages import (
    CommandRefused,
    EventKind,
    InfusionAction,
    InfusionChanged,
    SessionEvent,
)
from monitor.core.workflow.setup import SessionSetup
from tests.ui.helpers import T0, session_started
from tests.ui.workflow_helpers import INFUSION_AT, baseline_readings, started, stopped

pytestmark = pytest.mark.qt_log_ignore(r"does not support propagateSizeHints")

SETUP = SessionSetup("JD-104", 80, 0.5, "Dr Lee", planned_infusion_min=40)
SIZES = [(1280, 800), (1920, 1080)]


@pytest.fixture
def sent() -> list:
    return []


@pytest.fixture
def live(qtbot, make_view, ui_queue, clock, sent):
    """Build a shown live view of a given size, with a session, fed through its queue."""

    def factory(size: tuple[int, int] = (1280, 800)):
        view = make_view(send_command=sent.append, setup=SETUP, sound=False,
                         profile=load_default_profile())
        view.resize(*size)
        view.show()
        qtbot.waitExposed(view)
        ui_queue.put(session_started())
        view.drain()
        return view

    return factory


def feed(view, queue, clock, t, *messages) -> None:
    clock.advance_to(t)
    for m in messages:
        for item in (m if isinstance(m, list) else [m]):
            queue.put(item)
    view.drain()


def _global(w: QWidget) -> QRect:
    return QRect(w.mapToGlobal(QPoint(0, 0)), w.size())


def _running(view, queue, clock, t=INFUSION_AT + 300) -> None:
    feed(view, queue, clock, t, baseline_readings(), started())


# -- where the dialogs sit ------------------------------------------------------------

def _limits(view, queue, clock):
    view.alarm_bar.limits_clicked.emit()
    return view.limits_dialog


def _limits_file(view, queue, clock):
    view.alarm_bar.limits_clicked.emit()
    view.limits_dialog.initials_edit.setText("RN")
    view.limits_dialog._on_load_clicked()
    return view.limits_dialog.file_dialog


def _manual_refused(view, queue, clock):
    view.open_manual_entry()
    dialog = view.manual_dialog
    dialog.sys_edit.setText("400")
    dialog.buttons.accepted.emit()          # the refusal shows: the dialog grows
    return dialog


def _stop(view, queue, clock):
    _running(view, queue, clock)
    view.workflow_panel.request_stop()
    return view.workflow_panel.dialog


def _end(view, queue, clock):
    _running(view, queue, clock)
    view.workflow_panel.request_end()
    return view.workflow_panel.dialog


def _start(view, queue, clock):
    feed(view, queue, clock, INFUSION_AT, baseline_readings())
    view.workflow_panel.request_start()
    return view.workflow_panel.dialog


def _baseline_incomplete(view, queue, clock):
    view.workflow_panel.request_start()
    return view.workflow_panel.info_box


def _not_done(view, queue, clock):
    feed(view, queue, clock, T0 + 5, CommandRefused(T0 + 5, "ChangeInfusion",
                                                    "the infusion is not running", "RN"))
    return view.refusal_box


def _keys(view, queue, clock):
    view.show_keys()
    return view.keys_dialog


def _correct_time(view, queue, clock):
    feed(view, queue, clock, T0 + 60,
         SessionEvent("e1", T0 + 30, EventKind.NAUSEA, "mild", "RN"))
    view.events_bar.toggle_events()
    view.events_list.table.selectRow(0)
    view.events_list.correct_selected()
    return view.events_list.dialog


OPENERS: dict[str, Callable] = {
    "alarm limits": _limits, "load alarm profile file": _limits_file,
    "manual entry (refused)": _manual_refused,
    "stop infusion": _stop, "end session": _end, "start infusion": _start,
    "baseline incomplete": _baseline_incomplete, "not done": _not_done,
    "keyboard shortcuts": _keys, "correct event time": _correct_time,
}


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("name", list(OPENERS))
def test_a_dialog_never_covers_the_alarm_bar_or_the_numbers(qtbot, live, ui_queue, clock,
                                                             name, size):
    view = live(size)
    dialog = OPENERS[name](view, ui_queue, clock)
    assert dialog is not None and dialog.isVisible(), f"{name} did not open"
    qtbot.waitExposed(dialog)
    frame = dialog.frameGeometry()
    kept_clear = {"alarm bar": view.alarm_bar, "NIBP": view.nibp_tile,
                  **{vital.name: tile for vital, tile in view.tiles.items()}}
    for what, widget in kept_clear.items():
        assert not frame.intersects(_global(widget)), f"{name} covers the {what}"
    assert view.dialog_area().contains(frame), f"{name} is outside the trend area"


def test_the_dialog_area_is_beside_the_tiles_and_below_the_alarm_bar(live):
    for size in SIZES:
        view = live(size)
        area = view.dialog_area()
        assert area.top() > _global(view.alarm_bar).bottom()
        assert all(area.right() < _global(t).left() for t in view.tiles.values())
        assert area.width() >= 600 and area.height() >= 400      # room for the dialogs


# -- confirmations that follow the state ------------------------------------------------

def test_stop_confirmation_updates_its_remaining_time(live, ui_queue, clock):
    view = live()
    _running(view, ui_queue, clock, INFUSION_AT + 300)
    panel = view.workflow_panel
    panel.request_stop()
    dialog = panel.dialog
    assert "35:00 of the planned time remain" in dialog.message_label.text()
    feed(view, ui_queue, clock, INFUSION_AT + 366)
    assert panel.dialog is dialog
    assert "33:54 of the planned time remain" in dialog.message_label.text()
    assert "Elapsed 6:06 of 40:00" in dialog.message_label.text()


def test_stop_confirmation_closes_when_the_infusion_stopped_meanwhile(live, ui_queue, clock,
                                                                      sent):
    view = live()
    _running(view, ui_queue, clock)
    panel = view.workflow_panel
    panel.request_stop()
    dialog = panel.dialog
    dialog.edits["by"].setText("RN")
    feed(view, ui_queue, clock, INFUSION_AT + 320, stopped(INFUSION_AT + 310, "JB"))
    assert panel.dialog is None and not dialog.isVisible()
    assert sent == []                                        # nothing was sent
    note = panel.info_box
    assert note is not None and note.isVisible()
    assert note.text() == ("Stop infusion: not done, the infusion is stopped now. "
                           "The confirmation closed itself; nothing was sent.")


def test_pause_confirmation_closes_when_the_infusion_was_paused_meanwhile(live, ui_queue,
                                                                          clock, sent):
    view = live()
    _running(view, ui_queue, clock)
    panel = view.workflow_panel
    panel.request_pause_resume()
    assert panel.dialog is not None
    feed(view, ui_queue, clock, INFUSION_AT + 320,
         InfusionChanged(InfusionAction.PAUSE, INFUSION_AT + 310, "JB", "nausea"))
    assert panel.dialog is None and sent == []
    assert "the infusion is paused now" in panel.info_box.text()


def test_start_confirmation_closes_when_the_infusion_started_meanwhile(live, ui_queue, clock,
                                                                       sent):
    view = live()
    feed(view, ui_queue, clock, INFUSION_AT, baseline_readings())
    panel = view.workflow_panel
    panel.request_start()
    assert panel.dialog is not None and panel.dialog.windowTitle() == "Start infusion"
    feed(view, ui_queue, clock, INFUSION_AT + 5, started(INFUSION_AT + 2, "JB"))
    assert panel.dialog is None and sent == []
    assert "the session is in its infusion phase now" in panel.info_box.text()


def test_end_confirmation_rewords_itself_and_closes_when_the_session_ended(live, ui_queue,
                                                                           clock, sent):
    view = live()
    _running(view, ui_queue, clock)
    panel = view.workflow_panel
    panel.request_end()
    dialog = panel.dialog
    assert "THE INFUSION IS STILL RUNNING" in dialog.message_label.text()
    feed(view, ui_queue, clock, INFUSION_AT + 320, stopped(INFUSION_AT + 310, "JB"))
    assert panel.dialog is dialog                     # still a question: worded anew
    assert "STILL RUNNING" not in dialog.message_label.text()
    assert "discharge criteri" in dialog.message_label.text()
    feed(view, ui_queue, clock, INFUSION_AT + 400, PhaseChanged(Phase.ENDED, INFUSION_AT + 390))
    assert panel.dialog is None and sent == []
    assert "the session has ended" in panel.info_box.text()


def test_a_message_closes_once_what_it_says_is_no_longer_true(live, ui_queue, clock):
    view = live()
    feed(view, ui_queue, clock, T0 + 400, baseline_readings(end=T0 + 395)[:3])  # one NIBP
    panel = view.workflow_panel
    panel.request_start()
    box = panel.info_box
    assert box is not None and box.windowTitle() == "Baseline incomplete"
    feed(view, ui_queue, clock, T0 + 420)                   # nothing changed: it stays
    assert panel.info_box is box and box.isVisible()
    feed(view, ui_queue, clock, INFUSION_AT, baseline_readings())   # the baseline is complete
    assert panel.info_box is None and not box.isVisible()
