"""``infusion-monitor review``: the session browser, or one session's review, in its own app.

The database is only read (read-only connections): a database from a newer
app is refused with a message and never changed.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QWidget

from monitor.review.record import RecordError
from monitor.storage.database import DB_NAME, default_data_dir
from monitor.ui import application

log = logging.getLogger(__name__)


def database_path(data_dir: Path | str | None) -> Path:
    """The database file in ``data_dir`` (default: the user data folder)."""
    folder = Path(data_dir) if data_dir is not None else default_data_dir()
    return folder / DB_NAME


def open_window(db_path: Path, session_id: int | None = None) -> QWidget:
    """The browser, or the review view of ``session_id`` (loaded now, before it shows).

    Raises
    ------
    RecordError
        No database there, no such session, or a database too new to read.
    """
    if not db_path.is_file():
        raise RecordError(f"no recordings at {db_path.parent} (no {DB_NAME} there); choose "
                          "the folder with --data-dir")
    if session_id is None:
        from monitor.ui.review.browser import BrowserView

        return BrowserView(db_path)
    from monitor.ui.review.loading import load_review
    from monitor.ui.review.review_view import ReviewView

    return ReviewView(load_review(db_path, session_id))


def run_review(data_dir: Path | str | None, session_id: int | None = None,
               argv: list[str] | None = None, quit_after_s: float | None = None) -> int:
    """Show the session browser (or one session's review) until it is closed.

    Parameters
    ----------
    data_dir : Path, str or None
        The folder holding the recordings (default: the user data folder).
    session_id : int or None
        Open this session's review directly instead of the browser.
    argv : list of str or None
        Qt's command-line arguments.
    quit_after_s : float or None
        Close by itself after this many seconds (smoke tests).

    Returns
    -------
    int
        0 when closed normally; 2 when there is nothing to open (no
        database, no such session, a database too new), after saying why.
    """
    app = application.create_application(argv)
    restore_signals = application.quit_on_signals(app)
    try:
        try:
            window = open_window(database_path(data_dir), session_id)
        except RecordError as exc:
            application.show_fatal(str(exc))
            return 2
        window.show()
        if quit_after_s is not None:
            QTimer.singleShot(int(quit_after_s * 1000), app.quit)
        wake = QTimer()   # gives Python a turn, so Ctrl-C and SIGTERM are honoured
        wake.timeout.connect(lambda: None)
        wake.start(250)
        app.setQuitOnLastWindowClosed(True)
        code = app.exec()
        wake.stop()
        _close_all(app)
        return int(code)
    finally:
        restore_signals()


def _close_all(app: QApplication) -> None:
    for widget in app.topLevelWidgets():
        widget.close()
