"""The GUI-thread timer that pulls queued data into the live view."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QTimer

DEFAULT_REFRESH_HZ = 25.0


class DrainBridge:
    """Calls ``drain`` from a ``QTimer`` at ``refresh_hz`` on the GUI thread.

    The acquisition threads only put items on a bounded queue; this timer
    is the one place where they reach the widgets (the GUI pulls, devices
    never push repaints). ``drain`` takes a bounded batch per call, so a
    flood cannot freeze the GUI.

    Parameters
    ----------
    drain : callable
        Called with no arguments on each tick.
    refresh_hz : float
        Ticks per second (wall time).
    parent : QObject
        Owner of the timer; the timer dies with it.
    """

    def __init__(self, drain: Callable[[], object], refresh_hz: float, parent: QObject) -> None:
        if not refresh_hz > 0:
            raise ValueError("refresh_hz must be positive")
        self._timer = QTimer(parent)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(max(1, round(1000.0 / refresh_hz)))
        self._timer.timeout.connect(drain)

    @property
    def interval_ms(self) -> int:
        """Milliseconds between ticks."""
        return self._timer.interval()

    def is_active(self) -> bool:
        """Whether the timer is running."""
        return self._timer.isActive()

    def start(self) -> None:
        """Start ticking (no effect when already running)."""
        if not self._timer.isActive():
            self._timer.start()

    def stop(self) -> None:
        """Stop ticking."""
        self._timer.stop()
