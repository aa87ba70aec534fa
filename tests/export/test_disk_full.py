"""A real full disk (or file-size limit) under ``infusion-monitor export``, for every format.

EDFlib and Qt's PDF writer do not raise when a write fails: an export that
ran out of room must still end with exit 2, the reason, and no file (the
older file at the path is kept, no temporary is left).
"""

from __future__ import annotations

import resource
import shutil
import subprocess

import pytest

from tests.export.helpers import everything_in
from tests.integration.helpers import REPO, monitor_cmd, run_monitor

LIMIT = 36 * 1024
"""Bytes a file may grow to: above SQLite's 32 KiB shared-memory file, below every export."""

FORMATS = [("csv", []), ("vital", []), ("edf", []), ("hl7", []), ("pdf", []),
           ("edf", ["--deidentify"]), ("pdf", ["--deidentify"])]


def _limit_file_size():
    resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, LIMIT))


@pytest.mark.parametrize("fmt,extra", FORMATS)
def test_a_file_size_limit_is_exit_2_with_the_reason_and_no_file(recorded, tmp_path, fmt,
                                                                  extra):
    out = tmp_path / f"s.{fmt}"
    out.write_bytes(b"an older export")
    proc = run_monitor("export", str(recorded.typical), "--format", fmt, "-o", str(out), *extra,
                       "--data-dir", str(recorded.data_dir), preexec_fn=_limit_file_size,
                       timeout=300)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "exported" not in proc.stdout
    assert "Traceback" not in proc.stderr
    assert f"cannot write {out}" in proc.stderr
    assert "file size limit" in proc.stderr
    assert everything_in(tmp_path) == [out]
    assert out.read_bytes() == b"an older export"


def _can_mount_tmpfs() -> bool:
    if shutil.which("unshare") is None:
        return False
    script = ('d=$(mktemp -d) && mount -t tmpfs -o size=64k tmpfs "$d" '
              '&& umount "$d"; r=$?; rmdir "$d"; exit $r')
    done = subprocess.run(["unshare", "-rm", "sh", "-c", script], check=False,
                          capture_output=True, timeout=30)
    return done.returncode == 0


needs_tmpfs = pytest.mark.skipif(not _can_mount_tmpfs(),
                                 reason="no private mount namespace to mount a small tmpfs")


@needs_tmpfs
@pytest.mark.parametrize("fmt,extra", FORMATS)
def test_a_full_disk_is_exit_2_the_disk_is_full_and_no_file(recorded, tmp_path, fmt, extra):
    """The export goes to a 32 KiB tmpfs mounted in a private namespace (gone afterwards)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    out = disk / f"s.{fmt}"
    cmd = " ".join(f"'{a}'" for a in monitor_cmd(
        "export", str(recorded.typical), "--format", fmt, "-o", str(out), *extra,
        "--data-dir", str(recorded.data_dir)))
    script = (f"mount -t tmpfs -o size=32k tmpfs '{disk}' || exit 99; "
              f"{cmd}; rc=$?; echo \"listing:$(ls -A '{disk}' | tr '\\n' ' ')\"; exit $rc")
    proc = subprocess.run(["unshare", "-rm", "sh", "-c", script], check=False,
                          capture_output=True, text=True, timeout=300, cwd=REPO)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "exported" not in proc.stdout
    assert "Traceback" not in proc.stderr
    assert f"cannot write {out}: the disk is full" in proc.stderr
    assert proc.stdout.strip().splitlines()[-1].strip() == "listing:"   # nothing left behind
