"""The workflow panel's texts, from the Qt-free workflow state (no Qt)."""

from __future__ import annotations

from monitor.core.alarms.engine import LoadProfile
from monitor.core.alarms.model import (
    Acknowledge,
    ChangeLimit,
    LoadProfileFile,
    PauseAudio,
    SetVitalAlarms,
)
from monitor.core.session import Phase
from monitor.core.workflow.baseline_gate import BLOCK_AT, OVERRIDE_ABOVE, GateResult, GateStatus
from monitor.core.workflow.discharge import ChecklistItem, Criterion, Readiness
from monitor.core.workflow.infusion import InfusionState
from monitor.core.workflow.messages import (
    AddEvent,
    ChangeInfusion,
    CorrectEventTime,
    EndSession,
    ManualEntry,
    TickChecklist,
)
from monitor.ui.workflow.model import WorkflowState, minutes_text

PAUSED_TEXT = "INFUSION PAUSED"
READY_TEXT = "READY FOR DISCHARGE"
NOT_READY_TEXT = "NOT READY FOR DISCHARGE"
PLANNED_REACHED_TEXT = "Planned infusion time reached"


def nibp_due_text(state: WorkflowState, now: float) -> str:
    """The NIBP cycle reminder: ``"Next NIBP in 3:12 (every 5 min)"`` or ``"NIBP due"``."""
    due = state.nibp_due
    if due is None:
        return ""
    every = f"every {due.interval_s / 60:g} min"
    late = due.overdue_by(now)
    if late >= 0:
        return f"NIBP due now ({every})" if late < 60 else \
            f"NIBP overdue by {minutes_text(late)} ({every})"
    return f"Next NIBP in {minutes_text(-late)} ({every})"


_CHECKLIST = {Criterion(item.value) for item in ChecklistItem}


def unmet_text(readiness: Readiness | None) -> str:
    """The unmet criteria in a few words: ``"Waiting for: time 14/20 min, NIBP, checklist 1/3"``.

    Empty when ready. The tooltip and the end dialog give each reason in full.
    """
    if readiness is None or readiness.ready:
        return ""
    unmet = {c.criterion for c in readiness.unmet}
    names = []
    if Criterion.RECOVERY_TIME in unmet:
        since = readiness.time_since_infusion_end
        names.append("end of infusion" if since is None else f"time {since // 60:.0f}/"
                     f"{readiness_minutes(readiness)} min")
    if unmet & {Criterion.NIBP_SYS, Criterion.NIBP_DIA}:
        names.append("NIBP")
    names.extend(name for crit, name in ((Criterion.HR, "HR"), (Criterion.SPO2, "SpO2"),
                                         (Criterion.NO_ALARMS, "alarms")) if crit in unmet)
    if unmet & _CHECKLIST:
        names.append(f"checklist {len(_CHECKLIST - unmet)}/{len(_CHECKLIST)}")
    return "Waiting for: " + ", ".join(names)


def readiness_minutes(readiness: Readiness) -> str:
    """The minimum recovery time, from the criterion's reason (``"20"``)."""
    reason = readiness.result(Criterion.RECOVERY_TIME).reason
    return reason.rsplit("needs ", 1)[-1].split()[0] if "needs " in reason else "20"


def gate_text(gate: GateResult) -> str:
    """The start gate in one or two short lines (the values are on the line above)."""
    if gate.status is GateStatus.NOT_ENOUGH_DATA:
        return "Baseline incomplete: " + "; ".join(gate.missing) + "."
    return {GateStatus.READY: "Baseline complete: ready to start.",
            GateStatus.OVERRIDE_NEEDED: f"Above {OVERRIDE_ABOVE[0]:g}/{OVERRIDE_ABOVE[1]:g}: "
                                        "a clinician override with a reason is needed.",
            GateStatus.BLOCKED: f"At or above {BLOCK_AT[0]:g}/{BLOCK_AT[1]:g}: cannot start "
                                "without an override naming clinician and reason.",
            }[gate.status]


def baseline_text(state: WorkflowState) -> str:
    """The baseline values: ``"NIBP 121/77   HR 74   SpO2 98"`` (dashes where none yet).

    ``PR 74`` when the heart rate is the oximeter's pulse rate (no ECG).
    """
    b = state.baseline
    nibp = f"{b.sys:.0f}/{b.dia:.0f}" if b.sys is not None and b.dia is not None else "---/---"
    hr = f"{b.hr:.0f}" if b.hr is not None else "---"
    spo2 = f"{b.spo2:.0f}" if b.spo2 is not None else "---"
    return f"NIBP {nibp}   {'PR' if b.hr_is_pulse else 'HR'} {hr}   SpO2 {spo2}"


def end_question(state: WorkflowState) -> str:
    """What the "End session" dialog asks, depending on where the session is."""
    if state.infusion in (InfusionState.RUNNING, InfusionState.PAUSED):
        how = "RUNNING" if state.infusion is InfusionState.RUNNING else "PAUSED"
        return (f"THE INFUSION IS STILL {how}: ending the session stops it now. "
                "End the session anyway?")
    if state.phase is Phase.BASELINE:
        return "The infusion has not been started. End the session anyway?"
    if state.readiness is not None and state.readiness.ready:
        return "Every discharge criterion is met. End the session and record the discharge?"
    unmet = "" if state.readiness is None else "; ".join(c.reason for c in state.readiness.unmet)
    return f"Not every discharge criterion is met: {unmet}. End the session anyway?"


_COMMAND_NAMES: dict[type, str] = {
    Acknowledge: "Acknowledging the alarms", PauseAudio: "The audio pause",
    SetVitalAlarms: "The alarm change", ChangeLimit: "The alarm limit change",
    LoadProfileFile: "Loading the alarm profile", LoadProfile: "Loading the alarm profile",
    AddEvent: "The event", CorrectEventTime: "The time correction",
    ManualEntry: "The manual entry", TickChecklist: "The checklist tick",
    EndSession: "Ending the session",
}


def command_text(command: object) -> str:
    """A nurse's command as a sentence's subject: ``"The manual entry"``, ``"Stop infusion"``."""
    if isinstance(command, ChangeInfusion):
        return f"{str(command.action).capitalize()} infusion"
    return _COMMAND_NAMES.get(type(command), "The action")
