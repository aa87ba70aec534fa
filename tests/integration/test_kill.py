"""SIGKILL mid-session loses at most the last second; the next start finds the session."""

import json
import os
import signal
import subprocess
import threading
import time

from monitor.core.session import SessionStatus
from monitor.storage import database
from monitor.storage.store import SessionStore
from tests.integration.helpers import REPO, json_lines, monitor_cmd, run_monitor


def test_sigkill_loses_nothing_older_than_one_second(tmp_path):
    proc = subprocess.Popen(
        monitor_cmd("run", "--headless", "--source", "sim:typical", "--speed", "30",
                    "--data-dir", str(tmp_path), "--readings"),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)
    received: list[tuple[float, dict]] = []

    def read() -> None:
        for line in proc.stdout:
            received.append((time.monotonic(), json.loads(line)))

    reader = threading.Thread(target=read)
    reader.start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and sum(
            1 for _, x in received if x["type"] == "reading") < 1500:
        time.sleep(0.05)
    time.sleep(0.3)  # kill somewhere between two commits
    killed_at = time.monotonic()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    reader.join(10)
    proc.stdout.close()
    proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL

    session = next(x for _, x in received if x["type"] == "session")
    old = {(x["vital"], x["t"]) for at, x in received
           if x["type"] == "reading" and at < killed_at - 1.0}
    assert len(old) > 1000
    db = database.open_database(tmp_path)
    with SessionStore(db) as store:
        assert store.integrity_ok()
        stored = {(r.vital.value, r.t) for r in store.readings(session["id"])}
    missing = old - stored
    assert not missing, f"{len(missing)} readings older than 1 s lost, e.g. {sorted(missing)[:3]}"

    # The next start finds the unfinished session and marks it interrupted; nothing is lost.
    again = run_monitor("run", "--headless", "--duration", "5", "--speed", "max",
                        "--data-dir", str(tmp_path))
    lines = json_lines(again.stdout)
    assert again.returncode == 0, again.stderr
    assert lines[0] == {"type": "recovered", "session": session["id"], "status": "interrupted",
                        "start": session["start"], "end": lines[0]["end"]}
    assert lines[1]["type"] == "session" and lines[1]["id"] != session["id"]
    row = database.session_row(db, session["id"])
    assert row.status is SessionStatus.INTERRUPTED
    assert row.ended_at == max(t for _, t in stored) or row.ended_at >= max(t for _, t in stored)
    with SessionStore(db) as store:
        assert {(r.vital.value, r.t) for r in store.readings(session["id"])} == stored
