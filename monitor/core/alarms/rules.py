"""Per-rule evaluation: condition delay, SatSeconds and NIBP confirmation.

Each :class:`RuleState` answers one question — is its rule met right now? —
from the valid values it is fed. The engine owns alarm lifecycles; these
classes only keep the few numbers each rule needs (bounded: a deque of at
most ``confirm`` or ``violations`` times).
"""

from __future__ import annotations

import math
from collections import deque

from monitor.core.alarms.profile import Basis, Op, Rule
from monitor.core.vitals import Vital

FIRST_SAMPLE_S = 1.0
"""SatSeconds weight of the first sample of a run (the usual 1-s update period)."""

MAX_SAMPLE_GAP_S = 2.0
"""A SatSeconds sample never counts for more than this many seconds."""


class RuleState:
    """Tracks one rule over time.

    Parameters
    ----------
    rule : Rule
    window_s, violations : float, int
        The SatSeconds safety net (``violations`` entries into the alarm
        region within ``window_s`` alarm whatever the sum).
    """

    def __init__(self, rule: Rule, window_s: float = 60.0, violations: int = 3) -> None:
        self.rule = rule
        self.met = False
        self.value: float | None = None     # last value fed
        self.quantity: float | None = None  # last compared quantity
        self.vital: Vital = rule.vital      # what measured it (pulse rate may stand in for HR)
        self.extreme: float | None = None   # most extreme value while the condition holds
        self._since: float | None = None    # condition holding since (delay rules)
        self._last_t: float | None = None
        self._window_s = window_s
        self._violations = violations
        self.sat_total = 0.0
        self._in_region = False
        self._entries: deque[float] = deque(maxlen=max(violations, 1))
        self._qualifying: deque[float] = deque(maxlen=max(rule.confirm, 1))

    def reset(self) -> None:
        """Forget everything (data invalid, alarms turned off, rule changed)."""
        self.met = False
        self._since = None
        self._last_t = None
        self.extreme = None
        self.sat_total = 0.0
        self._in_region = False
        self._entries.clear()
        self._qualifying.clear()

    def feed(self, t: float, value: float, baseline: float | None,
             vital: Vital | None = None) -> bool:
        """Evaluate a valid value at ``t``; returns whether the rule is met now."""
        rule = self.rule
        q = rule.basis.quantity(value, baseline)
        self.value, self.quantity = value, q
        self.vital = vital or rule.vital
        if q is None or not math.isfinite(q):
            self.reset()
            return False
        holds = rule.op.holds(q, rule.limit)
        upper = rule.op.upper if rule.basis is Basis.ABSOLUTE else rule.basis is not Basis.FALL
        self.extreme = worst(upper, self.extreme, value) if holds else None
        if rule.discrete:
            self._feed_determination(t, holds)
        elif rule.satseconds:
            self._feed_satseconds(t, q)
        else:
            if holds:
                if self._since is None:
                    self._since = t
                self.met = t - self._since >= rule.delay_s
            else:
                self._since = None
                self.met = False
        self._last_t = t
        return self.met

    def tick(self, t: float, fresh_until: float) -> bool:
        """Complete a condition delay between readings.

        ``fresh_until`` bounds the life of the last value fed.

        Returns True when the rule became met on this tick.
        """
        if (self.met or self._since is None or self.rule.discrete or self.rule.satseconds
                or t > fresh_until):
            return False
        if t - self._since >= self.rule.delay_s:
            self.met = True
            return True
        return False

    def _feed_determination(self, t: float, holds: bool) -> None:
        rule = self.rule
        if not holds:
            self.met = False
            return
        self._qualifying.append(t)
        recent = [x for x in self._qualifying if t - x <= rule.within_s or x == t]
        self.met = len(recent) >= rule.confirm

    def _feed_satseconds(self, t: float, q: float) -> None:
        """Nellcor-style integral: points inside the alarm region times seconds."""
        rule = self.rule
        dt = FIRST_SAMPLE_S if self._last_t is None else min(max(t - self._last_t, 0.0),
                                                              MAX_SAMPLE_GAP_S)
        depth = _depth(rule.op, q, rule.limit)
        if depth > 0:
            if not self._in_region:
                self._entries.append(t)
            self._in_region = True
            self.sat_total += depth * dt
            recent = sum(1 for x in self._entries if t - x <= self._window_s)
            self.met = self.sat_total >= rule.satseconds or recent >= self._violations
        else:
            self._in_region = False
            self.sat_total = max(0.0, self.sat_total - max(1.0, -depth) * dt)
            self.met = False


def _depth(op: Op, q: float, limit: float) -> float:
    """Whole points into the alarm region; the first value inside counts 1.

    For ``< 90`` a reading of 89 is 1 point deep; for ``<= 90`` a reading of
    90 is 1 point deep and 89 is 2 (this is how the GE and Mindray worked
    examples both come out). Zero or negative: in range.
    """
    if op is Op.LT:
        return limit - q
    if op is Op.LE:
        return limit - q + 1
    if op is Op.GT:
        return q - limit
    return q - limit + 1


def worst(op_upper: bool, a: float | None, b: float | None) -> float | None:
    """The more extreme of two values for a high (``op_upper``) or low alarm."""
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b) if op_upper else min(a, b)


__all__ = ["Basis", "RuleState", "worst"]
