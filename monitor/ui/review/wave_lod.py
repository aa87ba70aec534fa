"""Levels of detail of a long waveform: what to draw of it at any zoom (no Qt).

A 4-hour pleth at 100 Hz is 1.4 million samples; a plot shows a thousand
or so pixels of it. :class:`MinMaxPyramid` keeps the lowest and highest
sample of each block of 4, 16, 64... samples, computed once, so drawing
the whole session takes a few thousand points picked from a small level
instead of a pass over every sample at every pan. A block holding a gap
(NaN) is NaN: gaps stay visible at every zoom.
"""

from __future__ import annotations

import numpy as np

FACTOR = 4
"""Each level's blocks are this many blocks of the level below."""
MIN_LEVEL_POINTS = 1000
"""No level coarser than this many blocks is kept."""


class MinMaxPyramid:
    """Min/max summaries of ``(x, y)`` (``x`` increasing) at block sizes FACTOR**k.

    Parameters
    ----------
    x, y : ndarray
        The samples (NaN in ``y`` is a gap).

    Attributes
    ----------
    blocks : list of int
        The block size of each level, level 0 being the samples themselves.
    """

    def __init__(self, x: np.ndarray, y: np.ndarray) -> None:
        self._x = np.asarray(x, dtype=np.float64)
        self._y = np.asarray(y)
        self._levels: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.blocks = [1]
        xs, lo, hi = self._x, self._y, self._y
        while len(xs) // FACTOR >= MIN_LEVEL_POINTS:
            starts = np.arange(0, len(xs), FACTOR)
            xs = xs[starts]
            lo = np.minimum.reduceat(lo, starts)
            hi = np.maximum.reduceat(hi, starts)
            self._levels.append((xs, lo, hi))
            self.blocks.append(self.blocks[-1] * FACTOR)

    def __len__(self) -> int:
        return len(self._x)

    def level_for(self, x0: float, x1: float, pixels: float) -> int:
        """The coarsest level giving at least one block per pixel from ``x0`` to ``x1``."""
        i0 = np.searchsorted(self._x, x0)
        i1 = np.searchsorted(self._x, x1, side="right")
        per_pixel = (i1 - i0) / max(1.0, pixels)
        level = 0
        for k, block in enumerate(self.blocks):
            if block <= per_pixel:
                level = k
        return level

    def view(self, x0: float, x1: float, pixels: float) -> tuple[np.ndarray, np.ndarray, int]:
        """What to draw between ``x0`` and ``x1`` across ``pixels``: x, y and the level used.

        At level 0 the samples themselves; above, each block as two points
        (its lowest then highest value) at the block's start. One point
        beyond each end is included, so the line reaches the edges.
        """
        level = self.level_for(x0, x1, pixels)
        if level == 0:
            xs, ys = self._x, self._y
        else:
            xs, lo, hi = self._levels[level - 1]
        i0 = max(0, int(np.searchsorted(xs, x0)) - 1)
        i1 = min(len(xs), int(np.searchsorted(xs, x1, side="right")) + 1)
        if level == 0:
            return xs[i0:i1], ys[i0:i1], 0
        x = np.repeat(xs[i0:i1], 2)
        y = np.column_stack((lo[i0:i1], hi[i0:i1])).ravel()
        return x, y, level
