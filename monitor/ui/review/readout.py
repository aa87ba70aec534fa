"""What the review cursor reads at a moment: every vital's value then (no Qt).

A continuous vital shows the last valid reading at or before the cursor if
it is at most ``stale_after_s`` old (the live view's rule: an older value is
no value); an NIBP determination is shown however old, with its age.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from monitor.core.freshness import DEFAULT_STALE_AFTER_S
from monitor.core.vitals import SPECS, Kind, Vital
from monitor.review.record import Series
from monitor.ui.shared.formatting import NO_VALUE_TEXT, format_elapsed, format_value

READOUT_VITALS: tuple[Vital, ...] = (
    Vital.NIBP_SYS, Vital.NIBP_DIA, Vital.NIBP_MEAN, Vital.HR, Vital.PULSE_RATE, Vital.SPO2,
    Vital.RESP_RATE, Vital.ETCO2)
"""The vitals the cursor reads, in the order of the readout."""


@dataclass(frozen=True)
class CursorValue:
    """One vital at the cursor.

    Attributes
    ----------
    vital : Vital
    value : float or None
        ``None``: no valid reading at or before the cursor (or, for a
        continuous vital, none recent enough).
    t : float or None
        When that reading was taken (Unix s).
    age_s : float or None
        Cursor time minus ``t``.
    """

    vital: Vital
    value: float | None
    t: float | None
    age_s: float | None


class CursorReader:
    """Looks up each vital's reading at a time, by binary search on its valid readings.

    Parameters
    ----------
    numerics : mapping of Vital to Series
        The record's numerics.
    vitals : sequence of Vital
        The vitals to read (those not recorded are left out).
    stale_after_s : float
        A continuous reading older than this is no value at the cursor.
    """

    def __init__(self, numerics: Mapping[Vital, Series],
                 vitals: Sequence[Vital] = READOUT_VITALS,
                 stale_after_s: float = DEFAULT_STALE_AFTER_S) -> None:
        self._stale_after_s = stale_after_s
        self._valid: dict[Vital, tuple[np.ndarray, np.ndarray]] = {}
        for vital in vitals:
            series = numerics.get(vital)
            if series is not None and len(series):
                self._valid[vital] = series.valid()

    @property
    def vitals(self) -> tuple[Vital, ...]:
        """The vitals read, in order."""
        return tuple(self._valid)

    def at(self, t: float) -> dict[Vital, CursorValue]:
        """Every vital's value at time ``t`` (Unix s)."""
        out: dict[Vital, CursorValue] = {}
        for vital, (times, values) in self._valid.items():
            i = int(np.searchsorted(times, t, side="right")) - 1
            if i < 0:
                out[vital] = CursorValue(vital, None, None, None)
                continue
            age = t - float(times[i])
            if SPECS[vital].kind is Kind.CONTINUOUS and age > self._stale_after_s:
                out[vital] = CursorValue(vital, None, float(times[i]), age)
                continue
            out[vital] = CursorValue(vital, float(values[i]), float(times[i]), age)
        return out


def _text(value: CursorValue | None) -> str:
    if value is None or value.value is None:
        return NO_VALUE_TEXT
    return format_value(value.vital, value.value)


def earlier_text(seconds: float) -> str:
    """How long before the cursor a reading was taken:
    ``"40 s"``, ``"4 min 10 s"``, ``"1 h 05 min"``.

    Exact to the second under an hour (a review reads a moment, not "just now").
    """
    total = int(seconds) if math.isfinite(seconds) and seconds > 0 else 0
    if total < 60:
        return f"{total} s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def readout_text(values: Mapping[Vital, CursorValue], t: float, origin: float) -> str:
    """One line for the cursor label.

    ``"14:03:27 (+0:23:27)   NIBP 132/84 (96) taken 13:59:17, 4 min 10 s earlier
    HR 78   PR 77   SpO2 97"``: the NIBP determination's own clock time and
    how long before the cursor it was taken; a vital not recorded is left out,
    one recorded but without a value reads ``---``. A name and its value are
    joined by a no-break space: a wrapped readout never parts them.
    """
    parts = [f"{time.strftime('%H:%M:%S', time.localtime(t))} (+{format_elapsed(t - origin)})"]
    sys_v, dia_v = values.get(Vital.NIBP_SYS), values.get(Vital.NIBP_DIA)
    if sys_v is not None:
        nibp = f"NIBP {_text(sys_v)}/{_text(dia_v)}"
        mean = values.get(Vital.NIBP_MEAN)
        if mean is not None and mean.value is not None:
            nibp += f" ({_text(mean)})"
        if sys_v.value is not None and sys_v.t is not None and sys_v.age_s is not None:
            nibp += (f" taken {time.strftime('%H:%M:%S', time.localtime(sys_v.t))}, "
                     f"{earlier_text(sys_v.age_s)} earlier")
        parts.append(nibp)
    for vital in (Vital.HR, Vital.PULSE_RATE, Vital.SPO2, Vital.RESP_RATE, Vital.ETCO2):
        if vital in values:
            parts.append(f"{SPECS[vital].label}\u00a0{_text(values[vital])}")
    return "   ".join(parts)
