"""``infusion-monitor export`` through the real command line, in subprocesses."""

from __future__ import annotations

import hashlib
import os
import socket
import sqlite3
import threading

import pytest

from monitor.review.record import load_record
from monitor.storage import database
from monitor.storage.schema import SCHEMA_VERSION
from tests.export.helpers import everything_in, read_csv, read_vital
from tests.integration.helpers import run_monitor


def _export(recorded, *args: str):
    return run_monitor("export", *args, "--data-dir", str(recorded.data_dir), timeout=300)


def test_csv_export_writes_three_files_and_says_so(recorded, tmp_path):
    out = tmp_path / "s.csv"
    proc = _export(recorded, str(recorded.typical), "--format", "csv", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("\n") == 1
    for name in ("s.csv", "s-events.csv", "s-alarms.csv"):
        assert str(tmp_path / name) in proc.stdout
    rec = load_record(recorded.db, recorded.typical)
    assert len(read_csv(out)) == sum(len(s) for s in rec.numerics.values())


@pytest.mark.parametrize("fmt", ["vital", "edf"])
def test_vital_and_edf_exports(recorded, tmp_path, fmt):
    out = tmp_path / f"s.{fmt}"
    proc = _export(recorded, str(recorded.datex), "--format", fmt, "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert f"exported as {fmt} to {out}" in proc.stdout
    if fmt == "vital":
        assert "Monitor/PLETH" in read_vital(out).trks
    else:
        assert out.read_bytes()[192:197] == b"EDF+C"


def test_deidentified_export_uses_the_data_folders_pseudonym(recorded, tmp_path):
    out = tmp_path / "s.edf"
    proc = _export(recorded, str(recorded.typical), "--format", "edf", "--deidentify",
                   "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    from monitor.export.common import pseudonym, pseudonym_key
    from tests.export.conftest import PATIENT

    alias = pseudonym(PATIENT, pseudonym_key(recorded.data_dir))
    assert out.read_bytes()[8:8 + len(alias)] == alias.encode()
    assert PATIENT.encode() not in out.read_bytes()


def test_hl7_export_writes_the_messages(recorded, tmp_path):
    out = tmp_path / "s.hl7"
    proc = _export(recorded, str(recorded.typical), "--format", "hl7", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert out.read_text().startswith("MSH|")


def test_pdf_export_without_a_display(recorded, tmp_path):
    out = tmp_path / "s.pdf"
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    proc = run_monitor("export", str(recorded.typical), "--format", "pdf", "-o", str(out),
                       "--data-dir", str(recorded.data_dir), timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes().startswith(b"%PDF")
    letter = tmp_path / "letter.pdf"
    proc = run_monitor("export", str(recorded.typical), "--format", "pdf", "-o", str(letter),
                       "--page-size", "Letter", "--data-dir", str(recorded.data_dir),
                       timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr
    # the page box in PDF points: A4 595 x 842, Letter 612 x 792
    assert b"MediaBox [0 0 612.000000 792.000000]" in letter.read_bytes()
    assert b"MediaBox [0 0 595.000000 842.000000]" in out.read_bytes()


class _MllpHost:
    """A real MLLP listener on localhost answering every message with ``code``."""

    def __init__(self, code: str) -> None:
        self.code = code
        self.got: list[str] = []
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            with conn:
                buf = b""
                while chunk := conn.recv(65536):
                    buf += chunk
                    while b"\x1c\r" in buf:
                        frame, buf = buf.split(b"\x1c\r", 1)
                        msg = frame.lstrip(b"\x0b").decode()
                        self.got.append(msg)
                        cid = msg.split("\r")[0].split("|")[9]
                        ack = f"MSH|^~\\&|T|T|||20260101||ACK|{cid}|P|2.6\rMSA|{self.code}|{cid}\r"
                        conn.sendall(b"\x0b" + ack.encode() + b"\x1c\r")

    def close(self) -> None:
        self.server.close()


def test_mllp_delivery_to_a_listening_host(recorded, tmp_path):
    host = _MllpHost("AA")
    try:
        proc = _export(recorded, str(recorded.typical), "--format", "hl7", "-o",
                       str(tmp_path / "s.hl7"), "--mllp", f"127.0.0.1:{host.port}")
    finally:
        host.close()
    assert proc.returncode == 0, proc.stderr
    assert f"sent to 127.0.0.1:{host.port}" in proc.stdout
    assert len(host.got) == (tmp_path / "s.hl7").read_text().count("MSH|")


def test_mllp_refusals_are_reported_with_exit_4_and_kept_in_the_outbox(tmp_path, recorded):
    import shutil

    data = tmp_path / "data"          # a copy: this test's outbox stays its own
    shutil.copytree(recorded.data_dir, data)
    host = _MllpHost("AR")
    try:
        proc = run_monitor("export", str(recorded.typical), "--format", "hl7", "--deidentify",
                           "-o", str(tmp_path / "s.hl7"), "--mllp", f"127.0.0.1:{host.port}",
                           "--data-dir", str(data), timeout=300)
    finally:
        host.close()
    assert proc.returncode == 4, proc.stderr
    assert f"not every HL7 message reached 127.0.0.1:{host.port}" in proc.stderr
    assert (tmp_path / "s.hl7").exists()
    kept = len(list((data / "hl7-outbox").glob("*.hl7")))
    assert kept == len(host.got) > 0
    # The next send delivers what waited first, then its own session; nothing stays.
    host = _MllpHost("AA")
    try:
        proc = run_monitor("export", str(recorded.typical), "--format", "hl7", "--deidentify",
                           "-o", str(tmp_path / "s2.hl7"), "--mllp", f"127.0.0.1:{host.port}",
                           "--data-dir", str(data), timeout=300)
    finally:
        host.close()
    assert proc.returncode == 0, proc.stderr
    assert "messages waiting from earlier sends" in proc.stdout
    assert len(host.got) == 2 * kept     # the same session again: as many messages as kept
    assert list((data / "hl7-outbox").glob("*.hl7")) == []


def test_a_missing_session_exits_2_with_the_message(recorded, tmp_path):
    proc = _export(recorded, "999", "--format", "csv", "-o", str(tmp_path / "s.csv"))
    assert proc.returncode == 2
    assert "session 999 does not exist" in proc.stderr and "exist)" in proc.stderr
    assert everything_in(tmp_path) == []


@pytest.mark.parametrize("bad", ["abc", "0", "-3", "1.5"])
def test_a_session_that_is_not_a_number_exits_2(recorded, tmp_path, bad):
    proc = _export(recorded, bad, "--format", "csv", "-o", str(tmp_path / "s.csv"))
    assert proc.returncode == 2
    assert "session number such as 3" in proc.stderr and repr(bad) in proc.stderr


def test_an_unwritable_path_exits_2_and_leaves_nothing(recorded, tmp_path):
    target = tmp_path / "missing" / "s.edf"
    proc = _export(recorded, str(recorded.typical), "--format", "edf", "-o", str(target))
    assert proc.returncode == 2
    assert f"cannot write {target}: the folder {target.parent} does not exist" in proc.stderr
    assert everything_in(tmp_path) == []


def test_mllp_needs_hl7_and_a_valid_port(recorded, tmp_path):
    proc = _export(recorded, "1", "--format", "csv", "--mllp", "host:6661",
                   "-o", str(tmp_path / "s.csv"))
    assert proc.returncode == 2 and "--mllp applies to --format hl7 only" in proc.stderr
    proc = _export(recorded, "1", "--format", "hl7", "--mllp", "host:99999",
                   "-o", str(tmp_path / "s.hl7"))
    assert proc.returncode == 2 and "HOST:PORT" in proc.stderr
    assert everything_in(tmp_path) == []


def test_a_newer_database_is_refused_and_left_unchanged(tmp_path):
    data = tmp_path / "data"
    db = database.open_database(data)
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    out = tmp_path / "s.csv"
    proc = run_monitor("export", "1", "--format", "csv", "-o", str(out), "--data-dir", str(data))
    assert proc.returncode == 2
    assert "newer than this app" in proc.stderr
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before
    assert not out.exists()


def test_no_database_exits_2(tmp_path):
    proc = run_monitor("export", "1", "--format", "csv", "-o", str(tmp_path / "s.csv"),
                       "--data-dir", str(tmp_path / "empty"))
    assert proc.returncode == 2 and "no database at" in proc.stderr
    assert not (tmp_path / "empty").exists()


def test_review_of_a_missing_session_or_folder_says_so_before_any_window(recorded, tmp_path):
    out = run_monitor("review", "999", "--data-dir", str(recorded.data_dir))
    assert out.returncode == 2
    assert "session 999 does not exist" in out.stderr
    out = run_monitor("review", "--data-dir", str(tmp_path / "none"))
    assert out.returncode == 2 and "no recordings in" in out.stderr
