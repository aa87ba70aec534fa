"""Run slow work (loading a session, an export) off the GUI thread; results come back on it."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
"""``progress(done, total)``, callable from the worker thread."""

EXPECTED_ERRORS: tuple[type[BaseException], ...] = (LookupError, ValueError, OSError,
                                                    RuntimeError)
"""Failures reported by their message alone (RecordError, ExportError, file errors...)."""


class TaskRunner(QObject):
    """Runs one task at a time on a plain Python thread and signals the outcome.

    The task is called as ``task(progress)`` on the worker thread; it must
    not touch widgets. ``progress(done, total)`` and the outcome reach the
    GUI thread as queued signals, so slots may update widgets.

    Parameters
    ----------
    name : str
        Thread name (it shows in the log).
    parent : QObject or None

    Signals
    -------
    progress(int, int)
        Done and total units of the running task.
    finished(object)
        The task returned this value.
    failed(str)
        The task raised; the message says what went wrong.
    """

    progress = Signal(int, int)
    finished = Signal(object)
    failed = Signal(str)

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._name = name
        self._thread: threading.Thread | None = None

    def busy(self) -> bool:
        """Whether a task is running."""
        return self._thread is not None and self._thread.is_alive()

    def start(self, task: Callable[[Progress], object]) -> None:
        """Run ``task`` on a new worker thread.

        Raises
        ------
        RuntimeError
            A task is already running.
        """
        if self.busy():
            raise RuntimeError(f"{self._name}: a task is already running")
        self._thread = threading.Thread(target=self._run, args=(task,), name=self._name)
        self._thread.start()

    def join(self, timeout: float | None = None) -> None:
        """Wait for the running task to end (only outside the GUI's event handling)."""
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self, task: Callable[[Progress], object]) -> None:
        try:
            result = task(self._emit_progress)
        except EXPECTED_ERRORS as exc:
            self._emit(self.failed, str(exc) or type(exc).__name__)
        except Exception as exc:  # noqa: BLE001 -- a bug: logged, and reported, not lost
            log.exception("%s failed", self._name)
            self._emit(self.failed, f"{type(exc).__name__}: {exc}")
        else:
            self._emit(self.finished, result)

    def _emit_progress(self, done: int, total: int) -> None:
        self._emit(self.progress, int(done), int(total))

    def _emit(self, signal: object, *args: object) -> None:
        try:
            signal.emit(*args)  # type: ignore[attr-defined]
        except RuntimeError:   # the window closed while the task ran: nobody to tell
            log.debug("%s: result dropped, its window is gone", self._name)
