"""Nonin Data Format #2: the codec against hand-built packets, and the encoder -> codec
round trip.

Packets are built here from the format description (section 2b of the reference),
independently of the codec's constants.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.core.events import DeviceFlag
from monitor.core.reading import Quality, Reading, WaveChunk, make_reading
from monitor.core.vitals import Vital
from monitor.devices.codecs.base import MAX_BUFFER_BYTES
from monitor.devices.codecs.nonin import Nonin2Codec
from simulators.encoders.nonin import Nonin2Encoder

T = 1_760_000_000.25
PACKET_S = 1 / 3
FAST = settings(max_examples=200, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])

GREEN, RED, SNSA, OOT, ARTF, SNSD = 0x02, 0x04, 0x08, 0x10, 0x20, 0x40


# -- builder ---------------------------------------------------------------------------------


def frame(status: int, pleth: int, value: int, chk_delta: int = 0) -> bytes:
    body = bytes([0x01, 0x80 | status, pleth, value])
    return body + bytes([(sum(body) + chk_delta) & 0xFF])


def packet(hr: int = 72, spo2: int = 97, status: int = GREEN,
           pleth: list[int] | None = None, frame_status: dict[int, int] | None = None,
           floats_at: dict[int, int] | None = None) -> bytes:
    """25 frames; FLOAT bytes per the table, HR/SpO2 in every variant's slot.

    ``floats_at`` then overrides the FLOAT byte of single frames.
    """
    floats = [0] * 25
    msb, lsb = (hr >> 7) & 0x03, hr & 0x7F
    for hi, lo in ((0, 1), (13, 14), (19, 20), (21, 22)):
        floats[hi], floats[lo] = msb, lsb
    for slot in (2, 8, 9, 10, 15, 16):
        floats[slot] = spo2
    floats[3] = 0x11
    for k, value in (floats_at or {}).items():
        floats[k] = value
    pleth = pleth if pleth is not None else [(40 + 7 * k) & 0xFF for k in range(25)]
    frame_status = frame_status or {}
    return b"".join(frame(frame_status.get(k, status) | (1 if k == 0 else 0), pleth[k],
                          floats[k]) for k in range(25))


# -- helpers ---------------------------------------------------------------------------------


NEXT = frame(GREEN | 1, 0, 0)
"""The SYNC frame of a following packet: a packet is decoded once this confirms it."""


def confirmed(data: bytes) -> bytes:
    """``data`` followed by the next packet's SYNC frame, so its last packet is decoded."""
    return data + NEXT


def in_step(packets: list[bytes]) -> list[bytes]:
    """Feeds that each complete one packet: packet k's bytes after its SYNC frame, then the
    SYNC frame of packet k+1 (the last one confirmed by :data:`NEXT`)."""
    heads = [p[:5] for p in packets[1:]] + [NEXT]
    return [(packets[0][:5] if k == 0 else b"") + p[5:] + head
            for k, (p, head) in enumerate(zip(packets, heads, strict=True))]



def norm(items: list) -> list[tuple]:
    out = []
    for it in items:
        if isinstance(it, WaveChunk):
            out.append(("wave", it.t0, it.rate, it.quality, it.samples.tobytes()))
        elif isinstance(it, Reading):
            out.append(("reading", it.vital, None if math.isnan(it.value) else it.value,
                        it.t, it.quality))
        else:
            out.append(it)
    return out


PACKET_VITALS = {Vital.PULSE_RATE, Vital.SPO2, Vital.SPO2_DISPLAY, Vital.SPO2_FAST,
                 Vital.SPO2_BEAT, Vital.SPO2_EXT, Vital.SPO2_EXT_DISPLAY, Vital.PR_DISPLAY,
                 Vital.PR_EXT, Vital.PR_EXT_DISPLAY}


def per_packet(items: list) -> list[dict[Vital, float | Quality]]:
    """Each packet's numerics (a quality stands in for an invalid value), PR and SpO2 first."""
    out: list[dict[Vital, float | Quality]] = []
    for r in (it for it in items if isinstance(it, Reading)):
        if r.vital is Vital.PULSE_RATE:
            out.append({})
        assert out and r.vital not in out[-1], r.vital
        out[-1][r.vital] = r.value if r.valid else r.quality
    assert all(list(p)[:2] == [Vital.PULSE_RATE, Vital.SPO2] for p in out)
    assert all(set(p) == PACKET_VITALS for p in out)
    return out


def numerics(items: list) -> list[tuple]:
    """(pulse rate, SpO2) per packet; a quality stands in for an invalid value."""
    return [(p[Vital.PULSE_RATE], p[Vital.SPO2]) for p in per_packet(items)]


def flags(items: list) -> list[tuple[str, bool]]:
    return [(f.name, f.active) for f in items if isinstance(f, DeviceFlag)]


def chunks(items: list) -> list[WaveChunk]:
    return [it for it in items if isinstance(it, WaveChunk)]


def healthy(codec: Nonin2Codec) -> None:
    assert "internal_error" not in codec.stats.extra
    assert codec.buffered <= MAX_BUFFER_BYTES


# -- decoding --------------------------------------------------------------------------------


def test_golden_packet() -> None:
    codec = Nonin2Codec()
    pleth = [(3 * k + 100) for k in range(25)]
    items = codec.feed(confirmed(packet(72, 97, pleth=pleth)), T)
    assert numerics(items) == [(72, 97)]
    assert all(r.t == T and r.device_time is None for r in items if isinstance(r, Reading))
    [chunk] = chunks(items)
    assert chunk.vital is Vital.PLETH and chunk.rate == 75.0 and chunk.quality is Quality.OK
    assert chunk.samples.tolist() == pleth
    assert chunk.t0 == pytest.approx(T - PACKET_S)
    assert flags(items) == []
    assert codec.stats.frames_ok == 26 and codec.stats.frames_bad == 0
    assert codec.stats.bytes_in == 130 and codec.stats.last_frame_t == T
    healthy(codec)


@pytest.mark.parametrize("hr", [15, 127, 128, 200, 300, 383, 510])
def test_nine_bit_heart_rate(hr: int) -> None:
    got = numerics(Nonin2Codec().feed(confirmed(packet(hr=hr)), T))[0][0]
    assert got == (hr if hr <= 300 else Quality.OUT_OF_RANGE)


def test_msb_high_bits_and_spo2_bit7_are_masked() -> None:
    data = bytearray(packet(hr=72, spo2=97))
    data[3] |= 0xFC            # HR MSB: only bits 1..0 count
    data[8] |= 0x80            # HR LSB: only bits 6..0 count
    data[13] |= 0x80           # SpO2: only bits 6..0 count
    for i in (3, 8, 13):
        data[i + 1] = sum(data[i - 3:i + 1]) & 0xFF
    assert numerics(Nonin2Codec().feed(confirmed(bytes(data)), T)) == [(72, 97)]


def test_missing_values_are_invalid() -> None:
    codec = Nonin2Codec()
    items = codec.feed(confirmed(packet(511, 127) + packet(511, 97) + packet(80, 127)), T)
    assert numerics(items) == [(Quality.NO_VALUE, Quality.NO_VALUE),
                               (Quality.NO_VALUE, 97), (80, Quality.NO_VALUE)]
    assert all(math.isnan(r.value) for r in items if isinstance(r, Reading) and not r.valid)


def test_sensor_off_quality_and_flag_transitions() -> None:
    codec = Nonin2Codec()
    on = packet(72, 97)
    off = packet(511, 127, status=SNSD, pleth=[0] * 25)
    items = [codec.feed(p, T + i * PACKET_S)
             for i, p in enumerate(in_step([on, off, off, off, on, on]))]
    assert [flags(i) for i in items] == [[], [("sensor_off", True)], [], [],
                                         [("sensor_off", False)], []]
    assert [numerics(i)[0] for i in items] == [(72, 97)] + \
        [(Quality.SENSOR_OFF, Quality.SENSOR_OFF)] * 3 + [(72, 97)] * 2
    off_chunk = chunks(items[1])[0]
    assert off_chunk.quality is Quality.SENSOR_OFF and np.isnan(off_chunk.samples).all()


def test_sensor_off_wins_over_valid_looking_values_and_nans_only_its_frames() -> None:
    items = Nonin2Codec().feed(confirmed(packet(72, 97, frame_status={20: GREEN | SNSD})), T)
    assert numerics(items) == [(Quality.SENSOR_OFF, Quality.SENSOR_OFF)]
    samples = chunks(items)[0].samples
    assert np.isnan(samples[20]) and np.isfinite(np.delete(samples, 20)).all()


@pytest.mark.parametrize(("bit", "quality"), [(ARTF, Quality.ARTIFACT),
                                               (OOT, Quality.QUESTIONABLE),
                                               (SNSA, Quality.NO_VALUE)])
def test_status_bits_map_to_quality(bit: int, quality: Quality) -> None:
    items = Nonin2Codec().feed(confirmed(packet(72, 97, frame_status={7: GREEN | bit})), T)
    assert numerics(items) == [(quality, quality)]
    assert chunks(items)[0].quality is Quality.OK           # pleth itself is still there


def test_sensor_alarm_flag() -> None:
    codec = Nonin2Codec()
    got = [flags(codec.feed(p, T)) for p in
           in_step([packet(status=GREEN | SNSA), packet(status=GREEN | SNSA), packet()])]
    assert got == [[("nonin.sensor_alarm", True)], [], [("nonin.sensor_alarm", False)]]


def test_low_perfusion_flag_transitions() -> None:
    codec = Nonin2Codec()
    yellow = RED | GREEN
    sequence = [packet(status=GREEN), packet(status=RED), packet(status=RED),
                packet(status=0), packet(status=yellow), packet(status=RED),
                packet(status=0, frame_status={3: GREEN}), packet(status=RED),
                packet(status=SNSD)]
    got = [flags(codec.feed(p, T)) for p in in_step(sequence)]
    low = "nonin.perfusion.low"
    assert got == [[], [(low, True)], [], [],           # no colour: state kept
                   [(low, False)], [(low, True)], [(low, False)], [(low, True)],
                   [("sensor_off", True), (low, False)]]


# -- framing and sync ------------------------------------------------------------------------


def test_split_at_every_byte_position() -> None:
    data = b"\x05\x01\x81" + packet(72, 97) + packet(130, 95, status=ARTF | GREEN) + \
        packet(511, 127, status=SNSD) + packet(300, 88) + NEXT
    whole = norm(Nonin2Codec().feed(data, T))
    assert len(numerics(Nonin2Codec().feed(data, T))) == 4
    for cut in range(len(data) + 1):
        codec = Nonin2Codec()
        assert norm(codec.feed(data[:cut], T) + codec.feed(data[cut:], T)) == whole, cut
        healthy(codec)


def test_byte_by_byte() -> None:
    data = confirmed(packet(72, 97) + packet(73, 98))
    codec = Nonin2Codec()
    items = []
    for i in range(len(data)):
        items += codec.feed(data[i:i + 1], T)
    assert norm(items) == norm(Nonin2Codec().feed(data, T))


def test_resync_after_garbage() -> None:
    garbage = bytes([0x01, 0x81, 0x01, 0x01, 0x83, 0xFF, 0x00, 0x01]) * 20
    codec = Nonin2Codec()
    items = codec.feed(packet(60, 99) + NEXT + garbage + confirmed(packet(61, 98) + packet(62, 97)),
                       T)
    assert numerics(items) == [(60, 99), (61, 98), (62, 97)]
    assert codec.stats.bytes_discarded >= len(garbage)
    healthy(codec)


def test_starting_mid_packet_waits_for_sync() -> None:
    data = packet(60, 99)[37:] + confirmed(packet(61, 98))
    codec = Nonin2Codec()
    assert numerics(codec.feed(data, T)) == [(61, 98)]
    assert codec.stats.bytes_discarded == 125 - 37


def test_bad_checksum_drops_the_packet_and_resyncs() -> None:
    bad = bytearray(packet(60, 99))
    bad[10 * 5 + 4] ^= 0x01                       # frame 10: wrong checksum
    codec = Nonin2Codec()
    first = codec.feed(confirmed(packet(59, 99)), T)
    items = codec.feed(bytes(bad)[5:] + confirmed(packet(61, 98) + packet(62, 97)), T + 1.0)
    assert numerics(items) == [(61, 98), (62, 97)]
    assert codec.stats.frames_bad == 1
    # the packet after the loss re-anchors: it does not pretend to follow the first one
    [c0], [c1, c2] = chunks(first), chunks(items)
    assert c1.t0 == pytest.approx(T + 1.0 - PACKET_S) and c1.t0 > c0.t_end
    assert c2.t0 == pytest.approx(c1.t_end)


def test_early_sync_drops_incomplete_packet() -> None:
    codec = Nonin2Codec()
    items = codec.feed(packet(60, 99)[:60] + confirmed(packet(61, 98)), T)
    assert numerics(items) == [(61, 98)]
    assert codec.stats.extra["incomplete_packets"] == 1 and codec.stats.frames_bad == 0


def test_missing_sync_after_25_frames_loses_sync() -> None:
    no_sync = bytearray(packet(61, 98))
    no_sync[1] &= ~0x01
    no_sync[4] = sum(no_sync[:4]) & 0xFF
    codec = Nonin2Codec()
    items = codec.feed(packet(60, 99) + bytes(no_sync) + confirmed(packet(62, 97)), T)
    # packet 60 was followed by a frame without SYNC: its frame count is unconfirmed
    assert numerics(items) == [(62, 97)]
    assert codec.stats.extra["unconfirmed_packets"] == 1
    assert codec.stats.extra["sync_lost"] == 1


def test_pleth_chunks_are_contiguous_at_75_hz() -> None:
    codec = Nonin2Codec()
    out = []
    for i, data in enumerate(in_step([packet()] * 30)):
        jitter = 0.01 * ((i * 7) % 5 - 2)
        out += chunks(codec.feed(data, T + (i + 1) * PACKET_S + jitter))
    assert all(c.rate == 75.0 and len(c) == 25 for c in out)
    for a, b in zip(out, out[1:], strict=False):
        assert b.t0 == pytest.approx(a.t_end, abs=1e-9)
    assert out[-1].t_end == pytest.approx(T + 30 * PACKET_S - 0.02, abs=0.05)
    # a 2 s gap re-anchors at the arrival
    [late] = chunks(codec.feed(packet()[5:] + NEXT, out[-1].t_end + 2.0 + PACKET_S))
    assert late.t0 == pytest.approx(out[-1].t_end + 2.0)


def test_burst_never_goes_backwards() -> None:
    codec = Nonin2Codec()
    out = chunks(codec.feed(packet() * 12, T))
    for a, b in zip(out, out[1:], strict=False):
        assert b.t0 == pytest.approx(a.t_end, abs=1e-9)


def test_large_feed_keeps_buffer_bounded() -> None:
    codec = Nonin2Codec()
    items = codec.feed(bytes(3 * MAX_BUFFER_BYTES) + confirmed(packet(70, 96)), T)
    assert numerics(items) == [(70, 96)]
    healthy(codec)


@FAST
@given(st.lists(st.binary(max_size=400), max_size=12))
def test_arbitrary_bytes_never_raise(pieces: list[bytes]) -> None:
    codec = Nonin2Codec()
    for i, piece in enumerate(pieces):
        assert isinstance(codec.feed(piece, T + i), list)
        healthy(codec)
    assert codec.stats.bytes_in == sum(map(len, pieces))


packets = st.lists(st.tuples(st.integers(15, 300), st.integers(0, 100),
                             st.sampled_from([GREEN, RED, RED | GREEN, 0])),
                   min_size=1, max_size=6)


@FAST
@given(st.binary(max_size=300), packets, st.integers(1, 40))
def test_packets_after_noise_are_all_recovered(noise: bytes, values: list[tuple],
                                               chunk: int) -> None:
    data = noise + confirmed(b"".join(packet(hr, spo2, status) for hr, spo2, status in values))
    codec = Nonin2Codec()
    items = []
    for i in range(0, len(data), chunk):
        items += codec.feed(data[i:i + chunk], T)
    assert numerics(items) == [(hr, spo2) for hr, spo2, _ in values]
    healthy(codec)


# -- a frame received twice (issue 11) -------------------------------------------------------


def steady_stream(seconds: float, pr: int = 64, spo2: int = 98) -> list[bytes]:
    """The encoder's frames for a steady patient whose PR and SpO2 differ by a lot."""
    encoder = Nonin2Encoder(np.random.default_rng(3))
    encoder.push(make_reading(Vital.PULSE_RATE, pr, T))
    encoder.push(make_reading(Vital.SPO2, spo2, T))
    return encoder.due(T) + encoder.due(T + seconds)


def test_a_duplicated_frame_never_shifts_pulse_rate_into_spo2() -> None:
    frames = steady_stream(3.0)                       # 9 packets and the 10th's SYNC frame
    # frame 1 of packet 3 (HR LSB) arrives twice: 26 frames between two SYNCs
    glitched = frames[:77] + [frames[76]] + frames[77:]
    codec = Nonin2Codec()
    items = codec.feed(b"".join(glitched), T + 3.0)
    got = numerics(items)
    assert got == [(64, 98)] * 8                      # the glitched packet is dropped unseen
    assert codec.stats.extra["unconfirmed_packets"] == 1
    healthy(codec)


def test_a_duplicated_frame_at_a_packet_end_is_caught_by_the_next_sync() -> None:
    frames = steady_stream(1.0)
    # frame 24 of packet 0 twice: positions 0..24 look complete, the 26th has no SYNC
    glitched = frames[:25] + [frames[24]] + frames[25:]
    codec = Nonin2Codec()
    assert numerics(codec.feed(b"".join(glitched), T + 1.0)) == [(64, 98)] * 2
    assert codec.stats.extra["unconfirmed_packets"] == 1


@FAST
@given(st.integers(0, 224), st.integers(1, 3), st.integers(1, 64))
def test_repeated_frames_never_give_a_value_that_was_not_sent(at: int, times: int,
                                                              chunk: int) -> None:
    frames = steady_stream(3.0)
    glitched = b"".join(frames[:at + 1] + [frames[at]] * times + frames[at + 1:])
    codec = Nonin2Codec()
    items = []
    for i in range(0, len(glitched), chunk):
        items += codec.feed(glitched[i:i + chunk], T + 3.0)
    for r in items:
        if isinstance(r, Reading) and r.valid:
            assert r.value == (64 if r.vital.value.startswith("pr") or
                               r.vital is Vital.PULSE_RATE else 98), r
    assert len(numerics(items)) >= 7                  # at most the glitched packets are lost
    healthy(codec)


# -- encoder round trip ----------------------------------------------------------------------


def test_encoder_frames_at_75_per_second() -> None:
    encoder = Nonin2Encoder(np.random.default_rng(0))
    first = encoder.due(T)
    frames = encoder.due(T + 2.0)
    assert len(first) == 1 and len(frames) == 150
    assert all(len(f) == 5 and f[0] == 0x01 and f[1] & 0x80 for f in first + frames)
    assert [i for i, f in enumerate(first + frames) if f[1] & 0x01] == [0, 25, 50, 75, 100, 125,
                                                                       150]


@FAST
@given(pr=st.integers(15, 300), spo2=st.integers(0, 100), seed=st.integers(0, 50),
       use_hr=st.booleans())
def test_round_trip_integers(pr: int, spo2: int, seed: int, use_hr: bool) -> None:
    encoder, codec = Nonin2Encoder(np.random.default_rng(seed)), Nonin2Codec()
    encoder.push(make_reading(Vital.HR if use_hr else Vital.PULSE_RATE, pr, T))
    encoder.push(make_reading(Vital.SPO2, spo2, T))
    t = np.arange(400) / 100
    encoder.push(WaveChunk(Vital.PLETH, T, 100.0, 0.9 * np.sin(2 * np.pi * 1.2 * t)))
    items = codec.feed(b"".join(encoder.due(T) + encoder.due(T + 3.0)), T + 3.0)
    assert numerics(items) == [(pr, spo2)] * 9
    assert codec.stats.frames_bad == 0 and flags(items) == []
    samples = np.concatenate([c.samples for c in chunks(items)])
    expected = np.clip(np.rint(128 + 100 * 0.9 * np.sin(2 * np.pi * 1.2 * np.arange(225) / 75)),
                       0, 255)
    np.testing.assert_allclose(samples, expected, atol=1.0)


def test_encoder_sensor_off() -> None:
    encoder, codec = Nonin2Encoder(np.random.default_rng(1)), Nonin2Codec()
    encoder.push(make_reading(Vital.PULSE_RATE, 80, T))
    encoder.push(make_reading(Vital.SPO2, 96, T))
    before = encoder.due(T) + encoder.due(T + 1 - 1 / 75)
    encoder.sensor_off = True
    during = encoder.due(T + 2 - 1 / 75)
    encoder.sensor_off = False
    after = encoder.due(T + 3 - 1 / 75) + encoder.due(T + 3)    # + the next packet's SYNC
    items = codec.feed(b"".join(before + during + after), T + 3)
    off = (Quality.SENSOR_OFF, Quality.SENSOR_OFF)
    assert numerics(items) == [(80, 96)] * 3 + [off] * 3 + [(80, 96)] * 3
    assert flags(items) == [("sensor_off", True), ("sensor_off", False)]
    assert [np.isnan(c.samples).all() for c in chunks(items)] == [False] * 3 + [True] * 3 + \
        [False] * 3


def test_encoder_follows_scenario_sensor_off_and_nan_pleth() -> None:
    encoder, codec = Nonin2Encoder(np.random.default_rng(1)), Nonin2Codec()
    encoder.push(Reading.invalid(Vital.SPO2, T, Quality.SENSOR_OFF))
    encoder.push(Reading.invalid(Vital.PULSE_RATE, T, Quality.SENSOR_OFF))
    encoder.push(WaveChunk(Vital.PLETH, T, 100.0, np.full(100, np.nan), Quality.SENSOR_OFF))
    items = codec.feed(b"".join(encoder.due(T) + encoder.due(T + 1)), T + 1)
    assert numerics(items) == [(Quality.SENSOR_OFF, Quality.SENSOR_OFF)] * 3


def test_encoder_without_values_sends_missing() -> None:
    encoder, codec = Nonin2Encoder(np.random.default_rng(1)), Nonin2Codec()
    items = codec.feed(b"".join(encoder.due(T) + encoder.due(T + 1)), T + 1)
    assert numerics(items) == [(Quality.NO_VALUE, Quality.NO_VALUE)] * 3


def test_encoder_corrupt_frames_are_dropped() -> None:
    encoder, codec = Nonin2Encoder(np.random.default_rng(2)), Nonin2Codec()
    encoder.push(make_reading(Vital.PULSE_RATE, 80, T))
    encoder.push(make_reading(Vital.SPO2, 96, T))
    frames = encoder.due(T) + encoder.due(T + 2)   # 6 packets and the 7th's SYNC frame
    frames[30] = encoder.corrupt(frames[30])                        # in packet 2
    items = codec.feed(b"".join(frames), T + 2)
    assert numerics(items) == [(80, 96)] * 5
    assert codec.stats.frames_bad == 1
