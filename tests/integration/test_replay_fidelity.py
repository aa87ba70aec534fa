"""A replay reproduces the session it replays: timing, values, phases, events and alarms.

Issue 11 §5: a replay of a clean capture raised stale alarms by the hundred
(a file was paced at the line rate, baud/10, not the device's data rate, so
the wave ran ahead of the readings), a session replay timed its bytes from
the first chunk rather than the session start, and it knew nothing of the
session's phases, events or off-wire blood pressures, so its alarms were
not the session's.
"""

from __future__ import annotations

import itertools
import statistics
import subprocess
import sys

import pytest

from monitor.acquisition.sources import _not_on_the_wire
from monitor.core.reading import Quality, Reading
from monitor.core.vitals import Vital
from tests.integration.helpers import REPO, json_lines, run_monitor


def _start(lines: list[dict]) -> float:
    return next(x["start"] for x in lines if x["type"] == "session")


def _relative(lines: list[dict]) -> dict[str, list[tuple]]:
    """What a clinician compares, on times from the session start."""
    s = _start(lines)

    def rel(x: dict) -> float:
        return round(x["t"] - s, 3)

    return {
        "alarms": [(x["id"], x["state"], x["priority"], rel(x), x["value"], x["message"])
                   for x in lines if x["type"] == "alarm"],
        "technical": [(x["condition"], x["active"], x["vital"], rel(x))
                      for x in lines if x["type"] == "technical"],
        "phases": [(x["phase"], rel(x)) for x in lines if x["type"] == "phase"],
        # A scripted override says whose it is: the scenario's, or the replayed session's.
        "events": [(x["kind"], x["text"].split(" (The scripted override of ")[0], x["author"],
                    rel(x)) for x in lines if x["type"] == "event"],
        "infusion": [(x["action"], x["by"], x["reason"], rel(x))
                     for x in lines if x["type"] == "infusion"],
        "readings": [(x["vital"], x["value"], x["quality"], rel(x))
                     for x in lines if x["type"] == "reading"],
    }


@pytest.mark.parametrize(("scenario", "protocol", "duration"), [
    # A baseline override, NIBP through the monitor's own port, a surge of NIBP alarms.
    ("hypertensive-surge", "datex-s5", "3700"),
    # An oximeter: the blood pressure came from a separate cuff, off the wire.
    ("desaturation", "nonin-2", "2100"),
    # Silences: a minute with no bytes at all, no data and stale alarms.
    ("link-loss", "masimo-ascii", None),
])
def test_session_replay_gives_the_session_again(tmp_path, scenario, protocol, duration):
    extra = ["--duration", duration] if duration else []
    first = run_monitor("run", "--headless", "--readings", "--source", f"sim:{scenario}",
                        "--protocol", protocol, "--speed", "max", "--data-dir", str(tmp_path),
                        *extra, timeout=300)
    assert first.returncode == 0, first.stderr
    original = json_lines(first.stdout)
    sid = next(x["id"] for x in original if x["type"] == "session")
    again = run_monitor("run", "--headless", "--readings", "--source", f"replay:{sid}",
                        "--speed", "max", "--data-dir", str(tmp_path), timeout=300)
    assert again.returncode == 0, again.stderr
    replayed = json_lines(again.stdout)
    assert next(x for x in replayed if x["type"] == "session")["source"] == \
        f"replay:session {sid}"
    want, got = _relative(original), _relative(replayed)
    assert want["alarms"], "the scenario should raise alarms for the replay to reproduce"
    for part in ("alarms", "technical", "phases", "events", "infusion"):
        assert got[part] == want[part], part
    assert len(got["readings"]) == len(want["readings"]) > 1000
    assert got["readings"] == want["readings"]
    assert not any(x["type"] == "refused" for x in replayed)
    for x in replayed:
        if x["type"] == "event" and x["text"].startswith("Baseline override:"):
            assert x["text"].endswith(f"(The scripted override of session {sid}.)")


def test_replayed_override_is_recorded_with_its_clinician_and_reason(tmp_path):
    """A scripted override start is recorded as a nurse's is: by the clinician, with the reason."""
    proc = run_monitor("run", "--headless", "--source", "sim:hypertensive-surge",
                       "--duration", "700", "--speed", "max", "--data-dir", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    start = next(x for x in json_lines(proc.stdout)
                 if x["type"] == "infusion" and x["action"] == "start")
    assert start["by"].startswith("Dr A. Example")
    assert "hypertension" in start["reason"]


def _capture(tmp_path, protocol: str, seconds: int) -> bytes:
    path = tmp_path / f"{protocol}.bin"
    with path.open("wb") as f:
        done = subprocess.run([sys.executable, "-m", "simulators", "run", "typical",
                               "--protocol", protocol, "--stdout", "--speed", "600",
                               "--duration", str(seconds)], stdout=f,
                              stderr=subprocess.PIPE, cwd=REPO, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return path


DEVICE_INTERVAL_S = {"nonin-2": 1 / 3,     # a packet of 25 frames at 75 Hz
                     "datex-s5": 5.0,       # the interval the simulated port was asked for
                     "masimo-ascii": 1.0, "text": 1.0}


@pytest.mark.parametrize("protocol", sorted(DEVICE_INTERVAL_S))
def test_file_replay_is_paced_at_the_device_rate(tmp_path, protocol):
    """600 s of capture replays as 600 s of session, with no stale data along the way."""
    path = _capture(tmp_path, protocol, 600)
    proc = run_monitor("run", "--headless", "--readings", "--source", f"replay:{path}",
                       "--protocol", protocol, "--speed", "max", "--data-dir",
                       str(tmp_path / "d"), timeout=300)
    assert proc.returncode == 0, proc.stderr
    lines = json_lines(proc.stdout)
    start = _start(lines)
    spo2 = [x for x in lines if x["type"] == "reading" and x["vital"] == "spo2"]
    assert len(spo2) > 100
    assert 590 <= spo2[-1]["t"] - start <= 602
    assert spo2[0]["t"] - start < 5
    gaps = [b["t"] - a["t"] for a, b in itertools.pairwise(spo2)]
    # As often as the device sent them, never in a burst.
    assert min(gaps) >= 0 and max(gaps) <= 5.1
    assert statistics.median(gaps) == pytest.approx(DEVICE_INTERVAL_S[protocol], rel=0.05)
    stale = [x for x in lines if x["type"] == "technical"
             and x["condition"] in ("stale", "no_data")]
    assert stale == []
    end = next(x for x in lines if x["type"] == "end")
    assert 590 <= end["t"] - start <= 602


def test_readings_the_wire_does_not_carry_are_replayed_from_the_record():
    typed = Reading(Vital.SPO2, 97.0, 10.0, Quality.MANUAL)
    cuff = Reading(Vital.NIBP_SYS, 120.0, 10.0)
    wire = Reading(Vital.SPO2, 98.0, 10.0)
    assert _not_on_the_wire(typed, protocol_carries_nibp=True)
    assert _not_on_the_wire(cuff, protocol_carries_nibp=False)
    assert not _not_on_the_wire(cuff, protocol_carries_nibp=True)
    assert not _not_on_the_wire(wire, protocol_carries_nibp=False)
