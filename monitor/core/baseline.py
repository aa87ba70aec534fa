"""The session's pre-infusion baseline, computed from the readings of the baseline phase.

NIBP: the mean of the last :data:`NIBP_DETERMINATIONS` valid determinations
taken in the baseline phase. Continuous vitals (HR, pulse rate, SpO2): the
median of the valid readings of the last :data:`CONTINUOUS_WINDOW_S` seconds
of the baseline phase. The baseline is frozen when the infusion starts;
until then :meth:`BaselineTracker.value` gives the running estimate and
:attr:`BaselineTracker.frozen` is False.
"""

from __future__ import annotations

import math
from collections import deque

from monitor.core.reading import Reading
from monitor.core.vitals import SPECS, Kind, Vital

NIBP_DETERMINATIONS = 2
CONTINUOUS_WINDOW_S = 300.0
_MAX_SAMPLES = 1200  # a 5-minute window at up to 4 readings a second

TRACKED: tuple[Vital, ...] = (Vital.HR, Vital.PULSE_RATE, Vital.SPO2, Vital.NIBP_SYS,
                              Vital.NIBP_DIA, Vital.NIBP_MEAN, Vital.RESP_RATE)


class BaselineTracker:
    """Collects baseline-phase readings (bounded) and answers the baseline per vital."""

    def __init__(self) -> None:
        self._samples: dict[Vital, deque[tuple[float, float]]] = {
            v: deque(maxlen=NIBP_DETERMINATIONS if SPECS[v].kind is Kind.DISCRETE
                     else _MAX_SAMPLES) for v in TRACKED}
        self._frozen: dict[Vital, float] | None = None
        self._computed: dict[Vital, float | None] = {}
        """Running estimates, each dropped when its vital gets a sample (the window
        shows them on every refresh: the median is not sorted again for nothing)."""

    @property
    def frozen(self) -> bool:
        """Whether the infusion has started and the baseline no longer changes."""
        return self._frozen is not None

    def add(self, reading: Reading) -> None:
        """Take a reading made during the baseline phase (ignored once frozen)."""
        if self._frozen is not None or not reading.valid or reading.vital not in self._samples:
            return
        self._samples[reading.vital].append((reading.t, reading.value))
        self._computed.pop(reading.vital, None)

    def freeze(self) -> None:
        """Fix the baseline (called when the infusion starts)."""
        if self._frozen is None:
            self._frozen = {v: b for v in TRACKED
                            if (b := self._compute(v)) is not None}

    def value(self, vital: Vital) -> float | None:
        """The baseline of ``vital``, or ``None`` if the baseline phase gave none."""
        if self._frozen is not None:
            return self._frozen.get(vital)
        if vital not in self._computed:
            self._computed[vital] = self._compute(vital)
        return self._computed[vital]

    def _compute(self, vital: Vital) -> float | None:
        samples = self._samples.get(vital)
        if not samples:
            return None
        if SPECS[vital].kind is Kind.DISCRETE:
            return sum(v for _, v in samples) / len(samples)
        last = samples[-1][0]
        window = sorted(v for t, v in samples if t >= last - CONTINUOUS_WINDOW_S)
        mid = len(window) // 2
        med = window[mid] if len(window) % 2 else (window[mid - 1] + window[mid]) / 2
        return med if math.isfinite(med) else None
