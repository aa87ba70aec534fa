"""Text oximeter lines (SPO2=098 HR=072): parsing, garbage, headers, encoder round trip."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.core.reading import Quality, Reading, make_reading
from monitor.core.vitals import Vital
from monitor.devices.codecs.base import MAX_BUFFER_BYTES
from monitor.devices.codecs.text import TextLineCodec
from simulators.encoders.text import GARBAGE, TextLineEncoder

T = 1_760_000_000.25
FAST = settings(max_examples=200, deadline=None)


def readings(items: list) -> list[Reading]:
    assert all(isinstance(i, Reading) for i in items)
    return list(items)


def values(items: list, vital: Vital) -> list[float]:
    return [r.value for r in readings(items) if r.vital is vital]


def key(r: Reading) -> object:
    return (r.vital, None if math.isnan(r.value) else r.value, r.t, r.quality, r.device_time)


def test_golden_lines():
    codec = TextLineCodec()
    items = codec.feed(b"SPO2=098 HR=072\r\nSPO2=097 HR=071 F\r\nSPO2=096 HR=070*\r\n", T)
    assert values(items, Vital.SPO2) == [98, 97, 96]
    assert values(items, Vital.PULSE_RATE) == [72, 71, 70]
    assert all(r.t == T and r.quality is Quality.OK and r.device_time is None for r in items)
    assert (codec.stats.frames_ok, codec.stats.frames_bad, codec.stats.last_frame_t) == (3, 0, T)
    assert codec.stats.extra["event_markers"] == 1


def test_serial_defaults_are_nonin_ascii_8n2():
    assert TextLineCodec.serial_defaults.describe() == "9600 8N2"
    assert TextLineCodec.name == "text" and TextLineCodec.description


def test_no_data_dashes():
    items = TextLineCodec().feed(b"SPO2=--- HR=---\r\n", T)
    assert [r.vital for r in items] == [Vital.SPO2, Vital.PULSE_RATE]
    assert all(math.isnan(r.value) and r.quality is Quality.NO_VALUE for r in items)


def test_out_of_range_is_never_a_value():
    items = TextLineCodec().feed(b"SPO2=140 HR=999\r\n", T)
    assert all(math.isnan(r.value) and r.quality is Quality.OUT_OF_RANGE for r in items)


def test_header_lines_are_skipped_not_bad():
    codec = TextLineCodec()
    stream = (b"\r\nNONIN MEDICAL INC.  MODEL 7500  V1.3\r\n  01/05/24 09:00:01\r\n"
              b"SPO2=098 HR=072\r\n")
    assert values(codec.feed(stream, T), Vital.SPO2) == [98]
    assert codec.stats.frames_bad == 0 and codec.stats.extra["skipped_lines"] == 2


@pytest.mark.parametrize("text", [b"SPO2=98x HR=072", b"SPO2=098 HR=07\xff", b"HR=072",
                                  b"SPO2=098", b"SPO2=098 HR=072 EXTRA", b"\x00\x01\x02",
                                  b"SPO2=0980 HR=072", b"SPO2=098  PR=072",
                                  # a byte lost or doubled (issue 11): never a value
                                  b"SPO2=98 HR=072", b"SPO2=098 HR=72", b"SPO2=-- HR=072",
                                  b"SPO2=098 HR=0072", b"SPO2=098  HR=072", b"SPO2=9 HR=072"])
def test_malformed_lines_are_bad(text):
    codec = TextLineCodec()
    assert codec.feed(text + b"\r\n", T) == []
    assert codec.stats.frames_bad == 1 and codec.stats.bytes_discarded == len(text)


@pytest.mark.parametrize("end", [b"\r\n", b"\n", b"\r"])
def test_line_ends(end):
    items = TextLineCodec().feed(b"SPO2=098 HR=072" + end + b"SPO2=097 HR=071" + end, T)
    assert values(items, Vital.SPO2) == [98, 97]


def test_split_at_every_byte_position_gives_the_same_items():
    stream = (b"HEADER 7500\r\nSPO2=098 HR=072\r\n\xffjunk\r\nSPO2=--- HR=---\r\n"
              b"noiseSPO2=097 HR=071 F\r\nSPO2=140 HR=072*\r\n")
    whole = [key(r) for r in TextLineCodec().feed(stream, T)]
    assert len(whole) == 8
    for cut in range(len(stream) + 1):
        codec = TextLineCodec()
        items = codec.feed(stream[:cut], T) + codec.feed(stream[cut:], T)
        assert [key(r) for r in items] == whole, cut


def test_garbage_invalid_utf8_and_five_megabytes():
    codec = TextLineCodec()
    assert codec.feed(b"\xc3\x28\xa0\xa1\r\n", T) == []
    blob = bytes(np.random.default_rng(5).integers(0, 256, 5_000_000, dtype=np.uint8))
    blob = blob.replace(b"\r", b"").replace(b"\n", b"")
    for k in range(0, len(blob), 1_000_000):
        assert codec.feed(blob[k:k + 1_000_000], T) == []
        assert codec.buffered <= MAX_BUFFER_BYTES
    items = codec.feed(b"\r\nSPO2=098 HR=072\r\n", T)
    assert values(items, Vital.SPO2) == [98]
    assert codec.stats.frames_bad == 2 and codec.stats.extra["overlong_lines"] == 1
    assert codec.stats.bytes_discarded >= len(blob)


@FAST
@given(st.lists(st.binary(max_size=600), max_size=12))
def test_arbitrary_bytes_never_raise_and_stay_bounded(chunks):
    codec = TextLineCodec()
    for chunk in chunks:
        codec.feed(chunk, T)
        assert codec.buffered <= MAX_BUFFER_BYTES
    assert "parser_errors" not in codec.stats.extra


@FAST
@given(st.lists(st.tuples(st.integers(0, 100), st.integers(15, 300),
                          st.binary(max_size=60), st.booleans()), min_size=1, max_size=10),
       st.integers(1, 30))
def test_valid_lines_in_noise_are_recovered(records, step):
    stream = b""
    for spo2, hr, noise, terminated in records:
        noise = noise + b"\n" if terminated else noise.replace(b"\r", b"").replace(b"\n", b"")
        stream += noise + f"SPO2={spo2:03d} HR={hr:03d}\r\n".encode()
    codec = TextLineCodec(plausibility=False)  # any values: the framing alone
    items = [i for k in range(0, len(stream), step) for i in codec.feed(stream[k:k + step], T)]
    assert values(items, Vital.SPO2) == [r[0] for r in records]
    assert values(items, Vital.PULSE_RATE) == [r[1] for r in records]


# --- encoder round trip ---------------------------------------------------------------------

def _push_pair(enc, t: float, spo2: float | Quality, pr: float | Quality) -> None:
    for vital, v in ((Vital.SPO2, spo2), (Vital.PULSE_RATE, pr)):
        enc.push(Reading.invalid(vital, t, v) if isinstance(v, Quality)
                 else make_reading(vital, v, t))


@FAST
@given(st.lists(st.tuples(st.integers(0, 100), st.integers(15, 300)), min_size=1, max_size=30))
def test_round_trip_values_once_a_second(pairs):
    enc = TextLineEncoder(np.random.default_rng(0))
    frames = []
    for k, (spo2, pr) in enumerate(pairs):
        _push_pair(enc, T + k, spo2, pr)
        frames.append(enc.due(T + k))
    assert [len(f) for f in frames] == [1] * len(pairs)
    codec = TextLineCodec(plausibility=False)  # any values: the framing alone
    items = [i for k, f in enumerate(frames) for i in codec.feed(f[0], T + k)]
    assert values(items, Vital.SPO2) == [p[0] for p in pairs]
    assert values(items, Vital.PULSE_RATE) == [p[1] for p in pairs]
    assert [r.t for r in items if r.vital is Vital.SPO2] == [T + k for k in range(len(pairs))]


def test_encoder_no_data_sensor_off_link_loss_and_late_readings():
    enc = TextLineEncoder(np.random.default_rng(0))
    _push_pair(enc, T, Quality.SENSOR_OFF, Quality.SENSOR_OFF)
    _push_pair(enc, T + 1, 97, 70)
    assert enc.due(T + 1) == [b"SPO2=--- HR=---\r\n", b"SPO2=097 HR=070\r\n"]
    enc.sensor_off = True
    _push_pair(enc, T + 2, 97, 70)
    assert enc.due(T + 2) == [b"SPO2=--- HR=---\r\n"]
    enc.sensor_off = False
    assert enc.due(T + 6) == []                        # link loss: silence
    _push_pair(enc, T + 7, 96, 71)
    _push_pair(enc, T + 8, 95, 72)                     # late: pushed after their time
    assert enc.due(T + 9) == [b"SPO2=096 HR=071\r\n", b"SPO2=095 HR=072\r\n"]


def test_corrupted_lines_never_give_a_wrong_value():
    rng = np.random.default_rng(4321)
    enc = TextLineEncoder(np.random.default_rng(7))
    codec = TextLineCodec()
    for k in range(3000):
        spo2, hr = int(rng.integers(0, 101)), int(rng.integers(15, 301))
        _push_pair(enc, T + k, spo2, hr)
        (frame,) = enc.due(T + k)
        bad = enc.corrupt(frame)
        assert bad != frame and bad.endswith(b"\r\n")
        assert any(b in GARBAGE for b in bad)
        for r in codec.feed(bad, T):
            assert not r.valid or r.value == (spo2 if r.vital is Vital.SPO2 else hr), bad
    assert codec.stats.frames_ok == 0
    assert values(codec.feed(frame, T), Vital.SPO2) == [spo2]
