"""The sessions in the database: session rows, crash recovery and the set-up.

Everything here runs before the recorder thread starts or after it stops,
on whatever thread composes the app; the recorder thread owns its own
connection while it runs. Opening the database (the data directory,
pragmas, permissions, the integrity check) is :mod:`monitor.storage.opening`;
its names are imported here too.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from monitor import __version__
from monitor.core.events import SourceInfo
from monitor.core.session import Phase, PhaseSpan, SessionStatus
from monitor.storage.opening import (
    DB_NAME,
    MIN_FREE_BYTES,
    SIDE_FILES,
    DamagedDatabase,
    StorageError,
    check_database,
    connect,
    default_data_dir,
    open_database,
    set_aside_damaged,
    write_transaction,
)
from monitor.storage.schema import OLD_DEVICE_NAMES, OLD_OXIMETERS

_PHASE_ORDER = {p: i for i, p in enumerate(Phase)}

__all__ = [
    "DB_NAME",
    "MIN_FREE_BYTES",
    "SETUP_FIELDS",
    "SIDE_FILES",
    "DamagedDatabase",
    "SessionRow",
    "SourceRow",
    "StorageError",
    "add_sources",
    "check_database",
    "claim_session",
    "connect",
    "create_session",
    "default_data_dir",
    "fallback_source",
    "find_unfinished",
    "last_data_time",
    "list_sessions",
    "load_phases",
    "load_setup",
    "load_sources",
    "mark_interrupted",
    "open_database",
    "save_setup",
    "session_row",
    "set_aside_damaged",
    "write_transaction",
]


@dataclass(frozen=True)
class SessionRow:
    """One session as listed by ``infusion-monitor sessions``.

    ``source`` is the source as given for a single-source session
    (``serial:/dev/ttyUSB0``) and every source, named, for several
    ("Masimo (serial:/dev/ttyUSB0) + Datex S/5 (serial:/dev/ttyUSB1)");
    ``sources`` the names of the session's sources in order (empty for a
    database older than schema v8 read without migrating).
    """

    id: int
    started_at: float
    ended_at: float | None
    status: SessionStatus
    source: str
    simulated: bool
    last_data_at: float | None
    reading_count: int
    sources: tuple[str, ...] = ()

    def to_json(self) -> dict[str, object]:
        return {"id": self.id, "start": self.started_at, "end": self.ended_at,
                "status": self.status.value, "source": self.source,
                "simulated": self.simulated, "last_data_at": self.last_data_at,
                "readings": self.reading_count, "sources": list(self.sources)}


@dataclass(frozen=True)
class SourceRow:
    """One source (device) of a recorded session (table ``session_sources``).

    Attributes
    ----------
    name : str
        Unique in the session; the key of its readings, waves and raw capture.
    label : str
        The source as given (``serial:/dev/ttyUSB0``, ``sim:typical``).
    protocol : str or None
    kind : str
        ``"oximeter"`` or ``"monitor"``.
    settings : str or None
        Its serial settings or listener options as recorded.
    simulated : bool
    clock_offset_s : float or None
        The device clock minus host arrival time last published, seconds.
    clock_offset_at : float or None
        When that offset was published (session time).
    """

    name: str
    label: str
    protocol: str | None
    kind: str
    settings: str | None
    simulated: bool
    clock_offset_s: float | None = None
    clock_offset_at: float | None = None


def fallback_source(label: str, protocol: str | None, simulated: bool,
                    settings: str | None = None) -> SourceInfo:
    """The one source of a session created without :class:`SourceInfo` (as the v8 migration
    names an old session's source: the protocol's device name, "Simulator", "Replay")."""
    if protocol in OLD_DEVICE_NAMES:
        name = OLD_DEVICE_NAMES[protocol]
    elif label.startswith("replay:"):
        name = "Replay"
    else:
        name = "Simulator" if label.startswith("sim:") else "Device"
    kind = "oximeter" if protocol in OLD_OXIMETERS else "monitor"
    return SourceInfo(name, label, protocol, simulated, kind, None, settings)


def sources_text(sources: Sequence[SourceInfo | SourceRow]) -> str:
    """``sessions.source`` of a session of several sources: "Masimo (serial:…) + Nonin (…)"."""
    return " + ".join(f"{s.name} ({s.label})" for s in sources)


def create_session(path: Path, *, started_at: float, source: str, simulated: bool,
                   protocol: str | None = None, serial_settings: str | None = None,
                   alarm_profile: str | None = None,
                   sources: Sequence[SourceInfo] = ()) -> int:
    """Insert a new open session owned by this process; return its id.

    ``sources`` are the session's sources in order (``session_sources``); none
    given: one, from ``source``, ``protocol`` and ``serial_settings``, named as
    :func:`fallback_source` does. With several, the session's ``source`` text
    names them all (:func:`sources_text`) and ``source`` is not used.
    """
    infos = list(sources) or [fallback_source(source, protocol, simulated, serial_settings)]
    _check_names(infos)
    text = sources_text(infos) if len(infos) > 1 else source
    with write_transaction(path) as conn:
        cur = conn.execute(
            "INSERT INTO sessions (started_at, status, source, simulated, writer_pid,"
            " heartbeat_at, utc_offset_s, app_version, protocol, serial_settings, alarm_profile)"
            " VALUES (?, 'open', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (started_at, text, int(simulated), os.getpid(), time.time(),
             _utc_offset_s(started_at), __version__, protocol, serial_settings, alarm_profile))
        session_id = int(cur.lastrowid or 0)
        conn.execute("INSERT INTO phases (session_id, phase, t) VALUES (?, ?, ?)",
                     (session_id, Phase.BASELINE.value, started_at))
        conn.executemany(_INSERT_SOURCE, [(session_id, i, *_source_values(s))
                                          for i, s in enumerate(infos)])
    return session_id


_INSERT_SOURCE = ("INSERT INTO session_sources (session_id, idx, name, label, protocol,"
                  " settings, simulated, kind) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")


def _source_values(s: SourceInfo) -> tuple[object, ...]:
    return (s.name, s.label, s.protocol, s.settings, int(s.simulated), s.kind)


def _check_names(sources: Sequence[SourceInfo]) -> None:
    names = [s.name for s in sources]
    if any(not n for n in names) or len(set(names)) != len(names):
        raise ValueError(f"source names must be given and unique in a session: {names}")


def add_sources(path: Path, session_id: int, sources: Sequence[SourceInfo]) -> None:
    """Merge ``sources`` into a session's (resume): one already there by name is updated
    (its port, settings...), a new one is added after the others. The session's
    ``source`` text then names every source when there are several.

    Raises
    ------
    KeyError
        If there is no such session.
    """
    _check_names(sources)
    with write_transaction(path) as conn:
        if not conn.execute("SELECT 1 FROM sessions WHERE id = ?", (session_id,)).fetchone():
            raise KeyError(session_id)
        have = {name: idx for idx, name in conn.execute(
            "SELECT idx, name FROM session_sources WHERE session_id = ?", (session_id,))}
        nxt = max(have.values(), default=-1) + 1
        for s in sources:
            if s.name in have:
                conn.execute("UPDATE session_sources SET label = ?, protocol = ?, settings = ?,"
                             " simulated = ?, kind = ? WHERE session_id = ? AND idx = ?",
                             (*_source_values(s)[1:], session_id, have[s.name]))
            else:
                conn.execute(_INSERT_SOURCE, (session_id, nxt, *_source_values(s)))
                have[s.name] = nxt
                nxt += 1
        rows = _source_rows(conn, session_id)
        if len(rows) > 1:
            conn.execute("UPDATE sessions SET source = ? WHERE id = ?",
                         (sources_text(rows), session_id))


def _source_rows(conn: sqlite3.Connection, session_id: int) -> list[SourceRow]:
    if not _has_table(conn, "session_sources"):
        return []
    return [SourceRow(n, lab, p, k, st, bool(sim), off, at) for n, lab, p, k, st, sim, off, at
            in conn.execute("SELECT name, label, protocol, kind, settings, simulated,"
                            " clock_offset_s, clock_offset_at FROM session_sources"
                            " WHERE session_id = ? ORDER BY idx", (session_id,))]


def _has_table(conn: sqlite3.Connection, name: str) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                        (name,)).fetchone() is not None


def load_sources(path: Path, session_id: int) -> list[SourceRow]:
    """A session's sources in order (empty for a database older than v8, read unmigrated)."""
    conn = connect(path, readonly=True)
    try:
        return _source_rows(conn, session_id)
    finally:
        conn.close()


def _utc_offset_s(t: float) -> int:
    return int(time.localtime(t).tm_gmtoff)


def _writer_alive(pid: int | None) -> bool:
    if not pid:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def find_unfinished(path: Path) -> list[SessionRow]:
    """Open sessions whose writing process is gone (killed, crashed, power cut)."""
    conn = connect(path, readonly=True)
    try:
        rows = conn.execute(
            "SELECT id, writer_pid FROM sessions WHERE status = 'open' ORDER BY id").fetchall()
    finally:
        conn.close()
    dead = [sid for sid, pid in rows if not _writer_alive(pid)]
    return [s for s in list_sessions(path) if s.id in dead]


def list_sessions(path: Path) -> list[SessionRow]:
    """Every recorded session, oldest first, with its reading count."""
    conn = connect(path, readonly=True)
    try:
        rows = conn.execute(
            "SELECT s.id, s.started_at, s.ended_at, s.status, s.source, s.simulated,"
            " s.last_data_at, s.reading_count FROM sessions s ORDER BY s.id").fetchall()
        names: dict[int, list[str]] = {}
        if _has_table(conn, "session_sources"):
            for sid, name in conn.execute("SELECT session_id, name FROM session_sources"
                                          " ORDER BY session_id, idx"):
                names.setdefault(sid, []).append(name)
    finally:
        conn.close()
    return [SessionRow(r[0], r[1], r[2], SessionStatus(r[3]), r[4], bool(r[5]), r[6], r[7],
                       tuple(names.get(r[0], ()))) for r in rows]


def last_data_time(path: Path, session_id: int) -> float | None:
    """Time of the newest reading, device numeric or wave sample recorded for the session."""
    conn = connect(path, readonly=True)
    try:
        a = conn.execute("SELECT MAX(t) FROM readings WHERE session_id = ?",
                         (session_id,)).fetchone()[0]
        b = conn.execute("SELECT MAX(t0 + n / rate) FROM waves WHERE session_id = ?",
                         (session_id,)).fetchone()[0]
        c = None
        if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table'"
                        " AND name = 'device_numerics'").fetchone():
            c = conn.execute("SELECT MAX(t) FROM device_numerics WHERE session_id = ?",
                             (session_id,)).fetchone()[0]
    finally:
        conn.close()
    times = [x for x in (a, b, c) if x is not None]
    return max(times) if times else None


def mark_interrupted(path: Path, session_id: int) -> float | None:
    """Close a session whose writer died; its end is its last recorded data."""
    end = last_data_time(path, session_id)
    with write_transaction(path) as conn:
        row = conn.execute("SELECT started_at FROM sessions WHERE id = ?",
                           (session_id,)).fetchone()
        if row is None:
            raise KeyError(session_id)
        ended = end if end is not None else row[0]
        conn.execute("UPDATE sessions SET status = 'interrupted', ended_at = ?, writer_pid = NULL"
                     " WHERE id = ? AND status = 'open'", (ended, session_id))
        conn.execute("INSERT OR IGNORE INTO phases (session_id, phase, t) VALUES (?, ?, ?)",
                     (session_id, Phase.ENDED.value, ended))
    return ended


def claim_session(path: Path, session_id: int) -> None:
    """Make this process the writer of an unfinished session (resume)."""
    with write_transaction(path) as conn:
        cur = conn.execute("UPDATE sessions SET writer_pid = ?, heartbeat_at = ?"
                           " WHERE id = ? AND status = 'open'",
                           (os.getpid(), time.time(), session_id))
    if cur.rowcount != 1:
        raise StorageError(f"session {session_id} is not open and cannot be resumed")


def load_phases(path: Path, session_id: int) -> list[PhaseSpan]:
    """The session's phases in order, each ending where the next begins."""
    conn = connect(path, readonly=True)
    try:
        rows = conn.execute("SELECT phase, t FROM phases WHERE session_id = ?",
                            (session_id,)).fetchall()
    finally:
        conn.close()
    ordered = sorted(((Phase(p), t) for p, t in rows), key=lambda pt: _PHASE_ORDER[pt[0]])
    spans = []
    for i, (phase, t) in enumerate(ordered):
        end = ordered[i + 1][1] if i + 1 < len(ordered) else None
        spans.append(PhaseSpan(phase, t, end))
    return spans


SETUP_FIELDS: tuple[str, ...] = (
    "patient_ref", "weight_kg", "dose_mg_per_kg", "total_mg", "planned_infusion_min",
    "course_number", "course_total", "clinician", "alarm_profile", "pre_phq9", "pre_madrs",
    "post_cadss", "discharge_at", "discharge_by", "discharge_checklist")
"""The keys :func:`save_setup` accepts and :func:`load_setup` returns (table ``session_setup``)."""


_SETUP_ALIASES = {"phq9": "pre_phq9", "madrs": "pre_madrs", "cadss": "post_cadss"}
"""``SessionSetup.as_dict()`` names for the score columns."""
_SETUP_IGNORED = ("source",)
"""``SessionSetup.as_dict()`` keys kept elsewhere (the session row has the source)."""


def save_setup(path: Path, session_id: int, setup: Mapping[str, object]) -> None:
    """Save (or update) a session's set-up: only the keys given are written.

    ``setup`` uses the names of :data:`SETUP_FIELDS`; the names of
    ``SessionSetup.as_dict()`` are accepted too (``phq9``, ``madrs``,
    ``cadss``; ``source`` is ignored, the session row has it). Pass
    ``total_mg`` explicitly. ``discharge_checklist`` is a sequence of
    strings. ``patient_ref`` is also put on the session row, which links a
    patient's sessions into a course.

    Raises
    ------
    ValueError
        For a key that is not in :data:`SETUP_FIELDS` (the message lists them).
    KeyError
        If there is no such session.
    """
    values = {_SETUP_ALIASES.get(k, k): v for k, v in setup.items() if k not in _SETUP_IGNORED}
    unknown = sorted(set(values) - set(SETUP_FIELDS))
    if unknown:
        raise ValueError(f"unknown set-up field(s) {', '.join(unknown)}; "
                         f"valid: {', '.join(SETUP_FIELDS)}")
    checklist = values.get("discharge_checklist")
    if checklist is not None:
        items = [checklist] if isinstance(checklist, str) else list(cast(Iterable[str], checklist))
        values["discharge_checklist"] = json.dumps([str(x) for x in items])
    names = list(values)
    with write_transaction(path) as conn:
        if not conn.execute("SELECT 1 FROM sessions WHERE id = ?", (session_id,)).fetchone():
            raise KeyError(session_id)
        update = ", ".join(f"{n} = excluded.{n}" for n in names) or "session_id = session_id"
        conn.execute(f"INSERT INTO session_setup (session_id{''.join(', ' + n for n in names)})"
                     f" VALUES (?{', ?' * len(names)})"
                     f" ON CONFLICT (session_id) DO UPDATE SET {update}",
                     (session_id, *values.values()))
        if "patient_ref" in values:
            conn.execute("UPDATE sessions SET patient_ref = ? WHERE id = ?",
                         (values["patient_ref"], session_id))


def load_setup(path: Path, session_id: int) -> dict[str, object] | None:
    """A session's set-up as saved (every key of :data:`SETUP_FIELDS`), or ``None``.

    ``discharge_checklist`` comes back as a tuple of strings (or ``None``).
    """
    conn = connect(path, readonly=True)
    try:
        row = conn.execute(f"SELECT {', '.join(SETUP_FIELDS)} FROM session_setup"
                           " WHERE session_id = ?", (session_id,)).fetchone()
    finally:
        conn.close()
    if row is None:
        return None
    out: dict[str, object] = dict(zip(SETUP_FIELDS, row, strict=True))
    if out["discharge_checklist"] is not None:
        out["discharge_checklist"] = tuple(json.loads(str(out["discharge_checklist"])))
    return out


def session_row(path: Path, session_id: int) -> SessionRow:
    """One session, or KeyError."""
    for row in list_sessions(path):
        if row.id == session_id:
            return row
    raise KeyError(session_id)
