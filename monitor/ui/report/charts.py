"""The report's trend plots, drawn as vector lines with QPainter, legible in black and white.

One session-minute axis for NIBP, HR/PR, SpO2 and (when recorded) RR/EtCO2, with the phases as grey
bands named in a row above the plots, the alarm limits as dashed lines with
their value written at the right end, the events as numbered ticks (the
numbers of the report's event list) and the alarms as hatched bars under
the plots, one per priority episode, technical alarms in lanes of their
own. Nothing relies on colour: series differ by line style and marker
shape, priorities by hatching.

Coordinates are PDF points (1/72 in); the painter is scaled so one unit is
one point (see :data:`SCALE`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter

from monitor.core.alarms.model import Priority
from monitor.core.session import Phase, PhaseSpan
from monitor.core.vitals import Vital
from monitor.review.record import AlarmSpan, Series
from monitor.ui.report.limits import LimitStep, nice_step
from monitor.ui.report.plot import (
    LIMIT_PENS,
    RANGE_FILL,
    STYLES,
    AlarmLane,
    Panel,
    draw_alarm_lanes,
    draw_marker,
    draw_panel,
    font,
    hatch,
    panels_for,
    pen,
)
from monitor.ui.report.text import Clock

PHASE_SHADES = {Phase.BASELINE: QColor(240, 240, 240), Phase.INFUSION: QColor(212, 212, 212),
                Phase.RECOVERY: QColor(228, 228, 228)}
PHASE_NAMES = {Phase.BASELINE: "Baseline", Phase.INFUSION: "Infusion",
               Phase.RECOVERY: "Recovery"}

LEFT, RIGHT = 42.0, 46.0
"""Gutters (pt): y tick labels on the left, limit labels on the right."""
LEGEND_ROW, PHASE_ROW, EVENT_ROW, GAP, LANE = 12.0, 10.0, 15.0, 5.0, 7.5
PLOTS_HEIGHT = 300.0
LEGEND_SAMPLE = 12.0
"""Length (pt) of a line sample in the legend (short, so every item fits one row)."""
"""Height (pt) of the three panels every report has; the RR/EtCO2 panel adds its share."""


@dataclass
class ChartData:
    """What the trend plots show.

    Attributes
    ----------
    start, end : float
    numerics : dict of Vital to Series
    phases : list of PhaseSpan
    limits : dict of Vital to list of LimitStep
    event_times : list of float
        Times of the numbered event-list rows (row 1 first).
    alarm_spans : list of AlarmSpan
        One per priority episode (``SessionRecord.alarm_spans``).
    clock : Clock
        For the wall-clock row under the axis (none when relative).
    """

    start: float
    end: float
    numerics: dict[Vital, Series]
    phases: list[PhaseSpan]
    limits: dict[Vital, list[LimitStep]]
    event_times: list[float]
    alarm_spans: list[AlarmSpan]
    clock: Clock
    lanes: list[AlarmLane] = field(init=False)
    panels: tuple[Panel, ...] = field(init=False)

    def __post_init__(self) -> None:
        self.lanes = alarm_lanes(self.alarm_spans)
        self.panels = panels_for(self.numerics)


MAX_LANES = 2
"""Lanes per group; more overlapping alarms share the lane that frees up first."""


def alarm_lanes(spans: list[AlarmSpan]) -> list[AlarmLane]:
    """Physiological episodes by priority (high first), then technical alarms apart.

    Each bar is one priority episode, so an alarm raised medium and escalated
    to high is a medium bar up to the escalation and a high bar from there.
    Technical alarms (no data, sensor off, no alarm sound...) get lanes of
    their own, labelled as such, each bar hatched by its priority.
    Overlapping bars of a group go in separate lanes; at most
    :data:`MAX_LANES` lanes per group keep the figure on one page, past
    that overlapping bars share a lane (the alarm lists have them all).
    """
    groups: list[tuple[Priority | None, list[AlarmSpan]]] = [
        (prio, [s for s in spans if not s.technical and s.priority is prio])
        for prio in sorted(Priority, reverse=True)]
    groups.append((None, [s for s in spans if s.technical]))
    lanes: list[AlarmLane] = []
    for prio, group in groups:
        ends: list[float] = []
        mine: list[list[AlarmSpan]] = []
        for s in sorted(group, key=lambda s: s.start):
            end = s.end if s.end is not None else math.inf
            free = [i for i, e in enumerate(ends) if s.start >= e]
            if free or len(ends) >= MAX_LANES:
                i = free[0] if free else min(range(len(ends)), key=ends.__getitem__)
                ends[i] = max(ends[i], end)
                mine[i].append(s)
            else:
                ends.append(end)
                mine.append([s])
        lanes.extend(AlarmLane(prio, lane) for lane in mine)
    return lanes


def chart_height(data: ChartData) -> float:
    """Height (pt) of the whole trend figure for ``data``."""
    lanes = max(1, len(data.lanes))
    axis = 22.0 if data.clock.relative else 30.0
    plots = PLOTS_HEIGHT * sum(panel.share for panel in data.panels)
    return (LEGEND_ROW + PHASE_ROW + EVENT_ROW + plots + GAP * (len(data.panels) - 1)
            + GAP + lanes * LANE + axis)


class TrendFigure:
    """Draws :class:`ChartData` into a rectangle of the report page.

    Parameters
    ----------
    data : ChartData
    rect : QRectF
        The figure's place on the page (pt); its height is :func:`chart_height`.
    """

    def __init__(self, data: ChartData, rect: QRectF) -> None:
        self.data = data
        self.rect = rect
        self.x0 = rect.left() + LEFT
        self.x1 = rect.right() - RIGHT
        self.span = max(data.end - data.start, 1.0)

    def x(self, t: float) -> float:
        """Page x of Unix time ``t``."""
        return self.x0 + (t - self.data.start) / self.span * (self.x1 - self.x0)

    def draw(self, p: QPainter) -> None:
        """Draw the whole figure."""
        d = self.data
        y = self.rect.top()
        self._draw_legend(p, y)
        y += LEGEND_ROW
        self._draw_phase_row(p, y)
        y += PHASE_ROW
        events_y = y
        y += EVENT_ROW
        panel_rects = []
        for panel in d.panels:
            h = PLOTS_HEIGHT * panel.share
            panel_rects.append(QRectF(self.x0, y, self.x1 - self.x0, h))
            y += h + GAP
        ticks = self._time_ticks()
        for r in panel_rects:
            self._draw_bands(p, r)
        self._draw_events(p, events_y, panel_rects)
        for panel, r in zip(d.panels, panel_rects, strict=True):
            draw_panel(p, self.x, panel, r, ticks, d.numerics, d.limits, d.start, d.end)
        lanes_h = max(1, len(d.lanes)) * LANE
        draw_alarm_lanes(p, self.x, QRectF(self.x0, y, self.x1 - self.x0, lanes_h), d.lanes,
                         d.end, LANE)
        self._draw_axis(p, y + lanes_h + 1, ticks)

    def _draw_bands(self, p: QPainter, r: QRectF) -> None:
        for span in self.data.phases:
            if span.phase in PHASE_SHADES:
                end = span.end if span.end is not None else self.data.end
                p.fillRect(QRectF(self.x(span.start), r.top(), self.x(end) - self.x(span.start),
                                  r.height()), PHASE_SHADES[span.phase])
        p.setPen(pen(0.4, grey=90))
        for span in self.data.phases[1:]:
            p.drawLine(QPointF(self.x(span.start), r.top()), QPointF(self.x(span.start),
                                                                      r.bottom()))

    def _draw_legend(self, p: QPainter, y: float) -> None:
        """Line samples with markers, then the limit styles and the alarm hatches."""
        p.setFont(font(6.5))
        fm = p.fontMetrics()
        x = self.rect.left()
        mid = y + LEGEND_ROW / 2 - 1
        shown = {v for v, s in self.data.numerics.items() if len(s)}
        for vital, style in STYLES.items():
            if vital not in shown:
                continue
            p.setPen(style.pen)
            p.drawLine(QPointF(x, mid), QPointF(x + LEGEND_SAMPLE, mid))
            if style.marker is not None:
                draw_marker(p, style, x + LEGEND_SAMPLE / 2, mid)
            p.setPen(pen(0.5))
            x = self._legend_text(p, x + LEGEND_SAMPLE + 3, y, style.label, fm)
        if any(self.data.numerics[v].manual.any() for v in shown
               if STYLES.get(v) is not None and STYLES[v].points):
            p.drawEllipse(QPointF(x + 4, mid), 3.6, 3.6)
            x = self._legend_text(p, x + 10, y, "by hand", fm)
        for prio, name in (("medium", "limit M"), ("high", "limit H")):
            p.setPen(LIMIT_PENS[prio])
            p.drawLine(QPointF(x, mid), QPointF(x + LEGEND_SAMPLE, mid))
            p.setPen(pen(0.5))
            x = self._legend_text(p, x + LEGEND_SAMPLE + 3, y, name, fm)
        p.fillRect(QRectF(x, mid - 3, 10, 6), RANGE_FILL)
        x = self._legend_text(p, x + 12, y, "range", fm)
        for prio in sorted(Priority, reverse=True):
            hatch(p, QRectF(x, mid - 3, 10, 6), prio)
            x = self._legend_text(p, x + 12, y, f"alarm {prio.label[0].upper()}", fm)

    @staticmethod
    def _legend_text(p: QPainter, x: float, y: float, text: str, fm) -> float:
        w = fm.horizontalAdvance(text)
        p.drawText(QRectF(x, y, w + 2, LEGEND_ROW - 2),
                   Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text)
        return x + w + 7

    def _draw_axis(self, p: QPainter, y: float, ticks: list[float]) -> None:
        """Session minutes under the plots and, unless relative, the local clock under them."""
        p.setPen(pen(0.6))
        p.drawLine(QPointF(self.x0, y), QPointF(self.x1, y))
        p.setFont(font(6.5))
        clock = self.data.clock
        for i, t in enumerate(ticks):
            x = self.x(t)
            p.drawLine(QPointF(x, y), QPointF(x, y + 2.5))
            # the first label starts at its tick, so it stays clear of the row names
            box = QRectF(x, y, 40, 8) if i == 0 else QRectF(x - 20, y, 40, 8)
            align = Qt.AlignmentFlag.AlignLeft if i == 0 else Qt.AlignmentFlag.AlignHCenter
            p.drawText(box.translated(0, 2.5), align | Qt.AlignmentFlag.AlignVCenter,
                       f"{(t - self.data.start) / 60:g}")
            if not clock.relative:
                p.drawText(box.translated(0, 10), align | Qt.AlignmentFlag.AlignVCenter,
                           clock.local(t))
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        p.drawText(QRectF(self.rect.left(), y + 2.5, LEFT - 8, 8), right, "min")
        if not clock.relative:
            p.drawText(QRectF(self.rect.left(), y + 10, LEFT - 8, 8), right, "clock")

    def _time_ticks(self) -> list[float]:
        minutes = self.span / 60.0
        step = nice_step(minutes / 10.0, (1, 2, 5, 10, 15, 20, 30, 60, 120, 240))
        return [self.data.start + m * 60.0 for m in np.arange(0.0, minutes + 1e-9, step)]

    def _draw_phase_row(self, p: QPainter, y: float) -> None:
        p.setFont(font(6.5, italic=True))
        for span in self.data.phases:
            if span.phase is Phase.ENDED:
                continue
            end = span.end if span.end is not None else self.data.end
            r = QRectF(self.x(span.start), y, self.x(end) - self.x(span.start), PHASE_ROW - 1)
            p.fillRect(r, PHASE_SHADES[span.phase])
            p.setPen(pen(0.4))
            p.drawRect(r)
            name = PHASE_NAMES[span.phase]
            if p.fontMetrics().horizontalAdvance(name) < r.width() - 2:
                p.drawText(r, Qt.AlignmentFlag.AlignCenter, name)
        p.setPen(pen(0.4))
        p.setFont(font(6.0))
        p.drawText(QRectF(self.rect.left(), y, LEFT - 3, PHASE_ROW - 1),
                   Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, "Phase")

    def _draw_events(self, p: QPainter, y: float, panels: list[QRectF]) -> None:
        """Numbered ticks: nearby events share one label (``4-6``); a second row if crowded."""
        p.setFont(font(6.0))
        p.setPen(pen(0.5))
        p.drawText(QRectF(self.rect.left(), y, LEFT - 3, EVENT_ROW - 2),
                   Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, "Events")
        times = self.data.event_times
        xs = [self.x(min(max(t, self.data.start), self.data.end)) for t in times]
        fm = p.fontMetrics()

        def label(i: int, j: int) -> str:
            return str(i + 1) if i == j else f"{i + 1}-{j + 1}"

        groups: list[tuple[int, int]] = []
        i = 0
        while i < len(xs):      # a group takes in every event its label would cover
            j = i
            while j + 1 < len(xs) and xs[j + 1] - xs[i] < fm.horizontalAdvance(
                    label(i, j + 1)) + 2:
                j += 1
            groups.append((i, j))
            i = j + 1
        right = [-math.inf, -math.inf]
        half = (EVENT_ROW - 4) / 2
        for i, j in groups:
            text = label(i, j)
            w = fm.horizontalAdvance(text) + 2
            left = min(max((xs[i] + xs[j]) / 2 - w / 2, self.x0 - 3), self.x1 + RIGHT - w)
            level = 0 if left > right[0] else 1
            right[level] = left + w
            p.drawText(QRectF(left, y + level * half, w, half + 1),
                       Qt.AlignmentFlag.AlignCenter, text)
        p.setPen(pen(0.6))
        for x in xs:
            p.drawLine(QPointF(x, y + EVENT_ROW - 4), QPointF(x, y + EVENT_ROW))
            for r in panels:
                p.drawLine(QPointF(x, r.top()), QPointF(x, r.top() + 4))
