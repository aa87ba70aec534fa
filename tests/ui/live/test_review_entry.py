"""The live window's "Review…" opens the session browser in a process of its own (§11)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from monitor.app import review_command
from monitor.storage.database import DB_NAME
from monitor.ui.live.review_launcher import NO_REVIEW_TEXT
from tests.integration.helpers import REPO

pytestmark = pytest.mark.qt_log_ignore(r"does not support propagateSizeHints")  # offscreen


def _marker_command(path) -> list[str]:
    """A stand-in review process that leaves a file behind, so the test sees it ran."""
    return [sys.executable, "-c",
            "import pathlib, sys; pathlib.Path(sys.argv[1]).write_text(' '.join(sys.argv[2:]))",
            str(path), "review", "--data-dir", "X"]


def test_review_button_and_ctrl_r_start_the_review_process(qtbot, make_view, tmp_path):
    marker = tmp_path / "opened"
    view = make_view(review_command=_marker_command(marker))
    view.show()
    qtbot.waitExposed(view)
    button = view.events_bar.review_button
    assert button.isVisible() and button.text() == "Review\u2026"
    button.click()
    qtbot.waitUntil(marker.exists, timeout=15_000)
    assert marker.read_text() == "review --data-dir X"
    assert view.review.started == 1
    marker.unlink()
    shortcut = next(s for s in view.shortcuts if s.objectName() == "review")
    assert shortcut.key().toString() == "Ctrl+R"
    shortcut.activated.emit()
    qtbot.waitUntil(marker.exists, timeout=15_000)
    assert view.review.started == 2
    assert view.refusal_box is None


def test_without_a_data_folder_the_window_says_why(qtbot, make_view):
    view = make_view()
    view.events_bar.review_button.click()
    assert view.refusal_box is not None
    assert view.refusal_box.text() == NO_REVIEW_TEXT
    assert view.review.started == 0


def test_the_apps_review_command_opens_the_review_of_that_folder(tmp_path):
    """The real command reaches the review's own checks (here: an empty folder)."""
    command = review_command(tmp_path / DB_NAME)
    assert command[:4] == [sys.executable, "-m", "monitor", "review"]
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPO, timeout=60,
                          check=False)
    assert done.returncode == 2
    assert f"no recordings in {tmp_path}" in done.stderr
