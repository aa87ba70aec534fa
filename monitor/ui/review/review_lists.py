"""The review view's alarm list and event list: each row a moment the plots can jump to."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from monitor.core.vitals import SPECS
from monitor.core.workflow.messages import InfusionAction
from monitor.review.record import AlarmSpan, SessionRecord
from monitor.ui.alarms.style import COLOURS, PREFIX
from monitor.ui.shared.formatting import format_elapsed, format_value

_INFUSION_TEXT = {InfusionAction.START: "Infusion started", InfusionAction.PAUSE: "Infusion paused",
                  InfusionAction.RESUME: "Infusion resumed",
                  InfusionAction.STOP: "Infusion stopped"}
NO_PEAK_TEXT = "\u2014"


@dataclass(frozen=True)
class ListRow:
    """One row of a list: when (Unix s) and the texts of its cells after the time."""

    t: float
    cells: tuple[str, ...]
    colour: str | None = None
    """Background of the second cell (an alarm's priority colour)."""
    text_colour: str | None = None


def time_text(t: float, origin: float) -> str:
    """``"14:03:27  +0:23:27"``: the wall clock and the time since the session start."""
    return f"{time.strftime('%H:%M:%S', time.localtime(t))}  +{format_elapsed(t - origin)}"


def peak_text(span: AlarmSpan) -> str:
    """The episode's most extreme value with its unit (``"193 mmHg"``), a dash if none."""
    if span.peak is None or span.vital is None:
        return NO_PEAK_TEXT
    return f"{format_value(span.vital, span.peak)} {SPECS[span.vital].unit}".strip()


def lasted_text(span: AlarmSpan) -> str:
    """``"0:35:00"``, ``"0:35:00, then high"`` (it escalated), or ``"not cleared"``."""
    if span.end is None:
        return "not cleared"
    lasted = format_elapsed(span.end - span.start)
    return lasted if span.escalated_to is None else f"{lasted}, then {span.escalated_to.label}"


def alarm_rows(record: SessionRecord) -> list[ListRow]:
    """One row per priority episode of each alarm, in time order.

    An alarm raised medium and escalated to high is two rows: medium from
    its raise ("lasted 0:35:00, then high") and high from the escalation,
    each with the peak value of its own episode. A technical alarm says so
    in its priority cell (``"medium, technical"``).
    """
    rows = []
    for span in record.alarm_spans():
        colours = COLOURS[span.priority]
        prio = f"{span.priority.label}, technical" if span.technical else span.priority.label
        rows.append(ListRow(span.start, (prio, f"{PREFIX[span.priority]} {span.message}",
                                         peak_text(span), lasted_text(span)),
                            colours.lit, colours.lit_text))
    return rows


def event_rows(record: SessionRecord) -> list[ListRow]:
    """The nurse's events, the infusion actions and the recorded notes, in time order."""
    rows = [ListRow(e.t, (e.kind.label, e.text, e.author)) for e in record.events]
    for a in record.infusion:
        text = _INFUSION_TEXT[a.action]
        rows.append(ListRow(a.t, (text, a.reason, a.by)))
    rows += [ListRow(n.t, (n.kind.replace("_", " ").capitalize(), n.text, n.author))
             for n in record.notes]
    return sorted(rows, key=lambda r: r.t)


class MomentTableWidget(QTableWidget):
    """A read-only table whose rows are moments of the session.

    Clicking a row (or moving to it with the keyboard) emits its time.

    Parameters
    ----------
    headers : sequence of str
        Column titles after the first ("Time").
    rows : sequence of ListRow
    origin : float
        The session start (Unix s).
    parent : QWidget or None
    wrap : int or None
        The column whose texts wrap and that takes the room the others leave:
        the table never scrolls sideways (``None``: one line a row, the last
        column stretched).

    Attributes
    ----------
    times : list of float
        The time of each row.

    Signals
    -------
    moment_chosen(float)
        The user picked the row at this time (Unix s).
    """

    moment_chosen = Signal(float)

    def __init__(self, headers: Sequence[str], rows: Sequence[ListRow], origin: float,
                 parent: QWidget | None = None, *, wrap: int | None = None) -> None:
        super().__init__(len(rows), 1 + len(headers), parent)
        self.setHorizontalHeaderLabels(["Time", *headers])
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.verticalHeader().setVisible(False)
        self.setWordWrap(wrap is not None)
        self.times = [r.t for r in rows]
        for i, row in enumerate(rows):
            self.setItem(i, 0, QTableWidgetItem(time_text(row.t, origin)))
            for j, text in enumerate(row.cells, start=1):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                if j == 1 and row.colour is not None:
                    item.setBackground(QColor(row.colour))
                    item.setForeground(QColor(row.text_colour or "#000000"))
                self.setItem(i, j, item)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        if wrap is None:
            header.setStretchLastSection(True)
        else:
            # Never sideways: the other columns keep their contents' width and the
            # text column takes the rest, its long texts wrapped onto more lines.
            header.setStretchLastSection(False)
            header.setSectionResizeMode(wrap, QHeaderView.ResizeMode.Stretch)
            self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
            # a wrapped row may be taller than the list: scroll by pixels, not rows, so
            # every line of it can be brought into view
            self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
            self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self._changed_row: int | None = None
        self.currentCellChanged.connect(self._on_current_changed)
        self.cellClicked.connect(self._on_clicked)

    def choose(self, row: int) -> None:
        """Pick ``row`` as a click would."""
        if self.currentRow() == row:
            self._emit(row)
        else:
            self.setCurrentCell(row, 0)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 -- Qt override
        self._changed_row = None
        super().mousePressEvent(event)

    def _on_current_changed(self, row: int, *_: int) -> None:
        self._changed_row = row
        self._emit(row)

    def _on_clicked(self, row: int, _column: int) -> None:
        if row != self._changed_row:   # a click on the current row: jump there again
            self._emit(row)
        self._changed_row = None

    def _emit(self, row: int) -> None:
        if 0 <= row < len(self.times):
            self.moment_chosen.emit(self.times[row])


def alarm_table(record: SessionRecord, parent: QWidget | None = None) -> MomentTableWidget:
    """The alarm list of ``record``."""
    table = MomentTableWidget(("Priority", "Alarm", "Peak", "Lasted"), alarm_rows(record),
                              record.start, parent, wrap=2)
    table.setObjectName("alarm_list")
    return table


def event_table(record: SessionRecord, parent: QWidget | None = None) -> MomentTableWidget:
    """The event list of ``record``."""
    table = MomentTableWidget(("Event", "Details", "By"), event_rows(record), record.start,
                              parent, wrap=2)
    table.setObjectName("event_list")
    return table
