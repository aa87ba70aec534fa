"""Drawing pieces of the report's trend figure: pens, markers, one plot panel, legend, axis.

Black-and-white rules used throughout: series differ by line style and
marker shape (systolic ▲ solid, diastolic ▽ dashed, HR solid, PR dotted
with ○, SpO2 solid); medium limits are short dashes, high limits
dash-dot and heavier; alarm priorities differ by hatching (high: cross
hatch, medium: diagonal, low: sparse opposite diagonal). Greys are only
used for backgrounds (phase bands, grid), never to tell data apart.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QPen, QPolygonF

from monitor.core.alarms.model import Priority
from monitor.core.vitals import SPECS, Vital
from monitor.review.record import AlarmSpan, Series
from monitor.ui.report.limits import LimitStep, nice_range

RESOLUTION = 1200
"""Device dots per inch of the PDF writer (the output is vector; this only sets the grid)."""
SCALE = RESOLUTION / 72.0
"""Device units per point: the painter is scaled by this so all drawing is in points."""

WHITE = QColor(255, 255, 255)
RANGE_FILL = QColor(150, 150, 150)
"""The band behind a dense series: its lowest to highest value in each column."""
SHORT = {Vital.NIBP_SYS: "sys", Vital.NIBP_DIA: "dia", Vital.HR: "HR", Vital.PULSE_RATE: "PR",
         Vital.SPO2: "SpO2", Vital.RESP_RATE: "RR", Vital.ETCO2: "CO2"}
PRIO_LABEL = {Priority.HIGH: "High", Priority.MEDIUM: "Med", Priority.LOW: "Low"}
TECHNICAL_LABEL = "Technical"
"""The name of the technical alarms' lane (its bars hatched by their own priority)."""
HATCH = {Priority.HIGH: ((45, 2.2), (-45, 2.2)), Priority.MEDIUM: ((45, 2.2),),
         Priority.LOW: ((-45, 4.5),)}
"""Hatch lines per priority: (angle in degrees, spacing in pt)."""


def font(points: float, *, bold: bool = False, italic: bool = False) -> QFont:
    """A sans-serif font of ``points`` pt for the scaled report painter."""
    f = QFont()
    f.setStyleHint(QFont.StyleHint.SansSerif)
    f.setPointSizeF(points / SCALE)
    f.setBold(bold)
    f.setItalic(italic)
    return f


def pen(width: float, style: Qt.PenStyle = Qt.PenStyle.SolidLine, grey: int = 0,
        dashes: Sequence[float] | None = None) -> QPen:
    """A flat-capped pen ``width`` pt wide in grey level ``grey`` (0 is black)."""
    p = QPen(QColor(grey, grey, grey), width, style)
    p.setCapStyle(Qt.PenCapStyle.FlatCap)
    p.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    if dashes is not None:
        p.setDashPattern(list(dashes))
    return p


@dataclass(frozen=True)
class Style:
    """How one series is drawn.

    Attributes
    ----------
    label : str
    pen : QPen
    marker : str or None
        ``up``, ``down`` or ``circle``.
    filled : bool
        Filled (black) or open (white inside) marker.
    points : bool
        Sparse determinations: a marker on every value.
    envelope : bool
        Dense series: draw each column's lowest-to-highest range as a grey band
        behind the mean line (peaks survive thinning). PR draws only its
        line, dotted, over HR's band.
    """

    label: str
    pen: QPen
    marker: str | None = None
    filled: bool = True
    points: bool = False
    envelope: bool = True


STYLES = {
    Vital.NIBP_SYS: Style("sys", pen(0.9), "up", True, points=True),
    Vital.NIBP_DIA: Style("dia", pen(0.9, dashes=(4, 2)), "down", False, points=True),
    Vital.HR: Style("HR", pen(0.8)),
    Vital.PULSE_RATE: Style("PR", pen(1.0, dashes=(1, 1.6)), "circle", False, envelope=False),
    Vital.SPO2: Style("SpO2", pen(0.8)),
    Vital.RESP_RATE: Style("RR", pen(0.9, dashes=(3, 1.5)), "down", False, envelope=False),
    Vital.ETCO2: Style("EtCO2", pen(0.8)),
}
LIMIT_PENS = {"medium": pen(0.6, grey=30, dashes=(5, 3)),
              "high": pen(0.9, dashes=(8, 2.5, 1.5, 2.5))}


@dataclass(frozen=True)
class Panel:
    """One plot: title, unit, vitals drawn, and its share of the plots' height."""

    title: str
    unit: str
    vitals: tuple[Vital, ...]
    share: float


PANELS = (Panel("NIBP", "mmHg", (Vital.NIBP_SYS, Vital.NIBP_DIA), 0.44),
          Panel("HR / PR", "/min", (Vital.HR, Vital.PULSE_RATE), 0.33),
          Panel("SpO2", "%", (Vital.SPO2,), 0.23))
"""The panels every report has (a vital not recorded reads "not recorded" in its panel)."""
RESP_PANEL = Panel("RR / EtCO2", "/min, mmHg", (Vital.RESP_RATE, Vital.ETCO2), 0.32)
"""Respiration and capnography, drawn only when the session recorded either (RR dashed ▽,
EtCO2 solid over its range band)."""


def panels_for(numerics: dict[Vital, Series]) -> tuple[Panel, ...]:
    """:data:`PANELS`, and :data:`RESP_PANEL` if RR or EtCO2 has a value."""
    recorded = any(v in numerics and np.isfinite(numerics[v].v).any()
                   for v in RESP_PANEL.vitals)
    return (*PANELS, RESP_PANEL) if recorded else PANELS


def thin(t: np.ndarray, v: np.ndarray, t0: float,
         per_bucket: float) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """Reduce a dense series to one (time, lowest, highest, mean) per ``per_bucket`` seconds.

    Returns one tuple of arrays per unbroken run: a run breaks at a NaN (no
    value) and where consecutive values are more than 30 s apart. The
    lowest and highest keep every peak; the mean is the line drawn.
    """
    if len(t) == 0:
        return []
    missing = ~np.isfinite(v)
    gap = np.zeros(len(t), dtype=bool)
    gap[1:] = (np.diff(t) > 30.0) | missing[:-1]
    run = np.cumsum(gap)
    ok = ~missing
    t, v, run = t[ok], v[ok], run[ok]
    if len(t) == 0:
        return []
    bucket = np.floor((t - t0) / per_bucket).astype(np.int64)
    key = run.astype(np.int64) * (1 << 32) + bucket
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    tb = t0 + (bucket[starts] + 0.5) * per_bucket
    lo = np.minimum.reduceat(v, starts)
    hi = np.maximum.reduceat(v, starts)
    mean = np.add.reduceat(v, starts) / np.diff(np.r_[starts, len(v)])
    cuts = np.flatnonzero(np.diff(run[starts])) + 1
    return list(zip(*(np.split(a, cuts) for a in (tb, lo, hi, mean)), strict=True))


def marker_path(kind: str, x: float, y: float, size: float) -> QPainterPath:
    """A marker centred on (x, y): ``up`` / ``down`` triangle or ``circle``."""
    path = QPainterPath()
    h = size / 2
    if kind == "circle":
        path.addEllipse(QPointF(x, y), h * 0.75, h * 0.75)
        return path
    s = 1 if kind == "up" else -1
    path.addPolygon(QPolygonF([QPointF(x, y - s * h), QPointF(x - h, y + s * h * 0.8),
                               QPointF(x + h, y + s * h * 0.8), QPointF(x, y - s * h)]))
    path.closeSubpath()
    return path


def draw_marker(p: QPainter, style: Style, x: float, y: float, size: float = 4.2) -> None:
    """One marker of ``style`` (solid outline, filled black or white)."""
    p.setPen(pen(0.6))
    p.setBrush(style.pen.color() if style.filled else WHITE)
    p.drawPath(marker_path(style.marker or "circle", x, y, size))
    p.setBrush(Qt.BrushStyle.NoBrush)


def draw_panel(p: QPainter, x_of: Callable[[float], float], panel: Panel, rect: QRectF,
               ticks: list[float], numerics: dict[Vital, Series],
               limits: dict[Vital, list[LimitStep]], t0: float, t1: float) -> None:
    """One plot: frame, grid, limits (labelled at the right end), the series, the title."""
    series = {v: numerics[v] for v in panel.vitals if v in numerics}
    values = [float(x) for s in series.values() for x in (np.nanmin(s.v), np.nanmax(s.v))
              if len(s) and np.isfinite(s.v).any()]
    steps = [s for v in panel.vitals for s in limits.get(v, [])]
    bounds = SPECS[panel.vitals[0]].plausible
    low, high, ystep = nice_range(values + [s.value for s in steps], bounds)

    def y_of(value: float) -> float:
        return rect.bottom() - (value - low) / (high - low) * rect.height()

    p.setPen(pen(0.3, grey=150, dashes=(1, 2)))
    for m in np.arange(math.ceil(low / ystep) * ystep, high + 1e-9, ystep):
        p.drawLine(QPointF(rect.left(), y_of(m)), QPointF(rect.right(), y_of(m)))
        if y_of(m) > rect.bottom() - 3:
            continue        # the bottom label would touch the panel below's top label
        p.setPen(pen(0.5))
        p.setFont(font(6.0))
        p.drawText(QRectF(rect.left() - 30, y_of(m) - 4, 27, 8),
                   Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, f"{m:g}")
        p.setPen(pen(0.3, grey=150, dashes=(1, 2)))
    for t in ticks:
        p.drawLine(QPointF(x_of(t), rect.top()), QPointF(x_of(t), rect.bottom()))

    p.save()
    p.setClipRect(rect.adjusted(-3, -3, 3, 3))
    labels: list[tuple[float, str, str]] = []
    for vital in panel.vitals:
        mine = limits.get(vital, [])
        for s in mine:
            p.setPen(LIMIT_PENS[s.priority])
            p.drawLine(QPointF(x_of(s.t0), y_of(s.value)), QPointF(x_of(s.t1), y_of(s.value)))
        for s in mine:
            if s.t1 >= t1 - 1e-6:
                labels.append((y_of(s.value), f"{SHORT.get(vital, '')} {s.value:g} "
                               f"{'H' if s.priority == 'high' else 'M'}", s.priority))
    for vital, s in series.items():
        _draw_series(p, x_of, y_of, STYLES[vital], s, t0, t1, rect.width())
    p.restore()
    _draw_limit_labels(p, labels, rect)
    p.setPen(pen(0.6))
    p.drawRect(rect)
    p.setFont(font(6.5, bold=True))
    # the title runs up the left margin, where it can never hide a value
    p.save()
    p.translate(rect.left() - 36, rect.center().y())
    p.rotate(-90)
    p.drawText(QRectF(-rect.height() / 2, -5, rect.height(), 10), Qt.AlignmentFlag.AlignCenter,
               f"{panel.title} ({panel.unit})")
    p.restore()
    if not series:
        p.setFont(font(7.0, italic=True))
        p.drawText(rect, Qt.AlignmentFlag.AlignCenter, "not recorded")


def _draw_series(p: QPainter, x_of: Callable[[float], float], y_of: Callable[[float], float],
                 style: Style, s: Series, t0: float, t1: float, width: float) -> None:
    p.setPen(style.pen)
    if style.points:
        t, v = s.valid()
        line = QPolygonF([QPointF(x_of(a), y_of(b)) for a, b in zip(t, v, strict=True)])
        p.drawPolyline(line)
        for a, b in zip(t, v, strict=True):
            draw_marker(p, style, x_of(a), y_of(b))
            if s.manual[np.searchsorted(s.t, a)]:
                p.setPen(pen(0.5))
                p.drawEllipse(QPointF(x_of(a), y_of(b)), 3.6, 3.6)
        return
    per_bucket = (t1 - t0) / max(width / (1.0 if style.envelope else 1.5), 1.0)
    runs = thin(s.t, s.v, t0, per_bucket)
    if style.envelope:
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(RANGE_FILL)
        for tb, lo, hi, _ in runs:
            upper = [QPointF(x_of(a), y_of(b)) for a, b in zip(tb, hi, strict=True)]
            lower = [QPointF(x_of(a), y_of(b)) for a, b in zip(tb[::-1], lo[::-1], strict=True)]
            p.drawPolygon(QPolygonF(upper + lower))
        p.setBrush(Qt.BrushStyle.NoBrush)
    p.setPen(style.pen)
    for tb, _, _, mean in runs:
        p.drawPolyline(QPolygonF([QPointF(x_of(a), y_of(b)) for a, b in zip(tb, mean,
                                                                              strict=True)]))
    if style.marker is not None:
        every = (t1 - t0) / max(width / 40.0, 1.0)
        for tb, _, _, mean in thin(s.t, s.v, t0, every):
            for a, b in list(zip(tb, mean, strict=True))[1:-1:2] or [(tb[0], mean[0])]:
                draw_marker(p, style, x_of(a), y_of(b), 3.6)


def _draw_limit_labels(p: QPainter, labels: list[tuple[float, str, str]], rect: QRectF) -> None:
    """Limit values at the right end of their lines, pushed apart so none overlap."""
    p.setFont(font(6.0))
    h = p.fontMetrics().height()
    labels.sort()
    ys = [y for y, _, _ in labels]
    for i in range(1, len(ys)):
        ys[i] = max(ys[i], ys[i - 1] + h)
    overflow = (ys[-1] + h / 2 - rect.bottom()) if ys else 0
    if overflow > 0:
        ys = [y - overflow for y in ys]
        for i in range(len(ys) - 2, -1, -1):
            ys[i] = min(ys[i], ys[i + 1] - h)
    for y, (_, text, prio) in zip(ys, labels, strict=True):
        p.setPen(pen(0.5))
        p.setFont(font(6.0, bold=prio == "high"))
        p.drawText(QRectF(rect.right() + 3, y - h / 2, 44, h),
                   Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text)


def hatch(p: QPainter, r: QRectF, prio: Priority) -> None:
    """Fill ``r`` with white and the priority's hatch lines, framed."""
    p.fillRect(r, WHITE)
    p.save()
    p.setClipRect(r)
    p.setPen(pen(0.45))
    for angle, spacing in HATCH[prio]:
        slope = math.tan(math.radians(angle))
        span = r.height() * abs(slope)
        x = r.left() - span
        while x < r.right() + span:
            if slope > 0:
                p.drawLine(QPointF(x, r.bottom()), QPointF(x + span, r.top()))
            else:
                p.drawLine(QPointF(x, r.top()), QPointF(x + span, r.bottom()))
            x += spacing
    p.restore()
    p.setPen(pen(0.5))
    p.drawRect(r)


@dataclass(frozen=True)
class AlarmLane:
    """One row of alarm bars under the plots.

    Attributes
    ----------
    priority : Priority or None
        The priority of every bar of a physiological lane; None for a lane of
        technical alarms (each bar hatched by its own priority).
    spans : list of AlarmSpan
        The bars: one priority episode each.
    """

    priority: Priority | None
    spans: list[AlarmSpan]

    @property
    def technical(self) -> bool:
        """A lane of technical alarms."""
        return self.priority is None

    @property
    def label(self) -> str:
        """The lane's name at the right of the figure."""
        return TECHNICAL_LABEL if self.priority is None else PRIO_LABEL[self.priority]


def alarm_name(span: AlarmSpan) -> str:
    """``NIBP sys high`` for ``nibp_sys.high``; the id's words for technical alarms."""
    head, _, tail = span.alarm_id.partition(".")
    if span.vital is not None:
        return f"{SPECS[span.vital].label} {tail.replace('_', ' ')}".strip()
    return f"{head} {tail}".replace("_", " ").strip()


def bar_label(span: AlarmSpan) -> str:
    """A bar's name with the episode's peak value: ``NIBP sys high 193``."""
    name = alarm_name(span)
    if span.peak is None or span.vital is None:
        return name
    return f"{name} {span.peak:.{SPECS[span.vital].decimals}f}"


def draw_alarm_lanes(p: QPainter, x_of: Callable[[float], float], rect: QRectF,
                     lanes: list[AlarmLane], t1: float, lane_h: float) -> None:
    """The alarm episodes as hatched bars, one lane per overlap, high priority on top.

    Each bar is labelled with its alarm and peak value where it fits (the
    name alone where only that fits); technical lanes come last.
    """
    p.setPen(pen(0.5))
    p.setFont(font(6.0))
    p.drawText(QRectF(rect.left() - 30, rect.top(), 27, lane_h),
               Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, "Alarms")
    if not lanes:
        p.setPen(pen(0.4, dashes=(1, 2)))
        p.drawRect(rect)
        p.setFont(font(6.0, italic=True))
        p.drawText(rect, Qt.AlignmentFlag.AlignCenter, "no alarms")
        return
    shown: set[Priority | None] = set()
    for i, lane in enumerate(lanes):
        y = rect.top() + i * lane_h
        if lane.priority not in shown:
            shown.add(lane.priority)
            p.setPen(pen(0.5))
            p.setFont(font(6.0, bold=lane.priority is Priority.HIGH))
            p.drawText(QRectF(rect.right() + 3, y, 44, lane_h),
                       Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, lane.label)
        for s in lane.spans:
            x0 = x_of(s.start)
            x1 = max(x_of(s.end if s.end is not None else t1), x0 + 1.0)
            r = QRectF(x0, y + 0.8, x1 - x0, lane_h - 1.6)
            hatch(p, r, s.priority)
            p.setFont(font(5.5))
            name = bar_label(s)
            w = p.fontMetrics().horizontalAdvance(name) + 3
            if w >= r.width() - 4:
                name = alarm_name(s)
                w = p.fontMetrics().horizontalAdvance(name) + 3
            if w < r.width() - 4:
                box = QRectF(r.left() + 2, r.top() + 0.6, w, r.height() - 1.2)
                p.fillRect(box, WHITE)
                p.setPen(pen(0.5))
                p.drawText(box, Qt.AlignmentFlag.AlignCenter, name)
