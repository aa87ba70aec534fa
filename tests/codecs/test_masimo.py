"""Masimo ASCII 1: golden lines, incremental parsing, garbage, quality, flags, round trip."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.core.events import DeviceFlag
from monitor.core.reading import Quality, Reading, make_reading
from monitor.core.vitals import Vital
from monitor.devices.codecs.base import MAX_BUFFER_BYTES
from monitor.devices.codecs.masimo import MasimoAsciiCodec
from simulators.encoders.masimo import MasimoAsciiEncoder
from simulators.engine import ScenarioEngine
from simulators.scenario import load_scenario

RAD8 = (b"02/22/16 22:47:45 SN=0000056661 SPO2=098% BPM=097 PI=03.60% SPCO=--.-% "
        b"SPMET=--.-% DESAT=-- PIDELTA=+-- ALARM=0000 EXC=000800\r\n")
"""The Rad-8 line from the reference (a public capture), exactly."""
RAD8_TIME = dt.datetime(2016, 2, 22, 22, 47, 45).timestamp()
T = 1_760_000_000.25
FAST = settings(max_examples=200, deadline=None)


def line(spo2: str = "098", bpm: str = "072", exc: str = "000800", alarm: str = "0000",
         clock: str = "02/22/16 22:47:45") -> bytes:
    return (f"{clock} SN=0000056661 SPO2={spo2}% BPM={bpm} PI=03.60% SPCO=--.-% "
            f"SPMET=--.-% DESAT=-- PIDELTA=+-- ALARM={alarm} EXC={exc}\r\n").encode()


def key(item: object) -> object:
    """An item as a comparable value (NaN equal to NaN)."""
    if isinstance(item, Reading):
        value = None if math.isnan(item.value) else item.value
        return (item.vital, value, item.t, item.quality, item.device_time)
    return item


def readings(items: list) -> list[Reading]:
    return [i for i in items if isinstance(i, Reading)]


def flags(items: list) -> list[DeviceFlag]:
    return [i for i in items if isinstance(i, DeviceFlag)]


def by_vital(items: list) -> dict[Vital, Reading]:
    return {r.vital: r for r in readings(items)}


def values(items: list, vital: Vital) -> list[float]:
    return [r.value for r in readings(items) if r.vital is vital]


# --- golden lines ---------------------------------------------------------------------------

def test_rad8_golden_line():
    codec = MasimoAsciiCodec()
    items = codec.feed(RAD8, T)
    got = by_vital(items)
    assert len(readings(items)) == 7 and not flags(items)
    assert got[Vital.SPO2].value == 98 and got[Vital.SPO2].quality is Quality.OK
    assert got[Vital.PULSE_RATE].value == 97
    assert got[Vital.PERF_INDEX].value == pytest.approx(3.60)
    for vital in (Vital.SPCO, Vital.SPMET, Vital.DESAT_INDEX, Vital.PI_DELTA):
        assert math.isnan(got[vital].value) and got[vital].quality is Quality.NO_VALUE
    assert all(r.t == T and r.device_time == RAD8_TIME for r in got.values())
    assert codec.device_serial == "0000056661"
    assert (codec.stats.frames_ok, codec.stats.frames_bad, codec.stats.last_frame_t) == (1, 0, T)
    assert codec.stats.bytes_in == len(RAD8) and codec.stats.bytes_discarded == 0


def test_every_field_present_gives_a_reading():
    text = (b"01/05/24 09:00:01 SN=0000012345 SPO2=097% BPM=064 PI=01.25% SPCO=02.5% "
            b"SPMET=00.8% SPHB=13.4 PVI=017 DESAT=03 PIDELTA=-05 ALARM=0000 EXC=000800\r\n")
    got = by_vital(MasimoAsciiCodec().feed(text, T))
    expected = {Vital.SPO2: 97, Vital.PULSE_RATE: 64, Vital.PERF_INDEX: 1.25, Vital.SPCO: 2.5,
                Vital.SPMET: 0.8, Vital.SPHB: 13.4, Vital.PVI: 17, Vital.DESAT_INDEX: 3,
                Vital.PI_DELTA: -5}
    assert {v: r.value for v, r in got.items()} == pytest.approx(expected)
    assert all(r.quality is Quality.OK for r in got.values())


def test_fields_found_by_key_not_column():
    """Radical-5 style: fewer fields, other order, 2-digit ALARM, 3-digit EXC, no SN."""
    text = b"03/01/21 12:00:00 BPM=081 SPO2=099% ALARM=00 EXC=800\r\n"
    codec = MasimoAsciiCodec()
    items = codec.feed(text, T)
    assert {r.vital: r.value for r in readings(items)} == {Vital.SPO2: 99, Vital.PULSE_RATE: 81}
    assert not flags(items) and codec.device_serial is None


def test_missing_or_impossible_device_clock():
    got = by_vital(MasimoAsciiCodec().feed(b"SPO2=097% BPM=070 EXC=000800\r\n", T))
    assert got[Vital.SPO2].value == 97 and got[Vital.SPO2].device_time is None
    got = by_vital(MasimoAsciiCodec().feed(line(clock="13/45/16 22:47:45"), T))
    assert got[Vital.SPO2].value == 98 and got[Vital.SPO2].device_time is None


@pytest.mark.parametrize("end", [b"\r\n", b"\n", b"\r", b"\r\n\r\n"])
def test_line_ends(end):
    codec = MasimoAsciiCodec()
    stream = (line("097") + line("096")).replace(b"\r\n", end)
    assert values(codec.feed(stream, T), Vital.SPO2) == [97, 96]
    assert codec.stats.frames_bad == 0


# --- incremental parsing and garbage --------------------------------------------------------

def _stream() -> bytes:
    return b"".join([RAD8, line("097", exc="000820"), b"\r\n", line("---", "---", "000821"),
                     line("095", alarm="0012"), line("140", exc="000800")])


def test_split_at_every_byte_position_gives_the_same_items():
    stream = _stream()
    whole = [key(i) for i in MasimoAsciiCodec().feed(stream, T)]
    assert len(whole) > 30
    for cut in range(len(stream) + 1):
        codec = MasimoAsciiCodec()
        items = codec.feed(stream[:cut], T) + codec.feed(stream[cut:], T)
        assert [key(i) for i in items] == whole, cut
    codec = MasimoAsciiCodec()
    items = [i for b in stream for i in codec.feed(bytes([b]), T)]
    assert [key(i) for i in items] == whole


def test_garbage_and_invalid_utf8_between_lines():
    codec = MasimoAsciiCodec()
    junk = b"\xff\xfe\x80garbage \xc3(\r\n\x00\x01\x02\n"
    items = codec.feed(junk + line("097") + junk + line("096") + b"\xe9\xe8" + line("095"), T)
    assert values(items, Vital.SPO2) == [97, 96, 95]
    assert codec.stats.frames_ok == 3
    assert codec.stats.frames_bad == 4           # two garbage lines in each junk
    assert codec.stats.bytes_discarded >= 2 * len(junk.replace(b"\r", b"").replace(b"\n", b""))


def test_five_megabytes_without_newline_is_bounded_and_counted():
    codec = MasimoAsciiCodec()
    blob = bytes(np.random.default_rng(7).integers(0, 256, 5_000_000, dtype=np.uint8))
    blob = blob.replace(b"\r", b"x").replace(b"\n", b"x")
    for part in (blob[:1000], blob[1000:3_000_000], blob[3_000_000:]):
        assert codec.feed(part, T) == []
        assert codec.buffered <= MAX_BUFFER_BYTES
    assert codec.stats.bytes_discarded >= len(blob) - MAX_BUFFER_BYTES
    assert codec.stats.frames_bad == 1 and codec.stats.extra["overlong_lines"] == 1
    items = codec.feed(line("097") + line("096"), T)
    assert values(items, Vital.SPO2) == [97, 96]     # even the one glued to the run
    assert codec.buffered == 0 and codec.stats.frames_ok == 2


def test_no_record_or_malformed_field_is_bad():
    codec = MasimoAsciiCodec()
    bad = [b"02/22/16 22:47:45 SN=0000056661\r\n",       # no known field
           b"hello world\r\n",
           line("09x"), line("098", exc="zz0800"), line("9.8.1"),
           b"02/22/16 22:47:45 SPO2=098% SPO2=097%\r\n"]
    for text in bad:
        assert codec.feed(text, T) == [], text
    assert codec.stats.frames_bad == len(bad) and codec.stats.frames_ok == 0


# --- values, quality and flags --------------------------------------------------------------

def test_dashes_are_nan_no_value():
    got = by_vital(MasimoAsciiCodec().feed(line("---", "---"), T))
    for vital in (Vital.SPO2, Vital.PULSE_RATE, Vital.SPCO, Vital.PI_DELTA):
        assert math.isnan(got[vital].value) and got[vital].quality is Quality.NO_VALUE
        assert not got[vital].valid


def test_out_of_range_is_never_a_value():
    got = by_vital(MasimoAsciiCodec().feed(line("140", "400"), T))
    for vital in (Vital.SPO2, Vital.PULSE_RATE):
        assert math.isnan(got[vital].value) and got[vital].quality is Quality.OUT_OF_RANGE


def test_sensor_off_flag_once_on_and_once_off():
    codec = MasimoAsciiCodec()
    stream = [line("098"), line("---", "---", "000820"), line("---", "---", "000820"),
              line("---", "---", "000821"), line("097"), line("096")]
    out = [codec.feed(text, T + i) for i, text in enumerate(stream)]
    generic = [(f.t, f.active) for items in out for f in flags(items) if f.name == "sensor_off"]
    assert generic == [(T + 1, True), (T + 4, False)]
    exc = [(f.name, f.active) for items in out for f in flags(items)
           if f.name.startswith("masimo.exc")]
    assert exc == [("masimo.exc.sensor_off", True), ("masimo.exc.no_sensor", True),
                   ("masimo.exc.no_sensor", False), ("masimo.exc.sensor_off", False)]
    for items in out[1:4]:
        assert {r.quality for r in readings(items)} == {Quality.SENSOR_OFF}
        assert all(math.isnan(r.value) for r in readings(items))
    assert by_vital(out[4])[Vital.SPO2].value == 97


def test_sensor_off_with_numbers_still_sensor_off():
    got = by_vital(MasimoAsciiCodec().feed(line("098", "072", "001800"), T))     # no cable
    assert got[Vital.SPO2].quality is Quality.SENSOR_OFF and math.isnan(got[Vital.SPO2].value)


def test_masimo_set_bit_alone_is_normal():
    codec = MasimoAsciiCodec()
    items = codec.feed(line(exc="000000") + line(exc="000800") + line(exc="000000"), T)
    assert not flags(items)
    assert all(r.quality is Quality.OK for r in readings(items) if r.vital is Vital.SPO2)


@pytest.mark.parametrize(("exc", "spo2", "pi"), [
    (0x000004, Quality.LOW_PERFUSION, Quality.OK),   # low perfusion: a caveat; PI is the measure
    (0x00000C, Quality.QUESTIONABLE, Quality.QUESTIONABLE),  # and pulse search: no value
    (0x000008, Quality.QUESTIONABLE, Quality.QUESTIONABLE),  # pulse search
    (0x000400, Quality.QUESTIONABLE, Quality.QUESTIONABLE),  # low signal IQ
    (0x000010, Quality.ARTIFACT, Quality.ARTIFACT),          # interference
    (0x000040, Quality.ARTIFACT, Quality.ARTIFACT),          # ambient light
    (0x200000, Quality.OK, Quality.OK),                      # SpCO low confidence
])
def test_exception_quality(exc, spo2, pi):
    got = by_vital(MasimoAsciiCodec().feed(line(exc=f"{exc | 0x800:06X}"), T))
    assert got[Vital.SPO2].quality is spo2 and got[Vital.PERF_INDEX].quality is pi
    assert got[Vital.SPO2].valid == spo2.has_value
    if not got[Vital.SPO2].valid:
        assert math.isnan(got[Vital.SPO2].value)


def test_spco_low_confidence_only_affects_spco():
    text = b"02/22/16 22:47:45 SPO2=098% SPCO=03.0% SPMET=01.0% EXC=200800\r\n"
    got = by_vital(MasimoAsciiCodec().feed(text, T))
    assert got[Vital.SPCO].quality is Quality.QUESTIONABLE
    assert got[Vital.SPMET].value == 1.0 and got[Vital.SPO2].value == 98


def test_alarm_flags_on_change_only():
    codec = MasimoAsciiCodec()
    out = [codec.feed(line(alarm=a), T + i) for i, a in enumerate(
        ["0000", "0012", "0012", "0032", "0000", "0000"])]
    got = [(i, f.name, f.active, f.text) for i, items in enumerate(out) for f in flags(items)]
    assert got == [
        (1, "masimo.alarm.spo2_low", True, "SpO2 low"),
        (1, "masimo.alarm.active", True, "Alarm active"),
        (3, "masimo.alarm.silenced", True, "Alarm silenced"),
        (4, "masimo.alarm.spo2_low", False, "SpO2 low"),
        (4, "masimo.alarm.active", False, "Alarm active"),
        (4, "masimo.alarm.silenced", False, "Alarm silenced"),
    ]


# --- property tests -------------------------------------------------------------------------

@FAST
@given(st.lists(st.binary(max_size=700), max_size=12))
def test_arbitrary_bytes_never_raise_and_stay_bounded(chunks):
    codec = MasimoAsciiCodec()
    for chunk in chunks:
        codec.feed(chunk, T)
        assert codec.buffered <= MAX_BUFFER_BYTES
    assert "parser_errors" not in codec.stats.extra
    assert codec.stats.bytes_in == sum(map(len, chunks))


_noise = st.binary(max_size=80)


@FAST
@given(st.lists(st.tuples(st.integers(0, 100), st.integers(15, 300), _noise, st.booleans()),
                min_size=1, max_size=8),
       st.integers(1, 40))
def test_valid_lines_in_noise_are_recovered(records, step):
    stream = b""
    for spo2, bpm, noise, terminated in records:
        if terminated:
            stream += noise + b"\r\n"
        else:
            stream += noise.replace(b"\r", b"").replace(b"\n", b"")
        stream += line(f"{spo2:03d}", f"{bpm:03d}")
    codec = MasimoAsciiCodec(plausibility=False)  # any values: the framing alone
    items = [i for k in range(0, len(stream), step) for i in codec.feed(stream[k:k + step], T)]
    assert values(items, Vital.SPO2) == [r[0] for r in records]
    assert values(items, Vital.PULSE_RATE) == [r[1] for r in records]
    assert codec.stats.frames_ok == len(records)


# --- encoder round trip ---------------------------------------------------------------------

def _push_pair(enc, t: float, spo2: float | Quality, pr: float | Quality) -> None:
    for vital, v in ((Vital.SPO2, spo2), (Vital.PULSE_RATE, pr)):
        enc.push(Reading.invalid(vital, t, v) if isinstance(v, Quality)
                 else make_reading(vital, v, t))


@FAST
@given(st.lists(st.tuples(st.integers(50, 100), st.integers(30, 220)), min_size=1, max_size=30),
       st.integers(0, 2**32 - 1))
def test_round_trip_values_once_a_second(pairs, seed):
    enc = MasimoAsciiEncoder(np.random.default_rng(seed))
    for k, (spo2, pr) in enumerate(pairs):
        _push_pair(enc, T + k, spo2, pr)
    frames = enc.due(T + len(pairs) + 5)
    assert len(frames) == len(pairs)
    codec = MasimoAsciiCodec(plausibility=False)  # any values: the framing alone
    items = [i for k, f in enumerate(frames) for i in codec.feed(f, T + k)]
    assert values(items, Vital.SPO2) == [p[0] for p in pairs]
    assert values(items, Vital.PULSE_RATE) == [p[1] for p in pairs]
    assert codec.stats.frames_bad == 0
    assert all(r.device_time is not None for r in readings(items))


def test_frames_come_due_at_whole_seconds():
    enc = MasimoAsciiEncoder(np.random.default_rng(0))
    _push_pair(enc, T, 97, 70)
    _push_pair(enc, T + 1, 96, 71)
    assert len(enc.due(T - 0.5)) == 0
    assert len(enc.due(T + 0.5)) == 1
    assert len(enc.due(T + 0.99)) == 0
    assert len(enc.due(T + 1)) == 1


def test_encoder_sensor_off_and_link_loss():
    enc = MasimoAsciiEncoder(np.random.default_rng(1))
    codec = MasimoAsciiCodec()
    _push_pair(enc, T, 97, 70)
    _push_pair(enc, T + 1, Quality.SENSOR_OFF, Quality.SENSOR_OFF)   # scenario probe off
    _push_pair(enc, T + 2, 97, 70)                                    # then device-side probe off
    frames = enc.due(T + 1)
    enc.sensor_off = True
    frames += enc.due(T + 2)
    enc.sensor_off = False
    _push_pair(enc, T + 6, 95, 72)                                    # nothing at 3..5: link loss
    frames += enc.due(T + 8)
    assert len(frames) == 4
    out = [codec.feed(f, T + k) for k, f in enumerate(frames)]
    for items in out[1:3]:
        got = by_vital(items)
        assert got[Vital.SPO2].quality is Quality.SENSOR_OFF
        assert got[Vital.PULSE_RATE].quality is Quality.SENSOR_OFF
    assert [(f.name, f.active) for items in out for f in flags(items) if f.name == "sensor_off"] \
        == [("sensor_off", True), ("sensor_off", False)]
    assert values(out[3], Vital.SPO2) == [95]


def test_encoder_device_alarms_reach_the_codec():
    enc = MasimoAsciiEncoder(np.random.default_rng(2))
    _push_pair(enc, T, 84, 70)
    items = MasimoAsciiCodec().feed(b"".join(enc.due(T)), T)
    assert {f.name for f in flags(items) if f.active} == {"masimo.alarm.spo2_low",
                                                          "masimo.alarm.active"}


def test_corrupted_lines_never_give_a_wrong_value():
    rng = np.random.default_rng(1234)
    enc = MasimoAsciiEncoder(np.random.default_rng(99))
    truth = {}
    for k in range(300):
        spo2, pr = int(rng.integers(80, 101)), int(rng.integers(40, 180))
        truth[k] = (spo2, pr)
        _push_pair(enc, T + k, spo2, pr)
    frames = enc.due(T + 300)
    codec = MasimoAsciiCodec()
    for rounds in range(10):
        for k, frame in enumerate(frames):
            bad = enc.corrupt(frame)
            assert bad != frame and bad.endswith(b"\r\n")
            got = by_vital(codec.feed(bad, T))
            for vital, want in zip((Vital.SPO2, Vital.PULSE_RATE), truth[k], strict=True):
                if vital in got and got[vital].valid:
                    assert got[vital].value == want, (bad, rounds)
    assert codec.stats.frames_bad == 3000 and codec.stats.frames_ok == 0
    assert values(codec.feed(frames[0], T), Vital.SPO2) == [truth[0][0]]   # still in sync


def test_scenario_engine_round_trip_through_sensor_off():
    """The sensor-off scenario around its episode (30 min + 30 s) through encoder and codec."""
    engine = ScenarioEngine(load_scenario("sensor-off"), seed=3, start=T, run_s=31.5 * 60)
    enc = MasimoAsciiEncoder(np.random.default_rng(3))
    codec = MasimoAsciiCodec()
    truth: dict[float, Reading] = {}
    got: list[Reading] = []
    for step in range(1, 31 * 60 + 31):
        now = T + step
        for item in engine.generate(now):
            enc.push(item)
            if isinstance(item, Reading) and item.vital is Vital.SPO2:
                truth[round(item.t - T)] = item
        for frame in enc.due(now):
            got.extend(r for r in readings(codec.feed(frame, now)) if r.vital is Vital.SPO2)
    assert len(got) == len(truth) == 31 * 60 + 30
    for sent, decoded in zip([truth[k] for k in sorted(truth)], got, strict=True):
        assert decoded.t >= sent.t
        if sent.valid:
            assert decoded.value == sent.value
        else:
            assert sent.quality is Quality.SENSOR_OFF and decoded.quality is Quality.SENSOR_OFF
    assert sum(r.quality is Quality.SENSOR_OFF for r in got) == 30
    assert codec.stats.frames_bad == 0


# --- field widths: the protocol has no checksum (issue 11) ----------------------------------


@pytest.mark.parametrize("bad", [
    b"SPO2=09%", b"SPO2=0098%", b"SPO2=098", b"BPM=97", b"BPM=0972", b"PI=3.60%", b"PI=03.6%",
    b"SPCO=2.5%", b"SPMET=00.80%", b"DESAT=3", b"PIDELTA=05", b"PIDELTA=+5", b"SPO2=--%",
    b"PVI=17", b"SPHB=3.4",
])
def test_a_field_of_the_wrong_width_makes_the_line_a_bad_frame(bad: bytes) -> None:
    key_ = bad.split(b"=")[0]
    good = {b"SPO2": b"SPO2=098%", b"BPM": b"BPM=072", b"PI": b"PI=03.60%",
            b"SPCO": b"SPCO=--.-%", b"SPMET": b"SPMET=--.-%", b"DESAT": b"DESAT=--",
            b"PIDELTA": b"PIDELTA=+--"}
    text = RAD8.replace(b"BPM=097", b"BPM=072")
    if key_ in good:
        text = text.replace(good[key_], bad)
    else:
        text = text.replace(b" ALARM=", b" " + bad + b" ALARM=")
    codec = MasimoAsciiCodec()
    assert readings(codec.feed(text, T)) == []
    assert codec.stats.frames_bad == 1 and codec.stats.frames_ok == 0
    # the next good line is read as usual
    assert values(codec.feed(RAD8, T + 1), Vital.SPO2) == [98]


@FAST
@given(st.integers(0, len(RAD8) - 3), st.sampled_from(["drop", "double"]))
def test_a_lost_or_doubled_byte_never_gives_a_value_that_was_not_sent(at: int, how: str) -> None:
    sent = by_vital(MasimoAsciiCodec().feed(RAD8, T))
    damaged = RAD8[:at] + (RAD8[at:at + 1] * 2 if how == "double" else b"") + RAD8[at + 1:]
    for r in readings(MasimoAsciiCodec().feed(damaged, T)):
        if r.valid:
            assert r.value == sent[r.vital].value, (damaged, r)
