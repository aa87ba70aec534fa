"""The alarm limits dialog: change a rule's limit or delay, or turn a vital's alarms off."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QLabel,
    QLineEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from monitor.core.alarms.model import AlarmCommand, ChangeLimit, LoadProfileFile, SetVitalAlarms
from monitor.core.alarms.profile import AlarmProfile, Basis, ProfileError, Rule
from monitor.core.vitals import SPECS, Vital
from monitor.ui.alarms.style import COLOURS
from monitor.ui.shared import theme
from monitor.ui.shared.dialog_style import use_font
from monitor.ui.shared.placement import keep_clear

Change = tuple[str, str, float]
"""``(rule_id, setting, value)``."""

LIMIT_RANGE = (-9999.0, 9999.0)
"""What the limit boxes accept as typing; the profile checks decide what is allowed."""
DELAY_RANGE = (0.0, 3600.0)

_STYLE = f"""
QDialog, QWidget#limits_table {{ background: {theme.PANEL}; }}
QLabel, QCheckBox {{ color: {theme.TEXT}; }}
QLabel#vital_heading {{ color: {theme.TEXT}; border-bottom: 1px solid {theme.PANEL_BORDER}; }}
QLineEdit, QDoubleSpinBox {{
    background: #161b22; color: {theme.TEXT}; border: 1px solid {theme.PANEL_BORDER};
    padding: 2px 4px;
}}
QDoubleSpinBox:disabled {{ color: {theme.TEXT_DIM}; }}
QDoubleSpinBox[refused="true"] {{ border: 2px solid {theme.WARNING_BG}; }}
QLabel#limits_error {{ background: {theme.WARNING_BG}; color: {theme.WARNING_TEXT};
    padding: 6px; }}
QScrollArea {{ border: 0; }}
"""


def order_changes(profile: AlarmProfile, changes: Iterable[Change]
                  ) -> tuple[list[Change], AlarmProfile]:
    """Check ``changes`` with :meth:`AlarmProfile.with_change`, in an order that works.

    The engine applies changes one at a time, so moving a low and a high
    limit together may only pass in one order (raise the high limit before
    the low one). Changes are tried repeatedly until all pass or none of
    those left does.

    Returns
    -------
    list of Change
        The order in which to send them.
    AlarmProfile
        The profile with every change applied.

    Raises
    ------
    ProfileError
        The first refusal among the changes that cannot be applied.
    """
    pending = list(changes)
    ordered: list[Change] = []
    while pending:
        applied = False
        first_error: ProfileError | None = None
        for change in list(pending):
            try:
                profile = profile.with_change(*change)
            except ProfileError as exc:
                first_error = first_error or exc
                continue
            ordered.append(change)
            pending.remove(change)
            applied = True
        if not applied and first_error is not None:
            raise first_error
    return ordered, profile


def _decimals(rule: Rule) -> int:
    return 0 if rule.basis is Basis.RISE_PCT else SPECS[rule.vital].decimals


def _unit(rule: Rule) -> str:
    return "%" if rule.basis is Basis.RISE_PCT else SPECS[rule.vital].unit


class AlarmLimitsDialog(QDialog):
    """Edit the session's alarm limits and delays, and turn a vital's alarms off or on.

    Starts from ``profile`` (the one in force). On OK every change is
    checked with :meth:`AlarmProfile.with_change`; a refused change keeps
    the dialog open with the profile's message and nothing is sent. The
    nurse's initials are required for any change, and a reason for turning
    a vital's alarms off.

    Parameters
    ----------
    profile : AlarmProfile
    vitals_off : sequence of Vital
        Vitals whose alarms are off now.
    parent : QWidget or None

    Attributes
    ----------
    limit_boxes, delay_boxes : dict[str, QDoubleSpinBox]
        By rule id.
    off_boxes : dict[Vital, QCheckBox]
    off_reasons : dict[Vital, QLineEdit]
    initials_edit, reason_edit : QLineEdit
    error_label : QLabel
    buttons : QDialogButtonBox
    commands : list
        What OK sent (empty until then).

    Signals
    -------
    commands_issued(list)
        On an accepted OK: the ``ChangeLimit`` and ``SetVitalAlarms``
        commands to send, in order.
    """

    commands_issued = Signal(list)

    def __init__(self, profile: AlarmProfile, *, vitals_off: Sequence[Vital] = (),
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Alarm limits \u2014 {profile.name}")
        self.setObjectName("alarm_limits")
        self.setStyleSheet(_STYLE)
        keep_clear(self)   # opened from the live window: over the trends, never the vitals
        self.setFont(theme.font(15))
        self._profile = profile
        self._off_before = frozenset(vitals_off)
        self.limit_boxes: dict[str, QDoubleSpinBox] = {}
        self.delay_boxes: dict[str, QDoubleSpinBox] = {}
        self.off_boxes: dict[Vital, QCheckBox] = {}
        self.off_reasons: dict[Vital, QLineEdit] = {}
        self.commands: list[AlarmCommand] = []

        table = QWidget()
        table.setObjectName("limits_table")
        grid = QGridLayout(table)
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(4)
        row = 0
        for col, title in enumerate(("Alarm", "Priority", "Limit", "", "Delay")):
            heading = QLabel(title)
            heading.setFont(theme.font(14, bold=True))
            heading.setStyleSheet(f"color: {theme.TEXT_DIM};")
            grid.addWidget(heading, row, col)
        row += 1
        vitals = list(dict.fromkeys(r.vital for r in profile.rules))
        for vital in vitals:
            row = self._add_vital(grid, row, vital)
            for rule in (r for r in profile.rules if r.vital is vital):
                self._add_rule(grid, row, rule)
                row += 1
        grid.setColumnStretch(0, 1)
        self._scroll = scroll = QScrollArea()
        scroll.setWidget(table)
        scroll.setWidgetResizable(True)

        self.initials_edit = QLineEdit()
        self.initials_edit.setMaxLength(8)
        self.initials_edit.setPlaceholderText("required")
        self.reason_edit = QLineEdit()
        self.reason_edit.setPlaceholderText("why the limits change (optional)")
        form = QFormLayout()
        form.addRow("Nurse initials", self.initials_edit)
        form.addRow("Reason", self.reason_edit)
        self.error_label = QLabel()
        self.error_label.setObjectName("limits_error")
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self._on_ok)
        self.buttons.rejected.connect(self.reject)
        self.load_button = self.buttons.addButton("Load profile file\u2026",
                                                  QDialogButtonBox.ButtonRole.ActionRole)
        self.load_button.clicked.connect(self._on_load_clicked)
        self.file_dialog: QFileDialog | None = None

        layout = QVBoxLayout(self)
        layout.addWidget(scroll, 1)
        layout.addLayout(form)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)
        use_font(self, 14)   # under a style sheet a dialog's font is not passed on by Qt
        # An explicit minimum keeps the layout from resizing the window's limits later.
        self.setMinimumSize(720, 480)
        self.resize(860, 680)
        self.initials_edit.setFocus()

    def _add_vital(self, grid: QGridLayout, row: int, vital: Vital) -> int:
        heading = QLabel(SPECS[vital].label)
        heading.setObjectName("vital_heading")
        heading.setFont(theme.font(17, bold=True))
        off = QCheckBox("Alarms off")
        off.setChecked(vital in self._off_before)
        reason = QLineEdit()
        reason.setPlaceholderText("reason for turning them off")
        reason.setEnabled(off.isChecked())
        off.toggled.connect(reason.setEnabled)
        self.off_boxes[vital] = off
        self.off_reasons[vital] = reason
        grid.addWidget(heading, row, 0)
        grid.addWidget(off, row, 1)
        grid.addWidget(reason, row, 2, 1, 3)
        return row + 1

    def _add_rule(self, grid: QGridLayout, row: int, rule: Rule) -> None:
        text = QLabel(rule.describe())
        text.setWordWrap(True)   # a long rule takes two lines, never a sideways scroll
        text.setToolTip(rule.rule_id)
        prio = QLabel(rule.priority.label.upper())
        colours = COLOURS[rule.priority]
        prio.setStyleSheet(f"background: {colours.lit}; color: {colours.lit_text};"
                           " padding: 0 6px;")
        prio.setAlignment(Qt.AlignmentFlag.AlignCenter)
        limit = QDoubleSpinBox()
        limit.setRange(*LIMIT_RANGE)
        limit.setDecimals(_decimals(rule))
        limit.setValue(rule.limit)
        limit.setKeyboardTracking(False)
        delay = QDoubleSpinBox()
        delay.setDecimals(0)
        delay.setSuffix(" s")
        if rule.discrete:  # NIBP is judged on each determination
            delay.setRange(0.0, 0.0)
            delay.setSpecialValueText("each reading")
            delay.setEnabled(False)
        else:
            delay.setRange(*DELAY_RANGE)
            delay.setValue(rule.delay_s)
        self.limit_boxes[rule.rule_id] = limit
        self.delay_boxes[rule.rule_id] = delay
        grid.addWidget(text, row, 0)
        grid.addWidget(prio, row, 1)
        grid.addWidget(limit, row, 2)
        grid.addWidget(QLabel(_unit(rule)), row, 3)
        grid.addWidget(delay, row, 4)

    # -- OK ----------------------------------------------------------------------

    def changes(self) -> list[Change]:
        """The limit and delay changes entered, in profile order."""
        out: list[Change] = []
        for rule in self._profile.rules:
            limit = self.limit_boxes[rule.rule_id].value()
            if round(limit, _decimals(rule)) != round(rule.limit, _decimals(rule)):
                out.append((rule.rule_id, "limit", limit))
            delay = self.delay_boxes[rule.rule_id]
            if delay.isEnabled() and round(delay.value()) != round(rule.delay_s):
                out.append((rule.rule_id, "delay_s", delay.value()))
        return out

    def error_text(self) -> str:
        """The refusal shown, or empty."""
        return self.error_label.text() if not self.error_label.isHidden() else ""

    def _refuse(self, message: str, box: QDoubleSpinBox | None = None) -> None:
        self.error_label.setText(message)
        self.error_label.show()
        for spin in (*self.limit_boxes.values(), *self.delay_boxes.values()):
            flagged = spin is box
            if bool(spin.property("refused")) != flagged:
                spin.setProperty("refused", flagged)
                spin.style().unpolish(spin)
                spin.style().polish(spin)
        if box is not None:
            self._scroll.ensureWidgetVisible(box)

    def _on_load_clicked(self) -> None:
        """Pick a profile file; the hub reads and checks it (the current one stays if refused)."""
        if not self.initials_edit.text().strip():
            self._refuse("Enter your initials to load an alarm profile.")
            self.initials_edit.setFocus()
            return
        dialog = QFileDialog(self, "Load alarm profile", "", "Alarm profiles (*.toml)")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        keep_clear(dialog, self.parentWidget())   # over the live window's trends too
        dialog.fileSelected.connect(self.load_file)
        self.file_dialog = dialog
        dialog.open()   # window-modal, no nested event loop

    def load_file(self, path: str) -> None:
        """Ask the engine to load the profile at ``path`` (needs the initials)."""
        initials = self.initials_edit.text().strip()
        if not initials:
            self._refuse("Enter your initials to load an alarm profile.")
            return
        self.commands = [LoadProfileFile(path, initials)]
        self.commands_issued.emit(self.commands)
        self.accept()

    def _on_ok(self) -> None:
        changes = self.changes()
        toggles = {v: box.isChecked() for v, box in self.off_boxes.items()
                   if box.isChecked() != (v in self._off_before)}
        if not changes and not toggles:
            self.accept()
            return
        initials = self.initials_edit.text().strip()
        if not initials:
            self._refuse("Enter your initials to change the alarm settings.")
            self.initials_edit.setFocus()
            return
        try:
            ordered, _ = order_changes(self._profile, changes)
        except ProfileError as exc:
            rule_id = exc.key.rsplit(".", 1)[0]
            setting = exc.key.rsplit(".", 1)[-1]
            boxes = self.delay_boxes if setting == "delay_s" else self.limit_boxes
            self._refuse(f"Not accepted \u2014 {exc}", boxes.get(rule_id))
            return
        off_after = {v for v, box in self.off_boxes.items() if box.isChecked()}
        if off_after >= set(self.off_boxes):
            self._refuse("The alarms of every vital cannot all be off.")
            return
        for vital, off in toggles.items():
            if off and not self.off_reasons[vital].text().strip():
                self._refuse(f"Give a reason for turning the {SPECS[vital].label} alarms off.")
                self.off_reasons[vital].setFocus()
                return
        reason = self.reason_edit.text().strip()
        commands: list[AlarmCommand] = [SetVitalAlarms(v, True, initials)
                                        for v, off in toggles.items() if not off]
        commands += [ChangeLimit(rule_id, setting, value, initials, reason)
                     for rule_id, setting, value in ordered]
        commands += [SetVitalAlarms(v, False, initials, self.off_reasons[v].text().strip())
                     for v, off in toggles.items() if off]
        self.commands = commands
        self.commands_issued.emit(commands)
        self.accept()
