"""Auditory alarm signals: the priority-encoded burst patterns and their synthesis.

IEC 60601-1-8 style bursts, never a continuous tone (reference
``alarms-and-ketamine-sessions.md`` §1.4):

========  ======================  ==========  =======  ==============  ===========
priority  pulses                  pulse t_d   spacing  repeat (start)  silence t_b
========  ======================  ==========  =======  ==============  ===========
high      10: 3 + 2, gap, 3 + 2   140 ms      60 ms    every 7.8 s     5.12 s
medium    3                       180 ms      140 ms   every 18 s      17.18 s
low       2                       180 ms      140 ms   once            --
reminder  2 (440 Hz, -6 dB)       100 ms      250 ms   on request      --
========  ======================  ==========  =======  ==============  ===========

The issue's repeat ranges (high 5-8 s, medium 15-20 s) are met whichever way
"repeated every" is read: as the start-to-start period (what the player
uses) and as the silence between the end of one burst and the start of the
next (IEC's interburst interval ``t_b``). Within the high burst the gap after
the third pulse is ``2 * 60 + 140 = 260`` ms (one pulse slot left out, heard
as "3 + 2") and the gap between the two halves is 400 ms (IEC: 0.35-1.30 s).

Every alarm pulse has a fundamental of 523.25 Hz (C5) and harmonics 2 to 6
(1047-3140 Hz) between -2 and -10.5 dB of the fundamental, all inside the
300-4000 Hz band. Each pulse rises and falls with a raised-cosine ramp of
15 % of its duration centred on its nominal start and end, so the pulse is
at half amplitude exactly at the times in the table (no clicks).

This module is Qt-free. The WAV files the UI's player plays are shipped in
``resources/alarm_tones`` (so nothing is written at run time); they are made
by ``python -m monitor.core.alarms.tones`` with :func:`write_tone_set`, and a
test checks they equal what this module synthesizes. Tests check the
synthesized PCM with :func:`detect_pulses`.
"""

from __future__ import annotations

import importlib.resources
import itertools
import sys
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from monitor.core.alarms.model import Priority

SAMPLE_RATE = 44_100
"""Samples per second of the generated PCM (mono, 16-bit)."""

FUNDAMENTAL_HZ = 523.25
"""Fundamental of every alarm pulse (C5)."""

HARMONIC_AMPLITUDES: tuple[float, ...] = (1.0, 0.8, 0.6, 0.5, 0.4, 0.3)
"""Linear amplitude of harmonic 1 (the fundamental) to 6: 0 to -10.5 dB."""

RAMP_FRACTION = 0.15
"""Attack and release time as a fraction of the pulse duration."""

PEAK_LEVEL = 0.8
"""Peak sample of a full-level pulse as a fraction of int16 full scale (-1.9 dBFS)."""

LEAD_IN_S = 0.02
"""Silence before the first pulse's nominal start (its ramp begins inside it)."""

TAIL_S = 0.02
"""Silence after the last pulse's nominal end."""


@dataclass(frozen=True)
class Pulse:
    """One pulse of a burst, measured at half amplitude.

    Attributes
    ----------
    onset_s : float
        Start, seconds from the start of the burst (or of the PCM array,
        for pulses found by :func:`detect_pulses`).
    duration_s : float
        Pulse duration ``t_d``.
    """

    onset_s: float
    duration_s: float

    @property
    def end_s(self) -> float:
        """``onset_s + duration_s``."""
        return self.onset_s + self.duration_s


@dataclass(frozen=True)
class BurstPattern:
    """A burst of pulses and how often it repeats.

    Attributes
    ----------
    name : str
        ``"high"``, ``"medium"``, ``"low"`` (the :attr:`Priority.label`) or
        ``"reminder"``; also the WAV file's stem.
    pulses : tuple of Pulse
        In time order; the first starts at 0.
    repeat_period_s : float or None
        Start-to-start period of the burst while the condition lasts;
        ``None``: played once.
    fundamental_hz : float
    level : float
        Linear gain (1.0 for alarms; the reminder is quieter).
    """

    name: str
    pulses: tuple[Pulse, ...]
    repeat_period_s: float | None
    fundamental_hz: float = FUNDAMENTAL_HZ
    level: float = 1.0

    @property
    def duration_s(self) -> float:
        """From the start of the first pulse to the end of the last."""
        return self.pulses[-1].end_s - self.pulses[0].onset_s

    @property
    def spacings_s(self) -> tuple[float, ...]:
        """Silence between consecutive pulses (end of one to start of the next)."""
        return tuple(b.onset_s - a.end_s for a, b in itertools.pairwise(self.pulses))

    @property
    def interburst_s(self) -> float | None:
        """Silence from the end of one burst to the start of the next (IEC ``t_b``)."""
        if self.repeat_period_s is None:
            return None
        return self.repeat_period_s - self.duration_s


def pulse_train(duration_s: float, gaps_s: Sequence[float]) -> tuple[Pulse, ...]:
    """Pulses of equal duration separated by the given silences.

    Parameters
    ----------
    duration_s : float
        Duration of every pulse.
    gaps_s : sequence of float
        Silence after each pulse but the last; ``len(gaps_s) + 1`` pulses.

    Returns
    -------
    tuple of Pulse
        The first pulse starts at 0.
    """
    pulses = [Pulse(0.0, duration_s)]
    for gap in gaps_s:
        pulses.append(Pulse(round(pulses[-1].end_s + gap, 6), duration_s))
    return tuple(pulses)


_HIGH_T_D = 0.140
_HIGH_X = 0.060          # IEC "x", 50-125 ms
_HIGH_HALVES_GAP = 0.400  # between pulse 5 and 6; IEC 0.35-1.30 s
_THREE_TWO = (_HIGH_X, _HIGH_X, 2 * _HIGH_X + _HIGH_T_D, _HIGH_X)
_MEDIUM_T_D = 0.180
_MEDIUM_Y = 0.140         # IEC "y" for medium and low

ALARM_PATTERNS: dict[Priority, BurstPattern] = {
    Priority.HIGH: BurstPattern(
        "high", pulse_train(_HIGH_T_D, (*_THREE_TWO, _HIGH_HALVES_GAP, *_THREE_TWO)), 7.8),
    Priority.MEDIUM: BurstPattern("medium", pulse_train(_MEDIUM_T_D, (_MEDIUM_Y,) * 2), 18.0),
    Priority.LOW: BurstPattern("low", pulse_train(_MEDIUM_T_D, (_MEDIUM_Y,)), None),
}
"""The burst of each alarm priority (see the module docstring's table)."""

REMINDER_PATTERN = BurstPattern("reminder", pulse_train(0.100, (0.250,)), None,
                                fundamental_hz=440.0, level=0.5)
"""Soft, lower "bip ... bip" played every 5 min while a vital's alarms are off."""


def synthesize_burst(pattern: BurstPattern, sample_rate: int = SAMPLE_RATE,
                     ) -> npt.NDArray[np.int16]:
    """Render one burst of ``pattern`` as mono 16-bit PCM.

    Parameters
    ----------
    pattern : BurstPattern
    sample_rate : int

    Returns
    -------
    numpy.ndarray of int16
        :data:`LEAD_IN_S` of silence, the burst (pulse ``i`` at half
        amplitude from ``LEAD_IN_S + onset_s`` to ``LEAD_IN_S + end_s``),
        then :data:`TAIL_S` of silence.
    """
    n = round((LEAD_IN_S + pattern.pulses[-1].end_s + TAIL_S) * sample_rate)
    t = np.arange(n) / sample_rate
    carrier = _harmonic_carrier(t, pattern.fundamental_hz)
    envelope = np.zeros(n)
    for pulse in pattern.pulses:
        start = LEAD_IN_S + pulse.onset_s
        ramp = RAMP_FRACTION * pulse.duration_s
        first = max(0, int((start - ramp / 2) * sample_rate))
        last = min(n, int((start + pulse.duration_s + ramp / 2) * sample_rate) + 2)
        tp = t[first:last]
        rise = np.clip((tp - (start - ramp / 2)) / ramp, 0.0, 1.0)
        fall = np.clip((start + pulse.duration_s + ramp / 2 - tp) / ramp, 0.0, 1.0)
        shape = 0.5 - 0.5 * np.cos(np.pi * np.minimum(rise, fall))  # raised cosine
        np.maximum(envelope[first:last], shape, out=envelope[first:last])
    samples = carrier * envelope * (pattern.level * PEAK_LEVEL * np.iinfo(np.int16).max)
    return np.round(samples).astype(np.int16)


def _harmonic_carrier(t: npt.NDArray[np.float64], f0: float) -> npt.NDArray[np.float64]:
    """Sum of :data:`HARMONIC_AMPLITUDES` sines at multiples of ``f0``, scaled to a peak of 1."""
    carrier: npt.NDArray[np.float64] = np.zeros_like(t)
    for k, amplitude in enumerate(HARMONIC_AMPLITUDES, start=1):
        carrier += amplitude * np.sin(2 * np.pi * k * f0 * t)
    carrier /= np.abs(carrier).max()
    return carrier


def detect_pulses(pcm: npt.ArrayLike, sample_rate: int = SAMPLE_RATE, *,
                  threshold: float = 0.5, window_s: float = 0.004) -> tuple[Pulse, ...]:
    """Find the pulses in a PCM signal from its amplitude envelope.

    The envelope is the running maximum of ``|pcm|`` over ``window_s``
    (longer than one period of the fundamental); a pulse is a stretch where
    it is at least ``threshold`` times the loudest sample. The window
    widens each stretch by ``window_s / 2`` at both ends, which is taken
    off again, so times are accurate to about a period of the fundamental.

    Parameters
    ----------
    pcm : array_like
        Mono samples, any numeric type.
    sample_rate : int
    threshold : float
        Fraction of the peak amplitude (0.5: times at half amplitude).
    window_s : float

    Returns
    -------
    tuple of Pulse
        Onsets are seconds from the first sample; empty for silence.
    """
    x = np.abs(np.asarray(pcm, dtype=np.float64))
    if x.size == 0 or not x.max() > 0:
        return ()
    w = max(1, round(window_s * sample_rate)) | 1  # odd, so the window is centred
    padded = np.pad(x, w // 2)
    envelope = np.lib.stride_tricks.sliding_window_view(padded, w).max(axis=1)
    above = np.concatenate(([False], envelope >= threshold * x.max(), [False]))
    edges = np.flatnonzero(np.diff(above.astype(np.int8)))
    half = (w // 2) / sample_rate
    return tuple(Pulse(start / sample_rate + half, (end - start) / sample_rate - 2 * half)
                 for start, end in zip(edges[::2], edges[1::2], strict=True))


def write_wav(path: Path, pcm: npt.NDArray[np.int16], sample_rate: int = SAMPLE_RATE) -> None:
    """Write mono 16-bit PCM as a standard (RIFF, little-endian) WAV file."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(np.asarray(pcm, dtype="<i2").tobytes())


def write_tone_set(directory: Path, sample_rate: int = SAMPLE_RATE) -> dict[str, Path]:
    """Write one WAV per alarm priority plus the reminder into ``directory``.

    Parameters
    ----------
    directory : pathlib.Path
        Created if missing; files ``high.wav``, ``medium.wav``, ``low.wav``
        and ``reminder.wav`` are overwritten.
    sample_rate : int

    Returns
    -------
    dict of str to pathlib.Path
        Keyed by :attr:`BurstPattern.name`.
    """
    directory.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for pattern in (*ALARM_PATTERNS.values(), REMINDER_PATTERN):
        path = directory / f"{pattern.name}.wav"
        write_wav(path, synthesize_burst(pattern, sample_rate), sample_rate)
        paths[pattern.name] = path
    return paths


def shipped_tone_dir() -> Path:
    """The folder of the WAV files shipped in ``resources/alarm_tones``."""
    return Path(str(importlib.resources.files("resources") / "alarm_tones"))


def read_wav(path: Path) -> tuple[npt.NDArray[np.int16], int]:
    """Mono 16-bit PCM and sample rate of a WAV file (as written by :func:`write_wav`)."""
    with wave.open(str(path), "rb") as f:
        if f.getnchannels() != 1 or f.getsampwidth() != 2:
            raise ValueError(f"{path}: not mono 16-bit PCM")
        return np.frombuffer(f.readframes(f.getnframes()), dtype="<i2"), f.getframerate()


def main(argv: Sequence[str] | None = None) -> int:
    """Regenerate the shipped tone files (or write them into the folder given)."""
    args = sys.argv[1:] if argv is None else list(argv)
    directory = Path(args[0]) if args else shipped_tone_dir()
    for name, path in write_tone_set(directory).items():
        sys.stdout.write(f"{name}: {path}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
