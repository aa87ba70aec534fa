"""Observation code maps and units for HL7 v2 (IHE PCD-01): OBX-3 -> vital, OBX-6 -> unit.

A code map is a TOML file of ``[[code]]`` entries (``schema = 1``, a ``name``).
The shipped maps live in ``resources/hl7_code_maps``: ``mdc.toml`` (the ISO/IEEE
11073-10101 codes) and the vendor maps (``mindray.toml``); a clinic adds its own
file, given to the codec, without code. Each entry:

``code``
    OBX-3.1, matched exactly (a string: ``"150456"``, ``"101"``).
``text``
    OBX-3.2, matched case-insensitively (``"MDC_PULS_OXIM_SAT_O2"``, ``"HR"``); a
    string or a list of strings. An entry with ``text`` and no ``code`` matches that
    text whatever the code. An entry needs ``code`` or ``text``.
``system``
    OBX-3.3, the coding system (``"MDC"``, ``""`` for none), exact, case-insensitive;
    a string or a list. Absent: any.
``sender``
    MSH-3 (sending application), matched case-insensitively against any component.
    Absent: any.
``vital``
    One of our vital names (``"hr"``, ``"spo2"``, ``"nibp_sys"``, ``"pleth"``...).
``label``
    Instead of ``vital``: the observation is a device numeric with this label (an
    invasive pressure "ART sys"). Exactly one of ``vital`` and ``label``.
``unit``
    The unit assumed when OBX-6 is empty (our unit text: ``"%"``, ``"bpm"``,
    ``"rpm"``, ``"mmHg"``, ``"kPa"``, ``"°C"``, ``"°F"``...). Absent: an empty OBX-6 is
    taken as the vital's own unit only where the vital's dimension allows no other
    (``%``, ``bpm``, ``rpm``, the unitless pleth), else the value is kept as a device
    numeric, never shown.
``priority``
    An integer, default 0: when one message carries several observations for one
    vital, the lowest priority (then the first in the message) takes the vital; the
    others are kept as device numerics.

Files are checked strictly: an unknown key, an unknown vital, a unit we do not know, a
wrong type is refused with a :class:`CodeMapError` naming the file, the entry and the
key. The first matching entry wins, in this order: the files given to the codec (in
their order), the shipped vendor maps (alphabetically), ``mdc.toml``.

Units (OBX-6) are recognised by MDC code (``262688``), MDC reference id
(``MDC_DIM_PERCENT``) or UCUM / plain text (``%``, ``mm[Hg]``, ``/min``, ``Cel``...):
see :data:`UNITS`. A code and a reference id that name different units are a conflict
and the value is not used as a vital.
"""

from __future__ import annotations

import functools
import importlib.resources
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from monitor.core.vitals import SPECS, Vital

SHIPPED_MDC = "mdc"
KPA_TO_MMHG = 7.50062


class CodeMapError(ValueError):
    """A code map file refused: the message names the file, the entry and the key."""

    def __init__(self, source: str, where: str, problem: str) -> None:
        super().__init__(f"{source}: {where}: {problem}")
        self.source = source
        self.where = where
        self.problem = problem


@dataclass(frozen=True)
class Unit:
    """A unit an OBX-6 can name: its dimension and the conversion to the dimension's base."""

    name: str                    # our text for it ("mmHg", "kPa", "°C", ...)
    dimension: str               # "percent", "per_min", "pressure", "temperature", "dimless", ...
    to_base: Callable[[float], float] = float

    def convert(self, value: float) -> float:
        return self.to_base(value)


def _f_to_c(f: float) -> float:
    return (f - 32.0) * 5.0 / 9.0


def _kpa(v: float) -> float:
    return v * KPA_TO_MMHG


_UNIT_LIST: tuple[tuple[Unit, tuple[str, ...]], ...] = (
    (Unit("%", "percent"), ("262688", "MDC_DIM_PERCENT", "%")),
    (Unit("bpm", "per_min"), ("264864", "MDC_DIM_BEAT_PER_MIN", "bpm", "{beats}/min",
                              "{beat}/min", "/min", "1/min", "min-1")),
    (Unit("rpm", "per_min"), ("264928", "MDC_DIM_RESP_PER_MIN", "rpm", "{breaths}/min",
                              "{resp}/min", "br/min")),
    (Unit("mmHg", "pressure"), ("266016", "MDC_DIM_MMHG", "mm[Hg]", "mmHg", "mm Hg")),
    (Unit("kPa", "pressure", _kpa), ("265987", "MDC_DIM_KILO_PASCAL", "MDC_DIM_KILO_PA",
                                     "kPa")),
    (Unit("cmH2O", "water_pressure"), ("266048", "MDC_DIM_CM_H2O", "cm[H2O]", "cmH2O")),
    (Unit("°C", "temperature"), ("268192", "MDC_DIM_DEGC", "Cel", "°C", "degC", "C")),
    (Unit("°F", "temperature", _f_to_c), ("266560", "MDC_DIM_FAHR", "[degF]", "°F",
                                          "degF", "F")),
    (Unit("", "dimless"), ("262656", "MDC_DIM_DIMLESS", "1", "{dimless}")),
)

UNITS: dict[str, Unit] = {key.casefold(): unit for unit, keys in _UNIT_LIST for key in keys}
"""OBX-6 component text (casefolded) -> unit. ``/min`` is a rate, fit for bpm and rpm alike."""
UNITS_BY_NAME: dict[str, Unit] = {unit.name: unit for unit, _ in _UNIT_LIST}

_VITAL_UNIT_DIMENSION = {"%": "percent", "bpm": "per_min", "rpm": "per_min", "mmHg": "pressure",
                         "°C": "temperature", "": "dimless", "cmH2O": "water_pressure"}
_UNAMBIGUOUS = frozenset({"percent", "per_min", "dimless"})


def vital_dimension(vital: Vital) -> str | None:
    """The dimension of a vital's display unit; ``None`` when no OBX unit converts to it."""
    return _VITAL_UNIT_DIMENSION.get(SPECS[vital].unit)


def default_unit(vital: Vital) -> Unit | None:
    """The unit an empty OBX-6 stands for, when the vital's dimension allows only one."""
    dim = vital_dimension(vital)
    if dim not in _UNAMBIGUOUS:
        return None
    return UNITS_BY_NAME["%" if dim == "percent" else "bpm" if dim == "per_min" else ""]


def lookup_unit(components: Sequence[str]) -> tuple[Unit | None, str]:
    """The unit an OBX-6 names, and its text for a device numeric.

    Returns ``(None, text)`` for a unit we do not know, or for a code and a reference id
    naming two different units (the text then says which).
    """
    return _lookup_unit(tuple(components[:2]))


@functools.lru_cache(maxsize=512)
def _lookup_unit(components: tuple[str, ...]) -> tuple[Unit | None, str]:
    ident = components[0].strip() if components else ""
    text = components[1].strip() if len(components) > 1 else ""
    a = UNITS.get(ident.casefold()) if ident else None
    b = UNITS.get(text.casefold()) if text else None
    shown = text or ident
    if a is not None and b is not None and a != b:
        # "/min" names a rate generically; a bpm or rpm code with it is no conflict
        if a.dimension == b.dimension == "per_min":
            return (a if ident.casefold() != "/min" else b), shown
        return None, f"{shown} (conflicts with {ident})"
    unit = a or b
    return unit, (unit.name if unit is not None else shown)


@dataclass(frozen=True)
class CodeEntry:
    """One ``[[code]]`` entry of a code map."""

    source: str
    index: int
    code: str | None
    texts: frozenset[str] | None          # casefolded
    systems: frozenset[str] | None        # casefolded
    sender: str | None                    # casefolded
    vital: Vital | None
    label: str | None
    unit: Unit | None
    priority: int

    def matches(self, code: str, text: str, system: str, senders: frozenset[str]) -> bool:
        if self.code is not None and code != self.code:
            return False
        if self.texts is not None and text.casefold() not in self.texts:
            return False
        if self.systems is not None and system.casefold() not in self.systems:
            return False
        return self.sender is None or self.sender in senders


_KEYS = {"code", "text", "system", "sender", "vital", "label", "unit", "priority"}
_TOP_KEYS = {"schema", "name", "code"}


def _strings(value: Any, source: str, where: str, key: str) -> frozenset[str]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(v, str) for v in items) or not items:
        raise CodeMapError(source, where, f"{key} must be a string or a list of strings, "
                                          f"not {value!r}")
    return frozenset(v.strip().casefold() for v in items)


def parse_code_map(data: Mapping[str, Any], source: str) -> list[CodeEntry]:
    """The entries of a parsed code map (see the module docstring); raises :class:`CodeMapError`."""
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise CodeMapError(source, unknown[0], f"unknown key (valid: {', '.join(sorted(_TOP_KEYS))})")
    if data.get("schema", 1) != 1:
        raise CodeMapError(source, "schema", f"only schema 1 is understood, not {data['schema']!r}")
    if "name" in data and not isinstance(data["name"], str):
        raise CodeMapError(source, "name", "must be a string")
    raw = data.get("code", [])
    if not isinstance(raw, list) or not all(isinstance(e, dict) for e in raw):
        raise CodeMapError(source, "code", "must be a list of [[code]] tables")
    entries: list[CodeEntry] = []
    valid_vitals = ", ".join(v.value for v in Vital)
    for i, entry in enumerate(raw, start=1):
        where = f"[[code]] #{i}"
        if "code" in entry:
            where += f" (code {entry['code']!r})"
        elif "text" in entry:
            where += f" (text {entry['text']!r})"
        bad = sorted(set(entry) - _KEYS)
        if bad:
            raise CodeMapError(source, f"{where} key {bad[0]!r}",
                               f"unknown key (valid: {', '.join(sorted(_KEYS))})")
        code = entry.get("code")
        if code is not None and (not isinstance(code, str) or not code.strip()):
            raise CodeMapError(source, f"{where} key 'code'", "must be a non-empty string")
        texts = _strings(entry["text"], source, where, "text") if "text" in entry else None
        if code is None and texts is None:
            raise CodeMapError(source, where, "needs a code or a text")
        systems = (_strings(entry["system"], source, where, "system")
                   if "system" in entry else None)
        sender = entry.get("sender")
        if sender is not None and (not isinstance(sender, str) or not sender.strip()):
            raise CodeMapError(source, f"{where} key 'sender'", "must be a non-empty string")
        vital: Vital | None = None
        if "vital" in entry:
            try:
                vital = Vital(entry["vital"])
            except (ValueError, TypeError):
                raise CodeMapError(source, f"{where} key 'vital'",
                                   f"unknown vital {entry['vital']!r} (valid: {valid_vitals})"
                                   ) from None
        label = entry.get("label")
        if label is not None and (not isinstance(label, str) or not label.strip()):
            raise CodeMapError(source, f"{where} key 'label'", "must be a non-empty string")
        if (vital is None) == (label is None):
            raise CodeMapError(source, where, "needs exactly one of vital and label")
        unit: Unit | None = None
        if "unit" in entry:
            unit = UNITS_BY_NAME.get(entry["unit"]) if isinstance(entry["unit"], str) else None
            if unit is None:
                raise CodeMapError(source, f"{where} key 'unit'",
                                   f"unknown unit {entry['unit']!r} (valid: "
                                   f"{', '.join(repr(u) for u in UNITS_BY_NAME)})")
            if vital is not None and unit.dimension != vital_dimension(vital):
                raise CodeMapError(source, f"{where} key 'unit'",
                                   f"{unit.name!r} is no unit of {vital.value} "
                                   f"({SPECS[vital].unit or 'unitless'})")
        priority = entry.get("priority", 0)
        if not isinstance(priority, int) or isinstance(priority, bool):
            raise CodeMapError(source, f"{where} key 'priority'", "must be an integer")
        entries.append(CodeEntry(source, i, code.strip() if code else None, texts, systems,
                                 sender.strip().casefold() if sender else None, vital,
                                 label.strip() if label else None, unit, priority))
    return entries


def load_code_map(path: Path | str) -> list[CodeEntry]:
    """Read and check a code map file; raises :class:`CodeMapError`."""
    source = str(path)
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except OSError as exc:
        raise CodeMapError(source, "(file)", f"cannot be read: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise CodeMapError(source, "(file)", f"is not valid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise CodeMapError(source, "(file)", "is not UTF-8 text") from None
    return parse_code_map(data, source)


def shipped_map_paths() -> list[Path]:
    """The shipped maps in lookup order: vendor maps alphabetically, then ``mdc.toml``."""
    folder = importlib.resources.files("resources") / "hl7_code_maps"
    names = sorted(p.name for p in folder.iterdir() if p.name.endswith(".toml"))
    vendor = [n for n in names if n != f"{SHIPPED_MDC}.toml"]
    return [Path(str(folder / n)) for n in (*vendor, f"{SHIPPED_MDC}.toml") if n in names]


class CodeMaps:
    """All entries, indexed for lookup by OBX-3.

    Parameters
    ----------
    paths : iterable of Path
        The clinic's own files, looked up before the shipped ones.
    """

    def __init__(self, paths: Iterable[Path | str] = ()) -> None:
        self.entries: list[CodeEntry] = []
        for p in (*paths, *shipped_map_paths()):
            self.entries.extend(load_code_map(p))
        self._by_code: dict[str, list[CodeEntry]] = {}
        self._by_text: dict[str, list[CodeEntry]] = {}
        self._order = {id(e): i for i, e in enumerate(self.entries)}
        for e in self.entries:
            if e.code is not None:
                self._by_code.setdefault(e.code, []).append(e)
            else:
                for t in e.texts or ():
                    self._by_text.setdefault(t, []).append(e)
        self._cache: dict[tuple[str, str, str, frozenset[str]], CodeEntry | None] = {}

    def lookup(self, code: str, text: str, system: str,
               senders: frozenset[str] = frozenset()) -> CodeEntry | None:
        """The first entry matching OBX-3 (code, text, system) from a sender; ``None``: unknown."""
        key = (code, text, system, senders)
        try:
            return self._cache[key]
        except KeyError:
            pass
        cands = [*self._by_code.get(code, ()), *self._by_text.get(text.casefold(), ())]
        cands.sort(key=lambda e: self._order[id(e)])
        found = next((e for e in cands if e.matches(code, text, system, senders)), None)
        if len(self._cache) > 4096:
            self._cache.clear()
        self._cache[key] = found
        return found
