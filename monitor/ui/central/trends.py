"""A chair's trends at the central: its session so far, from the messages received."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QDialog, QLabel, QVBoxLayout, QWidget

from monitor.central.station import ChairView
from monitor.ui.shared import theme

SERIES = (("hr", "HR", theme.HR_GREEN), ("pulse_rate", "PR", theme.HR_GREEN),
          ("spo2", "SpO2", theme.SPO2_CYAN), ("resp_rate", "RR", "#b388ff"),
          ("etco2", "EtCO2", "#ffc400"))


def trend_arrays(chair: ChairView, key: str) -> tuple[np.ndarray, np.ndarray]:
    """Minutes from the first numerics received, and the values of ``key`` (NaN: none)."""
    if not chair.trend:
        return np.empty(0), np.empty(0)
    t0 = chair.trend[0][0]
    t = np.array([(t - t0) / 60.0 for t, _ in chair.trend])
    v = np.array([vals.get(key, np.nan) for _, vals in chair.trend], dtype=float)
    return t, v


class ChairTrendDialog(QDialog):
    """HR, SpO2, RR/EtCO2 and NIBP of one chair since the central first heard from it.

    A copy of the chair's data is taken when it opens (the listener's model
    goes on changing on its own thread); "from the messages received" is said
    in the title: a gap is a time the central heard nothing.
    """

    def __init__(self, chair: ChairView, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"{chair.name or chair.chair}: trends from the messages received")
        self.setStyleSheet(f"background: {theme.BACKGROUND}; color: {theme.TEXT};")
        layout = QVBoxLayout(self)
        note = QLabel("From the central's messages only; the chair's own recording is "
                      "complete. A gap: nothing was received.")
        note.setStyleSheet(f"color: {theme.TEXT_DIM};")
        layout.addWidget(note)
        self.plots: dict[str, pg.PlotItem] = {}
        widget = pg.GraphicsLayoutWidget()
        widget.setBackground(theme.BACKGROUND)
        layout.addWidget(widget, 1)
        self.curves: dict[str, pg.PlotDataItem] = {}
        rows = (("hr", ("hr", "pulse_rate"), "HR / PR (/min)"), ("spo2", ("spo2",), "SpO2 (%)"),
                ("resp", ("resp_rate", "etco2"), "RR (/min) / EtCO2 (mmHg)"))
        colours = {k: c for k, _, c in SERIES}
        for row, (name, keys, title) in enumerate(rows):
            plot = widget.addPlot(row=row, col=0, title=title)
            self.plots[name] = plot
            for key in keys:
                t, v = trend_arrays(chair, key)
                self.curves[key] = plot.plot(t, v, pen=pg.mkPen(colours[key], width=2),
                                             connect="finite")
        nibp = widget.addPlot(row=len(rows), col=0, title="NIBP (mmHg)")
        self.plots["nibp"] = nibp
        t0 = chair.trend[0][0] if chair.trend else None
        points = [(float(n["t"]), n.get("sys"), n.get("dia")) for n in chair.nibp_history
                  if isinstance(n.get("t"), (int, float))]
        if points and t0 is not None:
            x = np.array([(t - t0) / 60.0 for t, _, _ in points])
            for i, colour in ((1, theme.NIBP_WHITE), (2, "#9e9e9e")):
                y = np.array([p[i] if isinstance(p[i], (int, float)) else np.nan
                              for p in points], dtype=float)
                self.curves["nibp_sys" if i == 1 else "nibp_dia"] = nibp.plot(
                    x, y, pen=None, symbol="o", symbolBrush=colour, symbolSize=8)
        for plot in self.plots.values():
            plot.setLabel("bottom", "minutes since first heard")
            plot.showGrid(x=True, y=True, alpha=0.2)
        self.resize(900, 700)


__all__ = ["ChairTrendDialog", "trend_arrays"]
