"""Issue 6 benchmark: the review view of a 4-hour session with a 100 Hz pleth.

(a) open: construct :class:`monitor.ui.review.review_view.ReviewView` from the
    loaded session, show it and force the first full draw with ``grab()``
    (target <= 1 s); loading the session (``load_review``: record, profile,
    summary; done on a worker thread in the app) is timed apart;
(b) pan/zoom at full zoom-out: each frame sets a new x range on the plots
    (alternately panning by 1 % and zooming between 96 % and 100 % of the
    session) and repaints them with ``grab()`` (target <= 30 ms; median and p90).

The session is written straight into a database made by the app's own
migrations, with ``executemany``: HR, pulse rate, SpO2, RR and EtCO2 every
second (a 2-minute SpO2 probe-off gap of readings without a value), an NIBP
determination every 5 minutes, the pleth at 100 Hz in rows of 1,000 samples
as the recorder stores them (with a 30-second gap), the three phases, an
infusion start, pause, resume and stop, nurse events, and alarms of each
priority (one technical). Offscreen platform, window 1480x900.

Usage: python -m bench.bench_review_view [--hours 4] [--opens 5] [--frames 60]
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np

from bench.common import machine
from monitor.storage import database

START = 1_790_000_000.0
RATE = 100.0
ROW = 1000
EVENTS = ((2300, "nausea"), (2500, "antiemetic_given"), (4000, "dissociation"), (6000, "note"))
CONTINUOUS = {"hr": (72, 8), "pulse_rate": (71, 8), "spo2": (97, 1.5), "resp_rate": (14, 2),
              "etco2": (36, 2)}


def build(data_dir: Path, hours: float) -> tuple[Path, int]:
    """Write the synthetic session; return the database and its id."""
    db = database.open_database(data_dir)
    sid = database.create_session(db, started_at=START, source="sim:bench", simulated=True)
    seconds = int(hours * 3600)
    rng = np.random.default_rng(0)
    s = np.arange(seconds, dtype=np.float64)
    readings = []
    for vital, (mid, amp) in CONTINUOUS.items():
        v = np.round(mid + amp * np.sin(s / 600.0) + rng.normal(0, amp / 10, seconds), 1)
        values: list[float | None] = v.tolist()
        if vital in ("spo2", "pulse_rate"):   # probe off for 2 minutes
            for i in range(5000, 5120):
                values[i] = None
        readings += [(sid, START + i, vital, x, "ok" if x is not None else "no_value", None)
                     for i, x in enumerate(values)]
    for i in range(60, seconds, 300):
        sys_ = round(125 + 25 * math.sin(i / 3000.0))
        for vital, x in (("nibp_sys", sys_), ("nibp_dia", sys_ - 47), ("nibp_mean", sys_ - 31)):
            readings.append((sid, START + i, vital, float(x), "ok", None))
    n = int(seconds * RATE)
    phase = 2 * np.pi * 1.2 * np.arange(n) / RATE
    wave = (np.sin(phase) ** 3 + rng.normal(0, 0.02, n)).astype("<f4")
    gap = (int(7200 * RATE), int(7230 * RATE))   # 30 s without pleth
    waves = [(sid, "pleth", START + a / RATE, RATE, len(wave[a:a + ROW]), "ok",
              wave[a:a + ROW].tobytes())
             for a in range(0, n, ROW) if not gap[0] <= a < gap[1]]
    infusion, recovery, end = START + 1800, START + 0.75 * seconds, START + seconds
    alarms = []
    for k, (t0, dur, alarm, kind, vital, prio, msg) in enumerate((
            (5010, 110, "spo2.stale", "technical", "spo2", "medium", "SpO2: no valid value"),
            (2400, 600, "nibp_sys.high", "physiological", "nibp_sys", "high", "NIBP sys 182"),
            (3600, 300, "hr.high", "physiological", "hr", "medium", "HR 112 > 110"),
            (9000, 200, "spo2.low", "physiological", "spo2", "low", "SpO2 93 < 94"))):
        alarms.append((sid, START + t0, alarm, kind, vital, prio, "raised", None, None, msg, ""))
        alarms.append((sid, START + t0 + dur, alarm, kind, vital, prio, "cleared", None, None,
                       msg, ""))
    with database.write_transaction(db) as conn:
        conn.executemany("INSERT INTO readings (session_id, t, vital, value, quality,"
                         " device_time) VALUES (?, ?, ?, ?, ?, ?)", readings)
        conn.executemany("INSERT INTO waves (session_id, vital, t0, rate, n, quality, samples)"
                         " VALUES (?, ?, ?, ?, ?, ?, ?)", waves)
        conn.executemany("INSERT INTO phases (session_id, phase, t) VALUES (?, ?, ?)",
                         [(sid, "infusion", infusion), (sid, "recovery", recovery),
                          (sid, "ended", end)])
        conn.executemany("INSERT INTO infusion_actions (session_id, t, action, by, reason)"
                         " VALUES (?, ?, ?, ?, ?)",
                         [(sid, infusion, "start", "bench", ""),
                          (sid, infusion + 2400, "pause", "bench", "nausea"),
                          (sid, infusion + 2700, "resume", "bench", ""),
                          (sid, recovery, "stop", "bench", "")])
        conn.executemany("INSERT INTO session_events (session_id, event_id, t, kind, text,"
                         " author, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                         [(sid, f"e{i}", START + t, kind, "", "bench", START + t)
                          for i, (t, kind) in enumerate(EVENTS)])
        conn.executemany("INSERT INTO alarms (session_id, t, alarm_id, kind, vital, priority,"
                         " state, value, limit_value, message, by)"
                         " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", alarms)
        conn.execute("UPDATE sessions SET status = 'completed', ended_at = ?, last_data_at = ?,"
                     " reading_count = ? WHERE id = ?", (end, end, len(readings), sid))
    database.save_setup(db, sid, {"patient_ref": "BENCH-1", "clinician": "Dr Bench",
                                  "dose_mg_per_kg": 0.5, "total_mg": 35.0,
                                  "course_number": 3, "course_total": 6})
    return db, sid


def _stats(xs: list[float]) -> str:
    ms = sorted(x * 1000 for x in xs)
    p90 = ms[min(len(ms) - 1, math.ceil(0.9 * len(ms)) - 1)]
    return (f"median {statistics.median(ms):7.1f} ms, p90 {p90:7.1f} ms "
            f"(min {ms[0]:.1f}, max {ms[-1]:.1f}; {len(ms)} samples)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=float, default=4.0)
    ap.add_argument("--opens", type=int, default=5)
    ap.add_argument("--frames", type=int, default=60)
    args = ap.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from monitor.ui.application import create_application
    from monitor.ui.review.loading import load_review
    from monitor.ui.review.review_view import ReviewView

    app = create_application()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        db, sid = build(Path(tmp), args.hours)
        built = time.perf_counter() - t0
        loads, opens, views = [], [], []
        for _ in range(args.opens):
            t0 = time.perf_counter()
            data = load_review(db, sid)
            loads.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            view = ReviewView(data)
            view.resize(1480, 900)
            view.show()
            view.grab()
            opens.append(time.perf_counter() - t0)
            views.append(view)
            view.close()
            app.processEvents()
        record = data.record
        print(f"Machine: {machine()}. Date: {date.today().isoformat()}.")
        print(f"session: {args.hours:g} h, {sum(len(s) for s in record.numerics.values())} "
              f"readings, {len(record.pleth)} pleth samples at {record.pleth.rate:g} Hz, "
              f"{len(record.alarm_spans())} alarms, {len(record.events)} events "
              f"(written in {built:.1f} s)")
        print(f"(a) load_review (record + summary, worker thread in the app): {_stats(loads)}")
        print(f"(a) open: construct + show + first full draw:                 {_stats(opens)}")
        view = views[-1]
        view.show()
        plots = view.plots
        plots.zoom_out()
        plots.grab()
        span = plots.span_min
        frames = []
        for i in range(args.frames):
            if i % 2:
                lo = (i % 10) * 0.01 * span - 0.02 * span
                width = 1.01 * span
            else:
                width = (0.96 + 0.04 * ((i // 2) % 2)) * span
                lo = (span - width) / 2
            t0 = time.perf_counter()
            plots.set_x_range(lo, lo + width)
            plots.grab()
            frames.append(time.perf_counter() - t0)
        print(f"(b) pan/zoom frame at full zoom-out (set range + repaint):     {_stats(frames)}")
        for v in views:
            v.deleteLater()
        app.processEvents()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
