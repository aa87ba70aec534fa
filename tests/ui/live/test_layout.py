"""Readability at the chair: digit sizes at 1280x800, nothing clipped, scaling to 1920x1080."""

from __future__ import annotations

from PySide6.QtCore import QRect
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QLabel

from monitor.core.events import Condition, RecordingStatus, Technical
from monitor.core.vitals import Vital
from tests.ui.helpers import T0, nibp, reading, session_started


def _digit_height(label: QLabel) -> int:
    return QFontMetrics(label.font()).tightBoundingRect("0123456789").height()


def _fill(view, queue):
    queue.put(session_started())
    queue.put(RecordingStatus(True, T0))
    queue.put(Technical(Condition.NO_DATA, True, T0, "No data from source"))
    for vital, value in ((Vital.HR, 188), (Vital.SPO2, 100), (Vital.PULSE_RATE, 188),
                         (Vital.RESP_RATE, 44), (Vital.ETCO2, 48)):
        queue.put(reading(vital, value, T0))
    for r in nibp(228, 188, 201, T0):
        queue.put(r)
    view.drain()


def _clipped(view) -> list[str]:
    """Visible labels whose text does not fit them or that stick out of the window."""
    problems = []
    window = view.rect()
    for label in view.findChildren(QLabel):
        if not label.isVisible() or not label.text():
            continue
        name = f"{label.objectName()} {label.text()!r}"
        if not window.contains(QRect(label.mapTo(view, label.rect().topLeft()), label.size())):
            problems.append(f"{name} outside the window")
        fm = QFontMetrics(label.font())
        room = label.contentsRect()
        if fm.horizontalAdvance(label.text()) > room.width():
            problems.append(f"{name} too wide for {room.width()} px")
        if fm.height() > room.height() + 2:
            problems.append(f"{name} too tall for {room.height()} px")
    return problems


def _assert_nothing_clipped(qtbot, view):
    """Let pending layout requests run (no sleeping), then check every label."""
    try:
        qtbot.waitUntil(lambda: not _clipped(view), timeout=2000)
    except qtbot.TimeoutError:
        pass
    assert _clipped(view) == []


def test_big_digits_at_1280x800(qtbot, shown_view, ui_queue):
    _fill(shown_view, ui_queue)
    for vital in (Vital.HR, Vital.SPO2):
        label = shown_view.tiles[vital].value_label
        assert _digit_height(label) >= 70, (vital, label.font().pixelSize())
    assert _digit_height(shown_view.nibp_tile.value_label) >= 55
    for vital in (Vital.PULSE_RATE, Vital.RESP_RATE, Vital.ETCO2):
        assert _digit_height(shown_view.tiles[vital].value_label) >= 30
    assert shown_view.header.phase_label.font().pixelSize() >= 30


def test_nothing_clipped_at_1280x800(qtbot, shown_view, ui_queue):
    _fill(shown_view, ui_queue)
    assert shown_view.size().width() == 1280 and shown_view.size().height() == 800
    image = shown_view.grab()
    assert (image.width(), image.height()) == (1280, 800)
    _assert_nothing_clipped(qtbot, shown_view)
    for plot in shown_view.trends.plots.values():
        assert plot.vb.height() >= 60


def test_fonts_scale_up_to_1920x1080(qtbot, shown_view, ui_queue):
    _fill(shown_view, ui_queue)
    small = {v: t.value_label.font().pixelSize() for v, t in shown_view.tiles.items()}
    small_nibp = shown_view.nibp_tile.value_label.font().pixelSize()
    small_phase = shown_view.header.phase_label.font().pixelSize()
    shown_view.resize(1920, 1080)
    qtbot.waitUntil(lambda: shown_view.width() == 1920)
    shown_view.grab()
    for vital, tile in shown_view.tiles.items():
        assert tile.value_label.font().pixelSize() > small[vital]
    assert shown_view.nibp_tile.value_label.font().pixelSize() > small_nibp
    assert shown_view.header.phase_label.font().pixelSize() > small_phase
    _assert_nothing_clipped(qtbot, shown_view)
