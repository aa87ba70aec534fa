"""GE Datex-Ohmeda S/5 computer interface: the codec against hand-built records, and the
encoder -> codec round trip.

The builder below is written from the protocol description (section 2c of the
reference), with absolute offsets, independently of ``datex_layout``.
"""

from __future__ import annotations

import math
import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.core.events import DeviceFlag
from monitor.core.reading import Quality, Reading, WaveChunk, make_reading
from monitor.core.vitals import SUPPLEMENTARY_WAVES, Vital
from monitor.devices.codecs.base import MAX_BUFFER_BYTES
from monitor.devices.codecs.datex import DatexS5Codec
from simulators.encoders.datex import DatexS5Encoder

T = 1_760_000_000.25
R_TIME = 1_759_999_000
FAST = settings(max_examples=200, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])

# Absolute offsets of int16 fields within the 270-byte basic class data.
HR, IMP_RR = 6, 14
NIBP_SYS, NIBP_DIA, NIBP_MEAN = 78, 80, 82
T1 = 92
SPO2, PR = 124, 126
ET, FI, CO2_RR, AMB = 138, 140, 142, 144
# Every int16 field of the basic class: the groups (6-byte header, then fields) ECG (5),
# P1..P4 and NIBP (4 each), T1..T4 (1 each), SpO2 and CO2 (4 each), O2 and N2O (2 each),
# AA (3), flow-volume (8), CO-wedge (4), NMT (3), ECG extra (3, no header), SvO2 (1),
# P5 and P6 (4 each); 2 reserved bytes end the 270.
ALL_FIELDS = [6, 8, 10, 12, 14, *(g + 6 + 2 * i for g in (16, 30, 44, 58, 72) for i in range(4)),
              92, 100, 108, 116, *(g + 6 + 2 * i for g in (118, 132) for i in range(4)),
              152, 154, 162, 164, 172, 174, 176, *range(184, 200, 2), 206, 208, 210, 212,
              220, 222, 224, 226, 228, 230, 238,
              *(g + 6 + 2 * i for g in (240, 254) for i in range(4))]
assert len(ALL_FIELDS) == len(set(ALL_FIELDS)) == 71 and max(ALL_FIELDS) == 266


# -- builder ---------------------------------------------------------------------------------


def class_data(values: dict[int, int], fill: int = -32767) -> bytes:
    buf = bytearray(270)
    for off in ALL_FIELDS:
        struct.pack_into("<h", buf, off, fill)
    for off, raw in values.items():
        struct.pack_into("<h", buf, off, raw)
    return bytes(buf)


def phdb_sub(values: dict[int, int] | bytes, cls: int = 0, sr_time: int = R_TIME) -> bytes:
    data = values if isinstance(values, bytes) else class_data(values)
    word = (cls << 8) | (9 << 4) | 1
    sub = struct.pack("<I", sr_time) + data + bytes([0, 0]) + struct.pack("<H", word)
    assert len(sub) == 278
    return sub


def record(maintype: int, subs: list[tuple[int, bytes]], r_time: int = R_TIME,
           plug_id: int = 0) -> bytes:
    descs, data = b"", b""
    for typ, body in subs:
        descs += struct.pack("<hB", len(data), typ)
        data += body
    descs += struct.pack("<hB", 0, 0xFF)
    descs = descs.ljust(24, b"\0")
    head = struct.pack("<hBBHIBBHh", 40 + len(data), 1, 9, plug_id, r_time, 0, 0, 0, maintype)
    return head + descs + data


def displayed(values: dict[int, int], **kw: int) -> bytes:
    return record(0, [(1, phdb_sub(values))], **kw)


def wave(samples: list[int], wave_id: int = 8) -> bytes:
    body = struct.pack("<hHH", len(samples), 0, 0) + struct.pack(f"<{len(samples)}h", *samples)
    return record(1, [(wave_id, body)])


def wire(rec: bytes, checksum_delta: int = 0) -> bytes:
    body = rec + bytes([(sum(rec) + checksum_delta) & 0xFF])
    out = bytearray([0x7E])
    for b in body:
        out += bytes([0x7D, b ^ 0x20]) if b in (0x7D, 0x7E) else bytes([b])
    out.append(0x7E)
    return bytes(out)


def unwire(stream: bytes) -> list[bytes]:
    """Records in a stream of frames (test-side deframer: checks the checksum)."""
    out = []
    for raw in stream.split(b"\x7e"):
        if not raw:
            continue
        body, esc = bytearray(), False
        for b in raw:
            if esc:
                body.append(b ^ 0x20)
                esc = False
            elif b == 0x7D:
                esc = True
            else:
                body.append(b)
        assert sum(body[:-1]) & 0xFF == body[-1]
        out.append(bytes(body[:-1]))
    return out


MASIMO_ONLY = (Vital.PERF_INDEX, Vital.SPCO, Vital.SPMET, Vital.SPHB, Vital.PVI,
               Vital.DESAT_INDEX, Vital.PI_DELTA)
NONIN_ONLY = (Vital.SPO2_DISPLAY, Vital.SPO2_FAST, Vital.SPO2_BEAT, Vital.SPO2_EXT,
              Vital.SPO2_EXT_DISPLAY, Vital.PR_DISPLAY, Vital.PR_EXT, Vital.PR_EXT_DISPLAY)

NORMAL = {HR: 72, NIBP_SYS: 12100, NIBP_DIA: 7900, NIBP_MEAN: 9300, T1: 3680,
          SPO2: 9750, PR: 71, ET: 500, FI: 0, CO2_RR: 14, AMB: 7600}


# -- helpers ---------------------------------------------------------------------------------


def norm(items: list) -> list[tuple]:
    """Items as comparable tuples (NaN-safe, samples by value)."""
    out = []
    for it in items:
        if isinstance(it, WaveChunk):
            out.append(("wave", it.vital, it.t0, it.rate, it.quality, it.samples.tobytes()))
        elif isinstance(it, Reading):
            value = None if math.isnan(it.value) else it.value
            out.append(("reading", it.vital, value, it.t, it.quality, it.device_time))
        else:
            out.append(it)
    return out


def readings(items: list, vital: Vital | None = None) -> list[Reading]:
    return [it for it in items if isinstance(it, Reading) and (vital is None or it.vital is vital)]


def by_vital(items: list) -> dict[Vital, Reading]:
    out = {}
    for r in readings(items):
        assert r.vital not in out, f"two {r.vital} readings"
        out[r.vital] = r
    return out


def chunks(items: list) -> list[WaveChunk]:
    return [it for it in items if isinstance(it, WaveChunk)]


def healthy(codec: DatexS5Codec) -> None:
    assert "internal_error" not in codec.stats.extra
    assert codec.buffered <= MAX_BUFFER_BYTES


# -- decoding --------------------------------------------------------------------------------


def test_displayed_values_decode() -> None:
    codec = DatexS5Codec()
    got = by_vital(codec.feed(wire(displayed(NORMAL)), T))
    expected = {Vital.HR: 72, Vital.NIBP_SYS: 121, Vital.NIBP_DIA: 79, Vital.NIBP_MEAN: 93,
                Vital.TEMP: 36.8, Vital.SPO2: 97.5, Vital.PULSE_RATE: 71,
                Vital.ETCO2: 38.0, Vital.RESP_RATE: 14,
                Vital.FICO2: 0.0, Vital.AMB_PRESS: 760.0}        # the rest of the CO2 group
    assert set(got) == set(Vital) - {Vital.PLETH, *SUPPLEMENTARY_WAVES, *MASIMO_ONLY, *NONIN_ONLY}
    for vital, value in expected.items():
        r = got[vital]
        assert r.quality is Quality.OK and r.value == pytest.approx(value, abs=1e-9), vital
    for vital in set(got) - set(expected):           # every other field holds "no data"
        assert got[vital].quality is Quality.NO_VALUE, vital
    assert all(r.t == T and r.device_time == R_TIME for r in got.values())
    assert codec.stats.frames_ok == 1 and codec.stats.frames_bad == 0
    assert codec.stats.last_frame_t == T
    healthy(codec)


def test_etco2_uses_ambient_pressure() -> None:
    # 5.00 % at 700.0 mmHg = 35.0 mmHg; 4.87 % at 760.0 mmHg = 37.012 -> 37.0 (0.1 mmHg)
    codec = DatexS5Codec()
    assert by_vital(codec.feed(wire(displayed({**NORMAL, ET: 500, AMB: 7000})), T))[
        Vital.ETCO2].value == pytest.approx(35.0)
    assert by_vital(codec.feed(wire(displayed({**NORMAL, ET: 487})), T))[
        Vital.ETCO2].value == pytest.approx(37.0)


def test_impedance_rate_when_no_co2_module() -> None:
    values = {HR: 80, IMP_RR: 18, SPO2: 9800, PR: 80}
    got = by_vital(DatexS5Codec().feed(wire(displayed(values)), T))
    assert got[Vital.RESP_RATE].value == 18 and got[Vital.RESP_RATE].valid
    assert got[Vital.ETCO2].quality is Quality.NO_VALUE
    assert Vital.NIBP_SYS not in got            # no determination on display


def test_implausible_value_is_out_of_range() -> None:
    got = by_vital(DatexS5Codec().feed(wire(displayed({**NORMAL, HR: 900})), T))
    assert got[Vital.HR].quality is Quality.OUT_OF_RANGE and math.isnan(got[Vital.HR].value)


SPECIALS = [(-32767, Quality.NO_VALUE), (-32766, Quality.NOT_UPDATED),
            (-32765, Quality.QUESTIONABLE), (-32764, Quality.OUT_OF_RANGE),
            (-32763, Quality.OUT_OF_RANGE), (-32762, Quality.QUESTIONABLE),
            (-32768, Quality.NO_VALUE), (-32002, Quality.NO_VALUE), (-32100, Quality.NO_VALUE)]
FIELD_VITAL = [(HR, Vital.HR), (T1, Vital.TEMP), (SPO2, Vital.SPO2), (PR, Vital.PULSE_RATE),
               (ET, Vital.ETCO2), (AMB, Vital.ETCO2), (CO2_RR, Vital.RESP_RATE),
               (NIBP_SYS, Vital.NIBP_SYS), (NIBP_DIA, Vital.NIBP_DIA),
               (NIBP_MEAN, Vital.NIBP_MEAN)]


@pytest.mark.parametrize(("raw", "quality"), SPECIALS)
@pytest.mark.parametrize(("offset", "vital"), FIELD_VITAL)
def test_special_values_map_to_quality(raw: int, quality: Quality, offset: int,
                                       vital: Vital) -> None:
    got = by_vital(DatexS5Codec().feed(wire(displayed({**NORMAL, offset: raw})), T))
    r = got[vital]
    assert r.quality is quality and math.isnan(r.value) and not r.valid
    assert r.device_time == R_TIME


def test_minus_32001_is_a_value() -> None:
    # only values *below* -32001 are special; -32001 itself decodes (and is implausible)
    got = by_vital(DatexS5Codec().feed(wire(displayed({**NORMAL, HR: -32001})), T))
    assert got[Vital.HR].quality is Quality.OUT_OF_RANGE


@FAST
@given(st.dictionaries(st.sampled_from([HR, T1, SPO2, PR, ET, AMB, CO2_RR, NIBP_SYS]),
                       st.integers(-32768, -32002), min_size=1))
def test_specials_never_become_numbers(specials: dict[int, int]) -> None:
    items = DatexS5Codec().feed(wire(displayed({**NORMAL, IMP_RR: -32767, **specials})), T)
    for offset, vital in FIELD_VITAL:
        if offset in specials:
            r = by_vital(items)[vital]
            assert not r.valid and math.isnan(r.value)


def test_ext_classes_are_not_read_as_basic() -> None:
    # Four subrecords (basic, ext1, ext2, ext3) at 0, 278, 556, 834: a 1152-byte record.
    # The ext class data holds values that would read as HR 77, SpO2 55.55 % ... if misread.
    bogus = class_data({HR: 77, SPO2: 5555, PR: 77, NIBP_SYS: 5000, NIBP_DIA: 4000,
                        NIBP_MEAN: 4500, T1: 2000, ET: 100, AMB: 7600, CO2_RR: 40}, fill=1234)
    subs = [(1, phdb_sub(NORMAL, 0)), (1, phdb_sub(bogus, 1)), (1, phdb_sub(bogus, 2)),
            (1, phdb_sub(bogus, 3))]
    rec = record(0, subs)
    assert len(rec) == 1152
    for order in (subs, subs[::-1], [subs[1], subs[0], subs[3], subs[2]]):
        codec = DatexS5Codec()
        got = by_vital(codec.feed(wire(record(0, order)), T))   # raises on duplicate vitals
        assert got[Vital.HR].value == 72 and got[Vital.SPO2].value == 97.5
        assert got[Vital.NIBP_SYS].value == 121
        assert codec.stats.extra == {"skipped_class_1": 1, "skipped_class_2": 1,
                                     "skipped_class_3": 1}


def test_trend_subrecords_and_other_maintypes_are_skipped() -> None:
    codec = DatexS5Codec()
    items = codec.feed(wire(record(0, [(2, phdb_sub(NORMAL)), (3, phdb_sub(NORMAL))])), T)
    items += codec.feed(wire(record(4, [(0, b"\x01" * 20)])), T)      # an alarm record
    items += codec.feed(wire(wave([100] * 30, wave_id=1)), T)          # ECG1 wave
    assert items == []
    assert codec.stats.extra == {"skipped_phdb_type_2": 1, "skipped_phdb_type_3": 1,
                                 "skipped_maintype_4": 1, "skipped_wave_1": 1}
    assert codec.stats.frames_ok == 3 and codec.stats.frames_bad == 0


def test_truncated_subrecord_is_counted_not_raised() -> None:
    rec = bytearray(displayed(NORMAL))
    struct.pack_into("<h", rec, 16, 100)          # first subrecord claims offset 100: overruns
    codec = DatexS5Codec()
    assert codec.feed(wire(bytes(rec)), T) == []
    assert codec.stats.extra == {"bad_subrecord": 1}
    healthy(codec)


def test_record_length_mismatch_is_bad() -> None:
    rec = bytearray(displayed(NORMAL))
    struct.pack_into("<h", rec, 0, len(rec) + 10)
    codec = DatexS5Codec()
    assert codec.feed(wire(bytes(rec)), T) == []
    assert codec.stats.frames_bad == 1 and codec.stats.frames_ok == 0


# -- NIBP determinations ---------------------------------------------------------------------


def nibp_of(items: list) -> tuple | None:
    got = by_vital(items)
    if Vital.NIBP_SYS not in got:
        assert Vital.NIBP_DIA not in got and Vital.NIBP_MEAN not in got
        return None
    return tuple(got[v].value if got[v].valid else got[v].quality
                 for v in (Vital.NIBP_SYS, Vital.NIBP_DIA, Vital.NIBP_MEAN))


def test_nibp_repeats_are_one_determination() -> None:
    codec = DatexS5Codec()
    no_nibp = {NIBP_SYS: -32767, NIBP_DIA: -32767, NIBP_MEAN: -32767}
    second = {NIBP_SYS: 13000, NIBP_DIA: 8500, NIBP_MEAN: 10000}
    sequence = [NORMAL] * 5 + [{**NORMAL, **second}] * 3 + [{**NORMAL, **no_nibp}] * 2 \
        + [{**NORMAL, **second}] * 2 + [NORMAL]
    got = [nibp_of(codec.feed(wire(displayed(v)), T + i * 5)) for i, v in enumerate(sequence)]
    assert got == [(121, 79, 93), None, None, None, None,
                   (130, 85, 100), None, None,
                   None, None,                    # monitor shows no NIBP: nothing emitted
                   (130, 85, 100), None,          # valid again after invalid: a determination
                   (121, 79, 93)]
    # other numerics come with every record
    assert len(readings(codec.feed(wire(displayed(NORMAL)), T), Vital.HR)) == 1


def test_nibp_partial_special_keeps_per_value_quality() -> None:
    codec = DatexS5Codec()
    got = nibp_of(codec.feed(wire(displayed({**NORMAL, NIBP_MEAN: -32766})), T))
    assert got == (121, 79, Quality.NOT_UPDATED)


# -- framing ---------------------------------------------------------------------------------


def stream_of_everything() -> bytes:
    return (wire(displayed(NORMAL)) + b"\x7e"          # an empty frame too
            + wire(wave(list(range(-300, -275))))
            + wire(displayed({**NORMAL, NIBP_SYS: 11000, HR: 0x7E7D}))
            + wire(wave([0x7E7E, 0x7D7D, -32767] * 8 + [5])))


def test_split_at_every_byte_position() -> None:
    data = stream_of_everything()
    whole = norm(DatexS5Codec().feed(data, T))
    assert len(chunks(DatexS5Codec().feed(data, T))) == 2
    for cut in range(len(data) + 1):
        codec = DatexS5Codec()
        assert norm(codec.feed(data[:cut], T) + codec.feed(data[cut:], T)) == whole, cut
        healthy(codec)


def test_byte_by_byte() -> None:
    data = stream_of_everything()
    codec = DatexS5Codec()
    items = []
    for i in range(len(data)):
        items += codec.feed(data[i:i + 1], T)
    assert norm(items) == norm(DatexS5Codec().feed(data, T))
    assert codec.stats.bytes_in == len(data) and codec.stats.frames_ok == 4


def with_checksum(target: int) -> bytes:
    """A displayed-values record whose checksum byte is ``target`` (tuned with plug_id)."""
    for plug in range(256):
        rec = displayed(NORMAL, plug_id=plug)
        if sum(rec) & 0xFF == target:
            return rec
    raise AssertionError("unreachable")


@pytest.mark.parametrize("target", [0x7E, 0x7D])
def test_stuffed_checksum_byte(target: int) -> None:
    frame = wire(with_checksum(target))
    assert frame.endswith(bytes([0x7D, target ^ 0x20, 0x7E]))
    codec = DatexS5Codec()
    assert by_vital(codec.feed(frame, T))[Vital.HR].value == 72
    assert codec.stats.frames_bad == 0


def test_stuffed_values() -> None:
    # 0x7E / 0x7D inside values: 0x7D7E = 32126 (implausible, decodes as a number),
    # 126 = 0x7E bpm, 0x007D = 125 rpm-> RR
    frame = wire(displayed({**NORMAL, HR: 126, CO2_RR: 125, T1: 0x0E7E}))
    assert frame.count(0x7D) >= 3
    got = by_vital(DatexS5Codec().feed(frame, T))
    assert got[Vital.HR].value == 126 and got[Vital.RESP_RATE].value == 125
    assert got[Vital.TEMP].value == pytest.approx(0x0E7E / 100)


def test_checksum_failure_is_dropped_and_counted() -> None:
    codec = DatexS5Codec()
    assert codec.feed(wire(displayed(NORMAL), checksum_delta=1), T) == []
    assert codec.stats.frames_bad == 1 and codec.stats.frames_ok == 0
    assert by_vital(codec.feed(wire(displayed(NORMAL)), T))[Vital.HR].value == 72
    assert codec.stats.frames_ok == 1


def test_bad_escape_is_dropped() -> None:
    codec = DatexS5Codec()
    assert codec.feed(b"\x7e" + displayed(NORMAL)[:50] + b"\x7d\x7e", T) == []
    assert codec.feed(b"\x7e\x01\x7d\x7d\x02\x7e", T) == []
    assert codec.stats.frames_bad == 2


def test_garbage_before_first_flag_is_discarded() -> None:
    codec = DatexS5Codec()
    items = codec.feed(b"\x00\x11garbage" + wire(displayed(NORMAL)), T)
    assert by_vital(items)[Vital.HR].value == 72
    assert codec.stats.bytes_discarded == 9 and codec.stats.frames_bad == 0


def test_overlong_frame_is_discarded_and_buffer_bounded() -> None:
    codec = DatexS5Codec()
    codec.feed(b"\x7e" + b"\x55" * (MAX_BUFFER_BYTES * 2), T)
    assert codec.buffered <= MAX_BUFFER_BYTES
    assert codec.stats.bytes_discarded >= MAX_BUFFER_BYTES
    for _ in range(100):
        codec.feed(b"\x00" * 1000, T)
        assert codec.buffered <= MAX_BUFFER_BYTES
    assert by_vital(codec.feed(wire(displayed(NORMAL)), T))[Vital.HR].value == 72
    healthy(codec)


@FAST
@given(st.lists(st.binary(max_size=600), max_size=12))
def test_arbitrary_bytes_never_raise(pieces: list[bytes]) -> None:
    codec = DatexS5Codec()
    for i, piece in enumerate(pieces):
        items = codec.feed(piece, T + i)
        assert isinstance(items, list)
        healthy(codec)
    assert codec.stats.bytes_in == sum(map(len, pieces))


@FAST
@given(st.lists(st.binary(max_size=400).map(lambda b: bytes(b"\x7e" + b * 4)), max_size=6),
       st.binary(max_size=300))
def test_arbitrary_frames_with_flags_never_raise(pieces: list[bytes], tail: bytes) -> None:
    codec = DatexS5Codec()
    codec.feed(b"".join(pieces) + tail + b"\x7e", T)
    healthy(codec)


raw16 = st.integers(-32768, 32767)
numerics = st.fixed_dictionaries({HR: raw16, NIBP_SYS: raw16, T1: raw16, SPO2: raw16,
                                  PR: raw16, ET: raw16, AMB: raw16, CO2_RR: raw16})
noise = st.binary(max_size=80).map(lambda b: b.replace(b"\x7e", b""))


@FAST
@given(st.lists(st.tuples(noise, numerics), min_size=1, max_size=5), noise)
def test_frames_in_noise_are_all_recovered(frames: list[tuple[bytes, dict]],
                                           trailing: bytes) -> None:
    stream = b""
    expected = []
    reference = DatexS5Codec()
    for junk, values in frames:
        frame = wire(displayed({**NORMAL, **values}))
        stream += junk + frame
        expected += norm(reference.feed(frame, T))
    stream += trailing
    codec = DatexS5Codec()
    got = norm(codec.feed(stream, T))
    assert got == expected
    assert codec.stats.frames_ok == len(frames)
    healthy(codec)


# -- waves -----------------------------------------------------------------------------------


def test_pleth_wave_decodes_with_scaling_and_specials() -> None:
    codec = DatexS5Codec()
    [chunk] = codec.feed(wire(wave([150, -150, 0, -32767, 12345])), T)
    assert chunk.vital is Vital.PLETH and chunk.rate == 100.0 and chunk.quality is Quality.OK
    np.testing.assert_allclose(chunk.samples, [1.5, -1.5, 0.0, np.nan, 123.45], rtol=1e-6)
    assert chunk.t0 == pytest.approx(T - 0.05)
    [empty] = codec.feed(wire(wave([-32767] * 10)), T + 0.1)
    assert empty.quality is Quality.NO_VALUE and np.isnan(empty.samples).all()


def test_pleth_chunks_are_contiguous_and_reanchor_after_gap() -> None:
    codec = DatexS5Codec()
    out = []
    for i in range(8):        # 25 samples every 0.25 s, arrival jitter of a few ms
        jitter = 0.004 * ((i * 7) % 5 - 2)
        out += chunks(codec.feed(wire(wave([i] * 25)), T + 0.25 * (i + 1) + jitter))
    for a, b in zip(out, out[1:], strict=False):
        assert b.t0 == pytest.approx(a.t_end, abs=1e-9)
    late = chunks(codec.feed(wire(wave([9] * 25)), out[-1].t_end + 3.0 + 0.25))
    assert late[0].t0 == pytest.approx(out[-1].t_end + 3.0)       # re-anchored: 3 s gap
    # a dropped frame re-anchors the next chunk at its arrival (never before the last end)
    codec.feed(wire(wave([1] * 25), checksum_delta=5), late[0].t_end + 0.25)
    after = chunks(codec.feed(wire(wave([2] * 25)), late[0].t_end + 0.5))
    assert after[0].t0 == pytest.approx(late[0].t_end + 0.25)


def test_burst_of_wave_records_never_goes_backwards() -> None:
    codec = DatexS5Codec()
    out = chunks(codec.feed(b"".join(wire(wave([i] * 25)) for i in range(40)), T))
    assert out[0].t0 == pytest.approx(T - 0.25)
    for a, b in zip(out, out[1:], strict=False):
        assert b.t0 == pytest.approx(a.t_end, abs=1e-9)


# -- requests --------------------------------------------------------------------------------


def test_open_and_close_requests_layout() -> None:
    codec = DatexS5Codec()
    phdb, wav = unwire(codec.open_requests())
    assert len(phdb) == 49
    r_len, _, _, _, _, _, _, _, maintype = struct.unpack_from("<hBBHIBBHh", phdb)
    assert (r_len, maintype) == (49, 0)
    assert struct.unpack_from("<hB", phdb, 16) == (0, 0)        # sr_type[0] = 0
    assert phdb[21] == 0xFF                                     # sr_type[1] ends the list
    assert struct.unpack_from("<BhIh", phdb, 40) == (1, 5, 0, 0)
    assert len(wav) == 72
    assert struct.unpack_from("<h", wav, 0)[0] == 72 and struct.unpack_from("<h", wav, 14)[0] == 1
    assert wav[18] == 0 and wav[21] == 0xFF
    assert struct.unpack_from("<hH", wav, 40) == (0, 0)
    assert wav[44] == 8 and wav[45] == 0xFF

    stop_phdb, stop_wave = unwire(codec.close_requests())
    assert struct.unpack_from("<BhIh", stop_phdb, 40) == (1, 0, 0, 0)
    assert struct.unpack_from("<h", stop_wave, 40)[0] == 1


def test_requests_are_stuffed() -> None:
    data = DatexS5Codec(interval=0x7E).open_requests()
    assert data.count(0x7E) == 4                       # only the flags
    phdb, _ = unwire(data)
    assert struct.unpack_from("<BhIh", phdb, 40) == (1, 0x7E, 0, 0)


# -- encoder round trip ----------------------------------------------------------------------


def run_encoder(encoder: DatexS5Encoder, codec: DatexS5Codec, now: float) -> list:
    return codec.feed(b"".join(encoder.due(now)), now)


def push_all(encoder: DatexS5Encoder, values: dict[Vital, float], t: float) -> None:
    for vital, value in values.items():
        encoder.push(make_reading(vital, value, t))


VALUES = {Vital.HR: 72, Vital.SPO2: 97, Vital.PULSE_RATE: 71, Vital.RESP_RATE: 14,
          Vital.ETCO2: 37, Vital.NIBP_SYS: 121, Vital.NIBP_DIA: 79, Vital.NIBP_MEAN: 93}


def test_encoder_is_silent_until_requested_and_stops_after_stop() -> None:
    encoder, codec = DatexS5Encoder(np.random.default_rng(0)), DatexS5Codec()
    push_all(encoder, VALUES, T)
    encoder.push(WaveChunk(Vital.PLETH, T, 100.0, np.zeros(100)))
    assert encoder.due(T + 1) == [] and encoder.due(T + 30) == []
    for byte in codec.open_requests():            # requests arrive split anywhere
        encoder.receive(bytes([byte]))
    items = []
    for k in range(1, 41):                        # 10 s in 0.25 s steps
        now = T + 30 + 0.25 * k
        encoder.push(WaveChunk(Vital.PLETH, now - 0.25, 100.0, np.full(25, 0.5)))
        items += run_encoder(encoder, codec, now)
    assert len(readings(items, Vital.HR)) == 3     # at once, then every 5 s: +0, +5, +10 s
    assert len(readings(items, Vital.NIBP_SYS)) == 1
    assert sum(len(c) for c in chunks(items)) == 1000
    encoder.receive(codec.close_requests())
    encoder.push(WaveChunk(Vital.PLETH, T + 40, 100.0, np.zeros(500)))
    assert encoder.due(T + 45) == [] and encoder.due(T + 100) == []
    assert codec.stats.frames_bad == 0


def test_single_shot_request() -> None:
    from monitor.devices.codecs import datex_layout as L

    encoder = DatexS5Encoder(np.random.default_rng(0))
    push_all(encoder, VALUES, T)
    encoder.receive(L.frame(L.phdb_request(L.INTERVAL_SINGLE)))
    assert len(encoder.due(T + 1)) == 1
    assert encoder.due(T + 100) == []


@FAST
@given(hr=st.integers(20, 250), spo2=st.integers(5000, 10000), pr=st.integers(20, 250),
       rr=st.integers(0, 60), etco2=st.integers(0, 100), temp=st.integers(3000, 4200),
       sys=st.integers(8000, 25000), dia=st.integers(4000, 7900), mean=st.integers(5000, 8000),
       pleth=st.lists(st.floats(-2.0, 2.0), min_size=25, max_size=100), seed=st.integers(0, 99))
def test_round_trip_exact_to_resolution(hr: int, spo2: int, pr: int, rr: int, etco2: int,
                                        temp: int, sys: int, dia: int, mean: int,
                                        pleth: list[float], seed: int) -> None:
    encoder, codec = DatexS5Encoder(np.random.default_rng(seed)), DatexS5Codec()
    encoder.receive(codec.open_requests())
    pushed = {Vital.HR: hr, Vital.SPO2: spo2 / 100, Vital.PULSE_RATE: pr, Vital.RESP_RATE: rr,
              Vital.ETCO2: etco2, Vital.TEMP: temp / 100, Vital.NIBP_SYS: sys / 100,
              Vital.NIBP_DIA: dia / 100, Vital.NIBP_MEAN: mean / 100}
    push_all(encoder, pushed, T)
    encoder.push(WaveChunk(Vital.PLETH, T, 100.0, np.array(pleth)))
    items = run_encoder(encoder, codec, T + 1)
    got = by_vital(items)
    for vital, value in pushed.items():
        assert got[vital].quality is Quality.OK, vital
        assert got[vital].value == pytest.approx(value, abs=1e-9), vital
        assert got[vital].device_time is not None
    samples = np.concatenate([c.samples for c in chunks(items)])
    n = len(pleth) // 25 * 25
    pushed_pleth = np.array(pleth[:n], dtype=np.float32)       # as the WaveChunk holds them
    assert np.abs(samples - pushed_pleth).max(initial=0.0) <= 0.005 + 1e-6   # half of 0.01


def test_encoder_repeats_nibp_and_codec_logs_each_determination_once() -> None:
    encoder, codec = DatexS5Encoder(np.random.default_rng(1)), DatexS5Codec(interval=5)
    encoder.receive(codec.open_requests())
    push_all(encoder, VALUES, T)
    got = []
    for k in range(1, 61):
        if k == 30:
            push_all(encoder, {Vital.NIBP_SYS: 140, Vital.NIBP_DIA: 90, Vital.NIBP_MEAN: 107},
                     T + k)
        got += [r.value for r in readings(run_encoder(encoder, codec, T + k), Vital.NIBP_SYS)]
    assert got == [121, 140]


def test_encoder_sensor_off_and_no_capnography() -> None:
    encoder, codec = DatexS5Encoder(np.random.default_rng(2)), DatexS5Codec()
    encoder.receive(codec.open_requests())
    push_all(encoder, {Vital.HR: 70, Vital.SPO2: 98, Vital.PULSE_RATE: 70,
                       Vital.RESP_RATE: 12}, T)
    encoder.sensor_off = True
    encoder.push(WaveChunk(Vital.PLETH, T, 100.0, np.ones(50)))
    items = run_encoder(encoder, codec, T + 1)
    got = by_vital(items)
    assert got[Vital.SPO2].quality is Quality.NO_VALUE
    assert got[Vital.PULSE_RATE].quality is Quality.NO_VALUE
    assert got[Vital.HR].value == 70                          # ECG unaffected
    assert got[Vital.RESP_RATE].value == 12                   # impedance respiration
    assert got[Vital.ETCO2].quality is Quality.NO_VALUE
    assert got[Vital.TEMP].value == pytest.approx(36.8)
    assert all(c.quality is Quality.NO_VALUE for c in chunks(items))
    assert not any(isinstance(it, DeviceFlag) for it in items)


def test_encoder_sensor_off_readings_from_the_scenario() -> None:
    encoder, codec = DatexS5Encoder(np.random.default_rng(2)), DatexS5Codec()
    encoder.receive(codec.open_requests())
    push_all(encoder, VALUES, T)
    encoder.push(Reading.invalid(Vital.SPO2, T + 0.5, Quality.SENSOR_OFF))
    got = by_vital(run_encoder(encoder, codec, T + 1))
    assert got[Vital.SPO2].quality is Quality.NO_VALUE and got[Vital.PULSE_RATE].valid


def test_encoder_ext_classes_requested_are_skipped_by_codec() -> None:
    from monitor.devices.codecs import datex_layout as L

    encoder, codec = DatexS5Encoder(np.random.default_rng(3)), DatexS5Codec()
    encoder.receive(L.frame(L.phdb_request(5, 0x2 | 0x4 | 0x8)))
    push_all(encoder, VALUES, T)
    [frame] = encoder.due(T + 1)
    assert len(unwire(frame)[0]) == 1152
    got = by_vital(codec.feed(frame, T + 1))
    assert got[Vital.HR].value == 72
    assert codec.stats.extra == {"skipped_class_1": 1, "skipped_class_2": 1,
                                 "skipped_class_3": 1}


def test_encoder_corrupt_frames_are_dropped() -> None:
    encoder, codec = DatexS5Encoder(np.random.default_rng(4)), DatexS5Codec()
    encoder.receive(codec.open_requests())
    push_all(encoder, VALUES, T)
    frames = encoder.due(T + 1)
    assert codec.feed(b"".join(encoder.corrupt(f) for f in frames), T + 1) == []
    assert codec.stats.frames_bad == len(frames) and codec.stats.frames_ok == 0
    assert by_vital(codec.feed(b"".join(frames), T + 1))[Vital.HR].value == 72


# -- frames that are not exactly as documented (issue 11, point 3) -----------------------------

EXPECTED_NORMAL = {Vital.HR: 72, Vital.NIBP_SYS: 121, Vital.NIBP_DIA: 79, Vital.NIBP_MEAN: 93,
                   Vital.TEMP: 36.8, Vital.SPO2: 97.5, Vital.PULSE_RATE: 71, Vital.ETCO2: 38.0,
                   Vital.RESP_RATE: 14, Vital.FICO2: 0.0, Vital.AMB_PRESS: 760.0}


def false_values(items: list) -> list[Reading]:
    """Valid readings with a value the record did not carry."""
    return [r for r in readings(items) if r.valid
            and r.value != pytest.approx(EXPECTED_NORMAL.get(r.vital, math.nan), abs=1e-9)]


def test_a_doubled_zero_byte_keeps_the_checksum_but_is_never_a_sample() -> None:
    # A doubled (or lost) 0x00 leaves the 8-bit sum unchanged: only the record length
    # shows the damage. Doubled in a wave subrecord's header, every sample after it is
    # read one byte off (100 -> 256.0).
    samples = [100 + 7 * i for i in range(20)]
    rec = wave(samples)
    at = 40 + 2                                   # the wave header's status word: zero
    assert rec[at] == 0
    codec = DatexS5Codec()
    items = codec.feed(wire(rec[:at] + b"\x00" + rec[at:]), T)
    assert chunks(items) == []
    assert codec.stats.frames_bad == 1 and codec.stats.frames_ok == 0
    [chunk] = chunks(codec.feed(wire(rec), T))                       # and it recovers
    np.testing.assert_allclose(chunk.samples, np.array(samples) * 0.01, rtol=1e-6)


def test_a_doubled_zero_byte_in_displayed_values_is_never_a_value() -> None:
    rec = displayed(NORMAL)
    at = 40 + 4 + 118 + 1                     # a zero byte of the SpO2 group's status word
    assert rec[at] == 0
    codec = DatexS5Codec()
    items = codec.feed(wire(rec[:at] + b"\x00" + rec[at:]), T)
    assert readings(items) == []
    assert codec.stats.frames_bad == 1 and codec.stats.frames_ok == 0


@pytest.mark.parametrize("mutation", ["drop", "duplicate"])
def test_a_lost_or_doubled_zero_byte_anywhere_never_gives_a_false_value(mutation: str) -> None:
    rec = displayed(NORMAL)
    zeros = [i for i, b in enumerate(rec) if b == 0]
    assert len(zeros) > 100
    for i in zeros:
        damaged = rec[:i] + rec[i + 1:] if mutation == "drop" else rec[:i + 1] + rec[i:]
        codec = DatexS5Codec()
        assert false_values(codec.feed(wire(damaged), T)) == [], i
    samples = [100 + 7 * i for i in range(20)]
    rec = wave(samples)
    for i in (i for i, b in enumerate(rec) if b == 0):
        damaged = rec[:i] + rec[i + 1:] if mutation == "drop" else rec[:i + 1] + rec[i:]
        for chunk in chunks(DatexS5Codec().feed(wire(damaged), T)):
            got = chunk.samples[np.isfinite(chunk.samples)]
            assert np.isin(np.round(got * 100).astype(int), samples).all(), i


def test_record_shorter_than_its_frame_is_bad() -> None:
    codec = DatexS5Codec()
    assert codec.feed(wire(displayed(NORMAL) + b"\x00"), T) == []
    assert codec.stats.frames_bad == 1 and codec.stats.frames_ok == 0


def test_record_longer_than_the_protocol_allows_is_bad() -> None:
    rec = record(0, [(1, phdb_sub(NORMAL))] * 6)              # 40 + 6 x 278 = 1708 > 1490
    codec = DatexS5Codec()
    assert codec.feed(wire(rec), T) == []
    assert codec.stats.frames_bad == 1


def test_an_escape_other_than_the_two_documented_is_bad() -> None:
    rec = displayed(NORMAL)
    body = rec + bytes([sum(rec) & 0xFF])
    i = body.index(72)                                        # the HR byte, escaped needlessly
    frame = b"\x7e" + body[:i].replace(b"\x7d", b"\x7d\x5d").replace(b"\x7e", b"\x7d\x5e") + \
        bytes([0x7D, 72 ^ 0x20]) + \
        body[i + 1:].replace(b"\x7d", b"\x7d\x5d").replace(b"\x7e", b"\x7d\x5e") + b"\x7e"
    codec = DatexS5Codec()
    assert codec.feed(frame, T) == []
    assert codec.stats.frames_bad == 1


def test_a_subrecord_whose_subtype_is_not_displayed_values_is_skipped() -> None:
    sub = bytearray(phdb_sub(NORMAL))
    struct.pack_into("<H", sub, 276, (0 << 8) | (9 << 4) | 2)    # subtype 2 under sr_type 1
    codec = DatexS5Codec()
    assert codec.feed(wire(record(0, [(1, bytes(sub))])), T) == []
    assert codec.stats.extra == {"bad_subrecord": 1}
