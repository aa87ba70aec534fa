"""Discharge readiness: is the patient back near baseline and fit to leave?

The criteria adapt procedural-sedation discharge practice (reference §3.4):
at least 20 min since the infusion ended, the last two NIBP determinations
and the current HR within a margin of baseline (default 20 %, either way),
SpO2 at or above 94 %, no alarm active, and the nurse's checklist ticked.
The indicator is green only when every criterion is met; each criterion
comes with a short reason for the UI.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from monitor.core.workflow.values import BaselineValues, NibpDetermination

MIN_RECOVERY_S = 1200.0
DEFAULT_MARGIN = 0.20
MIN_SPO2 = 94.0


class ChecklistItem(enum.StrEnum):
    """What the nurse ticks before discharge."""

    ALERT_ORIENTED = "alert_oriented"
    NAUSEA_CONTROLLED = "nausea_controlled"
    ESCORT_PRESENT = "escort_present"

    @property
    def label(self) -> str:
        """Checkbox text."""
        return {"alert_oriented": "Alert and oriented", "nausea_controlled": "Nausea controlled",
                "escort_present": "Escort present"}[self.value]


class Criterion(enum.StrEnum):
    """One discharge criterion (the checklist items are criteria too)."""

    RECOVERY_TIME = "recovery_time"
    NIBP_SYS = "nibp_sys"
    NIBP_DIA = "nibp_dia"
    HR = "hr"
    SPO2 = "spo2"
    NO_ALARMS = "no_alarms"
    ALERT_ORIENTED = "alert_oriented"
    NAUSEA_CONTROLLED = "nausea_controlled"
    ESCORT_PRESENT = "escort_present"


@dataclass(frozen=True)
class CriterionResult:
    """One line of the readiness panel: the criterion, met or not, and why."""

    criterion: Criterion
    met: bool
    reason: str


@dataclass(frozen=True)
class Readiness:
    """The readiness at one moment.

    Attributes
    ----------
    criteria : tuple of CriterionResult
        Every criterion, in :class:`Criterion` order.
    time_since_infusion_end : float or None
        Seconds since the infusion stopped, ``None`` while it has not.
    """

    criteria: tuple[CriterionResult, ...]
    time_since_infusion_end: float | None

    @property
    def ready(self) -> bool:
        """Green: every criterion is met."""
        return all(c.met for c in self.criteria)

    @property
    def unmet(self) -> tuple[CriterionResult, ...]:
        """The criteria still holding the patient."""
        return tuple(c for c in self.criteria if not c.met)

    def result(self, criterion: Criterion) -> CriterionResult:
        """The line for ``criterion``."""
        return next(c for c in self.criteria if c.criterion is criterion)


class DischargeReadiness:
    """Evaluates the discharge criteria.

    Parameters
    ----------
    margin : float
        Allowed relative distance from baseline, either way (0.20 = 20 %).
    min_recovery_s : float
        Minimum time since the infusion ended.
    min_spo2 : float
        Lowest acceptable current SpO2 (%).
    """

    def __init__(self, margin: float = DEFAULT_MARGIN, min_recovery_s: float = MIN_RECOVERY_S,
                 min_spo2: float = MIN_SPO2) -> None:
        if not 0 < margin < 1:
            raise ValueError(f"margin must be between 0 and 1 (a fraction), not {margin!r}")
        if not min_recovery_s >= 0 or not 0 <= min_spo2 <= 100:
            raise ValueError("min_recovery_s must be >= 0 and min_spo2 within 0-100")
        self.margin, self.min_recovery_s, self.min_spo2 = margin, min_recovery_s, min_spo2

    def evaluate(self, now: float, infusion_stopped_at: float | None, baseline: BaselineValues,
                 last_nibp: Sequence[NibpDetermination], hr: float | None, spo2: float | None,
                 active_alarms: int, checklist: Iterable[str]) -> Readiness:
        """Judge every criterion at ``now``.

        ``last_nibp`` is the session's NIBP determinations (the last two are
        used; the latest must be from after the infusion ended, so a
        reading at the end-of-infusion peak alone never clears the patient).
        ``checklist`` holds the ticked :class:`ChecklistItem` values.
        """
        since = None if infusion_stopped_at is None else max(0.0, now - infusion_stopped_at)
        dets = tuple(last_nibp[-2:])
        ticked = set(checklist)
        out = [self._time(since)]
        for crit, attr in ((Criterion.NIBP_SYS, "sys"), (Criterion.NIBP_DIA, "dia")):
            out.append(self._nibp(crit, attr, dets, getattr(baseline, attr), infusion_stopped_at))
        out.append(self._near(Criterion.HR, "HR", [] if hr is None else [hr], baseline.hr, 1))
        spo2_ok = spo2 is not None and math.isfinite(spo2) and spo2 >= self.min_spo2
        out.append(CriterionResult(Criterion.SPO2, spo2_ok,
                                   "no current SpO2" if spo2 is None else
                                   f"SpO2 {spo2:.0f} % (needs ≥ {self.min_spo2:g} %)"))
        out.append(CriterionResult(Criterion.NO_ALARMS, active_alarms == 0,
                                   "no alarm active" if active_alarms == 0 else
                                   f"{active_alarms} alarm(s) active"))
        out.extend(CriterionResult(Criterion(item.value), item in ticked,
                                   item.label + (" (ticked)" if item in ticked else
                                                 " (not ticked)"))
                   for item in ChecklistItem)
        return Readiness(tuple(out), since)

    def _time(self, since: float | None) -> CriterionResult:
        need = f"{self.min_recovery_s / 60:g} min"
        if since is None:
            return CriterionResult(Criterion.RECOVERY_TIME, False, "the infusion has not ended")
        return CriterionResult(Criterion.RECOVERY_TIME, since >= self.min_recovery_s,
                               f"{since / 60:.0f} min since the infusion ended (needs {need})")

    def _nibp(self, crit: Criterion, attr: str, dets: tuple[NibpDetermination, ...],
              base: float | None, stopped_at: float | None) -> CriterionResult:
        label = f"NIBP {attr}"
        if len(dets) == 2 and (stopped_at is None or dets[-1].t < stopped_at):
            return CriterionResult(crit, False, f"no {label} since the infusion ended")
        return self._near(crit, label, [getattr(d, attr) for d in dets], base, 2)

    def _near(self, crit: Criterion, label: str, values: list[float], base: float | None,
              need: int) -> CriterionResult:
        if base is None:
            return CriterionResult(crit, False, f"no baseline {label}")
        if len(values) < need:
            what = "a current value" if need == 1 else f"{need} determinations"
            return CriterionResult(crit, False, f"{label}: needs {what}")
        lo, hi = base * (1 - self.margin), base * (1 + self.margin)
        ok = all(math.isfinite(v) and abs(v - base) <= self.margin * base + 1e-9 for v in values)
        shown = ", ".join(f"{v:.0f}" for v in values)
        return CriterionResult(crit, ok, f"{label} {shown} vs baseline {base:.0f} "
                                         f"(±{self.margin * 100:g} %: {lo:.0f}-{hi:.0f})")
