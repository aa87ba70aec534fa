"""De-identified exports: a stable pseudonym, relative times, no names, ports or serials."""

from __future__ import annotations

import gzip
import re
import stat
from datetime import datetime

import pytest

from monitor.export import write_export
from monitor.export.common import (
    ExportError,
    deidentify,
    is_deidentified,
    pseudonym,
    pseudonym_key,
)
from tests.export.conftest import CLINICIAN, NURSE, PATIENT, PORT, SERIAL_NO
from tests.export.helpers import everything_in


@pytest.fixture(scope="module")
def anon_files(tmp_path_factory, recorded, typical):
    key = pseudonym_key(recorded.data_dir)
    folder = tmp_path_factory.mktemp("anon")
    for fmt, name in (("csv", "s.csv"), ("vital", "s.vital"), ("edf", "s.edf")):
        write_export(typical, fmt, folder / name, deidentify=True, key=key)
    return key, everything_in(folder)


def _contents(path) -> bytes:
    raw = path.read_bytes()
    return gzip.decompress(raw) if path.suffix == ".vital" else raw


def _dates(rec) -> list[bytes]:
    """The session's date in the spellings a file could hold it."""
    day = datetime.fromtimestamp(rec.start)
    return [day.strftime(f).encode() for f in ("%Y-%m-%d", "%d.%m.%y", "%d-%b-%Y", "%Y%m%d")] \
        + [day.strftime("%d-%b-%Y").upper().encode()]


def test_no_name_reference_port_serial_or_date_in_any_file(anon_files, typical):
    _, files = anon_files
    assert len(files) == 5
    banned = [PATIENT, CLINICIAN, NURSE, PORT, SERIAL_NO, "scenario", "ttyUSB"]
    for path in files:
        body = _contents(path)
        for word in banned:
            assert word.encode() not in body, (path.name, word)
        for date in _dates(typical):
            assert date not in body, (path.name, date)
        start = str(int(typical.start)).encode()
        assert start not in body, path.name          # no absolute Unix time either
        assert not re.search(rb"20\d\d-\d\d-\d\dT", body), path.name


def test_the_pseudonym_is_stable_and_keyed(anon_files, recorded, typical):
    key, files = anon_files
    alias = pseudonym(PATIENT, key)
    assert re.fullmatch(r"P-[0-9a-f]{10}", alias)
    edf = next(p for p in files if p.suffix == ".edf")
    assert alias.encode() in edf.read_bytes()[:256]
    assert pseudonym_key(recorded.data_dir) == key              # kept in the data folder
    assert deidentify(typical, key).patient_ref == alias
    assert pseudonym(f" {PATIENT} ", key) == alias
    assert pseudonym(PATIENT, b"another clinic's key".ljust(32)) != alias
    assert pseudonym("MRN-0042918", key) != alias


def test_the_key_file_is_owner_only_and_a_damaged_one_is_refused(tmp_path):
    key = pseudonym_key(tmp_path)
    path = tmp_path / "pseudonym.key"
    assert len(key) == 32 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert pseudonym_key(tmp_path) == key
    path.write_text("not a key\n")
    with pytest.raises(ExportError, match="damaged"):
        pseudonym_key(tmp_path)
    assert path.read_text() == "not a key\n"                  # left for a human to decide


def test_deidentified_record_times_start_at_zero(typical):
    anon = deidentify(typical, b"k" * 32)
    assert is_deidentified(anon) and not is_deidentified(typical)
    assert anon.session.started_at == 0.0
    assert anon.session.ended_at == pytest.approx(typical.end - typical.start)
    assert anon.events[0].t == pytest.approx(typical.events[0].t - typical.start)
    assert anon.utc_offset_s is None
    assert anon.setup["clinician"] is None and anon.setup["discharge_by"] is None
    assert anon.setup["weight_kg"] == typical.setup["weight_kg"]
    assert anon.setup["discharge_at"] == pytest.approx(
        typical.setup["discharge_at"] - typical.start)
    assert all(e.author == "" for e in anon.events)
    assert [e.text for e in anon.events] == [e.text for e in typical.events]
    assert anon.session.source == "sim"
    assert "(" not in (anon.alarm_profile or "")
    assert deidentify(anon, b"other key".ljust(32)) is anon      # once is enough


def test_without_a_key_there_is_no_pseudonym(typical):
    assert deidentify(typical).patient_ref is None


def test_writers_treat_a_deidentified_record_as_such(typical, tmp_path):
    anon = deidentify(typical, b"k" * 32)
    readings = write_export(anon, "csv", tmp_path / "s.csv")[0]
    assert readings.read_text(encoding="utf-8").startswith("t_s,vital,")
    (edf,) = write_export(anon, "edf", tmp_path / "s.edf")
    assert edf.read_bytes()[88:99] == b"Startdate X"


def test_no_export_time_or_file_name_in_any_header(typical, tmp_path):
    """What could date the export or name the file: gzip's MTIME and FNAME, EDF's start."""
    key = b"k" * 32
    for deidentified in (True, False):
        (vital,) = write_export(typical, "vital", tmp_path / f"{PATIENT}-{deidentified}.vital",
                                deidentify=deidentified, key=key)
        head = vital.read_bytes()[:10]
        assert head[:3] == b"\x1f\x8b\x08" and head[3] & 0x08 == 0, "gzip FNAME field present"
        assert head[4:8] == b"\0\0\0\0", "gzip MTIME set"
        assert PATIENT.encode() not in vital.read_bytes()
    (edf,) = write_export(typical, "edf", tmp_path / "a.edf", deidentify=True, key=key)
    header = edf.read_bytes()[:256]
    assert header[168:184] == b"01.01.8500.00.00"           # EDF+ anonymous start
    assert header[88:99] == b"Startdate X"
    hl7 = write_export(typical, "hl7", tmp_path / "a.hl7", deidentify=True, key=key)[0]
    stamps = re.findall(rb"\|(\d{14}\.\d{3}[+-]\d{4})\|", hl7.read_bytes())
    assert stamps and all(s.startswith(b"2000010") for s in stamps)   # session clock from 2000
    readings = write_export(typical, "csv", tmp_path / "a.csv", deidentify=True, key=key)
    for path in readings:
        assert path.read_text(encoding="utf-8").startswith("t_s,")
