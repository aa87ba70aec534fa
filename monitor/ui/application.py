"""Qt application plumbing for :mod:`monitor.app`: the QApplication, dialogs, the event loop."""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Callable

from PySide6 import QtCore, QtWidgets

from monitor.core.alarms.model import AlarmSnapshot
from monitor.core.alarms.profile import AlarmProfile
from monitor.core.clock import Clock
from monitor.core.queues import BoundedQueue
from monitor.core.workflow.setup import SessionSetup
from monitor.storage.database import SessionRow
from monitor.ui.shared.theme import apply_theme


def create_application(argv: list[str] | None = None) -> QtWidgets.QApplication:
    """The one QApplication, created once."""
    app = QtWidgets.QApplication.instance()
    if app is None:
        app = QtWidgets.QApplication(argv if argv is not None else sys.argv[:1])
        app.setApplicationName("Infusion Monitor")
        app.setOrganizationName("infusion-monitor")
        apply_theme(app)   # every window, dialog and message box dark, its text light
    assert isinstance(app, QtWidgets.QApplication)
    return app


def show_fatal(message: str) -> None:
    """Tell the user why the app cannot start (in a dialog, and on stderr for a terminal)."""
    print(f"infusion-monitor: {message}", file=sys.stderr, flush=True)
    _exec(fatal_box(message))   # Ctrl-C or SIGTERM closes it too


def show_warning(title: str, message: str) -> None:
    """Tell the user something went wrong that does not stop the app (dialog and stderr)."""
    print(f"infusion-monitor: {message}", file=sys.stderr, flush=True)
    _exec(QtWidgets.QMessageBox(QtWidgets.QMessageBox.Icon.Warning, title, message))


def fatal_box(message: str) -> QtWidgets.QMessageBox:
    """The message box of :func:`show_fatal` (dark, like every dialog of the app)."""
    return QtWidgets.QMessageBox(QtWidgets.QMessageBox.Icon.Critical, "Infusion Monitor",
                                 message)


class ResumeDialog(QtWidgets.QDialog):
    """Asks whether to resume a session that was cut off by a crash or power cut.

    ``accepted`` means resume (same record); ``rejected`` means close it as
    interrupted and start a new session.
    """

    def __init__(self, row: SessionRow, gap_s: float,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Unfinished session")
        started = time.strftime("%H:%M on %d %b %Y", time.localtime(row.started_at))
        text = QtWidgets.QLabel(
            f"<b>Session {row.id}</b> (started {started}, source {row.source}) was not "
            f"closed: the app stopped {_gap_text(gap_s)} ago.<br><br>"
            "Resume it to go on recording in the same session, or close it as "
            "<i>interrupted</i> and start a new one. Nothing recorded is lost either way.")
        text.setWordWrap(True)
        self.resume_button = QtWidgets.QPushButton(f"Resume session {row.id}")
        self.new_button = QtWidgets.QPushButton("Close it, start a new session")
        self.resume_button.setDefault(True)
        self.resume_button.clicked.connect(self.accept)
        self.new_button.clicked.connect(self.reject)
        buttons = QtWidgets.QHBoxLayout()
        buttons.addWidget(self.new_button)
        buttons.addWidget(self.resume_button)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(text)
        layout.addLayout(buttons)


def _gap_text(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 1:
        return f"{int(seconds)} s"
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min"


def _exec(dialog: QtWidgets.QDialog) -> bool:
    """Run a start-up dialog (before the event loop); True if accepted.

    A light timer gives Python a turn, so Ctrl-C or SIGTERM while the
    dialog is open closes it (as cancelled) instead of being ignored.
    """
    def check() -> None:
        if _quit_requested.is_set():
            dialog.reject()

    wake = QtCore.QTimer()
    wake.timeout.connect(check)
    wake.start(250)
    try:
        if _quit_requested.is_set():
            return False
        return dialog.exec() == QtWidgets.QDialog.DialogCode.Accepted
    finally:
        wake.stop()


def ask_resume(row: SessionRow, gap_s: float) -> bool:
    """Show :class:`ResumeDialog`; True to resume."""
    return _exec(ResumeDialog(row, gap_s))


def ask_setup(source: str, profile_name: str, *, simulated: bool,
              planned_min: object = None) -> SessionSetup | None:
    """Show the "New session" dialog; the set-up, or ``None`` if cancelled.

    ``planned_min`` is the default planned infusion time (a simulated
    scenario's), used when it is within the allowed range.
    """
    dialog = setup_dialog(source, profile_name, simulated=simulated, planned_min=planned_min)
    return dialog.result_setup if _exec(dialog) else None


def setup_dialog(source: str, profile_name: str, *, simulated: bool,
                 planned_min: object = None) -> QtWidgets.QDialog:
    """The "New session" dialog of :func:`ask_setup`, not shown yet.

    Demo values are filled in only for the built-in simulator, never for a
    replay or a device.
    """
    from monitor.ui.workflow.session_setup_dialog import (
        SessionSetupDialog,
        is_demo_source,
        planned_min_hint,
    )

    return SessionSetupDialog(source, profile_name, demo=simulated and is_demo_source(source),
                              planned_min=planned_min_hint(planned_min))


def run_live_view(app: QtWidgets.QApplication, clock: Clock, ui_queue: BoundedQueue, *,
                  simulated: bool, stale_after_s: float,
                  quit_after_s: float | None = None,
                  alarm_state: Callable[[], AlarmSnapshot | None] | None = None,
                  send_command: Callable[[object], None] | None = None,
                  profile: AlarmProfile | None = None,
                  setup: SessionSetup | None = None,
                  review_command: list[str] | None = None) -> int:
    """Show the live view and run the event loop until the window closes.

    ``alarm_state``, ``send_command`` and ``profile`` connect the view to the
    hub's alarm engine and workflow (see :class:`~monitor.ui.live.view.LiveView`);
    ``setup`` is the session's set-up (planned time, clinician);
    ``review_command`` what the window's "Review…" runs.
    """
    from monitor.ui.live.view import LiveView

    view = LiveView(clock, ui_queue, simulated=simulated, stale_after_s=stale_after_s,
                    alarm_state=alarm_state, send_command=send_command, profile=profile,
                    setup=setup, review_command=review_command)
    view.resize(1280, 800)
    view.show()
    view.start()
    if quit_after_s is not None:
        QtCore.QTimer.singleShot(int(quit_after_s * 1000), app.quit)
    # Python runs signal handlers only between bytecodes, so a light timer
    # gives the interpreter a turn while Qt's event loop waits.
    wake = QtCore.QTimer()
    wake.timeout.connect(lambda: None)
    wake.start(250)
    if _quit_requested.is_set():
        wake.stop()
        view.close()
        return 0
    app.setQuitOnLastWindowClosed(True)
    code = app.exec()
    wake.stop()
    view.close()  # stops its timers and closes the speaker (also after a quit signal)
    return int(code)


_quit_requested = threading.Event()


def quit_on_signals(app: QtWidgets.QApplication) -> Callable[[], None]:
    """Make Ctrl-C and SIGTERM close the session cleanly; returns a restore function.

    Install it as soon as the application exists: a signal that comes before
    the event loop runs is remembered and honoured when it would start.
    """
    _quit_requested.clear()

    def handler(signum: int, frame: object) -> None:
        _quit_requested.set()
        app.quit()

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}

    def restore() -> None:
        for s, h in previous.items():
            signal.signal(s, h)

    return restore
