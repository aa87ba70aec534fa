"""The PDF session report: one session on A4 or Letter, drawn with Qt's own PDF writer.

:func:`write_pdf` lays out, in order: the header (patient, date, clinician,
dose, infusion, course, alarm profile, source), the trend plots (see
:mod:`monitor.ui.report.charts`), the summary from
:func:`monitor.review.summary.summarize`, the alarms (one row per priority
episode, with its peak value), the alarm log and the event list.
Tables continue onto further pages under a repeated header, and every page
has a "page N of M" footer; every page of a simulated or replayed session
carries a diagonal SIMULATED or REPLAY watermark (:func:`watermark_text`).
The report is meant to be printed in black and white: nothing in it depends
on colour.

It follows the conventions of the other exports (:mod:`monitor.export.common`):
the same de-identification (pseudonym, times relative to the session start,
no staff names, no ports or paths), written all at once or not at all
(:func:`~monitor.export.common.atomic_write`; owner-only, 0600),
:class:`~monitor.export.common.ExportError` naming the path, and
``progress(done, total)``. The PDF is drawn into memory and written by
Python (QPdfWriter writing to a file says nothing when the disk fills), then
read back with QtPdf. A de-identified report's metadata carries no date:
Qt's creation and modification dates (Info dictionary and XMP) are blanked
(:func:`undated`); its title, creator and producer (``Qt 6.x``) hold no
name or time and are kept, as is the random document id. Works without a display:
if no Qt application exists one is created, on the ``offscreen`` platform unless
``QT_QPA_PLATFORM`` says otherwise.
"""

from __future__ import annotations

import logging
import math
import os
import re
from pathlib import Path

from PySide6.QtCore import (
    QBuffer,
    QByteArray,
    QCoreApplication,
    QIODevice,
    QMarginsF,
    QPointF,
    QRectF,
    Qt,
)
from PySide6.QtGui import (
    QFont,
    QGuiApplication,
    QPageSize,
    QPainter,
    QPainterPath,
    QPdfWriter,
)
from PySide6.QtPdf import QPdfDocument

from monitor.core.alarms.profile import AlarmProfile
from monitor.export.common import (
    ExportError,
    Progress,
    atomic_write,
    check_target,
    is_deidentified,
    prepare,
    report,
    short_file,
)
from monitor.review.record import SessionRecord
from monitor.review.summary import SessionSummary, summarize
from monitor.ui.report.charts import ChartData, TrendFigure, chart_height
from monitor.ui.report.layout import Column, Flow
from monitor.ui.report.limits import limit_steps
from monitor.ui.report.plot import RESOLUTION, SCALE, font, pen
from monitor.ui.report.text import (
    Clock,
    alarm_episode_rows,
    alarm_log_rows,
    event_rows,
    header_fields,
    summary_lines,
    summary_vital_rows,
)

log = logging.getLogger(__name__)

PAGE_SIZES = {"A4": QPageSize.PageSizeId.A4, "Letter": QPageSize.PageSizeId.Letter}
"""The page sizes :func:`write_pdf` accepts."""
MARGIN = 36.0
"""Page margin (pt): half an inch."""
FOOTER = 16.0
TITLE = "Infusion session report"
STEPS = 100
WATERMARK_PT = 96.0
WATERMARK_GREY = 150
WATERMARK_LINE = 0.8
WATERMARK_MEANING = {"SIMULATED": "simulated data, not a patient's",
                     "REPLAY": "a recording played again, not measured live"}
"""Size (pt), grey level (0 black) and outline width (pt) of the SIMULATED / REPLAY mark."""
"""``progress`` is told ``done`` of this many steps."""

_app: QGuiApplication | None = None

__all__ = ["PAGE_SIZES", "ExportError", "write_pdf"]


def write_pdf(record: SessionRecord, path: Path | str, *, deidentify: bool = False,
              page_size: str = "A4", profile: AlarmProfile | None = None,
              key: bytes | None = None, progress: Progress | None = None) -> int:
    """Write the report of ``record`` to ``path`` as a PDF; returns the number of pages.

    Parameters
    ----------
    record : SessionRecord
    path : Path or str
        The PDF to write (replaced if it exists, only once the new one is complete).
    deidentify : bool
        De-identify as every export does (:func:`monitor.export.common.deidentify`):
        the patient reference becomes its pseudonym (none without ``key``),
        no clinician or staff names, no date and no wall-clock times (only
        the session clock), no device ports or file paths.
    page_size : str
        ``"A4"`` or ``"Letter"`` (portrait).
    profile : AlarmProfile, optional
        The limits drawn and summarised; the shipped default profile if None.
    key : bytes, optional
        The data folder's pseudonym key (:func:`monitor.export.common.pseudonym_key`).
    progress : callable, optional
        ``progress(done, total)``, last with ``done == total``.

    Raises
    ------
    ValueError
        For a page size other than A4 or Letter.
    ExportError
        If the file cannot be written; no file, partial or temporary, is left.
    """
    size_id = _page_size(page_size)
    path = Path(path)
    check_target(path)
    _ensure_app()
    rec = prepare(record, deidentify, key)
    relative = deidentify or is_deidentified(rec)
    if profile is None:
        from monitor.core.alarms.profile_file import load_default_profile
        profile = load_default_profile()
    summary = summarize(rec, profile)
    report(progress, 5, STEPS)
    pages: list[int] = []

    def writer(tmp: Path) -> None:
        data = QByteArray()
        pages.append(_render(data, rec, summary, profile, size_id, relative=relative,
                             progress=progress))
        pdf = bytes(data.data())
        if relative:
            pdf = undated(pdf)
        with open(tmp, "wb") as f:      # Python, unlike QPdfWriter, raises on a full disk
            f.write(pdf)
        _check(tmp, len(pdf), pages[-1], relative)
    atomic_write(path, writer)
    log.info("wrote %d-page report of session %d to %s", pages[-1], rec.session_id, path)
    return pages[-1]


def _page_size(name: str) -> QPageSize.PageSizeId:
    for key, value in PAGE_SIZES.items():
        if name.lower() == key.lower():
            return value
    raise ValueError(f"unknown page size {name!r}; allowed: {', '.join(PAGE_SIZES)}")


def _ensure_app() -> None:
    """Create a QGuiApplication if none exists (fonts need one); offscreen by default."""
    global _app
    existing = QCoreApplication.instance()
    if existing is None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        _app = QGuiApplication([])
    elif not isinstance(existing, QGuiApplication):
        raise RuntimeError("the PDF report needs a QGuiApplication (fonts), but a plain "
                           "QCoreApplication is running")


def undated(pdf: bytes) -> bytes:
    """``pdf`` without the dates Qt stamps in its metadata (the time of the export).

    The Info dictionary's ``/CreationDate`` and ``/ModDate`` entries and the
    XMP ``xmp:CreateDate``, ``xmp:ModifyDate`` and ``xmp:MetadataDate``
    attributes are overwritten with spaces, byte for byte, so every offset
    in the cross-reference table stays right.

    Raises
    ------
    ExportError
        If a date is left that this function does not know how to remove.
    """
    def blank(m: re.Match[bytes]) -> bytes:
        return b" " * len(m.group(0))
    out = _INFO_DATE.sub(blank, pdf)
    out = _XMP_DATE.sub(blank, out)
    if b"(D:" in out or _ISO_DATE.search(out):
        raise ExportError("the PDF's metadata holds a date that cannot be removed")
    return out


_INFO_DATE = re.compile(rb"/(?:CreationDate|ModDate) *\(D:[0-9Z+\-' ]*\)")
_XMP_DATE = re.compile(rb" xmp:(?:CreateDate|ModifyDate|MetadataDate)=\"[^\"]*\"")
_ISO_DATE = re.compile(rb"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def _check(tmp: Path, size: int, pages: int, relative: bool) -> None:
    """The PDF on disk is whole: its size, and QtPdf reads back every page (and no date)."""
    if tmp.stat().st_size != size:
        raise short_file(tmp, size, "the PDF")
    doc = QPdfDocument()
    try:
        if doc.load(str(tmp)) != QPdfDocument.Error.None_ or doc.pageCount() != pages:
            raise ExportError(f"cannot write {tmp}: the PDF reads back damaged")
        meta = QPdfDocument.MetaDataField
        if relative and (doc.metaData(meta.CreationDate).isValid()
                         or doc.metaData(meta.ModificationDate).isValid()):
            raise ExportError(f"cannot write {tmp}: the PDF still carries the export date")
    finally:
        doc.close()


def _render(out: QByteArray, record: SessionRecord, summary: SessionSummary,
            profile: AlarmProfile, size_id: QPageSize.PageSizeId, *, relative: bool,
            progress: Progress | None) -> int:
    """Draw the report into ``out`` (in memory); returns the number of pages."""
    buffer = QBuffer(out)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QPdfWriter(buffer)
    writer.setPageSize(QPageSize(size_id))
    writer.setPageMargins(QMarginsF(0, 0, 0, 0))
    writer.setResolution(RESOLUTION)
    writer.setTitle(TITLE)
    writer.setCreator("Infusion Monitor")
    page = QPageSize(size_id).size(QPageSize.Unit.Point)
    painter = QPainter()
    if not painter.begin(writer):
        raise ExportError("Qt could not start drawing the PDF")
    try:
        painter.scale(SCALE, SCALE)
        flow = Flow(writer, MARGIN, page.width() - MARGIN, MARGIN,
                    page.height() - MARGIN - FOOTER)
        clock = Clock(record.start, record.utc_offset_s, relative=relative)
        _lay_out(flow, record, summary, profile, clock, deidentify=relative)
        report(progress, 20, STEPS)
        footer_text = _footer_text(record, clock, relative)

        def footer(p: QPainter, n: int, total: int) -> None:
            y = page.height() - MARGIN - FOOTER + 6
            p.setPen(pen(0.4))
            p.drawLine(QPointF(MARGIN, y), QPointF(page.width() - MARGIN, y))
            p.setFont(font(6.5))
            r = QRectF(MARGIN, y + 1, page.width() - 2 * MARGIN, FOOTER - 6)
            p.drawText(r, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                       footer_text)
            p.drawText(r, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                       f"page {n} of {total}")
        mark = watermark_text(record)
        pages = flow.draw(painter, footer,
                          lambda i, n: report(progress, 20 + (STEPS - 20) * i // n, STEPS),
                          None if mark is None else
                          lambda p: draw_watermark(p, mark, page.width(), page.height()))
    except BaseException:
        painter.end()
        raise
    if not painter.end():
        raise ExportError("Qt could not finish drawing the PDF")
    buffer.close()
    return pages


def watermark_text(record: SessionRecord) -> str | None:
    """``"REPLAY"`` for a replayed session, ``"SIMULATED"`` for a simulated one, else None.

    A replay is recorded with a ``replay:...`` source (and as simulated: its
    numbers are not a patient's at that time).
    """
    if record.session.source.startswith("replay:"):
        return "REPLAY"
    return "SIMULATED" if record.session.simulated else None


def draw_watermark(p: QPainter, text: str, width: float, height: float) -> None:
    """``text`` across the page (``width`` by ``height`` pt), diagonal, as grey outlines.

    Drawn over the page's content (the plots' grey bands would hide a filled
    mark): hollow letters in a thin grey line, so every number under them
    stays readable, in black and white as in colour.
    """
    p.save()
    p.translate(width / 2, height / 2)
    p.rotate(-math.degrees(math.atan2(height, width)))
    f = QFont(font(WATERMARK_PT, bold=True))
    f.setPixelSize(round(WATERMARK_PT))   # a path's units are the painter's: points
    path = QPainterPath()
    path.addText(QPointF(0, 0), f, text)
    box = path.boundingRect()
    path.translate(-box.center())
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.setPen(pen(WATERMARK_LINE, grey=WATERMARK_GREY))
    p.drawPath(path)
    p.restore()
    # the word once more as text, for a reader or a search of the PDF
    p.setPen(pen(0.5))
    p.setFont(font(6.5, bold=True))
    p.drawText(QRectF(MARGIN, MARGIN - 14, width - 2 * MARGIN, 10),
               Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
               f"{text} \u2014 {WATERMARK_MEANING[text]}")


def _footer_text(record: SessionRecord, clock: Clock, relative: bool) -> str:
    who = record.patient_ref or (record.setup or {}).get("patient_ref")
    if relative:
        return (f"{TITLE} · {'patient ' + str(who) if who else 'de-identified'}"
                " · times relative to the session start")
    who = f"patient {who}" if who else "no patient reference"
    return f"{TITLE} · {who} · {clock.local(record.start, '%Y-%m-%d %H:%M')}"


def _lay_out(flow: Flow, record: SessionRecord, summary: SessionSummary,
             profile: AlarmProfile, clock: Clock, *, deidentify: bool) -> None:
    _title_and_header(flow, record, deidentify=deidentify)
    event_times, events = event_rows(record, deidentify=deidentify)
    data = ChartData(record.start, max(record.end, record.start + 60.0), record.numerics,
                     record.phases, limit_steps(profile, record.limit_changes, record.start,
                                                record.end),
                     event_times, record.alarm_spans(), clock)
    h = chart_height(data)
    flow.heading("Trends", h)

    def draw_chart(p: QPainter, y: float) -> None:
        TrendFigure(data, QRectF(flow.left, y, flow.width, h)).draw(p)
    flow.add(h, draw_chart)
    flow.space(8)
    _summary_blocks(flow, record, summary, clock, deidentify=deidentify)
    flow.space(8)
    times = ([Column("Session", 0.075, True)] if deidentify
             else [Column("Session", 0.075, True), Column("Local", 0.065, True)])
    episodes = alarm_episode_rows(record, deidentify=deidentify)
    if episodes:   # one row per bar of the trend figure, with its peak value
        flow.table("Alarms", [*times, Column("Alarm", 0.44), Column("Priority", 0.14),
                              Column("Lasted", 0.16), Column("Peak", 0.10, True)], episodes)
        flow.space(8)
    alarms = alarm_log_rows(record, deidentify=deidentify)
    if alarms:
        flow.table("Alarm log", [*times, Column("Alarm", 0.40), Column("Priority", 0.08),
                                 Column("State", 0.11), Column("Value", 0.065, True),
                                 Column("Limit", 0.065, True), Column("Who", 0.10)], alarms)
    else:
        _paragraph(flow, "Alarm log", "No alarms were raised during this session.")
    flow.space(8)
    if events:
        flow.table("Events", [Column("#", 0.04, True), *times, Column("Kind", 0.16),
                              Column("Text", 0.37), Column("Author", 0.10),
                              Column("Corrected from", 0.13)], events)
    else:
        _paragraph(flow, "Events", "No events were recorded during this session.")


def _title_and_header(flow: Flow, record: SessionRecord, *, deidentify: bool) -> None:
    def draw_title(p: QPainter, y: float) -> None:
        p.setPen(pen(0.5))
        p.setFont(font(16, bold=True))
        p.drawText(QRectF(flow.left, y, flow.width, 22),
                   Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, TITLE)
        if deidentify:
            p.setFont(font(8, bold=True))
            p.drawText(QRectF(flow.left, y, flow.width, 22),
                       Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                       "DE-IDENTIFIED")
        p.setPen(pen(1.2))
        p.drawLine(QPointF(flow.left, y + 24), QPointF(flow.right, y + 24))
    flow.add(30, draw_title)
    fields = header_fields(record, deidentify=deidentify)
    cols = 3
    col_w = flow.width / cols
    label_f, value_f = font(6.5, italic=True), font(8.5, bold=True)
    for i in range(0, len(fields), cols):
        row = fields[i:i + cols]
        h = max(flow.text_height(value_f, v, col_w - 6) for _, v in row) + 11

        def draw_row(p: QPainter, y: float, row=row, h=h) -> None:
            for k, (name, value) in enumerate(row):
                x = flow.left + k * col_w
                p.setPen(pen(0.5))
                p.setFont(label_f)
                p.drawText(QRectF(x, y, col_w - 6, 9), Qt.AlignmentFlag.AlignLeft, name)
                p.setFont(value_f)
                p.drawText(QRectF(x, y + 8.5, col_w - 6, h - 8.5),
                           int(Qt.TextFlag.TextWordWrap | Qt.AlignmentFlag.AlignLeft), value)
        flow.add(h, draw_row)
    flow.space(6)


def _summary_blocks(flow: Flow, record: SessionRecord, summary: SessionSummary,
                    clock: Clock, *, deidentify: bool) -> None:
    rows = summary_vital_rows(summary, clock)
    flow.table("Summary", [Column("Vital", 0.15), Column("Baseline", 0.08, True),
                           Column("Peak (at mm:ss)", 0.15, True),
                           Column("Lowest (at mm:ss)", 0.15, True), Column("End", 0.07, True),
                           Column("Time beyond limits (M medium, H high)", 0.40)], rows)
    flow.space(4)
    lines = summary_lines(summary, record, clock, deidentify=deidentify)
    flow.table(None, [Column("", 0.2), Column("", 0.8)], [list(x) for x in lines],
               header=False, size=7.5, bold_first=True, continued="Summary (continued)")


def _paragraph(flow: Flow, title: str, text: str) -> None:
    f = font(7.5, italic=True)
    h = flow.text_height(f, text, flow.width) + 4
    flow.heading(title, h)

    def draw(p: QPainter, y: float) -> None:
        p.setPen(pen(0.5))
        p.setFont(f)
        p.drawText(QRectF(flow.left, y, flow.width, h),
                   int(Qt.TextFlag.TextWordWrap | Qt.AlignmentFlag.AlignLeft), text)
    flow.add(h, draw)
