"""Two simulated devices on two real ptys -> one ``infusion-monitor run --headless``.

The oximeter (``masimo-ascii``) and the monitor (``datex-s5``) are each an
``infusion-sim`` process on its own pseudo-terminal; the monitor reads both.
Killing the oximeter's process is the nurse pulling its cable: SpO2 falls
back to the monitor's, with a "NO DATA from Masimo" technical alarm.
"""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import time

import pytest

from tests.integration.helpers import REPO, monitor_cmd

SIM_SPEED = "2"
OXIMETER_VITALS = {"spo2", "pulse_rate", "pi", "spco", "spmet", "sphb", "pvi", "desat",
                   "pi_delta", "pleth"}


def _start_sim(protocol: str) -> tuple[subprocess.Popen, str]:
    sim = subprocess.Popen(
        [sys.executable, "-m", "simulators", "run", "typical", "--protocol", protocol, "--pty",
         "--speed", SIM_SPEED, "--seed", "5"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)
    pty = sim.stdout.readline().split()
    assert pty and pty[0] == "PTY", (pty, sim.stderr.read())
    return sim, pty[1]


def _stop(proc: subprocess.Popen, kill: bool = False) -> None:
    if proc.poll() is None:
        proc.kill() if kill else proc.terminate()
    try:
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


class _Lines:
    """The monitor's JSON lines, read on a thread, waited on with a timeout."""

    def __init__(self, proc: subprocess.Popen) -> None:
        self.seen: list[dict] = []
        self.done = threading.Event()
        self._q: queue.Queue[dict | None] = queue.Queue()
        threading.Thread(target=self._read, args=(proc,), daemon=True).start()

    def _read(self, proc: subprocess.Popen) -> None:
        try:
            for line in proc.stdout:
                if line.strip():
                    self._q.put(json.loads(line))
        finally:
            self._q.put(None)
            self.done.set()

    def wait_for(self, predicate, timeout: float) -> dict:  # type: ignore[no-untyped-def]
        for x in self.seen:
            if predicate(x):
                return x
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                x = self._q.get(timeout=left)
            except queue.Empty:
                break
            if x is None:
                break
            self.seen.append(x)
            if predicate(x):
                return x
        raise AssertionError(f"not seen within {timeout} s; last lines: {self.seen[-15:]}")


@pytest.mark.slow
def test_two_devices_on_two_ptys_and_the_fall_back_when_the_oximeter_goes(tmp_path):
    masimo, masimo_pty = _start_sim("masimo-ascii")
    datex, datex_pty = _start_sim("datex-s5")
    monitor = subprocess.Popen(
        monitor_cmd("run", "--headless", "--readings", "--data-dir", str(tmp_path / "d"),
                    "--duration", "120",
                    "--source", f"serial:{masimo_pty}", "--protocol", "masimo-ascii",
                    "--source", f"serial:{datex_pty}", "--protocol", "datex-s5"),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)
    lines = _Lines(monitor)
    try:
        session = lines.wait_for(lambda x: x["type"] == "session", 30)
        assert [s["name"] for s in session["sources"]] == ["Masimo", "Datex S/5"]
        for name, vital in (("Masimo", "spo2"), ("Datex S/5", "spo2"), ("Datex S/5", "hr")):
            lines.wait_for(lambda x, n=name, v=vital: x["type"] == "reading"
                           and x["source"] == n and x["vital"] == v
                           and x["value"] is not None, 40)
        start = lines.wait_for(lambda x: x["type"] == "selection" and x["vital"] == "spo2",
                               10)
        assert (start["source"], start["reason"]) == ("Masimo", "start")

        _stop(masimo, kill=True)   # the oximeter's cable is pulled
        killed = time.time()
        fall = lines.wait_for(lambda x: x["type"] == "selection" and x["vital"] == "spo2"
                              and x["reason"] != "start" and x["t"] >= killed - 1, 40)
        assert (fall["source"], fall["previous"]) == ("Datex S/5", "Masimo")
        # The pty is gone with the simulator: the lost link falls back at once, not after
        # the 10 s stale period.
        assert fall["reason"] == "no_data" and fall["t"] - killed < 5, fall
        alarm = lines.wait_for(lambda x: x["type"] == "alarm"
                               and "NO DATA from Masimo" in (x["message"] or ""), 60)
        assert alarm["id"] == "source.no_data@Masimo"
        # the monitor goes on: SpO2 from the Datex after the fall-back
        lines.wait_for(lambda x: x["type"] == "reading" and x["vital"] == "spo2"
                       and x["source"] == "Datex S/5" and x["t"] > fall["t"], 30)
    finally:
        _stop(monitor)
        for sim in (masimo, datex):
            _stop(sim)
            sim.stdout.close()
            sim.stderr.close()
        err = monitor.stderr.read()
        lines.done.wait(10)   # the reader thread has read to the end
        monitor.stdout.close()
        monitor.stderr.close()
    assert "Traceback" not in err, err
    readings = [x for x in lines.seen if x["type"] == "reading"]
    # no reading attributed to the wrong device: the oximeter sends only oximeter vitals
    assert {x["vital"] for x in readings if x["source"] == "Masimo"} <= OXIMETER_VITALS
    assert all(x["source"] in ("Masimo", "Datex S/5") for x in readings)
