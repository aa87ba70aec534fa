"""A damaged database is refused untouched at start; loose permissions are tightened (issue 11)."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import stat

import numpy as np
import pytest

from monitor.storage import database
from tests.integration.helpers import json_lines, run_monitor


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _damaged_database(folder):
    """A real app database, several hundred pages, with random bytes inside (header intact)."""
    db = database.open_database(folder)
    with sqlite3.connect(db) as conn:
        database.create_session(db, started_at=1_760_000_000.0, source="sim:typical",
                                simulated=True)
        conn.execute("CREATE TABLE filler (x BLOB)")
        conn.executemany("INSERT INTO filler VALUES (?)", [(os.urandom(300),)] * 3000)
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(db.read_bytes())
    rng = np.random.default_rng(7)
    for page in range(3, len(data) // 4096, 7):          # page 1 (the header) stays intact
        at = page * 4096 + 100
        data[at:at + 200] = rng.integers(0, 256, 200, dtype=np.uint8).tobytes()
    db.write_bytes(bytes(data))
    return db


def test_a_damaged_database_is_refused_at_start_and_left_untouched(tmp_path):
    db = _damaged_database(tmp_path / "data")
    before = _digest(db)
    with pytest.raises(database.DamagedDatabase, match="is damaged.*--new-database"):
        database.open_database(tmp_path / "data")
    assert _digest(db) == before


def test_headless_run_on_a_damaged_database_is_exit_2_with_a_way_forward(tmp_path):
    db = _damaged_database(tmp_path / "data")
    before = _digest(db)
    proc = run_monitor("run", "--headless", "--speed", "max", "--duration", "30",
                       "--data-dir", str(tmp_path / "data"))
    assert proc.returncode == 2, proc.stderr
    assert "is damaged" in proc.stderr and "--new-database" in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    assert _digest(db) == before


def test_new_database_keeps_the_damaged_one_beside_a_fresh_one(tmp_path):
    db = _damaged_database(tmp_path / "data")
    before = _digest(db)
    proc = run_monitor("run", "--headless", "--speed", "max", "--duration", "30",
                       "--new-database", "--data-dir", str(tmp_path / "data"))
    assert proc.returncode == 0, proc.stderr
    [kept] = (tmp_path / "data").glob("infusion-monitor.damaged-*.sqlite3")
    assert _digest(kept) == before
    assert [r.source for r in database.list_sessions(db)] == ["sim:typical"]
    assert any(line["type"] == "summary" for line in json_lines(proc.stdout))


def test_a_database_that_is_not_sqlite_is_refused(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir(mode=0o700)
    (folder / database.DB_NAME).write_bytes(b"not a database at all" * 100)
    with pytest.raises(database.DamagedDatabase, match="is damaged"):
        database.open_database(folder)


def test_loose_permissions_are_made_owner_only(tmp_path):
    folder = tmp_path / "data"
    db = database.open_database(folder)
    os.chmod(folder, 0o777)
    os.chmod(db, 0o644)
    database.open_database(folder)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    for side in folder.glob(database.DB_NAME + "-*"):
        assert stat.S_IMODE(side.stat().st_mode) & 0o077 == 0, side
