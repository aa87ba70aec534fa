"""Cheap decorations for the review plots (bands, lines, labels Qt transforms itself), y ranges.

pyqtgraph's ``InfiniteLine``, ``LinearRegionItem`` and ``TextItem`` recompute
their geometry in Python at every pan or zoom; on the review view's six
plots a hundred of them cost more than the curves. These items are plain
``QGraphicsRectItem``/``QGraphicsLineItem`` in data coordinates (Qt maps
them in C++) and ``QGraphicsSimpleTextItem`` that ignore the view's
scaling, so their text keeps its size and stays upright.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from PySide6.QtCore import QLineF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPen, QTransform
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsLineItem,
    QGraphicsRectItem,
    QGraphicsSimpleTextItem,
)

from monitor.review.record import SessionRecord
from monitor.ui.live.trend_specs import PlotSpec
from monitor.ui.shared import theme


def band_item(x0: float, x1: float, y_range: tuple[float, float], brush: QBrush,
              z: float) -> QGraphicsRectItem:
    """A filled band from ``x0`` to ``x1`` across the whole y range, with no outline."""
    item = QGraphicsRectItem(QRectF(x0, y_range[0], max(0.0, x1 - x0), y_range[1] - y_range[0]))
    item.setPen(QPen(Qt.PenStyle.NoPen))
    item.setBrush(brush)
    item.setZValue(z)
    return item


def line_item(x0: float, y0: float, x1: float, y1: float, pen: QPen,
              z: float) -> QGraphicsLineItem:
    """A line in data coordinates (a cosmetic ``pen``: its width is in pixels)."""
    item = QGraphicsLineItem(QLineF(x0, y0, x1, y1))
    item.setPen(pen)
    item.setZValue(z)
    return item


def label_item(text: str, x: float, y: float, colour: str, *, right: bool = False,
               above: bool = False, z: float = 20) -> QGraphicsSimpleTextItem:
    """Text whose corner sits at data point (``x``, ``y``), at its own size whatever the zoom.

    By default the text lies right of and below the point; ``right``
    puts it to the left (it ends at the point), ``above`` above it.
    """
    item = QGraphicsSimpleTextItem(text)
    item.setBrush(QColor(colour))
    item.setFont(theme.font(11))
    item.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
    rect = item.boundingRect()
    item.setTransform(QTransform.fromTranslate(-rect.width() - 3 if right else 3,
                                               -rect.height() if above else 0))
    item.setPos(x, y)
    item.setZValue(z)
    return item


def opaque_tint(rgba: tuple[int, int, int, int], background: str) -> QColor:
    """The colour ``rgba`` shows over ``background``, as an opaque colour.

    Opaque fills are much cheaper to paint than translucent ones, and the
    phase bands cover every plot.
    """
    r, g, b, a = rgba
    bg = QColor(background)
    mix = [round(c * a / 255 + base * (255 - a) / 255)
           for c, base in zip((r, g, b), (bg.red(), bg.green(), bg.blue()), strict=True)]
    return QColor(*mix)


def x_extent(item: QGraphicsRectItem | QGraphicsLineItem) -> tuple[float, float]:
    """The x range (minutes) a band or a line covers."""
    if isinstance(item, QGraphicsRectItem):
        r = item.rect()
        return r.left(), r.right()
    line = item.line()
    return line.x1(), line.x2()


def grid_values(lo: float, hi: float, lines: int = 4) -> list[float]:
    """Round values between ``lo`` and ``hi`` for about ``lines`` grid lines (1-2-5 steps)."""
    if not hi > lo:
        return []
    raw = (hi - lo) / lines
    power = 10.0 ** np.floor(np.log10(raw))
    step = next(m * power for m in (1.0, 2.0, 5.0, 10.0) if m * power >= raw)
    first = np.ceil(lo / step) * step
    return [float(v) for v in np.arange(first, hi, step)]


def _bounds(values: np.ndarray) -> tuple[float, float] | None:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return None
    return float(finite.min()), float(finite.max())


def y_range_for(spec: PlotSpec, record: SessionRecord,
                limits: Iterable[float] = ()) -> tuple[float, float]:
    """The plot's default range, widened where the recorded values or the ``limits`` leave it.

    A limit outside the range would be drawn outside the plot: its line and
    its label would not be seen.
    """
    lo, hi = spec.y_range
    spans = []
    for vital in spec.vitals:
        series = record.numerics.get(vital)
        bounds = None if series is None else _bounds(series.v)
        if bounds is not None:
            spans.append(bounds)
    spans += [(v, v) for v in limits if np.isfinite(v)]
    for bounds in spans:
        pad = max(5.0, 0.1 * (bounds[1] - bounds[0]))
        lo = min(lo, bounds[0] - pad) if bounds[0] < lo else lo
        hi = max(hi, bounds[1] + pad) if bounds[1] > hi else hi
    return lo, hi


def pleth_range(v: np.ndarray) -> tuple[float, float]:
    """A fixed y range for the pleth: its 0.1-99.9 % range with a margin (a sample of it)."""
    sample = v[:: max(1, len(v) // 200_000)]
    sample = sample[np.isfinite(sample)]
    if sample.size == 0:
        return 0.0, 1.0
    lo, hi = (float(x) for x in np.percentile(sample, [0.1, 99.9]))
    pad = max(1e-6, 0.08 * (hi - lo))
    return lo - pad, hi + pad


def minute_ticks(values: Iterable[float], spacing: float) -> list[str]:
    """Tick labels of a session-minute axis: ``"36"`` when ticks are whole minutes apart,
    ``"35:54"`` (minutes:seconds) when they are closer, so a zoom to seconds reads as a clock.
    """
    if spacing >= 1.0 - 1e-9:
        return [f"{v:g}" for v in values]
    out = []
    for v in values:
        total = round(v * 60.0)
        sign = "-" if total < 0 else ""
        m, sec = divmod(abs(total), 60)
        out.append(f"{sign}{m}:{sec:02d}")
    return out
