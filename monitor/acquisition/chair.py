"""The chair configuration: the sources of one treatment chair, set up once.

A small TOML file (default ``<data folder>/chair.toml``; ``--chair-config FILE``
names another) that the source dialog writes and reads and the command line
uses when no ``--source`` is given::

    chair = "Chair 3"                 # optional
    [[source]]
    name = "Masimo"                   # optional, default from the protocol
    source = "serial:/dev/ttyUSB0"    # as --source
    protocol = "masimo-ascii"
    baud = 9600                       # optional: baud parity stopbits flow bed hl7_allow ...
    [[source]]
    source = "serial:/dev/ttyUSB1"
    protocol = "intellivue-mib"
    [priority]                        # optional; vital names as in the JSON output
    spo2 = ["Masimo", "IntelliVue"]

Choices made here:

- Checked as strictly as the alarm profiles: an unknown key is refused with the
  allowed ones listed, every value's type is checked, never ignored. What is
  wrong with one ``[[source]]`` (a typo in a key, an unknown protocol, a port
  that does not exist, a port or device given twice, a name used twice) is a
  *problem* of that entry, one text naming it (``"source 2 (Monitor): unknown
  protocol 'datex'; allowed: ..."``), and the entry is left out of the
  configuration returned; the caller refuses to start, or starts with the
  valid sources once the nurse confirms. A ``[priority]`` line naming an
  unknown vital or no source of the file is a problem too and that vital keeps
  the default order. Only a file that cannot be read or is not a chair
  configuration at all (not TOML, an unknown top-level key, ``source`` not a
  list of tables) raises :class:`ChairConfigError`.
- Entries are numbered from 1 in file (or command line) order; of two entries
  that clash, the later one is the problem, the first is kept.
- Two sources on one port: the same serial device (symlinks such as
  ``/dev/serial/by-id/...`` resolved), the same TCP port for two HL7 listeners,
  the same monitor on the LAN. The same device twice: the same ``source`` and
  ``protocol`` (two simulators through the same protocol included; one
  scenario through two protocols is two devices).
- A source's name defaults to its protocol's device name, as the pipeline gives
  it (:func:`monitor.devices.protocols.default_names`); names in
  ``[priority]`` are matched against these names.
- Written without a TOML library (none is a dependency, and the format is
  flat): basic quoted strings with escapes, whole numbers, lists of strings;
  written to a temporary file beside it, made owner read/write only, then
  renamed over the old one, so a crash never leaves half a file.
"""

from __future__ import annotations

import math
import os
import tempfile
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from monitor.core.vitals import Vital
from monitor.devices.base import SourceError
from monitor.devices.registry import (
    HL7_PROTOCOL,
    LAN_DEFAULT_PROTOCOL,
    Hl7Options,
    SerialOverrides,
    SourceSpec,
    parse_hl7_target,
    parse_lan_target,
    parse_source,
)

CHAIR_FILE = "chair.toml"
"""The chair configuration's file name in the data folder."""

PARITIES = ("N", "E", "O")
STOPBITS = (1, 1.5, 2)
FLOWS = ("none", "rtscts", "xonxoff")
MIN_BAUD, MAX_BAUD = 50, 4_000_000

_TOP_KEYS = ("chair", "source", "priority", "central")
CENTRAL_KEYS = {"url": str, "chair": str, "site": str, "password_file": str, "ca_file": str,
                "patient": str, "insecure": bool, "remote_actions": bool}
"""The ``[central]`` table: as ``--central``, ``--chair``, ``--site``,
``--central-password-file``, ``--central-ca``, ``--central-patient`` and
``--central-insecure``."""
_SOURCE_KEYS = ("name", "source", "protocol", "baud", "parity", "stopbits", "flow", "bed",
                "hl7_allow", "hl7_tls_cert", "hl7_tls_key", "hl7_code_map")
_MAX_NAME = 32


class ChairConfigError(ValueError):
    """The chair configuration file cannot be read, or is not one at all."""


@dataclass(frozen=True)
class SourceEntry:
    """One source of a chair: what ``--source`` and its options say.

    Attributes
    ----------
    source : str
        As ``--source``: ``serial:/dev/ttyUSB0``, ``lan:HOST``, ``hl7:PORT``,
        ``sim:SCENARIO``, ``replay:SESSION``...
    protocol : str or None
        A name of :data:`monitor.devices.protocols.PROTOCOLS`.
    name : str
        The name shown to the nurse ("Masimo"); empty: the protocol's device name.
    baud, parity, stopbits, flow
        Serial settings overriding the protocol's (``None``: its default).
    bed, hl7_allow, hl7_tls_cert, hl7_tls_key, hl7_code_map
        An ``hl7:`` listener's settings (``--bed``, ``--hl7-allow``, ...).
    """

    source: str
    protocol: str | None = None
    name: str = ""
    baud: int | None = None
    parity: str | None = None
    stopbits: float | None = None
    flow: str | None = None
    bed: str | None = None
    hl7_allow: str | None = None
    hl7_tls_cert: Path | None = None
    hl7_tls_key: Path | None = None
    hl7_code_map: tuple[Path, ...] = ()

    @property
    def spec(self) -> SourceSpec:
        """The parsed source (raises :class:`~monitor.devices.base.SourceError`)."""
        return parse_source(self.source)

    @property
    def overrides(self) -> SerialOverrides:
        return SerialOverrides(self.baud, self.parity, self.stopbits, self.flow)

    @property
    def hl7(self) -> Hl7Options:
        return Hl7Options(self.bed, self.hl7_allow, self.hl7_tls_cert, self.hl7_tls_key,
                          tuple(self.hl7_code_map))

    @property
    def implied_protocol(self) -> str | None:
        """The protocol the source speaks: the one given, or the only one of ``lan:``/``hl7:``."""
        if self.protocol is not None:
            return self.protocol
        scheme = self.source.partition(":")[0]
        return {"lan": LAN_DEFAULT_PROTOCOL, "hl7": HL7_PROTOCOL}.get(scheme)


@dataclass(frozen=True)
class ChairConfig:
    """A chair's sources and which device is shown first for each vital.

    Attributes
    ----------
    chair : str or None
        The chair's name ("Chair 3").
    sources : tuple of SourceEntry
    priority : dict
        Vital -> source names, first preferred; a vital not listed keeps the
        default order (oximeters first for SpO2 and pulse rate, monitors for the rest).
    path : Path or None
        The file it was read from.
    """

    chair: str | None = None
    sources: tuple[SourceEntry, ...] = ()
    priority: Mapping[Vital, tuple[str, ...]] = field(default_factory=dict)
    path: Path | None = None
    central: Mapping[str, object] = field(default_factory=dict)
    """The ``[central]`` table (:data:`CENTRAL_KEYS`): the chair's central station."""


def default_chair_path(data_dir: Path | None = None) -> Path:
    """``<data folder>/chair.toml`` (the user data folder when ``data_dir`` is ``None``)."""
    if data_dir is None:
        from monitor.storage.database import default_data_dir

        data_dir = default_data_dir()
    return Path(data_dir) / CHAIR_FILE


def entry_title(index: int, entry: SourceEntry | Mapping[str, Any]) -> str:
    """``"source 2 (Monitor)"``: the entry's number from 1, and its name or source."""
    if isinstance(entry, SourceEntry):
        what = entry.name or entry.source
    else:
        name, src = entry.get("name"), entry.get("source")
        what = name if isinstance(name, str) and name.strip() else \
            src if isinstance(src, str) else ""
    return f"source {index}" + (f" ({what})" if what else "")


def source_names(entries: Sequence[SourceEntry]) -> list[str]:
    """Each entry's name in the session: its own, else its device name (repeats get " 2")."""
    from monitor.devices.protocols import default_names

    return default_names([_Named(e.name.strip(), e.implied_protocol, e.source)
                          for e in entries])


@dataclass
class _Named:
    name: str
    protocol: str | None
    label: str


# ---- reading -------------------------------------------------------------------------

def load_chair_config(path: Path | str, *, check: bool = True
                      ) -> tuple[ChairConfig, list[str]]:
    """Read a chair configuration.

    Returns the configuration with the valid sources only, and one problem
    text per entry left out (and per ``[priority]`` line refused). With
    ``check=False`` the sources are checked only for their keys and values,
    not against each other or the ports present (for a dialog that edits a
    chair whose adapter is unplugged).

    Raises
    ------
    ChairConfigError
        The file cannot be read, is not TOML, or is not a chair configuration
        (an unknown top-level key, ``source`` not a list of tables).
    """
    path = Path(path)
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise ChairConfigError(f"chair configuration {path} does not exist") from None
    except OSError as exc:
        raise ChairConfigError(f"chair configuration {path} cannot be read: "
                               f"{exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ChairConfigError(f"chair configuration {path} is not valid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise ChairConfigError(f"chair configuration {path} is not UTF-8 text") from None
    return parse_chair_config(data, path, check=check)


def parse_chair_config(data: Mapping[str, Any], path: Path | None = None, *,
                       check: bool = True) -> tuple[ChairConfig, list[str]]:
    """Build a configuration from parsed TOML (see :func:`load_chair_config`)."""
    where = f"chair configuration {path}" if path is not None else "chair configuration"
    for key in data:
        if key not in _TOP_KEYS:
            raise ChairConfigError(f"{where}: unknown key {key!r}; allowed: "
                                   f"{', '.join(_TOP_KEYS)} (each source is a [[source]] "
                                   "table)")
    chair = data.get("chair")
    if chair is not None and (not isinstance(chair, str) or not chair.strip()):
        raise ChairConfigError(f"{where}: chair must be a non-empty string (the chair's "
                               f"name), not {chair!r}")
    raw_sources = data.get("source", [])
    if not isinstance(raw_sources, list) or any(not isinstance(s, dict) for s in raw_sources):
        raise ChairConfigError(f"{where}: source must be a list of [[source]] tables")
    raw_priority = data.get("priority", {})
    if not isinstance(raw_priority, dict):
        raise ChairConfigError(f"{where}: priority must be a [priority] table of vital = "
                               "[source names]")
    central = data.get("central", {})
    if not isinstance(central, dict):
        raise ChairConfigError(f"{where}: central must be a [central] table")
    for key, value in central.items():
        kind = CENTRAL_KEYS.get(key)
        if kind is None:
            raise ChairConfigError(f"{where}: [central] unknown key {key!r}; allowed: "
                                   f"{', '.join(CENTRAL_KEYS)}")
        if not isinstance(value, kind):
            raise ChairConfigError(f"{where}: [central] {key} must be "
                                   f"{'true or false' if kind is bool else 'a string'}, "
                                   f"not {value!r}")
    problems: list[str] = []
    parsed: list[tuple[int, SourceEntry]] = []
    for i, raw in enumerate(raw_sources, start=1):
        try:
            parsed.append((i, entry_from_table(raw)))
        except ValueError as exc:
            problems.append(f"{entry_title(i, raw)}: {exc}")
    entries = [e for _, e in parsed]
    names = source_names(entries)
    if check:
        good, later = _check(parsed)
        problems += later
    else:
        good = [i for i, _ in parsed]
    kept = [e for i, e in parsed if i in good]
    kept_names = {n for (i, _), n in zip(parsed, names, strict=True) if i in good}
    priority, bad = _parse_priority(raw_priority, names, kept_names)
    problems += bad
    return ChairConfig(chair.strip() if chair else None, tuple(kept), priority, path,
                       dict(central)), problems


def entry_from_table(raw: Mapping[str, Any]) -> SourceEntry:
    """One ``[[source]]`` table as an entry.

    Raises
    ------
    ValueError
        An unknown key or a value of the wrong type or out of range; the
        message says what is allowed.
    """
    for key in raw:
        if key not in _SOURCE_KEYS:
            raise ValueError(f"unknown key {key!r}; allowed: {', '.join(_SOURCE_KEYS)}")
    if "source" not in raw:
        raise ValueError("source is required (as --source, e.g. serial:/dev/ttyUSB0)")
    source = _text(raw, "source")
    assert source is not None
    name = _text(raw, "name") or ""
    if len(name) > _MAX_NAME or any(not c.isprintable() for c in name):
        raise ValueError(f"name must be at most {_MAX_NAME} printable characters, "
                         f"not {name!r}")
    baud = raw.get("baud")
    if baud is not None and (isinstance(baud, bool) or not isinstance(baud, int)
                             or not MIN_BAUD <= baud <= MAX_BAUD):
        raise ValueError(f"baud must be a whole baud rate from {MIN_BAUD} to {MAX_BAUD} "
                         f"(e.g. 9600), not {baud!r}")
    parity = _choice(raw, "parity", PARITIES)
    stopbits = raw.get("stopbits")
    if stopbits is not None and (isinstance(stopbits, bool)
                                 or not isinstance(stopbits, (int, float))
                                 or stopbits not in STOPBITS):
        raise ValueError(f"stopbits must be 1, 1.5 or 2, not {stopbits!r}")
    flow = _choice(raw, "flow", FLOWS)
    code_map = raw.get("hl7_code_map", [])
    if isinstance(code_map, str):
        code_map = [code_map]
    if not isinstance(code_map, list) or any(not isinstance(c, str) or not c.strip()
                                             for c in code_map):
        raise ValueError(f"hl7_code_map must be a file name or a list of file names, "
                         f"not {code_map!r}")
    cert, key = _text(raw, "hl7_tls_cert"), _text(raw, "hl7_tls_key")
    return SourceEntry(
        source=source, protocol=_text(raw, "protocol"), name=name,
        baud=baud, parity=parity,
        stopbits=float(stopbits) if stopbits is not None else None, flow=flow,
        bed=_text(raw, "bed"), hl7_allow=_text(raw, "hl7_allow"),
        hl7_tls_cert=Path(cert) if cert else None, hl7_tls_key=Path(key) if key else None,
        hl7_code_map=tuple(Path(c) for c in code_map))


def _text(raw: Mapping[str, Any], key: str) -> str | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{key} must be a non-empty string, not {value!r}")
    return value.strip()


def _choice(raw: Mapping[str, Any], key: str, allowed: Sequence[str]) -> str | None:
    value = raw.get(key)
    if value is not None and value not in allowed:
        raise ValueError(f"{key} must be one of {', '.join(allowed)}, not {value!r}")
    return value


def _parse_priority(raw: Mapping[str, Any], names: Sequence[str], kept: set[str]
                    ) -> tuple[dict[Vital, tuple[str, ...]], list[str]]:
    """``[priority]``: vital -> source names; names of sources left out are dropped."""
    allowed_vitals = ", ".join(v.value for v in Vital)
    listed = ", ".join(names) if names else "none"
    out: dict[Vital, tuple[str, ...]] = {}
    problems: list[str] = []
    for key, value in raw.items():
        try:
            vital = Vital(key)
        except ValueError:
            problems.append(f"priority: unknown vital {key!r}; allowed: {allowed_vitals}")
            continue
        if not isinstance(value, list) or any(not isinstance(n, str) for n in value) \
                or not value:
            problems.append(f"priority: {key} must be a list of source names, first "
                            f"preferred (e.g. {key} = [\"Masimo\", \"IntelliVue\"]), not "
                            f"{value!r}")
            continue
        unknown = [n for n in value if n not in names]
        twice = sorted({n for n in value if value.count(n) > 1})
        if unknown:
            problems.append(f"priority: {key} names {', '.join(map(repr, unknown))}, not a "
                            f"source of this chair; the sources are: {listed} (the default "
                            f"order is used for {key})")
            continue
        if twice:
            problems.append(f"priority: {key} lists {', '.join(map(repr, twice))} more than "
                            f"once (the default order is used for {key})")
            continue
        order = tuple(n for n in value if n in kept)
        if order:
            out[vital] = order
    return out, problems


# ---- checking entries against each other and this computer ----------------------------

def check_entries(entries: Sequence[SourceEntry]) -> tuple[list[SourceEntry], list[str]]:
    """The entries that can be used, and one problem text per entry that cannot.

    Checks the source form, the protocol name, that a serial port exists, that
    no two entries use one port or are the same device, and that no name is
    used twice. Entries are numbered from 1 in the order given.
    """
    numbered = list(enumerate(entries, start=1))
    good, problems = _check(numbered)
    return [e for i, e in numbered if i in good], problems


def _check(numbered: Sequence[tuple[int, SourceEntry]]) -> tuple[set[int], list[str]]:
    from monitor.devices.protocols import PROTOCOLS

    good: set[int] = set()
    problems: list[str] = []
    ports: dict[tuple[str, ...], tuple[int, SourceEntry]] = {}
    devices: dict[tuple[str, str | None], tuple[int, SourceEntry]] = {}
    names: dict[str, int] = {}
    for i, entry in numbered:
        title = entry_title(i, entry)
        try:
            spec = entry.spec
        except SourceError as exc:
            problems.append(f"{title}: {exc}")
            continue
        if entry.protocol is not None and entry.protocol not in PROTOCOLS:
            problems.append(f"{title}: unknown protocol {entry.protocol!r}; allowed: "
                            f"{', '.join(PROTOCOLS)}")
            continue
        message = _port_problem(spec, entry)
        if message:
            problems.append(f"{title}: {message}")
            continue
        device = (str(spec), entry.protocol)
        if device in devices:
            j, first = devices[device]
            problems.append(f"{title}: the same device as {entry_title(j, first)} "
                            f"({spec}{', ' + entry.protocol if entry.protocol else ''}); "
                            "a device is read once")
            continue
        port = _port_key(spec)
        if port is not None and port in ports:
            j, first = ports[port]
            problems.append(f"{title}: {spec} is the port of {entry_title(j, first)} too; "
                            "one port carries one device, give each device its own port")
            continue
        name = entry.name.strip()
        if name and name in names:
            problems.append(f"{title}: the name {name!r} is already that of source "
                            f"{names[name]}; each source needs its own name")
            continue
        good.add(i)
        devices[device] = (i, entry)
        if port is not None:
            ports[port] = (i, entry)
        if name:
            names[name] = i
    return good, problems


def _port_problem(spec: SourceSpec, entry: SourceEntry) -> str | None:
    """Why this source cannot be opened here (a missing port, a missing protocol), if so."""
    if spec.scheme == "serial":
        if entry.protocol is None:
            from monitor.devices.registry import protocols_on

            return ("a serial source needs a protocol; allowed: "
                    f"{', '.join(protocols_on('serial'))}")
        if "://" not in spec.target and not _port_exists(spec.target):
            return (f"port {spec.target} does not exist (is the USB-serial adapter "
                    "unplugged? 'infusion-monitor ports' lists the ports present)")
    try:
        if spec.scheme == "lan":
            parse_lan_target(spec.target)
        elif spec.scheme == "hl7":
            parse_hl7_target(spec.target)
    except SourceError as exc:
        return str(exc)
    return None


def _port_exists(target: str) -> bool:
    if os.name != "nt" or target.startswith(("/", "\\")):
        return os.path.exists(target)
    from serial.tools import list_ports

    return target.upper() in {p.device.upper() for p in list_ports.comports()}


def _port_key(spec: SourceSpec) -> tuple[str, ...] | None:
    """What two sources may not share: a serial device, a TCP port, a monitor on the LAN."""
    if spec.scheme == "serial":
        target = spec.target
        if "://" not in target and os.path.exists(target):
            target = os.path.realpath(target)
        return ("serial", target.upper() if os.name == "nt" else target)
    if spec.scheme == "hl7":
        return ("tcp", str(parse_hl7_target(spec.target)[1]))
    if spec.scheme == "lan":
        host, port = parse_lan_target(spec.target)
        return ("lan", host or "discover", str(port or ""))
    return None


# ---- writing --------------------------------------------------------------------------

def save_chair_config(config: ChairConfig, path: Path | str) -> Path:
    """Write ``config`` to ``path`` atomically (owner read/write only); returns the path.

    Raises
    ------
    ChairConfigError
        An entry the file could not hold (the same checks as reading, save
        the ports present), or the file cannot be written.
    """
    path = Path(path)
    text = dump_chair_config(config)
    folder = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise ChairConfigError(f"cannot write the chair configuration in {folder}: "
                               f"{exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            if hasattr(os, "fchmod"):
                os.fchmod(f.fileno(), 0o600)
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise ChairConfigError(f"cannot write the chair configuration {path}: "
                               f"{exc.strerror}") from None
    return path


def dump_chair_config(config: ChairConfig) -> str:
    """The TOML text of ``config`` (checked: it reads back as the same configuration)."""
    lines = ["# Infusion Monitor chair configuration: the devices at this chair.",
             "# Written by the source dialog; read when no --source is given."]
    if config.chair:
        lines.append(f"chair = {_quote(config.chair)}")
    problems: list[str] = []
    for i, entry in enumerate(config.sources, start=1):
        table = entry_table(entry)
        try:
            entry_from_table(table)
        except ValueError as exc:
            problems.append(f"{entry_title(i, entry)}: {exc}")
            continue
        lines += ["", "[[source]]"]
        lines += [f"{k} = {_value(v)}" for k, v in table.items()]
    if config.priority:
        lines += ["", "[priority]"]
        for vital, order in config.priority.items():
            lines.append(f"{Vital(vital).value} = [{', '.join(_quote(n) for n in order)}]")
    if config.central:
        lines += ["", "[central]"]
        for key, value in config.central.items():
            lines.append(f"{key} = {'true' if value is True else 'false' if value is False else _quote(str(value))}")
    if problems:
        raise ChairConfigError("the chair configuration cannot be saved: " + "; ".join(problems))
    text = "\n".join(lines) + "\n"
    tomllib.loads(text)   # never write what cannot be read back
    return text


def entry_table(entry: SourceEntry) -> dict[str, object]:
    """The ``[[source]]`` table of an entry: only what is set, in the documented order."""
    table: dict[str, object] = {}
    for f in fields(SourceEntry):
        value = getattr(entry, f.name)
        if value is None or value == "" or value == ():
            continue
        if isinstance(value, Path):
            value = str(value)
        elif isinstance(value, tuple):
            value = [str(v) for v in value]
        table[f.name] = value
    order = [k for k in _SOURCE_KEYS if k in table]
    return {k: table[k] for k in order}


def _value(value: object) -> str:
    if isinstance(value, str):
        return _quote(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ChairConfigError(f"cannot write the number {value!r}")
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, Iterable):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    raise ChairConfigError(f"cannot write {value!r} in a chair configuration")


def _quote(text: str) -> str:
    """A TOML basic string."""
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch in "\b\t\n\f\r":
            out.append({"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def with_sources(config: ChairConfig, sources: Sequence[SourceEntry]) -> ChairConfig:
    """``config`` with other sources (priority lists keep only the names still present)."""
    names = set(source_names(sources))
    priority = {v: tuple(n for n in order if n in names) for v, order in config.priority.items()}
    return replace(config, sources=tuple(sources),
                   priority={v: o for v, o in priority.items() if o})


__all__ = ["CHAIR_FILE", "ChairConfig", "ChairConfigError", "SourceEntry",
           "check_entries", "default_chair_path", "dump_chair_config", "entry_from_table",
           "entry_table", "entry_title", "load_chair_config", "parse_chair_config",
           "save_chair_config", "source_names", "with_sources"]
