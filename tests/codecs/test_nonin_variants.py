"""Nonin Data Format #2: every numeric of the packet, not only the 4-beat SpO2 and pulse rate.

Packets come from the byte-level builder in ``test_nonin`` (written from section 2b of
the reference: frame k's FLOAT byte carries item k), with single frames overridden here.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.core.reading import Quality, Reading, make_reading
from monitor.core.vitals import Vital
from monitor.devices.codecs.nonin import Nonin2Codec
from simulators.encoders.nonin import Nonin2Encoder
from tests.codecs.test_nonin import (
    ARTF,
    FAST,
    GREEN,
    OOT,
    SNSA,
    SNSD,
    T,
    confirmed,
    packet,
    per_packet,
)

# SpO2 items: frame -> vital.  Pulse-rate items: (MSB frame, LSB frame) -> vital.
SPO2_FRAMES = {2: Vital.SPO2, 8: Vital.SPO2_DISPLAY, 9: Vital.SPO2_FAST, 10: Vital.SPO2_BEAT,
               15: Vital.SPO2_EXT, 16: Vital.SPO2_EXT_DISPLAY}
PR_FRAMES = {(0, 1): Vital.PULSE_RATE, (13, 14): Vital.PR_EXT, (19, 20): Vital.PR_DISPLAY,
             (21, 22): Vital.PR_EXT_DISPLAY}


def hr_bytes(msb_frame: int, hr: int) -> dict[int, int]:
    """FLOAT bytes of a 9-bit heart rate: MSB frame bits 1..0 = HR bits 8..7, LSB bits 6..0."""
    return {msb_frame: (hr >> 7) & 0x03, msb_frame + 1: hr & 0x7F}


DISTINCT = {
    2: 97, 8: 96, 9: 95, 10: 91, 15: 94, 16: 93,
    **hr_bytes(0, 72), **hr_bytes(13, 140), **hr_bytes(19, 300), **hr_bytes(21, 65),
    3: 0x2B,                                # firmware revision
    5: 0x12, 6: 0x34, 7: 0x01,              # timer and STAT2: not numerics of the patient
}
EXPECTED = {Vital.SPO2: 97, Vital.SPO2_DISPLAY: 96, Vital.SPO2_FAST: 95, Vital.SPO2_BEAT: 91,
            Vital.SPO2_EXT: 94, Vital.SPO2_EXT_DISPLAY: 93, Vital.PULSE_RATE: 72,
            Vital.PR_EXT: 140, Vital.PR_DISPLAY: 300, Vital.PR_EXT_DISPLAY: 65}


def test_every_variant_is_read_from_its_own_frame() -> None:
    codec = Nonin2Codec()
    assert codec.firmware_revision is None
    items = codec.feed(confirmed(packet(floats_at=DISTINCT)), T)
    [got] = per_packet(items)
    assert got == EXPECTED
    assert all(r.t == T and r.quality is Quality.OK for r in items if isinstance(r, Reading))
    assert codec.firmware_revision == 0x2B


@pytest.mark.parametrize("frame", sorted(SPO2_FRAMES))
def test_spo2_127_is_no_value_in_its_slot_only(frame: int) -> None:
    [got] = per_packet(Nonin2Codec().feed(confirmed(packet(floats_at={**DISTINCT, frame: 127})), T))
    vital = SPO2_FRAMES[frame]
    assert got[vital] is Quality.NO_VALUE
    assert {v: x for v, x in got.items() if v is not vital} == {
        v: x for v, x in EXPECTED.items() if v is not vital}


@pytest.mark.parametrize("frames", sorted(PR_FRAMES))
def test_hr_511_is_no_value_in_its_slot_only(frames: tuple[int, int]) -> None:
    data = packet(floats_at={**DISTINCT, **hr_bytes(frames[0], 511)})
    [got] = per_packet(Nonin2Codec().feed(confirmed(data), T))
    vital = PR_FRAMES[frames]
    assert got[vital] is Quality.NO_VALUE
    assert {v: x for v, x in got.items() if v is not vital} == {
        v: x for v, x in EXPECTED.items() if v is not vital}


def test_variant_bytes_are_masked_and_implausible_values_rejected() -> None:
    floats = {**DISTINCT,
              9: 0x80 | 95,                                # SpO2 fast: bit 7 is not data
              13: 0xFC | 1, 14: 0x80 | 12,                # E-HR 140: only bits 1..0 / 6..0
              10: 120,                                     # beat-to-beat 120 %: impossible
              **hr_bytes(21, 400)}                         # E-HR-D 400 bpm: impossible
    [got] = per_packet(Nonin2Codec().feed(confirmed(packet(floats_at=floats)), T))
    assert got[Vital.SPO2_FAST] == 95 and got[Vital.PR_EXT] == 140
    assert got[Vital.SPO2_BEAT] is Quality.OUT_OF_RANGE
    assert got[Vital.PR_EXT_DISPLAY] is Quality.OUT_OF_RANGE


@pytest.mark.parametrize(("bit", "quality"), [(SNSD, Quality.SENSOR_OFF),
                                               (SNSA, Quality.NO_VALUE),
                                               (ARTF, Quality.ARTIFACT),
                                               (OOT, Quality.QUESTIONABLE)])
def test_status_quality_applies_to_every_variant(bit: int, quality: Quality) -> None:
    # The display variants may still hold numbers (the device keeps them 10 s after the
    # probe comes off): they must not come out as values either.
    data = packet(floats_at=DISTINCT, frame_status={12: GREEN | bit})
    [got] = per_packet(Nonin2Codec().feed(confirmed(data), T))
    assert got == dict.fromkeys(EXPECTED, quality)


def test_firmware_revision_follows_the_latest_packet() -> None:
    codec = Nonin2Codec()
    codec.feed(confirmed(packet(floats_at={3: 0x10})), T)
    codec.feed(packet(floats_at={3: 0x11})[5:60], T)          # incomplete: not taken
    assert codec.firmware_revision == 0x10
    codec.feed(confirmed(packet(floats_at={3: 0x12})), T)
    assert codec.firmware_revision == 0x12


# -- encoder round trip ----------------------------------------------------------------------


def run(encoder: Nonin2Encoder, seconds: float = 1.0) -> list[dict]:
    codec = Nonin2Codec()
    # ... and the next packet's SYNC frame, which confirms the last one
    items = codec.feed(b"".join(encoder.due(T) + encoder.due(T + seconds)), T + seconds)
    assert codec.stats.frames_bad == 0
    return per_packet(items)


def test_encoder_fills_every_variant_with_the_scenario_values() -> None:
    encoder = Nonin2Encoder(np.random.default_rng(0))
    encoder.push(make_reading(Vital.PULSE_RATE, 88, T))
    encoder.push(make_reading(Vital.SPO2, 94, T))
    got = run(encoder)
    assert len(got) == 3
    for p in got:
        assert {v: x for v, x in p.items() if "spo2" in v.value} == dict.fromkeys(
            (Vital.SPO2, Vital.SPO2_DISPLAY, Vital.SPO2_FAST, Vital.SPO2_BEAT, Vital.SPO2_EXT,
             Vital.SPO2_EXT_DISPLAY), 94)
        assert {v: x for v, x in p.items() if "spo2" not in v.value} == dict.fromkeys(
            (Vital.PULSE_RATE, Vital.PR_DISPLAY, Vital.PR_EXT, Vital.PR_EXT_DISPLAY), 88)


@FAST
@given(st.fixed_dictionaries({v: st.integers(0, 100) for v in SPO2_FRAMES.values()}),
       st.fixed_dictionaries({v: st.integers(15, 300) for v in PR_FRAMES.values()}))
def test_round_trip_of_pushed_variants(spo2s: dict[Vital, int], prs: dict[Vital, int]) -> None:
    encoder = Nonin2Encoder(np.random.default_rng(1))
    for vital, value in {**spo2s, **prs}.items():
        encoder.push(make_reading(vital, value, T))
    assert run(encoder) == [{**prs, **spo2s}] * 3


def test_encoder_invalid_variant_and_sensor_off() -> None:
    encoder = Nonin2Encoder(np.random.default_rng(2))
    encoder.push(make_reading(Vital.PULSE_RATE, 70, T))
    encoder.push(make_reading(Vital.SPO2, 98, T))
    encoder.push(Reading.invalid(Vital.SPO2_BEAT, T, Quality.NO_VALUE))
    encoder.push(Reading.invalid(Vital.PR_EXT, T, Quality.NO_VALUE))
    [first, *_] = run(encoder)
    assert first[Vital.SPO2_BEAT] is Quality.NO_VALUE and first[Vital.PR_EXT] is Quality.NO_VALUE
    assert first[Vital.SPO2_FAST] == 98 and first[Vital.PR_DISPLAY] == 70
    encoder.sensor_off = True
    frames = encoder.due(T + 2)
    codec = Nonin2Codec()
    got = per_packet(codec.feed(b"".join(frames), T + 2))
    assert got and all(p == dict.fromkeys(EXPECTED, Quality.SENSOR_OFF) for p in got)
    assert codec.firmware_revision is not None
