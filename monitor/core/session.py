"""The session model: phases with their times, and session status."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field


class Phase(enum.StrEnum):
    """Phases of a ketamine session at the chair, in order."""

    BASELINE = "baseline"
    INFUSION = "infusion"
    RECOVERY = "recovery"
    ENDED = "ended"


class SessionStatus(enum.StrEnum):
    """Lifecycle of a recorded session."""

    OPEN = "open"
    COMPLETED = "completed"
    INTERRUPTED = "interrupted"


_ORDER = {p: i for i, p in enumerate(Phase)}


@dataclass(frozen=True)
class PhaseSpan:
    """One phase and when it started (and ended, once it has)."""

    phase: Phase
    start: float
    end: float | None = None


@dataclass
class SessionModel:
    """A session's identity and phase history.

    Phases only move forward (baseline -> infusion -> recovery -> ended);
    a phase may be skipped. Listeners registered with :meth:`on_phase` are
    called with ``(phase, t)`` after each change.
    """

    session_id: int
    started_at: float
    source: str = ""
    simulated: bool = False
    spans: list[PhaseSpan] = field(default_factory=list)
    _listeners: list[Callable[[Phase, float], None]] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        if not self.spans:
            self.spans.append(PhaseSpan(Phase.BASELINE, self.started_at))

    @property
    def phase(self) -> Phase:
        """The current phase."""
        return self.spans[-1].phase

    def phase_started_at(self) -> float:
        """When the current phase began."""
        return self.spans[-1].start

    def started(self, phase: Phase) -> float | None:
        """When ``phase`` began, or ``None`` if it has not."""
        for span in self.spans:
            if span.phase is phase:
                return span.start
        return None

    def on_phase(self, listener: Callable[[Phase, float], None]) -> None:
        """Call ``listener(phase, t)`` after every phase change."""
        self._listeners.append(listener)

    def set_phase(self, phase: Phase, t: float) -> None:
        """Move to ``phase`` at time ``t``.

        Raises
        ------
        ValueError
            If ``phase`` is not later than the current phase, or ``t`` is
            before the current phase began.
        """
        current = self.spans[-1]
        if _ORDER[phase] <= _ORDER[current.phase]:
            raise ValueError(f"cannot go from {current.phase.value} to {phase.value}")
        if t < current.start:
            raise ValueError("a phase cannot start before the previous one")
        self.spans[-1] = PhaseSpan(current.phase, current.start, t)
        self.spans.append(PhaseSpan(phase, t, t if phase is Phase.ENDED else None))
        for listener in list(self._listeners):
            listener(phase, t)

    def elapsed(self, now: float) -> float:
        """Seconds since the session started."""
        return now - self.started_at
