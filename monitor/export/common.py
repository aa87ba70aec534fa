"""What every export shares: de-identification, safe writing, progress, the session timeline.

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
- no device ports, serial numbers or file paths: the source keeps only its
  kind (``serial``, ``sim``, ``replay``), the alarm profile only its name,
  and port names (``/dev/tty...``, ``COM3``) and ``SN=...`` are blanked out
  of every text.

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

Progress
--------
Writers take ``progress(done, total)`` (:class:`Progress`), called a bounded
number of times from the writing thread, last with ``done == total``.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

import numpy as np

from monitor.review.record import AlarmSpan, Series, SessionRecord, WaveSeries

KEY_FILE = "pseudonym.key"
"""Name of the per-data-folder pseudonym secret (64 hex digits)."""


class ExportError(RuntimeError):
    """An export could not be written; the message names the file and the reason."""


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


# -- pseudonyms -------------------------------------------------------------------


def pseudonym_key(data_dir: Path) -> bytes:
    """The data folder's pseudonym secret, created (owner-only) on first use.

    Raises
    ------
    ExportError
        If the key cannot be created, or the key file is damaged (it is then
        left alone: replacing it would change every pseudonym).
    """
    path = Path(data_dir) / KEY_FILE
    if not path.exists():
        _create_key(path)
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ExportError(f"cannot read the pseudonym key {path}: {_reason(exc)}") from exc
    if not re.fullmatch(r"[0-9a-f]{64}", text):
        raise ExportError(f"the pseudonym key {path} is damaged (expected 64 hex digits); "
                          "restore it from a backup, or move it away to start new pseudonyms")
    return bytes.fromhex(text)


def _create_key(path: Path) -> None:
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(secrets.token_hex(32) + "\n")
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)          # atomic; another process may have won the race
        except FileExistsError:
            pass
        except OSError:                 # no hard links on this disk (FAT, some shares)
            if not path.exists():
                os.replace(tmp, path)
    except OSError as exc:
        raise ExportError(f"cannot create the pseudonym key {path}: {_reason(exc)}") from exc
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def pseudonym(patient_ref: str, key: bytes) -> str:
    """``"P-"`` + 10 hex digits of HMAC-SHA256(key, reference): stable for one data folder."""
    digest = hmac.new(key, patient_ref.strip().encode("utf-8"), hashlib.sha256).hexdigest()
    return "P-" + digest[:10]


# -- de-identification ------------------------------------------------------------

_PORTS = re.compile(r"/dev/[^\s),;]+|\bCOM\d+\b|\bSN\s*[=:]\s*[^\s),;]+", re.IGNORECASE)


def is_deidentified(record: SessionRecord) -> bool:
    """Whether ``record`` came from :func:`deidentify` (its times start at 0)."""
    return record.session.started_at == 0.0


def scrub(text: str, extra: Sequence[str] = ()) -> str:
    """``text`` with device ports, serial numbers and the strings in ``extra`` blanked."""
    for s in extra:
        if s:
            text = text.replace(s, "[device]")
    return _PORTS.sub("[device]", text)


def deidentify(record: SessionRecord, key: bytes | None = None) -> SessionRecord:
    """A copy of ``record`` fit to leave the clinic (see the module docstring).

    Parameters
    ----------
    record : SessionRecord
    key : bytes or None
        The data folder's :func:`pseudonym_key`; without it the patient
        reference is dropped with no pseudonym.
    """
    if is_deidentified(record):
        return record
    t0 = record.start
    port = record.session.source.partition(":")[2]
    extra = (port,) if record.session.source.startswith("serial:") else ()

    def rel(t: float | None) -> float | None:
        return None if t is None else t - t0

    def text(s: str) -> str:
        return scrub(s, extra)

    ref = record.patient_ref or (record.setup or {}).get("patient_ref")
    alias = pseudonym(str(ref), key) if ref and key is not None else None
    s = record.session
    setup = None
    if record.setup is not None:
        setup = dict(record.setup, patient_ref=alias, clinician=None, discharge_by=None,
                     discharge_at=rel(record.setup.get("discharge_at")),   # type: ignore[arg-type]
                     alarm_profile=_profile_name(record.setup.get("alarm_profile")))
    return replace(
        record,
        session=replace(s, started_at=0.0, ended_at=rel(s.ended_at),
                        last_data_at=rel(s.last_data_at), source=s.source.partition(":")[0]),
        patient_ref=alias, setup=setup,
        phases=[replace(p, start=p.start - t0, end=rel(p.end)) for p in record.phases],
        numerics={v: Series(x.t - t0, x.v, x.manual, x.quality)
                  for v, x in record.numerics.items()},
        pleth=(None if record.pleth is None
               else WaveSeries(record.pleth.t - t0, record.pleth.v, record.pleth.rate)),
        events=[replace(e, t=e.t - t0, author="", text=text(e.text)) for e in record.events],
        corrections=[replace(c, old_t=c.old_t - t0, new_t=c.new_t - t0, at=c.at - t0, by="")
                     for c in record.corrections],
        notes=[replace(n, t=n.t - t0, author="", text=text(n.text)) for n in record.notes],
        alarms=[replace(a, t=a.t - t0, by="", message=text(a.message)) for a in record.alarms],
        alarm_actions=[replace(a, t=a.t - t0, by="", detail=text(a.detail))
                       for a in record.alarm_actions],
        limit_changes=[replace(c, t=c.t - t0, by="") for c in record.limit_changes],
        infusion=[replace(i, t=i.t - t0, by="") for i in record.infusion],
        checklist=[replace(c, t=c.t - t0, by="") for c in record.checklist],
        alarm_profile=_profile_name(record.alarm_profile), utc_offset_s=None)


def _profile_name(name: object) -> str | None:
    """A profile's name without the file it came from (``"Name (/path/x.toml)"``)."""
    if name is None:
        return None
    return re.sub(r"\s*\([^()]*[/\\][^()]*\)\s*$", "", str(name))


def prepare(record: SessionRecord, deidentify_: bool, key: bytes | None) -> SessionRecord:
    """``record`` as a writer should see it: de-identified when asked."""
    return deidentify(record, key) if deidentify_ else record


# -- what happened when: one list for the EVENT track, EDF+ annotations ------------


@dataclass(frozen=True)
class Marker:
    """One timed happening of the session for a timeline (``duration`` None: an instant)."""

    t: float
    text: str
    duration: float | None = None


def timeline(record: SessionRecord) -> list[Marker]:
    """Phase starts, infusion actions, the nurse's events, alarms and discharge, in time order.

    Alarms appear once, from raised to cleared, at the highest priority they
    reached (``ALARM high: SpO2 87 < 92``); an alarm still active at the end
    has no duration.
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
    if record.setup and record.setup.get("discharge_at") is not None:
        out.append(Marker(float(record.setup["discharge_at"]), "Discharged"))  # type: ignore
    return sorted(out, key=lambda m: m.t)


def _alarm_marker(a: AlarmSpan) -> Marker:
    return Marker(a.start, f"ALARM {a.priority.label}: {a.message}",
                  None if a.end is None else a.end - a.start)


def data_end(record: SessionRecord) -> float:
    """The latest time of the session or any of its data."""
    ends = [record.end]
    ends += [float(s.t[-1]) for s in record.numerics.values() if len(s)]
    if record.pleth is not None and len(record.pleth):
        ends.append(float(record.pleth.t[-1]) + 1.0 / record.pleth.rate)
    return max(ends)


def has_values(series: Series) -> bool:
    """Whether a numeric series holds at least one value."""
    return bool(np.isfinite(series.v).any())


# -- safe writing -------------------------------------------------------------------

Writer = Callable[[Path], None]
"""Writes a complete file at the (temporary) path it is given."""
Check = Callable[[Path], None]
"""Checks the written (temporary) file, raising :class:`ExportError` if it is not complete."""

FILE_MODE = 0o600
"""Permissions of every export file: owner-only, whatever the umask."""


def atomic_write(path: Path, writer: Writer, *, check: Check | None = None) -> Path:
    """Write ``path`` through ``writer`` all at once, or not at all.

    Parameters
    ----------
    path : Path
    writer : callable
        Called with a temporary path in the same folder (same suffix); must
        leave a complete file there.
    check : callable, optional
        Called with the temporary path once it is written and fsynced; raises
        :class:`ExportError` (see :func:`short_file`) if the file is not whole.

    Raises
    ------
    ExportError
        Naming ``path`` and why (folder missing or not writable, disk full,
        the writer's own error). No file, temporary or final, is left.
    """
    atomic_write_all([(Path(path), writer, check)])
    return Path(path)


def atomic_write_all(items: Sequence[tuple[Path, Writer] | tuple[Path, Writer, Check | None]]
                     ) -> list[Path]:
    """Write several files all-or-nothing: they are renamed into place only when all are done."""
    jobs = [(Path(it[0]), it[1], it[2] if len(it) > 2 else None) for it in items]  # type: ignore[misc]
    for path, _, _ in jobs:
        check_target(path)
    done: list[tuple[Path, Path]] = []
    try:
        for path, writer, check in jobs:
            tmp = _temp_path(path)
            done.append((tmp, path))
            _run_writer(path, tmp, writer, check)
        for tmp, path in done:
            try:
                os.replace(tmp, path)
            except OSError as exc:
                raise ExportError(f"cannot write {path}: {_reason(exc)}") from exc
    except BaseException:
        for tmp, _ in done:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        raise
    for folder in {p.parent for p, _, _ in jobs}:
        _fsync_folder(folder)
    return [p for p, _, _ in jobs]


def check_target(path: Path) -> None:
    """Fail early, before any work, when ``path`` cannot be written."""
    path = Path(path)
    folder = path.parent
    if path.name in ("", ".", ".."):
        raise ExportError(f"cannot write {path}: not a file name")
    if not folder.is_dir():
        why = "is not a folder" if folder.exists() else "does not exist"
        raise ExportError(f"cannot write {path}: the folder {folder} {why}")
    if path.is_dir():
        raise ExportError(f"cannot write {path}: it is a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ExportError(f"cannot write {path}: the folder {folder} is not writable")
    if path.exists() and not os.access(path, os.W_OK):
        raise ExportError(f"cannot write {path}: the file exists and is read-only")


def short_file(tmp: Path, expected: int | None, what: str = "the file") -> ExportError:
    """The error for a file a library left incomplete without saying why (``expected`` bytes).

    The reason is the precise one where it can be told: the process's
    file-size limit was reached, or the disk has no room for the missing
    bytes ("the disk is full"); otherwise how much came out.
    """
    size = tmp.stat().st_size if tmp.exists() else 0
    return ExportError(f"cannot write {tmp}: {_short_reason(tmp, size, expected, what)}")


def _short_reason(tmp: Path, size: int, expected: int | None, what: str) -> str:
    try:
        import resource

        limit = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
        if limit != resource.RLIM_INFINITY and size >= limit:
            return _FILE_TOO_LARGE
    except (ImportError, OSError, ValueError):
        pass
    missing = None if expected is None else max(expected - size, 1)
    try:
        st = os.statvfs(tmp.parent)
        free = (st.f_bfree if os.geteuid() == 0 else st.f_bavail) * st.f_frsize
        if free < (missing if missing is not None else 64 * 1024):
            return "the disk is full"
    except (AttributeError, OSError):
        pass
    if expected is None:
        return f"{what} came out incomplete ({size} bytes)"
    return f"{what} came out incomplete ({size} of {expected} bytes)"


_FILE_TOO_LARGE = "the file is larger than this process may write (file size limit)"


def check_size(expected: int, what: str = "the file") -> Check:
    """A :data:`Check` that the file holds exactly ``expected`` bytes."""
    def check(tmp: Path) -> None:
        if tmp.stat().st_size != expected:
            raise short_file(tmp, expected, what)
    return check


def _temp_path(path: Path) -> Path:
    tmp = path.with_name(f".{path.stem}.{secrets.token_hex(4)}.partial{path.suffix}")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        try:
            os.fchmod(fd, FILE_MODE)        # exactly 0600, whatever the umask
        finally:
            os.close(fd)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise ExportError(f"cannot write {path}: {_reason(exc)}") from exc
    return tmp


def _run_writer(path: Path, tmp: Path, writer: Writer, check: Check | None) -> None:
    try:
        writer(tmp)
        with open(tmp, "rb+") as f:     # the bytes are on disk before the rename
            f.flush()
            os.fsync(f.fileno())
        if check is not None:
            check(tmp)
    except ExportError as exc:
        raise ExportError(str(exc).replace(str(tmp), str(path))) from exc
    except (KeyboardInterrupt, SystemExit):
        raise
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {_reason(exc)}") from exc
    except Exception as exc:  # noqa: BLE001 - a library's own error, reported with the path
        raise ExportError(f"cannot write {path}: {type(exc).__name__}: {exc}") from exc


def _fsync_folder(folder: Path) -> None:
    """Make the renames durable (not possible on every system: then skipped)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return "the disk is full"
        if exc.errno == errno.EFBIG:
            return _FILE_TOO_LARGE
        if exc.errno in (errno.EACCES, errno.EPERM):
            return "permission denied"
        if exc.errno == errno.EROFS:
            return "the disk is read-only"
        if exc.strerror:
            return exc.strerror[:1].lower() + exc.strerror[1:]
    return str(exc) or type(exc).__name__
