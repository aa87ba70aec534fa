"""The session browser on a database of real recorded sessions."""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
import sqlite3

import numpy as np
import pytest
from PySide6.QtCore import QDate, Qt

from monitor.core.alarms.model import Priority
from monitor.core.session import Phase, SessionStatus
from monitor.core.vitals import Vital
from monitor.review.overview import SessionOverview
from monitor.ui.review.browser import BrowserView
from monitor.ui.review.browser_model import COLUMNS, SessionTableModel
from monitor.ui.review.course_view import CourseView
from monitor.ui.review.export_dialog import ExportDialog
from monitor.ui.review.review_view import ReviewView
from monitor.ui.shared.formatting import format_elapsed

pytestmark = pytest.mark.qt_log_ignore(r"does not support propagateSizeHints")  # offscreen

TITLES = [c.title.replace("\n", " ") for c in COLUMNS]
"""The column titles on one line (a title breaks before its unit)."""


@pytest.fixture
def browser(qtbot, review_db):
    """The browser on the shared database, listed."""
    view = BrowserView(review_db.path)
    qtbot.addWidget(view)
    view.show()
    qtbot.waitUntil(lambda: view.model.rowCount() > 0 and not view.busy(), timeout=10_000)
    yield view
    qtbot.waitUntil(lambda: not view.busy(), timeout=10_000)
    for window in view.windows:
        window.close()


def _cells(view: BrowserView, row: int) -> dict[str, str]:
    return {title: view.model.index(row, i).data() for i, title in enumerate(TITLES)}


def _row_of(view: BrowserView, session_id: int) -> dict[str, str]:
    row = view.model.row_of(session_id)
    assert row is not None, f"session {session_id} not listed"
    return _cells(view, row)


def test_lists_every_session_newest_first_with_its_columns(browser, review_db, loaded):
    assert browser.model.rowCount() == len(review_db.ids)
    ids = [browser.model.overview(r).id for r in range(browser.model.rowCount())]
    assert ids == sorted(review_db.ids.values(), reverse=True)
    assert browser.status.text() == f"{len(review_db.ids)} sessions"
    surge = loaded["surge"]
    cells = _row_of(browser, review_db.ids["surge"])
    record, summary = surge.record, surge.summary
    assert cells["Patient"] == "AB-0012"
    assert cells["Course"] == "2 of 6"
    assert cells["Duration (h:mm:ss)"] == format_elapsed(record.end - record.start)
    assert cells["Baseline (min)"] == f"{summary.phase_durations[Phase.BASELINE] / 60:.0f}"
    assert cells["Infusion (min)"] == f"{summary.phase_durations[Phase.INFUSION] / 60:.0f}"
    assert cells["Recovery (min)"] == f"{summary.phase_durations[Phase.RECOVERY] / 60:.0f}"
    assert cells["High"] == str(summary.alarm_counts.get(Priority.HIGH, 0)) != "0"
    assert cells["Low"] == str(summary.alarm_counts.get(Priority.LOW, 0))
    sys_v = record.numerics[Vital.NIBP_SYS].valid()[1]
    spo2 = record.numerics[Vital.SPO2].valid()[1]
    assert cells["Peak sys (mmHg)"] == f"{np.max(sys_v):.0f}"
    assert cells["Lowest SpO2 (%)"] == f"{np.min(spo2):.0f}"
    assert cells["Status"] == "completed, simulated"
    assert cells["Date"].endswith(dt.datetime.fromtimestamp(record.start).strftime("%H:%M"))
    link = _row_of(browser, review_db.ids["link"])
    assert link["Patient"] == "\u2014" and link["Course"] == "\u2014"


def test_alarm_cells_coloured_by_priority(browser, review_db):
    row = browser.model.row_of(review_db.ids["surge"])
    high = browser.model.index(row, TITLES.index("High"))
    assert high.data(Qt.ItemDataRole.BackgroundRole).name() == "#d50000"
    quiet = browser.model.index(browser.model.row_of(review_db.ids["typical"]),
                                TITLES.index("High"))
    assert quiet.data(Qt.ItemDataRole.BackgroundRole) is None


def test_patient_filter(qtbot, browser, review_db):
    with qtbot.waitSignal(browser.listed, timeout=10_000):
        qtbot.keyClicks(browser.patient_filter, "cd")
    qtbot.waitUntil(lambda: not browser.busy(), timeout=10_000)
    assert [browser.model.overview(r).id for r in range(browser.model.rowCount())] == \
        [review_db.ids["desat"]]
    with qtbot.waitSignal(browser.listed, timeout=10_000):
        browser.patient_filter.setText("AB-0012")
    qtbot.waitUntil(lambda: not browser.busy(), timeout=10_000)
    assert {browser.model.overview(r).id for r in range(browser.model.rowCount())} == \
        {review_db.ids["typical"], review_db.ids["surge"]}
    with qtbot.waitSignal(browser.listed, timeout=10_000):
        browser.patient_filter.clear()
    qtbot.waitUntil(lambda: not browser.busy(), timeout=10_000)
    assert browser.model.rowCount() == len(review_db.ids)


def test_date_filter(qtbot, browser, loaded):
    day = dt.datetime.fromtimestamp(loaded["typical"].record.start).date()
    qday = QDate(day.year, day.month, day.day)

    def listed_after(change):
        with qtbot.waitSignal(browser.listed, timeout=10_000):
            change()
        qtbot.waitUntil(lambda: not browser.busy(), timeout=10_000)
        return browser.model.rowCount()

    assert listed_after(lambda: browser.date_from.setDate(qday.addDays(1))) == 0
    assert "0 sessions" in browser.status.text()
    everything = len(loaded)
    assert listed_after(lambda: browser.date_from.setDate(qday)) == everything
    assert listed_after(lambda: browser.date_to.setDate(qday.addDays(-1))) == 0
    assert listed_after(lambda: browser.date_to.setDate(qday)) == everything


def test_enter_opens_the_review_of_the_selected_session(qtbot, browser, review_db):
    assert browser.select_session(review_db.ids["surge"])
    browser.table.setFocus()
    with qtbot.waitSignal(browser.window_opened, timeout=10_000) as blocker:
        qtbot.keyClick(browser.table, Qt.Key.Key_Return)
    view = blocker.args[0]
    assert isinstance(view, ReviewView)
    assert view.record.session_id == review_db.ids["surge"]
    assert view.isVisible() and Vital.NIBP_SYS in view.plots.curves


def test_double_click_opens_the_review(qtbot, browser, review_db):
    row = browser.model.row_of(review_db.ids["typical"])
    rect = browser.table.visualRect(browser.model.index(row, 1))
    viewport = browser.table.viewport()
    with qtbot.waitSignal(browser.window_opened, timeout=10_000) as blocker:
        # Qt's item views see a double click as a press, then a double-click event.
        qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=rect.center())
        qtbot.mouseDClick(viewport, Qt.MouseButton.LeftButton, pos=rect.center())
    assert blocker.args[0].record.session_id == review_db.ids["typical"]


def test_course_button_opens_the_course_of_the_selected_patient(qtbot, browser, review_db):
    browser.select_session(review_db.ids["typical"])
    with qtbot.waitSignal(browser.window_opened, timeout=20_000) as blocker:
        browser.course_button.click()
    course = blocker.args[0]
    assert isinstance(course, CourseView)
    assert [r.session_id for r in course.rows] == [review_db.ids["typical"],
                                                   review_db.ids["surge"]]


def test_course_needs_a_patient_reference(browser, review_db):
    browser.select_session(review_db.ids["link"])
    browser.course_button.click()
    assert "patient reference" in browser.status.text()
    assert not browser.busy() and not browser.windows


def test_export_button_opens_the_dialog_for_the_selected_session(qtbot, browser, review_db):
    browser.select_session(review_db.ids["desat"])
    dialog = browser.open_export()
    assert isinstance(dialog, ExportDialog) and dialog.isVisible()
    assert f"session {review_db.ids['desat']}" in dialog.windowTitle()
    dialog.reject()


def test_a_missing_session_is_reported_not_opened(qtbot, browser):
    browser.open_session(999)
    qtbot.waitUntil(lambda: not browser.busy(), timeout=10_000)
    assert "session 999 does not exist" in browser.status.text()
    assert not browser.windows


def test_sorting_by_a_column(qtbot, browser, review_db):
    column = TITLES.index("Peak sys (mmHg)")
    browser.table.sortByColumn(column, Qt.SortOrder.DescendingOrder)
    peaks = [browser.model.overview(r).peak_nibp_sys for r in range(browser.model.rowCount())]
    assert peaks == sorted(peaks, key=lambda p: -1 if p is None else p, reverse=True)
    assert browser.model.overview(0).id == review_db.ids["surge"]


def _overview(i: int) -> SessionOverview:
    return SessionOverview(
        id=i, start=1.7e9 + 86400 * i, end=1.7e9 + 86400 * i + 5400, duration_s=5400.0,
        status=SessionStatus.COMPLETED, source="sim:typical", simulated=True,
        patient_ref=f"P-{i % 300:04d}", course_number=1 + i % 6, course_total=6,
        clinician="Dr A", phase_durations={Phase.BASELINE: 600.0, Phase.INFUSION: 2400.0,
                                           Phase.RECOVERY: 2400.0},
        alarm_counts={Priority.HIGH: i % 3, Priority.MEDIUM: 0, Priority.LOW: 1},
        peak_nibp_sys=140.0 + i % 40, min_spo2=None)


def test_model_of_thousands_of_sessions_serves_any_row(qtbot):
    model = SessionTableModel()
    model.set_rows([_overview(i) for i in range(5000)])
    assert model.rowCount() == 5000 and model.columnCount() == len(COLUMNS)
    last = model.index(4999, TITLES.index("Course"))
    assert last.data() == f"{1 + 4999 % 6} of 6"
    assert model.index(4999, TITLES.index("Lowest SpO2 (%)")).data() == "\u2014"
    model.sort(TITLES.index("Peak sys (mmHg)"), Qt.SortOrder.AscendingOrder)
    assert model.overview(0).peak_nibp_sys == 140.0


def test_a_database_from_a_newer_app_is_refused_and_left_alone(qtbot, review_db, tmp_path):
    db = tmp_path / review_db.path.name
    shutil.copy(review_db.path, db)
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    view = BrowserView(db)
    qtbot.addWidget(view)
    with qtbot.waitSignal(view.listed, timeout=10_000):
        pass
    qtbot.waitUntil(lambda: not view.busy(), timeout=10_000)
    assert view.model.rowCount() == 0
    assert "newer than this app" in view.status.text()
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before
