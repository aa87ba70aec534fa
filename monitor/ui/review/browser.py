"""The session browser: every recorded session, filtered by patient and date, opening the review.

The list, a session and a course are all read on worker threads
(:class:`~monitor.ui.review.worker.TaskRunner`): the window never waits on
the database. Filters re-run :func:`~monitor.review.overview.list_overviews`
shortly after the last change.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

from PySide6.QtCore import QDate, QModelIndex, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QFontMetrics, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDateEdit,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from monitor.review.course import course_rows
from monitor.review.overview import SessionOverview, list_overviews
from monitor.ui.review.browser_model import SessionTableModel
from monitor.ui.review.course_view import CourseView
from monitor.ui.review.export_dialog import ExportDialog
from monitor.ui.review.loading import ReviewData, load_review
from monitor.ui.review.review_view import ReviewView
from monitor.ui.review.style import REVIEW_STYLE
from monitor.ui.review.window_size import keep_on_screen
from monitor.ui.review.worker import TaskRunner

log = logging.getLogger(__name__)

FILTER_DELAY_MS = 250
"""The list is re-read this long after the last change to a filter."""
NO_DATE = QDate(2000, 1, 1)
"""The date edits' "any date" value."""
HEADER_PAD = 8
SORT_ARROW = 12
"""A column title's padding and the room for the sort arrow beside it (px)."""
PREFERRED_SIZE = QSize(1280, 720)
"""The window's size where the screen has room (else the screen's available area)."""


def _date_edit() -> QDateEdit:
    edit = QDateEdit()
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("dd MMM yyyy")
    edit.setMinimumDate(NO_DATE)
    edit.setSpecialValueText("any")
    edit.setDate(NO_DATE)
    return edit


def _day(edit: QDateEdit) -> dt.date | None:
    d = edit.date()
    return None if d == NO_DATE else dt.date(d.year(), d.month(), d.day())


class BrowserView(QMainWindow):
    """Every session in the database, newest first, opening the review, course or export.

    Parameters
    ----------
    db_path : Path
    parent : QWidget or None

    Attributes
    ----------
    model : SessionTableModel
    table : QTableView
    patient_filter : QLineEdit
        Sessions whose patient reference starts with this (any case).
    date_from, date_to : QDateEdit
        Whole local days; "any" (the minimum date) means no bound.
    open_button, course_button, export_button, refresh_button : QPushButton
    status : QLabel
        How many sessions are listed, or what went wrong.
    windows : list of QWidget
        The review and course windows opened from here.

    Signals
    -------
    listed(int)
        The list was (re)loaded with this many sessions.
    window_opened(QWidget)
        A review or course window was opened.
    """

    listed = Signal(int)
    window_opened = Signal(QWidget)

    def __init__(self, db_path: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._db_path = Path(db_path)
        self.windows: list[QWidget] = []
        self._pending = False
        self._loaders: list[TaskRunner] = []
        self.setWindowTitle(f"Infusion Monitor \u2014 sessions in {self._db_path.parent}")
        self.setStyleSheet(REVIEW_STYLE)
        self.model = SessionTableModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.setSortingEnabled(True)
        self.table.horizontalHeader().setSortIndicator(2, Qt.SortOrder.DescendingOrder)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.patient_filter = QLineEdit()
        self.patient_filter.setPlaceholderText("patient reference starts with\u2026")
        self.date_from, self.date_to = _date_edit(), _date_edit()
        self.open_button = QPushButton("Open")
        self.course_button = QPushButton("Course\u2026")
        self.export_button = QPushButton("Export\u2026")
        self.refresh_button = QPushButton("Refresh")
        self.status = QLabel("Reading the sessions\u2026")
        self.status.setObjectName("review_hint")
        self._filter_timer = QTimer(self)
        self._filter_timer.setSingleShot(True)
        self._filter_timer.setInterval(FILTER_DELAY_MS)
        self._lister = TaskRunner("browser-list", self)
        self._build_layout()
        self._connect()
        keep_on_screen(self, PREFERRED_SIZE)
        self.refresh()

    def _build_layout(self) -> None:
        filters = QHBoxLayout()
        filters.addWidget(QLabel("Patient:"))
        filters.addWidget(self.patient_filter, 1)
        filters.addWidget(QLabel("From:"))
        filters.addWidget(self.date_from)
        filters.addWidget(QLabel("To:"))
        filters.addWidget(self.date_to)
        filters.addWidget(self.refresh_button)
        buttons = QHBoxLayout()
        buttons.addWidget(self.status, 1)
        for b in (self.course_button, self.export_button, self.open_button):
            buttons.addWidget(b)
        root = QWidget()
        root.setObjectName("review_root")
        layout = QVBoxLayout(root)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self.setCentralWidget(root)

    def _connect(self) -> None:
        self.patient_filter.textChanged.connect(self._filter_timer.start)
        self.date_from.dateChanged.connect(self._filter_timer.start)
        self.date_to.dateChanged.connect(self._filter_timer.start)
        self._filter_timer.timeout.connect(self.refresh)
        self.refresh_button.clicked.connect(self.refresh)
        self._lister.finished.connect(self._on_listed)
        self._lister.failed.connect(self._on_list_failed)
        self.table.doubleClicked.connect(lambda index: self.open_session(self._id_at(index)))
        enter = QShortcut(QKeySequence(Qt.Key.Key_Return), self.table,
                          context=Qt.ShortcutContext.WidgetShortcut)
        enter.activated.connect(lambda: self.open_session(self.selected_id()))
        enter_pad = QShortcut(QKeySequence(Qt.Key.Key_Enter), self.table,
                              context=Qt.ShortcutContext.WidgetShortcut)
        enter_pad.activated.connect(lambda: self.open_session(self.selected_id()))
        self.open_button.clicked.connect(lambda: self.open_session(self.selected_id()))
        self.course_button.clicked.connect(self.open_course)
        self.export_button.clicked.connect(self.open_export)

    # -- the list -------------------------------------------------------------

    def refresh(self) -> None:
        """Re-read the list with the current filters (on a worker thread)."""
        if self._lister.busy():
            self._pending = True
            return
        patient = self.patient_filter.text().strip() or None
        first, last = _day(self.date_from), _day(self.date_to)
        db = self._db_path
        self._lister.start(lambda _progress: list_overviews(db, patient=patient,
                                                            date_from=first, date_to=last))

    def _on_listed(self, rows: object) -> None:
        assert isinstance(rows, list)
        if self._pending:   # the filters changed while reading: read again
            self._pending = False
            self.refresh()
            return
        selected = self.selected_id()
        self.model.set_rows(rows)
        header = self.table.horizontalHeader()
        self.model.sort(header.sortIndicatorSection(), header.sortIndicatorOrder())
        if selected is not None and (row := self.model.row_of(selected)) is not None:
            self.table.selectRow(row)
        elif rows:
            self.table.selectRow(0)
        self.fit_columns()
        self.status.setObjectName("review_hint")
        self.status.setText(f"{len(rows)} session{'s' if len(rows) != 1 else ''}")
        self.listed.emit(len(rows))

    def fit_columns(self) -> None:
        """Each column as wide as its widest cell or its title's widest line, and the sort arrow.

        Qt's own fit (``resizeColumnsToContents``) adds the header's height to
        every title's width for the sort arrow: with titles on two lines (the
        unit under the name) the columns would no longer fit a 1280 px screen.
        """
        header = self.table.horizontalHeader()
        fm = QFontMetrics(header.font())
        for col in range(self.model.columnCount()):
            title = str(self.model.headerData(col, Qt.Orientation.Horizontal) or "")
            text = max((fm.horizontalAdvance(line) for line in title.split("\n")), default=0)
            width = max(self.table.sizeHintForColumn(col), text + HEADER_PAD + SORT_ARROW)
            header.resizeSection(col, width)

    def _on_list_failed(self, message: str) -> None:
        self._pending = False
        self.model.set_rows([])
        self.status.setText(f"Cannot list the sessions: {message}")
        self.listed.emit(0)

    # -- the selection --------------------------------------------------------

    def _id_at(self, index: QModelIndex) -> int | None:
        return self.model.overview(index.row()).id if index.isValid() else None

    def selected(self) -> SessionOverview | None:
        """The session selected, if any."""
        rows = self.table.selectionModel().selectedRows()
        return self.model.overview(rows[0].row()) if rows else None

    def selected_id(self) -> int | None:
        """The id of the session selected, if any."""
        o = self.selected()
        return None if o is None else o.id

    def select_session(self, session_id: int) -> bool:
        """Select the row of ``session_id``; False if it is not listed."""
        row = self.model.row_of(session_id)
        if row is None:
            return False
        self.table.selectRow(row)
        return True

    # -- opening --------------------------------------------------------------

    def _load(self, name: str, task: object, done: object) -> None:
        runner = TaskRunner(name, self)
        self._loaders.append(runner)

        def finished(result: object) -> None:
            self._loaders.remove(runner)
            done(result)  # type: ignore[operator]

        def failed(message: str) -> None:
            self._loaders.remove(runner)
            self.status.setText(message)

        runner.finished.connect(finished)
        runner.failed.connect(failed)
        runner.start(task)  # type: ignore[arg-type]

    def _show(self, window: QWidget) -> None:
        self.windows = [w for w in self.windows if w.isVisible()]
        self.windows.append(window)
        window.show()
        self.window_opened.emit(window)

    def open_session(self, session_id: int | None) -> None:
        """Open the review view of ``session_id`` once it is loaded."""
        if session_id is None:
            self.status.setText("Select a session first.")
            return
        self.status.setText(f"Opening session {session_id}\u2026")
        db = self._db_path

        def show(data: object) -> None:
            assert isinstance(data, ReviewData)
            self.status.setText(f"Session {session_id} opened.")
            self._show(ReviewView(data))

        self._load(f"load-session-{session_id}", lambda _p: load_review(db, session_id), show)

    def open_course(self) -> None:
        """Open the course view of the selected session's patient."""
        o = self.selected()
        if o is None or not o.patient_ref:
            self.status.setText("Select a session with a patient reference to see the course."
                                if o is not None else "Select a session first.")
            return
        patient, db = o.patient_ref, self._db_path
        self.status.setText(f"Reading the course of {patient}\u2026")

        def show(rows: object) -> None:
            assert isinstance(rows, list)
            self.status.setText(f"Course of {patient}: {len(rows)} sessions.")
            view = CourseView(patient, rows)
            view.session_chosen.connect(self.open_session)
            self._show(view)

        self._load(f"course-{patient}", lambda _p: course_rows(db, patient), show)

    def open_export(self) -> ExportDialog | None:
        """Open the export dialog of the selected session."""
        sid = self.selected_id()
        if sid is None:
            self.status.setText("Select a session first.")
            return None
        dialog = ExportDialog(self._db_path, sid, parent=self)
        dialog.open()
        return dialog

    def busy(self) -> bool:
        """Whether the list, a session or a course is being read."""
        return self._lister.busy() or bool(self._loaders)
