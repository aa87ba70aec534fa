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
from monitor.review.record import Series, SessionRecord, WaveSeries

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
        device_numerics=[replace(n, t=n.t - t0, device_time=None)
                         for n in record.device_numerics],
        alarm_profile=_profile_name(record.alarm_profile), utc_offset_s=None)


def _profile_name(name: object) -> str | None:
    """A profile's name without the file it came from (``"Name (/path/x.toml)"``)."""
    if name is None:
        return None
    return re.sub(r"\s*\([^()]*[/\\][^()]*\)\s*$", "", str(name))


def prepare(record: SessionRecord, deidentify_: bool, key: bytes | None) -> SessionRecord:
    """``record`` as a writer should see it: de-identified when asked."""
    return deidentify(record, key) if deidentify_ else record
