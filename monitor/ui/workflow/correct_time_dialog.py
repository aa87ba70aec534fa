"""Correct an event's time afterwards: the new time, and who corrects it."""

from __future__ import annotations

import math

from PySide6.QtCore import Qt, QTime, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from monitor.core.workflow.messages import CorrectEventTime
from monitor.ui.shared.dialog_style import DIALOG_STYLE, line_edit, mark_refused, use_font
from monitor.ui.shared.formatting import format_elapsed
from monitor.ui.shared.placement import keep_clear
from monitor.ui.workflow.model import EventRow

MAX_SESSION_S = 24 * 3600 - 1
"""The time field counts session time up to 23:59:59."""


def _qtime(seconds: float) -> QTime:
    s = int(max(0.0, min(MAX_SESSION_S, seconds)))
    return QTime(s // 3600, (s // 60) % 60, s % 60)


def _seconds(t: QTime) -> int:
    return t.hour() * 3600 + t.minute() * 60 + t.second()


class CorrectTimeDialog(QDialog):
    """Move one event to another time within the session; the change is kept.

    The time is session time (``H:MM:SS`` since the session started, as on
    the header clock). The correction needs the nurse's initials; a time
    after "now" or the same as before is refused here, and the hub checks
    again.

    Parameters
    ----------
    row : EventRow
        The event to correct (it must have an ``event_id``).
    origin : float
        Session start (clock seconds).
    now : float
        The session clock now: the latest allowed time.
    initials : str
    parent : QWidget or None

    Attributes
    ----------
    time_edit : QTimeEdit
    initials_edit : QLineEdit
    error_label : QLabel
    buttons : QDialogButtonBox

    Signals
    -------
    correction_made(object)
        The :class:`CorrectEventTime` to send.
    """

    correction_made = Signal(object)

    def __init__(self, row: EventRow, origin: float, now: float, initials: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        if row.event_id is None:
            raise ValueError("a manual entry's time cannot be corrected")
        self.setWindowTitle("Correct event time")
        self.setStyleSheet(DIALOG_STYLE)
        keep_clear(self)   # opened from the live window: over the trends, never the vitals
        self._row = row
        self._origin = origin
        self._now = now
        what = row.label + (f" \u2014 {row.text}" if row.text else "")
        title = QLabel(f"{what}\nRecorded at {format_elapsed(row.t - origin)} session time. "
                       "The original time stays in the record with your correction.")
        title.setWordWrap(True)
        self.time_edit = QTimeEdit(_qtime(row.t - origin))
        self.time_edit.setDisplayFormat("H:mm:ss")
        self.time_edit.setMinimumTime(QTime(0, 0, 0))
        self.time_edit.setMaximumTime(_qtime(math.floor(now - origin)))
        self.initials_edit = line_edit(initials, "required", width=110)
        form = QFormLayout()
        form.addRow("New time (session)", self.time_edit)
        form.addRow("Your initials", self.initials_edit)
        self.error_label = QLabel()
        self.error_label.setObjectName("dialog_error")
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText("Correct time")
        ok.setDefault(True)
        self.buttons.accepted.connect(self._on_ok)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addLayout(form)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)
        use_font(self)   # the dialogs' text size, on every child
        self.time_edit.setFocus(Qt.FocusReason.OtherFocusReason)

    def set_session_time(self, seconds: float) -> None:
        """Type a new time, in session seconds."""
        self.time_edit.setTime(_qtime(seconds))

    def error_text(self) -> str:
        """The problem shown, or empty."""
        return self.error_label.text() if not self.error_label.isHidden() else ""

    def _on_ok(self) -> None:
        by = self.initials_edit.text().strip()
        new_t = self._origin + _seconds(self.time_edit.time())
        problem = ""
        if not by:
            problem = "Your initials are required"
        elif new_t > self._now:
            problem = "The time cannot be after now"
        elif abs(new_t - self._row.t) < 1.0:
            problem = "That is the time already recorded"
        mark_refused(self.initials_edit, not by)
        if problem:
            self.error_label.setText(problem + ".")
            self.error_label.show()
            return
        assert self._row.event_id is not None
        self.accept()
        self.correction_made.emit(CorrectEventTime(self._row.event_id, new_t, by))
