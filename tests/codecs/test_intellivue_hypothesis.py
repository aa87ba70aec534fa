"""Philips IntelliVue codecs under generated input: garbage, noise around frames, any FLOAT-Type.

Messages come from :mod:`tests.intellivue_guide` (written from the guide, not from
the codec). What is achievable, and so asserted:

- **Any bytes** (MIB and LAN): never an exception, only the codec's item types,
  and the unparsed bytes held stay bounded whatever arrives.
- **MIB frames in noise free of 0xC0, 0xC1 and 0x7D**: every frame is recovered,
  giving exactly the items of the clean stream.
- **MIB frames in any noise** (reserved bytes included) are all recovered too,
  provided a noise run does not end with 0x7D right before a frame's BOF. The
  transparency rule means a BOF never occurs inside a frame, so a receiver can
  start a new frame at every BOF, whatever came before (an unterminated frame, a
  lone EOF, a frame abort 0x7D 0xC1, a bad FCS). ``7D C0`` is the one ambiguous
  pair: it is not a valid escape, but a receiver that un-escapes blindly would
  swallow the BOF, so the test does not demand a choice there.
- **LAN**: a stream of datagrams is delimited only by each message's own length
  fields, so noise that begins like a message (0xE1, a session header type, the
  Connect Indication's 0x00) may swallow what follows; noise free of those bytes
  is skipped and every message after it recovered.
"""

from __future__ import annotations

import itertools
import math
import tracemalloc

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.core.events import DeviceFlag
from monitor.core.reading import DeviceNumeric, Quality, Reading, WaveChunk
from monitor.core.vitals import SPECS, Vital
from monitor.devices.codecs.base import MAX_BUFFER_BYTES
from tests import intellivue_guide as g
from tests.codecs.test_intellivue_guide import (
    T0,
    fresh,
    hr,
    make_codec,
    norm,
    pleth_kw,
    values,
    vital_numerics,
    wire,
)

FAST = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
ITEM_TYPES = (Reading, WaveChunk, DeviceFlag, DeviceNumeric)
RESERVED = {g.BOF, g.EOF, g.ESC}
LAN_STARTS = {0xE1, 0x00, g.CN_SPDU_SI, g.AC_SPDU_SI, g.RF_SPDU_SI, g.FN_SPDU_SI,
              g.DN_SPDU_SI, g.AB_SPDU_SI}

biased_bytes = st.lists(st.one_of(st.integers(0, 255), st.sampled_from(sorted(RESERVED)),
                                  st.sampled_from([0x11, 0x01, 0xE1, 0x00])),
                        max_size=400).map(bytes)


def messages() -> st.SearchStrategy[list[bytes]]:
    """Monitor messages with generated values: numerics, waves, alarms.

    Each message has its own relative time, 256 ms after the previous one, as a
    monitor's results have (a repeated wave period is another question, asked in
    ``test_intellivue_guide``).
    """
    heart = st.integers(20, 250).map(lambda v: lambda rel: g.poll_result([hr(v)], rel_time=rel))
    full = st.just(lambda rel: g.poll_result(vital_numerics(rel), rel_time=rel))
    wave = st.lists(st.integers(0, 4095), min_size=1, max_size=64).map(
        lambda samples: lambda rel: g.poll_result([g.wave(0x200, samples, **pleth_kw())],
                                                  obj_code=g.NOM_MOC_VMO_METRIC_SA_RT,
                                                  rel_time=rel))
    alarm = st.booleans().map(lambda on: lambda rel: g.poll_result([g.alert_monitor(
        0x100, technical=[g.Alarm(g.NOM_PULS_OXIM_SAT_O2, g.NOM_EVT_SENSOR_DISCONN,
                                  g.MED_PRI_T_AL, "SpO2 SENSOR OFF")] if on else [])],
        obj_code=g.NOM_MOC_VMO_AL_MON, rel_time=rel))
    return st.lists(st.one_of(heart, full, wave, alarm), min_size=1, max_size=5).map(
        lambda makers: [m(300000 + 2048 * i) for i, m in enumerate(makers)])


def chunked(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    return [data[a:b] for a, b in itertools.pairwise(points)]


@pytest.fixture(params=["mib", "lan"])
def variant(request: pytest.FixtureRequest) -> str:
    return request.param


@FAST
@given(chunks=st.lists(biased_bytes, max_size=8))
def test_arbitrary_bytes_never_raise(variant: str, chunks: list[bytes]) -> None:
    for c in (make_codec(variant), fresh(variant)):
        for i, chunk in enumerate(chunks):
            items = c.feed(chunk, T0 + i)
            assert all(isinstance(it, ITEM_TYPES) for it in items)
            for it in items:
                if isinstance(it, Reading) and not it.quality.has_value:
                    assert math.isnan(it.value)
            c.tick(T0 + i + 0.5)
        s = c.stats
        assert min(s.frames_ok, s.frames_bad, s.bytes_discarded) >= 0


def test_garbage_never_holds_unbounded_memory(variant: str) -> None:
    rng = np.random.default_rng(14)
    pool = np.array([g.BOF, g.EOF, g.ESC, 0x11, 0x01, 0xE1, 0x00, 0xFF], dtype=np.uint8)
    chunks = []
    for i in range(48):                        # 768 KiB, 12 x MAX_BUFFER_BYTES
        arr = rng.integers(0, 256, 16384, dtype=np.uint8)
        mask = rng.random(arr.size) < 0.2
        arr[mask] = rng.choice(pool, int(mask.sum()))
        if i % 8 == 0:                         # a frame that never ends
            arr = np.concatenate(([g.BOF], arr[(arr != g.BOF) & (arr != g.EOF)]))
        chunks.append(arr.astype(np.uint8).tobytes())
    c = fresh(variant)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for i, chunk in enumerate(chunks):
            c.feed(chunk, T0 + i)
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert held < 4 * MAX_BUFFER_BYTES, held
    # A LAN message is delimited by its own length (at most 65535 + 8 bytes): bytes that
    # no message starts with flush whatever the garbage left pending.
    flush = b"\x20" * 65600 if variant == "lan" else b""
    assert values(c.feed(flush + wire(g.poll_result([hr(64)]), variant), T0 + 99),
                  Vital.HR) == [64]


def _noise(reserved_ok: bool) -> st.SearchStrategy[bytes]:
    if not reserved_ok:
        return st.binary(max_size=60).map(lambda b: bytes(x for x in b if x not in RESERVED))
    return st.lists(st.one_of(st.integers(0, 255), st.sampled_from(sorted(RESERVED))),
                    max_size=60).map(bytes).filter(lambda b: not b.endswith(bytes([g.ESC])))


@pytest.mark.parametrize("reserved_ok", [False, True], ids=["clean_noise", "any_noise"])
@FAST
@given(data=st.data())
def test_frames_embedded_in_noise_are_all_recovered(reserved_ok: bool, data: st.DataObject
                                                    ) -> None:
    msgs = data.draw(messages())
    noise = data.draw(st.lists(_noise(reserved_ok), min_size=len(msgs) + 1,
                               max_size=len(msgs) + 1))
    cuts = data.draw(st.lists(st.integers(0, 10**6), max_size=6))
    frames = [g.frame(m) for m in msgs]
    clean = fresh().feed(b"".join(frames), T0 + 1)
    stream = noise[0] + b"".join(f + n for f, n in zip(frames, noise[1:], strict=True))
    c = fresh()
    got = [it for part in chunked(stream, cuts) for it in c.feed(part, T0 + 1)]
    assert norm(got) == norm(clean)
    assert c.stats.frames_ok >= len(frames)


@FAST
@given(data=st.data())
def test_lan_messages_after_noise_are_recovered(data: st.DataObject) -> None:
    msgs = data.draw(messages())
    noise = data.draw(st.lists(
        st.binary(max_size=40).map(lambda b: bytes(x for x in b if x not in LAN_STARTS)),
        min_size=len(msgs) + 1, max_size=len(msgs) + 1))
    cuts = data.draw(st.lists(st.integers(0, 10**6), max_size=6))
    clean = fresh("lan").feed(b"".join(msgs), T0 + 1)
    stream = noise[0] + b"".join(m + n for m, n in zip(msgs, noise[1:], strict=True))
    c = fresh("lan")
    got = [it for part in chunked(stream, cuts) for it in c.feed(part, T0 + 1)]
    assert norm(got) == norm(clean)


@FAST
@given(mantissa=st.integers(-0x800000, 0x7FFFFF), exponent=st.integers(-4, 3))
def test_any_float_type_is_decoded_exactly_or_not_at_all(mantissa: int, exponent: int) -> None:
    c = fresh()
    [r] = [i for i in c.feed(g.frame(g.poll_result([hr((mantissa, exponent))])), T0 + 1)
           if isinstance(i, Reading) and i.vital == Vital.HR]
    special = mantissa in (g.FLOAT_NAN, g.FLOAT_NRES, g.FLOAT_PINF, g.FLOAT_NINF)
    value = mantissa * 10.0 ** exponent
    if special or not SPECS[Vital.HR].is_plausible(value):
        assert math.isnan(r.value) and not r.quality.has_value
    else:
        assert r.quality == Quality.OK
        assert r.value == pytest.approx(value, rel=1e-9, abs=1e-9)


@FAST
@given(state=st.integers(0, 0xFFFF))
def test_a_value_is_shown_only_in_a_state_that_allows_it(state: int) -> None:
    c = fresh()
    [r] = [i for i in c.feed(g.frame(g.poll_result([hr(77, state=state)])), T0 + 1)
           if isinstance(i, Reading) and i.vital == Vital.HR]
    # 0x0300: bits of the first octet the guide leaves undefined, so not "valid".
    bad = g.INVALID | g.QUESTIONABLE | g.UNAVAILABLE | g.CALIBRATION_ONGOING | 0x0300
    if state & bad:
        assert math.isnan(r.value) and not r.quality.has_value
    else:
        assert r.value == 77
        # "valid if the first octet of the state is all 0"; test or demo data is marked.
        assert r.quality == (Quality.DEMO if state & (g.TEST_DATA | g.DEMO_DATA) else Quality.OK)

