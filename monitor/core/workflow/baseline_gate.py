"""The start gate: may the infusion start on the baseline collected so far?

The protocol asks for two NIBP determinations about 5 min apart plus HR and
SpO2 (reference §3.6). The last two determinations must be at least
:data:`MIN_NIBP_SPACING_S` (4 min) apart: a 5-min cuff cycle drifts by tens
of seconds, and a nurse starting the cuff by hand rarely waits exactly 5 min.
A baseline above 140/90 needs a clinician override with a reason; at or above
180/110 the override must also name the clinician (reference §3.1, §3.3).
The shown baseline is the mean of the last two determinations and the
:class:`BaselineTracker` medians of HR (or pulse rate) and SpO2.
"""

from __future__ import annotations

import enum
import math
from collections import deque
from dataclasses import dataclass

from monitor.core.baseline import BaselineTracker
from monitor.core.reading import Reading
from monitor.core.vitals import Vital
from monitor.core.workflow.values import BaselineValues, NibpDetermination

MIN_DETERMINATIONS = 2
MIN_NIBP_SPACING_S = 240.0
RECENT_S = 300.0
"""HR (or pulse rate) and SpO2 must have a valid reading this recent."""
OVERRIDE_ABOVE = (140.0, 90.0)
"""A baseline sys above 140 or dia above 90 needs an override with a reason."""
BLOCK_AT = (180.0, 110.0)
"""A baseline sys at or above 180 or dia at or above 110 needs the clinician named too."""
SAME_DETERMINATION_S = 1e-3
"""NIBP readings whose times differ by less than this belong to one determination."""


class GateStatus(enum.StrEnum):
    """The gate's judgement of the baseline."""

    READY = "ready"
    NOT_ENOUGH_DATA = "not_enough_data"
    OVERRIDE_NEEDED = "override_needed"
    BLOCKED = "blocked"


@dataclass(frozen=True)
class Override:
    """A clinician's decision to start despite the baseline BP (who, why, when), to log.

    The start command carries it: ``ChangeInfusion(START, by, reason)`` at ``t``.
    """

    clinician: str
    reason: str
    t: float


@dataclass(frozen=True)
class GateResult:
    """The gate's answer at one moment.

    ``status`` judges the baseline itself (an accepted override leaves it);
    ``missing`` lists what NOT_ENOUGH_DATA still needs; ``message`` is one
    sentence for the nurse; ``may_start`` is READY, or an accepted
    ``override`` (to be logged); ``override_problem`` says why a given
    override was not accepted.
    """

    status: GateStatus
    baseline: BaselineValues
    missing: tuple[str, ...] = ()
    message: str = ""
    may_start: bool = False
    override: Override | None = None
    override_problem: str = ""


class BaselineGate:
    """Collects baseline-phase readings and judges whether the infusion may start.

    Parameters
    ----------
    tracker : BaselineTracker, optional
        Share the alarm engine's tracker so the gate shows the baseline the
        engine will freeze. A shared tracker is fed by its owner; without one
        the gate makes and feeds its own.
    """

    def __init__(self, tracker: BaselineTracker | None = None) -> None:
        self._owns_tracker = tracker is None
        self.tracker = tracker if tracker is not None else BaselineTracker()
        self._partial: deque[tuple[float, dict[Vital, float]]] = deque(maxlen=4)
        self._dets: deque[NibpDetermination] = deque(maxlen=MIN_DETERMINATIONS)
        self._last_valid: dict[Vital, float] = {}

    def add(self, reading: Reading) -> None:
        """Take one reading from the baseline phase (invalid readings are ignored)."""
        if self._owns_tracker:
            self.tracker.add(reading)
        if not reading.valid:
            return
        v, t = reading.vital, reading.t
        self._last_valid[v] = max(t, self._last_valid.get(v, -math.inf))
        if v in (Vital.NIBP_SYS, Vital.NIBP_DIA, Vital.NIBP_MEAN):
            self._add_nibp(v, t, reading.value)

    def _add_nibp(self, vital: Vital, t: float, value: float) -> None:
        t0, part = next(((pt, p) for pt, p in self._partial
                         if abs(pt - t) <= SAME_DETERMINATION_S), (t, {}))
        if not part:
            self._partial.append((t0, part))
        part[vital] = value
        if Vital.NIBP_SYS in part and Vital.NIBP_DIA in part:
            det = NibpDetermination(t0, part[Vital.NIBP_SYS], part[Vital.NIBP_DIA],
                                    part.get(Vital.NIBP_MEAN))
            if self._dets and self._dets[-1].t == t0:
                self._dets[-1] = det   # the mean arrived after sys and dia
            elif not self._dets or t0 > self._dets[-1].t:
                self._dets.append(det)

    @property
    def determinations(self) -> tuple[NibpDetermination, ...]:
        """The last two complete determinations (sys and dia both valid), oldest first."""
        return tuple(self._dets)

    def baseline(self) -> BaselineValues:
        """The baseline as it stands: NIBP mean of the last two, HR/SpO2 medians."""
        dets = self._dets
        hr = self.tracker.value(Vital.HR)
        return BaselineValues(
            sys=sum(d.sys for d in dets) / len(dets) if dets else None,
            dia=sum(d.dia for d in dets) / len(dets) if dets else None,
            hr=hr if hr is not None else self.tracker.value(Vital.PULSE_RATE),
            spo2=self.tracker.value(Vital.SPO2),
            hr_is_pulse=hr is None and self.tracker.value(Vital.PULSE_RATE) is not None)

    def missing(self, now: float) -> tuple[str, ...]:
        """What the gate still needs at ``now`` (empty when the data suffice)."""
        out: list[str] = []
        dets = self._dets
        if len(dets) < MIN_DETERMINATIONS:
            out.append(f"NIBP: {len(dets)} of {MIN_DETERMINATIONS} determinations")
        elif (gap := dets[-1].t - dets[-2].t) < MIN_NIBP_SPACING_S:
            out.append(f"NIBP: the last two determinations are {_min_s(gap)} apart; "
                       f"take another at least {MIN_NIBP_SPACING_S / 60:g} min after the last")
        if not self._recent((Vital.HR, Vital.PULSE_RATE), now):
            out.append(f"HR or pulse rate in the last {RECENT_S / 60:g} min")
        if not self._recent((Vital.SPO2,), now):
            out.append(f"SpO2 in the last {RECENT_S / 60:g} min")
        return tuple(out)

    def _recent(self, vitals: tuple[Vital, ...], now: float) -> bool:
        return any(now - RECENT_S <= self._last_valid.get(v, -math.inf) <= now for v in vitals)

    def evaluate(self, now: float, override: Override | None = None) -> GateResult:
        """Judge the baseline at ``now``; with ``override``, say whether it lets the start go."""
        base = self.baseline()
        missing = self.missing(now)
        if missing:
            return GateResult(GateStatus.NOT_ENOUGH_DATA, base, missing,
                              "Baseline incomplete: " + "; ".join(missing) + ".")
        assert base.sys is not None and base.dia is not None
        status = classify(base.sys, base.dia)
        message = f"Baseline {base.sys:.0f}/{base.dia:.0f} mmHg{_SAYS[status]}"
        if status is GateStatus.READY:
            return GateResult(status, base, message=message, may_start=True)
        if override is None:
            return GateResult(status, base, message=message)
        problem = override_problem(status, override)
        return GateResult(status, base, message=message, may_start=not problem,
                          override=None if problem else override, override_problem=problem)


def classify(sys: float, dia: float) -> GateStatus:
    """READY, OVERRIDE_NEEDED or BLOCKED for a complete baseline BP."""
    if sys >= BLOCK_AT[0] or dia >= BLOCK_AT[1]:
        return GateStatus.BLOCKED
    if sys > OVERRIDE_ABOVE[0] or dia > OVERRIDE_ABOVE[1]:
        return GateStatus.OVERRIDE_NEEDED
    return GateStatus.READY


_SAYS = {
    GateStatus.READY: ": ready to start.",
    GateStatus.OVERRIDE_NEEDED: f" is above {OVERRIDE_ABOVE[0]:g}/{OVERRIDE_ABOVE[1]:g}: a "
                                "clinician override with a reason is needed to start.",
    GateStatus.BLOCKED: f" is at or above {BLOCK_AT[0]:g}/{BLOCK_AT[1]:g}: the infusion cannot "
                        "start without an override naming the clinician and the reason.",
}


def _min_s(seconds: float) -> str:
    m, s = divmod(int(seconds), 60)
    return f"{m} min {s} s" if s else f"{m} min"


def override_problem(status: GateStatus, override: Override) -> str:
    """Why ``override`` cannot lift ``status`` (empty when it can).

    OVERRIDE_NEEDED needs a reason (the clinician defaults to the session's
    responsible clinician, filled in by the caller); BLOCKED needs both the
    clinician and the reason. NOT_ENOUGH_DATA cannot be overridden: a missing
    NIBP can be taken with a manual cuff and entered by hand.
    """
    if status is GateStatus.NOT_ENOUGH_DATA:
        return "an incomplete baseline cannot be overridden; complete the missing readings"
    if status is GateStatus.READY:
        return "no override is needed"
    lacking = []
    if status is GateStatus.BLOCKED and not override.clinician.strip():
        lacking.append("the clinician")
    if not override.reason.strip():
        lacking.append("the reason")
    return "the override must name " + " and ".join(lacking) if lacking else ""
