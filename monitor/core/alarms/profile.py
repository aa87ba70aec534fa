"""Alarm profiles: the limits, delays and behaviour the engine applies.

A profile is a list of :class:`Rule` plus a few settings. The checks here
(:func:`check_rule`, :func:`check_pairs`) guard both profile files (see
:mod:`monitor.core.alarms.profile_file`, which refuses a whole file with a
:class:`ProfileError` naming the file, the key and the value) and limit
changes made during a session (:meth:`AlarmProfile.with_change`).
"""

from __future__ import annotations

import enum
import math
import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace

from monitor.core.alarms.levels import LimitLines, Priority
from monitor.core.vitals import SPECS, Kind, Vital

SATSECONDS_CHOICES = (0.0, 10.0, 25.0, 50.0, 100.0)
PAUSE_CHOICES_MIN = (1.0, 2.0, 3.0)
MAX_DELAY_S = 600.0
LINE_MAX_DELAY_S = 60.0


class ProfileError(ValueError):
    """A profile (or a change to one) was refused.

    Attributes
    ----------
    source : str
        The file, or ``"session limits"`` for a change made in the dialog.
    key : str
        The offending key, e.g. ``rule[3].limit``.
    value : object
    """

    def __init__(self, source: str, key: str, value: object, problem: str) -> None:
        super().__init__(f"{source}: {key} = {value!r}: {problem}")
        self.source = source
        self.key = key
        self.value = value
        self.problem = problem


class Op(enum.StrEnum):
    """How a rule compares its quantity with its limit."""

    GT = ">"
    GE = ">="
    LT = "<"
    LE = "<="

    @property
    def upper(self) -> bool:
        """True for ``>``/``>=`` (a high limit)."""
        return self in (Op.GT, Op.GE)

    def holds(self, quantity: float, limit: float) -> bool:
        """Whether ``quantity <op> limit``."""
        return _OPS[self](quantity, limit)


_OPS: dict[Op, Callable[[float, float], bool]] = {
    Op.GT: operator.gt, Op.GE: operator.ge, Op.LT: operator.lt, Op.LE: operator.le}


class Basis(enum.StrEnum):
    """What a rule compares: the value itself or its change from the session's baseline."""

    ABSOLUTE = "absolute"
    RISE = "rise"
    RISE_PCT = "rise_pct"
    FALL = "fall"

    def quantity(self, value: float, baseline: float | None) -> float | None:
        """The compared quantity, or ``None`` when a baseline is needed and unknown."""
        if self is Basis.ABSOLUTE:
            return value
        if baseline is None or not math.isfinite(baseline):
            return None
        if self is Basis.RISE:
            return value - baseline
        if self is Basis.FALL:
            return baseline - value
        return 100.0 * (value - baseline) / baseline if baseline > 0 else None


@dataclass(frozen=True)
class Rule:
    """One limit of one alarm.

    Attributes
    ----------
    rule_id : str
        Unique within the profile, e.g. ``"spo2.low.medium"``.
    alarm : str
        The alarm this rule raises or escalates, e.g. ``"spo2.low"``.
    vital : Vital
    priority : Priority
    op : Op
    limit : float
    basis : Basis
    delay_s : float
        Condition delay (continuous vitals).
    confirm : int
        Qualifying NIBP determinations needed ...
    within_s : float
        ... within this window (inclusive).
    satseconds : float
        SatSeconds setting for an SpO2 low rule; 0 is off.
    """

    rule_id: str
    alarm: str
    vital: Vital
    priority: Priority
    op: Op
    limit: float
    basis: Basis = Basis.ABSOLUTE
    delay_s: float = 0.0
    confirm: int = 1
    within_s: float = 0.0
    satseconds: float = 0.0

    @property
    def discrete(self) -> bool:
        """Judged per determination (NIBP) rather than over time."""
        return SPECS[self.vital].kind is Kind.DISCRETE

    @property
    def apnoea(self) -> bool:
        """A respiration-rate rule that only a rate of 0 meets: no breath (apnoea)."""
        return (self.vital is Vital.RESP_RATE and self.basis is Basis.ABSOLUTE
                and not self.op.upper and (self.limit <= 1 if self.op is Op.LT
                                           else self.limit < 1))

    def describe(self) -> str:
        """The rule in words, for the README table and the dialog."""
        if self.apnoea:
            return "no breath: RR 0 (apnoea)"
        unit = SPECS[self.vital].unit
        what = {Basis.ABSOLUTE: SPECS[self.vital].label,
                Basis.RISE: f"{SPECS[self.vital].label} rise",
                Basis.RISE_PCT: f"{SPECS[self.vital].label} rise",
                Basis.FALL: f"{SPECS[self.vital].label} fall"}[self.basis]
        unit = "%" if self.basis is Basis.RISE_PCT else unit
        text = f"{what} {self.op.value} {self.limit:g} {unit}".rstrip()
        if self.confirm > 1:
            text += f" on {self.confirm} determinations within {self.within_s / 60:g} min"
        return text


@dataclass(frozen=True)
class NibpCycle:
    """The NIBP interval the nurse is expected to keep, per phase (seconds)."""

    baseline_s: float = 300.0
    infusion_early_s: float = 300.0
    infusion_early_for_s: float = 900.0
    infusion_s: float = 600.0
    recovery_s: float = 900.0


@dataclass(frozen=True)
class DischargeCriteria:
    """The discharge-readiness thresholds (the clinic's, kept with its alarm profile).

    Attributes
    ----------
    margin : float
        How far the recovery NIBP and HR may be from baseline, either way (0.20 = 20 %).
    min_recovery_s : float
        Minimum time since the infusion ended.
    min_spo2 : float
        Lowest acceptable current SpO2 (%).
    """

    margin: float = 0.20
    min_recovery_s: float = 1200.0
    min_spo2: float = 94.0


@dataclass(frozen=True)
class AlarmProfile:
    """A complete, validated alarm configuration.

    Attributes
    ----------
    name : str
    rules : tuple of Rule
    pause_s : float
        Default audio pause.
    pause_choices_s : tuple of float
    off_reminder_s : float
    latching : dict of Priority to bool
    min_shown_s : float
    no_data_high_after_s : float
    nibp_overdue_grace_s, nibp_overdue_escalate_s : float
    satseconds_window_s : float
    satseconds_violations : int
    nibp_cycle : NibpCycle
    discharge : DischargeCriteria
        Not alarms, but the same clinic's settings: the readiness indicator's thresholds.
    source : str
        Where it was loaded from.
    """

    name: str
    rules: tuple[Rule, ...]
    pause_s: float = 120.0
    pause_choices_s: tuple[float, ...] = (60.0, 120.0, 180.0)
    off_reminder_s: float = 300.0
    latching: Mapping[Priority, bool] = field(default_factory=lambda: {
        Priority.HIGH: True, Priority.MEDIUM: False, Priority.LOW: False})
    min_shown_s: float = 5.0
    no_data_high_after_s: float = 60.0
    nibp_overdue_grace_s: float = 120.0
    nibp_overdue_escalate_s: float = 300.0
    satseconds_window_s: float = 60.0
    satseconds_violations: int = 3
    nibp_cycle: NibpCycle = NibpCycle()
    discharge: DischargeCriteria = DischargeCriteria()
    source: str = ""

    def rule(self, rule_id: str) -> Rule:
        """The rule called ``rule_id`` (KeyError if none)."""
        for r in self.rules:
            if r.rule_id == rule_id:
                return r
        raise KeyError(rule_id)

    def with_change(self, rule_id: str, setting: str, value: float) -> AlarmProfile:
        """A copy with one rule's ``limit``, ``delay_s`` or ``satseconds`` changed, validated.

        Raises
        ------
        ProfileError
            Unknown rule or setting, or a value the profile checks refuse.
        """
        source = "session limits"
        try:
            old = self.rule(rule_id)
        except KeyError:
            raise ProfileError(source, "rule", rule_id, "no such rule") from None
        if setting not in ("limit", "delay_s", "satseconds"):
            raise ProfileError(source, f"{rule_id}.{setting}", value,
                               "only limit, delay_s and satseconds can be changed")
        if not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ProfileError(source, f"{rule_id}.{setting}", value, "must be a number")
        new = replace(old, **{setting: float(value)})
        check_rule(new, source, f"{rule_id}.{setting}")
        rules = tuple(new if r.rule_id == rule_id else r for r in self.rules)
        check_pairs(rules, source)
        return replace(self, rules=rules)

    def limit_lines(self) -> dict[Vital, LimitLines]:
        """Absolute limits per vital for drawing on the trends (the tightest per priority).

        Rules with a long condition delay ("sustained for 5 min") are not lines:
        a reading above them alone does not alarm; nor is an apnoea rule (RR 0).
        """
        out: dict[Vital, LimitLines] = {}
        for vital in {r.vital for r in self.rules}:
            absolute = [r for r in self.rules if r.vital is vital and r.basis is Basis.ABSOLUTE
                        and r.delay_s <= LINE_MAX_DELAY_S and not r.apnoea]

            def pick(upper: bool, prio: Priority, rs: list[Rule] = absolute) -> float | None:
                lims = [r.limit for r in rs if r.op.upper == upper and r.priority is prio]
                if not lims:
                    return None
                return min(lims) if upper else max(lims)

            out[vital] = LimitLines(low_medium=pick(False, Priority.MEDIUM),
                                    low_high=pick(False, Priority.HIGH),
                                    high_medium=pick(True, Priority.MEDIUM),
                                    high_high=pick(True, Priority.HIGH))
        return out


# -- checks shared by files and in-session changes --------------------------

def check_rule(r: Rule, source: str, key: str) -> None:
    """Value checks that apply both to files and to changes made in a session."""
    spec = SPECS[r.vital]
    if r.basis is Basis.ABSOLUTE:
        lo, hi = spec.plausible
        if not lo < r.limit < hi:
            raise ProfileError(source, f"{key}.limit" if "." not in key else key, r.limit,
                               f"outside the physiological range of {spec.label} "
                               f"({lo:g}-{hi:g} {spec.unit})")
    elif not 0 < r.limit <= (300 if r.basis is Basis.RISE_PCT else spec.plausible[1]):
        raise ProfileError(source, f"{key}.limit" if "." not in key else key, r.limit,
                           "a change from baseline must be positive and plausible")
    if r.basis is not Basis.ABSOLUTE and r.op not in (Op.GT, Op.GE):
        raise ProfileError(source, f"{key}.when", r.op.value,
                           "a rise or fall rule fires when the change is '>' or '>=' the limit")
    if not 0 <= r.delay_s <= MAX_DELAY_S:
        raise ProfileError(source, f"{key}.delay_s" if "." not in key else key, r.delay_s,
                           f"a delay must be from 0 to {MAX_DELAY_S:g} s")
    if r.discrete and r.delay_s:
        raise ProfileError(source, f"{key}.delay_s", r.delay_s,
                           "NIBP is judged on each determination; use confirm/within_s")
    if r.confirm > 1 and not (r.discrete and 0 < r.within_s <= 3600):
        raise ProfileError(source, f"{key}.within_s", r.within_s,
                           "confirm > 1 needs an NIBP vital and within_s from 1 to 3600 s")
    if r.satseconds not in SATSECONDS_CHOICES:
        raise ProfileError(source, f"{key}.satseconds", r.satseconds,
                           "allowed: 0 (off), 10, 25, 50, 100")
    if r.satseconds and not (r.vital is Vital.SPO2 and r.basis is Basis.ABSOLUTE
                             and not r.op.upper):
        raise ProfileError(source, f"{key}.satseconds", r.satseconds,
                           "SatSeconds applies only to an SpO2 low limit")


def check_pairs(rules: Iterable[Rule], source: str) -> None:
    """Low limits below high limits; an urgent limit no milder than a less urgent one."""
    absolute = [r for r in rules if r.basis is Basis.ABSOLUTE]
    for lo_rule in absolute:
        if lo_rule.op.upper:
            continue
        for hi_rule in absolute:
            if hi_rule.vital is lo_rule.vital and hi_rule.op.upper and \
                    lo_rule.limit >= hi_rule.limit:
                raise ProfileError(
                    source, f"{lo_rule.rule_id}.limit", lo_rule.limit,
                    f"inverted limits: low limit {lo_rule.limit:g} is not below the high "
                    f"limit {hi_rule.limit:g} of {hi_rule.rule_id}")
    for a in absolute:
        for b in absolute:
            if (a.alarm == b.alarm and a.op.upper == b.op.upper
                    and a.priority > b.priority
                    and (a.limit < b.limit if a.op.upper else a.limit > b.limit)):
                raise ProfileError(
                    source, f"{a.rule_id}.limit", a.limit,
                    f"a {a.priority.label}-priority limit must lie beyond the "
                    f"{b.priority.label}-priority limit {b.limit:g} of {b.rule_id}")
