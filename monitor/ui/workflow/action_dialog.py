"""A short confirmation that asks who (and why) before a workflow action is sent."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from monitor.ui.shared.dialog_style import DIALOG_STYLE, line_edit, mark_refused, use_font
from monitor.ui.shared.placement import keep_clear


@dataclass(frozen=True)
class DialogField:
    """One text field of an :class:`ActionDialog`."""

    key: str
    label: str
    text: str = ""
    placeholder: str = ""
    required: bool = False


Check = Callable[[dict[str, str]], str]
"""Extra validation of the stripped values: a problem to show, or empty."""


class ActionDialog(QDialog):
    """Asks for a confirmation and a few text fields (initials, reason, clinician).

    OK stays in the dialog, with a message, while a required field is empty
    or ``check`` finds a problem; otherwise the dialog closes and emits
    :attr:`confirmed` with the stripped values. It is opened with
    ``open()`` (window-modal, no nested event loop).

    Parameters
    ----------
    title, message : str
    fields : sequence of DialogField
    ok_text : str
        The text of the OK button ("Start infusion", "Pause"...).
    check : callable or None
    parent : QWidget or None

    Attributes
    ----------
    edits : dict[str, QLineEdit]
        By :attr:`DialogField.key`.
    message_label, error_label : QLabel
    buttons : QDialogButtonBox

    Signals
    -------
    confirmed(dict)
        The values, by key, once OK passed every check.
    """

    confirmed = Signal(dict)

    def __init__(self, title: str, message: str, fields: Sequence[DialogField], ok_text: str,
                 *, check: Check | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setStyleSheet(DIALOG_STYLE)
        keep_clear(self)   # opened from the live window: over the trends, never the vitals
        self.setMinimumWidth(420)
        self._fields = tuple(fields)
        self._check = check
        self.message_label = QLabel(message)
        self.message_label.setWordWrap(True)
        self.message_label.setTextFormat(Qt.TextFormat.PlainText)
        self.edits: dict[str, QLineEdit] = {}
        form = QFormLayout()
        for f in self._fields:
            edit = line_edit(f.text, f.placeholder or ("required" if f.required else "optional"))
            edit.setObjectName(f"action_{f.key}")
            self.edits[f.key] = edit
            form.addRow(f.label, edit)
        self.error_label = QLabel()
        self.error_label.setObjectName("dialog_error")
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText(ok_text)
        ok.setDefault(True)
        self.buttons.accepted.connect(self._on_ok)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.message_label)
        layout.addLayout(form)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)
        use_font(self)   # the dialogs' text size, on every child
        first = next((self.edits[f.key] for f in self._fields
                      if f.required and not f.text.strip()), None)
        if first is not None:
            first.setFocus(Qt.FocusReason.OtherFocusReason)

    def set_message(self, message: str) -> None:
        """Say what the dialog asks now (the state it asks about has moved on)."""
        if self.message_label.text() != message:
            self.message_label.setText(message)

    def values(self) -> dict[str, str]:
        """The fields as typed, stripped."""
        return {key: edit.text().strip() for key, edit in self.edits.items()}

    def error_text(self) -> str:
        """The problem shown, or empty."""
        return self.error_label.text() if not self.error_label.isHidden() else ""

    def ok(self) -> None:
        """Press OK (as the button does)."""
        self._on_ok()

    def _on_ok(self) -> None:
        values = self.values()
        missing = [f for f in self._fields if f.required and not values[f.key]]
        for f in self._fields:
            mark_refused(self.edits[f.key], f in missing)
        problem = ("; ".join(f"{f.label} is required" for f in missing) if missing
                   else self._check(values) if self._check is not None else "")
        if problem:
            self.error_label.setText(problem[:1].upper() + problem[1:] + ".")
            self.error_label.show()
            return
        self.error_label.hide()
        self.accept()
        self.confirmed.emit(values)
