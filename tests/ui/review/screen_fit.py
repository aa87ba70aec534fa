"""Opens the review, course and browser windows on a screen of a given size; prints what is cut.

Run in a process of its own, on the ``offscreen`` platform with a screen of
the wanted size (``QT_QPA_PLATFORM=offscreen:configfile=...``), by
``test_screen_fit.py``::

    python -m tests.ui.review.screen_fit DB SESSION_ID PATIENT

Prints one JSON object: per window its frame and the screen's available
area, and per table the header titles and cells whose text does not fit
its column (or, for a wrapping column, its row), and how far the table
scrolls sideways.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from PySide6.QtCore import QRect, Qt, QTimer
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QAbstractItemView, QApplication, QWidget

PAD = 6
"""Cell and section padding (px): 3 px a side (Qt's item text margin; the header's own)."""


def _rect(r: QRect) -> list[int]:
    return [r.x(), r.y(), r.width(), r.height()]


def table_cuts(table: QAbstractItemView) -> dict[str, object]:
    """What does not fit in ``table`` (a QTableView or QTableWidget), as it is laid out."""
    header = table.horizontalHeader()
    model = table.model()
    fm_head = QFontMetrics(header.font())
    fm = QFontMetrics(table.font())
    cut_headers, cut_cells = [], []
    for col in range(model.columnCount()):
        title = str(model.headerData(col, Qt.Orientation.Horizontal) or "")
        need = max((fm_head.horizontalAdvance(line) for line in title.split("\n")), default=0)
        if header.sortIndicatorSection() == col and table.isSortingEnabled():
            need += 14                                       # the sort arrow
        if need + PAD > header.sectionSize(col):
            cut_headers.append(title)
        lines = title.count("\n") + 1
        if fm_head.height() * lines > header.height():
            cut_headers.append(f"{title} (height)")
        width = header.sectionSize(col) - PAD
        for row in range(model.rowCount()):
            text = str(model.index(row, col).data() or "")
            if table.wordWrap():
                box = fm.boundingRect(QRect(0, 0, max(1, width), 100_000),
                                      int(Qt.TextFlag.TextWordWrap), text)
                if box.width() > width or box.height() > table.rowHeight(row):
                    cut_cells.append(text)
            elif fm.horizontalAdvance(text) > width:
                cut_cells.append(text)
    return {"cut_headers": cut_headers, "cut_cells": cut_cells,
            "scroll": table.horizontalScrollBar().maximum()}


def window_facts(window: QWidget, tables: dict[str, QAbstractItemView]) -> dict[str, object]:
    return {"frame": _rect(window.frameGeometry()),
            "area": _rect(window.screen().availableGeometry()),
            "tables": {name: table_cuts(t) for name, t in tables.items()}}


def main(argv: list[str]) -> int:
    db, session_id, patient = Path(argv[0]), int(argv[1]), argv[2]
    app = QApplication([])
    from monitor.review.course import course_rows
    from monitor.ui.review.browser import BrowserView
    from monitor.ui.review.course_view import CourseView
    from monitor.ui.review.loading import load_review
    from monitor.ui.review.review_view import ReviewView

    out: dict[str, object] = {}
    review = ReviewView(load_review(db, session_id))
    review.show()
    course = CourseView(patient, course_rows(db, patient))
    course.show()
    browser = BrowserView(db)
    browser.show()

    def measure() -> None:
        if browser.busy() or browser.model.rowCount() == 0:
            QTimer.singleShot(50, measure)
            return
        out["review"] = window_facts(review, {"summary": review.summary_panel.vitals_table,
                                              "alarms": review.alarm_list,
                                              "events": review.event_list})
        out["course"] = window_facts(course, {"table": course.table})
        out["browser"] = window_facts(browser, {"table": browser.table})
        app.quit()

    QTimer.singleShot(300, measure)
    app.exec()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
