"""Technical alarm conditions: the data path, the sensor, the recorder, the speaker, NIBP timing.

:class:`TechnicalAlarms` turns the hub's technical conditions, recorder
status and the speaker check into alarm specs with the priorities of
issue 4, and on :meth:`~TechnicalAlarms.poll` works out the two
time-driven ones: "no data" escalating to high after a minute of silence
during an infusion, and "NIBP overdue" (the phase's cycle plus a grace,
low, then medium).

A chair with several sources (issue 16): a condition that names its source
(``Technical.source``) is that device's own alarm, id ``"<base id>@<source>"``
(``source.no_data@Masimo``) with a message naming the device ("NO DATA from
Masimo", "Masimo link lost"), at the base condition's priority. Its "no data"
escalates to high only when the whole chair is silent: once no source has
delivered anything for ``no_data_high_after_s`` during an infusion (counted
from the moment the last one fell silent), every source's no-data alarm goes
high; one device silent while another still delivers stays medium (the
fall-back covers the patient). An escalated alarm stays high until it clears.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from monitor.core.alarms.model import AudioOutput, Priority
from monitor.core.alarms.profile import AlarmProfile
from monitor.core.events import Condition, RecordingStatus, Technical
from monitor.core.session import Phase
from monitor.core.vitals import SPECS, Vital


@dataclass(frozen=True)
class TechnicalSpec:
    """How one technical alarm is shown: id, vital, priority, message, latching."""

    alarm_id: str
    priority: Priority
    message: str
    vital: Vital | None = None
    latching: bool = False
    event: bool = False   # a one-off (data lost): repeats update the shown alarm, no new raise


_PLAIN: dict[Condition, tuple[str, Priority, str]] = {
    Condition.NO_DATA: ("source.no_data", Priority.MEDIUM, "NO DATA from the monitor"),
    Condition.PORT_LOST: ("source.port_lost", Priority.MEDIUM, "Monitor link lost"),
    Condition.UNDECODABLE: ("source.undecodable", Priority.MEDIUM,
                            "Cannot read the monitor's data: check protocol and cable"),
    Condition.SOURCE_ERROR: ("source.error", Priority.MEDIUM, "Monitor source failed"),
    Condition.SENSOR_PROBLEM: ("sensor.problem", Priority.MEDIUM, "SpO2 sensor problem"),
    # IEC 60601-1-8 6.11: a distributed alarm system's failed link is a technical alarm at
    # the chair, low: the chair still alarms itself.
    Condition.CENTRAL_LOST: ("central.not_connected", Priority.LOW, "CENTRAL NOT CONNECTED"),
}

_SOURCED: dict[Condition, str] = {
    Condition.NO_DATA: "NO DATA from {s}",
    Condition.PORT_LOST: "{s} link lost",
    Condition.UNDECODABLE: "Cannot read {s}'s data: check protocol and cable",
    Condition.SOURCE_ERROR: "{s} source failed",
    Condition.SENSOR_PROBLEM: "SpO2 sensor problem ({s})",
}
"""What a condition of one source of several says (the base priority and id + ``@source``)."""


def sourced_alarm_id(base: str, source: str) -> str:
    """The id of one source's own technical alarm: ``"source.no_data@Masimo"``."""
    return f"{base}@{source}"


RECORDING = TechnicalSpec("recording.failed", Priority.MEDIUM,
                          "RECORDING FAILED: readings are not being saved", latching=True)
AUDIO = TechnicalSpec("audio.unavailable", Priority.MEDIUM,
                      "NO ALARM SOUND: no audio output", latching=True)
NO_NIBP_SOURCE = TechnicalSpec("nibp.no_source", Priority.LOW,
                               "No blood pressure source: enter NIBP by hand",
                               Vital.NIBP_SYS, latching=True, event=True)
"""The one reminder of a session whose devices measure no NIBP (an oximeter alone)."""


class TechnicalAlarms:
    """Maps technical conditions to alarm specs and runs the time-driven ones.

    Parameters
    ----------
    profile : AlarmProfile
    started_at : float
    stale_after : float
        The hub raises "no data" this long after the last item, so the
        silence began ``stale_after`` before the condition's time.
    nibp_source : bool
        Whether a device of the session measures NIBP. Without one, "NIBP
        overdue" waits for the first determination the nurse enters, and
        :data:`NO_NIBP_SOURCE` is announced once instead.
    sources : sequence of str
        The names of the session's sources when it has several (their
        no-data alarms escalate once all of them are silent); empty otherwise.
    """

    def __init__(self, profile: AlarmProfile, started_at: float, stale_after: float, *,
                 nibp_source: bool = True, sources: Sequence[str] = ()) -> None:
        self.profile = profile
        self.stale_after = stale_after
        self._silent_since: float | None = None
        self._escalated = False
        self._last_nibp: float | None = None
        self._phase = Phase.BASELINE
        self._phase_started = started_at
        self._started = started_at
        self._overdue: Priority | None = None
        self.nibp_source = nibp_source
        self._no_source_told = nibp_source
        self.sources = frozenset(sources)
        self._source_silent: dict[str, float] = {}   # source -> when its silence began
        self._sources_escalated = False

    # -- events ----------------------------------------------------------

    def on_condition(self, tech: Technical) -> list[tuple[TechnicalSpec, bool]]:
        """Specs to raise (True) or clear (False) for a hub technical condition."""
        if tech.condition is Condition.QUEUE_OVERFLOW:
            spec = TechnicalSpec("data.lost", Priority.LOW, f"DATA LOST: {tech.message}",
                                 latching=True, event=True)
            return [(spec, True), (spec, False)]   # an event: shown until acknowledged
        if tech.condition is Condition.INTERNAL_ERROR:
            spec = TechnicalSpec("system.error", Priority.MEDIUM, f"SYSTEM ERROR: {tech.message}",
                                 latching=True, event=True)
            return [(spec, True), (spec, False)]   # shown until acknowledged
        if tech.condition is Condition.RECORDING_FAILED:
            return [(RECORDING, tech.active)]
        if tech.condition is Condition.STALE:
            if tech.vital is None:
                return []
            label = SPECS[tech.vital].label
            return [(TechnicalSpec(f"{tech.vital.value}.stale", Priority.MEDIUM,
                                   f"{label}: no valid value", tech.vital), tech.active)]
        plain = _PLAIN.get(tech.condition)
        if plain is None:
            return []
        alarm_id, prio, text = plain
        if tech.source:
            return [self._sourced(tech, alarm_id, prio)]
        if tech.condition is Condition.NO_DATA:
            self._silent_since = tech.t - self.stale_after if tech.active else None
            self._escalated = False
        message = text
        if tech.condition in (Condition.SENSOR_PROBLEM, Condition.PORT_LOST,
                              Condition.SOURCE_ERROR, Condition.CENTRAL_LOST) and tech.message:
            message = f"{text}: {tech.message}"
        return [(TechnicalSpec(alarm_id, prio, message), tech.active)]

    def _sourced(self, tech: Technical, base_id: str, prio: Priority
                 ) -> tuple[TechnicalSpec, bool]:
        """One source's own condition: its own id and a message naming the device."""
        text = _SOURCED[tech.condition].format(s=tech.source)
        if tech.condition is Condition.NO_DATA:
            if tech.active:
                self._source_silent[tech.source] = tech.t - self.stale_after
            else:
                self._source_silent.pop(tech.source, None)
                self._sources_escalated = False
        elif tech.message and tech.condition is not Condition.UNDECODABLE:
            text = f"{text}: {tech.message}"
        return TechnicalSpec(sourced_alarm_id(base_id, tech.source), prio, text), tech.active

    def all_sources_silent(self) -> bool:
        """Whether every source of a session of several is silent (none delivers data)."""
        return bool(self.sources) and self.sources <= self._source_silent.keys()

    def on_recording(self, status: RecordingStatus) -> list[tuple[TechnicalSpec, bool]]:
        """The recorder's status: a failure latches until acknowledged."""
        return [(RECORDING, not status.ok)]

    def on_audio(self, cmd: AudioOutput) -> list[tuple[TechnicalSpec, bool]]:
        """The speaker check: a missing audio output latches (and never clears by itself)."""
        if cmd.ok:
            return []
        text = AUDIO.message + (f" ({cmd.message})" if cmd.message else "")
        return [(TechnicalSpec(AUDIO.alarm_id, AUDIO.priority, text, latching=True), True)]

    def on_phase(self, phase: Phase, t: float) -> None:
        """Phase changed: the NIBP cycle changes with it."""
        self._phase, self._phase_started = phase, t

    def nibp_determined(self, t: float) -> None:
        """A valid NIBP determination arrived at ``t``."""
        self._last_nibp = t if self._last_nibp is None else max(self._last_nibp, t)

    # -- time ------------------------------------------------------------

    def poll(self, t: float, phase: Phase) -> list[tuple[TechnicalSpec, bool]]:
        """Time-driven changes at session time ``t``."""
        out: list[tuple[TechnicalSpec, bool]] = []
        p = self.profile
        if (self._silent_since is not None and not self._escalated and phase is Phase.INFUSION
                and t - self._silent_since >= p.no_data_high_after_s):
            self._escalated = True
            out.append((TechnicalSpec(
                "source.no_data", Priority.HIGH,
                f"NO DATA from the monitor for {p.no_data_high_after_s:g} s during the infusion"),
                True))
        if (not self._sources_escalated and phase is Phase.INFUSION
                and self.all_sources_silent()
                and t - max(self._source_silent.values()) >= p.no_data_high_after_s):
            self._sources_escalated = True
            for source in sorted(self._source_silent):
                out.append((TechnicalSpec(
                    sourced_alarm_id("source.no_data", source), Priority.HIGH,
                    f"NO DATA from {source} for {p.no_data_high_after_s:g} s during the "
                    "infusion (no source delivers data)"), True))
        if not self._no_source_told and phase is not Phase.ENDED and self._last_nibp is None:
            self._no_source_told = True
            out += [(NO_NIBP_SOURCE, True), (NO_NIBP_SOURCE, False)]   # a reminder, once
        level = self._overdue_level(t, phase)
        if level != self._overdue:
            if level is None:
                out.append((TechnicalSpec("nibp.overdue", Priority.LOW, "NIBP overdue"), False))
            else:
                out.append((TechnicalSpec(
                    "nibp.overdue", level,
                    f"NIBP overdue: no blood pressure for {self._since_last(t) / 60:.0f} min",
                    Vital.NIBP_SYS), True))
            self._overdue = level
        return out

    def cycle_s(self, t: float, phase: Phase) -> float | None:
        """The expected NIBP interval at ``t`` (``None`` once the session ended)."""
        c = self.profile.nibp_cycle
        if phase is Phase.BASELINE:
            return c.baseline_s
        if phase is Phase.INFUSION:
            return c.infusion_early_s if t - self._phase_started < c.infusion_early_for_s \
                else c.infusion_s
        if phase is Phase.RECOVERY:
            return c.recovery_s
        return None

    def _since_last(self, t: float) -> float:
        return t - (self._last_nibp if self._last_nibp is not None else self._started)

    def _overdue_level(self, t: float, phase: Phase) -> Priority | None:
        cycle = self.cycle_s(t, phase)
        if cycle is None or (not self.nibp_source and self._last_nibp is None):
            return None   # no BP source and none typed yet: nothing can be overdue
        late = self._since_last(t) - cycle - self.profile.nibp_overdue_grace_s
        if late < 0:
            return None
        return Priority.MEDIUM if late >= self.profile.nibp_overdue_escalate_s else Priority.LOW
