import threading

import pytest

from monitor.acquisition.sources import make_driver
from monitor.core.clock import SimClock
from monitor.core.reading import Reading
from monitor.core.session import Phase
from monitor.core.vitals import Vital
from monitor.devices.base import SourceError
from monitor.devices.registry import parse_source
from simulators.scenario import ScenarioError

T0 = 1_800_000_000.0


def _drain(driver):
    stop = threading.Event()
    items = []
    while (batch := driver.read(stop)) is not None:
        items.extend(batch)
    return items


def test_without_duration_the_run_ends_with_the_scenario():
    driver = make_driver(parse_source("sim:typical"))
    driver.open(SimClock(T0, speed=None), T0)
    hr = [i for i in _drain(driver) if isinstance(i, Reading) and i.vital is Vital.HR]
    assert len(hr) == 5400 and hr[-1].t == T0 + 5400
    # ENDED is the hub's to set when the run ends, not the scenario's.
    assert [p for _, p in driver.phase_plan] == [Phase.BASELINE, Phase.INFUSION, Phase.RECOVERY]


def test_duration_past_the_scenario_keeps_late_recovery_data_coming():
    driver = make_driver(parse_source("sim:typical"), duration_s=7200)
    driver.open(SimClock(T0, speed=None), T0)
    items = _drain(driver)
    hr = [i for i in items if isinstance(i, Reading) and i.vital is Vital.HR]
    nibp = [i.t - T0 for i in items if isinstance(i, Reading) and i.vital is Vital.NIBP_SYS]
    assert len(hr) == 7200
    assert nibp[-3:] == [85 * 60, 100 * 60, 115 * 60]  # the late recovery cycle, every 15 min


def test_high_speed_delivers_at_most_two_session_seconds_at_once():
    clock = SimClock(T0, speed=500.0)
    driver = make_driver(parse_source("sim:typical"), duration_s=30)
    driver.open(clock, T0)
    stop = threading.Event()
    spans = []
    while (batch := driver.read(stop)) is not None:
        times = [i.t for i in batch if isinstance(i, Reading)]
        if times:
            spans.append(max(times) - min(times))
    assert spans and max(spans) <= 2.0


def test_unknown_names_say_what_is_allowed():
    with pytest.raises(SourceError, match="valid schemes: sim"):
        parse_source("serial")
    with pytest.raises(ScenarioError, match="typical"):
        make_driver(parse_source("sim:no-such-scenario"))


@pytest.mark.parametrize("protocol", ["datex-s5", "masimo-ascii", "nonin-2", "text"])
def test_simulator_through_encoder_and_codec_gives_the_scenario_values(protocol):
    from monitor.core.events import RawBytes

    def run(proto):
        driver = make_driver(parse_source("sim:typical"), duration_s=600, protocol=proto)
        driver.open(SimClock(T0, speed=None), T0)
        return _drain(driver)

    direct = {}
    for i in run(None):
        if isinstance(i, Reading) and i.valid:
            direct.setdefault(i.vital, {})[round(i.t - T0)] = i.value
    encoded = run(protocol)
    assert any(isinstance(i, RawBytes) for i in encoded)  # the bytes are captured for replay
    checked = 0
    for i in encoded:
        if not (isinstance(i, Reading) and i.valid and i.vital in (Vital.SPO2, Vital.PULSE_RATE)):
            continue
        second = round(i.t - T0)
        candidates = {direct[i.vital].get(k) for k in range(second - 3, second + 1)}
        assert i.value in candidates, (protocol, i)
        checked += 1
    assert checked > 500
    if protocol == "datex-s5":  # the monitor with blood pressure: every determination arrives
        nibp = [i.value for i in encoded if isinstance(i, Reading) and i.vital is Vital.NIBP_SYS]
        assert nibp == [direct[Vital.NIBP_SYS][60 * m] for m in (1, 6)]


@pytest.mark.parametrize("protocol", ["nonin-2", "masimo-ascii", "text"])
def test_an_oximeter_protocol_gets_the_cuff_beside_it(protocol):
    """No NIBP on an oximeter's line: the scenario's cuff readings arrive directly, once each."""
    direct = make_driver(parse_source("sim:typical"), duration_s=900)
    direct.open(SimClock(T0, speed=None), T0)
    want = [(i.vital, i.t, i.value) for i in _drain(direct)
            if isinstance(i, Reading) and i.vital.value.startswith("nibp")]
    driver = make_driver(parse_source("sim:typical"), duration_s=900, protocol=protocol)
    driver.open(SimClock(T0, speed=None), T0)
    items = _drain(driver)
    got = [(i.vital, i.t, i.value) for i in items
           if isinstance(i, Reading) and i.vital.value.startswith("nibp")]
    assert len(want) >= 6 and got == want
    assert any(isinstance(i, Reading) and i.vital is Vital.SPO2 and i.valid for i in items)


def test_a_multiparameter_protocol_sends_nibp_only_on_its_line():
    driver = make_driver(parse_source("sim:typical"), duration_s=900, protocol="datex-s5")
    driver.open(SimClock(T0, speed=None), T0)
    sys_t = [i.t - T0 for i in _drain(driver)
             if isinstance(i, Reading) and i.vital is Vital.NIBP_SYS and i.valid]
    # Each determination once, as the monitor's record reports it (not twice: line and cuff).
    assert sys_t and len(sys_t) == len(set(round(t) for t in sys_t))
