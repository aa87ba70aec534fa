"""How alarms look: priority colours, flashing phase and message text (no Qt).

IEC 60601-1-8 visual signals as recommended in
``alarms-and-ketamine-sessions.md`` §1.3: high = red flashing at 2 Hz,
medium = yellow flashing at 0.5 Hz, both at 50 % duty; low = cyan, steady.
An alarm that no longer signals (acknowledged, or a non-latching alarm kept
on screen for its minimum time) stops flashing but keeps its colour.

Everything here is a pure function of its arguments, so the colour shown at
any moment can be tested without a widget or a timer.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass

from monitor.core.alarms.model import AlarmEntry, Priority

FLASH_PERIOD_S: dict[Priority, float] = {Priority.HIGH: 0.5, Priority.MEDIUM: 2.0}
"""Flash period per priority (2 Hz and 0.5 Hz); a priority not listed is steady."""

FLASH_DUTY = 0.5
"""Fraction of each period the signal is lit."""


PREFIX: dict[Priority, str] = {Priority.HIGH: "***", Priority.MEDIUM: "**", Priority.LOW: "*"}
"""IEC-style priority marks in front of alarm messages."""


@dataclass(frozen=True)
class PriorityColours:
    """The colours of one priority.

    Attributes
    ----------
    lit : str
        Background of the lit phase (and of a steady signal).
    lit_text : str
        Text on ``lit``.
    dark_text : str
        Text colour on the dark background of the unlit phase.
    tint : str
        Colour washed over a tile in alarm.
    """

    lit: str
    lit_text: str
    dark_text: str
    tint: str


COLOURS: dict[Priority, PriorityColours] = {
    Priority.HIGH: PriorityColours("#d50000", "#ffffff", "#ff5252", "#ff1744"),
    Priority.MEDIUM: PriorityColours("#ffd600", "#000000", "#ffd600", "#ffd600"),
    Priority.LOW: PriorityColours("#00e5ff", "#000000", "#00e5ff", "#00e5ff"),
}

UNLIT_BACKGROUND = "#1a1a1a"
"""Background of the alarm message during the unlit half of a flash."""


def flash_on(priority: Priority, t: float, *, steady: bool = False) -> bool:
    """Whether a signal of ``priority`` is lit at flash time ``t``.

    Parameters
    ----------
    priority : Priority
    t : float
        Seconds on the flash clock (monotonic; every widget uses the same
        one, so they flash in phase). A period starts lit.
    steady : bool
        The alarm does not signal any more (acknowledged): always lit.

    Returns
    -------
    bool
    """
    period = FLASH_PERIOD_S.get(priority)
    if steady or period is None:
        return True
    return (t % period) < period * FLASH_DUTY


def next_switch(priorities: Iterable[Priority], t: float) -> float | None:
    """The first flash time after ``t`` at which a signal of these priorities turns on or off.

    The one flash timer sleeps until then (:class:`~monitor.ui.alarms.bar.AlarmBarWidget`):
    between two switches nothing on screen changes. ``None`` if none of them flashes.
    """
    out: float | None = None
    for priority in set(priorities):
        period = FLASH_PERIOD_S.get(priority)
        if period is None:
            continue
        base = math.floor(t / period) * period
        for edge in (base + period * FLASH_DUTY, base + period, base + period * (1 + FLASH_DUTY)):
            if edge > t + 1e-9:
                out = edge if out is None else min(out, edge)
                break
    return out


def flashes(entry: AlarmEntry) -> bool:
    """Whether ``entry`` flashes (it still signals and its priority flashes)."""
    return entry.signalling and entry.priority in FLASH_PERIOD_S


def entry_lit(entry: AlarmEntry, t: float) -> bool:
    """Whether ``entry``'s visual signal is lit at flash time ``t``."""
    return flash_on(entry.priority, t, steady=not entry.signalling)


def clock_text(t: float, seconds: bool = False) -> str:
    """Local wall time of epoch seconds ``t``: ``"14:03"`` (or ``"14:03:27"``)."""
    return time.strftime("%H:%M:%S" if seconds else "%H:%M", time.localtime(t))


def alarm_text(entry: AlarmEntry) -> str:
    """The message as shown on the alarm bar: ``"*** SpO2 87 < 92"``.

    An alarm whose condition ended but that is still on screen (a latched
    alarm waiting for acknowledgement, or a short-lived one kept for its
    minimum display time) says when it cleared.
    """
    text = f"{PREFIX[entry.priority]} {entry.message}"
    if not entry.active and entry.cleared_at is not None:
        text += f" \u2014 cleared at {clock_text(entry.cleared_at)}"
    return text


_DETAIL = re.compile(r"\s*\([^()]*\)")
_COMPARATOR = re.compile(r"\s*([<>]=?|\u2264|\u2265)\s*")


def alarm_texts(entry: AlarmEntry) -> list[str]:
    """:func:`alarm_text` and its shorter wordings, longest first, each distinct.

    The bar shows the first that fits; nothing is cut off. By rule, in this
    order: the detail in brackets goes (``(no audio output device)``), then a
    technical alarm's explanation after its name (``NO ALARM SOUND: no audio
    output`` -> ``NO ALARM SOUND``), then ``cleared at`` becomes ``cleared``,
    then the spaces around a comparison (``SpO2 87<92``). The priority mark,
    the vital, its value and limit, and when a latched alarm cleared, always
    stay.
    """
    prefix = PREFIX[entry.priority]
    message = entry.message
    cleared = "" if entry.active or entry.cleared_at is None else clock_text(entry.cleared_at)
    steps = [message, _DETAIL.sub("", message)]
    head, sep, _ = steps[-1].partition(": ")
    steps.append(head if sep and head.isupper() else steps[-1])
    out = [f"{prefix} {m}" + (f" \u2014 cleared at {cleared}" if cleared else "")
           for m in steps]
    short = steps[-1]
    if cleared:
        out.append(f"{prefix} {short} cleared {cleared}")
    tight = _COMPARATOR.sub(lambda m: m.group(1), short)
    out.append(f"{prefix} {tight}" + (f" cleared {cleared}" if cleared else ""))
    return list(dict.fromkeys(out))


def countdown_text(seconds: float) -> str:
    """``m:ss`` of a countdown, rounded up (``0:00`` once over)."""
    whole = max(0, int(-(-seconds // 1)))
    return f"{whole // 60}:{whole % 60:02d}"
