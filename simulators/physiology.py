"""The patient's underlying (true) vital signs over a session, one second at a time.

The deterministic part follows the scenario: a rise from infusion start that
peaks at ``peak_at_min``, holds to the end of the infusion and decays
exponentially through recovery, plus scripted episodes. On top of it each
signal drifts slowly (an Ornstein-Uhlenbeck process with a time constant of
minutes). Measurement noise is added later, by whoever reports the value.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np

from simulators.scenario import Episode, EpisodeKind, Scenario

log = logging.getLogger(__name__)

# Slow drift per signal: (standard deviation, time constant in seconds).
_DRIFT_SD = np.array([3.0, 2.0, 2.5, 0.35, 0.8, 1.2])
_DRIFT_TAU_S = np.array([600.0, 600.0, 300.0, 120.0, 180.0, 300.0])
_SBP, _DBP, _HR, _SPO2, _RR, _ETCO2 = range(6)
_SPO2_DRIFT_LIMIT = 0.6


@dataclass(frozen=True, slots=True)
class TrueVitals:
    """The patient's actual values at one instant (before measurement noise).

    Attributes
    ----------
    sbp, dbp, hr, resp_rate, etco2 : float
    spo2 : float
        Saturation without any desaturation episode.
    spo2_drop : float
        How far desaturation episodes currently pull SpO2 down (>= 0).
    """

    sbp: float
    dbp: float
    hr: float
    spo2: float
    spo2_drop: float
    resp_rate: float
    etco2: float


def response_level(scenario: Scenario, minute: float) -> float:
    """The drug response in ``[0, 1]`` at ``minute`` from session start.

    Zero in baseline; rises quickly then levels off (``1 - (1 - x)^2``) until
    ``peak_at_min`` after infusion start; holds at 1 to the end of the
    infusion; then decays with ``recovery_tau_min``.
    """
    since = minute - scenario.session.baseline_min
    if since <= 0:
        return 0.0
    peak = scenario.peak_at_min
    if since <= peak:
        return 1.0 - (1.0 - since / peak) ** 2
    after = since - scenario.session.infusion_min
    if after <= 0:
        return 1.0
    return math.exp(-after / scenario.infusion.recovery_tau_min)


def episode_weight(episode: Episode, second: float) -> float:
    """How fully ``episode`` acts at ``second`` from session start, in ``[0, 1]``.

    Ramps up over ``ramp_s`` from the start of the window, holds, and ramps
    back down over ``ramp_s`` after the window ends.
    """
    start, end, ramp = episode.start_s, episode.end_s, episode.ramp_s
    if second < start:
        return 0.0
    if ramp <= 0:
        return 1.0 if second < end else 0.0
    if second < end:
        return min(1.0, (second - start) / ramp)
    reached = min(1.0, (end - start) / ramp)
    return max(0.0, reached * (1.0 - (second - end) / ramp))


class Physiology:
    """Steps the true vitals forward one second at a time.

    Parameters
    ----------
    scenario : Scenario
    rng : numpy.random.Generator
        Drives the slow drift; drawn from once per step, so the sequence
        depends only on the number of steps taken.
    """

    def __init__(self, scenario: Scenario, rng: np.random.Generator) -> None:
        self._scenario = scenario
        self._rng = rng
        self._decay = np.exp(-1.0 / _DRIFT_TAU_S)
        self._kick = _DRIFT_SD * np.sqrt(1.0 - self._decay ** 2)
        self._drift = _DRIFT_SD * rng.standard_normal(_DRIFT_SD.size)
        self._second = 0
        self._kinds = {kind: [e for e in scenario.episodes if e.kind is kind]
                       for kind in EpisodeKind}
        self.current = self._vitals()

    @property
    def second(self) -> int:
        """Seconds from session start of :attr:`current`."""
        return self._second

    def step(self) -> TrueVitals:
        """Advance one second and return the new :attr:`current`."""
        self._drift = self._decay * self._drift + self._kick * self._rng.standard_normal(
            _DRIFT_SD.size)
        self._second += 1
        self.current = self._vitals()
        return self.current

    def _vitals(self) -> TrueVitals:
        sc, t, drift = self._scenario, float(self._second), self._drift
        base, rise = sc.baseline, sc.infusion
        level = response_level(sc, t / 60.0)
        sbp = base.sbp + rise.sbp_rise * level + drift[_SBP]
        dbp = base.dbp + rise.dbp_rise * level + drift[_DBP]
        for ep in self._kinds[EpisodeKind.BP_SURGE]:
            w = episode_weight(ep, t)
            sbp += w * ep.sbp_add
            dbp += w * ep.dbp_add
        model_hr = base.hr + rise.hr_rise * level + drift[_HR]
        hr = model_hr
        for ep in self._kinds[EpisodeKind.HR_SURGE]:
            target = _target(ep.target_hr)
            hr = max(hr, model_hr + episode_weight(ep, t) * (target - model_hr))
        spo2 = base.spo2 + float(np.clip(drift[_SPO2], -_SPO2_DRIFT_LIMIT, _SPO2_DRIFT_LIMIT))
        drop = 0.0
        for ep in self._kinds[EpisodeKind.DESATURATION]:
            target = _target(ep.target_spo2)
            drop = max(drop, episode_weight(ep, t) * max(0.0, spo2 - target))
        return TrueVitals(
            sbp=sbp, dbp=min(dbp, sbp - 15.0), hr=max(hr, 20.0), spo2=spo2, spo2_drop=drop,
            resp_rate=max(base.resp_rate + drift[_RR], 4.0), etco2=base.etco2 + drift[_ETCO2])


def _target(value: float | None) -> float:
    """A parameter the scenario loader guarantees for this episode kind."""
    if value is None:
        raise ValueError("episode is missing its target")
    return value
