"""Export one session to a file: CSV, .vital, EDF+, HL7 or PDF, on a worker thread.

The export runs off the GUI thread (loading the record included); its
progress comes back through a Qt signal to the progress bar. Writing the
file whole or not at all is the exporter's job: a failure only shows its
message here.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from monitor.export import load_export_record
from monitor.review.record import SessionRecord
from monitor.ui.review.style import REVIEW_STYLE
from monitor.ui.review.worker import Progress, TaskRunner

log = logging.getLogger(__name__)


class ExportFormat(enum.Enum):
    """The formats a session can be exported to: (name, label, file suffix)."""

    CSV = ("csv", "CSV (readings, with events and alarms beside)", ".csv")
    VITAL = ("vital", ".vital (VitalRecorder, vitaldb)", ".vital")
    EDF = ("edf", "EDF+ (EDFbrowser, MNE)", ".edf")
    HL7 = ("hl7", "HL7 v2.6 ORU^R01 messages (file)", ".hl7")
    PDF = ("pdf", "PDF report", ".pdf")

    @property
    def cli_name(self) -> str:
        """The format's name in ``monitor.export.write_export`` and on the command line."""
        return self.value[0]

    @property
    def label(self) -> str:
        return self.value[1]

    @property
    def suffix(self) -> str:
        return self.value[2]


@dataclass(frozen=True)
class ExportOptions:
    """What the dialog asks besides format and file.

    Attributes
    ----------
    deidentify : bool
    data_dir : Path
        The recordings folder: its pseudonym key names a de-identified patient.
    page_size : str
        PDF only: ``"A4"`` or ``"Letter"``.
    """

    deidentify: bool
    data_dir: Path
    page_size: str = "A4"

    def key(self) -> bytes | None:
        """The pseudonym key when de-identifying (created on first use), else None."""
        if not self.deidentify:
            return None
        from monitor.export.common import pseudonym_key

        return pseudonym_key(self.data_dir)


def _write(record: SessionRecord, fmt: ExportFormat, path: Path, opts: ExportOptions,
           progress: Progress) -> str:
    """Write one export; what was written, in words."""
    if fmt is ExportFormat.PDF:
        from monitor.ui.report.pdf import write_pdf
        from monitor.ui.review.loading import session_profile

        pages = write_pdf(record, path, deidentify=opts.deidentify, page_size=opts.page_size,
                          profile=session_profile(record), key=opts.key(), progress=progress)
        return f"{path.name} ({pages} page{'s' if pages != 1 else ''})"
    from monitor.export import write_export

    paths = write_export(record, fmt.cli_name, path, deidentify=opts.deidentify, key=opts.key(),
                         progress=progress)
    return ", ".join(p.name for p in paths)


def run_export(db_path: Path, session_id: int, fmt: ExportFormat, path: Path,
               opts: ExportOptions, progress: Progress) -> str:
    """Load session ``session_id`` and export it to ``path``; returns what was written.

    Raises
    ------
    monitor.review.record.RecordError
    monitor.export.common.ExportError
        Or the format's own error, with a message naming the file and why.
    """
    record = load_export_record(Path(db_path), session_id)
    written = _write(record, fmt, Path(path), opts, progress)
    return f"Session {session_id} exported: {written}"


class ExportDialog(QDialog):
    """Choose a format, a file and de-identification; export with a progress bar.

    Parameters
    ----------
    db_path : Path
    session_id : int
    fmt : ExportFormat or None
        The format chosen to begin with (default CSV).
    parent : QWidget or None

    Attributes
    ----------
    format_box : QComboBox
    path_edit : QLineEdit
    browse_button, export_button, close_button : QPushButton
    deidentify_box : QCheckBox
    page_size_box : QComboBox
        A4 or Letter (PDF only).
    progress_bar : QProgressBar
    status : QLabel
        What happened: the files written, or the error.

    Signals
    -------
    export_finished(str)
        The export succeeded; what was written.
    export_failed(str)
        The export failed; the error message.
    """

    export_finished = Signal(str)
    export_failed = Signal(str)

    def __init__(self, db_path: Path, session_id: int, fmt: ExportFormat | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._db_path = Path(db_path)
        self._session_id = session_id
        self.setWindowTitle(f"Export session {session_id}")
        self.setStyleSheet(REVIEW_STYLE)
        self.format_box = QComboBox()
        for f in ExportFormat:
            self.format_box.addItem(f.label, f)
        self.path_edit = QLineEdit(str(Path.home() / f"session-{session_id}.csv"))
        self.path_edit.setMinimumWidth(380)
        self.browse_button = QPushButton("Browse\u2026")
        self.deidentify_box = QCheckBox("De-identify (pseudonym for the patient, times from "
                                        "the session start, no names or device serials)")
        self.page_size_box = QComboBox()
        self.page_size_box.addItems(["A4", "Letter"])
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.export_button = QPushButton("Export")
        self.export_button.setDefault(True)
        self.close_button = QPushButton("Close")
        self._runner = TaskRunner(f"export-session-{session_id}", self)
        self._build_layout()
        self.format_box.currentIndexChanged.connect(self._on_format_changed)
        if fmt is not None:
            self.format_box.setCurrentIndex(list(ExportFormat).index(fmt))
        self.page_size_box.setEnabled(self.chosen_format is ExportFormat.PDF)
        self.browse_button.clicked.connect(self._on_browse)
        self.export_button.clicked.connect(self.start_export)
        self.close_button.clicked.connect(self.reject)
        self._runner.progress.connect(self._on_progress)
        self._runner.finished.connect(self._on_finished)
        self._runner.failed.connect(self._on_failed)

    def _build_layout(self) -> None:
        where = QHBoxLayout()
        where.addWidget(self.path_edit, 1)
        where.addWidget(self.browse_button)
        form = QFormLayout()
        form.addRow("Format:", self.format_box)
        form.addRow("File:", where)
        form.addRow("Page size:", self.page_size_box)
        form.addRow("", self.deidentify_box)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        buttons.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.progress_bar)
        layout.addWidget(self.status)
        layout.addLayout(buttons)

    @property
    def chosen_format(self) -> ExportFormat:
        """The format selected."""
        fmt = self.format_box.currentData()
        assert isinstance(fmt, ExportFormat)
        return fmt

    def busy(self) -> bool:
        """Whether an export is running."""
        return self._runner.busy()

    def _on_format_changed(self) -> None:
        self.page_size_box.setEnabled(self.chosen_format is ExportFormat.PDF)
        text = self.path_edit.text().strip()
        if text:   # keep the file name, change the suffix to the format's
            self.path_edit.setText(str(Path(text).with_suffix(self.chosen_format.suffix)))

    def _on_browse(self) -> None:
        fmt = self.chosen_format
        path, _ = QFileDialog.getSaveFileName(self, f"Export session {self._session_id}",
                                              self.path_edit.text(),
                                              f"{fmt.label} (*{fmt.suffix})")
        if path:
            self.path_edit.setText(path)

    def start_export(self) -> bool:
        """Start the export with the choices made; False if one is missing."""
        if self.busy():
            return False
        text = self.path_edit.text().strip()
        if not text:
            self._show("Choose the file to write first.", error=True)
            return False
        fmt, path = self.chosen_format, Path(text).expanduser()
        opts = ExportOptions(self.deidentify_box.isChecked(), self._db_path.parent,
                             self.page_size_box.currentText())
        db_path, sid = self._db_path, self._session_id
        self._set_running(True)
        self.progress_bar.setRange(0, 0)   # busy until the first progress report
        self._show(f"Exporting session {sid} as {fmt.label}\u2026", error=False)
        self._runner.start(lambda progress: run_export(db_path, sid, fmt, path, opts, progress))
        return True

    def _set_running(self, running: bool) -> None:
        for widget in (self.format_box, self.path_edit, self.browse_button,
                       self.deidentify_box, self.export_button, self.close_button):
            widget.setEnabled(not running)
        self.page_size_box.setEnabled(not running and self.chosen_format is ExportFormat.PDF)

    def _show(self, text: str, *, error: bool) -> None:
        self.status.setText(text)
        self.status.setObjectName("export_error" if error else "export_done")
        self.status.setStyleSheet(self.status.styleSheet())   # re-polish the new name

    def _on_progress(self, done: int, total: int) -> None:
        self.progress_bar.setRange(0, max(1, total))
        self.progress_bar.setValue(min(done, max(1, total)))

    def _on_finished(self, message: object) -> None:
        self._set_running(False)
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(1)
        self._show(str(message), error=False)
        self.export_finished.emit(str(message))

    def _on_failed(self, message: str) -> None:
        self._set_running(False)
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)
        self._show(f"Export failed: {message}", error=True)
        log.warning("export of session %s failed: %s", self._session_id, message)
        self.export_failed.emit(message)

    def reject(self) -> None:
        """Close, unless an export is running (it cannot be abandoned half-written)."""
        if self.busy():
            return
        super().reject()
