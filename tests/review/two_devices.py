"""A recorded session of two devices (a Masimo and a Datex S/5), written by the real recorder."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from monitor.core.events import ClockOffset, Selection, SourceInfo
from monitor.core.queues import BoundedQueue
from monitor.core.reading import Quality, WaveChunk, make_reading
from monitor.core.session import SessionStatus
from monitor.core.vitals import Vital
from monitor.storage import database
from monitor.storage.recorder import CloseSession, Recorder

T0 = 1_795_351_151.0
MASIMO = SourceInfo("Masimo", "serial:/dev/ttyUSB0", "masimo-ascii", False, "oximeter",
                    None, "9600 8N1")
DATEX = SourceInfo("Datex S/5", "serial:/dev/ttyUSB1", "datex-s5", False, "monitor", None,
                   "19200 8E1")


def record(db: Path, sid: int, items: list) -> None:
    q = BoundedQueue(10_000, "recorder")
    rec = Recorder(db, sid, q, on_status=lambda s: None, clock_now=time.time)
    rec.start()
    for it in items:
        q.put(it)
    q.put(CloseSession(SessionStatus.COMPLETED, T0 + 60.0))
    rec.join(10)
    assert not rec.is_alive()


def record_two_devices(tmp_path: Path) -> tuple[Path, int]:
    """60 s: SpO2 from the Masimo (97), from the Datex (91) during 20-40 s, then the Masimo."""
    db = database.open_database(tmp_path / "data")
    sid = database.create_session(db, started_at=T0, source="serial:/dev/ttyUSB0",
                                  simulated=False, protocol="masimo-ascii",
                                  serial_settings="9600 8N1", sources=(MASIMO, DATEX))
    items: list[object] = []
    for s in range(60):
        t = T0 + s
        items.append(make_reading(Vital.SPO2, 97, t, source="Masimo"))
        items.append(make_reading(Vital.SPO2, 91, t + 0.5, source="Datex S/5"))
        items.append(make_reading(Vital.HR, 80, t + 0.5, source="Datex S/5"))
        items.append(WaveChunk(Vital.PLETH, t, 100.0, np.full(100, 1.0, dtype=np.float32),
                               source="Masimo"))
        items.append(WaveChunk(Vital.PLETH, t + 0.5, 100.0,
                               np.full(100, 2.0, dtype=np.float32), source="Datex S/5"))
    items.append(make_reading(Vital.NIBP_SYS, 131, T0 + 5, Quality.MANUAL))
    items.append(make_reading(Vital.NIBP_SYS, 142, T0 + 30, source="Datex S/5"))
    items += [Selection(T0, Vital.SPO2, "Masimo", "start"),
              Selection(T0 + 20, Vital.SPO2, "Datex S/5", "stale", "Masimo"),
              Selection(T0 + 40, Vital.SPO2, "Masimo", "returned", "Datex S/5"),
              Selection(T0, Vital.PLETH, "Masimo", "start"),
              Selection(T0 + 0.5, Vital.HR, "Datex S/5", "start"),
              ClockOffset(T0 + 3, "Datex S/5", -4.0)]
    record(db, sid, items)
    return db, sid
