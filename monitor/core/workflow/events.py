"""The session's event log: one-click events and notes, with time corrections kept.

Events get deterministic ids ``"e1"``, ``"e2"``... in the order they are
added, unique within a session, so corrections (and the recorder) can refer
to them. An event's time can be corrected within the session; every
correction is kept with who and when, and nothing is ever deleted.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import replace

from monitor.core.workflow.messages import (
    AddEvent,
    CommandRefused,
    CorrectEventTime,
    EventKind,
    EventTimeCorrected,
    SessionEvent,
)

MAX_TEXT = 500


class EventLog:
    """Turns nurse commands into :class:`SessionEvent` records and keeps the current view.

    Parameters
    ----------
    session_start : float
        When the session started; no event may be placed before it.
    events, corrections : iterable
        Recorded events and corrections, to reopen a session after a restart.
        Corrections are replayed in the order of their ``at`` time; one
        naming an unknown event is skipped. New ids continue after the
        highest recorded one.
    """

    def __init__(self, session_start: float, events: Iterable[SessionEvent] = (),
                 corrections: Iterable[EventTimeCorrected] = ()) -> None:
        self.session_start = session_start
        self._events: dict[str, SessionEvent] = {}
        self._history: list[EventTimeCorrected] = []
        self._next = 1
        for ev in events:
            self._events[ev.event_id] = ev
            if ev.event_id[:1] == "e" and ev.event_id[1:].isdigit():
                self._next = max(self._next, int(ev.event_id[1:]) + 1)
        for corr in sorted(corrections, key=lambda c: c.at):
            if corr.event_id in self._events:
                self._events[corr.event_id] = replace(self._events[corr.event_id], t=corr.new_t)
                self._history.append(corr)

    def _refused(self, cmd: AddEvent | CorrectEventTime, now: float,
                 message: str) -> CommandRefused:
        if isinstance(cmd, AddEvent):
            return CommandRefused(now, "add_event", message, cmd.author.strip())
        return CommandRefused(now, "correct_event_time", message, cmd.by.strip())

    def _time_problem(self, t: float, now: float) -> str:
        if not math.isfinite(t) or not self.session_start <= t <= now:
            return (f"the time must lie within the session so far "
                    f"(0 to {(now - self.session_start) / 60:.0f} min), "
                    f"not {(t - self.session_start) / 60:.1f} min")
        return ""

    def add(self, cmd: AddEvent, now: float) -> SessionEvent | CommandRefused:
        """Record ``cmd`` at ``cmd.t`` (or ``now``): the new event, or the refusal."""
        t = now if cmd.t is None else cmd.t
        text = cmd.text.strip()
        problem = self._time_problem(t, now)
        if not problem and cmd.kind is EventKind.NOTE and not text:
            problem = "a note needs text"
        if not problem and len(text) > MAX_TEXT:
            problem = f"the text is {len(text)} characters; at most {MAX_TEXT} are allowed"
        if problem:
            return self._refused(cmd, now, f"Cannot add {cmd.kind.label.lower()}: {problem}.")
        event = SessionEvent(f"e{self._next}", t, cmd.kind, text, cmd.author.strip())
        self._next += 1
        self._events[event.event_id] = event
        return event

    def correct(self, cmd: CorrectEventTime, now: float) -> EventTimeCorrected | CommandRefused:
        """Move an event to ``cmd.new_t``: the correction to keep, or the refusal."""
        event = self._events.get(cmd.event_id)
        if event is None:
            problem = f"there is no event {cmd.event_id!r}"
        elif not cmd.by.strip():
            problem = "say who corrects it"
        elif cmd.new_t == event.t:
            problem = "the event is already at that time"
        else:
            problem = self._time_problem(cmd.new_t, now)
        if problem or event is None:
            return self._refused(cmd, now, f"Cannot correct the event time: {problem}.")
        corr = EventTimeCorrected(event.event_id, event.t, cmd.new_t, cmd.by.strip(), now)
        self._events[event.event_id] = replace(event, t=cmd.new_t)
        self._history.append(corr)
        return corr

    def get(self, event_id: str) -> SessionEvent | None:
        """The event as it stands now (``None`` if unknown)."""
        return self._events.get(event_id)

    def events(self) -> list[SessionEvent]:
        """Every event at its current time, sorted by time (then by order added)."""
        order = {eid: i for i, eid in enumerate(self._events)}
        return sorted(self._events.values(), key=lambda e: (e.t, order[e.event_id]))

    def corrections(self, event_id: str | None = None) -> list[EventTimeCorrected]:
        """Every correction kept (of one event if ``event_id`` is given), oldest first."""
        return [c for c in self._history if event_id is None or c.event_id == event_id]
