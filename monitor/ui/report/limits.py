"""Limits over a session and tidy axis numbers for the report's plots (no Qt).

The limits drawn on a trend are those of the session's alarm profile, as
changed during the session: each change recorded in the limit log starts a
new step, so a limit raised at minute 30 is drawn at its old value before
and its new value after.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from monitor.core.alarms.model import LimitChanged, LimitLines
from monitor.core.alarms.profile import AlarmProfile, ProfileError
from monitor.core.vitals import Vital

LIMIT_KEYS = ("high_high", "high_medium", "low_medium", "low_high")
"""The :class:`LimitLines` fields, in drawing order."""


@dataclass(frozen=True)
class LimitStep:
    """One limit (a :class:`LimitLines` field ``key``) at ``value`` from ``t0`` to ``t1``."""

    key: str
    t0: float
    t1: float
    value: float

    @property
    def priority(self) -> str:
        """``"high"`` or ``"medium"``."""
        return self.key.split("_")[1]


def limit_steps(profile: AlarmProfile, changes: Iterable[LimitChanged], start: float,
                end: float) -> dict[Vital, list[LimitStep]]:
    """The absolute limits of each vital as steps over ``start``..``end``.

    Changes the profile refuses (an unknown rule, say) are skipped: the
    limit log still lists them.
    """
    moments: list[tuple[float, dict[Vital, LimitLines]]] = [(start, profile.limit_lines())]
    current = profile
    for ch in sorted(changes, key=lambda c: c.t):
        try:
            current = current.with_change(ch.rule_id, ch.setting, ch.new)
        except ProfileError:
            continue
        moments.append((min(max(ch.t, start), end), current.limit_lines()))
    out: dict[Vital, list[LimitStep]] = {}
    for vital in {v for _, lines in moments for v in lines}:
        steps: list[LimitStep] = []
        for key in LIMIT_KEYS:
            open_: tuple[float, float] | None = None     # (t0, value)
            for i, (t, lines) in enumerate(moments):
                value = getattr(lines.get(vital, LimitLines()), key)
                if open_ is not None and value != open_[1]:
                    steps.append(LimitStep(key, open_[0], t, open_[1]))
                    open_ = None
                if open_ is None and value is not None:
                    open_ = (t, float(value))
                if i == len(moments) - 1 and open_ is not None:
                    steps.append(LimitStep(key, open_[0], end, open_[1]))
        out[vital] = steps
    return out


def nice_step(raw: float, choices: Sequence[float] | None = None) -> float:
    """The smallest tidy step at least ``raw``: from ``choices``, else 1, 2 or 5 × 10^k."""
    if choices is not None:
        return next((c for c in choices if c >= raw), choices[-1])
    if raw <= 0 or not math.isfinite(raw):
        return 1.0
    exp = math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if m * 10 ** exp >= raw:
            return float(m * 10 ** exp)
    return float(10 ** (exp + 1))


def nice_range(values: Iterable[float], bounds: tuple[float, float],
               ticks: int = 6) -> tuple[float, float, float]:
    """Axis ``(low, high, step)`` holding every finite value, clamped to ``bounds``.

    ``bounds`` is the vital's plausible range (an SpO2 axis never passes 100).
    With no values the range is the middle of ``bounds``.
    """
    vals = [v for v in values if v is not None and math.isfinite(v)]
    if not vals:
        mid = (bounds[0] + bounds[1]) / 2
        vals = [mid - 10, mid + 10]
    lo, hi = min(vals), max(vals)
    if hi - lo < 10:
        lo, hi = lo - 5, hi + 5
    step = nice_step((hi - lo) / ticks)
    low = max(math.floor((lo - step * 0.2) / step) * step, bounds[0])
    high = min(math.ceil((hi + step * 0.2) / step) * step, bounds[1])
    return low, high, step
