"""A synthetic photoplethysmogram, generated in vectorised runs of samples.

Each beat has a fast upstroke, a slower fall with a dicrotic notch and a
smaller reflected wave. The beat phase accumulates continuously from the
instantaneous heart rate, so a change of rate never makes the trace jump.
Breathing modulates the amplitude and the baseline; a slow wander and a
little sensor noise complete it.
"""

from __future__ import annotations

import logging

import numpy as np

log = logging.getLogger(__name__)

RATE_HZ = 100
"""Pleth samples per second."""

_TABLE_SIZE = 1024
_TWO_PI = 2.0 * np.pi


def _skewed_bump(phase: np.ndarray, centre: float, rise: float, fall: float) -> np.ndarray:
    """A bump with width ``rise`` before ``centre`` and ``fall`` after it."""
    width = np.where(phase < centre, rise, fall)
    return np.exp(-0.5 * ((phase - centre) / width) ** 2)


def _beat_table() -> tuple[np.ndarray, np.ndarray]:
    """One beat's shape over phase ``[0, 1)``, scaled to ``[-0.9, 0.9]``."""
    grid = np.arange(_TABLE_SIZE) / _TABLE_SIZE
    shape = np.zeros_like(grid)
    for wrap in (-1.0, 0.0, 1.0):   # periodic: tails spill into the neighbouring beats
        p = grid + wrap
        shape += _skewed_bump(p, 0.14, 0.045, 0.10)          # systolic upstroke and peak
        shape += 0.42 * _skewed_bump(p, 0.42, 0.06, 0.09)    # reflected (dicrotic) wave
    shape = (shape - shape.min()) / (shape.max() - shape.min())
    return grid, 1.8 * shape - 0.9


class PlethSynth:
    """Generates consecutive runs of pleth samples.

    Parameters
    ----------
    rng : numpy.random.Generator
        Used for the wander phases at creation and for sample noise, one
        draw per sample.
    """

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng = rng
        self._grid, self._table = _beat_table()
        self._beat_phase = float(rng.random())
        self._breath_phase = float(rng.random())
        self._wander = rng.random(2) * _TWO_PI

    def samples(self, first: int, count: int, seconds: np.ndarray, hr: np.ndarray,
                resp_rate: np.ndarray) -> np.ndarray:
        """Samples ``first`` to ``first + count - 1``; must follow the previous call's.

        Parameters
        ----------
        first, count : int
            Sample ``i`` is at ``i / RATE_HZ`` seconds from session start.
        seconds, hr, resp_rate : numpy.ndarray
            Heart and breathing rates (per minute) at whole seconds spanning
            the samples; the instantaneous rates are interpolated linearly.

        Returns
        -------
        numpy.ndarray
            ``count`` float64 samples, roughly within ``[-1, 1]``.
        """
        t = (first + np.arange(count)) / RATE_HZ
        beat_step = np.interp(t, seconds, hr) / (60.0 * RATE_HZ)
        breath_step = np.interp(t, seconds, resp_rate) / (60.0 * RATE_HZ)
        beat = self._beat_phase + np.cumsum(beat_step) - beat_step
        breath = self._breath_phase + np.cumsum(breath_step) - breath_step
        self._beat_phase = float(beat[-1] + beat_step[-1]) % 1.0
        self._breath_phase = float(breath[-1] + breath_step[-1]) % 1.0
        breathing = np.sin(_TWO_PI * breath)
        wave = np.interp(beat % 1.0, self._grid, self._table, period=1.0)
        wave *= 1.0 + 0.08 * breathing
        wave += 0.05 * breathing
        wave += 0.04 * np.sin(_TWO_PI * t / 31.0 + self._wander[0])
        wave += 0.03 * np.sin(_TWO_PI * t / 73.0 + self._wander[1])
        wave += 0.008 * self._rng.standard_normal(count)
        return wave
