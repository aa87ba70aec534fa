"""A session as a ``.vital`` file (written with the ``vitaldb`` library), for VitalRecorder.

Tracks
------
All on one device, ``Monitor`` (``vitaldb.VitalFile(path).trks`` keys are
``"Monitor/<track>"``), except the event track:

============  =========================  =======  =====
track         vital                      type     montype
============  =========================  =======  =====
HR            HR (ECG)                   NUM      2 ECG HR
PLETH_HR      pulse rate (oximeter)      NUM      9 PLETH HR
PLETH_SPO2    SpO2                       NUM      10 PLETH SpO2
NIBP_SBP      NIBP systolic              NUM      16
NIBP_DBP      NIBP diastolic             NUM      17
NIBP_MBP      NIBP mean                  NUM      18
RR            respiration rate           NUM      12 RESP RR
ETCO2         EtCO2                      NUM      15 CO2 conc
BT            temperature                NUM      19 body temp
PLETH         pleth wave                 WAV      8 PLETH wave
other         ``Vital`` name upper-case  NUM      0 (e.g. ``P1_SYS``, ``ST1``)
============  =========================  =======  =====

- NUM tracks are sparse: one record per reading that carried a value, at
  its time (float32 values, float64 times). Readings with no value are left
  out; a vital that never had a value has no track. Units are the display
  units, the display range the vital's plausible range.
- The pleth is one WAV track at its recorded rate; gaps between recorded
  runs are NaN (vitaldb's packed form).
- ``EVENT`` (the recorder's own track, device 0) holds the session's
  timeline (:func:`monitor.export.common.timeline`): phase starts, infusion
  actions, the nurse's events (``Nausea: mild``), alarms when raised
  (``ALARM high: SpO2 87 < 92``) and the discharge.

Times are Unix seconds and the header's time-zone bias is the recording
PC's (from its UTC offset). The device's port field holds the session's
source (``serial:/dev/ttyUSB0``, ``sim:typical``).

De-identified (``deidentify=True``): times are seconds from the session
start (the file starts at t = 0, bias 0) and the port field is empty. The
gzip header of every .vital file carries no time stamp (MTIME 0) and no
file name (the name the file was written under is left out).
"""

from __future__ import annotations

import gzip
import warnings
import zlib
from pathlib import Path

import numpy as np

from monitor.core.vitals import SPECS, Vital
from monitor.export.common import (
    ExportError,
    Progress,
    atomic_write,
    check_target,
    data_end,
    is_deidentified,
    prepare,
    report,
    short_file,
    timeline,
)
from monitor.review.record import SessionRecord, WaveSeries

with warnings.catch_warnings():
    # vitaldb imports wfdb, which calls pandas with an argument pandas 3.1 deprecates.
    warnings.simplefilter("ignore", DeprecationWarning)
    import vitaldb

DEVICE = "Monitor"
EVENT_TRACK = "EVENT"
PLETH_TRACK = "PLETH"
PLETH_MONTYPE = 8

TRACKS: dict[Vital, tuple[str, int]] = {
    Vital.HR: ("HR", 2),
    Vital.PULSE_RATE: ("PLETH_HR", 9),
    Vital.SPO2: ("PLETH_SPO2", 10),
    Vital.NIBP_SYS: ("NIBP_SBP", 16),
    Vital.NIBP_DIA: ("NIBP_DBP", 17),
    Vital.NIBP_MEAN: ("NIBP_MBP", 18),
    Vital.RESP_RATE: ("RR", 12),
    Vital.ETCO2: ("ETCO2", 15),
    Vital.TEMP: ("BT", 19),
}
"""Track name and VitalRecorder montype of the vitals that have one; others: NAME, 0."""


def track_name(vital: Vital) -> str:
    """The track of ``vital`` (without the device), e.g. ``PLETH_SPO2`` or ``P1_SYS``."""
    return TRACKS.get(vital, (vital.value.upper(), 0))[0]


def montype(vital: Vital) -> int:
    """VitalRecorder's monitoring type code for ``vital`` (0 when it has none)."""
    return TRACKS.get(vital, ("", 0))[1]


def write_vital(record: SessionRecord, path: Path, *, deidentify: bool = False,
                key: bytes | None = None, progress: Progress | None = None) -> Path:
    """Write ``record`` as a .vital file at ``path`` (see the module docstring).

    Raises
    ------
    monitor.export.common.ExportError
        If the file cannot be written; nothing is left behind.
    """
    path = Path(path)
    check_target(path)
    anon = deidentify or is_deidentified(record)
    rec = prepare(record, deidentify, key)
    vf = _build(rec, anon, progress)
    atomic_write(path, lambda tmp: _save(vf, tmp))
    report(progress, 1, 1)
    return path


def _build(rec: SessionRecord, anon: bool, progress: Progress | None) -> vitaldb.VitalFile:
    vf = vitaldb.VitalFile()
    vf.dtstart = rec.start
    vf.dtend = data_end(rec)
    vf.dgmt = -int((rec.utc_offset_s or 0) // 60)   # minutes, UTC = local + bias
    vf.add_device(DEVICE, typename="InfusionMonitor",
                  port="" if anon else rec.session.source)
    vitals = [v for v in Vital if v in rec.numerics]
    total = len(vitals) + 2
    for i, v in enumerate(vitals):
        t, val = rec.numerics[v].valid()
        if len(t):
            lo, hi = SPECS[v].plausible
            recs = [{"dt": float(a), "val": float(b)} for a, b in zip(t, val, strict=True)]
            trk = vf.add_track(f"{DEVICE}/{track_name(v)}", recs, unit=SPECS[v].unit,
                               mindisp=lo, maxdisp=hi)
            trk.montype = montype(v)
        report(progress, i + 1, total)
    if rec.pleth is not None and len(rec.pleth):
        _add_pleth(vf, rec.pleth)
    report(progress, total - 1, total)
    events = [{"dt": m.t, "val": m.text} for m in timeline(rec)]
    if events:
        vf.add_track(EVENT_TRACK, events)
    return vf


def _add_pleth(vf: vitaldb.VitalFile, w: WaveSeries) -> None:
    gaps = np.flatnonzero(np.isnan(w.v))
    bounds = np.concatenate(([-1], gaps, [len(w.v)]))
    recs = [{"dt": float(w.t[a]), "val": np.ascontiguousarray(w.v[a:b], dtype=np.float32)}
            for a, b in zip(bounds[:-1] + 1, bounds[1:], strict=True) if b > a]
    if not recs:
        return
    finite = w.v[np.isfinite(w.v)]
    lo, hi = (float(finite.min()), float(finite.max())) if len(finite) else (0.0, 1.0)
    trk = vf.add_track(f"{DEVICE}/{PLETH_TRACK}", recs, srate=w.rate, unit="",
                       mindisp=lo, maxdisp=hi)
    trk.montype = PLETH_MONTYPE


def _save(vf: vitaldb.VitalFile, tmp: Path) -> None:
    if vf.to_vital(str(tmp), compresslevel=6) is False:
        raise ExportError(f"vitaldb could not write {tmp}")
    data = _plain_gzip_header(tmp.read_bytes(), tmp)
    with open(tmp, "wb") as f:        # Python raises on a full disk
        f.write(data)
    _check_gzip(tmp, len(data))


def _plain_gzip_header(data: bytes, tmp: Path) -> bytes:
    """``data`` (one gzip member) without a time stamp (MTIME 0) or a file name (no FNAME).

    Python's gzip puts the name it wrote to (here the temporary file, made of
    the name the user chose) in the header; it names nothing in the export.
    """
    if data[:3] != b"\x1f\x8b\x08" or len(data) < 18:
        raise ExportError(f"vitaldb wrote {tmp} without a gzip header")
    flags = data[3]
    if flags & ~_FNAME & 0xFF:       # FEXTRA, FCOMMENT, FHCRC: not what Python writes
        raise ExportError(f"unexpected gzip header flags {flags:#x} in {tmp}")
    body = 10
    if flags & _FNAME:
        body = data.index(b"\0", 10) + 1
    return data[:3] + b"\0" + b"\0\0\0\0" + data[8:10] + data[body:]


_FNAME = 0x08


def _check_gzip(tmp: Path, expected: int) -> None:
    """The file is whole: its size, then gzip's own length and CRC when read back."""
    if tmp.stat().st_size != expected:
        raise short_file(tmp, expected, "the .vital file")
    try:
        with gzip.open(tmp, "rb") as g:
            while g.read(1 << 20):
                pass
    except (OSError, EOFError, zlib.error) as exc:
        raise ExportError(f"cannot write {tmp}: the file reads back damaged ({exc})") from exc
