"""The alarm engine: conditions -> alarms with priorities, delays, latching and operator actions.

Runs in the hub thread with the session clock: :meth:`AlarmEngine.on_reading`
for every reading, :meth:`AlarmEngine.on_technical` for every technical
condition, and :meth:`AlarmEngine.tick` as session time passes (so delays,
"NIBP overdue", escalation, audio-pause expiry and reminders happen with no
reading arriving). Each call returns the messages to log and publish; the
current picture is :meth:`AlarmEngine.snapshot`.

Lifecycle of one alarm (identified by its id, e.g. ``spo2.low``)::

    inactive -> pending (a rule's condition delay running)
             -> active (raised; escalated when a more urgent rule is met)
             -> cleared (no rule met) -> removed, or kept on screen if it
                latches (until acknowledged) or for its minimum display time

Technical conditions suppress the physiological alarms of the vitals they
invalidate: a probe off is not a desaturation. A condition of one source of
several (``Technical.source``) invalidates no vital, since the hub falls back to
another device (a vital none has goes stale); only when every source is
silent are all vitals invalid, as with one silent device. Operator actions
(:meth:`AlarmEngine.command`) are applied by the engine's
:class:`~monitor.core.alarms.commands.OperatorCommands` half.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from monitor.core.alarms.board import AlarmBoard
from monitor.core.alarms.commands import LoadProfile, OperatorCommands
from monitor.core.alarms.messages import (
    alarm_message,
    cleared_message,
    extremity,
    invalidated_by,
    rule_feeds,
)
from monitor.core.alarms.model import (
    AlarmKind,
    AlarmMessage,
    AlarmReminder,
    AlarmSnapshot,
    Priority,
)
from monitor.core.alarms.profile import AlarmProfile, Basis, Rule
from monitor.core.alarms.rules import RuleState, worst
from monitor.core.alarms.technical import TechnicalAlarms, TechnicalSpec
from monitor.core.baseline import BaselineTracker
from monitor.core.events import Condition, RecordingStatus, Technical
from monitor.core.reading import Reading
from monitor.core.session import Phase
from monitor.core.vitals import SPECS, Kind, Vital

log = logging.getLogger(__name__)


_ALL_SILENT = f"{Condition.NO_DATA.value}:@every source"
"""The suppression key of a chair whose sources are all silent."""


class AlarmEngine(OperatorCommands):
    """Evaluates one session's alarms.

    Parameters
    ----------
    profile : AlarmProfile
    started_at : float
        Session start (session clock).
    stale_after : float
        The hub's no-data delay: a value is fresh this long after it arrived.
    phase : Phase
        The phase the session is in now (a resumed session may be past baseline).
    phase_started_at : float or None
    baseline_readings : iterable of Reading
        A resumed session's readings from its baseline phase, so the baseline
        (and its advisories) survive a restart.
    measures : frozenset of Vital or None
        What the session's source can measure (``None``: not declared). Without
        NIBP there is no "NIBP overdue" until the nurse enters one, but one
        low reminder that the session has no blood-pressure source.
    last_nibp_t : float or None
        A resumed session's last valid NIBP determination (device or typed), so
        "NIBP overdue" counts from it, not from the session start.
    sources : sequence of str
        The names of the session's sources when it has several; empty for one.
    """

    def __init__(self, profile: AlarmProfile, *, started_at: float, stale_after: float = 10.0,
                 phase: Phase = Phase.BASELINE, phase_started_at: float | None = None,
                 baseline_readings: Iterable[Reading] = (),
                 measures: frozenset[Vital] | None = None,
                 last_nibp_t: float | None = None,
                 sources: Sequence[str] = ()) -> None:
        self.profile = profile
        self.stale_after = stale_after
        self.phase = phase
        self.phase_started_at = started_at if phase_started_at is None else phase_started_at
        self.baseline = BaselineTracker()
        for reading in baseline_readings:
            self.baseline.add(reading)
        if phase is not Phase.BASELINE:
            self.baseline.freeze()
        self._states: dict[str, RuleState] = {}
        self.board = AlarmBoard(profile)
        self._last_valid: dict[Vital, float] = {}
        self._last_det: dict[Vital, tuple[float, float]] = {}
        self._suppressed: dict[str, frozenset[Vital]] = {}
        self._stale: set[Vital] = set()
        self._stale_grace: dict[Vital, float] = {}
        self._vitals_off: dict[Vital, float] = {}   # vital -> next reminder time
        self._audio_ok = True
        self._now = started_at
        self.measures = measures
        nibp_source = measures is None or bool(measures & {Vital.NIBP_SYS, Vital.NIBP_DIA})
        self._technical = TechnicalAlarms(profile, started_at, stale_after,
                                          nibp_source=nibp_source, sources=sources)
        if last_nibp_t is not None:
            self._technical.nibp_determined(last_nibp_t)
        self._build_states()
        self.changed = True

    # -- inputs ----------------------------------------------------------

    def on_reading(self, reading: Reading) -> list[AlarmMessage]:
        """Evaluate one reading (valid or not) at its time."""
        out: list[AlarmMessage] = []
        self._now = max(self._now, reading.t)
        vital = reading.vital
        if self.phase is Phase.BASELINE:
            self.baseline.add(reading)
        if reading.valid:
            self._last_valid[vital] = reading.t
        if vital in (Vital.NIBP_SYS, Vital.NIBP_DIA, Vital.NIBP_MEAN) and reading.valid:
            self._last_det[vital] = (reading.t, reading.value)
            self._technical.nibp_determined(reading.t)
        target = self._rule_vital(vital, reading.t)
        if target is None or self.phase is Phase.ENDED:
            return self._technical_out(out)
        states = self._by_vital.get(target, [])
        if not states:
            return self._technical_out(out)
        cause = None
        if not reading.valid or self._is_suppressed(vital) or target in self._vitals_off:
            if SPECS[vital].kind is not Kind.DISCRETE:   # a failed NIBP proves nothing
                for s in states:
                    s.reset()
            cause = (f"{SPECS[vital].label} alarms are off" if target in self._vitals_off
                     else f"no valid {SPECS[vital].label} value")
        else:
            for s in states:
                s.feed(reading.t, reading.value, self._baseline_for(s.rule, vital), vital)
        self._update_alarms({s.rule.alarm for s in states}, reading.t, vital, out, cause)
        return self._technical_out(out)

    def on_technical(self, tech: Technical) -> list[AlarmMessage]:
        """A technical condition from the hub became active or ended."""
        out: list[AlarmMessage] = []
        self._now = max(self._now, tech.t)
        key = f"{tech.condition.value}:{tech.vital.value if tech.vital else ''}"
        invalid = invalidated_by(tech)
        if tech.source:   # one device of several: the fall-back covers its vitals
            key, invalid = f"{key}@{tech.source}", frozenset()
        if tech.active and invalid:
            self._suppressed[key] = invalid
            self._suppress(invalid, tech.t, out,
                           f"values invalid: {tech.message or tech.condition.value}")
        elif not tech.active:
            ended = self._suppressed.pop(key, frozenset())
            for vital in ended:   # give the values the usual time to come back
                self._stale_grace[vital] = tech.t + self.stale_after
        if tech.condition is Condition.STALE:
            if tech.vital is not None:
                (self._stale.add if tech.active else self._stale.discard)(tech.vital)
        else:
            for spec, active in self._technical.on_condition(tech):
                self._apply_technical(spec, active, tech.t, out)
        if tech.source and tech.condition is Condition.NO_DATA:
            self._sync_chair_silence(tech.t, out)
        self._sync_stale(tech.t, out)
        return out

    def _sync_chair_silence(self, t: float, out: list[AlarmMessage]) -> None:
        """Every source of several silent: all values invalid, as when one device is silent."""
        silent = self._technical.all_sources_silent()
        if silent and _ALL_SILENT not in self._suppressed:
            self._suppressed[_ALL_SILENT] = frozenset(Vital)
            self._suppress(frozenset(Vital), t, out, "values invalid: no data from any source")
        elif not silent and _ALL_SILENT in self._suppressed:
            for vital in self._suppressed.pop(_ALL_SILENT):
                self._stale_grace[vital] = t + self.stale_after

    def _sync_stale(self, t: float, out: list[AlarmMessage]) -> None:
        """Show "no valid value" for alarmed vitals not already explained by another condition.

        A probe off already says why SpO2 and pulse rate are missing, and "no
        data" why everything is: one alarm per cause, not one per vital.
        """
        alarmed = {r.vital for r in self.profile.rules} | {Vital.PULSE_RATE}
        for vital in alarmed:
            covered = any(vital in vs for key, vs in self._suppressed.items()
                          if not key.startswith(Condition.STALE.value))
            grace = self._stale_grace.get(vital)
            if grace is not None and (t >= grace or vital not in self._stale):
                del self._stale_grace[vital]
                grace = None
            show = vital in self._stale and not covered and grace is None
            current = self.board.get(f"{vital.value}.stale")
            shown = current is not None and current.active
            if show != shown:
                for spec, active in self._technical.on_condition(
                        Technical(Condition.STALE, show, t, "", vital)):
                    self._apply_technical(spec, active, t, out)

    def announce(self, alarm_id: str, message: str, t: float) -> list[AlarmMessage]:
        """A low-priority reminder (e.g. the planned infusion time is reached).

        Shown in cyan with one short burst and kept until acknowledged; a
        reminder, not a condition, so it is logged as raised and cleared at once.
        """
        out: list[AlarmMessage] = []
        spec = TechnicalSpec(alarm_id, Priority.LOW, message, latching=True, event=True)
        self._apply_technical(spec, True, t, out)
        self._apply_technical(spec, False, t, out)
        return out

    def on_recording(self, status: RecordingStatus) -> list[AlarmMessage]:
        """The recorder started or stopped writing."""
        out: list[AlarmMessage] = []
        for spec, active in self._technical.on_recording(status):
            self._apply_technical(spec, active, status.t, out)
        return out

    def on_phase(self, phase: Phase, t: float) -> list[AlarmMessage]:
        """The session entered ``phase`` at ``t``."""
        out: list[AlarmMessage] = []
        self.phase, self.phase_started_at = phase, t
        self._technical.on_phase(phase, t)
        if phase is not Phase.BASELINE:
            self.baseline.freeze()
        if phase is Phase.ENDED:
            for s in self._states.values():
                s.reset()
            self._update_alarms({s.rule.alarm for s in self._states.values()}, t, None, out,
                                "the session ended")
        self.changed = True
        out = self._technical_out(out, t)
        if phase is Phase.ENDED:
            self.board.release_all(t, out)
        return out

    def tick(self, t: float) -> list[AlarmMessage]:
        """Let session time reach ``t``: delays, overdue checks, pause expiry, reminders."""
        out: list[AlarmMessage] = []
        if t < self._now:
            return out
        self._now = t
        if self.phase is not Phase.ENDED:
            touched: set[str] = set()
            for s in self._states.values():
                vital = s.rule.vital
                fresh = max((self._last_valid.get(v, -1e18) for v in rule_feeds(vital)),
                            default=-1e18) + self.stale_after
                if s.tick(t, fresh):
                    touched.add(s.rule.alarm)
            if touched:
                self._update_alarms(touched, t, None, out)
        if self._stale_grace:
            self._sync_stale(t, out)
        self.board.tick_pause(t, out)
        for vital, due in list(self._vitals_off.items()):
            if t >= due:
                self._vitals_off[vital] = due + self.profile.off_reminder_s
                out.append(AlarmReminder(t, f"{SPECS[vital].label} alarms are OFF"))
        self.board.expire(t)
        return self._technical_out(out, t)

    # -- the picture -----------------------------------------------------

    def snapshot(self) -> AlarmSnapshot:
        """What is shown and heard now (also clears :attr:`changed`)."""
        self.changed = False
        self.board.changed = False
        return AlarmSnapshot(
            t=self._now, alarms=self.board.entries(), audio_paused_until=self.board.paused_until,
            vitals_off=tuple(self._vitals_off), limits=self.profile.limit_lines(),
            audio_ok=self._audio_ok, profile=self.profile)

    @property
    def changed(self) -> bool:
        """Whether the picture changed since the last :meth:`snapshot`."""
        return self._changed or self.board.changed

    @changed.setter
    def changed(self, value: bool) -> None:
        self._changed = value

    @property
    def audio_paused_until(self) -> float | None:
        """Session time the audio pause ends, or ``None``."""
        return self.board.paused_until

    # -- physiological alarms ------------------------------------------

    def _build_states(self) -> None:
        p = self.profile
        self._states = {r.rule_id: RuleState(r, p.satseconds_window_s, p.satseconds_violations)
                        for r in p.rules}
        # Indexes for the per-reading path (a rule's vital and alarm never change).
        self._by_vital: dict[Vital, list[RuleState]] = {}
        self._by_alarm: dict[str, list[RuleState]] = {}
        for state in self._states.values():
            self._by_vital.setdefault(state.rule.vital, []).append(state)
            self._by_alarm.setdefault(state.rule.alarm, []).append(state)

    def _rule_vital(self, vital: Vital, t: float) -> Vital | None:
        """Which rules a reading of ``vital`` feeds: pulse rate stands in for a missing ECG HR."""
        if vital is Vital.PULSE_RATE:
            last_hr = self._last_valid.get(Vital.HR)
            if last_hr is not None and t - last_hr <= self.stale_after:
                return None
            return Vital.HR
        return vital

    def _baseline_for(self, rule: Rule, vital: Vital) -> float | None:
        if rule.basis is Basis.ABSOLUTE:
            return None
        if not self.baseline.frozen:
            return None   # baseline advisories start with the infusion
        return self.baseline.value(vital)

    def _is_suppressed(self, vital: Vital) -> bool:
        return any(vital in vs for vs in self._suppressed.values())

    def _suppress(self, vitals: frozenset[Vital], t: float, out: list[AlarmMessage],
                  cause: str) -> None:
        touched = set()
        for s in self._states.values():
            if s.rule.vital in vitals or (s.rule.vital is Vital.HR and Vital.PULSE_RATE in vitals
                                          and Vital.HR not in self._fresh_vitals(t)):
                if SPECS[s.rule.vital].kind is Kind.DISCRETE:
                    continue  # the last determination stands until the next one
                s.reset()
                touched.add(s.rule.alarm)
        self._update_alarms(touched, t, None, out, cause)

    def _fresh_vitals(self, t: float) -> set[Vital]:
        return {v for v, last in self._last_valid.items() if t - last <= self.stale_after}

    def _update_alarms(self, alarm_ids: set[str], t: float, vital: Vital | None,
                       out: list[AlarmMessage], cause: str | None = None) -> None:
        """Raise, escalate, update or clear each alarm from its rules' states.

        An active alarm always says the latest value that keeps it active (its
        priority only rises while it lasts); a cleared one says what cleared
        it: the value of the reading (``vital`` given, ``cause`` None), or
        ``cause``.
        """
        for alarm_id in sorted(alarm_ids):
            states = self._by_alarm.get(alarm_id, [])
            met = [s for s in states if s.met]
            current = self.board.get(alarm_id)
            if not met:
                if current is not None and current.active:
                    fed = states[0] if states and vital is not None and cause is None else None
                    self.board.clear(current, t, out, cleared_message(
                        current, fed.vital if fed else None, fed.value if fed else None,
                        cause or "the condition ended"))
                continue
            best = max(met, key=lambda s: (s.rule.priority, extremity(s.rule)))
            shown_vital = best.vital
            message = alarm_message(best, shown_vital, self.baseline)
            upper = best.rule.op.upper if best.rule.basis is Basis.ABSOLUTE else (
                best.rule.basis is not Basis.FALL)
            if current is None or not current.active:
                shown = self.board.raise_(alarm_id, AlarmKind.PHYSIOLOGICAL, shown_vital,
                                          best.rule.priority, message, t, best.value,
                                          best.rule.limit, out, upper=upper)
                for s in met:   # the worst includes the condition delay
                    shown.worst = worst(upper, shown.worst, s.extreme)
            else:
                current.worst = worst(current.upper, current.worst, best.value)
                if best.rule.priority > current.priority:
                    self.board.escalate(current, best.rule.priority, message, t, best.value,
                                        best.rule.limit, out)
                elif (current.message, current.value) != (message, best.value):
                    # Same or lower priority: the latest value that keeps it active.
                    current.message, current.value = message, best.value
                    current.limit = best.rule.limit
                    self.changed = True

    # -- technical alarms ----------------------------------------------

    def _technical_out(self, out: list[AlarmMessage], t: float | None = None) -> list[AlarmMessage]:
        for spec, active in self._technical.poll(self._now if t is None else t, self.phase):
            self._apply_technical(spec, active, self._now if t is None else t, out)
        return out

    def _apply_technical(self, spec: TechnicalSpec, active: bool, t: float,
                         out: list[AlarmMessage]) -> None:
        current = self.board.get(spec.alarm_id)
        if spec.event and active and current is not None and not current.acknowledged:
            current.message = spec.message   # still on screen: say the latest, no new signal
            self.changed = True
            return
        if active:
            if current is None or not current.active:
                self.board.raise_(spec.alarm_id, AlarmKind.TECHNICAL, spec.vital, spec.priority,
                                  spec.message, t, None, None, out, latch=spec.latching)
            elif spec.priority > current.priority:
                self.board.escalate(current, spec.priority, spec.message, t, None, None, out)
            elif spec.message != current.message:
                current.message = spec.message
                self.changed = True
        elif current is not None and current.active:
            self.board.clear(current, t, out, f"Ended: {current.message}")


__all__ = ["AlarmEngine", "LoadProfile"]
