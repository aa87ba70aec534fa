"""The scenario engine: a scenario and a seed in, timestamped readings and pleth out.

Internally the engine works in batches of ``_BATCH_S`` seconds: the batch
starting at second ``k`` advances the physiology to ``k + _BATCH_S`` and
produces the pleth samples in ``[k, k + _BATCH_S)``, the NIBP determinations
in ``(k, k + _BATCH_S]`` and the numerics at ``k + 1 ... k + _BATCH_S`` (all
in seconds from session start). Batches are always the same, and each random
stream is drawn from in one call per batch or per determination, so the
output depends only on the scenario and the seed, never on how
:meth:`generate` calls are spaced. Items are held back until asked for and
only one batch is computed ahead, so memory stays bounded however long the
session runs.
"""

from __future__ import annotations

import itertools
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

_EPS = 1e-6     # seconds; absorbs float error in `until - start` at Unix-time magnitudes
_OK, _SENSOR_OFF, _LOST = 0, 1, 2
_STREAMS = ("physiology", "pleth", "hr", "pulse_rate", "spo2", "resp_rate", "etco2", "nibp")
_SPO2_DIP_PER_S = 1.0 / 300.0
_BATCH_S = 10               # seconds computed at a time; fixed, so output never depends on calls
_PROBE_VITALS = frozenset({Vital.SPO2, Vital.PULSE_RATE})   # lost when the SpO2 probe is off


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

    def report(self, true: TrueVitals) -> np.ndarray:
        n = true.seconds.size
        noise = self._rng.standard_normal(n)
        dip_draws = self._rng.random((n, 2)).tolist()
        dips = np.zeros(n)
        for i, (start, length) in enumerate(dip_draws):
            if self._dip_left > 0:
                self._dip_left -= 1
                dips[i] = 1.0
            elif start < _SPO2_DIP_PER_S:
                self._dip_left = 2 + int(length * 12)
                dips[i] = 1.0
        shown = np.clip(np.rint(true.spo2 + 0.3 * noise) - dips, self._lo, self._hi)
        return np.maximum(shown - np.rint(true.spo2_drop), 0.0)


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
    run_s : float or None
        How many seconds of data to produce; defaults to the scenario's
        length. Past the scenario's end the patient stays in late recovery
        (the response keeps decaying; NIBP stays on the late recovery cycle),
        as for a patient kept in the chair.

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

    def __init__(self, scenario: Scenario, seed: int, start: float,
                 run_s: float | None = None) -> None:
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
        self.run_s = self.duration_s if run_s is None else float(run_s)
        minutes = list(scenario.nibp_minutes())
        late = scenario.nibp.recovery_late_every_min
        after = minutes[-1] + late if minutes else late
        while after * 60.0 < self.run_s:
            if after * 60.0 >= self.duration_s:
                minutes.append(after)
            after += late
        self._nibp_s = [m * 60.0 for m in minutes
                        if m * 60.0 < self.run_s and scenario.nibp.cuff]
        self._sensor_off = self._windows(EpisodeKind.SENSOR_OFF)
        self._link_loss = self._windows(EpisodeKind.LINK_LOSS)
        self._low_perfusion = self._windows(EpisodeKind.LOW_PERFUSION)

        self._next_second = 0     # first second of the next batch
        self._n_seconds = math.ceil(self.run_s - _EPS)
        self._last_second = math.floor(self.run_s + _EPS)
        self._n_samples = math.ceil(self.run_s * RATE_HZ - _EPS)
        self._next_nibp = 0
        self._readings: deque[tuple[float, Reading]] = deque()
        self._wave: list[tuple[np.ndarray, np.ndarray]] = []   # (samples, status) not yet taken
        self._wave_first = 0      # sample index of the first sample not yet taken
        log.debug("engine for %s, seed %d, %d s", scenario.name, seed, self.duration_s)

    def _windows(self, kind: EpisodeKind) -> list[tuple[float, float]]:
        return [(e.start_s, e.end_s) for e in self.scenario.episodes if e.kind is kind]

    @staticmethod
    def _inside(windows: list[tuple[float, float]], second: float) -> bool:
        return any(a <= second < b for a, b in windows)

    def link_lost(self, t: float) -> bool:
        """Whether absolute time ``t`` falls in a link-loss episode.

        During a link loss the device goes on measuring but nothing reaches
        the host: a protocol path drops every byte due in the window (the
        device's frames, whatever their content), as a cut cable would.
        """
        return self._inside(self._link_loss, t - self.start)

    def link_loss_edges(self, t0: float, t1: float) -> list[float]:
        """Absolute times in ``(t0, t1)`` where a link loss starts or ends, ascending."""
        edges = {self.start + e for window in self._link_loss for e in window}
        return sorted(e for e in edges if t0 < e < t1)

    def nibp_schedule(self) -> list[float]:
        """Absolute times of the NIBP determinations, ascending.

        Determinations that fall in a link loss are scheduled but never sent.
        """
        return [self.start + s for s in self._nibp_s]

    @property
    def finished(self) -> bool:
        """Whether every item of the session has been returned."""
        return (self._next_second >= self._n_seconds and not self._readings
                and not self._wave)

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
        while self._next_second < self._n_seconds and self._next_second <= rel:
            self._run_batch()
        items: list[Reading | WaveChunk] = []
        while self._readings and self._readings[0][0] <= rel:
            items.append(self._readings.popleft()[1])
        items.extend(self._take_wave(math.floor(rel * RATE_HZ)))
        items.sort(key=_time_of)
        return items

    def _run_batch(self) -> None:
        """Produce everything in the next ``_BATCH_S`` seconds (fewer at the session's end)."""
        k0 = self._next_second
        k1 = min(k0 + _BATCH_S, self._n_seconds)
        before = self._physiology.current
        true = self._physiology.advance(k1 - k0)
        first, last = k0 * RATE_HZ, min(k1 * RATE_HZ, self._n_samples)
        seconds = np.concatenate((before.seconds, true.seconds))
        wave = self._pleth.samples(
            first, last - first, seconds, np.concatenate((before.hr, true.hr)),
            np.concatenate((before.resp_rate, true.resp_rate)))
        self._add_wave(first, wave)
        while self._next_nibp < len(self._nibp_s) and self._nibp_s[self._next_nibp] <= k1:
            at = self._nibp_s[self._next_nibp]
            self._determine_nibp(at, true, min(max(math.ceil(at) - k0 - 1, 0), k1 - k0 - 1))
            self._next_nibp += 1
        self._numerics(true, min(k1, self._last_second) - k0)
        # NIBP determinations are queued before the batch's numerics: keep the
        # queue in time order so generate() never holds earlier items back.
        self._readings = deque(sorted(self._readings, key=lambda pair: pair[0]))
        self._next_second = k1

    def _add_wave(self, first: int, samples: np.ndarray) -> None:
        t = (first + np.arange(samples.size)) / RATE_HZ
        status = np.full(samples.size, _OK, dtype=np.int8)
        for value, windows in ((_SENSOR_OFF, self._sensor_off), (_LOST, self._link_loss)):
            for a, b in windows:
                status[(t >= a) & (t < b)] = value
        samples = np.where(status == _SENSOR_OFF, np.nan, samples).astype(np.float32)
        self._wave.append((samples, status))

    def _take_wave(self, last_index: int) -> list[WaveChunk]:
        """Chunks for buffered samples up to ``last_index``, split where quality changes."""
        count = max(last_index + 1 - self._wave_first, 0)
        if not count or not self._wave:
            return []
        buffered = np.concatenate([samples for samples, _ in self._wave])
        statuses = np.concatenate([status for _, status in self._wave])
        count = min(count, buffered.size)
        wave, status = buffered[:count], statuses[:count]
        self._wave = [(buffered[count:].copy(), statuses[count:])] if count < buffered.size else []
        first = self._wave_first
        self._wave_first += count
        bounds = [0, count]
        if status.any():
            bounds[1:1] = (np.flatnonzero(np.diff(status)) + 1).tolist()
        chunks = []
        for lo, hi in itertools.pairwise(bounds):
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

    def _determine_nibp(self, second: float, true: TrueVitals, index: int) -> None:
        noise = np.clip(self._rng["nibp"].standard_normal(2) * (3.0, 2.5), -7.0, 7.0)
        sys = round(float(true.sbp[index] + noise[0]))
        dia = min(round(float(true.dbp[index] + noise[1])), sys - 10)
        mean = round(mean_arterial(sys, dia))
        t = self.start + second
        for vital, value in ((Vital.NIBP_SYS, sys), (Vital.NIBP_DIA, dia),
                             (Vital.NIBP_MEAN, mean)):
            self._emit(second, make_reading(vital, value, t))

    def _numerics(self, true: TrueVitals, count: int) -> None:
        """Numerics at the first ``count`` seconds of ``true``."""
        n = true.seconds.size
        rng = self._rng
        columns = [
            (Vital.HR, np.rint(true.hr + 0.8 * rng["hr"].standard_normal(n))),
            (Vital.PULSE_RATE, np.rint(true.hr + 1.2 * rng["pulse_rate"].standard_normal(n))),
            (Vital.SPO2, self._spo2.report(true)),
            (Vital.RESP_RATE, _reported_rr(true.resp_rate,
                                           rng["resp_rate"].standard_normal(n))),
        ]
        if self.scenario.baseline.capnography:
            columns.append(
                (Vital.ETCO2, np.maximum(
                    np.rint(true.etco2 + 0.7 * rng["etco2"].standard_normal(n)), 0.0)))
        vitals = [vital for vital, _ in columns]
        rows = np.column_stack([values for _, values in columns])[:count].tolist()
        for second, row in zip(true.seconds[:count].tolist(), rows, strict=True):
            t = self.start + second
            probe_off = self._inside(self._sensor_off, second)
            low = self._inside(self._low_perfusion, second)
            for vital, value in zip(vitals, row, strict=True):
                if probe_off and vital in _PROBE_VITALS:
                    self._emit(second, Reading.invalid(vital, t, Quality.SENSOR_OFF))
                elif low and vital in _PROBE_VITALS:
                    self._emit(second, make_reading(vital, value, t, Quality.LOW_PERFUSION))
                else:
                    self._emit(second, make_reading(vital, value, t))


def _reported_rr(true_rr: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """The respiration rate a monitor shows: noisy and at least 4 /min while breathing
    normally; below that (a scripted hypoventilation or apnoea) the true rate, rounded."""
    breathing = np.rint(np.maximum(true_rr + 0.6 * noise, 4.0))
    return np.where(true_rr < 4.0, np.rint(np.maximum(true_rr, 0.0)), breathing)


def _time_of(item: Reading | WaveChunk) -> float:
    return item.t0 if isinstance(item, WaveChunk) else item.t
