"""A whole simulated session through the real pipeline, headless, checked in the database."""

import json

import numpy as np
import pytest

from monitor.core.session import Phase, SessionStatus
from monitor.core.vitals import Vital
from monitor.storage import database
from monitor.storage.store import SessionStore
from tests.integration.helpers import json_lines, run_monitor

# The typical scenario: 10 min baseline, 40 min infusion, 40 min recovery, and its NIBP
# cycle (baseline from minute 1 every 5; infusion every 5 for 15 min then every 10;
# recovery every 10 for 20 min then every 15), in minutes from session start.
TYPICAL_NIBP_MIN = [1, 6, 10, 15, 20, 25, 35, 45, 50, 60, 70, 85]


@pytest.fixture(scope="module")
def typical_run(tmp_path_factory):
    data = tmp_path_factory.mktemp("data")
    proc = run_monitor("run", "--headless", "--source", "sim:typical", "--duration", "5400",
                       "--speed", "max", "--seed", "7", "--data-dir", str(data), "--readings",
                       timeout=300)
    return proc, json_lines(proc.stdout), database.open_database(data)


def test_exit_code_and_output_shape(typical_run):
    proc, lines, _ = typical_run
    assert proc.returncode == 0, proc.stderr
    assert lines[0]["type"] == "session" and lines[0]["simulated"] is True
    assert lines[-1]["type"] == "summary" and lines[-1]["recording_failed"] is False
    start = lines[0]["start"]
    phases = [(x["phase"], round(x["t"] - start)) for x in lines if x["type"] == "phase"]
    assert phases == [("infusion", 600), ("recovery", 3000), ("ended", 5400)]
    readings = [x for x in lines if x["type"] == "reading"]
    assert {r["vital"] for r in readings} >= {"hr", "pulse_rate", "spo2", "nibp_sys",
                                              "nibp_dia", "nibp_mean", "resp_rate"}
    assert all(set(r) == {"type", "t", "vital", "value", "quality", "source"}
               for r in readings)
    # Every reading names its device: here the session's one source.
    assert [s["name"] for s in lines[0]["sources"]] == ["Simulator"]
    assert {r["source"] for r in readings} == {"Simulator"}


def test_recording_holds_one_hr_per_second(typical_run):
    _, lines, db = typical_run
    sid = lines[0]["id"]
    with SessionStore(db) as store:
        t, v = store.numeric_arrays(sid, Vital.HR)
    assert abs(len(t) - 5400) <= 54  # within 1 % of one per second
    assert np.all(np.diff(t) > 0)
    assert np.all((v > 40) & (v < 140))


def test_nibp_determinations_exactly_on_schedule(typical_run):
    _, lines, db = typical_run
    sid, start = lines[0]["id"], lines[0]["start"]
    with SessionStore(db) as store:
        for vital in (Vital.NIBP_SYS, Vital.NIBP_DIA, Vital.NIBP_MEAN):
            t, v = store.numeric_arrays(sid, vital)
            assert [round((x - start) / 60, 6) for x in t] == TYPICAL_NIBP_MIN
            assert not np.isnan(v).any()


def test_everything_printed_was_recorded(typical_run):
    _, lines, db = typical_run
    sid = lines[0]["id"]
    printed = [x for x in lines if x["type"] == "reading"]
    with SessionStore(db) as store:
        stored = store.readings(sid)
        row = store.session(sid)
        assert store.integrity_ok()
        waves = store.waves(sid)
    assert len(stored) == len(printed) == row.reading_count == lines[-1]["recorded_readings"]
    assert row.status is SessionStatus.COMPLETED
    assert [p.phase for p in database.load_phases(db, sid)] == list(Phase)
    # 100 Hz pleth for the whole session, contiguous.
    n = sum(len(w) for w in waves)
    assert abs(n - 5400 * 100) <= 100
    assert lines[-1]["wave_samples"] == n


def test_sessions_command_lists_it(typical_run):
    _, lines, db = typical_run
    proc = run_monitor("sessions", "--data-dir", str(db.parent), "--json")
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    assert [(r["id"], r["status"]) for r in rows] == [(lines[0]["id"], "completed")]
    assert rows[0]["readings"] == lines[-1]["recorded_readings"]
    assert rows[0]["end"] - rows[0]["start"] == pytest.approx(5400, abs=1)
    plain = run_monitor("sessions", "--data-dir", str(db.parent))
    assert "completed" in plain.stdout and "sim:typical" in plain.stdout


def test_same_seed_same_recording(tmp_path):
    def values(seed, sub):
        proc = run_monitor("run", "--headless", "--source", "sim:typical", "--duration", "300",
                           "--speed", "max", "--seed", seed, "--data-dir", str(tmp_path / sub),
                           "--readings")
        lines = json_lines(proc.stdout)
        start = lines[0]["start"]
        return [(x["vital"], round(x["t"] - start, 6), x["value"])
                for x in lines if x["type"] == "reading"]

    a, b, c = values("3", "a"), values("3", "b"), values("4", "c")
    assert a == b
    assert a != c


def test_link_loss_raises_no_data_then_recovers(tmp_path):
    proc = run_monitor("run", "--headless", "--source", "sim:link-loss", "--speed", "max",
                       "--data-dir", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    lines = json_lines(proc.stdout)
    tech = [x for x in lines if x["type"] == "technical" and x["condition"] == "no_data"]
    assert [x["active"] for x in tech] == [True, False]
    # Raised 10 s after the last data, cleared when data returns ~60 s after it stopped.
    assert 45 <= tech[1]["t"] - tech[0]["t"] <= 55


def test_sensor_off_is_never_a_value(tmp_path):
    proc = run_monitor("run", "--headless", "--source", "sim:sensor-off", "--speed", "max",
                       "--data-dir", str(tmp_path), "--readings")
    lines = json_lines(proc.stdout)
    off = [x for x in lines if x["type"] == "reading" and x["quality"] == "sensor_off"]
    assert off and all(x["value"] is None for x in off)
    assert {x["vital"] for x in off} == {"spo2", "pulse_rate"}
    span = max(x["t"] for x in off) - min(x["t"] for x in off)
    assert 28 <= span <= 31
