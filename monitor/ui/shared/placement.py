"""Where the live window's dialogs sit: over the trends, never over the alarm bar or numbers.

A dialog opened from the live window is kept inside the window's
``dialog_area()`` (see :meth:`monitor.ui.live.view.LiveView.dialog_area`):
when it is shown and whenever it changes size it is moved (and, if it is
too big, shrunk) so that its frame stays within that rectangle. A dialog
whose parent window has no such area (a start-up dialog, the review
window) is left where Qt puts it.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QRect, QSize
from PySide6.QtWidgets import QWidget

Area = Callable[[], QRect]
"""Returns the allowed rectangle, in global (screen) coordinates."""


def place_within(dialog: QWidget, area: QRect) -> None:
    """Move ``dialog`` so its frame is centred in ``area``, shrinking it to fit if needed.

    The dialog's maximum size is capped at the area, so a dialog that grows
    later (an error message shown) cannot spill out of it either.
    """
    if area.isEmpty():
        return
    frame, inner = dialog.frameGeometry(), dialog.geometry()
    margins = QSize(frame.width() - inner.width(), frame.height() - inner.height())
    limit = QSize(max(1, area.width() - margins.width()),
                  max(1, area.height() - margins.height()))
    if dialog.maximumSize() != limit:
        dialog.setMaximumSize(limit.expandedTo(dialog.minimumSize()))
    size = dialog.size()
    fitted = size.boundedTo(limit).expandedTo(dialog.minimumSize())
    if fitted != size:
        dialog.resize(fitted)
    width, height = fitted.width() + margins.width(), fitted.height() + margins.height()
    x = area.x() + max(0, (area.width() - width) // 2)
    y = area.y() + max(0, (area.height() - height) // 2)
    if dialog.pos().x() != x or dialog.pos().y() != y:
        dialog.move(x, y)


class _Keeper(QObject):
    """Event filter of one dialog: re-places it on every show and resize."""

    def __init__(self, dialog: QWidget, area: Area) -> None:
        super().__init__(dialog)
        self._dialog = dialog
        self._area = area
        self._busy = False

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (watched is self._dialog and not self._busy
                and event.type() in (QEvent.Type.Show, QEvent.Type.Resize)):
            self._busy = True
            try:
                place_within(self._dialog, self._area())
            finally:
                self._busy = False
        return False


def dialog_area_of(widget: QWidget | None) -> Area | None:
    """The ``dialog_area`` method of ``widget``'s window, or ``None`` if it has none."""
    if widget is None:
        return None
    area = getattr(widget.window(), "dialog_area", None)
    return area if callable(area) else None


def keep_clear(dialog: QWidget, owner: QWidget | None = None) -> bool:
    """Keep ``dialog`` inside the dialog area of ``owner``'s window (default: its parent's).

    Returns whether there was such an area (a live window). Call it before
    the dialog is first shown.
    """
    area = dialog_area_of(owner if owner is not None else dialog.parentWidget())
    if area is None:
        return False
    dialog.installEventFilter(_Keeper(dialog, area))
    if dialog.isVisible():
        place_within(dialog, area())
    return True
