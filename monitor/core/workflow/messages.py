"""Messages of the session workflow: nurse commands (UI -> hub) and what the hub records.

Plain frozen dataclasses, like :mod:`monitor.core.events`: the same objects
travel on the hub's control queue, the recorder queue and the UI queue, and
become JSON lines in headless runs.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from monitor.core.vitals import Vital


class EventKind(enum.StrEnum):
    """One-click events at the chair, plus a free note."""

    NAUSEA = "nausea"
    VOMITING = "vomiting"
    ANXIETY = "anxiety"
    DISSOCIATION = "dissociation"
    HEADACHE = "headache"
    ANTIEMETIC = "antiemetic_given"
    ANTIHYPERTENSIVE = "antihypertensive_given"
    DOSE_CHANGED = "dose_changed"
    NOTE = "note"

    @property
    def label(self) -> str:
        """Button text."""
        return _LABELS[self]


_LABELS = {
    EventKind.NAUSEA: "Nausea", EventKind.VOMITING: "Vomiting", EventKind.ANXIETY: "Anxiety",
    EventKind.DISSOCIATION: "Dissociation", EventKind.HEADACHE: "Headache",
    EventKind.ANTIEMETIC: "Antiemetic given",
    EventKind.ANTIHYPERTENSIVE: "Antihypertensive given",
    EventKind.DOSE_CHANGED: "Dose changed", EventKind.NOTE: "Note",
}


class InfusionAction(enum.StrEnum):
    """What the nurse does to the infusion."""

    START = "start"
    PAUSE = "pause"
    RESUME = "resume"
    STOP = "stop"


# -- nurse commands (UI -> hub; the hub stamps them with session time) -----------

SCRIPTED_AUTHOR = "scenario"
"""Author of the events and infusion actions a simulated scenario scripts."""


@dataclass(frozen=True)
class ScriptedStart:
    """The override a simulated scenario declares for its scripted infusion start.

    The scripted start passes the same gate as a nurse's: ``clinician`` and
    ``reason`` stand for what the nurse would type in the override dialog.
    ``source`` names the scenario in the recorded override event. A replay
    declares the override and the author its original session recorded.
    """

    clinician: str = ""
    reason: str = ""
    source: str = "the scenario"
    author: str = SCRIPTED_AUTHOR
    """Who a scripted start that needs no override is recorded as."""
    stop_author: str = SCRIPTED_AUTHOR
    """Who the scripted infusion stop is recorded as."""


OVERRIDE_NOTE_PREFIX = "Baseline override:"
"""How the note recorded with an accepted baseline override begins."""

MANUAL_NOTE_KIND = "manual_entry"
"""Kind of the ``Note`` recorded with each manual entry (what was typed, by whom)."""


@dataclass(frozen=True)
class AddEvent:
    """Record an event now (``t=None``) or at a given session time."""

    kind: EventKind
    text: str = ""
    author: str = ""
    t: float | None = None


@dataclass(frozen=True)
class CorrectEventTime:
    """Move event ``event_id`` to ``new_t`` (within the session); the change is kept."""

    event_id: str
    new_t: float
    by: str


@dataclass(frozen=True)
class ChangeInfusion:
    """Start, pause (``reason`` required), resume or stop the infusion."""

    action: InfusionAction
    by: str = ""
    reason: str = ""


@dataclass(frozen=True)
class ManualEntry:
    """A value the nurse typed (manual cuff, monitor with no data port)."""

    vital: Vital
    value: float
    by: str = ""
    dia: float | None = None   # with vital NIBP_SYS: the diastolic of the same determination


MANUAL_VITALS: tuple[Vital, ...] = (Vital.NIBP_SYS, Vital.HR, Vital.SPO2, Vital.RESP_RATE)
"""What the nurse may type in (NIBP as systolic with its diastolic; the mean is computed)."""


@dataclass(frozen=True)
class TickChecklist:
    """Tick (or untick) one discharge checklist item (a ``ChecklistItem`` value)."""

    item: str
    ticked: bool = True
    by: str = ""


@dataclass(frozen=True)
class EndSession:
    """Discharge: the session ends now, with a note and the post-session CADSS if taken.

    The checklist recorded with the discharge is what was ticked through
    :class:`TickChecklist` (the hub keeps it, so it survives a restart).
    """

    by: str
    note: str = ""
    cadss: int | None = None


# -- what the hub publishes and the recorder keeps ------------------------------------


@dataclass(frozen=True)
class SessionEvent:
    """An event on the session clock. ``event_id`` is stable (corrections refer to it)."""

    event_id: str
    t: float
    kind: EventKind
    text: str = ""
    author: str = ""


@dataclass(frozen=True)
class EventTimeCorrected:
    """An event's time was corrected: kept with who and when (``at``, session clock)."""

    event_id: str
    old_t: float
    new_t: float
    by: str
    at: float


@dataclass(frozen=True)
class InfusionChanged:
    """The infusion was started, paused, resumed or stopped at ``t``."""

    action: InfusionAction
    t: float
    by: str = ""
    reason: str = ""


@dataclass(frozen=True)
class CommandRefused:
    """A nurse command was refused; ``message`` says what was wrong and what is allowed."""

    t: float
    command: str
    message: str
    by: str = ""


@dataclass(frozen=True)
class ChecklistTicked:
    """A discharge checklist item was ticked or unticked at ``t`` (kept, never rewritten)."""

    t: float
    item: str
    ticked: bool
    by: str = ""


@dataclass(frozen=True)
class SessionDischarged:
    """The patient was discharged at ``t``: who, the items ticked (as words), a note, CADSS."""

    t: float
    by: str
    checklist: tuple[str, ...] = ()
    note: str = ""
    cadss: int | None = None


WorkflowCommand = (AddEvent | CorrectEventTime | ChangeInfusion | ManualEntry | TickChecklist
                   | EndSession)
"""What the UI hands the hub through ``Hub.notify``."""

WorkflowMessage = (SessionEvent | EventTimeCorrected | InfusionChanged | ChecklistTicked
                   | CommandRefused | SessionDischarged)
"""What the hub publishes (recorder, UI queue, headless JSON) in reply."""
