"""What the simulated chair measures, and the episodes that drive respiration and perfusion."""

from __future__ import annotations

import pytest

from monitor.core.reading import Quality, Reading
from monitor.core.vitals import NIBP_VITALS, Vital
from simulators.driver import SimulatedDriver
from simulators.engine import ScenarioEngine
from simulators.scenario import ScenarioError, load_scenario, parse_scenario

START = 1_000_000.0


def _scenario(extra: str = "", nibp: str = ""):
    return parse_scenario(
        'description = "x"\n[session]\nbaseline_min = 2\ninfusion_min = 2\nrecovery_min = 2\n'
        + nibp + extra, "x")


@pytest.mark.parametrize(("protocol", "hr", "nibp", "rr"), [
    (None, True, True, True),
    ("datex-s5", True, True, True),
    ("masimo-ascii", False, True, False),    # the oximeter chair's separate cuff
    ("nonin-2", False, True, False),
    ("text", False, True, False),
])
def test_the_driver_declares_what_its_chair_measures(protocol, hr, nibp, rr):
    measures = SimulatedDriver(_scenario(), 0, protocol=protocol).measures
    assert (Vital.HR in measures, Vital.NIBP_SYS in measures, Vital.RESP_RATE in measures) \
        == (hr, nibp, rr)
    assert Vital.SPO2 in measures and Vital.PULSE_RATE in measures


def test_no_cuff_no_nibp_at_all():
    scenario = _scenario(nibp="[nibp]\ncuff = false\n")
    engine = ScenarioEngine(scenario, 1, START)
    items = engine.generate(START + 6 * 60)
    assert engine.nibp_schedule() == []
    assert not [i for i in items if isinstance(i, Reading) and i.vital in NIBP_VITALS]
    for protocol in (None, "masimo-ascii", "datex-s5"):
        assert not set(NIBP_VITALS) & SimulatedDriver(scenario, 0, protocol=protocol).measures


def test_without_capnography_etco2_is_not_measured():
    scenario = _scenario("[baseline]\ncapnography = false\n")
    assert Vital.ETCO2 not in SimulatedDriver(scenario, 0, protocol="datex-s5").measures


def test_hypoventilation_reaches_apnoea_and_high_etco2_then_recovers():
    scenario = _scenario('[[episodes]]\nkind = "hypoventilation"\nat_min = 1\nduration_s = 60\n'
                         'target_rr = 0\ntarget_etco2 = 65\nramp_s = 10\n')
    items = ScenarioEngine(scenario, 2, START).generate(START + 4 * 60)

    def at(vital: Vital, s: float) -> float:
        return next(i.value for i in items if isinstance(i, Reading) and i.vital is vital
                    and i.t == START + s)

    assert at(Vital.RESP_RATE, 30) >= 8 and 25 <= at(Vital.ETCO2, 30) <= 50
    assert at(Vital.RESP_RATE, 100) == 0 and at(Vital.ETCO2, 100) >= 60
    assert at(Vital.RESP_RATE, 200) >= 8


def test_low_perfusion_keeps_spo2_and_pulse_rate_values_with_the_caveat():
    scenario = _scenario('[[episodes]]\nkind = "low_perfusion"\nat_min = 1\nduration_s = 30\n')
    items = [i for i in ScenarioEngine(scenario, 2, START).generate(START + 120)
             if isinstance(i, Reading)]
    low = [i for i in items if i.quality is Quality.LOW_PERFUSION]
    assert {i.vital for i in low} == {Vital.SPO2, Vital.PULSE_RATE}
    assert len(low) == 60 and all(i.valid for i in low)
    assert all(START + 60 <= i.t < START + 90 for i in low)


def test_a_hypoventilation_needs_its_target_rate():
    with pytest.raises(ScenarioError, match="target_rr"):
        _scenario('[[episodes]]\nkind = "hypoventilation"\nat_min = 1\nduration_s = 60\n')


def test_the_bundled_hypoventilation_scenario_loads():
    kinds = [e.kind.value for e in load_scenario("hypoventilation").episodes]
    assert kinds == ["hypoventilation", "hypoventilation", "low_perfusion"]
