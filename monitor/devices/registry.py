"""Source names on the command line, and the drivers of device sources.

``serial:PORT`` is a device on a serial port (with ``--protocol``),
``lan:HOST[:PORT]`` a monitor on the network (``lan:discover[:PORT]``: the
first one that announces itself; the protocol is ``intellivue-lan``, the only
one spoken over UDP), ``hl7:[HOST:]PORT`` an MLLP listener for HL7 v2
observation messages (IHE PCD-01: ``hl7-pcd01``, the only protocol spoken
over it) and ``replay:FILE`` a byte capture; ``sim:SCENARIO``
(the built-in simulator) and ``replay:SESSION`` (a recording) are composed
by :mod:`monitor.acquisition.sources`, above this layer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from monitor.devices.base import Driver, SourceError

SCHEMES = ("sim", "serial", "lan", "hl7", "replay")
DEFAULT_SOURCE = "sim:typical"
LAN_DEFAULT_PROTOCOL = "intellivue-lan"
"""The protocol a ``lan:`` source speaks when ``--protocol`` is not given."""
DISCOVER = "discover"
HL7_PROTOCOL = "hl7-pcd01"
"""The protocol an ``hl7:`` source speaks (implied; the only one over MLLP)."""
ANY_BED = "any"
"""``--bed any``: every bed's messages (a feed that carries one patient only)."""


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


def parse_hl7_target(target: str) -> tuple[str | None, int]:
    """``[HOST:]PORT`` -> (host or ``None``: the interface that routes to the gateway, port).

    Raises
    ------
    SourceError
        An empty host or a port that is not a number from 1 to 65535.
    """
    host, sep, port_text = target.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    form = "hl7:[HOST:]PORT (e.g. hl7:10.1.2.5:2575, or hl7:2575 with --hl7-allow GATEWAY)"
    if (sep and not host) or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise SourceError(f"hl7:{target} is not of the form {form}; the port is a number "
                          "from 1 to 65535 (2575 is HL7's)")
    return (host or None), int(port_text)


@dataclass(frozen=True)
class Hl7Options:
    """What an ``hl7:`` listener takes from the command line or the source dialog.

    Attributes
    ----------
    bed : str or None
        The routing key (:data:`ANY_BED` for every bed); required for ``hl7:``.
    allow : str or None
        ``ADDR[,ADDR...]`` of the senders allowed (CIDR networks too); ``None``:
        this computer only.
    tls_cert, tls_key : Path or None
    code_maps : tuple of Path
        The clinic's own code mapping files, besides the shipped ones.
    """

    bed: str | None = None
    allow: str | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None
    code_maps: tuple[Path, ...] = field(default=())

    @property
    def given(self) -> bool:
        return self != Hl7Options()


@dataclass(frozen=True)
class SerialOverrides:
    """Serial settings the user gave on the command line (None: the protocol's default)."""

    baudrate: int | None = None
    parity: str | None = None
    stopbits: float | None = None
    flow: str | None = None   # "none", "rtscts", "xonxoff"


def device_driver(spec: SourceSpec, *, duration_s: float | None = None,
                  protocol: str | None = None,
                  overrides: SerialOverrides | None = None,
                  hl7: Hl7Options | None = None) -> Driver:
    """The driver of a device source: ``serial:PORT``, ``lan:HOST``, ``hl7:[HOST:]PORT``
    or ``replay:FILE``.

    ``sim:`` and ``replay:SESSION`` are composed above this layer (they need
    the simulator and the recordings): see :mod:`monitor.acquisition.sources`.

    Raises
    ------
    SourceError
        A scheme this layer does not build, a missing ``--protocol`` or file.
    """
    from monitor.devices.protocols import PROTOCOLS, check_protocol

    if spec.scheme != "hl7" and hl7 is not None and hl7.given:
        raise SourceError("--bed, --hl7-allow, --hl7-tls-cert, --hl7-tls-key and "
                          "--hl7-code-map apply to hl7: sources only")
    if spec.scheme == "hl7":
        return _hl7_driver(spec, duration_s, protocol, overrides, hl7 or Hl7Options())
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
            where = ("an hl7:[HOST:]PORT listener's" if protocol == HL7_PROTOCOL
                     else "a serial:")
            raise SourceError(f"a lan: source speaks {' or '.join(on_udp) or 'no protocol'}, "
                              f"not {protocol!r} ({where} protocol)")
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
        if check_protocol(protocol) == HL7_PROTOCOL:
            raise SourceError(f"{protocol} is HL7 over TCP: use --source hl7:[HOST:]PORT "
                              f"(a listener); on a serial port the protocols are "
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


def _hl7_driver(spec: SourceSpec, duration_s: float | None, protocol: str | None,
                overrides: SerialOverrides | None, opts: Hl7Options) -> Driver:
    from monitor.devices import hl7_driver

    host, port = parse_hl7_target(spec.target)
    if protocol is not None and protocol != HL7_PROTOCOL:
        from monitor.devices.protocols import check_protocol

        check_protocol(protocol)
        raise SourceError(f"an hl7: source speaks {HL7_PROTOCOL} (HL7 v2 over MLLP), not "
                          f"{protocol!r}; leave --protocol out or give {HL7_PROTOCOL}")
    if overrides is not None and overrides != SerialOverrides():
        raise SourceError("baud rate, parity, stop bits and flow control apply to "
                          "serial: sources only, not to hl7:")
    if not opts.bed:
        raise SourceError(f"an hl7: source needs --bed KEY: this chair's routing key, matched "
                          "against the messages' PV1-3 (point of care^room^bed, any "
                          "component), OBX-18 (the device's equipment id) or MSH-3 (the "
                          f"sending application); --bed {ANY_BED} takes every bed's messages "
                          "(a monitor sending for this chair only)")
    allow = hl7_driver.parse_allow(opts.allow) if opts.allow is not None else None
    bed = None if opts.bed.strip().lower() == ANY_BED else opts.bed.strip()
    return hl7_driver.Hl7Driver(host, port, HL7_PROTOCOL, bed=bed, code_maps=opts.code_maps,
                                allow=allow, tls_cert=opts.tls_cert, tls_key=opts.tls_key,
                                duration_s=duration_s)
