"""The look shared by the workflow dialogs (set-up, manual entry, infusion actions)."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QWidget

from monitor.ui.shared import theme

DIALOG_STYLE = f"""
QDialog {{ background: {theme.PANEL}; }}
QLabel, QCheckBox, QRadioButton {{ color: {theme.TEXT}; }}
QLabel#dialog_hint {{ color: {theme.TEXT_DIM}; }}
QLabel#dialog_value {{ color: {theme.TEXT}; font-weight: bold; }}
QLineEdit, QTimeEdit, QComboBox {{
    background: #161b22; color: {theme.TEXT}; border: 1px solid {theme.PANEL_BORDER};
    padding: 3px 5px;
}}
QLineEdit[refused="true"] {{ border: 1px solid #ff5252; background: #3a0d14; }}
QLabel#dialog_error {{ background: {theme.WARNING_BG}; color: {theme.WARNING_TEXT};
    padding: 6px; }}
QPushButton {{
    background: #21262d; color: {theme.TEXT}; border: 1px solid {theme.PANEL_BORDER};
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
