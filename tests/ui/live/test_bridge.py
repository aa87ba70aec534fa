"""The refresh timer drains the queue by itself and stops cleanly."""

from __future__ import annotations

from monitor.core.vitals import Vital
from tests.ui.helpers import T0, reading


def test_timer_drains_the_queue(qtbot, make_view, ui_queue):
    view = make_view(refresh_hz=50.0)
    assert not view.is_running()
    view.start()
    assert view.is_running()
    ui_queue.put(reading(Vital.HR, 91, T0))
    with qtbot.waitSignal(view.refreshed, timeout=2000):
        pass
    qtbot.waitUntil(lambda: view.tiles[Vital.HR].value_label.text() == "91", timeout=2000)
    assert len(ui_queue) == 0
    view.stop()
    assert not view.is_running()


def test_closing_the_view_stops_the_timer(qtbot, make_view):
    view = make_view()
    view.show()
    qtbot.waitExposed(view)
    view.start()
    view.close()
    assert not view.is_running()


def test_refresh_interval(make_view):
    assert make_view(refresh_hz=25.0)._bridge.interval_ms == 40


def test_showing_the_view_starts_the_timer(qtbot, make_view, ui_queue):
    view = make_view()
    assert not view.is_running()
    view.show()
    qtbot.waitExposed(view)
    assert view.is_running()
    ui_queue.put(reading(Vital.SPO2, 96, T0))
    qtbot.waitUntil(lambda: view.tiles[Vital.SPO2].value_label.text() == "96", timeout=2000)


def test_a_stopped_view_stays_stopped_when_shown(qtbot, make_view):
    view = make_view()
    view.stop()
    view.show()
    qtbot.waitExposed(view)
    assert not view.is_running()
