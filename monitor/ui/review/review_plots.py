"""The whole recorded session on one time axis: trends, pleth, phases, limits, alarms, events.

Every plot shares the x axis (minutes since the session start): the mouse
wheel zooms it and a drag pans it, on any plot; the y ranges are fixed per
plot. Long sessions stay fluid: the trend curves are clipped to the view and
peak-downsampled to the pixels by pyqtgraph (``setClipToView``,
``setDownsampling(mode="peak", auto=True)``); the pleth, 1.4 million
samples for 4 hours at 100 Hz, is drawn from a min/max pyramid computed
once (:mod:`monitor.ui.review.wave_lod`), a few thousand points at any
zoom. What does not move with the data (phase and alarm bands, grid,
limits, event markers, the cursor) is drawn with the plain Qt items of
:mod:`monitor.ui.review.plot_items`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QBrush
from PySide6.QtWidgets import (
    QGraphicsLineItem,
    QGraphicsRectItem,
    QGraphicsSimpleTextItem,
    QWidget,
)

from monitor.core.alarms.model import AlarmKind, LimitLines, Priority
from monitor.core.session import Phase
from monitor.core.vitals import Vital
from monitor.review.record import AlarmSpan, SessionRecord
from monitor.ui.alarms.style import COLOURS
from monitor.ui.live.trend_specs import (
    LIMIT_FIELDS,
    MARKER_COLOUR,
    PLOT_SPECS,
    marker_text,
    short_label,
)
from monitor.ui.review.plot_items import (
    band_item,
    grid_values,
    label_item,
    line_item,
    minute_ticks,
    opaque_tint,
    pleth_range,
    y_range_for,
)
from monitor.ui.review.style import RESP_RATE_TRACE
from monitor.ui.review.wave_lod import MinMaxPyramid
from monitor.ui.shared import theme

PLETH_KEY = "pleth"
FOCUS_HALF_WIDTH_MIN = 5.0
"""Jumping to a moment from the whole-session view zooms to this many minutes either side."""
MIN_X_RANGE_MIN = 0.05
"""The closest zoom: 3 seconds across."""
PLETH_MAX_RANGE_MIN = 1.0
"""The pleth is shown only when at most this many minutes are in view.

Wider, its beats are a solid block: the plot is hidden (the trends take its
room) and :attr:`ReviewPlotsWidget.pleth_shown` says so.
"""
LABEL_STEP_PX = 58
"""Limit labels step leftwards this many pixels per slot (a label such as "sys 180" and a gap)."""
CURSOR_COLOUR = "#f0f6fc"
UNITS: dict[str, str] = {"nibp": "mmHg", "hr": "bpm", "spo2": "%", "resp": "/min \u00b7 mmHg",
                         PLETH_KEY: "pleth"}
"""The left axis label of each plot: its unit(s)."""
LEGENDS: dict[str, tuple[tuple[str, tuple[Vital, ...]], ...]] = {
    "nibp": (("sys/dia (mmHg)", (Vital.NIBP_SYS, Vital.NIBP_DIA)),
             ("mean (mmHg)", (Vital.NIBP_MEAN,))),
    "hr": (("HR (bpm)", (Vital.HR,)), ("PR (bpm)", (Vital.PULSE_RATE,))),
    "spo2": (("SpO2 (%)", (Vital.SPO2,)),),
    "resp": (("RR (/min)", (Vital.RESP_RATE,)), ("EtCO2 (mmHg)", (Vital.ETCO2,))),
}
"""The names over each plot, each in its series' colour (the plots' legend)."""
TITLE_SIZE = "9pt"


def trace_colour(vital: Vital) -> str:
    """The colour of ``vital``'s curve: its tile's, but RR apart from EtCO2's amber."""
    return RESP_RATE_TRACE if vital is Vital.RESP_RATE else theme.VITAL_COLOURS[vital]
ALARM_ALPHA: dict[Priority, int] = {Priority.HIGH: 46, Priority.MEDIUM: 40, Priority.LOW: 36}
"""Opacity of the alarm bands: translucent, so the trend under them stays readable."""
GRID_COLOUR = (139, 148, 158, 38)
"""Horizontal grid lines (the y ranges are fixed, so they are drawn once).

pyqtgraph's own grid is drawn by the axes at every repaint and costs about
two thirds of a frame on this layout; the cursor readout gives exact times.
"""


class MinuteAxis(pg.AxisItem):
    """The session-minute axis; zoomed to seconds its ticks read minutes:seconds."""

    def tickStrings(self, values: list[float], scale: float,  # pyqtgraph's hook
                    spacing: float) -> list[str]:
        return minute_ticks(values, spacing * scale)


class ReviewPlotsWidget(pg.GraphicsLayoutWidget):
    """Stacked plots of one recorded session, x-linked, in minutes since its start.

    NIBP (points joined by lines), HR/PR, SpO2, RR/EtCO2 when recorded and
    the pleth when recorded. Behind the curves: phase bands; the alarm
    limits as dashed lines; each alarm as a translucent band in its
    priority's colour on the plot of its vital (technical alarms on every
    plot); the nurse's events and infusion pauses as dotted markers. A
    vertical cursor on every plot follows the mouse (and a click).

    Parameters
    ----------
    record : SessionRecord
    limits : mapping of Vital to LimitLines
        The limits to draw (the session profile's ``limit_lines()``).
    parent : QWidget or None

    Attributes
    ----------
    origin : float
        The session start (Unix s): x = 0.
    span_min : float
        The session length in minutes.
    plots : dict of str to pyqtgraph.PlotItem
        By key: ``nibp``, ``hr``, ``spo2``, ``resp``, ``pleth``.
    curves : dict of Vital to pyqtgraph.PlotDataItem
        The pleth's curve (a ``PlotCurveItem`` holding only what is drawn) is
        under ``Vital.PLETH``.
    pleth_lod : MinMaxPyramid or None
        The pleth's levels of detail.
    pleth_level : int
        The level drawn now (0: every sample).
    bands : list of (Phase, list of QGraphicsRectItem)
        One band per plot (see :func:`x_extent`).
    limit_lines : dict of Vital to list of QGraphicsLineItem
    limit_labels : list of (QGraphicsSimpleTextItem, int)
        Each limit's value label and its slot (2 × the vital's place in the plot,
        + 1 for a high-priority limit), counted leftwards in :data:`LABEL_STEP_PX`:
        pinned to the right edge of the view at every zoom and pan.
    phase_labels : list of (QGraphicsSimpleTextItem, float, float)
        Each phase's name and its band (minutes): pinned to the band's left
        edge in view.
    legends : dict of str to list of (str, str)
        By plot key: each series name shown over the plot and its colour.
    pleth_visible : bool
        Whether the pleth plot is shown (see :data:`PLETH_MAX_RANGE_MIN`).
    alarm_regions : list of (AlarmSpan, list of QGraphicsRectItem)
    event_lines : list of (float, list of QGraphicsLineItem)
        Each marker's time (Unix s) and its line on every plot.
    cursor_lines : list of QGraphicsLineItem
    cursor_t : float or None
        Where the cursor is (Unix s); ``None`` before it was placed.

    Signals
    -------
    cursor_moved(float)
        The cursor moved to this time (Unix s).
    pleth_shown(bool)
        The pleth plot was shown (zoomed in) or hidden (zoomed out).
    """

    cursor_moved = Signal(float)
    pleth_shown = Signal(bool)

    def __init__(self, record: SessionRecord, limits: Mapping[Vital, LimitLines],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setBackground(theme.BACKGROUND)
        self.origin = record.start
        self.span_min = max(MIN_X_RANGE_MIN, (record.end - record.start) / 60.0)
        self.plots: dict[str, pg.PlotItem] = {}
        self.curves: dict[Vital, pg.PlotDataItem] = {}
        self.bands: list[tuple[Phase, list[QGraphicsRectItem]]] = []
        self.limit_lines: dict[Vital, list[QGraphicsLineItem]] = {}
        self.limit_labels: list[tuple[QGraphicsSimpleTextItem, int]] = []
        self.phase_labels: list[tuple[QGraphicsSimpleTextItem, float, float]] = []
        self.legends: dict[str, list[tuple[str, str]]] = {}
        self.pleth_visible = True
        self.alarm_regions: list[tuple[AlarmSpan, list[QGraphicsRectItem]]] = []
        self.event_lines: list[tuple[float, list[QGraphicsLineItem]]] = []
        self.cursor_lines: list[QGraphicsLineItem] = []
        self._y: dict[str, tuple[float, float]] = {}
        self.pleth_lod: MinMaxPyramid | None = None
        self.pleth_level = 0
        self._margin = max(0.5, 0.01 * self.span_min)
        self.cursor_t: float | None = None
        self._vital_plot: dict[Vital, str] = {}
        for spec in PLOT_SPECS:
            recorded = any(v in record.numerics and np.isfinite(record.numerics[v].v).any()
                           for v in spec.vitals)
            if spec.optional and not recorded:
                continue
            values = [getattr(limits[v], f) for v in spec.vitals if v in limits
                      for f, _ in LIMIT_FIELDS if getattr(limits[v], f) is not None]
            plot = self._add_plot(spec.title, y_range_for(spec, record, values), spec.key)
            for z, vital in enumerate(spec.vitals):
                self._vital_plot[vital] = spec.key
                self._add_curve(plot, record, vital, spec.points, len(spec.vitals) - z)
            self._set_legend(plot, spec.key, record)
        if record.pleth is not None and len(record.pleth):
            plot = self._add_plot("Pleth", pleth_range(record.pleth.v), PLETH_KEY)
            self._set_legend(plot, PLETH_KEY, record)
            # Drawn from precomputed levels of detail (no pass over every sample per pan).
            self.pleth_lod = MinMaxPyramid(self._x(record.pleth.t), record.pleth.v)
            curve = pg.PlotCurveItem(pen=pg.mkPen(theme.SPO2_CYAN, width=1), antialias=False)
            plot.addItem(curve)
            self.curves[Vital.PLETH] = curve
            plot.vb.sigXRangeChanged.connect(self._update_pleth)
            plot.vb.sigResized.connect(self._update_pleth)
        list(self.plots.values())[-1].showAxis("bottom")
        self.pleth_visible = PLETH_KEY in self.plots
        self._draw_bands(record)
        for vital, lines in limits.items():
            self._draw_limits(vital, lines)
        technical = {a.alarm_id for a in record.alarms if a.kind is AlarmKind.TECHNICAL}
        for span in record.alarm_spans():
            self._draw_alarm(span, record.end, span.alarm_id in technical)
        self._draw_markers(record)
        self._add_cursor()
        first = next(iter(self.plots.values()))
        first.vb.sigXRangeChanged.connect(self._on_x_range)
        first.vb.sigResized.connect(self._on_x_range)   # label steps are in pixels
        self.zoom_out()
        self._on_x_range()
        # Qt already merges mouse moves to one per event-loop turn, and a cursor move
        # only sets five line positions and a label: no throttle is needed.
        self.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.scene().sigMouseClicked.connect(self._on_mouse_clicked)

    # -- building -------------------------------------------------------------

    def _x(self, t: np.ndarray) -> np.ndarray:
        return (np.asarray(t, dtype=np.float64) - self.origin) / 60.0

    def _add_plot(self, title: str, y_range: tuple[float, float], key: str) -> pg.PlotItem:
        plot = self.addPlot(row=len(self.plots), col=0,
                            axisItems={"bottom": MinuteAxis(orientation="bottom")})
        plot.setMouseEnabled(x=True, y=False)
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.setClipToView(True)
        plot.setDownsampling(mode="peak", auto=True)
        for name in ("left", "bottom"):
            plot.getAxis(name).setTextPen(theme.TEXT_DIM)
            plot.getAxis(name).setPen(theme.PANEL_BORDER)
            plot.getAxis(name).enableAutoSIPrefix(False)   # no label rewrite at every pan
        plot.getAxis("left").setWidth(64)
        plot.setLabel("bottom", "minutes since the session start", color=theme.TEXT_DIM)
        plot.hideAxis("bottom")   # only the lowest plot shown shows the time axis
        plot.setLabel("left", UNITS.get(key, title), color=theme.TEXT_DIM)
        plot.setYRange(*y_range, padding=0)
        self._y[key] = y_range
        grid = pg.mkPen(GRID_COLOUR, width=1)
        for value in grid_values(*y_range):
            plot.addItem(line_item(-self._margin, value, self.span_min + self._margin, value,
                                   grid, -90), ignoreBounds=True)
        plot.setLimits(xMin=-self._margin, xMax=self.span_min + self._margin,
                       minXRange=MIN_X_RANGE_MIN)
        if self.plots:
            plot.setXLink(next(iter(self.plots.values())))
        self.plots[key] = plot
        return plot

    def _set_legend(self, plot: pg.PlotItem, key: str, record: SessionRecord) -> None:
        """The plot's title row: each recorded series' name and unit in its colour."""
        if key == PLETH_KEY:
            entries = [("Pleth", theme.VITAL_COLOURS[Vital.PLETH])]
        else:
            entries = [(name, trace_colour(vitals[0])) for name, vitals in LEGENDS[key]
                       if any(v in record.numerics and np.isfinite(record.numerics[v].v).any()
                              for v in vitals)]
        self.legends[key] = entries
        html = "&nbsp;&nbsp;&nbsp;".join(
            f'<span style="color:{colour}">\u25a0 {name}</span>' for name, colour in entries)
        plot.setTitle(html or "not recorded", size=TITLE_SIZE, color=theme.TEXT_DIM,
                      justify="left")

    def _add_curve(self, plot: pg.PlotItem, record: SessionRecord, vital: Vital,
                   points: bool, z: int) -> None:
        colour = trace_colour(vital)
        pen = pg.mkPen(colour, width=1)
        if points:  # NIBP: each determination a dot, joined to the next valid one
            curve = plot.plot(pen=pen, antialias=False, symbol="o", symbolSize=6,
                              symbolPen=None, symbolBrush=colour)
            # A few dozen determinations: drawn whole, not re-clipped at every pan.
            curve.setClipToView(False)
            curve.setDownsampling(auto=False)
        else:
            curve = plot.plot(pen=pen, antialias=False)
        curve.setZValue(z)
        self.curves[vital] = curve
        series = record.numerics.get(vital)
        if series is None:
            return
        if points:
            t, v = series.valid()
            curve.setData(self._x(t), v)
        elif np.isfinite(series.v).all():   # the fast path: nothing to check or break
            curve.setData(self._x(series.t), series.v, connect="all", skipFiniteCheck=True)
        else:  # a reading without a value is a gap in the line
            curve.setData(self._x(series.t), series.v, connect="finite")

    def _draw_bands(self, record: SessionRecord) -> None:
        for span in record.phases:
            if span.phase is Phase.ENDED:
                continue
            start = (span.start - self.origin) / 60.0
            end = ((span.end if span.end is not None else record.end) - self.origin) / 60.0
            brush = QBrush(opaque_tint(theme.PHASE_TINTS[span.phase], theme.BACKGROUND))
            bands = []
            for row, (key, plot) in enumerate(self.plots.items()):
                band = band_item(start, end, self._y[key], brush, -100)
                plot.addItem(band, ignoreBounds=True)
                bands.append(band)
                if row == 0:   # name the phase once, at the top of its band
                    label = label_item(span.phase.value, start, self._y[key][1],
                                       theme.TEXT_DIM)
                    plot.addItem(label, ignoreBounds=True)
                    self.phase_labels.append((label, start, end))
            self.bands.append((span.phase, bands))

    def _draw_limits(self, vital: Vital, lines: LimitLines) -> None:
        key = self._vital_plot.get(vital)
        if key is None:
            return
        plot = self.plots[key]
        spec = next(s for s in PLOT_SPECS if s.key == key)
        prefix = f"{short_label(vital)} " if len(spec.vitals) > 1 else ""
        first = 2 * spec.vitals.index(vital)
        drawn = []
        for field, priority in LIMIT_FIELDS:
            value = getattr(lines, field)
            if value is None:
                continue
            colour = COLOURS[priority].dark_text   # as it reads on the dark plot (lighter red)
            pen = pg.mkPen(colour, width=1, style=Qt.PenStyle.DashLine)
            line = line_item(-self._margin, value, self.span_min + self._margin, value, pen, -10)
            plot.addItem(line, ignoreBounds=True)
            drawn.append(line)
            # The value at the right edge of the view (see _on_x_range), on the normal side
            # of its line (below a high limit, above a low one). Each vital and priority has
            # its own place along x, so close limits (sys 80 and 90) never overprint.
            slot = first + (priority is Priority.HIGH)
            label = label_item(f"{prefix}{value:g}", self.span_min, value, colour, right=True,
                               above=not field.startswith("high"))
            plot.addItem(label, ignoreBounds=True)
            self.limit_labels.append((label, slot))
        self.limit_lines[vital] = drawn

    def plots_of(self, vital: Vital | None, technical: bool = False) -> list[str]:
        """The plots an alarm of ``vital`` is drawn on.

        A physiological alarm goes on its vital's plot; a technical one (no
        data, sensor off...), or one of a vital not plotted, on every plot.
        """
        if not technical and vital is not None and vital in self._vital_plot:
            return [self._vital_plot[vital]]
        return list(self.plots)

    def _draw_alarm(self, span: AlarmSpan, session_end: float, technical: bool) -> None:
        start = (span.start - self.origin) / 60.0
        end = ((span.end if span.end is not None else session_end) - self.origin) / 60.0
        brush = QBrush(theme.color(COLOURS[span.priority].lit, ALARM_ALPHA[span.priority]))
        bands = []
        for key in self.plots_of(span.vital, technical):
            # over the phase bands, under limits and curves
            band = band_item(start, end, self._y[key], brush, -50)
            self.plots[key].addItem(band, ignoreBounds=True)
            bands.append(band)
        self.alarm_regions.append((span, bands))

    def _draw_markers(self, record: SessionRecord) -> None:
        marks = [(e.t, marker_text(e.kind.label)) for e in record.events]
        marks += [(a.t, f"Infusion {a.action.value}") for a in record.infusion
                  if a.action.value in ("pause", "resume")]
        pen = pg.mkPen(MARKER_COLOUR, width=1, style=Qt.PenStyle.DotLine)
        for i, (t, text) in enumerate(sorted(marks)):
            x = (t - self.origin) / 60.0
            lines = []
            for row, (key, plot) in enumerate(self.plots.items()):
                lo, hi = self._y[key]
                line = line_item(x, lo, x, hi, pen, -5)   # under the curves, over the bands
                plot.addItem(line, ignoreBounds=True)
                lines.append(line)
                if row == 0:   # labels step down in three levels, so close events stay readable
                    y = hi - (0.12 + 0.2 * (i % 3)) * (hi - lo)
                    plot.addItem(label_item(text, x, y, MARKER_COLOUR), ignoreBounds=True)
            self.event_lines.append((t, lines))

    def _add_cursor(self) -> None:
        pen = pg.mkPen(CURSOR_COLOUR, width=1)
        for key, plot in self.plots.items():
            line = line_item(0.0, self._y[key][0], 0.0, self._y[key][1], pen, 50)
            line.setVisible(False)
            plot.addItem(line, ignoreBounds=True)
            self.cursor_lines.append(line)

    # -- the view -------------------------------------------------------------

    def x_range(self) -> tuple[float, float]:
        """The minutes shown (every plot shows the same)."""
        lo, hi = next(iter(self.plots.values())).viewRange()[0]
        return float(lo), float(hi)

    def set_x_range(self, lo: float, hi: float) -> None:
        """Show minutes ``lo`` to ``hi`` on every plot."""
        next(iter(self.plots.values())).setXRange(lo, hi, padding=0)

    def zoom_out(self) -> None:
        """Show the whole session (with a sliver either side, so nothing sits on the edge)."""
        margin = min(self._margin, 0.005 * self.span_min)
        self.set_x_range(-margin, self.span_min + margin)

    def centre_on(self, t: float) -> None:
        """Centre every plot on time ``t`` (Unix s) and put the cursor there.

        The zoom width is kept; from the whole-session view it zooms to
        ±5 minutes around ``t``.
        """
        lo, hi = self.x_range()
        width = hi - lo
        if width >= 0.9 * self.span_min:
            width = min(2 * FOCUS_HALF_WIDTH_MIN, self.span_min)
        x = (t - self.origin) / 60.0
        self.set_x_range(x - width / 2, x + width / 2)
        self.set_cursor(t)

    def set_cursor(self, t: float) -> None:
        """Put the cursor at time ``t`` (Unix s) on every plot."""
        self.cursor_t = t
        x = (t - self.origin) / 60.0
        for line in self.cursor_lines:
            old = line.line()
            line.setLine(x, old.y1(), x, old.y2())
            line.setVisible(True)
        self.cursor_moved.emit(t)

    def _on_x_range(self, *_: object) -> None:
        """Keep the labels in view and show the pleth only where its waves can be read."""
        lo, hi = self.x_range()
        right = min(hi, self.span_min)
        pixels = max(1.0, float(next(iter(self.plots.values())).vb.width()))
        step = LABEL_STEP_PX * (hi - lo) / pixels   # minutes per step
        for label, slot in self.limit_labels:
            label.setPos(right - slot * step, label.pos().y())
        for label, start, end in self.phase_labels:
            label.setVisible(start < hi and end > lo)
            label.setPos(max(start, lo), label.pos().y())
        if PLETH_KEY in self.plots:
            self._show_pleth(hi - lo <= PLETH_MAX_RANGE_MIN + 1e-9)

    def _show_pleth(self, shown: bool) -> None:
        if shown == self.pleth_visible:
            return
        self.pleth_visible = shown
        keys = list(self.plots)
        self.plots[PLETH_KEY].setVisible(shown)
        # the time axis under the lowest plot shown
        self.plots[keys[-1]].showAxis("bottom", shown)
        self.plots[keys[-2]].showAxis("bottom", not shown)
        # Out of the layout while hidden, so its room goes to the trends.
        plot = self.plots[PLETH_KEY]
        if shown:
            self.ci.layout.addItem(plot, keys.index(PLETH_KEY), 0)
        else:
            self.ci.layout.removeItem(plot)
        if shown:
            self._update_pleth()
        self.pleth_shown.emit(shown)

    def _update_pleth(self, *_: object) -> None:
        if self.pleth_lod is None or not self.pleth_visible:
            return
        plot = self.plots[PLETH_KEY]
        lo, hi = plot.vb.viewRange()[0]
        x, y, self.pleth_level = self.pleth_lod.view(lo, hi, plot.vb.width())
        self.curves[Vital.PLETH].setData(x, y, connect="finite")

    def _time_at(self, scene_pos: QPointF) -> float | None:
        for plot in self.plots.values():
            if plot.vb.sceneBoundingRect().contains(scene_pos):
                x = plot.vb.mapSceneToView(scene_pos).x()
                x = min(max(x, 0.0), self.span_min)
                return self.origin + 60.0 * x
        return None

    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        t = self._time_at(scene_pos)
        if t is not None:
            self.set_cursor(t)

    def _on_mouse_clicked(self, event: object) -> None:
        t = self._time_at(event.scenePos())  # type: ignore[attr-defined]
        if t is not None:
            self.set_cursor(t)
