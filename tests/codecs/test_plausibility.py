"""The plausibility filter of the checksum-less text protocols (issue 11 §3).

A line with one flipped bit can keep every field in its documented form:
``SPO2=098`` becomes ``SPO2=018`` and, with no checksum, only physiology can
tell. Such a jump is held until the next line confirms it.
"""

from __future__ import annotations

import math

import pytest

from monitor.core.reading import Reading
from monitor.core.vitals import Vital
from monitor.devices.codecs.masimo import MasimoAsciiCodec
from monitor.devices.codecs.text import TextLineCodec

T = 1_700_000_000.0


def _text(codec, lines):
    """Feed one line a second; the SpO2 and PR values decoded, with their times."""
    out = []
    for k, line in enumerate(lines):
        for item in codec.feed(line.encode() + b"\r\n", T + k):
            if isinstance(item, Reading):
                out.append((item.vital, None if math.isnan(item.value) else item.value,
                            item.t - T))
    return out


def _values(decoded, vital):
    return [(v, t) for vv, v, t in decoded if vv is vital]


def test_a_single_garbled_line_is_never_a_value():
    codec = TextLineCodec()
    lines = ["SPO2=098 HR=072"] * 3 + ["SPO2=018 HR=072"] + ["SPO2=098 HR=072"] * 3
    spo2 = _values(_text(codec, lines), Vital.SPO2)
    assert [v for v, _ in spo2] == [98] * 6           # the 18 never came out
    assert [t for _, t in spo2] == [0, 1, 2, 4, 5, 6]
    assert codec.stats.extra["implausible_held"] == 1
    assert codec.stats.extra["implausible_rejected"] == 1
    assert codec.stats.frames_bad == 1                 # shown as a bad frame


def test_a_real_jump_is_shown_one_line_late():
    codec = TextLineCodec()
    lines = ["SPO2=098 HR=072"] * 2 + ["SPO2=085 HR=120"] * 3
    decoded = _text(codec, lines)
    assert _values(decoded, Vital.SPO2) == [(98, 0), (98, 1), (85, 3), (85, 4)]
    assert _values(decoded, Vital.PULSE_RATE) == [(72, 0), (72, 1), (120, 3), (120, 4)]
    assert codec.stats.extra["implausible_held"] == 2  # one per vital, both confirmed
    assert "implausible_rejected" not in codec.stats.extra and codec.stats.frames_bad == 0


def test_changes_within_the_step_pass_at_once():
    codec = TextLineCodec()
    lines = [f"SPO2={v:03d} HR={h:03d}" for v, h in ((98, 72), (91, 98), (84, 120), (90, 95))]
    decoded = _values(_text(codec, lines), Vital.SPO2)
    assert decoded == [(98, 0), (91, 1), (84, 2), (90, 3)]
    assert "implausible_held" not in codec.stats.extra


@pytest.mark.parametrize("between", ["SPO2=--- HR=---", None])
def test_after_no_value_or_a_gap_any_value_is_taken_at_once(between):
    codec = TextLineCodec()
    lines = ["SPO2=098 HR=072"]
    if between is not None:
        lines.append(between)
    decoded = _text(codec, lines)
    gap = 0 if between is not None else 10           # a 10 s silence: no comparison
    for item in codec.feed(b"SPO2=070 HR=140\r\n", T + len(lines) + gap):
        decoded.append((item.vital, item.value, item.t - T))
    assert _values(decoded, Vital.SPO2)[-1][0] == 70
    assert "implausible_held" not in codec.stats.extra


def test_an_unconfirmed_hold_is_replaced_by_the_next_jump():
    codec = TextLineCodec()
    lines = ["SPO2=098 HR=072", "SPO2=018 HR=072", "SPO2=058 HR=072", "SPO2=058 HR=072"]
    spo2 = _values(_text(codec, lines), Vital.SPO2)
    assert spo2 == [(98, 0), (58, 3)]                  # 18 dropped, 58 confirmed
    assert codec.stats.extra["implausible_rejected"] == 1


def _masimo(spo2: str, bpm: str) -> bytes:
    return (f"02/22/16 22:47:45 SN=0000056661 SPO2={spo2}% BPM={bpm} PI=03.60% SPCO=--.-% "
            f"SPMET=--.-% DESAT=-- PIDELTA=+-- ALARM=0000 EXC=000000\r\n").encode()


def test_masimo_lines_pass_the_same_filter():
    codec = MasimoAsciiCodec()
    got = []
    for k, (s, b) in enumerate([("098", "072"), ("098", "172"), ("098", "072"),
                                ("098", "073")]):
        got += [(i.vital, i.value) for i in codec.feed(_masimo(s, b), T + k)
                if isinstance(i, Reading) and i.vital in (Vital.SPO2, Vital.PULSE_RATE)]
    assert [v for vital, v in got if vital is Vital.PULSE_RATE] == [72, 72, 73]
    assert [v for vital, v in got if vital is Vital.SPO2] == [98] * 4
    assert codec.stats.extra["implausible_rejected"] == 1


def test_the_framing_tests_can_turn_it_off():
    codec = TextLineCodec(plausibility=False)
    lines = ["SPO2=098 HR=072", "SPO2=018 HR=072"]
    assert [v for v, _ in _values(_text(codec, lines), Vital.SPO2)] == [98, 18]
