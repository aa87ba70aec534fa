"""One clock for the simulator, the acquisition pipeline, stale checks and timers.

Live use runs on :class:`RealClock`. Accelerated and headless runs use
:class:`SimClock`, so a 90-minute session can run in seconds and every
timestamp, timer and stale check stays exact in session time.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    """What every time-dependent part reads."""

    @property
    def speed(self) -> float | None:
        """Session seconds per real second; ``None`` means as fast as possible."""

    def now(self) -> float:
        """Current time in Unix seconds."""

    def sleep_until(self, t: float, should_stop: threading.Event) -> bool:
        """Wait until the clock reads ``t``.

        Returns ``True`` if ``should_stop`` was set while waiting. Only the
        thread that paces the data (the source driver) calls this.
        """


class RealClock:
    """Wall-clock time."""

    speed: float | None = 1.0

    def now(self) -> float:
        return time.time()

    def sleep_until(self, t: float, should_stop: threading.Event) -> bool:
        delay = t - time.time()
        if delay > 0:
            return should_stop.wait(delay)
        return should_stop.is_set()


class SimClock:
    """Simulated time starting at ``start``.

    Parameters
    ----------
    start : float
        Unix seconds the clock reads at creation.
    speed : float or None
        Session seconds per real second (``1`` behaves like a real clock
        offset to ``start``). ``None`` is ``--speed max``: time only moves
        when the pacing thread calls :meth:`sleep_until` or :meth:`advance_to`.
    """

    def __init__(self, start: float, speed: float | None = 1.0) -> None:
        if speed is not None and speed <= 0:
            raise ValueError("speed must be positive, or None for as fast as possible")
        self._start = float(start)
        self._speed = speed
        self._origin = time.monotonic()
        self._manual = float(start)
        self._lock = threading.Lock()
        self._moved = threading.Condition(self._lock)
        self._pacers = 0                    # lockstep: how many threads pace this clock
        self._wants: dict[int, float] = {}  # pacing thread -> the time it waits for

    @property
    def speed(self) -> float | None:
        return self._speed

    def now(self) -> float:
        if self._speed is None:
            with self._lock:
                return self._manual
        return self._start + (time.monotonic() - self._origin) * self._speed

    def advance_to(self, t: float) -> None:
        """Move a max-speed clock forward to ``t`` (never backwards)."""
        if self._speed is not None:
            raise RuntimeError("only a max-speed clock is advanced by hand")
        with self._lock:
            if t > self._manual:
                self._manual = float(t)
                self._moved.notify_all()

    def lockstep(self, pacers: int) -> None:
        """Let ``pacers`` threads pace a max-speed clock together (several simulated devices).

        Each thread's :meth:`sleep_until` then returns only once the clock
        reaches its time, and the clock moves to the earliest time any of them
        waits for: no device runs ahead of another, so the session never sees
        one device's data arrive from a time the clock has passed. A thread
        that stops pacing calls :meth:`leave`.
        """
        with self._lock:
            self._pacers = max(0, int(pacers))
            self._moved.notify_all()

    def leave(self) -> None:
        """The calling thread paces this clock no more (its stream ended)."""
        with self._lock:
            if self._pacers:
                self._pacers -= 1
                self._wants.pop(threading.get_ident(), None)
                self._advance_locked()

    def _advance_locked(self) -> None:
        if self._wants and len(self._wants) >= self._pacers:
            earliest = min(self._wants.values())
            self._manual = max(self._manual, earliest)
        self._moved.notify_all()

    def _sleep_in_step(self, t: float, should_stop: threading.Event) -> bool:
        with self._lock:
            self._wants[threading.get_ident()] = float(t)
            self._advance_locked()
            while self._manual < t and self._pacers > 1 and not should_stop.is_set():
                self._moved.wait(0.05)
        if self._manual < t:           # the others have left: this thread alone paces
            self.advance_to(t)
        return should_stop.is_set()

    def sleep_until(self, t: float, should_stop: threading.Event) -> bool:
        if self._speed is None:
            if self._pacers > 1:
                return self._sleep_in_step(t, should_stop)
            self.advance_to(t)
            return should_stop.is_set()
        delay = (t - self.now()) / self._speed
        if delay > 0:
            return should_stop.wait(delay)
        return should_stop.is_set()


def parse_speed(text: str) -> float | None:
    """Parse a ``--speed`` argument: a positive number, or ``max``."""
    if text.strip().lower() == "max":
        return None
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"speed must be a positive number or 'max', not {text!r}") from None
    if not value > 0 or value != value or value == float("inf"):
        raise ValueError(f"speed must be a positive number or 'max', not {text!r}")
    return value
