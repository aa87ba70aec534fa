"""The built-in simulator through a protocol with a session (IntelliVue), in process.

The codec's open requests and due messages (``tick``) go to the simulated
monitor at every step and are captured as ``"out"`` bytes; the monitor
answers, the codec decodes, the values are the scenario's; a scenario's link
loss silences both ways and ends in a new association.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

from monitor.acquisition.sources import make_driver
from monitor.core.clock import SimClock
from monitor.core.events import RawBytes
from monitor.core.reading import Reading, WaveChunk
from monitor.core.vitals import Vital
from monitor.devices.registry import parse_source
from simulators.driver import SimulatedDriver
from simulators.scenario import parse_scenario

T0 = 1_800_000_000.0


def _drain(driver):
    stop = threading.Event()
    items = []
    while (batch := driver.read(stop)) is not None:
        items.extend(batch)
    return items


def _run(protocol, duration_s=300.0, scenario="sim:typical"):
    driver = make_driver(parse_source(scenario), duration_s=duration_s, protocol=protocol)
    driver.open(SimClock(T0, speed=None), T0)
    return driver, _drain(driver)


@pytest.mark.parametrize("protocol", ["intellivue-mib", "intellivue-lan"])
def test_the_session_runs_in_process_and_gives_the_scenario_values(protocol):
    _, direct = _run(None)
    want: dict[Vital, dict[int, float]] = {}
    for i in direct:
        if isinstance(i, Reading) and i.valid:
            want.setdefault(i.vital, {})[round(i.t - T0)] = i.value
    driver, items = _run(protocol)
    assert driver._codec.link_state == "associated"
    out = [i for i in items if isinstance(i, RawBytes) and i.direction == "out"]
    assert out[0].t == T0 and len(out) > 300      # the association request, then polls
    checked = 0
    for i in items:
        if isinstance(i, Reading) and i.valid and i.vital in (Vital.SPO2, Vital.PULSE_RATE,
                                                              Vital.HR):
            second = round(i.t - T0)
            assert i.value in {want[i.vital].get(k) for k in range(second - 3, second + 1)}
            checked += 1
    assert checked > 800
    # The pleth at the monitor's 125 Hz, without gaps between polls.
    samples = sum(len(c) for c in items if isinstance(c, WaveChunk))
    assert samples >= 125 * 295
    assert "wave_gap" not in driver._codec.stats.extra


def test_a_link_loss_silences_the_host_and_ends_in_a_new_association():
    scenario = parse_scenario("""
description = "a 40 s link loss from 60 s"
[session]
baseline_min = 2
infusion_min = 1
recovery_min = 1
[[episodes]]
kind = "link_loss"
at_min = 1
duration_s = 40
""", "loss")
    driver = SimulatedDriver(scenario, 0, 240.0, protocol="intellivue-mib")
    driver.open(SimClock(T0, speed=None), T0)
    encoder = driver._encoder
    heard: list[float] = []
    receive = encoder.receive

    def spy(data: bytes) -> None:     # when the monitor hears the host (a real encoder)
        heard.append(driver._t)
        receive(data)

    encoder.receive = spy
    items = _drain(driver)
    assert not [t for t in heard if T0 + 60.5 < t < T0 + 100]
    spo2 = [i.t - T0 for i in items if isinstance(i, Reading) and i.vital is Vital.SPO2
            and i.valid]
    assert not [t for t in spo2 if 60.5 < t < 100]
    assert [t for t in spo2 if t > 100] and min(t for t in spo2 if t > 100) < 100 + 40
    assert encoder.associations == 2 and driver._codec.link_state == "associated"
    sent = [i for i in items if isinstance(i, RawBytes) and i.direction == "out"]
    assert [i for i in sent if 60.5 < i.t - T0 < 100]   # the host kept trying, unheard


def test_a_protocol_without_a_session_still_sends_only_at_open():
    _, items = _run("datex-s5", 60.0)
    assert not [i for i in items if isinstance(i, RawBytes) and i.direction == "out"
                and i.t > T0]
    assert np.isfinite([i.value for i in items if isinstance(i, Reading)
                        and i.vital is Vital.SPO2 and i.valid]).all()
