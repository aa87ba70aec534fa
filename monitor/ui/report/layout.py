"""Page flow for the PDF report: blocks placed top to bottom, tables split across pages.

Layout happens before drawing so that every footer can say "page N of M":
:class:`Flow` records, page by page, where each block goes and a function
that draws it there; :meth:`Flow.draw` then paints the pages.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPagedPaintDevice, QPainter

from monitor.ui.report.plot import font, pen

Draw = Callable[[QPainter, float], None]
"""Draws a block whose top is at the given y (pt)."""

WRAP = Qt.TextFlag.TextWordWrap | Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop
PAD = 1.6
"""Cell padding above and below the text (pt)."""
HPAD = 3.0
"""Cell padding left and right (pt)."""
SHADE = QColor(243, 243, 243)


@dataclass(frozen=True)
class Column:
    """A table column: title, share of the table width, right-aligned or not."""

    title: str
    share: float
    right: bool = False


class Flow:
    """Places blocks on pages between ``top`` and ``bottom`` (pt), ``left`` to ``right``.

    Parameters
    ----------
    device : QPagedPaintDevice
        The PDF writer (for font metrics and new pages).
    left, right, top, bottom : float
    """

    def __init__(self, device: QPagedPaintDevice, left: float, right: float, top: float,
                 bottom: float) -> None:
        self.device = device
        self.left, self.right, self.top, self.bottom = left, right, top, bottom
        self.pages: list[list[tuple[float, Draw]]] = [[]]
        self.y = top

    @property
    def width(self) -> float:
        return self.right - self.left

    def metrics(self, f: QFont) -> QFontMetricsF:
        """Metrics of ``f`` on the PDF device, in points."""
        return QFontMetricsF(f, self.device)

    def text_height(self, f: QFont, text: str, width: float) -> float:
        """Height of ``text`` wrapped to ``width``."""
        r = self.metrics(f).boundingRect(QRectF(0, 0, max(width, 1.0), 1e6), int(WRAP), text)
        return r.height()

    def new_page(self) -> None:
        self.pages.append([])
        self.y = self.top

    def add(self, height: float, draw: Draw, keep_with: float = 0.0) -> None:
        """Place a block ``height`` tall; ``keep_with`` more must fit after it on the page."""
        if self.y + height + keep_with > self.bottom and self.y > self.top:
            self.new_page()
        self.pages[-1].append((self.y, draw))
        self.y += height

    def space(self, height: float) -> None:
        """Vertical space (dropped at the top of a page)."""
        if self.y > self.top:
            self.y = min(self.y + height, self.bottom)

    def heading(self, text: str, keep_with: float) -> None:
        """A section heading kept on the same page as ``keep_with`` pt of what follows."""
        f = font(10.5, bold=True)
        left = self.left

        def draw(p: QPainter, y: float) -> None:
            p.setFont(f)
            p.setPen(pen(0.5))
            p.drawText(QRectF(left, y, 400, 14), Qt.AlignmentFlag.AlignLeft
                       | Qt.AlignmentFlag.AlignVCenter, text)
        self.add(16.0, draw, keep_with)

    def table(self, title: str | None, columns: Sequence[Column], rows: Sequence[Sequence[str]], *,
              size: float = 7.0, header: bool = True, bold_first: bool = False,
              continued: str | None = None) -> None:
        """A table under a heading; rows that do not fit go on the next page under a
        repeated header and ``title (continued)`` (or ``continued`` if given)."""
        continued = continued or (f"{title} (continued)" if title else None)
        body, bold = font(size), font(size, bold=True)
        total = sum(c.share for c in columns)
        widths = [self.width * c.share / total for c in columns]
        xs = [self.left + sum(widths[:i]) for i in range(len(widths))]

        def row_height(cells: Sequence[str], f: QFont) -> float:
            return max((self.text_height(bold if (bold_first and i == 0) else f, c,
                                         w - 2 * HPAD)
                        for i, (c, w) in enumerate(zip(cells, widths, strict=True))),
                       default=0.0) + 2 * PAD

        head = [c.title for c in columns]
        head_h = row_height(head, bold) if header else 0.0

        def draw_head(p: QPainter, y: float) -> None:
            p.setFont(bold)
            p.setPen(pen(0.5))
            for c, x, w in zip(columns, xs, widths, strict=True):
                _cell(p, QRectF(x, y, w, head_h), c.title, c.right)
            p.setPen(pen(0.8))
            p.drawLine(QPointF(self.left, y + head_h), QPointF(self.right, y + head_h))

        first_h = row_height(rows[0], body) if rows else 0.0
        if title:
            self.heading(title, head_h + first_h)
        if header:
            self.add(head_h, draw_head, first_h)
        for k, cells in enumerate(rows):
            h = row_height(cells, body)
            if self.y + h > self.bottom:
                self.new_page()
                if continued:
                    self.heading(continued, head_h + h)
                if header:
                    self.add(head_h, draw_head)
            self.add(h, _row_drawer(cells, columns, xs, widths, h, body, bold,
                                    shade=k % 2 == 1, bold_first=bold_first))

    def draw(self, p: QPainter, footer: Callable[[QPainter, int, int], None],
             page_done: Callable[[int, int], None] | None = None,
             overlay: Callable[[QPainter], None] | None = None) -> int:
        """Paint every page: its blocks, then its ``overlay`` (a watermark), then its footer.

        ``page_done(i, n)`` is called after page ``i`` of ``n`` (from 1).
        Returns the page count.
        """
        n = len(self.pages)
        for i, blocks in enumerate(self.pages):
            if i:
                self.device.newPage()
            for y, draw in blocks:
                draw(p, y)
            if overlay is not None:
                overlay(p)
            footer(p, i + 1, n)
            if page_done is not None:
                page_done(i + 1, n)
        return n


def _cell(p: QPainter, r: QRectF, text: str, right: bool) -> None:
    align = (Qt.AlignmentFlag.AlignRight if right else Qt.AlignmentFlag.AlignLeft)
    p.drawText(r.adjusted(HPAD, PAD, -HPAD, -PAD),
               int(Qt.TextFlag.TextWordWrap | align | Qt.AlignmentFlag.AlignTop), text)


def _row_drawer(cells: Sequence[str], columns: Sequence[Column], xs: list[float],
                widths: list[float], h: float, body: QFont, bold: QFont, *, shade: bool,
                bold_first: bool) -> Draw:
    def draw(p: QPainter, y: float) -> None:
        if shade:
            p.fillRect(QRectF(xs[0], y, sum(widths), h), SHADE)
        p.setPen(pen(0.5))
        for i, (c, col, x, w) in enumerate(zip(cells, columns, xs, widths, strict=True)):
            p.setFont(bold if (bold_first and i == 0) else body)
            _cell(p, QRectF(x, y, w, h), c, col.right)
        p.setPen(pen(0.25, grey=150))
        p.drawLine(QPointF(xs[0], y + h), QPointF(xs[0] + sum(widths), y + h))
    return draw
