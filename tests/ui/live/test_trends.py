"""Session trends: phase bands, NaN gaps, redraw only what changed, history."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg

from monitor.core.alarms.model import LimitLines
from monitor.core.events import History
from monitor.core.reading import Quality, Reading
from monitor.core.session import Phase
from monitor.core.vitals import Vital
from monitor.ui.workflow.model import EventRow
from tests.ui.helpers import T0, nibp, phase, reading, session_started


def _feed_hr(queue, start_s, stop_s, invalid=()):
    for s in range(start_s, stop_s):
        if s in invalid:
            queue.put(Reading.invalid(Vital.HR, T0 + s, Quality.ARTIFACT))
        else:
            queue.put(reading(Vital.HR, 60 + s % 7, T0 + s))


def test_trends_use_session_minutes(view, ui_queue, clock):
    ui_queue.put(session_started())
    _feed_hr(ui_queue, 0, 121)
    clock.advance_to(T0 + 120)
    view.drain()
    curve = view.trends.curves[Vital.HR]
    assert curve.xData[0] == 0.0 and math.isclose(curve.xData[-1], 2.0)
    assert curve.yData[-1] == 60 + 120 % 7


def test_phase_bands_for_each_started_phase(view, ui_queue, clock):
    ui_queue.put(session_started())
    clock.advance_to(T0 + 60)
    view.drain()
    assert [p for p, _ in view.trends.bands] == [Phase.BASELINE]
    ui_queue.put(phase(Phase.INFUSION, T0 + 600))
    ui_queue.put(phase(Phase.RECOVERY, T0 + 3000))
    clock.advance_to(T0 + 3600)
    view.drain()
    bands = view.trends.bands
    assert [p for p, _ in bands] == [Phase.BASELINE, Phase.INFUSION, Phase.RECOVERY]
    n_plots = len(view.trends.plots)
    assert all(len(regions) == n_plots for _, regions in bands)
    assert np.allclose(bands[0][1][0].getRegion(), (0.0, 10.0))
    assert np.allclose(bands[1][1][0].getRegion(), (10.0, 50.0))
    assert np.allclose(bands[2][1][0].getRegion(), (50.0, 60.0))  # current phase: up to now
    clock.advance_to(T0 + 3900)
    view.drain()
    assert np.allclose(view.trends.bands[2][1][0].getRegion(), (50.0, 65.0))
    for plot in view.trends.plots.values():  # the regions are really in the plots
        regions = [i for i in plot.items if type(i).__name__ == "LinearRegionItem"]
        assert len(regions) == 3


def test_nan_readings_are_gaps_never_values(view, ui_queue, clock):
    ui_queue.put(session_started())
    _feed_hr(ui_queue, 0, 60, invalid={20, 21, 22})
    for r in nibp(120, 80, 93, T0 + 5):
        ui_queue.put(r)
    ui_queue.put(Reading.invalid(Vital.NIBP_SYS, T0 + 305, Quality.ARTIFACT))
    ui_queue.put(reading(Vital.SPO2, 150, T0 + 1))  # implausible -> OUT_OF_RANGE NaN
    clock.advance_to(T0 + 60)
    view.drain()
    hr = view.trends.curves[Vital.HR]
    # the data given to the curve: NaN exactly where the invalid readings were
    assert np.isnan(hr.yData[20:23]).all()
    assert np.isfinite(np.delete(hr.yData, [20, 21, 22])).all()
    assert hr.opts["connect"] == "finite"
    # what the curve draws (after clipping/downsampling): gaps, and only real values
    x, y = hr.getData()
    assert np.isnan(y).any()
    assert set(y[np.isfinite(y)].tolist()) <= set(range(60, 67))
    gap = (x >= 20 / 60) & (x <= 22 / 60)
    assert np.isnan(y[gap]).all()
    _, sys_y = view.trends.curves[Vital.NIBP_SYS].getData()
    assert sys_y[0] == 120 and np.isnan(sys_y[1])
    _, spo2_y = view.trends.curves[Vital.SPO2].getData()
    assert np.isnan(spo2_y).all()


def test_clean_data_takes_the_fast_path(view, ui_queue, clock):
    ui_queue.put(session_started())
    _feed_hr(ui_queue, 0, 30)
    clock.advance_to(T0 + 30)
    view.drain()
    curve = view.trends.curves[Vital.HR]
    assert curve.opts["skipFiniteCheck"] is True and curve.opts["connect"] == "all"


def test_setdata_only_for_changed_curves(view, ui_queue, clock):
    trends = view.trends
    ui_queue.put(session_started())
    _feed_hr(ui_queue, 0, 10)
    ui_queue.put(reading(Vital.SPO2, 97, T0 + 9))
    clock.advance_to(T0 + 10)
    view.drain()
    before = trends.setdata_calls
    for _ in range(5):  # time passes, nothing arrives: no curve is redrawn
        view.drain()
    assert trends.setdata_calls == before
    ui_queue.put(reading(Vital.HR, 66, T0 + 10))
    ui_queue.put(reading(Vital.HR, 67, T0 + 11))
    clock.advance_to(T0 + 15)
    view.drain()
    assert trends.setdata_calls == before + 1  # one call for HR, none for the others
    assert trends.refresh(clock.now(), force=True) == len(trends.curves)


def test_optional_resp_plot_appears_with_data(view, ui_queue, clock):
    ui_queue.put(session_started())
    view.drain()
    assert "resp" not in view.trends.plots
    ui_queue.put(reading(Vital.ETCO2, 38, T0 + 1))
    clock.advance_to(T0 + 1)
    view.drain()
    assert "resp" in view.trends.plots
    _, y = view.trends.curves[Vital.ETCO2].getData()
    assert list(y) == [38]
    assert all(len(regions) == 4 for _, regions in view.trends.bands)


def test_history_loads_into_trends_and_nibp(view, ui_queue, clock):
    ui_queue.put(session_started(resumed=True, gap_s=600))
    old = tuple(reading(Vital.HR, 70, T0 + s) for s in range(0, 100))
    ui_queue.put(History(readings=old + tuple(nibp(118, 76, 90, T0 + 50))))
    clock.advance_to(T0 + 700)
    view.drain()
    x, y = view.trends.curves[Vital.HR].getData()
    assert len(x) == 100 and (y == 70).all()
    assert view.nibp_tile.value_label.text() == "118/76"
    assert view.nibp_tile.age_label.text() == "10 min ago"
    assert view.tiles[Vital.HR].value_label.text() == "---"  # old history is not "now"


def test_nibp_axis_widens_to_show_a_surge_with_room(view, ui_queue, clock):
    ui_queue.put(session_started())
    for i, (sys_, dia) in enumerate([(130, 80), (165, 100), (204, 121)]):
        for r in nibp(sys_, dia, dia + (sys_ - dia) / 3, T0 + 60 + 300 * i):
            ui_queue.put(r)
    clock.advance_to(T0 + 700)
    view.drain()
    lo, hi = view.trends.plots["nibp"].viewRange()[1]
    assert hi >= 204 + 5  # the surge and its marker are inside the plot, not on the edge
    assert lo <= 40


def test_axes_keep_their_default_range_when_data_fit(view, ui_queue, clock):
    ui_queue.put(session_started())
    _feed_hr(ui_queue, 0, 60)
    ui_queue.put(reading(Vital.SPO2, 100, T0 + 61))
    clock.advance_to(T0 + 61)
    view.drain()
    assert view.trends.plots["spo2"].viewRange()[1] == [80.0, 100.0]
    assert view.trends.plots["hr"].viewRange()[1] == [40.0, 140.0]


def test_continuous_curves_redraw_every_5_s_nibp_at_once(view, ui_queue, clock):
    trends = view.trends
    ui_queue.put(session_started())
    _feed_hr(ui_queue, 0, 2)
    clock.advance_to(T0 + 1)
    view.drain()
    drawn = trends.setdata_calls
    for s in range(2, 5):  # new HR every second, within 5 s of the last redraw
        ui_queue.put(reading(Vital.HR, 70, T0 + s))
        clock.advance_to(T0 + s)
        view.drain()
    assert trends.setdata_calls == drawn
    for r in nibp(150, 90, 110, T0 + 4.5):  # a new determination is drawn at once
        ui_queue.put(r)
    view.drain()
    assert trends.setdata_calls == drawn + 3
    assert trends.curves[Vital.NIBP_SYS].yData[-1] == 150
    clock.advance_to(T0 + 6)
    view.drain()  # 5 s after the last HR redraw: HR catches up, with every point
    assert trends.setdata_calls == drawn + 4
    assert len(trends.curves[Vital.HR].yData) == 5


def _label_anchor(line) -> tuple[float, float]:
    labels = [c for c in line.childItems() if isinstance(c, pg.InfLineLabel)]
    assert len(labels) == 1
    return tuple(labels[0].anchors[0])


def test_event_labels_near_the_right_edge_are_written_before_their_line(view, ui_queue,
                                                                         clock):
    """The review found "Na" for "Nausea": a label after a line at the edge was cut."""
    trends = view.trends
    ui_queue.put(session_started())
    _feed_hr(ui_queue, 0, 60)
    clock.advance_to(T0 + 60)
    view.drain()
    x_right = trends.plots["hr"].viewRange()[0][1]
    early = EventRow("e1", T0 + 60, "Nausea")
    late = EventRow("e2", T0 + 60 * x_right * 0.95, "Nausea")
    trends.set_events([early, late])
    assert _label_anchor(trends.event_lines["e1"][0]) == (0, 0)   # text after the line
    assert _label_anchor(trends.event_lines["e2"][0]) == (1, 0)   # text before it
    # The axis grows: the late label has room again and turns round.
    clock.advance_to(T0 + 60 * x_right * 2)
    ui_queue.put(reading(Vital.HR, 70, T0 + 60 * x_right * 2))
    view.drain()
    assert _label_anchor(trends.event_lines["e2"][0]) == (0, 0)


def test_a_limit_at_the_spo2_floor_is_inside_the_plot(view):
    trends = view.trends
    view.model.apply(session_started())
    trends.set_limits({Vital.SPO2: LimitLines(low_medium=85.0, low_high=80.0)})
    lo, hi = trends.plots["spo2"].viewRange()[1]
    assert lo <= 80.0 - 3 and hi >= 100.0
