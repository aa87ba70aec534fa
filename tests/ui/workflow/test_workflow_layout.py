"""The workflow strip at 1280x800: every phase fits, and the numerics stay big."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QAbstractButton, QLabel

from monitor.core.events import PhaseChanged
from monitor.core.session import Phase
from monitor.core.vitals import Vital
from monitor.core.workflow.messages import EventKind, InfusionAction, InfusionChanged, SessionEvent
from tests.ui.helpers import T0, nibp, reading, session_started
from tests.ui.workflow_helpers import INFUSION_AT, baseline_readings, started, stopped

LONG_REASON = "BP 186/112 on two readings five minutes apart, headache, clinician informed"


def _digit_height(label: QLabel) -> int:
    return QFontMetrics(label.font()).tightBoundingRect("0123456789").height()


def _cut(panel) -> list[str]:
    """Visible labels and buttons of the panel whose text does not fit them."""
    problems = []
    for widget in panel.findChildren(QLabel) + panel.findChildren(QAbstractButton):
        if not widget.isVisible() or not widget.text():
            continue
        fm = QFontMetrics(widget.font())
        room = widget.contentsRect()
        lines = widget.text().split("\n")
        if isinstance(widget, QLabel) and widget.wordWrap():
            if widget.heightForWidth(room.width()) > room.height() + 2:
                problems.append(f"{widget.text()!r} wraps past {room.height()} px")
            continue
        if max(fm.horizontalAdvance(line) for line in lines) > room.width():
            problems.append(f"{widget.text()!r} too wide for {room.width()} px")
        if fm.height() * len(lines) > room.height() + 2:
            problems.append(f"{widget.text()!r} too tall for {room.height()} px")
    return problems


def _check(qtbot, view):
    try:
        qtbot.waitUntil(lambda: not _cut(view.workflow_panel), timeout=2000)
    except qtbot.TimeoutError:
        pass
    assert _cut(view.workflow_panel) == []
    for vital in (Vital.HR, Vital.SPO2):   # the numerics keep their size
        assert _digit_height(view.tiles[vital].value_label) >= 70
    assert _digit_height(view.nibp_tile.value_label) >= 55


def _put(view, queue, clock, t, *items):
    clock.advance_to(t)
    for item in items:
        for m in item if isinstance(item, list) else [item]:
            queue.put(m)
    view.drain()


@pytest.fixture
def full_view(shown_view, ui_queue, clock):
    _put(shown_view, ui_queue, clock, T0, session_started(),
         [reading(v, x, T0) for v, x in ((Vital.HR, 188), (Vital.SPO2, 100),
                                         (Vital.PULSE_RATE, 188), (Vital.RESP_RATE, 44),
                                         (Vital.ETCO2, 48))])
    return shown_view


def test_baseline_blocked_fits(qtbot, full_view, ui_queue, clock):
    _put(full_view, ui_queue, clock, INFUSION_AT - 5, baseline_readings(228, 188))
    assert "cannot start" in full_view.workflow_panel.gate_label.text()
    _check(qtbot, full_view)


def test_infusion_paused_with_a_long_reason_fits(qtbot, full_view, ui_queue, clock):
    _put(full_view, ui_queue, clock, INFUSION_AT + 6000, started(),
         InfusionChanged(InfusionAction.PAUSE, INFUSION_AT + 3000, "RN", LONG_REASON),
         SessionEvent("e1", INFUSION_AT + 60, EventKind.ANTIHYPERTENSIVE, "", "RN"))
    panel = full_view.workflow_panel
    assert panel.elapsed_label.text() == "50:00" and panel.remaining_label.text() == "-10:00"
    assert panel.planned_label.toolTip().endswith(LONG_REASON)   # cut on screen, whole as tip
    _check(qtbot, full_view)


def test_recovery_fits(qtbot, full_view, ui_queue, clock):
    stop_t = INFUSION_AT + 2400
    _put(full_view, ui_queue, clock, stop_t + 5999, started(), stopped(stop_t),
         nibp(150, 95, 113, stop_t + 300))
    assert full_view.workflow_panel.since_label.text() == "99:59"
    _check(qtbot, full_view)


def test_ended_fits(qtbot, full_view, ui_queue, clock):
    from monitor.core.workflow.messages import SessionDischarged

    stop_t = INFUSION_AT + 2400
    _put(full_view, ui_queue, clock, stop_t + 1300, started(), stopped(stop_t),
         SessionDischarged(stop_t + 1300, "RN", ("alert and oriented", "nausea controlled",
                                                 "escort present")),
         PhaseChanged(Phase.ENDED, stop_t + 1300))
    _check(qtbot, full_view)
