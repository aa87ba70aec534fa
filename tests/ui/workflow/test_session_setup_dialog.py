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
        kw.setdefault("demo", False)
        dialog = SessionSetupDialog("serial:/dev/ttyUSB0", "Ketamine infusion, adult", **kw)
        qtbot.addWidget(dialog)
        return dialog
    return factory


def _fill(dialog, **values):
    for name, text in values.items():
        dialog.edits[name].setText(text)


def test_simulator_defaults_start_with_one_enter(qtbot, make_dialog):
    dialog = make_dialog(demo=True)
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
    dialog = make_dialog(demo=True)
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


@pytest.mark.parametrize("source,simulated,demo", [
    ("sim:typical", True, True),                  # the built-in simulator: a demo
    ("replay:/data/session-3.db", True, False),   # a replayed recording is not a demo
    ("serial:/dev/ttyUSB0", False, False),        # a bedside monitor never is
])
def test_demo_values_only_for_the_built_in_simulator(qtbot, source, simulated, demo):
    from monitor.ui.application import setup_dialog

    dialog = setup_dialog(source, "Ketamine infusion, adult", simulated=simulated)
    qtbot.addWidget(dialog)
    typed = {name: edit.text() for name, edit in dialog.edits.items()}
    if demo:
        assert (typed["patient_ref"], typed["weight_kg"], typed["clinician"]) == (
            "SIM-01", "70", "Demo clinician")
    else:
        assert typed["patient_ref"] == typed["weight_kg"] == typed["clinician"] == ""
        assert "SIM" not in " ".join(typed.values())


def test_a_corrected_value_loses_its_refusal_at_once(make_dialog):
    dialog = make_dialog(demo=True)
    _fill(dialog, weight_kg="350", phq9="30")
    dialog.buttons.accepted.emit()
    assert dialog.field_errors["weight_kg"].text() == "Allowed range is 20-300 kg."
    assert dialog.edits["weight_kg"].property("refused")
    _fill(dialog, weight_kg="72")                    # corrected: no OK needed to clear it
    assert dialog.field_errors["weight_kg"].text() == ""
    assert not dialog.edits["weight_kg"].property("refused")
    assert "Weight" not in dialog.error_text()
    assert "PHQ-9: must be a whole number from 0 to 27." in dialog.error_text()  # still wrong
    _fill(dialog, phq9="12")
    assert dialog.error_text() == ""
    assert all(label.text() == "" for label in dialog.field_errors.values())


def test_no_refusal_is_shown_before_the_first_start(make_dialog):
    dialog = make_dialog()
    _fill(dialog, weight_kg="3")
    assert dialog.error_text() == "" and not dialog.edits["weight_kg"].property("refused")


def test_refusals_sit_beside_their_fields_and_nothing_moves(qtbot, make_dialog):
    dialog = make_dialog()          # a device: every required field empty
    dialog.show()
    qtbot.waitExposed(dialog)
    size = dialog.size()
    ok = dialog.buttons.button(dialog.buttons.StandardButton.Ok)
    ok_at = ok.mapTo(dialog, ok.rect().topLeft())
    _fill(dialog, phq9="99", madrs="x", course_number="4", course_total="2", dose_mg_per_kg="9")
    dialog.buttons.accepted.emit()
    assert dialog.result() != QDialog.DialogCode.Accepted
    assert dialog.size() == size                                  # the dialog did not grow
    assert ok.mapTo(dialog, ok.rect().topLeft()) == ok_at          # nor did its buttons move
    shown = {name: label for name, label in dialog.field_errors.items() if label.text()}
    assert set(shown) >= {"patient_ref", "weight_kg", "dose_mg_per_kg", "course_number",
                          "clinician", "phq9", "madrs"}
    for name, label in shown.items():
        edit = dialog.edits[name]
        field = edit.geometry().translated(edit.parentWidget().mapTo(dialog, edit.pos())
                                           - edit.pos())
        beside = label.geometry().translated(label.parentWidget().mapTo(dialog, label.pos())
                                             - label.pos())
        assert beside.left() >= field.right(), name               # to the right of its field
        assert beside.top() <= field.center().y() <= beside.bottom(), name   # on its row
        # every word is shown: the text needs no more height than the space kept for it
        assert label.heightForWidth(label.width()) <= label.height(), label.text()
    assert "Course length: must be at least the course number (4)." in \
        shown["course_number"].text()
