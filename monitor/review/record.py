"""One recorded session, loaded whole for review, reports and exports.

:func:`load_record` reads everything a clinician looks at after the chair
from the database through a read-only connection: the set-up, the phases,
every numeric as arrays (NaN where the device sent no value, with the manual
ones marked), the pleth as one array with NaN between chunks that do not
join, the nurse's events at their current times, the alarm log and the
infusion actions. It never writes. A database written by a newer app is
refused (:class:`RecordError`), as is a session that does not exist.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from monitor.core.alarms.model import AlarmAction, AlarmTransition, LimitChanged
from monitor.core.reading import DeviceNumeric, Quality
from monitor.core.session import Phase, PhaseSpan
from monitor.core.vitals import Vital
from monitor.core.workflow.messages import (
    ChecklistTicked,
    EventTimeCorrected,
    InfusionChanged,
    SessionEvent,
)
from monitor.review.alarm_episodes import AlarmSpan, alarm_episodes
from monitor.storage.database import SessionRow, connect
from monitor.storage.schema import SCHEMA_VERSION
from monitor.storage.store import EventRow, SessionStore


class RecordError(LookupError):
    """A session cannot be loaded: it does not exist, or the database is too new or unreadable.

    The message names what was asked for and what exists.
    """


@dataclass(frozen=True)
class Series:
    """One numeric vital of a session: times (Unix s), values (NaN = no value), manual flags.

    ``quality`` holds each reading's recorded quality (``Quality`` values as
    strings: ``ok``, ``manual``, ``sensor_off``...), when loaded from a database.
    """

    t: np.ndarray
    v: np.ndarray
    manual: np.ndarray
    quality: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.t)

    def valid(self) -> tuple[np.ndarray, np.ndarray]:
        """Times and values where there is a value."""
        ok = np.isfinite(self.v)
        return self.t[ok], self.v[ok]


@dataclass(frozen=True)
class WaveSeries:
    """A waveform as one array: sample times and values, with a NaN between chunks that do not join.

    ``rate`` is the most common sample rate of the chunks (Hz).
    """

    t: np.ndarray
    v: np.ndarray
    rate: float

    def __len__(self) -> int:
        return len(self.t)


@dataclass(frozen=True)
class SessionRecord:
    """Everything recorded for one session (see :func:`load_record`).

    Attributes
    ----------
    session : SessionRow
    patient_ref : str or None
    setup : dict or None
        The *New session* form and the discharge (``monitor.storage.database.load_setup``).
    phases : list of PhaseSpan
    numerics : dict of Vital to Series
        Every numeric vital recorded (supplementary device numerics too).
    pleth : WaveSeries or None
    events : list of SessionEvent
        The nurse's events at their current (corrected) times, in time order.
    corrections : list of EventTimeCorrected
    notes : list of EventRow
        System and device notes, and the manual-entry notes.
    alarms : list of AlarmTransition
    alarm_actions : list of AlarmAction
    limit_changes : list of LimitChanged
    infusion : list of InfusionChanged
    checklist : list of ChecklistTicked
    device_numerics : list of DeviceNumeric
        The numerics the device sent that are none of our vitals (an IntelliVue's
        ART, ABP...), with its id and label, in time order.
    alarm_profile : str or None
        The name of the alarm profile the session ran with.
    utc_offset_s : int or None
        The recording PC's UTC offset when the session started.
    """

    session: SessionRow
    patient_ref: str | None
    setup: dict[str, object] | None
    phases: list[PhaseSpan]
    numerics: dict[Vital, Series]
    pleth: WaveSeries | None
    events: list[SessionEvent] = field(default_factory=list)
    corrections: list[EventTimeCorrected] = field(default_factory=list)
    notes: list[EventRow] = field(default_factory=list)
    alarms: list[AlarmTransition] = field(default_factory=list)
    alarm_actions: list[AlarmAction] = field(default_factory=list)
    limit_changes: list[LimitChanged] = field(default_factory=list)
    infusion: list[InfusionChanged] = field(default_factory=list)
    checklist: list[ChecklistTicked] = field(default_factory=list)
    device_numerics: list[DeviceNumeric] = field(default_factory=list)
    alarm_profile: str | None = None
    utc_offset_s: int | None = None

    @property
    def session_id(self) -> int:
        return self.session.id

    @property
    def start(self) -> float:
        return self.session.started_at

    @property
    def end(self) -> float:
        """When the session ended, else its last data, else its start."""
        s = self.session
        return s.ended_at or s.last_data_at or s.started_at

    def phase_start(self, phase: Phase) -> float | None:
        """When ``phase`` began, if it did."""
        return next((p.start for p in self.phases if p.phase is phase), None)

    def alarm_spans(self) -> list[AlarmSpan]:
        """Each priority episode of each alarm (see :class:`AlarmSpan`), in time order.

        See :func:`monitor.review.alarm_episodes.alarm_episodes`.
        """
        return alarm_episodes(self.alarms, self.numerics, self.end)


def load_record(db_path: Path, session_id: int) -> SessionRecord:
    """Load session ``session_id`` from the database at ``db_path``, read-only.

    Raises
    ------
    RecordError
        If the file is missing or not a database, was written by a newer
        version of the app, or has no such session.
    """
    db_path = Path(db_path)
    if not db_path.is_file():
        raise RecordError(f"no database at {db_path}")
    try:
        with SessionStore(db_path) as store:
            _check_session(store, db_path, session_id)
            return _load(store, session_id)
    except sqlite3.DatabaseError as exc:
        raise RecordError(f"cannot read {db_path}: {exc}") from exc


def check_session(db_path: Path, session_id: int) -> None:
    """Raise :class:`RecordError` unless ``session_id`` can be loaded (cheap: no data read)."""
    db_path = Path(db_path)
    if not db_path.is_file():
        raise RecordError(f"no database at {db_path}")
    try:
        with SessionStore(db_path) as store:
            _check_session(store, db_path, session_id)
    except sqlite3.DatabaseError as exc:
        raise RecordError(f"cannot read {db_path}: {exc}") from exc


def _check_session(store: SessionStore, db_path: Path, session_id: int) -> None:
    _check_version(store, db_path)
    ids = [r[0] for r in store._conn.execute("SELECT id FROM sessions ORDER BY id")]
    if session_id not in ids:
        have = f"sessions {ids[0]}-{ids[-1]} exist" if ids else "it has no sessions"
        raise RecordError(f"session {session_id} does not exist in {db_path} ({have})")


def _check_version(store: SessionStore, db_path: Path) -> None:
    refuse_newer(store._conn, db_path)


def refuse_newer(conn: sqlite3.Connection, db_path: Path) -> int:
    """The database's schema version; :class:`RecordError` if a newer app wrote it."""
    found = conn.execute("PRAGMA user_version").fetchone()[0]
    if found > SCHEMA_VERSION:
        raise RecordError(f"{db_path} has schema version {found}, newer than this app's "
                          f"{SCHEMA_VERSION}; it was not changed. Upgrade Infusion Monitor to "
                          "read it")
    return found


@contextlib.contextmanager
def read_only(db_path: Path) -> Iterator[tuple[sqlite3.Connection, int]]:
    """A read-only connection and the schema version, for review queries.

    Raises :class:`RecordError` for a missing file, a database from a newer
    app (left untouched) and any SQLite error while the block runs.
    """
    db_path = Path(db_path)
    if not db_path.is_file():
        raise RecordError(f"no database at {db_path}")
    try:
        conn = connect(db_path, readonly=True)
        try:
            yield conn, refuse_newer(conn, db_path)
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise RecordError(f"cannot read {db_path}: {exc}") from exc


def _load(store: SessionStore, sid: int) -> SessionRecord:
    conn = store._conn
    extra = conn.execute("SELECT patient_ref, alarm_profile, utc_offset_s FROM sessions"
                         " WHERE id = ?", (sid,)).fetchone()
    return SessionRecord(
        session=store.session(sid), patient_ref=extra[0], setup=store.setup(sid),
        phases=store.phases(sid), numerics=_numerics(conn, sid), pleth=_pleth(store, sid),
        events=store.session_events(sid), corrections=store.event_corrections(sid),
        notes=store.events(sid), alarms=store.alarms(sid),
        alarm_actions=store.alarm_actions(sid), limit_changes=store.limit_changes(sid),
        infusion=store.infusion_actions(sid), checklist=store.checklist_ticks(sid),
        device_numerics=store.device_numerics(sid), alarm_profile=extra[1], utc_offset_s=extra[2])


def _numerics(conn: sqlite3.Connection, sid: int) -> dict[Vital, Series]:
    out: dict[Vital, Series] = {}
    known = {v.value for v in Vital}
    for (name,) in conn.execute("SELECT DISTINCT vital FROM readings WHERE session_id = ?",
                                (sid,)).fetchall():
        if name not in known or name == Vital.PLETH.value:
            continue
        rows = conn.execute("SELECT t, value, quality FROM readings WHERE session_id = ?"
                            " AND vital = ? ORDER BY t, rowid", (sid, name)).fetchall()
        t = np.fromiter((r[0] for r in rows), dtype=np.float64, count=len(rows))
        v = np.fromiter((np.nan if r[1] is None else r[1] for r in rows), dtype=np.float64,
                        count=len(rows))
        quality = np.array([r[2] for r in rows], dtype=object)
        manual = quality == Quality.MANUAL.value
        out[Vital(name)] = Series(t, v, np.asarray(manual, dtype=bool), quality)
    return out


def _pleth(store: SessionStore, sid: int) -> WaveSeries | None:
    chunks = store.waves(sid, Vital.PLETH)
    if not chunks:
        return None
    rates = [c.rate for c in chunks]
    rate = max(set(rates), key=rates.count)
    ts: list[np.ndarray] = []
    vs: list[np.ndarray] = []
    end = None
    for c in chunks:
        if end is not None and abs(c.t0 - end) > 1.5 / c.rate:   # a gap: break the line
            ts.append(np.array([end]))
            vs.append(np.array([np.nan], dtype=np.float32))
        n = len(c.samples)
        ts.append(c.t0 + np.arange(n) / c.rate)
        vs.append(np.asarray(c.samples, dtype=np.float32))
        end = c.t0 + n / c.rate
    return WaveSeries(np.concatenate(ts), np.concatenate(vs), rate)
