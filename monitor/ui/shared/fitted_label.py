"""A label whose font grows and shrinks with the space it is given."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetricsF, QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

from monitor.ui.shared import theme

_PROBE_PX = 100


class FittedLabelWidget(QLabel):
    """A ``QLabel`` that picks the largest font fitting its own rectangle.

    The size is computed for a fixed ``reference_text`` (e.g. ``"888"``), not
    for the current text, so the digits do not jump in size when the value
    changes. The label ignores its size hint, so its layout decides the room
    and a font change never feeds back into the layout.

    Parameters
    ----------
    reference_text : str
        The widest text the label must fit.
    min_px, max_px : int
        Limits of the font pixel size.
    bold : bool
    parent : QWidget or None

    Signals
    -------
    None of its own.
    """

    def __init__(self, reference_text: str, min_px: int, max_px: int, *,
                 bold: bool = True, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._reference = reference_text
        self._min_px = min_px
        self._max_px = max_px
        self._bold = bold
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.setMinimumSize(8, 8)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setFont(theme.font(min_px, bold))
        probe = QFontMetricsF(theme.font(_PROBE_PX, bold))
        self._probe_w = max(1.0, probe.horizontalAdvance(reference_text))
        self._probe_h = max(1.0, probe.height())

    def pixel_size(self) -> int:
        """The current font pixel size."""
        return self.font().pixelSize()

    def fitting_pixel_size(self) -> int:
        """The pixel size at which the reference text fits the contents rectangle."""
        rect = self.contentsRect()
        scale = min(rect.width() / self._probe_w, rect.height() / self._probe_h)
        px = int(_PROBE_PX * scale)
        return max(self._min_px, min(self._max_px, px))

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._update_font()

    def _update_font(self) -> None:
        px = self.fitting_pixel_size()
        if px != self.pixel_size():
            self.setFont(theme.font(px, self._bold))
