"""A session as a ``.vital`` file (written with the ``vitaldb`` library), for VitalRecorder.

Devices and tracks
------------------
A session of one source: all on one device, ``Monitor``
(``vitaldb.VitalFile(path).trks`` keys are ``"Monitor/<track>"``), except
the event track. A session of several sources: one device per source, as
VitalRecorder records each device it is connected to (see *Several
sources* below). The tracks:

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

Several sources
---------------
Each source of the session is a device (a DEVINFO packet; each of its
tracks carries that device's id), named as the source (``Masimo``,
``Datex S-5``: a ``/``, which separates device and track in vitaldb's
names, becomes ``-``; a name already taken gets `` 2``...), with the
source's protocol as its type name (``masimo-ascii``; ``InfusionMonitor``
when it has none) and the source as given as its port
(``serial:/dev/ttyUSB0``). Each device has the tracks of its own readings
and its own pleth, with the same names as above: ``"Masimo/PLETH_SPO2"``
and ``"Datex S-5/PLETH_SPO2"``. Values typed in by the nurse are on a
device of their own, ``Manual`` (type name ``InfusionMonitor``, no port).
The ``EVENT`` track also says which device was shown and alarmed for each
vital at the start and at each change (``SpO2 from Masimo``, ``SpO2 from
Datex S/5: Masimo stale``).

De-identified (``deidentify=True``): times are seconds from the session
start (the file starts at t = 0, bias 0) and every port field is empty. The
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
    MANUAL_SOURCE,
    Devices,
    ExportError,
    Progress,
    atomic_write,
    check_target,
    data_end,
    devices,
    is_deidentified,
    prepare,
    report,
    short_file,
    timeline,
)
from monitor.review.record import Series, SessionRecord, WaveSeries

with warnings.catch_warnings():
    # vitaldb imports wfdb, which calls pandas with an argument pandas 3.1 deprecates.
    warnings.simplefilter("ignore", DeprecationWarning)
    import vitaldb

DEVICE = "Monitor"
"""The one device of a session of one source."""
TYPENAME = "InfusionMonitor"
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


def device_names(devs: Devices) -> dict[str, str]:
    """The .vital device of each source of a session of several (see the module docstring)."""
    out: dict[str, str] = {}
    taken = {MANUAL_SOURCE}
    for r in devs.sources:
        base = r.name.replace("/", "-").strip() or DEVICE
        dev, n = base, 1
        while dev in taken:
            n += 1
            dev = f"{base} {n}"
        taken.add(dev)
        out[r.name] = dev
    return out


def _build(rec: SessionRecord, anon: bool, progress: Progress | None) -> vitaldb.VitalFile:
    vf = vitaldb.VitalFile()
    vf.dtstart = rec.start
    vf.dtend = data_end(rec)
    vf.dgmt = -int((rec.utc_offset_s or 0) // 60)   # minutes, UTC = local + bias
    devs = devices(rec)
    if devs is not None:
        _add_devices(vf, devs, anon, progress)
    else:
        vf.add_device(DEVICE, typename=TYPENAME, port="" if anon else rec.session.source)
        vitals = [v for v in Vital if v in rec.numerics]
        total = len(vitals) + 2
        for i, v in enumerate(vitals):
            _add_numeric(vf, DEVICE, v, rec.numerics[v])
            report(progress, i + 1, total)
        if rec.pleth is not None and len(rec.pleth):
            _add_pleth(vf, DEVICE, rec.pleth)
        report(progress, total - 1, total)
    events = [{"dt": m.t, "val": m.text} for m in timeline(rec)]
    if events:
        vf.add_track(EVENT_TRACK, events)
    return vf


def _add_devices(vf: vitaldb.VitalFile, devs: Devices, anon: bool,
                 progress: Progress | None) -> None:
    names = device_names(devs)
    parts = [*((names[r.name], devs.numerics.get(r.name, {})) for r in devs.sources),
             (MANUAL_SOURCE, devs.typed)]
    total = sum(len(n) for _, n in parts) + 2
    done = 0
    for r in devs.sources:
        vf.add_device(names[r.name], typename=r.protocol or TYPENAME,
                      port="" if anon else r.label)
    if devs.typed:
        vf.add_device(MANUAL_SOURCE, typename=TYPENAME, port="")
    for device, numerics in parts:
        for v in [v for v in Vital if v in numerics]:
            _add_numeric(vf, device, v, numerics[v])
            done += 1
            report(progress, done, total)
    for r in devs.sources:
        w = devs.pleth.get(r.name)
        if w is not None and len(w):
            _add_pleth(vf, names[r.name], w)
    report(progress, total - 1, total)


def _add_numeric(vf: vitaldb.VitalFile, device: str, v: Vital, s: Series) -> None:
    """A sparse NUM track of the values of ``s`` (none when it has none)."""
    t, val = s.valid()
    if len(t):
        lo, hi = SPECS[v].plausible
        recs = [{"dt": float(a), "val": float(b)} for a, b in zip(t, val, strict=True)]
        trk = vf.add_track(f"{device}/{track_name(v)}", recs, unit=SPECS[v].unit,
                           mindisp=lo, maxdisp=hi)
        trk.montype = montype(v)


def _add_pleth(vf: vitaldb.VitalFile, device: str, w: WaveSeries) -> None:
    gaps = np.flatnonzero(np.isnan(w.v))
    bounds = np.concatenate(([-1], gaps, [len(w.v)]))
    recs = [{"dt": float(w.t[a]), "val": np.ascontiguousarray(w.v[a:b], dtype=np.float32)}
            for a, b in zip(bounds[:-1] + 1, bounds[1:], strict=True) if b > a]
    if not recs:
        return
    finite = w.v[np.isfinite(w.v)]
    lo, hi = (float(finite.min()), float(finite.max())) if len(finite) else (0.0, 1.0)
    trk = vf.add_track(f"{device}/{PLETH_TRACK}", recs, srate=w.rate, unit="",
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
