"""What every export shares: de-identification, safe writing, progress, the session timeline.

De-identification is :mod:`monitor.export.deidentification` and safe writing
:mod:`monitor.export.safe_writing`; their names are imported here too, so a
writer takes everything it shares from this module.

De-identification (:func:`deidentify`)
--------------------------------------
A de-identified export carries

- no patient reference: a **pseudonym** instead, ``"P-"`` + the first 10
  hex digits of HMAC-SHA256 over the reference (surrounding spaces removed),
  keyed with a random 256-bit secret kept in the data folder
  (``<data-dir>/pseudonym.key``, created on first use, owner-only). The
  same patient gets the same pseudonym in every export from that data
  folder, so a course of sessions stays linked; without the key file the
  pseudonym cannot be reversed by trying likely references. Losing the key
  only means later exports use new pseudonyms. Without a key (``key=None``)
  there is no pseudonym at all;
- times relative to the session start: t = 0 at the start, and no absolute
  date or time anywhere, headers included (no UTC offset either);
- no clinician or nurse names: every author, acknowledger, "by" and the
  set-up's clinician and discharger become empty; what was written in the
  notes, events and reasons is kept;
- no device ports, addresses, serial numbers or file paths: every source
  keeps its name (``Masimo``: it names a kind of device, not a patient),
  protocol and kind, but its label only its kind (``serial``, ``lan``,
  ``hl7``, ``sim``, ``replay``) and no settings (listener options name
  addresses and certificate files); the alarm profile keeps only its name;
  every source's port, host or file, port names (``/dev/tty...``,
  ``COM3``), IP addresses (``10.1.2.3:24105``, ``[fe80::1]``) and
  ``SN=...`` are blanked out of every text.

A de-identified record has ``session.started_at == 0``; passing it through
:func:`deidentify` again returns it unchanged, so a caller may de-identify
(with the key) before handing the record to a writer that de-identifies too,
and every writer treats such a record as de-identified whatever it is told.

Safe writing (:func:`atomic_write`)
-----------------------------------
Every file (CSV and its events/alarms files, .vital, EDF+, HL7, the PDF, the
MLLP outbox) is written to a temporary file in the target folder, flushed,
fsynced, checked, and only then renamed into place (and the folder fsynced).
Each writer passes a check because some libraries do not report a full disk:
EDFlib (pyedflib) ignores failed writes and leaves a short file, so the EDF+
writer compares the file's size with its own header and reads it back; the
PDF is drawn into memory and written by Python, which raises. On any failure
the temporary file is removed, nothing is left behind (an older file at the
path is kept) and :class:`ExportError` names the path and the reason ("the
disk is full", "the file is larger than this process may write"...). Every
export file is owner-only (0600), de-identified or not, whatever the umask.

Sources
-------
A session may have several sources (devices), each with a name unique in
the session (``Masimo``, ``Datex S/5``). :mod:`monitor.export.sources`
loads, for export, whose each value is (:func:`load_export_record`, a
:class:`SourcedRecord`); :func:`devices` tells a writer whether to name the
device of each value (and refuses a record that cannot say). A session of one source is written exactly as before
sources had names. In a session of several, :func:`timeline` also has the
device shown for each vital at the start and every change of it
(``SpO2 from Masimo``, ``SpO2 from Datex S/5: Masimo stale``).

Progress
--------
Writers take ``progress(done, total)`` (:class:`Progress`), called a bounded
number of times from the writing thread, last with ``done == total``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from monitor.export.deidentification import (
    KEY_FILE,
    deidentify,
    is_deidentified,
    prepare,
    pseudonym,
    pseudonym_key,
    scrub,
)
from monitor.export.safe_writing import (
    FILE_MODE,
    Check,
    ExportError,
    Writer,
    atomic_write,
    atomic_write_all,
    check_size,
    check_target,
    short_file,
)
from monitor.export.sources import (
    MANUAL_SOURCE,
    Devices,
    SourcedRecord,
    devices,
    load_export_record,
    selection_text,
    several,
    shown_mask,
    source_text,
)
from monitor.review.record import AlarmSpan, Series, SessionRecord

__all__ = ["FILE_MODE", "KEY_FILE", "MANUAL_SOURCE", "Check", "Devices", "ExportError",
           "Marker", "Progress", "SourcedRecord", "Writer", "atomic_write", "atomic_write_all",
           "check_size", "check_target", "data_end", "deidentify", "devices", "has_values",
           "is_deidentified", "load_export_record", "prepare", "pseudonym", "pseudonym_key",
           "report", "scrub", "selection_text", "several", "short_file", "shown_mask",
           "source_text", "steps", "timeline"]


class Progress(Protocol):
    """Told how far a writer is: ``done`` of ``total`` steps (``done == total`` at the end)."""

    def __call__(self, done: int, total: int) -> None: ...


def report(progress: Progress | None, done: int, total: int) -> None:
    """Call ``progress`` if there is one."""
    if progress is not None:
        progress(done, total)


def steps(n: int, parts: int = 50) -> Iterable[tuple[int, int]]:
    """Split ``range(n)`` into at most ``parts`` ``(start, stop)`` slices (for progress)."""
    size = max(1, -(-n // parts))
    for a in range(0, n, size):
        yield a, min(n, a + size)


# -- what happened when: one list for the EVENT track, EDF+ annotations ------------


@dataclass(frozen=True)
class Marker:
    """One timed happening of the session for a timeline (``duration`` None: an instant)."""

    t: float
    text: str
    duration: float | None = None


def timeline(record: SessionRecord) -> list[Marker]:
    """Phase starts, infusion actions, the nurse's events, alarms and discharge, in time order.

    Alarms appear once per priority episode (see
    :meth:`~monitor.review.record.SessionRecord.alarm_spans`), each at the
    priority it had then: an alarm raised medium and escalated to high is
    ``ALARM medium: NIBP sys 164 > 160 (then high)`` from the raise to the
    escalation and ``ALARM high: ...`` from there to its clearing. Technical
    alarms say so (``ALARM technical high: No data from the monitor``). An
    episode still open at the end has no duration.
    """
    out: list[Marker] = []
    for p in record.phases:
        out.append(Marker(p.start, f"Phase {p.phase.value}"))
    for i in record.infusion:
        out.append(Marker(i.t, f"Infusion {i.action.value}" + (f": {i.reason}" if i.reason
                                                                else "")))
    for e in record.events:
        out.append(Marker(e.t, e.kind.label + (f": {e.text}" if e.text else "")))
    for a in record.alarm_spans():
        out.append(_alarm_marker(a))
    if several(record):
        assert isinstance(record, SourcedRecord) and record.devices is not None
        out += [Marker(sel.t, selection_text(sel)) for sel in record.devices.selections]
    if record.setup and record.setup.get("discharge_at") is not None:
        out.append(Marker(float(record.setup["discharge_at"]), "Discharged"))  # type: ignore
    return sorted(out, key=lambda m: m.t)


def _alarm_marker(a: AlarmSpan) -> Marker:
    kind = "technical " if a.technical else ""
    then = f" (then {a.escalated_to.label})" if a.escalated_to is not None else ""
    return Marker(a.start, f"ALARM {kind}{a.priority.label}: {a.message}{then}",
                  None if a.end is None else a.end - a.start)


def data_end(record: SessionRecord) -> float:
    """The latest time of the session or any of its data (of any device)."""
    ends = [record.end]
    ends += [float(s.t[-1]) for s in record.numerics.values() if len(s)]
    waves = [record.pleth]
    if several(record):
        assert isinstance(record, SourcedRecord) and record.devices is not None
        waves += list(record.devices.pleth.values())
    for w in waves:
        if w is not None and len(w):
            ends.append(float(w.t[-1]) + 1.0 / w.rate)
    return max(ends)


def has_values(series: Series) -> bool:
    """Whether a numeric series holds at least one value."""
    return bool(np.isfinite(series.v).any())
