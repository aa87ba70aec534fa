"""A simulated Philips IntelliVue in a subprocess, read by infusion-monitor in another.

``infusion-sim run typical --protocol intellivue-mib --pty`` (a real
pseudo-terminal) and ``--protocol intellivue-lan --udp 0`` (a real UDP socket
on loopback, found by address or by its Connect Indication) are read by
``infusion-monitor run --headless``: the session is associated (the host's
requests and the monitor's answers are both in the raw capture), the values
equal the scenario's within the monitor's resolution, a pulled cable or a
silent network ends in a new association, and the recorded session replays
through the same codec to the same values.

The simulator runs at :data:`SPEED` times real time: the monitor's time-outs
are in its session time and the host's polls in real time, so a much faster
simulator would drop a host that polls every real second.
"""

from __future__ import annotations

import math
import socket
import sqlite3
import subprocess
import sys

import pytest

from monitor.core.reading import Reading
from monitor.core.vitals import Vital
from monitor.devices.codecs import intellivue_layout as L
from monitor.storage.database import DB_NAME
from simulators.engine import ScenarioEngine
from simulators.scenario import load_scenario
from tests.integration.helpers import REPO, json_lines, run_monitor

SPEED = 2.0
SEED = 5
pytestmark = pytest.mark.slow

RESOLUTION = {Vital.SPO2: 1.0, Vital.PULSE_RATE: 1.0, Vital.HR: 1.0}
"""The largest step between the scenario's value and the monitor's (the monitor's display
resolution for these vitals is 1; the simulated monitor sends the scenario's values exactly)."""


def _start_sim(protocol: str, transport: str, *extra: str) -> tuple[subprocess.Popen, str, float]:
    sim = subprocess.Popen(
        [sys.executable, "-m", "simulators", "run", "typical", "--protocol", protocol,
         *transport.split(), "--speed", str(SPEED), "--seed", str(SEED), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)
    where = sim.stdout.readline().split()
    start = sim.stdout.readline().split()
    assert where and where[0] in ("PTY", "UDP") and start and start[0] == "START", \
        (where, start, sim.stderr.read())
    return sim, where[1], float(start[1])


def _stop(sim: subprocess.Popen) -> str:
    sim.terminate()
    try:
        sim.wait(30)
    finally:
        if sim.poll() is None:
            sim.kill()
            sim.wait()
        err = sim.stderr.read()
        sim.stdout.close()
        sim.stderr.close()
    return err


def _expected(vital: Vital) -> dict[int, float]:
    engine = ScenarioEngine(load_scenario("typical"), SEED, 0.0)
    out = {}
    for item in engine.generate(600.0):
        if isinstance(item, Reading) and item.vital is vital and item.valid:
            out[round(item.t)] = item.value
    return out


def _monitor(source: str, protocol: str | None, duration: float, data_dir, *extra: str):
    args = ["run", "--headless", "--source", source, "--duration", str(duration),
            "--readings", "--data-dir", str(data_dir), *extra]
    if protocol is not None:
        args += ["--protocol", protocol]
    proc = run_monitor(*args, timeout=duration + 60)
    assert proc.returncode == 0, proc.stderr
    return json_lines(proc.stdout)


def _readings(lines: list[dict], vital: Vital) -> list[dict]:
    return [x for x in lines if x["type"] == "reading" and x["vital"] == vital.value
            and x["value"] is not None]


def _check_values(lines: list[dict], start: float, *, at_least: int = 5) -> int:
    """Every SpO2, pulse rate and HR value is the scenario's at a second just before it came."""
    checked = 0
    for vital in (Vital.SPO2, Vital.PULSE_RATE, Vital.HR):
        expected = _expected(vital)
        got = _readings(lines, vital)
        assert len(got) >= at_least, (vital, len(got))
        for x in got:
            second = (x["t"] - start) * SPEED
            # The monitor reports its latest value at its result time; poll, pacing and
            # pipe latency put that a few session seconds before the host's arrival time.
            window = range(math.floor(second) - 2 - math.ceil(2 * SPEED), math.floor(second) + 2)
            candidates = [expected[k] for k in window if k in expected]
            assert any(abs(x["value"] - c) < RESOLUTION[vital] / 2 for c in candidates), \
                (vital, second, x["value"], candidates)
            checked += 1
    return checked


def _no_faults(lines: list[dict]) -> None:
    assert not [x for x in lines if x["type"] == "technical" and x["active"]
                and x["condition"] in ("undecodable", "port_lost", "source_error")]


def _capture(data_dir) -> dict[str, list[bytes]]:
    with sqlite3.connect(data_dir / DB_NAME) as db:
        rows = db.execute("SELECT direction, data FROM raw_capture ORDER BY t, rowid").fetchall()
    out: dict[str, list[bytes]] = {"in": [], "out": []}
    for direction, data in rows:
        out[direction].append(bytes(data))
    return out


def _mib_messages(chunks: list[bytes]) -> list[bytes]:
    deframer = L.Deframer()
    return [m for c in chunks for m in deframer.feed(c)]


def _kinds(messages: list[bytes]) -> list[str]:
    return [L.message_kind(m) for m in messages]


# -- RS-232 (MIB) over a pty ------------------------------------------------------------------

def test_mib_over_a_pty_associates_and_gives_the_scenario_values_then_replays(tmp_path):
    sim, pts, start = _start_sim("intellivue-mib", "--pty")
    try:
        lines = _monitor(f"serial:{pts}", "intellivue-mib", 14, tmp_path)
    finally:
        _stop(sim)
    _no_faults(lines)
    assert _check_values(lines, start) >= 20
    status = [x for x in lines if x["type"] == "source"][-1]
    assert status["frames_ok"] > 50 and status["frames_bad"] == 0
    assert status["link_state"] == "associated"
    answered, _, sent = status["detail"].split()[:3]
    assert status["detail"].endswith("polls answered") and int(sent) > 10
    assert 0 <= int(sent) - int(answered) <= 3
    # Both directions are captured: the host's association request and polls, the
    # monitor's association response, MDS create event and poll results.
    capture = _capture(tmp_path)
    sent, heard = _mib_messages(capture["out"]), _mib_messages(capture["in"])
    assert _kinds(sent)[0] == "request"
    assert _kinds(heard)[0] == "accept"
    assert _kinds(sent).count("data") >= 10 and _kinds(heard).count("data") >= 50
    # The recorded session replays through the same codec, sending nothing, to the same values.
    sid = next(x["id"] for x in lines if x["type"] == "session")
    replay = run_monitor("run", "--headless", "--source", f"replay:{sid}", "--speed", "max",
                         "--readings", "--data-dir", str(tmp_path), timeout=120)
    assert replay.returncode == 0, replay.stderr
    replayed = json_lines(replay.stdout)

    def values(ls):
        return [(x["vital"], x["value"], x["quality"]) for x in ls if x["type"] == "reading"]

    assert values(replayed) == values(lines) and len(values(lines)) > 30


def test_mib_cable_pulled_and_replugged_associates_again(tmp_path):
    link = tmp_path / "ttyMIB"
    # Unplugged at session second 10 for 16 s (5 s to 13 s of real time).
    sim, _, start = _start_sim("intellivue-mib", f"--pty --link {link}", "--disconnect-at",
                               "10", "--reconnect-after", "16")
    try:
        lines = _monitor(f"serial:{link}", "intellivue-mib", 26, tmp_path / "d")
    finally:
        _stop(sim)
    lost = [x for x in lines if x["type"] == "technical" and x["condition"] == "port_lost"]
    assert [x["active"] for x in lost][:2] == [True, False], lost
    spo2 = _readings(lines, Vital.SPO2)
    before = [x for x in spo2 if x["t"] < lost[0]["t"]]
    after = [x for x in spo2 if x["t"] > lost[1]["t"]]
    assert len(before) >= 2 and len(after) >= 2, (len(before), len(after))
    # After the new association, the values are the scenario's again.
    _check_values([x for x in lines if x["type"] == "reading" and x["t"] > lost[1]["t"]],
                  start, at_least=2)
    assert len([x for x in lines if x["type"] == "session"]) == 1
    capture = _capture(tmp_path / "d")
    assert _kinds(_mib_messages(capture["out"])).count("request") >= 2
    assert _kinds(_mib_messages(capture["in"])).count("accept") >= 2


def test_mib_scenario_link_loss_is_silence_both_ways_then_a_new_association(tmp_path):
    """The scenario cuts the link: the monitor drops the silent host, the host retries."""
    scenario = tmp_path / "loss.toml"
    scenario.write_text(
        'description = "a 24 s link loss from 10 s"\n[session]\nbaseline_min = 2\n'
        'infusion_min = 1\nrecovery_min = 1\n[[episodes]]\nkind = "link_loss"\n'
        'at_min = 0.1667\nduration_s = 24\n', encoding="utf-8")
    sim = subprocess.Popen(
        [sys.executable, "-m", "simulators", "run", str(scenario), "--protocol",
         "intellivue-mib", "--pty", "--speed", str(SPEED), "--seed", str(SEED)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)
    pts = sim.stdout.readline().split()[1]
    start = float(sim.stdout.readline().split()[1])
    try:
        lines = _monitor(f"serial:{pts}", "intellivue-mib", 30, tmp_path / "d")
    finally:
        _stop(sim)
    spo2 = _readings(lines, Vital.SPO2)
    cut, back = start + 10 / SPEED, start + 34 / SPEED
    assert len([x for x in spo2 if x["t"] < cut]) >= 2
    assert not [x for x in spo2 if cut + 1 < x["t"] < back]
    assert len([x for x in spo2 if x["t"] > back]) >= 2
    assert not [x for x in lines if x["type"] == "technical" and x["condition"] == "port_lost"]
    capture = _capture(tmp_path / "d")
    assert _kinds(_mib_messages(capture["out"])).count("request") >= 2
    # Accepted again: the monitor had dropped the silent host (its abort was lost in the cut).
    assert _kinds(_mib_messages(capture["in"])).count("accept") == 2


def test_mib_faults_are_decoded_around_counted_and_the_probe_off_reported(tmp_path):
    """Garbage, bad FCS and lost frames on the line; the SpO2 probe off from second 12 to 22."""
    sim, pts, start = _start_sim("intellivue-mib", "--pty", "--garbage", "0.05", "--corrupt",
                                 "0.05", "--drop", "0.02", "--sensor-off-at", "12",
                                 "--sensor-off-for", "10")
    try:
        lines = _monitor(f"serial:{pts}", "intellivue-mib", 16, tmp_path)
    finally:
        _stop(sim)
    status = [x for x in lines if x["type"] == "source"][-1]
    assert status["frames_bad"] > 0 and status["bytes_discarded"] > 0
    # A frame that failed its FCS never becomes a value: every value is the scenario's.
    off_from, off_to = start + 12 / SPEED, start + 22 / SPEED
    on = [x for x in lines if x["type"] != "reading" or not off_from - 1 < x["t"] < off_to + 2]
    assert _check_values(on, start, at_least=3) >= 9
    spo2_off = [x for x in _readings(lines, Vital.SPO2) if off_from + 1 < x["t"] < off_to]
    assert not spo2_off
    probe = [x for x in lines if x["type"] == "technical" and x["condition"] == "sensor_problem"]
    assert [x["active"] for x in probe][:2] == [True, False], probe
    assert off_from - 1 < probe[0]["t"] < off_from + 2


# -- LAN over UDP --------------------------------------------------------------------------------

def _lan_messages(chunks: list[bytes]) -> list[bytes]:
    return chunks     # one datagram, one message


def test_lan_over_udp_associates_and_gives_the_scenario_values(tmp_path):
    sim, address, start = _start_sim("intellivue-lan", "--udp 0")
    try:
        # --protocol is implied by lan:
        lines = _monitor(f"lan:{address}", None, 12, tmp_path)
    finally:
        _stop(sim)
    _no_faults(lines)
    assert _check_values(lines, start) >= 15
    session = next(x for x in lines if x["type"] == "session")
    assert session["source"].startswith(f"lan:{address}")
    capture = _capture(tmp_path)
    sent, heard = _lan_messages(capture["out"]), _lan_messages(capture["in"])
    assert _kinds(sent)[0] == "request"
    assert _kinds(heard)[0] == "accept"
    assert _kinds(heard).count("data") >= 30


def test_lan_discovery_finds_the_monitor_by_its_connect_indication(tmp_path):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        discovery = probe.getsockname()[1]
    sim, _, start = _start_sim("intellivue-lan", "--udp 0", "--announce",
                               f"127.0.0.1:{discovery}")
    try:
        lines = _monitor(f"lan:discover:{discovery}", "intellivue-lan", 12, tmp_path)
    finally:
        _stop(sim)
    _no_faults(lines)
    assert _check_values(lines, start, at_least=3) >= 9


def test_lan_silence_then_a_new_association(tmp_path):
    """The monitor's socket closes (a network outage): no answer, then a new association."""
    sim, address, start = _start_sim("intellivue-lan", "--udp 0", "--disconnect-at", "10",
                                     "--reconnect-after", "24")
    try:
        lines = _monitor(f"lan:{address}", None, 30, tmp_path)
    finally:
        _stop(sim)
    spo2 = _readings(lines, Vital.SPO2)
    gap_from, gap_to = start + 10 / SPEED, start + 34 / SPEED
    before = [x for x in spo2 if x["t"] < gap_from]
    during = [x for x in spo2 if gap_from + 1 < x["t"] < gap_to]
    after = [x for x in spo2 if x["t"] > gap_to]
    assert len(before) >= 2 and not during and len(after) >= 2, \
        (len(before), len(during), len(after))
    no_data = [x for x in lines if x["type"] == "technical" and x["condition"] == "no_data"]
    assert [x["active"] for x in no_data][:2] == [True, False]
    capture = _capture(tmp_path)
    requests = [m for m in capture["out"]
                if L.message_kind(m) == "request"]
    assert len(requests) >= 2      # associated again after the silence
    assert not [x for x in lines if x["type"] == "technical" and x["condition"] == "port_lost"]


@pytest.mark.parametrize("protocol", ["intellivue-mib", "intellivue-lan"])
def test_a_stdout_capture_holds_a_session_and_replays_from_a_file(protocol, tmp_path):
    capture = tmp_path / f"{protocol}.bin"
    with capture.open("wb") as f:
        done = subprocess.run([sys.executable, "-m", "simulators", "run", "typical",
                               "--protocol", protocol, "--stdout", "--speed", "20",
                               "--duration", "60"], stdout=f, stderr=subprocess.PIPE,
                              cwd=REPO, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    proc = run_monitor("run", "--headless", "--source", f"replay:{capture}", "--protocol",
                       protocol, "--speed", "max", "--readings", "--data-dir",
                       str(tmp_path / "d"), timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = json_lines(proc.stdout)
    spo2 = _readings(lines, Vital.SPO2)
    expected = set(_expected(Vital.SPO2).values())
    assert len(spo2) >= 30 and all(x["value"] in expected for x in spo2)
    # Paced by the capture's own clock: about the minute it covers.
    span = spo2[-1]["t"] - spo2[0]["t"]
    assert 40 <= span <= 65, span
