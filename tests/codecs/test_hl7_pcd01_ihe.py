"""The HL7 PCD-01 codec against messages written from the IHE PCD TF vol. 2 and HL7 v2.6.

The messages come from :mod:`tests.hl7_ihe` (an independent builder, and real example
messages with their sources), never from the codec; every acknowledgement the codec
writes is parsed and validated by hl7apy (strict, HL7 v2.6) and checked against the
message it answers (HL7 v2.6 chapter 2: MSA-1, MSA-2 = MSH-10, MSH-3/4 and MSH-5/6
swapped, same version and processing id; enhanced mode MSH-15/16).

Choices where the contract leaves room, stated so a failure is read right:

- 150033/150034/150035 are MDC_PRESS_BLD_ART_SYS/DIA/MEAN (an arterial line) in
  ISO/IEEE 11073-10101, not NIBP; NIBP is 150021/22/23 (MDC_PRESS_BLD_NONINV_*) and, as
  Mindray and Welch Allyn send it, 150301/02/03 (MDC_PRESS_CUFF_*). The GE B40 example
  carries ART: it must not show as NIBP.
- 266048 is MDC_DIM_CM_H2O; kPa is MDC_DIM_KILO_PASCAL 265987. A value in cmH2O must not
  be converted as if it were kPa.
- MSH-15 ``NE`` and MSH-16 ``NE``: HL7 says no acknowledgement at all; ``ER``: only on an
  error; ``SU``: only on success. ``AL``/``AL``: a commit ACK (CA) first, the application
  ACK after it.
- Two metrics of one code in one message (two temperature channels): one is the vital,
  from the same containment in every message, the other is kept as a device numeric.
"""

from __future__ import annotations

import math
import time
import tracemalloc

import pytest
from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.parser import parse_message

from monitor.core.reading import DeviceNumeric, Reading, WaveChunk
from monitor.core.vitals import Vital
from monitor.devices.codecs.hl7_pcd01 import Hl7Pcd01Codec
from tests import hl7_ihe as h
from tests.hl7_ihe import Message, Obx, Separators

T0 = h.parse_dtm("20251206120000+0000")     # host time: after every stamp the tests send
TF_TIME = h.parse_dtm("20090813095715+0000")


# -- helpers ------------------------------------------------------------------------------


def make(bed: str | None = None) -> Hl7Pcd01Codec:
    return Hl7Pcd01Codec(bed=bed)


def wire(*messages: Message | str | bytes) -> bytes:
    out = b""
    for m in messages:
        if isinstance(m, Message):
            out += m.frame()
        elif isinstance(m, str):
            out += h.frame(m.encode("utf-8"))
        else:
            out += m
    return out


def feed(codec: Hl7Pcd01Codec, *messages: Message | str | bytes, t: float = T0,
         channel: int = 0) -> list:
    return codec.feed_channel(channel, wire(*messages), t)


def valued(items: list) -> dict[Vital, list[tuple[float, float | None]]]:
    """Readings carrying a value, by vital: [(value, device_time)]."""
    out: dict[Vital, list[tuple[float, float | None]]] = {}
    for x in items:
        if isinstance(x, Reading) and x.quality.has_value:
            out.setdefault(x.vital, []).append((x.value, x.device_time))
    return out


def values_of(items: list, vital: Vital) -> list[float]:
    return [v for v, _ in valued(items).get(vital, [])]


def numerics(items: list) -> list[DeviceNumeric]:
    return [x for x in items if isinstance(x, DeviceNumeric) and x.quality.has_value]


def split_er7(text: str) -> list[list[str]]:
    """Segments as lists of fields, by the message's own MSH-1 (MSH-1 kept as field 1)."""
    segs = [s for s in text.replace("\n", "\r").split("\r") if s]
    fs = segs[0][3]
    out = []
    for s in segs:
        f = s.split(fs)
        if f[0] == "MSH":
            f = ["MSH", fs] + f[1:]
        out.append(f)
    return out


def components(text: str, field: str) -> list[str]:
    """A field's components by ``text``'s own MSH-2 component separator."""
    return field.split(text.split("\r", 1)[0][4])


def check_ack(reply: bytes, original: Message | None, code: str | set[str]) -> dict:
    """One framed reply: MLLP framing, hl7apy strict ACK v2.6, MSA, MSH echo rules."""
    assert reply.startswith(h.START_BLOCK) and reply.endswith(h.END_BLOCK), reply[:40]
    body = reply[1:-2]
    assert h.START_BLOCK not in body and b"\x1c" not in body
    text = body.decode("utf-8")
    msg = parse_message(text, validation_level=VALIDATION_LEVEL.STRICT, find_groups=False)
    msg.validate()
    assert msg.name == "ACK"
    segs = split_er7(text)
    msh = {i: v for i, v in enumerate(segs[0])}
    msa = next(s for s in segs if s[0] == "MSA")
    assert components(text, msh[9])[0] == "ACK"
    codes = {code} if isinstance(code, str) else code
    assert msa[1] in codes, (msa[1], codes, text)
    if original is not None:
        assert msa[2] == original.control_id
        assert msh[12].split(text[4])[0] == original.version
        assert msh[11].split(text[4])[0] == original.processing_id
        # sending and receiving application/facility swapped (HL7 v2.6 2.9.2)
        sent = split_er7(original.er7())[0]
        for ours, theirs in ((5, 3), (6, 4), (3, 5), (4, 6)):
            mine = components(text, msh.get(ours, "")) if msh.get(ours) else []
            want = components(original.er7(), sent[theirs]) if len(sent) > theirs and \
                sent[theirs] else []
            if want or ours in (5, 6):      # an empty MSH-5/6 leaves our name free
                assert [c for c in mine if c] == [c for c in want if c], (ours, text)
        assert msh[10] and msh[10] != ""
    return {"code": msa[1], "acked": msa[2], "text": text}


def replies(codec: Hl7Pcd01Codec, channel: int = 0) -> list[bytes]:
    return codec.replies(channel)


VITALS = Message(control_id="V1", obx=h.vitals_obx(time="20251206080000+0000"))
NIBP = Message(control_id="N1", obx=h.nibp_obx(time="20251206075930+0000"))


# -- the builder itself is valid HL7 -----------------------------------------------------


@pytest.mark.parametrize("message", [
    VITALS, NIBP,
    VITALS.with_(sep=Separators("#", "$", "~", "\\", "&"), location=["ICU", "2", "B#1"]),
    VITALS.with_(accept_ack="AL", app_ack="NE", control_id="X9"),
], ids=["vitals", "nibp", "other-separators", "enhanced"])
def test_builder_messages_are_valid_hl7_v26(message: Message) -> None:
    m = parse_message(message.er7(), validation_level=VALIDATION_LEVEL.STRICT)
    m.validate()
    assert m.name == "ORU_R01"
    assert m.msh.msh_10.value == message.control_id
    obx = m.oru_r01_patient_result.oru_r01_order_observation.oru_r01_observation
    assert len(obx) == len(message.obx)


def test_builder_escapes_and_times() -> None:
    sep = Separators()
    assert sep.escape_text("a|b^c&d~e\\f") == "a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f"
    assert h.parse_dtm(h.hl7_time(T0, -300)) == T0
    assert h.parse_dtm(h.hl7_time(T0 + 0.25, 330, fraction=True)) == pytest.approx(T0 + 0.25)
    assert h.parse_dtm(h.hl7_time(T0, None)) == T0


# -- real example messages ----------------------------------------------------------------


def test_ihe_tf_blood_pressure_example() -> None:
    codec = make()
    items = feed(codec, h.IHE_TF_BP_EXAMPLE)
    v = valued(items)
    assert v[Vital.NIBP_SYS] == [(120, pytest.approx(TF_TIME))]
    assert v[Vital.NIBP_DIA] == [(80, pytest.approx(TF_TIME))]
    assert v[Vital.NIBP_MEAN] == [(100, pytest.approx(TF_TIME))]
    assert not {Vital.HR, Vital.SPO2, Vital.PULSE_RATE} & v.keys()
    assert all(x.t == T0 for x in items if isinstance(x, Reading))
    (ack,) = replies(codec)                       # MSH-15 NE, MSH-16 AL: application ACK
    sent = Message(control_id="MSGID1234", sending_app=["AcmeInc", "ACDE48234567ABCD",
                                                        "EUI-64"])
    check_ack(ack, sent, "AA")


def test_nist_gateway_example_in_ucum_units() -> None:
    codec = make()
    items = feed(codec, h.NIST_NIBP_EXAMPLE)
    when = h.parse_dtm("20110602045842+0000")
    v = valued(items)
    assert v[Vital.NIBP_SYS] == [(120, pytest.approx(when))]
    assert v[Vital.NIBP_DIA] == [(80, pytest.approx(when))]
    assert v[Vital.NIBP_MEAN] == [(93, pytest.approx(when))]
    # MDC_PULS_RATE_NON_INV (the NIBP module's pulse) is neither ECG HR nor oximeter PR
    assert 63 not in values_of(items, Vital.HR) + values_of(items, Vital.PULSE_RATE)
    kept = [n.value for n in numerics(items) if n.code == 149546] + [
        x.value for x in items if isinstance(x, Reading) and x.value == 63]
    assert kept == [63]
    (ack,) = replies(codec)                       # MSH-15 AL, MSH-16 NE: commit ACK only
    sent = Message(control_id="0104ef190d604db188c3",
                   sending_app=["ACME_Gateway", "080019FFFE3ED02D", "EUI-64"],
                   sending_facility="ACME Healthcare")
    check_ack(ack, sent, "CA")


def test_ge_b40_example_arterial_pressure_is_not_nibp() -> None:
    codec = make(bed="V2")                         # PV1-3 SURGERY^^V2
    items = feed(codec, h.GE_B40_EXAMPLE)
    when = h.parse_dtm("20130122134100")           # no offset: the sender's local time
    v = valued(items)
    assert v[Vital.HR] == [(80, pytest.approx(when))]
    assert not {Vital.NIBP_SYS, Vital.NIBP_DIA, Vital.NIBP_MEAN} & v.keys()
    art = {n.code: n.value for n in numerics(items)}
    assert (art.get(150033), art.get(150034), art.get(150035)) == (112, 76, 95)
    assert all(n.label for n in numerics(items))
    (ack,) = replies(codec)
    sent = Message(control_id="004097134535", sending_app=["VSP", "080019FFFE134535", "EUI-64"],
                   sending_facility="GE Healthcare")
    check_ack(ack, sent, "AA")


def test_mindray_vs900_example_cuff_pressure_is_nibp() -> None:
    codec = make()
    items = feed(codec, h.MINDRAY_VS900_EXAMPLE)
    v = valued(items)
    now = h.parse_dtm("20191206113452")
    nibp_t = h.parse_dtm("20191206111016")
    assert v[Vital.SPO2] == [(99, pytest.approx(now))]
    assert v[Vital.PULSE_RATE] == [(94, pytest.approx(now))]
    assert v[Vital.NIBP_SYS] == [(147, pytest.approx(nibp_t))]
    assert v[Vital.NIBP_DIA] == [(90, pytest.approx(nibp_t))]
    assert v[Vital.NIBP_MEAN] == [(109, pytest.approx(nibp_t))]
    temps = values_of(items, Vital.TEMP) + [n.value for n in numerics(items)
                                            if n.code == 188496]
    assert temps == [pytest.approx(35.1)]
    (ack,) = replies(codec)
    sent = Message(control_id="1914", sending_app=["MINDRAY_VS900", "00A0370098007A80",
                                                   "EUI-64"])
    check_ack(ack, sent, "CA")


# -- values, units, containment, status, time ------------------------------------------


def test_vitals_message_values() -> None:
    codec = make()
    items = feed(codec, VITALS)
    when = h.parse_dtm("20251206080000+0000")
    v = valued(items)
    expect = {Vital.HR: 72, Vital.PULSE_RATE: 71, Vital.SPO2: 97, Vital.RESP_RATE: 16,
              Vital.ETCO2: 38, Vital.TEMP: 36.9}
    for vital, value in expect.items():
        assert v[vital] == [(pytest.approx(value), pytest.approx(when))], vital
    assert not {Vital.NIBP_SYS, Vital.NIBP_DIA, Vital.NIBP_MEAN} & v.keys()
    pi = values_of(items, Vital.PERF_INDEX) + [n.value for n in numerics(items)
                                               if n.code == 150488]
    assert pi == [pytest.approx(2.4)]
    assert not [x for x in items if isinstance(x, WaveChunk)]
    (ack,) = replies(codec)
    check_ack(ack, VITALS, "AA")


@pytest.mark.parametrize(("unit", "value", "vital", "expect"), [
    ("kPa", "5.0", Vital.ETCO2, 5.0 * h.KPA_TO_MMHG),
    (("kPa", "kPa", "UCUM"), "5.0", Vital.ETCO2, 5.0 * h.KPA_TO_MMHG),
    ("mmHg", "38", Vital.ETCO2, 38.0),
    ("degF", "98.6", Vital.TEMP, 37.0),
    (("[degF]", "[degF]", "UCUM"), "98.6", Vital.TEMP, 37.0),
    (("Cel", "Cel", "UCUM"), "36.6", Vital.TEMP, 36.6),
], ids=["etco2-kPa", "etco2-kPa-ucum", "etco2-mmHg", "temp-degF", "temp-degF-ucum",
        "temp-Cel-ucum"])
def test_units_converted(unit: str | tuple, value: str, vital: Vital, expect: float) -> None:
    code = "ETCO2" if vital is Vital.ETCO2 else "TEMP"
    m = Message(control_id="U1", obx=(h.header("MDS", "1.0.0.0"),
                                       Obx(code, value, unit, "1.3.1.1")))
    codec = make()
    items = feed(codec, m)
    assert values_of(items, vital) == [pytest.approx(expect, abs=0.05)]
    check_ack(replies(codec)[0], m, "AA")


def test_nibp_in_kpa_converted() -> None:
    m = Message(control_id="U2", obx=h.nibp_obx(16, 10.66, 12.4, time="20251206075930+0000",
                                                unit="kPa"))
    v = valued(feed(make(), m))
    assert v[Vital.NIBP_SYS][0][0] == pytest.approx(16 * h.KPA_TO_MMHG, abs=0.5)
    assert v[Vital.NIBP_DIA][0][0] == pytest.approx(10.66 * h.KPA_TO_MMHG, abs=0.5)
    assert v[Vital.NIBP_MEAN][0][0] == pytest.approx(12.4 * h.KPA_TO_MMHG, abs=0.5)


def test_cm_h2o_is_not_taken_for_kpa() -> None:
    # 266048 is MDC_DIM_CM_H2O (4 * 65536 + 3904); 5 kPa would be 37.5 mmHg, 5 cmH2O is 3.68.
    m = Message(control_id="U3", obx=(Obx("ETCO2", "5", "cmH2O", "1.3.1.1"),))
    got = values_of(feed(make(), m), Vital.ETCO2)
    assert got in ([], [pytest.approx(5 * 0.73556, abs=0.05)])


def test_unknown_unit_shows_no_value() -> None:
    m = Message(control_id="U4", obx=(Obx("SPO2", "97", ("262999", "MDC_DIM_BOGUS", "MDC"),
                                          "1.2.1.1"),
                                      Obx("HR", "72", "bpm", "1.1.1.1")))
    codec = make()
    items = feed(codec, m)
    assert values_of(items, Vital.SPO2) == []
    assert values_of(items, Vital.HR) == [72]
    assert all(not (isinstance(x, Reading) and x.vital is Vital.SPO2 and x.quality.has_value)
               for x in items)
    (ack,) = replies(codec)
    check_ack(ack, m, {"AA", "AE"})


def _two_temps(cid: str, first: str, second: str, swap: bool = False) -> Message:
    rows = [Obx("TEMP", first, "degC", "1.4.1.1"), Obx("TEMP", second, "degC", "1.4.2.1")]
    if swap:
        rows.reverse()
    return Message(control_id=cid, obx=(h.header("MDS", "1.0.0.0"), *rows))


def test_containment_tells_two_metrics_of_one_code_apart() -> None:
    codec = make()
    a = feed(codec, _two_temps("C1", "36.9", "38.4"))
    b = feed(codec, _two_temps("C2", "37.0", "38.5", swap=True))
    # exactly one TEMP per message, from the same channel both times; the other kept
    assert len(values_of(a, Vital.TEMP)) == 1 and len(values_of(b, Vital.TEMP)) == 1
    first = values_of(a, Vital.TEMP)[0]
    second = values_of(b, Vital.TEMP)[0]
    assert (first, second) in ((pytest.approx(36.9), pytest.approx(37.0)),
                               (pytest.approx(38.4), pytest.approx(38.5)))
    other_a = [n.value for n in numerics(a) if n.code == 150344]
    other_b = [n.value for n in numerics(b) if n.code == 150344]
    assert sorted(other_a + [first]) == [pytest.approx(36.9), pytest.approx(38.4)]
    assert sorted(other_b + [second]) == [pytest.approx(37.0), pytest.approx(38.5)]


@pytest.mark.parametrize(("status", "shown"), [
    ("R", True), ("F", True), ("C", True), ("X", False), ("D", False), ("W", False),
])
def test_result_status(status: str, shown: bool) -> None:
    m = Message(control_id="S" + status, obx=(Obx("SPO2", "96", "%", "1.2.1.1", status=status),
                                              Obx("HR", "70", "bpm", "1.1.1.1")))
    codec = make()
    items = feed(codec, m)
    assert values_of(items, Vital.SPO2) == ([96] if shown else [])
    assert values_of(items, Vital.HR) == [70]
    check_ack(replies(codec)[0], m, "AA")


@pytest.mark.parametrize("stamp", [
    "20251206080000+0000", "20251206030000-0500", "20251206133000.2500+0530",
    "202512060800+0000", "20251206080000",
], ids=["utc", "minus5", "plus0530-fraction", "minutes-only", "local"])
def test_obx14_device_time_with_offsets(stamp: str) -> None:
    m = Message(control_id="T1", obx=(Obx("HR", "60", "bpm", "1.1.1.1", time=stamp),))
    (r,) = [x for x in feed(make(), m) if isinstance(x, Reading)]
    assert r.t == T0
    assert r.device_time == pytest.approx(h.parse_dtm(stamp), abs=1e-3)


def test_device_time_falls_back_to_obr7_then_msh7() -> None:
    m = Message(control_id="T2", obx=(Obx("HR", "61", "bpm", "1.1.1.1"),),
                obr_time="20251206070000+0100", time="20251206090000+0000")
    (r,) = [x for x in feed(make(), m) if isinstance(x, Reading)]
    assert r.device_time == pytest.approx(h.parse_dtm("20251206070000+0100"))
    m = m.with_(control_id="T3", obr_time=None)
    (r,) = [x for x in feed(make(), m) if isinstance(x, Reading)]
    assert r.device_time == pytest.approx(h.parse_dtm("20251206090000+0000"))


def test_future_time_never_becomes_the_host_time() -> None:
    future = h.hl7_time(T0 + 86_400)
    m = Message(control_id="F1", obx=(Obx("HR", "65", "bpm", "1.1.1.1", time=future),))
    codec = make()
    items = feed(codec, m, t=T0)
    assert all(x.t == T0 for x in items if isinstance(x, Reading))
    assert len(replies(codec)) == 1


# -- acknowledgements -----------------------------------------------------------------------


@pytest.mark.parametrize(("accept", "app", "codes"), [
    ("", "", ["AA"]),            # original mode
    ("NE", "AL", ["AA"]),        # the TF's example
    ("AL", "NE", ["CA"]),        # Mindray gateways
    ("NE", "NE", []),            # nothing asked
    ("NE", "ER", []),            # application ACK only on an error
    ("NE", "SU", ["AA"]),        # only on success
    ("SU", "NE", ["CA"]),
    ("ER", "NE", []),
], ids=lambda x: x if isinstance(x, str) and x else None)
def test_ack_modes_on_success(accept: str, app: str, codes: list[str]) -> None:
    m = VITALS.with_(control_id=f"A{accept}{app}", accept_ack=accept, app_ack=app)
    codec = make()
    feed(codec, m)
    got = [check_ack(r, m, set(codes))["code"] for r in replies(codec)]
    assert got == codes


def test_ack_enhanced_commit_then_application() -> None:
    m = VITALS.with_(control_id="AALAL", accept_ack="AL", app_ack="AL")
    codec = make()
    feed(codec, m)
    got = [check_ack(r, m, {"CA", "AA"})["code"] for r in replies(codec)]
    assert got[0] == "CA" and got[1:] in ([], ["AA"])


def test_ack_error_modes() -> None:
    bad = Obx("SPO2", "ninety", "%", "1.2.1.1")
    for accept, app, want in (("", "", ["AE"]), ("NE", "ER", ["AE"]), ("NE", "AL", ["AE"]),
                              ("NE", "SU", []), ("AL", "NE", ["CA|CE"])):
        m = VITALS.with_(control_id=f"E{accept}{app}", accept_ack=accept, app_ack=app,
                         obx=(bad,))
        codec = make()
        items = feed(codec, m)
        assert values_of(items, Vital.SPO2) == []
        codes = {c for w in want for c in w.split("|")}
        got = [check_ack(r, m, codes)["code"] for r in replies(codec)]
        # a value of the wrong data type (HL7 error 102) may fail the commit itself
        assert [g in w.split("|") for g, w in zip(got, want, strict=True)] == [True] * len(want)


def test_text_where_a_number_is_due() -> None:
    m = Message(control_id="NM1", accept_ack="", app_ack="",
                obx=(Obx("SPO2", "ninety", "%", "1.2.1.1"), Obx("HR", "75", "bpm", "1.1.1.1")))
    codec = make()
    items = feed(codec, m)
    assert values_of(items, Vital.SPO2) == []
    assert not [x for x in items if isinstance(x, Reading) and x.vital is Vital.SPO2
                and math.isfinite(x.value)]
    (ack,) = replies(codec)
    check_ack(ack, m, "AE")
    assert check_ack_loose(ack, m)["err"] == "102"          # HL7 table 0357: data type error
    assert codec.stats.extra.get("malformed", 0) >= 1


@pytest.mark.parametrize(("change", "error"), [
    ({"version": "9.9"}, "203"),
    ({"message_type": ["ADT", "A01", "ADT_A01"]}, "200"),
    ({"message_type": ["ORU", "R30", "ORU_R30"]}, "201"),
    ({"processing_id": "T"}, "202"),
    ({"processing_id": "D"}, "202"),
], ids=["unsupported-version", "not-oru", "not-r01", "training", "debugging"])
def test_refused_messages_get_ar(change: dict, error: str) -> None:
    """AR with ERR-3 from HL7 table 0357 (200 message type, 201 event, 202 processing id,
    203 version); an ACK echoes MSH-11, so a test system gets its own id back."""
    m = VITALS.with_(control_id="R1", accept_ack="", app_ack="", **change)
    codec = make()
    items = feed(codec, m)
    assert valued(items) == {}
    (ack,) = replies(codec)
    info = check_ack_loose(ack, m)
    assert info["code"] == "AR"
    assert info["err"] == error
    assert codec.stats.extra.get("refused", 0) == 1


def check_ack_loose(reply: bytes, m: Message) -> dict:
    """An AR to a message in another version: framing and MSA only (hl7apy parses 2.x)."""
    assert reply.startswith(h.START_BLOCK) and reply.endswith(h.END_BLOCK)
    text = reply[1:-2].decode("utf-8")
    segs = split_er7(text)
    assert segs[0][0] == "MSH" and components(text, segs[0][9])[0] == "ACK"
    msa = next(s for s in segs if s[0] == "MSA")
    assert msa[2] == m.control_id
    assert segs[0][11] == m.processing_id
    if segs[0][12] in ("2.6", "2.5", "2.5.1", "2.7"):
        parse_message(text, validation_level=VALIDATION_LEVEL.STRICT).validate()
    err = next((s for s in segs if s[0] == "ERR"), None)
    return {"code": msa[1], "err": components(text, err[3])[0] if err and len(err) > 3 else ""}


def test_no_msh_is_counted_and_not_acknowledged() -> None:
    codec = make()
    body = VITALS.er7().split("\r", 1)[1]           # the message without its MSH
    items = feed(codec, h.frame(body.encode()))
    assert valued(items) == {}
    assert replies(codec) == []
    assert codec.stats.extra.get("malformed", 0) == 1
    assert "malformed" in codec.link_state
    # the next good message is decoded and acknowledged as usual
    items = feed(codec, VITALS)
    assert values_of(items, Vital.HR) == [72]
    check_ack(replies(codec)[0], VITALS, "AA")


# -- routing ------------------------------------------------------------------------------

ROUTED = VITALS.with_(location=["ICU", "Room7", "23"],
                      sending_app=["CMS", "ACDE48234567ABCD", "EUI-64"])


@pytest.mark.parametrize("key", ["23", "icu", "Room7", "0123456789abcdef", "acde48234567abcd",
                                 "CMS"],
                         ids=["pv1-bed", "pv1-point-of-care", "pv1-room", "obx18", "msh3-id",
                              "msh3-name"])
def test_routing_by_each_key(key: str) -> None:
    codec = make(bed=key)
    items = feed(codec, ROUTED)
    assert values_of(items, Vital.HR) == [72]
    assert codec.stats.extra.get("other_bed", 0) == 0
    check_ack(replies(codec)[0], ROUTED, "AA")
    assert key.lower() in codec.link_state.lower()


@pytest.mark.parametrize("key", ["2", "Room", "24", "0123456789"],
                         ids=["part-of-bed", "part-of-room", "other-bed", "part-of-eui"])
def test_other_beds_counted_acknowledged_ignored(key: str) -> None:
    codec = make(bed=key)
    for i in range(3):
        m = ROUTED.with_(control_id=f"O{i}")
        items = feed(codec, m)
        assert valued(items) == {} and numerics(items) == []
        check_ack(replies(codec)[0], m, "AA")
    assert codec.stats.extra["other_bed"] == 3
    assert sum(codec.beds_seen.values()) >= 3 and codec.beds_seen
    assert any("23" in k for k in codec.beds_seen), codec.beds_seen   # says which bed came
    assert "other beds" in codec.link_state


def test_routing_key_with_escaped_separator() -> None:
    m = VITALS.with_(control_id="ESC1", location=["ICU", "2", "B|7"])
    assert "B\\F\\7" in m.er7()
    codec = make(bed="B|7")
    assert values_of(feed(codec, m), Vital.HR) == [72]


# -- NIBP, separators, escapes, channels ------------------------------------------------------


def test_duplicate_nibp_not_re_emitted() -> None:
    codec = make()
    stamp = "20251206075930+0000"
    first = feed(codec, Message(control_id="D1", obx=h.nibp_obx(118, 76, 90, time=stamp)))
    again = feed(codec, Message(control_id="D2", obx=h.nibp_obx(118, 76, 90, time=stamp)),
                 t=T0 + 1)
    later = feed(codec, Message(control_id="D3",
                                obx=h.nibp_obx(118, 76, 90, time="20251206080430+0000")),
                 t=T0 + 2)
    changed = feed(codec, Message(control_id="D4",
                                  obx=h.nibp_obx(121, 78, 92, time="20251206080430+0000")),
                   t=T0 + 3)
    assert values_of(first, Vital.NIBP_SYS) == [118]
    assert values_of(again, Vital.NIBP_SYS) == []
    assert values_of(later, Vital.NIBP_SYS) == [118]
    assert values_of(changed, Vital.NIBP_SYS) == [121]
    assert len(replies(codec)) == 4


def test_resent_message_acknowledged_again_nibp_once() -> None:
    # a gateway that lost our ACK sends the same message (same MSH-10) again
    codec = make()
    m = Message(control_id="RS1", obx=h.nibp_obx(time="20251206075930+0000"))
    first = feed(codec, m)
    again = feed(codec, m, t=T0 + 5)
    assert values_of(first, Vital.NIBP_SYS) == [120] and values_of(again, Vital.NIBP_SYS) == []
    assert [check_ack(r, m, "AA")["acked"] for r in replies(codec)] == ["RS1", "RS1"]


def test_repeated_nibp_beside_fresh_vitals() -> None:
    # a gateway repeats the last determination in every 1 s message
    codec = make()
    rows = h.vitals_obx() + h.nibp_obx(time="20251206075930+0000")[1:]
    a = feed(codec, Message(control_id="R1", obx=rows))
    b = feed(codec, Message(control_id="R2", obx=rows), t=T0 + 1)
    assert values_of(a, Vital.NIBP_SYS) == [120] and values_of(b, Vital.NIBP_SYS) == []
    assert values_of(b, Vital.HR) == [72]


@pytest.mark.parametrize("sep", [
    Separators("#", "^", "~", "\\", "&"),
    Separators("|", "$", "~", "\\", "&"),
    Separators("!", "@", "*", "/", "%"),
], ids=["field-hash", "component-dollar", "all-different"])
def test_other_separators_honoured(sep: Separators) -> None:
    m = ROUTED.with_(control_id="SEP1", sep=sep)
    codec = make(bed="23")
    items = feed(codec, m)
    assert values_of(items, Vital.SPO2) == [97]
    assert values_of(items, Vital.TEMP) == [pytest.approx(36.9)]
    (ack,) = replies(codec)
    check_ack(ack, m, "AA")


def test_escape_sequences_in_vendor_text() -> None:
    m = Message(control_id="ESC2", obx=(Obx(("999001", "VENDOR&X^1", "99VND"), "42",
                                            ("ml", "m\\L", "99VND"), "1.9.1.1"),))
    assert "VENDOR\\T\\X\\S\\1" in m.er7()
    codec = make()
    (n,) = numerics(feed(codec, m))
    assert n.code == 999001 and n.value == 42
    assert "VENDOR&X^1" in n.label
    assert codec.stats.extra.get("unknown_codes", 0) >= 1


def test_channels_are_independent_streams() -> None:
    codec = make()
    a = VITALS.with_(control_id="CH1").frame()
    b = NIBP.with_(control_id="CH2").frame()
    out = codec.feed_channel(1, a[:50], T0) + codec.feed_channel(2, b[:70], T0)
    out += codec.feed_channel(1, a[50:], T0 + 0.1) + codec.feed_channel(2, b[70:], T0 + 0.2)
    assert values_of(out, Vital.HR) == [72] and values_of(out, Vital.NIBP_SYS) == [120]
    check_ack(codec.replies(1)[0], VITALS.with_(control_id="CH1"), "AA")
    check_ack(codec.replies(2)[0], NIBP.with_(control_id="CH2"), "AA")
    assert codec.replies(1) == [] and codec.replies(0) == []


def test_feed_and_tick_are_channel_zero() -> None:
    codec = make()
    items = codec.feed(VITALS.frame(), T0)
    assert values_of(items, Vital.SPO2) == [97]
    (ack,) = codec.tick(T0)
    check_ack(ack, VITALS, "AA")
    assert codec.tick(T0 + 1) == []


def test_close_channel_forgets_partial_message() -> None:
    codec = make()
    f = VITALS.frame()
    codec.feed_channel(3, f[:100], T0)
    codec.close_channel(3)
    items = codec.feed_channel(3, f[100:], T0)        # the rest alone is not a message
    assert values_of(items, Vital.HR) == []
    items = codec.feed_channel(3, f, T0)
    assert values_of(items, Vital.HR) == [72]


# -- bounded memory -------------------------------------------------------------------------


def test_hundred_megabyte_message_in_chunks_bounded() -> None:
    codec = make()
    head = VITALS.with_(control_id="BIG1").er7().encode()
    filler = (b"OBX|99|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.2.1.1|97|262688^MDC_DIM_PERCENT^MDC"
              b"|||||R\r") * (1 << 10)                 # ~90 KiB
    chunk = filler * 11                                 # ~1 MiB
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        out = codec.feed_channel(0, h.START_BLOCK + head, T0)
        fed = len(head)
        while fed < 100 * (1 << 20):
            out += codec.feed_channel(0, chunk, T0)
            fed += len(chunk)
        out += codec.feed_channel(0, h.END_BLOCK, T0)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert peak < 8 * (1 << 20), peak
    assert valued(out) == {}
    acks = replies(codec)
    assert len(acks) <= 1
    if acks:
        assert check_ack_loose(acks[0], VITALS.with_(control_id="BIG1"))["code"] == "AR"
    items = feed(codec, VITALS)
    assert values_of(items, Vital.HR) == [72]


def test_thousand_half_messages_on_closed_channels_bounded() -> None:
    codec = make()
    half = VITALS.frame()[:300]
    tracemalloc.start()
    try:
        for ch in range(200):                           # warm up
            codec.feed_channel(ch, half, T0)
            codec.close_channel(ch)
        base = tracemalloc.get_traced_memory()[0]
        for ch in range(1000, 2000):
            codec.feed_channel(ch, half, T0)
            codec.close_channel(ch)
        grown = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
    assert grown < 256 * 1024, grown


def test_pleth_waveform_na_observation() -> None:
    # PCD-01 waveform rows as an ICE gateway sends them (the NA row, then its sample rate
    # as a child row 0^MDC_ATTR_SAMP_RATE^MDC with unit MDC_DIM_PER_SEC 264608)
    samples = [float(x) for x in range(100, 350, 2)]           # 125 samples
    m = Message(control_id="W1", obr_time="20251206115959+0000", obx=(
        h.header("MDS", "1.0.0.0"),
        Obx("PLETH", [f"{x:g}" for x in samples], "dimless", "1.2.1.5", value_type="NA",
            time="20251206115959+0000"),
        Obx(("0", "MDC_ATTR_SAMP_RATE", "MDC"), "125", ("264608", "MDC_DIM_PER_SEC", "MDC"),
            "1.2.1.5.1"),
    ))
    codec = make()
    items = feed(codec, m)
    waves = [x for x in items if isinstance(x, WaveChunk)]
    assert waves, items
    assert all(w.vital is Vital.PLETH for w in waves)
    got = [float(v) for w in waves for v in w.samples]
    assert got == samples
    assert all(w.rate == pytest.approx(125) for w in waves)
    check_ack(replies(codec)[0], m, "AA")


@pytest.mark.parametrize(("charset", "name"), [
    ("UNICODE UTF-8", ["Müller", "Zoë"]), ("8859/1", ["Müller", "Zoë"]), (None, ["Doe", "J"]),
])
def test_character_sets(charset: str | None, name: list[str]) -> None:
    m = VITALS.with_(control_id="CS1", charset=charset, patient_name=name)
    codec = make()
    assert values_of(feed(codec, m), Vital.HR) == [72]
    check_ack(replies(codec)[0], m, "AA")


def test_each_ack_has_its_own_control_id() -> None:
    codec = make()
    msgs = [VITALS.with_(control_id=f"U{i}") for i in range(5)]
    feed(codec, *msgs)
    ids = [split_er7(r[1:-2].decode())[0][10] for r in replies(codec)]
    assert len(ids) == 5 and len(set(ids)) == 5


def _feed_time(data: bytes) -> float:
    best = float("inf")
    for _ in range(3):
        codec = make()
        t0 = time.perf_counter()
        codec.feed_channel(0, data, T0)
        best = min(best, time.perf_counter() - t0)
    return best


def test_start_blocks_cost_linear_time() -> None:
    """A sender streaming start blocks cannot stall the reader (it was quadratic: 2 s per 64 KiB)."""
    # noise made of start blocks (each one ends an empty frame): 8x the bytes, ~8x the time
    small, big = _feed_time(h.START_BLOCK * 4096), _feed_time(h.START_BLOCK * 32768)
    assert big / small < 20, (small, big)


@pytest.mark.parametrize("msh", [
    "MSH||AcmeInc||||20251206080000||ORU^R01^ORU_R01|WS1|P|2.6",          # no MSH-2
    "MSH|^^\\&|AcmeInc||||20251206080000||ORU^R01^ORU_R01|WS2|P|2.6",     # repeated character
    "MSH|",                                                             # nothing after MSH-1
    "MSH",
    "MSH\r",
], ids=["no-encoding-characters", "repeated-separator", "msh1-only", "bare", "bare-cr"])
def test_wrong_separators_are_malformed_never_values(msh: str) -> None:
    body = VITALS.er7().split("\r", 1)[1]
    codec = make()
    items = feed(codec, h.frame((msh + "\r" + body).encode()))
    assert valued(items) == {} and numerics(items) == []
    for r in replies(codec):
        assert r.startswith(h.START_BLOCK) and r.endswith(h.END_BLOCK)
        assert b"MSA|AA" not in r and b"MSA|CA" not in r
    assert codec.stats.extra.get("malformed", 0) + codec.stats.extra.get("refused", 0) == 1
    assert values_of(feed(codec, VITALS), Vital.HR) == [72]
