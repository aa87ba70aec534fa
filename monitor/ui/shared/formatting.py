"""Pure text formatting for the live view (no Qt): ages, clocks, values, reasons."""

from __future__ import annotations

import math

from monitor.core.reading import Quality
from monitor.core.vitals import SPECS, Vital

NO_VALUE_TEXT = "---"
"""What a tile shows instead of a number that is missing, invalid or stale."""

STALE_REASON = "NO DATA"
"""Reason shown under a continuous vital whose last value has gone stale."""

ENDED_REASON = "ENDED"
"""Reason shown under every continuous vital once the session has ended."""

_QUALITY_REASONS: dict[Quality, str] = {
    Quality.NO_VALUE: "NO DATA",
    Quality.NOT_UPDATED: "NOT UPDATED",
    Quality.SENSOR_OFF: "SENSOR OFF",
    Quality.ARTIFACT: "ARTIFACT",
    Quality.OUT_OF_RANGE: "OUT OF RANGE",
    Quality.QUESTIONABLE: "QUESTIONABLE",
    Quality.LOW_PERFUSION: "LOW PERFUSION",   # a caveat shown with the value, not instead
}


def format_age(seconds: float) -> str:
    """Say how long ago something happened, for the NIBP determination.

    Parameters
    ----------
    seconds : float
        Age in seconds; negative ages (clock skew) count as zero.

    Returns
    -------
    str
        ``"just now"`` under a minute, ``"4 min ago"`` under an hour,
        ``"1 h 5 min ago"`` (or ``"2 h ago"`` on the hour) beyond.
    """
    if not math.isfinite(seconds) or seconds < 60:
        return "just now"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min ago"
    hours, minutes = divmod(minutes, 60)
    if minutes == 0:
        return f"{hours} h ago"
    return f"{hours} h {minutes} min ago"


def format_before_end(seconds: float) -> str:
    """How long before the session's end something happened (a frozen age)."""
    age = format_age(seconds)
    return "at the end" if age == "just now" else age.replace(" ago", " before the end")


def format_elapsed(seconds: float) -> str:
    """Format a duration as ``H:MM:SS`` (negative durations count as zero)."""
    total = int(seconds) if math.isfinite(seconds) and seconds > 0 else 0
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


def format_gap(gap_s: float | None) -> str:
    """The header message for a resumed session."""
    if gap_s is None or not math.isfinite(gap_s):
        return "Session resumed"
    minutes = max(1, round(gap_s / 60.0))
    return f"Session resumed after a gap of {minutes} min"


def format_value(vital: Vital, value: float) -> str:
    """A value with the vital's number of decimals; NaN becomes ``---``."""
    if not math.isfinite(value):
        return NO_VALUE_TEXT
    return f"{value:.{SPECS[vital].decimals}f}"


def quality_reason(quality: Quality) -> str:
    """The short upper-case reason shown under ``---`` (empty for valued qualities)."""
    return _QUALITY_REASONS.get(quality, "")
