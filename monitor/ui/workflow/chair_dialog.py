"""The chair's devices: every monitor and oximeter at the chair, set up once and remembered.

A chair often has two devices: a finger pulse oximeter (Masimo, Nonin) beside
a vital-signs monitor that takes the blood pressure. This dialog lists the
chair's devices as its configuration file has them
(:mod:`monitor.acquisition.chair`, ``<data folder>/chair.toml``), lets the
nurse add one (through the one-device :class:`~monitor.ui.workflow.source_dialog.SourceDialog`),
remove one, rename it (the name the tiles show: "SpO2 · Masimo"), order them,
and say which device is shown first for SpO2 and pulse rate (the default: the
dedicated oximeter). Every problem of the list (two devices on one port, the
same device twice, an unknown protocol, a port that is not there) is shown
as it is found; with a problem left, starting asks the nurse to confirm that
the session starts with the valid devices only, naming the ones left out.

The file is read and written by the caller (:func:`monitor.app.pick_source`),
not here: the dialog only edits a :class:`~monitor.acquisition.chair.ChairConfig`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from monitor.acquisition.chair import (
    ChairConfig,
    SourceEntry,
    check_entries,
    source_names,
    with_sources,
)
from monitor.core.vitals import Vital
from monitor.devices import serial_driver
from monitor.ui.shared import theme
from monitor.ui.workflow.port_scan import PortLister
from monitor.ui.workflow.source_dialog import SourceChoice, SourceDialog

OXIMETER_FIRST_TEXT = "the oximeter (default)"
PRIORITY_VITALS = (Vital.SPO2, Vital.PULSE_RATE, Vital.PLETH)
"""The vitals the "SpO2 and pulse rate from" choice orders (the pleth goes with SpO2)."""

_STYLE_SHEET = f"""
QDialog {{ background: {theme.PANEL}; }}
QLabel, QCheckBox {{ color: {theme.TEXT}; }}
QLabel#chair_hint {{ color: {theme.TEXT_DIM}; }}
QLabel#chair_problems {{ color: {theme.STATUS_TEXT}; }}
QListWidget, QLineEdit, QComboBox {{
    background: {theme.BACKGROUND};
    color: {theme.TEXT};
    border: 1px solid {theme.PANEL_BORDER};
}}
"""


def entry_from_choice(choice: SourceChoice, name: str = "") -> SourceEntry:
    """The chair entry of what the one-device dialog chose."""
    o = choice.overrides
    return SourceEntry(choice.source, choice.protocol, name,
                       baud=o.baudrate if o is not None else None,
                       parity=o.parity if o is not None else None,
                       stopbits=o.stopbits if o is not None else None,
                       flow=o.flow if o is not None else None,
                       bed=choice.bed, hl7_allow=choice.allow)


def entry_text(entry: SourceEntry, name: str) -> str:
    """One line of the device list: ``Masimo — serial:/dev/ttyUSB0 (masimo-ascii)``."""
    protocol = entry.implied_protocol
    return f"{name} \u2014 {entry.source}" + (f" ({protocol})" if protocol else "")


class ChairDialog(QDialog):
    """Edit the chair's devices, then start monitoring with them.

    Parameters
    ----------
    config : ChairConfig
        What the chair file says (or an empty configuration).
    problems : sequence of str
        The problems found reading the file (entries already left out of ``config``).
    list_ports, scenarios
        Passed to the one-device dialog that adds a device.
    """

    def __init__(self, config: ChairConfig, problems: Sequence[str] = (), *,
                 list_ports: PortLister = serial_driver.list_ports,
                 scenarios: Sequence[tuple[str, str]] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Devices at this chair")
        self.setStyleSheet(_STYLE_SHEET)
        self._list_ports = list_ports
        self._scenarios = scenarios
        self._config = config
        self._file_problems = list(problems)
        self._entries: list[SourceEntry] = list(config.sources)

        self.chair_edit = QLineEdit(config.chair or "")
        self.chair_edit.setPlaceholderText("e.g. Chair 3")
        self.device_list = QListWidget()
        self.device_list.setMinimumHeight(110)
        self.add_button = QPushButton("Add device\u2026")
        self.remove_button = QPushButton("Remove")
        self.up_button = QPushButton("Move up")
        self.down_button = QPushButton("Move down")
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("the device's name on the tiles")
        self.spo2_combo = QComboBox()
        self.problems_label = QLabel("")
        self.problems_label.setObjectName("chair_problems")
        self.problems_label.setWordWrap(True)
        self.remember_check = QCheckBox("Remember these devices for this chair")
        self.remember_check.setChecked(True)
        hint = QLabel("The first device that measures a vital and has a current value is "
                      "shown and alarmed for it; when it goes silent or reports a sensor "
                      "problem the next one takes over, and it comes back once its values "
                      "are valid again.")
        hint.setObjectName("chair_hint")
        hint.setWordWrap(True)

        buttons_row = QHBoxLayout()
        for button in (self.add_button, self.remove_button, self.up_button, self.down_button):
            buttons_row.addWidget(button)
        buttons_row.addStretch(1)
        form = QFormLayout()
        form.addRow("Chair", self.chair_edit)
        form.addRow("Name of the selected device", self.name_edit)
        form.addRow("SpO2 and pulse rate from", self.spo2_combo)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("Start monitoring")
        self.buttons.accepted.connect(self._on_accept)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Devices at this chair, in order of preference"))
        layout.addWidget(self.device_list, 1)
        layout.addLayout(buttons_row)
        layout.addLayout(form)
        layout.addWidget(hint)
        layout.addWidget(self.problems_label)
        layout.addWidget(self.remember_check)
        layout.addWidget(self.buttons)

        self.add_button.clicked.connect(self._on_add)
        self.remove_button.clicked.connect(self._on_remove)
        self.up_button.clicked.connect(lambda: self._move(-1))
        self.down_button.clicked.connect(lambda: self._move(1))
        self.device_list.currentRowChanged.connect(self._on_row_changed)
        self.name_edit.textEdited.connect(self._on_name_edited)
        chosen = config.priority.get(Vital.SPO2, ())
        self._spo2_first = chosen[0] if chosen else ""
        self.spo2_combo.currentIndexChanged.connect(self._on_spo2_changed)
        self._refresh()
        if self._entries:
            self.device_list.setCurrentRow(0)

    # -- what the dialog says -------------------------------------------------

    def entries(self) -> list[SourceEntry]:
        """The devices as listed now, in order."""
        return list(self._entries)

    def names(self) -> list[str]:
        """Each device's name in the session (its own, else its device name)."""
        return source_names(self._entries) if self._entries else []

    def problems(self) -> list[str]:
        """What is wrong with the list now (the file's problems first)."""
        _, found = check_entries(self._entries)
        return self._file_problems + found

    def valid_entries(self) -> list[SourceEntry]:
        return check_entries(self._entries)[0]

    def result_config(self, *, valid_only: bool = True) -> ChairConfig:
        """The chair configuration to start with (and to remember)."""
        entries = self.valid_entries() if valid_only else self.entries()
        config = with_sources(replace(self._config, chair=self.chair_edit.text().strip() or None),
                              entries)
        priority = {v: o for v, o in config.priority.items() if v not in PRIORITY_VITALS}
        names = source_names(entries) if entries else []
        if self._spo2_first and self._spo2_first in names:
            order = (self._spo2_first, *[n for n in names if n != self._spo2_first])
            priority.update({v: order for v in PRIORITY_VITALS})
        return replace(config, priority=priority)

    @property
    def remember(self) -> bool:
        """Whether the nurse wants the list written to the chair file."""
        return self.remember_check.isChecked()

    # -- handlers ----------------------------------------------------------------

    def _on_add(self) -> None:
        dialog = SourceDialog(self._list_ports, scenarios=self._scenarios, parent=self)
        dialog.setWindowTitle("Add a device to this chair")
        dialog.ok_button.setText("Add device")
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        choice = dialog.choice()
        if choice is None:
            return
        self._entries.append(entry_from_choice(choice))
        self._refresh()
        self.device_list.setCurrentRow(len(self._entries) - 1)

    def add_choice(self, choice: SourceChoice, name: str = "") -> None:
        """Add a device as the one-device dialog would (for scripts and tests)."""
        self._entries.append(entry_from_choice(choice, name))
        self._refresh()
        self.device_list.setCurrentRow(len(self._entries) - 1)

    def _on_remove(self) -> None:
        row = self.device_list.currentRow()
        if 0 <= row < len(self._entries):
            del self._entries[row]
            self._refresh()
            self.device_list.setCurrentRow(min(row, len(self._entries) - 1))

    def _move(self, step: int) -> None:
        row = self.device_list.currentRow()
        to = row + step
        if 0 <= row < len(self._entries) and 0 <= to < len(self._entries):
            self._entries[row], self._entries[to] = self._entries[to], self._entries[row]
            self._refresh()
            self.device_list.setCurrentRow(to)

    def _on_row_changed(self, row: int) -> None:
        ok = 0 <= row < len(self._entries)
        self.name_edit.setEnabled(ok)
        self.remove_button.setEnabled(ok)
        self.up_button.setEnabled(ok and row > 0)
        self.down_button.setEnabled(ok and row < len(self._entries) - 1)
        self.name_edit.setText(self._entries[row].name if ok else "")
        if ok:
            self.name_edit.setPlaceholderText(self.names()[row])

    def _on_name_edited(self, text: str) -> None:
        row = self.device_list.currentRow()
        if 0 <= row < len(self._entries):
            old = self.names()[row]
            self._entries[row] = replace(self._entries[row], name=text.strip())
            if self._spo2_first == old:
                self._spo2_first = self.names()[row]
            self._refresh(keep_row=row)

    def _on_spo2_changed(self, index: int) -> None:
        if index >= 0 and not self._refreshing:
            self._spo2_first = self.spo2_combo.itemData(index) or ""

    def _on_accept(self) -> None:
        problems = self.problems()
        if not problems:
            self.accept()
            return
        valid = self.valid_entries()
        if not valid:
            return   # the button is disabled then; a key press must not start nothing
        names = ", ".join(source_names(valid))
        box = QMessageBox(QMessageBox.Icon.Warning, "Some devices cannot be used",
                          "Not every device can be used:\n\n" + "\n".join(
                              f"\u2022 {p}" for p in problems)
                          + f"\n\nStart monitoring with {names} only?",
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                          self)
        box.setDefaultButton(QMessageBox.StandardButton.No)
        box.button(QMessageBox.StandardButton.Yes).setText(f"Start with {names}")
        box.button(QMessageBox.StandardButton.No).setText("Go back")
        self.confirm_box = box
        if box.exec() == QMessageBox.StandardButton.Yes:
            self.accept()

    # -- updating ----------------------------------------------------------------

    _refreshing = False

    def _refresh(self, keep_row: int | None = None) -> None:
        self._refreshing = True
        try:
            names = self.names()
            row = self.device_list.currentRow() if keep_row is None else keep_row
            self.device_list.blockSignals(True)
            self.device_list.clear()
            for entry, name in zip(self._entries, names, strict=True):
                self.device_list.addItem(entry_text(entry, name))
            self.device_list.blockSignals(False)
            if 0 <= row < len(self._entries):
                self.device_list.setCurrentRow(row)
            self.spo2_combo.clear()
            self.spo2_combo.addItem(OXIMETER_FIRST_TEXT, "")
            for name in names:
                self.spo2_combo.addItem(name, name)
            index = self.spo2_combo.findData(self._spo2_first) if self._spo2_first else 0
            self.spo2_combo.setCurrentIndex(max(0, index))
            problems = self.problems()
            self.problems_label.setText("\n".join(f"\u26a0 {p}" for p in problems))
            self.problems_label.setVisible(bool(problems))
            self.ok_button.setEnabled(bool(self.valid_entries()))
        finally:
            self._refreshing = False
        self._on_row_changed(self.device_list.currentRow())


def choose_chair(config: ChairConfig, problems: Sequence[str] = (), *,
                 parent: QWidget | None = None,
                 list_ports: PortLister = serial_driver.list_ports
                 ) -> tuple[ChairConfig, bool] | None:
    """Show :class:`ChairDialog` modally: the configuration to start with and whether to
    remember it, or ``None`` if the nurse cancelled."""
    dialog = ChairDialog(config, problems, list_ports=list_ports, parent=parent)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    return dialog.result_config(), dialog.remember


__all__ = ["ChairDialog", "choose_chair", "entry_from_choice", "entry_text"]
