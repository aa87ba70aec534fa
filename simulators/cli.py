"""``infusion-sim``: the simulator's command line.

::

    infusion-sim list        one line per scenario: name, then description
    infusion-sim run SCENARIO --protocol P (--pty | --port DEV | --udp PORT | --mllp HOST:PORT
                                            | --stdout) [faults]
"""

from __future__ import annotations

import argparse
import logging
import math
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from simulators.scenario import ScenarioError, list_scenarios

log = logging.getLogger(__name__)


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="infusion-sim",
        description="Simulated bedside monitor for the Infusion Monitor.")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="log more (-v info, -vv debug)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("list", help="list the bundled scenarios")
    run = commands.add_parser("run", help="emulate a device on a (virtual) serial port")
    run.add_argument("scenario", help="a scenario name (see 'list') or a .toml path")
    run.add_argument("--protocol", required=True, help=_protocol_help())
    out = run.add_mutually_exclusive_group(required=True)
    out.add_argument("--pty", action="store_true",
                     help="create a pseudo-terminal; its path is printed as 'PTY /dev/pts/N'")
    out.add_argument("--port", metavar="DEVICE", help="write to a real serial port")
    out.add_argument("--udp", type=_udp_port, metavar="PORT", default=None,
                     help="a monitor on the LAN (intellivue-lan): listen on UDP PORT of "
                          "--udp-host (0: any free port), printed as 'UDP HOST:PORT'; "
                          "answer the host that talks to it")
    out.add_argument("--mllp", type=_host_port, metavar="HOST:PORT", default=None,
                     help="an HL7 gateway (hl7-pcd01): connect to the HL7 listener at "
                          "HOST:PORT and send it MLLP-framed ORU^R01 messages, reading its "
                          "ACKs; reconnect with back-off when refused or closed; printed as "
                          "'MLLP connected HOST:PORT'")
    out.add_argument("--stdout", action="store_true",
                     help="write the raw bytes to stdout (a host in process answers the "
                          "device, so a protocol with a session records a real one)")
    run.add_argument("--udp-host", default="127.0.0.1", metavar="ADDRESS",
                     help="with --udp: the local address to listen on (default 127.0.0.1)")
    run.add_argument("--announce", type=_announce, default=None, metavar="HOST[:PORT]",
                     help="with --udp: send the monitor's Connect Indications to HOST (port "
                          "24005 by default) while no host is associated; 'broadcast' for "
                          "255.255.255.255 (default: none are sent)")
    hl7 = run.add_argument_group("HL7 gateway (hl7-pcd01)")
    hl7.add_argument("--bed", default=None, metavar="PV1-3",
                     help="the bed the gateway writes in PV1-3, point of care^room^bed "
                          "(default KETAMINE^ROOM1^CHAIR1: the monitor's --bed CHAIR1 "
                          "takes it)")
    hl7.add_argument("--mindray-codes", action="store_true",
                     help="Mindray's local observation codes (101^HR, 160^SpO2, 170^Sys...) "
                          "instead of MDC")
    hl7.add_argument("--no-pleth", action="store_true",
                     help="send no pleth waveform rows (many gateways send numerics only)")
    hl7.add_argument("--ack-timeout", type=_positive, default=None, metavar="SECONDS",
                     help="session seconds the gateway waits for an ACK before it sends the "
                          "message again (default 5)")
    hl7.add_argument("--max-resends", type=_count, default=None, metavar="N",
                     help="times an unacknowledged message is sent again before it is "
                          "dropped (default 2; 0: drop at once)")
    hl7.add_argument("--wrong-bed-at", type=_positive, default=None, metavar="SECONDS",
                     help="from this session second the gateway labels the messages with "
                          "another bed (the next chair) and another monitor")
    hl7.add_argument("--wrong-bed-for", type=_positive, default=30.0, metavar="SECONDS",
                     help="for this many session seconds (default 30)")
    run.add_argument("--link", type=Path, default=None,
                     help="with --pty: keep a symlink at this path to the current pty "
                          "(it stays valid across --disconnect-at)")
    run.add_argument("--speed", type=_positive, default=1.0,
                     help="session seconds per real second (default 1)")
    run.add_argument("--seed", type=_seed, default=0, help="random seed (default 0)")
    run.add_argument("--duration", type=_positive, default=None,
                     help="session seconds to play (default: the scenario's length)")
    run.add_argument("--garbage", type=_rate, default=0.0,
                     help="probability per frame of random bytes before it")
    run.add_argument("--corrupt", type=_rate, default=0.0,
                     help="probability per frame of a bad checksum or mangled line")
    run.add_argument("--drop", type=_rate, default=0.0, help="probability per frame of loss")
    run.add_argument("--duplicate", type=_rate, default=0.0,
                     help="probability per frame of it being sent twice in a row")
    run.add_argument("--disconnect-at", type=_positive, default=None, metavar="SECONDS",
                     help="close the port at this session second (USB unplug)")
    run.add_argument("--reconnect-after", type=_positive, default=5.0, metavar="SECONDS",
                     help="reopen it this many session seconds later (default 5)")
    run.add_argument("--sensor-off-at", type=_positive, default=None, metavar="SECONDS",
                     help="the device reports its probe off from this session second")
    run.add_argument("--sensor-off-for", type=_positive, default=30.0, metavar="SECONDS")
    return parser


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, not {text!r}") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"expected a positive number, not {text!r}")
    return value


def _protocol_help() -> str:
    from monitor.devices.protocols import PROTOCOLS

    names = list(PROTOCOLS)
    return ", ".join(names[:-1]) + " or " + names[-1]


def _udp_port(text: str) -> int:
    if not text.isdigit() or not 0 <= int(text) < 65536:
        raise argparse.ArgumentTypeError(f"expected a UDP port from 0 to 65535, not {text!r}")
    return int(text)


def _announce(text: str) -> tuple[str, int]:
    from simulators.run import ANNOUNCE_PORT, BROADCAST

    if text == "broadcast":
        return BROADCAST, ANNOUNCE_PORT
    host, sep, port = text.rpartition(":")
    if not sep:
        return text, ANNOUNCE_PORT
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"expected HOST[:PORT] or 'broadcast', not {text!r}")
    return host, int(port)


def _host_port(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT (a TCP port from 1 to 65535), "
                                         f"not {text!r}")
    return host, int(port)


def _count(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected a whole number from 0, not {text!r}")
    return int(text)


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number from 0, not {text!r}") from None
    if not 0 <= value < 2**63:
        raise argparse.ArgumentTypeError(f"expected a whole number from 0 to 2**63 - 1, "
                                         f"not {text!r}")
    return value


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a rate from 0 to 1, not {text!r}") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"expected a rate from 0 to 1, not {text!r}")
    return value


def _list() -> int:
    scenarios = list_scenarios()
    width = max((len(name) for name, _ in scenarios), default=0) + 2
    for name, description in scenarios:
        print(f"{name:<{width}}{description}".rstrip())
    return 0


def _run(args: argparse.Namespace) -> int:
    import numpy as np

    from monitor.devices.protocols import ProtocolError, codec_class
    from simulators import run as sim_run
    from simulators.encoders import encoder_class
    from simulators.scenario import load_scenario

    try:
        codec = codec_class(args.protocol)
        encoder_cls = encoder_class(args.protocol)
    except ProtocolError as exc:
        print(f"infusion-sim: error: {exc}", file=sys.stderr)
        return 2
    udp, tcp = codec.transport == "udp", codec.transport == "tcp"
    if udp and (args.pty or args.port or args.mllp):
        print(f"infusion-sim: error: {args.protocol} travels over the LAN: use --udp PORT "
              "(or --stdout for a capture)", file=sys.stderr)
        return 2
    if tcp and (args.pty or args.port or args.udp is not None):
        print(f"infusion-sim: error: {args.protocol} travels over TCP to an HL7 listener: use "
              "--mllp HOST:PORT (or --stdout for a capture)", file=sys.stderr)
        return 2
    if (args.udp is not None or args.mllp) and not (udp or tcp):
        print(f"infusion-sim: error: {args.protocol} is a serial protocol: use --pty, --port "
              "or --stdout", file=sys.stderr)
        return 2
    if args.mllp and not tcp:
        print(f"infusion-sim: error: --mllp is for an HL7 gateway (hl7-pcd01), not "
              f"{args.protocol}", file=sys.stderr)
        return 2
    gateway = {"bed": args.bed, "mindray_codes": args.mindray_codes or None,
               "pleth": False if args.no_pleth else None, "ack_timeout_s": args.ack_timeout,
               "max_resends": args.max_resends}
    gateway = {key: value for key, value in gateway.items() if value is not None}
    if (gateway or args.wrong_bed_at is not None) and not tcp:
        print("infusion-sim: error: --bed, --mindray-codes, --no-pleth, --ack-timeout, "
              "--max-resends and --wrong-bed-at are for an HL7 gateway (hl7-pcd01)",
              file=sys.stderr)
        return 2
    if args.udp is None and (args.announce is not None or args.udp_host != "127.0.0.1"):
        print("infusion-sim: error: --announce and --udp-host apply to --udp only",
              file=sys.stderr)
        return 2
    scenario = load_scenario(args.scenario)
    encoder = encoder_cls(np.random.default_rng([args.seed, 0xE7C0]), **gateway)
    if args.pty:
        port: sim_run.Port = sim_run.PtyPort(sys.stdout, args.link)
    elif args.port:
        port = sim_run.SerialPort(args.port, codec.serial_defaults)
    elif args.udp is not None:
        try:
            port = sim_run.UdpPort(sys.stdout, args.udp, args.udp_host, args.announce)
        except OSError as exc:
            print(f"infusion-sim: error: cannot listen on UDP {args.udp_host}:{args.udp}: "
                  f"{exc.strerror or exc}", file=sys.stderr)
            return 2
        # What the monitor's Connect Indication announces: where it serves.
        if hasattr(encoder, "ip_address"):
            encoder.ip_address = args.udp_host
        if hasattr(encoder, "data_port"):
            encoder.data_port = port.port
    elif args.mllp:
        host, tcp_port = args.mllp
        try:
            port = sim_run.MllpClientPort(sys.stdout, host, tcp_port)
        except OSError as exc:     # a host name that does not resolve
            print(f"infusion-sim: error: cannot reach {host}:{tcp_port}: "
                  f"{exc.strerror or exc}", file=sys.stderr)
            return 2
    else:
        # Nobody can answer over stdout: a host in process talks to the device.
        port = sim_run.VirtualHostPort(sim_run.StdoutPort(sys.stdout.buffer), codec())
    faults = sim_run.Faults(args.garbage, args.corrupt, args.drop, args.disconnect_at,
                            args.reconnect_after, args.sensor_off_at, args.sensor_off_for,
                            args.duplicate, args.wrong_bed_at, args.wrong_bed_for)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    counts = sim_run.run(scenario, encoder, port, speed=args.speed, seed=args.seed,
                         faults=faults, duration_s=args.duration, should_stop=stop)
    log.info("done: %s", counts)
    return 0


_COMMANDS = {"list": _list, "run": _run}


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``infusion-sim`` and return its exit status.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name; ``sys.argv[1:]`` by default.

    Returns
    -------
    int
        0 on success; 2 for usage errors (through argparse) and for a
        scenario file that cannot be loaded (the message names file and line).
    """
    args = _build_parser().parse_args(argv)
    level = (logging.WARNING, logging.INFO, logging.DEBUG)[min(args.verbose, 2)]
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    try:
        if args.command == "run":
            return _run(args)
        return _COMMANDS[args.command]()
    except ScenarioError as exc:
        print(f"infusion-sim: error: {exc}", file=sys.stderr)
        return 2
