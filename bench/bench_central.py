"""Issue 17 (6): N chairs into one central station: its CPU, memory and alarm latency.

A private Mosquitto on loopback; N chairs in this process, each the app's real
:class:`~monitor.central.publisher.ChairPublisher` fed what a chair's hub hands
it (six numerics a second, an NIBP determination every 5 minutes of session
time, an alarm transition every ``--alarm-every`` seconds per chair); the central
is the real ``infusion-monitor central --headless`` in its own process, whose CPU
(``psutil``, one-second samples) and RSS are measured. Latency: each alarm line
of the central carries its own ``latency_s`` (the central's arrival minus the
chair's hand-over to the broker; one machine, one clock).

    python -m bench.bench_central [--chairs 16 64] [--seconds 60]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

from monitor.central.protocol import parse_broker_url
from monitor.central.publisher import ChairPublisher, PublisherConfig
from monitor.core.alarms.model import AlarmKind, AlarmTransition, Priority, TransitionState
from monitor.core.reading import make_reading
from monitor.core.vitals import Vital

REPO = Path(__file__).resolve().parents[1]
VITALS = ((Vital.HR, 72.0), (Vital.PULSE_RATE, 71.0), (Vital.SPO2, 97.0),
          (Vital.RESP_RATE, 14.0), (Vital.ETCO2, 37.0), (Vital.TEMP, 36.8))


def _chairs_feed(publishers: list[ChairPublisher], seconds: float, alarm_every: float,
                 stop: threading.Event) -> int:
    """Feed every publisher once a second as its hub would; returns alarms handed over."""
    alarms = 0
    start = time.time()
    tick = 0
    while not stop.is_set() and time.time() - start < seconds:
        now = time.time()
        for i, pub in enumerate(publishers):
            for vital, value in VITALS:
                pub.offer(make_reading(vital, value + (tick % 3), now))
            if tick % 300 == i % 300:
                for vital, value in ((Vital.NIBP_SYS, 150.0), (Vital.NIBP_DIA, 90.0),
                                     (Vital.NIBP_MEAN, 110.0)):
                    pub.offer(make_reading(vital, value, now))
            if (tick + i) % int(alarm_every) == 0:
                state = TransitionState.RAISED if (tick // int(alarm_every)) % 2 == 0 \
                    else TransitionState.CLEARED
                pub.offer(AlarmTransition("nibp_sys.high", AlarmKind.PHYSIOLOGICAL,
                                          Vital.NIBP_SYS, Priority.MEDIUM, state, now, 165.0,
                                          160.0, "NIBP sys 165 > 160"))
                alarms += 1
        tick += 1
        stop.wait(max(0.0, start + tick - time.time()))
    return alarms


def run(chairs: int, seconds: float, alarm_every: float) -> dict[str, float]:
    sys.path.insert(0, str(REPO))
    from tests.central.broker import Broker

    with tempfile.TemporaryDirectory() as tmp:
        broker = Broker(Path(tmp)).start()
        central = subprocess.Popen([sys.executable, "-m", "monitor", "central", "--broker",
                                    broker.url, "--headless"], stdout=subprocess.PIPE,
                                   stderr=subprocess.DEVNULL, text=True, cwd=REPO)
        lines: list[dict] = []
        reader = threading.Thread(target=lambda: lines.extend(
            json.loads(x) for x in central.stdout if x.strip()), daemon=True)
        reader.start()
        time.sleep(2.0)
        url = parse_broker_url(broker.url)
        publishers = [ChairPublisher(PublisherConfig(url, f"chair-{i + 1}"), lambda m: None)
                      for i in range(chairs)]
        for pub in publishers:
            pub.start()
        stop = threading.Event()
        fed: list[int] = []
        feeder = threading.Thread(target=lambda: fed.append(
            _chairs_feed(publishers, seconds, alarm_every, stop)))
        feeder.start()
        proc = psutil.Process(central.pid)
        proc.cpu_percent(None)
        cpu, rss = [], []
        time.sleep(5.0)                    # the chairs connected and the central settled
        while feeder.is_alive():
            cpu.append(proc.cpu_percent(interval=1.0))
            rss.append(proc.memory_info().rss / 2**20)
        for pub in publishers:
            pub.stop()
        time.sleep(1.0)
        central.terminate()
        central.wait(10)
        reader.join(5)
        broker.stop()
    latencies = sorted(x["latency_s"] for x in lines
                       if x.get("type") == "alarm" and x.get("latency_s") is not None)
    missing = sum(len(x["seq"]) for x in lines if x.get("type") == "missing")
    q = statistics.quantiles(latencies, n=100) if len(latencies) >= 2 else [float("nan")] * 99
    return {"chairs": chairs, "alarms_sent": fed[0] if fed else 0, "alarms_shown": len(latencies),
            "missing": missing, "cpu_median_pct": statistics.median(cpu),
            "cpu_p90_pct": statistics.quantiles(cpu, n=10)[-1] if len(cpu) >= 2 else cpu[0],
            "rss_peak_mb": max(rss), "latency_p50_ms": 1000 * statistics.median(latencies),
            "latency_p99_ms": 1000 * q[98]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chairs", type=int, nargs="+", default=[16, 64])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--alarm-every", type=float, default=5.0,
                        help="seconds between one chair's alarm transitions (default 5)")
    args = parser.parse_args(argv)
    for n in args.chairs:
        print(json.dumps(run(n, args.seconds, args.alarm_every)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
