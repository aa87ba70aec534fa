"""The review windows tell the truth about alarms, on real recorded sessions.

An escalated alarm is one row per priority episode, each with its peak; a
technical alarm (link loss: NO DATA; probe off: no valid value) is counted
apart from the physiological alarms in the browser, the course view and the
summary panel.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from monitor.core.alarms.model import AlarmKind, Priority, TransitionState
from monitor.core.vitals import Vital
from monitor.review.course import course_rows
from monitor.ui.alarms.style import COLOURS
from monitor.ui.review.browser import BrowserView
from monitor.ui.review.browser_model import COLUMNS
from monitor.ui.review.course_view import COLUMNS as COURSE_COLUMNS
from monitor.ui.review.course_view import CourseView

pytestmark = pytest.mark.qt_log_ignore(r"does not support propagateSizeHints")  # offscreen

HEADERS = ("Time", "Priority", "Alarm", "Peak", "Lasted")


def _technical_raises(record) -> int:
    return sum(1 for a in record.alarms
               if a.kind is AlarmKind.TECHNICAL and a.state is TransitionState.RAISED)


def _list_rows(table):
    return [[table.item(r, c).text() for c in range(table.columnCount())]
            for r in range(table.rowCount())]


def test_an_escalated_alarm_is_two_rows_with_their_own_peaks(make_review):
    view = make_review("surge")
    table = view.alarm_list
    assert [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())] == \
        list(HEADERS)
    record = view.record
    log = [a for a in record.alarms if a.alarm_id == "nibp_sys.high"]
    raised, escalated, cleared = (next(a for a in log if a.state is s) for s in (
        TransitionState.RAISED, TransitionState.ESCALATED, TransitionState.CLEARED))
    rows = [r for r in _list_rows(table) if raised.message in r[2] or escalated.message in r[2]]
    assert len(rows) == 2
    (medium, high) = rows
    sys_t, sys_v = record.numerics[Vital.NIBP_SYS].valid()

    def peak(a, b):
        return f"{sys_v[(sys_t >= a) & (sys_t < b)].max():.0f} mmHg"

    def clock(seconds):
        s = int(seconds)
        return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"

    assert medium[1] == "medium" and medium[0].endswith(f"+{clock(raised.t - record.start)}")
    assert medium[3] == peak(raised.t, escalated.t)
    assert medium[4] == f"{clock(escalated.t - raised.t)}, then high"
    assert high[1] == "high" and high[0].endswith(f"+{clock(escalated.t - record.start)}")
    assert high[3] == peak(escalated.t, cleared.t)
    assert high[4] == clock(cleared.t - escalated.t)
    i = [r[2] for r in _list_rows(table)].index(medium[2])
    assert table.item(i, 1).background().color().name() == COLOURS[Priority.MEDIUM].lit


def test_a_technical_alarm_row_says_so_and_has_no_peak(make_review):
    view = make_review("link")
    rows = [r for r in _list_rows(view.alarm_list) if "NO DATA" in r[2]]
    assert rows and all(r[1].endswith(", technical") and r[3] == "\u2014" for r in rows)


def test_summary_panel_counts_technical_alarms_apart(make_review, loaded):
    view = make_review("sensor")
    record = view.record
    physio = {a.alarm_id for a in record.alarms if a.kind is AlarmKind.PHYSIOLOGICAL}
    text = view.summary_panel.labels["alarms"].text()
    assert text.endswith(f"technical {_technical_raises(record)}") and _technical_raises(record)
    assert not physio and text.startswith("high 0, medium 0, low 0")


@pytest.fixture
def browser(qtbot, review_db):
    view = BrowserView(review_db.path)
    qtbot.addWidget(view)
    view.show()
    qtbot.waitUntil(lambda: view.model.rowCount() > 0 and not view.busy(), timeout=10_000)
    yield view
    qtbot.waitUntil(lambda: not view.busy(), timeout=10_000)


@pytest.mark.parametrize("name", ["link", "sensor", "surge"])
def test_browser_counts_technical_alarms_in_their_own_column(browser, review_db, loaded, name):
    record = loaded[name].record
    row = browser.model.row_of(review_db.ids[name])
    titles = [c.title for c in COLUMNS]
    cells = {t: browser.model.index(row, i).data() for i, t in enumerate(titles)}
    highest: dict[str, Priority] = {}
    for a in record.alarms:
        if a.kind is AlarmKind.PHYSIOLOGICAL:
            highest[a.alarm_id] = max(highest.get(a.alarm_id, a.priority), a.priority)
    for title, prio in (("High", Priority.HIGH), ("Medium", Priority.MEDIUM),
                        ("Low", Priority.LOW)):
        assert cells[title] == str(sum(1 for p in highest.values() if p is prio)), title
    assert cells["Technical"] == str(_technical_raises(record))
    if name != "surge":
        assert cells["Technical"] != "0" and (cells["High"], cells["Medium"]) == ("0", "0")
        medium = titles.index("Medium")
        assert browser.model.index(row, medium).data(Qt.ItemDataRole.BackgroundRole) is None


def test_course_view_bars_count_physiological_alarms_technical_apart(qtbot, review_db,
                                                                     loaded):
    rows = course_rows(review_db.path, "EF-0001")   # the sensor-off session
    view = CourseView("EF-0001", rows)
    qtbot.addWidget(view)
    view.show()
    record = loaded["sensor"].record
    assert [r.session_id for r in rows] == [record.session_id]
    for p in Priority:
        assert list(view.bars[f"alarms_{p.label}"].opts["height"]) == [0.0]
    assert list(view.bars["alarms_technical"].opts["height"]) == [
        float(_technical_raises(record))] != [0.0]
    titles = [c[0] for c in COURSE_COLUMNS]
    assert view.table.item(0, titles.index("Alarms H/M/L")).text() == "0 / 0 / 0"
    technical = next(i for i, t in enumerate(titles) if t.startswith("Technical"))
    assert view.table.item(0, technical).text() == \
        str(_technical_raises(record))
