"""The simulated HL7 gateway (hl7-pcd01): its messages, their values and its ACK handling.

Messages are parsed by hl7apy (an independent HL7 v2 parser, validating the
v2.6 ORU^R01 structure strictly) and decoded by the real codec; the values
must come back exactly as the scenario made them.
"""

from __future__ import annotations

import math
import subprocess
import sys
import threading

import numpy as np
import pytest
from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.parser import parse_message

from monitor.core.clock import SimClock
from monitor.core.events import RawBytes
from monitor.core.reading import Reading, WaveChunk
from monitor.core.vitals import Vital
from monitor.devices.codecs.hl7_pcd01 import Hl7Pcd01Codec, parse_dtm
from simulators.driver import SimulatedDriver
from simulators.encoders import encoder_class
from simulators.encoders.hl7 import (
    DEFAULT_BED,
    MDC_ROWS,
    MINDRAY_ROWS,
    PLETH_DECIMALS,
    Hl7Pcd01Encoder,
    hl7_time,
    nm,
    other_bed,
)
from simulators.engine import ScenarioEngine
from simulators.scenario import parse_scenario
from tests.integration.helpers import REPO
from tests.simulators.helpers import START

SCENARIO = """
description = "three minutes with capnography, a determination a minute from 30 s"
[session]
baseline_min = 1
infusion_min = 1
recovery_min = 1
[baseline]
capnography = true
[nibp]
baseline_start_min = 0.5
baseline_every_min = 1
infusion_early_every_min = 1
recovery_early_every_min = 1
"""

PROBE_OFF = SCENARIO + """
[[episodes]]
kind = "sensor_off"
at_min = 1
duration_s = 20
"""

CONTINUOUS = (Vital.HR, Vital.PULSE_RATE, Vital.SPO2, Vital.RESP_RATE, Vital.ETCO2)
NIBP = (Vital.NIBP_SYS, Vital.NIBP_DIA, Vital.NIBP_MEAN)


def body(frame: bytes) -> str:
    assert frame[:1] == b"\x0b" and frame[-2:] == b"\x1c\r"
    return frame[1:-2].decode("utf-8")


def segments(frame: bytes, name: str) -> list[list[str]]:
    return [s.split("|") for s in body(frame).split("\r") if s.startswith(name + "|")]


class Gateway:
    """An encoder played on a scenario second by second, its frames kept (and optionally
    fed to a codec whose ACKs go back)."""

    def __init__(self, scenario: str = SCENARIO, codec: Hl7Pcd01Codec | None = None,
                 **options) -> None:
        self.engine = ScenarioEngine(parse_scenario(scenario, "hl7"), 5, START)
        self.encoder = Hl7Pcd01Encoder(np.random.default_rng(7), **options)
        self.codec = codec
        self.pushed: list[Reading | WaveChunk] = []
        self.frames: list[bytes] = []
        self.items: list = []
        self.t = START

    def play(self, seconds: float, step: float = 1.0, answer: bool = True) -> list[bytes]:
        out = []
        for _ in range(round(seconds / step)):
            self.t += step
            items = self.engine.generate(self.t)
            self.pushed += items
            for item in items:
                self.encoder.push(item)
            frames = self.encoder.due(self.t)
            out += frames
            if self.codec is not None:
                for f in frames:
                    self.items += self.codec.feed(f, self.t)
                acks = self.codec.tick(self.t)
                if answer:
                    for ack in acks:
                        self.encoder.receive(ack)
        self.frames += out
        return out

    def readings(self, vital: Vital) -> list[Reading]:
        return [r for r in self.items if isinstance(r, Reading) and r.vital is vital]

    def made(self, vital: Vital) -> list[Reading]:
        return [r for r in self.pushed if isinstance(r, Reading) and r.vital is vital]


def test_the_gateway_is_registered_for_the_protocol():
    assert encoder_class("hl7-pcd01") is Hl7Pcd01Encoder


@pytest.mark.parametrize("mindray", [False, True])
def test_every_message_is_a_valid_hl7_v26_oru_r01_for_hl7apy(mindray):
    gw = Gateway(mindray_codes=mindray)
    frames = list(dict.fromkeys(gw.play(120)))    # unanswered, each is sent three times
    assert len(frames) >= 120
    for frame in frames:
        message = parse_message(body(frame), find_groups=True,
                                validation_level=VALIDATION_LEVEL.STRICT)
        assert message.validate() is True
        assert message.name == "ORU_R01"
        msh = message.msh
        assert msh.msh_9.to_er7() == "ORU^R01^ORU_R01"
        assert msh.msh_11.to_er7() == "P" and msh.msh_12.to_er7() == "2.6"
        assert (msh.msh_15.to_er7(), msh.msh_16.to_er7()) == ("AL", "NE")
        profile = msh.msh_21.to_er7()
        assert profile == ("" if mindray else
                           "IHE_PCD_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.1.1^ISO")
        patient = message.oru_r01_patient_result[0].oru_r01_patient
        assert patient.oru_r01_visit.pv1.pv1_3.to_er7() == DEFAULT_BED
        order = message.oru_r01_patient_result[0].oru_r01_order_observation[0]
        rows = [o.obx for o in order.oru_r01_observation]
        assert rows[0].obx_3.to_er7() == "69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC"
        for row in rows[1:]:
            assert row.obx_11.to_er7() in ("F", "X")
            assert row.obx_14.to_er7() and row.obx_18.to_er7().endswith("^EUI-64")
            assert row.obx_4.to_er7().count(".") >= 3           # MDS.VMD.channel.metric
    ids = [segments(f, "MSH")[0][9] for f in frames]
    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids, key=int)            # in the order they were made


def test_one_message_a_second_and_one_per_nibp_determination_with_its_own_time():
    gw = Gateway(codec=Hl7Pcd01Codec())
    frames = gw.play(180)
    nibp = [f for f in frames if any(row[3].startswith("150021^") for row in segments(f, "OBX"))]
    continuous = [f for f in frames if f not in nibp]
    assert len(continuous) == 180
    determinations = sorted({r.t for r in gw.made(Vital.NIBP_SYS)})
    assert len(determinations) >= 3 and len(nibp) == len(determinations)
    for frame, t in zip(nibp, determinations, strict=True):
        rows = segments(frame, "OBX")[1:]
        assert [row[3].split("^")[0] for row in rows] == ["150021", "150022", "150023"]
        assert {row[14] for row in rows} == {hl7_time(t)}
        assert segments(frame, "OBR")[0][7] == hl7_time(t)
    # No continuous message repeats the cuff's values.
    assert not any("150021" in body(f) for f in continuous)


@pytest.mark.parametrize("mindray", [False, True])
def test_the_values_come_back_through_the_codec_exactly(mindray):
    gw = Gateway(codec=Hl7Pcd01Codec(bed="CHAIR1"), mindray_codes=mindray)
    gw.play(180)
    assert gw.codec.stats.frames_bad == 0
    assert gw.codec.stats.extra.get("unknown_codes", 0) == 0
    for vital in (*CONTINUOUS, *NIBP):
        made = [(r.t, r.value) for r in gw.made(vital)]
        got = [(r.device_time, r.value) for r in gw.readings(vital)]
        assert made and len(got) == len(made), vital
        for (t, value), (device_time, decoded) in zip(made, got, strict=True):
            assert decoded == value, vital
            assert device_time == pytest.approx(t, abs=1e-3), vital
    temps = {r.value for r in gw.readings(Vital.TEMP)}
    assert temps == {36.8}
    # The pleth: every sample pushed, at the written precision, none twice.
    pushed = np.concatenate([c.samples for c in gw.pushed if isinstance(c, WaveChunk)])
    decoded = np.concatenate([c.samples for c in gw.items if isinstance(c, WaveChunk)])
    sent = len(decoded)
    assert len(pushed) - 100 <= sent <= len(pushed)       # the last second not yet sent
    expected = np.round(pushed[:sent].astype(np.float64), PLETH_DECIMALS).astype(np.float32)
    assert np.array_equal(decoded, expected)
    assert {c.rate for c in gw.items if isinstance(c, WaveChunk)} == {100.0}


def test_mindray_rows_are_the_shipped_map_codes():
    import tomllib

    from monitor.devices.codecs.hl7_codes import shipped_map_paths

    path = next(p for p in shipped_map_paths() if p.stem == "mindray")
    entries = {(e["code"], e["text"]): e.get("vital")
               for e in tomllib.loads(path.read_text())["code"]}
    for vital, row in MINDRAY_ROWS.items():
        code, text = row.code.split("^")
        assert entries[(code, text)] == vital.value
    assert set(MINDRAY_ROWS) == set(MDC_ROWS)


def test_a_probe_off_sends_no_spo2_pulse_rate_or_pleth_values():
    gw = Gateway(PROBE_OFF, codec=Hl7Pcd01Codec())
    gw.play(40)
    gw.encoder.sensor_off = True                  # the runner's --sensor-off-at
    gw.play(5)
    gw.encoder.sensor_off = False
    gw.play(40)                                    # the scenario's own probe off from 60 s
    spo2 = gw.readings(Vital.SPO2)
    off = [r for r in spo2 if not r.valid]
    assert 24 <= len(off) <= 26                    # 5 s of sensor_off, 20 s of the scenario
    assert all(math.isnan(r.value) for r in off)
    assert len([r for r in gw.readings(Vital.PULSE_RATE) if not r.valid]) == len(off)
    assert all(r.valid for r in gw.readings(Vital.HR))
    assert gw.codec.stats.extra.get("wave_no_value", 0) >= 24
    lost_rows = [row for f in gw.frames for row in segments(f, "OBX")
                 if row[11] == "X" and row[2] == "NA"]
    assert all(row[5] == "" for row in lost_rows)


def test_a_wrong_bed_is_acknowledged_and_ignored_by_a_chair_on_its_bed():
    gw = Gateway(codec=Hl7Pcd01Codec(bed="CHAIR1"))
    gw.play(10)
    gw.encoder.wrong_bed = True
    gw.play(5)
    gw.encoder.wrong_bed = False
    gw.play(5)
    assert gw.codec.stats.extra["other_bed"] == 5
    assert list(gw.codec.beds_seen) == [other_bed(DEFAULT_BED)] == ["KETAMINE^ROOM1^CHAIR2"]
    assert len(gw.readings(Vital.HR)) == 15
    assert gw.encoder.counts["acked"] == 20 and gw.encoder.waiting == 0
    wrong = gw.frames[10:15]
    assert all(segments(f, "PV1")[0][3] == "KETAMINE^ROOM1^CHAIR2" for f in wrong)
    assert not any(gw.encoder.equipment in body(f) for f in wrong)   # another monitor's
    assert all(gw.encoder.gateway_id in segments(f, "MSH")[0][2] for f in gw.frames)


def test_a_corrupt_message_is_answered_as_an_error_and_carries_no_value():
    gw = Gateway(codec=Hl7Pcd01Codec())
    gw.play(3)
    rng_frames = []
    for _ in range(20):
        gw.t += 1.0
        for item in gw.engine.generate(gw.t):
            gw.encoder.push(item)
        for frame in gw.encoder.due(gw.t):
            bad = gw.encoder.corrupt(frame)
            assert bad != frame
            rng_frames.append(bad)
            gw.items += gw.codec.feed(bad, gw.t)
        for ack in gw.codec.tick(gw.t):
            gw.encoder.receive(ack)
    assert gw.codec.stats.frames_bad == 20
    assert gw.encoder.counts["errors"] == 20 and gw.encoder.counts["resent"] == 0
    kinds = {"***" in body(f) for f in rng_frames}
    assert kinds == {True, False}                  # both kinds of damage were made
    # The damaged row is the first NM row, HR: no HR value from any damaged message.
    assert [r for r in gw.readings(Vital.HR) if r.t > START + 3.5 and r.valid] == []
    assert len([r for r in gw.readings(Vital.SPO2) if r.t > START + 3.5]) == 10


class TestAcknowledgements:
    """The gateway's policy: settle on an ACK, resend when none comes, within bounds."""

    @staticmethod
    def ack(control_id: str, code: str = "CA") -> bytes:
        return (b"\x0bMSH|^~\\&|MON||GW||20260101000000||ACK^R01^ACK|X1|P|2.6\rMSA|"
                + code.encode() + b"|" + control_id.encode() + b"\r\x1c\r")

    @staticmethod
    def ids(frames: list[bytes]) -> list[str]:
        return [segments(f, "MSH")[0][9] for f in frames]

    def test_each_ack_code_settles_its_message_and_is_counted(self):
        gw = Gateway(scenario=SCENARIO)
        ids = list(dict.fromkeys(self.ids(gw.play(6))))   # the first is resent at 6 s
        for control_id, code in zip(ids, ("AA", "CA", "AE", "CE", "AR", "CR"), strict=True):
            gw.encoder.receive(self.ack(control_id, code))
        counts = gw.encoder.counts
        assert (counts["acked"], counts["errors"], counts["rejected"]) == (2, 2, 2)
        assert gw.encoder.waiting == 0
        assert not set(ids) & set(self.ids(gw.play(20)))   # settled: never sent again

    def test_an_unanswered_message_is_sent_again_whole_then_dropped(self):
        gw = Gateway(ack_timeout_s=5.0, max_resends=2)
        first = gw.play(1)
        later = gw.play(20)
        again = [f for f in later if f == first[0]]
        assert len(again) == 2                      # at 5 s and 10 s after it was sent
        assert gw.encoder.counts["unacknowledged"] >= 1
        assert first[0] not in gw.play(10)

    def test_a_gateway_that_drops_never_resends(self):
        gw = Gateway(max_resends=0)
        frames = gw.play(30)
        assert len(set(frames)) == len(frames) == 31      # and the determination at 30 s
        assert gw.encoder.counts["unacknowledged"] >= 24

    def test_at_most_window_messages_wait_and_the_backlog_is_bounded(self):
        gw = Gateway(window=4, backlog=5, max_resends=0, ack_timeout_s=1000.0)
        frames = gw.play(20)
        assert len(frames) == 4 and gw.encoder.waiting == 4
        assert gw.encoder.counts["backlog_dropped"] == 20 - 4 - 5
        gw.encoder.receive(b"".join(self.ack(i) for i in self.ids(frames)))
        released = gw.encoder.due(gw.t)
        # The newest queued messages go out in order as the window frees.
        assert self.ids(released) == sorted(self.ids(released), key=int)
        assert len(released) == 4

    def test_acks_split_anywhere_noise_and_unknown_ids_are_counted_not_fatal(self):
        gw = Gateway()
        ids = self.ids(gw.play(3))
        stream = (b"noise\x0bnot hl7\x1c\r" + self.ack(ids[0]) + self.ack("999999999")
                  + self.ack(ids[1]) + self.ack(ids[1]) + self.ack(ids[2]))
        for i in range(0, len(stream), 7):
            gw.encoder.receive(stream[i:i + 7])
        counts = gw.encoder.counts
        assert counts["acked"] == 3 and gw.encoder.waiting == 0
        assert counts["bad_acks"] == 1 and counts["unexpected_acks"] == 2

    def test_the_codecs_own_acks_settle_every_message(self):
        gw = Gateway(codec=Hl7Pcd01Codec())
        gw.play(100)
        assert gw.encoder.counts["acked"] == gw.encoder.counts["sent"] > 100
        assert gw.encoder.waiting == 0 and gw.encoder.counts["resent"] == 0

    def test_a_resent_determination_is_one_determination_for_the_codec(self):
        codec = Hl7Pcd01Codec()
        gw = Gateway(codec=codec)
        gw.play(29)
        gw.play(2, answer=False)          # the determination at 30 s goes unanswered
        gw.play(10)
        nibp = [f for f in gw.frames if "150021^" in body(f)]
        assert len(nibp) == 2 and nibp[0] == nibp[1]
        assert len(gw.readings(Vital.NIBP_SYS)) == 1
        assert codec.stats.extra.get("nibp_repeated") == 1


def test_formats():
    assert hl7_time(0.0) == "19700101000000+0000"
    assert hl7_time(1.25) == "19700101000001.250+0000"
    assert parse_dtm(hl7_time(START)) == pytest.approx(START, abs=1e-3)
    assert [nm(v) for v in (72.0, 36.8, 0.1, -0.0, 1e-5)] == ["72", "36.8", "0.1", "0",
                                                               "0.00001"]
    assert other_bed("ICU^2^12") == "ICU^2^13" and other_bed("A^B^BED") == "A^B^BEDB"


def test_the_in_process_simulator_gets_its_acks_through_the_codecs_tick():
    scenario = parse_scenario(SCENARIO, "hl7")
    driver = SimulatedDriver(scenario, 3, duration_s=120.0, protocol="hl7-pcd01")
    driver.open(SimClock(START, speed=None), START)
    stop = threading.Event()
    items = []
    while (batch := driver.read(stop)) is not None:
        items += batch
    encoder = driver._encoder
    acks = [i for i in items if isinstance(i, RawBytes) and i.direction == "out" and i.data]
    assert acks and all(a.data.startswith(b"\x0bMSH|") and b"\rMSA|CA|" in a.data
                        for a in acks)
    assert encoder.counts["acked"] >= encoder.counts["sent"] - 2 > 100
    assert encoder.counts["resent"] == 0
    hr = [i for i in items if isinstance(i, Reading) and i.vital is Vital.HR]
    assert 118 <= len(hr) <= 120
    assert any(isinstance(i, WaveChunk) for i in items)
    assert driver.measures >= {Vital.HR, Vital.SPO2, Vital.ETCO2, Vital.NIBP_SYS}


def test_stdout_carries_the_frames_and_the_host_in_process_acknowledges_them():
    done = subprocess.run(
        [sys.executable, "-m", "simulators", "run", "typical", "--protocol", "hl7-pcd01",
         "--stdout", "--speed", "20", "--duration", "15", "--duplicate", "0.2"],
        check=False, cwd=REPO, capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr
    frames = [b"\x0b" + f + b"\x1c\r" for f in done.stdout.split(b"\x1c\r")[:-1]
              for f in [f.lstrip(b"\x0b")]]
    ids = [segments(f, "MSH")[0][9] for f in frames]
    # 15 a second, some twice in a row (duplicates), none resent: every one was acknowledged.
    assert len(set(ids)) == 15 and len(ids) > 15
    codec = Hl7Pcd01Codec()
    items = codec.feed(done.stdout, 0.0)
    assert codec.stats.frames_bad == 0 and len(codec.tick(0.0)) == len(ids)
    assert len([i for i in items if isinstance(i, Reading) and i.vital is Vital.HR]) == len(ids)
