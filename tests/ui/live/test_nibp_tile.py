"""NIBP tile: sys/dia (mean), age of the determination, grey when old."""

from __future__ import annotations

from PySide6.QtGui import QColor

from monitor.core.reading import Quality, Reading
from monitor.core.vitals import Vital
from monitor.ui.shared import theme
from tests.ui.helpers import T0, brightest, nibp, rendered


def _put(queue, items):
    for item in items:
        queue.put(item)


def test_determination_shown_with_age(view, ui_queue, clock):
    tile = view.nibp_tile
    _put(ui_queue, nibp(124, 78, 93, T0))
    view.drain()
    assert tile.value_label.text() == "124/78"
    assert tile.mean_label.text() == "(93)"
    assert tile.age_label.text() == "just now"
    clock.advance_to(T0 + 4 * 60)
    view.drain()
    assert tile.age_label.text() == "4 min ago"
    assert tile.value_label.text() == "124/78"
    clock.advance_to(T0 + 65 * 60)
    view.drain()
    assert tile.age_label.text() == "1 h 5 min ago"


def test_new_determination_replaces_the_old(view, ui_queue, clock):
    _put(ui_queue, nibp(124, 78, 93, T0))
    view.drain()
    clock.advance_to(T0 + 300)
    _put(ui_queue, nibp(140, 90, 107, T0 + 300))
    view.drain()
    assert view.nibp_tile.value_text() == "140/90"
    assert view.nibp_tile.mean_text() == "(107)"
    assert view.nibp_tile.age_text() == "just now"


def test_old_determination_turns_grey_not_dashes(qtbot, shown_view, ui_queue, clock):
    tile = shown_view.nibp_tile
    _put(ui_queue, nibp(124, 78, 93, T0))
    shown_view.drain()
    assert tile.value_colour() == theme.NIBP_WHITE
    assert brightest(rendered(tile.value_label)) == QColor(theme.NIBP_WHITE)
    clock.advance_to(T0 + 14 * 60)
    shown_view.drain()
    assert tile.value_colour() == theme.NIBP_WHITE
    clock.advance_to(T0 + 15 * 60 + 1)
    shown_view.drain()
    assert tile.value_label.text() == "124/78"
    assert tile.value_colour() == theme.AGED
    assert theme.AGED in tile.value_label.styleSheet()
    assert tile.value_label.palette().color(tile.value_label.foregroundRole()) == QColor(theme.AGED)
    assert brightest(rendered(tile.value_label)) == QColor(theme.AGED)


def test_failed_determination_shows_reason(view, ui_queue):
    _put(ui_queue, [Reading.invalid(Vital.NIBP_SYS, T0, Quality.ARTIFACT),
                    Reading.invalid(Vital.NIBP_DIA, T0, Quality.ARTIFACT)])
    view.drain()
    assert view.nibp_tile.value_label.text() == "---"
    assert view.nibp_tile.reason_label.text() == "ARTIFACT"
