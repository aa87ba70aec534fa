"""The visible list of keyboard shortcuts (F12, "?" or the "Keys" button)."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QGridLayout, QLabel, QVBoxLayout, QWidget

from monitor.ui.live.shortcuts import SHORTCUTS
from monitor.ui.shared import theme
from monitor.ui.shared.dialog_style import DIALOG_STYLE
from monitor.ui.shared.placement import keep_clear


class KeysDialog(QDialog):
    """Lists every shortcut of the monitoring window with what it does.

    Non-modal: the nurse can leave it open beside the window.

    Parameters
    ----------
    parent : QWidget or None

    Attributes
    ----------
    rows : list of tuple[str, str]
        ``(keys, description)`` as shown.

    Signals
    -------
    Only QDialog's own.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.setStyleSheet(DIALOG_STYLE)
        keep_clear(self)   # opened from the live window: over the trends, never the vitals
        grid = QGridLayout()
        grid.setHorizontalSpacing(18)
        grid.setVerticalSpacing(2)   # fits over the trends at 1280x800
        self.rows: list[tuple[str, str]] = []
        for i, spec in enumerate(SHORTCUTS):
            keys = QLabel(spec.keys_text)
            keys.setFont(theme.font(16, bold=True))
            text = QLabel(spec.description)
            text.setFont(theme.font(16))
            grid.addWidget(keys, i, 0)
            grid.addWidget(text, i, 1)
            self.rows.append((spec.keys_text, spec.description))
        note = QLabel("Keys work while the monitoring window is active; "
                      "they do nothing while a dialog is open.")
        note.setObjectName("dialog_hint")
        note.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addLayout(grid)
        layout.addWidget(note)
        layout.addWidget(buttons)
