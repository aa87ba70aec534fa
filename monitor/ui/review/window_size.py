"""The clinician's windows take the size they want, but never more than their screen has room for.

:func:`keep_on_screen` sizes a window to what it prefers, shrunk to the
screen's available area (without task bars) less the window frame, centres
it, and sizes it once more when it is first shown, when the frame's real
size is known. A 1280×800 screen shows the whole review window, frame and
all; a 1920×1080 one shows it at its preferred size.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QSize
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget

FRAME_ALLOWANCE = (16, 48)
"""Width and height (px) a window manager's frame takes before the window is first shown."""


def fit_to_screen(window: QWidget, preferred: QSize) -> QSize:
    """Resize ``window`` to ``preferred``, shrunk to its screen's available area, and centre it.

    The area is the screen's available geometry less the window frame, so the
    whole window, frame included, is on the screen. Returns the size given to
    the window's contents.
    """
    screen = window.screen() or QGuiApplication.primaryScreen()
    if screen is None:
        window.resize(preferred)
        return preferred
    area = screen.availableGeometry()
    frame = window.frameGeometry().size() - window.geometry().size()
    if not window.isVisible() or (frame.width() <= 0 and frame.height() <= 0):
        frame = QSize(*FRAME_ALLOWANCE)   # not shown yet: room for a typical decoration
    room = QSize(max(1, area.width() - frame.width()), max(1, area.height() - frame.height()))
    size = preferred.boundedTo(room)
    window.resize(size)
    window.move(area.x() + max(0, area.width() - size.width() - frame.width()) // 2,
                area.y() + max(0, area.height() - size.height() - frame.height()) // 2)
    return size


class _FirstShow(QObject):
    """Fits its window again on its first show (the frame is known then), then goes."""

    def __init__(self, window: QWidget, preferred: QSize) -> None:
        super().__init__(window)
        self._window, self._preferred = window, preferred

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._window and event.type() == QEvent.Type.Show:
            self._window.removeEventFilter(self)
            fit_to_screen(self._window, self._preferred)
        return False


def keep_on_screen(window: QWidget, preferred: QSize) -> QSize:
    """Fit ``window`` now and once more when first shown; returns the size given now."""
    size = fit_to_screen(window, preferred)
    window.installEventFilter(_FirstShow(window, preferred))
    return size
