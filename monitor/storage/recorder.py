"""The recorder thread: the only writer of the database while a session runs.

It takes readings, the device's other numerics (:class:`DeviceNumeric`,
table ``device_numerics``), wave chunks, phase changes, notes, technical
conditions, the alarm log, the session workflow (events, time
corrections, infusion actions, refused commands, discharge), which source is
shown for each vital (:class:`Selection`) and each source's clock offset
(:class:`ClockOffset`) from its
bounded queue and commits them in batches at least every
``commit_interval`` seconds (0.5 s by default), so a killed process loses
at most that much. If a write fails (disk full, file removed, I/O error) it
reports ``RecordingStatus(ok=False)``, keeps the unwritten items (up to a
bound; beyond it the oldest are dropped and counted) and retries; when a
write succeeds again it reports ``ok=True`` and notes what, if anything, was
lost. Each batch also brings the session row's browser columns up to date in
the same transaction (highest systolic, lowest SpO2, physiological alarms by
priority, technical alarms apart).

Readings, waves, raw bytes and device numerics are written with the name of
the source they came from (``''`` for a typed reading); wave chunks are
merged into rows per source, never across two devices.
"""

from __future__ import annotations

import json
import logging
import math
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from monitor.core.alarms.model import AlarmAction, AlarmTransition, LimitChanged
from monitor.core.events import (
    ClockOffset,
    DeviceFlag,
    Note,
    PhaseChanged,
    RawBytes,
    RecordingStatus,
    Selection,
    Technical,
)
from monitor.core.queues import BoundedQueue
from monitor.core.reading import DeviceNumeric, Reading, WaveChunk
from monitor.core.session import SessionStatus
from monitor.core.vitals import Vital
from monitor.core.workflow.messages import (
    ChecklistTicked,
    CommandRefused,
    EventTimeCorrected,
    InfusionChanged,
    SessionDischarged,
    SessionEvent,
)
from monitor.storage.database import connect
from monitor.storage.schema import ALARM_COUNTS_UPDATE

log = logging.getLogger(__name__)

MAX_WAVE_ROW_SAMPLES = 1000
MAX_BATCH_ITEMS = 5000
"""A transaction holds at most this many items: bounded memory and commit time
whatever the data rate (an as-fast-as-possible run makes minutes of data per second)."""


@dataclass(frozen=True)
class CloseSession:
    """Last message to the recorder: mark the session finished, then stop."""

    status: SessionStatus
    t: float


RecorderItem = (Reading | DeviceNumeric | WaveChunk | PhaseChanged | Note | Technical | DeviceFlag
                | RawBytes | Selection | ClockOffset | AlarmTransition | AlarmAction | LimitChanged | SessionEvent
                | EventTimeCorrected | InfusionChanged | CommandRefused | SessionDischarged
                | CloseSession)


class Recorder(threading.Thread):
    """Writes one session's data to SQLite on its own thread and connection.

    Parameters
    ----------
    db_path : Path
    session_id : int
    queue : BoundedQueue
        Where the hub puts :data:`RecorderItem` objects.
    on_status : callable
        Called (from this thread) with a :class:`RecordingStatus` whenever
        recording stops working or starts working again.
    clock_now : callable
        Session time, for status messages.
    commit_interval : float
        Longest time (real seconds) an item waits before being committed.
    max_backlog : int
        Items kept in memory while the disk refuses writes.
    retry_interval : float
        Real seconds between write attempts while failing.
    busy_timeout_ms : int
        How long a write waits for a lock held by another process.
    """

    def __init__(self, db_path: Path, session_id: int, queue: BoundedQueue[RecorderItem], *,
                 on_status: Callable[[RecordingStatus], None],
                 clock_now: Callable[[], float],
                 commit_interval: float = 0.5, max_backlog: int = 2_000_000,
                 retry_interval: float = 2.0, busy_timeout_ms: int = 10_000) -> None:
        super().__init__(name="recorder", daemon=False)
        self.db_path = db_path
        self.session_id = session_id
        self.queue = queue
        self._on_status = on_status
        self._now = clock_now
        self.commit_interval = commit_interval
        self.max_backlog = max_backlog
        self.retry_interval = retry_interval
        self.busy_timeout_ms = busy_timeout_ms
        self._should_stop = threading.Event()
        self._pending: list[RecorderItem] = []
        self._lost = 0
        self.failed = False
        self.ever_failed = False
        self.committed_readings = 0
        self.committed_device_numerics = 0
        self.max_pending = 0
        """The most items ever held in memory at once (beyond the queue)."""
        self._conn: sqlite3.Connection | None = None

    def stop(self) -> None:
        """Flush what is queued and stop (the hub normally sends CloseSession instead)."""
        self._should_stop.set()

    def run(self) -> None:
        last_commit = time.monotonic()
        next_retry = 0.0
        closing: CloseSession | None = None
        try:
            while True:
                busy = len(self._pending) >= MAX_BATCH_ITEMS or (
                    closing is not None and bool(self._pending) and not self.failed)
                # While writes succeed, take no more than one batch from the queue, so a
                # producer that outruns the disk meets the queue's bound (a simulated
                # source then waits); while they fail, keep the backlog in memory.
                room = None if self.failed else MAX_BATCH_ITEMS - len(self._pending)
                item = None if room is not None and room <= 0 else \
                    self.queue.get(timeout=0.0 if busy else 0.1)
                if item is not None:
                    more = self.queue.drain(None if room is None else room - 1)
                    for it in (item, *more):
                        if isinstance(it, CloseSession):
                            closing = it
                        else:
                            self._pending.append(it)
                    self.max_pending = max(self.max_pending, len(self._pending))
                    self._bound_backlog()
                now = time.monotonic()
                stopping = closing is not None or self._should_stop.is_set()
                full = len(self._pending) >= MAX_BATCH_ITEMS
                if (self._pending or closing) and now >= next_retry \
                        and (stopping or full or now - last_commit >= self.commit_interval):
                    if self._write(closing):
                        last_commit = now
                        if closing is not None and not self._pending:
                            return
                    else:
                        next_retry = now + self.retry_interval
                if self._should_stop.is_set() and len(self.queue) == 0 \
                        and (self.failed or not self._pending):
                    if self._pending:
                        log.error("recorder stopped with %d items unwritten", len(self._pending))
                    return
        finally:
            if self._conn is not None:
                self._conn.close()

    # -- writing ---------------------------------------------------------

    def _bound_backlog(self) -> None:
        excess = len(self._pending) - self.max_backlog
        if excess > 0:
            del self._pending[:excess]
            self._lost += excess
            log.error("recording backlog full: %d items dropped", excess)

    def _write(self, closing: CloseSession | None) -> bool:
        """Commit the oldest pending items (at most MAX_BATCH_ITEMS); close the session
        with the last of them. Returns whether the write succeeded."""
        batch = self._pending[:MAX_BATCH_ITEMS]
        last = len(batch) == len(self._pending)
        try:
            if self._conn is None:
                self._conn = connect(self.db_path, busy_timeout_ms=self.busy_timeout_ms)
            self._commit(self._conn, batch, closing if last else None)
        except (sqlite3.Error, OSError) as exc:
            log.error("recording failed: %s", exc)
            if self._conn is not None:
                try:
                    self._conn.close()
                except sqlite3.Error:
                    pass
                self._conn = None
            if not self.failed:
                self.failed = self.ever_failed = True
                self._on_status(RecordingStatus(False, self._now(), f"recording failed: {exc}"))
            return False
        del self._pending[:len(batch)]
        if self.failed:
            self.failed = False
            msg = "recording resumed"
            if self._lost:
                msg += f"; {self._lost} items could not be kept and were lost"
            self._on_status(RecordingStatus(True, self._now(), msg))
        return True

    def _commit(self, conn: sqlite3.Connection, items: list[RecorderItem],
                closing: CloseSession | None) -> None:
        sid = self.session_id
        readings = []
        numerics = []
        notes = []
        phases = []
        raw = []
        alarms = []
        actions = []
        changes = []
        selections = []
        clocks = []
        workflow = _WorkflowRows()
        waves: list[WaveChunk] = []
        for it in items:
            if isinstance(it, Reading):
                readings.append((sid, it.t, it.vital.value,
                                 None if not it.valid else it.value,
                                 it.quality.value, it.device_time, it.source))
            elif isinstance(it, DeviceNumeric):
                row = _numeric_row(sid, it)
                if row is not None:
                    numerics.append(row)
            elif isinstance(it, WaveChunk):
                waves.append(it)
            elif isinstance(it, PhaseChanged):
                phases.append((sid, it.phase.value, it.t))
            elif isinstance(it, Note):
                notes.append((sid, it.t, it.kind, it.text, it.author))
            elif isinstance(it, RawBytes):
                raw.append((sid, it.t, it.direction, it.data, it.source))
            elif isinstance(it, DeviceFlag):
                state = "start" if it.active else "end"
                notes.append((sid, it.t, f"device:{it.name}:{state}", it.text, "device"))
            elif isinstance(it, AlarmTransition):
                alarms.append((sid, it.t, it.alarm_id, it.kind.value,
                               it.vital.value if it.vital else None, it.priority.label,
                               it.state.value, _finite(it.value), _finite(it.limit),
                               it.message, it.by))
            elif isinstance(it, AlarmAction):
                actions.append((sid, it.t, it.action, it.detail, it.by))
            elif isinstance(it, LimitChanged):
                changes.append((sid, it.t, f"{it.rule_id}.{it.setting}", it.old, it.new,
                                it.by, it.reason))
            elif isinstance(it, Selection):
                selections.append((sid, it.t, it.vital.value, it.source, it.reason,
                                   it.previous))
            elif isinstance(it, ClockOffset):
                clocks.append((sid, it.source, it.t, it.offset_s))
            elif isinstance(it, CommandRefused):
                notes.append((sid, it.t, "refused", f"{it.command}: {it.message}", it.by))
            elif isinstance(it, _WORKFLOW_ITEMS):
                workflow.add(sid, it)
            elif isinstance(it, Technical):
                state = "start" if it.active else "end"
                vital = f" {it.vital.value}" if it.vital else ""
                notes.append((sid, it.t, f"technical:{it.condition.value}:{state}",
                              f"{it.message}{vital}".strip(), "system"))
        if self._lost and not self.failed:
            notes.append((sid, self._now(), "recording_loss",
                          f"{self._lost} items lost while recording was failing", "system"))
        wave_rows = _wave_rows(sid, waves)
        last_t = max([r[1] for r in readings] + [r[1] for r in numerics]
                     + [w[2] + w[4] / w[3] for w in wave_rows], default=None)
        created = time.time()
        conn.execute("BEGIN IMMEDIATE")
        try:
            if readings:
                conn.executemany("INSERT INTO readings (session_id, t, vital, value, quality,"
                                 " device_time, source) VALUES (?, ?, ?, ?, ?, ?, ?)", readings)
            if numerics:
                conn.executemany("INSERT INTO device_numerics (session_id, t, code, label,"
                                 " value, unit, quality, device_time, source)"
                                 " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", numerics)
            if wave_rows:
                conn.executemany("INSERT INTO waves (session_id, vital, t0, rate, n, quality,"
                                 " samples, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", wave_rows)
            if raw:
                conn.executemany("INSERT INTO raw_capture (session_id, t, direction, data,"
                                 " source) VALUES (?, ?, ?, ?, ?)", raw)
            if selections:
                conn.executemany("INSERT INTO selections (session_id, t, vital, source, reason,"
                                 " previous) VALUES (?, ?, ?, ?, ?, ?)", selections)
            if clocks:
                conn.executemany("INSERT INTO source_clock (session_id, source, t, offset_s)"
                                 " VALUES (?, ?, ?, ?)", clocks)
                conn.executemany("UPDATE session_sources SET clock_offset_s = ?,"
                                 " clock_offset_at = ? WHERE session_id = ? AND name = ?",
                                 [(off, t, sid, src) for sid, src, t, off in clocks])
            if alarms:
                conn.executemany("INSERT INTO alarms (session_id, t, alarm_id, kind, vital,"
                                 " priority, state, value, limit_value, message, by)"
                                 " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", alarms)
            if actions:
                conn.executemany("INSERT INTO alarm_actions (session_id, t, action, detail, by)"
                                 " VALUES (?, ?, ?, ?, ?)", actions)
            if changes:
                conn.executemany("INSERT INTO settings_changes (session_id, t, setting,"
                                 " old_value, new_value, by, reason)"
                                 " VALUES (?, ?, ?, ?, ?, ?, ?)", changes)
            if phases:
                conn.executemany("INSERT OR REPLACE INTO phases (session_id, phase, t)"
                                 " VALUES (?, ?, ?)", phases)
            workflow.write(conn, created)
            if notes:
                conn.executemany("INSERT INTO events (session_id, t, kind, text, author,"
                                 " created_at) VALUES (?, ?, ?, ?, ?, ?)",
                                 [(*n, created) for n in notes])
            peak, low = _extremes(readings)
            conn.execute("UPDATE sessions SET heartbeat_at = ?, reading_count = reading_count + ?,"
                         " last_data_at = MAX(COALESCE(last_data_at, 0), COALESCE(?, 0)),"
                         " peak_nibp_sys = COALESCE(MAX(peak_nibp_sys, ?), peak_nibp_sys, ?),"
                         " min_spo2 = COALESCE(MIN(min_spo2, ?), min_spo2, ?)"
                         " WHERE id = ?", (created, len(readings), last_t, peak, peak, low, low,
                                           sid))
            if alarms:
                conn.execute(_RECOUNT_ALARMS, (sid,))
            if closing is not None:
                conn.execute("UPDATE sessions SET status = ?, ended_at = ?, writer_pid = NULL"
                             " WHERE id = ?", (closing.status.value, closing.t, sid))
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        self.committed_readings += len(readings)
        self.committed_device_numerics += len(numerics)
        self._lost = 0


_RECOUNT_ALARMS = ALARM_COUNTS_UPDATE.format(where="WHERE session_id = ?")


def _extremes(readings: list[tuple]) -> tuple[float | None, float | None]:
    """The batch's highest systolic and lowest SpO2 (valid readings, typed ones too)."""
    sys_ = [r[3] for r in readings if r[2] == Vital.NIBP_SYS.value and r[3] is not None]
    spo2 = [r[3] for r in readings if r[2] == Vital.SPO2.value and r[3] is not None]
    return max(sys_, default=None), min(spo2, default=None)


_WORKFLOW_ITEMS = (SessionEvent, EventTimeCorrected, InfusionChanged, ChecklistTicked,
                   SessionDischarged)


class _WorkflowRows:
    """One batch's rows for the session workflow tables (schema v4)."""

    def __init__(self) -> None:
        self.events: list[tuple] = []
        self.corrections: list[tuple] = []
        self.infusion: list[tuple] = []
        self.ticks: list[tuple] = []
        self.discharge: list[tuple] = []

    def add(self, sid: int, it: SessionEvent | EventTimeCorrected | InfusionChanged
            | ChecklistTicked | SessionDischarged) -> None:
        if isinstance(it, SessionEvent):
            self.events.append((sid, it.event_id, it.t, it.kind.value, it.text, it.author))
        elif isinstance(it, EventTimeCorrected):
            self.corrections.append((sid, it.event_id, it.old_t, it.new_t, it.by, it.at))
        elif isinstance(it, InfusionChanged):
            self.infusion.append((sid, it.t, it.action.value, it.by, it.reason))
        elif isinstance(it, ChecklistTicked):
            self.ticks.append((sid, it.t, it.item, int(it.ticked), it.by))
        else:
            self.discharge.append((sid, it.t, it.by, json.dumps(list(it.checklist)), it.cadss))

    def write(self, conn: sqlite3.Connection, created: float) -> None:
        if self.events:
            conn.executemany("INSERT INTO session_events (session_id, event_id, t, kind, text,"
                             " author, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                             [(*e, created) for e in self.events])
        if self.corrections:
            conn.executemany("INSERT INTO event_corrections (session_id, event_id, old_t, new_t,"
                             " by, at) VALUES (?, ?, ?, ?, ?, ?)", self.corrections)
        if self.infusion:
            conn.executemany("INSERT INTO infusion_actions (session_id, t, action, by, reason)"
                             " VALUES (?, ?, ?, ?, ?)", self.infusion)
        if self.ticks:
            conn.executemany("INSERT INTO checklist_ticks (session_id, t, item, ticked, by)"
                             " VALUES (?, ?, ?, ?, ?)", self.ticks)
        if self.discharge:
            conn.executemany("INSERT INTO session_setup (session_id, discharge_at, discharge_by,"
                             " discharge_checklist, post_cadss) VALUES (?, ?, ?, ?, ?)"
                             " ON CONFLICT (session_id) DO UPDATE SET"
                             " discharge_at = excluded.discharge_at,"
                             " discharge_by = excluded.discharge_by,"
                             " discharge_checklist = excluded.discharge_checklist,"
                             " post_cadss = COALESCE(excluded.post_cadss, post_cadss)",
                             self.discharge)


def _finite(x: float | None) -> float | None:
    return x if x is not None and math.isfinite(x) else None


def _numeric_row(sid: int, n: DeviceNumeric) -> tuple | None:
    """The ``device_numerics`` row of ``n``; ``None`` (logged) for one SQLite cannot hold.

    A codec's item is checked here, not trusted: a code that is no 64-bit integer would
    otherwise fail the whole batch on every retry and stop the recording.
    """
    try:
        code = int(n.code)
        if not -2**63 <= code < 2**63:
            raise OverflowError(code)
        value = float(n.value) if n.valid and math.isfinite(n.value) else None
        return (sid, float(n.t), code, str(n.label), value, str(n.unit), n.quality.value,
                _finite(None if n.device_time is None else float(n.device_time)),
                str(n.source))
    except (TypeError, ValueError, OverflowError, AttributeError):
        log.error("device numeric not recordable, skipped: %r", n)
        return None


def _wave_rows(sid: int, chunks: list[WaveChunk]) -> list[tuple]:
    """Merge contiguous chunks of one vital of one source into rows of up to
    MAX_WAVE_ROW_SAMPLES."""
    rows: list[tuple] = []
    groups: dict[tuple, list[WaveChunk]] = {}
    for c in chunks:
        groups.setdefault((c.vital, c.rate, c.source), []).append(c)
    for group in groups.values():
        run: list[WaveChunk] = []
        for c in group:
            contiguous = run and abs(run[-1].t_end - c.t0) < 0.5 / c.rate \
                and run[-1].quality is c.quality
            if run and not contiguous:
                _flush(sid, run, rows)
                run = []
            run.append(c)
        _flush(sid, run, rows)
    return rows


def _flush(sid: int, run: list[WaveChunk], rows: list[tuple]) -> None:
    """Append the rows of one run of contiguous chunks (one vital, rate and source)."""
    if not run:
        return
    first = run[0]
    rate = first.rate
    samples = np.concatenate([c.samples for c in run]).astype("<f4")
    for i in range(0, len(samples), MAX_WAVE_ROW_SAMPLES):
        part = samples[i:i + MAX_WAVE_ROW_SAMPLES]
        rows.append((sid, first.vital.value, first.t0 + i / rate, rate, len(part),
                     first.quality.value, part.tobytes(), first.source))
