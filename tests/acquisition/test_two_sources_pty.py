"""One session, two devices on two real pseudo-terminals (issue 16 §6).

A Masimo oximeter (``masimo-ascii``) and a Nonin-style text device (``text``)
each write to their own pty; the app's serial drivers read both through one
pipeline. SpO2 is shown from the oximeter (the dedicated oximeter first),
falls back to the other device while the oximeter is silent, and returns to
it once it has been back for the hold time. Every line written is one
reading, attributed to the device that wrote it.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable

import pytest

from monitor.acquisition.chair import SourceEntry
from monitor.acquisition.pipeline import Pipeline
from monitor.acquisition.sources import make_drivers
from monitor.core.alarms.model import AlarmTransition
from monitor.core.clock import RealClock
from monitor.core.events import Condition, Selection, SessionStarted, Technical
from monitor.core.reading import Reading
from monitor.core.selection import RETURN_HOLD_S
from monitor.core.vitals import Vital
from monitor.storage import database
from monitor.storage.store import SessionStore

STALE_S = 2.0
LINE_EVERY_S = 0.25
MASIMO_SPO2, TEXT_SPO2 = 97, 93


def _masimo_line(spo2: int, pr: int) -> bytes:
    clock = time.strftime("%m/%d/%y %H:%M:%S")
    return (f"{clock} SN=0000056661 SPO2={spo2:03d}% BPM={pr:03d} PI=03.60% SPCO=--.-%"
            f" SPMET=--.-% DESAT=-- PIDELTA=+-- ALARM=0000 EXC=000800\r\n").encode("ascii")


def _text_line(spo2: int, pr: int) -> bytes:
    return f"SPO2={spo2:03d} HR={pr:03d}\r\n".encode("ascii")


class _Device(threading.Thread):
    """One device at the chair: writes a line to its pty every LINE_EVERY_S while sending."""

    def __init__(self, line: Callable[[], bytes]) -> None:
        super().__init__(daemon=True)
        self.master, slave = os.openpty()
        self.path = os.ttyname(slave)
        self._slave = slave
        self.line = line
        self.sending = threading.Event()
        self.sending.set()
        self.finished = threading.Event()
        self.written = 0

    def run(self) -> None:
        while not self.finished.wait(LINE_EVERY_S):
            if self.sending.is_set():
                os.write(self.master, self.line())
                self.written += 1

    def close(self) -> None:
        self.finished.set()
        self.join(5)
        os.close(self.master)
        os.close(self._slave)


def _wait(condition: Callable[[], object], timeout: float, what: str) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout} s: {what}")


@pytest.mark.slow
def test_two_devices_fall_back_and_return_with_every_reading_on_its_device(tmp_path):
    masimo = _Device(lambda: _masimo_line(MASIMO_SPO2, 71))
    text = _Device(lambda: _text_line(TEXT_SPO2, 74))
    seen: list[object] = []
    db = database.open_database(tmp_path)
    drivers = make_drivers([SourceEntry(f"serial:{masimo.path}", "masimo-ascii"),
                            SourceEntry(f"serial:{text.path}", "text", name="Bedside")])
    pipe = Pipeline(drivers, db, RealClock(), sink=seen.append, stale_after=STALE_S)
    masimo.start()
    text.start()
    try:
        started = pipe.start()
        assert [(s.name, s.kind) for s in started.sources] == [("Masimo", "oximeter"),
                                                               ("Bedside", "monitor")]

        def selections() -> list[Selection]:
            return [m for m in list(seen) if isinstance(m, Selection) and m.vital is Vital.SPO2]

        first = _wait(lambda: selections(), 15, "the first SpO2 selection")[0]
        assert (first.source, first.reason) == ("Masimo", "start")

        masimo.sending.clear()          # the oximeter's cable is pulled
        pulled = time.time()
        fall = _wait(lambda: [s for s in selections() if s.t >= pulled], 10, "a fall-back")[0]
        assert (fall.source, fall.previous) == ("Bedside", "Masimo")
        assert fall.reason in ("stale", "no_data")
        _wait(lambda: [m for m in list(seen) if isinstance(m, Technical)
                       and m.condition is Condition.NO_DATA and m.active
                       and m.source == "Masimo"], 10, "no data from Masimo")
        alarm = _wait(lambda: [m for m in list(seen) if isinstance(m, AlarmTransition)
                               and m.alarm_id == "source.no_data@Masimo"], 10,
                      "the NO DATA from Masimo alarm")[0]
        assert "NO DATA from Masimo" in alarm.message
        # The other device goes on: its SpO2 is shown, and never alarmed as "no data".
        assert not any(isinstance(m, AlarmTransition) and m.alarm_id.endswith("@Bedside")
                       for m in list(seen))

        masimo.sending.set()            # plugged back in
        back = time.time()
        ret = _wait(lambda: [s for s in selections() if s.t >= back], RETURN_HOLD_S + 10,
                    "the return to Masimo")[0]
        assert (ret.source, ret.previous, ret.reason) == ("Masimo", "Bedside", "returned")
        assert ret.t - back >= RETURN_HOLD_S - LINE_EVERY_S
        _wait(lambda: [m for m in list(seen) if isinstance(m, Technical)
                       and m.condition is Condition.NO_DATA and not m.active
                       and m.source == "Masimo"], 5, "data from Masimo again")
    finally:
        masimo.sending.clear()
        text.sending.clear()
        time.sleep(3 * LINE_EVERY_S)    # what was written has been read
        pipe.stop()
        assert pipe.join(20)
        masimo.close()
        text.close()

    readings = [m for m in seen if isinstance(m, Reading)]
    by_source = {name: [r for r in readings if r.source == name and r.vital is Vital.SPO2]
                 for name in ("Masimo", "Bedside")}
    # No reading lost, none attributed to the wrong device.
    assert len(by_source["Masimo"]) == masimo.written > 20
    assert len(by_source["Bedside"]) == text.written > 20
    assert {r.value for r in by_source["Masimo"]} == {MASIMO_SPO2}
    assert {r.value for r in by_source["Bedside"]} == {TEXT_SPO2}
    assert all(r.source in ("Masimo", "Bedside") for r in readings)
    # The record says the same, per source, with the selections.
    assert isinstance(started, SessionStarted)
    with SessionStore(db) as store:
        sid = started.session_id
        assert [s.name for s in store.sources(sid)] == ["Masimo", "Bedside"]
        for name, want in (("Masimo", MASIMO_SPO2), ("Bedside", TEXT_SPO2)):
            spo2 = [r for r in store.readings(sid, source=name) if r.vital is Vital.SPO2]
            assert len(spo2) == len(by_source[name])
            assert {r.value for r in spo2} == {want}
        recorded = [(s.source, s.reason) for s in store.selections(sid)
                    if s.vital is Vital.SPO2]
        assert recorded[:3] == [("Masimo", "start"), ("Bedside", fall.reason),
                                ("Masimo", "returned")]
