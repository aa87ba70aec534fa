"""The sources (devices) of a session, for the exports: whose is each value.

A session has one source or several (``Masimo`` and ``Datex S/5`` at one
chair; :class:`~monitor.storage.database.SourceRow`). The review's
:class:`~monitor.review.record.SessionRecord` holds every numeric of a
vital as one series, whichever device sent it; an export of a session of
several sources needs each device's own. :func:`load_export_record` loads
the record and, in a :class:`SourcedRecord`, its :class:`Devices`: the
session's sources, each device's readings and pleth, the values the nurse
typed in (they came from no device) and the selections (which device was
shown and alarmed for a vital from when, and why).

A session of one source (every session recorded before schema v8 too) is
exported as it always was, from the record's own series: :func:`devices`
is ``None`` for it. A plain ``SessionRecord`` of a session of several
sources cannot say whose each value is: :func:`devices` refuses it
(:class:`~monitor.export.common.ExportError`) rather than let a writer put
values under the wrong device.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from monitor.core.events import Selection
from monitor.core.reading import Quality, WaveChunk
from monitor.core.vitals import SPECS, Vital
from monitor.export.safe_writing import ExportError
from monitor.review.record import (
    RecordError,
    Series,
    SessionRecord,
    WaveSeries,
    load_record,
)
from monitor.storage.database import SourceRow
from monitor.storage.store import SessionStore

MANUAL_SOURCE = "Manual"
"""What a file calls the "device" of the values typed in by the nurse, where it needs a name."""


@dataclass(frozen=True)
class Devices:
    """Whose each value of a session is (see :func:`load_export_record`).

    Attributes
    ----------
    sources : tuple of SourceRow
        The session's sources in their order.
    numerics : dict of str to (dict of Vital to Series)
        Each source's own readings by its name (every name of ``sources``,
        in that order; a source that sent nothing has an empty dict).
    pleth : dict of str to WaveSeries
        Each source's pleth, for the sources that sent one, in their order.
    typed : dict of Vital to Series
        The values typed in by the nurse (from no device).
    selections : tuple of Selection
        Which source was shown and alarmed for each vital, in time order.
    """

    sources: tuple[SourceRow, ...]
    numerics: dict[str, dict[Vital, Series]]
    pleth: dict[str, WaveSeries]
    typed: dict[Vital, Series]
    selections: tuple[Selection, ...] = ()

    def row(self, name: str) -> SourceRow | None:
        """The source named ``name``."""
        return next((r for r in self.sources if r.name == name), None)


@dataclass(frozen=True)
class SourcedRecord(SessionRecord):
    """A session record with whose each value is (``devices``; see :func:`load_export_record`)."""

    devices: Devices | None = None


def load_export_record(db_path: Path, session_id: int) -> SourcedRecord:
    """Load session ``session_id`` for export: :func:`~monitor.review.record.load_record`
    and each source's own data (:class:`Devices`), read-only.

    Raises
    ------
    RecordError
        As ``load_record`` does (no database, a newer one, no such session).
    """
    db_path = Path(db_path)
    record = load_record(db_path, session_id)
    try:
        with SessionStore(db_path) as store:
            rows = tuple(store.sources(session_id))
            numerics, typed = _readings(store, session_id, [r.name for r in rows])
            pleth = {}
            for r in rows:
                w = joined(store.waves(session_id, Vital.PLETH, source=r.name))
                if w is not None:
                    pleth[r.name] = w
            devices = Devices(rows, numerics, pleth, typed, tuple(store.selections(session_id)))
    except sqlite3.DatabaseError as exc:
        raise RecordError(f"cannot read {db_path}: {exc}") from exc
    fields = {f.name: getattr(record, f.name) for f in dataclasses.fields(record)}
    return SourcedRecord(**fields, devices=devices)


def _readings(store: SessionStore, sid: int, names: Sequence[str]
              ) -> tuple[dict[str, dict[Vital, Series]], dict[Vital, Series]]:
    known = [v for v in Vital if v is not Vital.PLETH]
    groups: dict[tuple[str, Vital], list[tuple[float, float, str]]] = {}
    for r in store.readings(sid, vitals=known):
        groups.setdefault((r.source, r.vital), []).append((r.t, r.value, r.quality.value))
    by_source: dict[str, dict[Vital, Series]] = {n: {} for n in names}
    typed: dict[Vital, Series] = {}
    for (source, vital), items in sorted(groups.items(), key=lambda kv: list(Vital).index(
            kv[0][1])):
        t = np.array([i[0] for i in items], dtype=np.float64)
        v = np.array([i[1] for i in items], dtype=np.float64)
        quality = np.array([i[2] for i in items], dtype=object)
        s = Series(t, v, np.asarray(quality == Quality.MANUAL.value, dtype=bool), quality)
        if source:
            by_source.setdefault(source, {})[vital] = s
        else:
            typed[vital] = s
    return by_source, typed


def joined(chunks: Sequence[WaveChunk]) -> WaveSeries | None:
    """Wave chunks as one series, NaN between chunks that do not join (as the review's pleth)."""
    if not chunks:
        return None
    rates = [c.rate for c in chunks]
    rate = max(set(rates), key=rates.count)
    ts: list[np.ndarray] = []
    vs: list[np.ndarray] = []
    end = None
    for c in chunks:
        if end is not None and abs(c.t0 - end) > 1.5 / c.rate:
            ts.append(np.array([end]))
            vs.append(np.array([np.nan], dtype=np.float32))
        n = len(c.samples)
        ts.append(c.t0 + np.arange(n) / c.rate)
        vs.append(np.asarray(c.samples, dtype=np.float32))
        end = c.t0 + n / c.rate
    return WaveSeries(np.concatenate(ts), np.concatenate(vs), rate)


# -- questions the writers ask ---------------------------------------------------


def devices(record: SessionRecord) -> Devices | None:
    """Whose each value of ``record`` is, when it is exported as a session of several sources.

    ``None`` for a session of one source (written as before sources had names).

    Raises
    ------
    ExportError
        For a record of a session of several sources not loaded with
        :func:`load_export_record` (it cannot say whose each value is).
    """
    found = record.devices if isinstance(record, SourcedRecord) else None
    if found is None:
        if len(record.session.sources) > 1:
            raise ExportError(
                f"session {record.session_id} has several sources "
                f"({', '.join(record.session.sources)}); load it with "
                "monitor.export.load_export_record to export whose each value is")
        return None
    return found if len(found.sources) > 1 else None


def several(record: SessionRecord) -> bool:
    """Whether ``record`` is exported as a session of several sources (never raises)."""
    return (isinstance(record, SourcedRecord) and record.devices is not None
            and len(record.devices.sources) > 1)


def source_text(row: SourceRow) -> str:
    """A source as named in a file: ``Masimo (masimo-ascii)``, or its name alone."""
    return f"{row.name} ({row.protocol})" if row.protocol else row.name


def shown_mask(devices: Devices, vital: Vital, source: str, t: np.ndarray) -> np.ndarray:
    """Which readings of ``vital`` from ``source`` at times ``t`` were shown and alarmed.

    A reading was shown when its source was the one selected for its vital
    at its time (the latest selection at or before it). Before a vital's
    first selection none was (the monitor records but does not alarm
    them); a vital with no selection at all (one device measures it, or a
    supplementary numeric, recorded only) was shown from every device. A
    typed-in value (``source`` ``""``) always was.
    """
    t = np.asarray(t, dtype=np.float64)
    sels = [s for s in devices.selections if s.vital is vital]
    if not source or not sels:
        return np.ones(len(t), dtype=bool)
    times = np.array([s.t for s in sels], dtype=np.float64)
    names = np.array([s.source for s in sels], dtype=object)
    i = np.searchsorted(times, t, side="right") - 1
    return (i >= 0) & (names[np.maximum(i, 0)] == source)


_REASONS = {
    "stale": "{previous} stale",
    "sensor": "{previous} sensor problem",
    "no_data": "no data from {previous}",
    "ended": "{previous} ended",
    "returned": "{source} valid again",
    "newer": "newer determination",
}


def selection_text(sel: Selection) -> str:
    """A change of the device shown for a vital: ``SpO2 from Datex S/5: Masimo stale``.

    The first choice of a vital reads ``SpO2 from Masimo``.
    """
    label = SPECS[sel.vital].label if sel.vital in SPECS else sel.vital.value
    text = f"{label} from {sel.source}"
    if sel.reason == "start":
        return text
    why = _REASONS.get(sel.reason)
    if why is None:
        return f"{text} ({sel.reason})"
    return f"{text}: {why.format(previous=sel.previous or '?', source=sel.source)}"
