"""The scenario data model: session shape, physiology, NIBP cycle, episodes.

Frozen dataclasses, one per table of a scenario file, and :class:`Scenario`
holding them all. Each numeric field carries its valid range (``lo``, ``hi``,
``lo_open`` in its metadata), which :func:`simulators.scenario.parse_scenario`
checks when it loads a file; the defaults are those of a typical session.
Import these names from :mod:`simulators.scenario`, which re-exports them.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field
from typing import Any

from simulators.scenario_events import ScriptedEvent


def _num(default: float | None, lo: float, hi: float, *, lo_open: bool = False) -> Any:
    """A numeric dataclass field that must lie in ``[lo, hi]`` (``(lo, hi]`` if ``lo_open``)."""
    return field(default=default, metadata={"lo": lo, "hi": hi, "lo_open": lo_open})


@dataclass(frozen=True)
class SessionShape:
    """How long each phase lasts, in minutes, and the override of the scripted start.

    The scripted infusion start passes the same baseline gate as a nurse's.
    A baseline above 140/90 starts only with ``override_reason``; one at or
    above 180/110 also needs ``override_clinician``; an incomplete baseline
    is refused whatever is declared. The override is recorded as an event by
    the scenario, saying it is the scenario's scripted override.
    """

    baseline_min: float = _num(10.0, 0, 240, lo_open=True)
    infusion_min: float = _num(40.0, 0, 720, lo_open=True)
    recovery_min: float = _num(40.0, 0, 240, lo_open=True)
    override_clinician: str = ""
    override_reason: str = ""

    @property
    def total_min(self) -> float:
        """The whole session, in minutes."""
        return self.baseline_min + self.infusion_min + self.recovery_min


@dataclass(frozen=True)
class Baseline:
    """The patient's resting values before the infusion starts.

    Attributes
    ----------
    sbp, dbp : float
        Blood pressure, mmHg.
    hr : float
        Heart rate, beats per minute.
    spo2 : float
        Oxygen saturation, percent.
    resp_rate : float
        Breaths per minute.
    etco2 : float
        End-tidal CO2, mmHg.
    capnography : bool
        Whether the monitor has a capnograph (reports EtCO2) at all.
    """

    sbp: float = _num(125.0, 70, 240)
    dbp: float = _num(78.0, 30, 150)
    hr: float = _num(72.0, 30, 180)
    spo2: float = _num(98.0, 70, 100)
    resp_rate: float = _num(14.0, 4, 40)
    etco2: float = _num(37.0, 10, 80)
    capnography: bool = True


@dataclass(frozen=True)
class InfusionResponse:
    """How the drug moves blood pressure and heart rate.

    Attributes
    ----------
    sbp_rise, dbp_rise, hr_rise : float
        Rise above baseline at the peak.
    peak_at_min : float or None
        Minutes after infusion start when the rise peaks; it holds from
        there to the end of the infusion. ``None`` means the infusion's end.
    recovery_tau_min : float
        Time constant, in minutes, of the exponential return to baseline
        after the infusion ends.
    """

    sbp_rise: float = _num(16.0, -40, 120)
    dbp_rise: float = _num(11.0, -30, 80)
    hr_rise: float = _num(8.0, -30, 80)
    peak_at_min: float | None = _num(None, 0, 720, lo_open=True)
    recovery_tau_min: float = _num(12.0, 0, 120, lo_open=True)


@dataclass(frozen=True)
class NibpCycle:
    """The automatic cuff cycle, in minutes.

    Baseline: first determination ``baseline_start_min`` after session start,
    then every ``baseline_every_min``. Infusion and recovery: at the phase
    start, then every ``*_early_every_min`` for the first ``*_early_min``,
    then every ``*_late_every_min``. A phase's determinations stop before the
    next phase begins, where that phase's own cycle takes over.

    ``cuff = false``: the chair has no automatic cuff at all (an oximeter
    alone); no determination is made and the nurse types blood pressures in.
    """

    cuff: bool = True
    baseline_start_min: float = _num(1.0, 0, 240)
    baseline_every_min: float = _num(5.0, 1, 240)
    infusion_early_every_min: float = _num(5.0, 1, 240)
    infusion_early_min: float = _num(15.0, 0, 720)
    infusion_late_every_min: float = _num(10.0, 1, 240)
    recovery_early_every_min: float = _num(10.0, 1, 240)
    recovery_early_min: float = _num(20.0, 0, 240)
    recovery_late_every_min: float = _num(15.0, 1, 240)

    def offsets_min(self, shape: SessionShape) -> list[float]:
        """Determination times in minutes from session start, ascending."""
        infusion_at = shape.baseline_min
        recovery_at = infusion_at + shape.infusion_min
        times = _grid(self.baseline_start_min, shape.baseline_min,
                      self.baseline_every_min, math.inf, self.baseline_every_min)
        times += [infusion_at + m for m in _grid(
            0.0, shape.infusion_min, self.infusion_early_every_min,
            self.infusion_early_min, self.infusion_late_every_min)]
        times += [recovery_at + m for m in _grid(
            0.0, shape.recovery_min, self.recovery_early_every_min,
            self.recovery_early_min, self.recovery_late_every_min)]
        return times


def _grid(first: float, length: float, early_every: float, early_for: float,
          late_every: float) -> list[float]:
    """Offsets ``first, first + early_every, ...`` up to ``early_for``, then by ``late_every``.

    Only offsets strictly before ``length`` are kept.
    """
    out: list[float] = []
    t = first
    while t < length - 1e-9:
        out.append(t)
        t += early_every if t + early_every <= early_for + 1e-9 else late_every
    return out


class EpisodeKind(enum.StrEnum):
    """What a scripted episode does."""

    HR_SURGE = "hr_surge"
    DESATURATION = "desaturation"
    SENSOR_OFF = "sensor_off"
    LINK_LOSS = "link_loss"
    BP_SURGE = "bp_surge"
    HYPOVENTILATION = "hypoventilation"
    LOW_PERFUSION = "low_perfusion"


@dataclass(frozen=True)
class Episode:
    """A scripted event over ``[at_min * 60, at_min * 60 + duration_s)`` from session start.

    Attributes
    ----------
    kind : EpisodeKind
        ``hr_surge``: HR ramps to ``target_hr`` and holds. ``desaturation``:
        SpO2 ramps down to ``target_spo2`` and holds. ``bp_surge``: adds
        ``sbp_add`` / ``dbp_add`` to the blood pressure. Each ramps in over
        ``ramp_s`` and back out over ``ramp_s`` after the window.
        ``sensor_off``: the SpO2 probe is off (no SpO2, pulse rate or pleth).
        ``link_loss``: nothing at all arrives. ``hypoventilation``: the
        respiration rate ramps to ``target_rr`` (0: apnoea) and EtCO2 to
        ``target_etco2`` (if given) and hold. ``low_perfusion``: the oximeter
        reports low perfusion; SpO2 and pulse rate keep their values with
        that caveat (quality ``low_perfusion``).
    at_min : float
    duration_s : float
    ramp_s : float
    target_hr, target_spo2, target_rr, target_etco2 : float or None
    sbp_add, dbp_add : float
    """

    kind: EpisodeKind
    at_min: float = _num(0.0, 0, 24 * 60)
    duration_s: float = _num(60.0, 0, 12 * 3600, lo_open=True)
    ramp_s: float = _num(0.0, 0, 600)
    target_hr: float | None = _num(None, 20, 250)
    target_spo2: float | None = _num(None, 50, 100)
    target_rr: float | None = _num(None, 0, 60)
    target_etco2: float | None = _num(None, 0, 120)
    sbp_add: float = _num(0.0, -60, 120)
    dbp_add: float = _num(0.0, -40, 80)

    @property
    def start_s(self) -> float:
        """Seconds from session start when the episode begins."""
        return self.at_min * 60.0

    @property
    def end_s(self) -> float:
        """Seconds from session start when the episode's window ends."""
        return self.at_min * 60.0 + self.duration_s


@dataclass(frozen=True)
class Scenario:
    """Everything the engine needs to play one session.

    Attributes
    ----------
    name : str
        The file's stem, e.g. ``typical``.
    description : str
        One line.
    session : SessionShape
    baseline : Baseline
    infusion : InfusionResponse
    nibp : NibpCycle
    episodes : tuple of Episode
    events : tuple of ScriptedEvent
        Chair events the nurse would record, at their times.
    source : str or None
        The file it was loaded from.
    """

    name: str
    description: str = ""
    session: SessionShape = SessionShape()
    baseline: Baseline = Baseline()
    infusion: InfusionResponse = InfusionResponse()
    nibp: NibpCycle = NibpCycle()
    episodes: tuple[Episode, ...] = ()
    events: tuple[ScriptedEvent, ...] = ()
    source: str | None = field(default=None, compare=False)

    @property
    def peak_at_min(self) -> float:
        """Minutes after infusion start when the rise peaks (default: the infusion's end)."""
        peak = self.infusion.peak_at_min
        return self.session.infusion_min if peak is None else min(peak, self.session.infusion_min)

    def nibp_minutes(self) -> list[float]:
        """NIBP determination times in minutes from session start."""
        return self.nibp.offsets_min(self.session)
