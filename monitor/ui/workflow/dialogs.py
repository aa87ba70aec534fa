"""The workflow panel's confirmations: what each asks, and the commands its answers make."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtWidgets import QWidget

from monitor.core.session import Phase
from monitor.core.workflow.baseline_gate import GateResult, GateStatus
from monitor.core.workflow.form_checks import FieldError, optional_int
from monitor.core.workflow.infusion import InfusionState
from monitor.core.workflow.messages import (
    ChangeInfusion,
    EndSession,
    InfusionAction,
)
from monitor.core.workflow.setup import CADSS
from monitor.ui.workflow.action_dialog import ActionDialog, Check, DialogField
from monitor.ui.workflow.model import WorkflowState, minutes_text
from monitor.ui.workflow.text import end_question


@dataclass(frozen=True)
class Follow:
    """How an open confirmation follows the state it asks about.

    Attributes
    ----------
    message : callable
        The question for the state now (it is updated while the dialog is open).
    gone : callable
        Why the question no longer applies (the dialog then closes itself),
        or empty while it does.
    """

    message: Callable[[WorkflowState], str]
    gone: Callable[[WorkflowState], str]


def _phase_gone(phase: Phase) -> Callable[[WorkflowState], str]:
    def gone(state: WorkflowState) -> str:
        if state.phase is phase:
            return ""
        return "the session has ended" if state.phase in (None, Phase.ENDED) else \
            f"the session is in its {state.phase.value} phase now"
    return gone


def _infusion_gone(*states: InfusionState) -> Callable[[WorkflowState], str]:
    def gone(state: WorkflowState) -> str:
        if state.infusion in states:
            return ""
        return f"the infusion is {state.infusion.value.replace('_', ' ')} now"
    return gone


def _gate_follow(status: GateStatus) -> Follow:
    """A start confirmation: it stands while the phase is the baseline and the gate says the same."""
    in_baseline = _phase_gone(Phase.BASELINE)

    def gone(state: WorkflowState) -> str:
        why = in_baseline(state)
        if why or state.gate is None or state.gate.status is status:
            return why
        return f"the start gate changed: {state.gate.message}"

    def message(state: WorkflowState) -> str:
        return f"{state.gate.message} {_planned(state)}" if state.gate is not None else ""

    return Follow(message, gone)


def _planned(state: WorkflowState) -> str:
    return f"Planned infusion: {minutes_text(state.planned_s)} min."


def _initials(initials: str) -> DialogField:
    return DialogField("by", "Your initials", initials, required=True)


def incomplete_text(gate: GateResult) -> str:
    """Why the infusion cannot start yet, and what to do."""
    return (f"{gate.message}\n\nAn incomplete baseline cannot be overridden. A missing NIBP "
            "can be taken with a manual cuff and entered by hand (Ctrl+M).")


def start_dialog(gate: GateResult, state: WorkflowState, initials: str,
                 parent: QWidget) -> ActionDialog:
    """Confirm a start the gate allows (who starts it)."""
    return ActionDialog("Start infusion", f"{gate.message} {_planned(state)}",
                        [_initials(initials)], "Start infusion", parent=parent)


def override_dialog(gate: GateResult, state: WorkflowState, clinician: str, check: Check,
                    parent: QWidget) -> ActionDialog:
    """Ask for the clinician and the reason of a start-gate override.

    Above 140/90 the responsible clinician is filled in; at or above 180/110
    the clinician must be typed.
    """
    blocked = gate.status is GateStatus.BLOCKED
    fields = [DialogField("clinician", "Clinician", "" if blocked else clinician,
                          "name of the clinician who decides", required=True),
              DialogField("reason", "Reason", "", "why the infusion starts anyway",
                          required=True)]
    return ActionDialog("Baseline too high" if blocked else "Baseline override",
                        f"{gate.message} {_planned(state)}", fields, "Override and start",
                        check=check, parent=parent)


def override_command(clinician: str, reason: str) -> ChangeInfusion:
    """The start carrying the clinician and the reason.

    The hub checks them against its own start gate and logs the override as
    an event; a baseline that no longer needs one simply starts.
    """
    return ChangeInfusion(InfusionAction.START, clinician, reason)


def start_follow(gate: GateResult) -> Follow:
    """The start confirmation's question (it closes if the gate or the phase changes)."""
    return _gate_follow(gate.status)


def override_follow(gate: GateResult) -> Follow:
    """The override's question (it closes if the gate or the phase changes)."""
    return _gate_follow(gate.status)


def pause_message(state: WorkflowState) -> str:
    """What the pause dialog says."""
    return (f"Elapsed {minutes_text(state.elapsed_s)} of {minutes_text(state.planned_s)}. "
            "The pause is recorded with its reason; the timer stops while paused.")


PAUSE_FOLLOW = Follow(pause_message, _infusion_gone(InfusionState.RUNNING))


def pause_dialog(state: WorkflowState, initials: str, parent: QWidget) -> ActionDialog:
    """Ask why the infusion is paused (required) and who pauses it."""
    return ActionDialog(
        "Pause infusion", pause_message(state),
        [DialogField("reason", "Reason", "", "e.g. BP 182/104, nausea", required=True),
         _initials(initials)], "Pause infusion", parent=parent)


def stop_message(state: WorkflowState) -> str:
    """What the stop confirmation asks (elapsed and remaining time as they are now)."""
    left = state.remaining_s
    early = f" {minutes_text(left)} of the planned time remain." if left > 0 else ""
    paused = " (paused)" if state.infusion is InfusionState.PAUSED else ""
    return (f"Stop the infusion now? Elapsed {minutes_text(state.elapsed_s)}{paused} of "
            f"{minutes_text(state.planned_s)}.{early} Recovery starts.")


STOP_FOLLOW = Follow(stop_message, _infusion_gone(InfusionState.RUNNING, InfusionState.PAUSED))


def stop_dialog(state: WorkflowState, initials: str, parent: QWidget) -> ActionDialog:
    """Confirm stopping the infusion (who; the reason is optional)."""
    return ActionDialog(
        "Stop infusion", stop_message(state),
        [_initials(initials), DialogField("reason", "Reason", "", "optional")],
        "Stop infusion", parent=parent)


def end_message(state: WorkflowState) -> str:
    """What the end-of-session confirmation asks, where the session is now."""
    return end_question(state) + " Nothing recorded is deleted."


def _end_gone(state: WorkflowState) -> str:
    return "the session has ended" if state.phase in (None, Phase.ENDED) else ""


END_FOLLOW = Follow(end_message, _end_gone)


def end_dialog(state: WorkflowState, initials: str, parent: QWidget) -> ActionDialog:
    """Confirm the end of the session: who, a note and the post-session CADSS (optional)."""
    fields = [_initials(initials),
              DialogField("note", "Note", "", "optional (escort name, instructions)"),
              DialogField("cadss", "CADSS after", "", f"optional, {CADSS[0]}-{CADSS[1]}")]
    return ActionDialog("End session", end_message(state),
                        fields, "End session", check=cadss_problem, parent=parent)


def cadss_problem(values: dict[str, str]) -> str:
    """What is wrong with the CADSS typed (empty when it is fine or left empty)."""
    try:
        optional_int("CADSS", values.get("cadss", ""), CADSS)
    except FieldError as exc:
        return f"CADSS {exc.problem}"
    return ""


def end_command(values: dict[str, str]) -> EndSession:
    """The discharge: who, the note and the post-session CADSS if given.

    The checklist recorded with it is the one the hub kept from the ticks.
    """
    cadss = optional_int("CADSS", values.get("cadss", ""), CADSS)
    return EndSession(values["by"], values.get("note", "").strip(), cadss)
