"""One recorded session, loaded whole for review, reports and exports.

:func:`load_record` reads everything a clinician looks at after the chair
from the database through a read-only connection: the set-up, the phases,
every numeric as arrays (NaN where the device sent no value, with the manual
ones marked), the pleth as one array with NaN between chunks that do not
join, the nurse's events at their current times, the alarm log and the
infusion actions. It never writes. A database written by a newer app is
refused (:class:`RecordError`), as is a session that does not exist.

A session of several sources (issue 16): each vital's series is what the
nurse was shown and what was alarmed, the readings of the device selected for
that vital at each moment (the recorded selections; typed readings and every
blood-pressure determination always), each point with its device
(``Series.source``); ``by_source`` holds each device's own series, and
``load_record(..., source=NAME)`` gives one device's values only (the
review's source filter). A session of one source is read as before.
"""

from __future__ import annotations

import bisect
import contextlib
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from monitor.core.alarms.model import AlarmAction, AlarmTransition, LimitChanged
from monitor.core.events import ClockOffset, Selection
from monitor.core.reading import DeviceNumeric, Quality, WaveChunk
from monitor.core.session import Phase, PhaseSpan
from monitor.core.vitals import SPECS, Kind, Vital
from monitor.core.workflow.messages import (
    ChecklistTicked,
    EventTimeCorrected,
    InfusionChanged,
    SessionEvent,
)
from monitor.review.alarm_episodes import AlarmSpan, alarm_episodes
from monitor.storage.database import SessionRow, SourceRow, connect
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
    ``source`` holds each reading's device name (``''`` for a typed one), when
    loaded from a database.
    """

    t: np.ndarray
    v: np.ndarray
    manual: np.ndarray
    quality: np.ndarray | None = None
    source: np.ndarray | None = None

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
    sources : list of SourceRow
        The session's devices in order (one for a session of one source).
    selections : list of Selection
        Which device was shown and alarmed for each vital, and why (several sources).
    clock_offsets : list of ClockOffset
        Each device's clock offset from host arrival time as it was tracked.
    by_source : dict of str to dict of Vital to Series
        Each device's own series (several sources; empty for one).
    source_filter : str or None
        The device the record was loaded for (``load_record(..., source=...)``);
        ``None``: the values shown at the chair.
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
    sources: list[SourceRow] = field(default_factory=list)
    selections: list[Selection] = field(default_factory=list)
    clock_offsets: list[ClockOffset] = field(default_factory=list)
    by_source: dict[str, dict[Vital, Series]] = field(default_factory=dict)
    source_filter: str | None = None

    @property
    def several_sources(self) -> bool:
        """Whether the session had more than one device."""
        return len(self.sources) > 1

    def shown_sources(self, vital: Vital) -> list[str]:
        """The devices whose values of ``vital`` were shown, in the order first shown."""
        series = self.numerics.get(vital)
        if series is None or series.source is None:
            return []
        return list(dict.fromkeys(str(x) for x in series.source if x))

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


def load_record(db_path: Path, session_id: int, source: str | None = None) -> SessionRecord:
    """Load session ``session_id`` from the database at ``db_path``, read-only.

    ``source``: one device's values only (its name; typed readings too), for
    the review's source filter; ``None``: the values shown at the chair.

    Raises
    ------
    RecordError
        If the file is missing or not a database, was written by a newer
        version of the app, or has no such session, or no such source in it.
    """
    db_path = Path(db_path)
    if not db_path.is_file():
        raise RecordError(f"no database at {db_path}")
    try:
        with SessionStore(db_path) as store:
            _check_session(store, db_path, session_id)
            return _load(store, session_id, source)
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


def _load(store: SessionStore, sid: int, source: str | None = None) -> SessionRecord:
    conn = store._conn
    extra = conn.execute("SELECT patient_ref, alarm_profile, utc_offset_s FROM sessions"
                         " WHERE id = ?", (sid,)).fetchone()
    sources = store.sources(sid)
    names = [s.name for s in sources]
    if source is not None and source not in names:
        raise RecordError(f"session {sid} has no source {source!r}; its sources are "
                          f"{', '.join(repr(n) for n in names)}")
    selections = store.selections(sid)
    raw = _numerics(conn, sid, names[0] if names else "")
    several = len(sources) > 1
    by_source = {n: _only(raw, n) for n in names} if several else {}
    if not several:
        numerics = raw
    elif source is not None:
        numerics = by_source[source]
    else:
        numerics = _shown(raw, selections)
    return SessionRecord(
        session=store.session(sid), patient_ref=extra[0], setup=store.setup(sid),
        phases=store.phases(sid), numerics=numerics,
        pleth=_pleth(store, sid, source if several else None, selections),
        events=store.session_events(sid), corrections=store.event_corrections(sid),
        notes=store.events(sid), alarms=store.alarms(sid),
        alarm_actions=store.alarm_actions(sid), limit_changes=store.limit_changes(sid),
        infusion=store.infusion_actions(sid), checklist=store.checklist_ticks(sid),
        device_numerics=store.device_numerics(sid), alarm_profile=extra[1], utc_offset_s=extra[2],
        sources=sources, selections=selections, clock_offsets=store.clock_offsets(sid),
        by_source=by_source, source_filter=source)


def _numerics(conn: sqlite3.Connection, sid: int, first: str) -> dict[Vital, Series]:
    """Every reading per vital, each with its device (``first`` for a row from before v8)."""
    out: dict[Vital, Series] = {}
    known = {v.value for v in Vital}
    columns = {r[1] for r in conn.execute("PRAGMA table_info(readings)")}
    source_col = "source" if "source" in columns else "''"
    for (name,) in conn.execute("SELECT DISTINCT vital FROM readings WHERE session_id = ?",
                                (sid,)).fetchall():
        if name not in known or name == Vital.PLETH.value:
            continue
        rows = conn.execute(f"SELECT t, value, quality, {source_col} FROM readings"
                            " WHERE session_id = ? AND vital = ? ORDER BY t, rowid",
                            (sid, name)).fetchall()
        t = np.fromiter((r[0] for r in rows), dtype=np.float64, count=len(rows))
        v = np.fromiter((np.nan if r[1] is None else r[1] for r in rows), dtype=np.float64,
                        count=len(rows))
        quality = np.array([r[2] for r in rows], dtype=object)
        manual = quality == Quality.MANUAL.value
        # A device reading without a name is the first source's (a pre-v8 row).
        source = np.array([r[3] or ("" if r[2] == Quality.MANUAL.value else first)
                           for r in rows], dtype=object)
        out[Vital(name)] = Series(t, v, np.asarray(manual, dtype=bool), quality, source)
    return out


def _subset(series: Series, keep: np.ndarray) -> Series:
    return Series(series.t[keep], series.v[keep], series.manual[keep],
                  None if series.quality is None else series.quality[keep],
                  None if series.source is None else series.source[keep])


def _only(raw: dict[Vital, Series], name: str) -> dict[Vital, Series]:
    """One device's series (with the typed readings, which belong to the session)."""
    out = {}
    for vital, series in raw.items():
        assert series.source is not None
        keep = (series.source == name) | series.manual
        if keep.any():
            out[vital] = _subset(series, keep)
    return out


def _timeline(selections: list[Selection], vital: Vital) -> tuple[list[float], list[str]]:
    """When each device became the one shown for ``vital``."""
    times: list[float] = []
    names: list[str] = []
    for sel in selections:
        if sel.vital is vital:
            times.append(sel.t)
            names.append(sel.source)
    return times, names


def _shown(raw: dict[Vital, Series], selections: list[Selection]) -> dict[Vital, Series]:
    """What the nurse was shown: per vital the selected device's readings at each moment.

    Typed readings and every blood-pressure determination (episodic: every
    device's is shown and alarmed) stay; a vital never selected (a device's
    supplementary numerics) keeps every device's readings. Before a vital's
    first selection, the first selected device's readings are the ones kept.
    """
    out = {}
    for vital, series in raw.items():
        times, names = _timeline(selections, vital)
        if not times or SPECS[vital].kind is not Kind.CONTINUOUS:
            out[vital] = series
            continue
        assert series.source is not None
        idx = np.searchsorted(np.asarray(times), series.t, side="right") - 1
        chosen = np.asarray(names, dtype=object)[np.maximum(idx, 0)]
        keep = (series.source == chosen) | series.manual
        out[vital] = _subset(series, keep)
    return out


def _pleth(store: SessionStore, sid: int, source: str | None = None,
           selections: list[Selection] | None = None) -> WaveSeries | None:
    """The pleth as one array: one device's (``source``), the shown device's at each
    moment (several sources, ``source`` None), or the only one's."""
    if source is not None:
        chunks = store.waves(sid, Vital.PLETH, source=source)
    else:
        chunks = store.waves(sid, Vital.PLETH)
        times, names = _timeline(selections or [], Vital.PLETH)
        if times and len({c.source for c in chunks}) > 1:
            chunks = [c for c in chunks if _shown_at(c, times, names)]
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


def _shown_at(chunk: WaveChunk, times: list[float], names: list[str]) -> bool:
    """Whether ``chunk`` is of the device shown for the pleth when it began."""
    i = bisect.bisect_right(times, chunk.t0) - 1
    return chunk.source == names[max(i, 0)]
