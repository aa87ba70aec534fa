"""Scripted chair events in scenario files: parsing, validation, and the driver's plan."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.acquisition.sources import make_driver
from monitor.core.clock import SimClock
from monitor.core.workflow.messages import AddEvent, EventKind
from monitor.devices.registry import parse_source
from simulators.scenario import ScenarioError, load_scenario, parse_scenario
from simulators.scenario_events import ScriptedEvent

T0 = 1_800_000_000.0


def load_error(tmp_path: Path, text: str) -> ScenarioError:
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(str(path))
    assert str(path) in str(info.value)
    return info.value


def test_typical_scripts_dissociation_nausea_and_an_antiemetic():
    events = load_scenario("typical").events
    assert [(e.at_min, e.kind) for e in events] == [
        (20, EventKind.DISSOCIATION), (25, EventKind.NAUSEA), (27, EventKind.ANTIEMETIC)]


def test_events_are_optional_and_text_defaults_to_empty():
    assert parse_scenario('description = "x"\n', "x").events == ()
    scenario = parse_scenario('[[events]]\nat_min = 3\nkind = "headache"\n', "x")
    assert scenario.events == (ScriptedEvent(3.0, EventKind.HEADACHE, ""),)


@pytest.mark.parametrize(("body", "line", "words"), [
    ('at_min = 5\nkind = "hiccups"\n', 4, "expected one of nausea, vomiting"),
    ('at_min = 95\nkind = "nausea"\n', 3, "before the session ends (90 min)"),
    ('at_min = -1\nkind = "nausea"\n', 3, "out of range"),
    ('at_min = "soon"\nkind = "nausea"\n', 3, "expected a number"),
    ('at_min = 5\n', 2, "missing key 'kind'"),
    ('kind = "nausea"\n', 2, "missing key 'at_min'"),
    ('at_min = 5\nkind = "note"\n', 2, "a note needs a text"),
    ('at_min = 5\nkind = "nausea"\nseverity = 2\n', 5, "unknown key; valid keys: at_min"),
    ('at_min = 5\nkind = "nausea"\ntext = 3\n', 5, "one line"),
])
def test_bad_events_name_file_and_line(tmp_path, body, line, words):
    error = load_error(tmp_path, f'description = "x"\n[[events]]\n{body}')
    assert error.line == line
    assert words in str(error)


def test_events_must_be_an_array_of_tables(tmp_path):
    error = load_error(tmp_path, 'description = "x"\nevents = 3\n')
    assert error.line == 2 and "[[events]]" in str(error)


def test_the_simulated_driver_plans_the_events_at_session_times():
    driver = make_driver(parse_source("sim:typical"))
    assert driver.event_plan == ()       # nothing before the session opens
    driver.open(SimClock(T0, speed=None), T0)
    assert list(driver.event_plan) == [
        AddEvent(EventKind.DISSOCIATION, "feels detached, calm", "scenario", T0 + 1200),
        AddEvent(EventKind.NAUSEA, "mild", "scenario", T0 + 1500),
        AddEvent(EventKind.ANTIEMETIC, "ondansetron 4 mg IV", "scenario", T0 + 1620)]
    driver.close()
