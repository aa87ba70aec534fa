"""Philips IntelliVue Data Export: the codec against messages built from the guide.

Every monitor-side byte here comes from :mod:`tests.intellivue_guide`, written from
the programming guide and checked below against the guide's own examples and two
real captures (a real MIB/RS-232 frame and a real MX800 Connect Indication); the
codec's own layout module is never used. The codec is driven through whole
sessions: what ``open_requests`` and ``tick`` send is parsed strictly, and
answered the way the guide says a monitor answers (only the polled attribute
group, wave context every 1024 ms, periodic results on the monitor's grid).
The simulated monitor (``simulators.encoders.intellivue``) is read by the same
module's strict monitor-side parser.

Where the contract allows a choice the tests accept either: FiCO2 as the
supplementary vital or as a device numeric, any ``bad_*`` counter for malformed
input, an initial "demo off" flag.
"""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import math
import struct
import tracemalloc

import numpy as np
import pytest

from monitor.core.events import DeviceFlag
from monitor.core.reading import DeviceNumeric, Quality, Reading, WaveChunk
from monitor.core.vitals import Vital
from monitor.devices.codecs.base import MAX_BUFFER_BYTES
from monitor.devices.codecs.intellivue import IntelliVueLanCodec, IntelliVueMibCodec
from simulators.encoders.intellivue import IntelliVueLanEncoder, IntelliVueMibEncoder
from tests import intellivue_guide as g

T0 = 1_764_800_000.0
DATE = dt.datetime(2025, 12, 3, 22, 13, 20)       # the monitor's wall clock at T0
DATE_UNIX = DATE.replace(tzinfo=dt.UTC).timestamp()

# -- real bytes (facts, not code) -------------------------------------------------------

REAL_FRAME_LOGGED = base64.b64decode(
    "wBEBASThAAACAAIBHAAAAAcBFgAhAAAAAAwWAQwAAAWe8gD//////////wABACoIBwABAPQAAAABAO4AUAAa"
    "AOgJIQACAFAJVwACAAIKGgACIADwAQAKyNnSEQ40UpooXAliAAIAAwoeAAIAAAldAAQAAgAACV8ABAACAAAJ"
    "XAAQAA4ASwBvAGUAbgBpAGcAAPLUAAQAAgAACVoACgAIADEAMgAzAADy4QAEAAIAAPEpAAQAAgAA8SoABAAC"
    "AAAJYQACAAIJWAAIAAAAAAAAAAAJ2AAGAH///wlACdwABgB///8FEQnfAAYAf///BsAJVgAGAH///wXA8ewA"
    "AgAB+egACAAAAAAAAAAA+ekAAvEL84oABAAAAADy4gAEgHUglfLjAASAiw2ZgmXB")
"""A real IntelliVue MIB/RS-232 frame: a Single Poll Data Result for the patient
demographics, as logged by mindleaving/patient-monitor-datalogger
(PatientMonitorDataLoggerTest/DataExploration.cs, "DebugFaultyFrameWithPatientDemographicsResult").
That logger stores BOF, the *unescaped* bytes, and EOF (PhilipsIntellivueFrameReader
adds each byte after un-escaping), so the 0xC0 inside it was 0x7D 0xE0 on the wire."""
REAL_FRAME_WIRE = bytes([g.BOF]) + g.escape(REAL_FRAME_LOGGED[1:-1]) + bytes([g.EOF])

REAL_PLETH_SAMPLES = list(struct.unpack(">32H", base64.b64decode(
    "BakGFwaaBywHxAhZCOUJYQnKCh4KXgqMCqkKtwq2CqgKjwpsCj8KCgnNCYkJPgjuCJwISgf7B7IHbwc2BwcG5A==")))
"""32 real wave samples (an observed value array, 256 ms of pleth) from the same file."""

REAL_CONNECT_INDICATION = bytes.fromhex(
    "00 00 01 00 00 01 01 9a 00 00 00 00 01 94 00 23 00 00 00 00 09 45 7f 00 0d 17 01 86 00 10"
    " 01 82 09 20 00 04 00 03 00 00 09 86 00 04 00 01 11 4d 09 37 00 08 06 08 06 08 00 0f 00 0b"
    " f1 36 00 04 20 00 00 00 f2 7c 00 1a 00 01 80 00 00 01 00 12 f1 00 00 0e 00 09 fb 88 c1 bd"
    " c0 a8 f7 65 ff ff 00 00 f1 35 00 22" + " 00" * 34 + " f1 00 00 0e 00 09 fb 88 c1 bd c0 a8 f7"
    " 65 ff ff 00 00 f1 01 00 2c 00 05 00 28 00 01 00 03 5d c0 40 00 00 02 00 03 5d c0 40 00 00 01"
    " 00 01 5e 29 00 00 00 05 00 01 5e 29 00 00 00 0a 00 01 5d cc 00 00 f3 5e 00 10 fe 80 00 00"
    " 00 00 00 00 02 09 fb ff fe 88 c1 bd 09 84 00 0a 00 08 00 09 fb ff ff 88 c1 bd 09 28 00 14"
    " 00 08 50 68 69 6c 69 70 73 00 00 08 38 36 36 30 36 32 00 00 09 2d 00 68 00 06 00 64 00 01"
    " 00 08 00 0c 44 45 33 35 31 41 34 30 36 31 00 09 00 02 00 08 00 0e 38 36 36 30 36 32 00 00"
    " 00 00 00 00 00 00 00 03 00 08 00 08 20 41 2e 30 30 2e 33 30 00 05 00 78 00 08 2d 2d 2d 2d"
    " 2d 2d 2d 2d 00 02 00 58 00 0e 53 2d 4d 38 30 30 33 2d 31 34 30 32 41 00 00 04 00 58 00 08"
    " 4c 2e 30 31 2e 31 38 0a f1 2e 00 12 00 01 00 0e 00 02 00 0a 00 01 00 06 00 51 00 00 00 c1"
    " f4 5b 00 04 00 00 00 00 f3 9c 00 08 08 00 00 20 08 00 00 09 f1 5a 00 04 00 00 00 02")
"""The UDP payload of a real MX800 Connect Indication (Koshsky/Intellivue-api, my_assoc:
an Ethernet capture from 192.168.247.101 port 24005 to 224.0.23.63)."""

# The guide's own example messages ("Data Export Protocol Examples").
GUIDE_MDS_CREATE_RESULT = bytes.fromhex(
    "E1 00 00 02 00 02 00 14 00 01 00 01 00 0e 00 21 00 00 00 00 00 48 47 00 0d 06 00 00")
GUIDE_SINGLE_POLL = bytes.fromhex(
    "E1 00 00 02 00 01 00 1c 00 01 00 07 00 16 00 21 00 00 00 00 00 00 00 00 0c 16 00 08"
    " 00 01 00 01 00 06 00 00")
GUIDE_EXT_POLL = bytes.fromhex(
    "E1 00 00 02 00 01 00 20 00 01 00 07 00 1a 00 21 00 00 00 00 00 00 00 00 f1 3b 00 0c"
    " 00 01 00 01 00 06 00 00 00 00 00 00")


# -- the codec under test ------------------------------------------------------------------

@pytest.fixture(params=["mib", "lan"])
def variant(request: pytest.FixtureRequest) -> str:
    return request.param


def make_codec(variant: str = "mib", **kw: float):
    cls = IntelliVueMibCodec if variant == "mib" else IntelliVueLanCodec
    return cls(**kw)


def wire(ud: bytes, variant: str) -> bytes:
    """One monitor message as it travels: an RS-232 frame, or the bare datagram."""
    return g.frame(ud) if variant == "mib" else ud


def host_messages(data: bytes, variant: str) -> list[g.HostMessage]:
    """Parse what the codec sent (strictly: a malformed message fails the test)."""
    if not data:
        return []
    if variant == "mib":
        return g.parse_host_stream(data)
    return [g.parse_host(data)]


def norm(items: list) -> list[tuple]:
    """Items as comparable tuples (NaN made equal to itself)."""
    def f(x: float | None) -> object:
        return "nan" if x is not None and math.isnan(x) else x
    out: list[tuple] = []
    for it in items:
        if isinstance(it, Reading):
            out.append(("R", it.vital, f(it.value), it.t, it.quality, f(it.device_time)))
        elif isinstance(it, WaveChunk):
            out.append(("W", it.vital, round(it.t0, 6), it.rate,
                        tuple(f(float(s)) for s in it.samples), it.quality))
        elif isinstance(it, DeviceFlag):
            out.append(("F", it.name, it.active, it.text))
        elif isinstance(it, DeviceNumeric):
            out.append(("N", it.code, it.label, f(it.value), it.unit, it.quality,
                        f(it.device_time)))
        else:
            raise TypeError(f"unexpected item {it!r}")
    return out


class Session:
    """The codec and a :class:`~tests.intellivue_guide.GuideMonitor` talking to each other."""

    def __init__(self, variant: str = "mib", t0: float = T0, *, answer: bool = True,
                 start: bool = True, **codec_kw: float) -> None:
        self.variant = variant
        self.codec = make_codec(variant, **codec_kw)
        self.mon = g.GuideMonitor(t0, DATE)
        self.items: list = []
        self.sent: list[tuple[float, g.HostMessage]] = []
        self.raw_out: list[bytes] = []
        self.t = t0
        self.answer = answer
        if start:
            self.start()

    def start(self) -> None:
        """The port opens: the codec's association request goes to the monitor."""
        self.deliver(self.codec.open_requests(), self.t)

    def feed(self, ud: bytes, t: float) -> list:
        got = self.codec.feed(wire(ud, self.variant), t)
        self.items += got
        return got

    def deliver(self, data: bytes, t: float) -> None:
        self.raw_out.append(data)
        if self.variant == "mib":
            assert len(g.deframe(data)) == 1, "one element, one frame"
        for msg in host_messages(data, self.variant):
            self.sent.append((t, msg))
            if self.answer:
                for ud in self.mon.respond(msg, t):
                    self.feed(ud, t + 0.005)

    def run(self, seconds: float, step: float = 0.05) -> None:
        end = self.t + seconds
        while self.t < end - 1e-9:
            self.t = round(self.t + step, 6)
            for data in self.codec.tick(self.t):
                self.deliver(data, self.t)
            if self.answer:
                for ud in self.mon.periodic(self.t):
                    self.feed(ud, self.t)

    def kinds(self) -> list[str]:
        return [m.kind for _, m in self.sent]


def readings(items: list, vital: Vital) -> list[Reading]:
    return [i for i in items if isinstance(i, Reading) and i.vital == vital]


def numerics_of(items: list, code: int) -> list[DeviceNumeric]:
    return [i for i in items if isinstance(i, DeviceNumeric) and i.code == code]


def values(items: list, vital: Vital) -> list[float]:
    return [r.value for r in readings(items, vital)]


def fresh(variant: str = "mib"):
    """A codec after open_requests, the association accepted and the MDS create seen."""
    c = make_codec(variant)
    c.open_requests()
    c.feed(wire(g.association_response(), variant), T0)
    c.feed(wire(g.mds_create_event_report(date_time=DATE, rel_time=126976), variant), T0)
    c.tick(T0 + 0.01)
    return c


def bad_count(codec) -> int:
    """Malformed input counted: bad frames and any ``bad_*`` event (e.g. "bad_attribute_list")."""
    return codec.stats.frames_bad + sum(v for k, v in codec.stats.extra.items()
                                        if k.startswith("bad_"))


def nu_result(*objects, **kw) -> bytes:
    return g.poll_result(list(objects), **kw)


def hr(value: float | tuple[int, int], state: int = 0, handle: int = 1, **kw):
    return g.numeric(handle, g.Nu(g.NOM_ECG_CARD_BEAT_RATE, state, g.NOM_DIM_BEAT_PER_MIN, value),
                     label=g.NLS_NOM_ECG_CARD_BEAT_RATE, label_string="HR", **kw)


def vital_numerics(rel: int) -> list:
    """Every vital of a ketamine session plus two invasive pressures, one labelled ART, one ABP."""
    mmhg = g.NOM_DIM_MMHG
    return [
        hr(72),
        g.numeric(2, g.Nu(g.NOM_PULS_OXIM_SAT_O2, 0, g.NOM_DIM_PERCENT, 97),
                  label=g.NLS_NOM_PULS_OXIM_SAT_O2, label_string="SpO\u2082"),
        g.numeric(3, g.Nu(g.NOM_PLETH_PULS_RATE, 0, g.NOM_DIM_BEAT_PER_MIN, 71),
                  label=g.NLS_NOM_PULS_OXIM_PULS_RATE, label_string="Pulse"),
        g.numeric(4, [g.Nu(g.NOM_PRESS_BLD_NONINV_SYS, 0, mmhg, 120),
                      g.Nu(g.NOM_PRESS_BLD_NONINV_DIA, 0, mmhg, 80),
                      g.Nu(g.NOM_PRESS_BLD_NONINV_MEAN, 0, mmhg, 93)],
                  label=g.NLS_NOM_PRESS_BLD_NONINV, label_string="NBP",
                  abs_time=DATE - dt.timedelta(minutes=3)),
        g.numeric(5, g.Nu(g.NOM_RESP_RATE, 0, g.NOM_DIM_RESP_PER_MIN, 14),
                  label=g.NLS_NOM_RESP_RATE, label_string="RR"),
        g.numeric(6, [g.Nu(g.NOM_AWAY_CO2_ET, 0, mmhg, 38), g.Nu(g.NOM_AWAY_CO2_INSP_MIN, 0,
                                                                   mmhg, 2)],
                  label=g.NLS_NOM_AWAY_CO2, label_string="CO\u2082"),
        g.numeric(7, g.Nu(g.NOM_TEMP, 0, g.NOM_DIM_DEGC, 36.85, decimals=2),
                  label=g.NLS_NOM_TEMP, label_string="Temp"),
        g.numeric(8, [g.Nu(g.NOM_PRESS_BLD_ART_SYS, 0, mmhg, 118),
                      g.Nu(g.NOM_PRESS_BLD_ART_DIA, 0, mmhg, 76),
                      g.Nu(g.NOM_PRESS_BLD_ART_MEAN, 0, mmhg, 90)],
                  label=g.NLS_NOM_PRESS_BLD_ART, label_string="ART"),
        g.numeric(9, [g.Nu(g.NOM_PRESS_BLD_ART_ABP_SYS, 0, mmhg, 131),
                      g.Nu(g.NOM_PRESS_BLD_ART_ABP_DIA, 0, mmhg, 79),
                      g.Nu(g.NOM_PRESS_BLD_ART_ABP_MEAN, 0, mmhg, 97)],
                  label=g.NLS_NOM_PRESS_BLD_ART_ABP, label_string="ABP"),
    ]


def fico2_values(items: list) -> list[float]:
    """FiCO2 as a supplementary vital or as a device numeric (the contract allows either)."""
    return values(items, Vital.FICO2) + [n.value for n in numerics_of(items, 0x50BA)]


# -- the builder against the guide and real bytes (no codec needed) -------------------------


def test_fcs_matches_the_guides_examples() -> None:
    # "Frame Abort ... Examples": CRC d9 64 -> complemented, LSB first 9b 26.
    assert g.fcs16(b"\x3a\x71") == 0xD964
    assert g.frame_payload(b"\x3a\x71") == bytes.fromhex("c0 3a 71 9b 26 c1")
    # The second example's FCS byte 0xC1 is escaped to 7D E1.
    assert g.fcs16(b"\x3a\x91") == 0x3E6A
    assert g.frame_payload(b"\x3a\x91") == bytes.fromhex("c0 3a 91 95 7d e1 c1")


def test_fcs_is_rfc1662s() -> None:
    # RFC 1662 FCS-16 check value over "123456789" (ones' complement): 0x906E.
    assert g.fcs16(b"123456789") ^ 0xFFFF == 0x906E
    # The receiver's check: the FCS over data plus the transmitted FCS is the good residual.
    for data in (b"", b"\x00", b"\x11\x01\x00\x00", bytes(range(256))):
        sent = struct.pack("<H", g.fcs16(data) ^ 0xFFFF)
        assert g.fcs16(data + sent) == g.GOOD_FCS == 0xF0B8


def test_real_rs232_frame_checks_and_rebuilds_byte_for_byte() -> None:
    [ud] = g.deframe(REAL_FRAME_WIRE)
    assert REAL_FRAME_LOGGED[1:5] == bytes.fromhex("11 01 01 24") and len(ud) == 0x124
    assert g.fcs16(REAL_FRAME_LOGGED[1:-1]) == g.GOOD_FCS
    assert b"\x7d\xe0" in REAL_FRAME_WIRE                       # the 0xC0 in its data
    # Rebuilt from its parts with this module's layouts, it is the same message.
    attrs, end = g._parse_attribute_list(ud, 56)
    assert end == len(ud) and len(attrs) == 26
    rebuilt = g.poll_result([(0x0050, list(attrs.items()))], obj_code=g.NOM_MOC_PT_DEMOG,
                            invoke_id=0, poll_number=0, rel_time=0x059EF200, extended=False,
                            attr_grp=0x0807)
    assert rebuilt == ud
    assert g.frame(ud) == REAL_FRAME_WIRE
    assert g.string("Koenig") == attrs[0x095C]                  # NOM_ATTR_PT_NAME_FAMILY


def test_real_connect_indication_rebuilds_byte_for_byte() -> None:
    assert g.message_length(REAL_CONNECT_INDICATION) == len(REAL_CONNECT_INDICATION) == 418
    attrs, end = g._parse_attribute_list(REAL_CONNECT_INDICATION, 28)
    assert end == len(REAL_CONNECT_INDICATION) and len(attrs) == 16
    (event_time,) = struct.unpack(">I", REAL_CONNECT_INDICATION[20:24])
    assert g.connect_indication(event_time=event_time,
                                attrs=list(attrs.items())) == REAL_CONNECT_INDICATION
    assert attrs[g.NOM_ATTR_ID_MODEL] == bytes.fromhex("00 08") + b"Philips\0" + bytes.fromhex(
        "00 08") + b"866062\0\0"


def test_association_request_builder_matches_the_guides_lengths() -> None:
    # "User Data" example: presentation LI 220 (0xDC), session LI 236 (0xEC).
    req = g.association_request(min_poll_period=800000, ext_options=g.POLL_EXT_PERIOD_NU_AVG_60SEC,
                                options=0x60000000)
    assert req[:2] == b"\x0d\xec" and req[16:18] == b"\xc1\xdc"
    assert len(req) == 2 + 236
    parsed = g.parse_host(req)
    assert parsed.kind == "assoc_request"
    assert parsed.user_info["ext_options"] == g.POLL_EXT_PERIOD_NU_AVG_60SEC


def test_host_parser_accepts_the_guides_examples() -> None:
    m = g.parse_host(GUIDE_MDS_CREATE_RESULT)
    assert (m.kind, m.invoke_id) == ("mds_create_result", 1)
    m = g.parse_host(GUIDE_SINGLE_POLL)
    assert (m.kind, m.poll_number, m.obj_code, m.attr_grp) == ("poll", 1, 6, 0)
    m = g.parse_host(GUIDE_EXT_POLL)
    assert (m.kind, m.obj_code, m.ext_attrs) == ("poll_ext", 6, {})
    assert g.parse_host(g.RELEASE_REQUEST).kind == "release_request"
    with pytest.raises(g.GuideError):
        g.parse_host(GUIDE_EXT_POLL[:-1])


def test_monitor_parser_reads_the_builders_and_the_real_messages() -> None:
    assert g.parse_monitor(g.association_response()).user_info["system_type"] == g.SYST_SERVER
    assert [g.parse_monitor(m).kind for m in (g.REFUSE, g.RELEASE_RESPONSE, g.ABORT)] == [
        "refuse", "release_response", "abort"]
    m = g.parse_monitor(g.mds_create_event_report(date_time=DATE))
    assert m.kind == "mds_create" and m.attrs[g.NOM_ATTR_TIME_ABS] == g.absolute_time(DATE)
    m = g.parse_monitor(g.poll_result(vital_numerics(0)))
    assert (g.NOM_PRESS_BLD_ART_ABP_SYS, 0, g.NOM_DIM_MMHG, 131) in m.numerics
    m = g.parse_monitor(g.poll_result([g.wave(1, REAL_PLETH_SAMPLES, **pleth_kw())],
                                      obj_code=g.NOM_MOC_VMO_METRIC_SA_RT))
    assert m.waves == [(g.NOM_PLETH, 0, REAL_PLETH_SAMPLES)]
    assert g.parse_monitor(REAL_CONNECT_INDICATION).kind == "connect_indication"
    m = g.parse_monitor(g.deframe(REAL_FRAME_WIRE)[0])
    assert (m.kind, m.obj_code, len(m.objects)) == ("poll_result", g.NOM_MOC_PT_DEMOG, 1)
    with pytest.raises(g.GuideError):
        g.parse_monitor(g.poll_result([hr(70)])[:-2])


def test_float_type_examples() -> None:
    assert g.decode_float_type(bytes.fromhex("fd007d00")) == pytest.approx(32.0)
    assert g.decode_float_type(bytes.fromhex("ff000140")) == pytest.approx(32.0)
    assert g.decode_float_type(bytes.fromhex("01000140")) == 3200
    assert g.decode_float_type(bytes.fromhex("02000020")) == 3200
    assert math.isnan(g.decode_float_type(g.float_raw(g.FLOAT_NAN)))
    assert math.isnan(g.decode_float_type(g.float_raw(g.FLOAT_NRES)))
    assert g.decode_float_type(g.float_raw(g.FLOAT_PINF)) == math.inf
    assert g.decode_float_type(g.float_raw(g.FLOAT_NINF)) == -math.inf
    assert g.float_raw(g.FLOAT_NINF, 0) == bytes.fromhex("00800002")


# -- what the codec sends -------------------------------------------------------------------


def test_codec_names_and_defaults(variant: str) -> None:
    c = make_codec(variant)
    assert c.name == f"intellivue-{variant}"
    d = c.serial_defaults           # "115200 8N1, no flow control" (the MIB/RS232 port)
    assert (d.baudrate, d.bytesize, d.parity, d.stopbits, d.rtscts, d.xonxoff) == (
        115200, 8, "N", 1, False, False)
    assert c.carries_nibp
    assert c.measures == {Vital.HR, Vital.PULSE_RATE, Vital.SPO2, Vital.NIBP_SYS,
                          Vital.NIBP_DIA, Vital.NIBP_MEAN, Vital.RESP_RATE, Vital.ETCO2,
                          Vital.TEMP, Vital.PLETH}
    make_codec(variant, poll_period_s=2.0)          # the keyword the contract names


def test_association_request_follows_the_guide(variant: str) -> None:
    codec = make_codec(variant)
    [req] = host_messages(codec.open_requests(), variant)
    assert req.kind == "assoc_request"
    info = req.user_info
    assert info["protocol_version"] & g.MDDL_VERSION1
    assert info["nomenclature_version"] & g.NOMEN_VERSION
    assert info["system_type"] & g.SYST_CLIENT
    assert info["poll_profile_revision"] & g.POLL_PROFILE_REV_0
    assert info["max_mtu_rx"] >= 300                        # the monitor requires >= 300
    assert info["max_mtu_rx"] >= 500                        # waves need 500 ("MTU ... waves")
    assert info["max_mtu_tx"] <= (1000 if variant == "mib" else 1364)
    assert info["ext_options"] & g.POLL_EXT_PERIOD_NU_1SEC   # real-time numerics
    assert info["ext_options"] & g.POLL_EXT_PERIOD_RTSA      # and waves
    assert codec.link_state == "associating"


def test_release_request_follows_the_guide(variant: str) -> None:
    s = Session(variant)
    s.run(1.0)
    [rel] = host_messages(s.codec.close_requests(), variant)
    assert rel.kind == "release_request"
    s.feed(g.RELEASE_RESPONSE, s.t + 0.01)
    assert s.codec.link_state == "released"


# -- a whole session --------------------------------------------------------------------------


def pleth_kw() -> dict:
    return {"lower_abs": 0.0, "upper_abs": 100.0, "abs_decimals": 1,
            "lower_scaled": 0, "upper_scaled": 4095, "sample_period": 64}


def scaled(raw: list[int], lo_abs: float = 0.0, hi_abs: float = 100.0, lo: int = 0,
           hi: int = 4095) -> np.ndarray:
    """ScaleRangeSpec16: the linear map of [lower, upper]_scaled onto [lower, upper]_absolute."""
    r = np.asarray(raw, dtype=np.float64)
    return (lo_abs + (r - lo) * (hi_abs - lo_abs) / (hi - lo)).astype(np.float32)


def test_whole_session_gives_exact_values(variant: str) -> None:
    s = Session(variant)
    s.mon.numerics = vital_numerics
    s.mon.wave_samples = REAL_PLETH_SAMPLES
    s.mon.wave_kw = pleth_kw()
    s.run(6.0)
    items = s.items

    assert s.mon.mds_confirmed, f"no MDS Create Event Result mirroring the invoke id: {s.kinds()}"
    assert s.codec.link_state == "associated"
    assert "other" not in s.kinds(), "a message the guide does not define"
    for _, m in s.sent:                  # a wave priority list, if set, names the pleth
        if m.kind == "set" and g.NOM_ATTR_POLL_RTSA_PRIO_LIST in m.ext_attrs:
            ids = m.ext_attrs[g.NOM_ATTR_POLL_RTSA_PRIO_LIST][4:]
            assert g.NLS_NOM_PULS_OXIM_PLETH in struct.unpack(f">{len(ids) // 4}I", ids)
    polled = {m.obj_code for _, m in s.sent if m.kind in ("poll", "poll_ext")}
    assert {g.NOM_MOC_VMO_METRIC_NU, g.NOM_MOC_VMO_METRIC_SA_RT, g.NOM_MOC_VMO_AL_MON} <= polled

    expect = {Vital.HR: 72, Vital.SPO2: 97, Vital.PULSE_RATE: 71, Vital.NIBP_SYS: 120,
              Vital.NIBP_DIA: 80, Vital.NIBP_MEAN: 93, Vital.RESP_RATE: 14, Vital.ETCO2: 38,
              Vital.TEMP: 36.85}
    for vital, value in expect.items():
        got = readings(items, vital)
        assert got, f"no {vital} reading"
        assert all(r.quality == Quality.OK for r in got), (vital, got[:2])
        assert all(r.value == pytest.approx(value, abs=1e-9) for r in got), (vital, got[:2])
    assert fico2_values(items) and all(v == pytest.approx(2) for v in fico2_values(items))
    # Compound NIBP: one determination, never repeated though every poll carries it.
    assert len(readings(items, Vital.NIBP_SYS)) == 1
    # Continuous numerics arrive at about the 1 s real-time numeric period.
    assert len(readings(items, Vital.HR)) >= 4

    # Invasive pressures kept as device numerics with their own ids AND labels.
    for codes, label, vals, other in (((0x4A11, 0x4A12, 0x4A13), "ART", (118, 76, 90), "ABP"),
                                      ((0x4A15, 0x4A16, 0x4A17), "ABP", (131, 79, 97), "ART")):
        for code, value in zip(codes, vals, strict=True):
            got = numerics_of(items, code)
            assert got, f"{label} 0x{code:04X} dropped"
            assert all(n.value == pytest.approx(value) and n.quality == Quality.OK
                       and label in n.label and other not in n.label
                       and n.unit == "mmHg" for n in got), got[:1]

    # Pleth: scaled by the scale-and-range specification, at 125 samples/s (8 ms period).
    chunks = [i for i in items if isinstance(i, WaveChunk) and i.vital == Vital.PLETH]
    assert len(chunks) >= 15
    assert all(c.rate == pytest.approx(125.0) for c in chunks)
    assert all(len(c) == 32 for c in chunks)
    np.testing.assert_allclose(chunks[0].samples, scaled(REAL_PLETH_SAMPLES), rtol=1e-6)
    for a, b in itertools.pairwise(chunks[1:]):     # steady stream: contiguous
        assert b.t0 == pytest.approx(a.t_end, abs=2e-3)

    # Device time: the MDS create's Date and Time, advanced by the relative time.
    hrs = readings(items, Vital.HR)
    assert all(r.device_time is not None for r in hrs), hrs[:1]
    for a, b in itertools.pairwise(hrs):
        assert b.device_time - a.device_time == pytest.approx(b.t - a.t, abs=0.06)
    assert abs(hrs[0].device_time - (DATE_UNIX + hrs[0].t - T0)) <= 14 * 3600 + 1
    assert all(isinstance(i, Reading | WaveChunk | DeviceFlag | DeviceNumeric) for i in items)
    assert s.codec.stats.frames_bad == 0
    assert s.codec.stats.extra.get("polls_sent", 0) >= 3
    assert s.codec.stats.extra.get("polls_answered", 0) >= 3


def test_mds_create_result_mirrors_the_invoke_id(variant: str) -> None:
    s = Session(variant, start=False)
    s.mon.mds_invoke_id = 0xC07D                  # bytes that must be escaped, for MIB
    s.start()
    s.run(0.5)
    results = [m for _, m in s.sent if m.kind == "mds_create_result"]
    assert results and all(m.invoke_id == 0xC07D for m in results)
    assert s.mon.mds_confirmed


def test_polls_stay_within_the_guides_limits_and_keep_alive(variant: str) -> None:
    s = Session(variant)
    s.mon.numerics = vital_numerics
    s.mon.wave_samples = REAL_PLETH_SAMPLES
    s.run(40.0, step=0.1)
    assert s.codec.link_state == "associated"
    polls = [(t, m) for t, m in s.sent if m.kind in ("poll", "poll_ext")]
    # "a maximum of one POLL DATA REQUEST ... for each object type per second"
    # (plus one more for numerics): never two polls of one type within 0.5 s.
    by_type: dict[int, list[float]] = {}
    for t, m in polls:
        by_type.setdefault(m.obj_code, []).append(t)
    for code, times in by_type.items():
        gaps = np.diff(times)
        assert (gaps >= 0.5).all(), (code, times[:10])
    # Keep-alive: the association times out after 10 s without a message (min poll < 3.3 s).
    times = [t for t, _ in s.sent]
    assert max(np.diff(times + [s.t])) < 10.0
    # The association is never restarted while the monitor answers.
    assert s.kinds().count("assoc_request") == 1


# -- framing --------------------------------------------------------------------------------


def test_the_codecs_frames_are_the_guides_byte_for_byte() -> None:
    # Every frame the codec sends is BOF, Hdr, data and FCS escaped wherever 0x7D, 0xC0
    # or 0xC1 occur, EOF: nothing more, nothing less (strict deframing, then re-framing).
    s = Session("mib")
    s.mon.numerics = vital_numerics
    s.mon.wave_samples = REAL_PLETH_SAMPLES
    s.run(40.0, step=0.1)
    assert len(s.raw_out) > 50
    for raw in s.raw_out:
        [ud] = g.deframe(raw)
        assert raw == g.frame(ud)
    assert any(g.ESC in raw[-4:-1] for raw in s.raw_out), "no FCS needed escaping: no check"


def session_stream(variant: str = "mib") -> bytes:
    """A fixed monitor stream: numerics, a wave, alarms (fed to a fresh codec)."""
    msgs = [
        nu_result(*vital_numerics(0), invoke_id=2, rel_time=200000),
        g.poll_result([g.wave(0x200, REAL_PLETH_SAMPLES, **pleth_kw())],
                      obj_code=g.NOM_MOC_VMO_METRIC_SA_RT, invoke_id=3, rel_time=200000),
        g.poll_result([g.alert_monitor(0x100, technical=[g.Alarm(
            g.NOM_PULS_OXIM_SAT_O2, g.NOM_EVT_SENSOR_DISCONN, g.MED_PRI_T_AL,
            "SpO\u2082 SENSOR OFF")])], obj_code=g.NOM_MOC_VMO_AL_MON, invoke_id=4),
        nu_result(hr(75), invoke_id=2, rel_time=208000, sequence_no=1),
    ]
    return b"".join(wire(m, variant) for m in msgs)


def test_frames_split_at_every_byte_give_the_same_items(variant: str) -> None:
    stream = session_stream(variant)
    whole = fresh(variant).feed(stream, T0 + 1)
    assert values(whole, Vital.HR) == [72, 75]
    assert any(isinstance(i, WaveChunk) for i in whole)
    for k in range(1, len(stream)):
        c = fresh(variant)
        got = c.feed(stream[:k], T0 + 1) + c.feed(stream[k:], T0 + 1)
        assert norm(got) == norm(whole), f"split at {k}"
    c = fresh(variant)
    got = [i for b in stream for i in c.feed(bytes([b]), T0 + 1)]
    assert norm(got) == norm(whole)


def test_a_repeated_wave_period_gives_the_same_items_however_split() -> None:
    # Two results for the same 256 ms period (same relative time): whatever the codec
    # makes of the repeat, where the bytes were cut must not change it.
    w = g.frame(g.poll_result([g.wave(0x200, [0], **pleth_kw())],
                              obj_code=g.NOM_MOC_VMO_METRIC_SA_RT))
    stream = g.frame(nu_result(hr(20), rel_time=160)) + w + w + b"\x00"
    whole = fresh().feed(stream, T0 + 1)
    for k in range(1, len(stream)):
        c = fresh()
        got = c.feed(stream[:k], T0 + 1) + c.feed(stream[k:], T0 + 1)
        assert norm(got) == norm(whole), f"split at {k}"


def _escaped_case(reserved: int) -> bytes:
    """A numeric result with ``reserved`` in the header's length, the data and the FCS.

    Data: the HR mantissa's low byte. Header: an unknown attribute (which a client
    "should ignore") pads the message until the length's low byte is ``reserved``
    (odd for 0x7D and 0xC1: the guide's structures are 2-byte aligned, the framing
    is not). FCS: the relative time is varied until an FCS byte is ``reserved``.
    """
    def make(pad: int, salt: int) -> bytes:
        return nu_result(hr((reserved, 0)), g.numeric(
            40, g.Nu(0xF200, 0, g.NOM_DIM_DIMLESS, 1), extra=[(0xF0F0, bytes(pad))]),
            rel_time=salt)
    pad = next(p for p in range(512) if len(make(p, 0)) & 0xFF == reserved)
    for salt in range(1, 50000):
        ud = make(pad, salt)
        if reserved in struct.pack("<H", g.fcs16(g.frame_body(ud)[:-2]) ^ 0xFFFF):
            return ud
    raise AssertionError("no FCS with a reserved byte")


@pytest.mark.parametrize("reserved", [0x7D, 0xC0, 0xC1])
def test_escaped_bytes_in_header_data_and_fcs(reserved: int) -> None:
    ud = _escaped_case(reserved)
    f = g.frame(ud)
    esc = bytes([g.ESC, reserved ^ 0x20])
    assert f[1:4] == bytes([0x11, 0x01, len(ud) >> 8]) and f[4:6] == esc      # header
    assert esc in f[6:-5]                                                      # data
    assert esc in f[-5:-1]                                                     # FCS
    assert f.count(bytes([g.BOF])) == f.count(bytes([g.EOF])) == 1
    assert all(f[i + 1] in (0x5D, 0xE0, 0xE1) for i in range(len(f)) if f[i] == g.ESC)
    c = fresh()
    got = c.feed(f, T0 + 1)
    assert values(got, Vital.HR) == [reserved]
    assert c.stats.frames_bad == 0


def test_frame_abort_and_unknown_header_are_ignored() -> None:
    c = fresh()
    good = g.frame(nu_result(hr(61)))
    aborted = good[:20] + bytes([g.ESC, g.EOF])                    # "Frame Abort"
    other_proto = g.frame(nu_result(hr(99)), protocol_id=0x12)
    other_type = g.frame(nu_result(hr(98)), msg_type=0x02)
    got = c.feed(aborted + other_proto + other_type + good, T0 + 1)
    assert values(got, Vital.HR) == [61]


def test_bad_fcs_frames_never_show_their_values() -> None:
    c = fresh()
    bad = g.frame(nu_result(hr(99)), corrupt_fcs=True)
    got = c.feed(bad, T0 + 1)
    assert not [i for i in got if isinstance(i, Reading | DeviceNumeric | WaveChunk)]
    assert c.stats.frames_bad == 1 and c.stats.extra.get("bad_fcs") == 1
    # One flipped bit anywhere in the frame's data: never a value.
    body = bytearray(g.frame_body(nu_result(hr(99))))
    for i in range(len(body) - 2):
        flipped = bytearray(body)
        flipped[i] ^= 0x04
        f = bytes([g.BOF]) + g.escape(bytes(flipped)) + bytes([g.EOF])
        got = c.feed(f, T0 + 1)
        assert not [it for it in got if isinstance(it, Reading) and it.value == 99], i
    # A wrong header length with a good FCS is malformed, not a value.
    got = c.feed(g.frame(nu_result(hr(97)), length=10), T0 + 1)
    assert not values(got, Vital.HR)
    assert values(c.feed(g.frame(nu_result(hr(62))), T0 + 2), Vital.HR) == [62]


def test_oversized_frame_is_discarded_and_memory_bounded() -> None:
    c = fresh()
    huge = nu_result(hr(99), g.numeric(41, g.Nu(0xF200, 0, g.NOM_DIM_DIMLESS, 1),
                                       extra=[(0xF0F0, bytes(60000))]))
    huge = huge + bytes(200000 - len(huge)) if len(huge) < 200000 else huge
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        got = c.feed(g.frame(huge, length=len(huge) & 0xFFFF), T0 + 1)
        got += c.feed(bytes([g.BOF]) + b"\x11\x01" + bytes(300000), T0 + 1)   # never ends
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert not values(got, Vital.HR)
    assert held < 4 * MAX_BUFFER_BYTES, held
    assert c.stats.bytes_discarded > 0
    assert values(c.feed(g.frame(nu_result(hr(63))), T0 + 2), Vital.HR) == [63]


# -- bad input inside good frames ---------------------------------------------------------


def _lies() -> dict[str, bytes]:
    good_obs = g.observation_poll(*hr(64))
    nu = g.Nu(g.NOM_ECG_CARD_BEAT_RATE, 0, g.NOM_DIM_BEAT_PER_MIN, 99).encode()
    out = {
        # AttributeList length far past the end of the message.
        "list_length": struct.pack(">HHH", 2, 1, 2000) + g.ava(g.NOM_ATTR_NU_VAL_OBS, nu),
        # count says 5 attributes, length holds one.
        "list_count": struct.pack(">HHH", 2, 5, 14) + g.ava(g.NOM_ATTR_NU_VAL_OBS, nu),
        # an AVA whose length runs past its list.
        "ava_length": struct.pack(">HHH", 2, 1, 14) + struct.pack(
            ">HH", g.NOM_ATTR_NU_VAL_OBS, 400) + nu,
        # a NuObsValue 4 bytes short.
        "short_value": struct.pack(">H", 2) + g.attribute_list([(g.NOM_ATTR_NU_VAL_OBS, nu[:6])]),
        # a compound whose count exceeds its length.
        "compound_count": struct.pack(">H", 2) + g.attribute_list(
            [(g.NOM_ATTR_NU_CMPD_VAL_OBS, struct.pack(">HH", 3, 10) + nu)]),
    }
    return {k: good_obs + v for k, v in out.items()}


@pytest.mark.parametrize("lie", sorted(_lies()))
def test_lying_attribute_lengths(lie: str) -> None:
    c = fresh()
    body = _lies()[lie]
    pil = struct.pack(">HH", 1, 6 + len(body)) + struct.pack(">HHH", 0, 2, len(body)) + body
    got = c.feed(g.frame(g.poll_result([], info=pil)), T0 + 1)
    hrs = [r.value for r in readings(got, Vital.HR) if r.valid]
    assert 99 not in hrs and set(hrs) <= {64}
    assert not [n for n in got if isinstance(n, DeviceNumeric) and n.value == 99]
    assert bad_count(c) >= 1
    assert values(c.feed(g.frame(nu_result(hr(65))), T0 + 2), Vital.HR) == [65]


def test_poll_info_list_length_lies() -> None:
    c = fresh()
    obs = g.observation_poll(*hr(99))
    for pil in (struct.pack(">HH", 1, 500) + struct.pack(">HHH", 0, 1, len(obs)) + obs,
                struct.pack(">HH", 3, 6 + len(obs)) + struct.pack(">HHH", 0, 1, len(obs)) + obs,
                struct.pack(">HH", 1, 6 + len(obs)) + struct.pack(">HHH", 0, 9, 900) + obs):
        got = c.feed(g.frame(g.poll_result([], info=pil)), T0 + 1)
        assert not [r for r in readings(got, Vital.HR) if r.valid and r.value != 99]
    assert values(c.feed(g.frame(nu_result(hr(66))), T0 + 2), Vital.HR) == [66]


def test_unknown_physiological_ids_and_units_are_kept() -> None:
    c = fresh()
    got = c.feed(g.frame(nu_result(
        g.numeric(50, g.Nu(0xF3A1, 0, 0x7777, 12.5, decimals=1), label=0x0002F3A1,
                  label_string="Xyz"),
        g.numeric(51, g.Nu(g.NOM_ECG_CARD_BEAT_RATE, 0, 0x7778, 80)))), T0 + 1)
    [unk] = numerics_of(got, 0xF3A1)
    assert unk.value == pytest.approx(12.5) and unk.quality == Quality.OK
    assert "Xyz" in unk.label and unk.unit
    assert c.stats.extra.get("unknown_numerics", 0) >= 1
    # A known id in a unit we cannot convert is never shown as that vital's number.
    assert not [r for r in readings(got, Vital.HR) if r.valid and r.value == 80]


def test_temperature_in_fahrenheit_and_etco2_in_kpa_are_converted() -> None:
    c = fresh()
    got = c.feed(g.frame(nu_result(
        g.numeric(7, g.Nu(g.NOM_TEMP, 0, g.NOM_DIM_FAHR, 98.6, decimals=1), label=g.NLS_NOM_TEMP),
        g.numeric(6, [g.Nu(g.NOM_AWAY_CO2_ET, 0, g.NOM_DIM_KILO_PASCAL, 5.0, decimals=1),
                      g.Nu(g.NOM_AWAY_CO2_INSP_MIN, 0, g.NOM_DIM_KILO_PASCAL, 0.3,
                           decimals=1)], label=g.NLS_NOM_AWAY_CO2))), T0 + 1)
    assert values(got, Vital.TEMP) == [pytest.approx(37.0, abs=0.01)]
    assert values(got, Vital.ETCO2) == [pytest.approx(5.0 * 760 / 101.325, abs=0.01)]


@pytest.mark.parametrize(("mantissa", "quality"), [
    (g.FLOAT_NAN, Quality.NO_VALUE), (g.FLOAT_NRES, Quality.NO_VALUE),
    (g.FLOAT_PINF, Quality.OUT_OF_RANGE), (g.FLOAT_NINF, Quality.OUT_OF_RANGE)])
def test_float_special_values_never_appear_as_numbers(mantissa: int, quality: Quality) -> None:
    c = fresh()
    got = c.feed(g.frame(nu_result(
        hr((mantissa, 0)),
        g.numeric(8, [g.Nu(g.NOM_PRESS_BLD_ART_SYS, 0, g.NOM_DIM_MMHG, (mantissa, -1)),
                      g.Nu(g.NOM_PRESS_BLD_ART_DIA, 0, g.NOM_DIM_MMHG, 70),
                      g.Nu(g.NOM_PRESS_BLD_ART_MEAN, 0, g.NOM_DIM_MMHG, 80)],
                  label=g.NLS_NOM_PRESS_BLD_ART, label_string="ART"))), T0 + 1)
    [r] = readings(got, Vital.HR)
    assert math.isnan(r.value) and r.quality == quality
    [art_sys] = numerics_of(got, 0x4A11)
    assert math.isnan(art_sys.value) and not art_sys.quality.has_value
    assert [n.value for n in numerics_of(got, 0x4A12)] == [70]


@pytest.mark.parametrize(("state", "quality"), [
    (0, Quality.OK),
    (g.INVALID, Quality.NO_VALUE),
    (g.UNAVAILABLE, Quality.NO_VALUE),
    (g.QUESTIONABLE, Quality.QUESTIONABLE),
    (g.CALIBRATION_ONGOING, Quality.QUESTIONABLE),
    (g.INVALID | g.QUESTIONABLE, Quality.NO_VALUE),
    (g.TEST_DATA, Quality.DEMO),
    (g.DEMO_DATA, Quality.DEMO),
    # "The measurement is valid if the first octet of the state is all 0."
    (g.VALIDATED_DATA | g.EARLY_INDICATION | g.MSMT_ONGOING | g.MSMT_STATE_IN_ALARM
     | g.MSMT_STATE_AL_INHIBITED, Quality.OK),
])
def test_measurement_state_bits_become_qualities(state: int, quality: Quality) -> None:
    c = fresh()
    [r] = readings(c.feed(g.frame(nu_result(hr(88, state=state))), T0 + 1), Vital.HR)
    assert r.quality == quality
    if quality.has_value:
        assert r.value == 88
    else:
        assert math.isnan(r.value)


def test_demo_data_raises_a_flag_on_change_only() -> None:
    c = fresh()
    flags: list[DeviceFlag] = []
    for i, state in enumerate([0, g.DEMO_DATA, g.DEMO_DATA, g.DEMO_DATA, 0, 0]):
        got = c.feed(g.frame(nu_result(hr(70 + i, state=state), rel_time=300000 + 8000 * i)),
                     T0 + 1 + i)
        flags += [f for f in got if isinstance(f, DeviceFlag) and f.name == "intellivue.demo_data"]
    flags = flags[1:] if flags and not flags[0].active else flags   # an initial "off" is fine
    assert [(f.active, f.t) for f in flags] == [(True, T0 + 2), (False, T0 + 5)]
    assert flags[0].text


def test_nibp_is_a_new_determination_only_when_the_monitor_says_so() -> None:
    c = fresh()
    def nibp(sys: int, when: dt.datetime) -> bytes:
        mmhg = g.NOM_DIM_MMHG
        return g.frame(nu_result(g.numeric(4, [g.Nu(g.NOM_PRESS_BLD_NONINV_SYS, 0, mmhg, sys),
                                               g.Nu(g.NOM_PRESS_BLD_NONINV_DIA, 0, mmhg, 80),
                                               g.Nu(g.NOM_PRESS_BLD_NONINV_MEAN, 0, mmhg, 93)],
                                           label=g.NLS_NOM_PRESS_BLD_NONINV, abs_time=when)))
    first, second = DATE - dt.timedelta(minutes=5), DATE
    got = []
    for i, (sys, when) in enumerate([(120, first), (120, first), (120, first), (131, second),
                                     (131, second)]):
        got += c.feed(nibp(sys, when), T0 + 1 + i)
    assert values(got, Vital.NIBP_SYS) == [120, 131]
    assert values(got, Vital.NIBP_MEAN) == [93, 93]


def test_monitor_alarms_become_device_flags_on_change() -> None:
    c = fresh()
    sensor_off = g.Alarm(g.NOM_PULS_OXIM_SAT_O2, g.NOM_EVT_SENSOR_DISCONN, g.MED_PRI_T_AL,
                         "SpO\u2082 SENSOR OFF")
    hr_high = g.Alarm(g.NOM_ECG_CARD_BEAT_RATE, g.NOM_EVT_HI, g.MED_PRI_P_AL, "**HR HIGH",
                      obj=(g.NOM_MOC_VMO_METRIC_NU, 0, 1))
    flags: list[DeviceFlag] = []
    for i, (tech, pat) in enumerate([([], []), ([sensor_off], []), ([sensor_off], [hr_high]),
                                     ([sensor_off], [hr_high]), ([], [hr_high]), ([], [])]):
        got = c.feed(g.frame(g.poll_result([g.alert_monitor(0x100, technical=tech, patient=pat)],
                                           obj_code=g.NOM_MOC_VMO_AL_MON)), T0 + 1 + i)
        flags += [f for f in got if isinstance(f, DeviceFlag)]
    so = [(f.active, f.t) for f in flags if f.name == "sensor_off"]
    assert so == [(True, T0 + 2), (False, T0 + 5)]
    alarm = [f for f in flags if f.name.startswith("intellivue.alarm.")]
    assert [(f.active, f.t) for f in alarm] == [(True, T0 + 3), (False, T0 + 6)]
    assert "HR HIGH" in alarm[0].text


def test_association_refusal_is_reported_and_retried(variant: str) -> None:
    s = Session(variant, answer=False)
    s.feed(g.REFUSE, T0 + 0.1)
    assert s.codec.link_state.startswith("refused")
    assert s.codec.stats.extra.get("refused") == 1
    s.run(0.5)
    assert s.kinds().count("assoc_request") == 1, "retried at once, without back-off"
    s.run(60.0, step=0.25)
    assert s.kinds().count("assoc_request") >= 2, "never retried"
    assert s.kinds().count("assoc_request") <= 30


def test_abort_is_reported_and_reassociates(variant: str) -> None:
    s = Session(variant)
    s.mon.numerics = [hr(70)]
    s.run(2.0)
    assert s.codec.link_state == "associated"
    s.feed(g.ABORT, s.t + 0.01)
    assert s.codec.link_state == "aborted"
    assert s.codec.stats.extra.get("aborted") == 1
    s.run(60.0, step=0.25)
    assert s.kinds().count("assoc_request") >= 2
    assert s.codec.link_state == "associated"
    assert s.codec.stats.extra.get("reassociations", 0) >= 1


def test_a_monitor_that_never_answers(variant: str) -> None:
    s = Session(variant, answer=False)
    s.run(60.0, step=0.25)
    assert s.codec.link_state.startswith("no answer")
    n = s.kinds().count("assoc_request")
    assert 2 <= n <= 30


def test_real_frame_through_the_codec() -> None:
    c = fresh()
    got = c.feed(REAL_FRAME_WIRE, T0 + 1)
    assert not [i for i in got if isinstance(i, Reading | WaveChunk)]
    assert c.stats.frames_ok >= 1 and c.stats.frames_bad == 0
    # Patient demographics were not asked for: "a poll result for an object we did not
    # ask for" is a counted event (issue 14, Bad input).
    assert c.stats.extra.get("unrequested_result", 0) >= 1


def test_linked_results_are_all_decoded() -> None:
    # "Remote Operation Linked Result": ROLRS first, ROLRS last, then an RORS with an
    # empty PollInfoList; every part carries a complete ActionResult.
    c = fresh()
    parts = [
        nu_result(hr(81), ro_type=g.ROLRS_APDU, linked=(g.RORLS_FIRST, 1), invoke_id=7),
        nu_result(g.numeric(2, g.Nu(g.NOM_PULS_OXIM_SAT_O2, 0, g.NOM_DIM_PERCENT, 93)),
                  ro_type=g.ROLRS_APDU, linked=(g.RORLS_LAST, 2), invoke_id=7),
        g.poll_result([], invoke_id=7, info=struct.pack(">HH", 0, 0)),
    ]
    got = c.feed(b"".join(g.frame(p) for p in parts), T0 + 1)
    assert values(got, Vital.HR) == [81] and values(got, Vital.SPO2) == [93]
    assert c.stats.frames_bad == 0


def test_single_poll_results_and_several_contexts_are_decoded() -> None:
    c = fresh()
    ctx0 = struct.pack(">HHH", 0, 1, len(o := g.observation_poll(*hr(58)))) + o
    ctx1 = struct.pack(">HHH", 1, 1, len(o2 := g.observation_poll(*g.numeric(
        3, g.Nu(g.NOM_RESP_RATE, 0, g.NOM_DIM_RESP_PER_MIN, 12))))) + o2
    pil = struct.pack(">HH", 2, len(ctx0) + len(ctx1)) + ctx0 + ctx1
    got = c.feed(g.frame(g.poll_result([], extended=False, info=pil)), T0 + 1)
    assert values(got, Vital.HR) == [58] and values(got, Vital.RESP_RATE) == [12]


def test_relative_time_wrap_keeps_device_time_going() -> None:
    c = make_codec()
    c.open_requests()
    c.feed(g.frame(g.association_response()), T0)
    c.feed(g.frame(g.mds_create_event_report(date_time=DATE, rel_time=0xFFFFF000)), T0)
    c.tick(T0 + 0.01)
    before = readings(c.feed(g.frame(nu_result(hr(70), rel_time=0xFFFFF800)), T0 + 1), Vital.HR)
    after = readings(c.feed(g.frame(nu_result(hr(71), rel_time=0x00000800)), T0 + 2), Vital.HR)
    assert before[0].device_time is not None and after[0].device_time is not None
    assert after[0].device_time - before[0].device_time == pytest.approx(0x1000 / 8000)


# -- waves --------------------------------------------------------------------------------


def test_wave_gap_is_left_as_a_gap() -> None:
    c = fresh()
    chunks: list[WaveChunk] = []
    rel = 400000
    for k in (0, 1, 3, 4):           # the result for period 2 was lost
        ud = g.poll_result([g.wave(0x200, REAL_PLETH_SAMPLES, **pleth_kw())],
                           obj_code=g.NOM_MOC_VMO_METRIC_SA_RT, rel_time=rel + 2048 * k,
                           sequence_no=k)
        chunks += [i for i in c.feed(g.frame(ud), T0 + 1 + 0.256 * k + 0.3)
                   if isinstance(i, WaveChunk)]
    assert len(chunks) == 4
    assert chunks[1].t0 == pytest.approx(chunks[0].t_end, abs=2e-3)
    assert chunks[2].t0 - chunks[1].t_end == pytest.approx(0.256, abs=0.01)
    assert chunks[3].t0 == pytest.approx(chunks[2].t_end, abs=2e-3)
    assert not any(np.isnan(ch.samples).any() for ch in chunks)


def test_wave_non_significant_bits_are_masked() -> None:
    c = fresh()
    raw = [s | 0xF000 for s in REAL_PLETH_SAMPLES]
    ud = g.poll_result([g.wave(0x200, raw, flags=g.SA_EXT_VAL_RANGE, significant_bits=12,
                               **pleth_kw())], obj_code=g.NOM_MOC_VMO_METRIC_SA_RT)
    [ch] = [i for i in c.feed(g.frame(ud), T0 + 1) if isinstance(i, WaveChunk)]
    np.testing.assert_allclose(ch.samples, scaled(REAL_PLETH_SAMPLES), rtol=1e-6)


def test_wave_scale_and_rate_follow_the_monitor() -> None:
    c = fresh()
    raw = list(range(0, 320, 5))
    ud = g.poll_result([g.wave(0x200, raw, sample_period=32, lower_abs=-40.0, upper_abs=120.0,
                               lower_scaled=0, upper_scaled=320)],
                       obj_code=g.NOM_MOC_VMO_METRIC_SA_RT)
    [ch] = [i for i in c.feed(g.frame(ud), T0 + 1) if isinstance(i, WaveChunk)]
    assert ch.rate == pytest.approx(250.0)                          # 4 ms sample period
    np.testing.assert_allclose(ch.samples, scaled(raw, -40.0, 120.0, 0, 320), rtol=1e-6)


# -- LAN ------------------------------------------------------------------------------------


def test_lan_messages_concatenated_parse_like_mib_frames() -> None:
    mib = fresh("mib").feed(session_stream("mib"), T0 + 1)
    lan = fresh("lan").feed(session_stream("lan"), T0 + 1)
    assert norm(lan) == norm(mib)
    assert values(lan, Vital.HR) == [72, 75]


def test_lan_resynchronises_on_garbage() -> None:
    c = fresh("lan")
    good = nu_result(hr(67))
    got = c.feed(b"\xff\x13\x37garbage!" + good + b"\x02\x03\x04" + nu_result(hr(68)), T0 + 1)
    assert values(got, Vital.HR) == [67, 68]
    assert c.stats.bytes_discarded > 0


def test_lan_connect_indication_is_understood() -> None:
    c = make_codec("lan")
    c.open_requests()
    got = c.feed(REAL_CONNECT_INDICATION, T0)
    assert not [i for i in got if isinstance(i, Reading | WaveChunk)]
    assert c.stats.frames_bad == 0
    got = c.feed(g.connect_indication(), T0 + 1)
    assert c.stats.frames_bad == 0


# -- the simulated monitor, read by this independent parser ---------------------------------


def test_the_simulated_monitor_speaks_the_guides_layouts(variant: str) -> None:
    cls = IntelliVueMibEncoder if variant == "mib" else IntelliVueLanEncoder
    enc = cls(np.random.default_rng(14))
    got: list[g.MonitorMessage] = []

    def push(t: float) -> None:
        for vital, value in ((Vital.HR, 72), (Vital.SPO2, 97), (Vital.PULSE_RATE, 71),
                             (Vital.RESP_RATE, 14), (Vital.ETCO2, 38), (Vital.TEMP, 36.9)):
            enc.push(Reading(vital, float(value), t))
        ts = np.arange(10) / 100.0
        enc.push(WaveChunk(Vital.PLETH, t, 100.0, np.round(np.sin(ts + t) * 1000) / 1000))

    def exchange(t: float, *host: bytes) -> None:
        for ud in host:
            enc.receive(wire(ud, variant))
        for data in enc.due(t):
            msgs = g.deframe(data) if variant == "mib" else [data]
            assert len(msgs) == 1, "one element, one message"
            got.append(g.parse_monitor(msgs[0]))

    t = T0
    push(t)
    for v, vital in ((120, Vital.NIBP_SYS), (80, Vital.NIBP_DIA), (93, Vital.NIBP_MEAN)):
        enc.push(Reading(vital, float(v), t))
    exchange(t, g.association_request())
    assert [m.kind for m in got] == ["assoc_response", "mds_create"]
    info = got[0].user_info
    assert info["system_type"] & g.SYST_SERVER and info["ext_options"] & g.POLL_EXT_PERIOD_RTSA
    assert g.NOM_ATTR_TIME_ABS in got[1].attrs and g.NOM_ATTR_TIME_REL in got[1].attrs
    exchange(t + 0.1, g.mds_create_result(got[1].invoke_id or 0))
    period = 20 * g.TICKS_PER_S
    exchange(t + 0.2, g.poll_request(10, g.NOM_MOC_VMO_METRIC_NU, period_ticks=period))
    exchange(t + 0.3, g.poll_request(11, g.NOM_MOC_VMO_METRIC_SA_RT, period_ticks=period))
    exchange(t + 0.4, g.poll_request(12, g.NOM_MOC_VMO_AL_MON, period_ticks=period))
    while t < T0 + 5:
        t = round(t + 0.1, 6)
        push(t)
        exchange(t)
    results = [m for m in got if m.kind == "poll_result"]
    assert {m.obj_code for m in results} == {g.NOM_MOC_VMO_METRIC_NU, g.NOM_MOC_VMO_METRIC_SA_RT,
                                             g.NOM_MOC_VMO_AL_MON}
    nu = {(p, s, u): v for m in results for p, s, u, v in m.numerics}
    for key, value in (((g.NOM_ECG_CARD_BEAT_RATE, 0, g.NOM_DIM_BEAT_PER_MIN), 72),
                       ((g.NOM_PULS_OXIM_SAT_O2, 0, g.NOM_DIM_PERCENT), 97),
                       ((g.NOM_PLETH_PULS_RATE, 0, g.NOM_DIM_BEAT_PER_MIN), 71),
                       ((g.NOM_RESP_RATE, 0, g.NOM_DIM_RESP_PER_MIN), 14),
                       ((g.NOM_AWAY_CO2_ET, 0, g.NOM_DIM_MMHG), 38),
                       ((g.NOM_TEMP, 0, g.NOM_DIM_DEGC), 36.9),
                       ((g.NOM_PRESS_BLD_NONINV_SYS, 0, g.NOM_DIM_MMHG), 120),
                       ((g.NOM_PRESS_BLD_NONINV_DIA, 0, g.NOM_DIM_MMHG), 80),
                       ((g.NOM_PRESS_BLD_NONINV_MEAN, 0, g.NOM_DIM_MMHG), 93)):
        assert nu.get(key) == pytest.approx(value), (key, nu)
    samples = [s for m in results for p, _st, w in m.waves if p == g.NOM_PLETH for s in w]
    assert 125 * 4 <= len(samples) <= 125 * 5 + 32          # 125 samples/s over ~4.7 s
    waves = [m for m in results if m.obj_code == g.NOM_MOC_VMO_METRIC_SA_RT and m.waves]
    ticks = np.diff([m.rel_time for m in waves])
    assert ((ticks % 2048) == 0).all(), ticks               # on the 256 ms result grid


# -- more of the session ----------------------------------------------------------------------


def test_a_resent_mds_create_event_is_confirmed_again(variant: str) -> None:
    # "The MDS CREATE EVENT message is resent with a period of about 3 seconds ...
    # it has the same invoke ID as the original message" (p. 54).
    s = Session(variant)
    s.run(0.5)
    again = g.mds_create_event_report(invoke_id=s.mon.mds_invoke_id, date_time=DATE,
                                      rel_time=s.mon.rel(s.t))
    s.feed(again, s.t + 0.01)
    s.run(0.5)
    results = [m for _, m in s.sent if m.kind == "mds_create_result"]
    assert len(results) == 2 and {m.invoke_id for m in results} == {s.mon.mds_invoke_id}


def test_keep_alive_with_a_long_poll_period(variant: str) -> None:
    # The association times out after 10 s without a message when min_poll_period
    # < 3.3 s (p. 70): a 60 s poll period still needs a message every < 10 s.
    s = Session(variant, poll_period_s=60.0)
    [req] = [m for _, m in s.sent if m.kind == "assoc_request"]
    mpp = req.user_info["min_poll_period"] / g.TICKS_PER_S
    timeout = 10.0 if mpp < 3.3 else 3 * mpp if mpp <= 43 else 130.0
    s.mon.numerics = [hr(70)]
    s.run(45.0, step=0.1)
    times = [t for t, _ in s.sent]
    assert max(np.diff(times + [s.t])) < timeout
    assert s.codec.link_state == "associated"
    assert s.kinds().count("assoc_request") == 1


def test_a_monitor_gone_silent_is_reassociated(variant: str) -> None:
    s = Session(variant)
    s.mon.numerics = [hr(70)]
    s.run(3.0)
    assert s.codec.link_state == "associated"
    s.answer = False                      # the cable is pulled
    s.mon.ext.clear()
    s.run(30.0, step=0.1)
    assert s.codec.link_state != "associated"
    assert s.kinds().count("assoc_request") >= 2
    s.answer = True                       # and plugged back in
    s.run(40.0, step=0.1)
    assert s.codec.link_state == "associated"
    late = [r for r in readings(s.items, Vital.HR) if r.t > s.t - 5]
    assert late and all(r.value == 70 for r in late)


# -- "Interpreting Data" (pp. 285-287): what a client must not rely on -------------------------


def test_compound_members_in_any_order_and_mean_only() -> None:
    # "Do not rely on the sequence of values within a Compound Numeric Observed Value";
    # "A triple valued pressure parameter can change to single valued (mean only)".
    c = fresh()
    mmhg = g.NOM_DIM_MMHG
    got = c.feed(g.frame(nu_result(
        g.numeric(4, [g.Nu(g.NOM_PRESS_BLD_NONINV_MEAN, 0, mmhg, 91),
                      g.Nu(g.NOM_PRESS_BLD_NONINV_DIA, 0, mmhg, 78),
                      g.Nu(g.NOM_PRESS_BLD_NONINV_SYS, 0, mmhg, 119)],
                  label=g.NLS_NOM_PRESS_BLD_NONINV, abs_time=DATE),
        g.numeric(8, [g.Nu(g.NOM_PRESS_BLD_ART_MEAN, 0, mmhg, 5)], compound=True,
                  label=g.NLS_NOM_PRESS_BLD_ART, label_string="ART"))), T0 + 1)
    assert (values(got, Vital.NIBP_SYS), values(got, Vital.NIBP_DIA),
            values(got, Vital.NIBP_MEAN)) == ([119], [78], [91])
    [mean] = numerics_of(got, g.NOM_PRESS_BLD_ART_MEAN)
    assert mean.value == 5 and "ART" in mean.label
    assert not numerics_of(got, g.NOM_PRESS_BLD_ART_SYS)


def test_attributes_in_any_order() -> None:
    # "Do not rely on the sequence of attributes in an AttributeList."
    c = fresh()
    handle, attrs = vital_numerics(0)[8]                        # ABP
    w_handle, w_attrs = g.wave(0x200, REAL_PLETH_SAMPLES, **pleth_kw())
    got = c.feed(g.frame(nu_result((handle, attrs[::-1]), hr(73)))
                 + g.frame(g.poll_result([(w_handle, w_attrs[::-1])],
                                         obj_code=g.NOM_MOC_VMO_METRIC_SA_RT)), T0 + 1)
    assert values(got, Vital.HR) == [73]
    assert [n.value for n in numerics_of(got, g.NOM_PRESS_BLD_ART_ABP_SYS)] == [131]
    assert "ABP" in numerics_of(got, g.NOM_PRESS_BLD_ART_ABP_SYS)[0].label
    [ch] = [i for i in got if isinstance(i, WaveChunk)]
    assert ch.rate == pytest.approx(125.0)
    np.testing.assert_allclose(ch.samples, scaled(REAL_PLETH_SAMPLES), rtol=1e-6)


def test_localised_labels_and_alarm_texts() -> None:
    # "The text in the label strings is localized" (Chinese UNICODE); alarm strings may
    # hold private-use characters such as the alarm star 0xE40D.
    c = fresh()
    got = c.feed(g.frame(nu_result(g.numeric(
        8, [g.Nu(g.NOM_PRESS_BLD_ART_SYS, 0, g.NOM_DIM_MMHG, 117),
            g.Nu(g.NOM_PRESS_BLD_ART_DIA, 0, g.NOM_DIM_MMHG, 71),
            g.Nu(g.NOM_PRESS_BLD_ART_MEAN, 0, g.NOM_DIM_MMHG, 86)],
        label=g.NLS_NOM_PRESS_BLD_ART, label_string="\u52a8\u8109"))), T0 + 1)
    [art] = numerics_of(got, g.NOM_PRESS_BLD_ART_SYS)
    assert art.value == 117 and "\u52a8\u8109" in art.label
    alarm = g.Alarm(g.NOM_ECG_CARD_BEAT_RATE, g.NOM_EVT_HI, g.HI_PRI_P_AL,
                    "\ue40d\ue40d\ue40dHR \u9ad8")
    got = c.feed(g.frame(g.poll_result([g.alert_monitor(0x100, patient=[alarm])],
                                       obj_code=g.NOM_MOC_VMO_AL_MON)), T0 + 2)
    [flag] = [f for f in got if isinstance(f, DeviceFlag) and f.name.startswith(
        "intellivue.alarm.")]
    assert flag.active and "HR" in flag.text


# -- what the monitor grants, and what it answers ---------------------------------------------


@pytest.mark.parametrize("granted", ["numerics_only", "no_extensions"])
def test_polls_follow_what_the_association_granted(variant: str, granted: str) -> None:
    # "The Extended Poll Data Request message is only allowed, if the Poll Profile
    # Extensions optional package has been negotiated" (p. 59); waves need RTSA (p. 72).
    s = Session(variant, start=False)
    s.mon.assoc_kw = ({"ext_options": g.POLL_EXT_PERIOD_NU_1SEC} if granted == "numerics_only"
                      else {"ext_options": None})
    s.mon.numerics = [hr(69)]
    s.mon.wave_samples = REAL_PLETH_SAMPLES
    s.start()
    s.run(5.0, step=0.1)
    polls = [m for _, m in s.sent if m.kind in ("poll", "poll_ext")]
    assert polls and all(m.obj_code != g.NOM_MOC_VMO_METRIC_SA_RT for m in polls)
    if granted == "no_extensions":
        assert all(m.kind == "poll" for m in polls)
    assert values(s.items, Vital.HR) and set(values(s.items, Vital.HR)) == {69}
    assert s.codec.link_state == "associated"


def test_a_remote_operation_error_is_survived(variant: str) -> None:
    s = Session(variant)
    s.mon.numerics = [hr(70)]
    s.run(2.0)
    [(_, poll)] = [(t, m) for t, m in s.sent if m.kind == "poll_ext"][-1:]
    # ROERapdu: invoke_id, error_value (NO_SUCH_ACTION), length 0.
    got = s.feed(g.data_export(g.ROER_APDU, poll.invoke_id or 0, 9, b""), s.t + 0.01)
    assert not [i for i in got if isinstance(i, Reading)]
    s.run(3.0)
    assert s.codec.link_state == "associated"
    assert values([r for r in s.items if r.t > s.t - 2], Vital.HR)


def test_alarm_lists_split_over_linked_results_are_merged() -> None:
    # "each message will contain a correctly formatted Alarm list and the Computer
    # Client must merge the lists" (p. 102).
    c = fresh()
    sensor_off = g.Alarm(g.NOM_PULS_OXIM_SAT_O2, g.NOM_EVT_SENSOR_DISCONN, g.MED_PRI_T_AL,
                         "SpO\u2082 SENSOR OFF")
    leads = g.Alarm(0x0100, 268, g.MED_PRI_T_AL, "LEADS OFF", inst_no=2)

    def linked(first: list[g.Alarm], second: list[g.Alarm], t: float) -> list:
        parts = [g.poll_result([g.alert_monitor(0x100, technical=first)],
                               obj_code=g.NOM_MOC_VMO_AL_MON, ro_type=g.ROLRS_APDU,
                               linked=(g.RORLS_LAST, 1), invoke_id=5),
                 g.poll_result([g.alert_monitor(0x100, technical=second)],
                               obj_code=g.NOM_MOC_VMO_AL_MON, invoke_id=5)]
        return [f for p in parts for f in c.feed(g.frame(p), t) if isinstance(f, DeviceFlag)]

    on = linked([sensor_off], [leads], T0 + 1)
    assert {(f.name, f.active) for f in on} >= {("sensor_off", True)}
    assert len([f for f in on if f.active]) == 2 and not [f for f in on if not f.active]
    assert not linked([leads], [sensor_off], T0 + 2)          # the same two: no change
    off = linked([], [], T0 + 3)
    assert len(off) == 2 and not [f for f in off if f.active]


def test_the_numerics_poll_period_is_the_one_chosen(variant: str) -> None:
    s = Session(variant, poll_period_s=5.0)
    s.mon.numerics = [hr(70)]
    s.run(30.0, step=0.1)
    times = [r.t for r in readings(s.items, Vital.HR)]
    assert 5 <= len(times) <= 8, times
    assert min(np.diff(times)) >= 4.0, times


def test_pressures_with_one_physio_id_are_told_apart_by_label() -> None:
    # "for some numerics, the physio_id does not uniquely identify the measurement ...
    # it is guaranteed that the Label ID is unique" (p. 114, p. 284): two channels with
    # the same ids are both kept, each with its label.
    c = fresh()
    mmhg = g.NOM_DIM_MMHG

    def art(handle: int, sys: int, label: int | None, text: str | None):
        return g.numeric(handle, [g.Nu(g.NOM_PRESS_BLD_ART_SYS, 0, mmhg, sys),
                                  g.Nu(g.NOM_PRESS_BLD_ART_DIA, 0, mmhg, 70),
                                  g.Nu(g.NOM_PRESS_BLD_ART_MEAN, 0, mmhg, 85)],
                         label=label, label_string=text)
    got = c.feed(g.frame(nu_result(art(8, 121, g.NLS_NOM_PRESS_BLD_ART, "ART"),
                                   art(9, 142, 0x00024A14, "ABP"))), T0 + 1)
    by_label = {n.label: n.value for n in numerics_of(got, g.NOM_PRESS_BLD_ART_SYS)}
    assert len(by_label) == 2, by_label
    assert {v for k, v in by_label.items() if "ABP" in k} == {142}
    assert {v for k, v in by_label.items() if "ART" in k} == {121}
    # Only the label TextId, no label string: the guide's label for it.
    got = c.feed(g.frame(nu_result(art(10, 133, g.NLS_NOM_PRESS_BLD_ART_ABP, None))), T0 + 2)
    [n] = numerics_of(got, g.NOM_PRESS_BLD_ART_SYS)
    assert n.value == 133 and "ABP" in n.label


def test_nibp_measurement_under_way_is_not_a_determination() -> None:
    # MSMT_ONGOING: "A new aperiodic measurement is currently ongoing"; EARLY_INDICATION:
    # "an early estimate ... as soon as it has derived a systolic value" (p. 77).
    c = fresh()
    mmhg = g.NOM_DIM_MMHG

    def nibp(state: int, sys: float, dia: float, mean: float, when: dt.datetime) -> bytes:
        return g.frame(nu_result(g.numeric(4, [g.Nu(g.NOM_PRESS_BLD_NONINV_SYS, state, mmhg, sys),
                                               g.Nu(g.NOM_PRESS_BLD_NONINV_DIA, state, mmhg, dia),
                                               g.Nu(g.NOM_PRESS_BLD_NONINV_MEAN, state, mmhg,
                                                    mean)],
                                           label=g.NLS_NOM_PRESS_BLD_NONINV, abs_time=when)))
    old, new = DATE - dt.timedelta(minutes=5), DATE
    got = []
    for i, frame in enumerate([
            nibp(0, 118, 77, 91, old),
            nibp(g.MSMT_ONGOING, 118, 77, 91, old),
            nibp(g.MSMT_ONGOING | g.EARLY_INDICATION, 126, math.nan, math.nan, new),
            nibp(0, 127, 82, 97, new),
            nibp(0, 127, 82, 97, new)]):
        got += c.feed(frame, T0 + 1 + i)
    assert values(got, Vital.NIBP_SYS) == [118, 127]
    assert values(got, Vital.NIBP_DIA) == [77, 82]
