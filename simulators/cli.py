"""``infusion-sim``: the simulator's command line.

::

    infusion-sim list        one line per scenario: name, then description
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

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
    return parser


def _list() -> int:
    scenarios = list_scenarios()
    width = max((len(name) for name, _ in scenarios), default=0) + 2
    for name, description in scenarios:
        print(f"{name:<{width}}{description}".rstrip())
    return 0


_COMMANDS = {"list": _list}


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
        return _COMMANDS[args.command]()
    except ScenarioError as exc:
        print(f"infusion-sim: error: {exc}", file=sys.stderr)
        return 2
