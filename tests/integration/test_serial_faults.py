"""Serial sources under bad conditions: wrong protocol, missing port, garbage; and replay."""

from __future__ import annotations

import os
import threading

import serial

from monitor.core.clock import RealClock
from monitor.core.events import Condition, RawBytes, SourceStatus, Technical
from monitor.core.reading import Reading
from monitor.devices.serial_driver import SerialDriver
from tests.integration.helpers import json_lines, run_monitor
from tests.integration.test_serial_e2e import _start_sim, _stop


def test_wrong_protocol_raises_undecodable_within_10_s(tmp_path):
    sim, pts, _ = _start_sim("text")  # a text-line oximeter read as a Nonin binary one
    try:
        proc = run_monitor("run", "--headless", "--source", f"serial:{pts}", "--protocol",
                           "nonin-2", "--duration", "13", "--readings", "--data-dir",
                           str(tmp_path), timeout=60)
    finally:
        _stop(sim)
    assert proc.returncode == 0, proc.stderr
    lines = json_lines(proc.stdout)
    bad = [x for x in lines if x["type"] == "technical" and x["condition"] == "undecodable"]
    assert bad and bad[0]["active"] and "check the protocol" in bad[0]["message"]
    first_bytes = min(x["t"] for x in lines if x["type"] == "source" and x["connected"])
    assert bad[0]["t"] - first_bytes <= 11
    assert not [x for x in lines if x["type"] == "reading" and x["value"] is not None]


def test_missing_port_is_a_clear_message_and_retried(tmp_path):
    proc = run_monitor("run", "--headless", "--source", "serial:/dev/no-such-port",
                       "--protocol", "nonin-2", "--duration", "4", "--data-dir", str(tmp_path),
                       timeout=60)
    assert proc.returncode == 0, proc.stderr
    lines = json_lines(proc.stdout)
    lost = [x for x in lines if x["type"] == "technical" and x["condition"] == "port_lost"]
    assert lost and "does not exist" in lost[0]["message"]
    statuses = [x for x in lines if x["type"] == "source"]
    assert statuses and not any(x["connected"] for x in statuses)
    assert "Traceback" not in proc.stderr


def test_hostile_bytes_never_raise_and_stay_visible():
    """A real pyserial loop:// port fed megabytes of garbage and invalid UTF-8."""
    port = serial.serial_for_url("loop://", timeout=0.1)
    driver = SerialDriver("loop://", "masimo-ascii", open_port=lambda *a, **k: port,
                          undecodable_after_s=0.5)
    driver.open(RealClock(), 0.0)
    stop = threading.Event()
    hostile = os.urandom(256 * 1024) + b"\xff\xfe" * 1000
    items = []
    for i in range(0, len(hostile), 2048):  # loop:// holds 4 KiB: write as it is read
        port.write(hostile[i:i + 2048])
        items.extend(driver.read(stop) or [])
    for _ in range(60):
        if any(isinstance(i, Technical) and i.condition is Condition.UNDECODABLE for i in items):
            break
        items.extend(driver.read(stop) or [])
    port.write(b"02/22/16 22:47:45 SN=0000056661 SPO2=098% BPM=097 PI=03.60% SPCO=--.-% "
               b"SPMET=--.-% DESAT=-- PIDELTA=+-- ALARM=0000 EXC=000800\r\n")
    for _ in range(20):
        items.extend(driver.read(stop) or [])
    driver.close()
    assert any(isinstance(i, Technical) and i.condition is Condition.UNDECODABLE and i.active
               for i in items)
    spo2 = [i for i in items if isinstance(i, Reading) and i.vital.value == "spo2"]
    assert [r.value for r in spo2] == [98.0]  # the good line after the garbage decodes
    assert sum(len(i.data) for i in items if isinstance(i, RawBytes)) >= 256 * 1024
    assert driver.codec.stats.bytes_discarded > 0
    assert any(isinstance(i, SourceStatus) for i in items) or driver.codec.stats.frames_ok == 1


def test_replay_of_a_recorded_session_gives_the_same_values(tmp_path):
    sim, pts, _ = _start_sim("masimo-ascii")
    try:
        live = run_monitor("run", "--headless", "--source", f"serial:{pts}", "--protocol",
                           "masimo-ascii", "--duration", "6", "--readings", "--data-dir",
                           str(tmp_path), timeout=60)
    finally:
        _stop(sim)
    assert live.returncode == 0, live.stderr
    live_lines = json_lines(live.stdout)
    sid = next(x["id"] for x in live_lines if x["type"] == "session")
    replay = run_monitor("run", "--headless", "--source", f"replay:{sid}", "--speed", "max",
                         "--readings", "--data-dir", str(tmp_path), timeout=60)
    assert replay.returncode == 0, replay.stderr
    lines = json_lines(replay.stdout)

    def values(ls):
        return [(x["vital"], x["value"], x["quality"]) for x in ls if x["type"] == "reading"]

    assert values(lines) == values(live_lines) and len(values(lines)) > 20
    assert next(x for x in lines if x["type"] == "session")["simulated"] is True
    # The replay's times keep the original spacing.
    t_live = [x["t"] for x in live_lines if x["type"] == "reading"]
    t_rep = [x["t"] for x in lines if x["type"] == "reading"]
    assert abs((t_live[-1] - t_live[0]) - (t_rep[-1] - t_rep[0])) < 0.01


def test_faulty_line_is_decoded_around_the_faults_and_counted(tmp_path):
    from tests.integration.test_serial_e2e import SPEED, _expected

    sim, pts, start = _start_sim("nonin-2", "--garbage", "0.05", "--corrupt", "0.05",
                                 "--drop", "0.02")
    try:
        proc = run_monitor("run", "--headless", "--source", f"serial:{pts}", "--protocol",
                           "nonin-2", "--duration", "10", "--readings", "--data-dir",
                           str(tmp_path), timeout=60)
    finally:
        _stop(sim)
    assert proc.returncode == 0, proc.stderr
    lines = json_lines(proc.stdout)
    status = [x for x in lines if x["type"] == "source"][-1]
    assert status["frames_bad"] > 0 and status["frames_ok"] > 100
    expected = _expected(__import__("monitor.core.vitals", fromlist=["Vital"]).Vital.SPO2)
    got = [x for x in lines if x["type"] == "reading" and x["vital"] == "spo2"
           and x["value"] is not None]
    assert len(got) > 10
    for x in got:  # a corrupted frame never becomes a wrong value
        second = (x["t"] - start) * SPEED
        window = range(int(second) - 3, int(second) + 2)
        assert x["value"] in {expected[k] for k in window if k in expected}


def test_device_sensor_off_signalling_reaches_the_monitor(tmp_path):
    sim, pts, _ = _start_sim("masimo-ascii", "--sensor-off-at", "20", "--sensor-off-for", "40")
    try:
        proc = run_monitor("run", "--headless", "--source", f"serial:{pts}", "--protocol",
                           "masimo-ascii", "--duration", "9", "--readings", "--data-dir",
                           str(tmp_path), timeout=60)
    finally:
        _stop(sim)
    assert proc.returncode == 0, proc.stderr
    lines = json_lines(proc.stdout)
    off = [x for x in lines if x["type"] == "reading" and x["quality"] == "sensor_off"]
    assert off and all(x["value"] is None for x in off)
    tech = [x for x in lines if x["type"] == "technical" and x["condition"] == "sensor_problem"]
    assert [x["active"] for x in tech][:2] == [True, False]


def test_stdout_capture_replays_from_a_file(tmp_path):
    import subprocess
    import sys

    from tests.integration.helpers import REPO

    capture = tmp_path / "capture.bin"
    with capture.open("wb") as f:
        done = subprocess.run([sys.executable, "-m", "simulators", "run", "typical",
                               "--protocol", "text", "--stdout", "--speed", "max-not-allowed"],
                              stdout=f, stderr=subprocess.PIPE, text=False, cwd=REPO)
    assert done.returncode == 2  # --speed takes a number
    with capture.open("wb") as f:
        done = subprocess.run([sys.executable, "-m", "simulators", "run", "typical",
                               "--protocol", "text", "--stdout", "--speed", "600",
                               "--duration", "120"], stdout=f, stderr=subprocess.PIPE,
                              cwd=REPO, timeout=60)
    assert done.returncode == 0, done.stderr
    assert capture.read_bytes().count(b"SPO2=") >= 100
    proc = run_monitor("run", "--headless", "--source", f"replay:{capture}", "--protocol",
                       "text", "--speed", "max", "--readings", "--data-dir", str(tmp_path / "d"))
    assert proc.returncode == 0, proc.stderr
    spo2 = [x for x in json_lines(proc.stdout) if x["type"] == "reading"
            and x["vital"] == "spo2"]
    assert len(spo2) >= 100 and all(95 <= x["value"] <= 100 for x in spo2)


def test_busy_port_is_a_clear_message_and_retried(tmp_path):
    import tty

    master, slave = os.openpty()
    tty.setraw(slave)
    name = os.ttyname(slave)
    holder = serial.Serial(name, exclusive=True)  # another program has the port
    try:
        proc = run_monitor("run", "--headless", "--source", f"serial:{name}", "--protocol",
                           "text", "--duration", "3", "--data-dir", str(tmp_path), timeout=60)
    finally:
        holder.close()
        os.close(master)
        os.close(slave)
    assert proc.returncode == 0, proc.stderr
    lost = [x for x in json_lines(proc.stdout)
            if x["type"] == "technical" and x["condition"] == "port_lost"]
    assert lost and "is busy" in lost[0]["message"]
