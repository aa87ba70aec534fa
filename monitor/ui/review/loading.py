"""Loading one session for the review view: record, alarm profile, summary (no Qt).

Runs on a worker thread when the browser opens a session, so the window
never waits on the database.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from monitor.core.alarms.profile import AlarmProfile, ProfileError
from monitor.core.alarms.profile_file import load_default_profile, load_profile
from monitor.review.record import SessionRecord, load_record
from monitor.review.summary import SessionSummary, summarize
from monitor.storage.database import connect

log = logging.getLogger(__name__)

_PROFILE_SOURCE = re.compile(r"^(?P<name>.*) \((?P<source>[^()]*)\)$")
"""The session row keeps its profile as ``"NAME (SOURCE FILE)"``."""


@dataclass(frozen=True)
class ReviewData:
    """What the review view shows of one session.

    Attributes
    ----------
    db_path : Path
    record : SessionRecord
    profile : AlarmProfile
        The profile the session ran with, if its file is still there and
        still has that name; else the shipped default.
    summary : SessionSummary or None
    summary_error : str
        Why there is no summary (empty when there is one).
    replay_problem : str
        Why the session cannot be replayed (empty when it can): only a
        session that recorded the bytes its monitor sent (a serial session,
        or a simulation played through a protocol, as the window's demo is)
        can be played again through the live window.
    """

    db_path: Path
    record: SessionRecord
    profile: AlarmProfile
    summary: SessionSummary | None
    summary_error: str = ""
    replay_problem: str = ""


def session_profile(record: SessionRecord) -> AlarmProfile:
    """The alarm profile ``record`` was monitored with, or the shipped default."""
    match = _PROFILE_SOURCE.match(record.alarm_profile or "")
    if match is not None and Path(match["source"]).is_file():
        try:
            profile = load_profile(match["source"])
        except ProfileError as exc:
            log.info("session %s: its profile no longer loads (%s)", record.session_id, exc)
        else:
            if profile.name == match["name"]:
                return profile
    return load_default_profile()


def summary_of(record: SessionRecord, profile: AlarmProfile
               ) -> tuple[SessionSummary | None, str]:
    """``summarize(record, profile)``, or ``None`` and why not."""
    try:
        return summarize(record, profile), ""
    except Exception as exc:  # noqa: BLE001 -- the trends are still worth showing
        log.exception("session %s: no summary", record.session_id)
        return None, f"{type(exc).__name__}: {exc}"


def replay_problem(db_path: Path, session_id: int) -> str:
    """Why session ``session_id`` cannot be replayed, or ``""`` if it can (read-only)."""
    try:
        conn = connect(Path(db_path), readonly=True)
        try:
            row = conn.execute("SELECT protocol, EXISTS (SELECT 1 FROM raw_capture WHERE"
                               " session_id = ? AND direction = 'in') FROM sessions"
                               " WHERE id = ?", (session_id, session_id)).fetchone()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        return f"its raw capture cannot be read ({exc})"
    if row is None:
        return f"there is no session {session_id}"
    if not row[0] or not row[1]:
        return ("it has no raw capture: only sessions that recorded the monitor's bytes "
                "(serial, or a simulation played through a protocol) can be replayed")
    return ""


def load_review(db_path: Path, session_id: int, source: str | None = None) -> ReviewData:
    """Load session ``session_id`` with its profile and summary.

    ``source``: one device's values only (a session of several; see
    :func:`monitor.review.record.load_record`).

    Raises
    ------
    monitor.review.record.RecordError
        No such session, or the database cannot be read.
    """
    record = load_record(Path(db_path), session_id, source)
    profile = session_profile(record)
    summary, error = summary_of(record, profile)
    return ReviewData(Path(db_path), record, profile, summary, error,
                      replay_problem(db_path, session_id))
