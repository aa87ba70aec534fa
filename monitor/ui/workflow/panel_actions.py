"""The nurse's actions from the workflow panel: the short dialogs and the commands they emit.

:class:`PanelActions` is mixed into
:class:`~monitor.ui.workflow.panel.WorkflowPanelWidget`: its ``request_*``
methods (the panel's buttons and the window's shortcuts) check the current
:class:`~monitor.ui.workflow.model.WorkflowState`, open a window-modal
:class:`~monitor.ui.workflow.action_dialog.ActionDialog` (or say why the
action cannot be taken now) and emit the confirmed command on the panel's
``command_issued`` signal.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, SignalInstance
from PySide6.QtWidgets import QMessageBox

from monitor.core.session import Phase
from monitor.core.workflow.baseline_gate import GateStatus, Override
from monitor.core.workflow.infusion import InfusionState
from monitor.core.workflow.messages import ChangeInfusion, InfusionAction
from monitor.ui.shared.dialog_style import message_box
from monitor.ui.workflow import dialogs as dialogs
from monitor.ui.workflow.action_dialog import ActionDialog
from monitor.ui.workflow.model import WorkflowModel, WorkflowState


def _about(state: WorkflowState) -> tuple[object, ...]:
    """What a message of the panel is about: the phase, the infusion and the gate's verdict."""
    return (state.phase, state.infusion, state.gate.status if state.gate is not None else None)


class PanelActions:
    """The nurse's actions of :class:`~monitor.ui.workflow.panel.WorkflowPanelWidget`.

    A mixin for that widget (a :class:`QWidget` with a ``command_issued``
    signal): it reads the panel's model, clock and initials, and keeps the
    dialog or message box open now.

    Attributes
    ----------
    dialog : ActionDialog or None
        The dialog open now, if any.
    info_box : QMessageBox or None
        The message open now, if any.
    """

    command_issued: SignalInstance
    dialog: ActionDialog | None
    info_box: QMessageBox | None
    _model: WorkflowModel
    _now: Callable[[], float]
    _initials: Callable[[], str]
    _follow: dialogs.Follow | None
    _info_about: tuple[object, ...] = ()

    def _open(self, dialog: ActionDialog, on_confirmed: Callable[[dict], None],
              follow: dialogs.Follow) -> None:
        if self.dialog is not None:
            self.dialog.reject()
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.confirmed.connect(on_confirmed)
        dialog.finished.connect(self._on_dialog_closed)
        self.dialog = dialog
        self._follow = follow
        dialog.open()   # window-modal, never a nested event loop

    def _on_dialog_closed(self) -> None:
        self.dialog = None
        self._follow = None

    def follow_state(self, state: WorkflowState) -> None:
        """Keep the open confirmation true to ``state`` (called on every refresh).

        Its question is updated (the elapsed and remaining time, the gate);
        when the state it asks about has changed (the infusion stopped
        meanwhile, the session ended), it closes itself, nothing is sent, and
        a note says why.
        """
        box = self.info_box
        if box is not None and _about(state) != self._info_about:
            box.close()
        dialog, follow = self.dialog, self._follow
        if dialog is None or follow is None:
            return
        why = follow.gone(state)
        if not why:
            dialog.set_message(follow.message(state))
            return
        title = dialog.windowTitle()
        dialog.reject()
        self._inform(title, f"{title}: not done, {why}. The confirmation closed itself; "
                            "nothing was sent.")

    def _inform(self, title: str, text: str) -> None:
        """A non-modal message (why an action cannot be taken now).

        It closes itself once the phase, the infusion or the start gate has
        changed: what it said is then no longer true.
        """
        if self.info_box is not None:
            self.info_box.close()
        box = message_box(QMessageBox.Icon.Information, title, text, self)
        box.finished.connect(self._on_info_closed)
        self.info_box = box
        self._info_about = _about(self._current())
        box.show()

    def _on_info_closed(self) -> None:
        self.info_box = None

    def _current(self) -> WorkflowState:
        now = self._now()
        return self._model.state(now)

    def request_start(self) -> None:
        """Start the infusion, through the baseline gate (button and Ctrl+I)."""
        state = self._current()
        if state.phase is not Phase.BASELINE:
            self._inform("Infusion", "The infusion can only be started from the baseline "
                                     "phase." if state.phase is not None else "No session yet.")
            return
        gate = self._model.evaluate_gate(self._now())
        if gate.status is GateStatus.NOT_ENOUGH_DATA:
            self._inform("Baseline incomplete", dialogs.incomplete_text(gate))
        elif gate.status is GateStatus.READY:
            self._open(dialogs.start_dialog(gate, state, self._initials(), self),
                       self._on_start_confirmed, dialogs.start_follow(gate))
        else:
            self._open(dialogs.override_dialog(gate, state, self._model.clinician,
                                               self._override_problem, self),
                       self._on_override_confirmed, dialogs.override_follow(gate))

    def _override_problem(self, values: dict[str, str]) -> str:
        now = self._now()
        result = self._model.evaluate_gate(
            now, Override(values["clinician"], values["reason"], now))
        if result.may_start:
            return ""
        return result.override_problem or result.message

    def _on_start_confirmed(self, values: dict[str, str]) -> None:
        self.command_issued.emit(ChangeInfusion(InfusionAction.START, values["by"]))

    def _on_override_confirmed(self, values: dict[str, str]) -> None:
        self.command_issued.emit(dialogs.override_command(values["clinician"], values["reason"]))

    def request_pause_resume(self) -> None:
        """Pause a running infusion (asks the reason) or resume a paused one (Ctrl+P)."""
        state = self._current()
        if state.infusion is InfusionState.PAUSED:
            self.command_issued.emit(ChangeInfusion(InfusionAction.RESUME, self._initials()))
        elif state.infusion is not InfusionState.RUNNING:
            self._inform("Infusion", f"The infusion is {state.infusion.label.lower()}: "
                                     "only a running infusion can be paused.")
        else:
            self._open(dialogs.pause_dialog(state, self._initials(), self),
                       self._on_pause_confirmed, dialogs.PAUSE_FOLLOW)

    def _on_pause_confirmed(self, values: dict[str, str]) -> None:
        self.command_issued.emit(ChangeInfusion(InfusionAction.PAUSE, values["by"],
                                                values["reason"]))

    def request_stop(self) -> None:
        """Stop the infusion, after a confirmation (button and Ctrl+Shift+S)."""
        state = self._current()
        if state.infusion not in (InfusionState.RUNNING, InfusionState.PAUSED):
            self._inform("Infusion", f"The infusion is {state.infusion.label.lower()}: "
                                     "there is nothing to stop.")
            return
        self._open(dialogs.stop_dialog(state, self._initials(), self), self._on_stop_confirmed,
                   dialogs.STOP_FOLLOW)

    def _on_stop_confirmed(self, values: dict[str, str]) -> None:
        self.command_issued.emit(ChangeInfusion(InfusionAction.STOP, values["by"],
                                                values["reason"]))

    def request_end(self) -> None:
        """End the session (discharge), after a confirmation (button and Ctrl+E)."""
        state = self._current()
        if state.phase in (None, Phase.ENDED):
            self._inform("End session", "There is no session running.")
            return
        self._open(dialogs.end_dialog(state, self._initials(), self), self._on_end_confirmed,
                   dialogs.END_FOLLOW)

    def _on_end_confirmed(self, values: dict[str, str]) -> None:
        self.command_issued.emit(dialogs.end_command(values))
