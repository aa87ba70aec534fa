"""The whole-session trend plots: which plots, their vitals and ranges, limit and marker texts.

Shared by the live trends (:class:`~monitor.ui.live.trends.TrendsWidget`) and
the review plots; no Qt here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from monitor.core.alarms.model import LimitLines, Priority
from monitor.core.vitals import SPECS, Vital

MARKER_COLOUR = "#c9d1d9"
"""Event markers: a light dotted line on every plot, labelled on the top one."""
MARKER_LABEL_MAX = 12
MARKER_LEVELS = 3


def marker_text(label: str) -> str:
    """The short text of an event marker (``"Antiemetic given"`` -> ``"Antiemetic"``)."""
    return label if len(label) <= MARKER_LABEL_MAX else label.split()[0][:MARKER_LABEL_MAX]


LIMIT_FIELDS: tuple[tuple[str, Priority], ...] = (
    ("low_medium", Priority.MEDIUM), ("low_high", Priority.HIGH),
    ("high_medium", Priority.MEDIUM), ("high_high", Priority.HIGH))
"""The :class:`LimitLines` fields and the priority whose colour draws each."""


@dataclass(frozen=True)
class PlotSpec:
    """One stacked trend plot: its title, vitals and default y range."""

    key: str
    title: str
    vitals: tuple[Vital, ...]
    y_range: tuple[float, float]
    points: bool = False
    optional: bool = False


PLOT_SPECS: tuple[PlotSpec, ...] = (
    PlotSpec("nibp", "NIBP", (Vital.NIBP_SYS, Vital.NIBP_DIA, Vital.NIBP_MEAN),
             (40.0, 180.0), points=True),
    PlotSpec("hr", "HR / PR", (Vital.HR, Vital.PULSE_RATE), (40.0, 140.0)),
    PlotSpec("spo2", "SpO2", (Vital.SPO2,), (80.0, 100.0)),
    PlotSpec("resp", "RR / EtCO2", (Vital.RESP_RATE, Vital.ETCO2), (0.0, 50.0), optional=True),
)


@dataclass(frozen=True)
class ShownLimit:
    """One limit line drawn on a trend: its value, the priority colouring it, its label."""

    vital: Vital
    value: float
    priority: Priority
    text: str


def shown_limits(spec: PlotSpec, limits: Mapping[Vital, LimitLines],
                 alarming: Mapping[Vital, Priority]) -> tuple[ShownLimit, ...]:
    """The at most two limit lines a trend plot shows (the limits themselves are on the tiles).

    One vital's limits per plot: the plot's vital in alarm (the most urgent;
    of equals, the one first in ``alarming``, the alarm bar's order), else its
    first vital with limits. A vital with limits on both sides shows
    its low and high limit at the level in force (the high-priority pair while
    it alarms at high priority, else the medium pair; a side without a limit at
    that level shows the other level's); a one-sided vital (SpO2) shows its two
    levels on that side.
    """
    candidates = [v for v in spec.vitals if limits.get(v) is not None]
    if not candidates:
        return ()
    in_alarm = [v for v in alarming if v in candidates]   # the alarm bar's order
    vital = max(in_alarm, key=lambda v: alarming[v]) if in_alarm else candidates[0]
    lines = limits[vital]
    high = alarming.get(vital) is Priority.HIGH
    sides = [x for x in (lines.on_side("low", high_first=high),
                         lines.on_side("high", high_first=high)) if x is not None]
    if len(sides) == 1:   # one-sided: both levels of that side
        side = "low" if lines.on_side("low") is not None else "high"
        sides = [(v, p) for v, p in ((getattr(lines, f"{side}_medium"), Priority.MEDIUM),
                                      (getattr(lines, f"{side}_high"), Priority.HIGH))
                 if v is not None]
    prefix = f"{short_label(vital)} " if len(spec.vitals) > 1 else ""
    return tuple(ShownLimit(vital, float(v), p, f"{prefix}{v:g}") for v, p in sides)



def short_label(vital: Vital) -> str:
    """A vital's name where its plot or tile already says which (``"sys"`` for NIBP sys)."""
    return SPECS[vital].label.split()[-1]


DEVICE_DOT = "\u00b7\u00b7\u00b7"
"""The legend's mark of a dotted line (another device's series)."""


def device_legend(vitals: Sequence[Vital], shown: Mapping[Vital, str],
                  others: Sequence[tuple[Vital, str]]) -> str:
    """The legend of a trend that draws another device's series dotted ("" when none).

    ``shown``: the device shown for each vital of the plot (its solid line);
    ``others``: each dotted series, ``(vital, device)``. One device for every
    vital of the plot is named alone ("— Masimo (shown)  ··· Datex S/5"); where
    the plot's vitals come from different devices each is named with its vital
    ("— HR Datex S/5 · PR Masimo (shown)  ··· PR Datex S/5"), so a dotted line is
    never taken for the wrong vital. NIBP's sys, dia and mean from one device
    are one name.
    """
    if not others:
        return ""
    plotted = [v for v in vitals if shown.get(v)]
    sources = {shown[v] for v in plotted}
    by_source: dict[str, list[Vital]] = {}
    for vital, source in others:
        by_source.setdefault(source, []).append(vital)
    whole = len(vitals) == 1 or (len(sources) == 1 and all(
        set(vs) >= set(plotted) for vs in by_source.values()))
    if whole:
        solid = [f"\u2014 {next(iter(sources))} (shown)"] if sources else []
        dotted = [f"{DEVICE_DOT} {source}" for source in by_source]
    else:
        solid_by: dict[str, list[Vital]] = {}
        for v in plotted:
            solid_by.setdefault(shown[v], []).append(v)
        solid = ["\u2014 " + " \u00b7 ".join(f"{_names(vs)} {source}"
                                             for source, vs in solid_by.items()) + " (shown)"]
        dotted = [f"{DEVICE_DOT} {_names(vs)} {source}" for source, vs in by_source.items()]
    return "  ".join(solid + dotted)


def _names(vitals: Sequence[Vital]) -> str:
    """``"HR"``, ``"RR/EtCO2"``; NIBP's three are ``"NIBP"``."""
    if set(vitals) <= _NIBP:
        return "NIBP"
    return "/".join(SPECS[v].label for v in vitals)


_NIBP = frozenset({Vital.NIBP_SYS, Vital.NIBP_DIA, Vital.NIBP_MEAN})
