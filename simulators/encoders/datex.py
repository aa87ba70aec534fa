"""A GE Datex-Ohmeda S/5 monitor's computer interface (datex-s5), for the simulator.

Silent until the host asks: a displayed-values request (interval > 0, or -1
for a single record) starts records of the basic class (plus, when the
request's class mask asks for them, ext1..ext3 subrecords filled with data a
reader must not take for basic values) every interval, carrying the latest
pushed numerics; interval 0 stops them. A wave request for the pleth (id 8)
starts wave records of 25 samples (0.25 s at 100 Hz); a wave stop ends them.

What the monitor shows: ECG HR from HR (also as the ECG-derived HR of the
ECG-extra group); SpO2 and pulse rate from SPO2 and PULSE_RATE; NIBP from the
latest determination, repeated until the next one, with the pulse rate of
the moment as the NIBP pulse rate; CO2 ``et`` from ETCO2 at a fixed ambient
pressure (drawn once from ``rng`` around 760 mmHg, sent as ``amb_press``) with
``fi`` 0 and the CO2 rate from RESP_RATE, or, without capnography, the rate
as ECG impedance respiration; T1 36.8 degC unless TEMP is pushed. Any other
basic-class vital (ST, P1..P6, T2..T4, gases, spirometry, C.O., NMT, SvO2...)
is sent when pushed, at the codec's scale; the scenarios push none, so these
fields carry the "no data" value -32767, as on a monitor without those
modules. Missing values are -32767; ``sensor_off`` sends the SpO2 group and
the pleth as -32767.
"""

from __future__ import annotations

import struct
from typing import ClassVar

import numpy as np

from monitor.core.reading import Quality, Reading, WaveChunk, make_reading
from monitor.core.vitals import Vital
from monitor.devices.codecs import datex_layout as L
from monitor.devices.codecs.datex import SCALED_FIELDS
from simulators.encoders.base import Encoder

WAVE_RECORD_SAMPLES = 25
"""Pleth samples per wave record (0.25 s)."""

DEFAULT_TEMP = 36.8
RESPONSE_LEVEL = 9
"""The DRI level the simulated monitor writes in its records (any 2..0x0B)."""

_NIBP = (Vital.NIBP_SYS, Vital.NIBP_DIA, Vital.NIBP_MEAN, Vital.NIBP_HR)
_PROBE = (Vital.SPO2, Vital.PULSE_RATE, Vital.SPO2_IR_AMP, Vital.SO2)
"""The SpO2 group: no data while the probe is off."""

_QUALITY_RAW = {
    Quality.NOT_UPDATED: L.NOT_UPDATED,
    Quality.QUESTIONABLE: L.DISCONTINUITY,
    Quality.ARTIFACT: L.DISCONTINUITY,
    Quality.OUT_OF_RANGE: L.OVER_RANGE,
}


def _raw(value: float, scale: float) -> int:
    """``value`` in units of ``scale`` as an int16 measurement (not a special value)."""
    return int(min(max(round(value / scale), L.SPECIAL_LIMIT), 32767))


class DatexS5Encoder(Encoder):
    """Emulates the S/5 data port for the simulator (see the module docstring)."""

    name: ClassVar[str] = "datex-s5"

    def __init__(self, rng: np.random.Generator) -> None:
        super().__init__(rng)
        self.amb_raw = int(rng.integers(7500, 7700))       # x0.1 mmHg
        self.clock_offset = int(rng.integers(-90, 91))     # monitor clock vs session clock
        self._latest: dict[Vital, Reading] = {}
        self._nibp: dict[Vital, Reading] = {}
        self._capnography = False
        self._deframer = L.Deframer()
        self._now: float | None = None
        self._interval: int | None = None
        self._next_phdb: float | None = None
        self._pending_start = False
        self._classes = 0
        self._wave_on = False
        self._wave: list[np.ndarray] = []
        self._wave_times: list[float] = []       # time of the first sample of each array
        self._wave_count = 0
        self._r_nbr = 0

    # -- scenario side -------------------------------------------------------

    def push(self, item: Reading | WaveChunk) -> None:
        if isinstance(item, WaveChunk):
            self._touch(item.t_end)
            if item.vital is Vital.PLETH and self._wave_on and len(item):
                self._wave.append(np.asarray(item.samples, dtype=np.float64))
                self._wave_times.append(item.t0)
                self._wave_count += len(item)
            return
        self._touch(item.t)
        if item.vital in _NIBP:
            if item.valid:
                self._nibp[item.vital] = item
                if item.vital is Vital.NIBP_SYS:
                    self._nibp_pulse(item.t)
            return
        if item.vital is Vital.ETCO2:
            self._capnography = True
        if item.vital is Vital.AMB_PRESS and item.valid:
            self.amb_raw = _raw(item.value, 0.1)
        self._latest[item.vital] = item

    def _nibp_pulse(self, t: float) -> None:
        """The NIBP pulse rate of a determination at ``t``: the pulse rate of the moment."""
        pushed = self._nibp.get(Vital.NIBP_HR)
        if pushed is not None and pushed.t == t:
            return
        pulse = self._latest.get(Vital.PULSE_RATE, self._latest.get(Vital.HR))
        if pulse is not None and pulse.valid:
            self._nibp[Vital.NIBP_HR] = make_reading(Vital.NIBP_HR, pulse.value, t)
        else:
            self._nibp.pop(Vital.NIBP_HR, None)

    def _touch(self, t: float) -> None:
        self._now = t if self._now is None else max(self._now, t)
        if self._pending_start:
            self._pending_start = False
            self._next_phdb = self._now

    # -- host side -----------------------------------------------------------

    def receive(self, data: bytes) -> None:
        for record in self._deframer.feed(bytes(data)):
            self._request(record)

    def _request(self, record: bytes) -> None:
        if len(record) < L.HEADER_SIZE:
            return
        head = L.unpack_header(record)
        if head.r_len != len(record) or not head.subrecords or head.subrecords[0][1] != 0:
            return
        body = record[L.HEADER_SIZE:]
        if head.maintype == L.MAINTYPE_PHDB and len(body) == L.PHDB_REQUEST_BODY.size:
            rcrd_type, interval, class_bf, _ = L.PHDB_REQUEST_BODY.unpack(body)
            if rcrd_type != L.PHDB_DISPLAYED:
                return
            if interval == L.INTERVAL_STOP:
                self._interval, self._next_phdb, self._pending_start = None, None, False
                return
            self._interval = interval
            self._classes = class_bf
            if self._now is None:
                self._pending_start = True
            else:
                self._next_phdb = self._now
        elif head.maintype == L.MAINTYPE_WAVE and len(body) == L.WAVE_REQUEST_BODY.size:
            fields = L.WAVE_REQUEST_BODY.unpack(body)
            req_type, ids = fields[0], fields[2:2 + L.MAX_WAVE_IDS]
            listed = set(_wave_ids(ids))
            if req_type == L.WAVE_START and L.WAVE_PLETH in listed:
                self._wave_on = True
            elif req_type == L.WAVE_STOP and (not listed or L.WAVE_PLETH in listed):
                self._wave_on = False
                self._wave, self._wave_times, self._wave_count = [], [], 0

    # -- device side ---------------------------------------------------------

    def due(self, now: float) -> list[bytes]:
        self._touch(now)
        out: list[tuple[float, int, bytes]] = []
        seq = 0
        while self._next_phdb is not None and self._next_phdb <= now:
            out.append((self._next_phdb, seq, self._phdb_frame(self._next_phdb)))
            seq += 1
            if self._interval is None or self._interval < 0:
                self._next_phdb, self._interval = None, None
            else:
                self._next_phdb += self._interval
        while self._wave_on and self._wave_count >= WAVE_RECORD_SAMPLES:
            t_last, samples = self._take_wave(WAVE_RECORD_SAMPLES)
            out.append((t_last, seq, self._wave_frame(t_last, samples)))
            seq += 1
        out.sort(key=lambda entry: entry[:2])
        return [frame for _, _, frame in out]

    def corrupt(self, frame: bytes) -> bytes:
        body = L.unstuff(frame.strip(b"\x7e"))
        if not body:
            return frame[:-1] + bytes([frame[-1] ^ 0xFF]) if frame else frame
        bad = body[:-1] + bytes([(body[-1] + 1) & 0xFF])
        return b"\x7e" + L.stuff(bad) + b"\x7e"

    # -- building records ----------------------------------------------------

    def _header(self, t: float) -> dict[str, int]:
        self._r_nbr = (self._r_nbr + 1) & 0xFF
        return {"r_time": int(t) + self.clock_offset, "r_nbr": self._r_nbr,
                "dri_level": RESPONSE_LEVEL}

    def _value(self, vital: Vital, scale: float, probe: bool = False) -> int:
        reading = self._latest.get(vital)
        if reading is None or (probe and self.sensor_off):
            return L.NO_DATA
        if not reading.valid:
            return _QUALITY_RAW.get(reading.quality, L.NO_DATA)
        return _raw(reading.value, scale)

    def _basic_values(self) -> dict[int, int]:
        values = {off: self._value(vital, scale, probe=vital in _PROBE)
                  for vital, off, scale in SCALED_FIELDS if vital in self._latest}
        values[L.ECG_HR] = self._value(Vital.HR, 1.0)
        values[L.SPO2_SPO2] = self._value(Vital.SPO2, 0.01, probe=True)
        values[L.SPO2_PR] = self._value(Vital.PULSE_RATE, 1.0, probe=True)
        if Vital.TEMP not in self._latest:
            values[L.T1_TEMP] = _raw(DEFAULT_TEMP, 0.01)
        if Vital.HR_ECG not in self._latest:
            values[L.ECG_EXTRA_HR] = values[L.ECG_HR]
        for vital, off in ((Vital.NIBP_SYS, L.NIBP_SYS), (Vital.NIBP_DIA, L.NIBP_DIA),
                           (Vital.NIBP_MEAN, L.NIBP_MEAN)):
            determination = self._nibp.get(vital)
            values[off] = L.NO_DATA if determination is None else _raw(determination.value, 0.01)
        nibp_hr = self._nibp.get(Vital.NIBP_HR)
        if Vital.NIBP_SYS in self._nibp and nibp_hr is not None:
            values[L.NIBP_HR] = _raw(nibp_hr.value, 1.0)
        rr = self._value(Vital.RESP_RATE, 1.0)
        if self._capnography:
            values[L.CO2_ET] = self._co2_raw(Vital.ETCO2)
            values[L.CO2_FI] = self._co2_raw(Vital.FICO2) if Vital.FICO2 in self._latest else 0
            values[L.CO2_RR] = rr
            values[L.CO2_AMB] = self.amb_raw
        elif Vital.IMP_RR not in self._latest:
            values[L.ECG_IMP_RR] = rr
        ptc, count = self._latest.get(Vital.NMT_PTC), self._latest.get(Vital.NMT_COUNT)
        if ptc is not None or count is not None:
            ptc_bits = round(ptc.value) if ptc is not None and ptc.valid else L.PTC_NOT_AVAILABLE
            count_bits = round(count.value) if count is not None and count.valid else 0
            values[L.NMT_PTC] = ptc_bits | (count_bits << L.PTC_TOF_SHIFT)
        return values

    def _co2_raw(self, vital: Vital) -> int:
        """EtCO2 / FiCO2 (mmHg) as the raw x0.01 % at the ambient pressure."""
        reading = self._latest[vital]
        if not reading.valid:
            return _QUALITY_RAW.get(reading.quality, L.NO_DATA)
        return _raw(reading.value * 1e5 / self.amb_raw, 1.0)

    def _phdb_frame(self, t: float) -> bytes:
        head = self._header(t)
        level = RESPONSE_LEVEL
        subs = [(L.PHDB_DISPLAYED, L.pack_phdb_subrecord(
            head["r_time"], L.basic_class_data(self._basic_values()), L.CLASS_BASIC,
            dri_level=level))]
        for cls in (L.CLASS_EXT1, L.CLASS_EXT2, L.CLASS_EXT3):
            if self._classes & L.CLASS_MASK[cls]:
                # Arbitrary class data that would read as nonsense basic values.
                filler = struct.pack("<h", 1000 + cls) * (L.PHDB_CLASS_DATA_SIZE // 2)
                subs.append((L.PHDB_DISPLAYED, L.pack_phdb_subrecord(
                    head["r_time"], filler, cls, dri_level=level)))
        return L.frame(L.pack_record(L.MAINTYPE_PHDB, subs, **head))

    def _take_wave(self, n: int) -> tuple[float, np.ndarray]:
        joined = np.concatenate(self._wave)
        first_t = self._wave_times[0]
        taken, rest = joined[:n], joined[n:]
        self._wave_count = rest.size
        self._wave = [rest] if rest.size else []
        self._wave_times = [first_t + n / L.PLETH_RATE_HZ] if rest.size else []
        return first_t + n / L.PLETH_RATE_HZ, taken

    def _wave_frame(self, t: float, samples: np.ndarray) -> bytes:
        if self.sensor_off:
            raw = [L.NO_DATA] * len(samples)
        else:   # _raw of each sample, at once (np.rint rounds half to even, as round does)
            scaled = np.clip(np.rint(np.nan_to_num(samples / L.PLETH_SCALE)),
                             L.SPECIAL_LIMIT, 32767).astype(np.int64)
            raw = np.where(np.isnan(samples), L.NO_DATA, scaled).tolist()
        record = L.pack_record(L.MAINTYPE_WAVE, [(L.WAVE_PLETH, L.pack_wave_subrecord(raw))],
                               **self._header(t))
        return L.frame(record)


def _wave_ids(ids: tuple[int, ...]) -> list[int]:
    """Wave ids up to the 0xFF terminator."""
    out = []
    for wave_id in ids:
        if wave_id == L.END_OF_LIST:
            break
        out.append(wave_id)
    return out
