"""A patient's course: every session of one patient reference, side by side.

:func:`course_rows` summarises each session with
:func:`~monitor.review.summary.summarize` (a course is a handful to a few
tens of sessions), so the course view, the review view and the report all
say the same numbers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from monitor.core.alarms.model import Priority
from monitor.core.alarms.profile import AlarmProfile
from monitor.core.alarms.profile_file import load_default_profile
from monitor.core.vitals import Vital
from monitor.core.workflow.messages import EventKind
from monitor.review.record import SessionRecord, load_record, read_only
from monitor.review.summary import SessionSummary, summarize


@dataclass(frozen=True)
class CourseRow:
    """One session of a course.

    Attributes
    ----------
    session_id : int
    start : float
        Unix seconds.
    date : datetime.date
        The day it started, on the recording computer's clock (its UTC
        offset was recorded; this computer's when it was not).
    course_number, course_total : int or None
        "Infusion 3 of 6", from the set-up.
    dose_mg_per_kg, total_mg : float or None
    rise_sys, rise_dia, rise_hr : float or None
        Peak rise over baseline (``SessionSummary.peak_rise``; HR falls back to pulse rate).
    lowest_spo2 : float or None
    alarm_counts : dict of Priority to int
        Physiological alarms by highest priority (``SessionSummary.alarm_counts``).
    technical_alarms : int
        Technical alarms, counted apart (``SessionSummary.technical_alarms``).
    event_counts : dict of EventKind to int
    phq9, madrs : int or None
        Scores before the session.
    cadss : int or None
        Score after the session.
    summary : SessionSummary
        Everything else about the session, for the plots.
    """

    session_id: int
    start: float
    date: dt.date
    course_number: int | None
    course_total: int | None
    dose_mg_per_kg: float | None
    total_mg: float | None
    rise_sys: float | None
    rise_dia: float | None
    rise_hr: float | None
    lowest_spo2: float | None
    alarm_counts: dict[Priority, int]
    event_counts: dict[EventKind, int]
    phq9: int | None
    madrs: int | None
    cadss: int | None
    summary: SessionSummary
    technical_alarms: int = 0


def course_rows(db_path: Path, patient_ref: str,
                profile: AlarmProfile | None = None) -> list[CourseRow]:
    """Every session recorded for ``patient_ref`` (exactly, as typed), oldest first.

    ``profile`` is passed to :func:`summarize` (default: the shipped
    profile). An unknown patient gives an empty list.

    Raises
    ------
    ValueError
        If ``patient_ref`` is blank.
    RecordError
        The database is missing, unreadable or newer than this app.
    """
    if not isinstance(patient_ref, str) or not patient_ref.strip():
        raise ValueError(f"a course needs a patient reference, not {patient_ref!r}")
    db_path = Path(db_path)
    profile = profile if profile is not None else load_default_profile()
    return [course_row(load_record(db_path, sid), profile)
            for sid in course_session_ids(db_path, patient_ref)]


def course_session_ids(db_path: Path, patient_ref: str) -> list[int]:
    """The ids of ``patient_ref``'s sessions in start order (read-only)."""
    with read_only(db_path) as (conn, _):
        rows = conn.execute(
            "SELECT s.id FROM sessions s LEFT JOIN session_setup u ON u.session_id = s.id"
            " WHERE COALESCE(s.patient_ref, u.patient_ref) = ?"
            " ORDER BY s.started_at, s.id", (patient_ref.strip(),)).fetchall()
    return [r[0] for r in rows]


def course_row(record: SessionRecord, profile: AlarmProfile | None = None) -> CourseRow:
    """One session's row of the course table."""
    s = summarize(record, profile)
    setup = record.setup or {}
    return CourseRow(
        session_id=record.session_id, start=record.start,
        date=_local_date(record.start, record.utc_offset_s),
        course_number=_int(setup.get("course_number")),
        course_total=_int(setup.get("course_total")),
        dose_mg_per_kg=_float(setup.get("dose_mg_per_kg")),
        total_mg=_float(setup.get("total_mg")),
        rise_sys=s.peak_rise.get(Vital.NIBP_SYS), rise_dia=s.peak_rise.get(Vital.NIBP_DIA),
        rise_hr=s.peak_rise.get(Vital.HR), lowest_spo2=s.lowest_spo2,
        alarm_counts=dict(s.alarm_counts), event_counts=dict(s.event_counts),
        phq9=s.scores["phq9"], madrs=s.scores["madrs"], cadss=s.scores["cadss"], summary=s,
        technical_alarms=s.technical_alarms)


def _local_date(t: float, utc_offset_s: int | None) -> dt.date:
    if utc_offset_s is None:
        return dt.datetime.fromtimestamp(t).date()
    return dt.datetime.fromtimestamp(t, dt.timezone(dt.timedelta(seconds=utc_offset_s))).date()


def _int(x: object) -> int | None:
    return None if x is None else int(x)  # type: ignore[call-overload]


def _float(x: object) -> float | None:
    return None if x is None else float(x)  # type: ignore[arg-type]
