"""Source names on the command line, and the drivers of device sources.

``serial:PORT`` is a device on a serial port (with ``--protocol``),
``lan:HOST[:PORT]`` a monitor on the network (``lan:discover[:PORT]``: the
first one that announces itself; the protocol is ``intellivue-lan``, the only
one spoken over UDP) and ``replay:FILE`` a byte capture; ``sim:SCENARIO``
(the built-in simulator) and ``replay:SESSION`` (a recording) are composed
by :mod:`monitor.acquisition.sources`, above this layer.
"""

from __future__ import annotations

from dataclasses import dataclass

from monitor.devices.base import Driver, SourceError

SCHEMES = ("sim", "serial", "lan", "replay")
DEFAULT_SOURCE = "sim:typical"
LAN_DEFAULT_PROTOCOL = "intellivue-lan"
"""The protocol a ``lan:`` source speaks when ``--protocol`` is not given."""
DISCOVER = "discover"


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


def protocols_on(transport: str) -> list[str]:
    """The protocol names whose devices talk over ``transport`` (``"serial"``, ``"udp"``)."""
    from monitor.devices.protocols import PROTOCOLS, codec_class

    return [name for name in PROTOCOLS if codec_class(name).transport == transport]


def parse_lan_target(target: str) -> tuple[str | None, int | None]:
    """``HOST[:PORT]`` or ``discover[:PORT]`` -> (host or ``None`` to discover, port or ``None``).

    Raises
    ------
    SourceError
        An empty host or a port that is not a number from 1 to 65535.
    """
    host, sep, port_text = target.rpartition(":")
    if not sep:
        host, port_text = target, ""
    form = "lan:HOST[:PORT] (e.g. lan:192.168.1.20) or lan:discover[:PORT]"
    if not host or (sep and not port_text):
        raise SourceError(f"lan:{target} is not of the form {form}")
    port = None
    if port_text:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise SourceError(f"lan:{target}: the port must be a number from 1 to 65535; "
                              f"the form is {form}")
        port = int(port_text)
    return (None if host == DISCOVER else host), port


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
    """The driver of a device source: ``serial:PORT``, ``lan:HOST``, or ``replay:FILE``.

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
    if spec.scheme == "lan":
        from monitor.devices import udp_driver

        host, port = parse_lan_target(spec.target)
        protocol = check_protocol(protocol or LAN_DEFAULT_PROTOCOL)
        on_udp = protocols_on("udp")
        if protocol not in on_udp:
            raise SourceError(f"a lan: source speaks {' or '.join(on_udp) or 'no protocol'}, "
                              f"not {protocol!r} (a serial: protocol)")
        if overrides is not None and overrides != SerialOverrides():
            raise SourceError("baud rate, parity, stop bits and flow control apply to "
                              "serial: sources only, not to lan:")
        if host is None:
            return udp_driver.UdpDriver(None, protocol, duration_s=duration_s,
                                        discovery_port=port or udp_driver.DISCOVERY_PORT)
        return udp_driver.UdpDriver(host, protocol, port=port or udp_driver.DATA_PORT,
                                    duration_s=duration_s)
    if spec.scheme == "serial":
        from dataclasses import replace

        from monitor.devices.protocols import codec_class
        from monitor.devices.serial_driver import SerialDriver

        on_serial = protocols_on("serial")
        if protocol is None:
            raise SourceError(f"a serial source needs --protocol; valid protocols: "
                              f"{', '.join(on_serial)}")
        if check_protocol(protocol) not in on_serial:
            raise SourceError(f"{protocol} is spoken over the network: use --source "
                              f"lan:HOST (or lan:discover); on a serial port the protocols "
                              f"are {', '.join(on_serial)}")
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
