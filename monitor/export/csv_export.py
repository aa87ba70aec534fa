"""A session as three CSV files: readings, events and alarms (and the device's other numerics).

``write_csv(record, "session-12.csv")`` writes ``session-12.csv`` and, in
the same folder, ``session-12-events.csv`` and ``session-12-alarms.csv``,
plus ``session-12-device-numerics.csv`` when the session recorded numerics
that are none of our vitals (all or none of them). UTF-8, comma-separated,
one header row, ``\\r\\n`` line ends (the ``csv`` module's default
dialect), numbers with a ``.`` decimal point, an empty field where there is
nothing.

Times
    ``time_iso``: ISO 8601 local time of the recording PC with milliseconds
    and its UTC offset, e.g. ``2026-03-02T09:14:05.250+01:00``. The offset
    is the one in force when the session started (``+00:00`` if the
    recording did not store it). ``t_s``: seconds since the session start,
    3 decimals. A de-identified export (``deidentify=True``, or a record
    already de-identified) has no ``time_iso`` column at all, only ``t_s``.

Readings file (``<name>.csv``), one row per recorded numeric, in time order
    ``time_iso, t_s, vital, value, unit, quality, manual``, and for a
    session of several sources ``source, shown`` after them

    - ``vital``: the stable name (``hr``, ``spo2``, ``nibp_sys``...; see
      ``monitor.core.vitals.Vital``);
    - ``value``: the recorded value as Python's shortest round-trip repr
      of the float (``98.0``, ``36.7``), empty when the reading had none;
    - ``unit``: the display unit (``bpm``, ``%``, ``mmHg``, ``°C``...);
    - ``quality``: the recorded quality of the reading: ``ok``, ``manual``
      (typed in by the nurse), or why there is no usable value
      (``monitor.core.reading.Quality``: e.g. ``sensor_off``, ``artifact``);
    - ``manual``: 1 for a value typed in by the nurse, else 0;
    - ``source`` (several sources only): the name of the device the
      reading came from (``Masimo``, ``Datex S/5``: the session's source
      names), empty for a value typed in by the nurse (from no device);
    - ``shown`` (several sources only): 1 when the reading was the one
      shown and alarmed for its vital at its time (its device was the one
      selected then, ``monitor.export.sources.shown_mask``; every typed-in
      value, every reading of a vital no selection was recorded for), 0
      for another device's reading of the same vital.

    Every reading of the monitor's own vitals is written, valued or not.
    A supplementary device numeric (Datex P1-P6, gases, ST...; see
    ``SUPPLEMENTARY_VITALS``) is written only if it had a value at least
    once in the session (with several sources: from that device). The
    pleth wave is not in the CSV (use .vital or EDF+).

    A session of one source is written as before sessions had several (no
    ``source`` column: the session's one source is its ``source``). With
    several, every device's readings are written, shown or not: two
    devices measuring SpO2 give two series told apart by ``source``; keep
    the rows with ``shown`` 1 for what the nurse saw. Rows of one time are
    in ``Vital`` order, then in the order of the session's sources, typed-in
    values last.

Events file (``<stem>-events.csv``), in time order
    ``time_iso, t_s, kind, text, author, corrected_from_t_s``

    - nurse events: ``kind`` as ``nausea``, ``antiemetic_given``, ``note``...;
      ``corrected_from_t_s`` is the time first recorded when the event's
      time was later corrected, else empty;
    - ``phase_baseline``, ``phase_infusion``, ``phase_recovery``,
      ``phase_ended``: a phase began;
    - ``infusion_start`` / ``_pause`` / ``_resume`` / ``_stop`` (``text`` =
      the reason given);
    - ``alarm_action`` (``text`` = e.g. ``acknowledge spo2.low``,
      ``audio_pause 2 min``), ``limit_change`` (``text`` = ``rule.setting
      old -> new`` and the reason), ``checklist_ticked`` /
      ``checklist_unticked`` (``text`` = the item), ``discharged``;
    - the recording's notes under their own kind: ``manual_entry`` (what
      was typed in), ``technical:<condition>:start|end``,
      ``device:<flag>:start|end``, ``session_end``, ``refused``...

Device numerics file (``<stem>-device-numerics.csv``), in time order
    ``time_iso, t_s, label, code, value, unit, quality, source``

    The numerics the device sent that are none of our vitals
    (``monitor.core.reading.DeviceNumeric``: an IntelliVue's invasive
    pressures labelled ``ART``, ``ABP``, ``P1``..., extra temperatures, ids
    this version does not know), so nothing the monitor sent is missing
    from the export. They have their own file because they are named by the
    device, not by us: ``label`` is the device's label text (or its code's
    name), ``code`` the device's own id as a decimal integer (IntelliVue:
    the physiological id, e.g. ``18960`` for 0x4A10); a numeric is
    ``label`` and ``code`` together (the sys, dia and mean of one pressure
    share a label). ``value``, ``unit`` and ``quality`` as in the readings
    file; ``source`` the device that sent it: the session's
    name of the source (``IntelliVue``, as in the readings file of a session
    of several sources), or the protocol that decoded it (``intellivue-mib``)
    where the recording has no name for it.
    As for the supplementary vitals, a numeric (``label``, ``code``) is
    written only if it had a value at least once in the session. The file
    is written when there is such a numeric, or (header only) when a file
    of that name is already there, so an older export's numerics never sit
    beside another session's files.

Alarms file (``<stem>-alarms.csv``), one row per alarm state change, in time order
    ``time_iso, t_s, alarm_id, kind, vital, priority, state, value, limit, message, by``

    ``kind`` physiological or technical; ``priority`` low, medium or high;
    ``state`` raised, escalated, acknowledged or cleared; ``value`` the value
    that raised it (or the worst while it lasted), ``limit`` the limit in
    force, both empty when none; ``by`` who acknowledged.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

from monitor.core.reading import DeviceNumeric
from monitor.core.vitals import SPECS, SUPPLEMENTARY_VITALS, Vital
from monitor.export.common import (
    Devices,
    Progress,
    atomic_write_all,
    check_target,
    devices,
    has_values,
    is_deidentified,
    prepare,
    report,
    shown_mask,
    steps,
)
from monitor.review.record import Series, SessionRecord

READING_COLUMNS = ("time_iso", "t_s", "vital", "value", "unit", "quality", "manual")
SOURCE_COLUMNS = ("source", "shown")
"""Appended to :data:`READING_COLUMNS` for a session of several sources."""
EVENT_COLUMNS = ("time_iso", "t_s", "kind", "text", "author", "corrected_from_t_s")
DEVICE_NUMERIC_COLUMNS = ("time_iso", "t_s", "label", "code", "value", "unit", "quality",
                          "source")
ALARM_COLUMNS = ("time_iso", "t_s", "alarm_id", "kind", "vital", "priority", "state", "value",
                 "limit", "message", "by")


def companion_paths(path: Path) -> tuple[Path, Path, Path]:
    """The readings, events and alarms files written for ``path``."""
    path = Path(path)
    stem = path.stem if path.suffix else path.name
    return (path, path.with_name(f"{stem}-events.csv"), path.with_name(f"{stem}-alarms.csv"))


def device_numerics_path(path: Path) -> Path:
    """The device numerics file written beside ``path`` (when there is one to write)."""
    path = Path(path)
    stem = path.stem if path.suffix else path.name
    return path.with_name(f"{stem}-device-numerics.csv")


def write_csv(record: SessionRecord, path: Path, *, deidentify: bool = False,
              key: bytes | None = None, progress: Progress | None = None) -> list[Path]:
    """Write the readings, events and alarms of ``record`` (see the module docstring).

    Returns the paths written: the three, then the device numerics file if written.

    Raises
    ------
    monitor.export.common.ExportError
        If a file cannot be written; then none of the three is left behind.
    """
    paths = companion_paths(path)
    for p in paths:
        check_target(p)
    anon = deidentify or is_deidentified(record)
    rec = prepare(record, deidentify, key)
    devs = devices(rec)
    reading_columns = READING_COLUMNS + (SOURCE_COLUMNS if devs is not None else ())
    clock = _Clock(rec, with_iso=not anon)
    numerics = exported_device_numerics(rec)
    extra = device_numerics_path(path)
    jobs = [
        (paths[0], lambda tmp: _write_rows(tmp, clock.header(reading_columns),
                                           _readings(rec, devs, clock, progress))),
        (paths[1], lambda tmp: _write_rows(tmp, clock.header(EVENT_COLUMNS), _events(rec, clock))),
        (paths[2], lambda tmp: _write_rows(tmp, clock.header(ALARM_COLUMNS), _alarms(rec, clock))),
    ]
    if numerics or extra.exists():
        check_target(extra)
        jobs.append((extra, lambda tmp: _write_rows(tmp, clock.header(DEVICE_NUMERIC_COLUMNS),
                                                    _device_numerics(numerics, clock))))
    return atomic_write_all(jobs)


class _Clock:
    """Formats a time as the leading ``time_iso, t_s`` columns."""

    def __init__(self, rec: SessionRecord, with_iso: bool) -> None:
        self.start = rec.start
        self.with_iso = with_iso
        self.tz = timezone(timedelta(seconds=rec.utc_offset_s or 0))

    def header(self, columns: tuple[str, ...]) -> tuple[str, ...]:
        return columns if self.with_iso else columns[1:]

    def cols(self, t: float) -> list[str]:
        rel = f"{t - self.start:.3f}"
        if not self.with_iso:
            return [rel]
        return [datetime.fromtimestamp(t, self.tz).isoformat(timespec="milliseconds"), rel]


def _write_rows(path: Path, header: tuple[str, ...], rows: Iterator[list[str]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)


def exported_vitals(rec: SessionRecord) -> list[Vital]:
    """The vitals written: every primary one recorded, supplementary ones that had a value."""
    devs = devices(rec)
    if devs is not None:
        return sorted({v for _, v, _ in _blocks(rec, devs)}, key=list(Vital).index)
    supp = set(SUPPLEMENTARY_VITALS)
    return [v for v in Vital if v in rec.numerics
            and (v not in supp or has_values(rec.numerics[v]))]


def _blocks(rec: SessionRecord, devs: Devices | None) -> list[tuple[str, Vital, Series]]:
    """(source, vital, series) written, in ``Vital`` order, then the sources' order.

    One source: the record's own series (source ``""``). Several: each
    device's readings, then the typed-in values (source ``""``).
    """
    if devs is None:
        return [("", v, rec.numerics[v]) for v in exported_vitals(rec)]
    supp = set(SUPPLEMENTARY_VITALS)
    out: list[tuple[str, Vital, Series]] = []
    for v in Vital:
        for name, numerics in devs.numerics.items():
            s = numerics.get(v)
            if s is not None and len(s) and (v not in supp or has_values(s)):
                out.append((name, v, s))
        s = devs.typed.get(v)
        if s is not None and len(s):
            out.append(("", v, s))
    return out


def _readings(rec: SessionRecord, devs: Devices | None, clock: _Clock,
              progress: Progress | None) -> Iterator[list[str]]:
    blocks = _blocks(rec, devs)
    if not blocks:
        report(progress, 1, 1)
        return
    series = [s for _, _, s in blocks]
    t = np.concatenate([s.t for s in series])
    v = np.concatenate([s.v for s in series])
    manual = np.concatenate([s.manual for s in series])
    recorded = np.concatenate([s.quality if s.quality is not None
                               else np.full(len(s), None, dtype=object) for s in series])
    which = np.concatenate([np.full(len(s), i) for i, s in enumerate(series)])
    order = np.lexsort((which, t))          # by time, then in Vital order (then source order)
    names = [x.value for _, x, _ in blocks]
    units = [SPECS[x].unit for _, x, _ in blocks]
    sources = [name for name, _, _ in blocks]
    shown = None
    if devs is not None:
        shown = np.concatenate([shown_mask(devs, x, name, s.t) for name, x, s in blocks])
    n = len(order)
    for a, b in steps(n):
        for i in order[a:b]:
            value = float(v[i])
            k = int(which[i])
            is_manual = bool(manual[i])
            ok = not math.isnan(value)
            quality = recorded[i] or ("manual" if is_manual else "ok" if ok else "no_value")
            row = [*clock.cols(float(t[i])), names[k], repr(value) if ok else "", units[k],
                   quality, "1" if is_manual else "0"]
            if shown is not None:
                row += [sources[k], "1" if shown[i] else "0"]
            yield row
        report(progress, b, n)


def exported_device_numerics(rec: SessionRecord) -> list[DeviceNumeric]:
    """The device numerics written: those of each (label, code) that had a value once."""
    valued = {(n.label, n.code) for n in rec.device_numerics if n.valid}
    return sorted((n for n in rec.device_numerics if (n.label, n.code) in valued),
                  key=lambda n: n.t)


def _device_numerics(numerics: list[DeviceNumeric], clock: _Clock) -> Iterator[list[str]]:
    for n in numerics:
        ok = n.valid and math.isfinite(n.value)
        yield [*clock.cols(n.t), n.label, str(n.code), repr(float(n.value)) if ok else "",
               n.unit, n.quality.value, n.source]


def _events(rec: SessionRecord, clock: _Clock) -> Iterator[list[str]]:
    first_t: dict[str, float] = {}
    for c in rec.corrections:
        first_t.setdefault(c.event_id, c.old_t)
    rows: list[tuple[float, str, str, str, str]] = []
    for e in rec.events:
        old = first_t.get(e.event_id)
        rows.append((e.t, e.kind.value, e.text, e.author,
                     "" if old is None else f"{old - rec.start:.3f}"))
    for p in rec.phases:
        rows.append((p.start, f"phase_{p.phase.value}", "", "", ""))
    for i in rec.infusion:
        rows.append((i.t, f"infusion_{i.action.value}", i.reason, i.by, ""))
    for a in rec.alarm_actions:
        rows.append((a.t, "alarm_action", f"{a.action} {a.detail}".strip(), a.by, ""))
    for c in rec.limit_changes:
        why = f" ({c.reason})" if c.reason else ""
        rows.append((c.t, "limit_change", f"{c.rule_id}.{c.setting} {c.old:g} -> {c.new:g}{why}",
                     c.by, ""))
    for c in rec.checklist:
        rows.append((c.t, "checklist_ticked" if c.ticked else "checklist_unticked", c.item,
                     c.by, ""))
    setup = rec.setup or {}
    if setup.get("discharge_at") is not None:
        rows.append((float(setup["discharge_at"]), "discharged", "",     # type: ignore[arg-type]
                     str(setup.get("discharge_by") or ""), ""))
    for n in rec.notes:
        rows.append((n.t, n.kind, n.text, n.author, ""))
    for t, *rest in sorted(rows, key=lambda r: r[0]):
        yield [*clock.cols(t), *rest]


def _alarms(rec: SessionRecord, clock: _Clock) -> Iterator[list[str]]:
    for a in rec.alarms:
        yield [*clock.cols(a.t), a.alarm_id, a.kind.value, a.vital.value if a.vital else "",
               a.priority.label, a.state.value, _num(a.value), _num(a.limit), a.message, a.by]


def _num(x: float | None) -> str:
    return "" if x is None or math.isnan(x) else repr(float(x))
