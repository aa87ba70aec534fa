"""The patient's underlying (true) vital signs over a session, a batch of seconds at a time.

The deterministic part follows the scenario: a rise from infusion start that
peaks at ``peak_at_min``, holds to the end of the infusion and decays
exponentially through recovery, plus scripted episodes. On top of it each
signal drifts slowly (an Ornstein-Uhlenbeck process with a time constant of
minutes). Measurement noise is added later, by whoever reports the value.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from simulators.scenario import Episode, EpisodeKind, Scenario

log = logging.getLogger(__name__)

# Slow drift per signal: standard deviation and time constant in seconds.
_DRIFT_SD = np.array([3.0, 2.0, 2.5, 0.35, 0.8, 1.2])
_DRIFT_TAU_S = np.array([600.0, 600.0, 300.0, 120.0, 180.0, 300.0])
_SBP, _DBP, _HR, _SPO2, _RR, _ETCO2 = range(6)
_SPO2_DRIFT_LIMIT = 0.6


@dataclass(frozen=True)
class TrueVitals:
    """The patient's actual values (before measurement noise) at whole seconds.

    Every attribute except ``seconds`` is an array aligned with ``seconds``.

    Attributes
    ----------
    seconds : numpy.ndarray
        Seconds from session start.
    sbp, dbp, hr, resp_rate, etco2 : numpy.ndarray
    spo2 : numpy.ndarray
        Saturation without any desaturation episode.
    spo2_drop : numpy.ndarray
        How far desaturation episodes pull SpO2 down (>= 0).
    """

    seconds: np.ndarray
    sbp: np.ndarray
    dbp: np.ndarray
    hr: np.ndarray
    spo2: np.ndarray
    spo2_drop: np.ndarray
    resp_rate: np.ndarray
    etco2: np.ndarray


def response_level(scenario: Scenario, minutes: np.ndarray) -> np.ndarray:
    """The drug response in ``[0, 1]`` at ``minutes`` from session start.

    Zero in baseline; rises quickly then levels off (``1 - (1 - x)^2``) until
    ``peak_at_min`` after infusion start; holds at 1 to the end of the
    infusion; then decays with ``recovery_tau_min``.
    """
    since = np.asarray(minutes, dtype=np.float64) - scenario.session.baseline_min
    rising = 1.0 - (1.0 - np.clip(since / scenario.peak_at_min, 0.0, 1.0)) ** 2
    after = np.maximum(since - scenario.session.infusion_min, 0.0)
    return rising * np.exp(-after / scenario.infusion.recovery_tau_min)


def episode_weight(episode: Episode, seconds: np.ndarray) -> np.ndarray:
    """How fully ``episode`` acts at ``seconds`` from session start, in ``[0, 1]``.

    Ramps up over ``ramp_s`` from the start of the window, holds, and ramps
    back down over ``ramp_s`` after the window ends.
    """
    t = np.asarray(seconds, dtype=np.float64)
    start, end, ramp = episode.start_s, episode.end_s, episode.ramp_s
    inside = (t >= start) & (t < end)
    if ramp <= 0:
        return inside.astype(np.float64)
    reached = min(1.0, episode.duration_s / ramp)
    up = np.clip((t - start) / ramp, 0.0, 1.0)
    down = reached * np.clip(1.0 - (t - end) / ramp, 0.0, 1.0)
    return np.where(inside, up, np.where(t >= end, down, 0.0))


def _target(value: float | None) -> float:
    """A parameter the scenario loader guarantees for this episode kind."""
    if value is None:
        raise ValueError("episode is missing its target")
    return value


class Physiology:
    """Advances the true vitals through consecutive whole seconds.

    Parameters
    ----------
    scenario : Scenario
    rng : numpy.random.Generator
        Drives the slow drift: six draws per second advanced, taken in one
        call per :meth:`advance`, so the stream depends only on the sizes of
        the batches asked for.

    Attributes
    ----------
    current : TrueVitals
        The values at the last second reached (a one-element series).
    """

    def __init__(self, scenario: Scenario, rng: np.random.Generator) -> None:
        self._scenario = scenario
        self._rng = rng
        self._decay = np.exp(-1.0 / _DRIFT_TAU_S)
        self._kick = _DRIFT_SD * np.sqrt(1.0 - self._decay ** 2)
        self._drift = _DRIFT_SD * rng.standard_normal(_DRIFT_SD.size)
        self._second = 0
        self.current = self._vitals(np.zeros(1), self._drift[np.newaxis, :])

    def advance(self, n: int) -> TrueVitals:
        """Move ``n`` seconds on; return the values at each of those seconds."""
        steps = np.arange(1, n + 1, dtype=np.float64)[:, np.newaxis]
        power = self._decay ** steps                                   # (n, 6)
        kicks = self._kick * self._rng.standard_normal((n, _DRIFT_SD.size))
        # x[j] = a^j x0 + sum_{i<=j} a^(j-i) kick_i, evaluated without a Python loop
        drift = power * (self._drift + np.cumsum(kicks / power, axis=0))
        self._drift = drift[-1]
        seconds = self._second + steps[:, 0]
        self._second += n
        series = self._vitals(seconds, drift)
        self.current = self._vitals(seconds[-1:], drift[-1:])
        return series

    def _vitals(self, seconds: np.ndarray, drift: np.ndarray) -> TrueVitals:
        sc = self._scenario
        base, rise = sc.baseline, sc.infusion
        level = response_level(sc, seconds / 60.0)
        sbp = base.sbp + rise.sbp_rise * level + drift[:, _SBP]
        dbp = base.dbp + rise.dbp_rise * level + drift[:, _DBP]
        model_hr = base.hr + rise.hr_rise * level + drift[:, _HR]
        hr = model_hr
        spo2 = base.spo2 + np.clip(drift[:, _SPO2], -_SPO2_DRIFT_LIMIT, _SPO2_DRIFT_LIMIT)
        drop = np.zeros_like(spo2)
        rr = np.maximum(base.resp_rate + drift[:, _RR], 4.0)
        etco2 = base.etco2 + drift[:, _ETCO2]
        for ep in sc.episodes:
            if ep.kind is EpisodeKind.BP_SURGE:
                w = episode_weight(ep, seconds)
                sbp = sbp + w * ep.sbp_add
                dbp = dbp + w * ep.dbp_add
            elif ep.kind is EpisodeKind.HR_SURGE:
                w = episode_weight(ep, seconds)
                hr = np.maximum(hr, model_hr + w * (_target(ep.target_hr) - model_hr))
            elif ep.kind is EpisodeKind.DESATURATION:
                w = episode_weight(ep, seconds)
                drop = np.maximum(drop, w * np.maximum(spo2 - _target(ep.target_spo2), 0.0))
            elif ep.kind is EpisodeKind.HYPOVENTILATION:
                w = episode_weight(ep, seconds)
                rr = rr + w * (_target(ep.target_rr) - rr)
                if ep.target_etco2 is not None:
                    etco2 = etco2 + w * (ep.target_etco2 - etco2)
        return TrueVitals(
            seconds=seconds, sbp=sbp, dbp=np.minimum(dbp, sbp - 15.0), hr=np.maximum(hr, 20.0),
            spo2=spo2, spo2_drop=drop, resp_rate=rr, etco2=np.maximum(etco2, 0.0))
