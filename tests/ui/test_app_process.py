"""The real app process: starts on the simulator by default, records, closes cleanly on SIGTERM."""

import os
import signal
import sqlite3
import subprocess
import time

from monitor.core.session import SessionStatus
from monitor.storage import database
from tests.integration.helpers import REPO, monitor_cmd


def test_default_window_records_and_closes_the_session_on_sigterm(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.Popen(monitor_cmd("--data-dir", str(tmp_path), "--speed", "10", "--no-setup"),
                            cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        rows = []
        while time.monotonic() < deadline:
            if (tmp_path / database.DB_NAME).exists():
                rows = database.list_sessions(tmp_path / database.DB_NAME)
                if rows and rows[0].reading_count > 20:
                    break
            assert proc.poll() is None, proc.stderr.read()
            time.sleep(0.2)
        assert rows and rows[0].source == "sim:typical" and rows[0].simulated
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    row = database.list_sessions(tmp_path / database.DB_NAME)[0]
    assert row.status is SessionStatus.COMPLETED and row.ended_at is not None
    assert database.find_unfinished(tmp_path / database.DB_NAME) == []
    # The window's simulator speaks a real protocol through the real codec, and its
    # bytes are captured like a real device's.
    conn = sqlite3.connect(tmp_path / database.DB_NAME)
    protocol, raw = conn.execute(
        "SELECT protocol, (SELECT COUNT(*) FROM raw_capture WHERE session_id = s.id)"
        " FROM sessions s").fetchone()
    conn.close()
    assert protocol == "datex-s5" and raw > 0


def test_new_session_dialog_comes_first_and_sigterm_there_starts_nothing(tmp_path):
    """Without --no-setup the window asks for the set-up; nothing is recorded before it."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.Popen(monitor_cmd("--data-dir", str(tmp_path), "--speed", "10"),
                            cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (tmp_path / database.DB_NAME).exists():
            assert proc.poll() is None, proc.stderr.read()
            time.sleep(0.1)
        time.sleep(1.0)   # the dialog is up: the app waits for the nurse
        assert proc.poll() is None
        assert database.list_sessions(tmp_path / database.DB_NAME) == []
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert database.list_sessions(tmp_path / database.DB_NAME) == []
