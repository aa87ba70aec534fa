"""Loading and validating scenario files."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from simulators.scenario import (
    Baseline,
    EpisodeKind,
    InfusionResponse,
    NibpCycle,
    Scenario,
    ScenarioError,
    SessionShape,
    list_scenarios,
    load_scenario,
    parse_scenario,
    scenario_names,
)

BUNDLED = ["desaturation", "extended-90", "hypertensive-surge", "hypoventilation", "link-loss",
           "sensor-off", "tachycardia", "typical"]


def write(tmp_path: Path, text: str, name: str = "bad.toml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def load_error(tmp_path: Path, text: str) -> tuple[str, ScenarioError]:
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return path, info.value


def test_bundled_names_are_the_documented_set():
    assert scenario_names() == BUNDLED


@pytest.mark.parametrize("name", BUNDLED)
def test_every_bundled_scenario_loads_with_a_one_line_description(name):
    scenario = load_scenario(name)
    assert scenario.name == name
    assert scenario.description
    assert "\n" not in scenario.description
    assert scenario.source is not None
    assert scenario.source.endswith(f"{name}.toml")


def test_list_scenarios_pairs_names_with_descriptions():
    listed = list_scenarios()
    assert [name for name, _ in listed] == BUNDLED
    assert dict(listed)["link-loss"] == load_scenario("link-loss").description


def test_typical_is_the_defaults():
    typical = load_scenario("typical")
    assert typical.session == SessionShape(10, 40, 40)
    assert typical.baseline == Baseline()
    assert typical.baseline.sbp == 125
    assert typical.baseline.dbp == 78
    assert typical.infusion == InfusionResponse()
    assert typical.peak_at_min == 40
    assert typical.nibp == NibpCycle()
    assert typical.episodes == ()


def test_episode_parameters_and_defaults():
    scenario = parse_scenario(
        'description = "x"\n'
        '[[episodes]]\nkind = "bp_surge"\nat_min = 20\nduration_s = 60\nsbp_add = 30\n'
        '[[episodes]]\nkind = "desaturation"\nat_min = 25\nduration_s = 90\ntarget_spo2 = 85\n',
        "inline")
    surge, desat = scenario.episodes
    assert surge.kind is EpisodeKind.BP_SURGE
    assert (surge.sbp_add, surge.dbp_add, surge.ramp_s) == (30, 15, 60)
    assert desat.kind is EpisodeKind.DESATURATION
    assert (desat.target_spo2, desat.start_s, desat.end_s) == (85, 1500, 1590)


def test_peak_defaults_to_the_end_of_the_infusion():
    scenario = parse_scenario("[session]\ninfusion_min = 90\n", "x")
    assert scenario.peak_at_min == 90
    assert load_scenario("extended-90").peak_at_min == 60


def test_nibp_minutes_follow_the_phase_cycles():
    scenario = parse_scenario(
        "[session]\nbaseline_min = 12\ninfusion_min = 30\nrecovery_min = 25\n"
        "[nibp]\nbaseline_start_min = 2\ninfusion_early_min = 10\n", "x")
    assert scenario.nibp_minutes() == [2, 7, 12, 17, 22, 32, 42, 52, 62]


def test_load_by_path(tmp_path):
    path = write(tmp_path, 'description = "mine"\n[baseline]\nhr = 90\n', "mine.toml")
    scenario = load_scenario(path)
    assert (scenario.name, scenario.description, scenario.baseline.hr) == ("mine", "mine", 90)
    assert scenario.source == path


def test_unknown_name_lists_valid_names():
    with pytest.raises(ScenarioError) as info:
        load_scenario("no-such-scenario")
    message = str(info.value)
    assert "no-such-scenario" in message
    for name in BUNDLED:
        assert name in message


def test_missing_file_names_the_file(tmp_path):
    missing = str(tmp_path / "absent.toml")
    with pytest.raises(ScenarioError, match=r"absent\.toml"):
        load_scenario(missing)


def test_scenario_error_is_a_value_error():
    assert issubclass(ScenarioError, ValueError)


def test_syntax_error_names_file_and_line(tmp_path):
    path, error = load_error(tmp_path, 'description = "x"\n\n[baseline]\nsbp = = 120\n')
    assert str(error).startswith(f"{path}, line 4:")
    assert "invalid TOML" in str(error)
    assert "(at line" not in str(error)
    assert error.line == 4
    assert error.path == path


def test_syntax_error_at_end_of_document_points_at_last_line(tmp_path):
    _, error = load_error(tmp_path, 'description = "x"\n[baseline]\nsbp = 1\nnote = "open\n')
    assert error.line == 4


def test_unknown_key_names_file_line_and_key(tmp_path):
    path, error = load_error(
        tmp_path, 'description = "x"\n[baseline]\nsbp = 120\n# note\nsbpp = 130\nhr = 70\n')
    assert str(error).startswith(f"{path}, line 5:")
    assert "baseline.sbpp" in str(error)
    assert "unknown key" in str(error)
    assert "sbp" in str(error).split("valid keys:")[1]


def test_unknown_table_names_its_header_line(tmp_path):
    _, error = load_error(tmp_path, 'description = "x"\n\n[baselin]\nsbp = 120\n')
    assert error.line == 3
    assert "baselin" in str(error)


def test_wrong_type_names_file_and_line(tmp_path):
    path, error = load_error(
        tmp_path, 'description = "x"\n[session]\nbaseline_min = 10\ninfusion_min = "forty"\n')
    assert str(error).startswith(f"{path}, line 4:")
    assert "session.infusion_min" in str(error)
    assert "expected a number" in str(error)


def test_bool_is_not_a_number_and_number_is_not_a_bool(tmp_path):
    _, error = load_error(tmp_path, "[baseline]\nhr = true\n")
    assert error.line == 2
    _, error = load_error(tmp_path, "[baseline]\nhr = 70\ncapnography = 1\n")
    assert error.line == 3
    assert "true or false" in str(error)


def test_out_of_range_names_file_and_line(tmp_path):
    path, error = load_error(tmp_path, '[baseline]\nsbp = 120\nspo2 = 120\n')
    assert str(error).startswith(f"{path}, line 3:")
    assert "out of range" in str(error)


def test_zero_length_phase_is_rejected(tmp_path):
    _, error = load_error(tmp_path, "[session]\nrecovery_min = 0\n")
    assert error.line == 2
    assert "session.recovery_min" in str(error)


def test_dotted_key_is_located(tmp_path):
    _, error = load_error(tmp_path, 'description = "x"\nbaseline.hr = "fast"\n')
    assert error.line == 2


def test_error_in_second_episode_points_at_its_line(tmp_path):
    text = (
        'description = "x"\n'                                               # 1
        '[[episodes]]\nkind = "hr_surge"\nat_min = 20\nduration_s = 60\n'   # 2-5
        'target_hr = 130\n'                                                  # 6
        '[[episodes]]\nkind = "hr_surge"\nat_min = 30\nduration_s = 60\n'   # 7-10
        'target_hr = "fast"\n'                                               # 11
    )
    _, error = load_error(tmp_path, text)
    assert error.line == 11
    assert "episodes[1].target_hr" in str(error)


@pytest.mark.parametrize(("body", "line", "words"), [
    ('kind = "nap"\nat_min = 5\nduration_s = 10\n', 3, "expected one of"),
    ('kind = "desaturation"\nat_min = 5\nduration_s = 10\n', 2, "target_spo2"),
    ('kind = "sensor_off"\nat_min = 5\nduration_s = 10\ntarget_hr = 120\n', 6, "unknown key"),
    ('kind = "link_loss"\nat_min = 500\nduration_s = 10\n', 4, "session ends"),
    ('kind = "link_loss"\nat_min = 5\nduration_s = 0\n', 5, "out of range"),
])
def test_bad_episodes(tmp_path, body, line, words):
    _, error = load_error(tmp_path, f'description = "x"\n[[episodes]]\n{body}')
    assert error.line == line
    assert words in str(error)


def test_cross_checks_point_at_the_later_value(tmp_path):
    _, error = load_error(tmp_path, "[baseline]\nsbp = 100\ndbp = 100\n")
    assert error.line == 3
    assert "below systolic" in str(error)
    _, error = load_error(tmp_path, "[session]\ninfusion_min = 40\n[infusion]\npeak_at_min = 45\n")
    assert error.line == 4


def test_episodes_must_be_an_array_of_tables(tmp_path):
    _, error = load_error(tmp_path, 'description = "x"\nepisodes = 3\n')
    assert error.line == 2


def test_multiline_description_is_rejected(tmp_path):
    _, error = load_error(tmp_path, 'description = """one\ntwo"""\n')
    assert error.line == 1
    assert "single line" in str(error)


def test_scenarios_compare_by_content_not_source():
    a = parse_scenario("", "same", "a.toml")
    b = parse_scenario("", "same", "b.toml")
    assert a == b
    assert dataclasses.replace(a, description="other") != b
    assert a == Scenario(name="same")
