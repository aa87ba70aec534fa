"""The words and numbers of the PDF session report (no Qt): header, summary, alarm log, events.

Everything the report prints is built here as plain strings so it can be
read and tested without drawing anything. Times are printed two ways: the
session clock (``mm:ss`` since the session start; minutes run past 59) and,
unless the report is de-identified, the local wall clock of the recording
PC (its UTC offset is stored with the session).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from monitor.core.alarms.model import Priority
from monitor.core.session import Phase
from monitor.core.vitals import SPECS, Vital
from monitor.core.workflow.messages import InfusionAction
from monitor.review.record import AlarmSpan, SessionRecord
from monitor.review.summary import SessionSummary

DASH = "—"
"""Printed where there is no value."""

SYSTEM_AUTHORS = frozenset({"", "system", "scenario"})
"""Authors that are not people (kept as they are in a de-identified report)."""

SUMMARY_VITALS: tuple[Vital, ...] = (
    Vital.NIBP_SYS, Vital.NIBP_DIA, Vital.NIBP_MEAN, Vital.HR, Vital.PULSE_RATE, Vital.SPO2,
    Vital.RESP_RATE, Vital.ETCO2)

_LIMIT_NAMES = {"high_high": ("above", "H"), "high_medium": ("above", "M"),
                "low_medium": ("below", "M"), "low_high": ("below", "H")}

_INFUSION_TEXT = {InfusionAction.START: "Infusion started", InfusionAction.PAUSE: "Infusion paused",
                  InfusionAction.RESUME: "Infusion resumed",
                  InfusionAction.STOP: "Infusion stopped"}


@dataclass(frozen=True)
class Clock:
    """Turns Unix times into the report's session clock and local wall clock.

    Attributes
    ----------
    start : float
        The session start (session clock 0:00).
    utc_offset_s : int or None
        The recording PC's UTC offset; ``None`` uses this computer's zone.
    relative : bool
        De-identified: only the session clock is shown, never a date or wall time.
    """

    start: float
    utc_offset_s: int | None
    relative: bool = False

    def session(self, t: float) -> str:
        """``mm:ss`` since the session start (``-m:ss`` before it)."""
        s = int(round(t - self.start))
        sign = "-" if s < 0 else ""
        m, sec = divmod(abs(s), 60)
        return f"{sign}{m}:{sec:02d}"

    def local(self, t: float, fmt: str = "%H:%M") -> str:
        """The wall clock of the recording PC (empty when relative)."""
        if self.relative:
            return ""
        return self.datetime(t).strftime(fmt)

    def datetime(self, t: float) -> datetime:
        """``t`` as an aware datetime in the recording PC's zone."""
        if self.utc_offset_s is None:
            return datetime.fromtimestamp(t).astimezone()
        return datetime.fromtimestamp(t, timezone(timedelta(seconds=self.utc_offset_s)))

    def zone(self) -> str:
        """``UTC+01:00`` for the recording PC's offset."""
        off = self.datetime(self.start).utcoffset() or timedelta(0)
        mins = int(off.total_seconds() // 60)
        sign = "+" if mins >= 0 else "-"
        return f"UTC{sign}{abs(mins) // 60:02d}:{abs(mins) % 60:02d}"


def duration(seconds: float | None) -> str:
    """``45 s``, ``12 min``, ``12 min 30 s``, ``1 h 05 min``; a dash for None."""
    if seconds is None or not math.isfinite(seconds):
        return DASH
    s = int(round(max(seconds, 0.0)))
    if s < 60:
        return f"{s} s"
    m, sec = divmod(s, 60)
    if m < 60:
        return f"{m} min" if sec == 0 else f"{m} min {sec:02d} s"
    h, m = divmod(m, 60)
    return f"{h} h {m:02d} min"


def number(value: object, decimals: int = 0) -> str:
    """A number with at most ``decimals`` digits (trailing zeros dropped); a dash for none."""
    if value is None:
        return DASH
    x = float(value)  # type: ignore[arg-type]
    if not math.isfinite(x):
        return DASH
    text = f"{x:.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def vital_value(vital: Vital | None, value: float | None) -> str:
    """A value with its vital's decimals (a dash for none)."""
    return number(value, SPECS[vital].decimals if vital is not None else 1)


def person(name: str | None, deidentify: bool) -> str:
    """A staff name, or ``staff`` in a de-identified report (system authors kept)."""
    name = (name or "").strip()
    if deidentify and name not in SYSTEM_AUTHORS:
        return "staff"
    return name


def profile_name(name: str | None) -> str:
    """The profile name with a file path shortened to its file name."""
    if not name:
        return DASH
    m = re.fullmatch(r"(.*?)\s*\((.*[/\\].*)\)", name)
    if m is None:
        return name
    file_name = re.split(r"[/\\]", m.group(2))[-1]
    return f"{m.group(1)} ({file_name})"


def phase_durations(record: SessionRecord) -> dict[Phase, float]:
    """Seconds spent in each phase (the last open phase runs to the session end)."""
    out: dict[Phase, float] = {}
    for span in record.phases:
        if span.phase is Phase.ENDED:
            continue
        end = span.end if span.end is not None else record.end
        out[span.phase] = out.get(span.phase, 0.0) + max(0.0, end - span.start)
    return out


def infusion_running_s(record: SessionRecord) -> float | None:
    """Infusion running time from the recorded start/pause/resume/stop actions."""
    running_since: float | None = None
    total = 0.0
    seen = False
    for a in record.infusion:
        if a.action in (InfusionAction.START, InfusionAction.RESUME):
            seen = True
            if running_since is None:
                running_since = a.t
        elif running_since is not None:
            total += a.t - running_since
            running_since = None
    if running_since is not None:
        total += record.end - running_since
    if not seen:
        return phase_durations(record).get(Phase.INFUSION)
    return total


def header_fields(record: SessionRecord, *, deidentify: bool) -> list[tuple[str, str]]:
    """The header as (label, value) pairs, in reading order.

    A de-identified record (see :func:`monitor.export.common.deidentify`)
    has its pseudonym as the patient reference, and neither date nor clinician.
    """
    setup = record.setup or {}
    clock = Clock(record.start, record.utc_offset_s, relative=deidentify)
    out: list[tuple[str, str]] = []
    patient = record.patient_ref or setup.get("patient_ref")
    if deidentify:
        out.append(("Patient", str(patient or "de-identified (no pseudonym key)")))
        out.append(("Date", "omitted (times relative to the session start)"))
    else:
        out.append(("Patient", str(patient or DASH)))
        start = clock.datetime(record.start)
        end = clock.datetime(record.end)
        out.append(("Date", f"{start:%Y-%m-%d} {start:%H:%M}-{end:%H:%M} ({clock.zone()})"))
        out.append(("Clinician", str(setup.get("clinician") or DASH)))
    out.append(("Session length", duration(record.end - record.start)))
    weight = setup.get("weight_kg")
    out.append(("Weight", f"{number(weight, 1)} kg" if weight is not None else DASH))
    dose = setup.get("dose_mg_per_kg")
    total = setup.get("total_mg")
    dose_text = f"{number(dose, 2)} mg/kg" if dose is not None else DASH
    if total is not None:
        dose_text += f", total {number(total, 1)} mg"
    out.append(("Dose", dose_text))
    planned = setup.get("planned_infusion_min")
    actual = infusion_running_s(record)
    out.append(("Infusion", f"planned {_minutes(planned)}, actual "
                            f"{_minutes(None if actual is None else actual / 60.0)}"))
    course_n, course_total = setup.get("course_number"), setup.get("course_total")
    if course_n is not None:
        course = f"{course_n} of {course_total}" if course_total is not None else f"{course_n}"
    else:
        course = DASH
    out.append(("Course", course))
    out.append(("Alarm profile",
                profile_name(str(setup.get("alarm_profile") or record.alarm_profile or ""))))
    sim = " (simulated)" if record.session.simulated else ""
    out.append(("Source", f"{record.session.source}{sim}"))
    if not deidentify:
        out.append(("Session", f"#{record.session_id}, {record.session.status.value}"))
    return out


def _minutes(value: object) -> str:
    return DASH if value is None else f"{number(value, 1)} min"


def alarm_log_rows(record: SessionRecord, *, deidentify: bool) -> list[list[str]]:
    """The alarm log: transitions, operator actions and limit changes, in time order.

    Columns: session time, local time (omitted when de-identified), alarm,
    priority, state, value, limit, who.
    """
    clock = Clock(record.start, record.utc_offset_s, relative=deidentify)
    timed: list[tuple[float, int, list[str]]] = []
    for i, a in enumerate(record.alarms):
        prio = a.priority.label.upper() if a.priority is Priority.HIGH else a.priority.label
        timed.append((a.t, i, [a.message or a.alarm_id, prio, a.state.value,
                               vital_value(a.vital, a.value), vital_value(a.vital, a.limit),
                               person(a.by, deidentify)]))
    for i, act in enumerate(record.alarm_actions):
        text = act.detail or act.action.replace("_", " ")
        timed.append((act.t, 10_000 + i, [text, "", act.action.replace("_", " "), "", "",
                                          person(act.by, deidentify)]))
    for i, ch in enumerate(record.limit_changes):
        what = f"{ch.rule_id} {ch.setting.replace('_s', ' (s)')}"
        if ch.reason:
            what += f": {ch.reason}"
        timed.append((ch.t, 20_000 + i, [what, "", "limit changed", number(ch.new, 1),
                                         f"was {number(ch.old, 1)}", person(ch.by, deidentify)]))
    timed.sort(key=lambda x: (x[0], x[1]))
    return [_with_times(clock, t, cells, deidentify) for t, _, cells in timed]


def episode_lasted(span: AlarmSpan) -> str:
    """``35 min``, ``35 min, then high`` (it escalated), or ``not cleared``."""
    if span.end is None:
        return "not cleared"
    lasted = duration(span.end - span.start)
    return lasted if span.escalated_to is None else f"{lasted}, then {span.escalated_to.label}"


def alarm_episode_rows(record: SessionRecord, *, deidentify: bool) -> list[list[str]]:
    """The alarms, one row per priority episode (the bars of the trend figure).

    Columns: session time, local time (omitted when de-identified), alarm,
    priority (``technical`` added for a technical alarm), lasted, peak (the
    most extreme value of the episode, a dash for a technical alarm).
    """
    clock = Clock(record.start, record.utc_offset_s, relative=deidentify)
    rows = []
    for span in record.alarm_spans():
        prio = span.priority.label.upper() if span.priority is Priority.HIGH \
            else span.priority.label
        if span.technical:
            prio += ", technical"
        peak = DASH if span.peak is None else vital_value(span.vital, span.peak)
        if span.peak is not None and span.vital is not None:
            peak += f" {SPECS[span.vital].unit}"
        rows.append(_with_times(clock, span.start, [span.message or span.alarm_id, prio,
                                                    episode_lasted(span), peak], deidentify))
    return rows


def event_rows(record: SessionRecord, *, deidentify: bool) -> tuple[list[float], list[list[str]]]:
    """The numbered event list and the time of each row (for the markers on the trends).

    Rows: number, session time, local time (omitted when de-identified),
    kind, text, author, corrected from. Nurse events, infusion actions and
    system notes are merged in time order.
    """
    clock = Clock(record.start, record.utc_offset_s, relative=deidentify)
    first_t: dict[str, float] = {}
    for c in sorted(record.corrections, key=lambda c: c.at):
        first_t.setdefault(c.event_id, c.old_t)
    timed: list[tuple[float, int, list[str]]] = []
    for i, e in enumerate(record.events):
        was = first_t.get(e.event_id)
        corrected = DASH if was is None else _time_text(clock, was, deidentify)
        timed.append((e.t, i, [e.kind.label, e.text, person(e.author, deidentify), corrected]))
    for i, a in enumerate(record.infusion):
        timed.append((a.t, 10_000 + i, [_INFUSION_TEXT[a.action], a.reason,
                                        person(a.by, deidentify), DASH]))
    for i, n in enumerate(record.notes):
        timed.append((n.t, 20_000 + i, [n.kind.replace("_", " ").capitalize(), n.text,
                                        person(n.author, deidentify), DASH]))
    timed.sort(key=lambda x: (x[0], x[1]))
    rows = [[str(k + 1), *_with_times(clock, t, cells, deidentify)]
            for k, (t, _, cells) in enumerate(timed)]
    return [t for t, _, _ in timed], rows


def _time_text(clock: Clock, t: float, deidentify: bool) -> str:
    return clock.session(t) if deidentify else f"{clock.session(t)} ({clock.local(t)})"


def _with_times(clock: Clock, t: float, cells: list[str], deidentify: bool) -> list[str]:
    if deidentify:
        return [clock.session(t), *cells]
    return [clock.session(t), clock.local(t), *cells]


def summary_vital_rows(summary: SessionSummary, clock: Clock) -> list[list[str]]:
    """Rows: vital, baseline, peak (at), lowest (at), end, time beyond each limit."""
    rows = []
    for vital in SUMMARY_VITALS:
        vs = summary.vitals.get(vital)
        if vs is None:
            continue
        spec = SPECS[vital]
        peak = vital_value(vital, vs.peak)
        if vs.peak_t is not None and vs.peak is not None:
            peak += f" at {clock.session(vs.peak_t)}"
        low = vital_value(vital, vs.lowest)
        if vs.lowest_t is not None and vs.lowest is not None:
            low += f" at {clock.session(vs.lowest_t)}"
        beyond = []
        for key, secs in vs.time_beyond.items():
            if secs <= 0:
                continue
            side, prio = _LIMIT_NAMES.get(key, (key, ""))
            lim = getattr(vs.limits, key, None) if vs.limits is not None else None
            beyond.append(f"{side} {number(lim, 1)} ({prio}): {duration(secs)}")
        if beyond:
            beyond_text = "; ".join(beyond)
        else:
            beyond_text = "never beyond a limit" if vs.time_beyond else DASH
        rows.append([f"{spec.label} ({spec.unit})", vital_value(vital, vs.baseline), peak, low,
                     vital_value(vital, vs.end), beyond_text])
    return rows


def alarm_counts_text(summary: SessionSummary) -> str:
    """``high 1, medium 0, low 0 (1 physiological) · technical 2``.

    Physiological alarms by the highest priority each reached; technical
    alarms (no data, sensor off, no alarm sound...) apart, whatever their priority.
    """
    counts = summary.alarm_counts
    total = sum(counts.values())
    escalated = (f", {summary.escalated_alarms} escalated (one row per priority below)"
                 if summary.escalated_alarms else "")
    return (", ".join(f"{p.label} {counts.get(p, 0)}" for p in sorted(Priority, reverse=True))
            + f" ({total} physiological{escalated}) \u00b7 technical "
            f"{summary.technical_alarms}")


def summary_lines(summary: SessionSummary, record: SessionRecord, clock: Clock, *,
                  deidentify: bool) -> list[tuple[str, str]]:
    """The rest of the summary as (label, text) pairs."""
    ph = summary.phase_durations
    phases = ", ".join(f"{p.value} {duration(ph[p])}" for p in Phase if p in ph)
    out = [("Phases", f"{phases or DASH} (session {duration(summary.duration_s)})")]
    pauses = "no pauses"
    if summary.pauses:
        pauses = f"{len(summary.pauses)} pause(s): " + "; ".join(
            f"{clock.session(p.start)}-{clock.session(p.end) if p.end else 'not resumed'}"
            f" ({duration((p.end or summary.end) - p.start)}"
            + (f", {p.reason})" if p.reason else ")") for p in summary.pauses)
    out.append(("Infusion", f"running {duration(summary.infusion_s)}, {pauses}"))
    if summary.ready_at is not None:
        ready = (f"at {clock.session(summary.ready_at)}, "
                 f"{duration(summary.time_to_ready_s)} after the infusion ended")
    else:
        ready = "not reached in this recording"
    out.append(("Discharge readiness", ready))
    out.append(("Alarms", alarm_counts_text(summary)))
    events = ", ".join(f"{k.label} {n}" for k, n in summary.event_counts.items() if n)
    out.append(("Events", events or "none"))
    rise = []
    for vital, value in summary.peak_rise.items():
        if value is not None:
            rise.append(f"{SPECS[vital].label} {value:+.0f}")
    out.append(("Peak rise over baseline", ", ".join(rise) or DASH))
    out.append(("Lowest SpO2", f"{number(summary.lowest_spo2)} %"
                if summary.lowest_spo2 is not None else DASH))
    sc = summary.scores
    out.append(("Scores", f"before: PHQ-9 {number(sc.get('phq9'))}, MADRS "
                          f"{number(sc.get('madrs'))}; after: CADSS {number(sc.get('cadss'))}"))
    setup = record.setup or {}
    if setup.get("discharge_at") is not None:
        t = float(setup["discharge_at"])  # type: ignore[arg-type]
        by = setup.get("discharge_by")
        text = _time_text(clock, t, deidentify)
        if by and not deidentify:
            text += f" by {by}"
        out.append(("Discharged", text))
    return out
