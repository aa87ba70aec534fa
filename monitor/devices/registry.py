"""Source names on the command line -> drivers.

``sim:SCENARIO`` (a scenario name or a path to a scenario TOML file) is the
built-in simulator; ``serial:PORT`` a device on a serial port (with
``--protocol``).
"""

from __future__ import annotations

from dataclasses import dataclass

from monitor.devices.base import Driver, SourceError

SCHEMES = ("sim", "serial", "replay")
DEFAULT_SOURCE = "sim:typical"


@dataclass(frozen=True)
class SourceSpec:
    """A parsed ``--source`` value."""

    scheme: str
    target: str

    def __str__(self) -> str:
        return f"{self.scheme}:{self.target}"


def parse_source(text: str) -> SourceSpec:
    """Split ``scheme:target``, with a message listing what is allowed."""
    scheme, sep, target = text.partition(":")
    if not sep or not target:
        raise SourceError(f"source {text!r} is not of the form SCHEME:TARGET; "
                          f"valid schemes: {', '.join(SCHEMES)} (e.g. {DEFAULT_SOURCE})")
    if scheme not in SCHEMES:
        raise SourceError(f"unknown source scheme {scheme!r}; valid schemes: "
                          f"{', '.join(SCHEMES)} (e.g. {DEFAULT_SOURCE})")
    return SourceSpec(scheme, target)


@dataclass(frozen=True)
class SerialOverrides:
    """Serial settings the user gave on the command line (None: the protocol's default)."""

    baudrate: int | None = None
    parity: str | None = None
    stopbits: float | None = None
    flow: str | None = None   # "none", "rtscts", "xonxoff"


def make_driver(spec: SourceSpec, *, seed: int = 0, duration_s: float | None = None,
                protocol: str | None = None,
                overrides: SerialOverrides | None = None,
                data_dir: object = None) -> Driver:
    """Build the driver for ``spec``.

    Raises
    ------
    SourceError
        Unknown scheme.
    simulators.scenario.ScenarioError
        Unknown or malformed scenario (the message names the valid scenarios,
        or the file and line).
    """
    if spec.scheme == "sim":
        from monitor.devices.simulated import SimulatedDriver
        from simulators.scenario import load_scenario

        if protocol is not None:
            from monitor.devices.protocols import check_protocol

            check_protocol(protocol)
        return SimulatedDriver(load_scenario(spec.target), seed, duration_s, label=str(spec),
                               protocol=protocol)
    if spec.scheme == "replay":
        from pathlib import Path

        from monitor.devices import replay
        from monitor.devices.protocols import PROTOCOLS, check_protocol

        path = Path(spec.target)
        if path.is_file():
            if protocol is None:
                raise SourceError(f"replaying a capture file needs --protocol; valid "
                                  f"protocols: {', '.join(PROTOCOLS)}")
            return replay.from_file(path, check_protocol(protocol))
        if not spec.target.isdigit():
            raise SourceError(f"replay:{spec.target} is neither a session number nor a file")
        from monitor.storage.database import DB_NAME, default_data_dir

        folder = Path(str(data_dir)) if data_dir is not None else default_data_dir()
        db = folder / DB_NAME
        if not db.exists():
            raise SourceError(f"no recordings in {folder}")
        return replay.from_session(db, int(spec.target))
    if spec.scheme == "serial":
        from dataclasses import replace

        from monitor.devices.protocols import PROTOCOLS, check_protocol, codec_class
        from monitor.devices.serial_driver import SerialDriver

        if protocol is None:
            raise SourceError(f"a serial source needs --protocol; valid protocols: "
                              f"{', '.join(PROTOCOLS)}")
        settings = codec_class(check_protocol(protocol)).serial_defaults
        o = overrides or SerialOverrides()
        if o.baudrate is not None:
            settings = replace(settings, baudrate=o.baudrate)
        if o.parity is not None:
            settings = replace(settings, parity=o.parity)
        if o.stopbits is not None:
            settings = replace(settings, stopbits=o.stopbits)
        if o.flow is not None:
            settings = replace(settings, rtscts=o.flow == "rtscts", xonxoff=o.flow == "xonxoff")
        return SerialDriver(spec.target, protocol, settings, duration_s=duration_s)
    raise SourceError(f"unknown source scheme {spec.scheme!r}")
