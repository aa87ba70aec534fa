"""The scenario engine: timing conventions, determinism, physiology and episodes."""

from __future__ import annotations

import gc
import math
import time

import numpy as np
import psutil
import pytest

from monitor.core.reading import Quality, Reading, WaveChunk
from monitor.core.session import Phase
from monitor.core.vitals import Vital, mean_arterial
from simulators.engine import ScenarioEngine
from simulators.scenario import load_scenario, parse_scenario
from tests.simulators.helpers import (
    START,
    count_beats,
    longest_run,
    reading_key,
    run_engine,
    run_named,
    split,
)

NUMERICS = (Vital.HR, Vital.PULSE_RATE, Vital.SPO2, Vital.RESP_RATE, Vital.ETCO2)

# A short session that exercises every kind of episode, for the expensive comparisons.
SHORT = parse_scenario("""
description = "short"
[session]
baseline_min = 1
infusion_min = 2.5
recovery_min = 1
[nibp]
baseline_start_min = 0.5
infusion_early_every_min = 1
[[episodes]]
kind = "sensor_off"
at_min = 1.5
duration_s = 12.5
[[episodes]]
kind = "link_loss"
at_min = 2.2
duration_s = 7.25
[[episodes]]
kind = "desaturation"
at_min = 2.5
duration_s = 40
target_spo2 = 88
[[episodes]]
kind = "hr_surge"
at_min = 3
duration_s = 30
target_hr = 130
""", "short")


def test_phase_plan_and_duration():
    engine = ScenarioEngine(load_scenario("typical"), 0, START)
    assert engine.duration_s == 90 * 60
    assert engine.phase_plan == [
        (START, Phase.BASELINE), (START + 600, Phase.INFUSION),
        (START + 3000, Phase.RECOVERY), (START + 5400, Phase.ENDED)]


def test_typical_nibp_schedule_is_the_documented_cycle():
    expected_minutes = [1, 6, 10, 15, 20, 25, 35, 45, 50, 60, 70, 85]
    run = run_named("typical")
    assert run.engine.nibp_schedule() == [START + m * 60 for m in expected_minutes]
    for vital in (Vital.NIBP_SYS, Vital.NIBP_DIA, Vital.NIBP_MEAN):
        assert [t / 60 for t, _ in run.values(vital)] == pytest.approx(expected_minutes)


def test_nibp_comes_as_a_consistent_triple():
    run = run_named("typical")
    nibp = [r for r in run.readings if r.vital.value.startswith("nibp")]
    assert len(nibp) == 36
    for sys, dia, mean in zip(nibp[0::3], nibp[1::3], nibp[2::3], strict=True):
        assert (sys.vital, dia.vital, mean.vital) == (Vital.NIBP_SYS, Vital.NIBP_DIA,
                                                      Vital.NIBP_MEAN)
        assert sys.t == dia.t == mean.t
        assert sys.quality is Quality.OK
        assert mean.value == round(mean_arterial(sys.value, dia.value))
        assert dia.value < sys.value


def test_nibp_time_past_the_session_end_is_not_emitted():
    scenario = parse_scenario("[session]\nrecovery_min = 5\n[nibp]\nrecovery_early_min = 0\n"
                              "recovery_late_every_min = 4\n", "x")
    run = run_engine(scenario, 0)
    assert [t / 60 for t, _ in run.values(Vital.NIBP_SYS)][-2:] == pytest.approx([50, 54])
    assert max(r.t for r in run.readings) == START + 55 * 60


def test_numerics_once_per_second_from_start_plus_one():
    run = run_named("typical")
    expected = [float(k) for k in range(1, 5401)]
    for vital in NUMERICS:
        times = [r.t for r in run.of(vital)]
        assert times == [START + k for k in expected], vital
        assert all(r.quality is Quality.OK for r in run.of(vital))


def test_displayed_numerics_are_integers():
    run = run_named("typical")
    for vital in (Vital.HR, Vital.PULSE_RATE, Vital.SPO2, Vital.RESP_RATE):
        values = np.array([v for _, v in run.values(vital)])
        assert np.array_equal(values, np.round(values)), vital


def test_pulse_rate_tracks_heart_rate_with_a_little_noise():
    run = run_named("typical")
    hr = np.array([v for _, v in run.values(Vital.HR)])
    pr = np.array([v for _, v in run.values(Vital.PULSE_RATE)])
    difference = pr - hr
    assert abs(difference.mean()) < 0.5
    assert 0 < difference.std() < 3
    assert np.abs(difference).max() <= 10


def test_no_etco2_without_capnography():
    run = run_engine(parse_scenario("[session]\nbaseline_min = 1\ninfusion_min = 1\n"
                                    "recovery_min = 1\n[baseline]\ncapnography = false\n", "x"), 0)
    assert not run.of(Vital.ETCO2)
    assert len(run.of(Vital.RESP_RATE)) == 180


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_spo2_in_typical_baseline_is_97_to_99_with_variation(seed):
    run = run_named("typical", seed)
    baseline = np.array([v for t, v in run.values(Vital.SPO2) if t <= 600])
    assert baseline.size == 600
    assert set(np.unique(baseline)) <= {97.0, 98.0, 99.0}
    whole = np.array([v for _, v in run.values(Vital.SPO2)])
    assert set(np.unique(whole)) == {97.0, 98.0, 99.0}


def test_spo2_never_above_100():
    run = run_engine(parse_scenario("[session]\nbaseline_min = 5\ninfusion_min = 5\n"
                                    "recovery_min = 5\n[baseline]\nspo2 = 100\n", "x"), 3)
    values = np.array([v for _, v in run.values(Vital.SPO2)])
    assert values.max() == 100
    assert values.min() >= 99


def test_systolic_peaks_about_16_above_baseline_at_infusion_end():
    rises, dia_rises, late = [], [], []
    for seed in range(8):
        run = run_named("typical", seed)
        sys = dict((round(t / 60), v) for t, v in run.values(Vital.NIBP_SYS))
        dia = dict((round(t / 60), v) for t, v in run.values(Vital.NIBP_DIA))
        base_sys = (sys[1] + sys[6]) / 2
        base_dia = (dia[1] + dia[6]) / 2
        rises.append((sys[45] + sys[50]) / 2 - base_sys)
        dia_rises.append((dia[45] + dia[50]) / 2 - base_dia)
        late.append(sys[85] - base_sys)
    assert np.mean(rises) == pytest.approx(16, abs=4)
    assert np.mean(dia_rises) == pytest.approx(11, abs=4)
    assert abs(np.mean(late)) < 5


def test_heart_rate_rises_during_infusion():
    hr_base, hr_peak = [], []
    for seed in range(4):
        run = run_named("typical", seed)
        hr = run.values(Vital.HR)
        hr_base.append(np.mean([v for t, v in hr if t <= 600]))
        hr_peak.append(np.mean([v for t, v in hr if 2700 <= t <= 3000]))
    assert np.mean(hr_peak) - np.mean(hr_base) == pytest.approx(8, abs=3)


@pytest.mark.parametrize("seed", range(5))
def test_hypertensive_surge_passes_185_late_in_the_infusion(seed):
    run = run_named("hypertensive-surge", seed)
    late = [v for t, v in run.values(Vital.NIBP_SYS) if 35 <= t / 60 - 10 <= 45]
    assert late, "no determination 35-45 min after infusion start"
    assert max(late) >= 185
    baseline = [v for t, v in run.values(Vital.NIBP_SYS) if t < 600]
    assert max(baseline) < 165


@pytest.mark.parametrize("seed", range(3))
def test_tachycardia_above_130_for_two_minutes_and_120_for_over_five(seed):
    run = run_named("tachycardia", seed)
    times = np.array([t for t, _ in run.values(Vital.HR)])
    hr = np.array([v for _, v in run.values(Vital.HR)])
    assert 90 <= longest_run(hr > 130) <= 180
    assert longest_run(hr > 120) > 300
    infusion = (times > 600) & (times <= 3000)
    assert longest_run(hr[infusion] > 120) == longest_run(hr > 120)


@pytest.mark.parametrize("seed", range(3))
def test_desaturation_to_86_for_about_90_seconds(seed):
    run = run_named("desaturation", seed)
    spo2 = np.array([v for _, v in run.values(Vital.SPO2)])
    times = np.array([t for t, _ in run.values(Vital.SPO2)])
    assert 84 <= spo2.min() <= 88
    low = spo2 <= 88
    assert 60 <= longest_run(low) <= 150
    assert np.all((times[low] >= 1800) & (times[low] <= 1800 + 180))
    assert spo2[times > 2200].min() >= 97


def test_sensor_off_blanks_spo2_pulse_rate_and_pleth_for_30_seconds():
    run = run_named("sensor-off")
    start, end = 1800, 1830
    for vital in (Vital.SPO2, Vital.PULSE_RATE):
        off = [r for r in run.of(vital) if not r.valid]
        assert [r.t - START for r in off] == [float(k) for k in range(start, end)]
        assert all(r.quality is Quality.SENSOR_OFF and math.isnan(r.value) for r in off)
        assert len(run.of(vital)) == 5400
    assert all(r.valid for r in run.of(Vital.HR))
    assert len(run.of(Vital.HR)) == 5400
    times, samples = run.pleth()
    inside = (times >= start - 1e-6) & (times < end - 1e-6)
    assert inside.sum() == 3000
    assert np.isnan(samples[inside]).all()
    assert np.isfinite(samples[~inside]).all()
    for chunk in run.chunks:
        t0 = chunk.t0 - START
        blank = start - 1e-6 <= t0 < end - 1e-6
        assert chunk.quality is (Quality.SENSOR_OFF if blank else Quality.OK)
        assert np.isnan(chunk.samples).all() == blank


def test_link_loss_leaves_a_60_second_hole_with_nothing_in_it():
    run = run_named("link-loss")
    start, end = 1800, 1860
    times = [r.t - START for r in run.readings]
    assert not [t for t in times if start - 1e-6 <= t < end - 1e-6]
    assert start - 1 in times
    assert end in times
    assert len(run.of(Vital.HR)) == 5400 - 60
    sample_times, _ = run.pleth()
    assert not ((sample_times >= start - 1e-6) & (sample_times < end - 1e-6)).any()
    resumed = [c for c in run.chunks if c.t0 - START >= start]
    assert resumed[0].t0 == START + end
    before = [c for c in run.chunks if c.t0 - START < start]
    assert before[-1].t_end == pytest.approx(START + start)
    assert sample_times.size == 540000 - 6000


def test_pleth_is_contiguous_float32_at_100_hz():
    run = run_named("typical")
    assert all(c.vital is Vital.PLETH and c.rate == 100 for c in run.chunks)
    assert all(c.samples.dtype == np.float32 for c in run.chunks)
    index = 0
    for chunk in run.chunks:
        assert chunk.t0 == START + index / 100
        index += len(chunk)
    assert index == 540000
    _, samples = run.pleth()
    assert -1.3 < samples.min() < -0.6
    assert 0.6 < samples.max() < 1.3


@pytest.mark.parametrize(("name", "window"), [
    ("typical", (60, 120)), ("typical", (2880, 2940)), ("tachycardia", (1920, 1980))])
def test_pleth_beat_rate_follows_heart_rate(name, window):
    run = run_named(name)
    lo, hi = window
    times, samples = run.pleth()
    beats = count_beats(samples[(times >= lo) & (times < hi)])
    hr = np.mean([v for t, v in run.values(Vital.HR) if lo < t <= hi])
    assert beats == pytest.approx(hr * (hi - lo) / 60, abs=3)


def test_pleth_has_no_jumps_when_the_rate_changes():
    # HR steps from ~72 to 150 at once. The steepest upstroke at 150 bpm moves about
    # 0.65 per sample; restarting the beat phase would jump by up to ~1.8.
    scenario = parse_scenario("[session]\nbaseline_min = 1\ninfusion_min = 1\n"
                              "recovery_min = 1\n[[episodes]]\nkind = 'hr_surge'\n"
                              "at_min = 1\nduration_s = 60\ntarget_hr = 150\nramp_s = 0\n", "x")
    run = run_engine(scenario, 0)
    times, samples = run.pleth()
    assert np.abs(np.diff(samples)).max() < 0.75
    after = (times >= 70) & (times < 120)
    assert count_beats(samples[after]) == pytest.approx(125, abs=4)


def test_same_seed_same_output_different_seed_different_output():
    a, b, c = run_engine(SHORT, 7), run_engine(SHORT, 7), run_engine(SHORT, 8)
    assert [reading_key(r) for r in a.readings] == [reading_key(r) for r in b.readings]
    assert np.array_equal(a.pleth()[1], b.pleth()[1], equal_nan=True)
    assert [reading_key(r) for r in a.readings] != [reading_key(r) for r in c.readings]
    assert not np.array_equal(a.pleth()[1], c.pleth()[1], equal_nan=True)


def test_output_does_not_depend_on_how_generate_is_called():
    runs = [run_engine(SHORT, 3, step) for step in (None, 1.0, 0.1, 0.37, 13.0)]
    reference = runs[0]
    for run in runs[1:]:
        assert [reading_key(r) for r in run.readings] == [reading_key(r)
                                                          for r in reference.readings]
        _, samples = run.pleth()
        assert np.array_equal(run.sample_indices(), reference.sample_indices())
        assert np.array_equal(samples, reference.pleth()[1], equal_nan=True)
        assert np.array_equal(run.sample_qualities(), reference.sample_qualities())


def test_generate_returns_only_items_up_to_until_in_time_order():
    engine = ScenarioEngine(SHORT, 1, START)
    seen: list[float] = []
    for until in (START + 0.005, START + 1, START + 1, START + 2.5, START + 61.04, START + 300):
        readings, chunks = split(engine.generate(until))
        times = [r.t for r in readings]
        sample_times = [t for c in chunks for t in c.times().tolist()]
        assert all(t <= until + 1e-6 for t in times + sample_times)
        if seen and times:
            assert min(times) > seen[-1]
        seen.extend(times)
    assert engine.finished
    assert engine.generate(START + 10_000) == []


def test_items_are_sorted_by_time():
    engine = ScenarioEngine(SHORT, 1, START)
    items = engine.generate(START + 400)
    keys = [i.t0 if isinstance(i, WaveChunk) else i.t for i in items]
    assert keys == sorted(keys)
    assert isinstance(items[0], WaveChunk)
    assert isinstance(items[-1], Reading)


def test_full_session_second_by_second_is_fast():
    engine = ScenarioEngine(load_scenario("typical"), 0, START)
    began = time.perf_counter()
    for k in range(1, 5402):
        engine.generate(START + k)
    elapsed = time.perf_counter() - began
    assert engine.finished
    assert elapsed < 2.0


@pytest.mark.slow
def test_twelve_hour_session_does_not_accumulate_memory():
    process = psutil.Process()
    scenario = parse_scenario("[session]\nbaseline_min = 10\ninfusion_min = 700\n"
                              "recovery_min = 10\n", "long")
    engine = ScenarioEngine(scenario, 0, START)
    rss = {}
    for minute in range(1, 721):
        items = engine.generate(START + minute * 60)
        assert len(items) > 300
        if minute in (60, 715):
            gc.collect()
            rss[minute] = process.memory_info().rss
    assert engine.generate(START + 721 * 60) == []
    assert engine.finished
    # Keeping what was already returned would grow by ~20 MB of pleth and readings.
    assert rss[715] - rss[60] < 4_000_000


def test_items_are_released_when_due_even_before_an_nibp_determination():
    from monitor.core.reading import Reading
    from monitor.core.vitals import Vital
    from simulators.engine import ScenarioEngine
    from simulators.scenario import load_scenario

    engine = ScenarioEngine(load_scenario("typical"), 0, 0.0)
    for second in range(1, 62):
        items = engine.generate(float(second))
        hr = [i for i in items if isinstance(i, Reading) and i.vital is Vital.HR]
        assert [r.t for r in hr] == [float(second)], second
