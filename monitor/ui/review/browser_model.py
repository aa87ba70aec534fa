"""The session browser's table model: one row per :class:`SessionOverview`, texts made on demand.

A model (not a table of items) so thousands of sessions list at once: Qt
only asks for the cells on screen.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

from monitor.core.alarms.model import Priority
from monitor.core.session import Phase, SessionStatus
from monitor.review.overview import SessionOverview
from monitor.ui.alarms.style import COLOURS
from monitor.ui.review.style import date_text
from monitor.ui.shared import theme
from monitor.ui.shared.formatting import format_elapsed

NONE_TEXT = "\u2014"

_Index = QModelIndex | QPersistentModelIndex


def _minutes(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return NONE_TEXT
    return f"{seconds / 60.0:.0f}"


def _value(x: float | None) -> str:
    return NONE_TEXT if x is None else f"{x:.0f}"


def course_text(o: SessionOverview) -> str:
    """``"3 of 6"``, ``"3"``, or a dash."""
    if o.course_number is None:
        return NONE_TEXT
    return f"{o.course_number} of {o.course_total}" if o.course_total else str(o.course_number)


def status_text(o: SessionOverview) -> str:
    """``"completed"``, ``"interrupted"``, ``"open"``, with ``"simulated"`` for a simulation."""
    return o.status.value + (", simulated" if o.simulated else "")


@dataclass(frozen=True)
class Column:
    """One browser column: title, cell text, sort key and, for alarms, the priority it counts."""

    title: str
    text: Callable[[SessionOverview], str]
    key: Callable[[SessionOverview], object]
    priority: Priority | None = None
    tip: str = ""


def _phase(p: Phase) -> Callable[[SessionOverview], float]:
    return lambda o: o.phase_durations.get(p, 0.0)


def _alarms(p: Priority) -> Callable[[SessionOverview], int]:
    return lambda o: o.alarm_counts.get(p, 0)


def _num_key(get: Callable[[SessionOverview], float | None]) -> Callable[[SessionOverview], float]:
    return lambda o: -math.inf if get(o) is None else float(get(o))  # type: ignore[arg-type]


COLUMNS: tuple[Column, ...] = (
    Column("Session", lambda o: str(o.id), lambda o: o.id),
    Column("Patient", lambda o: o.patient_ref or NONE_TEXT, lambda o: o.patient_ref or ""),
    Column("Date", lambda o: date_text(o.start), lambda o: o.start),
    Column("Course", course_text, lambda o: o.course_number or 0),
    Column("Duration\n(h:mm:ss)", lambda o: format_elapsed(o.duration_s),
           lambda o: o.duration_s, tip="h:mm:ss"),
    Column("Baseline\n(min)", lambda o: _minutes(o.phase_durations.get(Phase.BASELINE)),
           _phase(Phase.BASELINE), tip="minutes"),
    Column("Infusion\n(min)", lambda o: _minutes(o.phase_durations.get(Phase.INFUSION)),
           _phase(Phase.INFUSION), tip="minutes"),
    Column("Recovery\n(min)", lambda o: _minutes(o.phase_durations.get(Phase.RECOVERY)),
           _phase(Phase.RECOVERY), tip="minutes"),
    Column("High", lambda o: str(o.alarm_counts.get(Priority.HIGH, 0)), _alarms(Priority.HIGH),
           Priority.HIGH, tip="high-priority physiological alarms"),
    Column("Medium", lambda o: str(o.alarm_counts.get(Priority.MEDIUM, 0)),
           _alarms(Priority.MEDIUM), Priority.MEDIUM, tip="medium-priority physiological alarms"),
    Column("Low", lambda o: str(o.alarm_counts.get(Priority.LOW, 0)), _alarms(Priority.LOW),
           Priority.LOW, tip="low-priority physiological alarms"),
    Column("Technical", lambda o: str(o.technical_alarms), lambda o: o.technical_alarms,
           tip="technical alarms (no data, sensor off, no alarm sound...), any priority"),
    Column("Peak sys\n(mmHg)", lambda o: _value(o.peak_nibp_sys),
           _num_key(lambda o: o.peak_nibp_sys), tip="highest NIBP systolic, mmHg"),
    Column("Lowest\nSpO2 (%)", lambda o: _value(o.min_spo2), _num_key(lambda o: o.min_spo2),
           tip="lowest SpO2, %"),
    Column("Status", status_text, lambda o: o.status.value),
)


class SessionTableModel(QAbstractTableModel):
    """Rows of :class:`SessionOverview` for a ``QTableView`` (see :data:`COLUMNS`).

    Parameters
    ----------
    parent : QObject or None

    Signals
    -------
    Qt's model signals only.
    """

    def __init__(self, parent: object = None) -> None:
        super().__init__(parent)  # type: ignore[arg-type]
        self._rows: list[SessionOverview] = []

    def set_rows(self, rows: Sequence[SessionOverview]) -> None:
        """Show ``rows`` (replacing what was shown)."""
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def overview(self, row: int) -> SessionOverview:
        """The session on ``row``."""
        return self._rows[row]

    def row_of(self, session_id: int) -> int | None:
        """The row showing session ``session_id``, if shown."""
        return next((i for i, o in enumerate(self._rows) if o.id == session_id), None)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008,N802 -- Qt API
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008,N802 -- Qt API
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        o, col = self._rows[index.row()], COLUMNS[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return col.text(o)
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() != 1:
            return int(Qt.AlignmentFlag.AlignCenter)
        if col.priority is not None and o.alarm_counts.get(col.priority, 0):
            if role == Qt.ItemDataRole.BackgroundRole:
                return QColor(COLOURS[col.priority].lit)
            if role == Qt.ItemDataRole.ForegroundRole:
                return QColor(COLOURS[col.priority].lit_text)
        if role == Qt.ItemDataRole.ForegroundRole and o.status is not SessionStatus.COMPLETED \
                and index.column() == len(COLUMNS) - 1:
            return QColor(theme.REASON)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802 -- Qt API
                   role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(COLUMNS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section].title
        if role == Qt.ItemDataRole.ToolTipRole and COLUMNS[section].tip:
            return COLUMNS[section].tip
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(COLUMNS):
            return
        self.layoutAboutToBeChanged.emit()
        persistent = self.persistentIndexList()
        before = [(self._rows[i.row()].id, i.column()) for i in persistent]
        self._rows.sort(key=COLUMNS[column].key,
                        reverse=order == Qt.SortOrder.DescendingOrder)
        rows = {o.id: r for r, o in enumerate(self._rows)}
        self.changePersistentIndexList(persistent, [self.index(rows[sid], col)
                                                    for sid, col in before])
        self.layoutChanged.emit()
