"""Whole-session trends: stacked plots on one time axis with phase bands."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from monitor.core.alarms.model import LimitLines, Priority
from monitor.core.session import Phase
from monitor.core.vitals import SPECS, Kind, Vital
from monitor.ui.alarms.style import COLOURS
from monitor.ui.live.model import LiveModel
from monitor.ui.live.trend_markers import ManualMarkers
from monitor.ui.live.trend_specs import (
    MARKER_COLOUR,
    MARKER_LEVELS,
    PLOT_SPECS,
    PlotSpec,
    ShownLimit,
    device_legend,
    marker_text,
    shown_limits,
)
from monitor.ui.shared import theme
from monitor.ui.workflow.model import EventRow

TREND_REDRAW_S = 5.0
"""Continuous curves are redrawn at most this often (session seconds).

The trend spans the whole session: at ~600 px for 90 min one pixel is ~9 s,
so redrawing every second costs a full repaint for nothing visible (the live
value is on its tile). NIBP determinations are drawn at once.
"""
BAND_IDLE_STEP_MIN = 5.0 / 60.0
"""With no new data, the current phase band still creeps to "now" this often."""
"""The current phase band is stretched to "now" in steps of one second."""

LIMIT_COLOURS = {p: COLOURS[p].dark_text for p in Priority}
"""Limit lines: the priority's colour as it reads on black (a lighter red)."""

MARKER_FLIP = 0.8
"""An event label right of this fraction of the time axis is written before its line."""

MIN_SPAN_MIN = 10.0
"""The time axis always shows at least this many minutes."""


def title_html(spec: PlotSpec) -> str:
    """The plot's title with each vital's name in its curve's colour (the legend)."""
    names = spec.title.split(" / ")
    if len(names) != len(spec.vitals[:len(names)]) or len(names) == 1:
        return spec.title
    return " / ".join(f"<span style='color: {theme.VITAL_COLOURS[v]}'>{n}</span>"
                      for n, v in zip(names, spec.vitals, strict=False))


def _finite_bounds(values: np.ndarray) -> tuple[float, float] | None:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return None
    return float(finite.min()), float(finite.max())


class TrendsWidget(pg.GraphicsLayoutWidget):
    """Stacked trend plots of the whole session in session minutes.

    Curves are redrawn from the model's ring buffers, once per refresh and
    only when their series changed (:meth:`_update_trends`). NaN readings
    stay NaN in the curve data and are drawn as gaps. Phase bands tint the
    background; the current phase extends to "now". The optional RR/EtCO2
    plot appears when its first reading arrives. Values the nurse typed in
    get a hollow square on their plot (:class:`ManualMarkers`), with a small
    "□ manual" legend on the NIBP plot once there is one.

    Parameters
    ----------
    model : LiveModel
    parent : QWidget or None

    Attributes
    ----------
    plots : dict[str, pyqtgraph.PlotItem]
        By :attr:`PlotSpec.key`.
    curves : dict[Vital, pyqtgraph.PlotDataItem]
    bands : list[tuple[Phase, list[pyqtgraph.LinearRegionItem]]]
        One entry per phase span, one region per plot.
    setdata_calls : int
        How many ``setData`` calls the widget made (for tests and benchmarks).
    limit_lines : dict[Vital, list[pyqtgraph.InfiniteLine]]
        The alarm limits drawn (:meth:`set_limits`), per vital.
    event_lines : dict[str, list[pyqtgraph.InfiniteLine]]
        The event markers drawn (:meth:`set_events`), per event id, one per plot.
    manual_markers : dict[str, pyqtgraph.ScatterPlotItem]
        The hollow squares on manual readings, one item per plot, by plot key.
    manual_legend : pyqtgraph.LabelItem
        "□ manual" in the NIBP plot's bottom-left corner, visible while any
        manual marker is drawn.
    manual_setdata_calls : int
        How many ``setData`` calls the manual markers made (not counted in
        :attr:`setdata_calls`).

    Signals
    -------
    None of its own.
    """

    def __init__(self, model: LiveModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setBackground(theme.BACKGROUND)
        self._model = model
        self.plots: dict[str, pg.PlotItem] = {}
        self.curves: dict[Vital, pg.PlotDataItem] = {}
        self.bands: list[tuple[Phase, list[pg.LinearRegionItem]]] = []
        self._band_items: list[tuple[pg.PlotItem, pg.LinearRegionItem]] = []
        self.setdata_calls = 0
        self._drawn: dict[Vital, int] = {}
        self._origin: float | None = None
        self._session_version = -1
        self._band_end: float | None = None
        self._x_right = MIN_SPAN_MIN
        self._now = 0.0
        self._continuous_drawn_at = -math.inf
        self._y_ranges: dict[str, tuple[float, float]] = {}
        self._limits: dict[Vital, LimitLines] = {}
        self._alarming: dict[Vital, Priority] = {}
        self._shown_limits: dict[str, tuple[ShownLimit, ...]] = {}
        self.limit_lines: dict[Vital, list[pg.InfiniteLine]] = {}
        self._events: dict[str, tuple[float, str, int]] = {}
        self.event_lines: dict[str, list[pg.InfiniteLine]] = {}
        self.device_curves: dict[tuple[Vital, str], pg.PlotDataItem] = {}
        """Each other device's series of a vital, dotted (sessions of several devices)."""
        self._device_drawn: dict[tuple[Vital, str], int] = {}
        self._device_legends: dict[str, pg.TextItem] = {}
        self._legend_state: dict[str, str] = {}
        self._manual = ManualMarkers(model)
        self.manual_markers = self._manual.items
        for spec in PLOT_SPECS:
            if not spec.optional:
                self._add_plot(spec)
        assert self._manual.legend is not None
        self.manual_legend: pg.LabelItem = self._manual.legend

    @property
    def manual_setdata_calls(self) -> int:
        """How many ``setData`` calls the manual markers made."""
        return self._manual.setdata_calls

    # -- building -----------------------------------------------------------

    def _add_plot(self, spec: PlotSpec) -> pg.PlotItem:
        row = len(self.plots)
        plot = self.addPlot(row=row, col=0)
        plot.setMouseEnabled(x=False, y=False)
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.showGrid(x=True, y=True, alpha=0.15)
        plot.setClipToView(True)
        plot.setDownsampling(mode="peak", auto=True)
        for name in ("left", "bottom"):
            plot.getAxis(name).setTextPen(theme.TEXT_DIM)
            plot.getAxis(name).setPen(theme.PANEL_BORDER)
        plot.getAxis("left").setWidth(64)
        plot.setLabel("left", title_html(spec), color=theme.VITAL_COLOURS[spec.vitals[0]])
        plot.setYRange(*spec.y_range, padding=0)
        self._y_ranges[spec.key] = spec.y_range
        if self.plots:
            previous = list(self.plots.values())[-1]
            previous.getAxis("bottom").setStyle(showValues=False)
            previous.getAxis("bottom").showLabel(False)
        plot.setLabel("bottom", "session time (min)", color=theme.TEXT_DIM)
        plot.setXRange(0.0, self._x_right, padding=0)
        self.plots[spec.key] = plot
        for z, vital in enumerate(spec.vitals):  # the first vital is drawn on top
            self.curves[vital] = self._make_curve(plot, vital, spec.points)
            self.curves[vital].setZValue(len(spec.vitals) - z)
        if self.bands:  # a late plot gets the bands the others already have
            self._session_version = -1
        right = plot.getAxis("right")
        right.setTicks([[], []])
        right.setStyle(tickLength=0)
        right.setTextPen(theme.TEXT)
        right.setPen(theme.PANEL_BORDER)
        right.setWidth(58)
        plot.showAxis("right")
        self._draw_limits(spec.key)   # and the limits already known
        for event_id in list(self._events):  # and the event markers
            self._draw_marker(event_id)
        self._manual.add_plot(spec.key, plot, spec.vitals)  # manual marks on the next refresh
        return plot

    @staticmethod
    def _make_curve(plot: pg.PlotItem, vital: Vital, points: bool) -> pg.PlotDataItem:
        colour = theme.VITAL_COLOURS[vital]
        pen = pg.mkPen(colour, width=1)
        if points:
            return plot.plot(pen=pen, antialias=False, symbol="o", symbolSize=6,
                             symbolPen=None, symbolBrush=colour)
        return plot.plot(pen=pen, antialias=False)

    # -- alarm limits ---------------------------------------------------------

    def set_limits(self, limits: dict[Vital, LimitLines],
                   alarming: dict[Vital, Priority] | None = None) -> None:
        """Draw at most two alarm limits per plot (:func:`shown_limits`).

        Dashed yellow for a medium-priority limit, dashed red for a high one,
        each value written on the plot's right axis, outside the data; the
        full set of limits is on the tiles. ``alarming``: the vitals in an
        active physiological alarm and its priority (their pair is shown).
        Only redraws the plots whose lines changed, so it can be called on
        every tick.
        """
        alarming = dict(alarming or {})
        if limits == self._limits and alarming == self._alarming:
            return
        self._limits, self._alarming = dict(limits), alarming
        for key in self.plots:
            self._draw_limits(key)

    def _draw_limits(self, key: str) -> None:
        spec = next(s for s in PLOT_SPECS if s.key == key)
        plot = self.plots[key]
        wanted = shown_limits(spec, self._limits, self._alarming)
        if wanted == self._shown_limits.get(key):
            return
        self._shown_limits[key] = wanted
        for vital in spec.vitals:
            for line in self.limit_lines.pop(vital, []):
                plot.removeItem(line)
        for limit in wanted:
            colour = LIMIT_COLOURS[limit.priority]
            line = pg.InfiniteLine(pos=limit.value, angle=0, movable=False,
                                   pen=pg.mkPen(colour, width=1, style=Qt.PenStyle.DashLine))
            line.setZValue(-10)  # under the curves, over the phase bands
            plot.addItem(line, ignoreBounds=True)
            self.limit_lines.setdefault(limit.vital, []).append(line)
        # The values on the right axis: never over the data, a label or each other.
        plot.getAxis("right").setTicks([[(limit.value, limit.text) for limit in wanted], []])
        self._update_y_range(key)

    def limit_texts(self, key: str) -> list[str]:
        """The limit values written beside plot ``key`` (for tests), low first."""
        return [limit.text for limit in sorted(self._shown_limits.get(key, ()),
                                               key=lambda limit: limit.value)]

    # -- event markers --------------------------------------------------------

    def set_events(self, rows: Sequence[EventRow]) -> None:
        """Mark the nurse's events on the time axis (manual entries are not marked).

        Only markers that are new, moved or relabelled are redrawn, so it can
        be called whenever the events list changed.
        """
        marked = sorted((r for r in rows if r.event_id is not None), key=lambda r: r.t)
        # Labels step down in three levels, so events close in time stay readable.
        wanted = {r.event_id: (r.t, marker_text(r.label), i % MARKER_LEVELS)
                  for i, r in enumerate(marked) if r.event_id is not None}
        if wanted == self._events:
            return
        old = self._events
        self._events = wanted
        for event_id in set(old) | set(wanted):
            if old.get(event_id) != wanted.get(event_id):
                self._draw_marker(event_id)

    def _draw_marker(self, event_id: str) -> None:
        for line in self.event_lines.pop(event_id, []):
            for plot in self.plots.values():
                if line in plot.items:
                    plot.removeItem(line)
        marker = self._events.get(event_id)
        origin = self._origin if self._origin is not None else self._model.origin
        if marker is None or origin is None:
            return
        t, text, level = marker
        x = (t - origin) / 60.0
        lines = []
        for row, plot in enumerate(self.plots.values()):
            line = pg.InfiniteLine(pos=x, angle=90, movable=False,
                                   pen=pg.mkPen(MARKER_COLOUR, width=1,
                                                style=Qt.PenStyle.DotLine))
            line.setZValue(-5)   # under the curves, over the bands and limit lines
            if row == 0:
                # Written after its line, or before it near the right edge, so
                # the text is never cut by the end of the axis.
                anchor = (1, 0) if x > MARKER_FLIP * self._x_right else (0, 0)
                pg.InfLineLabel(line, text, position=0.97 - 0.22 * level,
                                anchors=[anchor, anchor], color=MARKER_COLOUR)
            plot.addItem(line, ignoreBounds=True)
            lines.append(line)
        self.event_lines[event_id] = lines

    def _redraw_markers(self) -> None:
        for event_id in list(self.event_lines):
            self._draw_marker(event_id)
        for event_id in self._events:
            if event_id not in self.event_lines:
                self._draw_marker(event_id)

    # -- refreshing ---------------------------------------------------------

    def refresh(self, now: float, force: bool = False) -> int:
        """Bring curves, phase bands and the time axis up to ``now``.

        Returns the number of curves redrawn.
        """
        origin = self._model.origin
        if origin is None:
            return 0
        if origin != self._origin:
            self._origin = origin
            self._session_version = -1
            force = True
            self._redraw_markers()
        for spec in PLOT_SPECS:
            if spec.optional and spec.key not in self.plots and any(
                    self._model.trends.has(v) for v in spec.vitals):
                self._add_plot(spec)
                force = True
        now_min = (now - origin) / 60.0
        self._now = now
        redrawn = self._update_trends(force)
        marked = self._manual.update(origin)
        # Stretch the current band in the same repaint as the curves (not a
        # second repaint of its own), or every few seconds when no data come.
        self._update_bands(now_min, force or redrawn > 0 or marked > 0)
        self._update_x_range(now_min)
        return redrawn

    def _x(self, t: np.ndarray) -> np.ndarray:
        assert self._origin is not None
        return (t - self._origin) / 60.0

    def _update_trends(self, force: bool) -> int:
        """Call ``setData`` once for each curve whose data changed (all when ``force``).

        This is the efficient path; a benchmark may override it to redraw
        everything every frame. Returns the number of curves redrawn.
        """
        redrawn = 0
        changed_plots: set[str] = set()
        continuous_due = force or self._now - self._continuous_drawn_at >= TREND_REDRAW_S
        for spec in PLOT_SPECS:
            if spec.key not in self.plots:
                continue
            for vital in spec.vitals:
                series = self._model.trends.series(vital)
                if not force and self._drawn.get(vital) == series.version:
                    continue
                if SPECS[vital].kind is Kind.CONTINUOUS and not continuous_due:
                    continue
                t, v = series.view()
                y = np.array(v, dtype=np.float64)  # copy: the ring buffer is reused
                if series.all_finite():
                    self.curves[vital].setData(self._x(t), y, connect="all",
                                               skipFiniteCheck=True)
                else:
                    self.curves[vital].setData(self._x(t), y, connect="finite",
                                               skipFiniteCheck=False)
                self.setdata_calls += 1
                self._drawn[vital] = series.version
                changed_plots.add(spec.key)
                redrawn += 1
        redrawn += self._update_devices(force, continuous_due, changed_plots)
        if continuous_due and redrawn:
            self._continuous_drawn_at = self._now
        for key in changed_plots:
            self._update_y_range(key)
        return redrawn

    def _update_devices(self, force: bool, continuous_due: bool, changed: set[str]) -> int:
        """Draw each other device's series dotted; hide the one of the device shown now.

        Only in a session of several devices (the store keeps no device series
        otherwise). Returns the number of curves redrawn.
        """
        trends = self._model.trends
        if not trends.devices_version:
            return 0
        redrawn = 0
        for spec in PLOT_SPECS:
            plot = self.plots.get(spec.key)
            if plot is None:
                continue
            others: list[tuple[Vital, str]] = []
            for vital in spec.vitals:
                shown = self._model.shown_source(vital)
                for source, series in trends.devices(vital).items():
                    key = (vital, source)
                    curve = self.device_curves.get(key)
                    if curve is None:
                        curve = self.device_curves[key] = self._make_device_curve(plot, vital)
                    visible = source != shown
                    if curve.isVisible() != visible:
                        curve.setVisible(visible)
                    if not visible:
                        continue
                    if (vital, source) not in others:
                        others.append((vital, source))
                    if not force and self._device_drawn.get(key) == series.version:
                        continue
                    if SPECS[vital].kind is Kind.CONTINUOUS and not continuous_due \
                            and key in self._device_drawn:
                        continue
                    t, v = series.view()
                    curve.setData(self._x(t), np.array(v, dtype=np.float64), connect="finite")
                    self._device_drawn[key] = series.version
                    self.setdata_calls += 1
                    changed.add(spec.key)
                    redrawn += 1
            shown = {v: self._model.shown_source(v) for v in spec.vitals}
            self._set_device_legend(spec.key, plot,
                                    device_legend(spec.vitals, shown, others))
        return redrawn

    @staticmethod
    def _make_device_curve(plot: pg.PlotItem, vital: Vital) -> pg.PlotDataItem:
        pen = pg.mkPen(theme.VITAL_COLOURS[vital], width=1, style=Qt.PenStyle.DotLine)
        curve = plot.plot(pen=pen, antialias=False)
        curve.setZValue(-1)   # under the shown series
        return curve

    def _set_device_legend(self, key: str, plot: pg.PlotItem, text: str) -> None:
        """A small legend in the plot's top-left corner: which device each line is.

        The solid line is what was shown (the device named on the tile now, and
        before a fall-back the one shown then); each dotted line is one other device
        (:func:`~monitor.ui.live.trend_specs.device_legend`). It sits on a panel of
        the plot's ground colour, so a series drawn under it never hides it.
        """
        if self._legend_state.get(key, "") == text:
            return
        self._legend_state[key] = text
        legend = self._device_legends.get(key)
        if legend is None:
            legend = pg.TextItem("", color=theme.TEXT, anchor=(0, 0),
                                 fill=pg.mkBrush(theme.LEGEND_FILL))
            legend.setFont(self._legend_font())
            legend.setParentItem(plot.getViewBox())   # view pixels, not data
            legend.setPos(4, 2)
            legend.setZValue(50)
            self._device_legends[key] = legend
        legend.setText(text, color=theme.TEXT)
        legend.setVisible(bool(text))

    def _legend_font(self):  # type: ignore[no-untyped-def]
        font = self.font()
        font.setPointSizeF(8.0)
        return font

    def device_legend_text(self, key: str) -> str:
        """The device legend of plot ``key`` ("" when it shows one device's series only)."""
        return self._legend_state.get(key, "")

    def _update_y_range(self, key: str) -> None:
        spec = next(s for s in PLOT_SPECS if s.key == key)
        lo, hi = spec.y_range
        curves = [self.curves[v] for v in spec.vitals]
        curves += [c for (v, _), c in self.device_curves.items()
                   if v in spec.vitals and c.isVisible()]
        for curve in curves:
            y = curve.yData
            bounds = None if y is None else _finite_bounds(y)
            if bounds is not None:
                # Widen only where the data leave the default range, with room
                # for the point markers: a 189 mmHg surge must not sit on the edge.
                pad = max(5.0, 0.1 * (bounds[1] - bounds[0]))
                if bounds[0] < lo:
                    lo = bounds[0] - pad
                if bounds[1] > hi:
                    hi = bounds[1] + pad
        for limit in self._shown_limits.get(key, ()):   # a limit is never on the edge
            lo, hi = min(lo, limit.value - 3.0), max(hi, limit.value + 3.0)
        if (lo, hi) != self._y_ranges.get(key):
            self._y_ranges[key] = (lo, hi)
            self.plots[key].setYRange(lo, hi, padding=0)

    def _update_x_range(self, now_min: float) -> None:
        if now_min <= self._x_right:
            return
        self._x_right = max(MIN_SPAN_MIN, now_min * 1.1, now_min + 2.0)
        for plot in self.plots.values():  # the same range on each: no pixel-based x-link
            plot.setXRange(0.0, self._x_right, padding=0)
        self._redraw_markers()   # a label near the old right edge may turn round

    def _update_bands(self, now_min: float, force: bool) -> None:
        if self._model.session_version != self._session_version:
            self._session_version = self._model.session_version
            self._rebuild_bands(now_min)
            return
        if not self.bands or self._band_end is None:
            return
        if force or abs(now_min - self._band_end) >= BAND_IDLE_STEP_MIN:
            self._band_end = now_min
            for region in self.bands[-1][1]:
                region.setRegion((region.getRegion()[0], max(now_min, region.getRegion()[0])))

    def _rebuild_bands(self, now_min: float) -> None:
        for plot, region in self._band_items:
            plot.removeItem(region)
        self._band_items.clear()
        self.bands = []
        self._band_end = None
        assert self._origin is not None
        spans = [s for s in self._model.spans() if s.phase is not Phase.ENDED]
        for i, span in enumerate(spans):
            start = (span.start - self._origin) / 60.0
            current = span.end is None
            end = now_min if current else (span.end - self._origin) / 60.0
            regions = []
            for row, plot in enumerate(self.plots.values()):
                region = pg.LinearRegionItem(
                    values=(start, max(start, end)), orientation="vertical",
                    brush=pg.mkBrush(theme.PHASE_TINTS[span.phase]),
                    pen=pg.mkPen(None), movable=False)
                region.setZValue(-100)
                if row == 0:  # name the phase once, at the foot of its band (the
                    # event labels are at the top)
                    pg.InfLineLabel(region.lines[0], span.phase.value, position=0.08,
                                    anchors=[(0, 0.5), (0, 0.5)],
                                    color=theme.TEXT_DIM)
                plot.addItem(region, ignoreBounds=True)
                regions.append(region)
                self._band_items.append((plot, region))
            self.bands.append((span.phase, regions))
            if current and i == len(spans) - 1:
                self._band_end = now_min
