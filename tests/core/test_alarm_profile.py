"""The alarm profile: the shipped defaults, and refusal of bad files and changes."""

from __future__ import annotations

import pytest

from monitor.core.alarms.model import Priority
from monitor.core.alarms.profile import Basis, Op, ProfileError
from monitor.core.alarms.profile_file import (
    default_profile_path,
    load_default_profile,
    load_profile,
)
from monitor.core.vitals import Vital

GOOD_RULES = """
[[rule]]
id = "hr.high.medium"
alarm = "hr.high"
vital = "hr"
priority = "medium"
when = ">"
limit = 110
delay_s = 6

[[rule]]
id = "hr.low.medium"
alarm = "hr.low"
vital = "hr"
priority = "medium"
when = "<"
limit = 50
delay_s = 6
"""


def write(tmp_path, text, name="p.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_default_profile_has_the_issue_table():
    p = load_default_profile()
    assert p.name == "Ketamine infusion, adult"
    r = {x.rule_id: x for x in p.rules}
    assert (r["nibp_sys.high.medium"].op, r["nibp_sys.high.medium"].limit) == (Op.GT, 160)
    assert (r["nibp_sys.low.medium"].op, r["nibp_sys.low.medium"].limit) == (Op.LT, 90)
    c = r["nibp_sys.high.confirmed"]
    assert (c.priority, c.op, c.limit, c.confirm, c.within_s) == (Priority.HIGH, Op.GE, 180, 2, 300)
    assert (r["nibp_sys.high.single"].op, r["nibp_sys.high.single"].limit) == (Op.GE, 200)
    assert r["nibp_sys.low.high"].limit == 80
    assert r["nibp_dia.high.medium"].limit == 100
    assert r["nibp_dia.high.confirmed"].limit == 110 and r["nibp_dia.high.confirmed"].confirm == 2
    assert r["nibp_dia.high.single"].limit == 120
    assert (r["hr.high.medium"].limit, r["hr.high.medium"].delay_s) == (110, 6)
    assert (r["hr.high.high"].limit, r["hr.high.high"].delay_s) == (130, 6)
    assert (r["hr.high.sustained"].limit, r["hr.high.sustained"].delay_s) == (120, 300)
    assert (r["hr.low.medium"].limit, r["hr.low.high"].limit) == (50, 40)
    assert (r["spo2.low.medium"].op, r["spo2.low.medium"].limit,
            r["spo2.low.medium"].delay_s) == (Op.LT, 92, 10)
    assert (r["spo2.low.high"].op, r["spo2.low.high"].limit,
            r["spo2.low.high"].delay_s) == (Op.LE, 88, 0)
    assert (r["nibp_sys.rise.mmhg"].basis, r["nibp_sys.rise.mmhg"].limit) == (Basis.RISE, 40)
    assert (r["nibp_sys.rise.pct"].basis, r["nibp_sys.rise.pct"].limit) == (Basis.RISE_PCT, 30)
    assert r["nibp_dia.rise.mmhg"].limit == 25
    assert (r["hr.rise.pct"].basis, r["hr.rise.pct"].limit) == (Basis.RISE_PCT, 30)
    assert (r["spo2.fall.points"].basis, r["spo2.fall.points"].limit) == (Basis.FALL, 4)
    assert all(x.priority is Priority.LOW for x in p.rules if x.basis is not Basis.ABSOLUTE)
    assert p.pause_s == 120 and p.pause_choices_s == (60, 120, 180)
    assert p.off_reminder_s == 300
    assert p.latching[Priority.HIGH] and not p.latching[Priority.MEDIUM]


def test_discharge_thresholds_come_with_the_profile(tmp_path):
    d = load_default_profile().discharge
    assert (d.margin, d.min_recovery_s, d.min_spo2) == (0.20, 1200.0, 94.0)
    clinic = load_profile(write(tmp_path, 'name = "Clinic"\n[discharge]\nmargin_pct = 15\n'
                                          'min_recovery_min = 30\nmin_spo2 = 95\n' + GOOD_RULES))
    assert (clinic.discharge.margin, clinic.discharge.min_recovery_s,
            clinic.discharge.min_spo2) == (0.15, 1800.0, 95.0)


@pytest.mark.parametrize("table, key, problem", [
    ("margin_pct = 0", "discharge.margin_pct", "must be at least 5"),
    ("margin_pct = 80", "discharge.margin_pct", "must be at most 50"),
    ("min_recovery_min = 5", "discharge.min_recovery_min", "must be at least 10"),
    ("min_spo2 = 101", "discharge.min_spo2", "must be at most 100"),
    ('min_spo2 = "94"', "discharge.min_spo2", "must be a number"),
    ("escort = true", "discharge.escort", "unknown key"),
])
def test_bad_discharge_thresholds_are_refused(tmp_path, table, key, problem):
    path = write(tmp_path, f'name = "Clinic"\n[discharge]\n{table}\n' + GOOD_RULES)
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    assert info.value.key == key and problem in str(info.value)


def test_default_profile_file_is_in_resources():
    path = default_profile_path()
    assert path.parent.name == "alarm_profiles" and path.parent.parent.name == "resources"
    assert path.is_file()


def test_limit_lines_for_the_trends():
    lines = load_default_profile().limit_lines()
    assert lines[Vital.SPO2].low_medium == 92 and lines[Vital.SPO2].low_high == 88
    assert lines[Vital.NIBP_SYS].high_medium == 160 and lines[Vital.NIBP_SYS].high_high == 180
    assert lines[Vital.HR].high_high == 130  # the sustained (5-min) rule is not a line


@pytest.mark.parametrize("body, key, value_text, problem", [
    (GOOD_RULES.replace('vital = "hr"', 'vital = "heartrate"', 1), "rule[0].vital",
     "heartrate", "unknown vital"),
    (GOOD_RULES.replace("limit = 50", "limit = 120"), "hr.low.medium.limit", "120",
     "inverted limits"),
    (GOOD_RULES.replace("delay_s = 6", "delay_s = -3", 1), "rule[0].delay_s", "-3",
     "must not be negative"),
    (GOOD_RULES.replace('priority = "medium"', 'priority = "urgent"', 1), "rule[0].priority",
     "urgent", "unknown priority"),
    (GOOD_RULES.replace('when = ">"', 'when = "=>"', 1), "rule[0].when", "=>", "allowed"),
    (GOOD_RULES.replace("limit = 110", "limit = 400", 1), "rule[0].limit", "400",
     "physiological range"),
    (GOOD_RULES.replace("delay_s = 6", "dleay_s = 6", 1), "rule[0].dleay_s", "6", "unknown key"),
    (GOOD_RULES.replace('id = "hr.low.medium"', 'id = "hr.high.medium"'), "rule[1].id",
     "hr.high.medium", "used twice"),
    (GOOD_RULES.replace("delay_s = 6", "delay_s = 6\nsatseconds = 25", 1),
     "rule[0].satseconds", "25", "SpO2 low limit"),
])
def test_bad_profile_is_refused_naming_file_key_and_value(tmp_path, body, key, value_text,
                                                          problem):
    path = write(tmp_path, 'name = "Clinic"\n' + body)
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    err = info.value
    assert err.source == str(path) and err.key == key
    assert str(path) in str(err) and key in str(err) and value_text in str(err)
    assert problem in str(err)


def test_not_toml_and_missing_file_are_refused(tmp_path):
    with pytest.raises(ProfileError, match="not valid TOML"):
        load_profile(write(tmp_path, "name = [unclosed"))
    with pytest.raises(ProfileError, match="cannot be read"):
        load_profile(tmp_path / "absent.toml")


def test_satseconds_only_offered_settings(tmp_path):
    body = GOOD_RULES + """
[[rule]]
id = "spo2.low.medium"
alarm = "spo2.low"
vital = "spo2"
priority = "medium"
when = "<"
limit = 90
satseconds = 30
"""
    with pytest.raises(ProfileError, match="allowed: 0 \\(off\\), 10, 25, 50, 100"):
        load_profile(write(tmp_path, 'name = "x"\n' + body))
    ok = load_profile(write(tmp_path, 'name = "x"\n' + body.replace("= 30", "= 50"), "ok.toml"))
    assert ok.rule("spo2.low.medium").satseconds == 50


def test_a_high_limit_milder_than_the_medium_one_is_refused(tmp_path):
    body = GOOD_RULES + """
[[rule]]
id = "hr.high.high"
alarm = "hr.high"
vital = "hr"
priority = "high"
when = ">"
limit = 100
"""
    with pytest.raises(ProfileError, match="must lie beyond"):
        load_profile(write(tmp_path, 'name = "x"\n' + body))


def test_with_change_validates_and_keeps_the_original():
    p = load_default_profile()
    q = p.with_change("spo2.low.medium", "limit", 90)
    assert q.rule("spo2.low.medium").limit == 90 and p.rule("spo2.low.medium").limit == 92
    with pytest.raises(ProfileError, match="inverted limits"):
        p.with_change("hr.low.medium", "limit", 115)
    with pytest.raises(ProfileError, match="physiological range"):
        p.with_change("spo2.low.medium", "limit", 140)
    with pytest.raises(ProfileError, match="beyond"):
        p.with_change("spo2.low.high", "limit", 95)   # the high limit above the medium 92
    with pytest.raises(ProfileError, match="no such rule"):
        p.with_change("spo2.nonsense", "limit", 90)
    with pytest.raises(ProfileError, match="only limit"):
        p.with_change("spo2.low.medium", "priority", 3)
    with pytest.raises(ProfileError, match="delay"):
        p.with_change("hr.high.medium", "delay_s", -1)


def test_the_disclosure_document_matches_the_shipped_profile():
    from pathlib import Path

    from monitor.core.alarms.disclosure import render

    doc = Path(__file__).resolve().parents[2] / "docs" / "ALARMS.md"
    text = render(load_default_profile())
    assert doc.read_text(encoding="utf-8") == text, (
        "docs/ALARMS.md is out of date: python -m monitor.core.alarms.disclosure > docs/ALARMS.md")
    for rule in load_default_profile().rules:
        assert f"`{rule.alarm}`" in text
