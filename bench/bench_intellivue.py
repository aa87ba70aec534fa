"""Issue 14 benchmarks: the Philips IntelliVue codecs' throughput and the pty-to-hub latency.

(1) Codec throughput, intellivue-mib and intellivue-lan. The scenario
    ``typical`` (seed 0) is played for ``--minutes`` simulated minutes through
    the simulated monitor (:mod:`simulators.encoders.intellivue`) with the real
    codec as its host in the same process (``open_requests``, then ``tick``
    after every 0.1 s step, its messages handed to the encoder), so the stream
    is a real session: association, MDS create event, numerics and alerts
    polled every second, the 125 Hz pleth every 256 ms. The monitor's bytes
    (MIB frames; LAN datagrams back to back, as a capture file replays) are
    fed to a fresh codec in ``--chunk``-byte pieces and 1 byte at a time,
    timed with ``perf_counter`` (``thread_time`` alongside) with the thread
    pinned to one CPU; ``--repeats`` rounds, protocols and chunk sizes
    interleaved, medians reported. Target: >= 50x the 115200-baud line rate
    (11,520 B/s at baud/10 -> 576 kB/s).

(2) Latency from the last byte of a poll result written on a pty to the item
    leaving the hub. The bench creates a pty (``os.openpty``, slave raw) and
    runs the real :class:`~monitor.acquisition.pipeline.Pipeline` with a
    :class:`~monitor.devices.serial_driver.SerialDriver` for intellivue-mib on
    the slave, a temporary database and :class:`RealClock`; its ``sink``
    stamps ``perf_counter`` for every Reading and WaveChunk the hub
    publishes. The bench thread is the monitor: every 2 ms it reads what the
    driver sent on the master (association request, MDS create result,
    polls...), hands it to the encoder, pushes the scenario's items up to the
    wall clock and writes each due frame with one ``os.write``, stamping
    ``perf_counter`` right after it. Each numerics result frame is paired
    with the first Reading whose host time is not before the frame's write
    began, each wave result with the first WaveChunk likewise. The codec's
    ``feed`` is wrapped on the driver instance (bench only) to split the
    latency into pty + reader wake-up, ``feed``, reader queue + hub.
    Target: p99 <= 20 ms.

Usage: python -m bench.bench_intellivue [--minutes 30] [--repeats 5] [--seconds 150]
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

from bench.bench_codecs import pct
from bench.common import machine
from monitor.core.clock import RealClock
from monitor.core.reading import Reading, WaveChunk
from monitor.devices.codecs import intellivue_layout as L
from monitor.devices.protocols import codec_class
from simulators.encoders import encoder_class

PROTOCOLS = ("intellivue-mib", "intellivue-lan")
SCENARIO = "typical"
SEED = 0
SIM_START = 1_700_000_000.0
GEN_STEP_S = 0.1
LINE_RATE = 115200 / 10                  # baud/10: 11,520 B/s
THROUGHPUT_TARGET_X = 50.0
LATENCY_TARGET_MS = 20.0
WARMUP_S = 5.0


# -- (1) throughput -----------------------------------------------------------


def session_stream(protocol: str, seconds: float) -> tuple[list[bytes], dict]:
    """The monitor's messages of ``seconds`` of a real session with the codec as host."""
    from simulators.engine import ScenarioEngine
    from simulators.scenario import load_scenario

    encoder = encoder_class(protocol)(np.random.default_rng([SEED, 0xE7C0]))
    host = codec_class(protocol)()
    encoder.receive(host.open_requests())
    engine = ScenarioEngine(load_scenario(SCENARIO), SEED, SIM_START, run_s=seconds)
    frames: list[bytes] = []
    for k in range(1, round(seconds / GEN_STEP_S) + 1):
        now = SIM_START + k * GEN_STEP_S
        for item in engine.generate(now):
            encoder.push(item)
        for message in host.tick(now):
            encoder.receive(message)
        due = encoder.due(now)
        for frame in due:
            host.feed(frame, now)
        frames += due
    return frames, {"host_state": host.link_state, "host_bad": host.stats.frames_bad,
                    "associations": encoder.associations}


def feed_once(protocol: str, data: bytes, chunk: int) -> tuple[float, float, int, int, int]:
    """(wall s, thread CPU s, items, readings, wave samples) of a fresh codec fed ``data``."""
    codec = codec_class(protocol)()
    pieces = [data[i:i + chunk] for i in range(0, len(data), chunk)]
    t = SIM_START
    items = readings = samples = 0
    c0 = time.thread_time()
    w0 = time.perf_counter()
    for piece in pieces:
        out = codec.feed(piece, t)
        if out:
            items += len(out)
            for x in out:
                if isinstance(x, Reading):
                    readings += 1
                elif isinstance(x, WaveChunk):
                    samples += len(x)
        t += 0.001
    wall = time.perf_counter() - w0
    cpu = time.thread_time() - c0
    st = codec.stats
    if st.frames_bad or st.bytes_discarded:
        raise SystemExit(f"{protocol}: stream did not decode cleanly: {st}")
    return wall, cpu, items, readings, samples


def throughput(streams: dict[str, bytes], repeats: int, chunks: tuple[int, ...]) -> dict:
    cpu = max(os.sched_getaffinity(0))
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {cpu})
    try:
        runs: dict[tuple[str, int], list[tuple[float, float, int, int, int]]] = {}
        for _ in range(repeats):
            for chunk in chunks:
                for p in PROTOCOLS:
                    runs.setdefault((p, chunk), []).append(feed_once(p, streams[p], chunk))
    finally:
        os.sched_setaffinity(0, before)
    return {"cpu": cpu, "runs": runs}


def report_throughput(streams: dict[str, bytes], frames: dict[str, list[bytes]],
                      info: dict[str, dict], seconds: float, repeats: int,
                      chunks: tuple[int, ...], res: dict) -> bool:
    need = THROUGHPUT_TARGET_X * LINE_RATE
    print(f"(1) codec throughput: scenario '{SCENARIO}' seed {SEED}, {seconds / 60:g} simulated "
          f"minutes through the simulated monitor with the codec as its host in process; "
          f"a fresh codec fed the monitor's bytes, timed with perf_counter, one thread pinned "
          f"to CPU {res['cpu']}; {repeats} repeats, protocols and chunk sizes interleaved")
    for p in PROTOCOLS:
        print(f"    {p:<15} {len(streams[p]):>10,d} B in {len(frames[p]):>6,d} messages; real "
              f"rate {len(streams[p]) / seconds:7.1f} B/s; session: host {info[p]['host_state']},"
              f" {info[p]['associations']} association(s), host frames bad "
              f"{info[p]['host_bad']}")
    ok = True
    for chunk in chunks:
        print(f"    chunks of {chunk} B: median MB/s [runs]; x line rate (115200 baud/10 = "
              f"{LINE_RATE:,.0f} B/s); decoded items/s (readings/s, pleth samples/s); "
              f"CPU-time MB/s")
        for p in PROTOCOLS:
            rs = res["runs"][(p, chunk)]
            n = len(streams[p])
            mbs = [n / w / 1e6 for w, *_ in rs]
            med_wall = statistics.median(w for w, *_ in rs)
            med_cpu = statistics.median(c for _, c, *_ in rs)
            items, readings, samples = rs[0][2], rs[0][3], rs[0][4]
            rate = n / med_wall
            ok &= min(rate, n / med_cpu) >= need
            print(f"      {p:<15} {statistics.median(mbs):6.2f} MB/s "
                  f"[{', '.join(f'{x:.2f}' for x in mbs)}]; x{rate / LINE_RATE:>6,.0f} line; "
                  f"{items / med_wall:>9,.0f} items/s ({readings / med_wall:>8,.0f} readings/s,"
                  f" {samples / med_wall:>10,.0f} samples/s); CPU {n / med_cpu / 1e6:5.2f} MB/s")
    print(f"    target >= {THROUGHPUT_TARGET_X:g}x the line rate = {need / 1e3:.0f} kB/s "
          f"(wall and CPU time): {'met' if ok else 'NOT met'} for both codecs at every chunk "
          f"size; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return ok


# -- (2) latency --------------------------------------------------------------


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _result_class(frame: bytes) -> int | None:
    """The polled object class of a poll result frame, else None."""
    for message in L.Deframer().feed(frame):
        if L.message_kind(message) != "data":
            return None
        dm = L.parse_data_message(message)
        if dm.ro_type in (L.RORS_APDU, L.ROLRS_APDU) and dm.command_type == \
                L.CMD_CONFIRMED_ACTION:
            reply = L.parse_poll_reply(dm.body)
            if reply.observations:
                return reply.obj_class
    return None


def latency_run(seconds: float) -> dict:
    """The real pipeline on a pty, the simulated monitor on the master, for ``seconds``."""
    from monitor.acquisition.pipeline import Pipeline
    from monitor.devices.serial_driver import SerialDriver
    from monitor.storage.database import open_database
    from simulators.engine import ScenarioEngine
    from simulators.scenario import load_scenario

    protocol = "intellivue-mib"
    master, slave = os.openpty()
    tty.setraw(slave)
    os.set_blocking(master, False)
    path = os.ttyname(slave)
    arrivals: dict[str, list[tuple[float, float]]] = {"nu": [], "wave": []}
    feeds: list[tuple[float, float, float, bool, bool]] = []   # t, pc in, pc out, reading, wave
    lock = threading.Lock()

    def sink(msg: object) -> None:
        kind = "nu" if isinstance(msg, Reading) else "wave" if isinstance(msg, WaveChunk) \
            else None
        if kind is not None:
            pc = time.perf_counter()
            t = msg.t if isinstance(msg, Reading) else msg.t_end   # type: ignore[union-attr]
            with lock:
                arrivals[kind].append((t, pc))

    encoder = encoder_class(protocol)(np.random.default_rng([SEED, 0x1A7]))
    result: dict = {}
    writes: dict[str, list[tuple[float, float]]] = {"nu": [], "wave": []}
    with tempfile.TemporaryDirectory(prefix="bench-intellivue-") as d:
        db = open_database(d)
        driver = SerialDriver(path, protocol)
        real_feed = driver.codec.feed

        def timed_feed(data: bytes, t: float) -> list:
            pc_in = time.perf_counter()
            out = real_feed(data, t)
            feeds.append((t, pc_in, time.perf_counter(),
                          any(isinstance(x, Reading) for x in out),
                          any(isinstance(x, WaveChunk) for x in out)))
            return out

        driver.codec.feed = timed_feed          # instance attribute: this run only
        pipe = Pipeline(driver, db, RealClock(), sink=sink)
        # The scenario is made up front, so the monitor thread only pushes and encodes.
        start = time.time() + 0.5
        engine = ScenarioEngine(load_scenario(SCENARIO), SEED, start, run_s=seconds + 5)
        steps = [(start + k * GEN_STEP_S, engine.generate(start + k * GEN_STEP_S))
                 for k in range(1, round((seconds + 5) / GEN_STEP_S))]
        next_step = 0
        while time.time() < start:
            time.sleep(0.01)
        host_bytes = 0
        try:
            pipe.start()
            end = start + seconds
            while time.time() < end:
                if select.select([master], [], [], 0.002)[0]:
                    try:
                        data = os.read(master, 4096)
                    except BlockingIOError:
                        data = b""
                    host_bytes += len(data)
                    encoder.receive(data)
                now = time.time()
                while next_step < len(steps) and steps[next_step][0] <= now:
                    for item in steps[next_step][1]:
                        encoder.push(item)
                    next_step += 1
                for frame in encoder.due(now):
                    cls = _result_class(frame)
                    wall = time.time()
                    _write_all(master, frame)
                    pc = time.perf_counter()
                    if wall - start >= WARMUP_S:
                        if cls == L.NOM_MOC_VMO_METRIC_NU:
                            writes["nu"].append((wall, pc))
                        elif cls == L.NOM_MOC_VMO_METRIC_SA_RT:
                            writes["wave"].append((wall, pc))
            time.sleep(0.3)
        finally:
            pipe.stop()
            result["joined"] = pipe.join(timeout=10)
            os.close(master)
            os.close(slave)
        result["frames_ok"] = driver.codec.stats.frames_ok
        result["frames_bad"] = driver.codec.stats.frames_bad
        result["link_state"] = driver.codec.link_state
        result["associations"] = encoder.associations
        result["host_bytes"] = host_bytes
        result["ignored"] = dict(encoder.ignored)

    for kind, column in (("nu", 3), ("wave", 4)):
        arr = sorted(arrivals[kind])
        arr_t = [a for a, _ in arr]
        rows = [f for f in feeds if f[column]]
        rows_t = [f[0] for f in rows]
        lat, wake, decode, hub, unmatched = [], [], [], [], 0
        ws = writes[kind]
        for i, (wall, pc_w) in enumerate(ws):
            nxt = ws[i + 1][0] if i + 1 < len(ws) else float("inf")
            j = bisect.bisect_left(arr_t, wall)
            if j >= len(arr) or arr_t[j] >= nxt:
                unmatched += 1
                continue
            _, pc_s = arr[j]
            lat.append(pc_s - pc_w)
            k = bisect.bisect_left(rows_t, wall)
            if k < len(rows):
                _, pc_in, pc_out, _, _ = rows[k]
                wake.append(pc_in - pc_w)
                decode.append(pc_out - pc_in)
                hub.append(pc_s - pc_out)
        result[kind] = {"lat": lat, "wake": wake, "decode": decode, "hub": hub,
                        "unmatched": unmatched, "written": len(ws)}
    return result


def report_latency(runs: list[dict], seconds: float) -> bool:
    print(f"(2) latency, last byte of a poll result written on a pty master by the simulated "
          f"monitor -> item published by the hub (real SerialDriver with the codec's session + "
          f"Pipeline + recorder, temp DB, RealClock); {len(runs)} run(s) of {seconds:g} s, "
          f"the first {WARMUP_S:g} s not counted")
    print("    ms: p50 / p95 / p99 / max  [n]   | split (median; p99): pty->reader got bytes, "
          "codec.feed, reader queue+hub")
    ok = True
    for kind, name in (("nu", "numerics -> Reading"), ("wave", "pleth -> WaveChunk")):
        lat = [x * 1e3 for r in runs for x in r[kind]["lat"]]
        wake = [x * 1e3 for r in runs for x in r[kind]["wake"]]
        dec = [x * 1e3 for r in runs for x in r[kind]["decode"]]
        hub = [x * 1e3 for r in runs for x in r[kind]["hub"]]
        unmatched = sum(r[kind]["unmatched"] for r in runs)
        p99 = pct(lat, 99)
        ok &= p99 <= LATENCY_TARGET_MS
        print(f"      {name:<20} {pct(lat, 50):5.2f} / {pct(lat, 95):5.2f} / {p99:5.2f} / "
              f"{max(lat, default=float('nan')):6.2f}  [{len(lat)}]  | {pct(wake, 50):.2f}; "
              f"{pct(wake, 99):.2f}  {pct(dec, 50):.2f}; {pct(dec, 99):.2f}  "
              f"{pct(hub, 50):.2f}; {pct(hub, 99):.2f}   unmatched {unmatched}")
    r0 = runs[0]
    print(f"    session: link {r0['link_state']}, {r0['associations']} association(s), codec "
          f"frames ok/bad {sum(r['frames_ok'] for r in runs)}/"
          f"{sum(r['frames_bad'] for r in runs)}, host bytes {r0['host_bytes']}, monitor "
          f"ignored {r0['ignored']}, threads joined {all(r['joined'] for r in runs)}; "
          f"load average after the runs {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"    target p99 <= {LATENCY_TARGET_MS:g} ms: {'met' if ok else 'NOT met'}")
    return ok


# -- main -----------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--chunk", type=int, default=64)
    ap.add_argument("--seconds", type=float, default=150.0, help="latency run length")
    ap.add_argument("--rounds", type=int, default=1)
    args = ap.parse_args()
    print(f"machine: {machine()}")
    print(f"date: {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC")
    seconds = args.minutes * 60
    made = {p: session_stream(p, seconds) for p in PROTOCOLS}
    frames = {p: made[p][0] for p in PROTOCOLS}
    info = {p: made[p][1] for p in PROTOCOLS}
    streams = {p: b"".join(frames[p]) for p in PROTOCOLS}
    chunks = (args.chunk, 1)
    res = throughput(streams, args.repeats, chunks)
    report_throughput(streams, frames, info, seconds, args.repeats, chunks, res)
    runs = [latency_run(args.seconds) for _ in range(args.rounds)]
    report_latency(runs, args.seconds)
    alive = [t.name for t in threading.enumerate() if t is not threading.main_thread()]
    print(f"threads left: {alive or 'none'}")
    if alive:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
