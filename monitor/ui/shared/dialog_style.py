"""The look shared by the workflow dialogs (set-up, manual entry, infusion actions)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QMessageBox, QWidget

from monitor.ui.shared import theme
from monitor.ui.shared.placement import keep_clear

DIALOG_FONT_PX = 15
"""Text size of the workflow dialogs and message boxes (read at arm's length at the chair)."""

DIALOG_STYLE = f"""
QDialog {{ background: {theme.PANEL}; }}
QLabel, QCheckBox, QRadioButton {{ color: {theme.TEXT}; }}
QLabel#dialog_hint {{ color: {theme.TEXT_DIM}; }}
QLabel#dialog_value {{ color: {theme.TEXT}; font-weight: bold; }}
QLineEdit, QTimeEdit, QComboBox {{
    background: {theme.FIELD_BG}; color: {theme.TEXT}; border: 1px solid {theme.PANEL_BORDER};
    padding: 3px 5px; placeholder-text-color: {theme.TEXT_DIM};
}}
QLineEdit[refused="true"] {{ border: 1px solid #ff5252; background: #3a0d14; }}
QLabel#dialog_error {{ background: {theme.WARNING_BG}; color: {theme.WARNING_TEXT};
    padding: 6px; }}
QLabel#field_error {{ color: {theme.FIELD_ERROR}; }}
QPushButton {{
    background: {theme.BUTTON_BG}; color: {theme.TEXT}; border: 1px solid {theme.PANEL_BORDER};
    border-radius: 4px; padding: 5px 14px;
}}
QPushButton:default {{ border-color: {theme.TEXT_DIM}; }}
"""


def field_row(*widgets: QWidget) -> QWidget:
    """Widgets side by side in one form row, left-aligned."""
    box = QWidget()
    row = QHBoxLayout(box)
    row.setContentsMargins(0, 0, 0, 0)
    for w in widgets:
        row.addWidget(w)
    row.addStretch(1)
    return box


def mark_refused(edit: QLineEdit, refused: bool) -> None:
    """Give a field the red "refused" border, or take it away."""
    if bool(edit.property("refused")) == refused:
        return
    edit.setProperty("refused", refused)
    style = edit.style()
    style.unpolish(edit)
    style.polish(edit)


def line_edit(text: str = "", placeholder: str = "", *, width: int | None = None,
              parent: QWidget | None = None) -> QLineEdit:
    """A line edit with its starting text, a hint and (optionally) a fixed width."""
    edit = QLineEdit(text, parent)
    edit.setPlaceholderText(placeholder)
    if width is not None:
        edit.setFixedWidth(width)
    return edit


def message_box(icon: QMessageBox.Icon, title: str, text: str, parent: QWidget) -> QMessageBox:
    """A non-modal message (a refusal, why an action cannot be taken now), dark and readable.

    It deletes itself when closed and, opened from the live window, sits
    over the trends (never over the alarm bar or the numbers). Show it with
    ``show()``.
    """
    box = QMessageBox(icon, title, text, QMessageBox.StandardButton.Ok, parent)
    box.setStyleSheet(DIALOG_STYLE)
    use_font(box, DIALOG_FONT_PX + 1)
    box.setWindowModality(Qt.WindowModality.NonModal)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    keep_clear(box)
    return box


def use_font(dialog: QWidget, pixel_size: int = DIALOG_FONT_PX) -> None:
    """Give ``dialog`` and every child without a font of its own the app font at ``pixel_size``.

    Call it once the children exist: under a style sheet Qt does not pass a
    dialog's font on to its children.
    """
    dialog.setFont(theme.font(pixel_size))
    for child in dialog.findChildren(QWidget):
        if not child.testAttribute(Qt.WidgetAttribute.WA_SetFont):
            child.setFont(theme.font(pixel_size))


def field_error_label(width: int = 0) -> QLabel:
    """The place beside a field where its refusal is written (kept, empty, when there is none).

    The label keeps its size when empty, so a refusal never moves the form
    or its buttons.
    """
    label = QLabel()
    label.setObjectName("field_error")
    label.setWordWrap(True)
    if width:
        label.setFixedWidth(width)
    return label
