"""The report's RR/EtCO2 panel (only when recorded) and its SIMULATED / REPLAY watermark.

Real sessions recorded headless: the typical scenario through the Datex S/5
protocol (RR and EtCO2), the same session replayed from its raw capture, and
the typical scenario through a Nonin oximeter (no RR, no EtCO2). The PDFs are
written by :func:`write_pdf` and read back with QtPdf, page by page.
"""

from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QSize
from PySide6.QtPdf import QPdfDocument

from monitor.core.vitals import Vital
from monitor.review.record import SessionRecord, load_record
from monitor.storage import database
from monitor.ui.report.charts import ChartData
from monitor.ui.report.pdf import WATERMARK_MEANING, watermark_text, write_pdf
from monitor.ui.report.plot import RESP_PANEL
from monitor.ui.report.text import Clock
from tests.integration.helpers import REPO, monitor_cmd

RESP_TITLE = "RR/EtCO2(/min,mmHg)"
"""The panel's rotated title, with the spaces QtPdf puts in its lines taken out."""


@pytest.fixture(scope="module")
def records(tmp_path_factory) -> dict[str, SessionRecord]:
    data = tmp_path_factory.mktemp("report-resp")
    for source in (("sim:typical", "--protocol", "datex-s5"), ("replay:1",),
                   ("sim:typical", "--protocol", "nonin-2")):
        subprocess.run(monitor_cmd("run", "--headless", "--source", *source, "--speed", "max",
                                   "--data-dir", str(data)),
                       check=True, capture_output=True, timeout=300, cwd=REPO)
    path = database.open_database(data)
    return {"datex": load_record(path, 1), "replay": load_record(path, 2),
            "oximeter": load_record(path, 3)}


def pages_text(path: Path) -> tuple[QPdfDocument, list[str]]:
    """Each page's text with every whitespace removed (rotated text comes in pieces)."""
    doc = QPdfDocument()
    assert doc.load(str(path)) == QPdfDocument.Error.None_
    return doc, ["".join(doc.getAllText(i).text().split()) for i in range(doc.pageCount())]


def _chart(record: SessionRecord) -> ChartData:
    return ChartData(record.start, record.end, record.numerics, record.phases, {}, [],
                     record.alarm_spans(), Clock(record.start, record.utc_offset_s))


def test_rr_and_etco2_get_a_panel_when_recorded(qapp, records, tmp_path):
    datex = records["datex"]
    for vital in (Vital.RESP_RATE, Vital.ETCO2):
        assert np.isfinite(datex.numerics[vital].v).any()
    assert RESP_PANEL in _chart(datex).panels
    path = tmp_path / "datex.pdf"
    write_pdf(datex, path)
    _, texts = pages_text(path)
    assert RESP_TITLE in texts[0]
    assert "SpO2RREtCO2limitM" in texts[0]            # the legend names both series


def test_no_rr_etco2_panel_for_an_oximeter_session(qapp, records, tmp_path):
    oximeter = records["oximeter"]
    assert not any(v in oximeter.numerics and np.isfinite(oximeter.numerics[v].v).any()
                   for v in RESP_PANEL.vitals)
    assert RESP_PANEL not in _chart(oximeter).panels
    path = tmp_path / "oximeter.pdf"
    write_pdf(oximeter, path)
    _, texts = pages_text(path)
    assert RESP_TITLE not in texts[0] and "SpO2(%)" in texts[0]


def _long(record: SessionRecord) -> SessionRecord:
    """The record with its events repeated, so the report runs over several pages."""
    events = [dataclasses.replace(e, t=e.t + k) for k in range(40) for e in record.events]
    return dataclasses.replace(record, events=sorted(events, key=lambda e: e.t))


@pytest.mark.parametrize(("name", "mark"), [("datex", "SIMULATED"), ("replay", "REPLAY")])
def test_a_simulated_or_replayed_session_is_marked_on_every_page(qapp, records, tmp_path,
                                                                 name, mark):
    record = _long(records[name])
    assert watermark_text(record) == mark
    path = tmp_path / f"{name}.pdf"
    pages = write_pdf(record, path)
    doc, texts = pages_text(path)
    assert pages == len(texts) >= 2
    line = "".join(f"{mark} \u2014 {WATERMARK_MEANING[mark]}".split())
    for i, text in enumerate(texts):
        assert line in text, f"page {i + 1} carries no {mark} mark"
    # The diagonal mark is drawn on every page too: compare with the same report unmarked.
    real = dataclasses.replace(record, session=dataclasses.replace(
        record.session, simulated=False, source="serial:/dev/ttyUSB0"))
    assert watermark_text(real) is None
    plain = tmp_path / f"{name}-plain.pdf"
    assert write_pdf(real, plain) == pages
    plain_doc, plain_texts = pages_text(plain)
    for i in range(pages):
        assert mark not in plain_texts[i]
        size = QSize(300, 424)
        marked = _grey(doc.render(i, size))
        unmarked = _grey(plain_doc.render(i, size))
        centre = (slice(150, 274), slice(90, 210))    # the middle of the page: the mark's
        assert np.abs(marked[centre] - unmarked[centre]).sum() > 1000, f"page {i + 1}"


def _grey(img) -> np.ndarray:
    from PySide6.QtGui import QImage
    img = img.convertToFormat(QImage.Format.Format_Grayscale8)
    raw = np.frombuffer(img.constBits(), dtype=np.uint8)
    return raw.reshape(img.height(), img.bytesPerLine())[:, :img.width()].astype(np.int64)
