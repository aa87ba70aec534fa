"""Command line of ``infusion-monitor``: the GUI, ``run --headless`` and ``sessions``.

Exit codes: 0 success; 2 bad usage or an unusable data folder (the message
says what was wrong and what is allowed); 3 a headless run completed but
recording failed part-way.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from monitor import __version__
from monitor.core.clock import parse_speed
from monitor.core.freshness import DEFAULT_STALE_AFTER_S
from monitor.devices.base import SourceError
from monitor.devices.registry import DEFAULT_SOURCE, make_driver, parse_source

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
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, not {text!r}")
    return value


def _add_source_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--source", default=DEFAULT_SOURCE,
                   help=f"where data comes from: sim:SCENARIO (default {DEFAULT_SOURCE}; "
                        "see 'infusion-sim list') or serial:PORT with --protocol")
    p.add_argument("--protocol", default=None,
                   help="masimo-ascii, datex-s5, nonin-2 or text: required for serial "
                        "sources; for sim: sources, play the scenario through that protocol's "
                        f"encoder and codec (the window does so with {GUI_SIM_PROTOCOL!r} "
                        "by default)")
    p.add_argument("--baud", type=int, default=None,
                   help="serial: override the protocol's baud rate")
    p.add_argument("--parity", choices=("N", "E", "O"), default=None,
                   help="serial: override the parity")
    p.add_argument("--stopbits", type=float, choices=(1, 1.5, 2), default=None,
                   help="serial: override the stop bits")
    p.add_argument("--flow", choices=("none", "rtscts", "xonxoff"), default=None,
                   help="serial: override the flow control")
    p.add_argument("--speed", type=_speed, default=1.0,
                   help="simulated sources only: session seconds per real second, or 'max'")
    p.add_argument("--seed", type=int, default=0, help="simulator random seed (default 0)")
    p.add_argument("--data-dir", type=Path, default=None,
                   help="folder holding the recordings (default: the user data folder)")
    p.add_argument("--stale-after", type=_positive, default=DEFAULT_STALE_AFTER_S,
                   help="seconds without a new value before a number shows --- (default 10)")
    p.add_argument("--alarm-profile", type=Path, default=None, metavar="FILE",
                   help="alarm profile (TOML) to use instead of the shipped "
                        "'Ketamine infusion, adult' profile")
    p.add_argument("--choose-source", action="store_true",
                   help="window only: pick the port, protocol or scenario in a dialog")
    p.add_argument("--no-setup", action="store_true",
                   help="window only: start a new session without the 'New session' "
                        "dialog (demos, benches; no patient, dose or plan is recorded)")
    p.add_argument("-v", "--verbose", action="count", default=0,
                   help="more logging on stderr (-v info, -vv debug)")


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
    return parser


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
    from monitor.core.alarms.profile import ProfileError
    from monitor.core.alarms.profile_file import load_default_profile, load_profile
    from monitor.devices.protocols import ProtocolError
    from monitor.devices.registry import SerialOverrides
    from simulators.scenario import ScenarioError

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
        from monitor.app import pick_source

        chosen = pick_source()
        if chosen is None:
            return 0  # the nurse cancelled
        args.source, args.protocol = chosen.source, chosen.protocol
    try:
        spec = parse_source(args.source)
        if spec.scheme == "serial" and args.speed != 1.0:
            parser.error("--speed applies to simulated and replayed sources only")
        protocol = args.protocol
        if spec.scheme == "sim" and protocol is None and not headless and chosen is None:
            # The window's demo goes through a real protocol, as ARCHITECTURE.md asks:
            # a Datex monitor (it sends blood pressure, SpO2, CO2 and pleth).
            protocol = GUI_SIM_PROTOCOL
        overrides = chosen.overrides if chosen is not None and chosen.overrides else \
            SerialOverrides(args.baud, args.parity, args.stopbits, args.flow)
        driver = make_driver(spec, seed=args.seed, duration_s=duration,
                             protocol=protocol, overrides=overrides,
                             data_dir=args.data_dir)
    except (SourceError, ScenarioError, ProtocolError) as exc:
        print(f"infusion-monitor: {exc}", file=sys.stderr)
        return 2
    if headless:
        from monitor.acquisition.headless import HeadlessOptions, run_headless

        return run_headless(HeadlessOptions(driver, args.data_dir, args.speed, duration,
                                            args.readings, args.stale_after, profile))
    from monitor.app import GuiOptions, run_gui  # Qt is imported only for the window

    return run_gui(GuiOptions(driver, args.data_dir, args.speed, args.stale_after, profile,
                              setup=not args.no_setup))


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

    try:
        db = database.open_database(args.data_dir)
    except database.StorageError as exc:
        print(f"infusion-monitor: {exc}", file=sys.stderr)
        return 2
    rows = database.list_sessions(db)
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


def _fmt(t: float | None) -> str:
    return "-".ljust(19) if t is None else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t))


if __name__ == "__main__":
    sys.exit(main())
