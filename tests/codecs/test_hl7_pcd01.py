"""The HL7 v2 IHE PCD-01 codec: MLLP, separators, ACKs (validated by hl7apy), routing, values."""

from __future__ import annotations

import math
import random
import time
from pathlib import Path

import pytest
from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.core import Message as HapiMessage
from hl7apy.parser import get_message_info, parse_message, parse_segments

from monitor.core.reading import DeviceNumeric, Quality, Reading, WaveChunk
from monitor.core.vitals import Vital
from monitor.devices.codecs.hl7_codes import CodeMapError, load_code_map, shipped_map_paths
from monitor.devices.codecs.hl7_pcd01 import (
    BEDS_SEEN_MAX,
    MAX_MESSAGE_BYTES,
    Hl7Pcd01Codec,
    Separators,
    parse_dtm,
)
from monitor.devices.mllp_protocol import parse_ack
from monitor.devices.protocols import codec_class

NOW = 1_796_100_000.0          # host time of the tests (2026-12-01 04:40 UTC)
STAMP = "20261201000000+0000"  # an observation time before NOW


def dtm(t: float) -> str:
    return time.strftime("%Y%m%d%H%M%S+0000", time.gmtime(t))


def msh(cid: str = "M1", *, version: str = "2.6", msg_type: str = "ORU^R01^ORU_R01",
        accept: str = "", app: str = "", processing: str = "P",
        sender: str = "MON^0123456789ABCDEF^EUI-64") -> str:
    return (f"MSH|^~\\&|{sender}|WARD|INFUSION|CLINIC|{dtm(NOW - 1)}||{msg_type}|{cid}|"
            f"{processing}|{version}|||{accept}|{app}||UNICODE UTF-8|||"
            "IHE_PCD_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.1.1^ISO")


def obx(n: int, code: str, value: str, unit: str = "", sub: str = "1.1.1.1", *,
        vtype: str = "NM", status: str = "R", when: str = "", equipment: str = "") -> str:
    return (f"OBX|{n}|{vtype}|{code}|{sub}|{value}|{unit}|||||{status}|||{when}||||"
            f"{equipment}")


SPO2 = "150456^MDC_PULS_OXIM_SAT_O2^MDC"
HR = "147842^MDC_ECG_HEART_RATE^MDC"
PR = "149530^MDC_PULS_OXIM_PULS_RATE^MDC"
RR = "151562^MDC_RESP_RATE^MDC"
ETCO2 = "151708^MDC_AWAY_CO2_ET^MDC"
TEMP = "150344^MDC_TEMP^MDC"
SYS = "150021^MDC_PRESS_BLD_NONINV_SYS^MDC"
DIA = "150022^MDC_PRESS_BLD_NONINV_DIA^MDC"
MEAN = "150023^MDC_PRESS_BLD_NONINV_MEAN^MDC"
PLETH = "150452^MDC_PULS_OXIM_PLETH^MDC"
PCT = "262688^MDC_DIM_PERCENT^MDC"
BPM = "264864^MDC_DIM_BEAT_PER_MIN^MDC"
RPM = "264928^MDC_DIM_RESP_PER_MIN^MDC"
MMHG = "266016^MDC_DIM_MMHG^MDC"
KPA = "265987^MDC_DIM_KILO_PASCAL^MDC"
DEGC = "268192^MDC_DIM_DEGC^MDC"
DEGF = "266560^MDC_DIM_FAHR^MDC"


def message(*rows: str, cid: str = "M1", bed: str = "ICU^12^B", **kw: str) -> str:
    return "\r".join((msh(cid, **kw), "PID|||12345^^^Hosp^PI||Doe^John", f"PV1||I|{bed}",
                      f"OBR|1|||182777000^monitoring of patient^SCT|||{dtm(NOW - 1)}",
                      "OBX|1||69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC|1.0.0.0|||||||X",
                      *rows)) + "\r"


def frame(text: str | bytes) -> bytes:
    body = text.encode() if isinstance(text, str) else text
    return b"\x0b" + body + b"\x1c\x0d"


VITALS = message(
    obx(2, SPO2, "97", PCT, "1.1.1.1", when=STAMP),
    obx(3, PR, "71", BPM, "1.1.1.2", when=STAMP),
    obx(4, HR, "72", BPM, "1.2.1.1", when=STAMP),
    obx(5, RR, "16", RPM, "1.2.1.2", when=STAMP),
    obx(6, ETCO2, "5.0", KPA, "1.4.1.1", when=STAMP),
    obx(7, TEMP, "98.6", DEGF, "1.5.1.1", when=STAMP),
)


def make(bed: str | None = "12", **kw) -> Hl7Pcd01Codec:
    return Hl7Pcd01Codec(bed=bed, **kw)


def values(items, vital: Vital) -> list[float]:
    return [x.value for x in items if isinstance(x, Reading) and x.vital is vital and x.valid]


def readings(items, vital: Vital) -> list[Reading]:
    return [x for x in items if isinstance(x, Reading) and x.vital is vital]


def numerics(items) -> list[DeviceNumeric]:
    return [x for x in items if isinstance(x, DeviceNumeric)]


def acks(codec: Hl7Pcd01Codec, channel: int = 0) -> list[str]:
    out = []
    for raw in codec.replies(channel):
        assert raw[:1] == b"\x0b" and raw[-2:] == b"\x1c\x0d"
        out.append(raw[1:-2].decode())
    return out


def validate(ack: str) -> HapiMessage:
    """hl7apy, strict: the ACK is a valid ACK message of its version."""
    enc, structure, version = get_message_info(ack)
    assert structure in ("ACK", "ACK_R01") or structure.startswith("ACK")
    msg = HapiMessage("ACK", version=version, validation_level=VALIDATION_LEVEL.STRICT,
                      encoding_chars=enc)
    msg.children = parse_segments(ack, version, enc, VALIDATION_LEVEL.STRICT, msg.reference,
                                  find_groups=False)
    msg.validate()
    if version not in ("2.3", "2.3.1"):
        assert parse_message(ack, validation_level=VALIDATION_LEVEL.STRICT,
                             find_groups=False).msa.msa_1.value == msg.msa.msa_1.value
    return msg


def fields(ack: str, name: str) -> list[str]:
    fs = ack[3]
    seg = next(s for s in ack.split("\r") if s.startswith(name))
    return seg.split(fs)


# -- the codec as registered ---------------------------------------------------------------

def test_registered_as_hl7_pcd01_on_tcp() -> None:
    cls = codec_class("hl7-pcd01")
    assert cls is Hl7Pcd01Codec
    assert cls.transport == "tcp" and cls.carries_nibp
    assert Vital.PLETH in cls.measures and Vital.NIBP_SYS in cls.measures
    codec = cls()
    assert codec.link_state == "" and codec.bed is None and codec.tick(NOW) == []


def test_shipped_maps_load_and_are_packaged() -> None:
    names = [p.name for p in shipped_map_paths()]
    assert names[-1] == "mdc.toml" and "mindray.toml" in names
    for p in shipped_map_paths():
        assert load_code_map(p)
    pyproject = Path(__file__).parents[2] / "pyproject.toml"
    assert "hl7_code_maps/*.toml" in pyproject.read_text()


# -- values ------------------------------------------------------------------------------

def test_vitals_decoded_with_units_converted_and_device_time() -> None:
    codec = make()
    items = codec.feed(frame(VITALS), NOW)
    assert values(items, Vital.SPO2) == [97]
    assert values(items, Vital.PULSE_RATE) == [71]
    assert values(items, Vital.HR) == [72]
    assert values(items, Vital.RESP_RATE) == [16]
    assert values(items, Vital.ETCO2) == [pytest.approx(37.5)]      # 5.0 kPa
    assert values(items, Vital.TEMP) == [pytest.approx(37.0)]       # 98.6 degF
    when = parse_dtm(STAMP)
    assert when == 1_796_083_200.0
    assert all(r.t == NOW and r.device_time == when for r in items if isinstance(r, Reading))
    assert codec.link_state == "receiving for bed 12"
    assert codec.stats.frames_ok == 1 and codec.stats.frames_bad == 0
    (ack,) = acks(codec)
    assert fields(ack, "MSA")[1:3] == ["AA", "M1"]
    validate(ack)


def test_dtm_offsets_and_local_time() -> None:
    assert parse_dtm("20261201000000+0000") == parse_dtm("20261201020000+0200")
    assert parse_dtm("20261201000000.25-0130") == parse_dtm("20261201013000+0000") + 0.25
    local = time.mktime((2026, 12, 1, 8, 30, 0, 0, 0, -1))
    assert parse_dtm("202612010830") == local
    assert parse_dtm("garbage") is None and parse_dtm("20261301") is None


def test_device_time_from_obr_then_msh_and_never_in_the_future() -> None:
    codec = make()
    items = codec.feed(frame(message(obx(2, SPO2, "97", PCT))), NOW)
    (r,) = readings(items, Vital.SPO2)
    assert r.device_time == NOW - 1                          # OBR-7
    future = dtm(NOW + 3600)
    items = codec.feed(frame(message(obx(2, SPO2, "96", PCT, when=future), cid="M2")), NOW)
    (r,) = readings(items, Vital.SPO2)
    assert r.value == 96 and r.device_time is None
    assert codec.stats.extra["future_time"] == 1
    near = dtm(NOW + 60)                                     # a clock a minute fast: kept
    items = codec.feed(frame(message(obx(2, SPO2, "95", PCT, when=near), cid="M3")), NOW)
    assert readings(items, Vital.SPO2)[0].device_time == parse_dtm(near)


@pytest.mark.parametrize("status", ["X", "D", "W", "P", "I", ""])
def test_status_other_than_final_corrected_or_result_gives_no_value(status: str) -> None:
    codec = make()
    items = codec.feed(frame(message(obx(2, SPO2, "97", PCT, status=status),
                                     obx(3, HR, "72", BPM, "1.2.1.1", status="F"))), NOW)
    (spo2,) = readings(items, Vital.SPO2)
    assert not spo2.valid and math.isnan(spo2.value) and spo2.quality is Quality.NO_VALUE
    assert values(items, Vital.HR) == [72]
    assert fields(acks(codec)[0], "MSA")[1] == "AA"


def test_corrected_status_carries_a_value() -> None:
    items = make().feed(frame(message(obx(2, SPO2, "97", PCT, status="C"))), NOW)
    assert values(items, Vital.SPO2) == [97]


def test_text_in_a_numeric_row_is_no_value_and_answered_ae() -> None:
    codec = make()
    items = codec.feed(frame(message(obx(2, SPO2, "ninety", PCT), obx(3, HR, "72", BPM))), NOW)
    assert values(items, Vital.SPO2) == [] and values(items, Vital.HR) == [72]
    assert not readings(items, Vital.SPO2)[0].valid
    (ack,) = acks(codec)
    msg = validate(ack)
    assert msg.msa.msa_1.value == "AE" and msg.msa.msa_2.value == "M1"
    err = fields(ack, "ERR")
    assert err[3].split("^")[0] == "102" and err[4] == "E" and "not a number" in err[8]
    assert err[2] == "OBX^2^5"
    assert codec.stats.extra["malformed"] == 1 and codec.stats.frames_bad == 1
    assert codec.link_state.startswith("last message malformed: ")
    parsed = parse_ack(ack)
    assert parsed.code == "AE" and "not a number" in parsed.text
    codec.feed(frame(message(obx(2, SPO2, "97", PCT), cid="M2")), NOW)
    assert codec.link_state == "receiving for bed 12"


def test_unknown_code_and_unknown_unit_become_device_numerics() -> None:
    codec = make()
    items = codec.feed(frame(message(
        obx(2, "188999^MDC_SOMETHING_NEW^MDC", "3.5", "262999^MDC_DIM_BOGUS^MDC", "1.7.1.1"),
        obx(3, SPO2, "97", "262999^MDC_DIM_BOGUS^MDC"),
        obx(4, "XYZ^Vendor thing^99VND", "12", "furlongs", "1.8.1.1"),
    )), NOW)
    assert values(items, Vital.SPO2) == []
    by_label = {n.label: n for n in numerics(items)}
    assert by_label["MDC_SOMETHING_NEW"].code == 188999
    assert by_label["MDC_SOMETHING_NEW"].value == 3.5
    assert by_label["MDC_SOMETHING_NEW"].unit == "MDC_DIM_BOGUS"
    spo2 = next(n for n in numerics(items) if n.code == 150456)
    assert spo2.value == 97 and spo2.unit == "MDC_DIM_BOGUS"
    vendor = by_label["Vendor thing"]
    assert vendor.value == 12 and vendor.unit == "furlongs" and vendor.source == "hl7-pcd01"
    assert codec.stats.extra["unknown_codes"] == 2 and codec.stats.extra["unknown_units"] == 1


def test_unit_of_another_dimension_or_conflicting_is_never_a_vital() -> None:
    codec = make()
    items = codec.feed(frame(message(
        obx(2, ETCO2, "5.0", PCT, "1.4.1.1"),                         # % CO2: not converted
        obx(3, TEMP, "37.0", "268192^MDC_DIM_FAHR^MDC", "1.5.1.1"),   # code and id disagree
        obx(4, SYS, "15", "266048^MDC_DIM_CM_H2O^MDC", "1.3.1.1"),    # cmH2O is no kPa
    )), NOW)
    assert values(items, Vital.ETCO2) == values(items, Vital.TEMP) == []
    assert values(items, Vital.NIBP_SYS) == []
    assert {n.code for n in numerics(items)} == {151708, 150344, 150021}
    assert codec.stats.extra["unit_mismatch"] == 2


def test_ucum_units_and_empty_unit_where_unambiguous() -> None:
    items = make().feed(frame(message(
        obx(2, SPO2, "97", "%^%^UCUM"), obx(3, HR, "72", "/min^/min^UCUM", "1.2.1.1"),
        obx(4, SYS, "120", "mm[Hg]^mm[Hg]^UCUM", "1.3.1.1"),
        obx(5, TEMP, "36.6", "Cel^Cel^UCUM", "1.5.1.1"),
        obx(6, RR, "14", "", "1.2.1.2"),                              # no unit: a rate
        obx(7, ETCO2, "38", "", "1.4.1.1"),                           # no unit: mmHg or kPa?
    )), NOW)
    assert values(items, Vital.SPO2) == [97] and values(items, Vital.HR) == [72]
    assert values(items, Vital.NIBP_SYS) == [120] and values(items, Vital.TEMP) == [36.6]
    assert values(items, Vital.RESP_RATE) == [14] and values(items, Vital.ETCO2) == []
    assert [n.code for n in numerics(items)] == [151708]


def test_two_rows_of_one_code_told_apart_by_containment() -> None:
    codec = make()
    rows = [obx(2, TEMP, "36.9", DEGC, "1.5.1.1"), obx(3, TEMP, "38.4", DEGC, "1.5.2.1")]
    a = codec.feed(frame(message(*rows)), NOW)
    b = codec.feed(frame(message(*reversed(rows), cid="M2")), NOW + 1)
    assert values(a, Vital.TEMP) == values(b, Vital.TEMP) == [36.9]
    (other_a,) = numerics(a)
    (other_b,) = numerics(b)
    assert other_a.label == other_b.label == "MDC_TEMP 1.5.2.1" and other_b.value == 38.4


def test_arterial_pressure_150033_is_a_device_numeric_not_nibp() -> None:
    items = make().feed(frame(message(
        obx(2, "150033^MDC_PRESS_BLD_ART_SYS^MDC", "112", MMHG, "1.13.1.1"),
        obx(3, "150034^MDC_PRESS_BLD_ART_DIA^MDC", "76", MMHG, "1.13.1.2"))), NOW)
    assert values(items, Vital.NIBP_SYS) == []
    assert [(n.label, n.value) for n in numerics(items)] == [("ART sys", 112), ("ART dia", 76)]


def test_second_channel_of_a_device_numeric_labelled_by_containment() -> None:
    art = "150033^MDC_PRESS_BLD_ART_SYS^MDC"
    items = make().feed(frame(message(obx(2, art, "112", MMHG, "1.13.1.1"),
                                      obx(3, art, "25", MMHG, "1.13.2.1"))), NOW)
    assert [(n.label, n.value) for n in numerics(items)] == [("ART sys", 112),
                                                             ("ART sys 1.13.2.1", 25)]


def test_metrics_take_the_time_of_their_parent_row() -> None:
    codec = make()
    det = dtm(NOW - 600)
    rows = ["OBX|2||150020^MDC_PRESS_BLD_NONINV^MDC|1.3.1|||||||X|||" + det,
            obx(3, SYS, "120", MMHG, "1.3.1.1"), obx(4, DIA, "80", MMHG, "1.3.1.2"),
            obx(5, SPO2, "97", PCT, "1.1.1.1")]
    items = codec.feed(frame(message(*rows)), NOW)
    assert [r.device_time for r in readings(items, Vital.NIBP_SYS)] == [NOW - 600]
    assert readings(items, Vital.SPO2)[0].device_time == NOW - 1          # OBR-7
    again = codec.feed(frame(message(*rows, cid="M2")), NOW + 5)
    assert readings(again, Vital.NIBP_SYS) == []                          # same determination
    rows[0] = rows[0].replace(det, dtm(NOW))
    new = codec.feed(frame(message(*rows, cid="M3")), NOW + 10)
    assert values(new, Vital.NIBP_SYS) == [120]                           # same values, new time


def test_a_value_without_value_type_is_read_as_nm() -> None:
    codec = make()
    items = codec.feed(frame(message(obx(2, SPO2, "97", PCT, vtype=""),
                                     obx(3, "188999^MDC_NEW^MDC", "4", "", "1.9.1.1", vtype=""),
                                     obx(4, "69642^MDC_DEV_ANALY_SAT_O2_VMD^MDC", "", "",
                                         "1.1.0.0", vtype="", status="X"))), NOW)
    assert values(items, Vital.SPO2) == [97]
    assert [(n.code, n.value) for n in numerics(items)] == [(188999, 4)]


def test_other_bed_with_a_bad_row_is_still_accepted() -> None:
    codec = make("7")
    codec.feed(frame(message(obx(2, SPO2, "x", PCT), "OBX|3|NM|", sender="GW")), NOW)
    assert [fields(a, "MSA")[1] for a in acks(codec)] == ["AA"]
    assert "malformed" not in codec.stats.extra


def test_sn_values() -> None:
    items = make().feed(frame(message(obx(2, SPO2, "^97", PCT, vtype="SN"),
                                      obx(3, HR, ">^200", BPM, "1.2.1.1", vtype="SN"))), NOW)
    assert values(items, Vital.SPO2) == [97] and values(items, Vital.HR) == []


# -- NIBP --------------------------------------------------------------------------------

def nibp(cid: str, s: str, d: str, m: str, when: str = STAMP) -> bytes:
    return frame(message(obx(2, SYS, s, MMHG, "1.3.1.1", when=when),
                         obx(3, DIA, d, MMHG, "1.3.1.2", when=when),
                         obx(4, MEAN, m, MMHG, "1.3.1.3", when=when), cid=cid))


def test_nibp_only_on_a_new_determination() -> None:
    codec = make()
    first = codec.feed(nibp("N1", "120", "80", "93"), NOW)
    assert values(first, Vital.NIBP_SYS) == [120] and values(first, Vital.NIBP_MEAN) == [93]
    repeat = codec.feed(nibp("N2", "120", "80", "93"), NOW + 1)
    assert readings(repeat, Vital.NIBP_SYS) == [] and codec.stats.extra["nibp_repeated"] == 1
    later = dtm(parse_dtm(STAMP) + 300)
    again = codec.feed(nibp("N3", "120", "80", "93", later), NOW + 2)   # same values, new time
    assert values(again, Vital.NIBP_DIA) == [80]
    changed = codec.feed(nibp("N4", "125", "80", "93", later), NOW + 3)  # same time, new value
    assert values(changed, Vital.NIBP_SYS) == [125]
    # all five answered AA on channel 0 in order
    assert [fields(a, "MSA")[2] for a in acks(codec)] == ["N1", "N2", "N3", "N4"]


def test_nibp_repeat_restamped_in_obr_is_still_a_repeat() -> None:
    codec = make()
    codec.feed(nibp("N1", "120", "80", "93", when=""), NOW)
    text = nibp("N2", "120", "80", "93", when="").replace(dtm(NOW - 1).encode(),
                                                        dtm(NOW + 9).encode())
    assert readings(codec.feed(text, NOW + 10), Vital.NIBP_SYS) == []


def test_nibp_with_no_value_emits_nothing() -> None:
    codec = make()
    items = codec.feed(frame(message(obx(2, SYS, "", MMHG, "1.3.1.1", status="X"),
                                     obx(3, DIA, "", MMHG, "1.3.1.2", status="X"))), NOW)
    assert readings(items, Vital.NIBP_SYS) == readings(items, Vital.NIBP_DIA) == []


# -- routing -----------------------------------------------------------------------------

@pytest.mark.parametrize(("bed", "where"), [
    ("12", "pv1"), ("icu", "pv1"), ("b", "pv1"), ("0123456789abcdef", "obx18"),
    ("MON", "msh3"), ("0123456789ABCDEF", "msh3"),
])
def test_routing_by_each_key(bed: str, where: str) -> None:
    codec = make(bed)
    if where == "obx18":
        text = message(obx(2, SPO2, "97", PCT, equipment="0123456789ABCDEF^EUI-64"),
                       bed="", sender="GATEWAY")
    elif where == "msh3":
        text = message(obx(2, SPO2, "97", PCT), bed="")
    else:
        text = message(obx(2, SPO2, "97", PCT), sender="GATEWAY")
    assert values(codec.feed(frame(text), NOW), Vital.SPO2) == [97]


def test_routing_is_exact_per_component() -> None:
    codec = make("1")                               # not a prefix of "12"
    items = codec.feed(frame(message(obx(2, SPO2, "97", PCT), sender="GW")), NOW)
    assert items == [] and codec.stats.extra["other_bed"] == 1


def test_other_beds_acknowledged_counted_and_shown() -> None:
    codec = make("7")
    for i, bed in enumerate(("ICU^12^B", "ICU^13^A", "ICU^12^B")):
        items = codec.feed(frame(message(obx(2, SPO2, "97", PCT), bed=bed, cid=f"O{i}",
                                         sender="GW")), NOW + i)
        assert items == []
    assert [fields(a, "MSA")[1:3] for a in acks(codec)] == [["AA", "O0"], ["AA", "O1"],
                                                           ["AA", "O2"]]
    assert codec.stats.extra["other_bed"] == 3
    assert codec.beds_seen == {"ICU^13^A": 1, "ICU^12^B": 2}
    assert codec.link_state == "messages for other beds only (seen: ICU^12^B, ICU^13^A)"
    assert not codec.link_ok                     # the header says no data comes for this bed
    codec.feed(frame(message(obx(2, SPO2, "97", PCT), bed="ICU^7^A", sender="GW")), NOW + 5)
    assert codec.link_state == "receiving for bed 7" and codec.link_ok
    codec.feed(frame(message(obx(2, SPO2, "97", PCT), bed="X^1", sender="GW")), NOW + 6)
    assert codec.link_state == "receiving for bed 7"        # ours heard recently


def test_status_detail_counts() -> None:
    codec = make("12")
    assert codec.status_detail == ""
    codec.feed(frame(VITALS), NOW)
    assert codec.status_detail == "1 message"
    codec.feed(frame(message(obx(2, SPO2, "97", PCT), bed="X^1", sender="GW")), NOW)
    codec.feed(frame(message(obx(2, SPO2, "x", PCT))), NOW)
    codec.feed(frame(message(obx(2, SPO2, "97", PCT), version="2.1")), NOW)
    codec.feed(frame("PID|||1\r"), NOW)
    assert codec.status_detail == "5 messages, 1 for other beds, 2 malformed, 1 refused"


def test_beds_seen_bounded() -> None:
    codec = make("nobody")
    for i in range(3 * BEDS_SEEN_MAX):
        codec.feed(frame(message(obx(2, SPO2, "97", PCT), bed=f"W^{i}", sender="GW")), NOW)
    assert len(codec.beds_seen) == BEDS_SEEN_MAX
    assert list(codec.beds_seen)[-1] == f"W^{3 * BEDS_SEEN_MAX - 1}"
    assert len(codec.link_state) < 120


def test_no_bed_takes_every_message() -> None:
    codec = make(None)
    items = codec.feed(frame(message(obx(2, SPO2, "97", PCT), bed="anything")), NOW)
    assert values(items, Vital.SPO2) == [97] and codec.link_state == "receiving (any bed)"


# -- acknowledgements ------------------------------------------------------------------------

def test_original_mode_ack_fields() -> None:
    codec = make()
    codec.feed(frame(VITALS), NOW)
    (ack,) = acks(codec)
    m = fields(ack, "MSH")
    assert m[1] == "^~\\&"
    assert m[2:6] == ["INFUSION", "CLINIC", "MON^0123456789ABCDEF^EUI-64", "WARD"]
    assert m[8] == "ACK^R01^ACK" and m[10] == "P" and m[11] == "2.6"
    assert m[9] and m[9] != "M1"
    assert parse_dtm(m[6]) == pytest.approx(NOW, abs=1)


@pytest.mark.parametrize(("accept", "app", "expect"), [
    ("AL", "NE", ["CA"]), ("AL", "AL", ["CA", "AA"]), ("NE", "NE", []), ("ER", "NE", []),
    ("SU", "", ["CA"]), ("NE", "AL", ["AA"]), ("", "AL", ["CA", "AA"]),
])
def test_enhanced_mode(accept: str, app: str, expect: list[str]) -> None:
    codec = make()
    codec.feed(frame(message(obx(2, SPO2, "97", PCT), accept=accept, app=app)), NOW)
    got = acks(codec)
    assert [fields(a, "MSA")[1] for a in got] == expect
    for a in got:
        assert validate(a).msa.msa_2.value == "M1"


def test_enhanced_mode_errors() -> None:
    codec = make()
    codec.feed(frame(message(obx(2, SPO2, "x", PCT), accept="ER", app="ER")), NOW)
    assert [fields(a, "MSA")[1] for a in acks(codec)] == ["CE", "AE"]
    codec.feed(frame(message(obx(2, SPO2, "97", PCT), accept="AL", version="2.1")), NOW)
    (ack,) = acks(codec)
    assert fields(ack, "MSA")[1] == "CR"


@pytest.mark.parametrize(("kw", "err", "words"), [
    ({"version": "2.1"}, "203", "version"), ({"version": "3.0"}, "203", "version"),
    ({"msg_type": "ADT^A01^ADT_A01"}, "200", "ADT"), ({"msg_type": "ORU^R40^ORU_R40"}, "201", "R40"),
    ({"processing": "T"}, "202", "processing"), ({"processing": "D"}, "202", "processing"),
])
def test_refused_messages_answered_ar(kw: dict, err: str, words: str) -> None:
    codec = make()
    items = codec.feed(frame(message(obx(2, SPO2, "97", PCT), **kw)), NOW)
    assert items == []
    (ack,) = acks(codec)
    assert fields(ack, "MSA")[1:3] == ["AR", "M1"]
    if kw.get("version") not in ("2.1", "3.0"):
        validate(ack)
        assert fields(ack, "ERR")[3].split("^")[0] == err
    assert words in parse_ack(ack).text
    assert codec.stats.extra["refused"] == 1
    assert codec.link_state.startswith("last message refused: ")


@pytest.mark.parametrize("version", ["2.3", "2.3.1", "2.4", "2.5", "2.5.1", "2.7", "2.8"])
def test_versions_accepted_and_their_acks_valid(version: str) -> None:
    codec = make()
    mt = "ORU^R01" if version.startswith("2.3") else "ORU^R01^ORU_R01"
    items = codec.feed(frame(message(obx(2, SPO2, "bad", PCT), obx(3, HR, "72", BPM),
                                     version=version, msg_type=mt)), NOW)
    assert values(items, Vital.HR) == [72]
    (ack,) = acks(codec)
    msg = validate(ack)
    assert msg.msa.msa_1.value == "AE" and msg.msh.msh_12.value == version
    assert "not a number" in parse_ack(ack).text


def test_ack_never_answered_and_no_msh_never_acknowledged() -> None:
    codec = make()
    codec.feed(frame("MSH|^~\\&|A|B|C|D|20261201||ACK^R01^ACK|X1|P|2.6\rMSA|AA|Q\r"), NOW)
    codec.feed(frame("PID|||1\rOBX|1|NM|150456^X^MDC||97\r"), NOW)
    codec.feed(frame("MSHX^~\\&|A"), NOW)
    codec.feed(frame("MSH|^~\\&|A|B|C|D|20261201||ORU^R01|||P|2.6\r"), NOW)   # no MSH-10
    assert acks(codec) == []
    assert codec.stats.extra["acks_received"] == 1 and codec.stats.extra["no_ack"] == 3
    assert codec.link_state.startswith("last message malformed: no message control id")


# -- separators, escapes, segments -------------------------------------------------------------

def test_other_separators_and_escapes() -> None:
    seps = Separators("#", "$", "*", "!", "@")
    text = ("MSH#$*!@#MON$X!S!Y##INF#CL#20261201000000+0000##ORU$R01$ORU_R01#C!F!1#P#2.6\r"
            "PV1##I#ICU$1!S!2$B\r"
            "OBX#1#NM#150456$MDC_PULS_OXIM_SAT_O2$MDC#1.1.1.1#97#262688$MDC_DIM_PERCENT$MDC"
            "#####R\r"
            "OBX#2#NM#999$Odd!F!name!T!x$99X#1.2.1.1#5#####R\r")
    codec = make("1$2")                       # PV1-3.2 is "1!S!2": an escaped component separator
    items = codec.feed(frame(text), NOW)
    assert values(items, Vital.SPO2) == [97]
    (odd,) = numerics(items)
    assert odd.label == "Odd#name@x"
    (ack,) = acks(codec)
    assert ack.startswith("MSH#$*!@#INF#CL#MON$X!S!Y#")
    assert fields(ack, "MSA")[1:3] == ["AA", "C!F!1"]
    assert seps.unescape("a!E!b!X41!c!H!d") == "a!bAcd"
    assert seps.unescape(seps.escape_text("x#$*!@y")) == "x#$*!@y"


def test_bad_encoding_characters_answered_ae() -> None:
    codec = make(None)
    codec.feed(frame("MSH|^^\\&|A|B|C|D|20261201||ORU^R01|E1|P|2.6\rOBX|1|NM|150456||97\r"), NOW)
    (ack,) = acks(codec)
    assert fields(ack, "MSA")[1:3] == ["AE", "E1"] and "encoding" in parse_ack(ack).text


def test_wrong_field_separator_in_segments_is_malformed() -> None:
    codec = make(None)
    text = ("MSH#^~\\&#A#B#C#D#20261201##ORU^R01^ORU_R01#W1#P#2.6\r"
            "OBX|1|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.1.1.1|97|262688|||||R\r")
    assert codec.feed(frame(text), NOW) == []
    (ack,) = acks(codec)
    assert fields(ack, "MSA")[1] == "AE" and "OBX-3" in parse_ack(ack).text


def test_lf_and_crlf_segment_ends_tolerated_and_counted() -> None:
    for sep in ("\n", "\r\n"):
        codec = make()
        items = codec.feed(frame(VITALS.replace("\r", sep)), NOW)
        assert values(items, Vital.SPO2) == [97] and values(items, Vital.HR) == [72]
        assert codec.stats.extra["lf_segments"] == 1


# -- MLLP ----------------------------------------------------------------------------------

def decode_stream(pieces: list[bytes]) -> tuple[list, list[str], Hl7Pcd01Codec]:
    codec = make()
    items = []
    for p in pieces:
        items += codec.feed(p, NOW)
    return items, acks(codec), codec


def summary(items) -> list[tuple]:
    return [(type(x).__name__, getattr(x, "vital", None), getattr(x, "value", None))
            for x in items if not isinstance(x, WaveChunk)]


def test_split_anywhere_decodes_like_the_whole() -> None:
    stream = frame(VITALS) + frame(VITALS.replace("|M1|", "|M2|").replace("|97|", "|96|"))
    whole, whole_acks, _ = decode_stream([stream])
    assert len(whole_acks) == 2
    first_end = len(frame(VITALS))
    edges = {*range(12), *range(first_end - 12, first_end + 12), *range(len(stream) - 12,
                                                                             len(stream) + 1)}
    for i in sorted(edges | set(range(0, len(stream), 37))):
        items, got, _ = decode_stream([stream[:i], stream[i:]])
        assert summary(items) == summary(whole), i
        assert [fields(a, "MSA")[2] for a in got] == ["M1", "M2"], i
    items, got, _ = decode_stream([bytes([b]) for b in stream])
    assert summary(items) == summary(whole) and len(got) == 2


def test_garbage_between_frames_skipped_and_counted() -> None:
    stream = (b"\x00\xffnoise\x1c\r" + frame(VITALS) + b"\r\n junk \x1c"
              + frame(VITALS.replace("|M1|", "|M2|")) + b"tail")
    items, got, codec = decode_stream([stream])
    assert values(items, Vital.HR) == [72, 72] and len(got) == 2
    assert codec.stats.bytes_discarded == len(b"\x00\xffnoise\x1c\r") + len(b"\r\n junk \x1c") + 4
    assert codec.stats.extra["garbage"] == 3


def test_a_frame_without_its_end_is_dropped_at_the_next_start() -> None:
    stream = b"\x0b" + VITALS[:200].encode() + frame(VITALS.replace("|M1|", "|M2|"))
    items, got, codec = decode_stream([stream])
    assert [fields(a, "MSA")[2] for a in got] == ["M2"]
    assert codec.stats.extra["truncated_frames"] == 1 and values(items, Vital.SPO2) == [97]


def test_too_large_message_discarded_bounded_and_refused() -> None:
    codec = make()
    head = msh("BIG") + "\rPV1||I|ICU^12^B\r"
    filler = ("OBX|2|ST|1^NOTE^L||" + "x" * 1000 + "|||||R\r").encode()
    codec.feed(b"\x0b" + head.encode(), NOW)
    peak = 0
    for _ in range(3 * MAX_MESSAGE_BYTES // len(filler)):
        assert codec.feed(filler, NOW) == []
        peak = max(peak, codec.buffered)
    assert peak <= MAX_MESSAGE_BYTES + len(filler) + 8192
    codec.feed(b"\x1c\x0d" + frame(VITALS), NOW)
    got = acks(codec)
    assert [fields(a, "MSA")[1:3] for a in got] == [["AR", "BIG"], ["AA", "M1"]]
    assert "larger than" in parse_ack(got[0]).text
    assert codec.stats.extra["too_large"] == 1 and codec.buffered == 0


def test_hundred_megabytes_in_one_frame_never_held() -> None:
    codec = make()
    chunk = b"y" * (1 << 20)
    codec.feed(b"\x0b", NOW)
    for _ in range(100):
        codec.feed(chunk, NOW)
        assert codec.buffered <= MAX_MESSAGE_BYTES + HEAD_ALLOWANCE
    codec.feed(b"\x1c\x0d", NOW)
    assert acks(codec) == [] and codec.stats.extra["no_ack"] == 1   # no MSH to answer
    assert codec.stats.extra["too_large"] == 1
    assert codec.stats.bytes_discarded >= 100 << 20


HEAD_ALLOWANCE = 8192


def test_a_huge_read_is_never_copied_whole() -> None:
    codec = make()
    head = (msh("HUGE") + "\rOBX|1|ST|1^NOTE^L||").encode()
    data = b"\x0b" + head + b"z" * (20 << 20)
    codec.feed(data, NOW)
    assert codec.buffered <= HEAD_ALLOWANCE
    codec.feed(b"\x1c", NOW)
    codec.feed(b"\x0d" + frame(VITALS) + b"\x0b" + head + b"z" * (3 << 20) + b"\x1c\x0d", NOW)
    assert [fields(a, "MSA")[1:3] for a in acks(codec)] == [["AR", "HUGE"], ["AA", "M1"],
                                                           ["AR", "HUGE"]]
    assert codec.stats.extra["too_large"] == 2 and codec.buffered == 0
    truncated = codec.stats.extra.get("truncated_frames", 0)
    codec.feed(b"\x0b" + head + b"z" * (2 << 20) + frame(VITALS), NOW)   # its end lost
    codec.feed(b"\x0b" + head + b"z" * (2 << 20), NOW)
    codec.feed(frame(VITALS), NOW)
    assert [fields(a, "MSA")[1:3] for a in acks(codec)] == [["AA", "M1"], ["AA", "M1"]]
    assert codec.stats.extra["truncated_frames"] == truncated + 2


def test_channels_independent_and_closed() -> None:
    codec = make()
    f1, f2 = frame(VITALS), frame(VITALS.replace("|M1|", "|M2|"))
    assert codec.feed_channel(1, f1[:100], NOW) == []
    assert codec.feed_channel(2, f2[:50], NOW) == []
    assert values(codec.feed_channel(2, f2[50:], NOW), Vital.HR) == [72]
    assert values(codec.feed_channel(1, f1[100:], NOW), Vital.HR) == [72]
    assert [fields(a, "MSA")[2] for a in acks(codec, 1)] == ["M1"]
    assert [fields(a, "MSA")[2] for a in acks(codec, 2)] == ["M2"]
    assert acks(codec, 1) == [] and codec.tick(NOW) == []
    codec.feed_channel(3, f1[:300], NOW)
    assert codec.buffered > 0
    codec.close_channel(3)
    assert codec.buffered == 0 and codec.stats.extra["truncated_frames"] == 1
    codec.close_channel(99)
    assert codec.feed_channel(3, f1[300:], NOW) == []               # the rest is garbage now


def test_pending_replies_bounded() -> None:
    codec = make()
    for i in range(400):
        codec.feed(frame(message(obx(2, SPO2, "97", PCT), cid=f"R{i}")), NOW)
    got = acks(codec)
    assert len(got) == 256 and fields(got[-1], "MSA")[2] == "R399"
    assert codec.stats.extra["replies_dropped"] == 144


def test_random_bytes_never_raise() -> None:
    rng = random.Random(15)
    codec = make(None)
    parts = [frame(VITALS), b"\x0b", b"\x1c", b"\r", b"\x1c\r", b"MSH|^~\\&|", b"|", b"^",
             b"\\", b"OBX|1|NM|150456", b"\xff\xfe"]
    for _ in range(3000):
        data = b"".join(rng.choice(parts) if rng.random() < 0.7 else rng.randbytes(rng.randint(0, 40))
                        for _ in range(rng.randint(1, 6)))
        for item in codec.feed_channel(rng.randint(0, 3), data, NOW):
            if isinstance(item, Reading) and item.valid:
                assert item.vital in (Vital.SPO2, Vital.PULSE_RATE, Vital.HR, Vital.RESP_RATE,
                                      Vital.ETCO2, Vital.TEMP)
    assert "internal_error" not in codec.stats.extra
    assert codec.buffered <= 4 * (MAX_MESSAGE_BYTES + HEAD_ALLOWANCE)


def test_mangled_messages_never_raise() -> None:
    rng = random.Random(7)
    base = frame(VITALS)
    codec = make(None)
    for _ in range(2000):
        b = bytearray(base)
        for _ in range(rng.randint(1, 8)):
            i = rng.randrange(1, len(b) - 2)
            op = rng.random()
            if op < 0.4:
                b[i] = rng.choice(b"|^~\\&\r\n0123456789.-+ABCXFR")
            elif op < 0.7:
                del b[i]
            else:
                b.insert(i, rng.choice(b"|^~\\&\rX"))
        codec.feed(bytes(b), NOW)
        codec.tick(NOW)
    assert "internal_error" not in codec.stats.extra


# -- waves ---------------------------------------------------------------------------------

def test_pleth_na_with_sample_rate() -> None:
    codec = make()
    samples = "^".join(str(i) for i in range(25))
    text = message(obx(2, PLETH, samples, "262656^MDC_DIM_DIMLESS^MDC", "1.1.1.2", vtype="NA"),
                   obx(3, "0^MDC_ATTR_SAMP_RATE^MDC", "125", "264608^MDC_DIM_PER_SEC^MDC",
                       "1.1.1.2.1"))
    (chunk,) = [x for x in codec.feed(frame(text), NOW) if isinstance(x, WaveChunk)]
    assert chunk.vital is Vital.PLETH and chunk.rate == 125 and len(chunk) == 25
    assert list(chunk.samples[:3]) == [0, 1, 2]
    assert chunk.t_end == pytest.approx(NOW)
    (chunk2,) = [x for x in codec.feed(frame(text.replace("|M1|", "|M2|")), NOW + 0.2)
                 if isinstance(x, WaveChunk)]
    assert chunk2.t0 == pytest.approx(chunk.t_end)                     # contiguous


def test_pleth_ma_period_and_missing_rate() -> None:
    codec = make()
    ma = message(obx(2, PLETH, "1^9~2^9~x~4", "", "1.1.1.2", vtype="MA"),
                 obx(3, "0^MDC_ATTR_TIME_PD_SAMP^MDC", "8", "ms", "1.1.1.2.1"))
    (chunk,) = [x for x in codec.feed(frame(ma), NOW) if isinstance(x, WaveChunk)]
    assert chunk.rate == pytest.approx(125) and len(chunk) == 4
    assert chunk.samples[0] == 1 and chunk.samples[1] == 2 and math.isnan(chunk.samples[2])
    no_rate = message(obx(2, PLETH, "1^2^3", "", "1.1.1.2", vtype="NA"), cid="M2")
    assert [x for x in codec.feed(frame(no_rate), NOW) if isinstance(x, WaveChunk)] == []
    assert codec.stats.extra["wave_no_rate"] == 1


# -- code maps -------------------------------------------------------------------------------

MINDRAY = (
    "MSH|^~\\&|Mindray^PDS||||20261201000000||ORU^R01|107|P|2.3.1\r"
    "PID|||A123\r"
    "PV1||I|ICU^^5\r"
    "OBR||||Mindray Monitor|||20261201000000\r"
    "OBX||NM|101^HR|2101|60|bpm|||||F\r"
    "OBX||NM|160^SpO2|2101|98|%|||||F\r"
    "OBX||NM|161^PR|2101|61||||||F\r"
    "OBX||NM|151^RR|2101|17||||||F\r"
    "OBX||NM|170^Sys|2101|118|mmHg|||||F\r"
    "OBX||NM|171^Dia|2101|78|mmHg|||||F\r"
    "OBX||NM|500^Sys|2101|121|mmHg|||||F\r"
    "OBX||NM|200^T1|2101|36.8||||||F\r"
    "OBX||NM|250^CO2Et|2101|36|mmHg|||||F\r"
    "OBX||NM|999^Odd|2101|4||||||F\r"
)


def test_mindray_local_codes() -> None:
    codec = make("5")
    items = codec.feed(frame(MINDRAY), NOW)
    assert values(items, Vital.HR) == [60] and values(items, Vital.SPO2) == [98]
    assert values(items, Vital.PULSE_RATE) == [61] and values(items, Vital.RESP_RATE) == [17]
    assert values(items, Vital.NIBP_SYS) == [118] and values(items, Vital.NIBP_DIA) == [78]
    assert values(items, Vital.ETCO2) == [36]
    assert values(items, Vital.TEMP) == []                    # no unit: degC or degF?
    labels = {n.label: n.value for n in numerics(items)}
    assert labels["ART sys"] == 121 and labels["Odd"] == 4 and labels["T1 2101"] == 36.8
    (ack,) = acks(codec)
    msg = validate(ack)
    assert msg.msh.msh_9.to_er7() == "ACK^R01" and msg.msa.msa_1.value == "AA"


def test_a_clinic_map_extends_and_overrides(tmp_path: Path) -> None:
    p = tmp_path / "ward.toml"
    p.write_text('schema = 1\nname = "ward"\n'
                 '[[code]]\ncode = "200"\ntext = "T1"\nvital = "temp"\nunit = "°C"\n'
                 '[[code]]\ncode = "42"\ntext = "Q"\nsender = "pds"\nlabel = "Q index"\n')
    codec = make("5", code_maps=[p])
    items = codec.feed(frame(MINDRAY.replace("999^Odd", "42^Q")), NOW)
    assert values(items, Vital.TEMP) == [36.8]
    assert {n.label for n in numerics(items)} >= {"Q index", "ART sys"}


@pytest.mark.parametrize(("body", "words"), [
    ('[[code]]\ncode = "1"\nvital = "heart"\n', ["key 'vital'", "unknown vital 'heart'"]),
    ('[[code]]\ncode = "1"\nvital = "hr"\ncolour = 1\n', ["key 'colour'", "unknown key"]),
    ('[[code]]\nvital = "hr"\n', ["needs a code or a text"]),
    ('[[code]]\ncode = "1"\n', ["exactly one of vital and label"]),
    ('[[code]]\ncode = "1"\nvital = "hr"\nunit = "mmHg"\n', ["key 'unit'", "no unit of hr"]),
    ('[[code]]\ncode = "1"\nvital = "hr"\nunit = "parsecs"\n', ["unknown unit"]),
    ('[[code]]\ncode = 1\nvital = "hr"\n', ["key 'code'"]),
    ('extra = 1\n', ["extra", "unknown key"]),
    ('schema = 2\n', ["schema"]),
    ('[[code]\n', ["not valid TOML"]),
])
def test_map_files_checked_strictly(tmp_path: Path, body: str, words: list[str]) -> None:
    p = tmp_path / "bad.toml"
    p.write_text(body)
    with pytest.raises(CodeMapError) as exc:
        make(code_maps=[p])
    text = str(exc.value)
    assert str(p) in text
    for w in words:
        assert w in text


def test_missing_map_file(tmp_path: Path) -> None:
    with pytest.raises(CodeMapError, match="cannot be read"):
        make(code_maps=[tmp_path / "none.toml"])


# -- speed -----------------------------------------------------------------------------------

def test_decodes_thousands_of_messages_a_second() -> None:
    codec = make()
    data = frame(VITALS) * 200
    best = math.inf
    for _ in range(3):
        t0 = time.perf_counter()
        codec.feed(data, NOW)
        codec.tick(NOW)
        best = min(best, time.perf_counter() - t0)
    assert 200 / best > 1000           # the benchmark measures; this only guards a collapse


def test_a_replay_routes_by_the_bed_the_session_recorded() -> None:
    from monitor.devices.codecs.hl7_pcd01 import bed_setting

    settings = "MLLP on TCP 127.0.0.1:2575" + bed_setting("KETAMINE^ROOM1^CHAIR1")
    assert Hl7Pcd01Codec.replay_options(settings) == {"bed": "KETAMINE^ROOM1^CHAIR1"}
    assert Hl7Pcd01Codec.replay_options("MLLP on TCP 10.0.0.5:2575" + bed_setting(None)) == {
        "bed": None}
    assert Hl7Pcd01Codec.replay_options(None) == {}      # a plain capture file: every bed
    assert Hl7Pcd01Codec(**Hl7Pcd01Codec.replay_options(settings)).bed is not None
