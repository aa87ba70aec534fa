"""Operator commands on the alarm engine: acknowledge, audio pause, alarms off, limits, profiles.

:class:`OperatorCommands` is the half of
:class:`~monitor.core.alarms.engine.AlarmEngine` that applies what the nurse
does (:meth:`OperatorCommands.command`): acknowledging an alarm, pausing or
resuming the sound, turning one vital's alarms off or on, changing a limit,
loading another profile, and the sound output's own status. It is mixed into
the engine and works on the engine's state (profile, board, rule states); it
is not used alone.

Who silenced, acknowledged, turned off or changed anything is always recorded:
such a command without the nurse's initials is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from monitor.core.alarms.board import AlarmBoard
from monitor.core.alarms.messages import cleared_message, value_text
from monitor.core.alarms.model import (
    Acknowledge,
    AlarmAction,
    AlarmCommand,
    AlarmKind,
    AlarmMessage,
    AudioOutput,
    ChangeLimit,
    LimitChanged,
    PauseAudio,
    ResumeAudio,
    SetVitalAlarms,
)
from monitor.core.alarms.profile import AlarmProfile, ProfileError, Rule
from monitor.core.alarms.rules import RuleState
from monitor.core.alarms.technical import TechnicalAlarms, TechnicalSpec
from monitor.core.vitals import SPECS, Kind, Vital


@dataclass(frozen=True)
class LoadProfile:
    """Replace the session's profile (the previous one stays if this one was refused)."""

    profile: AlarmProfile
    by: str = ""


class OperatorCommands:
    """Applies operator actions to the engine's alarms (mixed into the engine).

    The engine provides the attributes and the methods declared here.
    """

    profile: AlarmProfile
    board: AlarmBoard
    changed: bool
    _now: float
    _states: dict[str, RuleState]
    _by_vital: dict[Vital, list[RuleState]]
    _last_det: dict[Vital, tuple[float, float]]
    _vitals_off: dict[Vital, float]
    _audio_ok: bool
    _technical: TechnicalAlarms
    measures: frozenset[Vital] | None

    if TYPE_CHECKING:
        def _build_states(self) -> None: ...

        def _baseline_for(self, rule: Rule, vital: Vital) -> float | None: ...

        def _update_alarms(self, alarm_ids: set[str], t: float, vital: Vital | None,
                           out: list[AlarmMessage], cause: str | None = None) -> None: ...

        def _apply_technical(self, spec: TechnicalSpec, active: bool, t: float,
                             out: list[AlarmMessage]) -> None: ...

    def command(self, cmd: AlarmCommand | LoadProfile, t: float) -> list[AlarmMessage]:
        """Apply an operator action at session time ``t``."""
        out: list[AlarmMessage] = []
        self._now = max(self._now, t)
        if isinstance(cmd, (Acknowledge, PauseAudio)) and not cmd.by.strip():
            # Who silenced or acknowledged an alarm is always recorded. (Turning the
            # sound back on is never refused.)
            what = "acknowledging" if isinstance(cmd, Acknowledge) else "pausing the sound"
            out.append(AlarmAction(t, "refused", f"{what} needs the nurse's initials"))
        elif isinstance(cmd, Acknowledge):
            self.board.acknowledge(cmd.alarm_id, cmd.by.strip(), t, out)
        elif isinstance(cmd, PauseAudio):
            self.board.pause_audio(t, cmd.minutes, cmd.by, out)
        elif isinstance(cmd, ResumeAudio):
            self.board.resume_audio(t, cmd.by, out)
        elif isinstance(cmd, SetVitalAlarms):
            self._set_vital(cmd, t, out)
        elif isinstance(cmd, ChangeLimit):
            self._change_limit(cmd, t, out)
        elif isinstance(cmd, AudioOutput):
            self._audio_ok = self._audio_ok and cmd.ok
            for spec, active in self._technical.on_audio(cmd):
                self._apply_technical(spec, active, t, out)
        elif isinstance(cmd, LoadProfile):
            self._load(cmd, t, out)
        self.changed = True
        return out

    def _can_alarm(self, vital: Vital) -> bool:
        """Whether readings of ``vital`` can reach its rules (NIBP can always be typed in)."""
        m = self.measures
        return (m is None or vital in m or SPECS[vital].kind is Kind.DISCRETE
                or (vital is Vital.HR and Vital.PULSE_RATE in m))

    def _set_vital(self, cmd: SetVitalAlarms, t: float, out: list[AlarmMessage]) -> None:
        vitals = {r.vital for r in self.profile.rules}
        if cmd.vital not in vitals:
            out.append(AlarmAction(t, "refused", f"{cmd.vital.value} has no alarms", cmd.by))
            return
        if cmd.enabled:
            if self._vitals_off.pop(cmd.vital, None) is not None:
                out.append(AlarmAction(t, "alarms_on", cmd.vital.value, cmd.by))
            return
        if cmd.vital in self._vitals_off:
            return
        # Alarms that can never fire (a vital the source cannot measure) do not count.
        if not {v for v in vitals if self._can_alarm(v)} - set(self._vitals_off) - {cmd.vital}:
            out.append(AlarmAction(t, "refused", "the alarms of every vital cannot all be off; "
                                   "technical alarms are never off", cmd.by))
            return
        if not cmd.by.strip():
            out.append(AlarmAction(t, "refused", "turning alarms off needs the nurse's initials"))
            return
        self._vitals_off[cmd.vital] = t + self.profile.off_reminder_s
        out.append(AlarmAction(t, "alarms_off", f"{cmd.vital.value}"
                               + (f": {cmd.reason}" if cmd.reason else ""), cmd.by))
        touched = set()
        for s in self._by_vital.get(cmd.vital, []):
            s.reset()
            touched.add(s.rule.alarm)
        self._update_alarms(touched, t, None, out,
                            f"{SPECS[cmd.vital].label} alarms turned off by {cmd.by.strip()}")
        for alarm_id in touched:
            self.board.remove(alarm_id)

    def _change_limit(self, cmd: ChangeLimit, t: float, out: list[AlarmMessage]) -> None:
        try:
            old = self.profile.rule(cmd.rule_id)
            new_profile = self.profile.with_change(cmd.rule_id, cmd.setting, cmd.value)
        except (KeyError, ProfileError) as exc:
            out.append(AlarmAction(t, "refused", str(exc), cmd.by))
            return
        if not cmd.by.strip():
            out.append(AlarmAction(t, "refused", "a limit change needs the nurse's initials"))
            return
        old_value = float(getattr(old, cmd.setting))
        self.profile = new_profile
        new_rule = new_profile.rule(cmd.rule_id)
        state = self._states[cmd.rule_id]
        state.rule = new_rule
        out.append(LimitChanged(t, cmd.rule_id, cmd.setting, old_value, float(cmd.value),
                                cmd.by, cmd.reason))
        self._reevaluate(new_rule.vital, t, out)

    def _load(self, cmd: LoadProfile, t: float, out: list[AlarmMessage]) -> None:
        self.profile = cmd.profile
        self._technical.profile = cmd.profile
        self.board.profile = cmd.profile
        self._build_states()
        out.append(AlarmAction(t, "profile_loaded", f"{cmd.profile.name} ({cmd.profile.source})",
                               cmd.by))
        for vital in {r.vital for r in cmd.profile.rules}:
            self._reevaluate(vital, t, out)
        gone = {a for a, v in self.board.items() if v.kind is AlarmKind.PHYSIOLOGICAL
                and a not in {r.alarm for r in cmd.profile.rules}}
        for alarm_id in gone:
            shown = self.board.get(alarm_id)
            if shown is not None and shown.active:
                self.board.clear(shown, t, out, cleared_message(
                    shown, None, None, f"the alarm profile changed to {cmd.profile.name}"))
            self.board.remove(alarm_id)

    def _reevaluate(self, vital: Vital, t: float, out: list[AlarmMessage]) -> None:
        """After a change: judge the last NIBP determination again under the new rules."""
        states = self._by_vital.get(vital, [])
        if SPECS[vital].kind is Kind.DISCRETE and vital in self._last_det \
                and vital not in self._vitals_off:
            det_t, value = self._last_det[vital]
            for s in states:
                s.reset()
                s.feed(det_t, value, self._baseline_for(s.rule, vital), vital)
        fed = states[0] if states else None
        self._update_alarms({s.rule.alarm for s in states}, t, None, out,
                            "the limits changed" if fed is None or fed.value is None else
                            f"{SPECS[fed.vital].label} {value_text(fed.vital, fed.value)} "
                            "is within the changed limits")


__all__ = ["LoadProfile", "OperatorCommands"]
