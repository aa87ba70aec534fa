"""What a source measures, through the real pipeline (simulator -> encoder -> codec -> hub).

Issue 13: an oximeter alone has no ECG and no blood pressure: its HR tile says
"not measured" with the pulse rate in its place, NIBP overdue is not raised
(one reminder instead); respiration and EtCO2 alarms come, with their delays,
only from a protocol that carries them; a low-perfusion value is recorded so.
"""

from __future__ import annotations

import csv
import time
from pathlib import Path
from typing import NamedTuple

import pytest

from monitor.acquisition.pipeline import Pipeline
from monitor.acquisition.sources import make_driver
from monitor.core.alarms.model import AlarmTransition, TransitionState
from monitor.core.clock import SimClock
from monitor.core.events import PhaseChanged, SessionStarted
from monitor.core.reading import Quality, Reading, WaveChunk
from monitor.core.session import Phase
from monitor.core.vitals import Vital
from monitor.devices.registry import parse_source
from monitor.export import write_export
from monitor.review.record import load_record
from monitor.storage import database
from monitor.storage.store import SessionStore
from monitor.ui.live.model import NOT_MEASURED_REASON, LiveModel

NO_CUFF = """description = "An oximeter alone at the chair: no cuff, the nurse types NIBP in"
[session]
baseline_min = 20
infusion_min = 1
recovery_min = 1
[nibp]
cuff = false
"""


class Run(NamedTuple):
    seen: list
    model: LiveModel
    started: SessionStarted
    recorded: list
    readings: list
    db: Path
    session_id: int


def _exported_qualities(db: Path, session_id: int, out: Path) -> list[tuple[str, str]]:
    """(value, quality) of every SpO2 row of the session's CSV export, read back."""
    write_export(load_record(db, session_id), "csv", out)
    with open(out, newline="", encoding="utf-8") as f:
        return [(row["value"], row["quality"]) for row in csv.DictReader(f)
                if row["vital"] == "spo2"]


def _run(tmp_path: Path, source: str, protocol: str, duration_s: float | None = None):
    db = database.open_database(tmp_path / "data")
    driver = make_driver(parse_source(source), seed=3, duration_s=duration_s,
                         protocol=protocol, overrides=None, data_dir=None)
    seen: list = []
    pipe = Pipeline(driver, db, SimClock(time.time(), None), with_ui=True, sink=seen.append)
    pipe.start()
    model = LiveModel()   # the window's model, as it stood before the session ended
    while pipe.hub.is_alive() or len(pipe.ui_queue):
        for msg in pipe.ui_queue.drain(5000):
            ending = isinstance(msg, PhaseChanged) and msg.phase is Phase.ENDED
            if isinstance(msg, (SessionStarted, Reading, WaveChunk, PhaseChanged)) \
                    and not ending:
                model.apply(msg)
        time.sleep(0.01)
    assert pipe.join(timeout=30)
    with SessionStore(db) as store:
        recorded = store.alarms(pipe.session_id)
        readings = store.readings(pipe.session_id)
    started = next(m for m in seen if isinstance(m, SessionStarted))
    return Run(seen, model, started, recorded, readings, db, pipe.session_id)


def _raised(messages, alarm_id: str) -> list[AlarmTransition]:
    return [m for m in messages if isinstance(m, AlarmTransition) and m.alarm_id == alarm_id
            and m.state in (TransitionState.RAISED, TransitionState.ESCALATED)]


@pytest.mark.parametrize("protocol", ["masimo-ascii", "nonin-2"])
def test_an_oximeter_alone_no_overdue_one_reminder_hr_not_measured(tmp_path, protocol):
    scenario = tmp_path / "no-cuff.toml"
    scenario.write_text(NO_CUFF, encoding="utf-8")
    seen, model, started, recorded, *_ = _run(tmp_path, f"sim:{scenario}", protocol,
                                              duration_s=20 * 60)
    assert started.measures is not None
    assert Vital.HR not in started.measures and Vital.NIBP_SYS not in started.measures
    assert _raised(seen, "nibp.overdue") == []          # 20 min of baseline, nothing typed
    reminder = _raised(seen, "nibp.no_source")
    assert len(reminder) == 1 and "enter NIBP by hand" in reminder[0].message
    assert [a.alarm_id for a in recorded].count("nibp.no_source") >= 1   # in the record
    assert not [a for a in recorded if a.alarm_id.startswith(("resp_rate", "etco2"))]
    # The window shows the pulse rate in the heart rate's place and says HR is not measured.
    now = started.started_at + 60
    hr_place, pr_place = model.tile_state(Vital.HR, now), model.tile_state(Vital.PULSE_RATE, now)
    assert hr_place.label == "PR" and hr_place.shown is Vital.PULSE_RATE
    assert pr_place.reason == NOT_MEASURED_REASON and pr_place.label == "HR"
    assert model.tile_state(Vital.RESP_RATE, now).reason == NOT_MEASURED_REASON


def test_an_oximeter_with_a_separate_cuff_keeps_the_overdue_alarm_and_no_reminder(tmp_path):
    seen, _, started, *_ = _run(tmp_path, "sim:typical", "masimo-ascii", duration_s=120)
    assert started.measures is not None and Vital.NIBP_SYS in started.measures
    assert _raised(seen, "nibp.no_source") == []


def test_rr_and_etco2_alarms_with_their_delays_through_datex_not_through_an_oximeter(tmp_path):
    datex, _, _, recorded, readings, *_ = _run(tmp_path / "d", "sim:hypoventilation",
                                               "datex-s5")
    rr = sorted((r.t, r.value) for r in readings if r.vital is Vital.RESP_RATE and r.valid)
    etco2 = sorted((r.t, r.value) for r in readings if r.vital is Vital.ETCO2 and r.valid)
    low = _raised(datex, "resp_rate.low")
    first_low = next(t for t, v in rr if v < 8)
    assert low[0].priority.label == "medium" and low[0].t - first_low >= 15 - 1e-6
    apnoea = [a for a in low if a.message.startswith("APNOEA")]
    first_zero = next(t for t, v in rr if v == 0)
    assert apnoea and apnoea[0].priority.label == "high" and apnoea[0].t - first_zero >= 20 - 1e-6
    high = _raised(datex, "etco2.high")
    first_high = next(t for t, v in etco2 if v > 50)
    assert [a.priority.label for a in high] == ["medium", "high"]
    assert high[0].t - first_high >= 15 - 1e-6
    assert _raised(datex, "etco2.low")
    assert {a.alarm_id for a in recorded} >= {"resp_rate.low", "etco2.high", "etco2.low"}

    run = _run(tmp_path / "m", "sim:hypoventilation", "masimo-ascii")
    masimo, m_readings = run.seen, run.readings
    assert not [m for m in masimo if isinstance(m, AlarmTransition)
                and m.alarm_id.startswith(("resp_rate", "etco2"))]
    low_perf = [r for r in m_readings if r.vital is Vital.SPO2
                and r.quality is Quality.LOW_PERFUSION]
    assert len(low_perf) >= 55 and all(r.valid and 90 <= r.value <= 100 for r in low_perf)
    rows = _exported_qualities(run.db, run.session_id, tmp_path / "m.csv")
    exported = [float(v) for v, q in rows if q == "low_perfusion"]
    assert exported == [r.value for r in sorted(low_perf, key=lambda r: r.t)]
