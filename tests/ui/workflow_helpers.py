"""Message builders for the workflow tests: a session's shape on the simulated clock."""

from __future__ import annotations

from monitor.core.events import PhaseChanged
from monitor.core.reading import Quality, Reading, make_reading
from monitor.core.session import Phase
from monitor.core.vitals import Vital
from monitor.core.workflow.messages import InfusionAction, InfusionChanged
from tests.ui.helpers import T0, nibp

INFUSION_AT = T0 + 600.0
"""The infusion starts 10 min into the session."""


def baseline_readings(sys: float = 120, dia: float = 80, *, hr: float = 70, spo2: float = 98,
                      end: float = INFUSION_AT - 5) -> list[Reading]:
    """A complete baseline: NIBP at 1 and 6 min, HR and SpO2 every 10 s up to ``end``."""
    out: list[Reading] = []
    out += nibp(sys, dia, round(dia + (sys - dia) / 3), T0 + 60)
    out += nibp(sys, dia, round(dia + (sys - dia) / 3), T0 + 360)
    t = T0
    while t <= end:
        out.append(make_reading(Vital.HR, hr, t))
        out.append(make_reading(Vital.SPO2, spo2, t))
        t += 10.0
    return out


def vitals_at(t: float, *, hr: float = 70, spo2: float = 98) -> list[Reading]:
    return [make_reading(Vital.HR, hr, t), make_reading(Vital.SPO2, spo2, t)]


def manual(vital: Vital, value: float, t: float) -> Reading:
    return make_reading(vital, value, t, Quality.MANUAL)


def started(t: float = INFUSION_AT, by: str = "RN") -> list[object]:
    """What the hub publishes when the nurse starts the infusion."""
    return [InfusionChanged(InfusionAction.START, t, by), PhaseChanged(Phase.INFUSION, t)]


def stopped(t: float, by: str = "RN") -> list[object]:
    return [InfusionChanged(InfusionAction.STOP, t, by), PhaseChanged(Phase.RECOVERY, t)]
