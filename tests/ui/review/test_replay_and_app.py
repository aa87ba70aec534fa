"""Replay from the review view (a real process), and the review app's start-up."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys

import pytest

from monitor.review.record import RecordError
from monitor.ui.review import app as review_app
from monitor.ui.review.browser import BrowserView
from monitor.ui.review.loading import load_review
from monitor.ui.review.review_view import ReviewView, replay_arguments

pytestmark = pytest.mark.qt_log_ignore(r"does not support propagateSizeHints")  # offscreen


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:   # a zombie of ours is not alive either
        return os.waitpid(pid, os.WNOHANG) == (0, 0)
    except ChildProcessError:
        return True


def test_replay_button_starts_the_live_window_in_its_own_process(qtbot, review_db, tmp_path):
    data_dir = tmp_path / "copy"   # the replay records a new session: not in the shared DB
    shutil.copytree(review_db.data_dir, data_dir, ignore=shutil.ignore_patterns("xdg"))
    sid = review_db.ids["typical"]
    view = ReviewView(load_review(data_dir / review_db.path.name, sid))
    qtbot.addWidget(view)
    view.replay_speed.setValue(30)
    assert view.replay_button.text() == "Replay at 30\u00d7"
    view.replay_button.click()
    pid = view.replay_pid
    assert pid is not None and pid > 0 and view.message_box is None
    try:
        assert _alive(pid)

        def cmdline() -> list[str]:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                return [a.decode() for a in f.read().split(b"\0")]

        # Between fork and exec the child's command line is still empty (or Qt's): wait
        # for the exec before reading its arguments.
        qtbot.waitUntil(lambda: len(cmdline()) > 2, timeout=15_000)
        assert cmdline()[1:-1] == replay_arguments(sid, 30, data_dir)
    finally:
        os.kill(pid, signal.SIGTERM)
        try:
            qtbot.waitUntil(lambda: not _alive(pid), timeout=15_000)
        finally:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_a_session_without_raw_capture_cannot_be_replayed(qtbot, loaded):
    assert loaded["surge"].replay_problem and not loaded["typical"].replay_problem
    view = ReviewView(loaded["surge"])
    qtbot.addWidget(view)
    assert not view.replay_button.isEnabled()
    assert "no raw capture" in view.replay_button.toolTip()
    assert not view.start_replay() and view.replay_pid is None
    assert "cannot be replayed" in view.message_box.text()
    view.message_box.close()


def test_replay_that_cannot_start_says_why(qtbot, loaded, tmp_path):
    view = ReviewView(loaded["typical"], python=str(tmp_path / "no-python"))
    qtbot.addWidget(view)
    assert not view.start_replay()
    assert view.replay_pid is None
    box = view.message_box
    assert box is not None and box.isVisible()
    assert "could not be started" in box.text() and "no-python" in box.text()
    assert "replay:" in box.text()
    box.close()


def test_open_window_browser_or_session(qtbot, review_db):
    browser = review_app.open_window(review_db.path)
    qtbot.addWidget(browser)
    assert isinstance(browser, BrowserView)
    qtbot.waitUntil(lambda: not browser.busy(), timeout=10_000)
    view = review_app.open_window(review_db.path, review_db.ids["desat"])
    qtbot.addWidget(view)
    assert isinstance(view, ReviewView) and view.record.session_id == review_db.ids["desat"]


def test_open_window_refuses_what_is_not_there(review_db, tmp_path):
    with pytest.raises(RecordError, match="session 99 does not exist"):
        review_app.open_window(review_db.path, 99)
    with pytest.raises(RecordError, match="no recordings at"):
        review_app.open_window(review_app.database_path(tmp_path))


def test_run_review_shows_a_window_and_returns_when_closed(review_db):
    # In its own process, as the command runs it: an event loop run and quit inside
    # the test process would leave the application unable to activate later windows.
    code = (f"import sys; from monitor.ui.review.app import run_review; "
            f"sys.exit(run_review({str(review_db.data_dir)!r}, {review_db.ids['surge']}, "
            f"quit_after_s=0.5))")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, env=env)
    assert done.returncode == 0, done.stderr
