"""Hollow markers on the trend plots for the values the nurse typed in."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from monitor.core.vitals import Vital
from monitor.ui.live.model import LiveModel
from monitor.ui.shared import theme

MANUAL_SYMBOL = "s"
"""A hollow square: unlike the filled NIBP dots and the plain lines."""
MANUAL_SYMBOL_SIZE = 12
"""Pixels; the NIBP dots are 6 px, so a manual NIBP shows as a dot in a square."""
MANUAL_Z = 50
"""Above the curves (their z values are 1-3), so a marker is never hidden."""
MANUAL_LEGEND_TEXT = "\u25a1 manual"
MANUAL_LEGEND_TIP = "Hollow squares: values typed in by the nurse (manual entry)"


class ManualMarkers:
    """A scatter item per trend plot marking the model's manual readings.

    The markers are redrawn only when the model's
    :attr:`LiveModel.manual_version`, the time origin or the set of plots
    changed, and then only on the plots whose points moved. A small legend
    ("□ manual") sits in the bottom-left corner of the first plot while at
    least one marker is drawn.

    Parameters
    ----------
    model : LiveModel

    Attributes
    ----------
    items : dict[str, pyqtgraph.ScatterPlotItem]
        By plot key.
    legend : pyqtgraph.LabelItem or None
        The legend, once the first plot exists.
    setdata_calls : int
        How many ``setData`` calls were made on the marker items.
    """

    def __init__(self, model: LiveModel) -> None:
        self._model = model
        self.items: dict[str, pg.ScatterPlotItem] = {}
        self.legend: pg.LabelItem | None = None
        self.setdata_calls = 0
        self._vitals: dict[str, tuple[Vital, ...]] = {}
        self._drawn: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._state: tuple[int, float, int] | None = None

    def add_plot(self, key: str, plot: pg.PlotItem, vitals: tuple[Vital, ...]) -> None:
        """Give ``plot`` (showing ``vitals``) its marker item; drawn on the next :meth:`update`."""
        item = pg.ScatterPlotItem(symbol=MANUAL_SYMBOL, size=MANUAL_SYMBOL_SIZE,
                                  pen=pg.mkPen(theme.MANUAL, width=2), brush=None,
                                  pxMode=True, hoverable=False)
        item.setZValue(MANUAL_Z)
        item.setToolTip(MANUAL_LEGEND_TIP)
        plot.addItem(item, ignoreBounds=True)
        self.items[key] = item
        self._vitals[key] = vitals
        self._drawn[key] = (np.empty(0), np.empty(0))
        if self.legend is None:
            self.legend = pg.LabelItem(MANUAL_LEGEND_TEXT, color=theme.MANUAL, size="8pt")
            self.legend.setParentItem(plot.getViewBox())
            self.legend.anchor(itemPos=(0, 1), parentPos=(0, 1), offset=(4, -2))
            self.legend.setToolTip(MANUAL_LEGEND_TIP)
            self.legend.setVisible(False)
        self._state = None

    def update(self, origin: float) -> int:
        """Redraw the markers that changed, in session minutes from ``origin``.

        Returns the number of items redrawn (0 when nothing changed, cheaply).
        """
        state = (self._model.manual_version, origin, len(self.items))
        if state == self._state:
            return 0
        self._state = state
        redrawn = 0
        for key, item in self.items.items():
            x, y = self._points(key, origin)
            old_x, old_y = self._drawn[key]
            if np.array_equal(x, old_x) and np.array_equal(y, old_y):
                continue
            item.setData(x=x, y=y)
            self._drawn[key] = (x, y)
            self.setdata_calls += 1
            redrawn += 1
        if self.legend is not None:
            self.legend.setVisible(any(x.size for x, _ in self._drawn.values()))
        return redrawn

    def _points(self, key: str, origin: float) -> tuple[np.ndarray, np.ndarray]:
        ts, vs = zip(*(self._model.manual_points(v) for v in self._vitals[key]), strict=True)
        return (np.concatenate(ts) - origin) / 60.0, np.concatenate(vs)
