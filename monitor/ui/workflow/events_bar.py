"""The events bar: one-click event buttons, a note field, the nurse's initials, and tools."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from monitor.core.workflow.messages import AddEvent, EventKind
from monitor.ui.live.header import header_scale
from monitor.ui.live.shortcuts import EVENT_KEYS
from monitor.ui.shared import theme

BUTTON_TEXT: dict[EventKind, str] = {
    EventKind.NAUSEA: "Nausea", EventKind.VOMITING: "Vomiting", EventKind.ANXIETY: "Anxiety",
    EventKind.DISSOCIATION: "Dissociation", EventKind.HEADACHE: "Headache",
    EventKind.ANTIEMETIC: "Antiemetic", EventKind.ANTIHYPERTENSIVE: "Antihypert.",
    EventKind.DOSE_CHANGED: "Dose changed",
}
"""Short button texts; the tooltip gives the full label and the key."""

BAR_HEIGHT = 60
"""Height of the two rows at 1280 px wide (it scales with the window like the header)."""

_STYLE = f"""
QLabel {{ color: {theme.TEXT_DIM}; }}
QPushButton {{ background: #21262d; color: {theme.TEXT}; border: 1px solid {theme.PANEL_BORDER};
    border-radius: 4px; padding: 0 6px; }}
QPushButton:checked {{ background: #30363d; border-color: {theme.TEXT_DIM}; }}
QPushButton#event_button {{ background: #1c2333; }}
QLineEdit {{ background: #161b22; color: {theme.TEXT}; border: 1px solid {theme.PANEL_BORDER};
    padding: 0 5px; }}
"""


INITIALS_WIDTH = 84
"""Pixels of the initials field at the 1280-wide layout (scaled with the fonts)."""


class EventsBarWidget(QFrame):
    """What happens at the chair, in one click, stamped on the session clock.

    Two rows: the event buttons, then the nurse's initials, the note field
    and the tools. Each event button (F1-F8) records its event at once with the nurse's
    initials; the note field (Ctrl+N) records a free note on Enter. The bar
    also holds the manual-entry button, the events-list toggle and the
    "Keys" button.

    Parameters
    ----------
    parent : QWidget or None

    Attributes
    ----------
    event_buttons : dict[EventKind, QPushButton]
    initials_edit, note_edit : QLineEdit
    note_button, manual_button, events_button, review_button, keys_button : QPushButton

    Signals
    -------
    command_issued(object)
        An :class:`~monitor.core.workflow.messages.AddEvent` for the hub.
    manual_entry_requested()
        The nurse asked for the manual-entry dialog.
    events_toggled(bool)
        The events-list button was switched on or off.
    keys_requested()
        The nurse asked for the list of keys.
    """

    command_issued = Signal(object)
    manual_entry_requested = Signal()
    events_toggled = Signal(bool)
    keys_requested = Signal()
    review_requested = Signal()
    initials_needed = Signal()
    """An action was asked for before the nurse's initials were entered (it was not sent)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("events_bar")
        self.setStyleSheet(_STYLE)
        self._scale = 0.0
        self._fonted: list[tuple[QWidget, int, bool]] = []
        nurse = QLabel("Nurse")
        self.initials_edit = QLineEdit()
        self.initials_edit.setPlaceholderText("initials")
        self.initials_edit.setMaxLength(16)
        self.initials_edit.setFixedWidth(INITIALS_WIDTH)
        self.initials_edit.setToolTip("Your initials: recorded with every action this session")
        self.initials_edit.textEdited.connect(self._on_initials_edited)
        self.event_buttons: dict[EventKind, QPushButton] = {}
        for kind, key in EVENT_KEYS.items():
            button = QPushButton(BUTTON_TEXT[kind])
            button.setObjectName("event_button")
            button.setToolTip(f"Record \u201c{kind.label}\u201d now ({key})")
            button.setProperty("event_kind", kind.value)
            button.clicked.connect(self._on_event_button)
            self.event_buttons[kind] = button
        self.note_edit = QLineEdit()
        self.note_edit.setPlaceholderText("Note (Ctrl+N)")
        self.note_edit.setMaxLength(500)
        self.note_edit.returnPressed.connect(self._on_note)
        self.note_button = QPushButton("Add")
        self.note_button.clicked.connect(self._on_note)
        self.manual_button = QPushButton("Manual entry (Ctrl+M)")
        self.manual_button.clicked.connect(self.manual_entry_requested)
        self.events_button = QPushButton("Events")
        self.events_button.setCheckable(True)
        self.events_button.toggled.connect(self.events_toggled)
        self.keys_button = QPushButton("Keys (F12)")
        self.keys_button.clicked.connect(self.keys_requested)
        self.review_button = QPushButton("Review\u2026")
        self.review_button.setToolTip("Open the review of this and past sessions (Ctrl+R), "
                                      "in a window of its own")
        self.review_button.clicked.connect(self.review_requested)
        events = QHBoxLayout()
        events.setSpacing(4)
        for button in self.event_buttons.values():
            events.addWidget(button)
        tools = QHBoxLayout()
        tools.setSpacing(4)
        tools.addWidget(nurse)
        tools.addWidget(self.initials_edit)
        tools.addSpacing(6)
        tools.addWidget(self.note_edit, 1)
        tools.addWidget(self.note_button)
        tools.addSpacing(6)
        for button in (self.manual_button, self.events_button, self.review_button,
                       self.keys_button):
            tools.addWidget(button)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(4)
        column.addLayout(events)
        column.addLayout(tools)
        for widget in (*self.event_buttons.values(), self.note_button, self.manual_button,
                       self.events_button, self.review_button, self.keys_button):
            widget.setFocusPolicy(Qt.FocusPolicy.NoFocus)   # Space stays the audio-pause key
            widget.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
            self._fonted.append((widget, 13, widget in self.event_buttons.values()))
        for widget in (nurse, self.initials_edit, self.note_edit):
            self._fonted.append((widget, 13, False))
        self._update_fonts(1.0)

    def initials(self) -> str:
        """The nurse's initials as typed (stripped; may be empty)."""
        return self.initials_edit.text().strip()

    def remember_initials(self, initials: str) -> None:
        """Keep initials typed in a dialog for the next action, if none are set."""
        if initials.strip() and not self.initials():
            self.initials_edit.setText(initials.strip())

    def ask_initials(self) -> None:
        """Mark the initials field as needed and put the cursor in it."""
        self.initials_edit.setProperty("needed", True)
        self.initials_edit.setStyleSheet("border: 2px solid #ff5050;")
        self.initials_edit.setPlaceholderText("initials!")
        self.initials_edit.setFocus(Qt.FocusReason.OtherFocusReason)
        self.initials_needed.emit()

    def _on_initials_edited(self, text: str) -> None:
        if text.strip() and self.initials_edit.property("needed"):
            self.initials_edit.setProperty("needed", False)
            self.initials_edit.setStyleSheet("")
            self.initials_edit.setPlaceholderText("initials")

    def record(self, kind: EventKind) -> None:
        """Record a one-click event now (buttons and F1-F8); asks for the initials first."""
        if not self.initials():
            self.ask_initials()
            return
        self.command_issued.emit(AddEvent(kind, "", self.initials()))

    def _on_event_button(self) -> None:
        self.record(EventKind(self.sender().property("event_kind")))

    def toggle_events(self) -> None:
        """Open or close the events list (Ctrl+L)."""
        self.events_button.toggle()

    def focus_note(self) -> None:
        """Put the cursor in the note field (Ctrl+N)."""
        self.note_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.note_edit.selectAll()

    def set_event_count(self, count: int) -> None:
        """Show how many events the list holds on its button."""
        text = f"Events ({count})" if count else "Events"
        if self.events_button.text() != text:
            self.events_button.setText(text)

    def _on_note(self) -> None:
        text = self.note_edit.text().strip()
        if not text:
            return
        if not self.initials():   # the note stays in its field until the initials are in
            self.ask_initials()
            return
        self.command_issued.emit(AddEvent(EventKind.NOTE, text, self.initials()))
        self.note_edit.clear()
        self.note_edit.clearFocus()   # back to the window: Space pauses the sound again

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._update_fonts(header_scale(self.window().width()))

    def _update_fonts(self, scale: float) -> None:
        if abs(scale - self._scale) < 0.02:
            return
        self._scale = scale
        for widget, px, bold in self._fonted:
            widget.setFont(theme.font(round(px * scale), bold))
        self.initials_edit.setFixedWidth(round(INITIALS_WIDTH * scale))  # "initials!" fits
        self.setFixedHeight(round(BAR_HEIGHT * scale))
