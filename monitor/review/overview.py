"""The session browser's list: one row per session, from one query, however many sessions.

:func:`list_overviews` never reads a session's readings: the peak systolic,
the lowest SpO2 and the alarm counts are columns of the ``sessions`` table
that the recorder keeps up to date with every batch (schema v5; technical
alarms apart since v6: a v5 database, not migrated by this read-only
listing, has its alarms counted from its alarm log by the same rule), the
set-up comes from ``session_setup`` and the phase times from ``phases``,
pivoted in the same query. The database is opened read-only and never
changed; one written by a newer app is refused.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from monitor.core.alarms.model import Priority
from monitor.core.session import Phase, SessionStatus
from monitor.review.record import RecordError, read_only
from monitor.review.summary import phase_durations
from monitor.storage.schema import ALARM_COUNTS_SELECT

BROWSER_SCHEMA = 5
"""The first schema version with the browser's columns on ``sessions``."""
COUNTED_APART_SCHEMA = 6
"""The first schema version whose ``sessions`` columns count technical alarms apart; an
older database (read-only here, so not migrated) has its alarms counted from its log."""


@dataclass(frozen=True)
class SessionOverview:
    """One session as the browser lists it.

    Attributes
    ----------
    id : int
    start, end : float
        Unix seconds; ``end`` is when the session ended, else its last data,
        else its start (as ``SessionRecord.end``).
    duration_s : float
    status : SessionStatus
    source : str
    simulated : bool
    patient_ref : str or None
    course_number, course_total : int or None
    clinician : str or None
    phase_durations : dict of Phase to float
        Seconds in baseline, infusion and recovery (as ``SessionSummary.phase_durations``).
    alarm_counts : dict of Priority to int
        Physiological alarms raised, each once at the highest priority it
        reached (as ``SessionSummary.alarm_counts``).
    peak_nibp_sys : float or None
        The highest valid systolic of the session (typed ones too).
    min_spo2 : float or None
        The lowest valid SpO2 of the session.
    technical_alarms : int
        Technical alarms raised, whatever their priority (as
        ``SessionSummary.technical_alarms``).
    """

    id: int
    start: float
    end: float
    duration_s: float
    status: SessionStatus
    source: str
    simulated: bool
    patient_ref: str | None
    course_number: int | None
    course_total: int | None
    clinician: str | None
    phase_durations: dict[Phase, float]
    alarm_counts: dict[Priority, int]
    peak_nibp_sys: float | None
    min_spo2: float | None
    technical_alarms: int = 0


_QUERY = """
SELECT s.id, s.started_at, COALESCE(s.ended_at, s.last_data_at, s.started_at), s.status,
       s.source, s.simulated, COALESCE(s.patient_ref, u.patient_ref), u.course_number,
       u.course_total, u.clinician, {alarms},
       s.peak_nibp_sys, s.min_spo2,
       MAX(CASE WHEN p.phase = 'baseline' THEN p.t END),
       MAX(CASE WHEN p.phase = 'infusion' THEN p.t END),
       MAX(CASE WHEN p.phase = 'recovery' THEN p.t END),
       MAX(CASE WHEN p.phase = 'ended' THEN p.t END)
FROM sessions s
LEFT JOIN session_setup u ON u.session_id = s.id
LEFT JOIN phases p ON p.session_id = s.id
{counts}
{where}
GROUP BY s.id
ORDER BY s.started_at DESC, s.id DESC
{limit}
"""
_PHASE_COLUMNS = (Phase.BASELINE, Phase.INFUSION, Phase.RECOVERY, Phase.ENDED)
_KEPT_COUNTS = "s.alarms_high, s.alarms_medium, s.alarms_low, s.alarms_technical"
_LOG_COUNTS = ("COALESCE(c.high, 0), COALESCE(c.medium, 0), COALESCE(c.low, 0),"
               " COALESCE(c.technical, 0)")
_LOG_JOIN = f"LEFT JOIN ({ALARM_COUNTS_SELECT.format(where='')}) c ON c.session_id = s.id"


def list_overviews(db_path: Path, *, patient: str | None = None,
                   date_from: dt.date | None = None, date_to: dt.date | None = None,
                   limit: int | None = None) -> list[SessionOverview]:
    """Every session (newest first), or those matching the filters, read-only.

    Parameters
    ----------
    db_path : Path
    patient : str, optional
        Sessions whose patient reference starts with this, ignoring the case
        of ASCII letters (``"ab"`` finds ``AB-0012``; ``%`` and ``_`` are
        plain characters); blank means every session.
    date_from, date_to : datetime.date, optional
        Sessions that started on or after ``date_from`` and on or before
        ``date_to``: whole local days of this computer.
    limit : int, optional
        At most this many (the newest).

    Raises
    ------
    RecordError
        The file is missing or not a database, or its schema is newer than
        this app (it is not changed) or older than the browser needs.
    ValueError
        A date that is not a ``datetime.date``, ``date_from`` after ``date_to``, or a
        ``limit`` that is not a positive whole number.
    """
    for name, day in (("date_from", date_from), ("date_to", date_to)):
        if day is not None and (not isinstance(day, dt.date) or isinstance(day, dt.datetime)):
            raise ValueError(f"{name} must be a datetime.date (a whole day), not {day!r}")
    if date_from is not None and date_to is not None and date_from > date_to:
        raise ValueError(f"the first date ({date_from.isoformat()}) is after the last "
                         f"({date_to.isoformat()}); give them in order")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)
                              or limit < 1):
        raise ValueError(f"limit must be a positive whole number of sessions, not {limit!r}")
    clauses: list[str] = []
    params: list[object] = []
    if patient is not None and patient.strip():
        clauses.append("COALESCE(s.patient_ref, u.patient_ref) LIKE ? ESCAPE '\\'")
        params.append(_like_prefix(patient.strip()))
    if date_from is not None:
        clauses.append("s.started_at >= ?")
        params.append(_local_midnight(date_from))
    if date_to is not None:
        clauses.append("s.started_at < ?")
        params.append(_local_midnight(date_to + dt.timedelta(days=1)))
    where = "WHERE " + " AND ".join(clauses) if clauses else ""
    if limit is not None:
        params.append(limit)
    rows = _query(Path(db_path), where, "LIMIT ?" if limit is not None else "", params)
    return [_overview(r) for r in rows]


def _query(db_path: Path, where: str, limit: str, params: list[object]) -> list[tuple]:
    with read_only(db_path) as (conn, found):
        if found < BROWSER_SCHEMA:
            raise RecordError(f"{db_path} has schema version {found}, older than the "
                              f"session browser needs ({BROWSER_SCHEMA}); open it once "
                              "with Infusion Monitor (or 'infusion-monitor sessions "
                              "--data-dir FOLDER') to upgrade it")
        kept = found >= COUNTED_APART_SCHEMA
        sql = _QUERY.format(alarms=_KEPT_COUNTS if kept else _LOG_COUNTS,
                            counts="" if kept else _LOG_JOIN, where=where, limit=limit)
        return conn.execute(sql, params).fetchall()


def _overview(r: tuple) -> SessionOverview:
    (sid, start, end, status, source, simulated, patient, course_number, course_total,
     clinician, high, medium, low, technical, peak, min_spo2, *phase_t) = r
    starts = {p: t for p, t in zip(_PHASE_COLUMNS, phase_t, strict=True) if t is not None}
    return SessionOverview(
        id=sid, start=start, end=end, duration_s=max(0.0, end - start),
        status=SessionStatus(status), source=source, simulated=bool(simulated),
        patient_ref=patient, course_number=course_number, course_total=course_total,
        clinician=clinician, phase_durations=phase_durations(starts, end),
        alarm_counts={Priority.LOW: low, Priority.MEDIUM: medium, Priority.HIGH: high},
        peak_nibp_sys=peak, min_spo2=min_spo2, technical_alarms=technical)


def _like_prefix(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def _local_midnight(day: dt.date) -> float:
    return dt.datetime.combine(day, dt.time.min).timestamp()
