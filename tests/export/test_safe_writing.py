"""Exports that cannot be written: a clear error and nothing left behind."""

from __future__ import annotations

import errno
import os
import stat

import pytest

from monitor.export import write_export
from monitor.export.common import ExportError, atomic_write, atomic_write_all, check_size
from tests.export.helpers import everything_in

FORMATS = [("csv", "s.csv"), ("vital", "s.vital"), ("edf", "s.edf")]


@pytest.mark.parametrize("fmt,name", FORMATS)
def test_a_missing_folder_is_named_and_nothing_is_written(typical, tmp_path, fmt, name):
    target = tmp_path / "no-such-folder" / name
    with pytest.raises(ExportError) as err:
        write_export(typical, fmt, target)
    assert str(target) in str(err.value) and "does not exist" in str(err.value)
    assert everything_in(tmp_path) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders anyway")
@pytest.mark.parametrize("fmt,name", FORMATS)
def test_a_read_only_folder_is_refused_and_nothing_is_written(typical, tmp_path, fmt, name):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        with pytest.raises(ExportError) as err:
            write_export(typical, fmt, folder / name)
        assert "not writable" in str(err.value) and str(folder / name) in str(err.value)
        assert list(folder.iterdir()) == []
    finally:
        folder.chmod(stat.S_IRWXU)


def test_a_folder_in_place_of_the_file_is_refused(typical, tmp_path):
    (tmp_path / "s.edf").mkdir()
    with pytest.raises(ExportError, match="it is a folder"):
        write_export(typical, "edf", tmp_path / "s.edf")


def test_a_full_disk_leaves_no_partial_file_and_keeps_the_old_one(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"previous export")

    def fills_the_disk(tmp):
        with open(tmp, "wb") as f:
            f.write(b"x" * 4096)
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(tmp))

    with pytest.raises(ExportError) as err:
        atomic_write(target, fills_the_disk)
    assert str(err.value) == f"cannot write {target}: the disk is full"
    assert everything_in(tmp_path) == [target]
    assert target.read_bytes() == b"previous export"


def test_a_library_error_is_reported_with_the_path(tmp_path):
    def fails(tmp):
        tmp.write_text("half")
        raise ValueError("bad sample rate")

    with pytest.raises(ExportError, match=r"out\.edf: ValueError: bad sample rate"):
        atomic_write(tmp_path / "out.edf", fails)
    assert everything_in(tmp_path) == []


def test_several_files_are_all_written_or_none(tmp_path):
    def ok(tmp):
        tmp.write_text("fine")

    def fails(tmp):
        raise OSError(errno.EIO, "I/O error")

    with pytest.raises(ExportError, match="b.csv"):
        atomic_write_all([(tmp_path / "a.csv", ok), (tmp_path / "b.csv", fails)])
    assert everything_in(tmp_path) == []
    atomic_write_all([(tmp_path / "a.csv", ok), (tmp_path / "b.csv", ok)])
    assert [p.name for p in everything_in(tmp_path)] == ["a.csv", "b.csv"]


def test_a_complete_file_replaces_the_old_one_with_the_asked_permissions(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    atomic_write(target, lambda tmp: tmp.write_text("new"))
    assert target.read_text() == "new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert everything_in(tmp_path) == [target]


@pytest.mark.parametrize("deidentified", [False, True])
@pytest.mark.parametrize("fmt,name", [*FORMATS, ("hl7", "s.hl7")])
def test_every_export_file_is_owner_only_whatever_the_umask(typical, tmp_path, fmt, name,
                                                            deidentified):
    old = os.umask(0)                       # the loosest umask: 0666 files unless forced
    try:
        paths = write_export(typical, fmt, tmp_path / name, deidentify=deidentified,
                             key=b"k" * 32)
    finally:
        os.umask(old)
    assert len(paths) == (3 if fmt == "csv" else 1)        # CSV: readings, events, alarms
    for path in paths:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
    assert everything_in(tmp_path) == sorted(paths)


def test_a_short_file_from_a_quiet_library_is_an_error_and_nothing_is_left(tmp_path):
    def quietly_short(tmp):
        tmp.write_bytes(b"x" * 10)          # a library that stopped without saying so

    with pytest.raises(ExportError) as err:
        atomic_write(tmp_path / "out.edf", quietly_short, check=check_size(100))
    assert str(err.value) == (f"cannot write {tmp_path / 'out.edf'}: "
                              "the file came out incomplete (10 of 100 bytes)")
    assert everything_in(tmp_path) == []
