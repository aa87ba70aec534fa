"""The alarm log panel: every alarm transition, operator action and limit change."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from monitor.core.alarms.model import AlarmAction, AlarmTransition, LimitChanged
from monitor.core.vitals import SPECS
from monitor.ui.alarms.style import COLOURS, clock_text
from monitor.ui.shared import theme

MAX_ROWS = 2000
"""Rows kept; the oldest go first, so memory stays bounded in any session."""

COLUMNS = ("Time", "Priority", "Event", "Message", "Value / limit", "By")

_WIDEST = ("00:00:00", "MEDIUM", "audio pause ended", "", "188.8 / 188.8", "ABCDE")

LogMessage = AlarmTransition | AlarmAction | LimitChanged

_STYLE = f"""
QTableWidget {{
    background: {theme.PANEL}; color: {theme.TEXT}; gridline-color: {theme.PANEL_BORDER};
    border: 1px solid {theme.PANEL_BORDER};
}}
QHeaderView::section {{
    background: #161b22; color: {theme.TEXT_DIM}; border: 0; padding: 2px 6px;
}}
QTableWidget::item:selected {{ background: #30363d; }}
"""


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def log_row(msg: LogMessage) -> tuple[str, ...]:
    """The cells of one log row (see :data:`COLUMNS`)."""
    if isinstance(msg, AlarmTransition):
        value = ""
        if msg.value is not None or msg.limit is not None:
            value = f"{_number(msg.value)} / {_number(msg.limit)}"
        return (clock_text(msg.t, seconds=True), msg.priority.label.upper(),
                msg.state.value, msg.message, value, msg.by)
    if isinstance(msg, LimitChanged):
        text = f"{msg.rule_id} {msg.setting}: {msg.old:g} \u2192 {msg.new:g}"
        if msg.reason:
            text += f" ({msg.reason})"
        return (clock_text(msg.t, seconds=True), "", "limit changed", text, "", msg.by)
    return (clock_text(msg.t, seconds=True), "", msg.action.replace("_", " "),
            msg.detail, "", msg.by)


class AlarmLogWidget(QTableWidget):
    """A table of the session's alarm events, newest on top, at most ``max_rows`` long.

    Parameters
    ----------
    max_rows : int
    parent : QWidget or None

    Signals
    -------
    None of its own.
    """

    def __init__(self, max_rows: int = MAX_ROWS, parent: QWidget | None = None) -> None:
        super().__init__(0, len(COLUMNS), parent)
        self.setObjectName("alarm_log")
        self.setStyleSheet(_STYLE)
        self._max_rows = max_rows
        self.setHorizontalHeaderLabels(list(COLUMNS))
        self.verticalHeader().hide()
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Space stays the audio-pause key
        self.setWordWrap(False)
        self.setFont(theme.font(15))
        self.horizontalHeader().setFont(theme.font(14, bold=True))
        # Fixed starting widths (resizable by hand): sizing to contents would
        # measure every row on every insert.
        header = self.horizontalHeader()
        fm = self.fontMetrics()
        for col, widest in enumerate(_WIDEST):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
            self.setColumnWidth(col, fm.horizontalAdvance(widest) + 20)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.verticalHeader().setDefaultSectionSize(22)

    def add(self, msg: LogMessage) -> None:
        """Put ``msg`` on top; drop the oldest row beyond ``max_rows``."""
        cells = log_row(msg)
        self.insertRow(0)
        for col, text in enumerate(cells):
            item = QTableWidgetItem(text)
            if isinstance(msg, AlarmTransition):
                if col == 1:
                    colours = COLOURS[msg.priority]
                    item.setBackground(theme.color(colours.lit))
                    item.setForeground(theme.color(colours.lit_text))
                elif col == 3:
                    vital = f" ({SPECS[msg.vital].label})" if msg.vital is not None else ""
                    item.setToolTip(f"{msg.alarm_id}{vital}")
            self.setItem(0, col, item)
        while self.rowCount() > self._max_rows:
            self.removeRow(self.rowCount() - 1)

    def row_texts(self, row: int) -> tuple[str, ...]:
        """The cells of ``row`` (0 is the newest)."""
        items = (self.item(row, col) for col in range(self.columnCount()))
        return tuple(item.text() if item is not None else "" for item in items)
