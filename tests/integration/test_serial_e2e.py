"""infusion-sim on a real pseudo-terminal -> infusion-monitor over serial -> scenario values."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest

from monitor.core.reading import Reading
from monitor.core.vitals import Vital
from simulators.engine import ScenarioEngine
from simulators.scenario import load_scenario
from tests.integration.helpers import REPO, json_lines, run_monitor

SPEED = 10.0
SEED = 3


def _start_sim(protocol: str, *extra: str) -> tuple[subprocess.Popen, str, float]:
    sim = subprocess.Popen(
        [sys.executable, "-m", "simulators", "run", "typical", "--protocol", protocol, "--pty",
         "--speed", str(SPEED), "--seed", str(SEED), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)
    pty = sim.stdout.readline().split()
    start = sim.stdout.readline().split()
    assert pty[0] == "PTY" and start[0] == "START", (pty, start, sim.stderr.read())
    return sim, pty[1], float(start[1])


def _stop(sim: subprocess.Popen) -> None:
    sim.terminate()
    try:
        sim.wait(30)   # a loaded CI machine can take seconds to schedule it
    finally:
        if sim.poll() is None:
            sim.kill()
            sim.wait()
        sim.stdout.close()
        sim.stderr.close()


def _expected(vital: Vital) -> dict[int, float]:
    engine = ScenarioEngine(load_scenario("typical"), SEED, 0.0)
    out = {}
    for item in engine.generate(engine.duration_s):
        if isinstance(item, Reading) and item.vital is vital and item.valid:
            out[round(item.t)] = item.value
    return out


@pytest.mark.parametrize("protocol", ["masimo-ascii", "text", "nonin-2", "datex-s5"])
def test_values_over_a_pty_equal_the_scenario(protocol, tmp_path):
    sim, pts, start = _start_sim(protocol)
    try:
        proc = run_monitor("run", "--headless", "--source", f"serial:{pts}", "--protocol",
                           protocol, "--duration", "12", "--readings", "--data-dir",
                           str(tmp_path), timeout=60)
    finally:
        _stop(sim)
    assert proc.returncode == 0, proc.stderr
    lines = json_lines(proc.stdout)
    assert not [x for x in lines if x["type"] == "technical" and x["active"]
                and x["condition"] in ("undecodable", "port_lost")]
    checked = 0
    for vital in (Vital.SPO2, Vital.PULSE_RATE):
        expected = _expected(vital)
        got = [x for x in lines if x["type"] == "reading" and x["vital"] == vital.value
               and x["value"] is not None]
        assert len(got) >= 5, (vital, len(got))
        for x in got:
            second = (x["t"] - start) * SPEED
            # The device reports the latest value it has: the scenario's value at one of
            # the seconds just before the bytes arrived (pipe and pacing latency).
            window = range(math.floor(second) - 3, math.floor(second) + 2)
            candidates = {expected[k] for k in window if k in expected}
            assert x["value"] in candidates, (protocol, vital, second, x["value"], candidates)
            checked += 1
    assert checked >= 10


def test_unplug_and_replug_over_a_pty(tmp_path):
    link = tmp_path / "ttyDEVICE"
    sim, _, _ = _start_sim("text", "--link", str(link), "--disconnect-at", "40",
                           "--reconnect-after", "40")
    try:
        proc = run_monitor("run", "--headless", "--source", f"serial:{link}", "--protocol",
                           "text", "--duration", "14", "--readings", "--data-dir",
                           str(tmp_path / "d"), timeout=60)
    finally:
        _stop(sim)
    assert proc.returncode == 0, proc.stderr
    lines = json_lines(proc.stdout)
    lost = [x for x in lines if x["type"] == "technical" and x["condition"] == "port_lost"]
    assert [x["active"] for x in lost][:2] == [True, False], lost
    readings = [x for x in lines if x["type"] == "reading" and x["vital"] == "spo2"]
    before = [x for x in readings if x["t"] < lost[0]["t"]]
    after = [x for x in readings if x["t"] > lost[1]["t"]]
    assert before and len(after) >= 5
    # The loss is reported within 10 s of the last data before it.
    assert lost[0]["t"] - before[-1]["t"] < 10
    session_lines = [x for x in lines if x["type"] == "session"]
    assert len(session_lines) == 1  # the same session throughout
