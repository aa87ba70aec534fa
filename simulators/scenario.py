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
"""

from __future__ import annotations

import dataclasses
import enum
import logging
import math
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simulators.scenario_events import ScriptedEvent, parse_events
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


def _num(default: float | None, lo: float, hi: float, *, lo_open: bool = False) -> Any:
    """A numeric dataclass field that must lie in ``[lo, hi]`` (``(lo, hi]`` if ``lo_open``)."""
    return field(default=default, metadata={"lo": lo, "hi": hi, "lo_open": lo_open})


MAX_TEXT = 200
"""Longest text value a scenario may give (one line)."""


@dataclass(frozen=True)
class SessionShape:
    """How long each phase lasts, in minutes, and the override of the scripted start.

    The scripted infusion start passes the same baseline gate as a nurse's.
    A baseline above 140/90 starts only with ``override_reason``; one at or
    above 180/110 also needs ``override_clinician``; an incomplete baseline
    is refused whatever is declared. The override is recorded as an event by
    the scenario, saying it is the scenario's scripted override.
    """

    baseline_min: float = _num(10.0, 0, 240, lo_open=True)
    infusion_min: float = _num(40.0, 0, 720, lo_open=True)
    recovery_min: float = _num(40.0, 0, 240, lo_open=True)
    override_clinician: str = ""
    override_reason: str = ""

    @property
    def total_min(self) -> float:
        """The whole session, in minutes."""
        return self.baseline_min + self.infusion_min + self.recovery_min


@dataclass(frozen=True)
class Baseline:
    """The patient's resting values before the infusion starts.

    Attributes
    ----------
    sbp, dbp : float
        Blood pressure, mmHg.
    hr : float
        Heart rate, beats per minute.
    spo2 : float
        Oxygen saturation, percent.
    resp_rate : float
        Breaths per minute.
    etco2 : float
        End-tidal CO2, mmHg.
    capnography : bool
        Whether the monitor has a capnograph (reports EtCO2) at all.
    """

    sbp: float = _num(125.0, 70, 240)
    dbp: float = _num(78.0, 30, 150)
    hr: float = _num(72.0, 30, 180)
    spo2: float = _num(98.0, 70, 100)
    resp_rate: float = _num(14.0, 4, 40)
    etco2: float = _num(37.0, 10, 80)
    capnography: bool = True


@dataclass(frozen=True)
class InfusionResponse:
    """How the drug moves blood pressure and heart rate.

    Attributes
    ----------
    sbp_rise, dbp_rise, hr_rise : float
        Rise above baseline at the peak.
    peak_at_min : float or None
        Minutes after infusion start when the rise peaks; it holds from
        there to the end of the infusion. ``None`` means the infusion's end.
    recovery_tau_min : float
        Time constant, in minutes, of the exponential return to baseline
        after the infusion ends.
    """

    sbp_rise: float = _num(16.0, -40, 120)
    dbp_rise: float = _num(11.0, -30, 80)
    hr_rise: float = _num(8.0, -30, 80)
    peak_at_min: float | None = _num(None, 0, 720, lo_open=True)
    recovery_tau_min: float = _num(12.0, 0, 120, lo_open=True)


@dataclass(frozen=True)
class NibpCycle:
    """The automatic cuff cycle, in minutes.

    Baseline: first determination ``baseline_start_min`` after session start,
    then every ``baseline_every_min``. Infusion and recovery: at the phase
    start, then every ``*_early_every_min`` for the first ``*_early_min``,
    then every ``*_late_every_min``. A phase's determinations stop before the
    next phase begins, where that phase's own cycle takes over.
    """

    baseline_start_min: float = _num(1.0, 0, 240)
    baseline_every_min: float = _num(5.0, 1, 240)
    infusion_early_every_min: float = _num(5.0, 1, 240)
    infusion_early_min: float = _num(15.0, 0, 720)
    infusion_late_every_min: float = _num(10.0, 1, 240)
    recovery_early_every_min: float = _num(10.0, 1, 240)
    recovery_early_min: float = _num(20.0, 0, 240)
    recovery_late_every_min: float = _num(15.0, 1, 240)

    def offsets_min(self, shape: SessionShape) -> list[float]:
        """Determination times in minutes from session start, ascending."""
        infusion_at = shape.baseline_min
        recovery_at = infusion_at + shape.infusion_min
        times = _grid(self.baseline_start_min, shape.baseline_min,
                      self.baseline_every_min, math.inf, self.baseline_every_min)
        times += [infusion_at + m for m in _grid(
            0.0, shape.infusion_min, self.infusion_early_every_min,
            self.infusion_early_min, self.infusion_late_every_min)]
        times += [recovery_at + m for m in _grid(
            0.0, shape.recovery_min, self.recovery_early_every_min,
            self.recovery_early_min, self.recovery_late_every_min)]
        return times


def _grid(first: float, length: float, early_every: float, early_for: float,
          late_every: float) -> list[float]:
    """Offsets ``first, first + early_every, ...`` up to ``early_for``, then by ``late_every``.

    Only offsets strictly before ``length`` are kept.
    """
    out: list[float] = []
    t = first
    while t < length - 1e-9:
        out.append(t)
        t += early_every if t + early_every <= early_for + 1e-9 else late_every
    return out


class EpisodeKind(enum.StrEnum):
    """What a scripted episode does."""

    HR_SURGE = "hr_surge"
    DESATURATION = "desaturation"
    SENSOR_OFF = "sensor_off"
    LINK_LOSS = "link_loss"
    BP_SURGE = "bp_surge"


@dataclass(frozen=True)
class Episode:
    """A scripted event over ``[at_min * 60, at_min * 60 + duration_s)`` from session start.

    Attributes
    ----------
    kind : EpisodeKind
        ``hr_surge``: HR ramps to ``target_hr`` and holds. ``desaturation``:
        SpO2 ramps down to ``target_spo2`` and holds. ``bp_surge``: adds
        ``sbp_add`` / ``dbp_add`` to the blood pressure. Each ramps in over
        ``ramp_s`` and back out over ``ramp_s`` after the window.
        ``sensor_off``: the SpO2 probe is off (no SpO2, pulse rate or pleth).
        ``link_loss``: nothing at all arrives.
    at_min : float
    duration_s : float
    ramp_s : float
    target_hr, target_spo2 : float or None
    sbp_add, dbp_add : float
    """

    kind: EpisodeKind
    at_min: float = _num(0.0, 0, 24 * 60)
    duration_s: float = _num(60.0, 0, 12 * 3600, lo_open=True)
    ramp_s: float = _num(0.0, 0, 600)
    target_hr: float | None = _num(None, 20, 250)
    target_spo2: float | None = _num(None, 50, 100)
    sbp_add: float = _num(0.0, -60, 120)
    dbp_add: float = _num(0.0, -40, 80)

    @property
    def start_s(self) -> float:
        """Seconds from session start when the episode begins."""
        return self.at_min * 60.0

    @property
    def end_s(self) -> float:
        """Seconds from session start when the episode's window ends."""
        return self.at_min * 60.0 + self.duration_s


_REQUIRED = object()
# Per kind: the parameters it accepts besides kind/at_min/duration_s, and their defaults.
_EPISODE_PARAMS: dict[EpisodeKind, dict[str, object]] = {
    EpisodeKind.HR_SURGE: {"target_hr": _REQUIRED, "ramp_s": 30.0},
    EpisodeKind.DESATURATION: {"target_spo2": _REQUIRED, "ramp_s": 30.0},
    EpisodeKind.BP_SURGE: {"sbp_add": _REQUIRED, "dbp_add": None, "ramp_s": 60.0},
    EpisodeKind.SENSOR_OFF: {},
    EpisodeKind.LINK_LOSS: {},
}


@dataclass(frozen=True)
class Scenario:
    """Everything the engine needs to play one session.

    Attributes
    ----------
    name : str
        The file's stem, e.g. ``typical``.
    description : str
        One line.
    session : SessionShape
    baseline : Baseline
    infusion : InfusionResponse
    nibp : NibpCycle
    episodes : tuple of Episode
    events : tuple of ScriptedEvent
        Chair events the nurse would record, at their times.
    source : str or None
        The file it was loaded from.
    """

    name: str
    description: str = ""
    session: SessionShape = SessionShape()
    baseline: Baseline = Baseline()
    infusion: InfusionResponse = InfusionResponse()
    nibp: NibpCycle = NibpCycle()
    episodes: tuple[Episode, ...] = ()
    events: tuple[ScriptedEvent, ...] = ()
    source: str | None = field(default=None, compare=False)

    @property
    def peak_at_min(self) -> float:
        """Minutes after infusion start when the rise peaks (default: the infusion's end)."""
        peak = self.infusion.peak_at_min
        return self.session.infusion_min if peak is None else min(peak, self.session.infusion_min)

    def nibp_minutes(self) -> list[float]:
        """NIBP determination times in minutes from session start."""
        return self.nibp.offsets_min(self.session)


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
