"""The PDF session report, read back with Qt's own PDF module (QtPdf).

Sessions are real recordings made by headless simulated runs (``sim:typical``
and ``sim:hypertensive-surge`` at max speed), with the set-up the *New
session* dialog would have saved. Each report is loaded with
``QPdfDocument``: page count and size, the text of every page, and page 1
rendered to an image for the plots.
"""

from __future__ import annotations

import dataclasses
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QSize
from PySide6.QtGui import QImage
from PySide6.QtPdf import QPdfDocument

from monitor.core.alarms.model import LimitChanged
from monitor.core.alarms.profile_file import load_default_profile
from monitor.core.vitals import Vital
from monitor.core.workflow.messages import EventKind, EventTimeCorrected, SessionEvent
from monitor.export.common import pseudonym, pseudonym_key
from monitor.review.record import SessionRecord, load_record
from monitor.review.summary import summarize
from monitor.storage import database
from monitor.ui.report.limits import limit_steps
from monitor.ui.report.pdf import ExportError, write_pdf
from monitor.ui.report.plot import thin
from tests.integration.helpers import REPO, monitor_cmd

SETUP = {"patient_ref": "JD-104", "weight_kg": 81.0, "dose_mg_per_kg": 0.5, "total_mg": 40.5,
         "planned_infusion_min": 40, "course_number": 3, "course_total": 6,
         "clinician": "Dr Okonkwo", "pre_phq9": 14, "pre_madrs": 22}


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    """One database with session 1 = sim:typical and session 2 = sim:hypertensive-surge."""
    data = tmp_path_factory.mktemp("report-data")
    for scenario in ("typical", "hypertensive-surge"):
        subprocess.run(monitor_cmd("run", "--headless", "--source", f"sim:{scenario}",
                                   "--speed", "max", "--data-dir", str(data)),
                       check=True, capture_output=True, timeout=120, cwd=REPO)
    path = database.open_database(data)
    for sid in (1, 2):
        database.save_setup(path, sid, SETUP)
    return path


@pytest.fixture(scope="module")
def typical(db) -> SessionRecord:
    return load_record(db, 1)


@pytest.fixture(scope="module")
def surge(db) -> SessionRecord:
    return load_record(db, 2)


def read_pdf(path: Path) -> tuple[QPdfDocument, list[str]]:
    """The document and each page's text with whitespace runs made single spaces."""
    doc = QPdfDocument()
    assert doc.load(str(path)) == QPdfDocument.Error.None_, f"QtPdf cannot read {path}"
    texts = [" ".join(doc.getAllText(i).text().split()) for i in range(doc.pageCount())]
    return doc, texts


def words(text: str) -> str:
    return " ".join(text.split())


def session_clock(record: SessionRecord, t: float) -> str:
    s = int(round(t - record.start))
    return f"{s // 60}:{s % 60:02d}"


@pytest.fixture(scope="module")
def typical_pdf(qapp, typical, tmp_path_factory) -> tuple[int, QPdfDocument, str]:
    path = tmp_path_factory.mktemp("typical") / "typical.pdf"
    pages = write_pdf(typical, path)
    doc, texts = read_pdf(path)
    return pages, doc, " ".join(texts)


@pytest.fixture(scope="module")
def surge_pdf(qapp, surge, tmp_path_factory) -> tuple[int, QPdfDocument, list[str]]:
    path = tmp_path_factory.mktemp("surge") / "surge.pdf"
    pages = write_pdf(surge, path)
    doc, texts = read_pdf(path)
    return pages, doc, texts


# -- content ------------------------------------------------------------------

def test_header_names_patient_clinician_dose_and_course(typical, typical_pdf):
    pages, doc, text = typical_pdf
    assert pages == doc.pageCount() >= 1
    for expected in ("Infusion session report", "JD-104", "Dr Okonkwo", "81 kg",
                     "0.5 mg/kg, total 40.5 mg", "planned 40 min, actual 40 min", "3 of 6",
                     "Ketamine infusion, adult", "sim:typical (simulated)"):
        assert expected in text, expected
    assert _local_date(typical) in text


def _local_date(record: SessionRecord) -> str:
    from datetime import datetime, timedelta, timezone
    zone = timezone(timedelta(seconds=record.utc_offset_s or 0))
    return datetime.fromtimestamp(record.start, zone).strftime("%Y-%m-%d")


def test_every_event_is_listed_with_its_session_time(typical, typical_pdf):
    _, _, text = typical_pdf
    assert len(typical.events) == 3
    for e in typical.events:
        assert f"{session_clock(typical, e.t)}" in text
        assert f"{e.kind.label} {e.text}" in text, e.text
    assert "Infusion started" in text and "Infusion stopped" in text


def test_summary_numbers_come_from_summarize(typical, typical_pdf):
    _, _, text = typical_pdf
    s = summarize(typical, load_default_profile())
    sys_ = s.vitals[Vital.NIBP_SYS]
    assert f"{sys_.baseline:.0f} {sys_.peak:.0f} at {session_clock(typical, sys_.peak_t)}" in text
    hr = s.vitals[Vital.HR]
    assert f"{hr.peak:.0f} at {session_clock(typical, hr.peak_t)}" in text
    assert f"Lowest SpO2 {s.lowest_spo2:.0f} %" in text
    assert "before: PHQ-9 14, MADRS 22" in text
    assert "infusion 40 min" in text


def test_alarm_log_lists_every_alarm_and_time_beyond_limits(surge, surge_pdf):
    pages, _, texts = surge_pdf
    text = " ".join(texts)
    assert len(surge.alarms) >= 6
    for a in surge.alarms:
        assert words(a.message) in text, a.message
        assert f"{session_clock(surge, a.t)}" in text
    s = summarize(surge, load_default_profile())
    beyond = s.vitals[Vital.NIBP_SYS].time_beyond["high_high"]
    assert beyond > 0
    assert f"above 180 (H): {int(round(beyond)) // 60} min" in text
    assert "high 2" in text                       # alarm counts by priority
    for n, page_text in enumerate(texts, start=1):
        assert f"page {n} of {pages}" in page_text


def test_corrected_event_shows_where_it_was(qapp, typical, tmp_path):
    e = typical.events[0]
    moved = dataclasses.replace(typical, corrections=[
        EventTimeCorrected(e.event_id, e.t - 125, e.t, "RN", e.t + 60)])
    path = tmp_path / "corrected.pdf"
    write_pdf(moved, path)
    text = " ".join(read_pdf(path)[1])
    assert f"{e.text} scenario {session_clock(typical, e.t - 125)}" in text


def test_long_lists_continue_on_more_pages(qapp, surge, surge_pdf, tmp_path):
    many = [SessionEvent(f"n{i}", surge.start + 90 + 25 * i, list(EventKind)[i % len(EventKind)],
                         f"observation {i} " + "calm " * (i % 9), "RN Ade") for i in range(150)]
    alarms = sorted((dataclasses.replace(a, t=a.t + k) for k in range(10) for a in surge.alarms),
                    key=lambda a: a.t)
    long = dataclasses.replace(surge, events=many, alarms=alarms)
    path = tmp_path / "long.pdf"
    pages = write_pdf(long, path)
    doc, texts = read_pdf(path)
    assert pages == doc.pageCount() > surge_pdf[0] + 2
    text = " ".join(texts)
    for e in many:
        assert words(f"{e.kind.label} {e.text}") in text, e.text
    assert "Alarm log (continued)" in text and "Events (continued)" in text
    for n, page_text in enumerate(texts, start=1):
        assert f"page {n} of {pages}" in page_text
    # a continued table repeats its header on the new page
    continued = [t for t in texts if "Events (continued)" in t]
    assert all("Kind Text Author Corrected from" in t for t in continued)


def test_deidentified_report_has_no_patient_clinician_or_date(qapp, typical, tmp_path):
    path = tmp_path / "anon.pdf"
    key = pseudonym_key(tmp_path)
    write_pdf(typical, path, deidentify=True, key=key)
    _, texts = read_pdf(path)
    text = " ".join(texts)
    alias = pseudonym("JD-104", key)
    assert f"Patient {alias}" in text and "DE-IDENTIFIED" in text
    assert "JD-104" not in text
    assert "Okonkwo" not in text
    assert not re.search(r"\d{4}-\d{2}-\d{2}", text), "an absolute date is printed"
    assert _local_date(typical) not in text
    assert "Local" not in text and "clock" not in text
    for e in typical.events:                # times still there, relative to the start
        assert session_clock(typical, e.t) in text


def _info_dictionary(raw: bytes) -> bytes:
    """The bytes of the PDF's Info dictionary (the trailer's /Info object)."""
    num = re.search(rb"/Info (\d+) 0 R", raw).group(1)
    start = raw.index(b"\n" + num + b" 0 obj") + 1
    return raw[start:raw.index(b"endobj", start)]


def test_deidentified_report_metadata_has_no_export_date_or_names(qapp, typical, tmp_path):
    path = tmp_path / "JD-104.pdf"
    write_pdf(typical, path, deidentify=True, key=pseudonym_key(tmp_path))
    doc, _ = read_pdf(path)
    meta = QPdfDocument.MetaDataField
    assert not doc.metaData(meta.CreationDate).isValid()
    assert not doc.metaData(meta.ModificationDate).isValid()
    for field in (meta.Title, meta.Author, meta.Subject, meta.Keywords, meta.Producer,
                  meta.Creator):
        value = str(doc.metaData(field) or "")
        assert "JD-104" not in value and "Okonkwo" not in value
        assert not re.search(r"\d{4}-?\d{2}-?\d{2}|\d{2}:\d{2}", value), (field, value)
    raw = path.read_bytes()
    info = _info_dictionary(raw)
    assert b"CreationDate" not in info and b"ModDate" not in info and b"(D:" not in info
    assert not re.search(rb"20\d\d-\d\d-\d\dT", raw), "a date in the XMP metadata"
    assert b"JD-104" not in raw


def test_identified_report_keeps_its_creation_date(qapp, typical, typical_pdf):
    _, doc, _ = typical_pdf
    assert doc.metaData(QPdfDocument.MetaDataField.CreationDate).isValid()


def test_report_files_are_owner_only_whatever_the_umask(qapp, typical, tmp_path):
    old = os.umask(0)
    try:
        for deidentified in (False, True):
            write_pdf(typical, tmp_path / f"{deidentified}.pdf", deidentify=deidentified)
    finally:
        os.umask(old)
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in tmp_path.iterdir()}
    assert modes == {"False.pdf": 0o600, "True.pdf": 0o600}


# -- drawing ------------------------------------------------------------------

def render(doc: QPdfDocument, page: int = 0, zoom: float = 2.0) -> QImage:
    size = doc.pagePointSize(page)
    return doc.render(page, QSize(int(size.width() * zoom), int(size.height() * zoom)))


def gray_array(img: QImage) -> np.ndarray:
    g = img.convertToFormat(QImage.Format.Format_Grayscale8)
    arr = np.frombuffer(g.constBits(), dtype=np.uint8).reshape(g.height(), g.bytesPerLine())
    return arr[:, :g.width()].copy()


def plot_area(doc: QPdfDocument) -> np.ndarray:
    """Page 1 in grey levels, cut to the trend plots (below the header, above the summary)."""
    gray = gray_array(render(doc))
    h, w = gray.shape
    return gray[int(h * 0.30):int(h * 0.62), int(w * 0.15):int(w * 0.85)]


def test_plots_are_drawn_in_dark_lines_on_page_one(qapp, typical, typical_pdf, tmp_path):
    _, doc, _ = typical_pdf
    plot = plot_area(doc)
    assert (plot < 250).mean() > 0.5, "the phase bands should shade the plot area"
    dark = plot < 60
    assert ((dark.sum(axis=0)) > 0).mean() > 0.8, "dark pixels should span the session"
    # the same session with no readings: what is left is frame, grid, limits and labels
    path = tmp_path / "empty.pdf"
    write_pdf(dataclasses.replace(typical, numerics={}), path)
    empty, texts = read_pdf(path)
    assert "not recorded" in texts[0]
    lines = dark.sum() - (plot_area(empty) < 60).sum()
    assert lines > 3000, f"the vitals add only {lines} dark pixels to the plots"


def test_report_uses_no_colour_and_no_raster_images(typical_pdf, tmp_path, qapp, typical):
    _, doc, _ = typical_pdf
    img = render(doc).convertToFormat(QImage.Format.Format_RGB32)
    rgb = np.frombuffer(img.constBits(), dtype=np.uint8).reshape(img.height(), -1, 4)[..., :3]
    spread = rgb.max(axis=2).astype(int) - rgb.min(axis=2).astype(int)
    assert spread.max() <= 8, "colour would be lost when printed in black and white"
    path = tmp_path / "vector.pdf"
    write_pdf(typical, path)
    assert b"/Subtype /Image" not in path.read_bytes(), "the plots must be vector, not a picture"


def test_letter_and_a4_page_sizes(qapp, typical, tmp_path):
    sizes = {}
    for name in ("A4", "Letter"):
        path = tmp_path / f"{name}.pdf"
        write_pdf(typical, path, page_size=name)
        doc, _ = read_pdf(path)
        s = doc.pagePointSize(0)
        sizes[name] = (round(s.width()), round(s.height()))
    assert sizes == {"A4": (595, 842), "Letter": (612, 792)}


# -- errors and progress -------------------------------------------------------

def test_unwritable_path_raises_and_leaves_no_file(qapp, typical, tmp_path):
    missing = tmp_path / "no-such-folder" / "report.pdf"
    with pytest.raises(ExportError, match=re.escape(str(missing))):
        write_pdf(typical, missing)
    assert not missing.parent.exists()
    occupied = tmp_path / "out" / "report.pdf"
    occupied.mkdir(parents=True)          # a folder where the file should go: rename fails
    with pytest.raises(ExportError, match=re.escape(str(occupied))):
        write_pdf(typical, occupied)
    assert [p.name for p in occupied.parent.iterdir()] == ["report.pdf"]
    assert occupied.is_dir() and not any(occupied.iterdir())


def test_bad_page_size_is_refused_with_the_choices(qapp, typical, tmp_path):
    with pytest.raises(ValueError, match="'A5'.*A4, Letter"):
        write_pdf(typical, tmp_path / "x.pdf", page_size="A5")
    assert not (tmp_path / "x.pdf").exists()


def test_progress_counts_up_to_done(qapp, typical, tmp_path):
    seen: list[tuple[int, int]] = []
    pages = write_pdf(typical, tmp_path / "p.pdf", progress=lambda d, t: seen.append((d, t)))
    done = [d for d, _ in seen]
    assert done == sorted(done) and len({t for _, t in seen}) == 1
    assert seen[-1][0] == seen[-1][1]
    assert len(seen) >= pages + 1


def test_works_with_no_display_and_no_qt_application(db, tmp_path):
    """The CLI's case: a fresh process, no QApplication, no platform chosen, no display."""
    out = tmp_path / "cli.pdf"
    code = ("import sys; from pathlib import Path; from monitor.review.record import load_record;"
            "from monitor.ui.report.pdf import write_pdf;"
            f"print(write_pdf(load_record(Path({str(db)!r}), 2), {str(out)!r}))")
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "DISPLAY",
                                                            "WAYLAND_DISPLAY")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, cwd=REPO, env=env)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.strip()) >= 1 and out.read_bytes().startswith(b"%PDF")


# -- pieces ---------------------------------------------------------------------

def test_limit_changes_become_steps(typical):
    profile = load_default_profile()
    t = typical.start + 1800
    change = LimitChanged(t, "nibp_sys.high.medium", "limit", 160.0, 170.0, "Dr Okonkwo")
    steps = limit_steps(profile, [change], typical.start, typical.end)
    sys_medium = [s for s in steps[Vital.NIBP_SYS] if s.key == "high_medium"]
    assert [(s.t0, s.t1, s.value) for s in sys_medium] == [
        (typical.start, t, 160.0), (t, typical.end, 170.0)]


def test_thinning_keeps_peaks_and_gaps():
    t = np.arange(0.0, 3600.0)
    v = np.full_like(t, 80.0)
    v[1234] = 150.0                     # a one-second spike
    v[2000:2100] = np.nan               # sensor off: the line must break
    runs = thin(t, v, 0.0, 30.0)
    assert len(runs) == 2
    assert max(hi.max() for _, _, hi, _ in runs) == 150.0
    assert sum(len(tb) for tb, _, _, _ in runs) <= 3600 / 30 + 2
