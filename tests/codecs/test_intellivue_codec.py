"""IntelliVue codecs driven through whole sessions with frames built by the layout module.

(The independent, guide-built frames are in ``test_intellivue_guide*.py``.)
"""

from __future__ import annotations

import itertools
import math
import time

import numpy as np
import pytest

from monitor.core.events import DeviceFlag
from monitor.core.reading import DeviceNumeric, Quality, Reading, WaveChunk
from monitor.core.vitals import Vital
from monitor.devices.codecs import intellivue as IV
from monitor.devices.codecs import intellivue_layout as L
from monitor.devices.protocols import codec_class

CODECS = (IV.IntelliVueMibCodec, IV.IntelliVueLanCodec)
T0 = 1_000.0


class Monitor:
    """A minimal monitor side written with the layout builders: answers what the codec sends."""

    def __init__(self, codec: IV._IntelliVueCodec) -> None:
        self.codec = codec
        self.lan = isinstance(codec, IV.IntelliVueLanCodec)
        self.deframer = L.Deframer()
        self.polls: dict[int, L.ActionRequest] = {}       # invoke id -> request
        self.sent: list[bytes] = []
        self.rel = 8000 * 1000

    def wrap(self, message: bytes) -> bytes:
        return message if self.lan else L.frame(message)

    def receive(self, wire: list[bytes] | bytes) -> list[bytes]:
        """The messages the codec sent (unframed), remembering its polls."""
        chunks = [wire] if isinstance(wire, bytes) else wire
        out: list[bytes] = []
        for chunk in chunks:
            out.extend([chunk] if self.lan else self.deframer.feed(chunk))
        for m in out:
            if L.message_kind(m) == "data":
                dm = L.parse_data_message(m)
                if dm.ro_type == L.ROIV_APDU and dm.command_type == L.CMD_CONFIRMED_ACTION:
                    self.polls[dm.invoke_id] = L.parse_poll_request(dm.body)
        self.sent.extend(out)
        return out

    def invoke_for(self, obj_class: int) -> tuple[int, L.ActionRequest]:
        for invoke, req in reversed(list(self.polls.items())):
            if req.obj_class == obj_class:
                return invoke, req
        raise AssertionError(f"no poll for class {obj_class}")

    def feed(self, message: bytes, t: float) -> list:
        return self.codec.feed(self.wrap(message), t)

    def result(self, obj_class: int, contexts: list, t: float, rel: int | None = None,
               linked: tuple[int, int] | None = None, abs_time: bytes = L.ABS_TIME_INVALID
               ) -> list:
        invoke, req = self.invoke_for(obj_class)
        msg = L.build_poll_result(invoke, req.poll_number, obj_class,
                                  self.rel if rel is None else rel, abs_time, contexts,
                                  attr_group=req.attr_group, linked=linked)
        return self.feed(msg, t)


def start(codec_cls: type = IV.IntelliVueMibCodec, poll_period_s: float = 1.0,
          mds_time: float | None = None) -> tuple[IV._IntelliVueCodec, Monitor, float]:
    """A codec associated, its MDS create event answered and its first polls sent."""
    codec = codec_cls(poll_period_s=poll_period_s)
    mon = Monitor(codec)
    first = mon.receive(codec.open_requests())
    assert L.parse_association(first[0]).kind == "request"
    t = T0
    assert codec.tick(t) == []
    assert mon.feed(L.build_association_response(), t + 0.05) == []
    assert codec.link_state == "associated"
    attrs = [(L.NOM_ATTR_TIME_ABS, L.absolute_time(mds_time)), (L.NOM_ATTR_TIME_REL, L.u32(mon.rel))]
    mon.feed(L.build_mds_create_event(77, mon.rel, attrs), t + 0.1)
    t = t + 0.15
    out = mon.receive(codec.tick(t))
    result = L.parse_data_message(out[0])
    assert (result.ro_type, result.invoke_id) == (L.RORS_APDU, 77)
    for dt in (0.2, 0.4, 0.6):
        mon.receive(codec.tick(t + dt))
    return codec, mon, t + 0.6


def nu(physio: int, value: float, unit: int, digits: int = 0, state: int = 0,
       raw: int | None = None) -> bytes:
    return L.nu_obs_value(physio, state, unit, value, digits, raw)


def numerics(*objects: tuple[int, list]) -> list:
    return [(0, list(objects))]


def readings(items: list) -> dict[Vital, Reading]:
    return {i.vital: i for i in items if isinstance(i, Reading)}


def device_numerics(items: list) -> dict[str, DeviceNumeric]:
    return {i.label: i for i in items if isinstance(i, DeviceNumeric)}


def flags(items: list) -> list[tuple[str, bool]]:
    return [(i.name, i.active) for i in items if isinstance(i, DeviceFlag)]


# -- the whole session ----------------------------------------------------------------------

@pytest.mark.parametrize("codec_cls", CODECS)
def test_whole_session_gives_every_numeric_in_our_units(codec_cls: type) -> None:
    now = float(int(time.time()))
    codec, mon, t = start(codec_cls, mds_time=now)
    classes = {req.obj_class for req in mon.polls.values()}
    assert classes == {L.NOM_MOC_VMO_METRIC_NU, L.NOM_MOC_VMO_AL_MON, L.NOM_MOC_VMO_METRIC_SA_RT}
    _, nu_req = mon.invoke_for(L.NOM_MOC_VMO_METRIC_NU)
    assert nu_req.extended and nu_req.attr_group == L.NOM_ATTR_GRP_ALL and nu_req.period_s is None
    _, wave_req = mon.invoke_for(L.NOM_MOC_VMO_METRIC_SA_RT)
    assert wave_req.period_s == IV.WAVE_POLL_PERIOD_S
    prio = [m for m in mon.sent if L.message_kind(m) == "data"
            and L.parse_data_message(m).command_type == L.CMD_CONFIRMED_SET]
    assert len(prio) == 1
    objects = numerics(
        (1, [(L.NOM_ATTR_NU_VAL_OBS, nu(L.NOM_ECG_CARD_BEAT_RATE, 72, L.NOM_DIM_BEAT_PER_MIN))]),
        (2, [(L.NOM_ATTR_NU_VAL_OBS, nu(L.NOM_PULS_OXIM_SAT_O2, 97, L.NOM_DIM_PERCENT))]),
        (3, [(L.NOM_ATTR_NU_VAL_OBS, nu(L.NOM_PLETH_PULS_RATE, 71, L.NOM_DIM_BEAT_PER_MIN))]),
        (4, [(L.NOM_ATTR_NU_CMPD_VAL_OBS, L.nu_obs_value_cmp([
            nu(L.NOM_PRESS_BLD_NONINV_SYS, 16.0, L.NOM_DIM_KILO_PASCAL, 1),
            nu(L.NOM_PRESS_BLD_NONINV_DIA, 10.7, L.NOM_DIM_KILO_PASCAL, 1),
            nu(L.NOM_PRESS_BLD_NONINV_MEAN, 12.4, L.NOM_DIM_KILO_PASCAL, 1)]))]),
        (5, [(L.NOM_ATTR_NU_VAL_OBS, nu(L.NOM_RESP_RATE, 14, L.NOM_DIM_RESP_PER_MIN))]),
        (6, [(L.NOM_ATTR_NU_VAL_OBS, nu(L.NOM_AWAY_RESP_RATE, 12, L.NOM_DIM_RESP_PER_MIN))]),
        (7, [(L.NOM_ATTR_NU_CMPD_VAL_OBS, L.nu_obs_value_cmp([
            nu(L.NOM_AWAY_CO2_ET, 5.0, L.NOM_DIM_KILO_PASCAL, 1),
            nu(L.NOM_AWAY_CO2_INSP_MIN, 0.4, L.NOM_DIM_KILO_PASCAL, 1)]))]),
        (8, [(L.NOM_ATTR_NU_VAL_OBS, nu(L.NOM_TEMP_GEN_1, 98.6, L.NOM_DIM_FAHR, 1))]),
        (9, [(L.NOM_ATTR_NU_VAL_OBS, nu(L.NOM_TEMP_SKIN, 33.1, L.NOM_DIM_DEGC, 1))]),
        (10, [(L.NOM_ATTR_NU_VAL_OBS, nu(0x7777, 5, L.NOM_DIM_PERCENT))]),
        (11, [(L.NOM_ATTR_NU_VAL_OBS, nu(L.NOM_PULS_OXIM_SAT_O2, 95, L.NOM_DIM_PERCENT)),
              (L.NOM_ATTR_ID_LABEL_STRING, L.string_value("SpO2 r"))]))
    items = mon.result(L.NOM_MOC_VMO_METRIC_NU, objects, t + 0.1)
    r = readings(items)
    assert {v: r[v].value for v in (Vital.HR, Vital.SPO2, Vital.PULSE_RATE, Vital.RESP_RATE,
                                    Vital.IMP_RR)} == {
        Vital.HR: 72, Vital.SPO2: 97, Vital.PULSE_RATE: 71, Vital.RESP_RATE: 12,
        Vital.IMP_RR: 14}
    assert r[Vital.NIBP_SYS].value == 120.0 and r[Vital.NIBP_DIA].value == 80.3
    assert r[Vital.NIBP_MEAN].value == 93.0
    assert r[Vital.ETCO2].value == 37.5 and r[Vital.FICO2].value == 3.0
    assert r[Vital.TEMP].value == 37.0
    assert all(x.device_time == pytest.approx(now, abs=1) for x in r.values())
    extra = device_numerics(items)
    assert extra["Tskin"].value == pytest.approx(33.1) and extra["Tskin"].unit == "°C"
    assert extra["physio 0x7777"].code == 0x7777
    assert extra["SpO2 r"].value == 95 and extra["SpO2 r"].source == codec.name
    assert codec.stats.extra["unknown_numerics"] == 1
    assert codec.stats.extra["polls_answered"] == 1
    assert codec.link_state == "associated"
    sent = codec.stats.extra["polls_sent"]
    assert codec.status_detail == f"1 of {sent} polls answered"


def test_invasive_pressures_are_kept_by_id_and_label() -> None:
    _codec, mon, t = start()
    objects = numerics(
        (20, [(L.NOM_ATTR_NU_CMPD_VAL_OBS, L.nu_obs_value_cmp([
            nu(L.NOM_PRESS_BLD_ART_ABP_SYS, 121, L.NOM_DIM_MMHG),
            nu(L.NOM_PRESS_BLD_ART_ABP_DIA, 79, L.NOM_DIM_MMHG),
            nu(L.NOM_PRESS_BLD_ART_ABP_MEAN, 93, L.NOM_DIM_MMHG)])),
              (L.NOM_ATTR_ID_LABEL_STRING, L.string_value("ABP"))]),
        (21, [(L.NOM_ATTR_NU_CMPD_VAL_OBS, L.nu_obs_value_cmp([
            nu(L.NOM_PRESS_BLD_ART_SYS, 118, L.NOM_DIM_MMHG),
            nu(L.NOM_PRESS_BLD_ART_MEAN, 90, L.NOM_DIM_MMHG)])),
              (L.NOM_ATTR_ID_LABEL, L.label(0x00024A10))]),
        (22, [(L.NOM_ATTR_NU_CMPD_VAL_OBS, L.nu_obs_value_cmp([
            nu(0xF0A5, 30, L.NOM_DIM_MMHG), nu(0xF0A7, 20, L.NOM_DIM_MMHG)]))]))
    items = mon.result(L.NOM_MOC_VMO_METRIC_NU, objects, t)
    extra = device_numerics(items)
    assert {k: (v.code, v.value) for k, v in extra.items()} == {
        "ABP sys": (0x4A15, 121), "ABP dia": (0x4A16, 79), "ABP mean": (0x4A17, 93),
        "ART sys": (0x4A11, 118), "ART mean": (0x4A13, 90),
        "P1 sys": (0xF0A5, 30), "P1 mean": (0xF0A7, 20)}
    assert all(v.unit == "mmHg" for v in extra.values())
    # The label learnt from the first poll stays with the object.
    items = mon.result(L.NOM_MOC_VMO_METRIC_NU, numerics(
        (20, [(L.NOM_ATTR_NU_VAL_OBS, nu(L.NOM_PRESS_BLD_ART_ABP_MEAN, 95, L.NOM_DIM_MMHG))])),
        t + 1)
    assert device_numerics(items)["ABP mean"].value == 95


def test_numerics_polls_follow_the_chosen_period_and_ask_for_labels_sometimes() -> None:
    codec, mon, t = start(poll_period_s=2.0)
    sent: list[tuple[float, L.ActionRequest]] = []
    mon.polls.clear()
    for k in range(1, 400):
        now = t + 0.1 * k
        before = set(mon.polls)
        mon.receive(codec.tick(now))
        mon.feed(L.build_poll_result(0, 0, L.NOM_MOC_VMO_AL_MON, 0), now)   # keeps it talking
        sent += [(now, mon.polls[i]) for i in mon.polls if i not in before]
    nu_times = [s for s, r in sent if r.obj_class == L.NOM_MOC_VMO_METRIC_NU]
    assert np.allclose(np.diff(nu_times), 2.0)
    refreshes = [s for s, r in sent if r.obj_class == L.NOM_MOC_VMO_METRIC_NU
                 and r.attr_group == L.NOM_ATTR_GRP_ALL]
    first_poll = t - 0.4                      # in start(): all groups, then every 30 s
    assert len(refreshes) == 1 and refreshes[0] - first_poll == pytest.approx(
        IV.CONTEXT_REFRESH_S, abs=2.0)
    waves = [s for s, r in sent if r.obj_class == L.NOM_MOC_VMO_METRIC_SA_RT]
    assert np.allclose(np.diff(waves), IV.WAVE_RENEW_S)


# -- the state machine ----------------------------------------------------------------------

@pytest.mark.parametrize("codec_cls", CODECS)
def test_refusal_is_reported_and_retried_with_back_off(codec_cls: type) -> None:
    codec = codec_cls()
    mon = Monitor(codec)
    codec.open_requests()
    codec.tick(T0)
    mon.feed(L.build_refuse(), T0 + 0.1)
    assert codec.link_state == "refused: by the monitor (reason code 0)"
    assert codec.stats.extra["refused"] == 1
    assert codec.tick(T0 + 2.0) == []
    out = mon.receive(codec.tick(T0 + 2.11))
    assert [L.parse_association(m).kind for m in out] == ["request"]
    assert codec.link_state == "associating"


def test_a_monitor_that_never_answers_is_retried_2_4_8_10_10_s_apart() -> None:
    codec = IV.IntelliVueMibCodec()
    mon = Monitor(codec)
    codec.open_requests()
    attempts, states = [], set()
    t = T0
    while t < T0 + 200:
        out = mon.receive(codec.tick(t))
        if any(L.message_kind(m) == "request" for m in out):
            attempts.append(t)
            assert [L.message_kind(m) for m in out] == ["release_request", "request"]
        states.add(codec.link_state)
        t = round(t + 0.1, 6)
    gaps = np.round(np.diff([T0, *attempts]), 1)
    assert list(gaps[:7]) == [5.0, 7.0, 11.0, 13.0, 13.0, 13.0, 13.0]   # 3 s wait + back-off
    assert "no answer (retrying in 2 s)" in states and "no answer (retrying in 10 s)" in states
    assert codec.stats.extra["no_answer"] >= 7


def test_abort_and_release_from_the_monitor_lead_to_a_new_association() -> None:
    codec, mon, t = start()
    mon.feed(L.build_abort(), t)
    assert codec.link_state == "aborted" and codec.stats.extra["aborted"] == 1
    assert codec.tick(t + 1.9) == []
    out = mon.receive(codec.tick(t + 2.0))
    assert [L.message_kind(m) for m in out] == ["request"]
    mon.feed(L.build_association_response(), t + 2.1)
    assert codec.link_state == "associated"
    assert codec.stats.extra["associations"] == 2 and codec.stats.extra["reassociations"] == 1
    mon.feed(L.build_mds_create_event(5, 0, []), t + 2.2)
    mon.receive(codec.tick(t + 2.3))
    mon.feed(L.build_release_request(), t + 3)
    out = mon.receive(codec.tick(t + 3.1))
    assert [L.message_kind(m) for m in out] == ["release_response"]
    assert codec.link_state == "released"
    out = mon.receive(codec.tick(t + 5.1))
    assert [L.message_kind(m) for m in out] == ["request"]


def test_keep_alive_goes_out_well_inside_the_monitors_time_out() -> None:
    codec, mon, t = start(poll_period_s=20.0)
    last_tx = t
    gaps = []
    for k in range(1, 600):
        now = t + 0.1 * k
        out = mon.receive(codec.tick(now))
        if out:
            gaps.append(now - last_tx)
            last_tx = now
            mon.feed(L.build_poll_result(0, 0, L.NOM_MOC_VMO_AL_MON, 0), now)
    assert max(gaps) <= IV.KEEPALIVE_S + 0.11
    keepalives = [r for r in mon.polls.values() if not r.extended]
    assert keepalives and all(r.obj_class == L.NOM_MOC_VMO_AL_MON
                              and r.attr_group == L.NOM_ATTR_GRP_VMO_STATIC for r in keepalives)
    assert codec.link_state == "associated"


def test_silent_monitor_after_association_is_reassociated() -> None:
    codec, _mon, t = start()
    for k in range(1, 200):
        codec.tick(t + 0.1 * k)
        if codec.link_state != "associated":
            break
    assert codec.link_state.startswith("no answer")
    assert (t + 0.1 * k) - t >= IV.RX_TIMEOUT_S - 0.7
    assert codec.stats.extra["monitor_silent"] == 1


def test_no_mds_create_event_after_the_accept_is_a_lost_association() -> None:
    codec = IV.IntelliVueMibCodec()
    mon = Monitor(codec)
    codec.open_requests()
    codec.tick(T0)
    mon.feed(L.build_association_response(), T0 + 0.1)
    codec.tick(T0 + 0.2)
    codec.tick(T0 + 0.2 + IV.MDS_WAIT_S)
    assert codec.link_state.startswith("no answer") and codec.stats.extra["no_mds_create"] == 1


def test_resent_mds_create_event_is_answered_again_without_restarting_polls() -> None:
    codec, mon, t = start()
    mon.polls.clear()
    mon.feed(L.build_mds_create_event(77, 0, []), t)
    out = mon.receive(codec.tick(t + 0.05))
    assert [L.parse_data_message(m).invoke_id for m in out] == [77]


def test_release_on_close() -> None:
    codec, mon, t = start()
    out = mon.receive(codec.close_requests())
    assert [L.message_kind(m) for m in out] == ["release_request"]
    assert codec.link_state == "released"
    assert codec.tick(t + 100) == []
    mon.feed(L.build_release_response(), t + 1)
    assert codec.link_state == "released"


def test_accept_without_poll_extensions_falls_back_to_single_polls_without_waves() -> None:
    codec = IV.IntelliVueMibCodec()
    mon = Monitor(codec)
    codec.open_requests()
    codec.tick(T0)
    mon.feed(L.build_association_response(L.UserInfo(
        system_type=L.SYST_SERVER, profile=L.PollProfile(ext_options=None))), T0 + 0.1)
    mon.feed(L.build_mds_create_event(1, 0, []), T0 + 0.2)
    for k in range(1, 20):
        mon.receive(codec.tick(T0 + 0.2 + 0.1 * k))
    assert {(r.obj_class, r.extended) for r in mon.polls.values()} == {
        (L.NOM_MOC_VMO_METRIC_NU, False), (L.NOM_MOC_VMO_AL_MON, False)}


# -- values ---------------------------------------------------------------------------------

def _nibp(sys: float, dia: float, mean: float, state: int = 0,
          stamp: float | None = None) -> list:
    attrs = [(L.NOM_ATTR_NU_CMPD_VAL_OBS, L.nu_obs_value_cmp([
        nu(L.NOM_PRESS_BLD_NONINV_SYS, sys, L.NOM_DIM_MMHG, state=state),
        nu(L.NOM_PRESS_BLD_NONINV_DIA, dia, L.NOM_DIM_MMHG, state=state),
        nu(L.NOM_PRESS_BLD_NONINV_MEAN, mean, L.NOM_DIM_MMHG, state=state)]))]
    if stamp is not None:
        attrs.append((L.NOM_ATTR_TIME_STAMP_ABS, L.absolute_time(stamp)))
    return numerics((30, attrs))


def test_nibp_is_emitted_once_per_determination() -> None:
    _codec, mon, t = start()

    def sys_values(objects: list, at: float) -> list[float]:
        return [i.value for i in mon.result(L.NOM_MOC_VMO_METRIC_NU, objects, at)
                if isinstance(i, Reading) and i.vital is Vital.NIBP_SYS]

    stamp = 1_700_000_000.0
    assert sys_values(_nibp(120, 80, 93, stamp=stamp), t) == [120]
    assert sys_values(_nibp(120, 80, 93, stamp=stamp), t + 1) == []
    assert sys_values(_nibp(118, 0, 0, state=L.MS_EARLY_INDICATION, stamp=stamp), t + 2) == []
    assert sys_values(_nibp(120, 80, 93, stamp=stamp + 300), t + 3) == [120]   # same values, new
    # Without a time stamp: a change of the values is a new determination.
    assert sys_values(_nibp(110, 70, 83), t + 4) == [110]
    assert sys_values(_nibp(110, 70, 83), t + 5) == []
    assert sys_values(_nibp(0, 0, 0, state=L.MS_INVALID), t + 6) == []
    assert sys_values(_nibp(110, 70, 83), t + 7) == [110]


def test_an_nibp_determination_keeps_its_own_time_as_device_time() -> None:
    _codec, mon, t = start(mds_time=1_700_000_600.0)   # the monitor's clock runs
    stamp = 1_700_000_000.0        # the cuff's time, minutes before the poll's
    items = mon.result(L.NOM_MOC_VMO_METRIC_NU, _nibp(120, 80, 93, stamp=stamp), t)
    nibp = [i for i in items if isinstance(i, Reading) and i.vital is Vital.NIBP_SYS]
    assert [r.device_time for r in nibp] == [stamp]
    others = [i for i in items if isinstance(i, Reading) and i.vital is not Vital.NIBP_SYS
              and i.vital not in (Vital.NIBP_DIA, Vital.NIBP_MEAN)]
    assert all(r.device_time != stamp for r in others)


@pytest.mark.parametrize(("raw", "state", "quality"), [
    (L.FLOAT_NAN, 0, Quality.NO_VALUE), (L.FLOAT_NRES, 0, Quality.NO_VALUE),
    (L.FLOAT_POS_INF, 0, Quality.OUT_OF_RANGE), (L.FLOAT_NEG_INF, 0, Quality.OUT_OF_RANGE),
    (None, L.MS_INVALID, Quality.NO_VALUE), (None, L.MS_UNAVAILABLE, Quality.NO_VALUE),
    (None, L.MS_QUESTIONABLE, Quality.QUESTIONABLE),
    (None, L.MS_CALIBRATION_ONGOING, Quality.QUESTIONABLE)])
def test_float_specials_and_states_are_never_shown_as_numbers(raw: int | None, state: int,
                                                              quality: Quality) -> None:
    _codec, mon, t = start()
    items = mon.result(L.NOM_MOC_VMO_METRIC_NU, numerics(
        (1, [(L.NOM_ATTR_NU_VAL_OBS, nu(L.NOM_PULS_OXIM_SAT_O2, 97, L.NOM_DIM_PERCENT,
                                        state=state, raw=raw))]),
        (2, [(L.NOM_ATTR_NU_VAL_OBS, nu(0xF0A7, 20, L.NOM_DIM_MMHG, state=state, raw=raw))])), t)
    spo2 = readings(items)[Vital.SPO2]
    assert math.isnan(spo2.value) and spo2.quality is quality
    p1 = device_numerics(items)["P1 mean"]
    assert math.isnan(p1.value) and p1.quality is quality


def test_demo_data_keeps_the_value_and_flags_the_demo_mode_on_change() -> None:
    _codec, mon, t = start()
    demo = numerics((1, [(L.NOM_ATTR_NU_VAL_OBS, nu(L.NOM_ECG_CARD_BEAT_RATE, 60,
                                                    L.NOM_DIM_BEAT_PER_MIN, state=L.MS_DEMO_DATA))]))
    items = mon.result(L.NOM_MOC_VMO_METRIC_NU, demo, t)
    hr = readings(items)[Vital.HR]
    assert hr.value == 60 and hr.quality is Quality.DEMO
    assert flags(items) == [(IV.DEMO_FLAG, True)]
    assert flags(mon.result(L.NOM_MOC_VMO_METRIC_NU, demo, t + 1)) == []
    normal = numerics((1, [(L.NOM_ATTR_NU_VAL_OBS, nu(L.NOM_ECG_CARD_BEAT_RATE, 61,
                                                      L.NOM_DIM_BEAT_PER_MIN))]))
    assert flags(mon.result(L.NOM_MOC_VMO_METRIC_NU, normal, t + 2)) == [(IV.DEMO_FLAG, False)]


def test_co2_in_percent_uses_the_ambient_pressure_and_odd_units_are_never_converted_blindly(
        ) -> None:
    codec, mon, t = start()
    items = mon.result(L.NOM_MOC_VMO_METRIC_NU, numerics(
        (1, [(L.NOM_ATTR_NU_VAL_OBS, nu(L.NOM_PRESS_AIR_AMBIENT, 700, L.NOM_DIM_MMHG))]),
        (2, [(L.NOM_ATTR_NU_VAL_OBS, nu(L.NOM_AWAY_CO2_ET, 5.0, L.NOM_DIM_PERCENT, 1))]),
        (3, [(L.NOM_ATTR_NU_VAL_OBS, nu(L.NOM_PULS_OXIM_SAT_O2, 0.97, L.NOM_DIM_DIMLESS, 2))])),
        t)
    assert readings(items)[Vital.ETCO2].value == 35.0
    assert Vital.SPO2 not in readings(items)
    assert device_numerics(items)["SpO2"].value == 0.97
    assert codec.stats.extra["unit_mismatch"] == 1


# -- waves ----------------------------------------------------------------------------------

PERIOD = 0.008                      # 125 samples/s: 32 samples per 256 ms result


def _wave(samples: list[int], context: bool = True, state: int = 0) -> list:
    attrs = [(L.NOM_ATTR_SA_VAL_OBS, L.sa_obs_value(L.NOM_PLETH, state, L.sa_samples(samples)))]
    if context:
        attrs += [(L.NOM_ATTR_SA_SPECN, L.sa_spec(32, 16, 12, L.SA_EXT_VAL_RANGE)),
                  (L.NOM_ATTR_TIME_PD_SAMP, L.sample_period(PERIOD)),
                  (L.NOM_ATTR_SCALE_SPECN_I16, L.scale_range_spec(0.0, 100.0, 0, 1000)),
                  (L.NOM_ATTR_SA_FIXED_VAL_SPECN, L.sa_fixed_val_spec(
                      [(L.SA_FIX_INVALID_MASK, 0x8000)]))]
    return [(0, [(40, attrs)])]


def _chunks(items: list) -> list[WaveChunk]:
    return [i for i in items if isinstance(i, WaveChunk)]


def test_pleth_at_its_sample_rate_scaled_contiguous_then_a_gap_left_as_a_gap() -> None:
    codec, mon, t = start()
    step = L.relative_time(0.256)
    rel = mon.rel
    assert _chunks(mon.result(L.NOM_MOC_VMO_METRIC_SA_RT, _wave([1] * 32, context=False), t,
                              rel)) == []
    assert codec.stats.extra["wave_without_context"] == 1
    chunks = []
    for k in range(4):
        samples = [10 * k + i for i in range(32)]
        samples[3] |= 0x8000 if k == 0 else 0                    # invalid-mask sample
        samples[5] |= 0x1000                                     # above 12 significant bits
        chunks += _chunks(mon.result(L.NOM_MOC_VMO_METRIC_SA_RT, _wave(samples),
                                     t + 0.256 * (k + 1), rel + k * step))
    assert [c.rate for c in chunks] == [125.0] * 4
    assert all(math.isclose(b.t0, a.t_end) for a, b in itertools.pairwise(chunks))
    first = chunks[0].samples
    assert first[0] == pytest.approx(0.0) and first[1] == pytest.approx(0.1)
    assert math.isnan(first[3]) and first[5] == pytest.approx(0.5)
    # Results lost: the relative time jumps by three periods -> re-anchored, not filled.
    late = _chunks(mon.result(L.NOM_MOC_VMO_METRIC_SA_RT, _wave(list(range(32))),
                              t + 0.256 * 8, rel + 7 * step))
    assert len(late) == 1 and late[0].t0 >= chunks[-1].t_end + 0.5
    assert codec.stats.extra["wave_gap"] == 1
    assert not any(np.isnan(c.samples).all() for c in chunks)


def test_wave_overlap_is_dropped_and_relative_time_wraps() -> None:
    codec, mon, t = start()
    step = L.relative_time(0.256)
    rel = L.REL_TIME_MODULUS - step // 2               # wraps within the next chunk
    a = _chunks(mon.result(L.NOM_MOC_VMO_METRIC_SA_RT, _wave(list(range(32))), t, rel))
    b = _chunks(mon.result(L.NOM_MOC_VMO_METRIC_SA_RT, _wave(list(range(32, 64))), t + 0.256,
                           (rel + step) % L.REL_TIME_MODULUS))
    assert math.isclose(b[0].t0, a[0].t_end) and "wave_gap" not in codec.stats.extra
    # The immediate answer to a renewed poll repeats the last half chunk: only new samples.
    c = _chunks(mon.result(L.NOM_MOC_VMO_METRIC_SA_RT, _wave(list(range(48, 80))), t + 0.4,
                           (rel + step + step // 2) % L.REL_TIME_MODULUS))
    assert len(c[0]) == 16 and c[0].samples[0] == pytest.approx(6.4)
    assert math.isclose(c[0].t0, b[0].t_end)
    dup = _chunks(mon.result(L.NOM_MOC_VMO_METRIC_SA_RT, _wave(list(range(48, 80))), t + 0.5,
                             (rel + step + step // 2) % L.REL_TIME_MODULUS))
    assert dup == [] and codec.stats.extra["wave_duplicate"] == 1


def test_invalid_wave_state_gives_no_value_samples() -> None:
    _codec, mon, t = start()
    chunks = _chunks(mon.result(L.NOM_MOC_VMO_METRIC_SA_RT, _wave([5] * 32, state=L.MS_INVALID),
                                t))
    assert chunks[0].quality is Quality.NO_VALUE and np.isnan(chunks[0].samples).all()


# -- alarms ---------------------------------------------------------------------------------

def _alarms(t_alarms: list[bytes], p_alarms: list[bytes]) -> list:
    return [(0, [(50, [(L.NOM_ATTR_DEV_AL_COND, L.device_alert_condition()),
                       (L.NOM_ATTR_AL_MON_T_AL_LIST, L.dev_alarm_list(t_alarms)),
                       (L.NOM_ATTR_AL_MON_P_AL_LIST, L.dev_alarm_list(p_alarms))])])]


def test_monitor_alarms_become_device_flags_on_change() -> None:
    _codec, mon, t = start()
    off = L.dev_alarm_entry(L.NOM_PULS_OXIM_SAT_O2, L.NOM_EVT_SENSOR_DISCONN, L.MED_PRI_T_AL,
                            text="SpO2 SENSOR OFF")
    hr_high = L.dev_alarm_entry(L.NOM_ECG_CARD_BEAT_RATE, 40, L.MED_PRI_P_AL, text="** HR HIGH")
    items = mon.result(L.NOM_MOC_VMO_AL_MON, _alarms([off], [hr_high]), t)
    got = {(i.name, i.active, i.text) for i in items if isinstance(i, DeviceFlag)}
    assert got == {("sensor_off", True, "SpO2 sensor: SpO2 SENSOR OFF"),
                   ("intellivue.alarm.16770.40", True, "** HR HIGH")}
    assert flags(mon.result(L.NOM_MOC_VMO_AL_MON, _alarms([off], [hr_high]), t + 1)) == []
    assert flags(mon.result(L.NOM_MOC_VMO_AL_MON, _alarms([], [hr_high]), t + 2)) == [
        ("sensor_off", False)]
    # The keep-alive's answer (static context only) says nothing about alarms.
    assert flags(mon.result(L.NOM_MOC_VMO_AL_MON, [(0, [(50, [])])], t + 3)) == []


def test_linked_alarm_results_are_merged() -> None:
    _codec, mon, t = start()
    a = L.dev_alarm_entry(L.NOM_ECG_CARD_BEAT_RATE, 40, L.MED_PRI_P_AL, text="** HR HIGH")
    b = L.dev_alarm_entry(L.NOM_PULS_OXIM_SAT_O2, 62, L.MED_PRI_P_AL, text="** SpO2 LOW")
    assert flags(mon.result(L.NOM_MOC_VMO_AL_MON, _alarms([], [a]), t,
                            linked=(L.RORLS_LAST, 1))) == []
    items = mon.result(L.NOM_MOC_VMO_AL_MON, _alarms([], [b]), t + 0.01)
    assert sorted(flags(items)) == [("intellivue.alarm.16770.40", True),
                                    ("intellivue.alarm.19384.62", True)]


def test_demo_mode_of_the_alert_condition_is_flagged() -> None:
    _codec, mon, t = start()
    cond = [(0, [(50, [(L.NOM_ATTR_DEV_AL_COND,
                        L.device_alert_condition(L.AL_DEV_IN_DEMO_MODE))])])]
    assert flags(mon.result(L.NOM_MOC_VMO_AL_MON, cond, t)) == [(IV.DEMO_FLAG, True)]


# -- bad input ------------------------------------------------------------------------------

def test_a_frame_failing_its_fcs_never_yields_a_value() -> None:
    codec, mon, t = start()
    invoke, req = mon.invoke_for(L.NOM_MOC_VMO_METRIC_NU)
    good = L.frame(L.build_poll_result(invoke, req.poll_number, L.NOM_MOC_VMO_METRIC_NU, 0,
                                       contexts=numerics((1, [(L.NOM_ATTR_NU_VAL_OBS, nu(
                                           L.NOM_ECG_CARD_BEAT_RATE, 72,
                                           L.NOM_DIM_BEAT_PER_MIN))]))))
    for i in range(5, len(good) - 3):
        bad = bytearray(good)
        bad[i] ^= 0x04
        if bad[i] in (L.BOF, L.EOF, L.ESC) or good[i] == L.ESC:
            continue
        assert not [x for x in codec.feed(bytes(bad), t) if isinstance(x, Reading)]
    assert codec.stats.extra["bad_fcs"] > 10
    assert readings(codec.feed(good, t))[Vital.HR].value == 72


def test_attribute_lists_whose_lengths_lie_are_counted_and_skipped() -> None:
    codec, mon, t = start()
    invoke, req = mon.invoke_for(L.NOM_MOC_VMO_METRIC_NU)
    msg = bytearray(L.build_poll_result(invoke, req.poll_number, L.NOM_MOC_VMO_METRIC_NU, 0,
                                        contexts=numerics((1, [(L.NOM_ATTR_NU_VAL_OBS, nu(
                                            L.NOM_ECG_CARD_BEAT_RATE, 72,
                                            L.NOM_DIM_BEAT_PER_MIN))]))))
    msg[-12] += 2                                      # the AVA's length runs past its list
    assert codec.feed(L.frame(bytes(msg)), t) == []
    assert codec.stats.extra["bad_attribute_list"] == 1
    short_cmp = L.nu_obs_value_cmp([nu(L.NOM_PRESS_BLD_NONINV_SYS, 1, L.NOM_DIM_MMHG)])[:-2]
    items = mon.result(L.NOM_MOC_VMO_METRIC_NU, numerics(
        (1, [(L.NOM_ATTR_NU_CMPD_VAL_OBS, short_cmp)]),
        (2, [(L.NOM_ATTR_NU_VAL_OBS, nu(L.NOM_ECG_CARD_BEAT_RATE, 70, L.NOM_DIM_BEAT_PER_MIN))])),
        t + 1)
    assert readings(items)[Vital.HR].value == 70
    assert codec.stats.extra["bad_attribute_value"] == 1


def test_a_result_for_an_object_we_did_not_ask_for_is_counted() -> None:
    codec, mon, t = start()
    msg = L.build_poll_result(999, 1, L.NOM_MOC_PT_DEMOG, 0, contexts=[(0, [(1, [])])])
    assert codec.feed(mon.wrap(msg), t) == []
    invoke, req = mon.invoke_for(L.NOM_MOC_VMO_METRIC_NU)
    wrong = L.build_poll_result(invoke, req.poll_number, L.NOM_MOC_VMO_AL_MON, 0)
    assert codec.feed(mon.wrap(wrong), t) == []
    assert codec.stats.extra["unrequested_result"] == 2


def test_replayed_bytes_decode_without_a_session() -> None:
    """A replay never sends: poll results are decoded whatever state the session is in."""
    codec = IV.IntelliVueLanCodec()
    msgs = [L.build_association_response(), L.build_mds_create_event(1, 0, []),
            L.build_poll_result(3, 1, L.NOM_MOC_VMO_METRIC_NU, 0, contexts=numerics(
                (1, [(L.NOM_ATTR_NU_VAL_OBS, nu(L.NOM_PULS_OXIM_SAT_O2, 96,
                                                L.NOM_DIM_PERCENT))])))]
    stream = b"\x13\x37garbage" + b"".join(msgs)
    items = []
    for i in range(0, len(stream), 7):
        items += codec.feed(stream[i:i + 7], T0)
    assert readings(items)[Vital.SPO2].value == 96
    assert codec.stats.bytes_discarded == 9 and codec.stats.frames_ok == 3


@pytest.mark.parametrize("codec_cls", CODECS)
def test_arbitrary_bytes_never_raise_and_memory_stays_bounded(codec_cls: type) -> None:
    codec, _mon, t = start(codec_cls)
    rng = np.random.default_rng(14)
    for k in range(200):
        blob = rng.integers(0, 256, int(rng.integers(1, 3000)), dtype=np.uint8).tobytes()
        if k % 3 == 0:
            blob = b"\xc0\x11\x01" + blob
        codec.feed(blob, t + k)
        codec.tick(t + k)
        assert codec.buffered <= IV.MAX_BUFFER_BYTES
    assert "internal_error" not in codec.stats.extra


def test_an_endless_frame_is_dropped_as_oversized() -> None:
    codec, _mon, t = start()
    codec.feed(b"\xc0" + b"\x01" * (L.MAX_STUFFED_FRAME + 100), t)
    assert codec.stats.extra["oversized_frame"] == 1 and codec.buffered == 0


def test_protocol_names_and_defaults() -> None:
    assert codec_class("intellivue-mib") is IV.IntelliVueMibCodec
    assert codec_class("intellivue-lan") is IV.IntelliVueLanCodec
    assert IV.IntelliVueMibCodec.serial_defaults.describe() == "115200 8N1"
    assert IV.IntelliVueMibCodec.carries_nibp
    with pytest.raises(ValueError):
        IV.IntelliVueMibCodec(poll_period_s=0.5)
    assert IV.IntelliVueLanCodec().open_requests()[0] == L.CN_SPDU_SI
    assert IV.IntelliVueMibCodec().open_requests()[0] == L.BOF


def test_a_restarted_monitor_clock_re_anchors_the_wave() -> None:
    codec, mon, t = start()
    step = L.relative_time(0.256)
    a = _chunks(mon.result(L.NOM_MOC_VMO_METRIC_SA_RT, _wave(list(range(32))), t, 50 * step))
    b = _chunks(mon.result(L.NOM_MOC_VMO_METRIC_SA_RT, _wave(list(range(32))), t + 5, step))
    assert len(b) == 1 and b[0].t0 >= a[0].t_end and codec.stats.extra["wave_time_jump"] == 1


def test_undefined_bits_of_the_first_state_octet_mean_no_value() -> None:
    _codec, mon, t = start()
    items = mon.result(L.NOM_MOC_VMO_METRIC_NU, numerics(
        (1, [(L.NOM_ATTR_NU_VAL_OBS, nu(L.NOM_ECG_CARD_BEAT_RATE, 70, L.NOM_DIM_BEAT_PER_MIN,
                                        state=0x0100))])), t)
    hr = readings(items)[Vital.HR]
    assert math.isnan(hr.value) and hr.quality is Quality.NO_VALUE


def test_lan_garbage_that_looks_like_a_release_or_abort_keeps_the_association() -> None:
    codec, mon, t = start(IV.IntelliVueLanCodec)
    invoke, _ = mon.invoke_for(L.NOM_MOC_VMO_METRIC_NU)
    good = L.build_poll_result(invoke, 1, L.NOM_MOC_VMO_METRIC_NU, 0, contexts=numerics(
                                   (1, [(L.NOM_ATTR_NU_VAL_OBS, nu(
                                       L.NOM_ECG_CARD_BEAT_RATE, 66, L.NOM_DIM_BEAT_PER_MIN))])))
    items = codec.feed(b"\x09\x02\x00\x00\x19\x03\x11\x01\x03" + good, t)
    assert codec.link_state == "associated"
    assert readings(items)[Vital.HR].value == 66
    assert codec.stats.bytes_discarded == 9


def test_a_label_is_not_carried_over_to_another_numeric_on_the_same_handle() -> None:
    codec, mon, t = start()
    mon.result(L.NOM_MOC_VMO_METRIC_NU, numerics(
        (9, [(L.NOM_ATTR_NU_VAL_OBS, nu(L.NOM_PRESS_BLD_ART_ABP_MEAN, 90, L.NOM_DIM_MMHG)),
             (L.NOM_ATTR_ID_LABEL_STRING, L.string_value("ABP"))])), t)
    items = mon.result(L.NOM_MOC_VMO_METRIC_NU, numerics(
        (9, [(L.NOM_ATTR_NU_VAL_OBS, nu(0x4A47, 8, L.NOM_DIM_MMHG))])), t + 1)
    assert list(device_numerics(items)) == ["CVP mean"]
    assert codec.stats.extra["stale_label"] == 1


def test_extended_polls_refused_fall_back_to_single_polls() -> None:
    codec, mon, t = start()
    invoke, _ = mon.invoke_for(L.NOM_MOC_VMO_METRIC_NU)
    mon.feed(L.build_error(invoke, L.ROER_NO_SUCH_ACTION), t)
    assert codec.stats.extra["extended_polls_refused"] == 1
    mon.polls.clear()
    for k in range(1, 40):
        mon.receive(codec.tick(t + 0.1 * k))
    assert {(r.obj_class, r.extended) for r in mon.polls.values()} == {
        (L.NOM_MOC_VMO_METRIC_NU, False), (L.NOM_MOC_VMO_AL_MON, False)}


def test_pleth_moves_to_another_wave_object_when_the_first_goes_quiet() -> None:
    _codec, mon, t = start()
    step = L.relative_time(0.256)

    def from_handle(handle: int, at: float, rel: int) -> list[WaveChunk]:
        [(ctx, [(_, attrs)])] = _wave(list(range(32)))
        return _chunks(mon.result(L.NOM_MOC_VMO_METRIC_SA_RT, [(ctx, [(handle, attrs)])],
                                  at, rel))

    assert len(from_handle(40, t, 0)) == 1
    assert from_handle(41, t + 0.3, step) == []                 # a second pleth: not mixed in
    assert len(from_handle(41, t + 3, 2 * step)) == 1           # the first went quiet


def test_a_stray_refuse_does_not_end_a_working_association_and_an_abort_keeps_the_retry_time(
        ) -> None:
    codec, mon, t = start()
    mon.feed(L.build_refuse(), t)
    assert codec.link_state == "associated"
    codec.tick(t + IV.RX_TIMEOUT_S + 1)                       # silent: retry in 2 s
    assert codec.link_state == "no answer (retrying in 2 s)"
    mon.feed(L.build_abort(), t + IV.RX_TIMEOUT_S + 1.5)      # the monitor's own time-out
    assert codec.link_state == "aborted"
    out = mon.receive(codec.tick(t + IV.RX_TIMEOUT_S + 3.0))
    assert [L.message_kind(m) for m in out] == ["request"]    # no release needed any more


def test_numerics_of_a_linked_result_are_taken_together_and_cut_off_parts_dropped() -> None:
    codec, mon, t = start()
    skin = numerics((1, [(L.NOM_ATTR_NU_VAL_OBS, nu(L.NOM_TEMP_SKIN, 33.0, L.NOM_DIM_DEGC, 1))]))
    t1 = numerics((2, [(L.NOM_ATTR_NU_VAL_OBS, nu(L.NOM_TEMP_GEN_1, 37.2, L.NOM_DIM_DEGC, 1))]))
    assert mon.result(L.NOM_MOC_VMO_METRIC_NU, skin, t, linked=(L.RORLS_LAST, 1)) == []
    items = mon.result(L.NOM_MOC_VMO_METRIC_NU, t1, t + 0.01)
    assert readings(items)[Vital.TEMP].value == 37.2
    assert device_numerics(items)["Tskin"].value == 33.0
    # A part whose sequence is cut off by another poll's result is not mixed into it.
    mon.result(L.NOM_MOC_VMO_METRIC_NU, skin, t + 1, linked=(L.RORLS_FIRST, 1))
    invoke, req = mon.invoke_for(L.NOM_MOC_VMO_AL_MON)
    mon.feed(L.build_poll_result(invoke, req.poll_number, L.NOM_MOC_VMO_AL_MON, 0), t + 1.1)
    items = mon.result(L.NOM_MOC_VMO_METRIC_NU, t1, t + 1.2)
    assert "Tskin" not in device_numerics(items)
    assert codec.stats.extra["incomplete_linked_result"] == 1


def test_respiration_and_co2_waves_are_kept_at_their_rates_co2_in_mmhg() -> None:
    """Beside the pleth, the impedance respiration and CO2 waves where the monitor sends them."""
    codec, mon, t = start()

    def wave_object(handle: int, physio: int, period: float, unit: int | None,
                    samples: list[int]) -> tuple[int, list]:
        attrs = [(L.NOM_ATTR_SA_VAL_OBS, L.sa_obs_value(physio, 0, L.sa_samples(samples))),
                 (L.NOM_ATTR_SA_SPECN, L.sa_spec(len(samples), 16, 16)),
                 (L.NOM_ATTR_TIME_PD_SAMP, L.sample_period(period)),
                 (L.NOM_ATTR_SCALE_SPECN_I16, L.scale_range_spec(0.0, 10.0, 0, 1000))]
        if unit is not None:
            attrs.append((L.NOM_ATTR_UNIT_CODE, L.u16(unit)))
        return handle, attrs

    objects = [wave_object(40, L.NOM_PLETH, 0.008, None, list(range(32))),
               wave_object(41, L.NOM_RESP, 0.016, None, [500] * 16),
               wave_object(42, L.NOM_AWAY_CO2, 0.008, L.NOM_DIM_KILO_PASCAL, [530] * 32)]
    chunks = {c.vital: c for c in _chunks(mon.result(L.NOM_MOC_VMO_METRIC_SA_RT,
                                                     [(0, objects)], t, mon.rel))}
    assert set(chunks) == {Vital.PLETH, Vital.RESP_WAVE, Vital.CO2_WAVE}
    assert (chunks[Vital.RESP_WAVE].rate, len(chunks[Vital.RESP_WAVE])) == (62.5, 16)
    assert chunks[Vital.RESP_WAVE].samples[0] == pytest.approx(5.0)
    # 5.3 kPa is 39.75 mmHg.
    assert chunks[Vital.CO2_WAVE].samples == pytest.approx([5.3 * IV.KPA_TO_MMHG] * 32)
    assert codec.stats.extra.get("wave_skipped", 0) == 0


def test_the_wave_priority_list_asks_for_pleth_first_then_co2_and_respiration() -> None:
    _codec, mon, _t = start()
    sets = [m for m in mon.sent if L.NOM_ATTR_POLL_RTSA_PRIO_LIST.to_bytes(2, "big") in m]
    assert sets, "no priority list set"
    body = sets[0]
    order = [body.find(label.to_bytes(4, "big")) for label in
             (L.NLS_NOM_PULS_OXIM_PLETH, L.NLS_NOM_AWAY_CO2, L.NLS_NOM_RESP)]
    assert all(i >= 0 for i in order) and order == sorted(order)


def test_the_link_lets_data_through_only_while_associated() -> None:
    fresh = IV.IntelliVueMibCodec()
    fresh.open_requests()
    assert fresh.link_state == "associating" and not fresh.link_ok
    codec, _mon, _t = start()
    assert codec.link_state == "associated" and codec.link_ok
