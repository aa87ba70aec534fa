"""Masimo low perfusion: the values the oximeter still displays are kept, with a caveat."""

from __future__ import annotations

import threading

import numpy as np
import serial

from monitor.core.clock import RealClock
from monitor.core.events import DeviceFlag
from monitor.core.reading import Quality, Reading
from monitor.core.vitals import Vital
from monitor.devices.codecs.masimo import MasimoAsciiCodec
from monitor.devices.serial_driver import SerialDriver
from simulators.encoders.masimo import MasimoAsciiEncoder
from simulators.engine import ScenarioEngine
from simulators.scenario import parse_scenario

LOW_PERFUSION_LINES = (
    b"02/22/16 22:47:45 SN=0000056661 SPO2=097% BPM=084 PI=03.10% SPCO=--.-% "
    b"SPMET=--.-% DESAT=-- PIDELTA=+-- ALARM=0000 EXC=000800\r\n"
    b"02/22/16 22:47:46 SN=0000056661 SPO2=096% BPM=086 PI=00.21% SPCO=--.-% "
    b"SPMET=--.-% DESAT=-- PIDELTA=+-- ALARM=0000 EXC=000804\r\n"
    b"02/22/16 22:47:47 SN=0000056661 SPO2=095% BPM=087 PI=00.19% SPCO=--.-% "
    b"SPMET=--.-% DESAT=-- PIDELTA=+-- ALARM=0000 EXC=000804\r\n"
    b"02/22/16 22:47:48 SN=0000056661 SPO2=096% BPM=085 PI=02.90% SPCO=--.-% "
    b"SPMET=--.-% DESAT=-- PIDELTA=+-- ALARM=0000 EXC=000800\r\n"
)
"""Four Rad-8 ASCII 1 lines; the middle two carry the low-perfusion bit (EXC 0x000004)."""


def _read_over_loop(data: bytes) -> list:
    port = serial.serial_for_url("loop://", timeout=0.1)
    driver = SerialDriver("loop://", "masimo-ascii", open_port=lambda *a, **k: port)
    driver.open(RealClock(), 0.0)
    stop = threading.Event()
    port.write(data)
    items: list = []
    for _ in range(50):
        items.extend(driver.read(stop) or [])
        if sum(1 for i in items if isinstance(i, Reading) and i.vital is Vital.SPO2) >= 4:
            break
    driver.close()
    return items


def test_low_perfusion_lines_over_a_serial_port_keep_their_values_with_the_caveat():
    items = _read_over_loop(LOW_PERFUSION_LINES)
    readings = [i for i in items if isinstance(i, Reading)]
    spo2 = [(r.value, r.quality) for r in readings if r.vital is Vital.SPO2]
    pr = [(r.value, r.quality) for r in readings if r.vital is Vital.PULSE_RATE]
    pi = [(r.value, r.quality) for r in readings if r.vital is Vital.PERF_INDEX]
    lp, ok = Quality.LOW_PERFUSION, Quality.OK
    assert spo2 == [(97.0, ok), (96.0, lp), (95.0, lp), (96.0, ok)]
    assert pr == [(84.0, ok), (86.0, lp), (87.0, lp), (85.0, ok)]
    assert pi == [(3.1, ok), (0.21, ok), (0.19, ok), (2.9, ok)]   # a low PI is the measure
    assert all(r.valid for r in readings if r.quality is lp)
    flags = [(f.name, f.active) for f in items if isinstance(f, DeviceFlag)]
    assert flags == [("masimo.exc.low_perfusion", True), ("masimo.exc.low_perfusion", False)]


def test_low_perfusion_with_a_stronger_exception_still_carries_no_value():
    line = (b"02/22/16 22:47:46 SPO2=096% BPM=086 PI=00.21% EXC=000814\r\n")  # + interference
    got = {r.vital: r for r in MasimoAsciiCodec().feed(line, 0.0) if isinstance(r, Reading)}
    assert got[Vital.SPO2].quality is Quality.ARTIFACT and not got[Vital.SPO2].valid


def test_a_low_perfusion_episode_goes_through_the_encoder_as_the_device_prints_it():
    scenario = parse_scenario(
        'description = "low perfusion"\n[session]\nbaseline_min = 1\ninfusion_min = 1\n'
        'recovery_min = 1\n[[episodes]]\nkind = "low_perfusion"\nat_min = 0.5\n'
        'duration_s = 20\n', "lp")
    engine = ScenarioEngine(scenario, 3, 1_000_000.0, run_s=60)
    encoder = MasimoAsciiEncoder(np.random.default_rng(0))
    codec = MasimoAsciiCodec()
    decoded: list[Reading] = []
    for item in engine.generate(1_000_060.0):
        encoder.push(item)
    for frame in encoder.due(1_000_060.0):
        decoded += [i for i in codec.feed(frame, 0.0) if isinstance(i, Reading)]
    spo2 = [r for r in decoded if r.vital is Vital.SPO2]
    low = [r for r in spo2 if r.quality is Quality.LOW_PERFUSION]
    assert 18 <= len(low) <= 21 and all(90 <= r.value <= 100 for r in low)
    assert {r.quality for r in spo2} == {Quality.OK, Quality.LOW_PERFUSION}
    pi_low = [r.value for r in decoded if r.vital is Vital.PERF_INDEX and r.value <= 0.25]
    assert len(pi_low) == len(low)
