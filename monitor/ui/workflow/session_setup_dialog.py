"""The "New session" dialog: patient, dose, plan, course and clinician before the baseline."""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QLabel,
    QLayout,
    QVBoxLayout,
    QWidget,
)

from monitor.core.workflow.form_checks import FieldError, in_range
from monitor.core.workflow.setup import (
    DEFAULT_PLANNED_MIN,
    DOSE_MG_PER_KG,
    MADRS,
    PHQ9,
    PLANNED_MIN,
    WEIGHT_KG,
    SessionSetup,
    SetupError,
    parse_setup,
    setup_problems,
)
from monitor.ui.shared.dialog_style import (
    DIALOG_STYLE,
    field_error_label,
    field_row,
    line_edit,
    mark_refused,
    use_font,
)

FIELD_LABELS: dict[str, str] = {
    "patient_ref": "Patient reference",
    "weight_kg": "Weight",
    "dose_mg_per_kg": "Dose",
    "planned_infusion_min": "Planned infusion",
    "course_number": "Course session",
    "course_total": "Course length",
    "clinician": "Responsible clinician",
    "alarm_profile": "Alarm profile",
    "source": "Source",
    "phq9": "PHQ-9",
    "madrs": "MADRS",
}
"""How each :class:`SessionSetup` field is named to the nurse (in error messages too)."""

SIMULATOR_DEFAULTS: dict[str, str] = {
    "patient_ref": "SIM-01", "weight_kg": "70", "dose_mg_per_kg": "0.5",
    "course_number": "1", "course_total": "6", "clinician": "Demo clinician",
}
"""A simulated session starts with one Enter: a demo patient, a usual dose."""

NO_TOTAL_TEXT = "\u2014 mg"


def total_text(weight: str, dose: str) -> str:
    """The total dose as shown while typing, e.g. ``"35.0 mg"`` (a dash until both are valid)."""
    try:
        kg = in_range("weight_kg", weight, *WEIGHT_KG, "kg")
        mg_per_kg = in_range("dose_mg_per_kg", dose, *DOSE_MG_PER_KG, "mg/kg")
    except FieldError:
        return NO_TOTAL_TEXT
    probe = SessionSetup("x", kg, mg_per_kg, "x")
    return f"{probe.total_mg:.1f} mg"


DEMO_SCHEME = "sim:"
"""The built-in simulator (demonstration and training): the only source prefilled."""

ERROR_WIDTH = 300
"""Width of the space beside a field where its refusal is written (two lines are kept)."""

_ROWS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Patient reference", ("patient_ref",)),
    ("Weight (kg)", ("weight_kg",)),
    ("Dose (mg/kg)", ("dose_mg_per_kg",)),
    ("Planned infusion (min)", ("planned_infusion_min",)),
    ("Course session", ("course_number", "course_total")),
    ("Responsible clinician", ("clinician",)),
    ("Alarm profile", ("alarm_profile",)),
    ("Source", ("source",)),
    ("PHQ-9 before", ("phq9",)),
    ("MADRS before", ("madrs",)),
)
"""The form's rows: the label and the :class:`SessionSetup` fields each row edits or shows."""


def is_demo_source(source: str) -> bool:
    """Whether ``source`` is the built-in simulator (a replay or a device is not a demo)."""
    return source.startswith(DEMO_SCHEME)


class SessionSetupDialog(QDialog):
    """Asks for everything a new session needs before its baseline starts.

    Every field is checked with :func:`~monitor.core.workflow.setup.setup_problems`
    when the nurse presses "Start session": a refused field gets a red
    border and its problem, with the allowed range, is written beside it;
    nothing closes until the form is valid. From then on the form is checked
    as it is typed, so a corrected value loses its refusal at once. The
    space for the refusals is kept empty beside every row, so the dialog
    never changes size and its buttons never move. The total dose is
    computed as the weight and dose are typed. The alarm profile and the
    source are shown, not edited here (they are chosen on the command line
    or in the source dialog).

    Parameters
    ----------
    source : str
        The data source, e.g. ``"sim:typical"``.
    alarm_profile : str
        The name of the alarm profile in force.
    demo : bool
        Prefill a demo patient so one Enter starts a demonstration session
        (only for the built-in simulator: see :func:`is_demo_source`).
    planned_min : float
        The planned infusion minutes to start from (40 unless a scenario says otherwise).
    values : mapping or None
        Text to prefill, by :class:`SessionSetup` field name (overrides the defaults).
    parent : QWidget or None

    Attributes
    ----------
    edits : dict[str, QLineEdit]
        The editable fields, by :class:`SessionSetup` field name.
    field_errors : dict[str, QLabel]
        The refusal beside each row, by the row's first field name.
    total_label, profile_label, source_label : QLabel
    buttons : QDialogButtonBox
    result_setup : SessionSetup or None
        The accepted set-up.

    Signals
    -------
    Only QDialog's own (``accepted`` once the form was valid).
    """

    def __init__(self, source: str, alarm_profile: str, *, demo: bool = False,
                 planned_min: float = DEFAULT_PLANNED_MIN,
                 values: Mapping[str, str] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New session")
        self.setStyleSheet(DIALOG_STYLE)
        self.result_setup: SessionSetup | None = None
        self._source = source
        self._profile = alarm_profile
        self._checking = False   # after the first "Start session": checked as typed
        self._shown: list[str] = []
        start = dict(SIMULATOR_DEFAULTS) if demo else {"course_number": "1"}
        start.update({"dose_mg_per_kg": start.get("dose_mg_per_kg", "0.5"),
                      "planned_infusion_min": f"{planned_min:g}"})
        start.update(values or {})
        e = self.edits = {
            "patient_ref": line_edit(start.get("patient_ref", ""), "ID or initials"),
            "weight_kg": line_edit(start.get("weight_kg", ""), "20-300", width=90),
            "dose_mg_per_kg": line_edit(start.get("dose_mg_per_kg", ""), "0.05-2", width=90),
            "planned_infusion_min": line_edit(start.get("planned_infusion_min", ""), "10-240",
                                              width=90),
            "course_number": line_edit(start.get("course_number", ""), "1", width=60),
            "course_total": line_edit(start.get("course_total", ""), "optional", width=80),
            "clinician": line_edit(start.get("clinician", ""), "name (required)"),
            "phq9": line_edit(start.get("phq9", ""), f"optional, {PHQ9[0]}-{PHQ9[1]}", width=130),
            "madrs": line_edit(start.get("madrs", ""), f"optional, {MADRS[0]}-{MADRS[1]}",
                               width=130),
        }
        for name, edit in e.items():
            edit.setObjectName(f"setup_{name}")
            edit.setMinimumWidth(max(edit.minimumWidth(), 60))
        self.total_label = QLabel(NO_TOTAL_TEXT)
        self.total_label.setObjectName("dialog_value")
        self.profile_label = QLabel(alarm_profile or "(the profile loaded)")
        self.source_label = QLabel(source or "(none)")
        shown = {
            "patient_ref": e["patient_ref"], "weight_kg": e["weight_kg"],
            "dose_mg_per_kg": field_row(e["dose_mg_per_kg"], QLabel("total"), self.total_label),
            "planned_infusion_min": field_row(
                e["planned_infusion_min"], _hint(f"{PLANNED_MIN[0]:g}-{PLANNED_MIN[1]:g} min")),
            "course_number": field_row(e["course_number"], QLabel("of"), e["course_total"]),
            "clinician": e["clinician"], "alarm_profile": self.profile_label,
            "source": self.source_label, "phq9": e["phq9"], "madrs": e["madrs"],
        }
        grid = QGridLayout()
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(2)
        self.field_errors: dict[str, QLabel] = {}
        self._row_of: dict[str, str] = {}
        for row, (label, fields) in enumerate(_ROWS):
            grid.addWidget(QLabel(label), row, 0)
            grid.addWidget(shown[fields[0]], row, 1)
            error = field_error_label(ERROR_WIDTH)
            grid.addWidget(error, row, 2)
            self.field_errors[fields[0]] = error
            self._row_of.update({f: fields[0] for f in fields})
        grid.setColumnStretch(1, 1)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText("Start session")
        ok.setDefault(True)
        self.buttons.accepted.connect(self._on_ok)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.setSizeConstraint(QLayout.SizeConstraint.SetFixedSize)   # never grows
        intro = _hint("The baseline starts with the session. The same patient reference "
                      "links this session to the others of the course.")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        layout.addLayout(grid)
        layout.addWidget(self.buttons)
        use_font(self)   # the dialogs' text size, on every child
        for error in self.field_errors.values():   # two lines kept, in the dialog's font
            error.setFixedHeight(2 * error.fontMetrics().lineSpacing() + 2)
        e["weight_kg"].textChanged.connect(self._on_dose_edited)
        e["dose_mg_per_kg"].textChanged.connect(self._on_dose_edited)
        for edit in e.values():
            edit.textChanged.connect(self._on_edited)
        self._on_dose_edited()
        first_empty = next((w for w in e.values() if not w.text()), e["patient_ref"])
        first_empty.setFocus(Qt.FocusReason.OtherFocusReason)

    def form(self) -> dict[str, str]:
        """The form as typed, by :class:`SessionSetup` field name."""
        out = {name: edit.text() for name, edit in self.edits.items()}
        out["alarm_profile"] = self._profile
        out["source"] = self._source
        return out

    def problems(self) -> list[SetupError]:
        """Every problem of the form as it stands (empty when it is valid)."""
        return setup_problems(self.form())

    def error_text(self) -> str:
        """The problems shown beside the fields, one a line (empty when none is)."""
        return "\n".join(self._shown)

    def _on_dose_edited(self) -> None:
        self.total_label.setText(total_text(self.edits["weight_kg"].text(),
                                            self.edits["dose_mg_per_kg"].text()))

    def _on_edited(self) -> None:
        if self._checking:
            self._show_problems(self.problems())

    def _show_problems(self, problems: list[SetupError]) -> None:
        """Mark the refused fields and write each problem beside its row."""
        refused = {p.field for p in problems}
        for name, edit in self.edits.items():
            mark_refused(edit, name in refused)
        by_row: dict[str, list[str]] = {}
        self._shown = []
        for p in problems:
            label = FIELD_LABELS.get(p.field, p.field)
            row = self._row_of.get(p.field, "source")
            several = len(self._row_of_fields(row)) > 1
            by_row.setdefault(row, []).append(
                f"{label}: {p.problem}" if several else p.problem[:1].upper() + p.problem[1:])
            self._shown.append(f"{label}: {p.problem}.")
        for row, label in self.field_errors.items():
            text = "; ".join(by_row.get(row, ()))
            text = f"{text}." if text else ""
            if label.text() != text:
                label.setText(text)

    def _row_of_fields(self, row: str) -> list[str]:
        return [f for f, r in self._row_of.items() if r == row]

    def _on_ok(self) -> None:
        self._checking = True
        problems = self.problems()
        self._show_problems(problems)
        if problems:
            refused = {p.field for p in problems}
            first = next((n for n in self.edits if n in refused), None)
            if first is not None:
                self.edits[first].setFocus(Qt.FocusReason.OtherFocusReason)
            return
        try:
            self.result_setup = parse_setup(self.form())
        except SetupError as exc:   # setup_problems found nothing: should not happen
            self._show_problems([exc])
            return
        self.accept()


def _hint(text: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName("dialog_hint")
    return label


def planned_min_hint(value: object) -> float:
    """A planned-minutes default: ``value`` if it is within the allowed range, else 40."""
    try:
        return in_range("planned_infusion_min", value, *PLANNED_MIN, "min")
    except FieldError:
        return DEFAULT_PLANNED_MIN

