"""Manual entry: the nurse types an NIBP (mean computed), HR, SpO2 or RR reading."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from monitor.core.vitals import SPECS, Vital, mean_arterial
from monitor.core.workflow.form_checks import FieldError, number
from monitor.core.workflow.manual import ManualEntryError, manual_readings
from monitor.core.workflow.messages import MANUAL_VITALS, ManualEntry
from monitor.ui.shared.dialog_style import (
    DIALOG_STYLE,
    field_row,
    line_edit,
    mark_refused,
    use_font,
)
from monitor.ui.shared.placement import keep_clear

CHOICE_LABELS: dict[Vital, str] = {Vital.NIBP_SYS: "NIBP", Vital.HR: "HR", Vital.SPO2: "SpO2",
                                   Vital.RESP_RATE: "RR"}
NO_MEAN_TEXT = "\u2014"


def _range_hint(vital: Vital) -> str:
    spec = SPECS[vital]
    lo, hi = spec.plausible
    return f"{lo:g}-{hi:g} {spec.unit}"


def mean_text(sys: str, dia: str) -> str:
    """The mean shown while the NIBP is typed (a dash until both numbers parse)."""
    try:
        s, d = number("sys", sys), number("dia", dia)
    except FieldError:
        return NO_MEAN_TEXT
    if not d < s:
        return NO_MEAN_TEXT
    return f"{round(mean_arterial(s, d))} mmHg"


class ManualEntryDialog(QDialog):
    """Type a reading taken by hand (manual cuff, or a monitor with no data port).

    The value is checked with :func:`monitor.core.workflow.manual.manual_readings`
    (the plausible ranges of :data:`monitor.core.vitals.SPECS`, systolic
    above diastolic) before anything is sent; a refused value keeps the
    dialog open with a message naming the range. Accepted values become a
    :class:`~monitor.core.workflow.messages.ManualEntry` for the hub, which
    records, shows and alarms them like any reading, marked manual.

    Parameters
    ----------
    initials : str
        The nurse's initials to start from.
    vital : Vital
        The vital selected first (NIBP by default).
    parent : QWidget or None

    Attributes
    ----------
    choices : dict[Vital, QRadioButton]
    sys_edit, dia_edit, value_edit, initials_edit : QLineEdit
    mean_label, error_label : QLabel
    buttons : QDialogButtonBox
    entry : ManualEntry or None
        The entry sent, once accepted.

    Signals
    -------
    entry_made(object)
        The :class:`ManualEntry` to send.
    """

    entry_made = Signal(object)

    def __init__(self, initials: str = "", vital: Vital = Vital.NIBP_SYS,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Manual entry")
        self.setStyleSheet(DIALOG_STYLE)
        keep_clear(self)   # opened from the live window: over the trends, never the vitals
        self.entry: ManualEntry | None = None
        self.choices: dict[Vital, QRadioButton] = {}
        group = QButtonGroup(self)
        choice_row = QHBoxLayout()
        for v in MANUAL_VITALS:
            button = QRadioButton(CHOICE_LABELS.get(v, SPECS[v].label))
            group.addButton(button)
            choice_row.addWidget(button)
            self.choices[v] = button
            button.toggled.connect(self._on_choice)
        choice_row.addStretch(1)
        self.sys_edit = line_edit("", _range_hint(Vital.NIBP_SYS), width=110)
        self.dia_edit = line_edit("", _range_hint(Vital.NIBP_DIA), width=110)
        self.mean_label = QLabel(NO_MEAN_TEXT)
        self.mean_label.setObjectName("dialog_value")
        self.value_edit = line_edit("", "", width=110)
        self.unit_label = QLabel()
        self.initials_edit = line_edit(initials, "required", width=110)
        self._form = QFormLayout()
        self._form.addRow("Reading", _wrap(choice_row))
        self._form.addRow("Systolic (mmHg)", self.sys_edit)
        self._form.addRow("Diastolic (mmHg)", self.dia_edit)
        self._form.addRow("Mean (computed)", self.mean_label)
        self._form.addRow("Value", field_row(self.value_edit, self.unit_label))
        self._form.addRow("Your initials", self.initials_edit)
        self.error_label = QLabel()
        self.error_label.setObjectName("dialog_error")
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        note = QLabel("The reading is stamped now, marked \u201cmanual\u201d wherever it is "
                      "shown, and alarmed like any other.")
        note.setObjectName("dialog_hint")
        note.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText("Enter reading")
        ok.setDefault(True)
        self.buttons.accepted.connect(self._on_ok)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(self._form)
        layout.addWidget(note)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)
        use_font(self)   # the dialogs' text size, on every child
        self.sys_edit.textChanged.connect(self._on_nibp_edited)
        self.dia_edit.textChanged.connect(self._on_nibp_edited)
        self.choices[vital if vital in self.choices else Vital.NIBP_SYS].setChecked(True)

    def vital(self) -> Vital:
        """The vital selected."""
        return next(v for v, b in self.choices.items() if b.isChecked())

    def select(self, vital: Vital) -> None:
        """Select the vital to enter."""
        self.choices[vital].setChecked(True)

    def error_text(self) -> str:
        """The problem shown, or empty."""
        return self.error_label.text() if not self.error_label.isHidden() else ""

    def _on_choice(self) -> None:
        vital = self.vital() if any(b.isChecked() for b in self.choices.values()) else None
        if vital is None:
            return
        nibp = vital is Vital.NIBP_SYS
        for widget in (self.sys_edit, self.dia_edit, self.mean_label):
            self._form.setRowVisible(widget, nibp)
        self._form.setRowVisible(self.value_edit.parentWidget(), not nibp)
        if not nibp:
            self.value_edit.setPlaceholderText(_range_hint(vital))
            self.unit_label.setText(SPECS[vital].unit)
        (self.sys_edit if nibp else self.value_edit).setFocus(Qt.FocusReason.OtherFocusReason)
        self.error_label.hide()

    def _on_nibp_edited(self) -> None:
        self.mean_label.setText(mean_text(self.sys_edit.text(), self.dia_edit.text()))

    def _entry(self) -> ManualEntry:
        """The entry as typed; raises FieldError or ManualEntryError for a bad one."""
        vital = self.vital()
        by = self.initials_edit.text().strip()
        if vital is Vital.NIBP_SYS:
            entry = ManualEntry(vital, number("Systolic", self.sys_edit.text()), by,
                                number("Diastolic", self.dia_edit.text()))
        else:
            entry = ManualEntry(vital, number(SPECS[vital].label, self.value_edit.text()), by)
        manual_readings(entry, 0.0)   # the same checks the hub makes; raises if refused
        return entry

    def _on_ok(self) -> None:
        edits = ((self.sys_edit, self.dia_edit) if self.vital() is Vital.NIBP_SYS
                 else (self.value_edit,))
        try:
            entry = self._entry()
        except FieldError as exc:
            self._refuse(f"{exc.field}: {exc.problem}", edits)
            return
        except ManualEntryError as exc:
            self._refuse(str(exc), edits)
            return
        for edit in (*edits, self.initials_edit):
            mark_refused(edit, False)
        if not entry.by:
            self._refuse("Your initials are required", (self.initials_edit,))
            return
        self.error_label.hide()
        self.entry = entry
        self.accept()
        self.entry_made.emit(entry)

    def _refuse(self, message: str, edits: tuple[QLineEdit, ...]) -> None:
        for edit in edits:
            mark_refused(edit, True)
        self.error_label.setText(message[:1].upper() + message[1:] + ".")
        self.error_label.show()


def _wrap(layout: QHBoxLayout) -> QWidget:
    box = QWidget()
    layout.setContentsMargins(0, 0, 0, 0)
    box.setLayout(layout)
    return box
