"""Read-only access to recorded sessions, for review, export, resume and tests.

A session has one source or several (schema v8, ``session_sources``); each
reading, wave chunk and raw capture row is read back with the name of the
source it came from. Rows recorded before v8 (and any row recorded without a
source) have ``''``, which is read as the session's first source: such a
session had only that one. A typed (manual) reading keeps ``''``: no device
took it. A database older than v8 read without migrating has no such table;
its only source is then made up as the migration would name it.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Self

import numpy as np

from monitor.core.alarms.model import (
    AlarmAction,
    AlarmKind,
    AlarmTransition,
    LimitChanged,
    Priority,
    TransitionState,
)
from monitor.core.events import ClockOffset, Selection
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
    SourceRow,
    connect,
    fallback_source,
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
        self._v8 = self._has_table("session_sources")
        self._sources: dict[int, list[SourceRow]] = {}

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def session(self, session_id: int) -> SessionRow:
        return session_row(self.db_path, session_id)

    def phases(self, session_id: int) -> list[PhaseSpan]:
        return load_phases(self.db_path, session_id)

    def sources(self, session_id: int) -> list[SourceRow]:
        """The session's sources in order (the first is the one of rows without a source).

        Raises
        ------
        KeyError
            If there is no such session.
        """
        cached = self._sources.get(session_id)
        if cached is not None:
            return list(cached)
        rows: list[SourceRow] = []
        if self._v8:
            rows = [SourceRow(n, lab, p, k, st, bool(sim), off, at)
                    for n, lab, p, k, st, sim, off, at in self._conn.execute(
                        "SELECT name, label, protocol, kind, settings, simulated,"
                        " clock_offset_s, clock_offset_at FROM session_sources"
                        " WHERE session_id = ? ORDER BY idx", (session_id,))]
        if not rows:
            row = self._conn.execute("SELECT source, protocol, simulated, serial_settings"
                                     " FROM sessions WHERE id = ?", (session_id,)).fetchone()
            if row is None:
                raise KeyError(session_id)
            info = fallback_source(row[0], row[1], bool(row[2]), row[3])
            rows = [SourceRow(info.name, info.label, info.protocol, info.kind, info.settings,
                              info.simulated)]
        self._sources[session_id] = rows
        return list(rows)

    def _first_source(self, session_id: int) -> str:
        try:
            return self.sources(session_id)[0].name
        except KeyError:
            return ""

    def _source_filter(self, session_id: int, source: str, manual_aside: bool
                       ) -> tuple[str, list[object]]:
        """The SQL condition (and arguments) for rows of ``source``: its own name, and ``''``
        too if it is the first source (typed readings, ``''`` as well, excepted)."""
        if not self._v8:
            if source != self._first_source(session_id):
                return "0", []
            return (" AND quality != ?", [Quality.MANUAL.value]) if manual_aside else ("1", [])
        if source != self._first_source(session_id):
            return " AND source = ?", [source]
        if manual_aside:
            return (" AND (source = ? OR (source = '' AND quality != ?))",
                    [source, Quality.MANUAL.value])
        return " AND source IN (?, '')", [source]

    def selections(self, session_id: int) -> list[Selection]:
        """Which source was shown and alarmed for each vital, and why, in time order."""
        if not self._v8:
            return []
        return [Selection(t, Vital(v), src, reason, prev)
                for t, v, src, reason, prev in self._conn.execute(
                    "SELECT t, vital, source, reason, previous FROM selections"
                    " WHERE session_id = ? ORDER BY t, rowid", (session_id,))]

    def clock_offsets(self, session_id: int) -> list[ClockOffset]:
        """Each source's published device clock offsets, in time order."""
        if not self._v8:
            return []
        return [ClockOffset(t, src, off) for t, src, off in self._conn.execute(
            "SELECT t, source, offset_s FROM source_clock WHERE session_id = ?"
            " ORDER BY t, rowid", (session_id,))]

    def readings(self, session_id: int, vital: Vital | None = None,
                 since: float | None = None,
                 vitals: Iterable[Vital] | None = None,
                 source: str | None = None) -> list[Reading]:
        """Readings oldest first, optionally of one vital (or of ``vitals``), from a time on,
        of one source (typed readings have source ``''`` and belong to none).

        Each reading's ``source`` is the name of its source.
        """
        column = "source" if self._v8 else "''"
        sql = (f"SELECT vital, value, t, quality, device_time, {column} FROM readings"
               " WHERE session_id = ?")
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
        if source is not None:
            cond, more = self._source_filter(session_id, source, manual_aside=True)
            if cond == "0":
                return []
            if cond != "1":
                sql += cond
                args.extend(more)
        sql += " ORDER BY t, rowid"
        first = self._first_source(session_id)
        manual = Quality.MANUAL.value
        out = []
        for v, value, t, q, dt, src in self._conn.execute(sql, args):
            out.append(Reading(Vital(v), float("nan") if value is None else value, t,
                               Quality(q), dt, src or ("" if q == manual else first)))
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
              since: float | None = None, source: str | None = None) -> list[WaveChunk]:
        """Recorded wave rows as chunks, oldest first, each with its ``source``; of every
        source, or of one."""
        column = "source" if self._v8 else "''"
        sql = (f"SELECT t0, rate, n, quality, samples, {column} FROM waves WHERE session_id = ?"
               " AND vital = ?")
        args: list[object] = [session_id, vital.value]
        if since is not None:
            sql += " AND t0 + n / rate >= ?"
            args.append(since)
        if source is not None:
            cond, more = self._source_filter(session_id, source, manual_aside=False)
            if cond == "0":
                return []
            if cond != "1":
                sql += cond
                args.extend(more)
        sql += " ORDER BY t0, rowid"
        first = self._first_source(session_id)
        return [WaveChunk(vital, t0, rate, np.frombuffer(blob, dtype="<f4", count=n),
                          Quality(q), src or first)
                for t0, rate, n, q, blob, src in self._conn.execute(sql, args)]

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

    def raw_capture(self, session_id: int, source: str | None = None
                    ) -> tuple[str | None, list[tuple[float, bytes]]]:
        """One source's wire protocol and the bytes it received, in arrival order.

        ``source`` is a source's name; ``None``: the first (the only one of a
        single-source session). An unknown name has no protocol and no bytes.

        Raises
        ------
        KeyError
            If there is no such session.
        """
        sources = self.sources(session_id)
        name = sources[0].name if source is None else source
        row = next((s for s in sources if s.name == name), None)
        if row is None:
            return None, []
        sql = ("SELECT t, data FROM raw_capture WHERE session_id = ? AND direction = 'in'")
        args: list[object] = [session_id]
        cond, more = self._source_filter(session_id, name, manual_aside=False)
        if cond != "1":
            sql += cond
            args.extend(more)
        rows = self._conn.execute(sql + " ORDER BY t, rowid", args).fetchall()
        return row.protocol, [(t, bytes(d)) for t, d in rows]

    def source_settings(self, session_id: int, source: str | None = None) -> str | None:
        """A source's settings as the session recorded them (serial settings, HL7 bed...);
        ``None``: the first source's."""
        sources = self.sources(session_id) if self._session_exists(session_id) else []
        name = sources[0].name if sources and source is None else source
        return next((s.settings for s in sources if s.name == name), None)

    def _session_exists(self, session_id: int) -> bool:
        return self._conn.execute("SELECT 1 FROM sessions WHERE id = ?",
                                  (session_id,)).fetchone() is not None

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
