"""Masimo Rad-8 / Radical-5/7 / Rad-87/97 / Root serial "ASCII 1" text output.

One line per second, CR LF terminated: the device clock ``MM/DD/YY
HH:MM:SS`` then space-separated ``KEY=VALUE`` fields, e.g. (Rad-8)::

    02/22/16 22:47:45 SN=0000056661 SPO2=098% BPM=097 PI=03.60% SPCO=--.-%
    SPMET=--.-% DESAT=-- PIDELTA=+-- ALARM=0000 EXC=000800

Which fields appear depends on the model and its licences, so fields are
found by key, never by column. Dashes (``---``, ``--.-``, ``+--``) mean no
value. ``ALARM`` and ``EXC`` are hex bit fields (device alarms and
exceptions). There is no checksum: a line is accepted only if every field is
well formed, so line noise rejects the whole line rather than yielding a
number.

Quality of the numerics, from the ``EXC`` bits of the same line (strongest
first):

* ``SENSOR_OFF``: no sensor (0x000001), sensor off (0x000020) or no cable
  (0x001000), for every numeric.
* ``ARTIFACT``: interference (0x000010) or ambient light (0x000040).
* ``QUESTIONABLE``: pulse search (0x000008), low signal IQ (0x000400),
  sensor or cable faults (defective, unrecognised, incompatible, expired),
  sensor calibrating, emitter temperature, sensor current limit; SpCO /
  SpMet low confidence for SpCO / SpMet only. These readings carry no value,
  and the exception itself is reported as a device flag.
* ``LOW_PERFUSION``: low perfusion (0x000004) alone, for everything except
  PI and PI delta (a low PI *is* the measurement, so those stay ``OK``). The
  device goes on displaying SpO2 and pulse rate with a "Low perfusion"
  message, so these readings keep their value, with the caveat as their
  quality (shown, recorded and alarmed as values). With any bit above as
  well, the stronger quality wins.
* 0x000800 "Masimo SET" is set in normal operation and means nothing.

Every ALARM and EXC bit (except 0x000800) is reported as a
:class:`DeviceFlag` ``masimo.alarm.<name>`` / ``masimo.exc.<name>`` when it
changes, and the generic ``sensor_off`` flag when the sensor-off group as a
whole changes.
"""

from __future__ import annotations

import datetime as dt
import logging
import re

from monitor.core.events import DeviceFlag
from monitor.core.reading import Quality, Reading, make_reading
from monitor.core.vitals import Vital
from monitor.devices.codecs.base import CodecItem, SerialSettings
from monitor.devices.codecs.text import LineCodec

log = logging.getLogger(__name__)

FIELDS: dict[bytes, Vital] = {
    b"SPO2": Vital.SPO2,
    b"BPM": Vital.PULSE_RATE,
    b"PI": Vital.PERF_INDEX,
    b"SPCO": Vital.SPCO,
    b"SPMET": Vital.SPMET,
    b"SPHB": Vital.SPHB,
    b"PVI": Vital.PVI,
    b"DESAT": Vital.DESAT_INDEX,
    b"PIDELTA": Vital.PI_DELTA,
}
"""ASCII 1 keys -> the vital each carries."""

EXC_NO_SENSOR = 0x000001
EXC_LOW_PERFUSION = 0x000004
EXC_SENSOR_OFF = 0x000020
EXC_MASIMO_SET = 0x000800
EXC_NO_CABLE = 0x001000
EXC_SPCO_LOW_CONFIDENCE = 0x200000
EXC_SPMET_LOW_CONFIDENCE = 0x400000

EXC_BITS: dict[int, tuple[str, str]] = {
    0x000001: ("no_sensor", "No sensor"),
    0x000002: ("defective_sensor", "Defective sensor"),
    0x000004: ("low_perfusion", "Low perfusion"),
    0x000008: ("pulse_search", "Pulse search"),
    0x000010: ("interference", "Interference detected"),
    0x000020: ("sensor_off", "Sensor off patient"),
    0x000040: ("ambient_light", "Too much ambient light"),
    0x000080: ("unrecognised_sensor", "Unrecognised sensor"),
    0x000100: ("incompatible_sensor", "Incompatible sensor"),
    0x000400: ("low_signal_iq", "Low signal IQ"),
    0x001000: ("no_cable", "No cable"),
    0x002000: ("cable_life_expired", "Cable life expired"),
    0x004000: ("incompatible_cable", "Incompatible cable"),
    0x008000: ("unrecognised_cable", "Unrecognised cable"),
    0x010000: ("defective_cable", "Defective cable"),
    0x020000: ("sensor_calibrating", "Sensor calibrating"),
    0x040000: ("sensor_life_expired", "Sensor life expired"),
    0x080000: ("emitter_temperature", "Emitter temperature out of range"),
    0x100000: ("sensor_current_limit", "Sensor current limit"),
    0x200000: ("spco_low_confidence", "SpCO low confidence"),
    0x400000: ("spmet_low_confidence", "SpMet low confidence"),
}
"""EXC bit -> (flag name suffix, text). 0x000800 (Masimo SET, normal) is deliberately absent."""

ALARM_BITS: dict[int, tuple[str, str]] = {
    0x0001: ("spo2_high", "SpO2 high"),
    0x0002: ("spo2_low", "SpO2 low"),
    0x0004: ("pr_high", "Pulse rate high"),
    0x0008: ("pr_low", "Pulse rate low"),
    0x0010: ("active", "Alarm active"),
    0x0020: ("silenced", "Alarm silenced"),
    0x0040: ("low_battery", "Low battery"),
    0x0100: ("spco_high", "SpCO high"),
    0x0200: ("spco_low", "SpCO low"),
    0x0400: ("spmet_high", "SpMet high"),
    0x0800: ("spmet_low", "SpMet low"),
    0x1000: ("desat", "Desaturation index alarm"),
    0x2000: ("pi_delta", "PI delta alarm"),
}
"""ALARM bit -> (flag name suffix, text)."""

SENSOR_OFF_BITS = EXC_NO_SENSOR | EXC_SENSOR_OFF | EXC_NO_CABLE
ARTIFACT_BITS = 0x000010 | 0x000040
QUESTIONABLE_BITS = (0x000002 | 0x000008 | 0x000080 | 0x000100 | 0x000400 | 0x002000
                     | 0x004000 | 0x008000 | 0x010000 | 0x020000 | 0x040000 | 0x080000
                     | 0x100000)
_PERFUSION_VITALS = frozenset({Vital.PERF_INDEX, Vital.PI_DELTA})

_CLOCK = re.compile(rb"([0-9]{2})/([0-9]{2})/([0-9]{2}) ([0-9]{2}):([0-9]{2}):([0-9]{2})")
_SPACES = re.compile(rb"[ \t]+")
_FIELD = re.compile(rb"([A-Z][A-Z0-9]*)=(\S+)")
_DASHES = re.compile(rb"[+-]?-+(?:\.-+)?%?")


def _form(sign: bytes, whole: int, frac: int, unit: bytes) -> re.Pattern[bytes]:
    """The exact documented form of a numeric field: digits or dashes, fixed widths."""
    digits = b"[0-9]{%d}" % whole + (b"\\.[0-9]{%d}" % frac if frac else b"")
    dashes = b"-{%d}" % whole + (b"\\.-{%d}" % frac if frac else b"")
    return re.compile(sign + b"(?:" + digits + b"|" + dashes + b")" + re.escape(unit))


_FORMS: dict[bytes, re.Pattern[bytes]] = {
    b"SPO2": _form(b"", 3, 0, b"%"),          # SPO2=098%   SPO2=---%
    b"BPM": _form(b"", 3, 0, b""),            # BPM=097     BPM=---
    b"PI": _form(b"", 2, 2, b"%"),            # PI=03.60%   PI=--.--%
    b"SPCO": _form(b"", 2, 1, b"%"),          # SPCO=02.5%  SPCO=--.-%
    b"SPMET": _form(b"", 2, 1, b"%"),         # SPMET=00.8% SPMET=--.-%
    b"SPHB": _form(b"", 2, 1, b""),           # SPHB=13.4   SPHB=--.-
    b"PVI": _form(b"", 3, 0, b""),            # PVI=017     PVI=---
    b"DESAT": _form(b"", 2, 0, b""),          # DESAT=03    DESAT=--
    b"PIDELTA": _form(b"[+-]", 2, 0, b""),    # PIDELTA=-05 PIDELTA=+--
}
"""Each numeric key's documented value form. A value of any other width or shape (a line that
lost or gained a byte: ``SPO2=09%``) makes the whole line a bad frame, never a number: the
protocol has no checksum, so the fixed widths are the only integrity check it offers."""
assert set(_FORMS) == set(FIELDS)
_HEX = re.compile(rb"[0-9A-Fa-f]{1,8}")
_OTHER = re.compile(rb"[0-9A-Za-z.+%/:-]+")


def device_clock(match: re.Match[bytes]) -> float | None:
    """Unix seconds of a ``MM/DD/YY HH:MM:SS`` match, read as local time; None if impossible."""
    month, day, year, hour, minute, second = (int(g) for g in match.groups())
    try:
        return dt.datetime(2000 + year, month, day, hour, minute, second).timestamp()
    except (ValueError, OverflowError, OSError):
        return None


class MasimoAsciiCodec(LineCodec):
    """Masimo serial ASCII 1 lines -> readings for every numeric field, and device flags.

    Noise that arrived without a line end before a record is discarded: the
    record is taken from the last device clock on the line. A line whose
    fields are not all well formed, or that has no known field, is a bad
    frame. See the module docstring for the quality and flag mapping.

    Attributes
    ----------
    device_serial : str or None
        The ``SN=`` of the last good line that had one.
    """

    device_name = "Masimo"
    device_kind = "oximeter"

    name = "masimo-ascii"
    description = "Masimo Rad-8/Radical-7/Root serial ASCII 1 text, one line per second"
    serial_defaults = SerialSettings(9600, 8, "N", 1)
    frame_period_s = 1.0
    measures = frozenset(FIELDS.values())   # an oximeter: no ECG, NIBP, RR or EtCO2

    def __init__(self, *, plausibility: bool = True) -> None:
        super().__init__(plausibility=plausibility)
        self.device_serial: str | None = None
        self._exc = 0
        self._alarm = 0

    def _parse_line(self, line: bytes, t: float) -> list[CodecItem] | None:
        clock = None
        for clock in _CLOCK.finditer(line):
            pass
        start = 0 if clock is None else clock.end()
        fields = self._fields(line[start:])
        if fields is None:
            return None
        exc = _hex(fields.get(b"EXC"))
        alarm = _hex(fields.get(b"ALARM"))
        if not any(key in FIELDS for key in fields) and exc is None and alarm is None:
            return None
        if clock is not None and clock.start():
            self.stats.bytes_discarded += clock.start()
        device_time = None if clock is None else device_clock(clock)
        if b"SN" in fields:
            self.device_serial = fields[b"SN"].decode("ascii")

        items: list[CodecItem] = []
        if exc is not None:
            items.extend(self._exc_flags(exc, t))
        if alarm is not None:
            items.extend(_changes(self._alarm, alarm, ALARM_BITS, "masimo.alarm", t))
            self._alarm = alarm
        exc_now = exc or 0
        for key, raw in fields.items():
            vital = FIELDS.get(key)
            if vital is not None:
                items.append(_reading(vital, raw, exc_now, t, device_time))
        self._frame_ok(t)
        return items

    @staticmethod
    def _fields(text: bytes) -> dict[bytes, bytes] | None:
        """``KEY -> VALUE`` of every token, ``None`` if any token or value is malformed."""
        fields: dict[bytes, bytes] = {}
        for token in _SPACES.split(text.strip(b" \t")):
            match = _FIELD.fullmatch(token)
            if match is None:
                return None
            key, value = match.groups()
            if key in fields:
                return None
            if key in FIELDS:
                ok = _FORMS[key].fullmatch(value)
            elif key in (b"EXC", b"ALARM"):
                ok = _HEX.fullmatch(value)
            else:
                ok = _OTHER.fullmatch(value)
            if not ok:
                return None
            fields[key] = value
        return fields

    def _exc_flags(self, exc: int, t: float) -> list[DeviceFlag]:
        flags = _changes(self._exc, exc, EXC_BITS, "masimo.exc", t, ignore=EXC_MASIMO_SET)
        was_off, off = bool(self._exc & SENSOR_OFF_BITS), bool(exc & SENSOR_OFF_BITS)
        if off != was_off:
            reasons = exc if off else self._exc
            text = ", ".join(EXC_BITS[b][1] for b in EXC_BITS if b & SENSOR_OFF_BITS & reasons)
            flags.append(DeviceFlag(t, "sensor_off", off, f"SpO2 sensor: {text}"))
        self._exc = exc
        return flags


def _hex(raw: bytes | None) -> int | None:
    return None if raw is None else int(raw, 16)


def _changes(old: int, new: int, table: dict[int, tuple[str, str]], prefix: str,
             t: float, ignore: int = 0) -> list[DeviceFlag]:
    """A flag for every bit that differs between ``old`` and ``new``, except ``ignore``."""
    changed = (old ^ new) & ~ignore
    flags = []
    bit = 1
    while bit <= changed:
        if changed & bit:
            name, text = table.get(bit, (f"bit_{bit:06x}", f"{prefix} bit 0x{bit:06X}"))
            flags.append(DeviceFlag(t, f"{prefix}.{name}", bool(new & bit), text))
        bit <<= 1
    return flags


def exc_quality(vital: Vital, exc: int) -> Quality:
    """The quality a numeric of ``vital`` has under the exception bits ``exc``."""
    if exc & SENSOR_OFF_BITS:
        return Quality.SENSOR_OFF
    if exc & ARTIFACT_BITS:
        return Quality.ARTIFACT
    doubtful = exc & QUESTIONABLE_BITS
    if vital is Vital.SPCO:
        doubtful |= exc & EXC_SPCO_LOW_CONFIDENCE
    if vital is Vital.SPMET:
        doubtful |= exc & EXC_SPMET_LOW_CONFIDENCE
    if doubtful:
        return Quality.QUESTIONABLE
    if exc & EXC_LOW_PERFUSION and vital not in _PERFUSION_VITALS:
        return Quality.LOW_PERFUSION   # the device still shows the value, with a caveat
    return Quality.OK


def _reading(vital: Vital, raw: bytes, exc: int, t: float,
             device_time: float | None) -> Reading:
    quality = exc_quality(vital, exc)
    if _DASHES.fullmatch(raw):
        if quality is not Quality.SENSOR_OFF:
            quality = Quality.NO_VALUE
        return Reading.invalid(vital, t, quality, device_time)
    if not quality.has_value:
        return Reading.invalid(vital, t, quality, device_time)
    return make_reading(vital, float(raw.rstrip(b"%")), t, quality, device_time)
