"""Issue 6 benchmark: the session browser's list of 5,000 sessions (target <= 0.5 s).

A database is made with the app's own migrations (schema v5) and filled
fast with ``executemany``: ``--sessions`` sessions a few days apart over
several years, each with its four phase times, a set-up (patients of about
ten sessions each), ``--readings`` readings and a few alarm transitions, and
the browser's columns on the session row as the recorder keeps them. Then
:func:`monitor.review.overview.list_overviews` is timed, ``--repeats`` times
each, for: every session; one patient (prefix filter); one month (date
filter); the newest 100. The first call of all (cold: the file not yet in
SQLite's page cache) is reported apart. Also timed: the recorder's per-batch
alarm recount for one session (``ALARM_COUNTS_UPDATE`` for one id) on the
full database, which must not grow with the number of sessions.

Run::

    python -m bench.bench_review_index [--sessions 5000] [--repeats 9]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import tempfile
import time
from pathlib import Path

from bench.common import machine
from monitor.review.overview import list_overviews
from monitor.storage.database import connect, open_database
from monitor.storage.schema import ALARM_COUNTS_UPDATE

DAY = 86400.0
START = dt.datetime(2021, 1, 4, 9, 0).timestamp()


def build(folder: Path, sessions: int, readings: int, seed: int = 0) -> Path:
    """A database of ``sessions`` synthetic sessions; its path."""
    rng = random.Random(seed)
    db = open_database(folder)
    rows, phases, setups, reads, alarms = [], [], [], [], []
    for sid in range(1, sessions + 1):
        t0 = START + (sid - 1) * 0.4 * DAY + rng.uniform(0, 3600)
        base, infusion, recovery = 600 + rng.uniform(0, 600), 2400.0, 1800 + rng.uniform(0, 1800)
        t_inf, t_rec = t0 + base, t0 + base + infusion
        t_end = t_rec + recovery
        patient = f"PT-{(sid - 1) // 10:04d}"
        peak = 120 + rng.uniform(0, 80)
        low = 99 - rng.uniform(0, 14)
        high, medium, low_n = rng.randint(0, 1), rng.randint(0, 3), rng.randint(0, 4)
        rows.append((sid, t0, t_end, "completed", "sim:typical", 1, patient, t_end, readings,
                     3600, "0.1.0", "Ketamine infusion, adult", peak, low, high, medium, low_n))
        phases += [(sid, "baseline", t0), (sid, "infusion", t_inf), (sid, "recovery", t_rec),
                   (sid, "ended", t_end)]
        setups.append((sid, patient, 70.0, 0.5, 35.0, 40.0, (sid - 1) % 10 + 1, 10,
                       "Dr Okafor", 18, 30, 12))
        step = (t_end - t0) / readings
        reads += [(sid, t0 + i * step, "hr", 70.0 + i % 7, "ok") for i in range(readings)]
        for n, prio in enumerate(["high"] * high + ["medium"] * medium + ["low"] * low_n):
            alarms += [(sid, t_inf + 60 * n, f"a{n}", prio, "raised"),
                       (sid, t_inf + 60 * n + 30, f"a{n}", prio, "cleared")]
    conn = connect(db)
    try:
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO sessions (id, started_at, ended_at, status, source, simulated,"
            " patient_ref, last_data_at, reading_count, utc_offset_s, app_version,"
            " alarm_profile, peak_nibp_sys, min_spo2, alarms_high, alarms_medium, alarms_low)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        conn.executemany("INSERT INTO phases (session_id, phase, t) VALUES (?, ?, ?)", phases)
        conn.executemany(
            "INSERT INTO session_setup (session_id, patient_ref, weight_kg, dose_mg_per_kg,"
            " total_mg, planned_infusion_min, course_number, course_total, clinician,"
            " pre_phq9, pre_madrs, post_cadss) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            setups)
        conn.executemany("INSERT INTO readings (session_id, t, vital, value, quality)"
                         " VALUES (?, ?, ?, ?, ?)", reads)
        conn.executemany("INSERT INTO alarms (session_id, t, alarm_id, kind, priority, state,"
                         " message) VALUES (?, ?, ?, 'physiological', ?, ?, '')", alarms)
        conn.execute("COMMIT")
    finally:
        conn.close()
    return db


def timed(fn, repeats: int) -> tuple[float, list[float], object]:
    """Median seconds of ``repeats`` calls, every time, and the last result."""
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), times, out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=5000)
    ap.add_argument("--readings", type=int, default=20, help="readings per session")
    ap.add_argument("--repeats", type=int, default=9)
    args = ap.parse_args(argv)
    print(f"machine: {machine()}")
    print(f"date: {dt.date.today().isoformat()}")
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        db = build(Path(tmp), args.sessions, args.readings)
        size = db.stat().st_size / 2**20
        print(f"built {args.sessions} sessions ({args.readings} readings each, "
              f"{size:.1f} MiB) in {time.perf_counter() - t:.1f} s")
        t = time.perf_counter()
        cold = list_overviews(db)
        print(f"cold first call, every session: {1000 * (time.perf_counter() - t):.0f} ms "
              f"({len(cold)} rows)")
        month = dt.datetime.fromtimestamp(START + 400 * DAY).date()
        cases = {
            "every session": lambda: list_overviews(db),
            "one patient (prefix 'pt-0042')": lambda: list_overviews(db, patient="pt-0042"),
            "one month (date filter)": lambda: list_overviews(
                db, date_from=month, date_to=month + dt.timedelta(days=30)),
            "newest 100 (limit)": lambda: list_overviews(db, limit=100),
        }
        for name, fn in cases.items():
            med, times, out = timed(fn, args.repeats)
            print(f"{name:34s} median {1000 * med:7.1f} ms  (min {1000 * min(times):.1f}, "
                  f"max {1000 * max(times):.1f}; {len(out)} rows)")
        conn = connect(db)
        sql = ALARM_COUNTS_UPDATE.format(where="WHERE session_id = ?")
        try:
            med, times, _ = timed(lambda: conn.execute(sql, (args.sessions // 2,)), args.repeats)
        finally:
            conn.close()
        print(f"{'recorder alarm recount, 1 session':34s} median {1000 * med:7.2f} ms  "
              f"(max {1000 * max(times):.2f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
