"""A session of two devices killed mid-way and resumed: the same record, the same two sources.

The first run is a real ``infusion-monitor run --headless`` process killed
with SIGKILL; the resumption goes through the window's own
:func:`monitor.app.prepare_session`, on the same data folder.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time

from monitor.acquisition.chair import SourceEntry
from monitor.acquisition.sources import make_drivers
from monitor.app import GuiOptions, prepare_session
from monitor.core.vitals import Vital
from monitor.storage import database
from monitor.storage.store import SessionStore
from tests.integration.helpers import REPO, monitor_cmd

ENTRIES = [SourceEntry("sim:typical", "masimo-ascii"), SourceEntry("sim:typical", "datex-s5")]
SPEED = 20.0


def _run_and_kill(data) -> int:
    proc = subprocess.Popen(
        monitor_cmd("run", "--headless", "--readings", "--data-dir", str(data),
                    "--speed", str(SPEED), "--duration", "3000",
                    *[a for e in ENTRIES for a in ("--source", e.source, "--protocol",
                                                   e.protocol)]),
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=REPO)
    seen: set[str] = set()
    sid = None
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(seen) < 2:
            line = proc.stdout.readline()
            if not line:
                break
            x = json.loads(line)
            if x["type"] == "session":
                sid = x["id"]
            if x["type"] == "reading" and x["vital"] == "spo2":
                seen.add(x["source"])
        time.sleep(1.5)        # 30 session seconds more, recorded (flushed every second)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        proc.stdout.close()
    assert seen == {"Masimo", "Datex S/5"} and sid is not None
    return sid


def test_a_killed_two_device_session_resumes_with_its_two_devices(tmp_path):
    data = tmp_path / "d"
    sid = _run_and_kill(data)
    asked: list[int] = []
    drivers = make_drivers(ENTRIES, seed=0, duration_s=None)
    opts = GuiOptions(drivers[0], data, SPEED, 10.0, setup=False, drivers=drivers)
    pipeline, _ = prepare_session(opts, lambda row, gap: asked.append(row.id) or True)
    started = pipeline.start()
    assert asked == [sid] and started.session_id == sid and started.resumed
    assert [s.name for s in started.sources] == ["Masimo", "Datex S/5"]
    time.sleep(2.0)          # 40 session seconds of the resumed session
    pipeline.stop()
    assert pipeline.join(timeout=30)
    db = database.open_database(data)
    with SessionStore(db) as store:
        # The same two sources, by name: not four.
        assert [s.name for s in store.sources(sid)] == ["Masimo", "Datex S/5"]
        resumed_at = next(e.t for e in store.events(sid) if e.kind == "resumed")
        for name in ("Masimo", "Datex S/5"):
            times = [r.t for r in store.readings(sid, Vital.SPO2, source=name)]
            assert any(t < resumed_at for t in times), name
            assert any(t > resumed_at for t in times), name
        # The resumed session selects again: SpO2 from the oximeter, HR from the monitor.
        after = [(s.vital, s.source, s.reason) for s in store.selections(sid)
                 if s.t >= resumed_at]
        assert (Vital.SPO2, "Masimo", "start") in after
        assert (Vital.HR, "Datex S/5", "start") in after
