"""The chair's devices dialog: set the chair up once, start with its devices, remember them.

Serial devices are real pseudo-terminals (the port check looks for the path);
the chair file is a real file read back by the chair module.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from monitor import app as monitor_app
from monitor.acquisition.chair import (
    ChairConfig,
    SourceEntry,
    load_chair_config,
    save_chair_config,
)
from monitor.core.vitals import Vital
from monitor.ui.workflow.chair_dialog import OXIMETER_FIRST_TEXT, ChairDialog
from monitor.ui.workflow.source_dialog import SourceChoice

pytestmark = pytest.mark.qt_log_ignore("does not support propagateSizeHints")


@pytest.fixture
def ptys():
    """Two pseudo-terminals: the ports of an oximeter and a monitor."""
    opened = [os.openpty() for _ in range(2)]
    yield [os.ttyname(slave) for _, slave in opened]
    for master, slave in opened:
        os.close(master)
        os.close(slave)


@pytest.fixture
def make_dialog(qtbot):
    def factory(config: ChairConfig | None = None, problems=()) -> ChairDialog:
        dialog = ChairDialog(config or ChairConfig(), problems, list_ports=list)
        qtbot.addWidget(dialog)
        return dialog
    return factory


def listed(dialog: ChairDialog) -> list[str]:
    return [dialog.device_list.item(i).text() for i in range(dialog.device_list.count())]


def test_the_chair_file_devices_are_listed_in_order(make_dialog, ptys):
    config = ChairConfig("Chair 3", (SourceEntry(f"serial:{ptys[0]}", "masimo-ascii", "Masimo"),
                                     SourceEntry(f"serial:{ptys[1]}", "datex-s5")))
    dialog = make_dialog(config)
    assert listed(dialog) == [f"Masimo \u2014 serial:{ptys[0]} (masimo-ascii)",
                              f"Datex S/5 \u2014 serial:{ptys[1]} (datex-s5)"]
    assert dialog.chair_edit.text() == "Chair 3"
    assert dialog.ok_button.isEnabled() and dialog.problems() == []
    assert not dialog.problems_label.isVisibleTo(dialog)
    result = dialog.result_config()
    assert result.chair == "Chair 3" and result.sources == config.sources
    assert result.priority == {}                      # the default order: oximeter first


def test_adding_naming_and_ordering_devices(make_dialog, ptys):
    dialog = make_dialog()
    assert not dialog.ok_button.isEnabled()           # nothing to start with yet
    dialog.add_choice(SourceChoice(f"serial:{ptys[1]}", "datex-s5"))
    dialog.add_choice(SourceChoice(f"serial:{ptys[0]}", "nonin-2"))
    assert dialog.names() == ["Datex S/5", "Nonin"]
    # Rename the selected (last added) device: the tiles will say "SpO2 · Finger".
    dialog.name_edit.setText("Finger")
    dialog.name_edit.textEdited.emit("Finger")
    assert dialog.names() == ["Datex S/5", "Finger"]
    dialog.up_button.click()
    assert dialog.names() == ["Finger", "Datex S/5"]
    assert dialog.device_list.currentRow() == 0 and not dialog.up_button.isEnabled()
    # SpO2 and pulse rate from the monitor rather than the oximeter.
    items = [dialog.spo2_combo.itemText(i) for i in range(dialog.spo2_combo.count())]
    assert items == [OXIMETER_FIRST_TEXT, "Finger", "Datex S/5"]
    dialog.spo2_combo.setCurrentIndex(2)
    result = dialog.result_config()
    assert [e.name for e in result.sources] == ["Finger", ""]
    for vital in (Vital.SPO2, Vital.PULSE_RATE, Vital.PLETH):
        assert result.priority[vital] == ("Datex S/5", "Finger")
    dialog.device_list.setCurrentRow(1)
    dialog.remove_button.click()
    assert dialog.names() == ["Finger"]
    assert Vital.SPO2 not in dialog.result_config().priority  # the device chosen is gone


def test_two_devices_on_one_port_are_named_and_need_confirming(make_dialog, ptys, qtbot):
    dialog = make_dialog(problems=["source 3 (Capno): unknown protocol 'capno-x'; allowed: ..."])
    dialog.add_choice(SourceChoice(f"serial:{ptys[0]}", "masimo-ascii"))
    dialog.add_choice(SourceChoice(f"serial:{ptys[0]}", "datex-s5"))
    problems = dialog.problems()
    assert problems[0].startswith("source 3 (Capno): unknown protocol")
    assert any(p.startswith("source 2") and ptys[0] in p for p in problems[1:]), problems
    assert dialog.problems_label.isVisibleTo(dialog)
    assert "\u26a0 source 2" in dialog.problems_label.text()
    answers: list[str] = []

    def answer(button: QMessageBox.StandardButton) -> None:
        box = dialog.confirm_box
        answers.append(box.text())
        box.button(button).click()

    QTimer.singleShot(0, lambda: answer(QMessageBox.StandardButton.No))
    dialog.ok_button.click()
    assert dialog.result() != ChairDialog.DialogCode.Accepted    # gone back to the list
    assert "Start monitoring with Masimo only?" in answers[0]
    assert "source 3 (Capno)" in answers[0]
    QTimer.singleShot(0, lambda: answer(QMessageBox.StandardButton.Yes))
    dialog.ok_button.click()
    assert dialog.result() == ChairDialog.DialogCode.Accepted
    assert [e.protocol for e in dialog.result_config().sources] == ["masimo-ascii"]


def _accept_when_shown(qtbot, edit=None) -> list[ChairDialog]:
    """Accept the chair dialog :func:`pick_source` opens (after ``edit`` of it)."""
    seen: list[ChairDialog] = []

    def look() -> None:
        widget = QApplication.activeModalWidget()
        if isinstance(widget, ChairDialog):
            seen.append(widget)
            if edit is not None:
                edit(widget)
            widget.ok_button.click()
        else:
            QTimer.singleShot(20, look)

    QTimer.singleShot(0, look)
    return seen


def test_pick_source_opens_the_chair_file_and_remembers_the_change(qtbot, ptys, tmp_path):
    path = tmp_path / "chair.toml"
    save_chair_config(ChairConfig("Chair 1", (SourceEntry(f"serial:{ptys[0]}", "masimo-ascii"),)),
                      path)
    seen = _accept_when_shown(qtbot, lambda d: d.add_choice(
        SourceChoice(f"serial:{ptys[1]}", "datex-s5"), "Monitor"))
    result = monitor_app.pick_source(path)
    assert seen and [d.chair_edit.text() for d in seen] == ["Chair 1"]
    assert [e.source for e in result.sources] == [f"serial:{ptys[0]}", f"serial:{ptys[1]}"]
    again, problems = load_chair_config(path)
    assert problems == [] and again.chair == "Chair 1"
    assert [(e.protocol, e.name) for e in again.sources] == [("masimo-ascii", ""),
                                                             ("datex-s5", "Monitor")]


def test_pick_source_with_no_chair_file_starts_empty_and_writes_only_when_asked(
        qtbot, tmp_path: Path):
    path = tmp_path / "chair.toml"

    def one_sim_device(d: ChairDialog) -> None:
        assert d.entries() == []
        d.add_choice(SourceChoice("sim:typical", None))
        d.remember_check.setChecked(False)

    _accept_when_shown(qtbot, one_sim_device)
    result = monitor_app.pick_source(path)
    assert [e.source for e in result.sources] == ["sim:typical"]
    assert not path.exists()


def test_pick_source_tells_a_broken_chair_file_and_still_lets_the_nurse_start(
        qtbot, tmp_path: Path):
    path = tmp_path / "chair.toml"
    path.write_text("[[source]\nthis is not toml")
    problems: list[list[str]] = []

    def look(d: ChairDialog) -> None:
        problems.append(d.problems())
        d.add_choice(SourceChoice("sim:typical", None))
        d.remember_check.setChecked(False)
        # A problem is left (the file's): starting asks to confirm the devices that work.
        QTimer.singleShot(0, lambda: d.confirm_box.button(QMessageBox.StandardButton.Yes)
                          .click())

    _accept_when_shown(qtbot, look)
    result = monitor_app.pick_source(path)
    assert len(problems[0]) == 1 and str(path) in problems[0][0]
    assert "set up again" in problems[0][0]
    assert [e.source for e in result.sources] == ["sim:typical"]
