"""At --speed max the display queue holds the hub back instead of dropping what it shows."""

from __future__ import annotations

import time

from monitor.acquisition.pipeline import Pipeline
from monitor.acquisition.sources import make_driver
from monitor.core.clock import SimClock
from monitor.core.workflow.messages import InfusionChanged, SessionEvent
from monitor.devices.registry import parse_source
from monitor.storage import database
from monitor.storage.store import SessionStore


def test_slow_display_at_max_speed_loses_no_event_or_infusion_record(tmp_path):
    db = database.open_database(tmp_path / "data")
    driver = make_driver(parse_source("sim:typical"), seed=0, duration_s=1500.0,
                         protocol="datex-s5", overrides=None, data_dir=None)
    pipe = Pipeline(driver, db, SimClock(time.time(), None), with_ui=True)
    pipe.start()
    shown = []
    while pipe.hub.is_alive() or len(pipe.ui_queue):
        shown.extend(pipe.ui_queue.drain(300))   # a display slower than the source
        time.sleep(0.05)
    assert pipe.join(timeout=30)
    assert pipe.ui_queue.dropped_total == 0
    with SessionStore(db) as store:
        events = list(store.session_events(pipe.session_id))
        infusion = list(store.infusion_actions(pipe.session_id))
    assert events and infusion
    assert [m for m in shown if isinstance(m, SessionEvent)] == events
    assert [m for m in shown if isinstance(m, InfusionChanged)] == infusion


def test_stop_releases_a_hub_held_back_by_a_display_nobody_reads(tmp_path):
    db = database.open_database(tmp_path / "data")
    driver = make_driver(parse_source("sim:typical"), seed=0, duration_s=None,
                         protocol="datex-s5", overrides=None, data_dir=None)
    pipe = Pipeline(driver, db, SimClock(time.time(), None), with_ui=True)
    pipe.start()
    deadline = time.monotonic() + 30
    while len(pipe.ui_queue) < pipe.ui_queue.maxsize and time.monotonic() < deadline:
        time.sleep(0.05)
    pipe.stop()
    assert pipe.join(timeout=30)
