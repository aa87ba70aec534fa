"""Nonin pulse oximeters, serial Data Format #2 (nonin-2): frames -> readings and pleth.

Format (``device-protocols-and-formats.md`` section 2b): 5-byte frames
``0x01, STATUS, PLETH, FLOAT, CHK`` with CHK the 8-bit sum of the first four
bytes, 75 frames/s, grouped in packets of 25 frames; STATUS bit 0 (SYNC)
marks frame 0 of a packet, and the FLOAT byte of frame *k* carries item *k*
of the packet (HR MSB/LSB at 0/1, SpO2 at 2, ...).

Framing: the codec hunts for a frame starting a packet (``0x01``, STATUS with
bits 0x81 set, checksum right), then takes 5-byte frames in step. A frame
with a wrong start byte, STATUS bit 7 clear or a bad checksum is dropped
(``frames_bad``), the packet in progress is abandoned and hunting resumes one
byte after that packet's first frame, so nothing valid after the damage is
skipped. A SYNC frame before frame 25 also abandons the packet in progress
(``stats.extra["incomplete_packets"]``); a 26th frame without SYNC drops
back to hunting (``stats.extra["sync_lost"]``).

A complete packet is decoded only once the next packet's SYNC frame has
arrived where expected: a frame received twice (a UART or USB-serial
glitch) makes 26 frames between two SYNCs, which would shift every FLOAT
item by one position (the pulse-rate byte read as SpO2). Such a packet, or
one followed by a damaged frame, is discarded unseen
(``stats.extra["unconfirmed_packets"]``). This costs one frame (13 ms) of
delay; the packet keeps the arrival time of its own last frame.

One packet (1/3 s) gives, at its arrival time:

* PULSE_RATE and SPO2 from the standard 4-beat averages (frames 0/1 and 2),
  which are what the oximeter's own display shows in its default mode, then
  every variant the packet multiplexes (:data:`VARIANTS`): SPO2_DISPLAY (8),
  SPO2_FAST (9), SPO2_BEAT (10, beat to beat), PR_EXT (13/14, 8-beat),
  SPO2_EXT (15), SPO2_EXT_DISPLAY (16), PR_DISPLAY (19/20) and PR_EXT_DISPLAY
  (21/22). The "display" variants are the ones the device holds for 10 s
  after the probe comes off; here they get the same quality rules as the
  rest, so a held value is never taken for a measurement. The firmware
  revision (frame 3) is kept as :attr:`Nonin2Codec.firmware_revision`; the
  3 Hz timer (5/6) and STAT2 (7) are not decoded.
* Quality, from the STATUS bits OR-ed over the packet's frames, the same for
  every numeric of the packet, first match wins: SNSD -> SENSOR_OFF;
  HR 511 / SpO2 127 (no data) -> NO_VALUE;
  SNSA (sensor alarm, unusable data) -> NO_VALUE; ARTF -> ARTIFACT;
  OOT (out of track) -> QUESTIONABLE, since the oximeter may be holding an
  old value.
* DeviceFlag transitions: ``sensor_off`` (SNSD), ``nonin.sensor_alarm``
  (SNSA) and ``nonin.perfusion.low`` (the last frame in the packet showing a
  perfusion colour shows red only: RPRF without GPRF; packets with no
  colour keep the state; SNSD clears it).
* A WaveChunk(PLETH, 75 Hz) of the 25 raw 8-bit pleth values (0..255 as
  floats, unscaled), NaN in frames with SNSD, quality SENSOR_OFF when any
  frame has SNSD. Chunks are contiguous: each starts where the previous
  ended, unless its arrival anchor ``t - 1/3 s`` is more than 1 s later (a
  gap) or sync was lost since the previous packet; then it starts at the
  anchor, but never before the previous end, so sample times never go
  backwards and never depend on how the bytes were split. (A burst of
  buffered packets is laid end to end from the first one's anchor.)
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from monitor.core.events import DeviceFlag
from monitor.core.reading import Quality, Reading, WaveChunk, make_reading
from monitor.core.vitals import Vital
from monitor.devices.codecs.base import (
    MAX_BUFFER_BYTES,
    Codec,
    CodecItem,
    SerialSettings,
    WaveTimeline,
)

START = 0x01
FRAME_LEN = 5
FRAMES_PER_PACKET = 25
FRAME_RATE_HZ = 75.0
PACKET_S = FRAMES_PER_PACKET / FRAME_RATE_HZ
# STATUS bits.
ALWAYS = 0x80
SNSD = 0x40
ARTF = 0x20
OOT = 0x10
SNSA = 0x08
RPRF = 0x04
GPRF = 0x02
SYNC = 0x01

# FLOAT items by frame number.
HR_MSB, HR_LSB, SPO2 = 0, 1, 2
FIRMWARE = 3
SPO2_D, SPO2_FAST, SPO2_BB = 8, 9, 10
E_HR_MSB, E_HR_LSB, E_SPO2, E_SPO2_D = 13, 14, 15, 16
HR_D_MSB, HR_D_LSB, E_HR_D_MSB, E_HR_D_LSB = 19, 20, 21, 22

SPO2_VARIANTS: tuple[tuple[Vital, int], ...] = (
    (Vital.SPO2_DISPLAY, SPO2_D), (Vital.SPO2_FAST, SPO2_FAST), (Vital.SPO2_BEAT, SPO2_BB),
    (Vital.SPO2_EXT, E_SPO2), (Vital.SPO2_EXT_DISPLAY, E_SPO2_D),
)
"""SpO2 variants and the frame carrying each."""
PR_VARIANTS: tuple[tuple[Vital, int, int], ...] = (
    (Vital.PR_EXT, E_HR_MSB, E_HR_LSB), (Vital.PR_DISPLAY, HR_D_MSB, HR_D_LSB),
    (Vital.PR_EXT_DISPLAY, E_HR_D_MSB, E_HR_D_LSB),
)
"""Pulse-rate variants and the frames carrying their MSB and LSB."""

MISSING_HR = 511
MISSING_SPO2 = 127


def frame_checksum(frame: bytes | bytearray) -> int:
    """CHK of a frame: the 8-bit sum of its first four bytes."""
    return (frame[0] + frame[1] + frame[2] + frame[3]) & 0xFF


def heart_rate(msb: int, lsb: int) -> int:
    """The 9-bit HR from its MSB (bits 1..0 = HR bits 8..7) and LSB (bits 6..0) bytes."""
    return ((msb & 0x03) << 7) | (lsb & 0x7F)


def _valid_frame(buf: bytearray, i: int) -> bool:
    return (buf[i] == START and buf[i + 1] & ALWAYS != 0
            and frame_checksum(buf[i:i + 4]) == buf[i + 4])


class Nonin2Codec(Codec):
    """Codec for Nonin Data Format #2 (OEM III, Xpod 3012/3012LP and similar)."""

    device_name = "Nonin"
    device_kind = "oximeter"

    name: ClassVar[str] = "nonin-2"
    description: ClassVar[str] = "Nonin pulse oximeter, serial Data Format #2"
    serial_defaults: ClassVar[SerialSettings] = SerialSettings(baudrate=9600)
    measures: ClassVar[frozenset[Vital] | None] = frozenset(
        {Vital.SPO2, Vital.PULSE_RATE, Vital.PLETH})

    def __init__(self) -> None:
        super().__init__()
        self._buf = bytearray()
        self._synced = False
        self._pos = 0                   # next frame in _buf while synced; packet starts at 0
        self._pending: tuple[bytes, float] | None = None   # complete, awaiting the next SYNC
        self._wave = WaveTimeline(FRAME_RATE_HZ)   # re-anchored after sync is lost
        self._flags: dict[str, bool] = {}
        self.firmware_revision: int | None = None
        """The oximeter's firmware revision byte, from the latest packet."""

    @property
    def buffered(self) -> int:
        """Unparsed bytes held (never more than :data:`MAX_BUFFER_BYTES`)."""
        return len(self._buf)

    def feed(self, data: bytes, t: float) -> list[CodecItem]:
        items: list[CodecItem] = []
        try:
            self.stats.bytes_in += len(data)
            view = memoryview(bytes(data))
            # Process in slices so the buffer stays bounded however much arrives at once.
            for start in range(0, len(view), MAX_BUFFER_BYTES // 2):
                self._buf += view[start:start + MAX_BUFFER_BYTES // 2]
                self._parse(t, items)
        except Exception:   # noqa: BLE001 - the contract: feed never raises
            self._buf.clear()
            self._pending = None
            self._synced = False
            self._wave.resync = True
            self._count("internal_error")
        return items

    # -- framing -------------------------------------------------------------

    def _count(self, key: str) -> None:
        self.stats.extra[key] = self.stats.extra.get(key, 0) + 1

    def _parse(self, t: float, items: list[CodecItem]) -> None:
        while True:
            if not self._synced and not self._hunt():
                return
            buf, pos = self._buf, self._pos
            if len(buf) - pos < FRAME_LEN:
                return
            if not _valid_frame(buf, pos):
                self.stats.frames_bad += 1
                self._lose_sync()
                continue
            index = pos // FRAME_LEN
            if index == 0 and self._pending is not None:
                if buf[pos + 1] & SYNC:
                    packet, packet_t = self._pending
                    self._pending = None
                    self._packet(packet, packet_t, items)
                else:
                    self._drop_pending()
            if buf[pos + 1] & SYNC and index:
                self._count("incomplete_packets")
                self._wave.resync = True
                del buf[:pos]
                pos = 0
            elif not buf[pos + 1] & SYNC and index == 0:   # a 26th frame: packets out of step
                self._count("sync_lost")
                self._lose_sync()
                continue
            self.stats.frames_ok += 1
            self.stats.last_frame_t = t
            self._pos = pos + FRAME_LEN
            if self._pos == FRAMES_PER_PACKET * FRAME_LEN:
                # Held until the next packet's SYNC confirms the frame count.
                self._pending = (bytes(buf[:self._pos]), t)
                del buf[:self._pos]
                self._pos = 0

    def _drop_pending(self) -> None:
        if self._pending is not None:
            self._pending = None
            self._count("unconfirmed_packets")

    def _lose_sync(self) -> None:
        """Drop the packet in progress and hunt again from its second byte."""
        self._drop_pending()
        self._synced = False
        self._wave.resync = True
        self._pos = 0
        del self._buf[:1]
        self.stats.bytes_discarded += 1

    def _hunt(self) -> bool:
        """Find a frame that starts a packet; discard what precedes it."""
        buf = self._buf
        i = 0
        while True:
            i = buf.find(START, i)
            if i < 0:
                self.stats.bytes_discarded += len(buf)
                buf.clear()
                return False
            if len(buf) - i < FRAME_LEN:
                break
            if buf[i + 1] & (ALWAYS | SYNC) == ALWAYS | SYNC and _valid_frame(buf, i):
                self._synced = True
                self._pos = 0
                break
            i += 1
        self.stats.bytes_discarded += i
        del buf[:i]
        return self._synced

    # -- packets -------------------------------------------------------------

    def _flag(self, t: float, name: str, active: bool, text: str,
              items: list[CodecItem]) -> None:
        if self._flags.get(name, False) != active:
            self._flags[name] = active
            items.append(DeviceFlag(t, name, active, text))

    def _packet(self, packet: bytes, t: float, items: list[CodecItem]) -> None:
        status = packet[1::FRAME_LEN]
        pleth = packet[2::FRAME_LEN]
        floats = packet[3::FRAME_LEN]
        any_status = 0
        perfusion = None
        for s in status:
            any_status |= s
            if s & (RPRF | GPRF):
                perfusion = s & (RPRF | GPRF)
        sensor_off = bool(any_status & SNSD)
        if sensor_off:
            perfusion = 0

        self._flag(t, "sensor_off", sensor_off, "SpO2 sensor disconnected", items)
        self._flag(t, "nonin.sensor_alarm", bool(any_status & SNSA),
                   "SpO2 sensor alarm: data unusable", items)
        if perfusion is not None:
            self._flag(t, "nonin.perfusion.low", perfusion == RPRF,
                       "low perfusion (red)", items)

        self.firmware_revision = floats[FIRMWARE]
        items.append(self._pulse(Vital.PULSE_RATE, floats[HR_MSB], floats[HR_LSB], any_status, t))
        items.append(self._spo2(Vital.SPO2, floats[SPO2], any_status, t))
        for vital, frame in SPO2_VARIANTS:
            items.append(self._spo2(vital, floats[frame], any_status, t))
        for vital, msb, lsb in PR_VARIANTS:
            items.append(self._pulse(vital, floats[msb], floats[lsb], any_status, t))

        samples = np.frombuffer(pleth, dtype=np.uint8).astype(np.float64)
        samples[np.frombuffer(status, dtype=np.uint8) & SNSD != 0] = np.nan
        items.append(WaveChunk(Vital.PLETH, self._wave.start_of(len(samples), t), FRAME_RATE_HZ,
                               samples, Quality.SENSOR_OFF if sensor_off else Quality.OK))

    @classmethod
    def _pulse(cls, vital: Vital, msb: int, lsb: int, status: int, t: float) -> Reading:
        hr = heart_rate(msb, lsb)
        return cls._reading(vital, hr, hr == MISSING_HR, status, t)

    @classmethod
    def _spo2(cls, vital: Vital, byte: int, status: int, t: float) -> Reading:
        spo2 = byte & 0x7F
        return cls._reading(vital, spo2, spo2 == MISSING_SPO2, status, t)

    @staticmethod
    def _reading(vital: Vital, value: int, missing: bool, status: int, t: float) -> Reading:
        if status & SNSD:
            quality = Quality.SENSOR_OFF
        elif missing or status & SNSA:
            quality = Quality.NO_VALUE
        elif status & ARTF:
            quality = Quality.ARTIFACT
        elif status & OOT:
            quality = Quality.QUESTIONABLE
        else:
            return make_reading(vital, float(value), t)
        return Reading.invalid(vital, t, quality)
