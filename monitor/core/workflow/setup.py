"""The "New session" form as a value: who, what dose, which course, with validated ranges.

:class:`SessionSetup` cannot hold an invalid value: its constructor checks
every field and raises :class:`SetupError` naming the field, the value and
what is allowed. :func:`setup_problems` checks a whole form (strings or
numbers, as typed) and lists every problem at once, so the dialog can mark
each field; :func:`parse_setup` builds the setup from such a form.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import MISSING, asdict, dataclass, fields
from decimal import ROUND_HALF_UP, Decimal

from monitor.core.workflow.form_checks import FieldError, in_range, integer, optional_int, text

PATIENT_REF_MAX = 32
CLINICIAN_MAX = 64
WEIGHT_KG = (20.0, 300.0)
DOSE_MG_PER_KG = (0.05, 2.0)
PLANNED_MIN = (10.0, 240.0)
"""Planned infusion minutes: issue 5's "Bad input" range (40 usual, 60-90 extended)."""
DEFAULT_PLANNED_MIN = 40.0
PHQ9 = (0, 27)
MADRS = (0, 60)
CADSS = (0, 92)


class SetupError(FieldError):
    """A set-up field was refused; ``field`` names the :class:`SessionSetup` attribute."""


@dataclass(frozen=True)
class SessionSetup:
    """Everything the nurse enters before the baseline starts.

    Text fields are stripped; scores left empty are ``None``. Use
    :func:`dataclasses.replace` to add the post-session CADSS (it is
    validated again).

    Attributes
    ----------
    patient_ref : str
        An ID or initials (1-32 characters); links the sessions of a course.
    weight_kg : float
        20-300 kg.
    dose_mg_per_kg : float
        0.05-2.0 mg/kg.
    clinician : str
        The responsible clinician (required).
    planned_infusion_min : float
        10-240 min, default 40.
    course_number : int
        This session's number in the course, from 1.
    course_total : int or None
        Sessions planned in the course (at least ``course_number``), if known.
    alarm_profile : str
        Name of the alarm profile; empty means the profile currently loaded.
    source : str
        The data source, e.g. ``"serial:/dev/ttyUSB0"`` or ``"sim:typical"``.
    phq9, madrs : int or None
        Optional pre-session scores (PHQ-9 0-27, MADRS 0-60).
    cadss : int or None
        Optional post-session CADSS (0-92).
    """

    patient_ref: str
    weight_kg: float
    dose_mg_per_kg: float
    clinician: str
    planned_infusion_min: float = DEFAULT_PLANNED_MIN
    course_number: int = 1
    course_total: int | None = None
    alarm_profile: str = ""
    source: str = ""
    phq9: int | None = None
    madrs: int | None = None
    cadss: int | None = None

    def __post_init__(self) -> None:
        for name, value in _checked(asdict(self)).items():
            object.__setattr__(self, name, value)

    @property
    def total_mg(self) -> float:
        """The total dose, weight times dose, to 0.1 mg (halves round up: 36.25 -> 36.3)."""
        exact = Decimal(repr(self.weight_kg)) * Decimal(repr(self.dose_mg_per_kg))
        return float(exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))

    @property
    def planned_infusion_s(self) -> float:
        """The planned infusion time in seconds."""
        return self.planned_infusion_min * 60.0

    @property
    def course_text(self) -> str:
        """``"3 of 6"``, or ``"3"`` when the course length is not known."""
        if self.course_total is None:
            return str(self.course_number)
        return f"{self.course_number} of {self.course_total}"

    @property
    def patient_key(self) -> str:
        """The patient reference compared across sessions (case and spacing ignored)."""
        return " ".join(self.patient_ref.split()).casefold()

    def as_dict(self) -> dict[str, object]:
        """Plain values for JSON and the database; :func:`parse_setup` reads them back."""
        return asdict(self)


_Check = Callable[[object], object]
_CHECKS: dict[str, _Check] = {
    "patient_ref": lambda v: text("patient_ref", v, PATIENT_REF_MAX),
    "weight_kg": lambda v: in_range("weight_kg", v, *WEIGHT_KG, "kg"),
    "dose_mg_per_kg": lambda v: in_range("dose_mg_per_kg", v, *DOSE_MG_PER_KG, "mg/kg"),
    "clinician": lambda v: text("clinician", v, CLINICIAN_MAX),
    "planned_infusion_min": lambda v: in_range("planned_infusion_min", v, *PLANNED_MIN, "min"),
    "course_number": lambda v: integer("course_number", v, 1),
    "course_total": lambda v: (None if v is None or (isinstance(v, str) and not v.strip())
                               else integer("course_total", v, 1)),
    "alarm_profile": lambda v: text("alarm_profile", v, 200, required=False),
    "source": lambda v: text("source", v, 500, required=False),
    "phq9": lambda v: optional_int("phq9", v, PHQ9),
    "madrs": lambda v: optional_int("madrs", v, MADRS),
    "cadss": lambda v: optional_int("cadss", v, CADSS),
}
_DEFAULTS: dict[str, object] = {f.name: None if f.default is MISSING else f.default
                                for f in fields(SessionSetup)}


def _checked(form: Mapping[str, object]) -> dict[str, object]:
    """Every field checked; raises the first :class:`SetupError` in form order."""
    problems = setup_problems(form)
    if problems:
        raise problems[0]
    return {name: check(form.get(name, _DEFAULTS[name])) for name, check in _CHECKS.items()}


def setup_problems(form: Mapping[str, object]) -> list[SetupError]:
    """Every problem of a set-up form, in form order (empty when it is valid).

    ``form`` maps :class:`SessionSetup` field names to values as typed
    (strings are accepted for numbers; a decimal comma is read as a point).
    Missing optional fields take their defaults; unknown keys are refused.
    """
    problems: list[SetupError] = []
    parsed: dict[str, object] = {}
    for name, check in _CHECKS.items():
        try:
            parsed[name] = check(form.get(name, _DEFAULTS[name]))
        except FieldError as exc:
            problems.append(SetupError(exc.field, exc.value, exc.problem))
    number, total = parsed.get("course_number"), parsed.get("course_total")
    if isinstance(number, int) and isinstance(total, int) and total < number:
        problems.append(SetupError("course_total", form.get("course_total"),
                                   f"must be at least the course number ({number})"))
    problems.extend(SetupError(k, form[k], "is not a set-up field")
                    for k in form if k not in _CHECKS)
    return problems


def parse_setup(form: Mapping[str, object]) -> SessionSetup:
    """Build a :class:`SessionSetup` from a form (see :func:`setup_problems`).

    Raises
    ------
    SetupError
        For the first problem found.
    """
    return SessionSetup(**_checked(form))  # type: ignore[arg-type]
