"""The synthesized alarm bursts match the issue's pulse table and spectrum rules."""

from __future__ import annotations

import itertools
import wave

import numpy as np
import pytest

from monitor.core.alarms.model import Priority
from monitor.core.alarms.tones import (
    ALARM_PATTERNS,
    LEAD_IN_S,
    REMINDER_PATTERN,
    SAMPLE_RATE,
    BurstPattern,
    detect_pulses,
    synthesize_burst,
    write_tone_set,
    write_wav,
)

ALL_PATTERNS = [*ALARM_PATTERNS.values(), REMINDER_PATTERN]
TIME_TOL_S = 0.003  # detect_pulses is accurate to about one period of the fundamental


def recovered(pattern: BurstPattern) -> tuple[np.ndarray, np.ndarray]:
    """Onsets (from the first pulse) and durations found in the synthesized PCM."""
    pulses = detect_pulses(synthesize_burst(pattern), SAMPLE_RATE)
    onsets = np.array([p.onset_s for p in pulses])
    return onsets - onsets[0], np.array([p.duration_s for p in pulses])


@pytest.mark.parametrize("pattern", ALL_PATTERNS, ids=lambda p: p.name)
def test_recovered_timings_match_the_pattern(pattern):
    onsets, durations = recovered(pattern)
    assert len(onsets) == len(pattern.pulses)
    np.testing.assert_allclose(onsets, [p.onset_s for p in pattern.pulses], atol=TIME_TOL_S)
    np.testing.assert_allclose(durations, [p.duration_s for p in pattern.pulses],
                               atol=TIME_TOL_S)


def test_first_pulse_starts_after_the_lead_in():
    pulses = detect_pulses(synthesize_burst(ALARM_PATTERNS[Priority.HIGH]))
    assert pulses[0].onset_s == pytest.approx(LEAD_IN_S, abs=TIME_TOL_S)


def test_high_burst_is_three_plus_two_gap_three_plus_two():
    onsets, durations = recovered(ALARM_PATTERNS[Priority.HIGH])
    assert len(onsets) == 10
    gaps = onsets[1:] - (onsets[:-1] + durations[:-1])
    short = np.median(gaps)
    grouping = ["|" if g > 1.5 * short else "" for g in gaps]
    # Boundaries after pulses 3, 5 (the long gap) and 8: "xxx|xx|xxx|xx".
    assert [i + 1 for i, b in enumerate(grouping) if b] == [3, 5, 8]
    assert gaps[4] > gaps[2] == pytest.approx(gaps[7], abs=TIME_TOL_S)
    assert 0.35 <= gaps[4] <= 1.30  # the pause between the two halves
    for i in (0, 1, 3, 5, 6, 8):
        assert 0.050 <= gaps[i] <= 0.125


def test_medium_and_low_pulse_counts():
    assert len(recovered(ALARM_PATTERNS[Priority.MEDIUM])[0]) == 3
    assert 1 <= len(recovered(ALARM_PATTERNS[Priority.LOW])[0]) <= 2


@pytest.mark.parametrize("priority", list(Priority), ids=lambda p: p.label)
def test_pulse_durations_in_range(priority):
    _, durations = recovered(ALARM_PATTERNS[priority])
    assert np.all((durations >= 0.100 - TIME_TOL_S) & (durations <= 0.200 + TIME_TOL_S))
    assert all(0.100 <= p.duration_s <= 0.200 for p in ALARM_PATTERNS[priority].pulses)


@pytest.mark.parametrize(("priority", "low", "high"), [
    (Priority.HIGH, 5.0, 8.0),
    (Priority.MEDIUM, 15.0, 20.0),
])
def test_repeat_period_in_range_either_way_it_is_measured(priority, low, high):
    pattern = ALARM_PATTERNS[priority]
    assert low <= pattern.repeat_period_s <= high   # start to start
    assert low <= pattern.interburst_s <= high      # end of burst to start of the next


def test_low_priority_plays_once():
    assert ALARM_PATTERNS[Priority.LOW].repeat_period_s is None
    assert ALARM_PATTERNS[Priority.LOW].interburst_s is None


@pytest.mark.parametrize("pattern", ALL_PATTERNS, ids=lambda p: p.name)
def test_never_a_continuous_tone(pattern):
    pcm = synthesize_burst(pattern)
    pulses = detect_pulses(pcm)
    assert max(p.duration_s for p in pulses) <= 0.200 + TIME_TOL_S
    # Silence between pulses really is silence, not a quieter tone.
    for a, b in itertools.pairwise(pulses):
        mid = round((a.end_s + b.onset_s) / 2 * SAMPLE_RATE)
        assert np.all(pcm[mid - 20:mid + 20] == 0)
    if pattern.repeat_period_s is not None:
        assert pattern.duration_s / pattern.repeat_period_s < 0.5


def steady_part(pattern: BurstPattern) -> np.ndarray:
    """The middle 70 % of the first pulse, where its envelope is flat."""
    pcm = synthesize_burst(pattern)
    first = detect_pulses(pcm)[0]
    start, n = first.onset_s + 0.15 * first.duration_s, 0.7 * first.duration_s
    return pcm[round(start * SAMPLE_RATE):round((start + n) * SAMPLE_RATE)]


@pytest.mark.parametrize("pattern", ALL_PATTERNS, ids=lambda p: p.name)
def test_spectrum_fundamental_and_harmonics(pattern):
    x = steady_part(pattern).astype(np.float64)
    n_fft = 1 << 16  # zero-padded: peaks located to under 1 Hz
    mag = np.abs(np.fft.rfft(x * np.hanning(len(x)), n_fft))
    freqs = np.fft.rfftfreq(n_fft, 1 / SAMPLE_RATE)
    db = 20 * np.log10(mag / mag.max() + 1e-12)
    # Spectral peaks: local maxima within 25 dB of the strongest (Hann side lobes are < -31 dB).
    is_peak = (db[1:-1] > db[:-2]) & (db[1:-1] >= db[2:]) & (db[1:-1] > -25)
    peak_f, peak_db = freqs[1:-1][is_peak], db[1:-1][is_peak]
    f0, f0_db = peak_f[0], peak_db[0]
    assert 400 <= f0 <= 900
    assert f0 == pytest.approx(pattern.fundamental_hz, abs=2)
    harmonics = [(f, d) for f, d in zip(peak_f[1:], peak_db[1:], strict=True)
                 if abs(f / f0 - round(f / f0)) < 0.01 and 300 <= f <= 4000
                 and abs(d - f0_db) <= 15]
    assert len(harmonics) >= 4, list(zip(peak_f, peak_db, strict=True))
    assert np.all(peak_f <= 4000)  # nothing strong outside the band


def test_pulses_start_and_end_softly():
    """Raised-cosine ramps: no sample jumps from silence to a loud value (no clicks)."""
    pattern = ALARM_PATTERNS[Priority.MEDIUM]
    pcm = synthesize_burst(pattern).astype(np.int32)
    start = round((LEAD_IN_S - 0.15 * pattern.pulses[0].duration_s / 2) * SAMPLE_RATE)
    first_ms = np.abs(pcm[start:start + SAMPLE_RATE // 1000])
    assert first_ms.max() < 0.02 * np.abs(pcm).max()
    assert np.all(pcm[:start] == 0)


def test_wav_round_trip(tmp_path):
    pcm = synthesize_burst(ALARM_PATTERNS[Priority.HIGH])
    path = tmp_path / "high.wav"
    write_wav(path, pcm)
    with wave.open(str(path), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, SAMPLE_RATE)
        assert wav.getnframes() == len(pcm)
        read = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    np.testing.assert_array_equal(read, pcm)


def test_tone_set_has_one_file_per_priority_and_the_reminder(tmp_path):
    paths = write_tone_set(tmp_path / "tones")
    assert set(paths) == {"high", "medium", "low", "reminder"}
    assert {p.label for p in Priority} <= set(paths)
    for name, path in paths.items():
        with wave.open(str(path), "rb") as wav:
            pcm = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
        expected = REMINDER_PATTERN if name == "reminder" else ALARM_PATTERNS[Priority.parse(name)]
        assert len(detect_pulses(pcm)) == len(expected.pulses)


def test_reminder_is_distinct_and_softer():
    low = ALARM_PATTERNS[Priority.LOW]
    assert REMINDER_PATTERN.fundamental_hz != low.fundamental_hz
    peak = np.abs(synthesize_burst(REMINDER_PATTERN)).max()
    assert peak < 0.6 * np.abs(synthesize_burst(low)).max()


def test_detect_pulses_on_silence():
    assert detect_pulses(np.zeros(1000, dtype=np.int16)) == ()
    assert detect_pulses(np.zeros(0, dtype=np.int16)) == ()


def test_the_shipped_tone_files_are_what_the_generator_makes():
    from monitor.core.alarms.tones import (
        ALARM_PATTERNS,
        REMINDER_PATTERN,
        SAMPLE_RATE,
        read_wav,
        shipped_tone_dir,
        synthesize_burst,
    )

    for pattern in (*ALARM_PATTERNS.values(), REMINDER_PATTERN):
        pcm, rate = read_wav(shipped_tone_dir() / f"{pattern.name}.wav")
        expected = synthesize_burst(pattern)
        assert rate == SAMPLE_RATE and len(pcm) == len(expected), pattern.name
        # Within one step of rounding: regenerate with python -m monitor.core.alarms.tones
        assert abs(pcm.astype(int) - expected.astype(int)).max() <= 1, pattern.name
