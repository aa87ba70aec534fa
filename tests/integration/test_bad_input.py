"""Bad input gets a clear message naming what was wrong and what is allowed."""

import resource
import sqlite3
import subprocess
import sys

from monitor.storage import database
from monitor.storage.store import SessionStore
from tests.integration.helpers import REPO, json_lines, run_monitor


def test_unknown_scenario_lists_the_valid_ones(tmp_path):
    proc = run_monitor("run", "--headless", "--source", "sim:nope", "--data-dir", str(tmp_path))
    assert proc.returncode == 2
    assert "nope" in proc.stderr
    for name in ("typical", "hypertensive-surge", "tachycardia", "desaturation", "sensor-off",
                 "link-loss"):
        assert name in proc.stderr
    assert "Traceback" not in proc.stderr


def test_unknown_source_scheme_lists_the_valid_ones(tmp_path):
    proc = run_monitor("run", "--headless", "--source", "usb:thing", "--data-dir", str(tmp_path))
    assert proc.returncode == 2
    assert "unknown source scheme 'usb'" in proc.stderr and "sim" in proc.stderr


def test_malformed_scenario_file_names_file_and_line(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "bad"\ndescription = "x"\n\n[session]\nbaseline_min = = 3\n')
    proc = run_monitor("run", "--headless", "--source", f"sim:{bad}", "--data-dir",
                       str(tmp_path / "d"))
    assert proc.returncode == 2
    assert str(bad) in proc.stderr and "line 5" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_bad_speed_is_refused(tmp_path):
    proc = run_monitor("run", "--headless", "--speed", "fast", "--data-dir", str(tmp_path))
    assert proc.returncode == 2
    assert "positive number or 'max'" in proc.stderr


def test_unwritable_data_dir_is_a_clear_message(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    proc = run_monitor("run", "--headless", "--duration", "5", "--speed", "max",
                       "--data-dir", str(blocker / "data"))
    assert proc.returncode == 2
    assert "cannot create the data folder" in proc.stderr and "--data-dir" in proc.stderr
    assert proc.stdout == ""


def _limit_file_size():
    # Files this process writes may not grow past 2 MiB: the disk is "full" mid-session.
    resource.setrlimit(resource.RLIMIT_FSIZE, (2 * 1024 * 1024, 2 * 1024 * 1024))


def test_disk_full_mid_session_keeps_monitoring_and_what_was_recorded(tmp_path):
    proc = run_monitor("run", "--headless", "--source", "sim:typical", "--duration", "5400",
                       "--speed", "max", "--data-dir", str(tmp_path), "--readings",
                       preexec_fn=_limit_file_size, timeout=300)
    lines = json_lines(proc.stdout)
    assert proc.returncode == 3, proc.stderr
    rec = [x for x in lines if x["type"] == "recording"]
    assert rec[0]["ok"] is True  # said at start: the folder was writable
    failures = [x for x in rec if not x["ok"]]
    assert failures and "recording failed" in failures[0]["message"]
    # After a failure, statuses alternate: failed, resumed (space came back), failed...
    assert [x["ok"] for x in rec[1:]] == [i % 2 == 1 for i in range(len(rec) - 1)]
    assert all("resumed" in x["message"] for x in rec[1:] if x["ok"])
    readings = [x for x in lines if x["type"] == "reading"]
    # Monitoring went on to the end of the session after recording stopped.
    assert readings[-1]["t"] - lines[0]["start"] >= 5399
    assert lines[-1]["recording_failed"] is True
    db = database.open_database(tmp_path)
    with SessionStore(db) as store:
        assert store.integrity_ok()
        stored = store.readings(lines[0]["id"])
    assert stored, "nothing recorded before the disk filled"
    # What was committed is intact, in order, and matches what was printed.
    printed = {(x["vital"], x["t"]) for x in readings}
    assert {(r.vital.value, r.t) for r in stored} <= printed
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()


# -- hostile numbers and files are refused up front (issue 11 point 13) ----------------------

HOSTILE = [
    (("--baud", "99999999999"), "baud rate from 50 to 4000000"),
    (("--baud", "-9600"), "baud rate from 50 to 4000000"),
    (("--baud", "0"), "baud rate from 50 to 4000000"),
    (("--baud", "9600.5"), "whole baud rate"),
    (("--seed", "-1"), "whole number from 0"),
    (("--seed", "1e3"), "whole number from 0"),
    (("--seed", str(2**64)), "whole number from 0"),
    (("--stale-after", "inf"), "positive number of seconds"),
    (("--stale-after", "nan"), "positive number of seconds"),
    (("--stale-after", "-3"), "positive number of seconds"),
    (("--duration", "inf"), "positive number of seconds"),
]


def _no_database_written(data_dir) -> bool:
    return not data_dir.exists() or not any(data_dir.iterdir())


def test_hostile_monitor_arguments_are_refused_before_anything_starts(tmp_path):
    for i, (args, message) in enumerate(HOSTILE):
        data = tmp_path / f"d{i}"
        if args[0] == "--baud":
            rest = ("--source", "serial:/dev/null", "--protocol", "nonin-2", "--duration", "5")
        else:
            rest = ("--speed", "max") + (() if args[0] == "--duration" else ("--duration", "5"))
        proc = run_monitor("run", "--headless", *args, *rest, "--data-dir", str(data),
                           timeout=60)
        assert proc.returncode == 2, (args, proc.stderr)
        assert message in proc.stderr, (args, proc.stderr)
        assert "Traceback" not in proc.stderr, (args, proc.stderr)
        assert _no_database_written(data), args


def test_hostile_simulator_arguments_are_refused(tmp_path):
    for args, message in [(("--seed", "-1"), "whole number from 0"),
                          (("--speed", "inf"), "positive number"),
                          (("--duration", "nan"), "positive number"),
                          (("--disconnect-at", "inf"), "positive number")]:
        proc = subprocess.run([sys.executable, "-m", "simulators", "run", "typical",
                               "--protocol", "text", "--stdout", *args],
                              capture_output=True, text=True, timeout=60, cwd=REPO)
        assert proc.returncode == 2, (args, proc.stderr)
        assert message in proc.stderr and "Traceback" not in proc.stderr, (args, proc.stderr)


def test_an_alarm_profile_that_is_not_utf8_is_a_clear_message(tmp_path):
    bad = tmp_path / "latin1.toml"
    bad.write_bytes('name = "Kétamine"\n'.encode("latin-1"))
    data = tmp_path / "d"
    proc = run_monitor("run", "--headless", "--alarm-profile", str(bad), "--speed", "max",
                       "--duration", "5", "--data-dir", str(data))
    assert proc.returncode == 2, proc.stderr
    assert str(bad) in proc.stderr and "not UTF-8" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert _no_database_written(data)


def test_unusable_files_and_folders_are_refused_before_anything_starts(tmp_path):
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    cases = [(("--alarm-profile", str(tmp_path / "missing.toml")), "No such file"),
             (("--alarm-profile", str(tmp_path)), "Is a directory"),
             (("--data-dir", str(a_file)), "is a file, not a folder")]
    for i, (args, message) in enumerate(cases):
        data = tmp_path / f"d{i}"
        rest = () if args[0] == "--data-dir" else ("--data-dir", str(data))
        proc = run_monitor("run", "--headless", "--speed", "max", "--duration", "5", *args,
                           *rest, timeout=60)
        assert proc.returncode == 2, (args, proc.stderr)
        assert message in proc.stderr and args[1] in proc.stderr, (args, proc.stderr)
        assert "Traceback" not in proc.stderr and proc.stdout == "", (args, proc.stderr)
        assert _no_database_written(data), args
    assert a_file.read_text() == "x"
