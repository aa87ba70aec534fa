"""The scenario engine: a scenario and a seed in, timestamped readings and pleth out.

Internally the engine works in one-second blocks: block ``k`` advances the
physiology from second ``k`` to ``k + 1`` and produces the pleth samples in
``[k, k + 1)``, the NIBP determinations in ``(k, k + 1]`` and the numerics at
``k + 1`` (all in seconds from session start). Every random stream is drawn
from a fixed number of times per block or per determination, so the output
depends only on the scenario and the seed, never on how :meth:`generate`
calls are spaced. Items are held back until asked for, so memory stays
bounded however long the session runs.
"""

from __future__ import annotations

import logging
import math
from collections import deque

import numpy as np

from monitor.core.reading import Quality, Reading, WaveChunk, make_reading
from monitor.core.session import Phase
from monitor.core.vitals import Vital, mean_arterial
from simulators.physiology import Physiology, TrueVitals
from simulators.pleth import RATE_HZ, PlethSynth
from simulators.scenario import EpisodeKind, Scenario

log = logging.getLogger(__name__)

_EPS = 1e-6                 # seconds; absorbs float error in `until - start` at Unix-time magnitudes
_OK, _SENSOR_OFF, _LOST = 0, 1, 2
_STREAMS = ("physiology", "pleth", "hr", "pulse_rate", "spo2", "resp_rate", "etco2", "nibp")
_SPO2_DIP_PER_S = 1.0 / 300.0


class _Spo2Reporter:
    """Turns the true saturation into the integer an oximeter displays.

    Normally within one point of the patient's baseline, with occasional
    one-point dips lasting a few seconds; desaturation episodes pull it
    further down; never above 100.
    """

    def __init__(self, baseline: float, rng: np.random.Generator) -> None:
        self._lo = baseline - 1.0
        self._hi = min(baseline + 1.0, 100.0)
        self._rng = rng
        self._dip_left = 0

    def report(self, true: TrueVitals) -> float:
        noise = self._rng.standard_normal()
        start, length = self._rng.random(2)
        if self._dip_left > 0:
            self._dip_left -= 1
            dip = 1.0
        elif start < _SPO2_DIP_PER_S:
            self._dip_left = 2 + int(length * 12)
            dip = 1.0
        else:
            dip = 0.0
        value = min(max(round(true.spo2 + 0.3 * noise) - dip, self._lo), self._hi)
        return max(value - round(true.spo2_drop), 0.0)


class ScenarioEngine:
    """Plays a scenario as the readings and pleth a bedside monitor would send.

    Parameters
    ----------
    scenario : Scenario
    seed : int
        Same scenario and seed give exactly the same items.
    start : float
        Unix seconds at session start (the first numerics come at
        ``start + 1``, the first pleth sample at ``start``).

    Attributes
    ----------
    scenario : Scenario
    seed : int
    start : float
    duration_s : float
        Length of the whole session.
    phase_plan : list of (float, Phase)
        Absolute times at which each phase begins, ending with ``ENDED``.
    """

    def __init__(self, scenario: Scenario, seed: int, start: float) -> None:
        self.scenario = scenario
        self.seed = seed
        self.start = float(start)
        shape = scenario.session
        self.duration_s = shape.total_min * 60.0
        self.phase_plan: list[tuple[float, Phase]] = [
            (self.start, Phase.BASELINE),
            (self.start + shape.baseline_min * 60.0, Phase.INFUSION),
            (self.start + (shape.baseline_min + shape.infusion_min) * 60.0, Phase.RECOVERY),
            (self.start + self.duration_s, Phase.ENDED),
        ]
        seeds = np.random.SeedSequence(seed).spawn(len(_STREAMS))
        rng = {name: np.random.default_rng(s) for name, s in zip(_STREAMS, seeds, strict=True)}
        self._rng = rng
        self._physiology = Physiology(scenario, rng["physiology"])
        self._pleth = PlethSynth(rng["pleth"])
        self._spo2 = _Spo2Reporter(scenario.baseline.spo2, rng["spo2"])
        self._nibp_s = [m * 60.0 for m in scenario.nibp_minutes() if m * 60.0 < self.duration_s]
        self._sensor_off = self._windows(EpisodeKind.SENSOR_OFF)
        self._link_loss = self._windows(EpisodeKind.LINK_LOSS)

        self._block = 0
        self._n_blocks = math.ceil(self.duration_s - _EPS)
        self._last_second = math.floor(self.duration_s + _EPS)
        self._n_samples = math.ceil(self.duration_s * RATE_HZ - _EPS)
        self._next_nibp = 0
        self._readings: deque[tuple[float, Reading]] = deque()
        self._wave = np.empty(0)
        self._wave_status = np.empty(0, dtype=np.int8)
        self._wave_first = 0      # sample index of self._wave[0]
        log.debug("engine for %s, seed %d, %d s", scenario.name, seed, self.duration_s)

    def _windows(self, kind: EpisodeKind) -> list[tuple[float, float]]:
        return [(e.start_s, e.end_s) for e in self.scenario.episodes if e.kind is kind]

    @staticmethod
    def _inside(windows: list[tuple[float, float]], second: float) -> bool:
        return any(a <= second < b for a, b in windows)

    def nibp_schedule(self) -> list[float]:
        """Absolute times of the NIBP determinations, ascending.

        Determinations that fall in a link loss are scheduled but never sent.
        """
        return [self.start + s for s in self._nibp_s]

    @property
    def finished(self) -> bool:
        """Whether every item of the session has been returned."""
        return self._block >= self._n_blocks and not self._readings and not self._wave.size

    def generate(self, until: float) -> list[Reading | WaveChunk]:
        """Every item not yet returned whose time is at or before ``until``.

        Parameters
        ----------
        until : float
            Absolute time (Unix seconds).

        Returns
        -------
        list of Reading or WaveChunk
            In time order (a chunk by its first sample).
        """
        rel = until - self.start + _EPS
        while self._block < self._n_blocks and self._block <= rel:
            self._run_block()
        items: list[Reading | WaveChunk] = []
        while self._readings and self._readings[0][0] <= rel:
            items.append(self._readings.popleft()[1])
        items.extend(self._take_wave(math.floor(rel * RATE_HZ)))
        items.sort(key=_time_of)
        return items

    def _run_block(self) -> None:
        k = self._block
        before = self._physiology.current
        after = self._physiology.step()
        samples = self._pleth.block(k, (before.hr, after.hr), (before.resp_rate, after.resp_rate))
        self._add_wave(k, samples)
        while self._next_nibp < len(self._nibp_s) and self._nibp_s[self._next_nibp] <= k + 1:
            self._determine_nibp(self._nibp_s[self._next_nibp], after)
            self._next_nibp += 1
        if k + 1 <= self._last_second:
            self._numerics(k + 1, after)
        self._block += 1

    def _add_wave(self, second: int, samples: np.ndarray) -> None:
        first = second * RATE_HZ
        keep = min(RATE_HZ, self._n_samples - first)
        samples = samples[:keep]
        t = (first + np.arange(keep)) / RATE_HZ
        status = np.zeros(keep, dtype=np.int8)
        for value, windows in ((_SENSOR_OFF, self._sensor_off), (_LOST, self._link_loss)):
            for a, b in windows:
                status[(t >= a) & (t < b)] = value
        samples = np.where(status == _SENSOR_OFF, np.nan, samples)
        self._wave = np.concatenate((self._wave, samples))
        self._wave_status = np.concatenate((self._wave_status, status))

    def _take_wave(self, last_index: int) -> list[WaveChunk]:
        """Chunks for buffered samples up to ``last_index``, split where quality changes."""
        count = min(max(last_index + 1 - self._wave_first, 0), self._wave.size)
        if not count:
            return []
        wave, status = self._wave[:count], self._wave_status[:count]
        first = self._wave_first
        self._wave, self._wave_status = self._wave[count:], self._wave_status[count:]
        self._wave_first += count
        bounds = [0, *(np.flatnonzero(np.diff(status)) + 1).tolist(), count]
        chunks = []
        for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
            kind = status[lo]
            if kind == _LOST:
                continue
            quality = Quality.SENSOR_OFF if kind == _SENSOR_OFF else Quality.OK
            chunks.append(WaveChunk(Vital.PLETH, self.start + (first + lo) / RATE_HZ,
                                    float(RATE_HZ), wave[lo:hi], quality))
        return chunks

    def _emit(self, second: float, reading: Reading) -> None:
        if not self._inside(self._link_loss, second):
            self._readings.append((second, reading))

    def _determine_nibp(self, second: float, true: TrueVitals) -> None:
        noise = self._rng["nibp"].standard_normal(2)
        sys = round(true.sbp + float(np.clip(3.0 * noise[0], -7.0, 7.0)))
        dia = min(round(true.dbp + float(np.clip(2.5 * noise[1], -6.0, 6.0))), sys - 10)
        mean = round(mean_arterial(sys, dia))
        t = self.start + second
        for vital, value in ((Vital.NIBP_SYS, sys), (Vital.NIBP_DIA, dia),
                             (Vital.NIBP_MEAN, mean)):
            self._emit(second, make_reading(vital, value, t))

    def _numerics(self, second: int, true: TrueVitals) -> None:
        t = self.start + second
        rng = self._rng
        probe_off = self._inside(self._sensor_off, second)
        hr = round(true.hr + 0.8 * rng["hr"].standard_normal())
        pulse = round(true.hr + 1.2 * rng["pulse_rate"].standard_normal())
        spo2 = self._spo2.report(true)
        self._emit(second, make_reading(Vital.HR, hr, t))
        for vital, value in ((Vital.PULSE_RATE, pulse), (Vital.SPO2, spo2)):
            self._emit(second, Reading.invalid(vital, t, Quality.SENSOR_OFF) if probe_off
                       else make_reading(vital, value, t))
        resp = round(max(true.resp_rate + 0.6 * rng["resp_rate"].standard_normal(), 4.0))
        self._emit(second, make_reading(Vital.RESP_RATE, resp, t))
        if self.scenario.baseline.capnography:
            etco2 = round(true.etco2 + 0.7 * rng["etco2"].standard_normal())
            self._emit(second, make_reading(Vital.ETCO2, etco2, t))


def _time_of(item: Reading | WaveChunk) -> float:
    return item.t0 if isinstance(item, WaveChunk) else item.t
