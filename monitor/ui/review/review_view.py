"""One recorded session for the clinician: trends, alarms, events, summary, replay, exports."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from PySide6.QtCore import QProcess, QSize, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from monitor.review.record import SessionRecord
from monitor.ui.review.export_dialog import ExportDialog, ExportFormat
from monitor.ui.review.loading import ReviewData, load_review
from monitor.ui.review.readout import CursorReader, readout_text
from monitor.ui.review.review_lists import MomentTableWidget, alarm_table, event_table
from monitor.ui.review.review_plots import PLETH_KEY, PLETH_MAX_RANGE_MIN, ReviewPlotsWidget
from monitor.ui.review.style import READOUT_PX, REVIEW_STYLE, clock, date_text
from monitor.ui.review.summary_panel import NONE_TEXT, SummaryPanelWidget
from monitor.ui.review.window_size import keep_on_screen
from monitor.ui.review.worker import TaskRunner
from monitor.ui.shared import theme

log = logging.getLogger(__name__)

REPLAY_SPEEDS = (1, 60)
DEFAULT_REPLAY_SPEED = 10
PREFERRED_SIZE = QSize(1800, 1000)
"""The review's size on a screen with room for it (most of a 1920×1080 one); a smaller
screen gets its available area."""
PLETH_HINT = (f"Pleth wave: zoom in to {PLETH_MAX_RANGE_MIN * 60:.0f} s or less across "
              "(mouse wheel, or click an alarm or event) to show it.")


def replay_arguments(session_id: int, speed: int, data_dir: Path) -> list[str]:
    """The command-line arguments (after the Python interpreter) that replay a session."""
    return ["-m", "monitor", "--source", f"replay:{session_id}", "--speed", str(speed),
            "--data-dir", str(data_dir), "--no-setup"]


def _number(value: object) -> str:
    return f"{value:g}" if isinstance(value, (int, float)) else NONE_TEXT


def header_text(record: SessionRecord) -> str:
    """Patient, date, clinician, dose and course of ``record``, on one line."""
    setup = record.setup or {}
    patient = record.patient_ref or setup.get("patient_ref")
    when = f"{date_text(record.start)}\u2013{clock(record.end)}"
    parts = [f"Patient {patient}" if patient else "No patient reference", when,
             f"session {record.session_id}"]
    parts.append(f"clinician {setup.get('clinician') or NONE_TEXT}")
    dose = setup.get("dose_mg_per_kg")
    if dose is not None:
        parts.append(f"dose {_number(dose)} mg/kg ({_number(setup.get('total_mg'))} mg total)")
    else:
        parts.append(f"dose {NONE_TEXT}")
    number, total = setup.get("course_number"), setup.get("course_total")
    if number is not None:
        parts.append(f"course {number} of {total}" if total is not None else f"course {number}")
    if record.several_sources:
        parts.append("devices " + " + ".join(s.name for s in record.sources))
        if record.source_filter is not None:
            parts.append(f"values of {record.source_filter} only")
    if record.session.simulated:
        parts.append("SIMULATED")
    if record.session.status.value != "completed":
        parts.append(record.session.status.value.upper())
    return "  \u00b7  ".join(parts)


def _titled(title: str, widget: QWidget) -> QWidget:
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 4, 0, 0)
    caption = QLabel(title)
    caption.setObjectName("section_title")
    layout.addWidget(caption)
    layout.addWidget(widget, 1)
    return box


class ReviewView(QMainWindow):
    """The whole session on one time axis, with its alarm list, event list and summary.

    Hovering or clicking the plots moves a cursor whose time and values are
    read out under them; clicking an alarm or an event centres the plots on
    it. "Replay" plays the session again through the live window, at the
    speed chosen, in a process of its own.

    Parameters
    ----------
    data : ReviewData
        The session (see :func:`monitor.ui.review.loading.load_review`).
    parent : QWidget or None
    python : str or None
        The interpreter that runs the replay (default: this one).

    Attributes
    ----------
    plots : ReviewPlotsWidget
    readout : QLabel
        The cursor's time and every vital's value then.
    pleth_hint : QLabel
        Shown while the pleth is hidden (zoomed out): how to see it.
    header : QLabel
    alarm_list, event_list : MomentTableWidget
    summary_panel : SummaryPanelWidget
    replay_speed : QSpinBox
    replay_button, export_button, pdf_button, zoom_out_button : QPushButton
    source_filter : QComboBox
        Which device's values are shown (a session of several devices only):
        those shown at the chair, or one device's. Choosing one reloads the
        session on a worker thread.
    replay_pid : int or None
        The process id of the last replay started.
    message_box : QMessageBox or None
        The last warning shown (a replay that did not start).
    export_dialog : ExportDialog or None

    Signals
    -------
    None of its own.
    """

    def __init__(self, data: ReviewData, parent: QWidget | None = None, *,
                 python: str | None = None) -> None:
        super().__init__(parent)
        record = data.record
        self._data = data
        self._python = python or sys.executable
        self.replay_pid: int | None = None
        self.message_box: QMessageBox | None = None
        self.export_dialog: ExportDialog | None = None
        self.setWindowTitle(f"Session {record.session_id} \u2014 review")
        self.setStyleSheet(REVIEW_STYLE)
        self.plots = ReviewPlotsWidget(record, data.profile.limit_lines())
        self._reader = CursorReader(record.numerics)
        self.readout = QLabel("Move the mouse over the plots to read the values at a time.")
        self.readout.setObjectName("cursor_readout")
        self.readout.setFont(theme.font(READOUT_PX))
        self.readout.setWordWrap(True)
        self.pleth_hint = QLabel(PLETH_HINT)
        self.pleth_hint.setObjectName("review_hint")
        self.pleth_hint.setVisible(PLETH_KEY in self.plots.plots
                                   and not self.plots.pleth_visible)
        self.readout.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.header = QLabel(header_text(record))
        self.header.setObjectName("review_header")
        self.header.setWordWrap(True)
        self.alarm_list: MomentTableWidget = alarm_table(record)
        self.event_list: MomentTableWidget = event_table(record)
        self.summary_panel = SummaryPanelWidget(data.summary, data.summary_error)
        self.zoom_out_button = QPushButton("Whole session")
        self.zoom_out_button.setToolTip("Zoom out to the whole session (Home)")
        self.replay_speed = QSpinBox()
        self.replay_speed.setRange(*REPLAY_SPEEDS)
        self.replay_speed.setValue(DEFAULT_REPLAY_SPEED)
        self.replay_speed.setSuffix("\u00d7")
        self.replay_button = QPushButton(f"Replay at {DEFAULT_REPLAY_SPEED}\u00d7")
        if data.replay_problem:
            self.replay_button.setEnabled(False)
            self.replay_speed.setEnabled(False)
            self.replay_button.setToolTip(f"Cannot replay this session: {data.replay_problem}")
        else:
            self.replay_button.setToolTip("Play the session again in the live window")
        self.export_button = QPushButton("Export\u2026")
        self.pdf_button = QPushButton("PDF\u2026")
        self.source_filter = QComboBox()
        self.source_filter.setObjectName("source_filter")
        self.source_filter.setToolTip("Which device's values the trends and the summary show")
        self.source_filter.addItem("Values shown at the chair", None)
        for src in record.sources:
            self.source_filter.addItem(f"{src.name} only", src.name)
        self.source_filter.setVisible(record.several_sources)
        self._loader = TaskRunner("review-source", self)
        self._loader.finished.connect(self._show_data)
        self._loader.failed.connect(self._load_failed)
        self._build_layout()
        self._connect_plots()
        self.alarm_list.moment_chosen.connect(lambda t: self.plots.centre_on(t))
        self.event_list.moment_chosen.connect(lambda t: self.plots.centre_on(t))
        self.zoom_out_button.clicked.connect(lambda: self.plots.zoom_out())
        self.source_filter.currentIndexChanged.connect(self._source_chosen)
        self.replay_speed.valueChanged.connect(
            lambda n: self.replay_button.setText(f"Replay at {n}\u00d7"))
        self.replay_button.clicked.connect(self.start_replay)
        self.export_button.clicked.connect(lambda: self.open_export(None))
        self.pdf_button.clicked.connect(lambda: self.open_export(ExportFormat.PDF))
        QShortcut(QKeySequence(Qt.Key.Key_Home), self, activated=lambda: self.plots.zoom_out())

    @property
    def record(self) -> SessionRecord:
        """The session shown."""
        return self._data.record

    def _build_layout(self) -> None:
        root = QWidget()
        root.setObjectName("review_root")
        top = QHBoxLayout()
        top.addWidget(self.header, 1)
        for widget in (self.source_filter, self.zoom_out_button, self.replay_speed, self.replay_button,
                       self.export_button, self.pdf_button):
            top.addWidget(widget)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        self._left_layout = left_layout
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.plots, 1)
        left_layout.addWidget(self.pleth_hint)
        left_layout.addWidget(self.readout)
        right = QSplitter(Qt.Orientation.Vertical)
        self._summary_box = _titled("Summary", self.summary_panel)
        right.addWidget(self._summary_box)
        right.addWidget(_titled(f"Alarms ({self.alarm_list.rowCount()})", self.alarm_list))
        right.addWidget(_titled(f"Events ({self.event_list.rowCount()})", self.event_list))
        right.setSizes([380, 200, 200])
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        layout = QVBoxLayout(root)
        layout.addLayout(top)
        layout.addWidget(split, 1)
        self.setCentralWidget(root)
        size = keep_on_screen(self, PREFERRED_SIZE)
        split.setSizes([round(size.width() * 0.56), round(size.width() * 0.44)])

    def _connect_plots(self) -> None:
        self.plots.cursor_moved.connect(self._on_cursor_moved)
        self.plots.pleth_shown.connect(lambda shown: self.pleth_hint.setVisible(not shown))

    # -- source filter --------------------------------------------------------

    def _source_chosen(self, index: int) -> None:
        source = self.source_filter.itemData(index)
        if self._loader.busy():   # the newest choice is loaded when this load is done
            return
        self.source_filter.setEnabled(False)
        db, sid = self._data.db_path, self.record.session_id
        self._loader.start(lambda _p: load_review(db, sid, source))

    def _show_data(self, data: object) -> None:
        """Show a reloaded session (another source filter) in place of the current one."""
        assert isinstance(data, ReviewData)
        self.source_filter.setEnabled(True)
        wanted = self.source_filter.currentData()
        if wanted != data.record.source_filter:   # chosen again while it loaded
            self._source_chosen(self.source_filter.currentIndex())
            return
        self._data = data
        record = data.record
        old = self.plots
        self.plots = ReviewPlotsWidget(record, data.profile.limit_lines())
        self._left_layout.replaceWidget(old, self.plots)
        old.deleteLater()
        self._connect_plots()
        self._reader = CursorReader(record.numerics)
        self.pleth_hint.setVisible(PLETH_KEY in self.plots.plots
                                   and not self.plots.pleth_visible)
        old_summary = self.summary_panel
        self.summary_panel = SummaryPanelWidget(data.summary, data.summary_error)
        self._summary_box.layout().replaceWidget(old_summary, self.summary_panel)
        old_summary.deleteLater()
        self.header.setText(header_text(record))

    def _load_failed(self, message: str) -> None:
        self.source_filter.setEnabled(True)
        self._warn("Cannot show these values", message)

    # -- cursor ---------------------------------------------------------------

    def _on_cursor_moved(self, t: float) -> None:
        self.readout.setText(readout_text(self._reader.at(t), t, self.record.start))

    # -- replay and exports ---------------------------------------------------

    def start_replay(self) -> bool:
        """Start the replay in its own process, without waiting; False (and a warning) if not.

        The process is detached: it is the live window, and stays open when
        this window closes.
        """
        if self._data.replay_problem:
            self._warn("Cannot replay", f"Session {self.record.session_id} cannot be replayed: "
                       f"{self._data.replay_problem}.")
            return False
        args = replay_arguments(self.record.session_id, self.replay_speed.value(),
                                self._data.db_path.parent)
        ok, pid = QProcess.startDetached(self._python, args)
        if not ok or pid <= 0:
            log.warning("replay of session %s did not start (%s)", self.record.session_id,
                        self._python)
            self._warn("Replay did not start",
                       f"The replay of session {self.record.session_id} could not be started: "
                       f"{self._python} {' '.join(args)} did not run. Is Infusion Monitor "
                       "installed with this Python?")
            return False
        self.replay_pid = int(pid)
        log.info("replay of session %s started as process %s", self.record.session_id, pid)
        return True

    def _warn(self, title: str, text: str) -> None:
        box = QMessageBox(QMessageBox.Icon.Warning, title, text,
                          QMessageBox.StandardButton.Ok, self)
        box.open()
        self.message_box = box

    def open_export(self, fmt: ExportFormat | None) -> ExportDialog:
        """Open the export dialog for this session (``fmt`` pre-chosen, e.g. PDF)."""
        dialog = ExportDialog(self._data.db_path, self.record.session_id, fmt, parent=self)
        dialog.open()
        self.export_dialog = dialog
        return dialog
