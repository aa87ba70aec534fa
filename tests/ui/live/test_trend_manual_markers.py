"""Manual readings on the trends: a hollow square where the nurse typed a value in."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor

from monitor.core.events import History
from monitor.core.reading import Quality, Reading, make_reading
from monitor.core.vitals import Vital
from monitor.ui.live.trend_markers import MANUAL_LEGEND_TEXT
from monitor.ui.shared import theme
from tests.ui.helpers import T0, nibp, reading, session_started
from tests.ui.workflow_helpers import manual


def _put(view, queue, clock, t, *items):
    clock.advance_to(t)
    for item in items:
        for m in item if isinstance(item, list) else [item]:
            queue.put(m)
    view.drain()


def _points(trends, key):
    """The marker points of plot ``key``, sorted, as (x minutes, y) pairs."""
    x, y = trends.manual_markers[key].getData()
    return sorted(zip(np.round(x, 6).tolist(), y.tolist(), strict=True))


def _manual_nibp(sys, dia, mean, t):
    return [manual(Vital.NIBP_SYS, sys, t), manual(Vital.NIBP_DIA, dia, t),
            manual(Vital.NIBP_MEAN, mean, t)]


def _device_hr(start_s, stop_s, step=10):
    return [reading(Vital.HR, 70, T0 + s) for s in range(start_s, stop_s, step)]


def test_manual_nibp_and_hr_are_marked_at_their_time_and_value(view, ui_queue, clock):
    _put(view, ui_queue, clock, T0 + 310, session_started(), _device_hr(0, 310),
         nibp(120, 80, 93, T0 + 60), _manual_nibp(130, 85, 100, T0 + 120),
         manual(Vital.HR, 84, T0 + 300))
    trends = view.trends
    assert _points(trends, "nibp") == [(2.0, 85.0), (2.0, 100.0), (2.0, 130.0)]
    assert _points(trends, "hr") == [(5.0, 84.0)]
    assert _points(trends, "spo2") == []
    assert trends.manual_legend.isVisible() and trends.manual_legend.text == MANUAL_LEGEND_TEXT
    assert trends.manual_legend.toolTip()
    item = trends.manual_markers["hr"]   # hollow, bigger than the NIBP dots, over the curves
    assert item.opts["symbol"] == "s" and item.opts["size"] > 6
    assert item.opts["brush"].style() == Qt.BrushStyle.NoBrush
    assert item.opts["pen"].color() == QColor(theme.MANUAL)
    assert all(item.zValue() > c.zValue() for c in trends.curves.values())


def test_an_isolated_manual_hr_is_visible(shown_view, ui_queue, clock):
    """No data port: one HR typed in, nothing else; the marker is drawn where it is."""
    _put(shown_view, ui_queue, clock, T0 + 310, session_started(),
         manual(Vital.HR, 84, T0 + 300))
    trends = shown_view.trends
    plot = trends.plots["hr"]
    scene = plot.getViewBox().mapViewToScene(QPointF(5.0, 84.0))
    centre = trends.mapFromScene(scene)
    image = trends.grab().toImage()
    wanted = QColor(theme.MANUAL)

    def manual_colour(c):
        return max(abs(c.red() - wanted.red()), abs(c.green() - wanted.green()),
                   abs(c.blue() - wanted.blue())) <= 12

    def near(x0, y0, r=9):
        return sum(manual_colour(image.pixelColor(x, y))
                   for x in range(x0 - r, x0 + r + 1) for y in range(y0 - r, y0 + r + 1))

    assert near(centre.x(), centre.y()) >= 40   # the square's outline around the point
    assert near(centre.x() - 60, centre.y()) == 0


def test_device_readings_are_not_marked(view, ui_queue, clock):
    _put(view, ui_queue, clock, T0 + 300, session_started(), _device_hr(0, 300),
         nibp(120, 80, 93, T0 + 60), reading(Vital.SPO2, 97, T0 + 100),
         reading(Vital.RESP_RATE, 14, T0 + 100))
    trends = view.trends
    assert "resp" in trends.manual_markers
    assert all(_points(trends, key) == [] for key in trends.manual_markers)
    assert trends.manual_setdata_calls == 0
    assert not trends.manual_legend.isVisible()
    assert view.model.manual_version == 0


def test_invalid_manual_readings_are_not_marked(view, ui_queue, clock):
    _put(view, ui_queue, clock, T0 + 60, session_started(),
         make_reading(Vital.HR, 400, T0 + 10, Quality.MANUAL),     # -> OUT_OF_RANGE
         make_reading(Vital.SPO2, None, T0 + 20, Quality.MANUAL),  # -> NO_VALUE
         Reading(Vital.HR, math.nan, T0 + 30, Quality.MANUAL))     # built by hand: still no value
    trends = view.trends
    assert all(_points(trends, key) == [] for key in trends.manual_markers)
    assert view.model.manual_version == 0 and not trends.manual_legend.isVisible()


def test_markers_survive_a_resume_via_history(view, ui_queue, clock):
    recorded = (*_device_hr(0, 600), *_manual_nibp(140, 90, 107, T0 + 180),
                manual(Vital.SPO2, 94, T0 + 240))
    _put(view, ui_queue, clock, T0 + 1200, session_started(resumed=True, gap_s=600),
         History(readings=recorded))
    trends = view.trends
    assert _points(trends, "nibp") == [(3.0, 90.0), (3.0, 107.0), (3.0, 140.0)]
    assert _points(trends, "spo2") == [(4.0, 94.0)]
    assert _points(trends, "hr") == []
    assert trends.manual_legend.isVisible()
    # A new entry after the resume joins them; recorded ones are not doubled.
    _put(view, ui_queue, clock, T0 + 1260, manual(Vital.HR, 88, T0 + 1260),
         History(readings=(manual(Vital.SPO2, 94, T0 + 240),)))
    assert _points(trends, "hr") == [(21.0, 88.0)]
    assert _points(trends, "spo2") == [(4.0, 94.0)]


def test_a_plot_that_appears_later_gets_its_markers(view, ui_queue, clock):
    _put(view, ui_queue, clock, T0 + 60, session_started(), manual(Vital.HR, 80, T0 + 30))
    assert "resp" not in view.trends.plots and "resp" not in view.trends.manual_markers
    _put(view, ui_queue, clock, T0 + 190, manual(Vital.RESP_RATE, 12, T0 + 180))
    trends = view.trends
    assert "resp" in trends.plots
    assert trends.manual_markers["resp"] in trends.plots["resp"].items
    assert _points(trends, "resp") == [(3.0, 12.0)]
    assert _points(trends, "hr") == [(0.5, 80.0)]


def test_markers_move_when_the_time_origin_changes(view, ui_queue, clock):
    # Readings before the session message: time zero is the first reading.
    _put(view, ui_queue, clock, T0 + 100, reading(Vital.HR, 70, T0 + 30),
         manual(Vital.HR, 84, T0 + 90))
    assert _points(view.trends, "hr") == [(1.0, 84.0)]
    _put(view, ui_queue, clock, T0 + 101, session_started(T0))
    assert _points(view.trends, "hr") == [(1.5, 84.0)]


@pytest.mark.parametrize("force", [False, True])
def test_markers_redraw_only_when_manual_readings_change(view, ui_queue, clock, force):
    trends = view.trends
    _put(view, ui_queue, clock, T0 + 60, session_started(), _device_hr(0, 60),
         _manual_nibp(130, 85, 100, T0 + 30))
    drawn = trends.manual_setdata_calls
    assert drawn == 1   # the NIBP plot only
    for s in range(61, 80):   # time passes, device data keep coming: no marker redrawn
        _put(view, ui_queue, clock, T0 + s, reading(Vital.HR, 71, T0 + s),
             reading(Vital.SPO2, 97, T0 + s), nibp(125, 82, 96, T0 + s) if s == 70 else [])
        trends.refresh(clock.now(), force=force)
    assert trends.manual_setdata_calls == drawn
    _put(view, ui_queue, clock, T0 + 90, manual(Vital.HR, 90, T0 + 90))
    assert trends.manual_setdata_calls == drawn + 1   # the HR plot only
    assert _points(trends, "nibp") == [(0.5, 85.0), (0.5, 100.0), (0.5, 130.0)]
    assert _points(trends, "hr") == [(1.5, 90.0)]
