"""The trend legend of a chair with several devices: which device each line is (no Qt)."""

from __future__ import annotations

from monitor.core.vitals import Vital
from monitor.ui.live.trend_specs import device_legend

NIBP = (Vital.NIBP_SYS, Vital.NIBP_DIA, Vital.NIBP_MEAN)


def test_one_device_per_plot_is_named_alone():
    assert device_legend((Vital.SPO2,), {Vital.SPO2: "Masimo"},
                         [(Vital.SPO2, "Datex S/5")]) == "\u2014 Masimo (shown)  \u00b7\u00b7\u00b7 Datex S/5"
    assert device_legend(NIBP, {v: "Datex S/5" for v in NIBP},
                         [(v, "IntelliVue") for v in NIBP]) == (
        "\u2014 Datex S/5 (shown)  \u00b7\u00b7\u00b7 IntelliVue")


def test_vitals_from_different_devices_are_named_with_their_vital():
    """HR from the monitor's ECG, PR from the oximeter: the dotted PR is not taken for HR."""
    text = device_legend((Vital.HR, Vital.PULSE_RATE),
                         {Vital.HR: "Datex S/5", Vital.PULSE_RATE: "Masimo"},
                         [(Vital.PULSE_RATE, "Datex S/5")])
    assert text == "\u2014 HR Datex S/5 \u00b7 PR Masimo (shown)  \u00b7\u00b7\u00b7 PR Datex S/5"
    text = device_legend((Vital.RESP_RATE, Vital.ETCO2),
                         {Vital.RESP_RATE: "Datex S/5", Vital.ETCO2: "Datex S/5"},
                         [(Vital.ETCO2, "Capno")])
    assert text == "\u2014 RR/EtCO2 Datex S/5 (shown)  \u00b7\u00b7\u00b7 EtCO2 Capno"


def test_no_other_device_no_legend():
    assert device_legend((Vital.SPO2,), {Vital.SPO2: "Masimo"}, []) == ""
