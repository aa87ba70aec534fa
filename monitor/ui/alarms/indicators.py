"""Permanent inactivation indicators: NO ALARM SOUND, <vital> ALARMS OFF, the crossed bell.

The boxes sit next to the alarm bar; the crossed bell (IEC 60601-1-8 "alarm
off", symbol IEC 60417-5319 in spirit) is drawn on the tile of each vital
that raises no alarm (:func:`paint_crossed_bell`).
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGridLayout, QLabel, QWidget

from monitor.core.vitals import SPECS, Vital
from monitor.ui.shared import theme

NO_SOUND_TEXT = "NO ALARM SOUND"
OFF_SUFFIX = "ALARMS OFF"
INDICATOR_PX = 15

_STYLE = f"""
QLabel#no_sound {{ background: {theme.WARNING_BG}; color: {theme.WARNING_TEXT}; padding: 0 6px; }}
QLabel#alarms_off {{ background: #ffb300; color: #000000; padding: 0 6px; }}
"""


BELL_COLOUR = "#ffb300"
"""Amber, as the ALARMS OFF boxes: a state to be aware of, not an alarm."""


def paint_crossed_bell(painter: QPainter, rect: QRectF, colour: str = BELL_COLOUR) -> None:
    """Draw a bell struck through by a diagonal line, filling ``rect`` (square is best).

    The caller owns ``painter`` (begun on its widget); its pen and brush are
    restored afterwards.
    """
    side = min(rect.width(), rect.height())
    if side < 4:
        return
    box = QRectF(rect.center().x() - side / 2, rect.center().y() - side / 2, side, side)
    x, y, w = box.x(), box.y(), side
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    pen = QPen(theme.color(colour), max(1.5, w / 10))
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    painter.setPen(pen)
    painter.setBrush(Qt.BrushStyle.NoBrush)
    bell = QPainterPath(QPointF(x + 0.15 * w, y + 0.75 * w))
    bell.quadTo(QPointF(x + 0.27 * w, y + 0.62 * w), QPointF(x + 0.27 * w, y + 0.45 * w))
    bell.cubicTo(QPointF(x + 0.27 * w, y + 0.12 * w), QPointF(x + 0.73 * w, y + 0.12 * w),
                 QPointF(x + 0.73 * w, y + 0.45 * w))
    bell.quadTo(QPointF(x + 0.73 * w, y + 0.62 * w), QPointF(x + 0.85 * w, y + 0.75 * w))
    bell.closeSubpath()
    painter.drawPath(bell)
    painter.drawArc(QRectF(x + 0.42 * w, y + 0.72 * w, 0.16 * w, 0.16 * w), 180 * 16, 180 * 16)
    painter.drawLine(QPointF(x + 0.1 * w, y + 0.9 * w), QPointF(x + 0.9 * w, y + 0.1 * w))
    painter.restore()


class AlarmIndicatorsWidget(QWidget):
    """A red "NO ALARM SOUND" box and one amber "<vital> ALARMS OFF" box per vital.

    The boxes stack two to a column. The widget hides itself when there is
    nothing to show, so the alarm message gets the room.

    Parameters
    ----------
    parent : QWidget or None

    Signals
    -------
    None of its own.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setStyleSheet(_STYLE)
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setSpacing(3)
        self._px = INDICATOR_PX
        self._no_sound = self._label(NO_SOUND_TEXT, "no_sound")
        self._grid.addWidget(self._no_sound, 0, 0)
        self._off: dict[Vital, QLabel] = {}
        self.hide()

    def _label(self, text: str, name: str) -> QLabel:
        label = QLabel(text, self)
        label.setObjectName(name)
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        label.setFont(theme.font(self._px, bold=True))
        label.hide()
        return label

    def show_state(self, no_sound: bool, vitals_off: Iterable[Vital]) -> None:
        """Show the no-sound box and the boxes of ``vitals_off`` (rebuilt only on a change)."""
        off = tuple(vitals_off)
        if set(off) != set(self._off):
            for label in self._off.values():
                self._grid.removeWidget(label)
                label.deleteLater()
            self._off = {v: self._label(f"{SPECS[v].label} {OFF_SUFFIX}", "alarms_off")
                         for v in off}
            for i, label in enumerate([self._no_sound, *self._off.values()]):
                self._grid.addWidget(label, i % 2, i // 2)
                label.setVisible(label is not self._no_sound)
        self._no_sound.setVisible(no_sound)
        self.setVisible(no_sound or bool(off))

    def set_pixel_size(self, px: int) -> None:
        """Font size of the boxes."""
        self._px = px
        for label in (self._no_sound, *self._off.values()):
            label.setFont(theme.font(px, bold=True))

    def texts(self) -> list[str]:
        """The indicators shown, no-sound first."""
        return [label.text() for label in (self._no_sound, *self._off.values())
                if label.isVisibleTo(self)]
