"""A replay says what it replays and from when, not "SIMULATED DATA" (issue 13 §9)."""

from __future__ import annotations

import dataclasses
import os
import time

from monitor.acquisition.sources import make_driver
from monitor.devices.registry import parse_source
from monitor.devices.replay import from_file
from monitor.storage.database import DB_NAME
from monitor.storage.store import SessionStore
from monitor.ui.live.header import SIMULATED_TEXT
from tests.integration.helpers import json_lines, run_monitor
from tests.ui.helpers import session_started


def test_a_session_replay_names_the_session_and_when_it_was_recorded(tmp_path, qtbot,
                                                                      make_view, ui_queue):
    proc = run_monitor("run", "--headless", "--source", "sim:typical", "--protocol",
                       "datex-s5", "--duration", "60", "--speed", "max",
                       "--data-dir", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    sid = next(x for x in json_lines(proc.stdout) if x["type"] == "session")["id"]
    with SessionStore(tmp_path / DB_NAME) as store:
        started = store.session(sid).started_at
    driver = make_driver(parse_source(f"replay:{sid}"), data_dir=tmp_path)
    when = time.strftime("%d %b %Y %H:%M", time.localtime(started))
    assert driver.banner == f"REPLAY of session {sid} recorded {when} \u2014 NOT A LIVE PATIENT"

    view = make_view(simulated=False)
    view.resize(1280, 800)
    view.show()
    qtbot.waitExposed(view)
    ui_queue.put(dataclasses.replace(session_started(simulated=True), banner=driver.banner))
    view.drain()
    banner = view.header.sim_banner
    assert banner.isVisible() and banner.text() == driver.banner != SIMULATED_TEXT
    assert banner.fontMetrics().horizontalAdvance(banner.text()) <= banner.width()


def test_a_capture_replay_names_the_file_its_protocol_and_date(tmp_path):
    path = tmp_path / "chair3.bin"
    path.write_bytes(b"\x7e" * 64)
    os.utime(path, (1_780_000_000, 1_780_000_000))
    driver = from_file(path, "datex-s5")
    when = time.strftime("%d %b %Y %H:%M", time.localtime(1_780_000_000))
    assert driver.banner == (f"REPLAY of chair3.bin (datex-s5 capture) recorded {when} "
                             "\u2014 NOT A LIVE PATIENT")


def test_the_simulator_keeps_the_simulated_data_banner(make_view, ui_queue):
    view = make_view(simulated=True)
    ui_queue.put(session_started())
    view.drain()
    assert view.header.sim_banner.text() == SIMULATED_TEXT
