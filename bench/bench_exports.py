"""Issue 6 benchmark: each export of a 4-hour session with a 100 Hz pleth (target <= 3 s).

The session is written to a temporary database by the app's own recorder
(:class:`monitor.storage.recorder.Recorder`, the thread every session is
recorded with): HR, pulse rate, SpO2, RR, EtCO2 and temperature every
second, an NIBP determination (sys, dia, mean) every 5 minutes, the pleth
at 100 Hz in 1-second chunks (1.44 million float32 samples with noise, so
they compress like a real wave rather than a perfect sine), a few nurse events
and alarms. The record is loaded once with
:func:`monitor.review.record.load_record` (timed too), then each export is
written ``--repeats`` times to a temporary folder, timed with
``perf_counter`` around the public call (the same call the CLI and the
window make); the median is reported, with min and max. Then the whole
command, ``infusion-monitor export SESSION --format F -o FILE``, is timed
as a user sees it (a new Python process: imports, loading the record,
writing), ``--cli-repeats`` times per format.

Usage: python -m bench.bench_exports [--hours 4] [--repeats 5] [--cli-repeats 3]
"""

from __future__ import annotations

import argparse
import math
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np

from bench.common import machine, monitor_cmd, run
from monitor.core.alarms.model import AlarmKind, AlarmTransition, Priority, TransitionState
from monitor.core.queues import BoundedQueue
from monitor.core.reading import Reading, WaveChunk
from monitor.core.vitals import Vital
from monitor.core.workflow.messages import EventKind, SessionEvent
from monitor.export import write_export
from monitor.review.record import load_record
from monitor.storage import database
from monitor.storage.recorder import Recorder

START = 1_790_000_000.0
RATE = 100.0
CONTINUOUS = {Vital.HR: (72, 8), Vital.PULSE_RATE: (71, 8), Vital.SPO2: (97, 1.5),
              Vital.RESP_RATE: (14, 2), Vital.ETCO2: (36, 2), Vital.TEMP: (36.7, 0.2)}


def _items(seconds: int, rng: np.random.Generator):
    """Readings, wave chunks, events and alarms of the session, in time order."""
    for s in range(seconds):
        t = START + s
        for v, (mid, amp) in CONTINUOUS.items():
            value = round(mid + amp * math.sin(s / 600.0) + rng.normal(0, amp / 10), 1)
            yield Reading(v, value, t)
        if s % 300 == 60:
            sys_ = round(125 + 15 * math.sin(s / 3000.0))
            yield Reading(Vital.NIBP_SYS, sys_, t)
            yield Reading(Vital.NIBP_DIA, sys_ - 47, t)
            yield Reading(Vital.NIBP_MEAN, sys_ - 31, t)
        phase = 2 * np.pi * 1.2 * (s + np.arange(int(RATE)) / RATE)
        wave = np.sin(phase) ** 3 + rng.normal(0, 0.02, int(RATE))   # noise: realistic gzip
        yield WaveChunk(Vital.PLETH, t, RATE, wave.astype(np.float32))
        if s % 1800 == 900:
            yield SessionEvent(f"e{s}", t, EventKind.NOTE, "benchmark note", "bench")
            yield AlarmTransition("spo2.low", AlarmKind.PHYSIOLOGICAL, Vital.SPO2,
                                  Priority.MEDIUM, TransitionState.RAISED, t, 89.0, 90.0,
                                  "SpO2 89 < 90")
            yield AlarmTransition("spo2.low", AlarmKind.PHYSIOLOGICAL, Vital.SPO2,
                                  Priority.MEDIUM, TransitionState.CLEARED, t + 40, 89.0, 90.0,
                                  "SpO2 89 < 90")


def build(data_dir: Path, hours: float) -> tuple[Path, int]:
    """Record the synthetic session through the app's recorder; return the database and id."""
    db = database.open_database(data_dir)
    sid = database.create_session(db, started_at=START, source="sim:bench", simulated=True)
    seconds = int(hours * 3600)
    q: BoundedQueue = BoundedQueue(100_000, "rec", block_when_full=True)
    rec = Recorder(db, sid, q, on_status=lambda s: None, clock_now=lambda: START + seconds)
    rec.start()
    for item in _items(seconds, np.random.default_rng(0)):
        q.put(item)
    rec.stop()
    rec.join()
    database.save_setup(db, sid, {"patient_ref": "BENCH-1", "clinician": "Dr Bench"})
    with database.write_transaction(db) as conn:
        conn.execute("UPDATE sessions SET status = 'completed', ended_at = ? WHERE id = ?",
                     (START + seconds, sid))
    return db, sid


def _timed(fn, repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def _line(name: str, xs: list[float]) -> str:
    return (f"{name:<28} median {statistics.median(xs):6.2f} s  (min {min(xs):.2f}, "
            f"max {max(xs):.2f}; {len(xs)} runs)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=float, default=4.0)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--cli-repeats", type=int, default=3)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        db, sid = build(folder / "data", args.hours)
        built = time.perf_counter() - t0
        record = load_record(db, sid)
        print(f"Machine: {machine()}. Date: {date.today().isoformat()}.")
        print(f"session: {args.hours:g} h, {sum(len(s) for s in record.numerics.values())} "
              f"readings, {len(record.pleth)} pleth samples at {record.pleth.rate:g} Hz "
              f"(recorded in {built:.1f} s)")
        print(_line("load_record", _timed(lambda: load_record(db, sid), args.repeats)))
        for fmt in ("csv", "vital", "edf", "hl7"):
            for deid in (False, True):
                name = f"{fmt}{' --deidentify' if deid else ''}"
                out = folder / name.replace(" --", "-")
                out.mkdir()
                xs = _timed(lambda p=out / f"session.{fmt}", f=fmt, d=deid: write_export(
                    record, f, p, deidentify=d, key=b"k" * 32), args.repeats)
                size = sum(p.stat().st_size for p in out.iterdir()) / 1e6
                print(_line(name, xs) + f"  [{size:.1f} MB]")
        for fmt in ("csv", "vital", "edf", "hl7"):
            cmd = monitor_cmd("export", str(sid), "--format", fmt, "-o",
                              str(folder / f"cli.{fmt}"), "--data-dir", str(folder / "data"))
            xs = _timed(lambda c=cmd: run(c, check=True, capture_output=True), args.cli_repeats)
            print(_line(f"infusion-monitor export {fmt}", xs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
