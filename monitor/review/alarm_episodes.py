"""The alarms of a recorded session as priority episodes, and their counts.

An alarm condition raised as medium and escalated to high is two episodes:
medium from its raise to the escalation, then high from the escalation to
its clearing, each with the most extreme value of the alarm's vital within
it (:func:`alarm_episodes`). The review's alarm list, the report's alarm
bars and table and the exports' timelines show episodes; alarm *counts*
count each condition once at the highest priority it reached, physiological
and technical alarms apart (:func:`alarm_counts`, and the same rule in SQL:
``monitor.storage.schema.ALARM_COUNTS_UPDATE``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from monitor.core.alarms.model import AlarmKind, AlarmTransition, Priority, TransitionState
from monitor.core.vitals import Vital

if TYPE_CHECKING:
    from monitor.review.record import Series


@dataclass(frozen=True)
class AlarmSpan:
    """One priority episode of an alarm: from raised (or escalated) to cleared (or escalated).

    An alarm raised as medium and escalated to high is two episodes: medium
    from its raise to the escalation (``escalated_to`` high), then high from
    the escalation to its clearing. Episodes of one alarm condition are
    contiguous and share ``raised_at``; counting alarms counts conditions
    (:func:`alarm_counts`), not episodes.

    Attributes
    ----------
    alarm_id : str
    vital : Vital or None
        What measured the alarm when the episode began.
    priority : Priority
        The priority throughout the episode.
    start, end : float, float or None
        When the episode began and ended (``end`` None: not cleared when the
        recording ends).
    message : str
        What the nurse read when the episode began.
    kind : AlarmKind
    peak : float or None
        The most extreme value of the alarm's vital within the episode, in
        the alarm's direction (highest for a high or rise alarm, lowest for a
        low or fall one), from the recorded numerics; the value that began the
        episode when the numerics hold none in it; None for a technical alarm.
    raised_at : float or None
        When the alarm condition was raised (the start of its first episode);
        None is read as ``start``.
    escalated_to : Priority or None
        The episode ended because the alarm escalated to this priority.
    """

    alarm_id: str
    vital: Vital | None
    priority: Priority
    start: float
    end: float | None
    message: str
    kind: AlarmKind = AlarmKind.PHYSIOLOGICAL
    peak: float | None = None
    raised_at: float | None = None
    escalated_to: Priority | None = None

    def __post_init__(self) -> None:
        if self.raised_at is None:
            object.__setattr__(self, "raised_at", self.start)

    @property
    def technical(self) -> bool:
        """A technical alarm (equipment or data path), not a physiological one."""
        return self.kind is AlarmKind.TECHNICAL

    @property
    def lower(self) -> bool:
        """The alarm is about a value too low (its peak is the lowest value)."""
        return is_lower_alarm(self.alarm_id)


LOWER_WORDS = frozenset({"low", "fall", "drop", "apnoea", "apnea"})
"""Words of an alarm id (``spo2.low``, ``spo2.fall``) that mark a too-low alarm."""


def is_lower_alarm(alarm_id: str) -> bool:
    """Whether ``alarm_id`` names a too-low condition (``spo2.low``), not a too-high one."""
    return any(word in LOWER_WORDS for word in alarm_id.lower().split(".")[1:])


def escalated_count(spans: Iterable[AlarmSpan]) -> int:
    """Physiological alarm conditions that escalated (counted at a priority above their raise)."""
    return len({(s.alarm_id, s.raised_at) for s in spans
                if s.escalated_to is not None and not s.technical})


def alarm_counts(spans: Iterable[AlarmSpan]) -> tuple[dict[Priority, int], int]:
    """Physiological alarms by priority, and technical alarms, each alarm condition once.

    A condition (one ``alarm_id`` from its raise to its clearing) counts once,
    at the highest priority it reached, however many episodes it had.

    Returns
    -------
    counts : dict of Priority to int
        Physiological alarm conditions by their highest priority.
    technical : int
        Technical alarm conditions (any priority).
    """
    top: dict[tuple[str, float | None], AlarmSpan] = {}
    for s in spans:
        key = (s.alarm_id, s.raised_at)
        if key not in top or s.priority > top[key].priority:
            top[key] = s
    counts = {p: 0 for p in Priority}
    technical = 0
    for s in top.values():
        if s.technical:
            technical += 1
        else:
            counts[s.priority] += 1
    return counts, technical


def alarm_episodes(alarms: Iterable[AlarmTransition], numerics: Mapping[Vital, Series],
                   end: float) -> list[AlarmSpan]:
    """Each priority episode of each alarm of the log ``alarms``, in time order.

    An episode begins at a raise or an escalation (or at the first
    transition of an alarm whose raise is not in the log) and ends at the
    alarm's clearing or next escalation; ``end`` of a span is None for one
    still open when the recording ends. Peaks come from ``numerics`` up to
    the episode's end (the recording's ``end`` for an open one).
    """
    open_: dict[str, _Episode] = {}
    out: list[_Episode] = []
    for a in alarms:
        ep = open_.get(a.alarm_id)
        if a.state is TransitionState.RAISED or ep is None:
            if ep is not None:
                out.append(ep)
            open_[a.alarm_id] = _Episode(a, a.t)
        elif a.state is TransitionState.ESCALATED:
            ep.end, ep.escalated_to = a.t, a.priority
            out.append(ep)
            open_[a.alarm_id] = _Episode(a, ep.raised_at)
        elif a.state is TransitionState.CLEARED:
            ep.end = a.t
            out.append(ep)
            del open_[a.alarm_id]
    out.extend(open_.values())
    spans = [ep.span(numerics, end) for ep in out]
    return sorted(spans, key=lambda s: s.start)


class _Episode:
    """An alarm episode being read from the log (see :func:`alarm_episodes`)."""

    def __init__(self, begun_by: AlarmTransition, raised_at: float) -> None:
        self.first = begun_by
        self.raised_at = raised_at
        self.end: float | None = None
        self.escalated_to: Priority | None = None

    def span(self, numerics: Mapping[Vital, Series], record_end: float) -> AlarmSpan:
        a = self.first
        return AlarmSpan(a.alarm_id, a.vital, a.priority, a.t, self.end, a.message, a.kind,
                         self._peak(numerics, record_end), self.raised_at, self.escalated_to)

    def _peak(self, numerics: Mapping[Vital, Series],
              record_end: float) -> float | None:
        a = self.first
        if a.kind is AlarmKind.TECHNICAL:
            return None
        fallback = a.value if a.value is not None and math.isfinite(a.value) else None
        series = numerics.get(a.vital) if a.vital is not None else None
        if series is None:
            return fallback
        t, v = series.valid()
        i = int(np.searchsorted(t, a.t, side="left"))
        j = (int(np.searchsorted(t, self.end, side="left")) if self.end is not None
             else int(np.searchsorted(t, max(record_end, a.t), side="right")))
        if j <= i:
            return fallback
        inside = v[i:j]
        return float(inside.min() if is_lower_alarm(a.alarm_id) else inside.max())
