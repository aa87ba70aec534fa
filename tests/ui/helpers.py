"""Message builders and rendering probes shared by the live-view tests."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QWidget

from monitor.core.events import PhaseChanged, SessionStarted
from monitor.core.reading import Reading, WaveChunk, make_reading
from monitor.core.session import Phase, PhaseSpan
from monitor.core.vitals import Vital

T0 = 1_750_000_000.0
"""Session start used by every test (Unix seconds)."""


def session_started(t: float = T0, *, simulated: bool = True, resumed: bool = False,
                    gap_s: float | None = None) -> SessionStarted:
    return SessionStarted(1, t, "sim", simulated, (PhaseSpan(Phase.BASELINE, t),),
                          resumed=resumed, gap_s=gap_s)


def phase(p: Phase, t: float) -> PhaseChanged:
    return PhaseChanged(p, t)


def reading(vital: Vital, value: float, t: float) -> Reading:
    return make_reading(vital, value, t)


def nibp(sys: float, dia: float, mean: float, t: float) -> list[Reading]:
    """One NIBP determination: three readings with the same time."""
    return [make_reading(Vital.NIBP_SYS, sys, t), make_reading(Vital.NIBP_DIA, dia, t),
            make_reading(Vital.NIBP_MEAN, mean, t)]


def pleth_chunk(t0: float, n: int = 25, rate: float = 100.0,
                nan_at: slice | None = None) -> WaveChunk:
    samples = np.sin(2 * np.pi * 1.2 * (t0 + np.arange(n) / rate)).astype(np.float32)
    if nan_at is not None:
        samples[nan_at] = np.nan
    return WaveChunk(Vital.PLETH, t0, rate, samples)


def rendered(widget: QWidget) -> QImage:
    """What is on screen where ``widget`` is (drawn with its parent's background)."""
    parent = widget.parentWidget()
    if parent is None:
        return widget.grab().toImage()
    return parent.grab(widget.geometry()).toImage()


def brightest(image: QImage) -> QColor:
    """The pixel with the largest R+G+B (text drawn on a dark tile)."""
    best, best_sum = QColor(0, 0, 0), -1
    for y in range(0, image.height(), 2):
        for x in range(0, image.width(), 2):
            c = image.pixelColor(x, y)
            s = c.red() + c.green() + c.blue()
            if s > best_sum:
                best, best_sum = c, s
    return best
