"""A simulated HL7 gateway in a subprocess sending to infusion-monitor's listener in another.

``infusion-monitor run --headless --source hl7:127.0.0.1:PORT --bed CHAIR1``
listens; ``infusion-sim run typical --protocol hl7-pcd01 --mllp
127.0.0.1:PORT`` connects as a gateway does (retrying until the listener is
up) and sends one ORU^R01 a second, each acknowledged. The values equal the
scenario's, every message is acknowledged (the capture holds one ACK per
message), a dropped connection ends in the no-data alarm and recovery, a
chair with another bed's key takes none of them and says which beds it saw,
and the recorded session replays through the same codec to the same values.
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
from monitor.storage.database import DB_NAME
from simulators.engine import ScenarioEngine
from simulators.scenario import load_scenario
from tests.integration.helpers import REPO, json_lines, monitor_cmd, run_monitor

SPEED = 2.0
SEED = 5
BED = "CHAIR1"     # the bed component of the simulated gateway's PV1-3 (KETAMINE^ROOM1^CHAIR1)
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(port: int, duration: float, data_dir, *monitor_args: str, sim_args=(),
         bed: str = BED) -> tuple[list[dict], str, float | None]:
    """The monitor listening for ``duration`` s, the gateway sending to it meanwhile."""
    mon = subprocess.Popen(
        monitor_cmd("run", "--headless", "--source", f"hl7:127.0.0.1:{port}", "--bed", bed,
                    "--duration", str(duration), "--readings", "--data-dir", str(data_dir),
                    *monitor_args),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)
    sim = subprocess.Popen(
        [sys.executable, "-m", "simulators", "run", "typical", "--protocol", "hl7-pcd01",
         "--mllp", f"127.0.0.1:{port}", "--speed", str(SPEED), "--seed", str(SEED),
         *sim_args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)
    try:
        out, err = mon.communicate(timeout=duration + 60)
    finally:
        sim.terminate()
        try:
            sim_out, sim_err = sim.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            sim.kill()
            sim_out, sim_err = sim.communicate()
        if mon.poll() is None:
            mon.kill()
            mon.communicate()
    assert mon.returncode == 0, err
    start = next((float(line.split()[1]) for line in sim_out.splitlines()
                  if line.startswith("START")), None)
    return json_lines(out), sim_out + sim_err, start


def _expected(vital: Vital) -> dict[int, float]:
    engine = ScenarioEngine(load_scenario("typical"), SEED, 0.0)
    return {round(item.t): item.value for item in engine.generate(600.0)
            if isinstance(item, Reading) and item.vital is vital and item.valid}


def _readings(lines: list[dict], vital: Vital) -> list[dict]:
    return [x for x in lines if x["type"] == "reading" and x["vital"] == vital.value
            and x["value"] is not None]


def _check_values(lines: list[dict], start: float) -> int:
    """Every SpO2 and heart rate value is the scenario's at a second just before it came."""
    checked = 0
    for vital in (Vital.SPO2, Vital.HR):
        expected = _expected(vital)
        got = _readings(lines, vital)
        assert len(got) >= 5, (vital, len(got))
        for x in got:
            second = (x["t"] - start) * SPEED
            window = range(math.floor(second) - 2 - math.ceil(2 * SPEED), math.floor(second) + 2)
            candidates = [expected[k] for k in window if k in expected]
            assert any(abs(x["value"] - c) < 0.5 for c in candidates), \
                (vital, second, x["value"], candidates)
            checked += 1
    return checked


def _capture(data_dir) -> dict[str, list[bytes]]:
    with sqlite3.connect(data_dir / DB_NAME) as db:
        rows = db.execute("SELECT direction, data FROM raw_capture ORDER BY t, rowid").fetchall()
    out: dict[str, list[bytes]] = {"in": [], "out": []}
    for direction, data in rows:
        out[direction].append(bytes(data))
    return out


def _messages(chunks: list[bytes]) -> list[bytes]:
    return [m.strip(b"\x0b") for m in b"".join(chunks).split(b"\x1c\r") if m.strip()]


def _field(message: bytes, segment: bytes, index: int) -> str:
    for seg in message.split(b"\r"):
        if seg.startswith(segment + b"|"):
            fields = seg.split(b"|")
            return fields[index].decode() if len(fields) > index else ""
    return ""


def test_gateway_values_arrive_each_message_acknowledged_and_the_session_replays(tmp_path):
    lines, sim_text, start = _run(_free_port(), 14, tmp_path)
    assert start is not None, sim_text
    assert not [x for x in lines if x["type"] == "technical" and x["active"]
                and x["condition"] in ("undecodable", "port_lost", "source_error")]
    assert _check_values(lines, start) >= 20
    status = [x for x in lines if x["type"] == "source"][-1]
    assert status["frames_ok"] >= 10 and status["frames_bad"] == 0
    assert BED in status["link_state"]
    # One ACK per message, each echoing its control id, all accepted.
    capture = _capture(tmp_path)
    sent, acks = _messages(capture["in"]), _messages(capture["out"])
    assert len(sent) >= 10 and len(acks) == len(sent)
    assert [_field(a, b"MSA", 2) for a in acks] == [_field(m, b"MSH", 9) for m in sent]
    assert {_field(a, b"MSA", 1) for a in acks} <= {"AA", "CA"}   # accepted (CA: enhanced mode)
    # The recorded session replays through the same codec, sending nothing, to the same values.
    sid = next(x["id"] for x in lines if x["type"] == "session")
    replay = run_monitor("run", "--headless", "--source", f"replay:{sid}", "--speed", "max",
                         "--readings", "--data-dir", str(tmp_path), timeout=120)
    assert replay.returncode == 0, replay.stderr

    def values(ls):
        return [(x["vital"], x["value"], x["quality"]) for x in ls if x["type"] == "reading"]

    assert values(json_lines(replay.stdout)) == values(lines) and len(values(lines)) > 30


def test_a_dropped_connection_raises_no_data_and_the_values_come_back(tmp_path):
    # The gateway drops its connection at session second 8 for 10 s (4 s to 9 s of real time).
    lines, sim_text, start = _run(_free_port(), 16, tmp_path, "--stale-after", "2",
                                  sim_args=("--disconnect-at", "8", "--reconnect-after", "10"))
    assert "MLLP disconnected" in sim_text, sim_text
    no_data = [x for x in lines if x["type"] == "technical" and x["condition"] == "no_data"]
    assert [x["active"] for x in no_data][:2] == [True, False], no_data
    back = no_data[1]["t"]
    assert [x for x in _readings(lines, Vital.SPO2) if x["t"] > back]
    assert start is not None and _check_values(lines, start) >= 10


def test_a_chair_with_another_bed_takes_no_values_and_says_which_beds_it_saw(tmp_path):
    lines, _, _ = _run(_free_port(), 8, tmp_path, bed="CHAIR7")
    assert not [x for x in lines if x["type"] == "reading" and x["value"] is not None]
    status = [x for x in lines if x["type"] == "source"][-1]
    assert status["frames_ok"] >= 3
    assert "other beds only" in status["link_state"] and "CHAIR1" in status["link_state"]
    # Still acknowledged (accepted and ignored): the gateway does not resend for ever.
    capture = _capture(tmp_path)
    acks = _messages(capture["out"])
    assert acks and {_field(a, b"MSA", 1) for a in acks} <= {"AA", "CA"}
    # The capture holds the other bed's messages; a replay routes them as the session did.
    assert len(_messages(capture["in"])) >= 3
    sid = next(x["id"] for x in lines if x["type"] == "session")
    replay = run_monitor("run", "--headless", "--source", f"replay:{sid}", "--speed", "max",
                         "--readings", "--data-dir", str(tmp_path), timeout=120)
    assert replay.returncode == 0, replay.stderr
    assert not [x for x in json_lines(replay.stdout)
                if x["type"] == "reading" and x["value"] is not None]


def test_a_sender_not_allowed_is_refused_and_the_status_says_so(tmp_path):
    lines, _sim_text, _ = _run(_free_port(), 5, tmp_path, "--hl7-allow", "10.250.0.0/16")
    assert not [x for x in lines if x["type"] == "reading" and x["value"] is not None]
    status = [x for x in lines if x["type"] == "source"][-1]
    assert "refused a connection from 127.0.0.1" in status["link_state"]
