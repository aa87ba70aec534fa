"""Alarm priorities and limit lines: the words the alarm model and the profiles share.

Kept apart so that :mod:`monitor.core.alarms.profile` (the rules) and
:mod:`monitor.core.alarms.model` (the messages, which name a profile) do not
import each other.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Priority(enum.IntEnum):
    """IEC 60601-1-8 alarm priorities; higher is more urgent."""

    LOW = 1
    MEDIUM = 2
    HIGH = 3

    @property
    def label(self) -> str:
        """``"low"``, ``"medium"`` or ``"high"``: the name used in files and JSON."""
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Priority:
        """Look a priority up by its lowercase name."""
        try:
            return cls[text.upper()]
        except KeyError:
            raise ValueError(f"unknown priority {text!r}; allowed: low, medium, high") from None


@dataclass(frozen=True)
class LimitLines:
    """The absolute limits of one vital, for drawing on its trend (``None``: no such limit)."""

    low_medium: float | None = None
    low_high: float | None = None
    high_medium: float | None = None
    high_high: float | None = None

    def on_side(self, side: str, *, high_first: bool = False) -> tuple[float, Priority] | None:
        """The limit on ``side`` (``"low"`` or ``"high"``) that is in force, with its priority.

        The medium-priority limit (the high-priority one with ``high_first``),
        else the other level's; ``None`` if that side has no limit.
        """
        levels = (Priority.HIGH, Priority.MEDIUM) if high_first else (Priority.MEDIUM,
                                                                       Priority.HIGH)
        for priority in levels:
            value = getattr(self, f"{side}_{priority.label}")
            if value is not None:
                return value, priority
        return None
