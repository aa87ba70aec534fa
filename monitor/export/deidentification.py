"""De-identification for every export: pseudonyms, relative times, no names or device ids.

:func:`deidentify` makes the copy of a record fit to leave the clinic, with
the data folder's :func:`pseudonym_key`. The rules are described in
:mod:`monitor.export.common` (*De-identification*), which imports these names too.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from monitor.export.safe_writing import ExportError, _reason
from monitor.review.record import SessionRecord, WaveSeries

KEY_FILE = "pseudonym.key"
"""Name of the per-data-folder pseudonym secret (64 hex digits)."""


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

_PORTS = re.compile(r"/dev/[^\s),;]+|\bCOM\d+\b|\bSN\s*[=:]\s*[^\s),;]+"
                    r"|(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?(?![\w.])"
                    r"|\[[0-9a-f:]*:[0-9a-f:]*\](?::\d+)?", re.IGNORECASE)
"""Ports, serial numbers, IPv4 addresses (with a port) and bracketed IPv6 addresses."""


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
    rows = _source_rows(record)
    extra = _addresses([record.session.source, *(str(r.label or "") for r in rows)])

    def rel(t: float | None) -> float | None:
        return None if t is None else t - t0

    def text(s: str) -> str:
        return scrub(s, extra)

    def series(numerics: dict) -> dict:
        return {v: replace(x, t=x.t - t0) for v, x in numerics.items()}

    def wave(w: WaveSeries | None) -> WaveSeries | None:
        return None if w is None else replace(w, t=w.t - t0)

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
                        last_data_at=rel(s.last_data_at), source=_source_kind(s.source, rows)),
        patient_ref=alias, setup=setup,
        phases=[replace(p, start=p.start - t0, end=rel(p.end)) for p in record.phases],
        numerics=series(record.numerics), pleth=wave(record.pleth),
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
        device_numerics=[replace(n, t=n.t - t0, device_time=None)
                         for n in record.device_numerics],
        alarm_profile=_profile_name(record.alarm_profile), utc_offset_s=None,
        **_sourced(record, t0, series, wave))


def _source_rows(record: SessionRecord) -> tuple:
    """The session's source rows, from the export's devices or the record's own."""
    devices = getattr(record, "devices", None)
    if devices is not None:
        return tuple(devices.sources)
    return tuple(getattr(record, "sources", None) or ())


def _source_kind(text: str, rows: Sequence) -> str:
    """The session's source text with only the kind of each source.

    ``serial`` for ``serial:/dev/ttyUSB0``; ``Masimo (serial) + Datex S/5 (lan)``
    for a session of several sources.
    """
    if len(rows) > 1:
        return " + ".join(f"{r.name} ({str(r.label or '').partition(':')[0]})" for r in rows)
    return text.partition(":")[0]


def _sourced(record: SessionRecord, t0: float, series, wave) -> dict[str, object]:
    """The per-source parts of ``record`` de-identified: whichever the record has.

    A source keeps its name, protocol, kind and clock offset; its label
    keeps only its kind (``serial``, ``lan``, ``sim``) and its settings
    (listener options, which may hold addresses and file names) go. Every
    time is moved as the others are.
    """
    def row(r):
        return replace(r, label=str(r.label or "").partition(":")[0], settings=None,
                       clock_offset_at=None if r.clock_offset_at is None
                       else r.clock_offset_at - t0)

    def moved(items):
        return [replace(x, t=x.t - t0) for x in items]

    out: dict[str, object] = {}
    devices = getattr(record, "devices", None)
    if devices is not None:
        out["devices"] = replace(
            devices, sources=tuple(row(r) for r in devices.sources),
            numerics={name: series(n) for name, n in devices.numerics.items()},
            pleth={name: wave(w) for name, w in devices.pleth.items()},
            typed=series(devices.typed), selections=tuple(moved(devices.selections)))
    # The review's record of a session of several sources (its own fields, when it has them).
    if getattr(record, "sources", None):
        out["sources"] = type(record.sources)(row(r) for r in record.sources)  # type: ignore
    if getattr(record, "by_source", None):
        out["by_source"] = {name: series(n) for name, n in record.by_source.items()}  # type: ignore
    for name in ("selections", "clock_offsets"):
        items = getattr(record, name, None)
        if items:
            out[name] = type(items)(moved(items))
    return out


def _addresses(labels: Sequence[str]) -> tuple[str, ...]:
    """What names a port, host or file in source labels (``serial:/dev/ttyUSB0``, ``lan:host``).

    The whole of what follows the kind, and the host without its port.
    """
    out: set[str] = set()
    for label in labels:
        kind, _, rest = label.partition(":")
        if not rest or kind == "sim" or rest == "discover":
            continue
        out.add(rest)
        host, _, port = rest.rpartition(":")
        if host and port.isdigit():
            out.add(host)
    return tuple(sorted(out, key=len, reverse=True))


def _profile_name(name: object) -> str | None:
    """A profile's name without the file it came from (``"Name (/path/x.toml)"``)."""
    if name is None:
        return None
    return re.sub(r"\s*\([^()]*[/\\][^()]*\)\s*$", "", str(name))


def prepare(record: SessionRecord, deidentify_: bool, key: bytes | None) -> SessionRecord:
    """``record`` as a writer should see it: de-identified when asked."""
    return deidentify(record, key) if deidentify_ else record
