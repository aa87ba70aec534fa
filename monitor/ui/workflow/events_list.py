"""The session's events in a list: time, event, details, who, and corrections."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from monitor.ui.shared import theme
from monitor.ui.shared.formatting import format_elapsed
from monitor.ui.workflow.correct_time_dialog import CorrectTimeDialog
from monitor.ui.workflow.model import EventRow

COLUMNS = ("Time", "Event", "Details", "By", "Corrected")

_STYLE = f"""
QFrame#events_list {{ background: {theme.PANEL}; border: 1px solid {theme.PANEL_BORDER}; }}
QLabel {{ color: {theme.TEXT}; }}
QTableWidget {{ background: {theme.PANEL}; color: {theme.TEXT};
    gridline-color: {theme.PANEL_BORDER}; border: 0; }}
QHeaderView::section {{ background: #161b22; color: {theme.TEXT_DIM}; border: 0; padding: 2px; }}
QPushButton {{ background: #21262d; color: {theme.TEXT}; border: 1px solid {theme.PANEL_BORDER};
    border-radius: 4px; padding: 3px 12px; }}
QPushButton:disabled {{ color: #484f58; }}
"""


def correction_text(row: EventRow, origin: float) -> str:
    """``"was 0:20:00, corrected by AB"`` for a corrected event, else empty."""
    if not row.corrections:
        return ""
    first, last = row.corrections[0], row.corrections[-1]
    n = len(row.corrections)
    times = f"{n} corrections, last" if n > 1 else "corrected"
    return f"was {format_elapsed(first.old_t - origin)}, {times} by {last.by}"


class EventsListWidget(QFrame):
    """Every event of the session, oldest first, with a "Correct time" action.

    Manual entries are listed too (marked "Manual entry") but their time
    cannot be corrected. Rows are rebuilt only when :meth:`set_rows` gets a
    different list.

    Parameters
    ----------
    clock_now : callable
        The session clock's ``now`` (the latest time a correction may give).
    initials : callable
        The nurse's initials to prefill.
    parent : QWidget or None

    Attributes
    ----------
    table : QTableWidget
    correct_button : QPushButton
    dialog : CorrectTimeDialog or None
        The correction dialog while it is open.

    Signals
    -------
    command_issued(object)
        A :class:`~monitor.core.workflow.messages.CorrectEventTime` for the hub.
    """

    command_issued = Signal(object)

    def __init__(self, clock_now: Callable[[], float], initials: Callable[[], str],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("events_list")
        self.setStyleSheet(_STYLE)
        self._now = clock_now
        self._initials = initials
        self._rows: list[EventRow] = []
        self._origin = 0.0
        self.dialog: CorrectTimeDialog | None = None
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._on_selection)
        self.table.itemDoubleClicked.connect(self._on_double_clicked)
        self.correct_button = QPushButton("Correct time\u2026")
        self.correct_button.setEnabled(False)
        self.correct_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.correct_button.clicked.connect(self._on_correct_clicked)
        title = QLabel("Events")
        title.setFont(theme.font(15, bold=True))
        top = QHBoxLayout()
        top.addWidget(title)
        top.addStretch(1)
        top.addWidget(self.correct_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)

    def set_rows(self, rows: Sequence[EventRow], origin: float | None) -> None:
        """Show ``rows`` (times relative to ``origin``); nothing happens if unchanged."""
        origin = 0.0 if origin is None else origin
        if list(rows) == self._rows and origin == self._origin:
            return
        selected = self.selected_row()
        self._rows = list(rows)
        self._origin = origin
        self.table.setRowCount(len(self._rows))
        for i, row in enumerate(self._rows):
            cells = (format_elapsed(row.t - origin), row.label, row.text, row.author,
                     correction_text(row, origin))
            for j, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if j == 1 and row.event_id is None:
                    item.setForeground(theme.color(theme.REASON))
                self.table.setItem(i, j, item)
        if selected is not None and selected.event_id is not None:
            for i, row in enumerate(self._rows):
                if row.event_id == selected.event_id:
                    self.table.selectRow(i)
        self.table.scrollToBottom()
        self._on_selection()

    def rows(self) -> list[EventRow]:
        """The rows shown."""
        return list(self._rows)

    def cell_text(self, row: int, column: int) -> str:
        """The text of one cell."""
        item = self.table.item(row, column)
        return "" if item is None else item.text()

    def select(self, index: int) -> None:
        """Select the row at ``index``."""
        self.table.selectRow(index)

    def selected_row(self) -> EventRow | None:
        """The selected event, if any."""
        indexes = self.table.selectionModel().selectedRows()
        if not indexes or indexes[0].row() >= len(self._rows):
            return None
        return self._rows[indexes[0].row()]

    def _on_selection(self) -> None:
        row = self.selected_row()
        self.correct_button.setEnabled(row is not None and row.event_id is not None)

    def _on_double_clicked(self, _item: QTableWidgetItem) -> None:
        self.correct_selected()

    def _on_correct_clicked(self) -> None:
        self.correct_selected()

    def correct_selected(self) -> None:
        """Open the correction dialog for the selected event."""
        row = self.selected_row()
        if row is None or row.event_id is None:
            return
        if self.dialog is not None:
            self.dialog.close()
        dialog = CorrectTimeDialog(row, self._origin, self._now(), self._initials(), self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.correction_made.connect(self.command_issued)
        dialog.finished.connect(self._on_dialog_closed)
        self.dialog = dialog
        dialog.open()

    def _on_dialog_closed(self) -> None:
        self.dialog = None
