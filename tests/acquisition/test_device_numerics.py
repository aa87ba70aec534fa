"""Numerics that are none of our vitals: recorded and printed, never shown, alarmed or stale."""

from __future__ import annotations

import io
import json
import sqlite3
import threading
from collections.abc import Sequence

from monitor.acquisition.headless import HeadlessOptions, run_headless, to_json
from monitor.acquisition.hub import Hub
from monitor.core.alarms.model import AlarmTransition
from monitor.core.clock import Clock, SimClock
from monitor.core.events import Condition, StreamEnded, Technical
from monitor.core.queues import BoundedQueue
from monitor.core.reading import DeviceNumeric, Quality, make_device_numeric, make_reading
from monitor.core.session import SessionModel
from monitor.core.vitals import Vital
from monitor.devices.base import Driver, DriverItem
from monitor.storage import database
from monitor.storage.store import SessionStore

T0 = 1_795_351_151.0
SPO2_ID = 0x4BB8   # an IntelliVue SpO2 id: a device numeric keeps it, it is still no vital


def _art(t: float, value: float, label: str = "ART", code: int = 0x4A15) -> DeviceNumeric:
    return make_device_numeric(t, code, label, value, "mmHg", device_time=t - 0.3,
                               source="intellivue-mib")


def _run_hub(items, start=T0):
    clock = SimClock(start, speed=None)
    inbox = BoundedQueue(10_000, "in", block_when_full=True)
    rec_q = BoundedQueue(10_000, "rec", block_when_full=True)
    ui_q = BoundedQueue(10_000, "ui")
    out: list = []
    hub = Hub(SessionModel(1, start), clock, inbox, recorder_q=rec_q, ui_q=ui_q,
              sink=out.append, stale_after=10.0)
    for it in items:
        inbox.put(it)
    hub.start()
    hub.join(10)
    assert not hub.is_alive()
    return out, rec_q.drain(), ui_q.drain(), hub


def test_the_hub_records_and_prints_device_numerics_but_never_shows_them():
    items = []
    for k in range(1, 30):
        items.append(make_reading(Vital.HR, 70, T0 + k))
        items.append(_art(T0 + k, 120.0 + k))
        # A desaturation far below any limit, but under a device id: no alarm may come of it.
        items.append(make_device_numeric(T0 + k, SPO2_ID, "SpO2 r", 60.0, "%"))
    items.append(StreamEnded(T0 + 31))
    out, rec, ui, hub = _run_hub(items)
    numerics = [it for it in items if isinstance(it, DeviceNumeric)]
    assert [m for m in rec if isinstance(m, DeviceNumeric)] == numerics
    assert [m for m in out if isinstance(m, DeviceNumeric)] == numerics
    assert not [m for m in ui if isinstance(m, DeviceNumeric)]   # the live view knows vitals only
    assert hub.device_numerics == len(numerics)
    assert hub.counters.readings == 29
    assert not [m for m in out if isinstance(m, AlarmTransition)]  # nothing alarmed
    assert hub.counters.alarms == {}
    assert not [m for m in out if isinstance(m, Technical)]        # nothing stale either


def test_device_numerics_keep_the_source_alive_but_no_vital_fresh():
    # HR stops at +5 s; the monitor keeps sending ART: not "no data", but HR goes stale.
    items = [make_reading(Vital.HR, 70, T0 + k) for k in range(1, 6)]
    items += [_art(T0 + k, 118.0) for k in range(1, 40)]
    items.append(StreamEnded(T0 + 40))
    out, *_ = _run_hub(sorted(items[:-1], key=lambda i: i.t) + items[-1:])
    tech = [(m.condition, m.active, m.vital) for m in out if isinstance(m, Technical)]
    assert tech == [(Condition.STALE, True, Vital.HR)]


def test_a_device_numeric_json_line():
    n = make_device_numeric(12.5, 0x4A15, "ART", 121.0, "mmHg", device_time=12.0,
                            source="intellivue-lan")
    assert to_json(n, readings=True) == {
        "type": "device_numeric", "t": 12.5, "code": 0x4A15, "label": "ART", "value": 121.0,
        "unit": "mmHg", "quality": "ok", "device_time": 12.0, "source": "intellivue-lan"}
    off = DeviceNumeric.invalid(13.0, 0x4A15, "ART", "mmHg", Quality.NO_VALUE)
    line = to_json(off, readings=True)
    assert line is not None and line["value"] is None and line["device_time"] is None
    json.dumps(line, allow_nan=False)
    assert to_json(n, readings=False) is None   # printed with the readings (--readings)


class _ListDriver(Driver):
    """A simulated source that plays a fixed list of items on the session clock."""

    simulated = True
    label = "test:device-numerics"
    protocol = "intellivue-mib"

    def __init__(self, batches: Sequence[tuple[float, list[DriverItem]]]) -> None:
        self._batches = list(batches)
        self._clock: Clock | None = None

    def open(self, clock: Clock, session_start: float) -> None:
        self._clock = clock

    def read(self, should_stop: threading.Event) -> list[DriverItem] | None:
        assert self._clock is not None
        if not self._batches:
            return None
        t, items = self._batches.pop(0)
        if self._clock.sleep_until(t, should_stop):
            return None
        return items


def test_a_headless_run_prints_and_records_every_device_numeric(tmp_path):
    batches = []
    for k in range(1, 21):
        t = T0 + k
        items: list[DriverItem] = [make_reading(Vital.HR, 72, t), make_reading(Vital.SPO2, 97, t),
                                   _art(t, 110.0 + k), _art(t, 70.0, code=0x4A16),
                                   _art(t, 90.0, label="ABP", code=0x4A17)]
        if k % 5 == 0:
            items.append(DeviceNumeric.invalid(t, 0xF001, "NOM_0xF001", "", Quality.NO_VALUE,
                                               source="intellivue-mib"))
        batches.append((t, items))
    expected = [it for _, b in batches for it in b if isinstance(it, DeviceNumeric)]
    out = io.StringIO()
    code = run_headless(HeadlessOptions(driver=_ListDriver(batches), data_dir=tmp_path / "d",
                                        speed=None, duration_s=None, readings=True,
                                        stale_after=10.0), out=out, err=io.StringIO(),
                        start_time=T0)
    assert code == 0
    lines = [json.loads(x) for x in out.getvalue().splitlines()]
    printed = [x for x in lines if x["type"] == "device_numeric"]
    assert len(printed) == len(expected) == 64
    assert printed[0] == {"type": "device_numeric", "t": T0 + 1, "code": 0x4A15, "label": "ART",
                          "value": 111.0, "unit": "mmHg", "quality": "ok",
                          "device_time": T0 + 0.7, "source": "intellivue-mib"}
    assert {(x["label"], x["code"]) for x in printed} == {
        ("ART", 0x4A15), ("ART", 0x4A16), ("ABP", 0x4A17), ("NOM_0xF001", 0xF001)}
    summary = lines[-1]
    assert summary["type"] == "summary"
    assert summary["device_numerics"] == summary["recorded_device_numerics"] == 64
    assert summary["readings"] == summary["recorded_readings"] == 40
    db = database.open_database(tmp_path / "d")
    sid = summary["session"]
    with SessionStore(db) as store:
        recorded = store.device_numerics(sid)
        vitals = {r.vital for r in store.readings(sid)}
    assert [(n.t, n.code, n.label, n.quality) for n in recorded] == \
        [(n.t, n.code, n.label, n.quality) for n in expected]
    assert vitals == {Vital.HR, Vital.SPO2}
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM device_numerics WHERE value IS NULL"
                            ).fetchone()[0] == 4
