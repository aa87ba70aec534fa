"""The New-session form: ranges, messages naming field and range, derived values."""

import dataclasses

import pytest

from monitor.core.workflow.setup import (
    SessionSetup,
    SetupError,
    parse_setup,
    setup_problems,
)


def make(**kw):
    base = {"patient_ref": "AB-0012", "weight_kg": 72.0, "dose_mg_per_kg": 0.5,
            "clinician": "Dr Okafor"}
    base.update(kw)
    return SessionSetup(**base)


def test_valid_setup_has_defaults_and_derived_values():
    s = make(course_number=3, course_total=6)
    assert s.planned_infusion_min == 40.0
    assert s.planned_infusion_s == 2400.0
    assert s.total_mg == 36.0
    assert s.course_text == "3 of 6"
    assert (s.phq9, s.madrs, s.cadss) == (None, None, None)


def test_course_text_without_total():
    assert make(course_number=4).course_text == "4"


@pytest.mark.parametrize("weight,dose,total", [(72.4, 0.5, 36.2), (83.0, 0.55, 45.7),
                                               (72.5, 0.5, 36.3), (64.9, 0.5, 32.5),
                                               (20, 0.05, 1.0), (300, 2.0, 600.0),
                                               (61.3, 0.75, 46.0)])
def test_total_mg_is_weight_times_dose_to_a_tenth(weight, dose, total):
    assert make(weight_kg=weight, dose_mg_per_kg=dose).total_mg == total


def test_text_fields_are_stripped_and_numbers_made_float():
    s = make(patient_ref="  jd  ", clinician=" Dr A ", weight_kg=70)
    assert s.patient_ref == "jd"
    assert s.clinician == "Dr A"
    assert isinstance(s.weight_kg, float)


def test_patient_key_links_the_course_regardless_of_case_and_spacing():
    assert make(patient_ref="AB  12").patient_key == make(patient_ref="ab 12").patient_key
    assert make(patient_ref="AB12").patient_key != make(patient_ref="AB13").patient_key


@pytest.mark.parametrize("field,value,fragment", [
    ("weight_kg", 19.9, "20-300 kg"),
    ("weight_kg", 300.1, "20-300 kg"),
    ("dose_mg_per_kg", 0.04, "0.05-2 mg/kg"),
    ("dose_mg_per_kg", 2.01, "0.05-2 mg/kg"),
    ("planned_infusion_min", 9, "10-240 min"),
    ("planned_infusion_min", 241, "10-240 min"),
    ("phq9", 28, "0 to 27"),
    ("phq9", -1, "0 to 27"),
    ("madrs", 61, "0 to 60"),
    ("cadss", 93, "0 to 92"),
    ("cadss", 7.5, "whole number"),
    ("course_number", 0, "from 1"),
    ("weight_kg", float("nan"), "must be a number"),
    ("weight_kg", True, "must be a number"),
    ("patient_ref", "", "is required"),
    ("patient_ref", "   ", "is required"),
    ("patient_ref", "x" * 33, "at most 32"),
    ("patient_ref", "AB\n12", "control characters"),
    ("clinician", "", "is required"),
])
def test_out_of_range_is_refused_naming_field_value_and_range(field, value, fragment):
    with pytest.raises(SetupError) as info:
        make(**{field: value})
    assert info.value.field == field
    assert fragment in str(info.value)
    assert field in str(info.value)
    assert repr(value) in str(info.value)


@pytest.mark.parametrize("field,value", [("weight_kg", 20), ("weight_kg", 300),
                                         ("dose_mg_per_kg", 0.05), ("dose_mg_per_kg", 2.0),
                                         ("planned_infusion_min", 10),
                                         ("planned_infusion_min", 240),
                                         ("phq9", 0), ("phq9", 27), ("madrs", 60),
                                         ("cadss", 92), ("patient_ref", "x" * 32)])
def test_range_ends_are_allowed(field, value):
    make(**{field: value})


def test_course_total_must_not_be_below_course_number():
    with pytest.raises(SetupError) as info:
        make(course_number=4, course_total=3)
    assert info.value.field == "course_total"
    assert "at least the course number (4)" in str(info.value)
    assert make(course_number=6, course_total=6).course_text == "6 of 6"


def test_setup_error_is_a_value_error():
    with pytest.raises(ValueError):
        make(weight_kg=5)


def test_post_session_cadss_is_added_with_replace_and_validated():
    s = make()
    assert dataclasses.replace(s, cadss=12).cadss == 12
    with pytest.raises(SetupError, match="cadss"):
        dataclasses.replace(s, cadss=100)


def test_form_of_strings_is_parsed():
    s = parse_setup({"patient_ref": "JD", "weight_kg": "70,5", "dose_mg_per_kg": " 0.5 ",
                     "clinician": "Dr B", "planned_infusion_min": "60", "course_number": "2",
                     "course_total": "", "phq9": "", "madrs": "31"})
    assert s.weight_kg == 70.5
    assert s.planned_infusion_min == 60.0
    assert s.course_number == 2 and s.course_total is None
    assert s.phq9 is None and s.madrs == 31
    assert s.total_mg == 35.3   # 35.25 rounds up


def test_form_problems_are_all_listed_in_form_order_and_never_crash():
    problems = setup_problems({"patient_ref": "", "weight_kg": "heavy", "dose_mg_per_kg": 3,
                               "clinician": None, "course_number": "2", "course_total": "1",
                               "madrs": [1], "colour": "blue"})
    assert [p.field for p in problems] == ["patient_ref", "weight_kg", "dose_mg_per_kg",
                                           "clinician", "madrs", "course_total", "colour"]
    assert all(isinstance(p, SetupError) and p.problem for p in problems)


def test_missing_required_fields_are_reported():
    fields = [p.field for p in setup_problems({})]
    assert fields == ["patient_ref", "weight_kg", "dose_mg_per_kg", "clinician"]


def test_valid_form_has_no_problems_and_parse_raises_the_first():
    ok = make().as_dict()
    assert setup_problems(ok) == []
    with pytest.raises(SetupError) as info:
        parse_setup({**ok, "weight_kg": "", "dose_mg_per_kg": 9})
    assert info.value.field == "weight_kg"


def test_as_dict_round_trips():
    s = make(course_number=3, course_total=6, phq9=14, madrs=30, cadss=4,
             alarm_profile="Ketamine infusion, adult", source="sim:typical")
    assert parse_setup(s.as_dict()) == s
