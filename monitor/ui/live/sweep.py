"""The pleth sweep buffer: a fixed window written left to right (no Qt)."""

from __future__ import annotations

import numpy as np

from monitor.core.reading import WaveChunk


class SweepBuffer:
    """Samples laid out like a classic monitor sweep.

    Sample positions come from the sample count, so the write cursor moves
    left to right and wraps; a few samples ahead of the cursor are erased
    (NaN) so the nurse sees where the trace is being written. Missing time
    between chunks becomes NaN, never a joined line.

    Parameters
    ----------
    window_s : float
        Width of the sweep in seconds.
    gap_s : float
        Width of the erased gap ahead of the cursor.

    Attributes
    ----------
    x : numpy.ndarray
        Seconds from the left edge for each position.
    y : numpy.ndarray
        Sample values; NaN where nothing is drawn.
    cursor : int or None
        Position of the newest sample.
    version : int
        Increases on every change.
    last_t : float or None
        Time just after the newest sample.
    """

    def __init__(self, window_s: float = 10.0, gap_s: float = 0.3) -> None:
        if window_s <= 0 or gap_s < 0:
            raise ValueError("window_s must be positive and gap_s not negative")
        self.window_s = window_s
        self.gap_s = gap_s
        self.rate: float | None = None
        self.x = np.zeros(0)
        self.y = np.zeros(0)
        self.cursor: int | None = None
        self.version = 0
        self.last_t: float | None = None
        self._last_k: int | None = None
        self._blank = True

    def _reset(self, rate: float) -> None:
        n = max(2, round(self.window_s * rate))
        self.rate = rate
        self.x = np.arange(n, dtype=np.float64) / rate
        self.y = np.full(n, np.nan, dtype=np.float64)
        self.cursor = None
        self._last_k = None

    def _erase(self, start_k: int, count: int) -> None:
        n = self.y.shape[0]
        count = min(count, n)
        if count > 0:
            self.y[(start_k + np.arange(count)) % n] = np.nan

    def add(self, chunk: WaveChunk) -> None:
        """Write a chunk of samples at the cursor."""
        if len(chunk) == 0:
            return
        if self.rate is None or abs(chunk.rate - self.rate) > 1e-9 * chunk.rate:
            self._reset(chunk.rate)
        rate = chunk.rate
        samples = np.asarray(chunk.samples, dtype=np.float64)
        k0 = round(chunk.t0 * rate)
        if self._last_k is not None:
            expected = self._last_k + 1
            tolerance = max(2, round(0.25 * rate))  # host-time jitter between chunks
            if abs(k0 - expected) <= tolerance:
                k0 = expected
            elif k0 > expected:
                self._erase(expected, k0 - expected)
            else:  # older than what is drawn: keep only the new part
                skip = expected - k0
                if skip >= samples.shape[0]:
                    return
                samples = samples[skip:]
                k0 = expected
        n = self.y.shape[0]
        if samples.shape[0] > n:
            k0 += samples.shape[0] - n
            samples = samples[-n:]
        ks = k0 + np.arange(samples.shape[0])
        self.y[ks % n] = samples
        self._last_k = int(ks[-1])
        self.cursor = self._last_k % n
        self._erase(self._last_k + 1, round(self.gap_s * rate))
        self.last_t = chunk.t0 + len(chunk) / rate
        self._blank = False
        self.version += 1

    def blank_if_stale(self, now: float, stale_after_s: float) -> bool:
        """Clear the trace when no samples came for ``stale_after_s``; returns whether it did."""
        if self._blank or self.last_t is None or now - self.last_t <= stale_after_s:
            return False
        self.y[:] = np.nan
        self._blank = True
        self.version += 1
        return True
