"""Source names on the command line -> drivers.

``sim:SCENARIO`` (a scenario name or a path to a scenario TOML file) is the
built-in simulator. ``serial:`` and ``replay:`` arrive with device support.
"""

from __future__ import annotations

from dataclasses import dataclass

from monitor.devices.base import Driver, SourceError

SCHEMES = ("sim",)
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


def make_driver(spec: SourceSpec, *, seed: int = 0, duration_s: float | None = None) -> Driver:
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

        return SimulatedDriver(load_scenario(spec.target), seed, duration_s, label=str(spec))
    raise SourceError(f"unknown source scheme {spec.scheme!r}")
