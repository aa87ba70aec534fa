"""Reading alarm profiles from TOML files, with every key and value checked.

A file is refused whole with a :class:`~monitor.core.alarms.profile.ProfileError`
naming the file, the key and the value: unknown keys (typos) are errors, never
ignored, so a mistake can never silently weaken an alarm.
"""

from __future__ import annotations

import importlib.resources
import math
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from monitor.core.alarms.model import Priority
from monitor.core.alarms.profile import (
    MAX_DELAY_S,
    PAUSE_CHOICES_MIN,
    AlarmProfile,
    Basis,
    DischargeCriteria,
    NibpCycle,
    Op,
    ProfileError,
    Rule,
    check_pairs,
    check_rule,
)
from monitor.core.vitals import SPECS, Kind, Vital

DEFAULT_PROFILE = "ketamine-adult"

_TOP_KEYS = {"name", "schema", "audio", "latching", "technical", "nibp_cycle", "discharge",
             "rule"}
_RULE_KEYS = {"id", "alarm", "vital", "priority", "when", "limit", "basis", "delay_s",
              "confirm", "within_s", "satseconds"}


def default_profile_path(name: str = DEFAULT_PROFILE) -> Path:
    """Path of a profile shipped in ``resources/alarm_profiles``."""
    return Path(str(importlib.resources.files("resources") / "alarm_profiles" / f"{name}.toml"))


def load_default_profile() -> AlarmProfile:
    """The shipped "Ketamine infusion, adult" profile."""
    return load_profile(default_profile_path())


def load_profile(path: Path | str) -> AlarmProfile:
    """Read and validate a profile file.

    Raises
    ------
    ProfileError
        The file cannot be read or parsed, or any key or value is refused.
    """
    source = str(path)
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except OSError as exc:
        raise ProfileError(source, "(file)", source, f"cannot be read: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(source, "(file)", source, f"is not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ProfileError(source, "(file)", source,
                           f"is not UTF-8 text (byte 0x{exc.object[exc.start]:02X} at offset "
                           f"{exc.start}); a profile must be a UTF-8 TOML file") from None
    return parse_profile(data, source)


def parse_profile(data: Mapping[str, Any], source: str) -> AlarmProfile:
    """Build a profile from parsed TOML (see :func:`load_profile`)."""
    _no_unknown(data, _TOP_KEYS, source, "")
    if data.get("schema", 1) != 1:
        raise ProfileError(source, "schema", data.get("schema"), "only schema 1 is understood")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ProfileError(source, "name", name, "must be a non-empty string")
    audio = _table(data, "audio", {"pause_min", "pause_choices_min", "off_reminder_min"}, source)
    latching = _table(data, "latching", {"high", "medium", "low", "min_shown_s"}, source)
    tech = _table(data, "technical", {"no_data_high_after_s", "nibp_overdue_grace_s",
                                      "nibp_overdue_escalate_s", "satseconds_window_s",
                                      "satseconds_violations"}, source)
    cyc = _table(data, "nibp_cycle", {"baseline_every_min", "infusion_early_every_min",
                                      "infusion_early_min", "infusion_every_min",
                                      "recovery_every_min"}, source)
    dis = _table(data, "discharge", {"margin_pct", "min_recovery_min", "min_spo2"}, source)

    choices = audio.get("pause_choices_min", [1, 2, 3])
    if (not isinstance(choices, list) or not choices
            or any(_num(c) not in PAUSE_CHOICES_MIN for c in choices)):
        raise ProfileError(source, "audio.pause_choices_min", choices,
                           "must be a list drawn from 1, 2 and 3 (minutes)")
    pause = _number(audio, "pause_min", 2, source, "audio.", lo=1)
    if pause not in [float(c) for c in choices]:
        raise ProfileError(source, "audio.pause_min", pause, "must be one of pause_choices_min")
    flags = {}
    for prio in Priority:
        val = latching.get(prio.label, prio is Priority.HIGH)
        if not isinstance(val, bool):
            raise ProfileError(source, f"latching.{prio.label}", val, "must be true or false")
        flags[prio] = val
    violations = tech.get("satseconds_violations", 3)
    if not isinstance(violations, int) or isinstance(violations, bool) or not 1 <= violations <= 20:
        raise ProfileError(source, "technical.satseconds_violations", violations,
                           "must be a whole number from 1 to 20")
    rules_raw = data.get("rule", [])
    if not isinstance(rules_raw, list) or not rules_raw:
        raise ProfileError(source, "rule", rules_raw, "a profile needs at least one [[rule]]")
    rules = tuple(_parse_rule(raw, i, source) for i, raw in enumerate(rules_raw))
    seen: set[str] = set()
    for i, r in enumerate(rules):
        if r.rule_id in seen:
            raise ProfileError(source, f"rule[{i}].id", r.rule_id, "is used twice")
        seen.add(r.rule_id)
    check_pairs(rules, source)
    return AlarmProfile(
        name=name.strip(), rules=rules, pause_s=pause * 60.0,
        pause_choices_s=tuple(float(c) * 60.0 for c in choices),
        off_reminder_s=_number(audio, "off_reminder_min", 5, source, "audio.", lo=1, hi=15) * 60,
        latching=flags,
        min_shown_s=_number(latching, "min_shown_s", 5, source, "latching.", lo=0, hi=60),
        no_data_high_after_s=_number(tech, "no_data_high_after_s", 60, source, "technical.",
                                     lo=10, hi=MAX_DELAY_S),
        nibp_overdue_grace_s=_number(tech, "nibp_overdue_grace_s", 120, source, "technical.",
                                     lo=0, hi=3600),
        nibp_overdue_escalate_s=_number(tech, "nibp_overdue_escalate_s", 300, source,
                                        "technical.", lo=0, hi=3600),
        satseconds_window_s=_number(tech, "satseconds_window_s", 60, source, "technical.",
                                    lo=1, hi=MAX_DELAY_S),
        satseconds_violations=violations,
        nibp_cycle=NibpCycle(
            baseline_s=_number(cyc, "baseline_every_min", 5, source, "nibp_cycle.", 1, 240) * 60,
            infusion_early_s=_number(cyc, "infusion_early_every_min", 5, source,
                                     "nibp_cycle.", 1, 240) * 60,
            infusion_early_for_s=_number(cyc, "infusion_early_min", 15, source,
                                         "nibp_cycle.", 0, 720) * 60,
            infusion_s=_number(cyc, "infusion_every_min", 10, source, "nibp_cycle.", 1, 240) * 60,
            recovery_s=_number(cyc, "recovery_every_min", 15, source, "nibp_cycle.", 1, 240) * 60),
        discharge=DischargeCriteria(
            margin=_number(dis, "margin_pct", 20, source, "discharge.", 5, 50) / 100.0,
            min_recovery_s=_number(dis, "min_recovery_min", 20, source, "discharge.",
                                   10, 240) * 60,
            min_spo2=_number(dis, "min_spo2", 94, source, "discharge.", 85, 100)),
        source=source)


def _parse_rule(raw: object, i: int, source: str) -> Rule:
    key = f"rule[{i}]"
    if not isinstance(raw, dict):
        raise ProfileError(source, key, raw, "must be a table")
    _no_unknown(raw, _RULE_KEYS, source, key + ".")
    for req in ("id", "alarm", "vital", "priority", "when", "limit"):
        if req not in raw:
            raise ProfileError(source, f"{key}.{req}", None, "is required")
    for text_key in ("id", "alarm"):
        if not isinstance(raw[text_key], str) or not raw[text_key].strip():
            raise ProfileError(source, f"{key}.{text_key}", raw[text_key],
                               "must be a non-empty string")
    try:
        vital = Vital(raw["vital"])
    except ValueError:
        allowed = ", ".join(v.value for v in Vital if SPECS[v].kind is not Kind.WAVEFORM)
        raise ProfileError(source, f"{key}.vital", raw["vital"],
                           f"unknown vital; allowed: {allowed}") from None
    if SPECS[vital].kind is Kind.WAVEFORM:
        raise ProfileError(source, f"{key}.vital", raw["vital"], "waveforms cannot be alarmed")
    try:
        prio = Priority.parse(str(raw["priority"]))
    except ValueError as exc:
        raise ProfileError(source, f"{key}.priority", raw["priority"], str(exc)) from None
    try:
        op = Op(raw["when"])
    except ValueError:
        raise ProfileError(source, f"{key}.when", raw["when"],
                           "allowed: '>', '>=', '<', '<='") from None
    try:
        basis = Basis(raw.get("basis", "absolute"))
    except ValueError:
        raise ProfileError(source, f"{key}.basis", raw.get("basis"),
                           "allowed: absolute, rise, rise_pct, fall") from None
    confirm = raw.get("confirm", 1)
    if not isinstance(confirm, int) or isinstance(confirm, bool) or not 1 <= confirm <= 10:
        raise ProfileError(source, f"{key}.confirm", confirm, "must be a whole number 1 to 10")
    rule = Rule(rule_id=raw["id"].strip(), alarm=raw["alarm"].strip(), vital=vital,
                priority=prio, op=op, basis=basis,
                limit=_number(raw, "limit", None, source, key + "."),
                delay_s=_number(raw, "delay_s", 0, source, key + "."),
                confirm=confirm,
                within_s=_number(raw, "within_s", 0, source, key + "."),
                satseconds=_number(raw, "satseconds", 0, source, key + "."))
    check_rule(rule, source, key)
    return rule


def _no_unknown(table: Mapping[str, Any], allowed: set[str], source: str, prefix: str) -> None:
    for k in table:
        if k not in allowed:
            raise ProfileError(source, prefix + k, table[k],
                               f"unknown key; allowed: {', '.join(sorted(allowed))}")


def _table(data: Mapping[str, Any], name: str, allowed: set[str],
           source: str) -> Mapping[str, Any]:
    table = data.get(name, {})
    if not isinstance(table, dict):
        raise ProfileError(source, name, table, "must be a table")
    _no_unknown(table, allowed, source, name + ".")
    return table


def _num(x: object) -> float | None:
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return None
    return float(x)


def _number(table: Mapping[str, Any], name: str, default: float | None, source: str,
            prefix: str, lo: float | None = 0.0, hi: float | None = None) -> float:
    raw = table.get(name, default)
    val = _num(raw)
    if val is None or not math.isfinite(val):
        raise ProfileError(source, prefix + name, raw, "must be a number")
    if lo is not None and val < lo:
        raise ProfileError(source, prefix + name, raw,
                           "must not be negative" if lo == 0 else f"must be at least {lo:g}")
    if hi is not None and val > hi:
        raise ProfileError(source, prefix + name, raw, f"must be at most {hi:g}")
    return val
