"""The live window's "Review…" entry: the session browser in a process of its own.

The review reads the whole recording (trends, alarms, exports, PDF): in its
own process it can never hold up, or take down, the monitoring window. It
opens the session browser on the chair's data folder, where the current
session is listed with the past ones.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QObject, QProcess, Signal

NO_REVIEW_TEXT = "Review is opened from the monitoring app (this window has no data folder)"


class ReviewLauncher(QObject):
    """Starts the review process, detached, without waiting (nothing blocks the GUI thread).

    Parameters
    ----------
    command : sequence of str or None
        :func:`monitor.app.review_command`; ``None``: no review from this window.
    parent : QObject or None

    Attributes
    ----------
    started : int
        How many review processes were started (for tests).

    Signals
    -------
    failed(str)
        Why the review could not be opened.
    """

    failed = Signal(str)

    def __init__(self, command: Sequence[str] | None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.command = list(command) if command else None
        self.started = 0

    def open(self) -> None:
        """Open the session browser (another window; the monitor goes on)."""
        if self.command is None:
            self.failed.emit(NO_REVIEW_TEXT)
            return
        ok, _pid = QProcess.startDetached(self.command[0], self.command[1:])
        if not ok:
            self.failed.emit(f"The review could not be started ({self.command[0]} did not run).")
            return
        self.started += 1
