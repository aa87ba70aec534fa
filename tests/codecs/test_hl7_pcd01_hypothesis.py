"""The HL7 PCD-01 codec under generated input: any bytes, garbage between MLLP frames, any cut.

Messages come from :mod:`tests.hl7_ihe` (written from the IHE PCD TF vol. 2 and HL7 v2.6,
not from the codec). What is achievable, and so asserted:

- **Any bytes**, on any channel: never an exception, only the codec's item types, every
  reply MLLP-framed, and the memory the codec holds stays bounded (the contract's 1 MiB
  per message) whatever arrives.
- **Garbage between frames** without a start block (0x0B): every message is recovered,
  giving exactly the values of the clean stream, and every message is acknowledged
  (MSA-2 = its MSH-10).
- **Any garbage between frames**: 0x0B never occurs inside an HL7 message (it is a control
  character, and MLLP's start block), so a receiver restarts a frame at every start block
  whatever came before (an unterminated frame, a lone end block, noise). Every message
  after the garbage is recovered as well.
- **Any cut** of a valid stream into pieces decodes to the same values as the whole.
- **Generated values, times and offsets** come back as sent.
"""

from __future__ import annotations

import tracemalloc
from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.core.events import DeviceFlag
from monitor.core.reading import DeviceNumeric, Reading, WaveChunk
from monitor.core.vitals import Vital
from monitor.devices.codecs.hl7_pcd01 import Hl7Pcd01Codec
from tests import hl7_ihe as h
from tests.hl7_ihe import Message

FAST = settings(max_examples=120, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
ITEM_TYPES = (Reading, WaveChunk, DeviceFlag, DeviceNumeric)
T0 = 1_765_000_000.0
MAX_MESSAGE = 1 << 20

biased_bytes = st.lists(st.one_of(st.integers(0, 255), st.sampled_from([0x0B, 0x1C, 0x0D]),
                                  st.sampled_from(list(b"MSH|^~\\&OBX"))),
                        max_size=300).map(bytes)
no_start = biased_bytes.map(lambda b: b.replace(b"\x0b", b""))


def valued(items: list) -> list[tuple[str, float, float | None]]:
    return sorted((str(x.vital), round(x.value, 6), x.device_time) for x in items
                  if isinstance(x, Reading) and x.quality.has_value)


def acked(replies: list[bytes]) -> list[str]:
    """MSA-2 of each framed reply (split by the reply's own separators)."""
    out = []
    for r in replies:
        assert r.startswith(h.START_BLOCK) and r.endswith(h.END_BLOCK)
        text = r[1:-2].decode("utf-8", "replace")
        fs = text[3]
        msa = next(s for s in text.replace("\n", "\r").split("\r") if s.startswith("MSA"))
        out.append(msa.split(fs)[2])
    return out


@st.composite
def messages(draw: st.DrawFn) -> Message:
    """A vitals or NIBP message with generated values, times, offsets and separators."""
    n = draw(st.integers(0, 10**6))
    when = T0 - draw(st.integers(0, 86_400))
    offset = draw(st.sampled_from([0, 60, -300, 330, -600, None]))
    stamp = h.hl7_time(when, offset, fraction=draw(st.booleans()))
    sep = draw(st.sampled_from([h.Separators(), h.Separators("#", "$", "~", "\\", "&"),
                                h.Separators("!", "@", "*", "/", "%")]))
    if draw(st.booleans()):
        obx = h.vitals_obx(hr=draw(st.integers(30, 220)), pr=draw(st.integers(30, 220)),
                           spo2=draw(st.integers(50, 100)), rr=draw(st.integers(4, 60)),
                           etco2=draw(st.integers(5, 80)),
                           temp=draw(st.integers(340, 420)) / 10, time=stamp)
    else:
        sys_ = draw(st.integers(70, 230))
        obx = h.nibp_obx(sys_, sys_ - draw(st.integers(20, 60)), sys_ - 15, time=stamp)
    accept, app = draw(st.sampled_from([("", ""), ("NE", "AL"), ("AL", "NE")]))
    return Message(control_id=f"H{n}", obx=obx, sep=sep, accept_ack=accept, app_ack=app)


def clean(msgs: list[Message]) -> list[Message]:
    """Distinct control ids and NIBP times, so the clean stream emits every message."""
    out = []
    for i, m in enumerate(msgs):
        obx = tuple(o if o.time is None else replace(o, time=_shift(o.time, i)) for o in m.obx)
        out.append(m.with_(control_id=f"{m.control_id}-{i}", obx=obx))
    return out


def _shift(stamp: str, i: int) -> str:
    # one minute per position: each NIBP determination is new
    return h.hl7_time(h.parse_dtm(stamp) - 60 * i, 0)


def decode(data_pieces: list[bytes]) -> tuple[list, list[bytes], Hl7Pcd01Codec]:
    codec = Hl7Pcd01Codec()
    items: list = []
    for k, piece in enumerate(data_pieces):
        items += codec.feed_channel(0, piece, T0 + k * 1e-3)
    return items, codec.replies(0), codec


def expected_acks(msgs: list[Message]) -> list[str]:
    """Every generated message asks for exactly one acknowledgement (AA or CA)."""
    return [m.control_id for m in msgs]


@FAST
@given(st.lists(biased_bytes, max_size=8), st.integers(0, 3))
def test_any_bytes_never_raise(chunks: list[bytes], channel: int) -> None:
    codec = Hl7Pcd01Codec(bed=None)
    for k, c in enumerate(chunks):
        out = codec.feed_channel(channel, c, T0 + k)
        assert all(isinstance(x, ITEM_TYPES) for x in out)
    for r in codec.replies(channel):
        assert r.startswith(h.START_BLOCK) and r.endswith(h.END_BLOCK)
    codec.close_channel(channel)
    assert isinstance(codec.link_state, str)


@settings(max_examples=10, deadline=None)
@given(st.binary(min_size=1, max_size=4096), st.booleans())
def test_any_bytes_memory_bounded(noise: bytes, framed: bool) -> None:
    codec = Hl7Pcd01Codec()
    body = noise.replace(b"\x1c", b"")
    body = body * (1 + (1 << 13) // max(1, len(body)))     # about 8 KiB per feed
    piece = (h.START_BLOCK + b"MSH|^~\\&|X||||||ORU^R01|M1|P|2.6\r" if framed else b"") + body
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        fed = 0
        while fed < 3 * MAX_MESSAGE:
            codec.feed_channel(0, piece, T0)
            fed += len(piece)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert peak < 4 * MAX_MESSAGE, peak


@FAST
@given(st.lists(messages(), min_size=1, max_size=4), st.lists(no_start, min_size=5,
                                                               max_size=5))
def test_messages_in_garbage_without_start_blocks_all_recovered(
        msgs: list[Message], garbage: list[bytes]) -> None:
    msgs = clean(msgs)
    whole, whole_acks, _ = decode([b"".join(m.frame() for m in msgs)])
    stream = b"".join(g + m.frame() for g, m in zip(garbage, msgs, strict=False)) + garbage[-1]
    items, acks, _ = decode([stream])
    assert valued(items) == valued(whole)
    assert len(valued(items)) >= len(msgs)
    assert [a for a in acked(acks)] == expected_acks(msgs) == acked(whole_acks)


@FAST
@given(st.lists(messages(), min_size=1, max_size=4), st.lists(biased_bytes, min_size=5,
                                                               max_size=5))
def test_messages_after_any_garbage_all_recovered(msgs: list[Message],
                                                  garbage: list[bytes]) -> None:
    msgs = clean(msgs)
    whole, _, _ = decode([b"".join(m.frame() for m in msgs)])
    stream = b"".join(g + m.frame() for g, m in zip(garbage, msgs, strict=False)) + garbage[-1]
    items, acks, _ = decode([stream])
    assert valued(items) == valued(whole)
    got = acked(acks)
    assert [a for a in got if a in {m.control_id for m in msgs}] == expected_acks(msgs)


@FAST
@given(st.lists(messages(), min_size=1, max_size=3), st.data())
def test_any_cut_decodes_like_the_whole(msgs: list[Message], data: st.DataObject) -> None:
    msgs = clean(msgs)
    stream = b"".join(m.frame() for m in msgs)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=12)))
    pieces = [stream[a:b] for a, b in zip([0, *cuts], [*cuts, len(stream)], strict=True)]
    whole, whole_acks, _ = decode([stream])
    items, acks, _ = decode(pieces)
    assert valued(items) == valued(whole)
    assert acked(acks) == acked(whole_acks)


@FAST
@given(messages())
def test_generated_values_come_back(m: Message) -> None:
    items, acks, _ = decode([m.frame()])
    got = {v: (val, t) for v, val, t in valued(items)}
    stamp = next(o.time for o in m.obx if o.time)
    when = h.parse_dtm(stamp)
    for o in m.obx:
        if o.value_type != "NM" or o.code not in _VITALS:
            continue
        vital = _VITALS[o.code]
        if str(vital) not in got:
            raise AssertionError(f"{vital} missing from {got}")
        value, device_time = got[str(vital)]
        assert abs(value - float(o.value)) < 1e-6
        assert device_time is not None and abs(device_time - when) < 1e-3
    assert acked(acks) == expected_acks([m])


_VITALS = {"HR": Vital.HR, "PR": Vital.PULSE_RATE, "SPO2": Vital.SPO2, "RR": Vital.RESP_RATE,
           "ETCO2": Vital.ETCO2, "TEMP": Vital.TEMP, "NIBP_SYS": Vital.NIBP_SYS,
           "NIBP_DIA": Vital.NIBP_DIA, "NIBP_MEAN": Vital.NIBP_MEAN}
