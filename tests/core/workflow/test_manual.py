"""Manual entry: range-checked against SPECS, marked manual, refused never turned into data."""

import math

import pytest

from monitor.core.reading import Quality
from monitor.core.vitals import Vital, mean_arterial
from monitor.core.workflow.manual import ManualEntryError, apply_manual, manual_readings
from monitor.core.workflow.messages import MANUAL_VITALS, CommandRefused, ManualEntry

T = 1_700_000_000.0


def test_nibp_gives_sys_dia_and_computed_mean_as_one_determination():
    sys_r, dia_r, mean_r = manual_readings(ManualEntry(Vital.NIBP_SYS, 132, "RN", dia=84), T)
    assert (sys_r.vital, dia_r.vital, mean_r.vital) == (Vital.NIBP_SYS, Vital.NIBP_DIA,
                                                        Vital.NIBP_MEAN)
    assert (sys_r.value, dia_r.value) == (132.0, 84.0)
    assert mean_r.value == 100.0 == mean_arterial(132, 84)
    (_, _, rounded) = manual_readings(ManualEntry(Vital.NIBP_SYS, 121, dia=80), T)
    assert rounded.value == 94.0   # 93.67 rounded to whole mmHg, as a monitor sends it
    assert {r.t for r in (sys_r, dia_r, mean_r)} == {T}
    assert all(r.quality is Quality.MANUAL and r.valid for r in (sys_r, dia_r, mean_r))


@pytest.mark.parametrize("vital,value", [(Vital.HR, 88), (Vital.SPO2, 96), (Vital.SPO2, 100),
                                         (Vital.HR, 15), (Vital.HR, 300),
                                         (Vital.RESP_RATE, 14)])
def test_single_values(vital, value):
    (r,) = manual_readings(ManualEntry(vital, value), T)
    assert r.vital is vital and r.value == float(value) and r.t == T
    assert r.quality is Quality.MANUAL


@pytest.mark.parametrize("entry,vital,fragment", [
    (ManualEntry(Vital.SPO2, 101), Vital.SPO2,
     "SpO2 101 % is outside the plausible range 0-100 %"),
    (ManualEntry(Vital.HR, 14), Vital.HR, "HR 14 bpm is outside the plausible range 15-300 bpm"),
    (ManualEntry(Vital.HR, 301), Vital.HR, "plausible range 15-300 bpm"),
    (ManualEntry(Vital.NIBP_SYS, 310, dia=80), Vital.NIBP_SYS,
     "NIBP sys 310 mmHg is outside the plausible range 30-300 mmHg"),
    (ManualEntry(Vital.NIBP_SYS, 120, dia=5), Vital.NIBP_DIA,
     "NIBP dia 5 mmHg is outside the plausible range 10-250 mmHg"),
    (ManualEntry(Vital.NIBP_SYS, 120, dia=120), Vital.NIBP_DIA,
     "NIBP 120/120: the diastolic must be below the systolic"),
    (ManualEntry(Vital.NIBP_SYS, 80, dia=95), Vital.NIBP_DIA, "must be below the systolic"),
    (ManualEntry(Vital.NIBP_SYS, 120), Vital.NIBP_DIA, "NIBP dia: a value is required"),
    (ManualEntry(Vital.HR, math.nan), Vital.HR, "is not a number"),
    (ManualEntry(Vital.SPO2, math.inf), Vital.SPO2, "is not a number"),
    (ManualEntry(Vital.HR, 80, dia=60), Vital.HR, "a diastolic only goes with an NIBP"),
    (ManualEntry(Vital.NIBP_DIA, 80), Vital.NIBP_DIA, "enter the systolic with its diastolic"),
    (ManualEntry(Vital.NIBP_MEAN, 90), Vital.NIBP_MEAN, "cannot be entered by hand"),
    (ManualEntry(Vital.TEMP, 37), Vital.TEMP, "allowed: NIBP, HR, SpO2, RR"),
    (ManualEntry(Vital.PULSE_RATE, 70), Vital.PULSE_RATE, "PR cannot be entered by hand"),
])
def test_refusals_name_vital_value_and_range(entry, vital, fragment):
    with pytest.raises(ManualEntryError) as info:
        manual_readings(entry, T)
    assert info.value.vital is vital
    assert fragment in str(info.value)
    out = apply_manual(entry, T)
    assert isinstance(out, CommandRefused)
    assert out.command == "manual_entry" and out.t == T
    assert out.message.startswith("Manual entry refused: ") and fragment in out.message


def test_manual_entry_error_is_a_value_error():
    with pytest.raises(ValueError):
        manual_readings(ManualEntry(Vital.SPO2, 120), T)


def test_apply_manual_passes_readings_through_and_names_who_was_refused():
    out = apply_manual(ManualEntry(Vital.HR, 64), T)
    assert isinstance(out, tuple) and out[0].value == 64.0
    refused = apply_manual(ManualEntry(Vital.HR, 400, by=" RN Lee "), T)
    assert isinstance(refused, CommandRefused) and refused.by == "RN Lee"


@pytest.mark.parametrize("sys,dia", [(30, 10), (300, 250), (31, 30), (300, 10)])
def test_nibp_range_ends_are_accepted(sys, dia):
    readings = manual_readings(ManualEntry(Vital.NIBP_SYS, sys, dia=dia), T)
    assert len(readings) == 3 and all(r.valid for r in readings)


def test_every_manual_vital_can_be_entered():
    for vital in MANUAL_VITALS:
        dia = 60.0 if vital is Vital.NIBP_SYS else None
        assert manual_readings(ManualEntry(vital, 90.0, dia=dia), T)[0].vital is vital
