"""Manual entry: a value the nurse typed becomes readings marked ``manual``.

An NIBP is entered as systolic and diastolic (the mean is computed with
:func:`monitor.core.vitals.mean_arterial` and rounded to whole mmHg, as a
monitor sends it); the other vitals of
:data:`~monitor.core.workflow.messages.MANUAL_VITALS` as single values.
Each value is checked against the vital's plausible range in
:data:`monitor.core.vitals.SPECS`; a value outside it is refused with a
message naming the vital, the value and the range, and never becomes a
reading. Accepted readings have :attr:`Quality.MANUAL`, so they are shown
(marked manual), recorded and alarmed like any other valid reading.
"""

from __future__ import annotations

import math

from monitor.core.reading import Quality, Reading, make_reading
from monitor.core.vitals import SPECS, Vital, mean_arterial
from monitor.core.workflow.messages import MANUAL_VITALS, CommandRefused, ManualEntry


class ManualEntryError(ValueError):
    """A manual entry was refused.

    Attributes
    ----------
    vital : Vital
        The vital whose value is wrong.
    value : float or None
    """

    def __init__(self, vital: Vital, value: float | None, message: str) -> None:
        super().__init__(message)
        self.vital = vital
        self.value = value


def _checked(vital: Vital, value: float | None) -> float:
    spec = SPECS[vital]
    if value is None:
        raise ManualEntryError(vital, value, f"{spec.label}: a value is required")
    if isinstance(value, bool) or not isinstance(value, int | float) \
            or not math.isfinite(value):
        raise ManualEntryError(vital, value, f"{spec.label}: {value!r} is not a number")
    lo, hi = spec.plausible
    if not lo <= value <= hi:
        raise ManualEntryError(vital, value, f"{spec.label} {value:g} {spec.unit} is outside "
                                             f"the plausible range {lo:g}-{hi:g} {spec.unit}")
    return float(value)


def manual_readings(entry: ManualEntry, t: float) -> tuple[Reading, ...]:
    """The readings of a manual entry at session time ``t``.

    An NIBP gives three readings (sys, dia, mean) at the same ``t``, one
    determination.

    Raises
    ------
    ManualEntryError
        If the vital cannot be entered by hand, a value is missing, not a
        number or outside the plausible range, or the diastolic is not below
        the systolic.
    """
    vital = entry.vital
    if vital not in MANUAL_VITALS:
        allowed = ", ".join(SPECS[v].label.replace(" sys", "") for v in MANUAL_VITALS)
        hint = " (enter the systolic with its diastolic)" if vital in (
            Vital.NIBP_DIA, Vital.NIBP_MEAN) else ""
        raise ManualEntryError(vital, entry.value, f"{SPECS[vital].label} cannot be entered "
                                                   f"by hand{hint}; allowed: {allowed}")
    if vital is not Vital.NIBP_SYS:
        if entry.dia is not None:
            raise ManualEntryError(vital, entry.dia,
                                   f"a diastolic only goes with an NIBP, not {SPECS[vital].label}")
        return (_reading(vital, _checked(vital, entry.value), t),)
    sys = _checked(Vital.NIBP_SYS, entry.value)
    dia = _checked(Vital.NIBP_DIA, entry.dia)
    if not dia < sys:
        raise ManualEntryError(Vital.NIBP_DIA, dia, f"NIBP {sys:g}/{dia:g}: the diastolic "
                                                    "must be below the systolic")
    mean = float(round(mean_arterial(sys, dia)))
    return (_reading(Vital.NIBP_SYS, sys, t), _reading(Vital.NIBP_DIA, dia, t),
            _reading(Vital.NIBP_MEAN, mean, t))


def _reading(vital: Vital, value: float, t: float) -> Reading:
    reading = make_reading(vital, value, t, Quality.MANUAL)
    if reading.quality is not Quality.MANUAL:   # cannot happen after the checks above
        raise ManualEntryError(vital, value, f"{SPECS[vital].label} {value:g} was not accepted")
    return reading


def apply_manual(entry: ManualEntry, t: float) -> tuple[Reading, ...] | CommandRefused:
    """:func:`manual_readings`, with a refusal as a :class:`CommandRefused` for the hub."""
    try:
        return manual_readings(entry, t)
    except ManualEntryError as exc:
        return CommandRefused(t, "manual_entry", f"Manual entry refused: {exc}.", entry.by.strip())
