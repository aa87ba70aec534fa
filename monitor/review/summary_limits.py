"""Time beyond the alarm limits, with the limits changed during the session applied.

Used by :func:`monitor.review.summary.summarize`. The limits of a session are
its profile's :meth:`~monitor.core.alarms.profile.AlarmProfile.limit_lines`,
changed at each recorded :class:`~monitor.core.alarms.model.LimitChanged` from
the moment it was made (an :class:`LimitEpoch` per change).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from monitor.core.alarms.model import LimitChanged, LimitLines, Priority
from monitor.core.alarms.profile import LINE_MAX_DELAY_S, AlarmProfile, Basis, Op, ProfileError
from monitor.core.vitals import SPECS, Kind, Vital
from monitor.review.record import Series

log = logging.getLogger(__name__)

GAP_S = 10.0
"""A continuous vital's interval between readings longer than this is a gap: it counts nothing."""
NIBP_HOLD_S = 900.0
"""An NIBP determination holds at most this long (15 min)."""
LINE_FIELDS: tuple[str, ...] = ("high_medium", "high_high", "low_medium", "low_high")
"""The ``LimitLines`` fields, the keys of ``VitalSummary.time_beyond``."""


@dataclass(frozen=True)
class LimitEpoch:
    """The limits in force from ``t`` until the next epoch.

    Attributes
    ----------
    t : float
        When they came into force (``-inf`` for the profile's own).
    lines : dict of Vital to LimitLines
    inclusive : dict of (Vital, str) to bool
        Whether the rule behind a line counts the limit itself (``>=``/``<=``).
    """

    t: float
    lines: dict[Vital, LimitLines]
    inclusive: dict[tuple[Vital, str], bool]


def limit_epochs(profile: AlarmProfile, changes: Sequence[LimitChanged]) -> list[LimitEpoch]:
    """The profile's limits, then one epoch per recorded change, in time order.

    A change the profile refuses (a rule it does not have: the session may
    have run with another profile) is skipped with a warning in the log.
    """
    out = [_epoch(-math.inf, profile)]
    for change in sorted(changes, key=lambda c: c.t):
        try:
            profile = profile.with_change(change.rule_id, change.setting, change.new)
        except ProfileError as exc:
            log.warning("summary: the limit change at %.0f was not applied: %s", change.t, exc)
            continue
        out.append(_epoch(change.t, profile))
    return out


def _epoch(t: float, profile: AlarmProfile) -> LimitEpoch:
    lines = profile.limit_lines()
    inclusive = {}
    for vital, line in lines.items():
        for name in LINE_FIELDS:
            limit = getattr(line, name)
            if limit is None:
                continue
            upper = name.startswith("high")
            prio = Priority.HIGH if name.endswith("_high") else Priority.MEDIUM
            inclusive[(vital, name)] = any(
                r.op in (Op.GE, Op.LE) for r in profile.rules
                if r.vital is vital and r.basis is Basis.ABSOLUTE and r.priority is prio
                and r.op.upper == upper and r.limit == limit and r.delay_s <= LINE_MAX_DELAY_S)
    return LimitEpoch(t, lines, inclusive)


def intervals(vital: Vital, s: Series, end: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The spans (start, stop, value) over which each valid value of ``s`` holds.

    A continuous vital's value holds until the next reading (valid or not),
    unless that is more than :data:`GAP_S` later; an NIBP determination
    holds until the next valid one, at most :data:`NIBP_HOLD_S`, and not past ``end``.
    """
    if SPECS[vital].kind is Kind.DISCRETE:
        t, v = s.valid()
        following = np.append(t[1:], np.inf)
        stop = np.minimum(np.minimum(following, t + NIBP_HOLD_S), end)
        return t, np.maximum(stop, t), v
    a, b, v = s.t[:-1], s.t[1:], s.v[:-1]
    keep = np.isfinite(v) & (b - a <= GAP_S)
    return a[keep], b[keep], v[keep]


def time_beyond(vital: Vital, s: Series, end: float, epochs: Sequence[LimitEpoch],
                against: Vital | None = None) -> dict[str, float]:
    """Seconds beyond each limit of ``against`` (default ``vital``) that exists in any epoch."""
    key = against if against is not None else vital
    names = [n for n in LINE_FIELDS if any((key, n) in e.inclusive for e in epochs)]
    if not names:
        return {}
    a, b, v = intervals(vital, s, end)
    out = dict.fromkeys(names, 0.0)
    for i, epoch in enumerate(epochs):
        t1 = epochs[i + 1].t if i + 1 < len(epochs) else math.inf
        held = np.clip(np.minimum(b, t1) - np.maximum(a, epoch.t), 0.0, None)
        line = epoch.lines.get(key)
        for name in names:
            limit = None if line is None else getattr(line, name)
            if limit is None:
                continue
            inclusive = epoch.inclusive[(key, name)]
            if name.startswith("high"):
                beyond = v >= limit if inclusive else v > limit
            else:
                beyond = v <= limit if inclusive else v < limit
            out[name] += float(held[beyond].sum())
    return out
