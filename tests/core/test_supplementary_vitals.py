"""The device numerics added for the record leave the existing vitals' contract as it was."""

from __future__ import annotations

from monitor.core.vitals import (
    NIBP_VITALS,
    NUMERIC_VITALS,
    SPECS,
    SPECS_PRIMARY,
    SUPPLEMENTARY_VITALS,
    SUPPLEMENTARY_WAVES,
    Kind,
    Vital,
)

EXISTING = ["hr", "pulse_rate", "spo2", "nibp_sys", "nibp_dia", "nibp_mean", "resp_rate",
            "etco2", "temp", "pi", "spco", "spmet", "sphb", "pvi", "desat", "pi_delta", "pleth"]


def test_existing_vitals_keep_names_order_and_specs() -> None:
    assert [v.value for v in Vital][:len(EXISTING)] == EXISTING
    assert [v.value for v in SPECS_PRIMARY] == EXISTING
    assert NIBP_VITALS == (Vital.NIBP_SYS, Vital.NIBP_DIA, Vital.NIBP_MEAN)
    assert all(SPECS[v] is SPECS_PRIMARY[v] for v in SPECS_PRIMARY)


def test_supplementary_vitals_come_after_and_are_all_specified() -> None:
    assert list(Vital)[len(EXISTING):] == [*SUPPLEMENTARY_VITALS, *SUPPLEMENTARY_WAVES]
    assert len(SUPPLEMENTARY_VITALS) == len(set(SUPPLEMENTARY_VITALS)) == 71
    assert set(SPECS) == set(Vital)
    assert set(SUPPLEMENTARY_VITALS) <= set(NUMERIC_VITALS)
    assert not set(SUPPLEMENTARY_VITALS) & set(NIBP_VITALS)
    for vital in SUPPLEMENTARY_VITALS:
        s = SPECS[vital]
        want = Kind.DISCRETE if vital is Vital.NIBP_HR else Kind.CONTINUOUS
        assert s.kind is want, vital
        assert s.vital.value == s.vital.value.lower() and s.label and s.ucum
        assert s.mdc_code is not None or "(" in s.mdc_ref, vital   # a described private quantity


def test_further_waves_are_recorded_waves_never_numerics() -> None:
    assert SUPPLEMENTARY_WAVES == (Vital.RESP_WAVE, Vital.CO2_WAVE)
    assert all(SPECS[v].kind is Kind.WAVEFORM for v in SUPPLEMENTARY_WAVES)
    assert not set(SUPPLEMENTARY_WAVES) & (set(NUMERIC_VITALS) | set(SPECS_PRIMARY))
    assert SPECS[Vital.CO2_WAVE].unit == "mmHg"


def test_nonin_variants_share_the_unit_and_range_of_spo2_and_pulse_rate() -> None:
    for vital in (Vital.SPO2_DISPLAY, Vital.SPO2_FAST, Vital.SPO2_BEAT, Vital.SPO2_EXT,
                  Vital.SPO2_EXT_DISPLAY):
        assert (SPECS[vital].unit, SPECS[vital].plausible) == ("%", SPECS[Vital.SPO2].plausible)
    for vital in (Vital.PR_DISPLAY, Vital.PR_EXT, Vital.PR_EXT_DISPLAY):
        assert SPECS[vital].plausible == SPECS[Vital.PULSE_RATE].plausible
        assert SPECS[vital].unit_mdc_code == SPECS[Vital.PULSE_RATE].unit_mdc_code
        assert SPECS[vital].mdc_code is None          # a variant never claims PR's own code


def test_standard_codes_where_they_apply() -> None:
    assert [SPECS[v].mdc_code for v in (Vital.P3_SYS, Vital.P3_DIA, Vital.P3_MEAN)] == [
        150017, 150018, 150019]
    assert SPECS[Vital.P3_HR].mdc_code is None
    assert SPECS[Vital.TEMP2].mdc_code == SPECS[Vital.TEMP].mdc_code == 150344
    assert SPECS[Vital.FICO2].mdc_ref == "MDC_CONC_AWAY_CO2_INSP"
    assert SPECS[Vital.O2_FI].mdc_ref == "MDC_CONC_AWAY_O2_INSP"
    assert SPECS[Vital.NIBP_HR].mdc_code == 149546
    assert SPECS[Vital.AA_MAC].mdc_code is None
