"""Read-only access to recorded sessions, for review, export, resume and tests."""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from monitor.core.alarms.model import (
    AlarmAction,
    AlarmKind,
    AlarmTransition,
    LimitChanged,
    Priority,
    TransitionState,
)
from monitor.core.reading import DeviceNumeric, Quality, Reading, WaveChunk
from monitor.core.session import PhaseSpan
from monitor.core.vitals import Vital
from monitor.core.workflow.messages import (
    ChecklistTicked,
    EventKind,
    EventTimeCorrected,
    InfusionAction,
    InfusionChanged,
    SessionEvent,
)
from monitor.storage.database import (
    SessionRow,
    connect,
    load_phases,
    load_setup,
    session_row,
)


@dataclass(frozen=True)
class EventRow:
    """An annotation recorded with the session."""

    t: float
    kind: str
    text: str
    author: str


class SessionStore:
    """A read-only view of one database. Safe to use while a recorder writes (WAL).

    Parameters
    ----------
    db_path : Path
    """

    def __init__(self, db_path: Path) -> None:
        self.db_path = Path(db_path)
        self._conn: sqlite3.Connection = connect(self.db_path, readonly=True)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> SessionStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def session(self, session_id: int) -> SessionRow:
        return session_row(self.db_path, session_id)

    def phases(self, session_id: int) -> list[PhaseSpan]:
        return load_phases(self.db_path, session_id)

    def readings(self, session_id: int, vital: Vital | None = None,
                 since: float | None = None,
                 vitals: Iterable[Vital] | None = None) -> list[Reading]:
        """Readings oldest first, optionally of one vital (or of ``vitals``) and from a time on."""
        sql = "SELECT vital, value, t, quality, device_time FROM readings WHERE session_id = ?"
        args: list[object] = [session_id]
        if vital is not None:
            sql += " AND vital = ?"
            args.append(vital.value)
        if vitals is not None:
            names = [v.value for v in vitals]
            sql += f" AND vital IN ({', '.join('?' * len(names))})"
            args.extend(names)
        if since is not None:
            sql += " AND t >= ?"
            args.append(since)
        sql += " ORDER BY t, rowid"
        out = []
        for v, value, t, q, dt in self._conn.execute(sql, args):
            out.append(Reading(Vital(v), float("nan") if value is None else value, t,
                               Quality(q), dt))
        return out

    def device_numerics(self, session_id: int, since: float | None = None
                        ) -> list[DeviceNumeric]:
        """The numerics the device sent that are none of our vitals, oldest first.

        Empty for a database older than schema v7 (read without migrating), which
        could not hold them.
        """
        if not self._has_table("device_numerics"):
            return []
        sql = ("SELECT t, code, label, value, unit, quality, device_time, source"
               " FROM device_numerics WHERE session_id = ?")
        args: list[object] = [session_id]
        if since is not None:
            sql += " AND t >= ?"
            args.append(since)
        sql += " ORDER BY t, rowid"
        return [DeviceNumeric(t, code, label, math.nan if value is None else value, unit,
                              Quality(q), dt, src)
                for t, code, label, value, unit, q, dt, src in self._conn.execute(sql, args)]

    def _has_table(self, name: str) -> bool:
        return self._conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table'"
                                  " AND name = ?", (name,)).fetchone() is not None

    def numeric_arrays(self, session_id: int, vital: Vital) -> tuple[np.ndarray, np.ndarray]:
        """Times and values of one vital (NaN where there was no value)."""
        rows = self._conn.execute(
            "SELECT t, value FROM readings WHERE session_id = ? AND vital = ? ORDER BY t, rowid",
            (session_id, vital.value)).fetchall()
        if not rows:
            return np.empty(0), np.empty(0)
        arr = np.array(rows, dtype=np.float64)
        return arr[:, 0], arr[:, 1]

    def waves(self, session_id: int, vital: Vital = Vital.PLETH,
              since: float | None = None) -> list[WaveChunk]:
        """Recorded wave rows as chunks, oldest first."""
        sql = ("SELECT t0, rate, n, quality, samples FROM waves WHERE session_id = ?"
               " AND vital = ?")
        args: list[object] = [session_id, vital.value]
        if since is not None:
            sql += " AND t0 + n / rate >= ?"
            args.append(since)
        sql += " ORDER BY t0"
        return [WaveChunk(vital, t0, rate, np.frombuffer(blob, dtype="<f4", count=n),
                          Quality(q))
                for t0, rate, n, q, blob in self._conn.execute(sql, args)]

    def events(self, session_id: int) -> list[EventRow]:
        return [EventRow(*r) for r in self._conn.execute(
            "SELECT t, kind, text, author FROM events WHERE session_id = ? ORDER BY t, id",
            (session_id,))]

    def alarms(self, session_id: int) -> list[AlarmTransition]:
        """Every alarm transition of a session (the alarm log), in time order."""
        rows = self._conn.execute(
            "SELECT alarm_id, kind, vital, priority, state, t, value, limit_value, message, by"
            " FROM alarms WHERE session_id = ? ORDER BY t, id", (session_id,)).fetchall()
        return [AlarmTransition(a, AlarmKind(k), Vital(v) if v else None, Priority.parse(p),
                                TransitionState(s), t, val, lim, msg, by)
                for a, k, v, p, s, t, val, lim, msg, by in rows]

    def alarm_actions(self, session_id: int) -> list[AlarmAction]:
        """Operator and system actions on the alarm system, in time order."""
        rows = self._conn.execute(
            "SELECT t, action, detail, by FROM alarm_actions WHERE session_id = ?"
            " ORDER BY t, id", (session_id,)).fetchall()
        return [AlarmAction(t, a, d, by) for t, a, d, by in rows]

    def limit_changes(self, session_id: int) -> list[LimitChanged]:
        """Alarm limit changes made during a session, in time order."""
        rows = self._conn.execute(
            "SELECT t, setting, old_value, new_value, by, reason FROM settings_changes"
            " WHERE session_id = ? ORDER BY t, id", (session_id,)).fetchall()
        out = []
        for t, setting, old, new, by, reason in rows:
            rule_id, _, name = setting.rpartition(".")
            out.append(LimitChanged(t, rule_id, name, old, new, by, reason))
        return out

    def session_events(self, session_id: int) -> list[SessionEvent]:
        """The nurse's events at their current times (corrections applied), in time order.

        The time first recorded stays in the database; see :meth:`event_corrections`.
        """
        current = {c.event_id: c.new_t for c in self.event_corrections(session_id)}
        rows = self._conn.execute(
            "SELECT event_id, t, kind, text, author FROM session_events WHERE session_id = ?"
            " ORDER BY id", (session_id,)).fetchall()
        events = [SessionEvent(eid, current.get(eid, t), EventKind(kind), text, author)
                  for eid, t, kind, text, author in rows]
        return sorted(events, key=lambda e: e.t)   # stable: same time keeps recording order

    def event_corrections(self, session_id: int) -> list[EventTimeCorrected]:
        """Every event time correction, in the order they were made."""
        rows = self._conn.execute(
            "SELECT event_id, old_t, new_t, by, at FROM event_corrections WHERE session_id = ?"
            " ORDER BY id", (session_id,)).fetchall()
        return [EventTimeCorrected(*r) for r in rows]

    def infusion_actions(self, session_id: int) -> list[InfusionChanged]:
        """Infusion start, pause, resume and stop, in time order."""
        rows = self._conn.execute(
            "SELECT action, t, by, reason FROM infusion_actions WHERE session_id = ?"
            " ORDER BY t, id", (session_id,)).fetchall()
        return [InfusionChanged(InfusionAction(a), t, by, reason) for a, t, by, reason in rows]

    def raw_capture(self, session_id: int) -> tuple[str | None, list[tuple[float, bytes]]]:
        """The session's wire protocol and the bytes it received, in arrival order."""
        row = self._conn.execute("SELECT protocol FROM sessions WHERE id = ?",
                                 (session_id,)).fetchone()
        if row is None:
            raise KeyError(session_id)
        rows = self._conn.execute(
            "SELECT t, data FROM raw_capture WHERE session_id = ? AND direction = 'in'"
            " ORDER BY t, rowid", (session_id,)).fetchall()
        return row[0], [(t, bytes(d)) for t, d in rows]

    def source_settings(self, session_id: int) -> str | None:
        """The source's settings as the session recorded them (serial settings, HL7 bed...)."""
        row = self._conn.execute("SELECT serial_settings FROM sessions WHERE id = ?",
                                 (session_id,)).fetchone()
        return None if row is None else row[0]

    def checklist_ticks(self, session_id: int) -> list[ChecklistTicked]:
        """Every tick and untick of the discharge checklist, in time order."""
        rows = self._conn.execute(
            "SELECT t, item, ticked, by FROM checklist_ticks WHERE session_id = ?"
            " ORDER BY t, id", (session_id,)).fetchall()
        return [ChecklistTicked(t, item, bool(ticked), by) for t, item, ticked, by in rows]

    def setup(self, session_id: int) -> dict[str, object] | None:
        """The session's set-up and discharge (see :func:`monitor.storage.database.load_setup`)."""
        return load_setup(self.db_path, session_id)

    def integrity_ok(self) -> bool:
        """``PRAGMA integrity_check`` says ok."""
        return self._conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
