"""The NIBP cycle reminder: how often the nurse should take a blood pressure, and when next.

The interval follows the phase with the alarm profile's :class:`NibpCycle`
(defaults: 5 min in the baseline and for the first 15 min of the infusion,
then 10; 15 in recovery), the same intervals the NIBP-overdue technical
alarm applies, so the reminder falls due exactly when that alarm starts
counting its grace period.
"""

from __future__ import annotations

from dataclasses import dataclass

from monitor.core.alarms.profile import NibpCycle
from monitor.core.session import Phase


@dataclass(frozen=True)
class NibpDue:
    """The NIBP cycle reminder: the interval now, and when the next determination is due."""

    interval_s: float
    due_at: float

    def overdue_by(self, now: float) -> float:
        """Seconds past the due time (negative while not yet due)."""
        return now - self.due_at


def nibp_interval_s(cycle: NibpCycle, phase: Phase, phase_elapsed_s: float) -> float | None:
    """The expected NIBP interval in ``phase`` after ``phase_elapsed_s`` (``None`` once ended)."""
    if phase is Phase.BASELINE:
        return cycle.baseline_s
    if phase is Phase.INFUSION:
        early = phase_elapsed_s < cycle.infusion_early_for_s
        return cycle.infusion_early_s if early else cycle.infusion_s
    if phase is Phase.RECOVERY:
        return cycle.recovery_s
    return None


def next_nibp_due(cycle: NibpCycle, phase: Phase, phase_started_at: float,
                  last_nibp_t: float | None, now: float) -> NibpDue | None:
    """When the next NIBP is due, counted from the last determination.

    The due time is when the time since the last determination (or since the
    phase began, if none) reaches the interval in force at that moment, the
    rule of the NIBP-overdue alarm: a determination 14 min into the infusion
    is next due 10 min later, not 5. It may lie before the phase began (a
    baseline NIBP 6 min before the start is due 1 min before it, at the
    5-min early-infusion interval). ``None`` once the session ended.
    """
    interval = nibp_interval_s(cycle, phase, now - phase_started_at)
    if interval is None:
        return None
    ref = phase_started_at if last_nibp_t is None else last_nibp_t
    due = ref + interval
    if phase is Phase.INFUSION:
        boundary = phase_started_at + cycle.infusion_early_for_s
        if max(phase_started_at, ref + cycle.infusion_early_s) < boundary:
            due = ref + cycle.infusion_early_s
        else:
            due = max(boundary, ref + cycle.infusion_s)
    return NibpDue(interval, due)
