"""Qt-free exports of a recorded session: CSV, .vital, EDF+ and HL7 v2.

Each writer takes a :class:`~monitor.review.record.SessionRecord` (from
:func:`load_export_record`, which adds whose each value is, needed for a
session of several sources; :func:`monitor.review.record.load_record` is
enough for a session of one), a path, ``deidentify``, the data
folder's pseudonym ``key`` and an optional ``progress(done, total)``
callback, writes all or nothing, and raises
:class:`~monitor.export.common.ExportError` with the path and the reason.
The PDF report is drawn by Qt and lives in ``monitor.ui.report.pdf``.
"""

from __future__ import annotations

from pathlib import Path

from monitor.export.common import (
    ExportError,
    Progress,
    deidentify,
    load_export_record,
    pseudonym_key,
)
from monitor.review.record import SessionRecord

FILE_FORMATS = ("csv", "vital", "edf", "hl7")
"""Formats :func:`write_export` writes (``pdf`` is written by ``monitor.ui.report.pdf``)."""

__all__ = ["FILE_FORMATS", "ExportError", "Progress", "deidentify", "load_export_record",
           "pseudonym_key", "write_export"]


def write_export(record: SessionRecord, fmt: str, path: Path, *, deidentify: bool = False,
                 key: bytes | None = None, progress: Progress | None = None) -> list[Path]:
    """Write ``record`` as ``fmt`` (one of :data:`FILE_FORMATS`) at ``path``; return the files.

    Raises
    ------
    ExportError
        If the files cannot be written (nothing is left behind).
    ValueError
        For an unknown format (the message lists the valid ones).
    """
    path = Path(path)
    if fmt == "csv":
        from monitor.export.csv_export import write_csv

        return write_csv(record, path, deidentify=deidentify, key=key, progress=progress)
    if fmt == "vital":
        from monitor.export.vital_export import write_vital

        return [write_vital(record, path, deidentify=deidentify, key=key, progress=progress)]
    if fmt == "edf":
        from monitor.export.edf_export import write_edf

        return [write_edf(record, path, deidentify=deidentify, key=key, progress=progress)]
    if fmt == "hl7":
        from monitor.export.hl7 import write_hl7

        write_hl7(record, path, deidentify=deidentify, key=key, progress=progress)
        return [path]
    raise ValueError(f"unknown export format {fmt!r}; valid: {', '.join(FILE_FORMATS)}")
