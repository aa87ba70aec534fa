"""The course view: one patient's sessions side by side, as a table and small plots."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from monitor.core.alarms.model import Priority
from monitor.review.course import course_rows
from monitor.ui.review.course_view import COLUMNS, CourseView

pytestmark = pytest.mark.qt_log_ignore(r"does not support propagateSizeHints")  # offscreen

TITLES = [c[0] for c in COLUMNS]


@pytest.fixture(scope="module")
def rows(review_db):
    return course_rows(review_db.path, "AB-0012")


@pytest.fixture
def course(qtbot, rows):
    view = CourseView("AB-0012", rows)
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)
    return view


def _cell(view, row, title):
    return view.table.item(row, TITLES.index(title)).text()


def test_one_row_per_session_oldest_first(course, rows, review_db):
    assert course.table.rowCount() == 2
    assert [_cell(course, i, "Session") for i in range(2)] == \
        [str(review_db.ids["typical"]), str(review_db.ids["surge"])]
    assert [_cell(course, i, "Course") for i in range(2)] == ["1 of 6", "2 of 6"]
    assert _cell(course, 0, "Dose") == "0.5 mg/kg (35 mg)"
    assert _cell(course, 1, "Dose") == "0.75 mg/kg (52.5 mg)"
    for i, row in enumerate(rows):
        assert _cell(course, i, "Sys rise\n(mmHg)") == f"{row.rise_sys:+.0f}"
        assert _cell(course, i, "Dia rise\n(mmHg)") == f"{row.rise_dia:+.0f}"
        assert _cell(course, i, "HR rise\n(bpm)") == f"{row.rise_hr:+.0f}"
        assert _cell(course, i, "Lowest\nSpO2 (%)") == f"{row.lowest_spo2:.0f}"
        assert _cell(course, i, "Alarms H/M/L") == " / ".join(
            str(row.alarm_counts.get(p, 0)) for p in (Priority.HIGH, Priority.MEDIUM,
                                                      Priority.LOW))
    assert _cell(course, 0, "PHQ-9\nbefore") == "18" and _cell(course, 1, "PHQ-9\nbefore") == "15"
    assert _cell(course, 0, "CADSS\nafter") == "12" and _cell(course, 1, "CADSS\nafter") == "\u2014"
    assert "Nausea 1" in _cell(course, 0, "Events")     # the typical scenario's events
    # The surge's 148/90 baseline was started on the scenario's recorded override (a note).
    assert _cell(course, 1, "Events") == "Note 1"


def test_small_plots_per_measure_with_session_on_x(course, rows):
    assert np.array_equal(course.curves["rise_sys"].yData, [r.rise_sys for r in rows])
    assert np.array_equal(course.curves["rise_sys"].xData, [1.0, 2.0])
    assert np.array_equal(course.curves["rise_hr"].yData, [r.rise_hr for r in rows])
    assert np.array_equal(course.curves["lowest_spo2"].yData, [r.lowest_spo2 for r in rows])
    assert rows[1].rise_sys > rows[0].rise_sys          # the surge stands out
    high = course.bars["alarms_high"].opts["height"]
    assert list(high) == [float(r.alarm_counts.get(Priority.HIGH, 0)) for r in rows]
    # A score missing from a session is left out, not drawn as zero.
    assert np.array_equal(course.curves["cadss"].xData, [1.0])
    assert np.array_equal(course.curves["cadss"].yData, [12.0])
    ticks = course.plots["Lowest SpO2 (%)"].getAxis("bottom")._tickLevels
    assert [label for _, label in ticks[0]] == ["1", "2"]


def test_double_click_asks_for_the_session(qtbot, course, review_db):
    rect = course.table.visualItemRect(course.table.item(1, 0))
    with qtbot.waitSignal(course.session_chosen) as blocker:
        qtbot.mouseClick(course.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        qtbot.mouseDClick(course.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert blocker.args == [review_db.ids["surge"]]


def test_empty_course(qtbot):
    view = CourseView("nobody", [])
    qtbot.addWidget(view)
    assert view.table.rowCount() == 0
    assert all(c.xData is None or len(c.xData) == 0 for c in view.curves.values())


def test_legends_in_the_title_row_counts_on_whole_numbers_session_on_x(course):
    scores = course.plots["Scores"]
    assert [name for name, _ in course.legends["Scores"]] == [
        "PHQ-9 before", "MADRS before", "CADSS after"]
    assert scores.legend is None                      # nothing drawn over the points
    title = scores.titleLabel.text
    for name, colour in course.legends["Scores"]:
        assert name in title and colour in title
    alarms = course.plots["Alarms by priority"]
    axis = alarms.getAxis("left")
    lo, hi = alarms.viewRange()[1]
    for spacing, offset in axis.tickSpacing(lo, hi, alarms.vb.height()):
        assert spacing >= 1 and float(spacing).is_integer() and offset == 0
    values = [v for _, vs in axis.tickValues(lo, hi, alarms.vb.height()) for v in vs]
    assert values and all(float(v).is_integer() for v in values)
    for plot in course.plots.values():
        assert plot.getAxis("bottom").labelText == "session in the course"
