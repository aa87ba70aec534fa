"""``infusion-sim run``: a scenario's link loss silences the wire, whatever the protocol."""

from __future__ import annotations

import numpy as np
import pytest

from monitor.devices.codecs import nonin as N
from simulators import run as sim_run
from simulators.encoders import encoder_class
from simulators.scenario import parse_scenario

SCENARIO = """
description = "a 20 s link loss from 15 s"
[session]
baseline_min = 1
infusion_min = 1
recovery_min = 1
[[episodes]]
kind = "link_loss"
at_min = 0.25
duration_s = 20
"""


class CountingPort(sim_run.Port):
    def __init__(self) -> None:
        self.data = bytearray()

    def write(self, data: bytes) -> int:
        self.data += data
        return len(data)


@pytest.mark.parametrize("protocol", ["nonin-2", "datex-s5"])
def test_no_frame_reaches_the_port_during_a_link_loss(protocol):
    scenario = parse_scenario(SCENARIO, "loss")
    encoder = encoder_class(protocol)(np.random.default_rng(1))
    if protocol == "datex-s5":   # the host asks for numerics once at start, as the app does
        from monitor.devices.protocols import codec_class
        encoder.receive(codec_class(protocol)(interval=1).open_requests())
    port = CountingPort()
    counts = sim_run.run(scenario, encoder, port, speed=50.0, seed=1,
                         faults=sim_run.Faults(), duration_s=60.0)
    assert counts["link_lost"] > 0
    lost = counts["link_lost"]
    # The frames the device sent in those 20 s, give or take a step of the runner: 75 Nonin
    # frames a second, or one Datex numerics record a second (no pleth is measured then).
    per_s = N.FRAME_RATE_HZ if protocol == "nonin-2" else 1
    assert 19 * per_s <= lost <= 25 * per_s
    if protocol == "nonin-2":
        assert len(port.data) == counts["frames"] * N.FRAME_LEN
