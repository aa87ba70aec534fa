"""Issue 3 benchmarks: codec throughput and serial-to-hub latency.

(1) Codec throughput, per protocol (masimo-ascii, text, nonin-2, datex-s5).
    The scenario ``typical`` (seed 0) is played through the protocol's
    simulator encoder for ``--minutes`` simulated minutes (Datex: the
    encoder first receives ``DatexS5Codec(interval=1).open_requests()`` so
    it streams displayed values every second and the pleth wave). The
    resulting byte stream is fed to a fresh codec in ``--chunk``-byte pieces
    (and, for comparison, 1 byte at a time, what a fast reader gets from a
    real 9600-baud UART), timed with ``perf_counter`` with the process pinned
    to one CPU. Protocols are interleaved within each of ``--repeats``
    repeats; medians are reported, with the ratio to the device's real data
    rate (stream bytes / simulated seconds) and to the serial line maximum
    (baud / 10). Target: >= 50x the fastest real data rate of the four.

(2) Latency from the last byte of a frame written on a pty to the Reading
    leaving the hub. A pty is created here (``os.openpty``, slave in raw
    mode); the real :class:`~monitor.acquisition.pipeline.Pipeline` runs
    in-process with a :class:`~monitor.devices.serial_driver.SerialDriver` on
    the slave's path, a temporary database and :class:`RealClock`; its
    ``sink`` stamps ``perf_counter`` when each Reading is published. The
    bench thread writes one whole frame at a time on the master at
    ``--hz`` (masimo-ascii / text: one line; nonin-2: one 25-frame packet;
    datex-s5: one PHDB displayed-values record frame) and stamps
    ``perf_counter`` right after ``os.write`` returns with the frame's last
    byte. Each frame is paired with the first Reading whose host time
    ``Reading.t`` is not before the frame's write began. The codec's
    ``feed`` is wrapped (in this process only; no monitor code changes) to
    stamp when the reader thread got the bytes, which splits the latency
    into pty+read wake-up, decoding, and reader queue + hub. Target: p99 <=
    20 ms.

Usage: python -m bench.bench_codecs [--minutes 30] [--repeats 5] [--frames 300] [--hz 20]
"""

from __future__ import annotations

import argparse
import bisect
import os
import select
import statistics
import tempfile
import threading
import time
import tty

import numpy as np

from bench.common import machine
from monitor.core.clock import RealClock
from monitor.core.reading import Reading
from monitor.devices.codecs import datex_layout as L
from monitor.devices.codecs.datex import DatexS5Codec
from monitor.devices.codecs.nonin import FRAMES_PER_PACKET
from monitor.devices.protocols import codec_class
from simulators.encoders import encoder_class

PROTOCOLS = ("masimo-ascii", "text", "nonin-2", "datex-s5")
SCENARIO = "typical"
SEED = 0
SIM_START = 1_700_000_000.0
GEN_STEP_S = 0.1
THROUGHPUT_TARGET_X = 50.0
LATENCY_TARGET_MS = 20.0
WARMUP_FRAMES = 10


# -- streams ------------------------------------------------------------------

def device_frames(protocol: str, seconds: float) -> list[bytes]:
    """The frames a device sends for ``seconds`` of the scenario, in order."""
    from simulators.engine import ScenarioEngine
    from simulators.scenario import load_scenario

    encoder = encoder_class(protocol)(np.random.default_rng([SEED, 0xE7C0]))
    if protocol == "datex-s5":
        encoder.receive(DatexS5Codec(interval=1).open_requests())
    engine = ScenarioEngine(load_scenario(SCENARIO), SEED, SIM_START, run_s=seconds)
    frames: list[bytes] = []
    steps = round(seconds / GEN_STEP_S)
    for k in range(1, steps + 1):
        now = SIM_START + k * GEN_STEP_S
        for item in engine.generate(now):
            encoder.push(item)
        frames += encoder.due(now)
    return frames


def latency_frames(protocol: str, frames: list[bytes]) -> list[bytes]:
    """Units written in one go in the latency test: each must produce Readings."""
    if protocol == "nonin-2":
        n = len(frames) // FRAMES_PER_PACKET
        return [b"".join(frames[i * FRAMES_PER_PACKET:(i + 1) * FRAMES_PER_PACKET])
                for i in range(n)]
    if protocol == "datex-s5":
        out = []
        for f in frames:
            record = L.unstuff(f.strip(b"\x7e"))
            if record and L.unpack_header(record).maintype == L.MAINTYPE_PHDB:
                out.append(f)
        return out
    return frames


# -- (1) throughput -----------------------------------------------------------

def feed_once(protocol: str, data: bytes, chunk: int) -> tuple[float, float, int, int]:
    """(wall s, thread CPU s, items, readings) of feeding ``data`` to a fresh codec."""
    codec = codec_class(protocol)()
    pieces = [data[i:i + chunk] for i in range(0, len(data), chunk)]
    t = SIM_START
    items = readings = 0
    c0 = time.thread_time()
    w0 = time.perf_counter()
    for piece in pieces:
        out = codec.feed(piece, t)
        if out:
            items += len(out)
            readings += sum(1 for x in out if isinstance(x, Reading))
        t += 0.001
    wall = time.perf_counter() - w0
    cpu = time.thread_time() - c0
    st = codec.stats
    if st.frames_bad or st.bytes_discarded:
        raise SystemExit(f"{protocol}: stream did not decode cleanly: {st}")
    return wall, cpu, items, readings


def throughput(streams: dict[str, bytes], seconds: float, repeats: int,
               chunks: tuple[int, ...]) -> dict:
    cpu = max(os.sched_getaffinity(0))
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {cpu})
    try:
        runs: dict[tuple[str, int], list[tuple[float, float, int, int]]] = {}
        for _ in range(repeats):
            for chunk in chunks:
                for p in PROTOCOLS:
                    runs.setdefault((p, chunk), []).append(feed_once(p, streams[p], chunk))
    finally:
        os.sched_setaffinity(0, before)
    return {"cpu": cpu, "runs": runs}


def line_max(protocol: str) -> tuple[float, float]:
    """(baud / 10, baud / bits per character) in bytes/s for the protocol's defaults."""
    s = codec_class(protocol).serial_defaults
    bits = 1 + s.bytesize + (0 if s.parity == "N" else 1) + float(s.stopbits)
    return s.baudrate / 10, s.baudrate / bits


def report_throughput(streams: dict[str, bytes], frames: dict[str, list[bytes]],
                      seconds: float, repeats: int, chunks: tuple[int, ...], res: dict) -> None:
    real = {p: len(streams[p]) / seconds for p in PROTOCOLS}
    fastest = max(PROTOCOLS, key=real.get)
    need = THROUGHPUT_TARGET_X * real[fastest]
    print(f"(1) codec throughput: scenario '{SCENARIO}' seed {SEED}, {seconds / 60:g} simulated "
          f"minutes per protocol through its encoder; codec.feed timed with perf_counter, "
          f"one thread pinned to CPU {res['cpu']}; {repeats} repeats, protocols interleaved")
    print("    stream:")
    for p in PROTOCOLS:
        b10, exact = line_max(p)
        s = codec_class(p).serial_defaults
        print(f"      {p:<13} {len(streams[p]):>9,d} B in {len(frames[p]):>7,d} frames; "
              f"real rate {real[p]:7.1f} B/s; line max {s.describe()}: baud/10 = {b10:.0f} B/s "
              f"(exact framing {exact:.0f} B/s)")
    for chunk in chunks:
        print(f"    chunks of {chunk} B: median MB/s [runs]; x real rate; x line max (baud/10); "
              f"decoded items/s (readings/s); CPU-time MB/s")
        for p in PROTOCOLS:
            rs = res["runs"][(p, chunk)]
            n = len(streams[p])
            mbs = [n / w / 1e6 for w, _, _, _ in rs]
            med_wall = statistics.median(w for w, _, _, _ in rs)
            med_cpu = statistics.median(c for _, c, _, _ in rs)
            items, readings = rs[0][2], rs[0][3]
            rate = n / med_wall
            print(f"      {p:<13} {statistics.median(mbs):6.2f} MB/s "
                  f"[{', '.join(f'{x:.2f}' for x in mbs)}]; "
                  f"x{rate / real[p]:>8,.0f} real; x{rate / line_max(p)[0]:>6,.0f} line max; "
                  f"{items / med_wall:>9,.0f} items/s ({readings / med_wall:>8,.0f} readings/s); "
                  f"CPU {n / med_cpu / 1e6:5.2f} MB/s")
        worst = min(PROTOCOLS, key=lambda p: len(streams[p]) / statistics.median(
            w for w, _, _, _ in res["runs"][(p, chunk)]))
        worst_rate = len(streams[worst]) / statistics.median(
            w for w, _, _, _ in res["runs"][(worst, chunk)])
        print(f"      target >= {THROUGHPUT_TARGET_X:g}x the fastest real rate ({fastest} "
              f"{real[fastest]:.0f} B/s -> {need / 1e3:.1f} kB/s): slowest codec {worst} "
              f"{worst_rate / 1e6:.2f} MB/s = x{worst_rate / real[fastest]:,.0f} -> "
              f"{'met' if worst_rate >= need else 'NOT met'}")


# -- (2) latency --------------------------------------------------------------

def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def latency_run(protocol: str, units: list[bytes], hz: float) -> dict:
    """Write ``units`` one at a time on a pty read by the real pipeline; per-unit timings."""
    from monitor.acquisition.pipeline import Pipeline
    from monitor.devices.serial_driver import SerialDriver
    from monitor.storage.database import open_database

    master, slave = os.openpty()
    tty.setraw(slave)
    path = os.ttyname(slave)
    arrivals: list[tuple[float, float]] = []       # (reading.t, perf_counter at the sink)
    feeds: list[tuple[float, float, float, int, bool]] = []  # (t, pc in, pc out, bytes, readings)
    lock = threading.Lock()

    def sink(msg: object) -> None:
        if isinstance(msg, Reading):
            pc = time.perf_counter()
            with lock:
                arrivals.append((msg.t, pc))

    result: dict = {"protocol": protocol}
    with tempfile.TemporaryDirectory(prefix="bench-codecs-") as d:
        db = open_database(d)
        driver = SerialDriver(path, protocol)
        real_feed = driver.codec.feed

        def timed_feed(data: bytes, t: float) -> list:
            pc_in = time.perf_counter()
            out = real_feed(data, t)
            feeds.append((t, pc_in, time.perf_counter(), len(data),
                          any(isinstance(x, Reading) for x in out)))
            return out

        driver.codec.feed = timed_feed          # instance attribute: this run only
        pipe = Pipeline(driver, db, RealClock(), sink=sink)
        try:
            pipe.start()
            if driver._ser is None:
                raise SystemExit(f"{protocol}: the driver could not open {path}")
            # What the driver sent on opening (the Datex requests) comes out on the master.
            requests = b""
            while select.select([master], [], [], 0.2)[0]:
                requests += os.read(master, 4096)
            result["requests"] = len(requests)
            writes: list[tuple[float, float]] = []   # (time.time() before, perf_counter after)
            period = 1.0 / hz
            t0 = time.perf_counter() + 0.2
            for i, unit in enumerate(units):
                delay = t0 + i * period - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                wall = time.time()
                _write_all(master, unit)
                writes.append((wall, time.perf_counter()))
            time.sleep(0.3)
        finally:
            pipe.stop()
            joined = pipe.join(timeout=10)
            os.close(master)
            os.close(slave)
        result["joined"] = joined
        result["frames_ok"] = driver.codec.stats.frames_ok
        result["frames_bad"] = driver.codec.stats.frames_bad

    # Pair each unit with the first Reading that came from bytes read after its write began.
    arr_t = [a for a, _ in arrivals]
    feed_t = [f[0] for f in feeds if f[4]]
    feed_rows = [f for f in feeds if f[4]]
    lat, read_wake, decode, hub, unmatched = [], [], [], [], 0
    for i, (wall, pc_w) in enumerate(writes):
        nxt = writes[i + 1][0] if i + 1 < len(writes) else float("inf")
        j = bisect.bisect_left(arr_t, wall)
        if j >= len(arrivals) or arr_t[j] >= nxt:
            unmatched += 1
            continue
        t, pc_s = arrivals[j]
        lat.append(pc_s - pc_w)
        k = bisect.bisect_left(feed_t, t)
        if k < len(feed_rows) and feed_rows[k][0] == t:
            _, pc_in, pc_out, _, _ = feed_rows[k]
            read_wake.append(pc_in - pc_w)
            decode.append(pc_out - pc_in)
            hub.append(pc_s - pc_out)
    reads_per_unit = len([f for f in feeds if f[3]]) / max(len(writes), 1)
    skip = WARMUP_FRAMES
    result.update(lat=lat[skip:], read_wake=read_wake[skip:], decode=decode[skip:],
                  hub=hub[skip:], unmatched=unmatched, written=len(writes),
                  reads_per_unit=reads_per_unit,
                  unit_bytes=statistics.median(len(u) for u in units))
    return result


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = (len(xs) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def report_latency(runs: dict[str, list[dict]], hz: float, rounds: int) -> None:
    print(f"(2) latency, last byte of a frame written on a pty master -> Reading published by "
          f"the hub (real SerialDriver + Pipeline + recorder, temp DB, RealClock); one frame "
          f"every {1000 / hz:.0f} ms; {rounds} round(s), protocols interleaved; first "
          f"{WARMUP_FRAMES} frames of each run not counted")
    print("    ms: p50 / p95 / p99 / max  [n]   | split (median; p99): pty->reader got bytes, "
          "codec.feed, reader queue+hub")
    ok = True
    for p in PROTOCOLS:
        rs = runs[p]
        lat = [x * 1e3 for r in rs for x in r["lat"]]
        wake = [x * 1e3 for r in rs for x in r["read_wake"]]
        dec = [x * 1e3 for r in rs for x in r["decode"]]
        hub = [x * 1e3 for r in rs for x in r["hub"]]
        unmatched = sum(r["unmatched"] for r in rs)
        p99 = pct(lat, 99)
        ok &= p99 <= LATENCY_TARGET_MS
        print(f"      {p:<13} {pct(lat, 50):5.2f} / {pct(lat, 95):5.2f} / {p99:5.2f} / "
              f"{max(lat):6.2f}  [{len(lat)}]  | {pct(wake, 50):.2f}; {pct(wake, 99):.2f}  "
              f"{pct(dec, 50):.2f}; {pct(dec, 99):.2f}  {pct(hub, 50):.2f}; {pct(hub, 99):.2f}")
        r0 = rs[0]
        print(f"      {'':<13} frame {r0['unit_bytes']:.0f} B, {r0['reads_per_unit']:.1f} reads "
              f"per frame, unmatched {unmatched}, codec frames ok/bad "
              f"{sum(r['frames_ok'] for r in rs)}/{sum(r['frames_bad'] for r in rs)}, "
              f"open requests {r0['requests']} B, threads joined "
              f"{all(r['joined'] for r in rs)}")
    print(f"    target p99 <= {LATENCY_TARGET_MS:g} ms: {'met' if ok else 'NOT met'} "
          f"for every protocol")


# -- main -----------------------------------------------------------------------

def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--chunk", type=int, default=64)
    ap.add_argument("--frames", type=int, default=300, help="latency frames per protocol")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--hz", type=float, default=20.0)
    args = ap.parse_args()
    print(f"machine: {machine()}")
    print(f"date: {time.strftime('%Y-%m-%d %H:%M')}")
    seconds = args.minutes * 60
    frames = {p: device_frames(p, seconds) for p in PROTOCOLS}
    streams = {p: b"".join(frames[p]) for p in PROTOCOLS}
    chunks = (args.chunk, 1)
    res = throughput(streams, seconds, args.repeats, chunks)
    report_throughput(streams, frames, seconds, args.repeats, chunks, res)

    per_round = -(-(args.frames + WARMUP_FRAMES * args.rounds) // args.rounds)
    units = {p: latency_frames(p, frames[p]) for p in PROTOCOLS}
    for p in PROTOCOLS:
        if len(units[p]) < per_round * args.rounds:
            raise SystemExit(f"{p}: only {len(units[p])} frames; raise --minutes")
    runs: dict[str, list[dict]] = {p: [] for p in PROTOCOLS}
    for r in range(args.rounds):
        for p in PROTOCOLS:
            runs[p].append(latency_run(p, units[p][r * per_round:(r + 1) * per_round], args.hz))
    report_latency(runs, args.hz, args.rounds)
    alive = [t.name for t in threading.enumerate() if t is not threading.main_thread()]
    print(f"threads left: {alive or 'none'}")
    if alive:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
