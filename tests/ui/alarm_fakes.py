"""Alarm snapshots built by hand, and a silent stand-in for the speaker."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from monitor.core.alarms.model import AlarmEntry, AlarmKind, AlarmSnapshot, Priority
from monitor.core.vitals import Vital
from tests.ui.helpers import T0


def entry(priority: Priority, message: str, vital: Vital | None = Vital.SPO2, *,
          alarm_id: str | None = None, kind: AlarmKind = AlarmKind.PHYSIOLOGICAL,
          **kwargs) -> AlarmEntry:
    """One alarm on screen (active, unacknowledged unless told otherwise)."""
    kwargs.setdefault("raised_at", T0)
    return AlarmEntry(alarm_id or f"{vital.value if vital else 'tech'}.{priority.label}",
                      kind, vital, priority, message, **kwargs)


def snapshot(*alarms: AlarmEntry, **kwargs) -> AlarmSnapshot:
    """A snapshot with ``alarms`` sorted the engine's way (most urgent first)."""
    ordered = sorted(alarms, key=lambda e: (-e.priority, not e.signalling, not e.active,
                                            -e.raised_at))
    return AlarmSnapshot(kwargs.pop("t", T0), tuple(ordered), **kwargs)


class FakeSound(QObject):
    """Records what the view asks of the speaker; the signals of the real player.

    Signals
    -------
    audio_failed(str)
    burst_started(int)
    """

    audio_failed = Signal(str)
    burst_started = Signal(int)

    def __init__(self) -> None:
        super().__init__()
        self.sounding: list[Priority | None] = []
        self.reminders = 0
        self.audio_ok = True

    def set_sounding(self, priority: Priority | None) -> None:
        self.sounding.append(priority)

    def play_reminder(self) -> bool:
        self.reminders += 1
        return True

    def close(self) -> None:
        pass
