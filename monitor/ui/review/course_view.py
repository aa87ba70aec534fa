"""A patient's course: every session side by side, as a table and small plots.

One row per session (oldest first) and one small plot per measure with the
session's place in the course on x, so the sixth infusion can be set
against the first: peak rise over baseline (systolic, diastolic, HR),
lowest SpO2, physiological alarms by priority, technical alarms apart, and the
scores before and after.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QMainWindow,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from monitor.core.alarms.model import Priority
from monitor.review.course import CourseRow
from monitor.ui.alarms.style import COLOURS
from monitor.ui.review.style import REVIEW_STYLE
from monitor.ui.review.window_size import keep_on_screen
from monitor.ui.shared import theme

NONE_TEXT = "\u2014"
PREFERRED_SIZE = QSize(1280, 780)
"""The window's size where the screen has room (else the screen's available area)."""


def _num(x: float | None, unit: str = "", signed: bool = False) -> str:
    if x is None or not math.isfinite(x):
        return NONE_TEXT
    text = f"{x:+.0f}" if signed else f"{x:.0f}"
    return f"{text} {unit}".rstrip()


def dose_text(row: CourseRow) -> str:
    """``"0.5 mg/kg (35 mg)"`` or a dash."""
    if row.dose_mg_per_kg is None:
        return NONE_TEXT
    total = f" ({row.total_mg:g} mg)" if row.total_mg is not None else ""
    return f"{row.dose_mg_per_kg:g} mg/kg{total}"


def alarms_text(row: CourseRow) -> str:
    """``"2 / 0 / 1"``: physiological alarms, high, medium and low (technical apart)."""
    return " / ".join(str(row.alarm_counts.get(p, 0))
                      for p in (Priority.HIGH, Priority.MEDIUM, Priority.LOW))


def events_text(row: CourseRow) -> str:
    """``"Nausea 1, Antiemetic given 1"`` or a dash."""
    return ", ".join(f"{k.label} {n}" for k, n in row.event_counts.items() if n) or NONE_TEXT


def course_label(row: CourseRow, index: int) -> str:
    """The session's place in the course: its course number, else its position."""
    return str(row.course_number) if row.course_number is not None else f"#{index + 1}"


COLUMNS: tuple[tuple[str, Callable[[CourseRow], str]], ...] = (
    ("Session", lambda r: str(r.session_id)),
    ("Date", lambda r: r.date.strftime("%d %b %Y")),
    ("Course", lambda r: NONE_TEXT if r.course_number is None else
        f"{r.course_number} of {r.course_total}" if r.course_total else str(r.course_number)),
    ("Dose", dose_text),
    ("Sys rise\n(mmHg)", lambda r: _num(r.rise_sys, signed=True)),
    ("Dia rise\n(mmHg)", lambda r: _num(r.rise_dia, signed=True)),
    ("HR rise\n(bpm)", lambda r: _num(r.rise_hr, signed=True)),
    ("Lowest\nSpO2 (%)", lambda r: _num(r.lowest_spo2)),
    ("Alarms H/M/L", alarms_text),
    ("Technical\nalarms", lambda r: str(r.technical_alarms)),
    ("Events", events_text),
    ("PHQ-9\nbefore", lambda r: _num(r.phq9)),
    ("MADRS\nbefore", lambda r: _num(r.madrs)),
    ("CADSS\nafter", lambda r: _num(r.cadss)),
)
"""Column titles (with their units; a line break keeps the columns narrow) and cell texts."""
EVENTS_COLUMN = "Events"
"""The one column of free length: it takes the room left and wraps its text."""
X_LABEL = "session in the course"
TITLE_SIZE = "10pt"


@dataclass(frozen=True)
class Measure:
    """One series of a small plot: its key, legend name, colour and value per session."""

    key: str
    name: str
    colour: str
    value: Callable[[CourseRow], float | None]


@dataclass(frozen=True)
class SmallPlot:
    """One small plot: its title, series, the y range it always shows, bars or lines."""

    title: str
    measures: tuple[Measure, ...]
    y_min: float | None = None
    y_max: float | None = None
    bars: bool = False


def _alarm_measure(p: Priority) -> Measure:
    return Measure(f"alarms_{p.label}", p.label, COLOURS[p].lit,
                   lambda r: float(r.alarm_counts.get(p, 0)))


PLOTS: tuple[SmallPlot, ...] = (
    SmallPlot("Peak rise over baseline (mmHg)", (
        Measure("rise_sys", "sys", theme.NIBP_RED, lambda r: r.rise_sys),
        Measure("rise_dia", "dia", theme.NIBP_WHITE, lambda r: r.rise_dia)), 0.0, 20.0),
    SmallPlot("Peak HR rise (bpm)", (Measure("rise_hr", "HR", theme.HR_GREEN,
                                             lambda r: r.rise_hr),), 0.0, 20.0),
    SmallPlot("Lowest SpO2 (%)", (Measure("lowest_spo2", "SpO2", theme.SPO2_CYAN,
                                          lambda r: r.lowest_spo2),), 88.0, 100.0),
    SmallPlot("Alarms by priority", tuple(_alarm_measure(p) for p in
                                          (Priority.HIGH, Priority.MEDIUM, Priority.LOW)),
              0.0, 3.0, bars=True),
    SmallPlot("Technical alarms", (Measure("alarms_technical", "technical", theme.TEXT_DIM,
                                           lambda r: float(r.technical_alarms)),),
              0.0, 3.0, bars=True),
    SmallPlot("Scores", (Measure("phq9", "PHQ-9 before", "#b39ddb", lambda r: r.phq9),
                         Measure("madrs", "MADRS before", "#ffab91", lambda r: r.madrs),
                         Measure("cadss", "CADSS after", theme.RESP_YELLOW, lambda r: r.cadss)),
              0.0, 10.0),
)
BAR_WIDTH = 0.25


def measure_points(rows: Sequence[CourseRow], measure: Measure) -> tuple[np.ndarray, np.ndarray]:
    """x (1, 2, ... in course order) and y of the sessions that have a value."""
    xs, ys = [], []
    for i, row in enumerate(rows, start=1):
        y = measure.value(row)
        if y is not None and math.isfinite(y):
            xs.append(float(i))
            ys.append(float(y))
    return np.array(xs), np.array(ys)


class CourseView(QMainWindow):
    """Every session of one patient, oldest first.

    Parameters
    ----------
    patient_ref : str
    rows : sequence of CourseRow
        From :func:`monitor.review.course.course_rows`.
    parent : QWidget or None

    Attributes
    ----------
    table : QTableWidget
        One row per session (:data:`COLUMNS`); double-click opens its review.
    plots : dict of str to pyqtgraph.PlotItem
        By title (:data:`PLOTS`).
    legends : dict of str to list of (str, str)
        By plot title: each series' name and colour, written in the plot's
        title row (never over the points).
    curves : dict of str to pyqtgraph.PlotDataItem
        The lines, by measure key (``rise_sys``, ``rise_dia``, ``rise_hr``,
        ``lowest_spo2``, ``phq9``, ``madrs``, ``cadss``).
    bars : dict of str to pyqtgraph.BarGraphItem
        The alarm counts: physiological ``alarms_high``, ``alarms_medium``,
        ``alarms_low``, and ``alarms_technical`` in a plot of their own.

    Signals
    -------
    session_chosen(int)
        A session was double-clicked: open its review.
    """

    session_chosen = Signal(int)

    def __init__(self, patient_ref: str, rows: Sequence[CourseRow],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows = list(rows)
        self.setWindowTitle(f"Course of {patient_ref}")
        self.setStyleSheet(REVIEW_STYLE)
        title = QLabel(f"Patient {patient_ref}: {len(self.rows)} "
                       f"session{'s' if len(self.rows) != 1 else ''}")
        title.setObjectName("review_header")
        self.table = self._make_table()
        self.plots: dict[str, pg.PlotItem] = {}
        self.legends: dict[str, list[tuple[str, str]]] = {}
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.bars: dict[str, pg.BarGraphItem] = {}
        graphics = pg.GraphicsLayoutWidget()
        graphics.setBackground(theme.BACKGROUND)
        for n, spec in enumerate(PLOTS):
            self.plots[spec.title] = self._add_plot(graphics, n, spec)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(graphics)
        split.setSizes([260, 440])
        root = QWidget()
        root.setObjectName("review_root")
        layout = QVBoxLayout(root)
        layout.addWidget(title)
        layout.addWidget(split, 1)
        self.setCentralWidget(root)
        keep_on_screen(self, PREFERRED_SIZE)

    def _make_table(self) -> QTableWidget:
        table = QTableWidget(len(self.rows), len(COLUMNS))
        table.setHorizontalHeaderLabels([c[0] for c in COLUMNS])
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.verticalHeader().setVisible(False)
        for i, row in enumerate(self.rows):
            for j, (_, text) in enumerate(COLUMNS):
                table.setItem(i, j, QTableWidgetItem(text(row)))
        header = table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        titles = [c[0] for c in COLUMNS]
        if EVENTS_COLUMN in titles:   # the free text wraps in the room the others leave
            header.setSectionResizeMode(titles.index(EVENTS_COLUMN), QHeaderView.ResizeMode.Stretch)
        header.setStretchLastSection(False)
        header.setMinimumSectionSize(40)
        table.setWordWrap(True)
        table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        header.sectionResized.connect(lambda *_: table.resizeRowsToContents())
        table.resizeRowsToContents()
        table.cellDoubleClicked.connect(
            lambda r, _c: self.session_chosen.emit(self.rows[r].session_id))
        return table

    def _add_plot(self, graphics: pg.GraphicsLayoutWidget, n: int,
                  spec: SmallPlot) -> pg.PlotItem:
        plot = graphics.addPlot(row=n // 3, col=n % 3)
        self._style(plot)
        # The legend is the title row: the names never cover a point.
        self.legends[spec.title] = [(m.name, m.colour) for m in spec.measures]
        names = "" if len(spec.measures) == 1 else "&nbsp;&nbsp;" + "&nbsp;&nbsp;".join(
            f'<span style="color:{m.colour}">\u25a0 {m.name}</span>' for m in spec.measures)
        plot.setTitle(f"{spec.title}{names}", size=TITLE_SIZE, color=theme.TEXT_DIM)
        lo, hi = spec.y_min, spec.y_max
        for i, m in enumerate(spec.measures):
            x, y = measure_points(self.rows, m)
            if y.size:
                lo = min(lo, float(y.min())) if lo is not None else float(y.min())
                hi = max(hi, float(y.max())) if hi is not None else float(y.max())
            if spec.bars:   # side by side around each session
                offset = (i - (len(spec.measures) - 1) / 2) * BAR_WIDTH
                bar = pg.BarGraphItem(x=x + offset, height=y, width=BAR_WIDTH,
                                      brush=m.colour, pen=pg.mkPen(None), name=m.name)
                plot.addItem(bar)
                self.bars[m.key] = bar
            else:
                self.curves[m.key] = plot.plot(x, y, pen=pg.mkPen(m.colour, width=2),
                                               symbol="o", symbolSize=7, symbolPen=None,
                                               symbolBrush=m.colour, name=m.name)
        if lo is not None and hi is not None:
            pad = 0.08 * max(1.0, hi - lo)
            plot.setYRange(lo - (0 if lo == 0 else pad), hi + pad, padding=0)
            if spec.bars:   # counts: whole numbers on the axis
                step = float(max(1, math.ceil((hi - lo) / 5)))
                plot.getAxis("left").setTickSpacing(major=step, minor=step)
        return plot

    def _style(self, plot: pg.PlotItem) -> None:
        plot.setMenuEnabled(False)
        plot.setMouseEnabled(x=False, y=False)
        plot.hideButtons()
        plot.showGrid(x=True, y=True, alpha=0.15)
        for name in ("left", "bottom"):
            plot.getAxis(name).setTextPen(theme.TEXT_DIM)
            plot.getAxis(name).setPen(theme.PANEL_BORDER)
        plot.getAxis("bottom").setTicks(
            [[(float(i), course_label(r, i - 1)) for i, r in enumerate(self.rows, 1)]])
        plot.setLabel("bottom", X_LABEL, color=theme.TEXT_DIM)
        plot.setXRange(0.5, max(1, len(self.rows)) + 0.5, padding=0)
