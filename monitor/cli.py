"""Command line of ``infusion-monitor``: the GUI, ``run --headless``, ``sessions`` and ``export``.

Exit codes: 0 success; 2 bad usage or an unusable data folder, or an export
that cannot be made (no such session, a database from a newer version, a
path that cannot be written; the message says what was wrong and what is
allowed); 3 a headless run completed but recording failed part-way; 4 an
HL7 export was written but could not be delivered over MLLP (it is kept in
the outbox and retried).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import math
import sqlite3
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from monitor import __version__
from monitor.acquisition.chair import SourceEntry
from monitor.acquisition.sources import make_drivers
from monitor.core.clock import parse_speed
from monitor.core.freshness import DEFAULT_STALE_AFTER_S
from monitor.core.vitals import Vital
from monitor.devices.base import Driver, SourceError
from monitor.devices.registry import DEFAULT_SOURCE

log = logging.getLogger(__name__)

GUI_SIM_PROTOCOL = "datex-s5"


def _speed(text: str) -> float | None:
    try:
        return parse_speed(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, not {text!r}") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, not {text!r}")
    return value


MIN_BAUD, MAX_BAUD = 50, 4_000_000
"""Baud rates a serial port can be set to (RS-232 and USB-serial adapters)."""


def _baud(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole baud rate from {MIN_BAUD} to "
                                         f"{MAX_BAUD} (e.g. 9600), not {text!r}") from None
    if not MIN_BAUD <= value <= MAX_BAUD:
        raise argparse.ArgumentTypeError(f"expected a baud rate from {MIN_BAUD} to {MAX_BAUD} "
                                         f"(e.g. 9600), not {text!r}")
    return value


def _seed(text: str) -> int:
    """A simulator seed: a whole number from 0 to 2**63 - 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number from 0, not {text!r}") from None
    if not 0 <= value < 2**63:
        raise argparse.ArgumentTypeError(f"expected a whole number from 0 to 2**63 - 1, "
                                         f"not {text!r}")
    return value


def _source_name(text: str) -> str:
    name = text.strip()
    if not name or len(name) > 32 or not name.isprintable():
        raise argparse.ArgumentTypeError(f"expected a short name such as Masimo (at most 32 "
                                         f"printable characters), not {text!r}")
    return name


def _protocol_names() -> str:
    from monitor.devices.protocols import PROTOCOLS

    names = list(PROTOCOLS)
    return ", ".join(names[:-1]) + " or " + names[-1]


PER_SOURCE = ("protocol", "name", "baud", "parity", "stopbits", "flow", "bed", "hl7_allow",
              "hl7_tls_cert", "hl7_tls_key", "hl7_code_map")
"""The options that belong to the ``--source`` they follow (``SourceEntry`` fields)."""

_GROUPS = "source_groups"
"""Namespace attribute: one dict per ``--source``, in order, with its own options."""
_BEFORE = "source_before"
"""Namespace attribute: per-source options given before any ``--source`` (the first's)."""


def _which(groups: list[dict[str, object]]) -> str:
    return f"--source {groups[-1]['source']}" if groups else "the first source"


class _SourceAction(argparse.Action):
    """``--source``: starts a new source; options given before any ``--source`` join it."""

    def __call__(self, parser, namespace, values, option_string=None):  # type: ignore[no-untyped-def]
        groups = list(getattr(namespace, _GROUPS, None) or [])
        group: dict[str, object] = {}
        if not groups and getattr(namespace, _BEFORE, None):
            group.update(getattr(namespace, _BEFORE))
            setattr(namespace, _BEFORE, {})
        group["source"] = values
        groups.append(group)
        setattr(namespace, _GROUPS, groups)


class _PerSourceAction(argparse.Action):
    """A setting of the current ``--source`` (the last one given; before any: the first)."""

    def __init__(self, *args, repeatable: bool = False, **kwargs):  # type: ignore[no-untyped-def]
        self.repeatable = repeatable
        super().__init__(*args, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):  # type: ignore[no-untyped-def]
        groups = getattr(namespace, _GROUPS, None) or []
        if groups:
            target = groups[-1]
        else:
            target = dict(getattr(namespace, _BEFORE, None) or {})
            setattr(namespace, _BEFORE, target)
        if self.repeatable:
            target.setdefault(self.dest, [])
            target[self.dest].append(values)   # type: ignore[union-attr]
            return
        if self.dest in target:
            parser.error(f"{option_string} was given twice for {_which(groups)} "
                         f"({target[self.dest]} and {values}); each --source takes each "
                         "of its settings once, after it")
        target[self.dest] = values


def _add_source_options(p: argparse.ArgumentParser) -> None:
    each = ("; applies to the --source it follows (given before any --source: to the first)")
    p.add_argument("--source", action=_SourceAction, default=argparse.SUPPRESS,
                   help=f"where data comes from: sim:SCENARIO (default {DEFAULT_SOURCE}; "
                        "see 'infusion-sim list'), serial:PORT with --protocol, "
                        "lan:HOST[:PORT] (a Philips IntelliVue's LAN data export, UDP port "
                        "24105 by default) or lan:discover[:PORT] (the first monitor that "
                        "announces itself on UDP port 24005 by default), hl7:[HOST:]PORT "
                        "(listen for HL7 v2 observation messages over MLLP from a monitor, "
                        "gateway or central station, IHE PCD-01; TCP port 2575 is HL7's; "
                        "HOST is this computer's address to listen on, or leave it out and "
                        "give --hl7-allow: the interface that leads to the gateway; 0.0.0.0 "
                        "listens on every interface, with a warning; needs --bed), "
                        "replay:SESSION or replay:FILE with --protocol. Repeatable: each "
                        "--source is one device of the session, followed by its own "
                        "settings (--protocol, --baud, --bed, --name...); without --source "
                        "the chair configuration gives the sources")
    src = {"action": _PerSourceAction, "default": argparse.SUPPRESS}
    p.add_argument("--protocol", **src,
                   help=f"{_protocol_names()}: required for serial sources "
                        "and capture files (intellivue-lan is implied by, and the only one "
                        "for, lan: sources; hl7-pcd01 for hl7: sources); for sim: sources, play the scenario through "
                        "that protocol's encoder and codec (the window does so with "
                        f"{GUI_SIM_PROTOCOL!r} by default)" + each)
    p.add_argument("--name", **src, type=_source_name,
                   help="the source's name shown to the nurse and kept in the recording "
                        "(default: the device's, such as Masimo or Datex S/5)" + each)
    p.add_argument("--baud", type=_baud, **src,
                   help="serial: override the protocol's baud rate" + each)
    p.add_argument("--parity", choices=("N", "E", "O"), **src,
                   help="serial: override the parity" + each)
    p.add_argument("--stopbits", type=float, choices=(1, 1.5, 2), **src,
                   help="serial: override the stop bits" + each)
    p.add_argument("--flow", choices=("none", "rtscts", "xonxoff"), **src,
                   help="serial: override the flow control" + each)
    p.add_argument("--bed", **src, metavar="KEY",
                   help="hl7: this chair's routing key: a message is taken when KEY equals "
                        "(ignoring case) a component of its PV1-3 (point of care^room^bed, "
                        "e.g. 12 or ICU2), of its OBX-18 (the monitor's equipment id) or "
                        "of its MSH-3 (the sending application); messages for other beds "
                        "are acknowledged, counted and ignored; 'any' takes every message "
                        "(a monitor that sends for this chair only); required for hl7:" + each)
    p.add_argument("--hl7-allow", **src, metavar="ADDR[,ADDR...]",
                   help="hl7: the senders allowed to connect (the gateway's or monitor's "
                        "IP address, or networks such as 10.1.2.0/24); any other "
                        "connection is closed at once and counted (default: this computer "
                        "only)" + each)
    p.add_argument("--hl7-tls-cert", type=Path, **src, metavar="FILE",
                   help="hl7: MLLP over TLS with this certificate (PEM; with --hl7-tls-key)"
                        + each)
    p.add_argument("--hl7-tls-key", type=Path, **src, metavar="FILE",
                   help="hl7: the private key (PEM, no passphrase) of --hl7-tls-cert" + each)
    p.add_argument("--hl7-code-map", type=Path, repeatable=True, **src,
                   metavar="FILE",
                   help="hl7: the clinic's own code mapping file (TOML; the shipped maps, "
                        "MDC and Mindray's local codes, are always loaded); repeatable"
                        + each)
    p.add_argument("--chair-config", type=Path, default=None, metavar="FILE",
                   help="the chair configuration (TOML: this chair's sources, their "
                        "settings and which device is shown first for each vital) used when "
                        "no --source is given (default: chair.toml in the data folder, if "
                        "it exists)")
    p.add_argument("--start-valid-sources", action="store_true",
                   help="when some of the sources cannot be used (a port that does not "
                        "exist, a port or device given twice, an unknown protocol), start "
                        "with the others instead of refusing to start")
    p.add_argument("--speed", type=_speed, default=1.0,
                   help="simulated sources only: session seconds per real second, or 'max'")
    p.add_argument("--seed", type=_seed, default=0, help="simulator random seed (default 0)")
    p.add_argument("--data-dir", type=Path, default=None,
                   help="folder holding the recordings (default: the user data folder)")
    p.add_argument("--new-database", action="store_true",
                   help="if the database in the data folder is damaged, keep it renamed "
                        "(infusion-monitor.damaged-<time>.sqlite3) and start a new one beside it")
    p.add_argument("--stale-after", type=_positive, default=DEFAULT_STALE_AFTER_S,
                   help="seconds without a new value before a number shows --- (default 10)")
    p.add_argument("--alarm-profile", type=Path, default=None, metavar="FILE",
                   help="alarm profile (TOML) to use instead of the shipped "
                        "'Ketamine infusion, adult' profile")
    p.add_argument("--choose-source", action="store_true",
                   help="window only: set up the chair's devices in a dialog (port, "
                        "protocol or scenario of each, their order; remembered in the "
                        "chair configuration)")
    p.add_argument("--no-setup", action="store_true",
                   help="window only: start a new session without the 'New session' "
                        "dialog (demos, benches; no patient, dose or plan is recorded)")
    p.add_argument("-v", "--verbose", action="count", default=0,
                   help="more logging on stderr (-v info, -vv debug)")
    _add_central_options(p)


def _add_central_options(p: argparse.ArgumentParser) -> None:
    """A chair's link to the clinic's central station (issue 17)."""
    g = p.add_argument_group("central station (the clinic's MQTT broker)")
    g.add_argument("--central", metavar="URL", default=None,
                   help="publish this chair's live state to the broker at mqtt[s]://"
                        "[USER@]HOST[:PORT] (mqtts: TLS, port 8883 by default); monitoring "
                        "never depends on it, and a link down is CENTRAL NOT CONNECTED")
    g.add_argument("--chair", metavar="ID", default=None,
                   help="this chair's id on the broker (letters, digits, - and _), e.g. "
                        "chair-3; required with --central")
    g.add_argument("--site", metavar="ID", default="clinic",
                   help="the clinic's id in the topics (default clinic)")
    g.add_argument("--central-password-file", type=Path, default=None, metavar="FILE",
                   help="the chair's broker password (the file's first line; owner-only "
                        "permissions)")
    g.add_argument("--central-ca", type=Path, default=None, metavar="FILE",
                   help="with mqtts: the clinic's CA certificate (PEM)")
    g.add_argument("--central-insecure", action="store_true",
                   help="allow mqtt:// (clear text) to a broker that is not on this computer")
    g.add_argument("--central-remote-actions", action="store_true",
                   help="the clinic setting that lets the central desk acknowledge or pause "
                        "this chair's alarms (off by default; each action is logged with "
                        "who did it)")
    g.add_argument("--central-patient", choices=("pseudonym", "reference", "none"),
                   default="pseudonym",
                   help="what the central is told of the patient: the clinic's pseudonym "
                        "(default; the export's, stable per patient), the reference, or "
                        "nothing")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="infusion-monitor",
        description="Vital-sign monitoring and recording for IV ketamine infusions. "
                    "With no command, opens the monitoring window.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _add_source_options(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    run = sub.add_parser("run", help="monitor one session (add --headless for no window)")
    _add_source_options(run)
    run.add_argument("--headless", action="store_true",
                     help="no window: print one JSON object per line to stdout")
    run.add_argument("--duration", type=_positive, default=None,
                     help="stop after this many session seconds (default: until the "
                          "scenario ends or the process is stopped)")
    run.add_argument("--readings", action="store_true",
                     help="with --headless, print every reading")
    ports = sub.add_parser("ports", help="list serial ports with descriptions and USB VID:PID")
    ports.add_argument("--json", action="store_true", help="print a JSON array")
    sessions = sub.add_parser("sessions", help="list recorded sessions")
    sessions.add_argument("--data-dir", type=Path, default=None)
    sessions.add_argument("--json", action="store_true", help="print a JSON array")
    _add_export_parser(sub)
    review = sub.add_parser("review", help="open the session browser and review window",
                            description="Browse the recorded sessions, review one (trends, "
                                        "alarms, events, summary), compare a patient's "
                                        "course, export, or replay a session.")
    review.add_argument("session", type=_session_id, nargs="?", default=None,
                        metavar="SESSION", help="open this session's review directly")
    review.add_argument("--data-dir", type=Path, default=None,
                        help="folder holding the recordings (default: the user data folder)")
    review.add_argument("-v", "--verbose", action="count", default=0,
                        help="more logging on stderr (-v info, -vv debug)")
    central = sub.add_parser("central", help="the nurses' desk: every chair of the clinic",
                             description="Show every chair that publishes to the clinic's "
                                         "MQTT broker (--headless: as JSON lines).")
    central.add_argument("--broker", metavar="URL", required=True,
                         help="mqtt[s]://[USER@]HOST[:PORT]")
    central.add_argument("--site", metavar="ID", default="clinic",
                         help="the clinic's id in the topics (default clinic)")
    central.add_argument("--name", metavar="ID", default="central",
                         help="this central's name, in its receipts (default central)")
    central.add_argument("--password-file", type=Path, default=None, metavar="FILE")
    central.add_argument("--ca", type=Path, default=None, metavar="FILE",
                         help="with mqtts: the clinic's CA certificate (PEM)")
    central.add_argument("--insecure", action="store_true",
                         help="allow mqtt:// (clear text) to a broker not on this computer")
    central.add_argument("--remote-actions", action="store_true",
                         help="let this desk acknowledge or pause the alarms of chairs whose "
                              "setting allows it (off by default)")
    central.add_argument("--offline-after", type=_positive, default=10.0, metavar="S",
                         help="a chair not heard from for S seconds is offline (default 10)")
    central.add_argument("--headless", action="store_true",
                         help="no window: print the central's view as JSON lines")
    central.add_argument("--order", choices=("urgency", "room"), default="urgency",
                         help="window: the most urgent chairs first (default), or in room "
                              "(chair id) order")
    central.add_argument("--duration", type=_positive, default=None, metavar="S",
                         help="with --headless: stop after S seconds")
    central.add_argument("-v", "--verbose", action="count", default=0)
    return parser


def _password(path: Path | None, what: str) -> str | None:
    """The first line of a password file (refused when others may read it)."""
    if path is None:
        return None
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"{what} {path}: {exc.strerror or exc}") from None
    if mode & 0o077:
        raise ValueError(f"{what} {path} can be read by others (mode {mode & 0o777:o}); "
                         f"chmod 600 {path}")
    return text.splitlines()[0] if text else ""


def _broker(text: str, insecure: bool):  # type: ignore[no-untyped-def]
    from monitor.central.protocol import parse_broker_url

    url = parse_broker_url(text)
    if not url.tls and not url.is_loopback and not insecure:
        from monitor.central.protocol import CentralError

        raise CentralError(f"{text}: mqtt:// sends in clear text; use mqtts:// (TLS), or "
                           "allow clear text with --central-insecure / --insecure")
    return url


def central_publisher_config(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    """The chair's :class:`~monitor.central.publisher.PublisherConfig`, or ``None``.

    Raises ``ValueError`` (a :class:`~monitor.central.protocol.CentralError` among
    them) naming what is wrong.
    """
    if getattr(args, "central", None) is None:
        _central_from_chair_file(args)
    if getattr(args, "central", None) is None:
        if getattr(args, "chair", None) is not None:
            raise ValueError("--chair needs --central URL")
        return None
    from monitor.central.protocol import check_id
    from monitor.central.publisher import PublisherConfig

    if args.chair is None:
        raise ValueError("--central needs --chair ID (this chair's id on the broker)")
    url = _broker(args.central, args.central_insecure)
    return PublisherConfig(url, check_id(args.chair, "--chair"), check_id(args.site, "--site"),
                           name=args.chair,
                           password=_password(args.central_password_file,
                                              "--central-password-file"),
                           ca_file=args.central_ca,
                           remote_actions=bool(getattr(args, "central_remote_actions",
                                                       False)))


def _central_from_chair_file(args: argparse.Namespace) -> None:
    """Fill the ``--central`` options from the chair configuration's ``[central]`` table.

    Options given on the command line win; the file is the one ``--chair-config``
    names, else ``chair.toml`` in the data folder (when it exists).
    """
    from monitor.acquisition.chair import (
        ChairConfigError,
        default_chair_path,
        load_chair_config,
    )

    path = getattr(args, "chair_config", None)
    if path is None:
        path = default_chair_path(getattr(args, "data_dir", None))
        if not path.is_file():
            return
    try:
        config, _ = load_chair_config(path, check=False)
    except ChairConfigError:
        return          # told where the sources are read, if they come from it
    table = config.central
    if not table.get("url"):
        return
    args.central = table["url"]
    if args.chair is None:
        args.chair = table.get("chair")
    if args.site == "clinic" and table.get("site"):
        args.site = table["site"]
    if args.central_password_file is None and table.get("password_file"):
        args.central_password_file = Path(str(table["password_file"])).expanduser()
    if args.central_ca is None and table.get("ca_file"):
        args.central_ca = Path(str(table["ca_file"])).expanduser()
    if table.get("patient") and args.central_patient == "pseudonym":
        args.central_patient = table["patient"]
    args.central_insecure = args.central_insecure or bool(table.get("insecure"))
    args.central_remote_actions = args.central_remote_actions or bool(
        table.get("remote_actions"))


def _central(args: argparse.Namespace) -> int:
    """``infusion-monitor central``."""
    from monitor.central.listener import CentralConfig, run_headless_central
    from monitor.central.protocol import check_id

    try:
        config = CentralConfig(_broker(args.broker, args.insecure),
                               check_id(args.site, "--site"), check_id(args.name, "--name"),
                               _password(args.password_file, "--password-file"), args.ca,
                               args.offline_after, args.remote_actions)
    except ValueError as exc:
        print(f"infusion-monitor: {exc}", file=sys.stderr)
        return 2
    if not args.headless:
        from monitor.app import run_central_window

        return run_central_window(config, order=args.order)
    import signal
    import threading

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return run_headless_central(config, sys.stdout, stop, args.duration)


EXPORT_FORMATS = ("csv", "pdf", "vital", "edf", "hl7")


def _session_id(text: str) -> int:
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(
            f"the session must be a session number such as 3, not {text!r} "
            "(see 'infusion-monitor sessions')")
    return int(text)


def _host_port(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(
            f"expected HOST:PORT with a port from 1 to 65535, such as mirth.local:6661, "
            f"not {text!r}")
    return host.strip("[]"), int(port)


def _add_export_parser(sub) -> None:
    export = sub.add_parser(
        "export", help="export one recorded session to a file",
        description="Write one recorded session as CSV (readings, plus -events.csv and "
                    "-alarms.csv alongside), a PDF report, a .vital file (VitalRecorder, "
                    "vitaldb), EDF+ (EDFbrowser, MNE) or HL7 v2.6 ORU^R01 messages.")
    export.add_argument("session", type=_session_id, metavar="SESSION",
                        help="the session number, as listed by 'infusion-monitor sessions'")
    export.add_argument("--format", required=True, choices=EXPORT_FORMATS,
                        help="csv, pdf, vital, edf or hl7")
    export.add_argument("-o", "--output", required=True, type=Path, metavar="FILE",
                        help="the file to write (its folder must exist); replaced only "
                             "once the new file is complete")
    export.add_argument("--deidentify", action="store_true",
                        help="a pseudonym instead of the patient reference, times from the "
                             "session start, no names, dates, ports or serial numbers")
    export.add_argument("--data-dir", type=Path, default=None,
                        help="folder holding the recordings (default: the user data folder)")
    export.add_argument("--page-size", choices=("A4", "Letter"), default="A4",
                        help="with --format pdf: the paper size (default A4)")
    export.add_argument("--mllp", type=_host_port, default=None, metavar="HOST:PORT",
                        help="with --format hl7: also send the messages to this MLLP "
                             "listener (undelivered ones wait in <data-dir>/hl7-outbox)")
    export.add_argument("-v", "--verbose", action="count", default=0,
                        help="more logging on stderr (-v info, -vv debug)")
    export.set_defaults(export_parser=export)


def _setup_logging(verbosity: int) -> None:
    level = logging.WARNING if verbosity == 0 else logging.INFO if verbosity == 1 \
        else logging.DEBUG
    logging.basicConfig(level=level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s [%(threadName)s] %(name)s: %(message)s")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``infusion-monitor`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    _setup_logging(getattr(args, "verbose", 0))
    if args.command == "sessions":
        return _sessions(args)
    if args.command == "ports":
        return _ports(args)
    if args.command == "export":
        if args.mllp is not None and args.format != "hl7":
            args.export_parser.error("--mllp applies to --format hl7 only")
        return _export(args)
    if args.command == "review":
        return _review(args)
    if args.command == "central":
        return _central(args)
    try:
        central = central_publisher_config(args)
    except ValueError as exc:
        print(f"infusion-monitor: {exc}", file=sys.stderr)
        return 2
    from monitor.core.alarms.profile import ProfileError
    from monitor.core.alarms.profile_file import load_default_profile, load_profile

    try:
        profile = (load_profile(args.alarm_profile) if args.alarm_profile is not None
                   else load_default_profile())
    except ProfileError as exc:
        print(f"infusion-monitor: alarm profile refused: {exc}", file=sys.stderr)
        return 2
    duration = getattr(args, "duration", None)
    headless = args.command == "run" and args.headless
    chosen = None
    if args.choose_source and not headless:
        from monitor.acquisition.chair import default_chair_path
        from monitor.app import pick_source

        chosen = pick_source(args.chair_config if args.chair_config is not None
                             else default_chair_path(args.data_dir))
        if chosen is None:
            return 0  # the nurse cancelled
    plan = _session_sources(parser, args, chosen, headless)
    if isinstance(plan, int):
        return plan
    drivers, priority = plan
    if headless:
        from monitor.acquisition.headless import HeadlessOptions, run_headless

        return run_headless(HeadlessOptions(drivers[0], args.data_dir, args.speed, duration,
                                            args.readings, args.stale_after, profile,
                                            new_database=args.new_database,
                                            drivers=drivers, priority=priority,
                                            central=central))
    from monitor.app import GuiOptions, run_gui  # Qt is imported only for the window

    return run_gui(GuiOptions(drivers[0], args.data_dir, args.speed, args.stale_after, profile,
                              setup=not args.no_setup, new_database=args.new_database,
                              drivers=drivers, priority=priority, central=central,
                              central_patient=args.central_patient))


Priority = dict[Vital, tuple[str, ...]]
"""Vital -> source names, first preferred (a chair configuration's ``[priority]``)."""


def source_entries(args: argparse.Namespace) -> tuple[list[SourceEntry], dict[str, object]]:
    """The ``--source`` options as entries, and the settings given with no ``--source``.

    Settings given before the first ``--source`` belong to it; one given there
    and after it too is refused (``SourceError``).
    """
    groups = [dict(g) for g in getattr(args, _GROUPS, None) or []]
    before = dict(getattr(args, _BEFORE, None) or {})
    if groups and before:
        first = groups[0]
        twice = [k for k in before if k in first and k != "hl7_code_map"]
        if twice:
            raise SourceError(f"--{twice[0].replace('_', '-')} was given twice for "
                              f"--source {first['source']}; each --source takes each of its "
                              "settings once")
        for k, v in before.items():
            if k == "hl7_code_map":
                first[k] = list(v) + list(first.get(k, []))   # type: ignore[call-overload]
            else:
                first[k] = v
        before = {}
    return [entry_of(g) for g in groups], before


def entry_of(settings: dict[str, object]) -> SourceEntry:
    """A source entry from one ``--source``'s settings (``source`` and :data:`PER_SOURCE`)."""
    values = {k: settings[k] for k in PER_SOURCE if k in settings}
    values["hl7_code_map"] = tuple(values.get("hl7_code_map") or ())  # type: ignore[arg-type]
    return SourceEntry(source=str(settings.get("source", DEFAULT_SOURCE)), **values)  # type: ignore[arg-type]


def _entry_from_choice(choice: object, fallback: SourceEntry) -> SourceEntry:
    """What the source dialog chose (a ``SourceChoice`` or an entry) as an entry.

    A setting the dialog leaves open keeps what the command line gave.
    """
    if isinstance(choice, SourceEntry):
        return choice
    from monitor.devices.registry import SerialOverrides

    ov = getattr(choice, "overrides", None) or SerialOverrides(
        fallback.baud, fallback.parity, fallback.stopbits, fallback.flow)
    return dataclasses.replace(
        fallback, source=choice.source,  # type: ignore[attr-defined]
        protocol=getattr(choice, "protocol", None),
        name=getattr(choice, "name", "") or fallback.name,
        baud=ov.baudrate, parity=ov.parity, stopbits=ov.stopbits, flow=ov.flow,
        bed=getattr(choice, "bed", None) or fallback.bed,
        hl7_allow=getattr(choice, "allow", None) or fallback.hl7_allow)


def _session_sources(parser: argparse.ArgumentParser, args: argparse.Namespace,
                     chosen: object, headless: bool
                     ) -> tuple[list[Driver], Priority] | int:
    """The drivers of the session and the chair's priority, or an exit code.

    Where the sources come from: the source dialog (``--choose-source``), the
    ``--source`` options, else the chair configuration (``--chair-config`` or
    ``chair.toml`` in the data folder), else the default simulated source.
    One source given on the command line starts as it always did (a missing
    port is retried, its messages unchanged); several sources, or a chair
    configuration, are first checked against each other and this computer.
    """
    from monitor.acquisition.chair import (
        ChairConfig,
        ChairConfigError,
        default_chair_path,
        load_chair_config,
    )

    try:
        entries, before = source_entries(args)
    except SourceError as exc:
        parser.error(str(exc))
    priority: Priority = {}
    from_file: Path | None = None
    file_problems: list[str] = []
    if chosen is not None:
        if isinstance(chosen, ChairConfig):
            entries, priority = list(chosen.sources), dict(chosen.priority)
        else:
            picks = list(chosen) if isinstance(chosen, (list, tuple)) else [chosen]
            fallback = entries[0] if entries else entry_of(before)
            entries = [_entry_from_choice(c, fallback if len(picks) == 1 else SourceEntry(""))
                       for c in picks]
    elif not entries:
        path = args.chair_config
        if path is None:
            from monitor.storage.database import default_data_dir

            default = default_chair_path(args.data_dir if args.data_dir is not None
                                         else default_data_dir())
            path = default if default.is_file() else None
        if path is None:
            entries = [entry_of(before)]
        else:
            if before:
                given = ", ".join("--" + k.replace("_", "-") for k in before)
                parser.error(f"{given} belongs to a --source, but no --source was given and "
                             f"the sources come from the chair configuration {path}; give "
                             "--source, or leave it out")
            try:
                config, problems = load_chair_config(path)
            except ChairConfigError as exc:
                print(f"infusion-monitor: {exc}", file=sys.stderr)
                return 2
            if not config.sources and not problems:
                print(f"infusion-monitor: the chair configuration {path} names no source; "
                      "add a [[source]] table, or give --source", file=sys.stderr)
                return 2
            entries, priority, from_file = list(config.sources), dict(config.priority), path
            file_problems = problems
    elif args.chair_config is not None:
        parser.error("give either --source or --chair-config, not both")
    return _build(parser, args, entries, priority, headless, chosen, file_problems, from_file)


def _build(parser: argparse.ArgumentParser, args: argparse.Namespace,
           entries: list[SourceEntry], priority: Priority, headless: bool, chosen: object,
           problems: list[str], from_file: Path | None
           ) -> tuple[list[Driver], Priority] | int:
    """Check and build the sources; refuse on a problem unless ``--start-valid-sources``."""
    from monitor.acquisition.chair import check_entries
    from monitor.devices.protocols import ProtocolError
    from simulators.scenario import ScenarioError

    if not headless and chosen is None:
        # The window's demo goes through a real protocol, as ARCHITECTURE.md asks:
        # a Datex monitor (it sends blood pressure, SpO2, CO2 and pleth).
        entries = [dataclasses.replace(e, protocol=GUI_SIM_PROTOCOL)
                   if e.source.startswith("sim:") and e.protocol is None else e
                   for e in entries]
    for e in entries:
        scheme = e.source.partition(":")[0]
        if scheme in ("serial", "lan", "hl7") and args.speed != 1.0:
            parser.error("--speed applies to simulated and replayed sources only")
    single = len(entries) == 1 and from_file is None and not problems
    total = len(entries) + len(problems)
    try:
        if single:
            drivers = make_drivers(entries, seed=args.seed, duration_s=args_duration(args),
                                   data_dir=args.data_dir)
        else:
            valid, found = check_entries(entries)
            problems = problems + found
            drivers = make_drivers(valid, seed=args.seed, duration_s=args_duration(args),
                                   data_dir=args.data_dir, problems=problems)
    except (SourceError, ScenarioError, ProtocolError) as exc:
        print(f"infusion-monitor: {exc}", file=sys.stderr)
        return 2
    if problems:
        where = f" in the chair configuration {from_file}" if from_file else ""
        for p in problems:
            print(f"infusion-monitor: {p}", file=sys.stderr)
        if not drivers:
            print(f"infusion-monitor: not started: none of the {total} sources{where} can "
                  "be used", file=sys.stderr)
            return 2
        if not args.start_valid_sources:
            print(f"infusion-monitor: not started: {len(problems)} problem(s) with the "
                  f"sources{where}; fix them, or give --start-valid-sources to start with "
                  f"the valid ones ({', '.join(d.name for d in drivers)})", file=sys.stderr)
            return 2
        left_out = [p.partition(": ")[0] for p in problems if p.startswith("source ")]
        print(f"infusion-monitor: starting with {', '.join(d.name for d in drivers)} only"
              + (f"; left out: {', '.join(left_out)}" if left_out else ""), file=sys.stderr)
    names = {d.name for d in drivers}
    kept = {v: tuple(n for n in order if n in names) for v, order in priority.items()}
    return drivers, {v: order for v, order in kept.items() if order}


def args_duration(args: argparse.Namespace) -> float | None:
    return getattr(args, "duration", None)


def _ports(args: argparse.Namespace) -> int:
    from monitor.devices.serial_driver import list_ports

    ports = list_ports()
    if args.json:
        print(json.dumps(ports, indent=1))
    elif not ports:
        print("no serial ports found (is the USB-serial adapter plugged in?)")
    for p in ports if not args.json else []:
        vidpid = f"  [{p['vid_pid']}]" if p["vid_pid"] else ""
        print(f"{p['device']:<22} {p['description']}{vidpid}")
    return 0


def _sessions(args: argparse.Namespace) -> int:
    from monitor.storage import database

    data_dir = args.data_dir if args.data_dir is not None else database.default_data_dir()
    db = data_dir / database.DB_NAME
    if not db.is_file():   # listing only reads: it never creates a folder or a database
        print("[]" if args.json else f"no sessions recorded in {data_dir}")
        return 0
    try:
        database.check_database(db)
        rows = database.list_sessions(db)
    except (database.StorageError, sqlite3.Error) as exc:
        print(f"infusion-monitor: cannot read the sessions in {db}: {exc}", file=sys.stderr)
        return 2
    live = {r.id for r in rows if r.status.value == "open"} - \
        {r.id for r in database.find_unfinished(db)}
    if args.json:
        print(json.dumps([dict(r.to_json(), live=r.id in live) for r in rows], indent=1))
        return 0
    if not rows:
        print(f"no sessions recorded in {db.parent}")
        return 0
    print(f"{'id':>5}  {'start':19}  {'end':19}  {'status':11}  {'readings':>8}  source")
    for r in rows:
        status = "recording" if r.id in live else r.status.value
        print(f"{r.id:>5}  {_fmt(r.started_at)}  {_fmt(r.ended_at)}  {status:11}  "
              f"{r.reading_count:>8}  {r.source}")
    return 0


def _export(args: argparse.Namespace) -> int:
    """``infusion-monitor export``: load the session once, write it, say what was written."""
    from monitor.export import ExportError, load_export_record, pseudonym_key, write_export
    from monitor.review.record import RecordError
    from monitor.storage import database

    data_dir = args.data_dir if args.data_dir is not None else database.default_data_dir()
    try:
        # Whose each value is, so a session of several devices names them in every format.
        record = load_export_record(data_dir / database.DB_NAME, args.session)
        key = pseudonym_key(data_dir) if args.deidentify else None
        if args.format == "pdf":
            paths = [_export_pdf(record, args.output, args.deidentify, key, args.page_size)]
        else:
            paths = write_export(record, args.format, args.output,
                                 deidentify=args.deidentify, key=key)
    except (RecordError, ExportError) as exc:
        print(f"infusion-monitor: {exc}", file=sys.stderr)
        return 2
    names = ", ".join(str(p) for p in paths)
    print(f"session {args.session} exported as {args.format} to {names}")
    if args.mllp is not None:
        return _send_mllp(record, args, data_dir, key)
    return 0


def _review(args: argparse.Namespace) -> int:
    """``infusion-monitor review``: say what is wrong before any window opens, then open it."""
    from monitor.storage import database

    data_dir = args.data_dir if args.data_dir is not None else database.default_data_dir()
    db = data_dir / database.DB_NAME
    if not db.is_file():
        print(f"infusion-monitor: no recordings in {data_dir} (no {database.DB_NAME}); "
              "record a session first or give --data-dir", file=sys.stderr)
        return 2
    if args.session is not None:
        from monitor.review.record import RecordError, check_session

        try:
            check_session(db, args.session)
        except RecordError as exc:
            print(f"infusion-monitor: {exc}", file=sys.stderr)
            return 2
    from monitor.ui.review.app import run_review  # Qt only for the window

    return run_review(data_dir, args.session)


def _export_pdf(record, path: Path, deidentify: bool, key: bytes | None,
                page_size: str = "A4") -> Path:
    """The PDF report, drawn by Qt (offscreen when there is no display)."""
    import os

    from monitor.export.common import check_target

    check_target(path)
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY")
                                                 or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from monitor.ui.report.pdf import write_pdf

    write_pdf(record, path, deidentify=deidentify, key=key, page_size=page_size)
    return path


def _send_mllp(record, args: argparse.Namespace, data_dir: Path, key: bytes | None) -> int:
    """Send the HL7 messages too; what is not acknowledged waits in the outbox."""
    from monitor.export import ExportError
    from monitor.export.mllp import flush_outbox, pending, send_session

    host, port = args.mllp
    outbox = data_dir / "hl7-outbox"
    try:
        if pending(outbox):   # earlier sessions' messages go first, in their order
            earlier = flush_outbox(outbox, host, port)
            print(f"messages waiting from earlier sends: {earlier}")
            if not earlier.complete:
                print(f"infusion-monitor: {host}:{port} did not take the messages already "
                      f"waiting in {outbox}; session {args.session} waits too",
                      file=sys.stderr)
                return 4
        delivery = send_session(record, host, port, outbox_dir=outbox,
                                deidentify=args.deidentify, key=key)
    except (ExportError, ValueError) as exc:
        print(f"infusion-monitor: cannot send to {host}:{port}: {exc}", file=sys.stderr)
        return 2
    if not delivery.complete:
        print(f"infusion-monitor: not every HL7 message reached {host}:{port}: {delivery}; "
              "the rest wait in the outbox", file=sys.stderr)
        return 4
    print(f"session {args.session} sent to {host}:{port} over MLLP ({delivery})")
    return 0


def _fmt(t: float | None) -> str:
    return "-".ljust(19) if t is None else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t))


if __name__ == "__main__":
    sys.exit(main())
