"""``infusion-sim``: the simulator's command line.

::

    infusion-sim list        one line per scenario: name, then description
    infusion-sim run SCENARIO --protocol P (--pty | --port DEV | --udp PORT | --mllp HOST:PORT
                                            | --stdout) [faults]
                              [--protocol P2 (--pty | --port | --udp | --mllp) [faults] ...]
                              [--speed X] [--seed N] [--duration S] [--control FIFO|-]

Several devices at one chair: each ``--protocol`` starts a device, and the
device options (output, faults, ``--link``, ``--udp-host``, ``--announce``,
the HL7 gateway's) apply to the device whose ``--protocol`` they follow;
options before the first ``--protocol`` apply to the first device. The
scenario, ``--speed``, ``--seed``, ``--duration`` and ``--control`` are the
run's: every device plays the same patient on the same clock (see
:mod:`simulators.run`). ``--stdout`` is for a single device. Each device's
faults have their own random stream, derived from ``--seed`` and the device's
number; device 1 has the one it would have alone.

What is printed on stdout, one line each, before the data flows:

* one device (exactly as before several were possible): ``PTY /dev/pts/N``
  (``UDP HOST:PORT``, ``MLLP connected HOST:PORT``), then ``START UNIX_TIME``;
* several devices: one line per device, in command-line order, with its number
  (from 1) and protocol before the path: ``PTY 1 masimo-ascii /dev/pts/3``,
  ``PTY 2 datex-s5 /dev/pts/4`` (``UDP 2 intellivue-lan 127.0.0.1:24105``,
  ``MLLP 2 hl7-pcd01 connected 127.0.0.1:2575``), then one ``START UNIX_TIME``.

A port opened again (after ``--disconnect-at`` or ``plug N``) prints its line
again (a pty gets a new path; ``--link`` follows it).

``--control FIFO`` (or ``-`` for stdin) takes commands, one a line, while the
devices run: ``unplug N`` pulls device N's cable (its pty is closed, as
``--disconnect-at`` does), ``plug N`` puts it back; without N, every device.
Each is answered on stdout as it is applied: ``UNPLUGGED 2 datex-s5``,
``PLUGGED 2 datex-s5`` (``UNPLUGGED`` / ``PLUGGED`` with one device). The
FIFO is made when missing, and removed at the end if it was made.
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
from typing import Any

from simulators.scenario import ScenarioError, list_scenarios

log = logging.getLogger(__name__)

_DEVICE_DEFAULTS: dict[str, Any] = {}
"""Each per-device option's ``dest`` and default (filled in by :func:`_device_option`)."""
_OUTPUTS = ("pty", "port", "udp", "mllp", "stdout")

_RUN_EPILOG = """\
several devices: each --protocol starts a device; the options marked (device) apply
to the device whose --protocol they follow (before the first --protocol: to the
first). Scenario, --speed, --seed, --duration and --control are shared: one patient,
one clock. --stdout is for a single device. Example, an oximeter and a monitor:

  infusion-sim run typical --protocol masimo-ascii --pty --link /tmp/masimo \\
                           --protocol datex-s5 --pty --disconnect-at 60 --speed 5

printed: with one device 'PTY /dev/pts/N' (or 'UDP HOST:PORT', 'MLLP connected
HOST:PORT'), then 'START UNIX_TIME'; with several, one line per device with its
number and protocol, 'PTY 1 masimo-ascii /dev/pts/3', 'PTY 2 datex-s5 /dev/pts/4',
then one 'START UNIX_TIME'. A port opened again prints its line again.

--control commands, one a line: 'unplug N' and 'plug N' (N from 1; none: every
device), answered 'UNPLUGGED N PROTOCOL' / 'PLUGGED N PROTOCOL' ('UNPLUGGED' /
'PLUGGED' with one device). For example: mkfifo /tmp/sim.ctl; infusion-sim run
... --control /tmp/sim.ctl; then echo 'unplug 1' > /tmp/sim.ctl
"""


def _devices(namespace: argparse.Namespace) -> list[dict[str, Any]]:
    devices = getattr(namespace, "devices", None)
    if devices is None:
        devices = [{}]
        namespace.devices = devices
    return devices


class _ProtocolAction(argparse.Action):
    """``--protocol``: names the first device, or starts the next one."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        devices = _devices(namespace)
        if "protocol" in devices[-1]:
            devices.append({})
        devices[-1]["protocol"] = values


class _DeviceValue(argparse.Action):
    """A per-device option: stored on the device being described."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        _devices(namespace)[-1][self.dest] = values if self.nargs != 0 else self.const


def _device_option(group: Any, *flags: str, default: Any = None, flag: bool = False,
                   **kwargs: Any) -> None:
    """Add a per-device option to ``group`` (``flag``: takes no value, True when given)."""
    if flag:
        kwargs.update(nargs=0, const=True)
        default = False
    action = group.add_argument(*flags, action=_DeviceValue, default=argparse.SUPPRESS,
                                **kwargs)
    _DEVICE_DEFAULTS[action.dest] = default


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="infusion-sim",
        description="Simulated bedside monitor for the Infusion Monitor.")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="log more (-v info, -vv debug)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("list", help="list the bundled scenarios")
    run = commands.add_parser(
        "run", help="emulate one or more devices on (virtual) serial ports",
        usage="%(prog)s [-h] SCENARIO --protocol P OUTPUT [device options]\n"
              "       [--protocol P2 OUTPUT [device options] ...]\n"
              "       [--speed X] [--seed N] [--duration S] [--control FIFO|-]",
        epilog=_RUN_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    run.add_argument("scenario", help="a scenario name (see 'list') or a .toml path")
    run.add_argument("--protocol", required=True, action=_ProtocolAction,
                     default=argparse.SUPPRESS,
                     help="(device) " + _protocol_help() + "; given again, another device")
    out = run.add_argument_group("output (device; exactly one of them per device)")
    _device_option(out, "--pty", flag=True,
                   help="create a pseudo-terminal; its path is printed as 'PTY /dev/pts/N' "
                        "('PTY 1 masimo-ascii /dev/pts/N' with several devices)")
    _device_option(out, "--port", metavar="DEVICE", help="write to a real serial port")
    _device_option(out, "--udp", type=_udp_port, metavar="PORT",
                   help="a monitor on the LAN (intellivue-lan): listen on UDP PORT of "
                        "--udp-host (0: any free port), printed as 'UDP HOST:PORT'; "
                        "answer the host that talks to it")
    _device_option(out, "--mllp", type=_host_port, metavar="HOST:PORT",
                   help="an HL7 gateway (hl7-pcd01): connect to the HL7 listener at "
                        "HOST:PORT and send it MLLP-framed ORU^R01 messages, reading its "
                        "ACKs; reconnect with back-off when refused or closed; printed as "
                        "'MLLP connected HOST:PORT'")
    _device_option(out, "--stdout", flag=True,
                   help="write the raw bytes to stdout (a host in process answers the "
                        "device, so a protocol with a session records a real one); a "
                        "single device only")
    _device_option(out, "--udp-host", default="127.0.0.1", metavar="ADDRESS",
                   help="with --udp: the local address to listen on (default 127.0.0.1)")
    _device_option(out, "--announce", type=_announce, metavar="HOST[:PORT]",
                   help="with --udp: send the monitor's Connect Indications to HOST (port "
                        "24005 by default) while no host is associated; 'broadcast' for "
                        "255.255.255.255 (default: none are sent)")
    _device_option(out, "--link", type=Path,
                   help="with --pty: keep a symlink at this path to the current pty "
                        "(it stays valid across --disconnect-at and unplug/plug)")
    hl7 = run.add_argument_group("HL7 gateway (hl7-pcd01; device)")
    _device_option(hl7, "--bed", metavar="PV1-3",
                   help="the bed the gateway writes in PV1-3, point of care^room^bed "
                        "(default KETAMINE^ROOM1^CHAIR1: the monitor's --bed CHAIR1 "
                        "takes it)")
    _device_option(hl7, "--mindray-codes", flag=True,
                   help="Mindray's local observation codes (101^HR, 160^SpO2, 170^Sys...) "
                        "instead of MDC")
    _device_option(hl7, "--no-pleth", flag=True,
                   help="send no pleth waveform rows (many gateways send numerics only)")
    _device_option(hl7, "--ack-timeout", type=_positive, metavar="SECONDS",
                   help="session seconds the gateway waits for an ACK before it sends the "
                        "message again (default 5)")
    _device_option(hl7, "--max-resends", type=_count, metavar="N",
                   help="times an unacknowledged message is sent again before it is "
                        "dropped (default 2; 0: drop at once)")
    _device_option(hl7, "--wrong-bed-at", type=_positive, metavar="SECONDS",
                   help="from this session second the gateway labels the messages with "
                        "another bed (the next chair) and another monitor")
    _device_option(hl7, "--wrong-bed-for", type=_positive, default=30.0, metavar="SECONDS",
                   help="for this many session seconds (default 30)")
    run.set_defaults(run_parser=run)
    shared = run.add_argument_group("the run (shared by every device)")
    shared.add_argument("--speed", type=_positive, default=1.0,
                        help="session seconds per real second (default 1)")
    shared.add_argument("--seed", type=_seed, default=0, help="random seed (default 0)")
    shared.add_argument("--duration", type=_positive, default=None,
                        help="session seconds to play (default: the scenario's length)")
    shared.add_argument("--control", metavar="FIFO", default=None,
                        help="read 'unplug N' / 'plug N' commands from this FIFO (made when "
                             "missing) or, with '-', from stdin; each is answered "
                             "'UNPLUGGED N PROTOCOL' / 'PLUGGED N PROTOCOL' on stdout")
    faults = run.add_argument_group("faults (device)")
    _device_option(faults, "--garbage", type=_rate, default=0.0,
                   help="probability per frame of random bytes before it")
    _device_option(faults, "--corrupt", type=_rate, default=0.0,
                   help="probability per frame of a bad checksum or mangled line")
    _device_option(faults, "--drop", type=_rate, default=0.0,
                   help="probability per frame of loss")
    _device_option(faults, "--duplicate", type=_rate, default=0.0,
                   help="probability per frame of it being sent twice in a row")
    _device_option(faults, "--disconnect-at", type=_positive, metavar="SECONDS",
                   help="close the port at this session second (USB unplug)")
    _device_option(faults, "--reconnect-after", type=_positive, default=5.0,
                   metavar="SECONDS",
                   help="reopen it this many session seconds later (default 5)")
    _device_option(faults, "--sensor-off-at", type=_positive, metavar="SECONDS",
                   help="the device reports its probe off from this session second")
    _device_option(faults, "--sensor-off-for", type=_positive, default=30.0,
                   metavar="SECONDS", help="for this many session seconds (default 30)")
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


def _device_namespaces(args: argparse.Namespace) -> list[argparse.Namespace]:
    """One namespace per device, every per-device option set (defaults filled in).

    Refuses (as argparse does, exit 2) a device without exactly one output.
    """
    parser: argparse.ArgumentParser = args.run_parser
    devices = []
    specs = _devices(args)
    for index, given in enumerate(specs, 1):
        dev = argparse.Namespace(**{**_DEVICE_DEFAULTS, **given})
        where = f"device {index} ({dev.protocol}): " if len(specs) > 1 else ""
        # ``--udp 0`` (any free port) is an output: 0 == False, so compare by identity.
        outputs = [f"--{name}" for name in _OUTPUTS
                   if given.get(name) is not None and given.get(name) is not False]
        if not outputs:
            parser.error(f"{where}one of the arguments --pty --port --udp --mllp --stdout "
                         "is required")
        if len(outputs) > 1:
            parser.error(f"{where}argument {outputs[1]}: not allowed with argument "
                         f"{outputs[0]}")
        devices.append(dev)
    return devices


def _check(dev: argparse.Namespace, codec: Any) -> str | None:
    """What is wrong with one device's options, or None."""
    udp, tcp = codec.transport == "udp", codec.transport == "tcp"
    if udp and (dev.pty or dev.port or dev.mllp):
        return (f"{dev.protocol} travels over the LAN: use --udp PORT (or --stdout for a "
                "capture)")
    if tcp and (dev.pty or dev.port or dev.udp is not None):
        return (f"{dev.protocol} travels over TCP to an HL7 listener: use --mllp HOST:PORT "
                "(or --stdout for a capture)")
    if (dev.udp is not None or dev.mllp) and not (udp or tcp):
        return f"{dev.protocol} is a serial protocol: use --pty, --port or --stdout"
    if dev.mllp and not tcp:
        return f"--mllp is for an HL7 gateway (hl7-pcd01), not {dev.protocol}"
    if (_gateway(dev) or dev.wrong_bed_at is not None) and not tcp:
        return ("--bed, --mindray-codes, --no-pleth, --ack-timeout, --max-resends and "
                "--wrong-bed-at are for an HL7 gateway (hl7-pcd01)")
    if dev.udp is None and (dev.announce is not None or dev.udp_host != "127.0.0.1"):
        return "--announce and --udp-host apply to --udp only"
    if dev.link is not None and not dev.pty:
        return "--link applies to --pty only"
    return None


def _clash(dev: argparse.Namespace, before: Sequence[argparse.Namespace]) -> str | None:
    """The resource ``dev`` would share with an earlier device (a port, a link), or None."""
    for number, other in enumerate(before, 1):
        if dev.port is not None and dev.port == other.port:
            return f"--port {dev.port} is device {number}'s already"
        if dev.udp and (dev.udp, dev.udp_host) == (other.udp, other.udp_host):
            return f"--udp {dev.udp_host}:{dev.udp} is device {number}'s already"
        if dev.link is not None and other.link is not None \
                and dev.link.absolute() == other.link.absolute():
            return f"--link {dev.link} is device {number}'s already"
    return None


def _gateway(dev: argparse.Namespace) -> dict[str, Any]:
    gateway = {"bed": dev.bed, "mindray_codes": dev.mindray_codes or None,
               "pleth": False if dev.no_pleth else None, "ack_timeout_s": dev.ack_timeout,
               "max_resends": dev.max_resends}
    return {key: value for key, value in gateway.items() if value is not None}


def _open(dev: argparse.Namespace, codec: Any, encoder: Any, label: str) -> Any:
    """The port of one device (an ``OSError`` when it cannot be opened)."""
    from simulators import run as sim_run

    if dev.pty:
        return sim_run.PtyPort(sys.stdout, dev.link, label=label)
    if dev.port:
        return sim_run.SerialPort(dev.port, codec.serial_defaults)
    if dev.udp is not None:
        try:
            port = sim_run.UdpPort(sys.stdout, dev.udp, dev.udp_host, dev.announce,
                                   label=label)
        except OSError as exc:
            raise OSError(f"cannot listen on UDP {dev.udp_host}:{dev.udp}: "
                          f"{exc.strerror or exc}") from None
        # What the monitor's Connect Indication announces: where it serves.
        if hasattr(encoder, "ip_address"):
            encoder.ip_address = dev.udp_host
        if hasattr(encoder, "data_port"):
            encoder.data_port = port.port
        return port
    if dev.mllp:
        host, tcp_port = dev.mllp
        try:
            return sim_run.MllpClientPort(sys.stdout, host, tcp_port, label=label)
        except OSError as exc:     # a host name that does not resolve
            raise OSError(f"cannot reach {host}:{tcp_port}: {exc.strerror or exc}") from None
    # Nobody can answer over stdout: a host in process talks to the device.
    return sim_run.VirtualHostPort(sim_run.StdoutPort(sys.stdout.buffer), codec())


def _run(args: argparse.Namespace) -> int:
    from monitor.devices.protocols import ProtocolError, codec_class
    from simulators import run as sim_run
    from simulators.encoders import encoder_class
    from simulators.scenario import load_scenario

    devs = _device_namespaces(args)
    many = len(devs) > 1
    classes = []
    for number, dev in enumerate(devs, 1):
        where = f"device {number} ({dev.protocol}): " if many else ""
        try:
            classes.append((codec_class(dev.protocol), encoder_class(dev.protocol)))
        except ProtocolError as exc:
            print(f"infusion-sim: error: {where}{exc}", file=sys.stderr)
            return 2
        problem = _check(dev, classes[-1][0])
        if problem is None and many and dev.stdout:
            problem = ("--stdout is for a single device: give each of several --pty, "
                       "--port, --udp or --mllp")
        if problem is None:
            problem = _clash(dev, devs[:number - 1])
        if problem is not None:
            print(f"infusion-sim: error: {where}{problem}", file=sys.stderr)
            return 2
    scenario = load_scenario(args.scenario)
    devices: list[sim_run.Device] = []
    control = None
    try:
        for index, (dev, (codec, encoder_cls)) in enumerate(zip(devs, classes, strict=True)):
            label = f"{index + 1} {dev.protocol}" if many else ""
            rng = sim_run.device_rng(args.seed, index, sim_run.ENCODER_STREAM)
            encoder = encoder_cls(rng, **_gateway(dev))
            try:
                port = _open(dev, codec, encoder, label)
            except OSError as exc:
                where = f"device {index + 1} ({dev.protocol}): " if many else ""
                print(f"infusion-sim: error: {where}{exc}", file=sys.stderr)
                return 2
            faults = sim_run.Faults(dev.garbage, dev.corrupt, dev.drop, dev.disconnect_at,
                                    dev.reconnect_after, dev.sensor_off_at, dev.sensor_off_for,
                                    dev.duplicate, dev.wrong_bed_at, dev.wrong_bed_for)
            devices.append(sim_run.Device(encoder, port, faults, label=label))
        if args.control is not None:
            try:
                control = sim_run.ControlChannel(args.control)
            except (OSError, ValueError) as exc:
                print(f"infusion-sim: error: --control: {exc}", file=sys.stderr)
                return 2
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        counts = sim_run.run_devices(scenario, devices, speed=args.speed, seed=args.seed,
                                     duration_s=args.duration, should_stop=stop,
                                     control=control, announce=sys.stdout)
        devices = []        # closed by the run
    finally:
        for device in devices:
            device.port.close()
        if control is not None:
            control.close()
    for dev_counts, dev in zip(counts, devs, strict=True):
        log.info("done: %s%s", f"{dev.protocol} " if many else "", dev_counts)
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
