"""Shared helpers for the simulator tests: run scenarios once, slice their output."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from monitor.core.reading import Reading, WaveChunk
from monitor.core.vitals import Vital
from simulators.engine import ScenarioEngine
from simulators.scenario import Scenario, load_scenario

START = 1_760_000_000.25
"""A realistic Unix time with a fractional part, to catch float slips."""


@dataclass(frozen=True)
class Run:
    """Everything one engine produced for a whole session."""

    engine: ScenarioEngine
    readings: tuple[Reading, ...]
    chunks: tuple[WaveChunk, ...]

    def values(self, vital: Vital) -> list[tuple[float, float]]:
        """``(seconds from start, value)`` of every reading of ``vital``."""
        return [(r.t - START, r.value) for r in self.readings if r.vital is vital]

    def of(self, vital: Vital) -> list[Reading]:
        return [r for r in self.readings if r.vital is vital]

    def sample_indices(self) -> np.ndarray:
        """Index ``i`` (time ``START + i / 100``) of every pleth sample, from the chunk starts."""
        return np.concatenate([round((c.t0 - START) * c.rate) + np.arange(len(c))
                               for c in self.chunks])

    def sample_qualities(self) -> np.ndarray:
        """The quality of the chunk each pleth sample came in."""
        return np.concatenate([np.full(len(c), c.quality.value) for c in self.chunks])

    def pleth(self) -> tuple[np.ndarray, np.ndarray]:
        """All pleth sample times (seconds from start) and samples."""
        times = np.concatenate([c.times() - START for c in self.chunks])
        samples = np.concatenate([c.samples for c in self.chunks])
        return times, samples


def split(items: list[Reading | WaveChunk]) -> tuple[list[Reading], list[WaveChunk]]:
    readings = [i for i in items if isinstance(i, Reading)]
    chunks = [i for i in items if isinstance(i, WaveChunk)]
    assert len(readings) + len(chunks) == len(items)
    return readings, chunks


def run_engine(scenario: Scenario, seed: int, step: float | None = None) -> Run:
    """Play ``scenario`` to the end, in one call or in calls ``step`` seconds apart."""
    engine = ScenarioEngine(scenario, seed, START)
    items: list[Reading | WaveChunk] = []
    if step is None:
        items = engine.generate(START + engine.duration_s + 10)
    else:
        for k in range(1, math.ceil((engine.duration_s + 1) / step) + 1):
            items.extend(engine.generate(START + k * step))
    assert engine.finished
    readings, chunks = split(items)
    return Run(engine, tuple(readings), tuple(chunks))


@functools.lru_cache(maxsize=32)
def run_named(name: str, seed: int = 0) -> Run:
    """A bundled scenario played once per test session, in one call."""
    return run_engine(load_scenario(name), seed)


def reading_key(r: Reading) -> tuple[object, ...]:
    """A reading as a comparable tuple (NaN compares equal to NaN)."""
    value = None if math.isnan(r.value) else r.value
    return (r.vital, r.t, value, r.quality)


def longest_run(mask: np.ndarray) -> int:
    """Length of the longest run of True in ``mask``."""
    best = current = 0
    for flag in mask.tolist():
        current = current + 1 if flag else 0
        best = max(best, current)
    return best


def count_beats(samples: np.ndarray, high: float = 0.4, low: float = -0.4) -> int:
    """Systolic peaks: upward crossings of ``high``, re-armed only below ``low``."""
    beats, armed = 0, True
    for x in samples.tolist():
        if armed and x > high:
            beats += 1
            armed = False
        elif not armed and x < low:
            armed = True
    return beats
