"""The whole-session trend plots: which plots, their vitals and ranges, limit and marker texts.

Shared by the live trends (:class:`~monitor.ui.live.trends.TrendsWidget`) and
the review plots; no Qt here.
"""

from __future__ import annotations

from dataclasses import dataclass

from monitor.core.alarms.model import Priority
from monitor.core.vitals import Vital

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
    PlotSpec("spo2", "SpO2", (Vital.SPO2,), (85.0, 100.0)),
    PlotSpec("resp", "RR / EtCO2", (Vital.RESP_RATE, Vital.ETCO2), (0.0, 50.0), optional=True),
)
