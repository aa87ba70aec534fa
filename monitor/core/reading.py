"""Readings (numerics) and wave chunks, each stamped with host time and a quality."""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field

import numpy as np

from monitor.core.vitals import SPECS, Vital


class Quality(enum.StrEnum):
    """Why a reading is, or is not, a usable value.

    ``OK``, ``MANUAL``, ``DEMO`` and ``LOW_PERFUSION`` carry a value; every
    other quality means the value is NaN and must never be plotted or alarmed
    as a number. ``LOW_PERFUSION`` is a value with a caveat: the oximeter
    still displays it (Masimo "Low perfusion"), so it is shown with that
    caveat, recorded with it and alarmed like any other value.
    """

    OK = "ok"
    MANUAL = "manual"
    DEMO = "demo"
    NO_VALUE = "no_value"
    NOT_UPDATED = "not_updated"
    SENSOR_OFF = "sensor_off"
    ARTIFACT = "artifact"
    OUT_OF_RANGE = "out_of_range"
    QUESTIONABLE = "questionable"
    LOW_PERFUSION = "low_perfusion"

    @property
    def has_value(self) -> bool:
        """Whether readings of this quality carry a usable value."""
        return self in _VALUED


_VALUED = frozenset({Quality.OK, Quality.MANUAL, Quality.DEMO, Quality.LOW_PERFUSION})


@dataclass(frozen=True, slots=True)
class Reading:
    """One numeric observation.

    Construct through :func:`make_reading` or :meth:`invalid` so the
    invariants hold: a reading with a usable quality has a finite, plausible
    value; any other reading has ``value`` NaN.

    Attributes
    ----------
    vital : Vital
    value : float
        The value in the vital's display unit, NaN when there is none.
    t : float
        Host time (Unix seconds, from the session's clock) when the bytes
        carrying it arrived. This is the time axis everywhere.
    quality : Quality
    device_time : float or None
        The device's own timestamp, kept as metadata only.
    source : str
        The name of the source (device) it came from in the session, e.g.
        ``"Masimo"``; the reader thread stamps it. ``""``: typed by the nurse,
        or not yet stamped (a codec's output).
    """

    vital: Vital
    value: float
    t: float
    quality: Quality = Quality.OK
    device_time: float | None = None
    source: str = ""

    @property
    def valid(self) -> bool:
        """Whether the reading carries a value that may be shown and alarmed."""
        return self.quality.has_value

    @classmethod
    def invalid(cls, vital: Vital, t: float, quality: Quality,
                device_time: float | None = None) -> Reading:
        """A reading that says "no usable value", and why."""
        if quality.has_value:
            raise ValueError(f"quality {quality.value!r} carries a value; use make_reading")
        return cls(vital, math.nan, t, quality, device_time)


def make_reading(vital: Vital, value: float | None, t: float,
                 quality: Quality = Quality.OK,
                 device_time: float | None = None, source: str = "") -> Reading:
    """Build a reading, normalising missing and impossible values.

    A missing or non-finite value becomes NaN with ``NO_VALUE`` (unless a
    more specific reason was given); a value outside the vital's plausible
    range becomes NaN with ``OUT_OF_RANGE``.
    """
    if not quality.has_value:
        return Reading(vital, math.nan, t, quality, device_time, source)
    if value is None or not math.isfinite(value):
        return Reading(vital, math.nan, t, Quality.NO_VALUE, device_time, source)
    if not SPECS[vital].is_plausible(value):
        return Reading(vital, math.nan, t, Quality.OUT_OF_RANGE, device_time, source)
    return Reading(vital, float(value), t, quality, device_time, source)


@dataclass(frozen=True, slots=True)
class WaveChunk:
    """A run of evenly spaced waveform samples.

    Sample ``i`` has time ``t0 + i / rate``. Samples the device marked as
    missing are NaN. ``source`` is the name of the source it came from (the
    reader thread stamps it), as for :class:`Reading`.
    """

    vital: Vital
    t0: float
    rate: float
    samples: np.ndarray = field(repr=False)
    quality: Quality = Quality.OK
    source: str = ""

    def __post_init__(self) -> None:
        if self.rate <= 0:
            raise ValueError("wave rate must be positive")
        arr = np.ascontiguousarray(self.samples, dtype=np.float32)
        object.__setattr__(self, "samples", arr)

    def __len__(self) -> int:
        return int(self.samples.shape[0])

    @property
    def t_end(self) -> float:
        """Time just after the last sample."""
        return self.t0 + len(self) / self.rate

    def times(self) -> np.ndarray:
        """Sample times as float64 Unix seconds."""
        return self.t0 + np.arange(len(self), dtype=np.float64) / self.rate


@dataclass(frozen=True, slots=True)
class DeviceNumeric:
    """A numeric the device sent that is none of our vitals: kept for the record, never shown as a vital or alarmed.

    A monitor sends more numerics than the vitals this application shows and
    alarms on (invasive pressures labelled ART, ABP, P1…, extra
    temperatures, anything the device adds in a later release). They are
    recorded and exported with the device's own id and label, so none is
    lost, but they never reach the live view's tiles or the alarm engine.

    Construct through :func:`make_device_numeric` or :meth:`invalid` so the
    invariant of :class:`Reading` holds: a usable quality has a finite value,
    any other quality has ``value`` NaN. There is no plausibility range: the
    application knows nothing about what the number means.

    Attributes
    ----------
    t : float
        Host arrival time (Unix seconds), the time axis as for readings.
    code : int
        The device's own id for it (IntelliVue: the physiological id, e.g.
        ``0x4A10``).
    label : str
        The device's label text for it (``"ART"``, ``"ABP"``, ``"P1"``,
        ``"Tblood"``), or the name of its code when the device sent no label.
    value : float
        NaN when there is no valid value.
    unit : str
        Our unit text (``"mmHg"``, ``"°C"``, ``"%"``, ``""`` unitless) or the
        device's unit name when it is none of ours.
    quality : Quality
    device_time : float or None
        The device's own timestamp, metadata only.
    source : str
        The name of the source it came from in the session (the reader thread
        stamps it, e.g. ``"IntelliVue"``); a codec sets its protocol name.
    """

    t: float
    code: int
    label: str
    value: float
    unit: str
    quality: Quality = Quality.OK
    device_time: float | None = None
    source: str = ""

    @property
    def valid(self) -> bool:
        """Whether it carries a value (finite, with a usable quality)."""
        return self.quality.has_value

    @classmethod
    def invalid(cls, t: float, code: int, label: str, unit: str, quality: Quality,
                device_time: float | None = None, source: str = "") -> DeviceNumeric:
        """A device numeric that says "no usable value", and why."""
        if quality.has_value:
            raise ValueError(f"quality {quality.value!r} carries a value; use make_device_numeric")
        return cls(t, int(code), label, math.nan, unit, quality, device_time, source)


def make_device_numeric(t: float, code: int, label: str, value: float | None, unit: str,
                        quality: Quality = Quality.OK,
                        device_time: float | None = None,
                        source: str = "") -> DeviceNumeric:
    """Build a device numeric, normalising a missing or non-finite value.

    A usable quality with a missing or non-finite value becomes NaN with
    ``NO_VALUE``; any other quality gets NaN whatever value was given. The
    code becomes a plain ``int`` and the value a plain ``float`` (not numpy
    scalars), fit for SQLite and JSON.
    """
    code = int(code)
    if not quality.has_value:
        return DeviceNumeric(t, code, label, math.nan, unit, quality, device_time, source)
    if value is None or not math.isfinite(value):
        return DeviceNumeric(t, code, label, math.nan, unit, Quality.NO_VALUE, device_time, source)
    return DeviceNumeric(t, code, label, float(value), unit, quality, device_time, source)
