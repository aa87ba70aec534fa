"""A session as one EDF+ file (written with pyedflib), for EDFbrowser, MNE and the like.

Layout
------
- **EDF+C** (continuous), 1-second data records (longer only if the pleth
  rate is not a whole number of Hz), 16-bit samples. Time 0 of the file is
  the whole second at or before the session start.
- One signal per numeric vital that had a value in the session, in
  ``monitor.core.vitals.Vital`` order, **1 Hz sample-and-hold**: the sample
  at second k holds the last reading that arrived at or before k s (to the
  millisecond). A continuous vital (HR, SpO2...) is held for at most 10 s
  (the live view's stale time), an NIBP determination until the next one.
  A reading with no value ends the hold at once.
- ``Pleth`` at its recorded rate (100 Hz usually), each sample at its
  recorded time.
- Labels are the vitals' short labels (``HR``, ``SpO2``, ``NIBP sys``...),
  physical dimensions their units in ASCII (``degC`` for °C). A session of
  one source has these signals and labels, whatever its source is called.
- Physical range: from the vital's plausible range (``VitalSpec.plausible``;
  for the pleth, the range of the recorded samples), widened to a round
  quantisation step so that the plausible minimum is digital -32767 and
  the plausible maximum fits below +32767. Values are within half a step
  of the recording (e.g. 0.005 bpm, 0.002 % SpO2).

Several sources
---------------
A session of several sources has one signal per vital and device that
sent a value of it, in ``Vital`` order, then the order of the session's
sources, each with that device's own readings only, labelled ``<vital
label> <device>`` within EDF's 16 characters (``SpO2 Masimo``, ``NIBP sys
Datex S``): the vital's label is never cut, the device's name is cut to the
room left (a trailing number is kept: ``NIBP sys Intel 2``), and should two
labels still read alike the later one ends in ``~<its position>``. The
transducer field names the device in full with its protocol (``Datex S/5
(datex-s5)``). Values typed in by the nurse are signals of their own,
``<vital label> Manual`` (transducer ``typed in by the nurse``); the pleth
of each device is ``Pleth <device>``. Which device was shown and alarmed for
each vital, at the start and at each change, are annotations (``SpO2 from
Masimo``, ``SpO2 from Datex S/5: Masimo stale``).

Missing data
------------
**Digital -32768** (each signal's digital minimum) marks "no data": before a
vital's first reading, after a hold ends, while the device sent no value,
and in gaps of the pleth. No recorded value maps there (the plausible
minimum is -32767), so a reader that converts to physical units sees the
physical minimum, just below the plausible range. The marker is also stated
in the header (recording field ``missing=-32768``) and in an annotation at
time 0 (``Missing data: digital -32768``).

Annotations
-----------
The "EDF Annotations" signal holds the session's timeline
(:func:`monitor.export.common.timeline`): phase starts, infusion actions,
the nurse's events (``Nausea: mild``), each alarm from raised to cleared
(onset and duration; ``ALARM high: SpO2 87 < 92``) and the discharge.
EDFlib keeps at most 40 bytes (UTF-8) of each text: longer ones end in
``...``; the CSV export has them whole.

Header
------
Patient field: code = the patient reference (spaces as ``_``), the rest
``X``. Recording field: start date, admin code ``session_<id>``, technician
``X``, equipment ``InfusionMonitor``, then ``missing=-32768`` (EDFlib keeps
64 characters of this field, too few for the clinician's name as well). The
start date and time are the recording PC's local time.

De-identified (``deidentify=True``): patient code = the pseudonym (or ``X``),
no session id, start date ``01.01.85`` 00.00.00 and
``Startdate X`` in the recording field, as EDF+ prescribes for anonymised
files; onsets stay relative to the session start.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pyedflib

from monitor.core.freshness import DEFAULT_STALE_AFTER_S
from monitor.core.vitals import SPECS, Kind, Vital
from monitor.export.common import (
    MANUAL_SOURCE,
    Devices,
    ExportError,
    Progress,
    atomic_write,
    check_target,
    data_end,
    devices,
    has_values,
    is_deidentified,
    prepare,
    report,
    short_file,
    source_text,
    steps,
    timeline,
)
from monitor.review.record import Series, SessionRecord, WaveSeries

MISSING = -32768
"""Digital value meaning "no data" in every signal."""
DIGITAL_MAX = 32767
NUMERIC_HZ = 1
HOLD_S = DEFAULT_STALE_AFTER_S
"""How long a continuous vital's last reading is held (s); NIBP is held until the next one."""
ANNOTATION_BYTES = 40
"""EDFlib's limit on the text of one annotation (UTF-8 bytes)."""
MISSING_NOTE = f"Missing data: digital {MISSING}"
ANON_START = datetime(1985, 1, 1)
EQUIPMENT = "InfusionMonitor"
LABEL_CHARS = 16
"""EDF's signal label length."""
TYPED_TRANSDUCER = "typed in by the nurse"


@dataclass(frozen=True)
class Scale:
    """Physical <-> digital mapping of one signal: digital ``d`` is ``pmin + (d + 32768)*step``."""

    pmin: float
    pmax: float
    step: float

    def digital(self, v: np.ndarray) -> np.ndarray:
        """int16 samples of physical values ``v`` (NaN -> :data:`MISSING`)."""
        ok = np.isfinite(v)
        d = np.full(len(v), MISSING, dtype=np.int16)
        q = np.rint((v[ok] - self.pmin) / self.step) + MISSING
        d[ok] = np.clip(q, MISSING + 1, DIGITAL_MAX).astype(np.int16)
        return d


def scale_for(lo: float, hi: float) -> Scale:
    """A scale putting ``lo`` at digital -32767 or above and ``hi`` at +32767 or below.

    The step is a round number (1, 2 or 5 x 10^k) and the physical limits
    fit the header's 8 characters exactly.
    """
    if not hi > lo:
        lo, hi = lo - 0.5, lo + 0.5
    raw = (hi - lo) / (DIGITAL_MAX - (MISSING + 1) - 1)
    exp = math.floor(math.log10(raw))
    for _ in range(40):
        for m in (1, 2, 5):
            step = m * 10.0 ** exp
            if step < raw:
                continue
            dec = max(0, -exp)
            pmin = round((math.floor(lo / step) - 1) * step, dec)
            pmax = round(pmin + (DIGITAL_MAX - MISSING) * step, dec)
            if pmin <= lo - step * 0.999 and pmax >= hi and \
                    len(str(header_number(pmin))) <= 8 and len(str(header_number(pmax))) <= 8:
                return Scale(pmin, pmax, (pmax - pmin) / (DIGITAL_MAX - MISSING))
        exp += 1
    raise ExportError(f"no EDF scale fits the range {lo:g} to {hi:g}")


def header_number(x: float) -> float | int:
    """``x`` as handed to the header: whole numbers as int (``-1000050``, not ``-1000050.0``)."""
    return int(x) if float(x).is_integer() else x


def hold(t: np.ndarray, v: np.ndarray, n: int, hz: float, limit_s: float | None) -> np.ndarray:
    """Sample-and-hold of readings (times ``t`` in s from the file start) at ``hz``, ``n`` samples.

    Reading times are rounded to the millisecond first. NaN where there is
    no reading yet, the last one had no value, or it is older than ``limit_s``.
    """
    k = np.arange(n) / hz
    t_ms = np.round(t, 3)          # a reading counts from its millisecond (as in the CSV)
    idx = np.searchsorted(t_ms, k, side="right") - 1
    out = np.full(n, np.nan)
    have = idx >= 0
    out[have] = v[idx[have]]
    if limit_s is not None:
        out[have & (k - t_ms[np.maximum(idx, 0)] > limit_s)] = np.nan
    return out


def place_wave(w: WaveSeries, origin: float, n: int) -> np.ndarray:
    """The wave on a regular grid of ``n`` samples from ``origin`` (NaN where there is none).

    Each run between gaps is laid down sample after sample from its first
    sample's time, as it was recorded.
    """
    out = np.full(n, np.nan, dtype=np.float64)
    gaps = np.flatnonzero(np.isnan(w.v))
    bounds = np.concatenate(([-1], gaps, [len(w.v)]))
    for a, b in zip(bounds[:-1] + 1, bounds[1:], strict=True):
        if b <= a:
            continue
        i0 = round((float(w.t[a]) - origin) * w.rate)
        lo, hi = max(i0, 0), min(i0 + (b - a), n)
        if hi > lo:
            out[lo:hi] = w.v[a + lo - i0:a + hi - i0]
    return out


def ascii_field(text: str, limit: int) -> str:
    """An EDF+ header subfield: printable ASCII, no spaces, at most ``limit`` characters."""
    return _printable(text.strip()).replace(" ", "_")[:limit] or "X"


def _printable(text: str) -> str:
    return "".join(c if 32 <= ord(c) < 127 else "_" for c in text)


def annotation_text(text: str) -> str:
    """``text`` cut to :data:`ANNOTATION_BYTES` UTF-8 bytes, ending in ``...`` if cut."""
    raw = text.encode("utf-8")
    if len(raw) <= ANNOTATION_BYTES:
        return text
    return raw[:ANNOTATION_BYTES - 3].decode("utf-8", errors="ignore") + "..."


@dataclass(frozen=True)
class _Signal:
    label: str
    dimension: str
    hz: float
    scale: Scale
    vital: Vital | None
    series: Series | WaveSeries
    transducer: str = ""


def _numeric(v: Vital, s: Series, label: str, transducer: str = "") -> _Signal:
    sp = SPECS[v]
    return _Signal(label, _printable(sp.unit.replace("°", "deg"))[:8], NUMERIC_HZ,
                   scale_for(*sp.plausible), v, s, _printable(transducer)[:80])


def _pleth(w: WaveSeries, label: str, transducer: str = "") -> _Signal:
    lo, hi = float(np.nanmin(w.v)), float(np.nanmax(w.v))
    return _Signal(label, "", w.rate, scale_for(lo, hi), None, w, _printable(transducer)[:80])


def _signals(rec: SessionRecord) -> list[_Signal]:
    devs = devices(rec)
    if devs is not None:
        return _device_signals(devs)
    out = []
    for v in Vital:
        s = rec.numerics.get(v)
        if s is None or not has_values(s):
            continue
        out.append(_numeric(v, s, _printable(SPECS[v].label)[:LABEL_CHARS]))
    if rec.pleth is not None and np.isfinite(rec.pleth.v).any():
        out.append(_pleth(rec.pleth, "Pleth"))
    return out


def _device_signals(devs: Devices) -> list[_Signal]:
    out = []
    for v in Vital:
        for r in devs.sources:
            s = devs.numerics.get(r.name, {}).get(v)
            if s is not None and has_values(s):
                out.append(_numeric(v, s, signal_label(SPECS[v].label, r.name), source_text(r)))
        s = devs.typed.get(v)
        if s is not None and has_values(s):
            out.append(_numeric(v, s, signal_label(SPECS[v].label, MANUAL_SOURCE),
                                TYPED_TRANSDUCER))
    for r in devs.sources:
        w = devs.pleth.get(r.name)
        if w is not None and np.isfinite(w.v).any():
            out.append(_pleth(w, signal_label("Pleth", r.name), source_text(r)))
    labels = unique_labels([s.label for s in out])
    return [replace(s, label=label) for s, label in zip(out, labels, strict=True)]


def signal_label(vital_label: str, device: str, room: int = LABEL_CHARS) -> str:
    """``<vital label> <device>`` within ``room`` characters, the device's name cut to fit.

    The vital's label is kept whole; the device's name is cut, keeping a
    trailing number (``IntelliVue 2``) whole.
    """
    vital_label = _printable(vital_label)[:room]
    device = " ".join(_printable(device).split())
    left = room - len(vital_label) - 1
    if left <= 0 or not device:
        return vital_label
    return f"{vital_label} {_cut(device, left)}"


def _cut(name: str, room: int) -> str:
    if len(name) <= room:
        return name
    base, _, number = name.rpartition(" ")
    if base and number.isdigit() and len(number) + 2 <= room:
        return f"{base[:room - len(number) - 1].rstrip()} {number}"
    return name[:room].rstrip()


def unique_labels(labels: list[str]) -> list[str]:
    """The labels, one that repeats an earlier one ending in ``~<position>`` (1-based)."""
    out: list[str] = []
    for i, label in enumerate(labels):
        if label in out:
            tag = f"~{i + 1}"
            label = label[:LABEL_CHARS - len(tag)].rstrip() + tag
        out.append(label)
    return out


def write_edf(record: SessionRecord, path: Path, *, deidentify: bool = False,
              key: bytes | None = None, progress: Progress | None = None) -> Path:
    """Write ``record`` as EDF+ at ``path`` (see the module docstring).

    Raises
    ------
    monitor.export.common.ExportError
        If the file cannot be written (nothing is left behind), or the
        session has no signal to write.
    """
    path = Path(path)
    check_target(path)
    rec = prepare(record, deidentify, key)
    signals = _signals(rec)
    if not signals:
        raise ExportError(f"cannot write {path}: session {record.session_id} has no recorded "
                          "values to put in an EDF file")
    anon = deidentify or is_deidentified(record)
    atomic_write(path, lambda tmp: _write(rec, tmp, signals, anon, progress))
    return path


def _write(rec: SessionRecord, tmp: Path, signals: list[_Signal], anon: bool,
           progress: Progress | None) -> None:
    origin = float(math.floor(rec.start))
    markers = timeline(rec)
    w = pyedflib.EdfWriter(str(tmp), len(signals), file_type=pyedflib.FILETYPE_EDFPLUS)
    try:
        w.setSignalHeaders([{
            "label": s.label, "dimension": s.dimension, "sample_frequency": s.hz,
            "physical_min": header_number(s.scale.pmin),
            "physical_max": header_number(s.scale.pmax),
            "digital_min": MISSING, "digital_max": DIGITAL_MAX,
            "transducer": s.transducer, "prefilter": ""} for s in signals])
        _header(w, rec, anon)
        dur = float(w.record_duration)
        spr = [w.get_smp_per_record(i) for i in range(len(signals))]
        end = max([data_end(rec)] + [m.t + (m.duration or 0.0) for m in markers])
        n_rec = max(1, math.floor((end - origin) / dur) + 1, -(-(len(markers) + 1) // 63))
        w.set_number_of_annotation_signals(min(64, -(-(len(markers) + 1) // n_rec) + 1))
        block = np.empty((n_rec, sum(spr)), dtype=np.int16)
        col = 0
        for s, k in zip(signals, spr, strict=True):
            block[:, col:col + k] = s.scale.digital(_samples(rec, s, origin, n_rec * k,
                                                             k / dur)).reshape(n_rec, k)
            col += k
        for a, b in steps(n_rec):
            for r in range(a, b):
                if w.blockWriteDigitalShortSamples(block[r]) != 0:
                    raise ExportError(f"EDFlib refused data record {r}")
            report(progress, b, n_rec)
        w.writeAnnotation(0, -1, MISSING_NOTE)
        for m in markers:
            w.writeAnnotation(max(0.0, m.t - origin), -1 if m.duration is None else m.duration,
                              annotation_text(m.text))
    finally:
        w.close()
    if anon:
        _anonymise_startdate(tmp)
    _check(tmp, n_rec, len(signals), len(markers) + 1)


def _check(tmp: Path, n_rec: int, n_signals: int, n_annotations: int) -> None:
    """The file EDFlib wrote is whole (EDFlib says nothing when a write fails).

    Its size must match its own header (header bytes + records x record
    bytes, for the number of records written), and pyedflib must read back
    every signal, record and annotation.
    """
    raw = _header_bytes(tmp)
    try:
        header_len = int(raw[184:192])
        ns = int(raw[252:256])
        spr_at = 256 + ns * 216
        spr = [int(raw[spr_at + 8 * i:spr_at + 8 * i + 8]) for i in range(ns)]
    except ValueError:
        raise short_file(tmp, None, "the EDF file") from None
    expected = header_len + n_rec * 2 * sum(spr)
    if len(raw) < header_len or tmp.stat().st_size != expected:
        raise short_file(tmp, expected, "the EDF file")
    try:
        r = pyedflib.EdfReader(str(tmp))
    except OSError as exc:
        raise ExportError(f"cannot write {tmp}: the file reads back damaged ({exc})") from exc
    try:
        got = (r.datarecords_in_file, r.signals_in_file, len(r.readAnnotations()[0]))
    finally:
        r.close()
    if got != (n_rec, n_signals, n_annotations):
        raise ExportError(f"cannot write {tmp}: the file reads back with {got[0]} records, "
                          f"{got[1]} signals and {got[2]} annotations instead of {n_rec}, "
                          f"{n_signals} and {n_annotations}")


def _header_bytes(tmp: Path) -> bytes:
    with open(tmp, "rb") as f:
        head = f.read(256)
        if len(head) < 256:
            return head
        try:
            ns = int(head[252:256])
        except ValueError:
            return head
        return head + f.read(ns * 256)


def _samples(rec: SessionRecord, s: _Signal, origin: float, n: int, hz: float) -> np.ndarray:
    if s.vital is None:
        assert isinstance(s.series, WaveSeries)
        return place_wave(s.series, origin, n)
    series = s.series
    limit = None if SPECS[s.vital].kind is Kind.DISCRETE else HOLD_S
    return hold(series.t - origin, series.v, n, hz, limit)


def _header(w: pyedflib.EdfWriter, rec: SessionRecord, anon: bool) -> None:
    w.setPatientCode(ascii_field(rec.patient_ref or "X", 40))
    w.setEquipment(EQUIPMENT)
    w.setRecordingAdditional(f"missing={MISSING}")
    if anon:
        w.setStartdatetime(ANON_START)
        return
    w.setAdmincode(f"session_{rec.session_id}")
    tz = timezone(timedelta(seconds=rec.utc_offset_s or 0))
    w.setStartdatetime(datetime.fromtimestamp(math.floor(rec.start), tz).replace(tzinfo=None))


def _anonymise_startdate(path: Path) -> None:
    """Write ``Startdate X`` in the recording field (bytes 88-167), as EDF+ asks when anonymised."""
    with open(path, "r+b") as f:
        f.seek(88)
        field = f.read(80)
        stamp = b"Startdate 01-JAN-1985"
        if not field.startswith(stamp):
            raise ExportError(f"unexpected EDF recording field {field!r}")
        fixed = (b"Startdate X" + field[len(stamp):]).ljust(80)
        f.seek(88)
        f.write(fixed)
