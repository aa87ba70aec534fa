"""The infusion timer: state, elapsed and remaining time, the planned-end reminder.

:class:`InfusionTimer` is rebuilt from the recorded :class:`InfusionChanged`
records, so after a restart the elapsed and remaining times come from the
recorded start, pause and stop times, never from zero. The NIBP cycle
reminder that goes with the phases is in :mod:`.nibp_cycle` (re-exported here).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable

from monitor.core.workflow.messages import (
    ChangeInfusion,
    CommandRefused,
    InfusionAction,
    InfusionChanged,
)
from monitor.core.workflow.nibp_cycle import NibpDue, next_nibp_due, nibp_interval_s

__all__ = ["InfusionState", "InfusionTimer", "NibpDue", "next_nibp_due", "nibp_interval_s"]


class InfusionState(enum.StrEnum):
    """Where the infusion is."""

    NOT_STARTED = "not_started"
    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"

    @property
    def label(self) -> str:
        """The state as shown on screen."""
        return {"not_started": "Not started", "running": "Running",
                "paused": "INFUSION PAUSED", "stopped": "Stopped"}[self.value]


_ALLOWED: dict[InfusionAction, tuple[InfusionState, ...]] = {
    InfusionAction.START: (InfusionState.NOT_STARTED,),
    InfusionAction.PAUSE: (InfusionState.RUNNING,),
    InfusionAction.RESUME: (InfusionState.PAUSED,),
    InfusionAction.STOP: (InfusionState.RUNNING, InfusionState.PAUSED),
}
_AFTER = {InfusionAction.START: InfusionState.RUNNING, InfusionAction.PAUSE: InfusionState.PAUSED,
          InfusionAction.RESUME: InfusionState.RUNNING, InfusionAction.STOP: InfusionState.STOPPED}


class InfusionTimer:
    """The infusion's state and times, computed from its change records.

    Parameters
    ----------
    planned_s : float
        Planned infusion time (running time, pauses excluded).
    history : iterable of InfusionChanged
        Recorded changes, e.g. after a restart. They are applied in time
        order; a record that is not a valid transition is skipped and kept
        in :attr:`ignored` (a damaged record never stops a session reopening).

    Attributes
    ----------
    started_at, stopped_at, paused_since : float or None
    pause_reason : str
        Reason of the current pause (empty when not paused).
    """

    def __init__(self, planned_s: float, history: Iterable[InfusionChanged] = ()) -> None:
        if not (math.isfinite(planned_s) and planned_s > 0):
            raise ValueError(f"planned infusion time must be positive, not {planned_s!r}")
        self.planned_s = planned_s
        self.state = InfusionState.NOT_STARTED
        self.started_at: float | None = None
        self.stopped_at: float | None = None
        self.paused_since: float | None = None
        self.pause_reason = ""
        self._run_before = 0.0      # running seconds before the current run
        self._run_since: float | None = None
        self._last_t = -math.inf
        self._reminded = False
        self.records: list[InfusionChanged] = []
        self.ignored: list[InfusionChanged] = []
        for rec in sorted(history, key=lambda r: r.t):
            if self.refusal(rec.action, rec.t, rec.reason):
                self.ignored.append(rec)
            else:
                self._apply(rec)

    def refusal(self, action: InfusionAction, t: float, reason: str = "") -> str:
        """Why ``action`` at ``t`` is not allowed now (empty when it is)."""
        if not math.isfinite(t) or t < self._last_t:
            return "the time is before the infusion's last change"
        if self.state not in _ALLOWED[action]:
            return {InfusionAction.START: "the infusion has already been started",
                    InfusionAction.PAUSE: "only a running infusion can be paused",
                    InfusionAction.RESUME: "only a paused infusion can be resumed",
                    InfusionAction.STOP: "the infusion is not running or paused",
                    }[action] + f" (it is {self.state.label.lower()})"
        if action is InfusionAction.PAUSE and not reason.strip():
            return "a pause needs a reason"
        return ""

    def apply(self, cmd: ChangeInfusion, t: float) -> InfusionChanged | CommandRefused:
        """Carry out the nurse's command at ``t``: the record to keep, or the refusal."""
        problem = self.refusal(cmd.action, t, cmd.reason)
        if problem:
            return CommandRefused(t, f"change_infusion:{cmd.action.value}",
                                  f"Cannot {cmd.action.value} the infusion: {problem}.",
                                  cmd.by.strip())
        rec = InfusionChanged(cmd.action, t, cmd.by.strip(), cmd.reason.strip())
        self._apply(rec)
        return rec

    def _apply(self, rec: InfusionChanged) -> None:
        t, action = rec.t, rec.action
        if self._run_since is not None:          # a run ends with pause or stop
            self._run_before += t - self._run_since
            self._run_since = None
        if action in (InfusionAction.START, InfusionAction.RESUME):
            self._run_since = t
        if action is InfusionAction.START:
            self.started_at = t
        if action is InfusionAction.STOP:
            self.stopped_at = t
        self.paused_since = t if action is InfusionAction.PAUSE else None
        self.pause_reason = rec.reason.strip() if action is InfusionAction.PAUSE else ""
        self.state = _AFTER[action]
        self._last_t = t
        self.records.append(rec)

    def elapsed(self, now: float) -> float:
        """Running infusion time at ``now`` (seconds), pauses excluded."""
        if self._run_since is None:
            return self._run_before
        return self._run_before + max(0.0, now - self._run_since)

    def remaining(self, now: float) -> float:
        """Planned minus elapsed (seconds); negative once the planned time is overrun."""
        return self.planned_s - self.elapsed(now)

    def paused_for(self, now: float) -> float:
        """How long the current pause has lasted (0 when not paused)."""
        return 0.0 if self.paused_since is None else max(0.0, now - self.paused_since)

    def planned_end_at(self, now: float) -> float | None:
        """When the planned time will be reached if the infusion keeps running, else ``None``."""
        if self.state is not InfusionState.RUNNING:
            return None
        return now + max(0.0, self.remaining(now))

    def planned_end_reached(self, now: float) -> bool:
        """Whether the running time has reached the planned time (stays true)."""
        return self.started_at is not None and self.remaining(now) <= 0

    def take_planned_end_reminder(self, now: float) -> bool:
        """True exactly once: the first call at which the planned time has been reached.

        For a low-priority "planned infusion time reached" reminder, so polling
        every tick never repeats it. A rebuilt timer (after a restart) gives
        it once more if the planned end is already past: the nurse hears it
        once again rather than never.
        """
        if self._reminded or self.state is InfusionState.STOPPED \
                or not self.planned_end_reached(now):
            return False
        self._reminded = True
        return True
