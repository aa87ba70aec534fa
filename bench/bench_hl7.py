"""Issue 15 benchmarks: the HL7 PCD-01 codec's throughput and the loopback-socket latency.

(1) Codec throughput, hl7-pcd01. Messages are made by the independent builder of the
    tests (:mod:`tests.hl7_ihe`, written from the IHE PCD TF vol. 2): a gateway's
    1-per-second vitals ORU^R01 (MDS, VMD headers and 9 NM rows: HR, SpO2, PR, PI, RR,
    EtCO2, temperature) and an NIBP determination (VMD, channel, sys/dia/mean), each
    with its own control id and observation time (so every NIBP is a new determination).
    ``--messages`` of each kind, MLLP-framed back to back, are fed to a fresh codec in
    ``--chunk``-byte pieces (a TCP read) and one whole frame at a time, the ACKs taken
    after every feed (``replies``), timed with ``perf_counter`` (``thread_time``
    alongside) with the thread pinned to one CPU; ``--repeats`` rounds, kinds and chunk
    sizes interleaved, medians reported. A gateway sends one message per bed per second,
    so a chair needs 1 message/s; the target is >= 1,000 messages/s on one core (a
    whole ward's gateway feed of 100 beds at 10 messages/s each).

(2) Latency from the last byte of a message written on a loopback TCP socket to the
    Reading out of the hub. With the listener driver of issue 15
    (:mod:`monitor.devices.hl7_driver`) the real
    :class:`~monitor.acquisition.pipeline.Pipeline` runs on it (reader, hub and recorder
    threads, a temporary database, :class:`RealClock`), its ``sink`` stamping
    ``perf_counter`` for every Reading; the bench thread is the gateway: it connects,
    writes one vitals message every ``--period`` s with one ``sendall`` and stamps
    ``perf_counter`` after it, and reads the ACKs. Each message's HR carries a unique
    device time (OBX-14), so each Reading is paired with its message exactly. Without
    the driver (``--socket-only``, or the module missing) a reader thread of the bench
    accepts the connection and measures socket -> ``codec.feed_channel`` -> Reading
    instead, and says so; with the driver, one such run of half the length follows, as
    the split (socket + codec alone). Target: p99 <= 20 ms.

Usage: python -m bench.bench_hl7 [--messages 3000] [--repeats 5] [--seconds 60] [--period 0.05]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import tempfile
import threading
import time

from bench.bench_codecs import pct
from bench.common import machine
from monitor.core.reading import Reading
from monitor.core.vitals import Vital
from monitor.devices.codecs.hl7_pcd01 import Hl7Pcd01Codec
from tests import hl7_ihe as h

BASE_T = 1_765_000_000.0
THROUGHPUT_TARGET = 1000.0
LATENCY_TARGET_MS = 20.0
WARMUP_S = 2.0
KINDS = ("vitals", "nibp")


# -- (1) throughput -----------------------------------------------------------


def make_message(kind: str, k: int, bed: str = "23") -> h.Message:
    """Message ``k`` of a kind: its own control id and observation time (1 s apart)."""
    stamp = h.hl7_time(BASE_T + k, 0)
    if kind == "vitals":
        obx = h.vitals_obx(hr=60 + k % 40, spo2=90 + k % 10, pr=61 + k % 40, time=stamp)
    else:
        obx = h.nibp_obx(100 + k % 60, 60 + k % 30, 80 + k % 40, time=stamp)
    return h.Message(control_id=f"{kind[0].upper()}{k}", obx=obx, time=stamp,
                     location=["ICU", "2", bed], accept_ack="", app_ack="")


def stream(kind: str, n: int) -> list[bytes]:
    return [make_message(kind, k).frame() for k in range(n)]


def feed_once(frames: list[bytes], chunk: int | None) -> tuple[float, float, int, int]:
    """(wall s, thread CPU s, readings, acks) of a fresh codec fed ``frames``."""
    data = b"".join(frames)
    pieces = frames if chunk is None else [data[i:i + chunk] for i in range(0, len(data), chunk)]
    codec = Hl7Pcd01Codec(bed="23")
    readings = acks = 0
    t = BASE_T
    c0 = time.thread_time()
    w0 = time.perf_counter()
    for piece in pieces:
        out = codec.feed_channel(0, piece, t)
        acks += len(codec.replies(0))
        for x in out:
            if isinstance(x, Reading):
                readings += 1
        t += 0.001
    wall = time.perf_counter() - w0
    cpu = time.thread_time() - c0
    bad = {k: v for k, v in codec.stats.extra.items() if k in ("malformed", "refused") and v}
    if bad or acks != len(frames):
        raise SystemExit(f"stream did not decode cleanly: {bad}, {acks} ACKs for "
                         f"{len(frames)} messages")
    return wall, cpu, readings, acks


def throughput(n: int, repeats: int, chunk: int) -> dict:
    frames = {k: stream(k, n) for k in KINDS}
    cpu = max(os.sched_getaffinity(0))
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {cpu})
    runs: dict[tuple[str, int | None], list[tuple[float, float, int, int]]] = {}
    try:
        for _ in range(repeats):
            for c in (chunk, None):
                for kind in KINDS:
                    runs.setdefault((kind, c), []).append(feed_once(frames[kind], c))
    finally:
        os.sched_setaffinity(0, before)
    return {"cpu": cpu, "runs": runs, "frames": frames}


def report_throughput(res: dict, n: int, repeats: int, chunk: int) -> bool:
    frames = res["frames"]
    print(f"(1) codec throughput: {n} messages of each kind from tests/hl7_ihe.py, MLLP-framed "
          f"back to back, a fresh Hl7Pcd01Codec(bed='23') per run, ACKs taken after every "
          f"feed; perf_counter, one thread pinned to CPU {res['cpu']}; {repeats} repeats, "
          f"kinds and chunk sizes interleaved")
    for kind in KINDS:
        size = sum(map(len, frames[kind]))
        print(f"    {kind:<7} {size:>10,d} B, {size / n:,.0f} B per message")
    ok = True
    for c in (chunk, None):
        what = f"chunks of {c} B" if c else "one whole frame per feed"
        print(f"    {what}: median messages/s [runs]; readings/s; MB/s; CPU-time messages/s")
        for kind in KINDS:
            rs = res["runs"][(kind, c)]
            rates = [n / w for w, *_ in rs]
            med_wall = statistics.median(w for w, *_ in rs)
            med_cpu = statistics.median(cp for _, cp, *_ in rs)
            size = sum(map(len, frames[kind]))
            ok &= min(n / med_wall, n / med_cpu) >= THROUGHPUT_TARGET
            print(f"      {kind:<7} {n / med_wall:>9,.0f} msg/s "
                  f"[{', '.join(f'{x:,.0f}' for x in rates)}]; {rs[0][2] / med_wall:>9,.0f} "
                  f"readings/s; {size / med_wall / 1e6:5.2f} MB/s; CPU {n / med_cpu:,.0f} msg/s")
    print(f"    target >= {THROUGHPUT_TARGET:,.0f} messages/s on one core (wall and CPU time): "
          f"{'met' if ok else 'NOT met'}; load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return ok


# -- (2) latency --------------------------------------------------------------


def _gateway(port: int, seconds: float, period: float, writes: dict[float, float],
             acks: list[bytes], stop: threading.Event) -> None:
    """Connect, send one vitals message every ``period`` s, read ACKs; stamp each write."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.settimeout(0.001)
    start = time.perf_counter()
    k = 0
    next_t = start
    try:
        while not stop.is_set() and time.perf_counter() - start < seconds:
            now = time.perf_counter()
            if now >= next_t:
                m = make_message("vitals", k)
                data = m.frame()
                sock.sendall(data)
                pc = time.perf_counter()
                if pc - start >= WARMUP_S:
                    writes[BASE_T + k] = pc
                k += 1
                next_t += period
            try:
                got = sock.recv(65536)
                if got:
                    acks.append(got)
            except (TimeoutError, BlockingIOError):
                pass
    finally:
        time.sleep(0.3)
        try:
            while True:
                got = sock.recv(65536)
                if not got:
                    break
                acks.append(got)
        except OSError:
            pass
        sock.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def latency_socket_only(seconds: float, period: float) -> dict:
    """socket -> codec.feed_channel -> Reading in a reader thread of the bench."""
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    arrivals: dict[float, float] = {}
    writes: dict[float, float] = {}
    acks: list[bytes] = []
    stop = threading.Event()
    codec = Hl7Pcd01Codec(bed="23")

    def reader() -> None:
        conn, _ = server.accept()
        conn.settimeout(0.1)
        with conn:
            while not stop.is_set():
                try:
                    data = conn.recv(65536)
                except TimeoutError:
                    continue
                if not data:
                    break
                out = codec.feed_channel(1, data, time.time())
                pc = time.perf_counter()
                for x in out:
                    if isinstance(x, Reading) and x.vital is Vital.HR and x.device_time:
                        arrivals[x.device_time] = pc
                for r in codec.replies(1):
                    conn.sendall(r)
            codec.close_channel(1)

    th = threading.Thread(target=reader, name="bench-hl7-reader")
    th.start()
    _gateway(port, seconds, period, writes, acks, stop)
    stop.set()
    th.join(timeout=5)
    server.close()
    return _pair(writes, arrivals, acks, "socket -> codec.feed_channel (bench reader thread)",
                 joined=not th.is_alive(), link=codec.link_state)


def latency_pipeline(seconds: float, period: float) -> dict | None:
    """The real Pipeline on the issue's listener driver; None when it is not there."""
    try:
        from monitor.devices import hl7_driver
    except ImportError:
        return None
    from monitor.acquisition.pipeline import Pipeline
    from monitor.core.clock import RealClock
    from monitor.storage.database import open_database

    port = _free_port()
    arrivals: dict[float, float] = {}
    lock = threading.Lock()

    def sink(msg: object) -> None:
        if isinstance(msg, Reading) and msg.vital is Vital.HR and msg.device_time:
            pc = time.perf_counter()
            with lock:
                arrivals.setdefault(msg.device_time, pc)

    writes: dict[float, float] = {}
    acks: list[bytes] = []
    stop = threading.Event()
    with tempfile.TemporaryDirectory(prefix="bench-hl7-") as d:
        db = open_database(d)
        driver = make_driver(hl7_driver, port)
        pipe = Pipeline(driver, db, RealClock(), sink=sink)
        try:
            pipe.start()
            _wait_listening(port)
            _gateway(port, seconds, period, writes, acks, stop)
            time.sleep(0.3)
        finally:
            pipe.stop()
            joined = pipe.join(timeout=10)
    return _pair(writes, arrivals, acks, "socket -> hl7_driver + Pipeline -> hub sink",
                 joined=joined, link=getattr(getattr(driver, "codec", None), "link_state", ""))


def make_driver(module: object, port: int) -> object:
    """The listener driver on 127.0.0.1:``port`` for bed 23, allowing 127.0.0.1 only."""
    return module.Hl7Driver("127.0.0.1", port, bed="23",  # type: ignore[attr-defined]
                            allow=module.parse_allow("127.0.0.1"),  # type: ignore[attr-defined]
                            codec=Hl7Pcd01Codec(bed="23"))


def _wait_listening(port: int, timeout: float = 5.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.02)
    raise SystemExit(f"the driver never listened on 127.0.0.1:{port}")


def _pair(writes: dict[float, float], arrivals: dict[float, float], acks: list[bytes],
          path: str, joined: bool, link: str) -> dict:
    lat = [(arrivals[k] - w) for k, w in writes.items() if k in arrivals]
    n_acks = b"".join(acks).count(b"MSA|AA|")
    return {"lat": lat, "written": len(writes), "unmatched": len(writes) - len(lat),
            "acks": n_acks, "path": path, "joined": joined, "link": link}


def report_latency(runs: list[dict], seconds: float, period: float) -> bool:
    r0 = runs[0]
    print(f"(2) latency, last byte of a vitals message written on a loopback TCP socket "
          f"(one sendall, TCP_NODELAY) -> HR Reading: {r0['path']}; {len(runs)} run(s) of "
          f"{seconds:g} s, one message every {period * 1e3:g} ms, the first {WARMUP_S:g} s "
          f"not counted")
    lat = [x * 1e3 for r in runs for x in r["lat"]]
    p99 = pct(lat, 99)
    ok = p99 <= LATENCY_TARGET_MS
    print(f"    ms: p50 / p95 / p99 / max  {pct(lat, 50):5.2f} / {pct(lat, 95):5.2f} / "
          f"{p99:5.2f} / {max(lat, default=float('nan')):6.2f}  [{len(lat)} messages], "
          f"unmatched {sum(r['unmatched'] for r in runs)}, AA ACKs received "
          f"{sum(r['acks'] for r in runs)} of {sum(r['written'] for r in runs)} counted "
          f"writes (+ warm-up); threads joined {all(r['joined'] for r in runs)}; link "
          f"'{r0['link']}'; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"    target p99 <= {LATENCY_TARGET_MS:g} ms: {'met' if ok else 'NOT met'}")
    return ok


# -- main -----------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=3000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--chunk", type=int, default=4096)
    ap.add_argument("--seconds", type=float, default=60.0, help="latency run length")
    ap.add_argument("--period", type=float, default=0.05, help="s between messages")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--socket-only", action="store_true",
                    help="measure socket -> codec only, without the listener driver")
    args = ap.parse_args()
    print(f"machine: {machine()}")
    print(f"nproc: {os.cpu_count()}; lscpu: " + "; ".join(
        " ".join(ln.split()) for ln in subprocess.run(["lscpu"], capture_output=True, text=True,
                                            check=False).stdout.splitlines()[:8]))
    print(f"date: {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC")
    res = throughput(args.messages, args.repeats, args.chunk)
    report_throughput(res, args.messages, args.repeats, args.chunk)
    runs, direct = [], []
    for _ in range(args.rounds):
        run = None if args.socket_only else latency_pipeline(args.seconds, args.period)
        if run is None:
            if not args.socket_only:
                print("    (monitor.devices.hl7_driver not available: socket -> codec only)")
            direct.append(latency_socket_only(args.seconds, args.period))
        else:
            runs.append(run)
    if runs:
        report_latency(runs, args.seconds, args.period)
        # the same gateway against a bench reader thread: what the socket and codec alone take
        direct.append(latency_socket_only(args.seconds / 2, args.period))
    report_latency(direct, args.seconds / 2 if runs else args.seconds, args.period)
    alive = [t.name for t in threading.enumerate() if t is not threading.main_thread()]
    print(f"threads left: {alive or 'none'}")
    if alive:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
