"""Scenarios: a session's shape, the patient's physiology and scripted episodes.

A scenario is a TOML file in ``simulators/scenarios/``. Every table and key
is optional except ``description``; missing values take the defaults below
(a typical 10 / 40 / 40 minute session)::

    description = "One line shown by `infusion-sim list`"

    [session]      # baseline_min, infusion_min, recovery_min, override_clinician, override_reason
    [baseline]     # sbp, dbp, hr, spo2, resp_rate, etco2, capnography
    [infusion]     # sbp_rise, dbp_rise, hr_rise, peak_at_min, recovery_tau_min
    [nibp]         # the automatic cuff cycle, see NibpCycle

    [[episodes]]   # zero or more, see Episode
    kind = "desaturation"
    at_min = 30          # minutes from session start
    duration_s = 120
    target_spo2 = 86

    [[events]]     # zero or more chair events, see simulators.scenario_events
    at_min = 25
    kind = "nausea"

This module parses and validates that TOML strictly and finds the bundled
scenarios; the dataclasses it builds live in :mod:`simulators.scenario_model`
and are importable from here too.
"""

from __future__ import annotations

import dataclasses
import logging
import tomllib
import typing
from pathlib import Path
from typing import Any

from simulators.scenario_events import parse_events
from simulators.scenario_model import (
    Baseline,
    Episode,
    EpisodeKind,
    InfusionResponse,
    NibpCycle,
    Scenario,
    SessionShape,
)
from simulators.tomlsource import KeyPath, decode_error_position, locate_line

log = logging.getLogger(__name__)

SCENARIO_DIR = Path(__file__).with_name("scenarios")
"""Where the named scenarios live."""


class ScenarioError(ValueError):
    """A scenario that cannot be found or loaded.

    The message starts with the file and, when known, the line at fault.

    Attributes
    ----------
    path : str or None
    line : int or None
    """

    def __init__(self, message: str, path: str | None = None, line: int | None = None) -> None:
        if path is not None:
            message = f"{path}, line {line}: {message}" if line else f"{path}: {message}"
        super().__init__(message)
        self.path = path
        self.line = line


MAX_TEXT = 200
"""Longest text value a scenario may give (one line)."""


_REQUIRED = object()
# Per kind: the parameters it accepts besides kind/at_min/duration_s, and their defaults.
_EPISODE_PARAMS: dict[EpisodeKind, dict[str, object]] = {
    EpisodeKind.HR_SURGE: {"target_hr": _REQUIRED, "ramp_s": 30.0},
    EpisodeKind.DESATURATION: {"target_spo2": _REQUIRED, "ramp_s": 30.0},
    EpisodeKind.BP_SURGE: {"sbp_add": _REQUIRED, "dbp_add": None, "ramp_s": 60.0},
    EpisodeKind.SENSOR_OFF: {},
    EpisodeKind.LINK_LOSS: {},
    EpisodeKind.HYPOVENTILATION: {"target_rr": _REQUIRED, "target_etco2": None, "ramp_s": 60.0},
    EpisodeKind.LOW_PERFUSION: {},
}


_SECTIONS: dict[str, type] = {
    "session": SessionShape, "baseline": Baseline,
    "infusion": InfusionResponse, "nibp": NibpCycle,
}


class _Source:
    """The text being parsed, to raise errors that point at a line."""

    def __init__(self, text: str, path: str) -> None:
        self.text = text
        self.path = path

    def fail(self, where: KeyPath, message: str) -> typing.NoReturn:
        line = locate_line(self.text, where)
        raise ScenarioError(f"{_dotted(where)}: {message}", self.path, line)


def _dotted(where: KeyPath) -> str:
    out = ""
    for part in where:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def _check_value(src: _Source, where: KeyPath, value: object, hint: object,
                 meta: typing.Mapping[str, Any]) -> object:
    """Type- and range-check one value against its dataclass field; return it converted."""
    if hint is bool:
        if not isinstance(value, bool):
            src.fail(where, f"expected true or false, got {_show(value)}")
        return value
    if hint is str:
        if not isinstance(value, str) or "\n" in value.strip():
            src.fail(where, f"expected one line of text, got {_show(value)}")
        if len(value.strip()) > MAX_TEXT:
            src.fail(where, f"{len(value.strip())} characters is too long (at most {MAX_TEXT})")
        return value.strip()
    if hint is EpisodeKind:
        valid = ", ".join(k.value for k in EpisodeKind)
        if not isinstance(value, str) or value not in EpisodeKind.__members__.values():
            src.fail(where, f"expected one of {valid}, got {_show(value)}")
        return EpisodeKind(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        src.fail(where, f"expected a number, got {_show(value)}")
    number = float(value)
    lo, hi, lo_open = meta["lo"], meta["hi"], meta["lo_open"]
    if not ((lo < number if lo_open else lo <= number) and number <= hi):
        bracket = "(" if lo_open else "["
        src.fail(where, f"{number:g} is out of range {bracket}{lo:g}, {hi:g}]")
    return number


def _show(value: object) -> str:
    names: dict[type, str] = {str: "string", dict: "table", list: "array"}
    kind = names.get(type(value), type(value).__name__)
    return f"{kind} {value!r}"


def _build(src: _Source, cls: type, table: object, where: KeyPath,
           allowed: set[str] | None = None) -> Any:
    """Build dataclass ``cls`` from a TOML table, rejecting unknown keys and bad values."""
    if not isinstance(table, dict):
        src.fail(where, f"expected a table, got {_show(table)}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    allowed = set(fields) if allowed is None else allowed
    values: dict[str, object] = {}
    for key, value in table.items():
        if key not in allowed:
            src.fail((*where, key), f"unknown key; valid keys: {', '.join(sorted(allowed))}")
        hint = hints[key]
        if hint == float | None:
            hint = float
        values[key] = _check_value(src, (*where, key), value, hint, fields[key].metadata)
    return cls(**values)


def _build_episode(src: _Source, table: object, index: int) -> Episode:
    where: KeyPath = ("episodes", index)
    if not isinstance(table, dict):
        src.fail(where, f"expected a table, got {_show(table)}")
    if "kind" not in table:
        src.fail(where, "missing key 'kind'")
    kind = _check_value(src, (*where, "kind"), table["kind"], EpisodeKind, {})
    params = _EPISODE_PARAMS[typing.cast(EpisodeKind, kind)]
    for key in ("at_min", "duration_s", *(k for k, v in params.items() if v is _REQUIRED)):
        if key not in table:
            src.fail(where, f"missing key {key!r} for a {kind} episode")
    episode = _build(src, Episode, table, where, {"kind", "at_min", "duration_s", *params})
    defaults = {k: v for k, v in params.items() if v is not _REQUIRED and k not in table}
    if defaults.get("dbp_add", 0) is None:
        defaults["dbp_add"] = round(episode.sbp_add * 0.5)
    return dataclasses.replace(episode, **defaults)


def parse_scenario(text: str, name: str, path: str = "<string>") -> Scenario:
    """Parse and validate scenario TOML.

    Parameters
    ----------
    text : str
        The TOML document.
    name : str
        The scenario's name.
    path : str
        Where the text came from, for error messages.

    Raises
    ------
    ScenarioError
        On a syntax error, an unknown key, a wrong type or an out-of-range
        value; the message names ``path`` and the line.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message, line, column = decode_error_position(exc, text)
        at = f" (column {column})" if column is not None else ""
        raise ScenarioError(f"invalid TOML: {message}{at}", path, line) from None
    src = _Source(text, path)
    known = {"description", "episodes", "events", *_SECTIONS}
    for key in data:
        if key not in known:
            src.fail((key,), f"unknown key; valid keys: {', '.join(sorted(known))}")
    description = data.get("description", "")
    if not isinstance(description, str):
        src.fail(("description",), f"expected a string, got {_show(description)}")
    if "\n" in description.strip():
        src.fail(("description",), "must be a single line")
    sections = {key: _build(src, cls, data.get(key, {}), (key,)) for key, cls in _SECTIONS.items()}
    episodes = data.get("episodes", [])
    if not isinstance(episodes, list):
        src.fail(("episodes",), "expected an array of tables ([[episodes]])")
    scenario = Scenario(
        name=name, description=description.strip(), **sections,
        episodes=tuple(_build_episode(src, table, i) for i, table in enumerate(episodes)),
        events=parse_events(src.fail, data.get("events", []), sections["session"].total_min),
        source=path)
    _cross_check(src, scenario)
    log.debug("loaded scenario %s from %s", name, path)
    return scenario


def _cross_check(src: _Source, scenario: Scenario) -> None:
    """Checks that involve more than one value."""
    if scenario.baseline.dbp >= scenario.baseline.sbp:
        src.fail(("baseline", "dbp"), "diastolic must be below systolic")
    peak = scenario.infusion.peak_at_min
    if peak is not None and peak > scenario.session.infusion_min:
        src.fail(("infusion", "peak_at_min"),
                 f"{peak:g} is after the infusion ends ({scenario.session.infusion_min:g} min)")
    total = scenario.session.total_min
    for i, episode in enumerate(scenario.episodes):
        if episode.at_min >= total:
            src.fail(("episodes", i, "at_min"),
                     f"{episode.at_min:g} is not before the session ends ({total:g} min)")


def scenario_names() -> list[str]:
    """Names of the bundled scenarios, sorted."""
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.toml"))


def load_scenario(name_or_path: str) -> Scenario:
    """Load a bundled scenario by name, or any scenario file by path.

    Parameters
    ----------
    name_or_path : str
        A bare name such as ``typical`` (looked up in ``simulators/scenarios``),
        or a path to a ``.toml`` file.

    Raises
    ------
    ScenarioError
        If the name is unknown (the message lists the valid names), the file
        cannot be read, or its content is invalid.
    """
    is_path = name_or_path.endswith(".toml") or "/" in name_or_path or "\\" in name_or_path
    if is_path:
        path = Path(name_or_path)
    else:
        path = SCENARIO_DIR / f"{name_or_path}.toml"
        if not path.is_file():
            valid = ", ".join(scenario_names())
            raise ScenarioError(f"unknown scenario {name_or_path!r}; valid names: {valid}")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"cannot read: {exc}", str(path)) from None
    return parse_scenario(text, path.stem, str(path))


def list_scenarios() -> list[tuple[str, str]]:
    """``(name, description)`` of every bundled scenario, sorted by name."""
    return [(name, load_scenario(name).description) for name in scenario_names()]
