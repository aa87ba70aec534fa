"""The alarm highlight of a numeric tile: a border and a wash in the priority colour.

Also the tile's crossed bell: drawn beside its caption while the vital it
shows raises no alarm (turned off, or no rule for it).
"""

from __future__ import annotations

import math

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QPainter, QPaintEvent, QPen, QTextDocument
from PySide6.QtWidgets import QLabel, QWidget

from monitor.core.alarms.model import AlarmEntry
from monitor.ui.alarms.indicators import paint_crossed_bell
from monitor.ui.alarms.style import COLOURS, entry_lit
from monitor.ui.live.tile_texts import caption_html
from monitor.ui.shared import theme

BELL_GAP_PX = 6
"""Space between a tile's caption text and its crossed bell."""

LIT_BORDER_PX = 5
UNLIT_BORDER_PX = 2
TINT_ALPHA = 70
"""Opacity (of 255) of the priority colour washed over a lit tile: the digits stay readable."""


class TileAlarm:
    """Alarm state of one tile, painted over its background after the frame is drawn.

    Painting (rather than a style sheet) keeps the tile's layout untouched,
    so flashing never resizes its digits. Lit: a thick border and a wash in
    the priority colour; unlit half of a flash: a thin border only.

    Parameters
    ----------
    widget : QWidget
        The tile; repainted when what is shown changes.
    """

    def __init__(self, widget: QWidget) -> None:
        self._widget = widget
        self.entry: AlarmEntry | None = None
        self.lit = False

    def set_entry(self, entry: AlarmEntry | None, t: float) -> None:
        """Show ``entry`` (``None``: no alarm) at flash time ``t``."""
        same = (entry is None and self.entry is None) or (
            entry is not None and self.entry is not None
            and (entry.priority, entry.signalling) == (self.entry.priority, self.entry.signalling))
        self.entry = entry
        if not same:
            self.lit = False if entry is None else entry_lit(entry, t)
            self._widget.update()
        else:
            self.show_flash(t)

    def show_flash(self, t: float) -> None:
        """Follow the flash phase at flash time ``t`` (repaints only on a change)."""
        lit = self.entry is not None and entry_lit(self.entry, t)
        if lit != self.lit:
            self.lit = lit
            self._widget.update()

    def colour(self) -> str:
        """The priority colour shown (``""`` when not in alarm)."""
        return "" if self.entry is None else COLOURS[self.entry.priority].lit

    def paint(self) -> None:
        """Draw the highlight; call at the end of the tile's ``paintEvent``."""
        if self.entry is None:
            return
        colour = COLOURS[self.entry.priority].tint
        border = LIT_BORDER_PX if self.lit else UNLIT_BORDER_PX
        painter = QPainter(self._widget)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = QRectF(self._widget.rect()).adjusted(border / 2, border / 2,
                                                     -border / 2, -border / 2)
        if self.lit:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(theme.color(colour, TINT_ALPHA))
            painter.drawRoundedRect(rect, 6, 6)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(QPen(theme.color(colour), border))
        painter.drawRoundedRect(rect, 6, 6)
        painter.end()


class TileAlarmMixin:
    """``set_alarm``, ``show_flash``, ``alarm_colour``, the crossed bell and the overlay paint.

    Mixed in before ``QFrame``; the tile creates ``self.alarm = TileAlarm(self)``
    and has a ``_caption`` label (the bell is drawn just after its text).
    """

    alarm: TileAlarm
    _caption: QLabel
    _alarms_off = False
    _caption_plain = ""

    def set_caption(self, text: str) -> None:
        """The caption ("HR", "SpO2 \u00b7 Masimo"): the device's name smaller than the vital's."""
        self._caption_plain = text
        self._render_caption()

    def caption_text(self) -> str:
        """The caption as plain text ("SpO2 \u00b7 Masimo")."""
        return self._caption_plain or self._caption.text()

    def _render_caption(self) -> None:
        cap = self._caption
        cap.setTextFormat(Qt.TextFormat.RichText)
        cap.setText(caption_html(self._caption_plain, cap.font().pixelSize() or 14))
        self.reserve_bell_room()

    def _caption_text_width(self) -> float:
        cap = self._caption
        doc = QTextDocument()
        doc.setDefaultFont(cap.font())
        doc.setDocumentMargin(0)
        doc.setHtml(cap.text())
        return doc.idealWidth()

    def set_alarms_off(self, off: bool) -> None:
        """Show the crossed bell (``True``) or not; repaints only on a change."""
        if off != self._alarms_off:
            self._alarms_off = off
            self.reserve_bell_room()
            self.update()  # type: ignore[attr-defined]

    def reserve_bell_room(self) -> None:
        """Keep room for the crossed bell after the caption, so it never covers the unit.

        The caption's right margin is the bell and its gap while the bell is shown:
        the caption row then gives the limits less room, never the bell none.
        """
        cap = self._caption
        room = int(max(8.0, cap.height() * 0.9)) + BELL_GAP_PX if self.bell_shown() else 0
        if cap.contentsMargins().right() != room:
            cap.setContentsMargins(0, 0, room, 0)
        if self._caption_plain:
            # A rich-text label asks for more than its text: give it just its text (and
            # the bell), so the limit figures beside it get the rest of the row.
            width = math.ceil(self._caption_text_width()) + room + 2
            if cap.minimumWidth() != width or cap.maximumWidth() != width:
                cap.setFixedWidth(width)

    def bell_shown(self) -> bool:
        """Whether the crossed bell is drawn (a tile with nothing to alarm hides it)."""
        return self._alarms_off and self._bell_applies()

    def _bell_applies(self) -> bool:
        return True

    def bell_rect(self) -> QRectF:
        """Where the crossed bell goes: right after the caption's text, as tall as it."""
        cap = self._caption
        text_w = (self._caption_text_width() if self._caption_plain
                  else cap.fontMetrics().horizontalAdvance(cap.text()))
        side = max(8.0, cap.height() * 0.9)
        x = cap.x() + cap.contentsRect().x() + text_w + BELL_GAP_PX
        return QRectF(x, cap.y() + (cap.height() - side) / 2, side, side)

    def set_alarm(self, entry: AlarmEntry | None, t: float = 0.0) -> None:
        """Show ``entry`` on the tile (``None``: no alarm) at flash time ``t``."""
        self.alarm.set_entry(entry, t)

    def show_flash(self, t: float) -> None:
        """Follow the alarm bar's flash phase (flash time ``t``)."""
        self.alarm.show_flash(t)

    def alarm_colour(self) -> str:
        """The priority colour of the alarm on the tile, or ``""``."""
        return self.alarm.colour()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        super().paintEvent(event)  # type: ignore[misc]
        if self.bell_shown():
            painter = QPainter(self)  # type: ignore[arg-type]
            paint_crossed_bell(painter, self.bell_rect())
            painter.end()
        self.alarm.paint()
