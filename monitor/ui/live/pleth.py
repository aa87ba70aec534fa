"""The pleth sweep: the last ten seconds of the pulse-oximeter wave."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout, QWidget

from monitor.ui.live.sweep import SweepBuffer
from monitor.ui.shared import theme


class SweepCurveItem(pg.PlotCurveItem):
    """The sweep's curve, bounded by the panel instead of by its data.

    The trace always lies within the panel's x range and the y range the
    widget keeps around it, so its bounds need not be measured (NaN-aware
    min and max and pixel padding) again for every chunk, which cost about
    a third of a redraw.
    """

    def set_panel(self, rect: QRectF) -> None:
        """The area the trace stays within (in data coordinates)."""
        self.prepareGeometryChange()
        self._panel = QRectF(rect)

    def boundingRect(self) -> QRectF:  # Qt override
        panel = getattr(self, "_panel", None)
        if panel is None:
            return super().boundingRect()
        return QRectF(panel) if self.xData is not None and len(self.xData) else QRectF()


class PlethSweepWidget(QFrame):
    """A classic monitor sweep of the pleth wave.

    The trace is written left to right and wraps, with a small erased gap
    ahead of the write cursor; NaN samples and missing time are gaps. A
    1-px pen without antialiasing keeps redraws cheap. When no samples came
    for ``stale_after_s`` the trace is cleared rather than frozen.

    Parameters
    ----------
    sweep : SweepBuffer
        The buffer the model writes into.
    stale_after_s : float
    parent : QWidget or None

    Attributes
    ----------
    plot_widget : pyqtgraph.PlotWidget
    curve : SweepCurveItem

    Signals
    -------
    None of its own.
    """

    def __init__(self, sweep: SweepBuffer, stale_after_s: float,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("tile")
        self._sweep = sweep
        self._stale_after_s = stale_after_s
        self._drawn_version = -1
        caption = QLabel("Pleth")
        caption.setObjectName("tile_caption")
        caption.setStyleSheet(f"color: {theme.SPO2_CYAN};")
        caption.setFont(theme.font(16, bold=True))
        self.plot_widget = pg.PlotWidget(background=theme.PANEL)
        self.plot_widget.setMinimumHeight(36)   # the layout decides; the wave needs little
        item = self.plot_widget.getPlotItem()
        item.setMouseEnabled(x=False, y=False)
        item.setMenuEnabled(False)
        item.hideButtons()
        item.hideAxis("left")
        item.hideAxis("bottom")
        item.setXRange(0.0, sweep.window_s, padding=0)
        item.disableAutoRange()
        self._y_range: tuple[float, float] | None = None
        # A bare curve item: the sweep needs no downsampling or dataset
        # bookkeeping, and a y range kept with hysteresis (below) instead of
        # auto-range saves a range computation and a rescale on every update.
        self.curve = SweepCurveItem(pen=pg.mkPen(theme.SPO2_CYAN, width=1), antialias=False,
                                      connect="finite", skipFiniteCheck=False)
        item.addItem(self.curve)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 4)
        layout.setSpacing(0)
        layout.addWidget(caption)
        layout.addWidget(self.plot_widget, 1)

    def refresh(self, now: float, ended: bool = False) -> bool:
        """Redraw the trace if it changed (or went stale); returns whether it did.

        ``ended``: the session has ended, so the trace is cleared (at
        ``--speed max`` the clock stops with the source and it would never go stale).
        """
        self._sweep.blank_if_stale(math.inf if ended else now, self._stale_after_s)
        if self._sweep.version == self._drawn_version:
            return False
        self._drawn_version = self._sweep.version
        x = self._sweep.x
        y = np.array(self._sweep.y)  # copy: the sweep buffer is written in place
        finite = y[np.isfinite(y)]
        if finite.size:
            self.curve.setData(x, y, connect="finite")
            self._update_y_range(float(finite.min()), float(finite.max()))
        else:
            self.curve.setData([], [])
        return True

    def _update_y_range(self, lo: float, hi: float) -> None:
        """Widen at once to fit the trace; narrow only when it fills under half the range."""
        span = max(hi - lo, 1e-6)
        current = self._y_range
        if current is not None:
            c_lo, c_hi = current
            fits = c_lo <= lo and hi <= c_hi
            if fits and span >= 0.5 * (c_hi - c_lo):
                return
        pad = 0.1 * span
        self._y_range = (lo - pad, hi + pad)
        self.plot_widget.getPlotItem().setYRange(*self._y_range, padding=0)
        width, height = self._sweep.window_s, self._y_range[1] - self._y_range[0]
        # With a margin: the pen's pixel and the panel's edges are clipped anyway.
        self.curve.set_panel(QRectF(-0.05 * width, self._y_range[0] - 0.5 * height,
                                    1.1 * width, 2.0 * height))
