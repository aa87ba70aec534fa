"""The live view's keyboard shortcuts: one table, used for the keys and for their list.

Shortcuts belong to the monitoring window (``Qt.WindowShortcut``): while a
dialog is open it is the active window, so typing in its fields never
triggers them, and a text field of the window itself keeps the printable
keys it types (Qt gives it the key first).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QWidget

from monitor.core.workflow.messages import EventKind


@dataclass(frozen=True)
class ShortcutSpec:
    """One shortcut: the keys (Qt's portable text), what it does, and its action name."""

    keys: tuple[str, ...]
    action: str
    description: str

    @property
    def keys_text(self) -> str:
        """The keys as shown in the list (``"F12 or ?"``)."""
        return " or ".join(self.keys)


EVENT_KEYS: dict[EventKind, str] = {
    EventKind.NAUSEA: "F1", EventKind.VOMITING: "F2", EventKind.ANXIETY: "F3",
    EventKind.DISSOCIATION: "F4", EventKind.HEADACHE: "F5", EventKind.ANTIEMETIC: "F6",
    EventKind.ANTIHYPERTENSIVE: "F7", EventKind.DOSE_CHANGED: "F8",
}
"""The one-click event buttons and their function keys."""

SPACE = ShortcutSpec(("Space",), "audio_pause", "Pause the alarm sound")
"""Already handled by the live view itself (kept here for the list)."""

SHORTCUTS: tuple[ShortcutSpec, ...] = (
    SPACE,
    *(ShortcutSpec((key,), f"event:{kind.value}", f"Record: {kind.label}")
      for kind, key in EVENT_KEYS.items()),
    ShortcutSpec(("Ctrl+N",), "note", "Write a note (the note field)"),
    ShortcutSpec(("Ctrl+M",), "manual", "Manual entry: NIBP, HR, SpO2 or RR"),
    ShortcutSpec(("Ctrl+I",), "start", "Start the infusion (checks the baseline first)"),
    ShortcutSpec(("Ctrl+P",), "pause", "Pause or resume the infusion"),
    ShortcutSpec(("Ctrl+Shift+S",), "stop", "Stop the infusion (asks first)"),
    ShortcutSpec(("Ctrl+E",), "end", "End the session (discharge)"),
    ShortcutSpec(("Ctrl+L",), "events", "Show or hide the events list"),
    ShortcutSpec(("Ctrl+R",), "review", "Open the review of this and past sessions"),
    ShortcutSpec(("F12", "?"), "keys", "Show this list of keys"),
)
"""Every shortcut of the monitoring window, in the order the list shows them."""


def install_shortcuts(window: QWidget, slot: Callable[[], None],
                      actions: Collection[str]) -> list[QShortcut]:
    """Create a window shortcut for every :data:`SHORTCUTS` entry named in ``actions``.

    Every shortcut calls ``slot`` (a bound method of ``window``: a lambda
    would keep the window alive past the application); the slot reads the
    action from ``window.sender().objectName()``. Returns the shortcuts
    (the window owns them).
    """
    made = []
    for spec in SHORTCUTS:
        if spec.action not in actions:
            continue
        for key in spec.keys:
            shortcut = QShortcut(QKeySequence(key), window)
            shortcut.setObjectName(spec.action)
            shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
            shortcut.setAutoRepeat(False)
            shortcut.activated.connect(slot)
            made.append(shortcut)
    return made
