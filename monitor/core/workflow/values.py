"""Small values shared by the start gate and the discharge check."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NibpDetermination:
    """One NIBP determination: systolic and diastolic (and mean, if sent) at ``t``."""

    t: float
    sys: float
    dia: float
    mean: float | None = None


@dataclass(frozen=True)
class BaselineValues:
    """The session's baseline as shown on screen; ``None`` where there is no data yet."""

    sys: float | None = None
    dia: float | None = None
    hr: float | None = None
    spo2: float | None = None
    hr_is_pulse: bool = False
    """``hr`` is the oximeter's pulse rate (no ECG heart rate in the baseline)."""
