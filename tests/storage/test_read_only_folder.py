"""Listing and export only read: they work on a data folder the user cannot write.

SQLite's plain read-only open of a WAL database wants to create the
``-shm`` index beside it, so a read-only folder used to fail with "cannot
write the database" (and the start-time check then called the file damaged).
The checks run as ``nobody`` when the tests run as root (root writes anywhere).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from monitor.storage import database
from tests.integration.helpers import REPO, run_monitor

AS_NOBODY = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]


def _reader_prefix() -> list[str]:
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root and setpriv is missing: root would write anyway")
    probe = subprocess.run([*AS_NOBODY, sys.executable, "-c", "import monitor"], cwd=REPO,
                           capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"running as root and nobody cannot run this Python: {probe.stderr[-200:]}")
    return AS_NOBODY


@pytest.fixture
def shared_dir():
    """A folder outside root's private pytest folder, so ``nobody`` can reach it."""
    folder = Path(tempfile.mkdtemp(prefix="im-ro-"))
    os.chmod(folder, 0o755)
    yield folder
    for p in [folder, *folder.rglob("*")]:
        os.chmod(p, 0o700 if p.is_dir() else 0o600)
    shutil.rmtree(folder)


def _as_reader(prefix: list[str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*prefix, sys.executable, "-m", "monitor", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, PYTHONPATH=str(REPO)))


def _hand_over(folder: Path) -> None:
    """Make ``folder`` the reader's, and read-only for everyone."""
    for p in [folder, *folder.rglob("*")]:
        if os.geteuid() == 0:
            os.chown(p, 65534, 65534)
        os.chmod(p, 0o500 if p.is_dir() else 0o400)


def _record(data: Path) -> None:
    proc = run_monitor("run", "--headless", "--source", "sim:typical", "--duration", "60",
                       "--speed", "max", "--data-dir", str(data))
    assert proc.returncode == 0, proc.stderr


def test_sessions_and_export_on_a_read_only_folder(tmp_path, shared_dir):
    prefix = _reader_prefix()
    data, out = shared_dir / "data", shared_dir / "out"
    _record(data)
    out.mkdir()
    before = sorted(p.name for p in data.iterdir())
    _hand_over(data)
    if os.geteuid() == 0:
        os.chown(out, 65534, 65534)
    listing = _as_reader(prefix, "sessions", "--json", "--data-dir", str(data))
    assert listing.returncode == 0, listing.stderr
    [row] = json.loads(listing.stdout)
    assert row["status"] == "completed" and row["readings"] > 0
    exported = _as_reader(prefix, "export", str(row["id"]), "--format", "csv", "--output",
                          str(out / "s.csv"), "--data-dir", str(data))
    assert exported.returncode == 0, exported.stderr
    assert (out / "s.csv").stat().st_size > 0
    assert sorted(p.name for p in data.iterdir()) == before   # nothing created beside it


def test_a_waiting_log_in_a_read_only_folder_is_read_from_a_copy(shared_dir):
    prefix = _reader_prefix()
    data = shared_dir / "data"
    _record(data)
    db = data / database.DB_NAME
    reader = shared_dir / "reader"
    reader.mkdir()
    writer = database.connect(db)
    try:   # a change still in the write-ahead log, as when a session was cut off
        writer.execute("PRAGMA wal_autocheckpoint = 0")
        writer.execute("UPDATE sessions SET source = 'only-in-the-log'")
        for name in (db.name, db.name + "-wal"):
            shutil.copyfile(data / name, reader / name)
    finally:
        writer.close()
    assert (reader / (db.name + "-wal")).stat().st_size > 0
    _hand_over(reader)
    listing = _as_reader(prefix, "sessions", "--json", "--data-dir", str(reader))
    assert listing.returncode == 0, listing.stderr
    assert [r["source"] for r in json.loads(listing.stdout)] == ["only-in-the-log"]
    assert sorted(p.name for p in reader.iterdir()) == [db.name, db.name + "-wal"]


def test_listing_a_folder_with_no_recordings_creates_nothing(tmp_path):
    empty = tmp_path / "nothing-here"
    proc = run_monitor("sessions", "--data-dir", str(empty))
    assert proc.returncode == 0 and "no sessions recorded" in proc.stdout
    assert not empty.exists()
