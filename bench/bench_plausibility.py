"""Issue 11 §3: what the plausibility filter of the checksum-less protocols costs and buys.

(1) Delay. Every scenario (seed 0) is played through the masimo-ascii and
    text simulator encoders, one line a second, and decoded with and without
    the filter. A line whose value the filter held back shows that value one
    line (one second) late; a clean stream should lose none for good.
(2) Protection. The ``typical`` scenario (``--minutes``) with one bit flipped
    in a random digit of a random 1 % of the lines (seeded), so every
    damaged line still has its fields in the documented form: the wrong
    SpO2 and pulse-rate values shown with and without the filter, against
    the clean decode.
(3) CPU. Decoding the clean 60-minute stream with and without the filter,
    median of ``--repeats``, interleaved.

Usage: python -m bench.bench_plausibility [--minutes 60] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from bench.common import machine
from monitor.core.reading import Reading
from monitor.core.vitals import Vital
from monitor.devices.codecs.plausibility import MAX_STEP_PER_S
from monitor.devices.protocols import codec_class
from simulators.encoders import encoder_class

PROTOCOLS = ("masimo-ascii", "text")
SCENARIOS = ("typical", "desaturation", "tachycardia", "hypertensive-surge", "sensor-off",
             "link-loss", "extended-90")
WATCHED = (Vital.SPO2, Vital.PULSE_RATE)
SIM_START = 1_800_000_000.0


def lines(protocol: str, scenario: str, seconds: float) -> list[tuple[float, bytes]]:
    """(time, line) the device sends for ``seconds`` of the scenario."""
    from simulators.engine import ScenarioEngine
    from simulators.scenario import load_scenario

    encoder = encoder_class(protocol)(np.random.default_rng([0, 0xE7C0]))
    engine = ScenarioEngine(load_scenario(scenario), 0, SIM_START, run_s=seconds)
    out: list[tuple[float, bytes]] = []
    for k in range(1, int(seconds) + 1):
        now = SIM_START + k
        for item in engine.generate(now):
            encoder.push(item)
        out += [(now, frame) for frame in encoder.due(now) if not engine.link_lost(now)]
    return out


def decode(protocol: str, stream: list[tuple[float, bytes]], plausibility: bool
           ) -> tuple[dict[tuple[Vital, float], float], object]:
    codec = codec_class(protocol)(plausibility=plausibility)
    values: dict[tuple[Vital, float], float] = {}
    for t, frame in stream:
        for item in codec.feed(frame, t):
            if isinstance(item, Reading) and item.vital in WATCHED and item.valid:
                values[(item.vital, item.t)] = item.value
    return values, codec.stats


def garble(stream: list[tuple[float, bytes]], rate: float, seed: int = 1
           ) -> list[tuple[float, bytes]]:
    """One bit flipped in one digit of ``rate`` of the lines (the result a digit again)."""
    rng = np.random.default_rng(seed)
    out = []
    for t, line in stream:
        if rng.random() < rate:
            digits = [i for i, b in enumerate(line) if 0x30 <= b <= 0x39]
            b = bytearray(line)
            for _ in range(20):
                i = int(rng.choice(digits))
                flipped = b[i] ^ (1 << int(rng.integers(0, 4)))
                if 0x30 <= flipped <= 0x39 and flipped != b[i]:
                    b[i] = flipped
                    break
            line = bytes(b)
        out.append((t, line))
    return out


def wrong(clean: dict, shown: dict) -> tuple[int, int]:
    """Values shown that the clean stream did not have: all, and those beyond the step."""
    bad = [(k, v) for k, v in shown.items() if clean.get(k) != v]
    far = [k for k, v in bad if k not in clean or abs(v - clean[k]) > MAX_STEP_PER_S[k[0]]]
    return len(bad), len(far)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    print(f"date: {time.strftime('%Y-%m-%d')}")

    print("\n(1) delay: lines held one line (1 s) by the filter, clean streams, whole scenarios")
    for protocol in PROTOCOLS:
        for scenario in SCENARIOS:
            stream = lines(protocol, scenario, 5400 if scenario == "extended-90" else 3600)
            raw, _ = decode(protocol, stream, False)
            kept, stats = decode(protocol, stream, True)
            held = stats.extra.get("implausible_held", 0)
            lost = stats.extra.get("implausible_rejected", 0)
            delayed = len(set(raw) - set(kept))
            print(f"    {protocol:13s} {scenario:19s} values {len(raw):6d}  held {held:3d} "
                  f"(each shown 1 s late)  dropped for good {lost}  missing {delayed}")

    print(f"\n(2) protection: typical, {args.minutes:g} min, one bit flipped in a digit of 1 % "
          "of the lines")
    for protocol in PROTOCOLS:
        stream = lines(protocol, "typical", args.minutes * 60)
        clean, _ = decode(protocol, stream, False)
        damaged = garble(stream, 0.01)
        n_damaged = sum(a != b for (_, a), (_, b) in zip(stream, damaged, strict=True))
        off, _ = decode(protocol, damaged, False)
        on, stats = decode(protocol, damaged, True)
        w_off, far_off = wrong(clean, off)
        w_on, far_on = wrong(clean, on)
        print(f"    {protocol:13s} lines {len(stream)}, damaged {n_damaged}: wrong SpO2/PR values "
              f"shown without the filter {w_off} ({far_off} beyond the step), with it {w_on} "
              f"({far_on} beyond the step); rejected {stats.extra.get('implausible_rejected', 0)}")

    print(f"\n(3) CPU: decoding the clean typical stream ({args.minutes:g} min), median of "
          f"{args.repeats}, interleaved")
    for protocol in PROTOCOLS:
        stream = lines(protocol, "typical", args.minutes * 60)
        times: dict[bool, list[float]] = {False: [], True: []}
        for _ in range(args.repeats):
            for flag in (False, True):
                start = time.perf_counter()
                decode(protocol, stream, flag)
                times[flag].append(time.perf_counter() - start)
        off, on = statistics.median(times[False]), statistics.median(times[True])
        per_line = (on - off) / len(stream) * 1e6
        print(f"    {protocol:13s} without {off * 1e3:7.1f} ms, with {on * 1e3:7.1f} ms "
              f"({on / off:.2f}x; {per_line:+.1f} us a line)")


if __name__ == "__main__":
    main()
