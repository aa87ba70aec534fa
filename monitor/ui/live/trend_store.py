"""Whole-session trend data per vital in numpy ring buffers (no Qt).

The trends widget reads these series and redraws a curve only when the
series' :attr:`TrendSeries.version` moved since the last draw.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from monitor.core.reading import Reading
from monitor.core.ringbuffer import RingBuffer
from monitor.core.vitals import SPECS, SUPPLEMENTARY_VITALS, Kind, Vital

CONTINUOUS_CAPACITY = 24 * 3600 + 3600
"""Samples kept per continuous vital: a little over 24 h at 1 Hz."""

DISCRETE_CAPACITY = 8192
"""Determinations kept per discrete vital (NIBP): weeks at one per 5 min."""

_LAZY = frozenset(SUPPLEMENTARY_VITALS)
"""Vitals a device sends as "no value" on every record when it lacks the module
(invasive pressures, gases...): they get a buffer only once a value arrives."""


class TrendSeries:
    """One vital's (time, value) history; NaN values are gaps.

    Attributes
    ----------
    buffer : RingBuffer
    version : int
        Increases on every change, so a view can tell whether to redraw.
    """

    def __init__(self, capacity: int) -> None:
        self.buffer = RingBuffer(capacity, dtype=np.float64)
        self.version = 0
        self._last_nan_t: float | None = None

    def __len__(self) -> int:
        return len(self.buffer)

    def append(self, t: float, value: float) -> None:
        """Add one sample, keeping the times in increasing order."""
        last = self.buffer.last()
        if last is not None and t < last[0]:
            self.merge([t], [value])
            return
        self.buffer.append(t, value)
        if math.isnan(value):
            self._last_nan_t = t
        self.version += 1

    def merge(self, times: Iterable[float], values: Iterable[float]) -> None:
        """Merge samples that may be older than the buffered ones (history)."""
        new_t = np.fromiter(times, dtype=np.float64)
        new_v = np.fromiter(values, dtype=np.float64)
        if new_t.size == 0:
            return
        old_t, old_v = self.buffer.view()
        t = np.concatenate([old_t, new_t])
        v = np.concatenate([old_v, new_v])
        order = np.argsort(t, kind="stable")
        t, v = t[order], v[order]
        self.buffer.clear()
        self.buffer.extend(t, v)
        kept_t, kept_v = self.buffer.view()
        nan_t = kept_t[np.isnan(kept_v)]
        self._last_nan_t = float(nan_t[-1]) if nan_t.size else None
        self.version += 1

    def all_finite(self) -> bool:
        """Whether no buffered value is NaN (cheap: tracks the newest NaN)."""
        if self._last_nan_t is None or len(self.buffer) == 0:
            return True
        oldest_t = float(self.buffer.view()[0][0])
        return self._last_nan_t < oldest_t

    def view(self) -> tuple[np.ndarray, np.ndarray]:
        """Times and values, oldest first (read-only views; copy before keeping)."""
        return self.buffer.view()


class TrendStore:
    """A :class:`TrendSeries` per numeric vital, created on first use."""

    def __init__(self) -> None:
        self._series: dict[Vital, TrendSeries] = {}
        self._devices: dict[Vital, dict[str, TrendSeries]] = {}
        self.devices_version = 0
        """Increases when a device's series of a vital appears."""

    def series(self, vital: Vital) -> TrendSeries:
        """The series of ``vital`` (created empty if new)."""
        found = self._series.get(vital)
        if found is None:
            kind = SPECS[vital].kind
            cap = DISCRETE_CAPACITY if kind is Kind.DISCRETE else CONTINUOUS_CAPACITY
            found = self._series[vital] = TrendSeries(cap)
        return found

    def has(self, vital: Vital) -> bool:
        """Whether any sample of ``vital`` was stored."""
        found = self._series.get(vital)
        return found is not None and len(found) > 0

    def add(self, reading: Reading) -> None:
        """Store one reading (an invalid reading stores a NaN gap)."""
        if not reading.valid and reading.vital in _LAZY and reading.vital not in self._series:
            return
        value = reading.value if reading.valid else math.nan
        self.series(reading.vital).append(reading.t, value)

    def add_device(self, reading: Reading) -> None:
        """Store a reading in its device's own series of its vital (sessions of several devices).

        The main series (:meth:`add`) is what was shown: the selected device's
        values. Each device also keeps its own series per vital, which the trend
        draws dotted for the devices not shown now; an invalid reading is a NaN gap.
        """
        by_source = self._devices.setdefault(reading.vital, {})
        found = by_source.get(reading.source)
        if found is None:
            if not reading.valid:
                return   # a device that never sent a value of it adds no series
            kind = SPECS[reading.vital].kind
            cap = DISCRETE_CAPACITY if kind is Kind.DISCRETE else CONTINUOUS_CAPACITY
            found = by_source[reading.source] = TrendSeries(cap)
            self.devices_version += 1
        found.append(reading.t, reading.value if reading.valid else math.nan)

    def devices(self, vital: Vital) -> dict[str, TrendSeries]:
        """Each device's own series of ``vital``, by source name (empty with one device)."""
        return self._devices.get(vital, {})

    def load_history(self, readings: Iterable[Reading]) -> None:
        """Merge recorded readings of a resumed session into the series."""
        grouped: dict[Vital, tuple[list[float], list[float]]] = {}
        for r in readings:
            if SPECS[r.vital].kind is Kind.WAVEFORM:
                continue
            ts, vs = grouped.setdefault(r.vital, ([], []))
            ts.append(r.t)
            vs.append(r.value if r.valid else math.nan)
        for vital, (ts, vs) in grouped.items():
            if vital in _LAZY and vital not in self._series and all(map(math.isnan, vs)):
                continue
            self.series(vital).merge(ts, vs)
