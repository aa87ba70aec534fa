"""A label that shows the longest of its wordings that fits: shortened by rule, never cut."""

from __future__ import annotations

from PySide6.QtCore import QEvent
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget


class ChoiceLabel(QLabel):
    """A label that shows the longest of its texts that fits its width (never a cut one).

    The texts are given longest first (:meth:`set_texts`); the full text is
    the tool tip. When none fits, the last is shown anyway, or, if
    ``optional`` (supplementary figures), nothing.
    """

    def __init__(self, parent: QWidget | None = None, *, optional: bool = False) -> None:
        super().__init__(parent)
        self._texts: list[str] = []
        self._optional = optional
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

    def set_texts(self, texts: list[str]) -> None:
        """The texts to choose from, longest first."""
        self._texts = list(texts)
        self.setToolTip(texts[0] if texts else "")
        self._choose()

    def _choose(self) -> None:
        fm = self.fontMetrics()
        room = self.contentsRect().width()
        fallback = "" if self._optional or not self._texts else self._texts[-1]
        text = next((t for t in self._texts if fm.horizontalAdvance(t) <= room), fallback)
        if text != self.text():
            self.setText(text)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._choose()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt override)
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._choose()
