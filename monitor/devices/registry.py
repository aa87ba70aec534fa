"""Source names on the command line, and the drivers of device sources.

``serial:PORT`` is a device on a serial port (with ``--protocol``) and
``replay:FILE`` a byte capture; ``sim:SCENARIO`` (the built-in simulator) and
``replay:SESSION`` (a recording) are composed by
:mod:`monitor.acquisition.sources`, above this layer.
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


def device_driver(spec: SourceSpec, *, duration_s: float | None = None,
                  protocol: str | None = None,
                  overrides: SerialOverrides | None = None) -> Driver:
    """The driver of a device source: ``serial:PORT``, or ``replay:FILE`` (a byte capture).

    ``sim:`` and ``replay:SESSION`` are composed above this layer (they need
    the simulator and the recordings): see :mod:`monitor.acquisition.sources`.

    Raises
    ------
    SourceError
        A scheme this layer does not build, a missing ``--protocol`` or file.
    """
    from monitor.devices.protocols import PROTOCOLS, check_protocol

    if spec.scheme == "replay":
        from pathlib import Path

        from monitor.devices import replay

        path = Path(spec.target)
        if not path.is_file():
            raise SourceError(f"replay:{spec.target} is neither a session number nor a file")
        if protocol is None:
            raise SourceError(f"replaying a capture file needs --protocol; valid "
                              f"protocols: {', '.join(PROTOCOLS)}")
        return replay.from_file(path, check_protocol(protocol))
    if spec.scheme == "serial":
        from dataclasses import replace

        from monitor.devices.protocols import codec_class
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
    raise SourceError(f"the device layer does not build {spec.scheme}: sources")
