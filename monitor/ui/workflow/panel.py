"""The workflow strip: baseline and start gate, infusion timer, recovery and discharge.

The widget builds the strip's pages and shows a
:class:`~monitor.ui.workflow.model.WorkflowState`; the nurse's actions (the
dialogs and the commands they emit) are :mod:`monitor.ui.workflow.panel_actions`.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from monitor.core.session import Phase
from monitor.core.workflow.baseline_gate import GateStatus
from monitor.core.workflow.discharge import ChecklistItem
from monitor.core.workflow.infusion import InfusionState
from monitor.core.workflow.messages import TickChecklist
from monitor.ui.live.header import header_scale
from monitor.ui.shared import theme
from monitor.ui.workflow import dialogs as dialogs
from monitor.ui.workflow.action_dialog import ActionDialog
from monitor.ui.workflow.model import WorkflowModel, WorkflowState, minutes_text
from monitor.ui.workflow.panel_actions import PanelActions
from monitor.ui.workflow.text import (
    NOT_READY_TEXT,
    PAUSED_TEXT,
    PLANNED_REACHED_TEXT,
    READY_TEXT,
    baseline_text,
    gate_text,
    nibp_due_text,
    unmet_text,
)

GATE_COLOURS = {GateStatus.READY: "#00e676", GateStatus.NOT_ENOUGH_DATA: theme.TEXT_DIM,
                GateStatus.OVERRIDE_NEEDED: "#ffb300", GateStatus.BLOCKED: "#ff5252"}
PANEL_HEIGHT = 90
"""Height at 1280 px wide (it scales with the window like the header)."""

_STYLE = f"""
QFrame#workflow_panel {{ background: {theme.PANEL}; border: 1px solid {theme.PANEL_BORDER};
    border-radius: 6px; }}
QFrame#workflow_panel[paused="true"] {{ border: 2px solid #ffb300; }}
QLabel#wf_caption {{ color: {theme.TEXT_DIM}; }}
QLabel#wf_dim {{ color: {theme.TEXT_DIM}; }}
QLabel#wf_reminder {{ color: #4fc3f7; }}
QLabel#wf_paused {{ background: #ffb300; color: #000000; padding: 0 10px; }}
QLabel#wf_running {{ color: #00e676; }}
QLabel#wf_ready {{ background: #00c853; color: #000000; padding: 0 10px; }}
QLabel#wf_not_ready {{ background: #30363d; color: {theme.TEXT}; padding: 0 10px; }}
QPushButton {{ background: #21262d; color: {theme.TEXT}; border: 1px solid {theme.PANEL_BORDER};
    border-radius: 4px; padding: 2px 12px; }}
QPushButton:disabled {{ color: #484f58; }}
QPushButton#wf_primary {{ background: #1f6feb; border-color: #388bfd; }}
QCheckBox {{ color: {theme.TEXT}; spacing: 8px; }}
QCheckBox::indicator {{ width: 16px; height: 16px; border: 1px solid {theme.TEXT_DIM};
    border-radius: 3px; background: #161b22; }}
QCheckBox::indicator:checked {{ background: #00c853; border-color: #00c853; }}
"""


def _set_text(label: QLabel, text: str) -> None:
    if label.text() != text:
        label.setText(text)


def _set_elided(label: QLabel, text: str) -> None:
    """Show ``text`` on one line, cut with an ellipsis to the label's width (full text as tip).

    The text is measured again only when it, the label's width or its font
    size changed (measuring costs more than the rest of a refresh tick).
    """
    width = label.contentsRect().width()
    key = (text, width, label.font().pixelSize())
    if getattr(label, "_elided_for", None) == key:
        return
    label._elided_for = key  # type: ignore[attr-defined]
    shown = label.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight, width) \
        if width > 20 else text
    _set_text(label, shown)
    tip = text if shown != text else ""
    if label.toolTip() != tip:
        label.setToolTip(tip)


def _set_name(label: QLabel, name: str) -> None:
    """Switch a label's style (object name) and repolish only on a change."""
    if label.objectName() != name:
        label.setObjectName(name)
        label.style().unpolish(label)
        label.style().polish(label)


class WorkflowPanelWidget(QFrame, PanelActions):
    """The session's shape, for the current phase, in one strip under the alarm bar.

    * Baseline: the baseline values, the start gate's judgement and the
      "Start infusion" button. A baseline above 140/90 opens an override
      dialog asking for the reason (the clinician defaults to the
      responsible one); at or above 180/110 both the clinician and the
      reason must be typed. The start carries the clinician and reason; the
      hub checks them against its own gate and logs the override as an event.
    * Infusion: elapsed and remaining time, large; "INFUSION PAUSED" with its
      reason; Pause (reason required), Resume and Stop; a low-key "planned
      time reached" line once the planned time has run.
    * Recovery: time since the infusion ended, the discharge readiness
      (green only when every criterion is met, else the unmet ones), the
      checklist (each tick goes to the hub and is recorded), and "End session".
    * Every phase: the NIBP cycle reminder.

    The panel shows :class:`~monitor.ui.workflow.model.WorkflowState` values
    given to :meth:`show_state`; it never computes a rule itself. Its
    buttons (and the window's shortcuts, through the ``request_*`` methods of
    :class:`~monitor.ui.workflow.panel_actions.PanelActions`) open short
    dialogs and emit the nurse's commands.

    Parameters
    ----------
    model : WorkflowModel
        Read for the gate at the moment of a start, and told the checklist ticks.
    clock_now : callable
        The session clock's ``now``.
    initials : callable
        The nurse's initials as last typed (prefill for the dialogs).
    parent : QWidget or None

    Attributes
    ----------
    pages : QStackedWidget
    start_button, pause_button, stop_button, end_button : QPushButton
    checklist_boxes : dict[ChecklistItem, QCheckBox]
    dialog : ActionDialog or None
        The dialog open now, if any.

    Signals
    -------
    command_issued(object)
        A nurse command for the hub (``ChangeInfusion``, ``AddEvent``, ``EndSession``).
    """

    command_issued = Signal(object)

    def __init__(self, model: WorkflowModel, clock_now: Callable[[], float],
                 initials: Callable[[], str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("workflow_panel")
        self.setStyleSheet(_STYLE)
        self._model = model
        self._now = clock_now
        self._initials = initials
        self._state: WorkflowState | None = None
        self._scale = 0.0
        self._labels: list[tuple[QLabel | QPushButton | QCheckBox, int, bool]] = []
        self.dialog: ActionDialog | None = None
        self.info_box: QMessageBox | None = None
        self._follow: dialogs.Follow | None = None
        self.pages = QStackedWidget()
        self._page: dict[Phase | None, QWidget] = {
            None: self._build_none(), Phase.BASELINE: self._build_baseline(),
            Phase.INFUSION: self._build_infusion(), Phase.RECOVERY: self._build_recovery(),
            Phase.ENDED: self._build_ended()}
        for page in self._page.values():
            self.pages.addWidget(page)
        column = QVBoxLayout(self)
        column.setContentsMargins(8, 4, 8, 4)
        column.setSpacing(0)
        column.addWidget(self.pages, 1)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self._update_fonts(1.0)

    # -- building -------------------------------------------------------------

    def _label(self, name: str, px: int, bold: bool = False, text: str = "") -> QLabel:
        label = QLabel(text)
        label.setObjectName(name)
        self._labels.append((label, px, bold))
        return label

    def _button(self, text: str, px: int = 17, primary: bool = False) -> QPushButton:
        button = QPushButton(text)
        if primary:
            button.setObjectName("wf_primary")
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)   # Space stays the audio-pause key
        button.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        self._labels.append((button, px, True))
        return button

    def _build_none(self) -> QWidget:
        page = QWidget()
        row = QHBoxLayout(page)
        row.addWidget(self._label("wf_dim", 18, text="No session yet"))
        return page

    def _grid(self) -> tuple[QWidget, QGridLayout]:
        page = QWidget()
        grid = QGridLayout(page)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(14)
        grid.setVerticalSpacing(0)
        return page, grid

    def _build_baseline(self) -> QWidget:
        page, grid = self._grid()
        self.baseline_label = self._label("wf_value", 22, True)
        self.gate_label = self._label("wf_gate", 14, True)
        self.gate_label.setWordWrap(True)
        self.baseline_nibp_label = self._label("wf_dim", 13)
        for label in (self.baseline_label, self.gate_label, self.baseline_nibp_label):
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        top = QHBoxLayout()
        top.setSpacing(10)
        top.addWidget(self._label("wf_caption", 13, text="BASELINE"))
        top.addWidget(self.baseline_label, 1)
        grid.addLayout(top, 0, 0)
        grid.addWidget(self.gate_label, 1, 0)
        grid.addWidget(self.baseline_nibp_label, 2, 0)
        grid.setRowStretch(1, 1)
        self.start_button = self._button("Start infusion\n(Ctrl+I)", 17, primary=True)
        self.start_button.clicked.connect(self.request_start)
        grid.addWidget(self.start_button, 0, 1, 3, 1)
        grid.setColumnStretch(0, 1)
        return page

    def _build_infusion(self) -> QWidget:
        page, grid = self._grid()
        self.elapsed_label = self._label("wf_value", 42, True)
        self.remaining_label = self._label("wf_value", 42, True)
        self.planned_label = self._label("wf_dim", 14)
        self.infusion_state_label = self._label("wf_running", 20, True)
        self.reminder_label = self._label("wf_reminder", 14)
        self.infusion_nibp_label = self._label("wf_dim", 14)
        for label in (self.infusion_state_label, self.reminder_label, self.planned_label,
                      self.infusion_nibp_label):
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        grid.addWidget(self._label("wf_caption", 13, text="ELAPSED"), 0, 0)
        grid.addWidget(self.elapsed_label, 1, 0, 3, 1)
        grid.addWidget(self._label("wf_caption", 13, text="REMAINING"), 0, 1)
        grid.addWidget(self.remaining_label, 1, 1, 3, 1)
        grid.addWidget(self.infusion_state_label, 0, 2)
        grid.addWidget(self.planned_label, 1, 2)
        grid.addWidget(self.reminder_label, 2, 2)
        grid.addWidget(self.infusion_nibp_label, 3, 2)
        self.pause_button = self._button("Pause (Ctrl+P)")
        self.pause_button.clicked.connect(self.request_pause_resume)
        self.stop_button = self._button("Stop infusion")
        self.stop_button.clicked.connect(self.request_stop)
        grid.addWidget(self.pause_button, 0, 3, 2, 1)
        grid.addWidget(self.stop_button, 2, 3, 2, 1)
        grid.setColumnStretch(2, 1)
        return page

    def _build_recovery(self) -> QWidget:
        page, grid = self._grid()
        self.since_label = self._label("wf_value", 42, True)
        self.readiness_label = self._label("wf_not_ready", 15, True)
        self.unmet_label = self._label("wf_dim", 13)
        self.unmet_label.setWordWrap(True)
        self.recovery_nibp_label = self._label("wf_dim", 13)
        for label in (self.readiness_label, self.unmet_label, self.recovery_nibp_label):
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        grid.addWidget(self._label("wf_caption", 13, text="SINCE INFUSION END"), 0, 0)
        grid.addWidget(self.since_label, 1, 0, 3, 1)
        grid.addWidget(self.readiness_label, 0, 1)
        grid.addWidget(self.unmet_label, 1, 1, 2, 1)
        grid.addWidget(self.recovery_nibp_label, 3, 1)
        grid.addWidget(self._label("wf_caption", 13, text="CHECKLIST"), 0, 2)
        self.checklist_boxes: dict[ChecklistItem, QCheckBox] = {}
        for row, item in enumerate(ChecklistItem, start=1):
            box = QCheckBox(item.label)
            box.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            box.setProperty("item", item.value)
            box.toggled.connect(self._on_checked)
            self._labels.append((box, 13, False))
            self.checklist_boxes[item] = box
            grid.addWidget(box, row, 2)
        self.end_button = self._button("End session\n(Ctrl+E)", 15)
        self.end_button.clicked.connect(self.request_end)
        grid.addWidget(self.end_button, 0, 3, 4, 1)
        grid.setColumnStretch(1, 1)
        return page

    def _build_ended(self) -> QWidget:
        page = QWidget()
        row = QHBoxLayout(page)
        self.ended_label = self._label("wf_value", 20, True)
        self.ended_label.setWordWrap(True)
        row.addWidget(self.ended_label, 1)
        return page

    # -- fonts ----------------------------------------------------------------

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._update_fonts(header_scale(self.window().width()))

    def _update_fonts(self, scale: float) -> None:
        if abs(scale - self._scale) < 0.02:
            return
        self._scale = scale
        for widget, px, bold in self._labels:
            widget.setFont(theme.font(round(px * scale), bold))
        self.setFixedHeight(round(PANEL_HEIGHT * scale))

    # -- showing the state ------------------------------------------------------

    def show_state(self, state: WorkflowState, now: float) -> None:
        """Show ``state`` (labels are only touched when their text changes)."""
        previous, self._state = self._state, state
        page = self._page[state.phase]
        if self.pages.currentWidget() is not page:
            self.pages.setCurrentWidget(page)
        nibp = nibp_due_text(state, now)   # (a resume and its gap are said in the header)
        if state.phase is Phase.BASELINE:
            self._show_baseline(state, nibp)
        elif state.phase is Phase.INFUSION:
            self._show_infusion(state, nibp)
        elif state.phase is Phase.RECOVERY:
            self._show_recovery(state, nibp, previous)
        elif state.phase is Phase.ENDED:
            self._show_ended(state)
        self.follow_state(state)   # an open confirmation updates or closes itself

    def _show_baseline(self, state: WorkflowState, nibp: str) -> None:
        _set_text(self.baseline_label, baseline_text(state))
        gate = state.gate
        if gate is not None:
            _set_text(self.gate_label, gate_text(gate))
            if self.gate_label.toolTip() != gate.message:
                self.gate_label.setToolTip(gate.message)
            colour = GATE_COLOURS[gate.status]
            if self.gate_label.property("colour") != colour:
                self.gate_label.setProperty("colour", colour)
                self.gate_label.setStyleSheet(f"color: {colour};")
        _set_elided(self.baseline_nibp_label, nibp)

    def _show_infusion(self, state: WorkflowState, nibp: str) -> None:
        _set_text(self.elapsed_label, minutes_text(state.elapsed_s))
        _set_text(self.remaining_label, minutes_text(state.remaining_s))
        paused = state.infusion is InfusionState.PAUSED
        if paused:
            reason = f": {state.pause_reason}" if state.pause_reason else ""
            detail = f"paused {minutes_text(state.paused_for_s)}{reason}"
        else:
            detail = f"of {minutes_text(state.planned_s)} planned"
        _set_elided(self.planned_label, detail)
        _set_text(self.infusion_state_label,
                  PAUSED_TEXT if paused else state.infusion.label.upper())
        self._set_paused(paused)
        _set_name(self.infusion_state_label, "wf_paused" if paused else "wf_running")
        _set_text(self.pause_button, "Resume (Ctrl+P)" if paused else "Pause (Ctrl+P)")
        _set_text(self.reminder_label, PLANNED_REACHED_TEXT if state.planned_end_reached else "")
        _set_elided(self.infusion_nibp_label, nibp)

    def _set_paused(self, paused: bool) -> None:
        """The whole strip gets an amber frame while the infusion is paused."""
        if bool(self.property("paused")) != paused:
            self.setProperty("paused", paused)
            self.style().unpolish(self)
            self.style().polish(self)

    def _show_recovery(self, state: WorkflowState, nibp: str,
                       previous: WorkflowState | None) -> None:
        since = state.since_infusion_end_s
        _set_text(self.since_label, "--:--" if since is None else minutes_text(since))
        readiness = state.readiness
        ready = readiness is not None and readiness.ready
        _set_text(self.readiness_label, READY_TEXT if ready else NOT_READY_TEXT)
        _set_name(self.readiness_label, "wf_ready" if ready else "wf_not_ready")
        _set_text(self.unmet_label, unmet_text(readiness))
        reasons = "" if readiness is None else "\n".join(
            ("\u2713 " if c.met else "\u2717 ") + c.reason for c in readiness.criteria)
        if self.unmet_label.toolTip() != reasons:
            self.unmet_label.setToolTip(reasons)
        _set_elided(self.recovery_nibp_label, nibp)
        for item, box in self.checklist_boxes.items():   # the model is the truth
            ticked = item.value in self._model.checklist
            if box.isChecked() != ticked:
                box.blockSignals(True)
                box.setChecked(ticked)
                box.blockSignals(False)

    def _show_ended(self, state: WorkflowState) -> None:
        d = state.discharged
        if d is None:
            text = "SESSION ENDED"
        else:
            ticked = ", ".join(d.checklist) if d.checklist else "nothing ticked"
            text = f"SESSION ENDED \u2014 discharged by {d.by}; checklist: {ticked}"
            if d.cadss is not None:
                text += f"; CADSS {d.cadss}"
        _set_text(self.ended_label, text)

    def readiness_text(self) -> str:
        """The readiness indicator's text (tests and the end dialog)."""
        return self.readiness_label.text()

    def unmet_text(self) -> str:
        """The unmet discharge criteria shown, or empty."""
        return self.unmet_label.text()

    def _on_checked(self, on: bool) -> None:
        item = str(self.sender().property("item"))
        self._model.set_checked(item, on)   # the box answers at once; the hub records it
        self.command_issued.emit(TickChecklist(item, on, self._initials()))
