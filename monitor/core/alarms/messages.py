"""What an alarm says, and which vitals a technical condition invalidates.

Pure functions used by :mod:`monitor.core.alarms.engine`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from monitor.core.alarms.profile import Basis, Rule
from monitor.core.alarms.rules import RuleState
from monitor.core.baseline import BaselineTracker
from monitor.core.events import Condition, Technical
from monitor.core.vitals import SPECS, Vital

if TYPE_CHECKING:
    from monitor.core.alarms.board import ShownAlarm

_SYMBOL = {">": ">", ">=": "≥", "<": "<", "<=": "≤"}


def rule_feeds(vital: Vital) -> tuple[Vital, ...]:
    return (Vital.HR, Vital.PULSE_RATE) if vital is Vital.HR else (vital,)


def invalidated_by(tech: Technical) -> frozenset[Vital]:
    """The vitals whose values a technical condition makes meaningless."""
    if tech.condition in (Condition.NO_DATA, Condition.PORT_LOST, Condition.SOURCE_ERROR,
                          Condition.UNDECODABLE):
        return frozenset(Vital)
    if tech.condition is Condition.SENSOR_PROBLEM:
        return frozenset({Vital.SPO2, Vital.PULSE_RATE})
    if tech.condition is Condition.STALE and tech.vital is not None:
        return frozenset({tech.vital})
    return frozenset()


def extremity(rule: Rule) -> float:
    return rule.limit if rule.op.upper else -rule.limit


def value_text(vital: Vital, value: float | None) -> str:
    """``value`` with the vital's decimals ("?" when there is none)."""
    if value is None:
        return "?"
    return f"{value:.{SPECS[vital].decimals}f}"


def alarm_message(state: RuleState, vital: Vital, baseline: BaselineTracker) -> str:
    """What the nurse reads: ``"SpO2 87 < 92"``, or the change from baseline."""
    rule = state.rule
    label = SPECS[vital].label
    value = value_text(vital, state.value)
    sym = _SYMBOL[rule.op.value]
    if rule.apnoea:
        return f"APNOEA: {label} {value} for {rule.delay_s:g} s"
    if rule.basis is Basis.ABSOLUTE:
        text = f"{label} {value} {sym} {rule.limit:g}"
        if rule.confirm > 1:
            text += f" ({rule.confirm} readings in {rule.within_s / 60:g} min)"
        elif rule.delay_s >= 60:
            text += f" for {rule.delay_s / 60:g} min"
        elif rule.satseconds:
            text += f" (SatSeconds {rule.satseconds:g})"
        return text
    base = baseline.value(vital)
    q = state.quantity if state.quantity is not None else 0.0
    if rule.basis is Basis.RISE_PCT:
        return (f"{label} {value}: +{q:.0f}% over baseline {value_text(vital, base)} "
                f"({sym} {rule.limit:g}%)")
    if rule.basis is Basis.FALL:
        return f"{label} {value}: -{q:g} from baseline {value_text(vital, base)} ({sym} {rule.limit:g})"
    return f"{label} {value}: +{q:g} over baseline {value_text(vital, base)} ({sym} {rule.limit:g})"


def cleared_message(shown: ShownAlarm, vital: Vital | None, value: float | None,
                    cause: str) -> str:
    """What a cleared physiological alarm's log line says: what cleared it, and the worst.

    ``"Cleared by NIBP dia 88 (worst NIBP dia 121)"`` when a reading cleared
    it, ``"Cleared: the session ended (worst SpO2 84)"`` otherwise. The
    transition's time says when.
    """
    what = (f"Cleared by {SPECS[vital].label} {value_text(vital, value)}"
            if vital is not None and value is not None else f"Cleared: {cause}")
    if shown.vital is not None and shown.worst is not None:
        what += f" (worst {SPECS[shown.vital].label} {value_text(shown.vital, shown.worst)})"
    return what
