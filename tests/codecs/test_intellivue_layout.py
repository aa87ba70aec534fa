"""Round trips of the IntelliVue layout module: every builder parsed back by its parser."""

from __future__ import annotations

import math
import time

import pytest

from monitor.devices.codecs import intellivue_layout as L


def test_fcs_and_framing_match_the_guide_examples() -> None:
    # Guide p. 31: 3A 71 -> C0 3A 71 9B 26 C1; 3A 91 -> ... 95 7D E1 C1 (FCS byte escaped).
    assert L.fcs16(b"\x3a\x71") == 0x269B
    assert L.stuff_frame(b"\x3a\x71") == bytes.fromhex("c03a719b26c1")
    assert L.stuff_frame(b"\x3a\x91") == bytes.fromhex("c03a91957de1c1")


def test_frame_escapes_header_data_and_fcs_and_deframes_split_anywhere() -> None:
    message = bytes([0xC0, 0x7D, 0xC1]) * 70      # length 210 = 0x00D2; escapes in the data
    framed = L.frame(message)
    assert framed.count(b"\xc0") == 1 and framed.count(b"\xc1") == 1
    drops: list[tuple[str, int]] = []
    for cut in range(1, len(framed)):
        d = L.Deframer(lambda kind, n: drops.append((kind, n)))
        assert d.feed(framed[:cut]) + d.feed(framed[cut:]) == [message]
    assert drops == []
    header_escape = L.frame(b"x" * 0xC0)           # length 0x00C0: the header's byte escaped
    assert header_escape[1:6] == bytes([0x11, 0x01, 0x00, 0x7D, 0xE0])
    assert L.Deframer().feed(header_escape) == [b"x" * 0xC0]


def test_deframer_drops_bad_fcs_aborts_garbage_and_oversized_frames() -> None:
    drops: list[str] = []
    d = L.Deframer(lambda kind, n: drops.append(kind))
    good = L.frame(b"hello")
    bad = bytearray(good)
    bad[6] ^= 0x01
    aborted = good[:5] + b"\x7d\xc1"
    assert d.feed(b"junk" + bytes(bad) + aborted + good) == [b"hello"]
    assert drops == [L.DROP_GARBAGE, L.DROP_BAD_FCS, L.DROP_ABORTED]
    drops.clear()
    assert d.feed(b"\xc0" + b"\x00" * (L.MAX_STUFFED_FRAME + 10)) == []
    assert drops == [L.DROP_OVERSIZED] and d.buffered == 0
    wrong_length = L.stuff_frame(L.frame_header(9) + b"hello")
    assert d.feed(wrong_length + good) == [b"hello"]
    assert drops[-1] == L.DROP_MALFORMED


@pytest.mark.parametrize(("raw", "value", "digits"), [
    (0xFD007D00, 32.0, 3), (0xFF000140, 32.0, 1), (0x01000140, 3200.0, 0),
    (0x02000020, 3200.0, 0)])
def test_float_type_examples_of_the_guide(raw: int, value: float, digits: int) -> None:
    f = L.parse_float_type(raw)
    assert f.value == value and f.digits == digits and f.special is None


def test_float_type_round_trip_and_specials() -> None:
    for value, digits in ((36.8, 1), (-5.25, 2), (120.0, 0), (0.0, 0), (97.0, 0)):
        assert L.parse_float_type(L.float_type(value, digits)).value == value
    assert L.parse_float_type(L.FLOAT_NAN).special == "nan"
    assert L.parse_float_type(L.FLOAT_NRES).special == "nres"
    assert L.parse_float_type(L.FLOAT_POS_INF).value == math.inf
    assert L.parse_float_type(L.FLOAT_NEG_INF).value == -math.inf
    assert L.float_type(math.nan) == L.FLOAT_NAN
    assert L.float_type(-math.inf) == L.FLOAT_NEG_INF


def test_association_messages_round_trip() -> None:
    req = L.build_association_request()
    assert req[:2] == b"\x0d\xec"     # the guide's example lengths (p. 304): 236 after the header
    parsed = L.parse_association(req)
    assert parsed.kind == "request" and parsed.info is not None
    assert parsed.info.system_type == L.SYST_CLIENT
    assert parsed.info.profile == L.PollProfile()
    info = L.UserInfo(system_type=L.SYST_SERVER, profile=L.PollProfile(
        min_poll_period=L.relative_time(2.0), max_mtu_rx=800,
        ext_options=L.POLL_EXT_PERIOD_NU_1SEC))
    accept = L.parse_association(L.build_association_response(info))
    assert accept.kind == "accept" and accept.info == info
    assert L.parse_association(L.build_refuse()).kind == "refuse"
    assert L.parse_association(L.build_release_request()).kind == "release_request"
    assert L.parse_association(L.build_release_response()).kind == "release_response"
    assert L.parse_association(L.build_abort()).kind == "abort"
    with pytest.raises(L.LayoutError):
        L.parse_association(req[:-1])


def test_mds_create_event_and_result_round_trip() -> None:
    now = float(int(time.time()))
    attrs = [(L.NOM_ATTR_TIME_ABS, L.absolute_time(now)), (L.NOM_ATTR_TIME_REL, L.u32(123456))]
    msg = L.parse_data_message(L.build_mds_create_event(7, 99, attrs))
    assert (msg.ro_type, msg.invoke_id, msg.command_type) == (
        L.ROIV_APDU, 7, L.CMD_CONFIRMED_EVENT_REPORT)
    event = L.parse_event_report(msg.body)
    assert event.event_type == L.NOM_NOTI_MDS_CREAT and event.event_time == 99
    obj, got = L.parse_mds_create_info(event.data)
    assert obj == L.MDS_OBJECT and got == attrs
    assert L.parse_absolute_time(got[0][1]) == now
    res = L.parse_data_message(L.build_mds_create_result(7))
    assert (res.ro_type, res.invoke_id) == (L.RORS_APDU, 7)
    assert L.parse_event_report_result(res.body).event_type == L.NOM_NOTI_MDS_CREAT


def test_poll_request_round_trip() -> None:
    msg = L.parse_data_message(L.build_poll_request(
        3, 41, L.NOM_MOC_VMO_METRIC_SA_RT, L.NOM_ATTR_GRP_ALL, period_s=10.0))
    req = L.parse_poll_request(msg.body)
    assert req.extended and req.poll_number == 41 and req.obj_class == L.NOM_MOC_VMO_METRIC_SA_RT
    assert req.period_s == 10.0
    single = L.parse_poll_request(L.parse_data_message(L.build_poll_request(
        4, 5, L.NOM_MOC_VMO_AL_MON, L.NOM_ATTR_GRP_VMO_STATIC, extended=False)).body)
    assert not single.extended and single.attr_group == L.NOM_ATTR_GRP_VMO_STATIC


def test_poll_result_round_trip_with_every_value_kind() -> None:
    nibp = L.nu_obs_value_cmp([L.nu_obs_value(L.NOM_PRESS_BLD_NONINV_SYS, 0, L.NOM_DIM_MMHG, 120),
                               L.nu_obs_value(L.NOM_PRESS_BLD_NONINV_DIA, 0, L.NOM_DIM_MMHG, 80),
                               L.nu_obs_value(L.NOM_PRESS_BLD_NONINV_MEAN, 0, L.NOM_DIM_MMHG,
                                              93)])
    hr = L.nu_obs_value(L.NOM_ECG_CARD_BEAT_RATE, L.MS_DEMO_DATA, L.NOM_DIM_BEAT_PER_MIN, 72)
    temp = L.nu_obs_value(L.NOM_TEMP, 0, L.NOM_DIM_DEGC, 0, raw=L.FLOAT_NRES)
    wave = [(L.NOM_ATTR_SA_VAL_OBS, L.sa_obs_value(L.NOM_PLETH, 0, L.sa_samples(range(32)))),
            (L.NOM_ATTR_SA_SPECN, L.sa_spec(32, 16, 12, L.SA_EXT_VAL_RANGE)),
            (L.NOM_ATTR_TIME_PD_SAMP, L.sample_period(0.008)),
            (L.NOM_ATTR_SCALE_SPECN_I16, L.scale_range_spec(0.0, 100.0, 0, 4095)),
            (L.NOM_ATTR_ID_LABEL_STRING, L.string_value("Pleth"))]
    msg = L.build_poll_result(9, 41, L.NOM_MOC_VMO_METRIC_NU, rel_time=4766464, contexts=[
        (0, [(1, [(L.NOM_ATTR_NU_CMPD_VAL_OBS, nibp)]), (2, [(L.NOM_ATTR_NU_VAL_OBS, hr)])]),
        (1, [(3, [(L.NOM_ATTR_NU_VAL_OBS, temp)]), (4, wave)])], sequence_no=2,
        linked=(L.RORLS_FIRST, 1))
    dm = L.parse_data_message(msg)
    assert dm.ro_type == L.ROLRS_APDU and dm.linked == (L.RORLS_FIRST, 1)
    reply = L.parse_poll_reply(dm.body)
    assert (reply.poll_number, reply.sequence_no, reply.rel_time) == (41, 2, 4766464)
    assert reply.abs_time_unix is None
    assert [(o.context_id, o.handle) for o in reply.observations] == [(0, 1), (0, 2), (1, 3),
                                                                      (1, 4)]
    values = L.parse_nu_obs_value_cmp(reply.observations[0].attributes[0][1])
    assert [v.value.value for v in values] == [120, 80, 93]
    hr_value = L.parse_nu_obs_value(reply.observations[1].attributes[0][1])
    assert not hr_value.valid and hr_value.state == L.MS_DEMO_DATA    # first octet not 0 (p. 77)
    assert L.parse_nu_obs_value(reply.observations[2].attributes[0][1]).value.special == "nres"
    attrs = dict(reply.observations[3].attributes)
    sa, _ = L.parse_sa_obs_value(attrs[L.NOM_ATTR_SA_VAL_OBS])
    assert sa.physio_id == L.NOM_PLETH and len(sa.samples) == 64
    assert L.parse_sa_spec(attrs[L.NOM_ATTR_SA_SPECN]) == L.SaSpec(32, 16, 12, L.SA_EXT_VAL_RANGE)
    assert L.read_u32(attrs[L.NOM_ATTR_TIME_PD_SAMP], 0) == 64
    assert L.parse_scale_range_spec(attrs[L.NOM_ATTR_SCALE_SPECN_I16]) == L.ScaleRangeSpec(
        0.0, 100.0, 0, 4095)
    assert L.parse_string(attrs[L.NOM_ATTR_ID_LABEL_STRING])[0] == "Pleth"


def test_alarm_lists_round_trip() -> None:
    entries = [L.dev_alarm_entry(L.NOM_PULS_OXIM_SAT_O2, L.NOM_EVT_SENSOR_DISCONN,
                                 L.MED_PRI_T_AL, text="SpO2 SENSOR OFF"),
               L.dev_alarm_entry(L.NOM_ECG_CARD_BEAT_RATE, 40, L.MED_PRI_P_AL,
                                 text="** HR HIGH")]
    parsed = L.parse_dev_alarm_list(L.dev_alarm_list(entries))
    assert [(e.al_source, e.al_code, e.text) for e in parsed] == [
        (L.NOM_PULS_OXIM_SAT_O2, L.NOM_EVT_SENSOR_DISCONN, "SpO2 SENSOR OFF"),
        (L.NOM_ECG_CARD_BEAT_RATE, 40, "** HR HIGH")]
    cond = L.parse_device_alert_condition(L.device_alert_condition(L.AL_DEV_IN_DEMO_MODE))
    assert cond.device_alert_state == L.AL_DEV_IN_DEMO_MODE


def test_attribute_list_whose_lengths_lie_is_rejected() -> None:
    good = L.attribute_list([(L.NOM_ATTR_NU_VAL_OBS, b"\x00" * 10)])
    L.parse_attribute_list(good)
    for bad in (good[:2] + b"\x00\x20" + good[4:],          # list length too long
                b"\x00\x02" + good[2:],                     # count too large
                good[:6] + b"\x00\x30" + good[8:]):         # AVA length runs past the list
        with pytest.raises(L.LayoutError):
            L.parse_attribute_list(bad)


def test_connect_indication_round_trip() -> None:
    msg = L.build_connect_indication(L.default_connect_attributes("192.168.1.20"))
    ci = L.parse_connect_indication(msg)
    assert ci.ip == "192.168.1.20" and ci.data_port == L.DATA_EXPORT_PORT
    assert L.message_kind(msg) == "connect_indication"


def test_message_length_splits_concatenated_messages() -> None:
    msgs = [L.build_association_response(), L.build_mds_create_event(1, 0, []),
            L.build_poll_result(2, 1, L.NOM_MOC_VMO_METRIC_NU, 0), L.build_abort(),
            L.build_connect_indication([])]
    stream = b"".join(msgs)
    out, pos = [], 0
    while pos < len(stream):
        n = L.message_length(stream, pos)
        assert n is not None and n > 0
        out.append(stream[pos:pos + n])
        pos += n
    assert out == msgs
    assert L.message_length(b"\x42\x00") == -1
    assert L.message_length(b"\xe1\x00\x00") is None


def test_relative_time_wraps() -> None:
    assert L.rel_time_diff(5, L.REL_TIME_MODULUS - 3) == 8
    assert L.rel_time_diff(L.REL_TIME_MODULUS - 3, 5) == -8
    assert L.relative_time(1.0) == 8000


def test_nomenclature_tables() -> None:
    assert L.physio_label(L.NOM_PRESS_BLD_ART_ABP_SYS) == "ABP sys"
    assert L.physio_label(L.NOM_PRESS_BLD_ART_SYS) == "ART sys"
    assert L.physio_label(L.NOM_ECG_CARD_BEAT_RATE) == "HR"
    assert L.unit_symbol(L.NOM_DIM_MMHG) == "mmHg"
    assert L.TEXT_LABELS[0x00024A10] == "ART"
    assert L.physio_label(0x1234) == "physio 0x1234"


def test_set_priority_list_round_trip() -> None:
    msg = L.parse_data_message(L.build_set_priority_list(
        6, L.NOM_ATTR_POLL_RTSA_PRIO_LIST, [L.NLS_NOM_PULS_OXIM_PLETH]))
    assert msg.command_type == L.CMD_CONFIRMED_SET
    obj, entries = L.parse_set_argument(msg.body)
    assert obj == L.MDS_OBJECT
    assert [(op, aid, L.parse_text_id_list(v)) for op, aid, v in entries] == [
        (L.MODIFY_REPLACE, L.NOM_ATTR_POLL_RTSA_PRIO_LIST, [L.NLS_NOM_PULS_OXIM_PLETH])]
    res = L.parse_data_message(L.build_set_result(6, []))
    assert (res.ro_type, res.command_type) == (L.RORS_APDU, L.CMD_CONFIRMED_SET)


def test_stray_bytes_are_not_taken_for_a_release_or_an_abort() -> None:
    for stray in (b"\x09\x02\x00\x00", b"\x19\x03\x11\x01\x03", b"\x0a\x01\xc1",
                  b"\x0c\x03\x00\x00\x00", b"\x19\x05\x11\x01\x03\xc1\x05"):
        with pytest.raises(L.LayoutError):
            L.parse_association(stray)


def test_long_association_messages_use_the_long_length_forms() -> None:
    info = L.UserInfo(options=[(0xF000 + i, b"\x00" * 8) for i in range(20)])
    req = L.build_association_request(info)
    assert req[1] == 0xFF and L.read_u16(req, 2) == len(req) - 4     # LI > 254 (p. 67)
    assert L.parse_association(req).info == info
    assert L.asn_length(256) == b"\x82\x01\x00" and L.read_asn_length(b"\x82\x01\x00", 0) == (
        256, 3)
