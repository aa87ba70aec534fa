"""Fixed-capacity numpy ring buffers of (time, value) pairs.

The buffer stores every sample twice, at ``i`` and ``i + capacity``, so the
newest ``n`` samples are always one contiguous slice: plotting gets a view,
not a copy, and appending is O(1).
"""

from __future__ import annotations

import numpy as np


class RingBuffer:
    """Times (float64) and values (float32 or float64) with fixed capacity.

    Parameters
    ----------
    capacity : int
        Number of samples kept; the oldest are overwritten.
    dtype : numpy dtype for the values.
    """

    def __init__(self, capacity: int, dtype: type = np.float64) -> None:
        if capacity <= 0:
            raise ValueError("capacity must be positive")
        self.capacity = int(capacity)
        self._t = np.full(2 * self.capacity, np.nan, dtype=np.float64)
        self._v = np.full(2 * self.capacity, np.nan, dtype=dtype)
        self._head = 0  # index of the next write, in [0, capacity)
        self._count = 0
        self.total_written = 0

    def __len__(self) -> int:
        return self._count

    def clear(self) -> None:
        """Forget every sample."""
        self._head = 0
        self._count = 0

    def append(self, t: float, v: float) -> None:
        """Add one sample."""
        h = self._head
        self._t[h] = self._t[h + self.capacity] = t
        self._v[h] = self._v[h + self.capacity] = v
        self._head = (h + 1) % self.capacity
        self._count = min(self._count + 1, self.capacity)
        self.total_written += 1

    def extend(self, t: np.ndarray, v: np.ndarray) -> None:
        """Add many samples (arrays of equal length), oldest first."""
        t = np.asarray(t, dtype=np.float64)
        v = np.asarray(v)
        n = int(t.shape[0])
        if n != v.shape[0]:
            raise ValueError("times and values differ in length")
        if n == 0:
            return
        self.total_written += n
        if n >= self.capacity:
            t, v, n = t[-self.capacity:], v[-self.capacity:], self.capacity
        cap, h = self.capacity, self._head
        first = min(n, cap - h)
        for off, src in ((0, slice(0, first)), (None, slice(first, n))):
            if src.start == src.stop:
                continue
            start = h if off == 0 else 0
            stop = start + (src.stop - src.start)
            self._t[start:stop] = t[src]
            self._t[start + cap:stop + cap] = t[src]
            self._v[start:stop] = v[src]
            self._v[start + cap:stop + cap] = v[src]
        self._head = (h + n) % cap
        self._count = min(self._count + n, cap)

    def view(self) -> tuple[np.ndarray, np.ndarray]:
        """The buffered samples oldest first, as read-only contiguous views."""
        end = self._head + self.capacity
        start = end - self._count
        t = self._t[start:end]
        v = self._v[start:end]
        t.flags.writeable = False
        v.flags.writeable = False
        return t, v

    def last(self) -> tuple[float, float] | None:
        """The newest sample, or ``None`` when empty."""
        if self._count == 0:
            return None
        i = (self._head - 1) % self.capacity
        return float(self._t[i]), float(self._v[i])
