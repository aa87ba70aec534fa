"""The "New session" dialog: defaults, the live total dose, refusals with the allowed range."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from monitor.ui.workflow.session_setup_dialog import (
    NO_TOTAL_TEXT,
    SessionSetupDialog,
    planned_min_hint,
)

pytestmark = pytest.mark.qt_log_ignore(r"does not support propagateSizeHints")


@pytest.fixture
def make_dialog(qtbot):
    def factory(**kw) -> SessionSetupDialog:
        kw.setdefault("simulated", False)
        dialog = SessionSetupDialog("serial:/dev/ttyUSB0", "Ketamine infusion, adult", **kw)
        qtbot.addWidget(dialog)
        return dialog
    return factory


def _fill(dialog, **values):
    for name, text in values.items():
        dialog.edits[name].setText(text)


def test_simulator_defaults_start_with_one_enter(qtbot, make_dialog):
    dialog = make_dialog(simulated=True)
    dialog.show()
    qtbot.waitExposed(dialog)
    qtbot.keyClick(dialog, Qt.Key.Key_Return)
    assert dialog.result() == QDialog.DialogCode.Accepted
    setup = dialog.result_setup
    assert setup.patient_ref == "SIM-01" and setup.weight_kg == 70
    assert setup.dose_mg_per_kg == 0.5 and setup.total_mg == 35.0
    assert setup.planned_infusion_min == 40 and setup.course_text == "1 of 6"
    assert setup.source == "serial:/dev/ttyUSB0"
    assert setup.alarm_profile == "Ketamine infusion, adult"
    assert setup.phq9 is None and setup.madrs is None


def test_shows_the_profile_and_source(make_dialog):
    dialog = make_dialog()
    assert dialog.profile_label.text() == "Ketamine infusion, adult"
    assert dialog.source_label.text() == "serial:/dev/ttyUSB0"


def test_total_dose_follows_the_typing(make_dialog):
    dialog = make_dialog()
    assert dialog.total_label.text() == NO_TOTAL_TEXT
    _fill(dialog, weight_kg="72.5")
    assert dialog.total_label.text() == "36.3 mg"      # 0.5 x 72.5 = 36.25, halves round up
    _fill(dialog, dose_mg_per_kg="0,75")
    assert dialog.total_label.text() == "54.4 mg"
    _fill(dialog, weight_kg="abc")
    assert dialog.total_label.text() == NO_TOTAL_TEXT


def test_a_full_form_becomes_a_session_setup(make_dialog):
    dialog = make_dialog(planned_min=60)
    _fill(dialog, patient_ref=" JD-104 ", weight_kg="81", dose_mg_per_kg="0.5",
          course_number="3", course_total="6", clinician="Dr Lee", phq9="18", madrs="31")
    assert dialog.edits["planned_infusion_min"].text() == "60"
    dialog.buttons.accepted.emit()
    setup = dialog.result_setup
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert (setup.patient_ref, setup.course_text, setup.clinician) == ("JD-104", "3 of 6", "Dr Lee")
    assert (setup.phq9, setup.madrs, setup.planned_infusion_min) == (18, 31, 60)


@pytest.mark.parametrize("field,text,message", [
    ("weight_kg", "350", "Weight: allowed range is 20-300 kg."),
    ("weight_kg", "19.9", "Weight: allowed range is 20-300 kg."),
    ("dose_mg_per_kg", "2.5", "Dose: allowed range is 0.05-2 mg/kg."),
    ("planned_infusion_min", "5", "Planned infusion: allowed range is 10-240 min."),
    ("phq9", "28", "PHQ-9: must be a whole number from 0 to 27."),
    ("madrs", "x", "MADRS: must be a number."),
    ("course_total", "2", "Course length: must be at least the course number (3)."),
])
def test_refuses_bad_input_with_the_allowed_range(make_dialog, field, text, message):
    dialog = make_dialog(simulated=True)
    _fill(dialog, course_number="3")
    _fill(dialog, **{field: text})
    dialog.buttons.accepted.emit()
    assert dialog.result() != QDialog.DialogCode.Accepted and dialog.result_setup is None
    assert message in dialog.error_text()
    assert dialog.edits[field].property("refused")


def test_lists_every_missing_field_for_a_real_device(make_dialog):
    dialog = make_dialog()
    dialog.buttons.accepted.emit()
    text = dialog.error_text()
    for expected in ("Patient reference: is required", "Weight: is required",
                     "Responsible clinician: is required"):
        assert expected in text
    _fill(dialog, patient_ref="AB", weight_kg="60", clinician="Dr Lee")
    dialog.buttons.accepted.emit()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert not dialog.edits["weight_kg"].property("refused")


def test_planned_minutes_hint():
    assert planned_min_hint(60) == 60
    assert planned_min_hint(None) == 40
    assert planned_min_hint(5) == 40        # a scenario's odd value never blocks the dialog
