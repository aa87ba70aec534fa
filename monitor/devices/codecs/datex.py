"""GE Datex-Ohmeda S/5 computer interface ("DRI", datex-s5): records -> readings and pleth.

The monitor says nothing until asked: :meth:`DatexS5Codec.open_requests` asks
for the basic displayed values every ``interval`` seconds and for the pleth
wave; :meth:`DatexS5Codec.close_requests` stops both. Layouts live in
:mod:`monitor.devices.codecs.datex_layout`.

Choices (documented for review):

* **Values.** ECG ``hr`` -> HR; NIBP ``sys/dia/mean`` x0.01 mmHg; T1 x0.01 degC
  -> TEMP; SpO2 x0.01 % -> SPO2 and ``pr`` -> PULSE_RATE; EtCO2 [mmHg] =
  ``et`` (x0.01 %) x ``amb_press`` (x0.1 mmHg) x 1e-5 of the raw integers,
  rounded to 0.1 mmHg (the raw resolution is about 0.076 mmHg, so integer
  values sent by the monitor come back exactly); RESP_RATE from ``co2.rr``,
  or from the ECG impedance ``imp_rr`` when the CO2 rate has no value (a
  monitor without a gas module).
* **Special values** (raw < -32001): -32767 NO_VALUE, -32766 NOT_UPDATED,
  -32765 QUESTIONABLE (discontinuity, e.g. calibration), -32764/-32763
  OUT_OF_RANGE, -32762 QUESTIONABLE (not calibrated), any other NO_VALUE.
  EtCO2 takes the special quality of ``et`` first, then of ``amb_press``.
* **NIBP** is emitted only for a new determination: the first record seen,
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
"""

from __future__ import annotations

import struct
from typing import ClassVar

import numpy as np

from monitor.core.reading import Quality, Reading, WaveChunk, make_reading
from monitor.core.vitals import Vital
from monitor.devices.codecs import datex_layout as L
from monitor.devices.codecs.base import MAX_BUFFER_BYTES, Codec, CodecItem, SerialSettings

REANCHOR_S = 1.0
"""A wave chunk arriving more than this much later than contiguity re-anchors."""

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
    return make_reading(vital, round(raw * scale, 2), t, device_time=dt)


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

    name: ClassVar[str] = "datex-s5"
    description: ClassVar[str] = "GE Datex-Ohmeda S/5 computer interface (DRI)"
    serial_defaults: ClassVar[SerialSettings] = SerialSettings(
        baudrate=19200, bytesize=8, parity="E", stopbits=1, rtscts=True)

    def __init__(self, interval: int = 5, dri_level: int = 0) -> None:
        super().__init__()
        if not 1 <= interval <= 32767:
            raise ValueError("interval must be 1..32767 seconds")
        self.interval = interval
        self.dri_level = dri_level
        self._deframer = L.Deframer(on_drop=self._on_drop)
        self._resync = True
        self._nibp_last: tuple[int, int, int] | None = None
        self._nibp_seen = False
        self._wave_end: float | None = None

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
            self._resync = True
            self._count("internal_error")
        return items

    # -- records -------------------------------------------------------------

    def _on_drop(self, bad_frame: bool, nbytes: int) -> None:
        """A frame (or a run of bytes) was lost: the next pleth chunk is not contiguous."""
        if bad_frame:
            self.stats.frames_bad += 1
        self.stats.bytes_discarded += nbytes
        self._resync = True

    def _count(self, key: str) -> None:
        self.stats.extra[key] = self.stats.extra.get(key, 0) + 1

    def _record(self, record: bytes, t: float, items: list[CodecItem]) -> None:
        if len(record) < L.HEADER_SIZE:
            self._on_drop(True, 0)
            return
        head = L.unpack_header(record)
        if not L.HEADER_SIZE <= head.r_len <= len(record):
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
        cls = (word >> 8) & 0xF
        if cls != L.CLASS_BASIC:
            self._count(f"skipped_class_{cls}")
            return
        self._basic(sub[L.PHDB_CLASS_DATA:L.PHDB_CLASS_DATA + L.PHDB_CLASS_DATA_SIZE],
                    device_time, t, items)

    def _basic(self, cd: bytes, dt: float, t: float, items: list[CodecItem]) -> None:
        items.append(_scaled(Vital.HR, _i16(cd, L.ECG_HR), 1.0, t, dt))
        items.extend(self._nibp(cd, dt, t))
        items.append(_scaled(Vital.TEMP, _i16(cd, L.T1_TEMP), 0.01, t, dt))
        items.append(_scaled(Vital.SPO2, _i16(cd, L.SPO2_SPO2), 0.01, t, dt))
        items.append(_scaled(Vital.PULSE_RATE, _i16(cd, L.SPO2_PR), 1.0, t, dt))
        items.append(self._etco2(_i16(cd, L.CO2_ET), _i16(cd, L.CO2_AMB), dt, t))
        rr = _i16(cd, L.CO2_RR)
        imp_rr = _i16(cd, L.ECG_IMP_RR)
        if special_quality(rr) is not None and special_quality(imp_rr) is None:
            rr = imp_rr
        items.append(_scaled(Vital.RESP_RATE, rr, 1.0, t, dt))

    def _nibp(self, cd: bytes, dt: float, t: float) -> list[Reading]:
        """NIBP readings if this record shows a new determination (module notes), else none."""
        triple = (_i16(cd, L.NIBP_SYS), _i16(cd, L.NIBP_DIA), _i16(cd, L.NIBP_MEAN))
        all_special = all(special_quality(raw) is not None for raw in triple)
        new = not all_special and (not self._nibp_seen or triple != self._nibp_last)
        self._nibp_seen = True
        self._nibp_last = None if all_special else triple
        if not new:
            return []
        return [_scaled(vital, raw, 0.01, t, dt) for vital, raw in
                zip((Vital.NIBP_SYS, Vital.NIBP_DIA, Vital.NIBP_MEAN), triple, strict=True)]

    def _etco2(self, et: int, amb: int, dt: float, t: float) -> Reading:
        for raw in (et, amb):
            quality = special_quality(raw)
            if quality is not None:
                return Reading.invalid(Vital.ETCO2, t, quality, dt)
        if amb <= 0:
            return Reading.invalid(Vital.ETCO2, t, Quality.NO_VALUE, dt)
        return make_reading(Vital.ETCO2, round(et * amb * 1e-5, 1), t, device_time=dt)

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
        items.append(WaveChunk(Vital.PLETH, self._wave_t0(count, t), L.PLETH_RATE_HZ,
                               samples, quality))

    def _wave_t0(self, n: int, t: float) -> float:
        """Start time of a chunk of ``n`` samples that arrived at ``t`` (see the module notes)."""
        anchor = t - n / L.PLETH_RATE_HZ
        t0 = self._wave_end
        if t0 is None:
            t0 = anchor
        elif self._resync or anchor - t0 > REANCHOR_S:
            t0 = max(anchor, t0)
        self._resync = False
        self._wave_end = t0 + n / L.PLETH_RATE_HZ
        return t0
