"""Bounded queues bound memory at any speed (issue 11 point 15).

A simulated source is held back (its reader waits) when the hub or the
recorder falls behind: at --speed max through datex-s5 the recorder used to
drain its queue into an in-memory backlog of up to two million items, so the
queue's bound bounded nothing. A real device is never held back: there an
overflow stays a counted event.
"""

from __future__ import annotations

import pytest

from monitor.acquisition import pipeline as pipeline_module
from monitor.acquisition.pipeline import Pipeline
from monitor.acquisition.sources import make_driver
from monitor.core.clock import SimClock
from monitor.devices.registry import parse_source
from monitor.storage import database
from monitor.storage.recorder import MAX_BATCH_ITEMS
from monitor.storage.store import SessionStore

T0 = 1_800_000_000.0


@pytest.mark.slow
def test_a_simulated_source_waits_for_the_recorder_and_nothing_is_lost(tmp_path, monkeypatch):
    monkeypatch.setattr(pipeline_module, "SIM_INBOX_SIZE", 300)
    monkeypatch.setattr(pipeline_module, "SIM_RECORDER_QUEUE_SIZE", 600)
    db = database.open_database(tmp_path)
    driver = make_driver(parse_source("sim:typical"), seed=3, duration_s=1200,
                         protocol="datex-s5")
    pipe = Pipeline(driver, db, SimClock(T0, speed=None))
    pipe.start()
    assert pipe.join(timeout=300)
    hub, recorder = pipe.hub, pipe.recorder
    # The bounds held: no queue ever above its size, the recorder never took more
    # than one batch ahead of the disk...
    for q in (pipe.inbox, pipe.recorder_q):
        assert q.block_when_full and q.high_water <= q.maxsize
    assert recorder.max_pending <= MAX_BATCH_ITEMS
    # ...because the producer waited (the recorder queue was full at some point)...
    assert pipe.recorder_q.high_water == pipe.recorder_q.maxsize
    # ...and nothing was lost.
    assert hub.counters.dropped == {} and pipe.inbox.dropped_total == 0
    assert pipe.recorder_q.dropped_total == 0
    assert hub.counters.readings > 60 * 1200    # datex-s5: dozens of numerics a second
    assert recorder.committed_readings == hub.counters.readings
    with SessionStore(db) as store:
        assert sum(1 for _ in store.readings(pipe.session_id)) == hub.counters.readings


def test_a_simulated_source_is_held_back_at_real_speed_too(tmp_path):
    db = database.open_database(tmp_path)
    pipe = Pipeline(make_driver(parse_source("sim:typical")), db, SimClock(T0, speed=1.0))
    for q in (pipe.inbox, pipe.recorder_q):
        assert q.block_when_full
    assert pipe.recorder_q.maxsize == pipeline_module.SIM_RECORDER_QUEUE_SIZE


def test_a_real_device_is_never_held_back(tmp_path):
    db = database.open_database(tmp_path)
    driver = make_driver(parse_source("serial:/dev/ttyUSB-never-opened"), protocol="nonin-2")
    assert not driver.simulated
    pipe = Pipeline(driver, db, SimClock(T0, speed=None))   # not started: nothing is opened
    for q in (pipe.inbox, pipe.recorder_q):
        assert not q.block_when_full
        for _ in range(q.maxsize):
            q.put(None)
        assert q.put(None) is False      # full: dropped and counted, never a wait
        assert q.take_dropped() == 1
