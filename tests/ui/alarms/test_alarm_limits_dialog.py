"""The alarm limits dialog: refuses bad values with the profile's message, sends good ones."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QDialog, QDialogButtonBox

from monitor.core.alarms.model import ChangeLimit, SetVitalAlarms
from monitor.core.alarms.profile import ProfileError
from monitor.core.alarms.profile_file import load_default_profile
from monitor.core.vitals import Vital
from monitor.ui.alarms.limits_dialog import AlarmLimitsDialog, order_changes


@pytest.fixture
def profile():
    return load_default_profile()


@pytest.fixture
def dialog(qtbot, profile):
    d = AlarmLimitsDialog(profile)
    qtbot.addWidget(d)
    d.sent = []
    d.commands_issued.connect(d.sent.append)
    return d


def _ok(dialog) -> None:
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()


def test_starts_from_the_profile_in_force(qtbot, profile):
    changed = profile.with_change("spo2.low.medium", "limit", 90.0)
    d = AlarmLimitsDialog(changed, vitals_off=(Vital.NIBP_DIA,))
    qtbot.addWidget(d)
    assert set(d.limit_boxes) == {r.rule_id for r in profile.rules}
    assert d.limit_boxes["spo2.low.medium"].value() == 90.0
    assert d.delay_boxes["spo2.low.medium"].value() == 10.0
    assert not d.delay_boxes["nibp_sys.high.medium"].isEnabled()  # per determination
    assert d.off_boxes[Vital.NIBP_DIA].isChecked()
    assert not d.off_boxes[Vital.SPO2].isChecked()
    assert d.changes() == []


def test_valid_change_is_sent_with_initials(dialog):
    dialog.limit_boxes["spo2.low.medium"].setValue(90)
    dialog.delay_boxes["hr.high.medium"].setValue(10)
    dialog.initials_edit.setText(" AB ")
    dialog.reason_edit.setText("COPD, usual SpO2 91")
    _ok(dialog)
    expected = [ChangeLimit("hr.high.medium", "delay_s", 10.0, "AB", "COPD, usual SpO2 91"),
                ChangeLimit("spo2.low.medium", "limit", 90.0, "AB", "COPD, usual SpO2 91")]
    assert dialog.sent == [expected]
    assert dialog.commands == dialog.sent[0]
    assert dialog.result() == QDialog.DialogCode.Accepted


def test_refused_without_initials(dialog):
    dialog.limit_boxes["spo2.low.medium"].setValue(90)
    _ok(dialog)
    assert dialog.sent == []
    assert "initials" in dialog.error_text()
    assert dialog.result() != QDialog.DialogCode.Accepted


def test_inverted_limit_is_refused_with_the_profile_message(dialog, profile):
    dialog.limit_boxes["hr.low.medium"].setValue(115)  # above the high limit 110
    dialog.initials_edit.setText("AB")
    _ok(dialog)
    assert dialog.sent == []
    with pytest.raises(ProfileError) as exc:
        profile.with_change("hr.low.medium", "limit", 115.0)
    assert dialog.error_text() == f"Not accepted \u2014 {exc.value}"
    assert "inverted limits" in dialog.error_text()
    assert dialog.limit_boxes["hr.low.medium"].property("refused") is True


def test_out_of_range_value_is_refused(dialog):
    dialog.limit_boxes["spo2.low.high"].setValue(120)
    dialog.initials_edit.setText("AB")
    _ok(dialog)
    assert dialog.sent == []
    assert "outside the physiological range of SpO2" in dialog.error_text()
    # Fixing it clears the way.
    dialog.limit_boxes["spo2.low.high"].setValue(86)
    _ok(dialog)
    assert dialog.sent == [[ChangeLimit("spo2.low.high", "limit", 86.0, "AB", "")]]


def test_too_long_delay_is_refused(dialog):
    dialog.delay_boxes["spo2.low.medium"].setValue(900)
    dialog.initials_edit.setText("AB")
    _ok(dialog)
    assert dialog.sent == []
    assert "delay" in dialog.error_text()
    assert dialog.delay_boxes["spo2.low.medium"].property("refused") is True


def test_moving_both_limits_is_sent_in_an_order_the_engine_accepts(dialog, profile):
    # Lowering hr.low.medium (50) to 35 is only allowed once hr.low.high (40) is below it.
    dialog.limit_boxes["hr.low.medium"].setValue(35)
    dialog.limit_boxes["hr.low.high"].setValue(30)
    dialog.initials_edit.setText("AB")
    _ok(dialog)
    [commands] = dialog.sent
    assert [c.rule_id for c in commands] == ["hr.low.high", "hr.low.medium"]
    p = profile
    for c in commands:  # the engine applies them one by one
        p = p.with_change(c.rule_id, c.setting, c.value)
    assert (p.rule("hr.low.medium").limit, p.rule("hr.low.high").limit) == (35.0, 30.0)


def test_order_changes_needs_a_working_order(profile):
    changes = [("hr.low.medium", "limit", 35.0), ("hr.low.high", "limit", 30.0)]
    ordered, result = order_changes(profile, changes)
    assert ordered == changes[::-1]
    assert result.rule("hr.low.medium").limit == 35.0
    with pytest.raises(ProfileError):
        order_changes(profile, [("spo2.low.high", "limit", -5.0)])


def test_turning_a_vital_off_needs_a_reason(dialog):
    dialog.off_boxes[Vital.SPO2].setChecked(True)
    dialog.initials_edit.setText("AB")
    _ok(dialog)
    assert dialog.sent == []
    assert "reason" in dialog.error_text()
    dialog.off_reasons[Vital.SPO2].setText("probe on a cold finger, checked by hand")
    _ok(dialog)
    assert dialog.sent == [[SetVitalAlarms(Vital.SPO2, False, "AB",
                                           "probe on a cold finger, checked by hand")]]


def test_turning_alarms_back_on(qtbot, profile):
    d = AlarmLimitsDialog(profile, vitals_off=(Vital.SPO2,))
    qtbot.addWidget(d)
    sent = []
    d.commands_issued.connect(sent.append)
    d.off_boxes[Vital.SPO2].setChecked(False)
    d.initials_edit.setText("CD")
    d.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    assert sent == [[SetVitalAlarms(Vital.SPO2, True, "CD")]]


def test_every_vital_off_is_refused(dialog):
    for vital, box in dialog.off_boxes.items():
        box.setChecked(True)
        dialog.off_reasons[vital].setText("test")
    dialog.initials_edit.setText("AB")
    _ok(dialog)
    assert dialog.sent == []
    assert "cannot all be off" in dialog.error_text()


def test_ok_without_changes_just_closes(dialog):
    _ok(dialog)
    assert dialog.sent == []
    assert dialog.result() == QDialog.DialogCode.Accepted
