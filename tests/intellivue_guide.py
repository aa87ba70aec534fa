"""An independent builder and parser of Philips IntelliVue Data Export messages, for tests.

Written byte by byte from the "Data Export Interface Programming Guide, IntelliVue
X2, MP Series & MX Series" (``/work/notes/iv/guide.txt``), never from the codec
under test: this module imports nothing from ``monitor.devices.codecs``. Section
names below are the guide's.

Monitor side (what a real monitor sends, built here):

- RS-232 framing ("Transport Protocols for the MIB/RS232 Interface"): BOF 0xC0,
  ``FrameHdr`` (protocol_id 0x11, msg_type 0x01, u_16 length of the unescaped user
  data), user data, FCS (RFC 1662 CRC, ones' complement, LSB first), EOF 0xC1;
  transparency 0x7D + byte XOR 0x20 for 0x7D/0xC0/0xC1 anywhere between BOF and
  EOF (header, data and FCS).
- Association Response / Refuse / Release Response / Abort from the "Association
  Control Protocol Examples" building blocks, with the session and presentation
  ``LI`` lengths computed by the rules of "Session Headers".
- The MDS Create Event Report, Single and Extended Poll Data Results (numerics with
  ``NuObsValue`` / ``NuObsValueCmp``, real-time sample arrays with ``SaSpec``,
  ``ScaleRangeSpec16`` and the sample period, the Alert Monitor with its
  ``DevAlarmList``\\ s) and the LAN Connect Indication.

Host side (what the codec sends, parsed here strictly, every length checked):
Association Request, Release Request, MDS Create Event Result, Single and
Extended Poll Data Requests, Set Priority List. :class:`GuideMonitor` answers
them as the guide says a monitor does.

The other way round, for checking a simulated monitor: host messages are built
(:func:`association_request`, :func:`mds_create_result`, :func:`poll_request`)
and monitor messages parsed strictly (:func:`parse_monitor`).

Choices where the guide leaves room: a built result carries the fields a real
monitor sends (``abs_time_stamp`` all 0xFF in poll results, as "EXTENDED POLL
DATA RESULT" says); numerics are encoded with exponent ``-decimals`` and an
integer mantissa, like the guide's FLOAT-Type examples.
"""

from __future__ import annotations

import datetime as dt
import math
import struct
from dataclasses import dataclass, field

# -- constants (chapter 7 and the nomenclature tables) ------------------------------------

BOF, EOF, ESC = 0xC0, 0xC1, 0x7D
PROTOCOL_ID, MSG_TYPE = 0x11, 0x01

# Session header types ("Session Headers").
CN_SPDU_SI, AC_SPDU_SI, RF_SPDU_SI = 0x0D, 0x0E, 0x0C
FN_SPDU_SI, DN_SPDU_SI, AB_SPDU_SI = 0x09, 0x0A, 0x19

# Remote operation types and command types ("Remote Operation Header", "Command Header").
ROIV_APDU, RORS_APDU, ROER_APDU, ROLRS_APDU = 1, 2, 3, 5
RORLS_FIRST, RORLS_NOT_FIRST_NOT_LAST, RORLS_LAST = 1, 2, 3
CMD_EVENT_REPORT, CMD_CONFIRMED_EVENT_REPORT = 0, 1
CMD_GET, CMD_SET, CMD_CONFIRMED_SET, CMD_CONFIRMED_ACTION = 3, 4, 5, 7

# Object classes, events, actions ("Object Classes", "Action and Event Types").
NOM_PART_OBJ = 1
NOM_MOC_VMO_METRIC_NU = 6
NOM_MOC_VMO_METRIC_SA_RT = 9
NOM_MOC_VMS_MDS = 33
NOM_MOC_VMS_MDS_COMPOS_SINGLE_BED = 35
NOM_MOC_PT_DEMOG = 42
NOM_MOC_VMO_AL_MON = 54
NOM_ACT_POLL_MDIB_DATA = 0x0C16
NOM_ACT_POLL_MDIB_DATA_EXT = 0xF13B
NOM_NOTI_MDS_CREAT = 0x0D06
NOM_NOTI_CONN_INDIC = 0x0D17
NOM_POLL_PROFILE_SUPPORT = 1
NOM_ATTR_POLL_PROFILE_EXT = 0xF001

# Attribute ids ("Attribute IDs").
NOM_ATTR_AL_MON_P_AL_LIST = 0x0902
NOM_ATTR_AL_MON_T_AL_LIST = 0x0904
NOM_ATTR_DEV_AL_COND = 0x0916
NOM_ATTR_ID_HANDLE = 0x0921
NOM_ATTR_ID_LABEL = 0x0924
NOM_ATTR_ID_LABEL_STRING = 0x0927
NOM_ATTR_ID_MODEL = 0x0928
NOM_ATTR_ID_TYPE = 0x092F
NOM_ATTR_METRIC_SPECN = 0x093F
NOM_ATTR_NU_CMPD_VAL_OBS = 0x094B
NOM_ATTR_NU_VAL_OBS = 0x0950
NOM_ATTR_SA_SPECN = 0x096D
NOM_ATTR_SA_VAL_OBS = 0x096E
NOM_ATTR_SCALE_SPECN_I16 = 0x096F
NOM_ATTR_SYS_TYPE = 0x0986
NOM_ATTR_TIME_ABS = 0x0987
NOM_ATTR_TIME_PD_SAMP = 0x098D
NOM_ATTR_TIME_REL = 0x098F
NOM_ATTR_TIME_STAMP_ABS = 0x0990
NOM_ATTR_TIME_STAMP_REL = 0x0991
NOM_ATTR_UNIT_CODE = 0x0996
NOM_ATTR_TIME_PD_POLL = 0xF13E
NOM_ATTR_POLL_NU_PRIO_LIST = 0xF239
NOM_ATTR_POLL_RTSA_PRIO_LIST = 0xF23A

# Attribute groups.
NOM_ATTR_GRP_AL_MON = 0x0801
NOM_ATTR_GRP_METRIC_VAL_OBS = 0x0803
NOM_ATTR_GRP_VMO_DYN = 0x0810
NOM_ATTR_GRP_VMO_STATIC = 0x0811

# Measurement state bits ("Attribute: Numeric Observed Value").
INVALID, QUESTIONABLE, UNAVAILABLE = 0x8000, 0x4000, 0x2000
CALIBRATION_ONGOING, TEST_DATA, DEMO_DATA = 0x1000, 0x0800, 0x0400
VALIDATED_DATA, EARLY_INDICATION, MSMT_ONGOING = 0x0080, 0x0040, 0x0020
MSMT_STATE_IN_ALARM, MSMT_STATE_AL_INHIBITED = 0x0002, 0x0001

# FLOAT-Type special mantissas.
FLOAT_NAN, FLOAT_NRES = 0x7FFFFF, -0x800000
FLOAT_PINF, FLOAT_NINF = 0x7FFFFE, -0x7FFFFE

# SaFlags.
SMOOTH_CURVE, DELAYED_CURVE, STATIC_SCALE, SA_EXT_VAL_RANGE = 0x8000, 0x4000, 0x2000, 0x1000

# Physiological ids (SCADA partition) and their labels (TextId), "Physiological Identifier".
NOM_ECG_CARD_BEAT_RATE = 0x4182
NOM_PULS_OXIM_SAT_O2 = 0x4BB8
NOM_PLETH_PULS_RATE = 0x4822
NOM_PRESS_BLD_NONINV = 0x4A04
NOM_PRESS_BLD_NONINV_SYS, NOM_PRESS_BLD_NONINV_DIA, NOM_PRESS_BLD_NONINV_MEAN = (
    0x4A05, 0x4A06, 0x4A07)
NOM_PRESS_BLD_ART = 0x4A10
NOM_PRESS_BLD_ART_SYS, NOM_PRESS_BLD_ART_DIA, NOM_PRESS_BLD_ART_MEAN = 0x4A11, 0x4A12, 0x4A13
NOM_PRESS_BLD_ART_ABP = 0x4A14
NOM_PRESS_BLD_ART_ABP_SYS, NOM_PRESS_BLD_ART_ABP_DIA, NOM_PRESS_BLD_ART_ABP_MEAN = (
    0x4A15, 0x4A16, 0x4A17)
NOM_RESP_RATE = 0x500A
NOM_AWAY_CO2 = 0x50AC
NOM_AWAY_CO2_ET = 0x50B0
NOM_AWAY_CO2_INSP_MIN = 0x50BA
NOM_TEMP = 0x4B48
NOM_PLETH = 0x4BB4

NLS_NOM_ECG_CARD_BEAT_RATE = 0x00024182
NLS_NOM_PULS_OXIM_SAT_O2 = 0x00024BB8
NLS_NOM_PULS_OXIM_PULS_RATE = 0x00024822
NLS_NOM_PRESS_BLD_NONINV = 0x00024A04
NLS_NOM_PRESS_BLD_ART = 0x00024A10
NLS_NOM_PRESS_BLD_ART_ABP = 0x00024A14
NLS_NOM_RESP_RATE = 0x0002500A
NLS_NOM_AWAY_CO2 = 0x000250AC
NLS_NOM_TEMP = 0x00024B48
NLS_NOM_PULS_OXIM_PLETH = 0x00024BB4

# Units (dimension partition).
NOM_DIM_DIMLESS = 0x0200
NOM_DIM_PERCENT = 0x0220
NOM_DIM_BEAT_PER_MIN = 0x0AA0
NOM_DIM_RESP_PER_MIN = 0x0AE0
NOM_DIM_KILO_PASCAL = 0x0F03
NOM_DIM_MMHG = 0x0F20
NOM_DIM_FAHR = 0x1140
NOM_DIM_DEGC = 0x17A0

# Alerts ("Attribute: Device T-Alarm List", "Alert Monitor Object", event codes).
NO_ALERT, LOW_PRI_T_AL, MED_PRI_T_AL, HI_PRI_T_AL = 0, 1, 2, 4
LOW_PRI_P_AL, MED_PRI_P_AL, HI_PRI_P_AL = 256, 512, 1024
AL_DEV_IN_DEMO_MODE, AL_NEW_ALERT = 0x0100, 0x0008
STR_ALMON_INFO = 516
NOM_EVT_HI, NOM_EVT_LO = 40, 62
NOM_EVT_SENSOR_DISCONN, NOM_EVT_XDUCR_DISCONN = 308, 336

# Association control ("MDSEUserInfoStd", "Poll Profile Support").
MDDL_VERSION1, NOMEN_VERSION = 0x80000000, 0x40000000
SYST_CLIENT, SYST_SERVER = 0x80000000, 0x00800000
HOT_START, WARM_START, COLD_START = 0x80000000, 0x40000000, 0x20000000
POLL_PROFILE_REV_0 = 0x80000000
P_OPT_DYN_CREATE_OBJECTS, P_OPT_DYN_DELETE_OBJECTS = 0x40000000, 0x20000000
POLL_EXT_PERIOD_NU_1SEC = 0x80000000
POLL_EXT_PERIOD_NU_AVG_12SEC = 0x40000000
POLL_EXT_PERIOD_NU_AVG_60SEC = 0x20000000
POLL_EXT_PERIOD_NU_AVG_300SEC = 0x10000000
POLL_EXT_PERIOD_RTSA = 0x08000000

TICKS_PER_S = 8000
"""RelativeTime resolution: 1/8 ms."""

# -- building blocks copied as data from "Association Control Protocol Examples" ----------

_SESSION_DATA = bytes.fromhex("05 08 13 01 00 16 01 02 80 00 14 02 00 02")
ASSOC_REQ_PRESENTATION = bytes.fromhex(
    "31 80 A0 80 80 01 01 00 00 A2 80 A0 03 00 00 01 A4 80 30 80 02 01 01 06 04 52 01 00 01"
    " 30 80 06 02 51 01 00 00 00 00 30 80 02 01 02 06 0C 2A 86 48 CE 14 02 01 00 00 00 01 01"
    " 30 80 06 0C 2A 86 48 CE 14 02 01 00 00 00 02 01 00 00 00 00 00 00 61 80 30 80 02 01 01"
    " A0 80 60 80 A1 80 06 0C 2A 86 48 CE 14 02 01 00 00 00 03 01 00 00 BE 80 28 80 06 0C 2A"
    " 86 48 CE 14 02 01 00 00 00 01 01 02 01 02 81")
"""The AssocReqPresentationHeader after its ``0xC1 <LI>``."""
ASSOC_RESP_PRESENTATION = bytes.fromhex(
    "31 80 A0 80 80 01 01 00 00 A2 80 A0 03 00 00 01 A5 80 30 80 80 01 00 81 02 51 01 00 00"
    " 30 80 80 01 00 81 0C 2A 86 48 CE 14 02 01 00 00 00 02 01 00 00 00 00 61 80 30 80 02 01"
    " 01 A0 80 61 80 A1 80 06 0C 2A 86 48 CE 14 02 01 00 00 00 03 01 00 00 A2 03 02 01 00 A3"
    " 05 A1 03 02 01 00 BE 80 28 80 02 01 02 81")
"""The AssocRespPresentationHeader after its ``0xC1 <LI>``."""
PRESENTATION_TRAILER = bytes(16)
RELEASE_REQUEST = bytes.fromhex(
    "09 18 C1 16 61 80 30 80 02 01 01 A0 80 62 80 80 01 00 00 00 00 00 00 00 00 00")
RELEASE_RESPONSE = bytes.fromhex(
    "0A 18 C1 16 61 80 30 80 02 01 01 A0 80 63 80 80 01 00 00 00 00 00 00 00 00 00")
ABORT = bytes.fromhex(
    "19 2E 11 01 03 C1 29 A0 80 A0 80 30 80 02 01 01 06 02 51 01 00 00 00 00 61 80 30 80 02"
    " 01 01 A0 80 64 80 80 01 01 00 00 00 00 00 00 00 00 00 00")
REFUSE = bytes.fromhex("0C 03 32 01 00")

# -- FLOAT-Type, times, strings ------------------------------------------------------------


def float_raw(mantissa: int, exponent: int = 0) -> bytes:
    """FLOAT-Type from its parts: 8-bit signed exponent, 24-bit signed mantissa."""
    if not -0x800000 <= mantissa <= 0x7FFFFF or not -128 <= exponent <= 127:
        raise ValueError("FLOAT-Type out of range")
    return struct.pack(">I", ((exponent & 0xFF) << 24) | (mantissa & 0xFFFFFF))


def float_type(value: float, decimals: int = 0) -> bytes:
    """FLOAT-Type of ``value`` with ``decimals`` digits after the point (exponent -decimals)."""
    if math.isnan(value):
        return float_raw(FLOAT_NAN)
    return float_raw(round(value * 10 ** decimals), -decimals)


def decode_float_type(raw: bytes) -> float:
    """The number a FLOAT-Type stands for (NaN for NaN and NRes, ±inf for ±INFINITY)."""
    (u,) = struct.unpack(">I", raw)
    exponent = (u >> 24) - 256 if u >> 24 & 0x80 else u >> 24
    m = u & 0xFFFFFF
    mantissa = m - 0x1000000 if m & 0x800000 else m
    if mantissa in (FLOAT_NAN, FLOAT_NRES):
        return math.nan
    if mantissa == FLOAT_PINF:
        return math.inf
    if mantissa == FLOAT_NINF:
        return -math.inf
    return mantissa * 10.0 ** exponent


def _bcd(n: int) -> int:
    return (n // 10) << 4 | n % 10


def absolute_time(when: dt.datetime | None) -> bytes:
    """AbsoluteTime: BCD century, year, month, day, hour, minute, second, 0; None: all 0xFF."""
    if when is None:
        return b"\xff" * 8
    return bytes([_bcd(when.year // 100), _bcd(when.year % 100), _bcd(when.month),
                  _bcd(when.day), _bcd(when.hour), _bcd(when.minute), _bcd(when.second), 0])


def string(text: str) -> bytes:
    """String: u_16 octet count, then UNICODE (UTF-16 big-endian) text with its ``\\0``."""
    data = (text + "\0").encode("utf-16-be")
    return struct.pack(">H", len(data)) + data


# -- RS-232 framing -------------------------------------------------------------------------


def fcs16(data: bytes, fcs: int = 0xFFFF) -> int:
    """RFC 1662 FCS-16 (reflected polynomial 0x8408) over ``data``, not complemented."""
    for byte in data:
        fcs ^= byte
        for _ in range(8):
            fcs = (fcs >> 1) ^ 0x8408 if fcs & 1 else fcs >> 1
    return fcs


GOOD_FCS = 0xF0B8
"""RFC 1662: the FCS over data plus its transmitted FCS is this constant."""


def escape(data: bytes) -> bytes:
    """Transparency: 0x7D, then the byte XOR 0x20, for each 0x7D, 0xC0, 0xC1."""
    out = bytearray()
    for b in data:
        if b in (BOF, EOF, ESC):
            out += bytes((ESC, b ^ 0x20))
        else:
            out.append(b)
    return bytes(out)


def frame_body(user_data: bytes, *, protocol_id: int = PROTOCOL_ID, msg_type: int = MSG_TYPE,
               length: int | None = None) -> bytes:
    """Hdr + user data + FCS, unescaped; ``length`` overrides the header's length field."""
    hdr = struct.pack(">BBH", protocol_id, msg_type,
                      len(user_data) if length is None else length)
    body = hdr + user_data
    return body + struct.pack("<H", fcs16(body) ^ 0xFFFF)


def frame(user_data: bytes, *, corrupt_fcs: bool = False, **kw: int) -> bytes:
    """One RS-232 frame: BOF, escaped (Hdr, user data, FCS), EOF."""
    body = bytearray(frame_body(user_data, **kw))
    if corrupt_fcs:
        body[-1] ^= 0x01
    return bytes([BOF]) + escape(bytes(body)) + bytes([EOF])


def frame_payload(payload: bytes) -> bytes:
    """The guide's FCS examples: BOF, escaped (payload, FCS), EOF, no Hdr."""
    return bytes([BOF]) + escape(payload + struct.pack("<H", fcs16(payload) ^ 0xFFFF)) + bytes([EOF])


def deframe(stream: bytes) -> list[bytes]:
    """User data of every good frame in ``stream`` (a strict reading: bad ones raise)."""
    out = []
    i = 0
    while True:
        start = stream.find(bytes([BOF]), i)
        if start < 0:
            if stream[i:]:
                raise ValueError(f"bytes outside a frame: {stream[i:].hex(' ')}")
            return out
        if start != i:
            raise ValueError(f"bytes outside a frame: {stream[i:start].hex(' ')}")
        end = stream.find(bytes([EOF]), start + 1)
        if end < 0:
            raise ValueError("frame without EOF")
        raw = stream[start + 1:end]
        if BOF in raw:
            raise ValueError("BOF inside a frame")
        body = bytearray()
        j = 0
        while j < len(raw):
            if raw[j] == ESC:
                if j + 1 >= len(raw) or raw[j + 1] ^ 0x20 not in (BOF, EOF, ESC):
                    raise ValueError("bad escape")
                body.append(raw[j + 1] ^ 0x20)
                j += 2
            else:
                if raw[j] in (BOF, EOF, ESC):
                    raise ValueError("unescaped reserved byte")
                body.append(raw[j])
                j += 1
        if fcs16(bytes(body)) != GOOD_FCS:
            raise ValueError("bad FCS")
        protocol_id, msg_type, length = struct.unpack(">BBH", body[:4])
        if (protocol_id, msg_type) != (PROTOCOL_ID, MSG_TYPE) or length != len(body) - 6:
            raise ValueError(f"bad header {bytes(body[:4]).hex(' ')} for {len(body) - 6} bytes")
        out.append(bytes(body[4:-2]))
        i = end + 1


# -- generic structures ---------------------------------------------------------------------


def li(length: int) -> bytes:
    """Session/presentation LI: one byte up to 254, else 0xFF and a u_16."""
    return bytes([length]) if length <= 254 else b"\xff" + struct.pack(">H", length)


def asn_length(length: int) -> bytes:
    """ASNLength: one byte up to 127, else 0x80|n and n big-endian bytes."""
    if length <= 127:
        return bytes([length])
    body = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def ava(attribute_id: int, value: bytes) -> bytes:
    """AVAType: attribute id, u_16 length, value."""
    return struct.pack(">HH", attribute_id, len(value)) + value


def attribute_list(attrs: list[tuple[int, bytes]]) -> bytes:
    """AttributeList: count, length, AVAs."""
    body = b"".join(ava(a, v) for a, v in attrs)
    return struct.pack(">HH", len(attrs), len(body)) + body


def managed_object(obj_class: int, context: int = 0, handle: int = 0) -> bytes:
    return struct.pack(">HHH", obj_class, context, handle)


MDS = managed_object(NOM_MOC_VMS_MDS)


def data_export(ro_type: int, invoke_id: int, command_type: int, body: bytes, *,
                p_context_id: int = 2, linked: tuple[int, int] | None = None) -> bytes:
    """SPpdu + ROapdus + ROIV/RORS (or ROLRS with ``linked`` = (state, count)) + body."""
    if ro_type == ROLRS_APDU:
        state, count = linked or (RORLS_FIRST, 1)
        op = struct.pack(">BBHHH", state, count, invoke_id, command_type, len(body))
    else:
        op = struct.pack(">HHH", invoke_id, command_type, len(body))
    ro = struct.pack(">HH", ro_type, len(op) + len(body))
    return struct.pack(">HH", 0xE100, p_context_id) + ro + op + body


# -- association control (monitor side) -----------------------------------------------------


def poll_profile_support(*, min_poll_period: int = 8000, mtu_rx: int = 1000,
                         mtu_tx: int = 1000, ext_options: int | None = (
                             POLL_EXT_PERIOD_NU_1SEC | POLL_EXT_PERIOD_RTSA),
                         options: int = P_OPT_DYN_CREATE_OBJECTS | P_OPT_DYN_DELETE_OBJECTS
                         ) -> bytes:
    """PollProfileSupport with the Poll Profile Extensions package when ``ext_options``."""
    packages = [] if ext_options is None else [
        (NOM_ATTR_POLL_PROFILE_EXT, struct.pack(">I", ext_options) + attribute_list([]))]
    return (struct.pack(">IIIIII", POLL_PROFILE_REV_0, min_poll_period, mtu_rx, mtu_tx,
                        0xFFFFFFFF, options) + attribute_list(packages))


def user_info(system_type: int, startup_mode: int, profile: bytes) -> bytes:
    """ASNLength + MDSEUserInfoStd."""
    info = (struct.pack(">IIIII", MDDL_VERSION1, NOMEN_VERSION, 0, system_type, startup_mode)
            + attribute_list([]) + attribute_list([(NOM_POLL_PROFILE_SUPPORT, profile)]))
    return asn_length(len(info)) + info


def _association_message(spdu: int, presentation: bytes, user_data: bytes) -> bytes:
    rest = presentation + user_data + PRESENTATION_TRAILER
    pres = b"\xc1" + li(len(rest)) + rest
    body = _SESSION_DATA + pres
    return bytes([spdu]) + li(len(body)) + body


def association_request(*, system_type: int = SYST_CLIENT, **profile_kw: int) -> bytes:
    """A client's Association Request (to check this module against the guide's example)."""
    return _association_message(CN_SPDU_SI, ASSOC_REQ_PRESENTATION,
                                user_info(system_type, COLD_START,
                                          poll_profile_support(**profile_kw)))


def association_response(*, startup_mode: int = HOT_START, **profile_kw: int) -> bytes:
    """The monitor's Association Response (accept, AC_SPDU_SI)."""
    return _association_message(AC_SPDU_SI, ASSOC_RESP_PRESENTATION,
                                user_info(SYST_SERVER, startup_mode,
                                          poll_profile_support(**profile_kw)))


# -- data export (monitor side) -------------------------------------------------------------


def mds_create_event_report(*, invoke_id: int = 1, event_time: int = 126976,
                            date_time: dt.datetime | None = None, rel_time: int = 126976,
                            model: tuple[str, str] = ("Philips", "866062"),
                            extra: list[tuple[int, bytes]] | None = None) -> bytes:
    """MDS Create Event Report with the Date and Time and Relative Time attributes."""
    attrs: list[tuple[int, bytes]] = [
        (NOM_ATTR_SYS_TYPE, struct.pack(">HH", 1, 4429)),  # NOM_DEV_MON_PHYSIO_MULTI_PARAM_MDS
        (NOM_ATTR_ID_MODEL, _var_label(model[0]) + _var_label(model[1])),
    ]
    if date_time is not None:
        attrs.append((NOM_ATTR_TIME_ABS, absolute_time(date_time)))
    attrs.append((NOM_ATTR_TIME_REL, struct.pack(">I", rel_time)))
    attrs += extra or []
    info = MDS + attribute_list(attrs)
    arg = MDS + struct.pack(">IHH", event_time, NOM_NOTI_MDS_CREAT, len(info)) + info
    return data_export(ROIV_APDU, invoke_id, CMD_CONFIRMED_EVENT_REPORT, arg)


def _var_label(text: str) -> bytes:
    data = text.encode("ascii")
    if len(data) % 2:
        data += b"\0"
    return struct.pack(">H", len(data)) + data


def connect_indication(*, event_time: int = 39424, attrs: list[tuple[int, bytes]] | None = None
                       ) -> bytes:
    """LAN Connect Indication: Nomenclature 1.0, ROIV, CMD_EVENT_REPORT, ConnectIndInfo."""
    info = attribute_list(attrs or [])
    arg = (managed_object(NOM_MOC_VMS_MDS_COMPOS_SINGLE_BED)
           + struct.pack(">IHH", event_time, NOM_NOTI_CONN_INDIC, len(info)) + info)
    op = struct.pack(">HHH", 0, CMD_EVENT_REPORT, len(arg))
    return struct.pack(">IHH", 0x00000100, ROIV_APDU, len(op) + len(arg)) + op + arg


@dataclass(frozen=True)
class Nu:
    """One NuObsValue: physiological id, measurement state, unit code, value.

    ``value`` is a float (encoded with ``decimals``) or ``(mantissa, exponent)`` raw.
    """

    physio_id: int
    state: int
    unit_code: int
    value: float | tuple[int, int]
    decimals: int = 0

    def encode(self) -> bytes:
        v = (float_raw(*self.value) if isinstance(self.value, tuple)
             else float_type(self.value, self.decimals))
        return struct.pack(">HHH", self.physio_id, self.state, self.unit_code) + v


def numeric(handle: int, values: list[Nu] | Nu, *, label: int | None = None,
            label_string: str | None = None, compound: bool | None = None,
            abs_time: dt.datetime | None = None, rel_time: int | None = None,
            extra: list[tuple[int, bytes]] | None = None) -> tuple[int, list[tuple[int, bytes]]]:
    """A numeric object's (handle, attributes) for an ObservationPoll."""
    vals = [values] if isinstance(values, Nu) else list(values)
    attrs: list[tuple[int, bytes]] = [
        (NOM_ATTR_ID_TYPE, struct.pack(">HH", NOM_PART_OBJ, NOM_MOC_VMO_METRIC_NU))]
    if label is not None:
        attrs.append((NOM_ATTR_ID_LABEL, struct.pack(">I", label)))
    if label_string is not None:
        attrs.append((NOM_ATTR_ID_LABEL_STRING, string(label_string)))
    if compound or (compound is None and len(vals) > 1):
        body = b"".join(v.encode() for v in vals)
        attrs.append((NOM_ATTR_NU_CMPD_VAL_OBS, struct.pack(">HH", len(vals), len(body)) + body))
    else:
        attrs.append((NOM_ATTR_NU_VAL_OBS, vals[0].encode()))
    if abs_time is not None:
        attrs.append((NOM_ATTR_TIME_STAMP_ABS, absolute_time(abs_time)))
    if rel_time is not None:
        attrs.append((NOM_ATTR_TIME_STAMP_REL, struct.pack(">I", rel_time)))
    attrs += extra or []
    return handle, attrs


def wave(handle: int, samples: list[int], *, physio_id: int = NOM_PLETH, state: int = 0,
         sample_period: int = 64, lower_abs: float = 0.0, upper_abs: float = 100.0,
         abs_decimals: int = 1, lower_scaled: int = 0, upper_scaled: int = 4095,
         sample_size: int = 16, significant_bits: int = 12, flags: int = 0,
         label: int | None = NLS_NOM_PULS_OXIM_PLETH, label_string: str | None = "Pleth",
         static: bool = True, raw_abs: tuple[bytes, bytes] | None = None
         ) -> tuple[int, list[tuple[int, bytes]]]:
    """A real-time sample array's (handle, attributes).

    ``sample_period`` is a RelativeTime (1/8 ms): 64 = 8 ms = 125 samples/s. With
    ``static`` the VMO static and dynamic context (SaSpec, sample period, scale and
    range) is included, as in a poll of all attribute groups.
    """
    if sample_size not in (8, 16):
        raise ValueError("sample size 8 or 16 bits")
    fmt = ">B" if sample_size == 8 else ">H"
    data = b"".join(struct.pack(fmt, s) for s in samples)
    attrs: list[tuple[int, bytes]] = []
    if static:
        lo, hi = raw_abs or (float_type(lower_abs, abs_decimals), float_type(upper_abs,
                                                                             abs_decimals))
        attrs += [
            (NOM_ATTR_ID_TYPE, struct.pack(">HH", NOM_PART_OBJ, NOM_MOC_VMO_METRIC_SA_RT)),
            (NOM_ATTR_SA_SPECN, struct.pack(">HBBH", len(samples), sample_size,
                                            significant_bits, flags)),
            (NOM_ATTR_TIME_PD_SAMP, struct.pack(">I", sample_period)),
            (NOM_ATTR_SCALE_SPECN_I16, lo + hi + struct.pack(">HH", lower_scaled,
                                                              upper_scaled)),
            (NOM_ATTR_UNIT_CODE, struct.pack(">H", NOM_DIM_DIMLESS)),
        ]
        if label is not None:
            attrs.append((NOM_ATTR_ID_LABEL, struct.pack(">I", label)))
        if label_string is not None:
            attrs.append((NOM_ATTR_ID_LABEL_STRING, string(label_string)))
    attrs.append((NOM_ATTR_SA_VAL_OBS, struct.pack(">HHH", physio_id, state, len(data)) + data))
    return handle, attrs


@dataclass(frozen=True)
class Alarm:
    """One DevAlarmEntry with its StrAlMonInfo."""

    source: int
    code: int
    al_type: int
    text: str
    state: int = 0
    obj: tuple[int, int, int] = (NOM_MOC_VMO_METRIC_NU, 0, 0)
    inst_no: int = 1
    text_id: int = 0
    priority: int = 0
    flags: int = 0

    def encode(self) -> bytes:
        info = (struct.pack(">HIHH", self.inst_no, self.text_id, self.priority, self.flags)
                + string(self.text))
        return (struct.pack(">HHHH", self.source, self.code, self.al_type, self.state)
                + managed_object(*self.obj) + struct.pack(">HH", STR_ALMON_INFO, len(info))
                + info)


def alarm_list(alarms: list[Alarm]) -> bytes:
    """DevAlarmList: count, length, entries."""
    body = b"".join(a.encode() for a in alarms)
    return struct.pack(">HH", len(alarms), len(body)) + body


def alert_monitor(handle: int, *, technical: list[Alarm] | None = None,
                  patient: list[Alarm] | None = None, device_state: int = 0
                  ) -> tuple[int, list[tuple[int, bytes]]]:
    """The Alert Monitor object's (handle, attributes)."""
    technical, patient = technical or [], patient or []
    max_p = max((a.al_type for a in patient), default=NO_ALERT)
    max_t = max((a.al_type for a in technical), default=NO_ALERT)
    cond = struct.pack(">HHHHH", device_state, 1, max_p, max_t, max(max_p, max_t))
    return handle, [
        (NOM_ATTR_ID_TYPE, struct.pack(">HH", NOM_PART_OBJ, NOM_MOC_VMO_AL_MON)),
        (NOM_ATTR_DEV_AL_COND, cond),
        (NOM_ATTR_AL_MON_T_AL_LIST, alarm_list(technical)),
        (NOM_ATTR_AL_MON_P_AL_LIST, alarm_list(patient)),
    ]


def observation_poll(handle: int, attrs: list[tuple[int, bytes]] | bytes) -> bytes:
    """ObservationPoll: handle + AttributeList (or raw bytes as the list, for lies)."""
    return struct.pack(">H", handle) + (attrs if isinstance(attrs, bytes)
                                        else attribute_list(attrs))


def poll_info_list(objects: list[tuple[int, list[tuple[int, bytes]]] | bytes],
                   context_id: int = 0) -> bytes:
    """PollInfoList with one SingleContextPoll holding ``objects``."""
    obs = b"".join(o if isinstance(o, bytes) else observation_poll(*o) for o in objects)
    scp = struct.pack(">HHH", context_id, len(objects), len(obs)) + obs
    return struct.pack(">HH", 1, len(scp)) + scp


def poll_result(objects: list[tuple[int, list[tuple[int, bytes]]] | bytes], *,
                obj_code: int = NOM_MOC_VMO_METRIC_NU, invoke_id: int = 0,
                poll_number: int = 1, rel_time: int = 4766464, extended: bool = True,
                sequence_no: int = 0, attr_grp: int = 0, context_id: int = 0,
                ro_type: int = RORS_APDU, linked: tuple[int, int] | None = None,
                info: bytes | None = None) -> bytes:
    """A Single or Extended Poll Data Result (abs_time_stamp all 0xFF, as the guide says)."""
    pil = info if info is not None else poll_info_list(objects, context_id)
    head = struct.pack(">H", poll_number)
    if extended:
        head += struct.pack(">H", sequence_no)
    reply = (head + struct.pack(">I", rel_time) + absolute_time(None)
             + struct.pack(">HHH", NOM_PART_OBJ, obj_code, attr_grp) + pil)
    action = NOM_ACT_POLL_MDIB_DATA_EXT if extended else NOM_ACT_POLL_MDIB_DATA
    body = MDS + struct.pack(">HH", action, len(reply)) + reply
    return data_export(ro_type, invoke_id, CMD_CONFIRMED_ACTION, body, linked=linked)


def message_length(data: bytes) -> int:
    """Length of the message at the start of ``data`` from its own length fields (LAN)."""
    if data[0] == 0xE1 or data[:4] == b"\x00\x00\x01\x00":
        return 8 + struct.unpack(">H", data[6:8])[0]
    if data[1] == 0xFF:
        return 4 + struct.unpack(">H", data[2:4])[0]
    return 2 + data[1]


# -- host side: strict parser ---------------------------------------------------------------


class GuideError(ValueError):
    """A host message that breaks the guide's layout."""


def _check(cond: bool, what: str) -> None:
    if not cond:
        raise GuideError(what)


@dataclass
class HostMessage:
    """A parsed host (Computer Client) message.

    ``kind``: ``"assoc_request"``, ``"release_request"``, ``"abort"``,
    ``"mds_create_result"``, ``"poll"`` (single) or ``"poll_ext"``, ``"set"`` (a
    priority list: ``ext_attrs`` holds the modified attributes), ``"other"``.
    """

    kind: str
    raw: bytes
    invoke_id: int | None = None
    poll_number: int | None = None
    obj_code: int | None = None
    attr_grp: int | None = None
    ext_attrs: dict[int, bytes] = field(default_factory=dict)
    user_info: dict[str, int] = field(default_factory=dict)

    @property
    def period_ticks(self) -> int | None:
        """NOM_ATTR_TIME_PD_POLL of an extended poll, in 1/8 ms."""
        raw = self.ext_attrs.get(NOM_ATTR_TIME_PD_POLL)
        return None if raw is None else struct.unpack(">I", raw)[0]


def _read_li(data: bytes, i: int) -> tuple[int, int]:
    if data[i] == 0xFF:
        return struct.unpack(">H", data[i + 1:i + 3])[0], i + 3
    return data[i], i + 1


def _parse_attribute_list(data: bytes, i: int) -> tuple[dict[int, bytes], int]:
    count, length = struct.unpack(">HH", data[i:i + 4])
    i += 4
    end = i + length
    _check(end <= len(data), "attribute list longer than the message")
    attrs: dict[int, bytes] = {}
    for _ in range(count):
        _check(i + 4 <= end, "attribute list count exceeds its length")
        aid, alen = struct.unpack(">HH", data[i:i + 4])
        _check(i + 4 + alen <= end, "attribute longer than its list")
        attrs[aid] = data[i + 4:i + 4 + alen]
        i += 4 + alen
    _check(i == end, "attribute list length does not match its attributes")
    return attrs, end


def _parse_user_info(ud: bytes) -> dict[str, int]:
    i = 0
    n = ud[i]
    i += 1
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(ud[i:i + k], "big")
        i += k
    _check(i + n == len(ud), "ASNLength does not match MDSEUserInfoStd")
    pv, nv, fu, st, sm = struct.unpack(">IIIII", ud[i:i + 20])
    i += 20
    _opts, i = _parse_attribute_list(ud, i)
    profiles, i = _parse_attribute_list(ud, i)
    _check(i == len(ud), "bytes after supported_aprofiles")
    info = {"protocol_version": pv, "nomenclature_version": nv, "functional_units": fu,
            "system_type": st, "startup_mode": sm}
    pps = profiles.get(NOM_POLL_PROFILE_SUPPORT)
    _check(pps is not None, "no Poll Profile Support in supported_aprofiles")
    rev, mpp, rx, tx, bw, opts = struct.unpack(">IIIIII", pps[:24])
    info.update(poll_profile_revision=rev, min_poll_period=mpp, max_mtu_rx=rx, max_mtu_tx=tx,
                max_bw_tx=bw, options=opts)
    packages, j = _parse_attribute_list(pps, 24)
    _check(j == len(pps), "bytes after optional_packages")
    ext = packages.get(NOM_ATTR_POLL_PROFILE_EXT)
    if ext is not None:
        info["ext_options"] = struct.unpack(">I", ext[:4])[0]
        _ext_attr, k = _parse_attribute_list(ext, 4)
        _check(k == len(ext), "bytes after PollProfileExt ext_attr")
    return info


def parse_host(msg: bytes) -> HostMessage:
    """Parse one host message strictly (every length checked); raises :class:`GuideError`."""
    _check(len(msg) >= 2, "empty message")
    first = msg[0]
    if first == CN_SPDU_SI:
        n, i = _read_li(msg, 1)
        _check(i + n == len(msg), "session LI does not match the message")
        _check(msg[i:i + 14] == _SESSION_DATA, "AssocReqSessionData differs from the guide")
        i += 14
        _check(msg[i] == 0xC1, "presentation header must start 0xC1")
        n, i = _read_li(msg, i + 1)
        _check(i + n == len(msg), "presentation LI does not match the message")
        p = len(ASSOC_REQ_PRESENTATION)
        _check(msg[i:i + p] == ASSOC_REQ_PRESENTATION,
               "AssocReqPresentationHeader differs from the guide")
        _check(msg[-16:] == PRESENTATION_TRAILER, "presentation trailer must be 16 zeros")
        return HostMessage("assoc_request", msg, user_info=_parse_user_info(msg[i + p:-16]))
    if first == FN_SPDU_SI:
        _check(msg == RELEASE_REQUEST, "Release Request differs from the guide")
        return HostMessage("release_request", msg)
    if first == AB_SPDU_SI:
        _check(msg == ABORT, "Abort differs from the guide")
        return HostMessage("abort", msg)
    _check(first == 0xE1, f"unknown first byte 0x{first:02x}")
    session_id, ctx, ro_type, ro_len = struct.unpack(">HHHH", msg[:8])
    _check(session_id == 0xE100, "session_id must be 0xE100")
    _check(ctx == 2, "p_context_id must be 2 with the guide's building blocks")
    _check(8 + ro_len == len(msg), "ROapdus length does not match the message")
    invoke, cmd, op_len = struct.unpack(">HHH", msg[8:14])
    _check(14 + op_len == len(msg), "ROIV/RORS length does not match the message")
    body = msg[14:]
    if ro_type == RORS_APDU and cmd == CMD_CONFIRMED_EVENT_REPORT:
        cls, _c, _h, _t, event, n = struct.unpack(">HHHIHH", body[:14])
        _check(cls == NOM_MOC_VMS_MDS and event == NOM_NOTI_MDS_CREAT,
               "MDS Create Event Result must mirror {NOM_MOC_VMS_MDS} and NOM_NOTI_MDS_CREAT")
        _check(n == 0 and len(body) == 14, "MDS Create Event Result carries no data")
        return HostMessage("mds_create_result", msg, invoke_id=invoke)
    if ro_type == ROIV_APDU and cmd == CMD_CONFIRMED_ACTION:
        cls, _c, _h, scope, action, n = struct.unpack(">HHHIHH", body[:14])
        _check(cls == NOM_MOC_VMS_MDS, "polls address {NOM_MOC_VMS_MDS, 0, 0}")
        _check(scope == 0, "scope must be 0")
        _check(14 + n == len(body), "ActionArgument length does not match")
        req = body[14:]
        poll_no, part, code, grp = struct.unpack(">HHHH", req[:8])
        _check(part == NOM_PART_OBJ, "polled_obj_type partition must be NOM_PART_OBJ")
        if action == NOM_ACT_POLL_MDIB_DATA:
            _check(len(req) == 8, "PollMdibDataReq is 8 bytes")
            return HostMessage("poll", msg, invoke, poll_no, code, grp)
        _check(action == NOM_ACT_POLL_MDIB_DATA_EXT, f"unknown action 0x{action:04x}")
        ext, j = _parse_attribute_list(req, 8)
        _check(j == len(req), "bytes after poll_ext_attr")
        return HostMessage("poll_ext", msg, invoke, poll_no, code, grp, ext)
    if ro_type == ROIV_APDU and cmd in (CMD_SET, CMD_CONFIRMED_SET):
        # "SET PRIORITY LIST REQUEST" (p. 64): SetArgument with a ModificationList.
        cls, _c, _h, scope, count, length = struct.unpack(">HHHIHH", body[:14])
        _check(cls == NOM_MOC_VMS_MDS and scope == 0, "SetArgument managed_object / scope")
        _check(14 + length == len(body), "ModificationList length")
        i, mods = 14, []
        for _ in range(count):
            op, aid, n = struct.unpack(">HHH", body[i:i + 6])
            value = body[i + 6:i + 6 + n]
            _check(len(value) == n, "AttributeModEntry length")
            _check(op in (0, 3), "only REPLACE and SET_TO_DEFAULT are supported")
            if aid in (NOM_ATTR_POLL_RTSA_PRIO_LIST, NOM_ATTR_POLL_NU_PRIO_LIST) and op == 0:
                c, ln = struct.unpack(">HH", value[:4])
                _check(ln == 4 * c == n - 4, "TextIdList count/length")
            mods.append((op, aid, value))
            i += 6 + n
        _check(i == len(body), "ModificationList count/length")
        m = HostMessage("set", msg, invoke_id=invoke)
        m.ext_attrs = {aid: value for _op, aid, value in mods}
        m.user_info = {"confirmed": int(cmd == CMD_CONFIRMED_SET)}
        return m
    return HostMessage("other", msg, invoke_id=invoke)


def parse_host_stream(stream: bytes) -> list[HostMessage]:
    """Deframe an RS-232 byte stream from the host and parse every message."""
    return [parse_host(m) for m in deframe(stream)]


# -- a monitor that answers a host, for session tests ----------------------------------------

WAVE_PERIOD_S = 0.256
"""Result period of real-time waves ("Attribute: Time Periodic Data Poll")."""
NUMERIC_PERIOD_S = 1.0
ALERT_PERIOD_S = 1.0


# Attribute groups (guide pp. 81, 88, 103): which attributes a poll of a group returns.
_GROUPS = {
    NOM_MOC_VMO_METRIC_NU: {
        NOM_ATTR_GRP_VMO_STATIC: {NOM_ATTR_ID_TYPE, NOM_ATTR_ID_HANDLE, NOM_ATTR_METRIC_SPECN},
        NOM_ATTR_GRP_VMO_DYN: {NOM_ATTR_ID_LABEL, NOM_ATTR_ID_LABEL_STRING, 0x0911, 0x0917},
        NOM_ATTR_GRP_METRIC_VAL_OBS: {NOM_ATTR_NU_VAL_OBS, NOM_ATTR_NU_CMPD_VAL_OBS,
                                      NOM_ATTR_TIME_STAMP_ABS, NOM_ATTR_TIME_STAMP_REL, 0xF294},
    },
    NOM_MOC_VMO_METRIC_SA_RT: {
        NOM_ATTR_GRP_VMO_STATIC: {NOM_ATTR_ID_TYPE, NOM_ATTR_ID_HANDLE, NOM_ATTR_METRIC_SPECN,
                                  NOM_ATTR_SA_SPECN, 0x0A16, NOM_ATTR_TIME_PD_SAMP},
        NOM_ATTR_GRP_VMO_DYN: {NOM_ATTR_ID_LABEL, NOM_ATTR_ID_LABEL_STRING, NOM_ATTR_UNIT_CODE,
                               0x094D, 0x0911, 0x0945, 0x093C, 0x093D,
                               NOM_ATTR_SCALE_SPECN_I16, 0x096A, 0x091A, 0x0964},
        NOM_ATTR_GRP_METRIC_VAL_OBS: {NOM_ATTR_SA_VAL_OBS, 0x0967},
    },
    NOM_MOC_VMO_AL_MON: {
        NOM_ATTR_GRP_VMO_STATIC: {NOM_ATTR_ID_TYPE, NOM_ATTR_ID_HANDLE},
        NOM_ATTR_GRP_AL_MON: {NOM_ATTR_DEV_AL_COND, NOM_ATTR_AL_MON_T_AL_LIST,
                              NOM_ATTR_AL_MON_P_AL_LIST},
    },
}


def in_group(objects: list, obj_code: int, attr_grp: int) -> list:
    """The objects with only the attributes of ``attr_grp`` (0: all groups)."""
    groups = _GROUPS.get(obj_code)
    if attr_grp == 0 or groups is None:
        return objects
    keep = groups.get(attr_grp, set())
    return [(h, [(a, v) for a, v in attrs if a in keep]) for h, attrs in objects]


@dataclass
class _ExtPoll:
    invoke_id: int
    poll_number: int
    attr_grp: int
    expires: float
    next_due: float
    period: float
    seq: int = 0


class GuideMonitor:
    """Answers parsed host messages the way the guide says a monitor does.

    An Association Request gets the Association Response then the MDS Create
    Event Report (``invoke_id`` :attr:`mds_invoke_id`); an Extended Poll Data
    Request gets its immediate result (sequence 0) and, while its Time Periodic
    Data Poll lasts, periodic results from :meth:`periodic` (1 s numerics and
    alerts, 256 ms waves); a single poll gets one result; a Release Request gets
    the Release Response. Contents come from :attr:`numerics` (a list of
    objects or a callable of the relative time), :meth:`next_wave` and
    :attr:`technical` / :attr:`patient` alarms.

    Parameters
    ----------
    t0 : float
        Host time at which the monitor's relative time was ``rel0``.
    date_time : datetime
        The monitor's wall clock at ``t0`` (sent in the MDS Create Event).
    """

    def __init__(self, t0: float, date_time: dt.datetime, rel0: int = 126976) -> None:
        self.t0 = t0
        self.date_time = date_time
        self.rel0 = rel0
        self.mds_invoke_id = 0x0101
        self.numerics: list | object = []
        self.technical: list[Alarm] = []
        self.patient: list[Alarm] = []
        self.wave_samples: list[int] = []
        self.wave_kw: dict = {}
        self.wave_pos = 0
        self.ext: dict[int, _ExtPoll] = {}
        self.received: list[HostMessage] = []
        self.assoc_kw: dict = {}
        """Keywords for :func:`association_response` (e.g. ``ext_options``)."""
        self.mds_confirmed = False

    def rel(self, t: float) -> int:
        """The monitor's relative time (1/8 ms) at host time ``t``."""
        return (self.rel0 + round((t - self.t0) * TICKS_PER_S)) & 0xFFFFFFFF

    def _objects(self, code: int, t: float, attr_grp: int = 0, context: bool = True) -> list:
        """The polled objects, with the attributes of the polled group.

        A periodic wave poll of all groups carries the context (static and dynamic)
        only every 1024 ms ("Interpreting Wave Data", p. 287): ``context`` False
        then leaves only the observed values.
        """
        if code == NOM_MOC_VMO_METRIC_NU:
            objs = self.numerics(self.rel(t)) if callable(self.numerics) else list(self.numerics)
        elif code == NOM_MOC_VMO_METRIC_SA_RT:
            objs = [self.next_wave()] if self.wave_samples else []
            if attr_grp == 0 and not context:
                attr_grp = NOM_ATTR_GRP_METRIC_VAL_OBS
        elif code == NOM_MOC_VMO_AL_MON:
            objs = [alert_monitor(0x0100, technical=self.technical, patient=self.patient)]
        else:
            objs = []
        return in_group(objs, code, attr_grp)

    def next_wave(self) -> tuple[int, list[tuple[int, bytes]]]:
        """The next 32 samples (256 ms at 125/s) of :attr:`wave_samples`, cycling."""
        n = 32
        chunk = [self.wave_samples[(self.wave_pos + i) % len(self.wave_samples)]
                 for i in range(n)]
        self.wave_pos += n
        return wave(0x0200, chunk, **self.wave_kw)

    def respond(self, msg: HostMessage, t: float) -> list[bytes]:
        """Messages (user data) the monitor sends at once in answer to ``msg``."""
        self.received.append(msg)
        if msg.kind == "assoc_request":
            self.ext.clear()
            self.mds_confirmed = False
            return [association_response(**self.assoc_kw),
                    mds_create_event_report(invoke_id=self.mds_invoke_id, event_time=self.rel(t),
                                            date_time=self.date_time + dt.timedelta(
                                                seconds=round(t - self.t0)),
                                            rel_time=self.rel(t))]
        if msg.kind == "release_request":
            self.ext.clear()
            return [RELEASE_RESPONSE]
        if msg.kind == "set" and msg.user_info.get("confirmed"):
            # "SET PRIORITY LIST RESULT": the modified attributes returned.
            body = MDS + attribute_list(list(msg.ext_attrs.items()))
            return [data_export(RORS_APDU, msg.invoke_id or 0, CMD_CONFIRMED_SET, body)]
        if msg.kind == "mds_create_result":
            self.mds_confirmed = msg.invoke_id == self.mds_invoke_id
            return []
        if msg.kind in ("poll", "poll_ext"):
            assert msg.obj_code is not None and msg.invoke_id is not None
            old = self.ext.get(msg.obj_code)
            renewal = old is not None and old.expires > t
            # A renewal's immediate confirmation of a wave poll carries no samples: the
            # periodic results go on ("the basic period ... is continued") and the guide
            # defines no samples outside them.
            objects = ([] if renewal and msg.obj_code == NOM_MOC_VMO_METRIC_SA_RT
                       else self._objects(msg.obj_code, t, msg.attr_grp or 0))
            out = [poll_result(objects, obj_code=msg.obj_code,
                               invoke_id=msg.invoke_id, poll_number=msg.poll_number or 0,
                               rel_time=self.rel(t), extended=msg.kind == "poll_ext",
                               attr_grp=msg.attr_grp or 0)]
            ticks = msg.period_ticks
            if msg.kind == "poll_ext" and ticks:
                period = {NOM_MOC_VMO_METRIC_SA_RT: WAVE_PERIOD_S,
                          NOM_MOC_VMO_AL_MON: ALERT_PERIOD_S}.get(msg.obj_code,
                                                                  NUMERIC_PERIOD_S)
                # "the basic period of the replies is continued" across renewals
                next_due = old.next_due if old is not None and renewal else t + period
                self.ext[msg.obj_code] = _ExtPoll(msg.invoke_id, msg.poll_number or 0,
                                                  msg.attr_grp or 0, t + ticks / TICKS_PER_S,
                                                  next_due, period)
            return out
        return []

    def periodic(self, t: float) -> list[bytes]:
        """Periodic Extended Poll Data Results due by host time ``t``."""
        out = []
        for code, p in list(self.ext.items()):
            while p.next_due <= t and p.next_due <= p.expires:
                p.seq = (p.seq + 1) & 0xFFFF
                context = p.seq % 4 == 0                  # one result in four: 1024 ms
                out.append(poll_result(self._objects(code, p.next_due, p.attr_grp, context),
                                       obj_code=code,
                                       invoke_id=p.invoke_id, poll_number=p.poll_number,
                                       rel_time=self.rel(p.next_due), sequence_no=p.seq,
                                       attr_grp=p.attr_grp))
                p.next_due += p.period
            if p.next_due > p.expires:
                del self.ext[code]
        return out


# -- host side: builders (to drive a simulated monitor) ---------------------------------------


def mds_create_result(invoke_id: int, current_time: int = 0) -> bytes:
    """The host's MDS Create Event Result (RORS, CMD_CONFIRMED_EVENT_REPORT, length 0)."""
    body = MDS + struct.pack(">IHH", current_time, NOM_NOTI_MDS_CREAT, 0)
    return data_export(RORS_APDU, invoke_id, CMD_CONFIRMED_EVENT_REPORT, body)


def poll_request(invoke_id: int, obj_code: int, *, poll_number: int = 1, attr_grp: int = 0,
                 extended: bool = True, period_ticks: int | None = None) -> bytes:
    """A Single or Extended Poll Data Request (with a Time Periodic Data Poll when given)."""
    req = struct.pack(">HHHH", poll_number, NOM_PART_OBJ, obj_code, attr_grp)
    if extended:
        req += attribute_list([] if period_ticks is None else
                              [(NOM_ATTR_TIME_PD_POLL, struct.pack(">I", period_ticks))])
    action = NOM_ACT_POLL_MDIB_DATA_EXT if extended else NOM_ACT_POLL_MDIB_DATA
    body = MDS + struct.pack(">IHH", 0, action, len(req)) + req
    return data_export(ROIV_APDU, invoke_id, CMD_CONFIRMED_ACTION, body)


# -- monitor side: strict parser (to check a simulated monitor) -------------------------------


@dataclass
class MonitorMessage:
    """A parsed monitor message; ``kind`` as the builders above name them.

    ``objects`` (poll results): ``(context_id, handle, {attribute_id: value})``;
    ``numerics``: ``(physio_id, state, unit_code, value)`` decoded from every
    NuObsValue and NuObsValueCmp; ``waves``: ``(physio_id, state, samples)``;
    ``alarms``: ``(list_attribute_id, source, code, al_type, text)``.
    """

    kind: str
    raw: bytes
    invoke_id: int | None = None
    ro_type: int | None = None
    obj_code: int | None = None
    rel_time: int | None = None
    sequence_no: int | None = None
    attrs: dict[int, bytes] = field(default_factory=dict)
    objects: list[tuple[int, int, dict[int, bytes]]] = field(default_factory=list)
    numerics: list[tuple[int, int, int, float]] = field(default_factory=list)
    waves: list[tuple[int, int, list[int]]] = field(default_factory=list)
    alarms: list[tuple[int, int, int, int, str]] = field(default_factory=list)
    user_info: dict[str, int] = field(default_factory=dict)


def _parse_string(raw: bytes, i: int = 0) -> tuple[str, int]:
    (n,) = struct.unpack(">H", raw[i:i + 2])
    _check(i + 2 + n <= len(raw) and n % 2 == 0, "String length")
    return raw[i + 2:i + 2 + n].decode("utf-16-be").rstrip("\0"), i + 2 + n


def _check_object(msg: MonitorMessage, attrs: dict[int, bytes]) -> None:
    for aid, v in attrs.items():
        if aid == NOM_ATTR_NU_VAL_OBS:
            _check(len(v) == 10, "NuObsValue is 10 bytes")
            msg.numerics.append((*struct.unpack(">HHH", v[:6]), decode_float_type(v[6:])))
        elif aid == NOM_ATTR_NU_CMPD_VAL_OBS:
            count, length = struct.unpack(">HH", v[:4])
            _check(length == 10 * count == len(v) - 4, "NuObsValueCmp count/length")
            for k in range(count):
                e = v[4 + 10 * k:14 + 10 * k]
                msg.numerics.append((*struct.unpack(">HHH", e[:6]), decode_float_type(e[6:])))
        elif aid == NOM_ATTR_SA_VAL_OBS:
            pid, state, n = struct.unpack(">HHH", v[:6])
            _check(n == len(v) - 6, "SaObsValue array length")
            spec = attrs.get(NOM_ATTR_SA_SPECN)
            size = struct.unpack(">HBBH", spec)[1] if spec else 16
            _check(size in (8, 16), "sample size")
            fmt = f">{n}B" if size == 8 else f">{n // 2}H"
            msg.waves.append((pid, state, list(struct.unpack(fmt, v[6:]))))
        elif aid == NOM_ATTR_SA_SPECN:
            _check(len(v) == 6, "SaSpec is 6 bytes")
            _n, size, bits, _f = struct.unpack(">HBBH", v)
            _check(bits <= size, "significant bits <= sample size")
        elif aid == NOM_ATTR_SCALE_SPECN_I16:
            _check(len(v) == 12, "ScaleRangeSpec16 is 12 bytes")
        elif aid in (NOM_ATTR_TIME_PD_SAMP, NOM_ATTR_TIME_STAMP_REL, NOM_ATTR_ID_LABEL):
            _check(len(v) == 4, f"attribute 0x{aid:04x} is 4 bytes")
        elif aid in (NOM_ATTR_TIME_STAMP_ABS, NOM_ATTR_TIME_ABS):
            _check(len(v) == 8, "AbsoluteTime is 8 bytes")
        elif aid == NOM_ATTR_ID_LABEL_STRING:
            _s, end = _parse_string(v)
            _check(end == len(v), "Label String length")
        elif aid in (NOM_ATTR_AL_MON_T_AL_LIST, NOM_ATTR_AL_MON_P_AL_LIST):
            count, length = struct.unpack(">HH", v[:4])
            _check(length == len(v) - 4, "DevAlarmList length")
            i = 4
            for _ in range(count):
                src, code, typ, _st = struct.unpack(">HHHH", v[i:i + 8])
                info_id, n = struct.unpack(">HH", v[i + 14:i + 18])
                info = v[i + 18:i + 18 + n]
                _check(len(info) == n, "DevAlarmEntry length")
                text = ""
                if info_id == STR_ALMON_INFO:
                    text, end = _parse_string(info, 10)
                    _check(end == n, "StrAlMonInfo length")
                msg.alarms.append((aid, src, code, typ, text))
                i += 18 + n
            _check(i == len(v), "DevAlarmList count/length")
        elif aid == NOM_ATTR_DEV_AL_COND:
            _check(len(v) == 10, "DeviceAlertCondition is 10 bytes")


def parse_monitor(msg: bytes) -> MonitorMessage:
    """Parse one monitor message strictly (every length checked); raises :class:`GuideError`."""
    _check(len(msg) >= 2, "empty message")
    first = msg[0]
    if first in (AC_SPDU_SI, RF_SPDU_SI, DN_SPDU_SI, AB_SPDU_SI):
        if first == RF_SPDU_SI:
            _check(msg == REFUSE, "Refuse differs from the guide")
            return MonitorMessage("refuse", msg)
        if first == DN_SPDU_SI:
            _check(msg == RELEASE_RESPONSE, "Release Response differs from the guide")
            return MonitorMessage("release_response", msg)
        if first == AB_SPDU_SI:
            _check(msg == ABORT, "Abort differs from the guide")
            return MonitorMessage("abort", msg)
        n, i = _read_li(msg, 1)
        _check(i + n == len(msg), "session LI does not match the message")
        _check(msg[i:i + 14] == _SESSION_DATA, "AssocRespSessionData differs from the guide")
        i += 14
        _check(msg[i] == 0xC1, "presentation header must start 0xC1")
        n, i = _read_li(msg, i + 1)
        _check(i + n == len(msg), "presentation LI does not match the message")
        p = len(ASSOC_RESP_PRESENTATION)
        _check(msg[i:i + p] == ASSOC_RESP_PRESENTATION,
               "AssocRespPresentationHeader differs from the guide")
        _check(msg[-16:] == PRESENTATION_TRAILER, "the user data must be followed by 16 zeros")
        return MonitorMessage("assoc_response", msg, user_info=_parse_user_info(msg[i + p:-16]))
    if msg[:4] == b"\x00\x00\x01\x00":
        ro_type, ro_len, invoke, cmd, op_len = struct.unpack(">HHHHH", msg[4:14])
        _check(8 + ro_len == len(msg) and 14 + op_len == len(msg), "Connect Indication lengths")
        cls, _c, _h, _t, event, n = struct.unpack(">HHHIHH", msg[14:28])
        _check(event == NOM_NOTI_CONN_INDIC and 28 + n == len(msg), "ConnectIndInfo")
        attrs, end = _parse_attribute_list(msg, 28)
        _check(end == len(msg), "bytes after ConnectIndInfo")
        return MonitorMessage("connect_indication", msg, invoke_id=invoke, attrs=attrs)
    _check(first == 0xE1, f"unknown first byte 0x{first:02x}")
    session_id, ctx, ro_type, ro_len = struct.unpack(">HHHH", msg[:8])
    _check(session_id == 0xE100 and ctx == 2, "SPpdu")
    _check(8 + ro_len == len(msg), "ROapdus length does not match the message")
    i = 8
    if ro_type == ROLRS_APDU:
        state, _count = msg[8], msg[9]
        _check(state in (RORLS_FIRST, RORLS_NOT_FIRST_NOT_LAST, RORLS_LAST), "RorlsId state")
        i = 10
    invoke, cmd, op_len = struct.unpack(">HHH", msg[i:i + 6])
    i += 6
    _check(i + op_len == len(msg), "ROIV/RORS/ROLRS length does not match the message")
    if ro_type == ROIV_APDU and cmd == CMD_CONFIRMED_EVENT_REPORT:
        cls, _c, _h, _t, event, n = struct.unpack(">HHHIHH", msg[i:i + 14])
        _check(cls == NOM_MOC_VMS_MDS and event == NOM_NOTI_MDS_CREAT, "MDS Create Event")
        _check(i + 14 + n == len(msg), "EventReportArgument length")
        _check(msg[i + 14:i + 20] == MDS, "MdsCreateInfo managed_object")
        attrs, end = _parse_attribute_list(msg, i + 20)
        _check(end == len(msg), "bytes after the MDS attribute list")
        return MonitorMessage("mds_create", msg, invoke_id=invoke, attrs=attrs)
    _check(ro_type in (RORS_APDU, ROLRS_APDU) and cmd == CMD_CONFIRMED_ACTION,
           f"unexpected ro_type {ro_type} / command {cmd}")
    cls, _c, _h, action, n = struct.unpack(">HHHHH", msg[i:i + 10])
    _check(cls == NOM_MOC_VMS_MDS, "ActionResult managed_object")
    _check(i + 10 + n == len(msg), "ActionResult length")
    i += 10
    out = MonitorMessage("poll_result", msg, invoke_id=invoke, ro_type=ro_type)
    i += 2
    if action == NOM_ACT_POLL_MDIB_DATA_EXT:
        (out.sequence_no,) = struct.unpack(">H", msg[i:i + 2])
        i += 2
    else:
        _check(action == NOM_ACT_POLL_MDIB_DATA, f"unknown action 0x{action:04x}")
    (out.rel_time,) = struct.unpack(">I", msg[i:i + 4])
    _check(msg[i + 4:i + 12] == b"\xff" * 8, "abs_time_stamp all 0xFF (guide p. 62)")
    part, out.obj_code, _grp = struct.unpack(">HHH", msg[i + 12:i + 18])
    _check(part == NOM_PART_OBJ, "polled_obj_type partition")
    i += 18
    count, length = struct.unpack(">HH", msg[i:i + 4])
    i += 4
    _check(i + length == len(msg), "PollInfoList length")
    for _ in range(count):
        ctx_id, n_obs, obs_len = struct.unpack(">HHH", msg[i:i + 6])
        i += 6
        end = i + obs_len
        _check(end <= len(msg), "SingleContextPoll length")
        for _ in range(n_obs):
            (handle,) = struct.unpack(">H", msg[i:i + 2])
            attrs, i = _parse_attribute_list(msg, i + 2)
            _check(i <= end, "ObservationPoll past its context")
            out.objects.append((ctx_id, handle, attrs))
            _check_object(out, attrs)
        _check(i == end, "SingleContextPoll count/length")
    _check(i == len(msg), "PollInfoList count/length")
    return out
