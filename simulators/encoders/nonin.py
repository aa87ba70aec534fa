"""A Nonin pulse oximeter's serial Data Format #2 (nonin-2), for the simulator.

Sends 75 five-byte frames per second from the first :meth:`due` call on, in
packets of 25 (SYNC on frame 0). The pushed 100 Hz pleth is resampled
(linear interpolation) at the frame times and mapped to 8 bits as
``128 + 100 x`` (the simulator's pleth is roughly within [-1, 1]). Each
packet carries the latest pushed PULSE_RATE (HR when no pulse rate was ever
pushed) and SPO2, snapshotted at the packet's first frame, in every HR and
SpO2 slot of the FLOAT table (4-beat, extended, display, fast, beat-to-beat),
except the slots of a variant that was pushed itself (SPO2_FAST, PR_EXT...),
which carry that variant's latest value.

Status: bit 7 always, GPRF (green perfusion) while the probe is on; SNSD
with HR 511 and SpO2 127 when ``sensor_off`` is set, the latest SpO2 reading
has quality SENSOR_OFF, or (per frame) the pleth is NaN; ARTF / OOT when the
latest SpO2 or pulse-rate reading has quality ARTIFACT / QUESTIONABLE.
"""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from monitor.core.reading import Quality, Reading, WaveChunk
from monitor.core.vitals import Vital
from monitor.devices.codecs import nonin as N
from simulators.encoders.base import Encoder

FIRMWARE_REVISION = 0x2A
PLETH_OFFSET = 128.0
PLETH_GAIN = 100.0
_HISTORY_S = 2.0


class Nonin2Encoder(Encoder):
    """Emulates a Nonin oximeter's Data Format #2 output (see the module docstring)."""

    name: ClassVar[str] = "nonin-2"

    def __init__(self, rng: np.random.Generator) -> None:
        super().__init__(rng)
        self._latest: dict[Vital, Reading] = {}
        self._times = np.empty(0)
        self._pleth = np.empty(0)
        self._start: float | None = None
        self._next = 0                       # index of the next frame to send
        self._floats = [0] * N.FRAMES_PER_PACKET
        self._status = N.ALWAYS

    def push(self, item: Reading | WaveChunk) -> None:
        if isinstance(item, WaveChunk):
            if item.vital is Vital.PLETH and len(item):
                self._times = np.concatenate((self._times, item.times()))
                self._pleth = np.concatenate(
                    (self._pleth, np.asarray(item.samples, dtype=np.float64)))
            return
        self._latest[item.vital] = item

    def due(self, now: float) -> list[bytes]:
        if self._start is None:
            self._start = now
        last = math.floor((now - self._start) * N.FRAME_RATE_HZ + 1e-9)
        if last < self._next:
            return []
        ks = np.arange(self._next, last + 1)
        taus = self._start + ks / N.FRAME_RATE_HZ
        pleth, lost = self._resample(taus)
        frames = []
        for k, value, no_probe in zip(ks.tolist(), pleth.tolist(), lost.tolist(), strict=True):
            index = k % N.FRAMES_PER_PACKET
            if index == 0:
                self._snapshot()
            status = self._status | (N.SYNC if index == 0 else 0)
            if no_probe:
                status = (status | N.SNSD) & ~(N.GPRF | N.RPRF)
            frame = bytes((N.START, status, value, self._floats[index]))
            frames.append(frame + bytes((N.frame_checksum(frame),)))
        self._next = last + 1
        keep = self._times >= taus[-1] - _HISTORY_S
        self._times, self._pleth = self._times[keep], self._pleth[keep]
        return frames

    def corrupt(self, frame: bytes) -> bytes:
        if not frame:
            return frame
        return frame[:-1] + bytes(((frame[-1] + 1) & 0xFF,))

    # -- internals -----------------------------------------------------------

    def _resample(self, taus: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """8-bit pleth at ``taus`` and whether each frame has no valid pleth (probe off)."""
        if self._times.size == 0:
            return np.full(taus.size, int(PLETH_OFFSET)), np.zeros(taus.size, dtype=bool)
        x = np.interp(taus, self._times, self._pleth)
        lost = np.isnan(x)
        scaled = np.clip(np.rint(PLETH_OFFSET + PLETH_GAIN * np.where(lost, 0.0, x)), 0, 255)
        return np.where(lost, 0, scaled).astype(np.int64), lost

    def _probe_off(self) -> bool:
        spo2 = self._latest.get(Vital.SPO2)
        return self.sensor_off or (spo2 is not None and spo2.quality is Quality.SENSOR_OFF)

    def _snapshot(self) -> None:
        """Fix the FLOAT table and status of the packet about to start."""
        pr = self._latest.get(Vital.PULSE_RATE, self._latest.get(Vital.HR))
        spo2 = self._latest.get(Vital.SPO2)
        status = N.ALWAYS
        probe_off = self._probe_off()
        if probe_off:
            status |= N.SNSD
        else:
            status |= N.GPRF
            qualities = {r.quality for r in (pr, spo2) if r is not None}
            if Quality.ARTIFACT in qualities:
                status |= N.ARTF
            if Quality.QUESTIONABLE in qualities:
                status |= N.OOT
        floats = [0] * N.FRAMES_PER_PACKET
        floats[N.FIRMWARE] = FIRMWARE_REVISION
        for vital, hi, lo in ((Vital.PULSE_RATE, N.HR_MSB, N.HR_LSB), *N.PR_VARIANTS):
            hr_raw = N.MISSING_HR if probe_off else _pulse_raw(self._latest.get(vital, pr))
            floats[hi], floats[lo] = (hr_raw >> 7) & 0x03, hr_raw & 0x7F
        for vital, slot in ((Vital.SPO2, N.SPO2), *N.SPO2_VARIANTS):
            floats[slot] = (N.MISSING_SPO2 if probe_off
                            else _spo2_raw(self._latest.get(vital, spo2)))
        self._floats = floats
        self._status = status


def _pulse_raw(reading: Reading | None) -> int:
    """A pulse rate as the 9-bit HR field (511: no value)."""
    if reading is None or not reading.valid:
        return N.MISSING_HR
    return min(max(round(reading.value), 0), N.MISSING_HR - 1)


def _spo2_raw(reading: Reading | None) -> int:
    """An SpO2 as the 7-bit field (127: no value)."""
    if reading is None or not reading.valid:
        return N.MISSING_SPO2
    return min(max(round(reading.value), 0), 100)
