"""Alarm types shared by the engine, the recorder, the headless printer and the UI.

Everything here is a plain, immutable value. The engine (in the hub thread)
produces :class:`AlarmTransition`, :class:`AlarmAction`, :class:`LimitChanged`
and :class:`AlarmReminder` messages, and keeps an :class:`AlarmSnapshot` of
what the nurse must see and hear now. Operator actions travel the other way
as the command dataclasses at the bottom of this module.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from monitor.core.alarms.levels import LimitLines, Priority
from monitor.core.vitals import Vital

if TYPE_CHECKING:
    from monitor.core.alarms.profile import AlarmProfile


class AlarmKind(enum.StrEnum):
    """Physiological (a value crossed a limit) or technical (the equipment or data path)."""

    PHYSIOLOGICAL = "physiological"
    TECHNICAL = "technical"


class TransitionState(enum.StrEnum):
    """What happened to an alarm condition; the ``state`` of an alarm JSON line."""

    RAISED = "raised"
    ESCALATED = "escalated"
    ACKNOWLEDGED = "acknowledged"
    CLEARED = "cleared"


@dataclass(frozen=True)
class AlarmTransition:
    """One alarm condition changed state at session time ``t``.

    Attributes
    ----------
    alarm_id : str
        Stable id, e.g. ``"spo2.low"`` or ``"source.no_data"``.
    kind : AlarmKind
    vital : Vital or None
    priority : Priority
        The priority after the transition.
    state : TransitionState
    t : float
    value : float or None
        The value that completed the condition (raised, escalated), or the
        worst value seen while it lasted (acknowledged, cleared).
    limit : float or None
        The limit in force for that priority.
    message : str
        What the nurse reads, e.g. ``"SpO2 87 < 92"``.
    by : str
        Who acknowledged (empty otherwise).
    """

    alarm_id: str
    kind: AlarmKind
    vital: Vital | None
    priority: Priority
    state: TransitionState
    t: float
    value: float | None
    limit: float | None
    message: str
    by: str = ""


@dataclass(frozen=True)
class AlarmEntry:
    """One alarm as shown right now (an item of :class:`AlarmSnapshot`).

    Attributes
    ----------
    alarm_id, kind, vital, priority, message
        As in :class:`AlarmTransition`.
    raised_at : float
    active : bool
        The condition still exists. ``False`` for a latched alarm whose
        condition ended (shown as "cleared at hh:mm" until acknowledged) and
        for a non-latching alarm kept on screen for its minimum 5 s.
    cleared_at : float or None
    acknowledged : bool
        Acknowledged alarms do not flash or sound but keep their colour.
    latched : bool
        The alarm latches: it stays until acknowledged even after it clears.
    value, limit : float or None
    """

    alarm_id: str
    kind: AlarmKind
    vital: Vital | None
    priority: Priority
    message: str
    raised_at: float
    active: bool = True
    cleared_at: float | None = None
    acknowledged: bool = False
    latched: bool = False
    value: float | None = None
    limit: float | None = None

    @property
    def signalling(self) -> bool:
        """Whether this alarm flashes and may sound (not acknowledged, not a 5-s leftover)."""
        return not self.acknowledged and (self.active or self.latched)


@dataclass(frozen=True)
class AlarmSnapshot:
    """Everything the alarm bar, the tiles and the speaker need, at session time ``t``.

    Attributes
    ----------
    t : float
    alarms : tuple of AlarmEntry
        Most urgent first: priority, then signalling before acknowledged,
        then newest first.
    audio_paused_until : float or None
        Session time when the audio pause ends, ``None`` if not paused.
    vitals_off : tuple of Vital
        Vitals whose physiological alarms the nurse turned off.
    limits : dict of Vital to LimitLines
    audio_ok : bool
        ``False`` once the speaker was found missing ("NO ALARM SOUND").
    profile : AlarmProfile or None
        The limits in force (the starting point of the limits dialog).
    """

    t: float
    alarms: tuple[AlarmEntry, ...] = ()
    audio_paused_until: float | None = None
    vitals_off: tuple[Vital, ...] = ()
    limits: dict[Vital, LimitLines] = field(default_factory=dict)
    audio_ok: bool = True
    profile: AlarmProfile | None = None

    @property
    def profile_name(self) -> str:
        """Name of the profile in force (empty if none)."""
        return self.profile.name if self.profile is not None else ""

    @property
    def highest(self) -> Priority | None:
        """Highest priority among the alarms on screen, or ``None``."""
        return max((a.priority for a in self.alarms), default=None)

    @property
    def sounding(self) -> Priority | None:
        """The priority the speaker should play now (only the highest signalling one)."""
        if self.audio_paused_until is not None:
            return None
        return max((a.priority for a in self.alarms if a.signalling), default=None)

    def for_vital(self, vital: Vital) -> AlarmEntry | None:
        """The most urgent physiological alarm shown for ``vital``, if any."""
        for entry in self.alarms:
            if entry.vital is vital and entry.kind is AlarmKind.PHYSIOLOGICAL:
                return entry
        return None


@dataclass(frozen=True)
class AlarmAction:
    """An operator (or system) action on the alarm system, for the log.

    ``action`` is one of ``acknowledge``, ``audio_pause``, ``audio_resume``,
    ``audio_pause_ended``, ``alarms_off``, ``alarms_on``, ``profile_loaded``,
    ``breakthrough``, ``refused``, ``released`` (alarms still shown when the
    session ended, with those nobody acknowledged).
    """

    t: float
    action: str
    detail: str = ""
    by: str = ""


@dataclass(frozen=True)
class LimitChanged:
    """A limit or delay of one rule changed during the session."""

    t: float
    rule_id: str
    setting: str
    old: float
    new: float
    by: str
    reason: str = ""


@dataclass(frozen=True)
class AlarmReminder:
    """Time to play the reminder tone (a vital's alarms are off)."""

    t: float
    message: str


# -- operator commands (UI -> hub) ---------------------------------------


@dataclass(frozen=True)
class Acknowledge:
    """Acknowledge one alarm (``alarm_id``) or every alarm on screen (``None``)."""

    by: str = ""
    alarm_id: str | None = None


@dataclass(frozen=True)
class PauseAudio:
    """Pause alarm sound for ``minutes`` (``None``: the profile's default)."""

    by: str = ""
    minutes: float | None = None


@dataclass(frozen=True)
class ResumeAudio:
    """End an audio pause early."""

    by: str = ""


@dataclass(frozen=True)
class SetVitalAlarms:
    """Turn the physiological alarms of one vital off (``enabled=False``) or back on."""

    vital: Vital
    enabled: bool
    by: str
    reason: str = ""


@dataclass(frozen=True)
class ChangeLimit:
    """Change one setting (``limit`` or ``delay_s``) of one rule of the session's limits."""

    rule_id: str
    setting: str
    value: float
    by: str
    reason: str = ""


@dataclass(frozen=True)
class LoadProfileFile:
    """Load an alarm profile file during a session; if it is refused the current one stays."""

    path: str
    by: str = ""


@dataclass(frozen=True)
class AudioOutput:
    """The UI's report on the speaker: ``ok=False`` raises the latching technical alarm."""

    ok: bool
    message: str = ""


AlarmCommand = (Acknowledge | PauseAudio | ResumeAudio | SetVitalAlarms | ChangeLimit
                | AudioOutput | LoadProfileFile)
AlarmMessage = AlarmTransition | AlarmAction | LimitChanged | AlarmReminder
