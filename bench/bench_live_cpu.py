"""Benchmark (a): CPU of the live view.

Median CPU of the whole app process (acquisition + recording + live view)
over 60 s with 1 Hz numerics and 100 Hz pleth, offscreen; target <= 3 % of
one core. Three variants are measured in the same invocation, interleaved:

``naive``
    :class:`NaiveLiveView`, which redraws everything on every frame, fed
    directly by the simulator (the reference for the ratio).
``direct``
    The real ``LiveView`` fed directly by the simulator (its readings handed
    over as objects, as ``infusion-monitor run --headless`` does).
``datex-s5``
    The window as users run it: ``infusion-monitor`` with its default
    source gives the built-in simulator the ``datex-s5`` protocol
    (``monitor.cli.GUI_SIM_PROTOCOL``), so the scenario is encoded into S/5
    frames and decoded by the real codec in the reader thread.

The ratios of the naive median to each real view's median are reported.

What is measured
----------------
Each variant runs in its own child process (``--child VARIANT``) that is
composed like :func:`monitor.app.run_gui`: ``quit_on_signals``, the shipped
alarm profile, ``prepare_session`` with the built-in simulator
``sim:typical`` (seed 0) at speed 1, a fresh temporary data folder and a
session set-up (as the "New session" dialog returns it; the header shows its
patient and the workflow strip its planned time), the real pipeline threads
and recorder, and :func:`monitor.ui.application.run_live_view`, which builds
the ``LiveView`` (for the naive variant: :class:`NaiveLiveView`) with its
header clock, alarm bar, workflow strip and events bar, resizes it to
1280x800, shows it on the offscreen platform and runs its 25 Hz refresh timer
and the event loop.

Session history: the trend cost grows with the history drawn, so each child
first plays the first ``--warmup-min`` (default 40) minutes of the scenario
at ``--warmup-speed`` (default 150x) through the same pipeline, recorder and
view, then the session clock drops to real time (1x) and the child prints
``WARM``. The only difference from ``run_gui`` is that clock
(:class:`WarmupClock`, swapped in before the pipeline starts; at 1x it is
exactly ``SimClock(start, 1)`` offset by the warm-up). The resume path of
``prepare_session`` does not apply: a headless run closes its session, so
there is no unfinished session to resume. The parent waits ``--settle``
seconds, then samples the child's CPU with ``psutil.Process.cpu_percent(1.0)``
once a second for ``--seconds``; the child quits its Qt event loop a few
seconds after that, stops and joins the pipeline threads and exits 0.

``--profile DIR`` also runs cProfile on the GUI thread over each child's
sampling window and writes ``DIR/<variant>-<run>.prof`` (profiling slows the
view down, so its CPU figures are not comparable with a run without it).

Usage: python -m bench.bench_live_cpu [--seconds 60] [--rounds 1]
       [--variants naive,direct,datex-s5] [--profile DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

from bench.common import REPO, machine

SOURCE = "sim:typical"
REFRESH_HZ = 25.0
"""The LiveView default, which run_live_view uses (only printed; ticks/s are measured)."""
SIZE = (1280, 800)
TARGET_PCT = 3.0
TARGET_RATIO = 20.0
VARIANTS = ("naive", "direct", "datex-s5")
"""Variant -> how it is built: see the module docstring."""
PROTOCOLS: dict[str, str | None] = {"naive": None, "direct": None, "datex-s5": "datex-s5"}
SETUP_FORM = {"patient_ref": "BENCH-01", "weight_kg": 70, "dose_mg_per_kg": 0.5,
              "clinician": "Dr Bench", "course_number": 2, "course_total": 6}
"""The session set-up the child enters (planned time: the scenario's, as the dialog offers)."""
CHILD_MARGIN_S = 6.0
"""The child keeps running this long after the sampling window should have ended."""


# -- the child: the app itself --------------------------------------------------


class WarmupClock:
    """``SimClock`` that runs ``fast`` times real time until ``start + warm_s``, then 1x.

    Same protocol as :class:`monitor.core.clock.SimClock` (``speed``,
    ``now``, ``sleep_until``); ``speed`` reports the current rate, which is
    what the simulated driver uses to size its steps.
    """

    def __init__(self, start: float, warm_s: float, fast: float) -> None:
        if not fast >= 1.0:
            raise ValueError("the warm-up speed must be at least 1")
        self._start = float(start)
        self._warm_s = float(warm_s)
        self._fast = float(fast)
        self._switch_real = self._warm_s / self._fast  # real seconds until the switch
        self._origin = time.monotonic()

    @property
    def warm_until(self) -> float:
        """Session time at which the clock drops to real time."""
        return self._start + self._warm_s

    @property
    def speed(self) -> float:
        return self._fast if self.now() < self.warm_until else 1.0

    def _at_real(self, real: float) -> float:
        if real <= self._switch_real:
            return self._start + real * self._fast
        return self.warm_until + (real - self._switch_real)

    def now(self) -> float:
        return self._at_real(time.monotonic() - self._origin)

    def sleep_until(self, t: float, should_stop: threading.Event) -> bool:
        rel = t - self._start
        real = rel / self._fast if rel <= self._warm_s else self._switch_real + rel - self._warm_s
        delay = real - (time.monotonic() - self._origin)
        if delay > 0:
            return should_stop.wait(delay)
        return should_stop.is_set()


def _naive_view_class():
    """Build :class:`NaiveLiveView` (Qt is only imported in the child)."""
    import numpy as np

    from monitor.ui.live.view import LiveView
    from monitor.ui.shared import theme

    class NaiveLiveView(LiveView):
        """A live view without change tracking: every frame redraws everything.

        On each 25 Hz tick it sets every tile's value and reason text and its
        colour style sheet again, does the same for the NIBP tile and the
        header, hands the whole pleth sweep to ``setData``, and calls
        ``trends.refresh(now, force=True)`` so that every trend curve gets
        ``setData`` with the full session history (and the current phase band
        is moved), whether or not anything changed. Same model, same data.
        """

        def __init__(self, *args, stale_after_s: float = 10.0, **kwargs) -> None:
            self._naive_stale_after_s = stale_after_s
            super().__init__(*args, stale_after_s=stale_after_s, **kwargs)

        def _update_widgets(self, now: float) -> None:
            model = self.model
            header = self.header
            header.set_simulated(self._simulated or model.simulated_source)
            header.show_state(model, now)
            for label in (header.session_clock_label, header.phase_label,
                          header.phase_elapsed_label, header.status_label):
                label.setText(label.text())
            header.phase_label.setStyleSheet(header.phase_label.styleSheet())
            for vital, tile in self.tiles.items():
                state = model.tile_state(vital, now)
                tile.value_label.setText(state.text)
                tile.reason_label.setText(state.reason)
                tile.value_label.setStyleSheet(
                    f"color: {theme.VITAL_COLOURS[vital]};")
            nibp = model.nibp_state(now)
            tile = self.nibp_tile
            tile.value_label.setText(nibp.text)
            tile.mean_label.setText(nibp.mean_text)
            tile.age_label.setText(nibp.age_text)
            tile.reason_label.setText(nibp.reason)
            colour = theme.AGED if nibp.aged else theme.NIBP_WHITE
            for label in (tile.value_label, tile.mean_label):
                label.setStyleSheet(f"color: {colour};")
            sweep = model.sweep
            sweep.blank_if_stale(now, self._naive_stale_after_s)
            y = np.array(sweep.y)
            if np.isfinite(y).any():
                self.pleth.curve.setData(sweep.x, y, connect="finite", skipFiniteCheck=False)
            else:
                self.pleth.curve.setData([], [])
            self.trends.refresh(now, force=True)

    return NaiveLiveView


def _refuse_resume(row, gap_s) -> bool:  # an AskResume
    raise RuntimeError(f"fresh data folder has an unfinished session {row.id}")


def _thread_names() -> dict[int, str]:
    return {t.native_id: t.name for t in threading.enumerate() if t.native_id is not None}


def _emit(tag: str, obj: dict) -> None:
    print(f"{tag} {json.dumps(obj)}", flush=True)


def child(variant: str, seconds: float, data_dir: Path, warm_min: float, warm_speed: float,
          settle_s: float, profile_path: Path | None = None) -> int:
    """Run the app the way ``run_gui`` does; returns the exit code.

    The window is built and run by :func:`monitor.ui.application.run_live_view`
    itself (so its timers and settings are the app's). For the naive variant
    the ``LiveView`` name it imports is pointed at :class:`NaiveLiveView`
    for that call; the class of the view that actually ran is checked.
    """
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6 import QtCore

    import monitor.ui.live.view as live_view_module
    from monitor.acquisition.sources import make_driver
    from monitor.app import GuiOptions, prepare_session, session_setup
    from monitor.core.alarms.profile_file import load_default_profile
    from monitor.core.freshness import DEFAULT_STALE_AFTER_S
    from monitor.core.vitals import Vital
    from monitor.core.workflow.setup import parse_setup
    from monitor.devices.registry import parse_source
    from monitor.ui import application

    normal_cls = live_view_module.LiveView
    view_cls = _naive_view_class() if variant == "naive" else normal_cls
    driver = make_driver(parse_source(SOURCE), seed=0, duration_s=None,
                         protocol=PROTOCOLS[variant])
    opts = GuiOptions(driver, data_dir, 1.0, DEFAULT_STALE_AFTER_S, load_default_profile())
    planned_min = driver.scenario.session.infusion_min
    entered = parse_setup({**SETUP_FORM, "planned_infusion_min": planned_min,
                           "source": driver.label})
    app = application.create_application([sys.argv[0]])
    restore_signals = application.quit_on_signals(app)
    start = time.time()
    pipeline, clock = prepare_session(opts, _refuse_resume, now=start,
                                      ask_setup=lambda: entered)
    if warm_min > 0:
        clock = pipeline.clock = WarmupClock(start, warm_min * 60.0, warm_speed)
    pipeline.start()
    setup = session_setup(pipeline)
    assert pipeline.ui_queue is not None and setup is not None
    profiler = None
    if profile_path is not None:
        import cProfile

        profiler = cProfile.Profile()

    views: list = []
    ticks = [0]
    window: dict[str, float] = {}

    def snapshot() -> dict[str, float]:
        cpu = os.times()
        return {"wall": time.perf_counter(), "cpu": cpu.user + cpu.system, "ticks": ticks[0],
                "setdata": views[0].trends.setdata_calls}

    def window_start() -> None:
        window.update({f"{k}0": v for k, v in snapshot().items()})
        if profiler is not None:
            profiler.enable()

    def window_end() -> None:
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(str(profile_path))
        window.update({f"{k}1": v for k, v in snapshot().items()})

    poll = QtCore.QTimer()
    warm_until = clock.warm_until if isinstance(clock, WarmupClock) else start

    def check_warm() -> None:
        if not views:
            found = [w for w in app.topLevelWidgets() if isinstance(w, normal_cls)]
            if len(found) != 1 or type(found[0]) is not view_cls:
                _emit("ERROR", {"views": [type(w).__name__ for w in found]})
                app.exit(5)
                return
            views.append(found[0])
            found[0].refreshed.connect(lambda _n: ticks.__setitem__(0, ticks[0] + 1))
            if found[0].size().toTuple() != SIZE:
                _emit("ERROR", {"size": found[0].size().toTuple()})
                app.exit(5)
                return
        if clock.now() < warm_until + 1.0 or len(pipeline.ui_queue) > 100:  # caught up?
            return
        poll.stop()
        model = views[0].model
        _emit("WARM", {"session_min": (clock.now() - start) / 60.0,
                       "hr_points": len(model.trends.series(Vital.HR)),
                       "threads": _thread_names(), "overflow_lost": model.overflow_lost})
        QtCore.QTimer.singleShot(int(settle_s * 1000), window_start)
        QtCore.QTimer.singleShot(int((settle_s + seconds) * 1000), window_end)
        QtCore.QTimer.singleShot(int((settle_s + seconds + CHILD_MARGIN_S) * 1000), app.quit)

    poll.timeout.connect(check_warm)
    poll.start(250)
    live_view_module.LiveView = view_cls
    try:
        hub = pipeline.hub
        code = application.run_live_view(app, clock, pipeline.ui_queue,
                                         simulated=driver.simulated,
                                         stale_after_s=opts.stale_after,
                                         alarm_state=hub.alarm_state.get if hub else None,
                                         send_command=hub.notify if hub else None,
                                         profile=hub.alarms.profile if hub else None,
                                         setup=setup)
    finally:
        live_view_module.LiveView = normal_cls
        restore_signals()
    pipeline.stop()
    joined = pipeline.join(timeout=15)
    if not joined:
        pipeline.abandon_unwritable()
        joined = pipeline.join(timeout=5)
    if not views:
        return 1
    view = views[0]
    summary = {"code": code, "joined": joined, "recording_failed": pipeline.recording_failed,
               "overflow_lost": view.model.overflow_lost}
    if "wall1" in window:
        wall = window["wall1"] - window["wall0"]
        summary.update(
            window_s=wall, own_cpu_pct=100.0 * (window["cpu1"] - window["cpu0"]) / wall,
            ticks_per_s=(window["ticks1"] - window["ticks0"]) / wall,
            trend_setdata_per_s=(window["setdata1"] - window["setdata0"]) / wall)
    _emit("DONE", summary)
    if code != 0 or not joined or pipeline.recording_failed or "wall1" not in window:
        return 1
    return 0


# -- the parent: start, sample, report -----------------------------------------


def _read_lines(stream, out: queue.Queue) -> None:
    for line in stream:
        out.put(line.rstrip("\n"))
    out.put(None)


def _wait_for(lines: queue.Queue, tag: str, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"no {tag} line from the child within {timeout:.0f} s")
        line = lines.get(timeout=left)
        if line is None:
            raise EOFError(f"child closed its output before {tag}")
        if line.startswith(tag + " "):
            return json.loads(line[len(tag) + 1:])


def _thread_cpu(ps: psutil.Process) -> dict[int, float]:
    """CPU seconds per live thread id, plus the whole process under id -1."""
    out = {t.id: t.user_time + t.system_time for t in ps.threads()}
    cpu = ps.cpu_times()
    out[-1] = cpu.user + cpu.system
    return out


def run_variant(variant: str, args: argparse.Namespace, run_no: int = 1) -> dict:
    """One child run: CPU samples (% of one core) and what the child reported."""
    with tempfile.TemporaryDirectory(prefix="bench_live_cpu_") as d:
        err_path = Path(d) / "stderr.txt"
        data = Path(d) / "data"
        cmd = [sys.executable, "-m", "bench.bench_live_cpu", "--child", variant,
               "--seconds", str(args.seconds), "--data-dir", str(data),
               "--warmup-min", str(args.warmup_min), "--warmup-speed", str(args.warmup_speed),
               "--settle", str(args.settle)]
        if args.profile is not None:
            args.profile.mkdir(parents=True, exist_ok=True)
            cmd += ["--profile", str(args.profile.resolve() / f"{variant}-{run_no}.prof")]
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
        with open(err_path, "w") as err:
            proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE,
                                    stderr=err, text=True)
        lines: queue.Queue = queue.Queue()
        threading.Thread(target=_read_lines, args=(proc.stdout, lines), daemon=True).start()

        def fail(why: str) -> SystemExit:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            tail = err_path.read_text(errors="replace")[-3000:]
            return SystemExit(f"{variant} child failed ({why}), exit code {proc.returncode}; "
                              f"stderr:\n{tail}")

        ps = psutil.Process(proc.pid)
        t0 = time.perf_counter()
        try:
            warm = _wait_for(lines, "WARM", 120 + 3 * args.warmup_min * 60 / args.warmup_speed)
        except (TimeoutError, EOFError, queue.Empty) as exc:
            raise fail(str(exc)) from None
        warm_s = time.perf_counter() - t0
        time.sleep(args.settle)
        samples: list[float] = []
        try:
            before, tb = _thread_cpu(ps), time.perf_counter()
            for _ in range(int(args.seconds)):
                samples.append(ps.cpu_percent(interval=1.0))
            after, span = _thread_cpu(ps), time.perf_counter() - tb
        except psutil.NoSuchProcess:
            raise fail(f"exited after {len(samples)} of {args.seconds} samples") from None
        try:
            done = _wait_for(lines, "DONE", 60 + CHILD_MARGIN_S)
            proc.wait(timeout=30)
        except (TimeoutError, EOFError, queue.Empty, subprocess.TimeoutExpired) as exc:
            raise fail(str(exc)) from None
        if proc.returncode != 0:
            raise fail(f"DONE {done}")
    names = {int(k): v for k, v in warm["threads"].items()}
    per_thread: dict[str, float] = {}
    total = 100.0 * (after.pop(-1) - before.pop(-1)) / span
    for tid, cpu in after.items():
        name = "GUI (main)" if tid == proc.pid else names.get(tid, "non-Python")
        per_thread[name] = per_thread.get(name, 0.0) + 100.0 * (cpu - before.get(tid, 0.0)) / span
    per_thread["threads gone by the end"] = total - sum(per_thread.values())
    return {"variant": variant, "samples": samples, "warm": warm, "warm_s": warm_s,
            "done": done, "threads": per_thread}


def _p90(xs: list[float]) -> float:
    return statistics.quantiles(xs, n=10, method="inclusive")[8]


def _run_line(r: dict, k: int) -> str:
    s = r["samples"]
    done = r["done"]
    threads = ", ".join(f"{n} {v:.1f}" for n, v in
                        sorted(r["threads"].items(), key=lambda kv: -kv[1]) if v >= 0.05)
    return (f"    {r['variant']:8} run {k}: median {statistics.median(s):5.1f} %, "
            f"p90 {_p90(s):5.1f} %, mean {statistics.fmean(s):5.1f} %  "
            f"[child's own os.times {done['own_cpu_pct']:.1f} %; {done['ticks_per_s']:.1f} "
            f"refreshes/s, {done['trend_setdata_per_s']:.1f} trend setData/s; "
            f"history {r['warm']['session_min']:.1f} min, {r['warm']['hr_points']} HR points; "
            f"warm-up {r['warm_s']:.0f} s]\n"
            f"                    per thread (% of a core): {threads}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=int, default=60, help="CPU samples (1 s each) per run")
    ap.add_argument("--rounds", type=int, default=1, help="rounds of all the variants")
    ap.add_argument("--variants", default=",".join(VARIANTS),
                    help=f"comma-separated, in the order run each round (default "
                         f"{','.join(VARIANTS)})")
    ap.add_argument("--profile", type=Path, default=None, metavar="DIR",
                    help="cProfile the GUI thread over each sampling window into DIR")
    ap.add_argument("--warmup-min", type=float, default=40.0,
                    help="session minutes played fast before measuring (0: none)")
    ap.add_argument("--warmup-speed", type=float, default=150.0)
    ap.add_argument("--settle", type=float, default=5.0,
                    help="seconds at 1x after the warm-up before sampling")
    ap.add_argument("--child", choices=VARIANTS, help=argparse.SUPPRESS)
    ap.add_argument("--data-dir", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        if args.data_dir is None:
            ap.error("--child needs --data-dir")
        sys.exit(child(args.child, args.seconds, args.data_dir, args.warmup_min,
                       args.warmup_speed, args.settle, args.profile))
    if args.seconds < 2:
        ap.error("--seconds must be at least 2")
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = sorted(set(variants) - set(VARIANTS))
    if unknown or not variants:
        ap.error(f"--variants: unknown {', '.join(unknown) or '(none given)'}; "
                 f"choose from {', '.join(VARIANTS)}")

    t_start = time.perf_counter()
    print(f"machine: {machine()}")
    print(f"date: {time.strftime('%Y-%m-%d %H:%M')}", flush=True)
    print(f"(a) live-view CPU: {SOURCE} at --speed 1 (1 Hz numerics, 100 Hz pleth), real "
          f"pipeline + recorder (temp data dir), shipped alarm profile, a session set-up, "
          f"LiveView {SIZE[0]}x{SIZE[1]} offscreen, {REFRESH_HZ:g} Hz refresh")
    print("    variants: naive = NaiveLiveView, direct simulator; direct = LiveView, direct "
          "simulator; datex-s5 = LiveView, simulator encoded as datex-s5 and decoded by the "
          "real codec (the window's default)")
    print(f"    history: each run first plays session minutes 0-{args.warmup_min:g} at "
          f"{args.warmup_speed:g}x through the same pipeline, recorder and view, then 1x; "
          f"sampling starts {args.settle:g} s later")
    print(f"    psutil cpu_percent(interval=1 s) x {args.seconds} per run, % of one core; "
          f"order {', '.join(variants)} x {args.rounds} round(s)", flush=True)
    runs: dict[str, list[dict]] = {v: [] for v in variants}
    for _ in range(args.rounds):
        for variant in variants:
            r = run_variant(variant, args, len(runs[variant]) + 1)
            runs[variant].append(r)
            print(_run_line(r, len(runs[variant])), flush=True)
    med = {}
    for variant, rs in runs.items():
        pooled = [x for r in rs for x in r["samples"]]
        med[variant] = statistics.median(pooled)
        own = statistics.median(r["done"]["own_cpu_pct"] for r in rs)
        verdict = ""
        if variant != "naive":
            verdict = (f"  -> target <= {TARGET_PCT:g} %: "
                       f"{'met' if med[variant] <= TARGET_PCT else 'NOT met'}")
        print(f"    {variant:8} all runs: median {med[variant]:.1f} %, p90 {_p90(pooled):.1f} %,"
              f" os.times {own:.1f} %{verdict}")
    if "naive" in med:
        for variant in variants:
            if variant == "naive":
                continue
            ratio = med["naive"] / med[variant] if med[variant] > 0 else float("inf")
            print(f"    naive/{variant} ratio of medians: {ratio:.1f}x  -> target >= "
                  f"{TARGET_RATIO:g}x: {'met' if ratio >= TARGET_RATIO else 'NOT met'}")
    print(f"    total wall time {time.perf_counter() - t_start:.0f} s")


if __name__ == "__main__":
    main()
