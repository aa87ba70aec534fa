"""course_rows(): a patient's sessions side by side, from the recorded database."""

from __future__ import annotations

import datetime as dt

import pytest

from monitor.core.alarms.model import Priority
from monitor.core.vitals import Vital
from monitor.core.workflow.messages import EventKind
from monitor.review.course import course_rows
from monitor.review.record import RecordError, load_record
from monitor.review.summary import summarize


def test_a_course_lists_the_patients_sessions_in_order_with_their_numbers(recorded):
    rows = course_rows(recorded.path, "PT-001")
    assert [r.session_id for r in rows] == [recorded.ids["typical"], recorded.ids["desaturation"]]
    assert [(r.course_number, r.course_total) for r in rows] == [(1, 2), (2, 2)]
    assert [(r.dose_mg_per_kg, r.total_mg) for r in rows] == [(0.5, 35.0), (0.5, 35.0)]
    assert [(r.phq9, r.madrs, r.cadss) for r in rows] == [(18, 30, 12), (15, 26, 9)]
    first, second = rows
    assert first.start < second.start
    assert first.date == dt.datetime.fromtimestamp(first.start).date()
    # The desaturation shows in the second session only.
    assert first.lowest_spo2 >= 95 and second.lowest_spo2 <= 88
    assert first.alarm_counts[Priority.HIGH] == 0 and second.alarm_counts[Priority.HIGH] >= 1
    assert first.event_counts[EventKind.NAUSEA] == 1
    assert sum(second.event_counts.values()) == 0


def test_course_rows_say_what_summarize_says(recorded):
    for row in course_rows(recorded.path, "PT-001") + course_rows(recorded.path, "AB-77"):
        s = summarize(load_record(recorded.path, row.session_id))
        assert (row.rise_sys, row.rise_dia, row.rise_hr) == (
            s.peak_rise[Vital.NIBP_SYS], s.peak_rise[Vital.NIBP_DIA], s.peak_rise[Vital.HR])
        assert row.rise_sys is not None and row.rise_hr is not None
        assert row.lowest_spo2 == s.lowest_spo2
        assert row.alarm_counts == s.alarm_counts and row.event_counts == s.event_counts
        assert row.summary == s


def test_other_patients_and_missing_scores(recorded):
    (surge,) = course_rows(recorded.path, "AB-77")
    assert surge.session_id == recorded.ids["surge"]
    assert (surge.course_number, surge.course_total) == (1, 6)
    assert (surge.phq9, surge.madrs, surge.cadss) == (None, None, None)
    assert surge.rise_sys >= 30
    assert course_rows(recorded.path, "ab-77") == []      # a reference is matched exactly
    assert course_rows(recorded.path, "nobody") == []


def test_bad_input_is_refused_with_a_clear_message(recorded, tmp_path):
    with pytest.raises(ValueError, match="patient reference"):
        course_rows(recorded.path, "  ")
    with pytest.raises(RecordError, match="no database at"):
        course_rows(tmp_path / "none.sqlite3", "PT-001")
