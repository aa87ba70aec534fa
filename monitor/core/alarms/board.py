"""The alarms on screen and the audio pause: raise, escalate, clear, acknowledge, expire.

:class:`AlarmBoard` knows nothing about limits or readings; the engine tells
it what happened and it keeps the IEC 60601-1-8 bookkeeping — latching, the
minimum display time of non-latching alarms, acknowledgement, audio pause
and its breakthrough by a new high-priority alarm — and says each change as
an :class:`~monitor.core.alarms.model.AlarmTransition` or
:class:`~monitor.core.alarms.model.AlarmAction`.
"""

from __future__ import annotations

from dataclasses import dataclass

from monitor.core.alarms.model import (
    AlarmAction,
    AlarmEntry,
    AlarmKind,
    AlarmMessage,
    AlarmTransition,
    Priority,
    TransitionState,
)
from monitor.core.alarms.profile import AlarmProfile
from monitor.core.vitals import Vital


@dataclass
class ShownAlarm:
    """One alarm on the board (mutable; :meth:`entry` gives the immutable view)."""

    alarm_id: str
    kind: AlarmKind
    vital: Vital | None
    priority: Priority
    message: str
    raised_at: float
    value: float | None
    limit: float | None
    upper: bool = True
    active: bool = True
    acknowledged: bool = False
    latched: bool = False
    cleared_at: float | None = None
    worst: float | None = None
    show_until: float = 0.0

    def entry(self) -> AlarmEntry:
        """The :class:`AlarmEntry` the snapshot carries."""
        return AlarmEntry(self.alarm_id, self.kind, self.vital, self.priority, self.message,
                          self.raised_at, self.active, self.cleared_at, self.acknowledged,
                          self.latched, self.value, self.limit)

    @property
    def lingering(self) -> bool:
        """Condition over, but still shown (latched and not acknowledged)."""
        return not self.active and self.latched and not self.acknowledged


class AlarmBoard:
    """The shown alarms of one session and the audio-pause state.

    Parameters
    ----------
    profile : AlarmProfile
        For latching per priority and the minimum display time (replace
        :attr:`profile` when the session's profile changes).
    """

    def __init__(self, profile: AlarmProfile) -> None:
        self.profile = profile
        self.paused_until: float | None = None
        self.changed = True
        self._alarms: dict[str, ShownAlarm] = {}

    def get(self, alarm_id: str) -> ShownAlarm | None:
        """The shown alarm with this id, if any."""
        return self._alarms.get(alarm_id)

    def items(self) -> list[tuple[str, ShownAlarm]]:
        """(id, alarm) pairs, a copy safe to iterate while changing the board."""
        return list(self._alarms.items())

    def entries(self) -> tuple[AlarmEntry, ...]:
        """Most urgent first: priority, signalling before acknowledged, newest first."""
        return tuple(sorted((a.entry() for a in self._alarms.values()),
                            key=lambda e: (-e.priority, not e.signalling, not e.active,
                                           -e.raised_at)))

    # -- lifecycle -------------------------------------------------------

    def raise_(self, alarm_id: str, kind: AlarmKind, vital: Vital | None, prio: Priority,
               message: str, t: float, value: float | None, limit: float | None,
               out: list[AlarmMessage], *, upper: bool = True,
               latch: bool | None = None) -> ShownAlarm:
        """Show a new alarm (replacing a lingering one with the same id)."""
        a = ShownAlarm(alarm_id, kind, vital, prio, message, t, value, limit, upper=upper,
                       latched=self.profile.latching[prio] if latch is None else latch,
                       worst=value, show_until=t + self.profile.min_shown_s)
        self._alarms[alarm_id] = a
        out.append(AlarmTransition(alarm_id, kind, vital, prio, TransitionState.RAISED, t,
                                   value, limit, message))
        self._breakthrough(prio, t, out)
        self.changed = True
        return a

    def escalate(self, a: ShownAlarm, prio: Priority, message: str, t: float,
                 value: float | None, limit: float | None, out: list[AlarmMessage]) -> None:
        """Raise ``a``'s priority; an acknowledged alarm signals again."""
        a.priority, a.message, a.value, a.limit = prio, message, value, limit
        a.acknowledged = False
        a.latched = a.latched or self.profile.latching[prio]
        out.append(AlarmTransition(a.alarm_id, a.kind, a.vital, prio, TransitionState.ESCALATED,
                                   t, value, limit, message))
        self._breakthrough(prio, t, out)
        self.changed = True

    def clear(self, a: ShownAlarm, t: float, out: list[AlarmMessage], message: str) -> None:
        """The condition ended: logged with the worst value and ``message``, what cleared it.

        The shown alarm keeps the last message it had while active (a latched
        one stays on screen saying what it was, with its clearing time).
        """
        a.active = False
        a.cleared_at = t
        out.append(AlarmTransition(a.alarm_id, a.kind, a.vital, a.priority,
                                   TransitionState.CLEARED, t, a.worst, a.limit, message))
        if not a.lingering and t >= a.show_until:
            del self._alarms[a.alarm_id]
        self.changed = True

    def remove(self, alarm_id: str) -> None:
        """Take an alarm off the board without a transition (its condition was logged)."""
        if self._alarms.pop(alarm_id, None) is not None:
            self.changed = True

    def acknowledge(self, alarm_id: str | None, by: str, t: float,
                    out: list[AlarmMessage]) -> None:
        """Acknowledge one alarm or all: no more sound or flashing; lingering ones go."""
        for key, a in self.items():
            if (alarm_id is not None and key != alarm_id) or a.acknowledged:
                continue
            a.acknowledged = True
            out.append(AlarmTransition(key, a.kind, a.vital, a.priority,
                                       TransitionState.ACKNOWLEDGED, t, a.worst, a.limit,
                                       a.message, by))
            if not a.active and t >= a.show_until:
                del self._alarms[key]
        out.append(AlarmAction(t, "acknowledge", alarm_id or "all", by))
        self.changed = True

    def release_all(self, t: float, out: list[AlarmMessage]) -> None:
        """The session ended: nothing is monitored, so nothing stays shown or sounding.

        Latched alarms nobody acknowledged are logged as released (an
        ``AlarmAction`` ``released``), so the record says they were never
        acknowledged; an audio pause ends with them.
        """
        unacknowledged = [key for key, a in self.items() if not a.acknowledged]
        for a in list(self._alarms.values()):
            if a.active:   # its condition is no longer watched
                self.clear(a, t, out, "Ended: the session ended")
        if unacknowledged:
            out.append(AlarmAction(t, "released", ", ".join(unacknowledged) +
                                   " not acknowledged before the session ended", "system"))
        if self._alarms:
            self._alarms.clear()
            self.changed = True
        if self.paused_until is not None:
            self.paused_until = None
            self.changed = True

    def expire(self, t: float) -> None:
        """Drop cleared alarms whose minimum display time is over (latched ones stay)."""
        for key, a in self.items():
            if not a.active and not a.lingering and t >= a.show_until:
                del self._alarms[key]
                self.changed = True

    # -- audio pause -------------------------------------------------------

    def pause_audio(self, t: float, minutes: float | None, by: str,
                    out: list[AlarmMessage]) -> None:
        """Pause the sound for the offered length nearest ``minutes`` (default: the profile's)."""
        wanted = (minutes if minutes is not None else self.profile.pause_s / 60) * 60.0
        secs = min(self.profile.pause_choices_s, key=lambda c: abs(c - wanted))
        self.paused_until = t + secs
        out.append(AlarmAction(t, "audio_pause", f"{secs / 60:g} min", by))
        self.changed = True

    def resume_audio(self, t: float, by: str, out: list[AlarmMessage]) -> None:
        """End an audio pause early."""
        if self.paused_until is not None:
            self.paused_until = None
            out.append(AlarmAction(t, "audio_resume", "audio on", by))
            self.changed = True

    def tick_pause(self, t: float, out: list[AlarmMessage]) -> None:
        """End the audio pause when its time is up."""
        if self.paused_until is not None and t >= self.paused_until:
            self.paused_until = None
            out.append(AlarmAction(t, "audio_pause_ended", "audio pause over"))
            self.changed = True

    def _breakthrough(self, prio: Priority, t: float, out: list[AlarmMessage]) -> None:
        if prio is Priority.HIGH and self.paused_until is not None:
            self.paused_until = None
            out.append(AlarmAction(t, "breakthrough", "a new high-priority alarm ended the "
                                   "audio pause"))
