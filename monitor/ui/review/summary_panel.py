"""The review summary: per-vital baseline, peak, lowest and end, and the session timings."""

from __future__ import annotations

import math

from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from monitor.core.alarms.model import Priority
from monitor.core.session import Phase
from monitor.core.vitals import SPECS, Vital
from monitor.review.summary import SessionSummary, VitalSummary
from monitor.ui.shared.formatting import format_elapsed, format_value

NONE_TEXT = "\u2014"
"""A number that does not exist (no baseline, never reached)."""

COLUMNS = ("Vital", "Baseline", "Peak", "Lowest", "End", "Time beyond\nlimits")
"""The vitals table's titles (the last one breaks, so it fits a narrow column)."""
_BEYOND = {"high_medium": ">", "high_high": ">", "low_medium": "<", "low_high": "<"}
_SCORES = (("phq9", "PHQ-9 before"), ("madrs", "MADRS before"), ("cadss", "CADSS after"))


def value_text(vital: Vital, value: float | None) -> str:
    """A value with the vital's decimals (no unit: the row's title has it), or a dash."""
    if value is None or not math.isfinite(value):
        return NONE_TEXT
    return format_value(vital, value)


def vital_title(vital: Vital) -> str:
    """``"NIBP sys (mmHg)"``."""
    unit = SPECS[vital].unit
    return f"{SPECS[vital].label} ({unit})" if unit else SPECS[vital].label


def when_text(vital: Vital, value: float | None, t: float | None, start: float) -> str:
    """``"193 at +0:45:00"`` (or a dash)."""
    if value is None or not math.isfinite(value):
        return NONE_TEXT
    return f"{value_text(vital, value)} at {offset_text(t, start)}"


def offset_text(t: float | None, start: float) -> str:
    """``"+0:23:27"`` since the session start, or a dash."""
    return NONE_TEXT if t is None else f"+{format_elapsed(t - start)}"


def minutes_text(seconds: float | None) -> str:
    """``"12.5 min"`` (a dash for ``None``)."""
    if seconds is None or not math.isfinite(seconds):
        return NONE_TEXT
    return f"{seconds / 60.0:.1f} min"


def beyond_text(vs: VitalSummary) -> str:
    """``"> 160: 12.5 min, > 180: 3.0 min"``: time beyond each limit crossed.

    ``"none"`` when no limit was crossed, a dash when the vital has no limits.
    """
    parts = []
    for field, seconds in vs.time_beyond.items():
        if not seconds > 0:
            continue
        limit = getattr(vs.limits, field, None) if vs.limits is not None else None
        what = f"{_BEYOND.get(field, field)} {limit:g}" if limit is not None else field
        parts.append(f"{what}: {minutes_text(seconds)}")
    if parts:
        return ", ".join(parts)
    return "none" if vs.time_beyond else NONE_TEXT


def vital_cells(vs: VitalSummary, start: float) -> tuple[str, ...]:
    """The table row of one vital."""
    return (vital_title(vs.vital), value_text(vs.vital, vs.baseline),
            when_text(vs.vital, vs.peak, vs.peak_t, start),
            when_text(vs.vital, vs.lowest, vs.lowest_t, start),
            value_text(vs.vital, vs.end), beyond_text(vs))


def phases_text(s: SessionSummary) -> str:
    """``"baseline 10.0 min, infusion 40.0 min, recovery 40.0 min"``."""
    return ", ".join(f"{p.value} {minutes_text(s.phase_durations[p])}"
                     for p in (Phase.BASELINE, Phase.INFUSION, Phase.RECOVERY)
                     if p in s.phase_durations) or NONE_TEXT


def infusion_text(s: SessionSummary) -> str:
    """Running time and pauses: ``"40.0 min running; 1 pause: 3.0 min (nausea)"``."""
    text = f"{minutes_text(s.infusion_s)} running"
    if not s.pauses:
        return f"{text}; no pauses"
    pauses = []
    for p in s.pauses:
        lasted = "not resumed" if p.end is None else minutes_text(p.end - p.start)
        pauses.append(f"{lasted} at {offset_text(p.start, s.start)}"
                      + (f" ({p.reason})" if p.reason else ""))
    word = "pause" if len(s.pauses) == 1 else "pauses"
    return f"{text}; {len(s.pauses)} {word}: " + "; ".join(pauses)


def ready_text(s: SessionSummary) -> str:
    """When the discharge criteria first held, and how long after the infusion."""
    if s.ready_at is None:
        return "criteria not met in recovery"
    after = f", {minutes_text(s.time_to_ready_s)} after the infusion" \
        if s.time_to_ready_s is not None else ""
    return f"at {offset_text(s.ready_at, s.start)}{after}"


def alarms_text(s: SessionSummary) -> str:
    """``"high 2, medium 0, low 1 · technical 1"``: physiological alarms, technical apart.

    Each alarm counts once, at the highest priority it reached; escalations
    are said (``"high 2 (1 escalated)"``), since the alarm list shows an
    escalated alarm as one row per priority.
    """
    return ", ".join(f"{p.label} {s.alarm_counts.get(p, 0)}"
                     for p in (Priority.HIGH, Priority.MEDIUM, Priority.LOW)) \
        + escalated_text(s) + f" \u00b7 technical {s.technical_alarms}"


def escalated_text(s: SessionSummary) -> str:
    """``" (1 escalated, one row per priority in the list)"``, or "" without escalations."""
    if not s.escalated_alarms:
        return ""
    return f" ({s.escalated_alarms} escalated, one row per priority in the list)"


def events_text(s: SessionSummary) -> str:
    """``"Nausea 1, Antiemetic given 1"`` (a dash if none)."""
    return ", ".join(f"{k.label} {n}" for k, n in s.event_counts.items() if n) or NONE_TEXT


def scores_text(s: SessionSummary) -> str:
    """``"PHQ-9 before 14, MADRS before 22, CADSS after —"``."""
    return ", ".join(f"{label} {NONE_TEXT if s.scores.get(key) is None else s.scores[key]}"
                     for key, label in _SCORES)


class SummaryPanelWidget(QWidget):
    """The summary of one session (:func:`monitor.review.summary.summarize`).

    Parameters
    ----------
    summary : SessionSummary or None
    error : str
        Shown instead when there is no summary.
    parent : QWidget or None

    Attributes
    ----------
    vitals_table : QTableWidget
        One row per vital: :data:`COLUMNS`.
    labels : dict of str to QLabel
        ``duration``, ``phases``, ``infusion``, ``ready``, ``alarms``,
        ``events``, ``scores``.

    Signals
    -------
    None of its own.
    """

    def __init__(self, summary: SessionSummary | None, error: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.labels: dict[str, QLabel] = {}
        self.vitals_table = QTableWidget(0, len(COLUMNS))
        self.vitals_table.setHorizontalHeaderLabels(COLUMNS)
        self.vitals_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.vitals_table.verticalHeader().setVisible(False)
        header = self.vitals_table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        # The time beyond limits takes the room the numbers leave and wraps in it.
        header.setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        self.vitals_table.setWordWrap(True)
        header.sectionResized.connect(lambda *_: self.vitals_table.resizeRowsToContents())
        if summary is None:
            message = QLabel(f"No summary for this session: {error or 'not available'}")
            message.setObjectName("summary_error")
            message.setWordWrap(True)
            layout.addWidget(message)
            self.labels["error"] = message
            layout.addStretch(1)
            return
        self.vitals_table.setRowCount(len(summary.vitals))
        for i, vs in enumerate(summary.vitals.values()):
            for j, text in enumerate(vital_cells(vs, summary.start)):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.vitals_table.setItem(i, j, item)
        self.vitals_table.resizeRowsToContents()
        form = QFormLayout()
        for key, title, text in (
                ("duration", "Duration", minutes_text(summary.duration_s)),
                ("phases", "Phases", phases_text(summary)),
                ("infusion", "Infusion", infusion_text(summary)),
                ("ready", "Discharge ready", ready_text(summary)),
                ("alarms", "Alarms", alarms_text(summary)),
                ("events", "Events", events_text(summary)),
                ("scores", "Scores", scores_text(summary))):
            label = QLabel(text)
            label.setWordWrap(True)
            form.addRow(f"{title}:", label)
            self.labels[key] = label
        layout.addLayout(form)
        layout.addWidget(self.vitals_table, 1)
