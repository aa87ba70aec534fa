"""Benchmarks (b) and (c): headless throughput and memory.

(b) wall time of a 90-minute ``typical`` session at ``--speed max``
    (target <= 10 s), with and without ``--readings`` printing;
(c) peak RSS of a 12-hour headless session (target <= 300 MB) and RSS growth
    between session hour 1 and hour 12 (target < 10 %).

Each is measured directly (the scenario's readings handed over) and through
the window's default protocol, datex-s5 (encoder, bytes, the real codec:
dozens of numerics a second, so the recorder is the bottleneck and the
simulated source is held back by back-pressure).

Usage: python bench/bench_headless.py [--repeats 3] [--hours 12] [--protocols direct,datex-s5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import tempfile
import threading
import time

import psutil

from bench.common import REPO, machine, monitor_cmd

DIRECT = "direct"


def _protocol_args(protocol: str) -> list[str]:
    return [] if protocol == DIRECT else ["--protocol", protocol]


def throughput(repeats: int, protocol: str = DIRECT) -> tuple[list[float], list[float]]:
    """Wall times without and with --readings, runs interleaved so drift hits both."""
    out: dict[bool, list[float]] = {False: [], True: []}
    for _ in range(repeats):
        for readings in (False, True):
            out[readings].append(_one_run(readings, protocol))
    return out[False], out[True]


def _one_run(readings: bool, protocol: str = DIRECT) -> float:
    with tempfile.TemporaryDirectory() as d:
        args = ["run", "--headless", "--source", "sim:typical", "--duration", "5400",
                "--speed", "max", "--data-dir", d, *_protocol_args(protocol)] \
            + (["--readings"] if readings else [])
        t0 = time.perf_counter()
        proc = subprocess.run(monitor_cmd(*args), cwd=REPO, check=False,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            raise SystemExit(f"run failed: {proc.stderr}")
    return wall


def memory(hours: float, protocol: str = DIRECT) -> dict[str, float]:
    """Run a long session and sample RSS against session time."""
    with tempfile.TemporaryDirectory() as d:
        proc = subprocess.Popen(
            monitor_cmd("run", "--headless", "--source", "sim:typical", "--duration",
                        str(int(hours * 3600)), "--speed", "max", "--data-dir", d, "--readings",
                        *_protocol_args(protocol)),
            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        ps = psutil.Process(proc.pid)
        state = {"start": None, "t": None}
        samples: list[tuple[float, float]] = []  # (session hours, RSS MB)

        summary: dict[str, object] = {}

        def read() -> None:
            for line in proc.stdout:
                obj = json.loads(line)
                if obj["type"] == "session":
                    state["start"] = obj["start"]
                elif obj["type"] == "reading":
                    state["t"] = obj["t"]
                elif obj["type"] == "summary":
                    summary.update(obj)

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        t0 = time.perf_counter()
        while proc.poll() is None:
            try:
                rss = ps.memory_info().rss / 1e6
            except psutil.NoSuchProcess:
                break
            if state["start"] is not None and state["t"] is not None:
                samples.append(((state["t"] - state["start"]) / 3600, rss))
            time.sleep(0.05)
        wall = time.perf_counter() - t0
        reader.join(5)
    peak = max(r for _, r in samples)

    def rss_at(hour: float) -> float:
        near = [r for h, r in samples if abs(h - hour) <= 0.25]
        return statistics.median(near)

    h1, hn = rss_at(1.0), rss_at(hours - 0.3)
    lost = summary.get("readings", 0) != summary.get("recorded_readings", -1) \
        or bool(summary.get("dropped"))
    return {"wall_s": wall, "peak_mb": peak, "rss_h1_mb": h1, "rss_end_mb": hn,
            "growth_pct": (hn - h1) / h1 * 100, "readings": summary.get("readings", 0),
            "lost": lost}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--hours", type=float, default=12.0)
    ap.add_argument("--protocols", default=f"{DIRECT},datex-s5",
                    help="comma-separated: direct and/or protocol names")
    args = ap.parse_args()
    print(f"machine: {machine()}")
    print(f"date: {time.strftime('%Y-%m-%d')}")
    for protocol in args.protocols.split(","):
        quiet, loud = throughput(args.repeats, protocol)
        print(f"(b) 90-min typical at --speed max, {protocol}, {args.repeats} runs each, "
              "interleaved order:")
        print(f"    without --readings: median {statistics.median(quiet):.2f} s "
              f"(runs {', '.join(f'{x:.2f}' for x in quiet)})")
        print(f"    with --readings:    median {statistics.median(loud):.2f} s "
              f"(runs {', '.join(f'{x:.2f}' for x in loud)})")
    for protocol in args.protocols.split(","):
        m = memory(args.hours, protocol)
        print(f"(c) {args.hours:g}-hour session at --speed max, {protocol} "
              f"(wall {m['wall_s']:.1f} s, {m['readings']} readings, "
              f"{'SOME LOST' if m['lost'] else 'all recorded'}): "
              f"peak RSS {m['peak_mb']:.0f} MB; RSS at hour 1 {m['rss_h1_mb']:.0f} MB, "
              f"near the end {m['rss_end_mb']:.0f} MB, growth {m['growth_pct']:+.1f} %")


if __name__ == "__main__":
    main()
