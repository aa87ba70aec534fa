"""The simulated Philips IntelliVue monitor (intellivue-mib, intellivue-lan).

The host side is built with the layout module's host builders; what the monitor
sends is deframed strictly by the independent guide module
(:mod:`tests.intellivue_guide`) and parsed with the layout's parsers. The
codec round trips at the end drive the real codec against the encoder.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.core.reading import Quality, Reading, WaveChunk, make_reading
from monitor.core.vitals import Vital
from monitor.devices.codecs import intellivue_layout as L
from simulators.encoders import encoder_class
from simulators.encoders.intellivue import (
    PLETH_ABSOLUTE,
    IntelliVueEncoder,
    IntelliVueLanEncoder,
    IntelliVueMibEncoder,
)
from tests import intellivue_guide as g

T = 1_700_000_000.0
VALUES = {Vital.HR: 72, Vital.SPO2: 97, Vital.PULSE_RATE: 71, Vital.RESP_RATE: 14,
          Vital.ETCO2: 38}
NIBP = {Vital.NIBP_SYS: 121, Vital.NIBP_DIA: 79, Vital.NIBP_MEAN: 93}


class Host:
    """A minimal client: sends host messages to the encoder, unwraps what it answers."""

    def __init__(self, encoder: IntelliVueEncoder) -> None:
        self.encoder = encoder
        self.mib = isinstance(encoder, IntelliVueMibEncoder)
        self.received: list[tuple[float, bytes]] = []

    def send(self, message: bytes) -> None:
        self.encoder.receive(L.frame(message) if self.mib else message)

    def run(self, t: float) -> list[bytes]:
        frames = self.encoder.due(t)
        if self.mib:
            messages = g.deframe(b"".join(frames))           # strict: every byte framed right
        else:
            messages = frames
        self.received += [(t, m) for m in messages]
        return messages

    def associate(self, t: float, **profile: object) -> None:
        info = L.UserInfo(profile=L.PollProfile(**profile)) if profile else None
        self.send(L.build_association_request(info))
        accept, create = self.run(t)
        assert L.parse_association(accept).kind == "accept"
        self.send(L.build_mds_create_result(L.parse_data_message(create).invoke_id))
        assert self.run(t) == []
        assert self.encoder.state == "associated"


def push_values(encoder: IntelliVueEncoder, t: float, values: dict | None = None) -> None:
    for vital, value in (values or VALUES).items():
        encoder.push(make_reading(vital, value, t))


def push_pleth(encoder: IntelliVueEncoder, t0: float, seconds: float) -> np.ndarray:
    n = round(seconds * 100)
    times = t0 + np.arange(n) / 100.0
    samples = 0.8 * np.sin(2 * np.pi * 1.2 * times) + 0.1 * np.cos(2 * np.pi * 7.3 * times)
    encoder.push(WaveChunk(Vital.PLETH, t0, 100.0, samples))
    return samples


def replies(messages: list[bytes]) -> list[L.PollReply]:
    out = []
    for m in messages:
        if L.message_kind(m) == "data":
            dm = L.parse_data_message(m)
            if dm.ro_type in (L.RORS_APDU, L.ROLRS_APDU) and dm.command_type == \
                    L.CMD_CONFIRMED_ACTION:
                out.append(L.parse_poll_reply(dm.body))
    return out


def attrs_of(reply: L.PollReply) -> dict[int, dict[int, bytes]]:
    return {o.handle: dict(o.attributes) for o in reply.observations}


def numeric_values(reply: L.PollReply) -> dict[int, L.NuObsValue]:
    out = {}
    for attrs in attrs_of(reply).values():
        if L.NOM_ATTR_NU_VAL_OBS in attrs:
            v = L.parse_nu_obs_value(attrs[L.NOM_ATTR_NU_VAL_OBS])
            out[v.physio_id] = v
        if L.NOM_ATTR_NU_CMPD_VAL_OBS in attrs:
            for v in L.parse_nu_obs_value_cmp(attrs[L.NOM_ATTR_NU_CMPD_VAL_OBS]):
                out[v.physio_id] = v
    return out


@pytest.fixture(params=[IntelliVueMibEncoder, IntelliVueLanEncoder], ids=["mib", "lan"])
def encoder(request: pytest.FixtureRequest) -> IntelliVueEncoder:
    return request.param(np.random.default_rng(0))


# -- the session ------------------------------------------------------------------------------


def test_registered_under_both_protocol_names() -> None:
    assert encoder_class("intellivue-mib") is IntelliVueMibEncoder
    assert encoder_class("intellivue-lan") is IntelliVueLanEncoder


def test_silent_until_associated(encoder: IntelliVueEncoder) -> None:
    host = Host(encoder)
    push_values(encoder, T)
    for k in range(300):
        assert host.run(T + 0.1 * k) == []
    host.send(L.build_mds_create_result(1))                   # data export before associating
    host.send(L.build_poll_request(1, 1, L.NOM_MOC_VMO_METRIC_NU, period_s=10))
    host.send(L.build_release_request())
    assert host.run(T + 31) == []
    assert encoder.ignored == {"not associated": 3}


def _refusals() -> dict[str, bytes]:
    good = L.build_association_request()
    return {
        "cut short": good[:-10],
        "session LI lies": good[:1] + bytes([good[1] - 1]) + good[2:],
        "presentation LI lies": good[:17] + bytes([good[17] + 4]) + good[18:],
        "no user data": good.replace(bytes.fromhex("0102010281"), bytes.fromhex("0102010282")),
        "not a client": L.build_association_request(L.UserInfo(system_type=L.SYST_SERVER)),
        "no protocol version": L.build_association_request(L.UserInfo(protocol_version=0)),
        "no nomenclature": L.build_association_request(L.UserInfo(nomenclature_version=0)),
        "no poll profile": L.build_association_request(L.UserInfo(profile=None)),
        "receive MTU under 300": L.build_association_request(
            L.UserInfo(profile=L.PollProfile(max_mtu_rx=299))),
        "unknown profile revision": L.build_association_request(
            L.UserInfo(profile=L.PollProfile(revision=0x40000000))),
    }


@pytest.mark.parametrize("case", list(_refusals()))
def test_a_malformed_association_request_is_refused(encoder: IntelliVueEncoder,
                                                     case: str) -> None:
    host = Host(encoder)
    host.send(_refusals()[case])
    assert host.run(T) == [g.REFUSE]
    assert encoder.state == "idle"
    host.associate(T + 1)                                       # a good one is then accepted


def test_association_response_and_the_mds_create_event(encoder: IntelliVueEncoder) -> None:
    host = Host(encoder)
    push_values(encoder, T)
    host.send(L.build_association_request(L.UserInfo(profile=L.PollProfile(
        min_poll_period=4000, max_mtu_rx=5000, max_mtu_tx=700))))
    accept, create = host.run(T + 1)
    info = L.parse_association(accept).info
    assert info is not None and info.system_type == L.SYST_SERVER
    assert info.protocol_version == L.MDDL_VERSION1
    assert info.profile is not None
    assert info.profile.min_poll_period == 4000
    assert info.profile.max_mtu_rx == encoder.max_mtu and info.profile.max_mtu_tx == 700
    assert info.profile.ext_options == L.POLL_EXT_PERIOD_NU_1SEC | L.POLL_EXT_PERIOD_RTSA
    dm = L.parse_data_message(create)
    assert (dm.ro_type, dm.command_type) == (L.ROIV_APDU, L.CMD_CONFIRMED_EVENT_REPORT)
    event = L.parse_event_report(dm.body)
    assert event.event_type == L.NOM_NOTI_MDS_CREAT and event.managed_object == L.MDS_OBJECT
    _, attrs = L.parse_mds_create_info(event.data)
    attrs = dict(attrs)
    assert L.parse_absolute_time(attrs[L.NOM_ATTR_TIME_ABS]) == math.floor(
        T + 1 + encoder.clock_offset)
    assert L.read_u32(attrs[L.NOM_ATTR_TIME_REL], 0) == event.event_time
    assert encoder.state == "creating"


def test_the_mds_create_event_is_resent_then_the_association_aborted(
        encoder: IntelliVueEncoder) -> None:
    host = Host(encoder)
    host.send(L.build_association_request())
    host.run(T)
    invoke = L.parse_data_message(host.received[1][1]).invoke_id
    resent = [host.run(T + 0.5 * k) for k in range(1, 18)]       # to T + 8.5 s
    creates = [m for ms in resent for m in ms]
    assert len(creates) == 2                                    # at +3 s and +6 s
    assert all(L.parse_data_message(m).invoke_id == invoke for m in creates)
    assert host.run(T + 9) == [g.ABORT]
    assert encoder.state == "idle"
    assert host.run(T + 20) == []


def test_extended_polls_are_answered_at_their_periods(encoder: IntelliVueEncoder) -> None:
    host = Host(encoder)
    push_values(encoder, T)
    push_pleth(encoder, T - 1, 1.0)
    host.associate(T)
    host.send(L.build_poll_request(1, 11, L.NOM_MOC_VMO_METRIC_NU,
                                   L.NOM_ATTR_GRP_METRIC_VAL_OBS, period_s=10))
    host.send(L.build_poll_request(2, 12, L.NOM_MOC_VMO_METRIC_SA_RT, period_s=10))
    host.send(L.build_poll_request(3, 13, L.NOM_MOC_VMO_AL_MON, L.NOM_ATTR_GRP_AL_MON,
                                   period_s=10))
    got: dict[int, list[tuple[float, L.PollReply]]] = {}
    for k in range(1, 151):                       # 15 s in 0.1 s steps
        t = T + 0.1 * k
        push_values(encoder, t)
        push_pleth(encoder, t - 0.1, 0.1)
        for reply in replies(host.run(t)):
            got.setdefault(reply.obj_class, []).append((t, reply))
    for cls, period, number in ((L.NOM_MOC_VMO_METRIC_NU, 1.0, 11),
                                (L.NOM_MOC_VMO_METRIC_SA_RT, 0.256, 12),
                                (L.NOM_MOC_VMO_AL_MON, 1.0, 13)):
        results = [r for _, r in got[cls]]
        assert [r.sequence_no for r in results] == list(range(len(results)))
        assert {r.poll_number for r in results} == {number}
        assert 10 / period - 1 <= len(results) - 1 <= 10 / period + 1     # then they stop
        ticks = np.diff([r.rel_time for r in results[1:]])
        assert set(ticks.tolist()) == {L.relative_time(period)}
        assert got[cls][-1][0] <= T + 0.1 + 10 + period


def test_a_renewed_wave_poll_goes_on_without_repeating_or_skipping_samples(
        encoder: IntelliVueEncoder) -> None:
    host = Host(encoder)
    push_pleth(encoder, T - 1, 1.0)
    host.associate(T)
    host.send(L.build_poll_request(1, 1, L.NOM_MOC_VMO_METRIC_SA_RT, period_s=3))
    stamps = []
    for k in range(1, 101):
        t = T + 0.1 * k
        push_pleth(encoder, t - 0.1, 0.1)
        if k in (20, 45, 70):
            host.send(L.build_poll_request(k, k, L.NOM_MOC_VMO_METRIC_SA_RT, period_s=3))
        for reply in replies(host.run(t)):
            waves = [a[L.NOM_ATTR_SA_VAL_OBS] for a in attrs_of(reply).values()
                     if L.NOM_ATTR_SA_VAL_OBS in a]
            for raw in waves:
                value, _ = L.parse_sa_obs_value(raw)
                assert len(value.samples) == 64 and value.valid      # 32 samples of 16 bits
                stamps.append(reply.rel_time)
    assert len(stamps) >= 35
    assert set(np.diff(stamps).tolist()) == {L.relative_time(0.256)}


def test_a_single_poll_is_answered_once(encoder: IntelliVueEncoder) -> None:
    host = Host(encoder)
    push_values(encoder, T)
    host.associate(T)
    host.send(L.build_poll_request(7, 70, L.NOM_MOC_VMO_METRIC_NU, extended=False))
    [reply] = replies(host.run(T + 0.5))
    assert reply.poll_number == 70 and reply.action_type == L.NOM_ACT_POLL_MDIB_DATA
    assert numeric_values(reply)[L.NOM_ECG_CARD_BEAT_RATE].value.value == 72
    host.send(L.build_poll_request(8, 71, L.NOM_MOC_VMS_MDS, extended=False))
    [mds] = replies(host.run(T + 2))
    assert L.NOM_ATTR_TIME_ABS in next(iter(attrs_of(mds).values()))
    assert replies(host.run(T + 5)) == []


def test_the_association_is_dropped_when_the_host_stops_talking(
        encoder: IntelliVueEncoder) -> None:
    host = Host(encoder)
    push_values(encoder, T)
    host.associate(T)
    host.send(L.build_poll_request(1, 1, L.NOM_MOC_VMO_METRIC_NU, period_s=60))
    host.run(T + 0.1)
    aborts = []
    for k in range(2, 200):
        t = T + 0.1 * k
        aborts += [t for m in host.run(t) if m == g.ABORT]
    assert aborts == [pytest.approx(T + 10.1)]                  # 10 s after its last message
    assert encoder.state == "idle"
    last_result = max(t for t, m in host.received if m != g.ABORT)
    assert last_result <= T + 10.1
    host.send(L.build_poll_request(2, 2, L.NOM_MOC_VMO_METRIC_NU, extended=False))
    assert host.run(T + 21) == []
    host.associate(T + 22)                                      # and it can associate again
    assert encoder.associations == 2


def test_polls_keep_the_association_alive(encoder: IntelliVueEncoder) -> None:
    host = Host(encoder)
    host.associate(T)
    for k in range(1, 601):
        t = T + 0.1 * k
        if k % 50 == 0:                          # a keep-alive every 5 s
            host.send(L.build_poll_request(k, k, L.NOM_MOC_VMO_AL_MON,
                                           L.NOM_ATTR_GRP_VMO_STATIC, extended=False))
        assert g.ABORT not in host.run(t)
    assert encoder.state == "associated"


def test_release_request(encoder: IntelliVueEncoder) -> None:
    host = Host(encoder)
    push_values(encoder, T)
    host.associate(T)
    host.send(L.build_poll_request(1, 1, L.NOM_MOC_VMO_METRIC_NU, period_s=60))
    host.run(T + 0.1)
    assert len(replies(host.run(T + 2))) >= 1
    host.send(L.build_release_request())
    assert host.run(T + 2.05) == [g.RELEASE_RESPONSE]
    assert encoder.state == "idle"
    assert host.run(T + 10) == [] and host.run(T + 30) == []


def test_the_hosts_abort_ends_the_association_silently(encoder: IntelliVueEncoder) -> None:
    host = Host(encoder)
    host.associate(T)
    host.send(L.build_abort())
    assert host.run(T + 1) == [] and encoder.state == "idle"


def test_an_association_request_while_associated_is_discarded(
        encoder: IntelliVueEncoder) -> None:
    host = Host(encoder)
    host.associate(T)
    for k in range(1, 10):                       # asking again does not keep it alive
        host.send(L.build_association_request())
        assert host.run(T + k) == []
    assert host.run(T + 10) == [g.ABORT]
    assert encoder.ignored["association request while associated"] == 9
    host.associate(T + 11)


def test_results_over_the_mtu_are_linked(encoder: IntelliVueEncoder) -> None:
    host = Host(encoder)
    push_values(encoder, T)
    for vital, value in NIBP.items():
        encoder.push(make_reading(vital, value, T))
    host.associate(T, max_mtu_rx=300)
    host.send(L.build_poll_request(1, 1, L.NOM_MOC_VMO_METRIC_NU))    # all attribute groups
    messages = host.run(T + 1)
    kinds = [L.parse_data_message(m) for m in messages]
    assert len(kinds) >= 3
    assert [k.ro_type for k in kinds] == [L.ROLRS_APDU] * (len(kinds) - 1) + [L.RORS_APDU]
    assert kinds[0].linked == (L.RORLS_FIRST, 1)
    assert kinds[-2].linked == (L.RORLS_LAST, len(kinds) - 1)
    assert all(len(m) - 8 <= 300 for m in messages)          # the command after ROapdus
    handles = [o.handle for r in replies(messages) for o in r.observations]
    assert len(handles) == len(set(handles)) == 7            # HR SpO2 Pulse NBP RR CO2 Temp


def test_polls_beyond_the_monitors_rate_are_ignored(encoder: IntelliVueEncoder) -> None:
    host = Host(encoder)
    host.associate(T)
    for n in range(3):                           # three at once: a burst of two is processed
        host.send(L.build_poll_request(n, n, L.NOM_MOC_VMO_AL_MON, extended=False))
    assert len(replies(host.run(T + 1))) == 2
    assert encoder.ignored["poll rate"] == 1
    for k in range(3, 30):                       # one a second is always answered
        host.send(L.build_poll_request(k, k, L.NOM_MOC_VMO_AL_MON, extended=False))
        assert len(replies(host.run(T + k + 0.05 * (-1) ** k))) == 1


def test_extended_polls_need_the_negotiated_package(encoder: IntelliVueEncoder) -> None:
    host = Host(encoder)
    host.associate(T, ext_options=None)
    host.send(L.build_poll_request(5, 1, L.NOM_MOC_VMO_METRIC_NU, period_s=10))
    [error] = host.run(T + 1)
    dm = L.parse_data_message(error)
    assert (dm.ro_type, dm.invoke_id, dm.command_type) == (L.ROER_APDU, 5, 9)  # NO_SUCH_ACTION


def test_the_wave_priority_list_can_be_set(encoder: IntelliVueEncoder) -> None:
    host = Host(encoder)
    push_pleth(encoder, T - 1, 2.0)
    host.associate(T)
    host.send(L.build_set_priority_list(4, L.NOM_ATTR_POLL_RTSA_PRIO_LIST, [0x00024182]))
    [result] = host.run(T + 0.5)
    assert L.parse_data_message(result).command_type == L.CMD_CONFIRMED_SET
    host.send(L.build_poll_request(5, 5, L.NOM_MOC_VMO_METRIC_SA_RT, extended=True))
    assert replies(host.run(T + 1))[0].observations == []       # no pleth in the list


# -- values ---------------------------------------------------------------------------------


def test_numerics_carry_the_latest_values(encoder: IntelliVueEncoder) -> None:
    host = Host(encoder)
    push_values(encoder, T, {**VALUES, Vital.TEMP: 37.25})
    host.associate(T)
    host.send(L.build_poll_request(1, 1, L.NOM_MOC_VMO_METRIC_NU))
    [reply] = replies(host.run(T + 1))
    values = numeric_values(reply)
    assert {p: v.value.value for p, v in values.items()} == {
        L.NOM_ECG_CARD_BEAT_RATE: 72, L.NOM_PULS_OXIM_SAT_O2: 97, L.NOM_PLETH_PULS_RATE: 71,
        L.NOM_RESP_RATE: 14, L.NOM_AWAY_CO2_ET: 38, L.NOM_AWAY_CO2_INSP_MIN: 0,
        L.NOM_TEMP: 37.25}
    assert all(v.valid for v in values.values())
    assert values[L.NOM_TEMP].unit_code == L.NOM_DIM_DEGC
    labels = {L.parse_string(a[L.NOM_ATTR_ID_LABEL_STRING])[0] for a in attrs_of(reply).values()}
    assert labels == {"HR", "SpO2", "Pulse", "RR", "CO2", "Temp"}


def test_without_capnography_there_is_no_co2(encoder: IntelliVueEncoder) -> None:
    host = Host(encoder)
    push_values(encoder, T, {Vital.HR: 60, Vital.SPO2: 99})
    host.associate(T)
    host.send(L.build_poll_request(1, 1, L.NOM_MOC_VMO_METRIC_NU))
    values = numeric_values(replies(host.run(T + 1))[0])
    assert set(values) == {L.NOM_ECG_CARD_BEAT_RATE, L.NOM_PULS_OXIM_SAT_O2, L.NOM_TEMP}
    assert values[L.NOM_TEMP].value.value == pytest.approx(36.8)


def test_nibp_is_repeated_with_its_determinations_time_stamp(encoder: IntelliVueEncoder) -> None:
    host = Host(encoder)
    push_values(encoder, T)
    host.associate(T)
    host.send(L.build_poll_request(1, 1, L.NOM_MOC_VMO_METRIC_NU,
                                   L.NOM_ATTR_GRP_METRIC_VAL_OBS, period_s=30))
    assert L.NOM_PRESS_BLD_NONINV_SYS not in numeric_values(replies(host.run(T + 0.5))[0])
    for vital, value in NIBP.items():
        encoder.push(make_reading(vital, value, T + 2))
    seen = []
    for k in range(3, 9):
        for reply in replies(host.run(T + k)):
            nbp = [a for a in attrs_of(reply).values() if L.NOM_ATTR_NU_CMPD_VAL_OBS in a
                   and L.NOM_ATTR_TIME_STAMP_ABS in a]
            values = numeric_values(reply)
            seen.append((values[L.NOM_PRESS_BLD_NONINV_SYS].value.value,
                         values[L.NOM_PRESS_BLD_NONINV_DIA].value.value,
                         values[L.NOM_PRESS_BLD_NONINV_MEAN].value.value,
                         L.parse_absolute_time(nbp[0][L.NOM_ATTR_TIME_STAMP_ABS])))
    assert len(seen) >= 6
    assert set(seen) == {(121, 79, 93, math.floor(T + 2 + encoder.clock_offset))}


def test_readings_without_a_value_are_sent_invalid(encoder: IntelliVueEncoder) -> None:
    host = Host(encoder)
    push_values(encoder, T)
    encoder.push(Reading.invalid(Vital.RESP_RATE, T, Quality.NO_VALUE))
    encoder.push(Reading.invalid(Vital.HR, T, Quality.ARTIFACT))
    encoder.push(make_reading(Vital.ETCO2, 36, T, Quality.DEMO))
    host.associate(T)
    host.send(L.build_poll_request(1, 1, L.NOM_MOC_VMO_METRIC_NU))
    values = numeric_values(replies(host.run(T + 1))[0])
    assert values[L.NOM_RESP_RATE].state & L.MS_INVALID
    assert values[L.NOM_RESP_RATE].value.special == "nan"
    assert values[L.NOM_ECG_CARD_BEAT_RATE].state & L.MS_QUESTIONABLE
    assert values[L.NOM_AWAY_CO2_ET].state == L.MS_DEMO_DATA
    assert values[L.NOM_AWAY_CO2_ET].value.value == 36


def test_pleth_is_the_pushed_wave_at_125_hz(encoder: IntelliVueEncoder) -> None:
    host = Host(encoder)
    times = T - 1 + np.arange(1100) / 100.0
    samples = 0.9 * np.sin(2 * np.pi * 1.1 * times)
    encoder.push(WaveChunk(Vital.PLETH, T - 1, 100.0, samples))
    host.associate(T)
    host.send(L.build_poll_request(1, 1, L.NOM_MOC_VMO_METRIC_SA_RT, period_s=10))
    host.run(T + 0.1)
    got = []
    scale = spec = None
    for reply in replies(host.run(T + 5)):
        a = attrs_of(reply)[0x0160]
        if L.NOM_ATTR_SCALE_SPECN_I16 in a:
            scale = L.parse_scale_range_spec(a[L.NOM_ATTR_SCALE_SPECN_I16])
            spec = L.parse_sa_spec(a[L.NOM_ATTR_SA_SPECN])
            assert L.read_u32(a[L.NOM_ATTR_TIME_PD_SAMP], 0) == 64     # 8 ms
        value, _ = L.parse_sa_obs_value(a[L.NOM_ATTR_SA_VAL_OBS])
        got.append((reply.rel_time, np.frombuffer(value.samples, dtype=">u2").astype(float)))
    assert scale is not None and spec is not None
    assert (spec.array_size, spec.sample_size, spec.significant_bits) == (32, 16, 12)
    assert (scale.lower_absolute, scale.upper_absolute) == PLETH_ABSOLUTE
    assert len(got) >= 18                         # 256 ms each, up to 5 s in
    step = (scale.upper_absolute - scale.lower_absolute) / (scale.upper_scaled
                                                            - scale.lower_scaled)
    decoded = np.concatenate([scale.lower_absolute + (raw - scale.lower_scaled) * step
                              for _, raw in got])
    # Sample i of a result is at its Relative Time Stamp + 8 ms * i; the stamp is rounded to
    # 1/8 ms, which moves this wave (slope <= 2 pi 1.1 0.9 /s) by up to 0.0004.
    at = np.concatenate([_session_time_of(encoder, rel) + np.arange(32) / 125.0
                         for rel, _ in got])
    slope = 2 * np.pi * 1.1 * 0.9
    assert np.abs(decoded - np.interp(at, times, samples)).max() <= 0.0005 + slope / 16000


def _session_time_of(encoder: IntelliVueEncoder, rel: int) -> float:
    """Session time of a relative time the encoder sent (its power-on is private)."""
    assert encoder._power_on is not None
    return encoder._power_on + rel / 8000.0


def test_sensor_off(encoder: IntelliVueEncoder) -> None:
    host = Host(encoder)
    push_values(encoder, T)
    push_pleth(encoder, T - 1, 3.0)
    host.associate(T)
    encoder.sensor_off = True
    host.send(L.build_poll_request(1, 1, L.NOM_MOC_VMO_METRIC_NU))
    host.send(L.build_poll_request(2, 2, L.NOM_MOC_VMO_AL_MON))
    host.send(L.build_poll_request(3, 3, L.NOM_MOC_VMO_METRIC_SA_RT))
    numerics, alerts, wave = replies(host.run(T + 1))
    values = numeric_values(numerics)
    for physio in (L.NOM_PULS_OXIM_SAT_O2, L.NOM_PLETH_PULS_RATE):
        assert values[physio].state & L.MS_INVALID and values[physio].value.special == "nan"
    assert values[L.NOM_ECG_CARD_BEAT_RATE].valid
    a = attrs_of(alerts)[0x0170]
    [inop] = L.parse_dev_alarm_list(a[L.NOM_ATTR_AL_MON_T_AL_LIST])
    assert (inop.al_source, inop.al_code, inop.al_type, inop.text) == (
        L.NOM_PULS_OXIM_SAT_O2, L.NOM_EVT_SENSOR_DISCONN, L.MED_PRI_T_AL, "SpO2 SENSOR OFF")
    assert L.parse_dev_alarm_list(a[L.NOM_ATTR_AL_MON_P_AL_LIST]) == []
    assert L.parse_device_alert_condition(a[L.NOM_ATTR_DEV_AL_COND]).max_t_alarm == \
        L.MED_PRI_T_AL
    value, _ = L.parse_sa_obs_value(attrs_of(wave)[0x0160][L.NOM_ATTR_SA_VAL_OBS])
    assert value.state & L.MS_INVALID


def test_the_scenarios_probe_off_and_a_desaturation_raise_the_monitors_alarms(
        encoder: IntelliVueEncoder) -> None:
    host = Host(encoder)
    push_values(encoder, T)
    host.associate(T)

    def alarm_lists(t: float) -> tuple[list[L.AlarmEntry], list[L.AlarmEntry]]:
        host.send(L.build_poll_request(int(t - T), 1, L.NOM_MOC_VMO_AL_MON, extended=False))
        a = attrs_of(replies(host.run(t))[0])[0x0170]
        return (L.parse_dev_alarm_list(a[L.NOM_ATTR_AL_MON_P_AL_LIST]),
                L.parse_dev_alarm_list(a[L.NOM_ATTR_AL_MON_T_AL_LIST]))

    assert alarm_lists(T + 1) == ([], [])
    encoder.push(Reading.invalid(Vital.SPO2, T + 1.5, Quality.SENSOR_OFF))
    assert [e.text for e in alarm_lists(T + 2)[1]] == ["SpO2 SENSOR OFF"]
    encoder.push(make_reading(Vital.SPO2, 86, T + 2.5))
    patient, technical = alarm_lists(T + 3)
    assert [e.text for e in patient] == ["** SpO2 LOW"] and technical == []
    encoder.push(make_reading(Vital.SPO2, 78, T + 3.5, Quality.LOW_PERFUSION))
    patient, technical = alarm_lists(T + 4)
    assert [e.text for e in patient] == ["*** DESAT"]
    assert [e.text for e in technical] == ["SpO2 LOW PERF"]


# -- damaged frames, the LAN's announcements -------------------------------------------------


def test_corrupt_mib_frames_fail_their_fcs() -> None:
    encoder = IntelliVueMibEncoder(np.random.default_rng(1))
    host = Host(encoder)
    push_values(encoder, T)
    host.associate(T)
    host.send(L.build_poll_request(1, 1, L.NOM_MOC_VMO_METRIC_NU))
    [frame] = encoder.due(T + 1)
    bad = encoder.corrupt(frame)
    assert bad != frame and bad[0] == L.BOF and bad[-1] == L.EOF
    with pytest.raises(ValueError, match="bad FCS"):
        g.deframe(bad)
    drops: list[str] = []
    assert L.Deframer(lambda kind, n: drops.append(kind)).feed(bad + frame) == g.deframe(frame)
    assert drops == [L.DROP_BAD_FCS]


def test_frames_from_the_host_with_a_bad_fcs_are_dropped() -> None:
    encoder = IntelliVueMibEncoder(np.random.default_rng(1))
    frame = L.frame(L.build_association_request())
    encoder.receive(frame[:-3] + bytes([frame[-3] ^ 1]) + frame[-2:])
    assert encoder.due(T) == []
    assert encoder.dropped_frames == {L.DROP_BAD_FCS: 1}


def test_corrupt_lan_datagrams_have_lengths_that_lie() -> None:
    encoder = IntelliVueLanEncoder(np.random.default_rng(1))
    host = Host(encoder)
    push_values(encoder, T)
    host.associate(T)
    host.send(L.build_poll_request(1, 1, L.NOM_MOC_VMO_METRIC_NU))
    [datagram] = encoder.due(T + 1)
    with pytest.raises(L.LayoutError):
        L.parse_data_message(encoder.corrupt(datagram))
    assert len(encoder.corrupt(datagram)) == len(datagram)
    with pytest.raises(L.LayoutError):
        L.parse_association(encoder.corrupt(L.build_release_response()))


def test_the_lan_monitor_announces_itself_while_not_associated() -> None:
    encoder = IntelliVueLanEncoder(np.random.default_rng(2))
    encoder.data_port, encoder.ip_address = 40123, "127.0.0.7"
    host = Host(encoder)
    sent = []
    for k in range(700):
        t = T + 0.1 * k
        sent += [(t, ci) for ci in encoder.announcements(t)]
    times = np.array([t for t, _ in sent]) - T
    assert times[0] == 0
    gaps = np.diff(times)
    for gap, period in zip(gaps, (4, 8, 16, 32), strict=False):
        assert 0.9 * period - 0.1 <= gap <= 1.1 * period + 0.1
    ci = L.parse_connect_indication(sent[0][1])
    assert (ci.ip, ci.data_port) == ("127.0.0.7", 40123)
    host.associate(T + 70)
    assert all(encoder.announcements(T + 70 + k) == [] for k in range(60))
    host.send(L.build_release_request())
    host.run(T + 131)
    assert len(encoder.announcements(T + 131)) == 1          # again, from 4 s
    assert encoder.announcements(T + 134.5) == []
    assert len(encoder.announcements(T + 135.5)) == 1


def test_the_mib_frame_rate_limit() -> None:
    encoder = IntelliVueMibEncoder(np.random.default_rng(3))
    host = Host(encoder)
    host.associate(T)
    for n in range(7):
        host.send(L.build_poll_request(n, n, [L.NOM_MOC_VMO_AL_MON, L.NOM_MOC_VMS_MDS,
                                              L.NOM_MOC_PT_DEMOG][n % 3], extended=False))
    assert len(host.run(T + 1)) == 5
    assert encoder.ignored["frame rate"] == 2


# -- the real codec against the encoder ------------------------------------------------------


class Session:
    """The real codec and the encoder in one process, stepped on the session clock."""

    def __init__(self, protocol: str, seed: int = 0) -> None:
        from monitor.devices.protocols import codec_class

        self.encoder = encoder_class(protocol)(np.random.default_rng(seed))
        self.codec = codec_class(protocol)()
        self.lan = protocol == "intellivue-lan"
        self.items: list = []
        self.host_silent = False
        self.damage = False
        self.encoder.receive(self.codec.open_requests())

    def step(self, t: float) -> list:
        for message in self.codec.tick(t):
            if not self.host_silent:
                self.encoder.receive(message)
        frames = self.encoder.due(t)
        if self.damage:
            frames = [self.encoder.corrupt(f) for f in frames]
        out = []
        if self.lan:
            for datagram in frames:
                out += self.codec.feed(datagram, t)
        elif frames:
            out += self.codec.feed(b"".join(frames), t)
        self.items += out
        return out

    def readings(self, vital: Vital) -> list[Reading]:
        return [i for i in self.items if isinstance(i, Reading) and i.vital is vital]


PROTOCOLS = ["intellivue-mib", "intellivue-lan"]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_codec_gets_the_scenarios_values_exactly(protocol: str) -> None:
    s = Session(protocol)
    pushed = {**VALUES, Vital.TEMP: 36.95}
    push_values(s.encoder, T, pushed)
    truth = [(T, pushed)]
    for k in range(1, 201):                          # 20 s
        t = T + 0.1 * k
        if k % 10 == 0:
            values = {v: x + (k // 10) % 3 for v, x in pushed.items()}
            push_values(s.encoder, t, values)
            truth.append((t, values))
        if k == 55:
            for vital, value in NIBP.items():
                s.encoder.push(make_reading(vital, value, t))
        push_pleth(s.encoder, t - 0.1, 0.1)
        s.step(t)
    assert s.codec.link_state == "associated"
    assert s.codec.stats.frames_bad == 0
    for vital in pushed:
        got = s.readings(vital)
        assert len(got) >= 12, vital
        for r in got:
            assert r.quality is Quality.OK
            latest = [v for tt, v in truth if tt <= r.t][-1]
            earlier = [v for tt, v in truth if tt <= r.t - 1.0]
            assert r.value in {latest[vital], *(e[vital] for e in earlier[-1:])}, vital
            assert r.device_time == pytest.approx(r.t + s.encoder.clock_offset, abs=2.0)
    nibp = {v: s.readings(v) for v in NIBP}
    assert {v: [r.value for r in rs] for v, rs in nibp.items()} == {
        v: [x] for v, x in NIBP.items()}                    # once per determination
    # The codec stamps it with the poll's time (the encoder also sends the determination's
    # own Absolute Time Stamp: see test_nibp_is_repeated_with_its_determinations_time_stamp).
    assert nibp[Vital.NIBP_SYS][0].device_time == pytest.approx(
        T + 5.5 + s.encoder.clock_offset, abs=2.0)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_codec_gets_the_pleth_at_125_hz_within_its_resolution(protocol: str) -> None:
    s = Session(protocol, seed=3)
    times = T - 1 + np.arange(3200) / 100.0
    samples = 0.85 * np.sin(2 * np.pi * 1.3 * times) + 0.05 * np.cos(2 * np.pi * 5 * times)
    pushed_to = 0
    for k in range(1, 301):
        t = T + 0.1 * k
        n = round((t - (T - 1)) * 100)
        s.encoder.push(WaveChunk(Vital.PLETH, times[pushed_to], 100.0, samples[pushed_to:n]))
        pushed_to = n
        s.step(t)
    chunks = [i for i in s.items if isinstance(i, WaveChunk)]
    assert sum(len(c) for c in chunks) >= 125 * 25
    assert {c.rate for c in chunks} == {125.0}
    values = np.concatenate([c.samples for c in chunks]).astype(float)
    assert not np.isnan(values).any()
    # The codec's time axis is the arrival time; line the samples up by their count: the
    # first chunk starts at a boundary of the monitor's 256 ms grid.
    first = s.encoder._wave_sent - len(values) // 32          # type: ignore[operator]
    at = s.encoder._wave_boundary(first) + np.arange(len(values)) / 125.0
    slope = 2 * np.pi * (1.3 * 0.85 + 5 * 0.05)
    assert np.abs(values - np.interp(at, times, samples)).max() <= 0.0005 + slope / 16000


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_codec_sees_the_sensor_off(protocol: str) -> None:
    from monitor.core.events import DeviceFlag

    s = Session(protocol, seed=4)
    for k in range(1, 301):
        t = T + 0.1 * k
        s.encoder.sensor_off = 100 <= k < 200
        if k % 10 == 0:
            push_values(s.encoder, t)
        push_pleth(s.encoder, t - 0.1, 0.1)
        s.step(t)
    flags = [(i.t, i.active) for i in s.items if isinstance(i, DeviceFlag)
             and i.name == "sensor_off"]
    assert [a for _, a in flags] == [True, False]
    on, off = flags[0][0], flags[1][0]
    assert T + 10 <= on <= T + 12 and T + 20 <= off <= T + 22
    spo2 = s.readings(Vital.SPO2)
    assert all(r.quality is Quality.NO_VALUE for r in spo2 if on < r.t < off - 1.0)
    assert all(r.value == 97 for r in spo2 if r.t < on - 1.0 or r.t > off + 1.0)
    assert all(r.valid for r in s.readings(Vital.HR))
    waves = [c for c in s.items if isinstance(c, WaveChunk) and on + 0.5 < c.t0 < off - 1.0]
    assert waves and all(np.isnan(c.samples).all() or c.quality is not Quality.OK
                         for c in waves)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_codec_rejects_corrupt_frames(protocol: str) -> None:
    s = Session(protocol, seed=5)
    for k in range(1, 101):
        t = T + 0.1 * k
        push_values(s.encoder, t)
        s.damage = 50 <= k < 80
        if s.damage:
            push_values(s.encoder, t, {v: x + 20 for v, x in VALUES.items()})
        got = s.step(t)
        if s.damage:
            assert not [i for i in got if isinstance(i, Reading)]
    assert s.codec.stats.frames_bad > 0
    assert all(r.value in VALUES.values() for vital in VALUES for r in s.readings(vital))
    assert s.readings(Vital.HR)[-1].t > T + 8.5                 # and it recovered


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_the_codec_reassociates_after_the_monitor_drops_it(protocol: str) -> None:
    s = Session(protocol, seed=6)
    for k in range(1, 801):                            # 80 s; the host deaf-mute 20 s..40 s
        t = T + 0.1 * k
        s.host_silent = 200 <= k < 400
        push_values(s.encoder, t)
        s.step(t)
    assert s.encoder.associations >= 2
    assert s.codec.link_state == "associated"
    hr = [r.t for r in s.readings(Vital.HR)]
    assert any(t > T + 45 for t in hr) and not any(T + 31 < t < T + 40 for t in hr)


FAULTY = """
description = "three minutes with a probe off and a cut cable"
[session]
baseline_min = 1
infusion_min = 1
recovery_min = 1
[[episodes]]
kind = "sensor_off"
at_min = 0.5
duration_s = 20
[[episodes]]
kind = "link_loss"
at_min = 1.5
duration_s = 25
"""


class _Sink:
    """Where the host's copy of the device's bytes goes (nowhere)."""

    def write(self, data: bytes) -> int:
        return len(data)

    def close(self) -> None:
        pass

    def reopen(self) -> None:
        pass


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_every_fault_through_the_runner_with_a_real_host(protocol: str) -> None:
    from monitor.core.events import DeviceFlag
    from monitor.devices.protocols import codec_class
    from simulators import run as sim_run
    from simulators.scenario import parse_scenario

    codec = codec_class(protocol)()
    items: list = []
    feed = codec.feed

    def recording_feed(data: bytes, t: float) -> list:
        out = feed(data, t)
        items.extend(out)
        return out

    codec.feed = recording_feed                       # type: ignore[method-assign]
    encoder = encoder_class(protocol)(np.random.default_rng(7))
    port = sim_run.VirtualHostPort(_Sink(), codec)    # type: ignore[arg-type]
    faults = sim_run.Faults(garbage=0.03, corrupt=0.03, drop=0.02, disconnect_at=140.0,
                            reconnect_after=5.0)
    start = time.time()                               # the runner's session starts now
    counts = sim_run.run(parse_scenario(FAULTY, "faulty"), encoder, port, speed=40.0, seed=3,
                         faults=faults)
    assert counts["corrupted"] > 0 and counts["garbage"] > 0 and counts["link_lost"] > 0
    assert codec.stats.frames_bad > 0
    hr = [r for r in items if isinstance(r, Reading) and r.vital is Vital.HR]
    assert all(r.valid and 30 <= r.value <= 200 for r in hr)
    assert any(r.t > start + 160 for r in hr)                # values again after every fault
    sensor = [(f.t - start, f.active) for f in items if isinstance(f, DeviceFlag)
              and f.name == "sensor_off"]
    assert [a for _, a in sensor] == [True, False]
    # (garbage may cost an association on the way: the flag comes once values do)
    assert 29 <= sensor[0][0] <= 50 and 49 <= sensor[1][0] <= 56
    assert encoder.associations >= 2                   # the 25 s cut dropped the association
    lost = [r for r in hr if start + 92 < r.t < start + 113]
    assert lost == []


@pytest.mark.parametrize("step", [0.1, 1.0, 2.0])
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_the_pleth_has_no_gap_however_the_session_is_stepped(protocol: str, step: float) -> None:
    s = Session(protocol, seed=8)
    n = round(120 / step)
    for k in range(1, n + 1):                        # 2 minutes: the wave poll is renewed
        t = T + step * k
        push_values(s.encoder, t)
        push_pleth(s.encoder, t - step, step)
        s.step(t)
    chunks = [c for c in s.items if isinstance(c, WaveChunk)]
    assert s.codec.stats.extra.get("wave_gap", 0) == 0
    assert sum(len(c) for c in chunks) >= 125 * 110
    assert all(not np.isnan(c.samples).any() for c in chunks)


FAST = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


def _host_messages() -> st.SearchStrategy[bytes]:
    """Messages a host might send, whole, cut, or with a byte changed; or noise."""
    whole = st.sampled_from([
        L.build_association_request(), L.build_mds_create_result(1),
        L.build_poll_request(1, 1, L.NOM_MOC_VMO_METRIC_NU, period_s=10),
        L.build_poll_request(2, 2, L.NOM_MOC_VMO_METRIC_SA_RT, period_s=10),
        L.build_poll_request(3, 3, L.NOM_MOC_VMO_AL_MON, extended=False),
        L.build_set_priority_list(4, L.NOM_ATTR_POLL_RTSA_PRIO_LIST, [L.NLS_NOM_PULS_OXIM_PLETH]),
        L.build_release_request(), L.build_abort()])

    def damage(message: bytes, cut: int, at: int, value: int) -> bytes:
        out = bytearray(message[:max(1, len(message) - cut)])
        out[at % len(out)] = value
        return bytes(out)

    damaged = st.builds(damage, whole, st.integers(0, 40), st.integers(0, 400),
                        st.integers(0, 255))
    return st.one_of(whole, damaged, st.binary(max_size=64))


@FAST
@given(messages=st.lists(_host_messages(), max_size=12), seed=st.integers(0, 9))
@pytest.mark.parametrize("cls", [IntelliVueMibEncoder, IntelliVueLanEncoder])
def test_any_host_bytes_never_raise(cls: type, messages: list[bytes], seed: int) -> None:
    encoder = cls(np.random.default_rng(seed))
    push_values(encoder, T)
    push_pleth(encoder, T - 1, 1.0)
    mds = None
    for i, message in enumerate(messages):
        if mds is not None and message == L.build_mds_create_result(1):
            message = L.build_mds_create_result(mds)
        encoder.receive(L.frame(message) if cls is IntelliVueMibEncoder and i % 3 else message)
        for frame in encoder.due(T + 0.5 * i):
            for m in (L.Deframer().feed(frame) if cls is IntelliVueMibEncoder else [frame]):
                if L.message_kind(m) == "data":
                    dm = L.parse_data_message(m)             # everything it sends is sound
                    if dm.ro_type == L.ROIV_APDU:
                        mds = dm.invoke_id
                else:
                    L.parse_association(m)
    assert encoder.state in ("idle", "creating", "associated")
