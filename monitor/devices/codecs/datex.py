"""GE Datex-Ohmeda S/5 computer interface ("DRI", datex-s5): records -> readings and pleth.

The monitor says nothing until asked: :meth:`DatexS5Codec.open_requests` asks
for the basic displayed values every ``interval`` seconds and for the pleth
wave; :meth:`DatexS5Codec.close_requests` stops both. Layouts live in
:mod:`monitor.devices.codecs.datex_layout`.

Choices (documented for review):

* **Values.** Every numeric of the basic class is decoded (:data:`SCALED_FIELDS`
  gives each vital, offset and scale): ECG ``hr`` -> HR, ``st1..st3`` (x0.01 mm)
  and impedance ``imp_rr``; P1..P6 ``sys/dia/mean`` x0.01 mmHg and ``hr``; NIBP
  ``sys/dia/mean`` x0.01 mmHg and its ``hr``; T1 x0.01 degC -> TEMP, T2..T4;
  SpO2 x0.01 % -> SPO2, ``pr`` -> PULSE_RATE, ``ir_amp`` and the SO2 field x0.01 %;
  CO2 ``et``/``fi`` -> ETCO2/FICO2 [mmHg] = raw (x0.01 %) x ``amb_press`` (x0.1
  mmHg) x 1e-5 of the raw integers, rounded to 0.1 mmHg (the raw resolution is
  about 0.076 mmHg, so integer values sent by the monitor come back exactly),
  ``amb_press`` itself; O2, N2O and agent ``et``/``fi`` x0.01 %, MAC x0.01;
  spirometry ``rr``, pressures x0.01 cmH2O, tidal volumes x0.1 mL, compliance
  x0.01 mL/cmH2O, minute volume x0.01 L/min; cardiac output (mL/min, given in
  L/min), blood temperature x0.01 degC, RVEF x0.01 %, PCWP x0.01 mmHg; NMT T1
  and ratio x0.1 %, the post-tetanic count (31: no value) and the TOF count
  from the ``ptc`` bit field (nothing of it at or below -31000; the stimulus
  current in its top bits is a setting and is not kept); the ECG-derived,
  maximum and minimum heart rates; SvO2 x0.01 %. RESP_RATE comes from
  ``co2.rr``, or from the ECG impedance ``imp_rr`` when the CO2 rate has no
  value (a monitor without a gas module); IMP_RR is always the impedance rate.
  Group header status and label bits (channel sites, agent, lead) are not read.
* **Special values** (raw < -32001): -32767 NO_VALUE, -32766 NOT_UPDATED,
  -32765 QUESTIONABLE (discontinuity, e.g. calibration), -32764/-32763
  OUT_OF_RANGE, -32762 QUESTIONABLE (not calibrated), any other NO_VALUE.
  EtCO2 and FiCO2 take the special quality of ``et``/``fi`` first, then of
  ``amb_press``.
* **NIBP** (sys, dia, mean and NIBP_HR) is emitted only for a new
  determination: the first record seen,
  any change of the raw (sys, dia, mean) triple, or a valid triple after one
  that was entirely special. A repeat of the same triple is not re-logged,
  so two consecutive determinations with identical values count as one (the
  protocol gives no determination counter). A triple that is entirely
  special emits nothing (the monitor is showing "no NIBP").
* **Pleth** (wave id 8, 100 Hz): samples x0.01 (the scaling VSCapture uses
  for pleth), a relative, unitless trace; special samples become NaN and a
  chunk with no valid sample has quality NO_VALUE.
* **Time.** Readings carry the arrival time ``t``; ``r_time`` (monitor clock,
  Unix seconds) becomes ``device_time``. Wave chunks are contiguous: each
  starts where the previous ended, unless its arrival anchor ``t - duration``
  is more than 1 s later (a gap) or a frame was dropped since the previous
  chunk; then it starts at the anchor, but never before the previous end, so
  sample times never go backwards and never depend on how the bytes were
  split. (A burst of buffered records is laid end to end from the first
  one's anchor.)
* Unknown main types, PHDB subrecord types, classes and waves are skipped and
  counted in ``stats.extra`` (``skipped_maintype_N``, ``skipped_phdb_type_N``,
  ``skipped_class_N``, ``skipped_wave_N``); malformed records or subrecords
  count as ``frames_bad`` / ``bad_subrecord``.
* **Integrity.** The frame checksum is an 8-bit sum, which a lost or doubled
  0x00 byte (common in these records) leaves unchanged. So a record is
  accepted only when it is exactly as documented: checksum right, only the
  two documented escapes (``0x7D 0x5E``, ``0x7D 0x5D``), ``r_len`` equal to
  the record's actual length and at most 1490 bytes; a displayed-values
  subrecord must carry subtype 1 in its ``cl_drilvl_subt`` word and fit in
  the record. Anything else is dropped whole, never decoded shifted.
"""

from __future__ import annotations

import math
import struct
from typing import ClassVar

import numpy as np

from monitor.core.reading import Quality, Reading, WaveChunk, make_reading
from monitor.core.vitals import P_CHANNELS, Vital
from monitor.devices.codecs import datex_layout as L
from monitor.devices.codecs.base import (
    MAX_BUFFER_BYTES,
    Codec,
    CodecItem,
    SerialSettings,
    WaveTimeline,
)

_SPECIAL_QUALITY = {
    L.NO_DATA: Quality.NO_VALUE,
    L.NOT_UPDATED: Quality.NOT_UPDATED,
    L.DISCONTINUITY: Quality.QUESTIONABLE,
    L.UNDER_RANGE: Quality.OUT_OF_RANGE,
    L.OVER_RANGE: Quality.OUT_OF_RANGE,
    L.NOT_CALIBRATED: Quality.QUESTIONABLE,
}

assert L.MAX_STUFFED_FRAME < MAX_BUFFER_BYTES


def special_quality(raw: int) -> Quality | None:
    """The quality a special raw value stands for; ``None`` for a measurement."""
    if raw >= L.SPECIAL_LIMIT:
        return None
    return _SPECIAL_QUALITY.get(raw, Quality.NO_VALUE)


def _i16(data: bytes, offset: int) -> int:
    return struct.unpack_from("<h", data, offset)[0]


def _scaled(vital: Vital, raw: int, scale: float, t: float, dt: float) -> Reading:
    """A reading from a raw int16 in units of ``scale``, or the special value's quality."""
    quality = special_quality(raw)
    if quality is not None:
        return Reading.invalid(vital, t, quality, dt)
    digits = max(0, round(-math.log10(scale)))
    return make_reading(vital, round(raw * scale, digits), t, device_time=dt)


def _pressure_fields(vitals: tuple[Vital, ...], offsets: tuple[int, ...]
                     ) -> tuple[tuple[Vital, int, float], ...]:
    """(sys, dia, mean) x0.01 mmHg and the pulse rate (x1) of one invasive channel."""
    return tuple(zip(vitals, offsets, (0.01, 0.01, 0.01, 1.0), strict=True))


SCALED_FIELDS: tuple[tuple[Vital, int, float], ...] = (
    (Vital.HR, L.ECG_HR, 1.0),
    (Vital.TEMP, L.T1_TEMP, 0.01),
    (Vital.SPO2, L.SPO2_SPO2, 0.01),
    (Vital.PULSE_RATE, L.SPO2_PR, 1.0),
    *((v, off, 0.01) for v, off in zip((Vital.ST1, Vital.ST2, Vital.ST3), L.ECG_ST,
                                       strict=True)),
    (Vital.IMP_RR, L.ECG_IMP_RR, 1.0),
    *(field for channel, offsets in zip(P_CHANNELS, L.P_FIELDS, strict=True)
      for field in _pressure_fields(channel, offsets)),
    *((v, off, 0.01) for v, off in zip((Vital.TEMP2, Vital.TEMP3, Vital.TEMP4),
                                       L.T_TEMP[1:], strict=True)),
    (Vital.SPO2_IR_AMP, L.SPO2_IR_AMP, 0.01),
    (Vital.SO2, L.SPO2_SVO2, 0.01),
    (Vital.AMB_PRESS, L.CO2_AMB, 0.1),
    (Vital.O2_ET, L.O2_ET, 0.01),
    (Vital.O2_FI, L.O2_FI, 0.01),
    (Vital.N2O_ET, L.N2O_ET, 0.01),
    (Vital.N2O_FI, L.N2O_FI, 0.01),
    (Vital.AA_ET, L.AA_ET, 0.01),
    (Vital.AA_FI, L.AA_FI, 0.01),
    (Vital.AA_MAC, L.AA_MAC_SUM, 0.01),
    (Vital.SPIRO_RR, L.FV_RR, 1.0),
    (Vital.PPEAK, L.FV_PPEAK, 0.01),
    (Vital.PEEP, L.FV_PEEP, 0.01),
    (Vital.PPLAT, L.FV_PPLAT, 0.01),
    (Vital.TV_INSP, L.FV_TV_INSP, 0.1),
    (Vital.TV_EXP, L.FV_TV_EXP, 0.1),
    (Vital.COMPLIANCE, L.FV_COMPLIANCE, 0.01),
    (Vital.MV_EXP, L.FV_MV_EXP, 0.01),
    (Vital.CO, L.COW_CO, 0.001),
    (Vital.BLOOD_TEMP, L.COW_BLOOD_TEMP, 0.01),
    (Vital.RVEF, L.COW_REF, 0.01),
    (Vital.PCWP, L.COW_PCWP, 0.01),
    (Vital.NMT_T1, L.NMT_T1, 0.1),
    (Vital.NMT_RATIO, L.NMT_TRATIO, 0.1),
    (Vital.HR_ECG, L.ECG_EXTRA_HR, 1.0),
    (Vital.HR_MAX, L.ECG_EXTRA_HR_MAX, 1.0),
    (Vital.HR_MIN, L.ECG_EXTRA_HR_MIN, 1.0),
    (Vital.SVO2, L.SVO2_SVO2, 0.01),
)
"""``(vital, offset, scale)`` of every basic-class field that is a plain scaled int16.

The rest need more than a scale: NIBP (new determinations only), EtCO2 and
FiCO2 (ambient pressure), RESP_RATE (impedance fallback) and the NMT ``ptc``
bit field. The value is ``raw x scale`` in the vital's unit.
"""


def _nmt_counts(raw: int, dt: float, t: float) -> list[Reading]:
    """NMT_PTC and NMT_COUNT from the ``ptc`` bit field (see ``datex_layout``)."""
    if raw <= L.PTC_INVALID_LIMIT:
        quality = special_quality(raw) or Quality.NO_VALUE
        return [Reading.invalid(Vital.NMT_PTC, t, quality, dt),
                Reading.invalid(Vital.NMT_COUNT, t, quality, dt)]
    bits = raw & 0xFFFF
    ptc = bits & L.PTC_COUNT_MASK
    count = (bits >> L.PTC_TOF_SHIFT) & L.PTC_TOF_MASK
    ptc_reading = (Reading.invalid(Vital.NMT_PTC, t, Quality.NO_VALUE, dt)
                   if ptc == L.PTC_NOT_AVAILABLE
                   else make_reading(Vital.NMT_PTC, ptc, t, device_time=dt))
    return [ptc_reading, make_reading(Vital.NMT_COUNT, count, t, device_time=dt)]


class DatexS5Codec(Codec):
    """Codec for the S/5 computer interface (AS/3, S/5, CARESCAPE B450/B650/B850).

    Parameters
    ----------
    interval : int
        Seconds between displayed-values records asked for in
        :meth:`open_requests` (1..32767).
    dri_level : int
        DRI level byte put in the request headers; 0 is accepted by the
        monitors in the field reports we know of.
    """

    device_name = "Datex S/5"
    device_kind = "monitor"

    name: ClassVar[str] = "datex-s5"
    description: ClassVar[str] = "GE Datex-Ohmeda S/5 computer interface (DRI)"
    serial_defaults: ClassVar[SerialSettings] = SerialSettings(
        baudrate=19200, bytesize=8, parity="E", stopbits=1, rtscts=True)
    carries_nibp: ClassVar[bool] = True
    measures: ClassVar[frozenset[Vital] | None] = frozenset(
        {Vital.HR, Vital.PULSE_RATE, Vital.SPO2, Vital.NIBP_SYS, Vital.NIBP_DIA,
         Vital.NIBP_MEAN, Vital.RESP_RATE, Vital.ETCO2, Vital.TEMP, Vital.PLETH})

    def __init__(self, interval: int = 5, dri_level: int = 0) -> None:
        super().__init__()
        if not 1 <= interval <= 32767:
            raise ValueError("interval must be 1..32767 seconds")
        self.interval = interval
        self.dri_level = dri_level
        self._deframer = L.Deframer(on_drop=self._on_drop)
        self._wave = WaveTimeline(L.PLETH_RATE_HZ)   # re-anchored after a lost frame
        self._nibp_last: tuple[int, int, int] | None = None
        self._nibp_seen = False

    @property
    def buffered(self) -> int:
        """Unparsed bytes held (never more than :data:`MAX_BUFFER_BYTES`)."""
        return self._deframer.buffered

    def open_requests(self) -> bytes:
        """Displayed values (basic class) every ``interval`` s, and the pleth wave."""
        return (L.frame(L.phdb_request(self.interval, L.CLASS_MASK[L.CLASS_BASIC],
                                       dri_level=self.dri_level))
                + L.frame(L.wave_request(L.WAVE_START, (L.WAVE_PLETH,),
                                         dri_level=self.dri_level)))

    def close_requests(self) -> bytes:
        """Interval 0 (stop displayed values) and wave stop."""
        return (L.frame(L.phdb_request(L.INTERVAL_STOP, dri_level=self.dri_level))
                + L.frame(L.wave_request(L.WAVE_STOP, dri_level=self.dri_level)))

    def feed(self, data: bytes, t: float) -> list[CodecItem]:
        items: list[CodecItem] = []
        try:
            data = bytes(data)
            self.stats.bytes_in += len(data)
            for record in self._deframer.feed(data):
                self._record(record, t, items)
        except Exception:   # noqa: BLE001 - the contract: feed never raises
            self._wave.resync = True
            self._count("internal_error")
        return items

    # -- records -------------------------------------------------------------

    def _on_drop(self, bad_frame: bool, nbytes: int) -> None:
        """A frame (or a run of bytes) was lost: the next pleth chunk is not contiguous."""
        if bad_frame:
            self.stats.frames_bad += 1
        self.stats.bytes_discarded += nbytes
        self._wave.resync = True

    def _count(self, key: str) -> None:
        self.stats.extra[key] = self.stats.extra.get(key, 0) + 1

    def _record(self, record: bytes, t: float, items: list[CodecItem]) -> None:
        if len(record) < L.HEADER_SIZE:
            self._on_drop(True, 0)
            return
        head = L.unpack_header(record)
        if head.r_len != len(record) or len(record) > L.MAX_RECORD:
            # The 8-bit sum misses a lost or doubled 0x00 byte: the length does not.
            self._on_drop(True, 0)
            return
        self.stats.frames_ok += 1
        self.stats.last_frame_t = t
        data = record[L.HEADER_SIZE:head.r_len]
        if head.maintype == L.MAINTYPE_PHDB:
            for offset, typ in head.subrecords:
                self._phdb_subrecord(data, offset, typ, float(head.r_time), t, items)
        elif head.maintype == L.MAINTYPE_WAVE:
            ends = sorted({off for off, _ in head.subrecords} | {len(data)})
            for offset, typ in head.subrecords:
                end = next((e for e in ends if e > offset), len(data))
                self._wave_subrecord(data, offset, end, typ, t, items)
        else:
            self._count(f"skipped_maintype_{head.maintype}")

    def _phdb_subrecord(self, data: bytes, offset: int, typ: int, device_time: float,
                        t: float, items: list[CodecItem]) -> None:
        if typ != L.PHDB_DISPLAYED:
            self._count(f"skipped_phdb_type_{typ}")
            return
        if offset < 0 or offset + L.PHDB_SUBRECORD_SIZE > len(data):
            self._count("bad_subrecord")
            return
        sub = data[offset:offset + L.PHDB_SUBRECORD_SIZE]
        _, _, word = L.PHDB_TAIL.unpack_from(sub, L.PHDB_SUBRECORD_SIZE - L.PHDB_TAIL.size)
        if word & 0xF != typ:                   # the subtype must say what sr_type says
            self._count("bad_subrecord")
            return
        cls = (word >> 8) & 0xF
        if cls != L.CLASS_BASIC:
            self._count(f"skipped_class_{cls}")
            return
        self._basic(sub[L.PHDB_CLASS_DATA:L.PHDB_CLASS_DATA + L.PHDB_CLASS_DATA_SIZE],
                    device_time, t, items)

    def _basic(self, cd: bytes, dt: float, t: float, items: list[CodecItem]) -> None:
        scaled = {vital: _scaled(vital, _i16(cd, off), scale, t, dt)
                  for vital, off, scale in SCALED_FIELDS}
        items.append(scaled.pop(Vital.HR))
        items.extend(self._nibp(cd, dt, t))
        items.extend(scaled.pop(v) for v in (Vital.TEMP, Vital.SPO2, Vital.PULSE_RATE))
        amb = _i16(cd, L.CO2_AMB)
        items.append(self._co2(Vital.ETCO2, _i16(cd, L.CO2_ET), amb, dt, t))
        rr = _i16(cd, L.CO2_RR)
        imp_rr = _i16(cd, L.ECG_IMP_RR)
        if special_quality(rr) is not None and special_quality(imp_rr) is None:
            rr = imp_rr
        items.append(_scaled(Vital.RESP_RATE, rr, 1.0, t, dt))
        items.extend(scaled.values())
        items.append(self._co2(Vital.FICO2, _i16(cd, L.CO2_FI), amb, dt, t))
        items.extend(_nmt_counts(_i16(cd, L.NMT_PTC), dt, t))

    def _nibp(self, cd: bytes, dt: float, t: float) -> list[Reading]:
        """NIBP readings if this record shows a new determination (module notes), else none."""
        triple = (_i16(cd, L.NIBP_SYS), _i16(cd, L.NIBP_DIA), _i16(cd, L.NIBP_MEAN))
        all_special = all(special_quality(raw) is not None for raw in triple)
        new = not all_special and (not self._nibp_seen or triple != self._nibp_last)
        self._nibp_seen = True
        self._nibp_last = None if all_special else triple
        if not new:
            return []
        out = [_scaled(vital, raw, 0.01, t, dt) for vital, raw in
               zip((Vital.NIBP_SYS, Vital.NIBP_DIA, Vital.NIBP_MEAN), triple, strict=True)]
        out.append(_scaled(Vital.NIBP_HR, _i16(cd, L.NIBP_HR), 1.0, t, dt))
        return out

    @staticmethod
    def _co2(vital: Vital, raw: int, amb: int, dt: float, t: float) -> Reading:
        """EtCO2 or FiCO2 in mmHg from a raw x0.01 % and the raw x0.1 mmHg ambient pressure."""
        for value in (raw, amb):
            quality = special_quality(value)
            if quality is not None:
                return Reading.invalid(vital, t, quality, dt)
        if amb <= 0:
            return Reading.invalid(vital, t, Quality.NO_VALUE, dt)
        return make_reading(vital, round(raw * amb * 1e-5, 1), t, device_time=dt)

    def _wave_subrecord(self, data: bytes, offset: int, end: int, typ: int, t: float,
                        items: list[CodecItem]) -> None:
        if typ != L.WAVE_PLETH:
            self._count(f"skipped_wave_{typ}")
            return
        if offset < 0 or offset + L.WAVE_HEADER.size > end:
            self._count("bad_subrecord")
            return
        count = L.WAVE_HEADER.unpack_from(data, offset)[0]
        start = offset + L.WAVE_HEADER.size
        if count < 0 or start + 2 * count > end:
            self._count("bad_subrecord")
            return
        if count == 0:
            return
        raw = np.frombuffer(data, dtype="<i2", count=count, offset=start)
        samples = np.where(raw < L.SPECIAL_LIMIT, np.nan, raw * L.PLETH_SCALE)
        quality = Quality.OK if np.isfinite(samples).any() else Quality.NO_VALUE
        items.append(WaveChunk(Vital.PLETH, self._wave.start_of(count, t), L.PLETH_RATE_HZ,
                               samples, quality))
