"""The nurse's commands, applied on the hub thread.

The hub hands every :data:`~monitor.core.workflow.messages.WorkflowCommand`
from its control queue to :class:`WorkflowHandler` with the session time it
was received at. The rules themselves are pure functions and objects in
:mod:`monitor.core.workflow` (manual entry ranges, the event log, the
infusion timer); the handler keeps them in step with the session's phases
and publishes what they decide: :class:`SessionEvent`,
:class:`EventTimeCorrected`, :class:`InfusionChanged`,
:class:`SessionDischarged`, phase changes and manual readings (with a
``manual_entry`` note naming who typed them), or a :class:`CommandRefused`
saying what was wrong and what is allowed. Nothing here deletes or rewrites
recorded data: a corrected time is a new record.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace

from monitor.core.events import HubMessage, Note
from monitor.core.reading import Reading
from monitor.core.session import Phase, SessionModel
from monitor.core.vitals import SPECS
from monitor.core.workflow.baseline_gate import BaselineGate, GateStatus, Override
from monitor.core.workflow.discharge import ChecklistItem
from monitor.core.workflow.events import EventLog
from monitor.core.workflow.form_checks import FieldError, optional_int
from monitor.core.workflow.infusion import InfusionState, InfusionTimer
from monitor.core.workflow.manual import apply_manual
from monitor.core.workflow.messages import (
    MANUAL_NOTE_KIND,
    OVERRIDE_NOTE_PREFIX,
    AddEvent,
    ChangeInfusion,
    ChecklistTicked,
    CommandRefused,
    CorrectEventTime,
    EndSession,
    EventKind,
    InfusionAction,
    InfusionChanged,
    ManualEntry,
    ScriptedStart,
    SessionDischarged,
    SessionEvent,
    TickChecklist,
    WorkflowCommand,
)
from monitor.core.workflow.setup import CADSS, DEFAULT_PLANNED_MIN

log = logging.getLogger(__name__)

WORKFLOW_COMMANDS = (AddEvent, CorrectEventTime, ChangeInfusion, ManualEntry, TickChecklist,
                     EndSession)
"""The command classes, for ``isinstance`` checks."""

_COMMAND_NAMES = {AddEvent: "add_event", CorrectEventTime: "correct_event_time",
                  ChangeInfusion: "change_infusion", ManualEntry: "manual_entry",
                  TickChecklist: "tick_checklist", EndSession: "end_session"}


NO_INITIALS = "who did it is recorded for every action: enter your initials"
"""Why a nurse's command without initials is refused (a correction and a discharge say
their own reason)."""


class Refused(Exception):
    """A command that cannot be applied; the message is shown to the nurse."""


class WorkflowHandler:
    """Applies nurse commands to one session, with the rules of :mod:`monitor.core.workflow`.

    Parameters
    ----------
    model : SessionModel
        The hub's session (phases); changed only through ``set_phase``.
    publish : callable
        Publishes a message to the recorder, the UI and the headless printer.
    ingest : callable
        Takes a reading down the same path as a device reading (recorded,
        shown, alarmed).
    set_phase : callable
        ``set_phase(phase, t)``: the hub's phase change (alarm engine and recorder see it).
    events : sequence of SessionEvent
        A resumed session's recorded events (current times); numbering continues after them.
    infusion : sequence of InfusionChanged
        A resumed session's infusion actions (the infusion timer is rebuilt from them).
    planned_infusion_s : float
        The planned infusion time, for :attr:`timer`.
    baseline_readings : sequence of Reading
        A resumed session's readings from before the infusion (the start gate
        is rebuilt from them).
    checklist : sequence of ChecklistTicked
        A resumed session's checklist ticks, oldest first.
    scripted_start : ScriptedStart or None
        The override a simulated scenario declares for its scripted start.

    Attributes
    ----------
    log : EventLog
        Every event of the session at its current time, and the corrections.
    timer : InfusionTimer
        The infusion's state, elapsed and remaining time.
    gate : BaselineGate
        The start gate, fed with the baseline phase's readings. A nurse's
        start passes through it here, whatever the window did: an incomplete
        baseline is refused, and a high one needs the override the gate asks
        for (the override is logged as an event).
    ticked : set of str
        The checklist items ticked now (``ChecklistItem`` values).
    ended_by : str or None
        Who ended the session, once the nurse has.
    """

    def __init__(self, model: SessionModel, *, publish: Callable[[HubMessage], None],
                 ingest: Callable[[Reading], None],
                 set_phase: Callable[[Phase, float], None],
                 events: Sequence[SessionEvent] = (),
                 infusion: Sequence[InfusionChanged] = (),
                 planned_infusion_s: float = DEFAULT_PLANNED_MIN * 60.0,
                 baseline_readings: Sequence[Reading] = (),
                 checklist: Sequence[ChecklistTicked] = (),
                 scripted_start: ScriptedStart | None = None) -> None:
        self.model = model
        self.scripted_start = scripted_start or ScriptedStart()
        self._publish = publish
        self._ingest = ingest
        self._set_phase = set_phase
        self.log = EventLog(model.started_at, events)
        # A resumed session already recorded these (scenario or replayed nurse events).
        self._scripted = {(e.kind, round(e.t, 3)) for e in events}
        self.timer = InfusionTimer(planned_infusion_s, infusion)
        # A session recorded before infusion actions were (phases only): follow its phases.
        started, stopped = model.started(Phase.INFUSION), model.started(Phase.RECOVERY)
        if started is not None and self.timer.state is InfusionState.NOT_STARTED:
            self.timer.apply(ChangeInfusion(InfusionAction.START), started)
        if stopped is not None and self.timer.state in (InfusionState.RUNNING,
                                                        InfusionState.PAUSED):
            self.timer.apply(ChangeInfusion(InfusionAction.STOP), stopped)
        self.gate = BaselineGate()
        for reading in baseline_readings:
            self.gate.add(reading)
        self.ticked: set[str] = set()
        for tick in sorted(checklist, key=lambda c: c.t):
            (self.ticked.add if tick.ticked else self.ticked.discard)(tick.item)
        self.ended_by: str | None = None
        self._scripting = False

    # -- entry points ----------------------------------------------------

    def handle(self, cmd: WorkflowCommand, now: float) -> bool:
        """Apply ``cmd`` at session time ``now``.

        Returns ``True`` when the command ended the session (the hub then
        stops the source so the session closes like any other end).
        """
        by = getattr(cmd, "by", "") or getattr(cmd, "author", "")
        try:
            if self.model.phase is Phase.ENDED:
                raise Refused("the session has ended")
            if not by.strip() and isinstance(cmd, (ManualEntry, AddEvent, TickChecklist)):
                raise Refused(NO_INITIALS)
            if isinstance(cmd, ManualEntry):
                self._manual(cmd, now)
            elif isinstance(cmd, AddEvent):
                self._add_event(cmd, now)
            elif isinstance(cmd, CorrectEventTime):
                self._publish(self.log.correct(cmd, now))
            elif isinstance(cmd, ChangeInfusion):
                self._infusion(cmd, now)
            elif isinstance(cmd, TickChecklist):
                self._tick(cmd, now)
            elif isinstance(cmd, EndSession):
                self._end(cmd, now)
                return True
        except Refused as exc:
            self._publish(CommandRefused(now, _command_name(cmd), str(exc), by))
        except Exception as exc:  # a bad command must never stop the monitoring
            log.exception("could not apply %r", cmd)
            self._publish(CommandRefused(now, _command_name(cmd),
                                         f"could not be applied: {exc}", by))
        return False

    def scripted(self, cmd: AddEvent, now: float) -> None:
        """An event a simulated scenario scripts at ``cmd.t``.

        Skipped when the session has ended, or when a resumed session already
        recorded it before the restart.
        """
        key = (cmd.kind, round(cmd.t if cmd.t is not None else now, 3))
        if self.model.phase is Phase.ENDED or key in self._scripted:
            return
        self._scripted.add(key)
        self.handle(cmd, now)

    def scripted_phase(self, phase: Phase, t: float) -> None:
        """A phase change a simulated scenario scripts, applied as the nurse's action would be.

        The infusion start and stop are the nurse's commands, by the scripted
        author: the start passes the baseline gate (with the scenario's
        declared override, see :class:`ScriptedStart`) and is refused, and
        reported, when the gate does not allow it; the session then stays in
        baseline.
        """
        action = {Phase.INFUSION: InfusionAction.START,
                  Phase.RECOVERY: InfusionAction.STOP}.get(phase)
        if action is None:
            self._set_phase(phase, t)
            return
        self._scripting = True
        try:
            script = self.scripted_start
            by = script.author if action is InfusionAction.START else script.stop_author
            self.handle(ChangeInfusion(action, by), t)
        finally:
            self._scripting = False

    def on_reading(self, reading: Reading) -> None:
        """Every reading the hub handles (device or typed); the gate takes the baseline's."""
        if self.model.phase is Phase.BASELINE:
            self.gate.add(reading)

    @property
    def infusion_state(self) -> InfusionState:
        """Not started, running, paused or stopped."""
        return self.timer.state

    # -- commands --------------------------------------------------------

    def _manual(self, cmd: ManualEntry, now: float) -> None:
        result = apply_manual(cmd, now)
        if isinstance(result, CommandRefused):
            self._publish(result)
            return
        for reading in result:
            self._ingest(reading)
        values = "/".join(f"{r.value:g}" for r in result[:2])
        unit = SPECS[cmd.vital].unit
        label = "NIBP" if len(result) == 3 else SPECS[cmd.vital].label
        mean = f" (mean {result[2].value:g})" if len(result) == 3 else ""
        self._publish(Note(now, MANUAL_NOTE_KIND, f"{label} {values} {unit}{mean}", cmd.by))

    def _add_event(self, cmd: AddEvent, now: float) -> None:
        if cmd.kind not in EventKind.__members__.values():
            valid = ", ".join(k.value for k in EventKind)
            raise Refused(f"unknown event kind {cmd.kind!r}; valid kinds: {valid}")
        self._publish(self.log.add(replace(cmd, kind=EventKind(cmd.kind)), now))

    def _infusion(self, cmd: ChangeInfusion, now: float) -> None:
        if cmd.action not in InfusionAction.__members__.values():
            raise Refused(f"unknown infusion action {cmd.action!r}; valid: start, pause, "
                          f"resume, stop")
        cmd = replace(cmd, action=InfusionAction(cmd.action))
        override = None
        if cmd.action is InfusionAction.START and self.timer.state is InfusionState.NOT_STARTED:
            cmd, override = self._through_gate(cmd, now)
        if not cmd.by.strip():
            raise Refused(NO_INITIALS)
        result = self.timer.apply(cmd, now)
        if override is not None and isinstance(result, InfusionChanged):
            self._publish(self.log.add(AddEvent(EventKind.NOTE, override, cmd.by.strip()), now))
        self._publish(result)
        if isinstance(result, InfusionChanged):
            if result.action is InfusionAction.START and self.model.phase is Phase.BASELINE:
                self._set_phase(Phase.INFUSION, now)
            elif result.action is InfusionAction.STOP and self.model.phase is Phase.INFUSION:
                self._set_phase(Phase.RECOVERY, now)

    def _through_gate(self, cmd: ChangeInfusion, now: float) -> tuple[ChangeInfusion, str | None]:
        """Refuse a start the gate does not allow.

        Returns the start to record (a scripted override's is by its clinician
        with its reason, as the nurse's override is) and the text of an
        accepted override, to log.
        """
        gate = self.gate.evaluate(now)
        if gate.status is GateStatus.NOT_ENOUGH_DATA:
            raise Refused(f"{gate.message} An incomplete baseline cannot be overridden; a "
                          "missing NIBP can be taken with a manual cuff and entered by hand")
        if gate.status is GateStatus.READY:
            return cmd, None
        if self._scripting:
            script = self.scripted_start
            cmd = replace(cmd, by=script.clinician, reason=script.reason)
        gate = self.gate.evaluate(now, Override(cmd.by, cmd.reason, now))
        problem = gate.override_problem
        if not problem and not cmd.by.strip():   # the log must say who decided
            problem = "the override must name the clinician"
        if problem:
            raise Refused(f"{gate.message} Not started: {problem}")
        text = (f"{OVERRIDE_NOTE_PREFIX} {gate.message} Clinician: {cmd.by.strip()}. "
                f"Reason: {cmd.reason.strip()}.")
        if self._scripting:
            text += f" (The scripted override of {self.scripted_start.source}.)"
        return cmd, text

    def _tick(self, cmd: TickChecklist, now: float) -> None:
        if cmd.item not in ChecklistItem.__members__.values():
            valid = ", ".join(i.value for i in ChecklistItem)
            raise Refused(f"unknown checklist item {cmd.item!r}; valid items: {valid}")
        if (cmd.item in self.ticked) == cmd.ticked:
            return   # already so: nothing to record
        (self.ticked.add if cmd.ticked else self.ticked.discard)(cmd.item)
        self._publish(ChecklistTicked(now, str(cmd.item), cmd.ticked, cmd.by.strip()))

    def _end(self, cmd: EndSession, now: float) -> None:
        by = cmd.by.strip()
        if not by:
            raise Refused("ending the session needs the name of who discharges the patient")
        try:
            cadss = optional_int("CADSS", cmd.cadss, CADSS)
        except FieldError as exc:
            raise Refused(f"CADSS {exc.value!r} {exc.problem}; the session goes on") from None
        if self.timer.state in (InfusionState.RUNNING, InfusionState.PAUSED):
            # Ending during the infusion: the UI asked the nurse to confirm already.
            self._publish(self.timer.apply(
                ChangeInfusion(InfusionAction.STOP, by, "session ended"), now))
        self._set_phase(Phase.ENDED, now)
        checklist = tuple(item.label.lower() for item in ChecklistItem
                          if item.value in self.ticked)
        text = "Discharged; checklist: " + ("; ".join(checklist) if checklist else "none ticked")
        if cadss is not None:
            text += f". CADSS {cadss}"
        if cmd.note.strip():
            text += f". Note: {cmd.note.strip()}"
        self._publish(self.log.add(AddEvent(EventKind.NOTE, text, by, now), now))
        self._publish(SessionDischarged(now, by, checklist, cmd.note.strip(), cadss))
        self.ended_by = by


def _command_name(cmd: object) -> str:
    name = _COMMAND_NAMES.get(type(cmd), type(cmd).__name__)
    action = getattr(cmd, "action", None)
    return f"{name}:{action.value}" if isinstance(action, InfusionAction) else name
