"""Philips IntelliVue Data Export: framing, message layouts and nomenclature, both directions.

Shared by the host codec (:mod:`monitor.devices.codecs.intellivue`) and the
simulator's encoder (the monitor side), so both agree on every byte. Written
from the "Data Export Interface Programming Guide, IntelliVue X2, MP Series &
MX Series" (software H.0 and later); section names and page numbers below are
the guide's ("guide p. 31" = its page 31).

Everything is big-endian ("network byte order", p. 35) and packed. A message
(an "association control" message or a "data export command") is the same on
both transports: a UDP datagram on the LAN (port 24105, p. 29), or on the
MIB/RS232 port (the "Fixed Baudrate Protocol", p. 30) a frame::

    BOF 0xC0 | escaped( Hdr 0x11 0x01 <u16 length> | message | FCS-16 LE ) | EOF 0xC1

where escaping (p. 31 "Transparency") turns 0xC0, 0xC1 and 0x7D anywhere in
header, message or FCS into 0x7D followed by the byte XOR 0x20, and the FCS
is the PPP frame check sequence (RFC 1662 / RFC 1171: reflected CRC-CCITT,
initial 0xFFFF, ones' complement, low byte first) over header and message.
``0x7D 0xC1`` aborts a frame (p. 31 "Frame Abort").

Builders return ``bytes``; parsers raise :class:`LayoutError` (a ValueError)
on anything that does not match its declared lengths, never reading past
what a length field allows.

Choices (documented for review):

* Values in attribute lists are kept as raw ``bytes`` keyed by attribute id
  (:func:`parse_attribute_list`); typed parsers (``parse_nu_obs_value`` ...)
  interpret one value each. Builders take the same shape: a list of
  ``(attribute_id, value_bytes)`` pairs, made with the value builders
  (:func:`nu_obs_value`, :func:`float_type` ...).
* :data:`PHYSIO_LABELS`, :data:`TEXT_LABELS` and :data:`UNIT_SYMBOLS` are the
  guide's own tables ("Physiological Identifier" pp. 115-188, "Unit Codes"
  pp. 193-201), extracted from its text: the short label the monitor shows
  for each physiological id (compound members get `` sys``/`` dia``/`` mean``),
  for each label TextId, and the symbol of each unit code.
* Absolute time (BCD, p. 36) is the monitor's wall clock without a zone; it
  is read and written as the host's local time (:func:`absolute_time`,
  :func:`parse_absolute_time`), so a simulator and a host on one machine agree.
"""

from __future__ import annotations

import datetime as _dt
import math
import struct
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field


class LayoutError(ValueError):
    """A message or structure whose bytes do not match its own length fields."""


# -- framing (guide p. 30-32) ------------------------------------------------------------

BOF = 0xC0
EOF = 0xC1
ESC = 0x7D
ESC_XOR = 0x20
PROTOCOL_ID = 0x11          # Data Export (FrameHdr.protocol_id)
MSG_TYPE = 0x01             # association control or data export command
FRAME_HDR = struct.Struct(">BBH")
FCS_INIT = 0xFFFF
FCS_GOOD = 0xF0B8           # the register after running over data + its own FCS (RFC 1662)
MAX_MESSAGE = 1500
"""Longest message accepted in a frame or datagram: above the LAN's largest UDP
message (1380 bytes, p. 29) and the MIB's largest MTU (1000 bytes, p. 71)."""
MAX_FRAME_CONTENT = FRAME_HDR.size + MAX_MESSAGE + 2
MAX_STUFFED_FRAME = 2 * MAX_FRAME_CONTENT + 2
"""Longest legal frame on the wire (every byte escaped); longer runs are dropped."""


def _fcs_table() -> tuple[int, ...]:
    table = []
    for b in range(256):
        v = b
        for _ in range(8):
            v = (v >> 1) ^ 0x8408 if v & 1 else v >> 1
        table.append(v)
    return tuple(table)


_FCS_TABLE = _fcs_table()


def fcs_update(fcs: int, data: bytes) -> int:
    """Run the RFC 1662 FCS-16 register over ``data`` (no final complement)."""
    table = _FCS_TABLE
    for b in data:
        fcs = (fcs >> 8) ^ table[(fcs ^ b) & 0xFF]
    return fcs


def fcs16(data: bytes) -> int:
    """The FCS value transmitted for ``data``: ones' complement of the CRC (guide p. 31).

    Sent low byte first: ``fcs16(b"\\x3a\\x71") == 0x269B`` goes out as ``9B 26``.
    """
    return fcs_update(FCS_INIT, data) ^ 0xFFFF


def fcs_bytes(data: bytes) -> bytes:
    """The two FCS bytes for ``data`` as they go on the wire (LSB first)."""
    return struct.pack("<H", fcs16(data))


def escape(data: bytes) -> bytes:
    """Transparency (p. 31): 0xC0, 0xC1, 0x7D -> 0x7D, byte XOR 0x20."""
    return (bytes(data).replace(b"\x7d", b"\x7d\x5d")
            .replace(b"\xc0", b"\x7d\xe0").replace(b"\xc1", b"\x7d\xe1"))


def unescape(data: bytes) -> bytes:
    """Undo :func:`escape`; a 0x7D as the last byte is dropped (the caller checks)."""
    parts = bytes(data).split(b"\x7d")
    out = bytearray(parts[0])
    for part in parts[1:]:
        if part:
            out.append(part[0] ^ ESC_XOR)
            out += part[1:]
    return bytes(out)


def stuff_frame(content: bytes) -> bytes:
    """BOF, escaped ``content`` + its FCS, EOF: the guide's framing examples (p. 31)."""
    return bytes([BOF]) + escape(content + fcs_bytes(content)) + bytes([EOF])


def frame_header(length: int) -> bytes:
    """FrameHdr (p. 30): protocol 0x11, type 0x01, length of the message."""
    return FRAME_HDR.pack(PROTOCOL_ID, MSG_TYPE, length)


def frame(message: bytes) -> bytes:
    """One MIB/RS232 frame carrying ``message`` (header, data and FCS all escaped)."""
    return stuff_frame(frame_header(len(message)) + message)


DROP_BAD_FCS = "bad_fcs"
DROP_OVERSIZED = "oversized_frame"
DROP_MALFORMED = "malformed_frame"
DROP_ABORTED = "aborted_frame"
DROP_GARBAGE = "garbage"


class Deframer:
    """Incremental MIB/RS232 deframer: bytes in, messages (without header) out.

    Resynchronises on the next BOF after garbage, a lost EOF, an abort
    (``0x7D 0xC1``), a bad FCS or a frame longer than :data:`MAX_STUFFED_FRAME`.
    Every loss is reported through ``on_drop(kind, nbytes)`` with ``kind`` one of
    ``DROP_*`` and ``nbytes`` the bytes thrown away; it never holds more than
    :data:`MAX_STUFFED_FRAME` bytes. A frame whose header is not 0x11 0x01 or whose
    length field differs from its message length is dropped as malformed.
    """

    def __init__(self, on_drop: Callable[[str, int], None] | None = None) -> None:
        self._buf = bytearray()
        self._on_drop = on_drop or (lambda kind, n: None)

    @property
    def buffered(self) -> int:
        """Bytes held while waiting for the end of a frame."""
        return len(self._buf)

    def reset(self) -> None:
        """Forget any partial frame (counted as garbage)."""
        if self._buf:
            self._on_drop(DROP_GARBAGE, len(self._buf))
        self._buf.clear()

    def feed(self, data: bytes) -> list[bytes]:
        """Messages completed by ``data``."""
        buf = self._buf
        buf += data
        out: list[bytes] = []
        while buf:
            start = buf.find(BOF)
            if start < 0:
                self._on_drop(DROP_GARBAGE, len(buf))
                buf.clear()
                break
            if start:
                self._on_drop(DROP_GARBAGE, start)
                del buf[:start]
            end = buf.find(EOF, 1)
            again = buf.find(BOF, 1)
            if 0 < again and (end < 0 or again < end):
                self._on_drop(DROP_MALFORMED, again)     # BOF before EOF: lost the end
                del buf[:again]
                continue
            if end < 0:
                if len(buf) > MAX_STUFFED_FRAME:
                    self._on_drop(DROP_OVERSIZED, len(buf))
                    buf.clear()
                break
            raw = bytes(buf[1:end])
            del buf[:end + 1]
            message = self._check(raw)
            if message is not None:
                out.append(message)
        return out

    def _check(self, raw: bytes) -> bytes | None:
        n = len(raw) + 2
        if len(raw) + 2 > MAX_STUFFED_FRAME:
            self._on_drop(DROP_OVERSIZED, n)
            return None
        if raw.endswith(b"\x7d"):
            self._on_drop(DROP_ABORTED, n)
            return None
        content = unescape(raw)
        if len(content) < FRAME_HDR.size + 2 or len(content) > MAX_FRAME_CONTENT:
            self._on_drop(DROP_MALFORMED if len(content) <= MAX_FRAME_CONTENT
                          else DROP_OVERSIZED, n)
            return None
        if fcs_update(FCS_INIT, content) != FCS_GOOD:
            self._on_drop(DROP_BAD_FCS, n)
            return None
        proto, mtype, length = FRAME_HDR.unpack_from(content)
        message = content[FRAME_HDR.size:-2]
        if proto != PROTOCOL_ID or mtype != MSG_TYPE or length != len(message):
            self._on_drop(DROP_MALFORMED, n)
            return None
        return message


# -- nomenclature constants ---------------------------------------------------------------

# Partitions (p. 110).
NOM_PART_OBJ = 1
NOM_PART_SCADA = 2
NOM_PART_EVT = 3
NOM_PART_DIM = 4
NOM_PART_PGRP = 6
NOM_PART_INFRASTRUCT = 8
NOM_PART_EMFC = 1025
NOM_PART_SETTINGS = 1026

# Object classes (p. 111).
NOM_MOC_VMO = 1
NOM_MOC_VMO_METRIC_NU = 6
NOM_MOC_VMO_METRIC_SA_RT = 9
NOM_MOC_VMS_MDS = 33
NOM_MOC_VMS_MDS_COMPOS_SINGLE_BED = 35
NOM_MOC_VMS_MDS_SIMP = 37
NOM_MOC_BATT = 41
NOM_MOC_PT_DEMOG = 42
NOM_MOC_VMO_AL_MON = 54

# Actions and events (p. 252).
NOM_NOTI_MDS_CREAT = 3334              # 0x0D06
NOM_NOTI_CONN_INDIC = 3351             # 0x0D17
NOM_ACT_POLL_MDIB_DATA = 3094          # 0x0C16
NOM_ACT_POLL_MDIB_DATA_EXT = 61755     # 0xF13B

# Protocol identification (p. 252), infrastructure partition.
NOM_POLL_PROFILE_SUPPORT = 1
NOM_MDIB_OBJ_SUPPORT = 258
NOM_ATTR_POLL_PROFILE_EXT = 61441      # 0xF001

# Attribute ids (pp. 189-191).
NOM_ATTR_AL_MON_P_AL_LIST = 0x0902
NOM_ATTR_AL_MON_T_AL_LIST = 0x0904
NOM_ATTR_ALTITUDE = 0x090C
NOM_ATTR_AREA_APPL = 0x090D
NOM_ATTR_COLOR = 0x0911
NOM_ATTR_DEV_AL_COND = 0x0916
NOM_ATTR_DISP_RES = 0x0917
NOM_ATTR_GRID_VIS_I16 = 0x091A
NOM_ATTR_ID_ASSOC_NO = 0x091D
NOM_ATTR_ID_BED_LABEL = 0x091E
NOM_ATTR_ID_HANDLE = 0x0921
NOM_ATTR_ID_LABEL = 0x0924
NOM_ATTR_ID_LABEL_STRING = 0x0927
NOM_ATTR_ID_MODEL = 0x0928
NOM_ATTR_ID_PROD_SPECN = 0x092D
NOM_ATTR_ID_TYPE = 0x092F
NOM_ATTR_LINE_FREQ = 0x0935
NOM_ATTR_LOCALIZN = 0x0937
NOM_ATTR_METRIC_INFO_LABEL = 0x093C
NOM_ATTR_METRIC_INFO_LABEL_STR = 0x093D
NOM_ATTR_METRIC_SPECN = 0x093F
NOM_ATTR_METRIC_STAT = 0x0940
NOM_ATTR_MODE_MSMT = 0x0945
NOM_ATTR_MODE_OP = 0x0946
NOM_ATTR_NOM_VERS = 0x0948
NOM_ATTR_NU_CMPD_VAL_OBS = 0x094B
NOM_ATTR_NU_VAL_OBS = 0x0950
NOM_ATTR_SA_CALIB_I16 = 0x0964
NOM_ATTR_SA_CMPD_VAL_OBS = 0x0967
NOM_ATTR_SA_RANGE_PHYS_I16 = 0x096A
NOM_ATTR_SA_SPECN = 0x096D
NOM_ATTR_SA_VAL_OBS = 0x096E
NOM_ATTR_SCALE_SPECN_I16 = 0x096F
NOM_ATTR_STD_SAFETY = 0x0982
NOM_ATTR_SYS_ID = 0x0984
NOM_ATTR_SYS_SPECN = 0x0985
NOM_ATTR_SYS_TYPE = 0x0986
NOM_ATTR_TIME_ABS = 0x0987
NOM_ATTR_TIME_PD_SAMP = 0x098D
NOM_ATTR_TIME_REL = 0x098F
NOM_ATTR_TIME_STAMP_ABS = 0x0990
NOM_ATTR_TIME_STAMP_REL = 0x0991
NOM_ATTR_UNIT_CODE = 0x0996
NOM_ATTR_VAL_ENUM_OBS = 0x099E
NOM_ATTR_VMS_MDS_STAT = 0x09A7
NOM_ATTR_SA_FIXED_VAL_SPECN = 0x0A16
NOM_ATTR_NET_ADDR_INFO = 0xF100
NOM_ATTR_PCOL_SUPPORT = 0xF101
NOM_ATTR_TIME_PD_POLL = 0xF13E
NOM_ATTR_MDS_GEN_INFO = 0xF1FA
NOM_ATTR_POLL_OBJ_PRIO_NUM = 0xF228
NOM_ATTR_POLL_NU_PRIO_LIST = 0xF239
NOM_ATTR_POLL_RTSA_PRIO_LIST = 0xF23A
NOM_ATTR_METRIC_MODALITY = 0xF294

# Attribute groups (p. 191).
NOM_ATTR_GRP_ALL = 0                   # "all attribute groups" (p. 294 example)
NOM_ATTR_GRP_AL_MON = 0x0801
NOM_ATTR_GRP_METRIC_VAL_OBS = 0x0803
NOM_ATTR_GRP_PT_DEMOG = 0x0807
NOM_ATTR_GRP_SYS_APPL = 0x080A
NOM_ATTR_GRP_SYS_ID = 0x080B
NOM_ATTR_GRP_SYS_PROD = 0x080C
NOM_ATTR_GRP_VMO_DYN = 0x0810
NOM_ATTR_GRP_VMO_STATIC = 0x0811

# Remote operations (pp. 42-47, 251).
ROIV_APDU = 1
RORS_APDU = 2
ROER_APDU = 3
ROLRS_APDU = 5
RORLS_FIRST = 1
RORLS_NOT_FIRST_NOT_LAST = 2
RORLS_LAST = 3
CMD_EVENT_REPORT = 0
CMD_CONFIRMED_EVENT_REPORT = 1
CMD_GET = 3
CMD_SET = 4
CMD_CONFIRMED_SET = 5
CMD_CONFIRMED_ACTION = 7
ROER_NO_SUCH_ACTION = 9
ROER_INVALID_ARGUMENT_VALUE = 15
ROER_ERRORS = {0: "no such object class", 1: "no such object instance", 2: "access denied",
               7: "get list error", 8: "set list error", 9: "no such action",
               10: "processing failure", 15: "invalid argument value", 16: "invalid scope",
               17: "invalid object instance"}

# Session/presentation (p. 42).
SESSION_ID = 0xE100
DEFAULT_CONTEXT_ID = 2
"""p_context_id of data messages when the association uses the guide's building blocks (p. 67)."""

# Session headers of association control messages (p. 67).
CN_SPDU_SI = 0x0D          # association request
AC_SPDU_SI = 0x0E          # association response (accept)
RF_SPDU_SI = 0x0C          # refuse
FN_SPDU_SI = 0x09          # release request
DN_SPDU_SI = 0x0A          # release response
AB_SPDU_SI = 0x19          # abort

# Association user data (pp. 68-72, 253).
MDDL_VERSION1 = 0x80000000
NOMEN_VERSION = 0x40000000
SYST_CLIENT = 0x80000000
SYST_SERVER = 0x00800000
HOT_START = 0x80000000
WARM_START = 0x40000000
COLD_START = 0x20000000
POLL_PROFILE_REV_0 = 0x80000000
P_OPT_DYN_CREATE_OBJECTS = 0x40000000
P_OPT_DYN_DELETE_OBJECTS = 0x20000000
POLL_EXT_PERIOD_NU_1SEC = 0x80000000
POLL_EXT_PERIOD_NU_AVG_12SEC = 0x40000000
POLL_EXT_PERIOD_NU_AVG_60SEC = 0x20000000
POLL_EXT_PERIOD_NU_AVG_300SEC = 0x10000000
POLL_EXT_PERIOD_RTSA = 0x08000000
POLL_EXT_ENUM = 0x04000000
POLL_EXT_NU_PRIO_LIST = 0x02000000
POLL_EXT_DYN_MODALITIES = 0x01000000

# Measurement state bits (p. 76). Valid when the first octet is 0.
MS_INVALID = 0x8000
MS_QUESTIONABLE = 0x4000
MS_UNAVAILABLE = 0x2000
MS_CALIBRATION_ONGOING = 0x1000
MS_TEST_DATA = 0x0800
MS_DEMO_DATA = 0x0400
MS_VALIDATED_DATA = 0x0080
MS_EARLY_INDICATION = 0x0040
MS_MSMT_ONGOING = 0x0020
MS_STATE_IN_ALARM = 0x0002
MS_STATE_AL_INHIBITED = 0x0001
MS_VALIDITY_MASK = 0xFF00

# FLOAT-Type special mantissas (p. 41).
FLOAT_NAN_MANTISSA = 0x7FFFFF
FLOAT_NRES_MANTISSA = -0x800000
FLOAT_POS_INF_MANTISSA = 0x7FFFFE
FLOAT_NEG_INF_MANTISSA = -0x7FFFFE
FLOAT_NAN = 0x007FFFFF
FLOAT_NRES = 0x00800000
FLOAT_POS_INF = 0x007FFFFE
FLOAT_NEG_INF = 0x00800002
FLOAT_MAX_MANTISSA = 2 ** 23 - 3

# Sample array flags (p. 83) and fixed value ids (p. 83).
SMOOTH_CURVE = 0x8000
DELAYED_CURVE = 0x4000
STATIC_SCALE = 0x2000
SA_EXT_VAL_RANGE = 0x1000
SA_FIX_UNSPEC = 0
SA_FIX_INVALID_MASK = 1
SA_FIX_PACER_MASK = 2
SA_FIX_DEFIB_MARKER_MASK = 3
SA_FIX_SATURATION = 4
SA_FIX_QRS_MASK = 5

# Alert monitor (pp. 99-102).
AL_INHIBITED = 0x8000
AL_SUSPENDED = 0x4000
AL_LATCHED = 0x2000
AL_SILENCED_RESET = 0x1000
AL_DEV_IN_TEST_MODE = 0x0400
AL_DEV_IN_STANDBY = 0x0200
AL_DEV_IN_DEMO_MODE = 0x0100
AL_NEW_ALERT = 0x0008
NO_ALERT = 0
LOW_PRI_T_AL = 1
MED_PRI_T_AL = 2
HI_PRI_T_AL = 4
LOW_PRI_P_AL = 256
MED_PRI_P_AL = 512
HI_PRI_P_AL = 1024
GEN_ALMON_INFO = 513
STR_ALMON_INFO = 516

# Operating mode bits (MDS, p. 96).
OPMODE_UNSPEC = 0x8000
OPMODE_MONITORING = 0x4000
OPMODE_DEMO = 0x2000
OPMODE_SERVICE = 0x1000
OPMODE_STANDBY = 0x0002
OPMODE_CONFIG = 0x0001

# Connect indication protocol support (p. 108).
AP_ID_ACSE = 1
AP_ID_DATA_OUT = 5
TP_ID_UDP = 1
CONNECT_INDICATION_PORT = 24005
DATA_EXPORT_PORT = 24105

# Alert codes (events partition, pp. 202-250) the codec names.
NOM_EVT_LEADS_OFF = 274
NOM_EVT_LEAD_DISCONN = 268
NOM_EVT_SENSOR_DISCONN = 308
NOM_EVT_SENSOR_MALF = 310
NOM_EVT_XDUCR_DISCONN = 336
NOM_EVT_ADVIS_SENSOR_CHK = 6696

# Physiological ids (SCADA partition, pp. 115-188) the codec maps to vitals.
NOM_ECG_CARD_BEAT_RATE = 0x4182
NOM_PULS_OXIM_SAT_O2 = 0x4BB8
NOM_PLETH_PULS_RATE = 0x4822
NOM_PULS_RATE = 0x480A
NOM_PRESS_BLD_NONINV = 0x4A04
NOM_PRESS_BLD_NONINV_SYS = 0x4A05
NOM_PRESS_BLD_NONINV_DIA = 0x4A06
NOM_PRESS_BLD_NONINV_MEAN = 0x4A07
NOM_PRESS_BLD_NONINV_PULS_RATE = 0xF0E5
NOM_RESP_RATE = 0x500A
NOM_AWAY_RESP_RATE = 0x5012
NOM_AWAY_CO2 = 0x50AC
NOM_AWAY_CO2_ET = 0x50B0
NOM_AWAY_CO2_INSP_MIN = 0x50BA
NOM_PRESS_AIR_AMBIENT = 0xF06B
NOM_TEMP = 0x4B48
NOM_TEMP_CORE = 0x4B60
NOM_TEMP_ESOPH = 0x4B64
NOM_TEMP_NASOPH = 0x4B6C
NOM_TEMP_SKIN = 0x4B74
NOM_TEMP_TYMP = 0x4B78
NOM_TEMP_RECT = 0xE004
NOM_TEMP_BLD = 0xE014
NOM_TEMP_GEN_1 = 0xF0C7
NOM_TEMP_GEN_2 = 0xF0C8
NOM_TEMP_GEN_3 = 0xF0C9
NOM_TEMP_GEN_4 = 0xF0CA
NOM_PRESS_BLD_ART = 0x4A10
NOM_PRESS_BLD_ART_SYS = 0x4A11
NOM_PRESS_BLD_ART_DIA = 0x4A12
NOM_PRESS_BLD_ART_MEAN = 0x4A13
NOM_PRESS_BLD_ART_ABP = 0x4A14
NOM_PRESS_BLD_ART_ABP_SYS = 0x4A15
NOM_PRESS_BLD_ART_ABP_DIA = 0x4A16
NOM_PRESS_BLD_ART_ABP_MEAN = 0x4A17
NOM_PLETH = 0x4BB4                     # pleth wave (label NLS_NOM_PULS_OXIM_PLETH 0x00024BB4)
NOM_RESP = 0x5000                      # impedance respiration wave
NLS_NOM_PULS_OXIM_PLETH = 0x00024BB4
NLS_NOM_AWAY_CO2 = 0x000250AC              # CO2 wave (capnogram) label
NLS_NOM_RESP = 0x00025000                  # impedance respiration wave label

# Unit codes (dimension partition, pp. 193-201).
NOM_DIM_NOS = 0
NOM_DIM_DIMLESS = 512
NOM_DIM_PERCENT = 544
NOM_DIM_BEAT_PER_MIN = 2720
NOM_DIM_RESP_PER_MIN = 2784
NOM_DIM_KILO_PASCAL = 3843
NOM_DIM_MMHG = 3872
NOM_DIM_CM_H2O = 3904
NOM_DIM_FAHR = 4416
NOM_DIM_DEGC = 6048

# Relative time (p. 36): u32 ticks of 1/8 ms, zero at power-on.
TICKS_PER_S = 8000
REL_TIME_MODULUS = 1 << 32
WAVE_RESULT_PERIOD_S = 0.256
"""Periodic real-time wave results come every 256 ms (p. 60)."""
NUMERIC_RESULT_PERIOD_S = 1.0
ALERT_RESULT_PERIOD_S = 1.0


# -- basic values (guide pp. 36-41) -------------------------------------------------------

U16 = struct.Struct(">H")
U32 = struct.Struct(">I")
MANAGED_OBJECT = struct.Struct(">HHH")      # m_obj_class, context_id, handle

ManagedObject = tuple[int, int, int]
"""(object class, context id, handle): a ManagedObjectId (p. 38)."""
MDS_OBJECT: ManagedObject = (NOM_MOC_VMS_MDS, 0, 0)

Attribute = tuple[int, bytes]
"""(attribute id, value bytes): one AVAType (p. 38)."""


def u16(value: int) -> bytes:
    return U16.pack(value & 0xFFFF)


def u32(value: int) -> bytes:
    return U32.pack(value & 0xFFFFFFFF)


def _need(data: bytes, offset: int, size: int, what: str) -> None:
    if offset < 0 or offset + size > len(data):
        raise LayoutError(f"{what}: needs {size} bytes at {offset}, have {len(data) - offset}")


def read_u16(data: bytes, offset: int) -> int:
    _need(data, offset, 2, "u16")
    return U16.unpack_from(data, offset)[0]


def read_u32(data: bytes, offset: int) -> int:
    _need(data, offset, 4, "u32")
    return U32.unpack_from(data, offset)[0]


def managed_object(obj: ManagedObject) -> bytes:
    return MANAGED_OBJECT.pack(*obj)


def read_managed_object(data: bytes, offset: int) -> ManagedObject:
    _need(data, offset, MANAGED_OBJECT.size, "ManagedObjectId")
    return MANAGED_OBJECT.unpack_from(data, offset)


def type_value(partition: int, code: int) -> bytes:
    """TYPE (p. 37): nomenclature partition and code."""
    return U16.pack(partition) + U16.pack(code)


def float_type(value: float, digits: int = 0) -> int:
    """FLOAT-Type (p. 40) of ``value`` with ``digits`` after the point, as its u32.

    NaN gives the NaN special, +/-inf the +/-INFINITY specials. The mantissa is
    ``round(value * 10**digits)`` with exponent ``-digits`` (a negative
    ``digits`` gives a positive exponent); a value whose mantissa would not fit
    raises ``ValueError``.
    """
    if math.isnan(value):
        return FLOAT_NAN
    if math.isinf(value):
        return FLOAT_POS_INF if value > 0 else FLOAT_NEG_INF
    mantissa = round(value * 10.0 ** digits)
    if abs(mantissa) > FLOAT_MAX_MANTISSA or not -128 <= -digits <= 127:
        raise ValueError(f"{value} does not fit a FLOAT-Type with {digits} digits")
    return ((-digits & 0xFF) << 24) | (mantissa & 0xFFFFFF)


FLOAT_SPECIALS = {FLOAT_NAN_MANTISSA: "nan", FLOAT_NRES_MANTISSA: "nres",
                  FLOAT_POS_INF_MANTISSA: "+inf", FLOAT_NEG_INF_MANTISSA: "-inf"}


@dataclass(frozen=True)
class FloatValue:
    """A decoded FLOAT-Type: ``value`` (NaN or +/-inf for a special) and ``special``."""

    value: float
    exponent: int
    mantissa: int
    special: str | None = None       # "nan", "nres", "+inf", "-inf"

    @property
    def digits(self) -> int:
        """Digits after the point the monitor displays (p. 41)."""
        return max(0, -self.exponent)


def parse_float_type(raw: int) -> FloatValue:
    """Decode a FLOAT-Type u32 (p. 40): mantissa x 10^exponent, or a special."""
    exponent = (raw >> 24) & 0xFF
    exponent -= 256 if exponent & 0x80 else 0
    mantissa = raw & 0xFFFFFF
    mantissa -= 1 << 24 if mantissa & 0x800000 else 0
    special = FLOAT_SPECIALS.get(mantissa)
    if special is not None:
        value = {"+inf": math.inf, "-inf": -math.inf}.get(special, math.nan)
        return FloatValue(value, exponent, mantissa, special)
    value = mantissa * 10.0 ** exponent
    if exponent < 0:
        value = round(value, -exponent)
    return FloatValue(value, exponent, mantissa)


def read_float(data: bytes, offset: int) -> FloatValue:
    return parse_float_type(read_u32(data, offset))


def relative_time(seconds: float) -> int:
    """RelativeTime ticks (1/8 ms, p. 36) for ``seconds``, wrapped to 32 bits."""
    return round(seconds * TICKS_PER_S) % REL_TIME_MODULUS


def rel_time_diff(later: int, earlier: int) -> int:
    """Signed difference of two RelativeTimes in ticks, across the 32-bit wrap."""
    d = (later - earlier) % REL_TIME_MODULUS
    return d - REL_TIME_MODULUS if d >= REL_TIME_MODULUS // 2 else d


ABS_TIME_INVALID = b"\xff" * 8


def _bcd(n: int) -> int:
    return ((n // 10) << 4) | (n % 10)


def _from_bcd(b: int) -> int:
    hi, lo = b >> 4, b & 0xF
    if hi > 9 or lo > 9:
        raise LayoutError(f"not BCD: 0x{b:02x}")
    return 10 * hi + lo


def absolute_time(t: float | None) -> bytes:
    """AbsoluteTime (p. 36), BCD, of Unix time ``t`` as local wall time; all 0xFF for None."""
    if t is None:
        return ABS_TIME_INVALID
    d = _dt.datetime.fromtimestamp(t)
    return bytes(_bcd(v) for v in (d.year // 100, d.year % 100, d.month, d.day,
                                   d.hour, d.minute, d.second, 0))


def parse_absolute_time(data: bytes, offset: int = 0) -> float | None:
    """Unix time of a BCD AbsoluteTime read as local wall time; None when invalid (0xFF)."""
    _need(data, offset, 8, "AbsoluteTime")
    raw = bytes(data[offset:offset + 8])
    if raw[:7] == b"\xff" * 7:
        return None
    try:
        c, y, mo, d, h, mi, s = (_from_bcd(b) for b in raw[:7])
        return _dt.datetime(100 * c + y, mo, d, h, mi, s).timestamp()
    except (ValueError, OverflowError) as exc:
        raise LayoutError(f"bad AbsoluteTime {raw.hex()}") from exc


_PRIVATE_CHARS = {0xE145: "E", 0xE14C: "L", 0xE400: "l/", 0xE401: "H", 0xE40D: "*",
                  0xE425: "V", 0xFEFF: ""}


def string_value(text: str, size: int | None = None) -> bytes:
    """String (p. 39): u16 octet count, then UTF-16BE, NUL-terminated (padded to ``size`` chars)."""
    chars = text + "\0"
    if size is not None:
        chars = chars.ljust(size, "\0")[:size]
    raw = chars.encode("utf-16-be")
    return U16.pack(len(raw)) + raw


def parse_string(data: bytes, offset: int = 0) -> tuple[str, int]:
    """Text of a String and the offset after it; private-use characters mapped (p. 39)."""
    n = read_u16(data, offset)
    _need(data, offset + 2, n, "String")
    raw = bytes(data[offset + 2:offset + 2 + n])
    if len(raw) % 2:
        raw = raw[:-1]
    text = raw.decode("utf-16-be", errors="replace").split("\0", 1)[0]
    text = "".join(_PRIVATE_CHARS.get(ord(c), c) for c in text)
    return text.strip(), offset + 2 + n


def ava(attribute_id: int, value: bytes) -> bytes:
    """AVAType (p. 38): attribute id, length, value."""
    return U16.pack(attribute_id) + U16.pack(len(value)) + bytes(value)


def attribute_list(attributes: Iterable[Attribute]) -> bytes:
    """AttributeList (p. 39): count, length, then the AVAs."""
    items = [ava(a, v) for a, v in attributes]
    body = b"".join(items)
    return U16.pack(len(items)) + U16.pack(len(body)) + body


def parse_attribute_list(data: bytes, offset: int = 0) -> tuple[list[Attribute], int]:
    """The AVAs of an AttributeList and the offset after it.

    Count, list length and every AVA length must agree (guide p. 285); any
    disagreement raises :class:`LayoutError`.
    """
    count = read_u16(data, offset)
    length = read_u16(data, offset + 2)
    start = offset + 4
    end = start + length
    _need(data, start, length, "AttributeList")
    out: list[Attribute] = []
    pos = start
    for _ in range(count):
        if pos + 4 > end:
            raise LayoutError("AttributeList: count larger than its length allows")
        aid, n = U16.unpack_from(data, pos)[0], U16.unpack_from(data, pos + 2)[0]
        if pos + 4 + n > end:
            raise LayoutError(f"attribute 0x{aid:04x}: length {n} runs past its list")
        out.append((aid, bytes(data[pos + 4:pos + 4 + n])))
        pos += 4 + n
    if pos != end:
        raise LayoutError("AttributeList: length larger than its attributes")
    return out, end


def _counted_list(data: bytes, offset: int, what: str) -> tuple[int, int, int]:
    """count, start, end of a {count, length, value[]} structure."""
    count = read_u16(data, offset)
    length = read_u16(data, offset + 2)
    _need(data, offset + 4, length, what)
    return count, offset + 4, offset + 4 + length


# -- numeric and wave attribute values (pp. 75-88) -----------------------------------------

NU_OBS_VALUE = struct.Struct(">HHHI")      # physio_id, state, unit_code, value


@dataclass(frozen=True)
class NuObsValue:
    """One numeric observed value (p. 76)."""

    physio_id: int
    state: int
    unit_code: int
    value: FloatValue

    @property
    def valid(self) -> bool:
        """The first octet of the state is all 0 (p. 77)."""
        return not self.state & MS_VALIDITY_MASK


def nu_obs_value(physio_id: int, state: int, unit_code: int, value: float,
                 digits: int = 0, raw: int | None = None) -> bytes:
    """NuObsValue bytes; ``raw`` (a FLOAT-Type u32, e.g. :data:`FLOAT_NRES`) overrides ``value``."""
    f = float_type(value, digits) if raw is None else raw
    return NU_OBS_VALUE.pack(physio_id, state, unit_code, f)


def parse_nu_obs_value(data: bytes, offset: int = 0) -> NuObsValue:
    _need(data, offset, NU_OBS_VALUE.size, "NuObsValue")
    physio, state, unit, raw = NU_OBS_VALUE.unpack_from(data, offset)
    return NuObsValue(physio, state, unit, parse_float_type(raw))


def nu_obs_value_cmp(values: Sequence[bytes]) -> bytes:
    """NuObsValueCmp (p. 77): count, length, NuObsValue[] (each from :func:`nu_obs_value`)."""
    body = b"".join(values)
    return U16.pack(len(values)) + U16.pack(len(body)) + body


def parse_nu_obs_value_cmp(data: bytes, offset: int = 0) -> list[NuObsValue]:
    count, start, end = _counted_list(data, offset, "NuObsValueCmp")
    if end - start != count * NU_OBS_VALUE.size:
        raise LayoutError("NuObsValueCmp: count and length disagree")
    return [parse_nu_obs_value(data, start + i * NU_OBS_VALUE.size) for i in range(count)]


@dataclass(frozen=True)
class SaObsValue:
    """One wave's observed samples (p. 87): raw sample bytes, interpreted with its SaSpec."""

    physio_id: int
    state: int
    samples: bytes

    @property
    def valid(self) -> bool:
        return not self.state & MS_VALIDITY_MASK


def sa_obs_value(physio_id: int, state: int, samples: bytes) -> bytes:
    """SaObsValue bytes: physio id, state, {length, sample bytes}."""
    return U16.pack(physio_id) + U16.pack(state) + U16.pack(len(samples)) + bytes(samples)


def sa_samples(values: Iterable[int]) -> bytes:
    """16-bit big-endian samples (sample_size 16, p. 83)."""
    vals = [int(v) & 0xFFFF for v in values]
    return struct.pack(f">{len(vals)}H", *vals)


def parse_sa_obs_value(data: bytes, offset: int = 0) -> tuple[SaObsValue, int]:
    physio, state, n = (read_u16(data, offset + k) for k in (0, 2, 4))
    _need(data, offset + 6, n, "SaObsValue")
    return SaObsValue(physio, state, bytes(data[offset + 6:offset + 6 + n])), offset + 6 + n


def sa_obs_value_cmp(values: Sequence[bytes]) -> bytes:
    """SaObsValueCmp (p. 88): count, length, SaObsValue[]."""
    body = b"".join(values)
    return U16.pack(len(values)) + U16.pack(len(body)) + body


def parse_sa_obs_value_cmp(data: bytes, offset: int = 0) -> list[SaObsValue]:
    count, start, end = _counted_list(data, offset, "SaObsValueCmp")
    out, pos = [], start
    for _ in range(count):
        value, pos = parse_sa_obs_value(data[:end], pos)
        out.append(value)
    if pos != end:
        raise LayoutError("SaObsValueCmp: length larger than its values")
    return out


SA_SPEC = struct.Struct(">HBBH")     # array_size, sample_size, significant_bits, flags


@dataclass(frozen=True)
class SaSpec:
    """Sample Array Specification (p. 83)."""

    array_size: int
    sample_size: int
    significant_bits: int
    flags: int


def sa_spec(array_size: int, sample_size: int = 16, significant_bits: int = 16,
            flags: int = 0) -> bytes:
    return SA_SPEC.pack(array_size, sample_size, significant_bits, flags)


def parse_sa_spec(data: bytes) -> SaSpec:
    _need(data, 0, SA_SPEC.size, "SaSpec")
    return SaSpec(*SA_SPEC.unpack_from(data))


SCALE_RANGE = struct.Struct(">IIHH")


@dataclass(frozen=True)
class ScaleRangeSpec:
    """ScaleRangeSpec16 (p. 86): absolute values (NaN when none) at two scaled values."""

    lower_absolute: float
    upper_absolute: float
    lower_scaled: int
    upper_scaled: int


def scale_range_spec(lower_absolute: float, upper_absolute: float, lower_scaled: int,
                     upper_scaled: int, digits: int = 0) -> bytes:
    return SCALE_RANGE.pack(float_type(lower_absolute, digits), float_type(upper_absolute, digits),
                            lower_scaled, upper_scaled)


def parse_scale_range_spec(data: bytes) -> ScaleRangeSpec:
    _need(data, 0, SCALE_RANGE.size, "ScaleRangeSpec16")
    lo, hi, slo, shi = SCALE_RANGE.unpack_from(data)
    return ScaleRangeSpec(parse_float_type(lo).value, parse_float_type(hi).value, slo, shi)


def sa_fixed_val_spec(entries: Sequence[tuple[int, int]]) -> bytes:
    """SaFixedValSpec16 (p. 83): (SA_FIX_* id, value or mask) pairs."""
    body = b"".join(U16.pack(i) + U16.pack(v) for i, v in entries)
    return U16.pack(len(entries)) + U16.pack(len(body)) + body


def parse_sa_fixed_val_spec(data: bytes) -> list[tuple[int, int]]:
    count, start, end = _counted_list(data, 0, "SaFixedValSpec16")
    if end - start != 4 * count:
        raise LayoutError("SaFixedValSpec16: count and length disagree")
    return [(read_u16(data, start + 4 * i), read_u16(data, start + 4 * i + 2))
            for i in range(count)]


def sample_period(seconds: float) -> bytes:
    """Sample Period attribute value (p. 84): a RelativeTime."""
    return u32(relative_time(seconds))


def label(text_id: int) -> bytes:
    """Label attribute value (p. 78): a 32-bit TextId."""
    return u32(text_id)


# -- alert monitor (pp. 99-102) ------------------------------------------------------------

DEVICE_ALERT_CONDITION = struct.Struct(">HHHHH")
DEV_ALARM_ENTRY = struct.Struct(">HHHHHHHHH")   # source, code, type, state, object(3), info id, len


@dataclass(frozen=True)
class DeviceAlertCondition:
    device_alert_state: int
    al_stat_chg_cnt: int
    max_p_alarm: int
    max_t_alarm: int
    max_aud_alarm: int


def device_alert_condition(state: int = 0, change_count: int = 0, max_p: int = 0,
                           max_t: int = 0, max_aud: int = 0) -> bytes:
    return DEVICE_ALERT_CONDITION.pack(state, change_count, max_p, max_t, max_aud)


def parse_device_alert_condition(data: bytes) -> DeviceAlertCondition:
    _need(data, 0, DEVICE_ALERT_CONDITION.size, "DeviceAlertCondition")
    return DeviceAlertCondition(*DEVICE_ALERT_CONDITION.unpack_from(data))


@dataclass(frozen=True)
class AlarmEntry:
    """One DevAlarmEntry (p. 101) with its StrAlMonInfo / AlMonGenInfo, if any."""

    al_source: int
    al_code: int
    al_type: int
    al_state: int
    obj: ManagedObject
    text: str = ""
    al_inst_no: int = 0
    al_text: int = 0
    priority: int = 0
    flags: int = 0


def dev_alarm_entry(al_source: int, al_code: int, al_type: int, al_state: int = 0,
                    obj: ManagedObject = (NOM_MOC_VMO_METRIC_NU, 0, 0), text: str = "",
                    al_inst_no: int = 0, al_text: int = 0, priority: int = 0,
                    flags: int = 0) -> bytes:
    """A DevAlarmEntry with a StrAlMonInfo (the only kind the monitor sends, p. 101)."""
    info = (U16.pack(al_inst_no) + U32.pack(al_text) + U16.pack(priority) + U16.pack(flags)
            + string_value(text, size=19 if len(text) < 19 else None))
    return DEV_ALARM_ENTRY.pack(al_source, al_code, al_type, al_state, *obj,
                                STR_ALMON_INFO, len(info)) + info


def dev_alarm_list(entries: Sequence[bytes]) -> bytes:
    """DevAlarmList (p. 101): count, length, entries (from :func:`dev_alarm_entry`)."""
    body = b"".join(entries)
    return U16.pack(len(entries)) + U16.pack(len(body)) + body


def parse_dev_alarm_list(data: bytes) -> list[AlarmEntry]:
    count, start, end = _counted_list(data, 0, "DevAlarmList")
    out, pos = [], start
    for _ in range(count):
        entry, pos = _parse_alarm_entry(data[:end], pos)
        out.append(entry)
    if pos != end:
        raise LayoutError("DevAlarmList: length larger than its entries")
    return out


def _parse_alarm_entry(data: bytes, pos: int) -> tuple[AlarmEntry, int]:
    _need(data, pos, DEV_ALARM_ENTRY.size, "DevAlarmEntry")
    src, code, typ, state, c, ctx, h, info_id, n = DEV_ALARM_ENTRY.unpack_from(data, pos)
    start = pos + DEV_ALARM_ENTRY.size
    _need(data, start, n, "DevAlarmEntry info")
    info = data[start:start + n]
    extra: dict[str, int | str] = {}
    if info_id in (GEN_ALMON_INFO, STR_ALMON_INFO) and len(info) >= 10:
        extra = {"al_inst_no": read_u16(info, 0), "al_text": read_u32(info, 2),
                 "priority": read_u16(info, 6), "flags": read_u16(info, 8)}
        if info_id == STR_ALMON_INFO and len(info) >= 12:
            extra["text"] = parse_string(info, 10)[0]
    return AlarmEntry(src, code, typ, state, (c, ctx, h), **extra), start + n


# -- association control (guide chapter 6, pp. 65-73; building blocks pp. 298-304) ---------

ASSOC_SESSION_DATA = bytes.fromhex("05081301001601028000140200 02".replace(" ", ""))
ASSOC_REQ_PRESENTATION = bytes.fromhex(
    "3180a0808001010000a280a003000001a4803080020101060452010001308006025101000000003080"
    "020102060c2a8648ce14020100000001013080060c2a8648ce140201000000020100000000000061"
    "803080020101a0806080a180060c2a8648ce14020100000003010000be802880060c2a8648ce1402"
    "01000000010102010281")
"""AssocReqPresentationHeader after its LI (p. 298); the user data follows."""
ASSOC_RESP_PRESENTATION = bytes.fromhex(
    "3180a0808001010000a280a003000001a58030808001008102510100003080800100810c2a8648ce"
    "14020100000002010000000061803080020101a0806180a180060c2a8648ce140201000000030100"
    "00a203020100a305a103020100be80288002010281")
"""AssocRespPresentationHeader after its LI (p. 299)."""
PRESENTATION_TRAILER = bytes(16)
USER_DATA_MARKERS = (bytes.fromhex("be80288002010281"), bytes.fromhex("be80288081"))
"""Byte sequences that end just before the response's user data (p. 73)."""
REFUSE_MESSAGE = bytes.fromhex("0c03320100")                 # p. 300
RELEASE_REQUEST = bytes.fromhex("0918c11661803080020101a080628080010000000000" "00000000")
RELEASE_RESPONSE = bytes.fromhex("0a18c11661803080020101a080638080010000000000" "00000000")
ABORT_MESSAGE = (bytes.fromhex("192e110103")
                 + bytes.fromhex("c129a080a0803080020101060251010000000061803080020101a080"
                                 "6480800101000000000000")
                 + bytes(4))                                # p. 303


def li(length: int) -> bytes:
    """Session LI (p. 67): one byte up to 254, else 0xFF and a u16."""
    return bytes([length]) if length <= 254 else b"\xff" + U16.pack(length)


def read_li(data: bytes, offset: int) -> tuple[int, int]:
    """(length, offset after the LI)."""
    _need(data, offset, 1, "LI")
    if data[offset] != 0xFF:
        return data[offset], offset + 1
    return read_u16(data, offset + 1), offset + 3


def asn_length(length: int) -> bytes:
    """ASNLength (p. 68): one byte up to 127, else 0x80|n and n bytes."""
    if length <= 127:
        return bytes([length])
    raw = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def read_asn_length(data: bytes, offset: int) -> tuple[int, int]:
    _need(data, offset, 1, "ASNLength")
    first = data[offset]
    if first <= 127:
        return first, offset + 1
    n = first & 0x7F
    _need(data, offset + 1, n, "ASNLength")
    return int.from_bytes(data[offset + 1:offset + 1 + n], "big"), offset + 1 + n


@dataclass(frozen=True)
class PollProfile:
    """PollProfileSupport (p. 69) with the PollProfileExt options (p. 71), if present."""

    revision: int = POLL_PROFILE_REV_0
    min_poll_period: int = relative_time(1.0)
    max_mtu_rx: int = 1000
    max_mtu_tx: int = 1000
    max_bw_tx: int = 0xFFFFFFFF
    options: int = P_OPT_DYN_CREATE_OBJECTS | P_OPT_DYN_DELETE_OBJECTS
    ext_options: int | None = POLL_EXT_PERIOD_NU_1SEC | POLL_EXT_PERIOD_RTSA

    @property
    def min_poll_period_s(self) -> float:
        return self.min_poll_period / TICKS_PER_S


@dataclass(frozen=True)
class UserInfo:
    """MDSEUserInfoStd (p. 68) of an association request or response."""

    protocol_version: int = MDDL_VERSION1
    nomenclature_version: int = NOMEN_VERSION
    functional_units: int = 0
    system_type: int = SYST_CLIENT
    startup_mode: int = COLD_START
    options: list[Attribute] = field(default_factory=list)
    profile: PollProfile | None = field(default_factory=PollProfile)


def poll_profile_value(p: PollProfile) -> bytes:
    """PollProfileSupport bytes, its optional packages holding the PollProfileExt."""
    packages: list[Attribute] = []
    if p.ext_options is not None:
        packages.append((NOM_ATTR_POLL_PROFILE_EXT, u32(p.ext_options) + attribute_list([])))
    return (struct.pack(">IIIII I".replace(" ", ""), p.revision, p.min_poll_period,
                        p.max_mtu_rx, p.max_mtu_tx, p.max_bw_tx, p.options)
            + attribute_list(packages))


def user_info(info: UserInfo) -> bytes:
    """MDSEUserInfoStd bytes."""
    profiles: list[Attribute] = []
    if info.profile is not None:
        profiles.append((NOM_POLL_PROFILE_SUPPORT, poll_profile_value(info.profile)))
    return (struct.pack(">IIIII", info.protocol_version, info.nomenclature_version,
                        info.functional_units, info.system_type, info.startup_mode)
            + attribute_list(info.options) + attribute_list(profiles))


def parse_user_info(data: bytes, offset: int = 0) -> UserInfo:
    """Parse MDSEUserInfoStd; a poll profile that is absent or unreadable gives ``profile=None``."""
    _need(data, offset, 20, "MDSEUserInfoStd")
    head = struct.unpack_from(">IIIII", data, offset)
    options, pos = parse_attribute_list(data, offset + 20)
    profiles, _ = parse_attribute_list(data, pos)
    profile = None
    for aid, value in profiles:
        if aid == NOM_POLL_PROFILE_SUPPORT:
            profile = _parse_poll_profile(value)
    return UserInfo(*head, options=options, profile=profile)


def _parse_poll_profile(value: bytes) -> PollProfile:
    _need(value, 0, 24, "PollProfileSupport")
    rev, period, rx, tx, bw, opts = struct.unpack_from(">IIIIII", value)
    packages, _ = parse_attribute_list(value, 24)
    ext = None
    for aid, v in packages:
        if aid == NOM_ATTR_POLL_PROFILE_EXT and len(v) >= 4:
            ext = read_u32(v, 0)
    return PollProfile(rev, period, rx, tx, bw, opts, ext)


def _assoc_message(spdu: int, presentation: bytes, info: UserInfo) -> bytes:
    ud = user_info(info)
    tail = presentation + asn_length(len(ud)) + ud + PRESENTATION_TRAILER
    pres = b"\xc1" + li(len(tail)) + tail
    body = ASSOC_SESSION_DATA + pres
    return bytes([spdu]) + li(len(body)) + body


def build_association_request(info: UserInfo | None = None) -> bytes:
    """Association Request (p. 67, building blocks p. 298) with ``info`` as user data.

    The default asks for protocol version 1, a 1 s minimum poll period, 1000-byte
    MTUs, and the Poll Profile Extensions package with real-time numerics and
    waves (POLL_EXT_PERIOD_NU_1SEC | POLL_EXT_PERIOD_RTSA).
    """
    return _assoc_message(CN_SPDU_SI, ASSOC_REQ_PRESENTATION, info or UserInfo())


def build_association_response(info: UserInfo | None = None) -> bytes:
    """Association Response (accept, p. 73, building blocks p. 299): the monitor's side."""
    info = info or UserInfo(system_type=SYST_SERVER)
    return _assoc_message(AC_SPDU_SI, ASSOC_RESP_PRESENTATION, info)


def build_refuse() -> bytes:
    """Refuse (p. 73, p. 300)."""
    return REFUSE_MESSAGE


def build_release_request() -> bytes:
    """Release Request (p. 72, p. 301)."""
    return RELEASE_REQUEST


def build_release_response() -> bytes:
    """Release Response (p. 73, p. 302)."""
    return RELEASE_RESPONSE


def build_abort() -> bytes:
    """Association Abort (p. 72, p. 303)."""
    return ABORT_MESSAGE


ASSOC_KINDS = {CN_SPDU_SI: "request", AC_SPDU_SI: "accept", RF_SPDU_SI: "refuse",
               FN_SPDU_SI: "release_request", DN_SPDU_SI: "release_response",
               AB_SPDU_SI: "abort"}


@dataclass(frozen=True)
class AssociationMessage:
    """An association control message: its kind and, for request/accept, the user data."""

    kind: str                       # one of ASSOC_KINDS' values
    info: UserInfo | None = None
    refuse_reason: int | None = None


def parse_association(message: bytes) -> AssociationMessage:
    """Parse an association control message (the first byte is its session header, p. 72).

    The session LI must equal the rest of the message; a release or abort must
    carry the presentation header of its building blocks (pp. 301-303) with a
    matching LI, a refuse its reason parameter (p. 300); a request or accept
    must carry user data after the marker sequence (p. 73) that parses as
    MDSEUserInfoStd. Otherwise :class:`LayoutError` (so stray bytes on a
    stream are not taken for a release or an abort).
    """
    if not message:
        raise LayoutError("empty message")
    kind = ASSOC_KINDS.get(message[0])
    if kind is None:
        raise LayoutError(f"not an association control message: 0x{message[0]:02x}")
    length, pos = read_li(message, 1)
    if pos + length != len(message):
        raise LayoutError("session LI does not match the message length")
    if kind == "refuse":
        if length < 3 or message[pos] != 0x32 or message[pos + 1] < 1:
            raise LayoutError("refuse without its reason parameter (p. 300)")
        return AssociationMessage(kind, refuse_reason=message[pos + 2])
    if kind == "abort":
        _need(message, pos, 2, "abort session data")
        if message[pos] != 0x11:
            raise LayoutError("abort without its session data (p. 303)")
        pos += 2 + message[pos + 1]
    if kind in ("release_request", "release_response", "abort"):
        _check_presentation(message, pos)
        return AssociationMessage(kind)
    return AssociationMessage(kind, info=_find_user_info(message, pos))


def _check_presentation(message: bytes, pos: int) -> None:
    """A presentation header 0xC1 whose LI covers exactly the rest of the message."""
    _need(message, pos, 2, "presentation header")
    if message[pos] != 0xC1:
        raise LayoutError("no presentation header")
    n, start = read_li(message, pos + 1)
    if start + n != len(message):
        raise LayoutError("presentation LI does not match the message length")


def _find_user_info(message: bytes, pos: int) -> UserInfo:
    for marker in (bytes.fromhex("060c2a8648ce140201000000010102010281"), *USER_DATA_MARKERS):
        at = message.find(marker, pos)
        if at >= 0:
            start = at + len(marker)
            n, start = read_asn_length(message, start)
            _need(message, start, n, "user data")
            return parse_user_info(message[:start + n], start)
    raise LayoutError("no user data in the association message")


# -- data export messages (chapter 5, pp. 41-64) --------------------------------------------

SPPDU = struct.Struct(">HH")
ROAPDUS = struct.Struct(">HH")
ROIV = struct.Struct(">HHH")         # invoke_id, command_type, length
RORS = struct.Struct(">HHH")
ROLRS = struct.Struct(">BBHHH")      # linked state, count, invoke_id, command_type, length
ROER = struct.Struct(">HHH")         # invoke_id, error_value, length
EVENT_REPORT_ARG = struct.Struct(">HHHIHH")    # managed object, event_time, event_type, length
EVENT_REPORT_RESULT = EVENT_REPORT_ARG
ACTION_ARG = struct.Struct(">HHHIHH")          # managed object, scope, action_type, length
ACTION_RESULT = struct.Struct(">HHHHH")        # managed object, action_type, length


def _data_message(ro_type: int, ro: bytes, context_id: int) -> bytes:
    return SPPDU.pack(SESSION_ID, context_id) + ROAPDUS.pack(ro_type, len(ro)) + ro


def _roiv(invoke_id: int, command: int, body: bytes, context_id: int) -> bytes:
    return _data_message(ROIV_APDU, ROIV.pack(invoke_id, command, len(body)) + body, context_id)


def _rors(invoke_id: int, command: int, body: bytes, context_id: int,
          linked: tuple[int, int] | None = None) -> bytes:
    if linked is None:
        return _data_message(RORS_APDU, RORS.pack(invoke_id, command, len(body)) + body,
                             context_id)
    state, count = linked
    return _data_message(ROLRS_APDU, ROLRS.pack(state, count, invoke_id, command, len(body))
                         + body, context_id)


def build_mds_create_event(invoke_id: int, rel_time: int, attributes: Iterable[Attribute],
                           mds: ManagedObject = MDS_OBJECT,
                           context_id: int = DEFAULT_CONTEXT_ID) -> bytes:
    """MDS Create Event Report (p. 54): the monitor announces itself after the accept.

    Put NOM_ATTR_TIME_ABS (:func:`absolute_time`) and NOM_ATTR_TIME_REL
    (``u32(rel_time)``) in ``attributes`` so the host can map relative to absolute time.
    """
    info = managed_object(mds) + attribute_list(attributes)
    arg = EVENT_REPORT_ARG.pack(*mds, rel_time, NOM_NOTI_MDS_CREAT, len(info)) + info
    return _roiv(invoke_id, CMD_CONFIRMED_EVENT_REPORT, arg, context_id)


def build_mds_create_result(invoke_id: int, mds: ManagedObject = MDS_OBJECT,
                            current_time: int = 0,
                            context_id: int = DEFAULT_CONTEXT_ID) -> bytes:
    """MDS Create Event Result (p. 55): the host's confirmation, invoke id mirrored."""
    res = EVENT_REPORT_RESULT.pack(*mds, current_time, NOM_NOTI_MDS_CREAT, 0)
    return _rors(invoke_id, CMD_CONFIRMED_EVENT_REPORT, res, context_id)


def build_poll_request(invoke_id: int, poll_number: int, obj_class: int,
                       attr_group: int = NOM_ATTR_GRP_ALL, period_s: float | None = None,
                       extended: bool = True, mds: ManagedObject = MDS_OBJECT,
                       context_id: int = DEFAULT_CONTEXT_ID,
                       extra: Sequence[Attribute] = ()) -> bytes:
    """Extended (p. 59) or single (p. 55) Poll Data Request for ``obj_class`` objects.

    ``period_s`` adds NOM_ATTR_TIME_PD_POLL (periodic results for that long, p. 60);
    only with ``extended``.
    """
    req = U16.pack(poll_number) + type_value(NOM_PART_OBJ, obj_class) + U16.pack(attr_group)
    action = NOM_ACT_POLL_MDIB_DATA
    if extended:
        attrs = list(extra)
        if period_s is not None:
            attrs.insert(0, (NOM_ATTR_TIME_PD_POLL, u32(relative_time(period_s))))
        req += attribute_list(attrs)
        action = NOM_ACT_POLL_MDIB_DATA_EXT
    arg = ACTION_ARG.pack(*mds, 0, action, len(req)) + req
    return _roiv(invoke_id, CMD_CONFIRMED_ACTION, arg, context_id)


ObservationSpec = tuple[int, Sequence[Attribute]]
"""(object handle, attributes) of one object in a poll result."""
ContextSpec = tuple[int, Sequence[ObservationSpec]]
"""(context id, observations) of one SingleContextPoll."""


def poll_info_list(contexts: Sequence[ContextSpec]) -> bytes:
    """PollInfoList (p. 57) from ``[(context_id, [(handle, [attributes...])...])...]``."""
    singles = []
    for context_id, observations in contexts:
        obs = [U16.pack(handle) + attribute_list(attrs) for handle, attrs in observations]
        body = b"".join(obs)
        singles.append(U16.pack(context_id) + U16.pack(len(obs)) + U16.pack(len(body)) + body)
    body = b"".join(singles)
    return U16.pack(len(singles)) + U16.pack(len(body)) + body


def build_poll_result(invoke_id: int, poll_number: int, obj_class: int, rel_time: int,
                      abs_time: bytes = ABS_TIME_INVALID,
                      contexts: Sequence[ContextSpec] = (),
                      attr_group: int = NOM_ATTR_GRP_ALL, sequence_no: int = 0,
                      extended: bool = True, linked: tuple[int, int] | None = None,
                      mds: ManagedObject = MDS_OBJECT,
                      context_id: int = DEFAULT_CONTEXT_ID) -> bytes:
    """Extended (p. 62) or single (p. 56) Poll Data Result: the monitor's answer.

    ``abs_time`` is 8 AbsoluteTime bytes (the monitor sends all 0xFF, p. 62);
    ``linked=(state, count)`` makes it a Remote Operation Linked Result part
    (state RORLS_FIRST / RORLS_NOT_FIRST_NOT_LAST / RORLS_LAST, p. 44); the
    last part of a linked sequence is a plain result (``linked=None``).
    """
    if len(abs_time) != 8:
        raise ValueError("abs_time must be 8 AbsoluteTime bytes")
    head = U16.pack(poll_number) + (U16.pack(sequence_no) if extended else b"")
    reply = (head + u32(rel_time) + bytes(abs_time) + type_value(NOM_PART_OBJ, obj_class)
             + U16.pack(attr_group) + poll_info_list(contexts))
    action = NOM_ACT_POLL_MDIB_DATA_EXT if extended else NOM_ACT_POLL_MDIB_DATA
    res = ACTION_RESULT.pack(*mds, action, len(reply)) + reply
    return _rors(invoke_id, CMD_CONFIRMED_ACTION, res, context_id, linked)


def build_error(invoke_id: int, error_value: int, body: bytes = b"",
                context_id: int = DEFAULT_CONTEXT_ID) -> bytes:
    """Remote Operation Error (p. 45)."""
    return _data_message(ROER_APDU, ROER.pack(invoke_id, error_value, len(body)) + body,
                         context_id)


@dataclass(frozen=True)
class DataMessage:
    """A data export message (p. 41) split into its remote-operation header and body."""

    context_id: int
    ro_type: int
    invoke_id: int
    command_type: int               # error_value for ROER_APDU
    body: bytes                     # the command data after the RO header
    linked: tuple[int, int] | None = None     # (state, count) for ROLRS_APDU


def parse_data_message(message: bytes) -> DataMessage:
    """Split a data export message; every length must match the message (else LayoutError)."""
    _need(message, 0, SPPDU.size + ROAPDUS.size, "SPpdu+ROapdus")
    session, context = SPPDU.unpack_from(message)
    if session != SESSION_ID:
        raise LayoutError(f"session id 0x{session:04x}, not 0xE100")
    ro_type, length = ROAPDUS.unpack_from(message, 4)
    if 8 + length != len(message):
        raise LayoutError("ROapdus length does not match the message")
    ro = message[8:]
    linked = None
    if ro_type in (ROIV_APDU, RORS_APDU, ROER_APDU):
        _need(ro, 0, 6, "RO header")
        invoke, cmd, n = ROIV.unpack_from(ro)
        start = 6
    elif ro_type == ROLRS_APDU:
        _need(ro, 0, 8, "ROLRS header")
        state, count, invoke, cmd, n = ROLRS.unpack_from(ro)
        linked, start = (state, count), 8
    else:
        raise LayoutError(f"unknown ro_type {ro_type}")
    if start + n != len(ro):
        raise LayoutError("RO length does not match the message")
    return DataMessage(context, ro_type, invoke, cmd, bytes(ro[start:]), linked)


@dataclass(frozen=True)
class EventReport:
    """EventReportArgument (p. 48) and its event data."""

    managed_object: ManagedObject
    event_time: int
    event_type: int
    data: bytes


def parse_event_report(body: bytes) -> EventReport:
    _need(body, 0, EVENT_REPORT_ARG.size, "EventReportArgument")
    c, ctx, h, time, etype, n = EVENT_REPORT_ARG.unpack_from(body)
    if EVENT_REPORT_ARG.size + n != len(body):
        raise LayoutError("EventReportArgument length does not match")
    return EventReport((c, ctx, h), time, etype, bytes(body[EVENT_REPORT_ARG.size:]))


def parse_event_report_result(body: bytes) -> EventReport:
    """EventReportResult (p. 48): same layout as the argument (current_time for event_time)."""
    return parse_event_report(body)


def parse_mds_create_info(data: bytes) -> tuple[ManagedObject, list[Attribute]]:
    """MdsCreateInfo (p. 54): the MDS object and its attributes."""
    obj = read_managed_object(data, 0)
    attrs, end = parse_attribute_list(data, MANAGED_OBJECT.size)
    if end != len(data):
        raise LayoutError("MdsCreateInfo: trailing bytes")
    return obj, attrs


@dataclass(frozen=True)
class ActionRequest:
    """ActionArgument (p. 49) with a poll request (pp. 55, 59): the monitor's view of a poll."""

    managed_object: ManagedObject
    action_type: int
    poll_number: int
    obj_partition: int
    obj_class: int
    attr_group: int
    attributes: list[Attribute]

    @property
    def extended(self) -> bool:
        return self.action_type == NOM_ACT_POLL_MDIB_DATA_EXT

    @property
    def period_s(self) -> float | None:
        """NOM_ATTR_TIME_PD_POLL in seconds, if requested."""
        for aid, v in self.attributes:
            if aid == NOM_ATTR_TIME_PD_POLL and len(v) == 4:
                return read_u32(v, 0) / TICKS_PER_S
        return None


def parse_poll_request(body: bytes) -> ActionRequest:
    """The ActionArgument + PollMdibDataReq(Ext) of a CMD_CONFIRMED_ACTION invoke."""
    _need(body, 0, ACTION_ARG.size, "ActionArgument")
    c, ctx, h, _scope, action, n = ACTION_ARG.unpack_from(body)
    data = body[ACTION_ARG.size:]
    if n != len(data):
        raise LayoutError("ActionArgument length does not match")
    if action not in (NOM_ACT_POLL_MDIB_DATA, NOM_ACT_POLL_MDIB_DATA_EXT):
        raise LayoutError(f"unknown action 0x{action:04x}")
    _need(data, 0, 8, "PollMdibDataReq")
    number, part, code, group = struct.unpack_from(">HHHH", data)
    attrs: list[Attribute] = []
    if action == NOM_ACT_POLL_MDIB_DATA_EXT:
        attrs, end = parse_attribute_list(data, 8)
        if end != len(data):
            raise LayoutError("PollMdibDataReqExt: trailing bytes")
    elif len(data) != 8:
        raise LayoutError("PollMdibDataReq: trailing bytes")
    return ActionRequest((c, ctx, h), action, number, part, code, group, attrs)


@dataclass(frozen=True)
class Observation:
    """ObservationPoll (p. 58): one object's handle and attributes."""

    context_id: int
    handle: int
    attributes: list[Attribute]


@dataclass(frozen=True)
class PollReply:
    """ActionResult (p. 49) + PollMdibDataReply(Ext) (pp. 56, 62)."""

    managed_object: ManagedObject
    action_type: int
    poll_number: int
    sequence_no: int
    rel_time: int
    abs_time: bytes
    obj_partition: int
    obj_class: int
    attr_group: int
    observations: list[Observation]

    @property
    def abs_time_unix(self) -> float | None:
        try:
            return parse_absolute_time(self.abs_time)
        except LayoutError:
            return None


def parse_poll_reply(body: bytes) -> PollReply:
    """Parse the command data of a poll result (RORS or ROLRS, CMD_CONFIRMED_ACTION)."""
    _need(body, 0, ACTION_RESULT.size, "ActionResult")
    c, ctx, h, action, n = ACTION_RESULT.unpack_from(body)
    data = body[ACTION_RESULT.size:]
    if n != len(data):
        raise LayoutError("ActionResult length does not match")
    if action == NOM_ACT_POLL_MDIB_DATA_EXT:
        _need(data, 0, 4, "PollMdibDataReplyExt")
        number, seq = struct.unpack_from(">HH", data)
        pos = 4
    elif action == NOM_ACT_POLL_MDIB_DATA:
        number, seq, pos = read_u16(data, 0), 0, 2
    else:
        raise LayoutError(f"unknown action 0x{action:04x}")
    rel = read_u32(data, pos)
    _need(data, pos + 4, 14, "PollMdibDataReply")
    abs_time = bytes(data[pos + 4:pos + 12])
    part, code, group = struct.unpack_from(">HHH", data, pos + 12)
    observations, end = _parse_poll_info_list(data, pos + 18)
    if end != len(data):
        raise LayoutError("PollInfoList: trailing bytes")
    return PollReply((c, ctx, h), action, number, seq, rel, abs_time, part, code, group,
                     observations)


def _parse_poll_info_list(data: bytes, offset: int) -> tuple[list[Observation], int]:
    count, start, end = _counted_list(data, offset, "PollInfoList")
    block = data[:end]
    out: list[Observation] = []
    pos = start
    for _ in range(count):
        context_id = read_u16(block, pos)
        n_obs, obs_start, obs_end = _counted_list(block, pos + 2, "SingleContextPoll")
        p = obs_start
        for _ in range(n_obs):
            handle = read_u16(block[:obs_end], p)
            attrs, p = parse_attribute_list(block[:obs_end], p + 2)
            out.append(Observation(context_id, handle, attrs))
        if p != obs_end:
            raise LayoutError("SingleContextPoll: length larger than its observations")
        pos = obs_end
    if pos != end:
        raise LayoutError("PollInfoList: length larger than its contexts")
    return out, end


MODIFY_REPLACE = 0
MODIFY_SET_TO_DEFAULT = 3
SET_ARG = struct.Struct(">HHHI")          # managed object, scope


def text_id_list(text_ids: Sequence[int]) -> bytes:
    """TextIdList (p. 64): count, length, TextId[] (labels of the objects wanted)."""
    body = b"".join(u32(i) for i in text_ids)
    return U16.pack(len(text_ids)) + U16.pack(len(body)) + body


def parse_text_id_list(data: bytes) -> list[int]:
    count, start, end = _counted_list(data, 0, "TextIdList")
    if end - start != 4 * count:
        raise LayoutError("TextIdList: count and length disagree")
    return [read_u32(data, start + 4 * i) for i in range(count)]


def build_set_priority_list(invoke_id: int, attribute_id: int, text_ids: Sequence[int],
                            mds: ManagedObject = MDS_OBJECT,
                            context_id: int = DEFAULT_CONTEXT_ID) -> bytes:
    """Set Priority List Request (p. 64): REPLACE ``attribute_id``
    (NOM_ATTR_POLL_RTSA_PRIO_LIST or NOM_ATTR_POLL_NU_PRIO_LIST) with these labels."""
    entry = U16.pack(MODIFY_REPLACE) + ava(attribute_id, text_id_list(text_ids))
    arg = SET_ARG.pack(*mds, 0) + U16.pack(1) + U16.pack(len(entry)) + entry
    return _roiv(invoke_id, CMD_CONFIRMED_SET, arg, context_id)


def parse_set_argument(body: bytes) -> tuple[ManagedObject, list[tuple[int, int, bytes]]]:
    """SetArgument (p. 50): the object and its (modify operator, attribute id, value) entries."""
    _need(body, 0, SET_ARG.size, "SetArgument")
    c, ctx, h, _scope = SET_ARG.unpack_from(body)
    count, start, end = _counted_list(body, SET_ARG.size, "ModificationList")
    out, pos = [], start
    for _ in range(count):
        op = read_u16(body[:end], pos)
        aid, n = read_u16(body[:end], pos + 2), read_u16(body[:end], pos + 4)
        _need(body[:end], pos + 6, n, "AttributeModEntry")
        out.append((op, aid, bytes(body[pos + 6:pos + 6 + n])))
        pos += 6 + n
    if pos != end or end != len(body):
        raise LayoutError("ModificationList: lengths disagree")
    return (c, ctx, h), out


def build_set_result(invoke_id: int, attributes: Iterable[Attribute],
                     mds: ManagedObject = MDS_OBJECT,
                     context_id: int = DEFAULT_CONTEXT_ID) -> bytes:
    """Set Priority List Result (p. 64): the modified attributes."""
    return _rors(invoke_id, CMD_CONFIRMED_SET, managed_object(mds) + attribute_list(attributes),
                 context_id)

# -- connect indication (LAN only, p. 53, attributes pp. 107-109) ---------------------------

NOMENCLATURE_VERSION = (1, 0)


def ip_address_info(mac: bytes, ip: str, subnet: str = "255.255.255.0") -> bytes:
    """IpAddressInfo (p. 110): MAC (6 bytes), IP, subnet mask."""
    def quad(s: str) -> bytes:
        return bytes(int(p) for p in s.split("."))
    if len(mac) != 6:
        raise ValueError("mac must be 6 bytes")
    return bytes(mac) + quad(ip) + quad(subnet)


def protocol_support(entries: Sequence[tuple[int, int, int, int]]) -> bytes:
    """ProtoSupport (p. 108): (appl_proto, trans_proto, port, options) entries."""
    body = b"".join(struct.pack(">HHHH", *e) for e in entries)
    return U16.pack(len(entries)) + U16.pack(len(body)) + body


def build_connect_indication(attributes: Iterable[Attribute], rel_time: int = 0,
                             version: tuple[int, int] = NOMENCLATURE_VERSION) -> bytes:
    """Connect Indication (p. 53): Nomenclature, ROIV event report NOM_NOTI_CONN_INDIC."""
    info = attribute_list(attributes)
    arg = EVENT_REPORT_ARG.pack(NOM_MOC_VMS_MDS_COMPOS_SINGLE_BED, 0, 0, rel_time,
                                NOM_NOTI_CONN_INDIC, len(info)) + info
    ro = ROIV.pack(0, CMD_EVENT_REPORT, len(arg)) + arg
    return bytes([0, 0, *version]) + ROAPDUS.pack(ROIV_APDU, len(ro)) + ro


def default_connect_attributes(ip: str, mac: bytes = b"\x00\x09\xfb\x00\x00\x01",
                               port: int = DATA_EXPORT_PORT) -> list[Attribute]:
    """IP address and protocol support attributes announcing the data export port."""
    return [(NOM_ATTR_NET_ADDR_INFO, ip_address_info(mac, ip)),
            (NOM_ATTR_PCOL_SUPPORT, protocol_support([(AP_ID_ACSE, TP_ID_UDP, port, 0),
                                                      (AP_ID_DATA_OUT, TP_ID_UDP, port, 0)]))]


@dataclass(frozen=True)
class ConnectIndication:
    """What a Connect Indication announces."""

    ip: str | None
    mac: str | None
    data_port: int | None
    attributes: list[Attribute]


def parse_connect_indication(message: bytes) -> ConnectIndication:
    """Parse a Connect Indication datagram (all length fields checked, p. 280)."""
    _need(message, 0, 8, "Connect Indication")
    if message[:2] != b"\x00\x00":
        raise LayoutError("not a Connect Indication (nomenclature)")
    ro_type, length = ROAPDUS.unpack_from(message, 4)
    if ro_type != ROIV_APDU or 8 + length != len(message):
        raise LayoutError("Connect Indication: bad ROapdus")
    _need(message, 8, 6, "ROIVapdu")
    _invoke, cmd, n = ROIV.unpack_from(message, 8)
    if cmd != CMD_EVENT_REPORT or 14 + n != len(message):
        raise LayoutError("Connect Indication: bad ROIVapdu")
    event = parse_event_report(message[14:])
    if event.event_type != NOM_NOTI_CONN_INDIC:
        raise LayoutError("Connect Indication: wrong event type")
    attrs, _ = parse_attribute_list(event.data, 0)
    ip = mac = None
    port = None
    for aid, v in attrs:
        if aid == NOM_ATTR_NET_ADDR_INFO and len(v) >= 10:
            mac = ":".join(f"{b:02x}" for b in v[:6])
            ip = ".".join(str(b) for b in v[6:10])
        elif aid == NOM_ATTR_PCOL_SUPPORT:
            count, start, end = _counted_list(v, 0, "ProtoSupport")
            for i in range(min(count, (end - start) // 8)):
                appl, _tp, p, _opt = struct.unpack_from(">HHHH", v, start + 8 * i)
                if appl == AP_ID_DATA_OUT:
                    port = p
    return ConnectIndication(ip, mac, port, attrs)


# -- messages in a byte stream (the LAN codec's replay of concatenated datagrams) ------------

def message_kind(message: bytes) -> str:
    """"data", "connect_indication", or an association kind (:data:`ASSOC_KINDS`); "" unknown."""
    if not message:
        return ""
    if message[0] == 0xE1:
        return "data"
    if message[:2] == b"\x00\x00":
        return "connect_indication"
    return ASSOC_KINDS.get(message[0], "")


def message_length(buf: bytes, offset: int = 0) -> int | None:
    """Total length of the message starting at ``offset`` from its own length fields.

    ``None`` when more bytes are needed to tell; ``-1`` when no message can start
    there (the caller skips a byte and counts it as garbage).
    """
    avail = len(buf) - offset
    if avail < 1:
        return None
    first = buf[offset]
    if first == 0xE1 or first == 0x00:
        if avail < 2:
            return None
        if (first == 0xE1 and buf[offset + 1] != 0x00) or (first == 0 and buf[offset + 1]):
            return -1
        if avail < 8:
            return None
        total = 8 + U16.unpack_from(buf, offset + 6)[0]
    elif first in ASSOC_KINDS:
        if avail < 2:
            return None
        if buf[offset + 1] == 0xFF:
            if avail < 4:
                return None
            total = 4 + U16.unpack_from(buf, offset + 2)[0]
        else:
            total = 2 + buf[offset + 1]
    else:
        return -1
    return total if total <= MAX_MESSAGE else -1


# -- the guide's tables ----------------------------------------------------------------------

def _table(text: str, base: int = 16) -> dict[int, str]:
    out: dict[int, str] = {}
    for token in text.split():
        key, _, name = token.partition("=")
        out.setdefault(int(key, base), name.replace("_", " "))
    return out


PHYSIO_LABELS: dict[int, str] = _table("""
0100=ECG 0101=I 0102=II 0103=V1 0104=V2 0105=V3 0106=V4 0107=V5 0108=V6 013D=III 013E=aVR
013F=aVL 0140=aVF 0143=V 014B=MCL 014C=MCL1 0301=ST 0302=ST 0303=ST 0304=ST 0305=ST 0306=ST
0307=ST 0308=ST 033D=ST 033E=ST 033F=ST 0340=ST 0343=ST 034B=ST 0364=ST 0365=ST 0366=ST 3F20=QT
3F24=QTc 4182=HR 418A=btbHR 4261=PVC 480A=Pulse 4822=Pulse 4900=SVRI 4904=LVSWI 4908=RVSWI
490C=C.I. 4A00=IUP 4A01=P_sys 4A02=P_dia 4A03=P_mean 4A05=NBP_sys 4A06=NBP_dia 4A07=NBP_mean
4A0C=Ao 4A0D=Ao_sys 4A0E=Ao_dia 4A0F=Ao_mean 4A10=ART 4A11=ART_sys 4A12=ART_dia 4A13=ART_mean
4A14=ABP 4A15=ABP_sys 4A16=ABP_dia 4A17=ABP_mean 4A1C=PAP 4A1D=PAP_sys 4A1E=PAP_dia
4A1F=PAP_mean 4A24=PAWP 4A28=UAP 4A29=UAP_sys 4A2A=UAP_dia 4A2B=UAP_mean 4A30=LAP 4A31=LAP_sys
4A32=LAP_dia 4A33=LAP_mean 4A34=RAP 4A35=RAP_sys 4A36=RAP_dia 4A37=RAP_mean 4A44=CVP
4A45=CVP_sys 4A46=CVP_dia 4A47=CVP_mean 4A48=UVP 4A49=UVP_sys 4A4A=UVP_dia 4A4B=UVP_mean
4B00=VO2 4B04=C.O. 4B24=PVR 4B28=SVR_sys 4B2C=SO2 4B34=SaO2 4B3C=SvO2 4B40=AaDO2 4B48=Temp
4B50=Tart 4B54=Tairwy 4B60=Tcore 4B64=Tesoph 4B68=Tinj 4B6C=Tnaso 4B74=Tskin 4B78=Ttymp
4B7C=Tven 4B84=SV 4B90=LCW 4B94=RCW 4B9C=LVSW 4BA4=RVSW 4BB0=Perf 4BB4=Pleth 4BB8=SpO2
4BC4=DeltaSpO2 4BC8=SpO2_l 4BCC=SpO2_r 4BDC=CCO 4C04=ESV_sys 4C25=dPmax 5000=Resp 500A=RR
5012=awRR 5080=VC 5088=COMP 508C=Cdyn 5090=Cstat 50AC=CO2 50B0=CO2 50BA=CO2 50CC=tcpCO2
50D0=tcpO2 50D4=AWF 50D9=PEF 50DD=PIF 50E0=VCO2 50E4=T.I. 50E8=Pplat 50F0=AWP 50F2=AWPmin
50F4=CPAP 50F9=NgInsP 5100=iPEEP 5108=AWPin 5109=PIP 510B=MnAwP_mean 5118=I:E_1: 511C=Vd/Vt
5120=Raw 5124=Rexp 5128=Rinsp 5130=ApneaD 513C=sTV 5148=sMV 514C=MINVOL 5150=MINVOL 5160=FICO2
5164=fgO2 5168=DeltaO2 517C=PECO2 518C=AWFin 5190=VQI 519C=Poccl 51A8=PEEP 51B0=Vd 51B4=relVd
51B8=TrpVol 51CC=MMV 51D4=DCO2 51D8=fgDES 51DC=fgENF 51E0=fgHAL 51E4=fgSEV 51E8=fgISO 51F0=fgN2O
5214=DES 5218=ENF 521C=HAL 5220=SEV 5224=ISO 522C=N2O 5268=DES 526C=ENF 5270=HAL 5274=SEV
5278=ISO 5280=N2O 5284=O2 5360=DPosP 5368=PEinsp 5370=Leak 5374=ALVENT 5378=O2 537C=N2 5380=N2
5384=N2 5388=fgAGT 538C=AGT 5390=inAGT 5804=CPP 5808=ICP 5809=ICP_sys 580A=ICP_dia 580B=ICP_mean
5880=GCS 5882=EyeRsp 5883=MotRsp 5884=VblRsp 5900=HC 5924=PRL 5928=PRR 592C=EEG 593C=EMG
597C=MDF_mean 5984=PPF 5988=SEF 59B8=TP 59D4=Prcnt1 59D8=Prcnt1 59DC=Prcnt1 59E0=Prcnt1
680C=UrFl 6824=UrVol 6830=BagVol 6858=sDRate 68FC=AccVol 7004=pHa 7008=PaCO2 700C=PaO2 7014=Hb
7018=CaO2 7034=pHv 7038=PvCO2 703C=PvO2 7048=CvO2 7064=UrpH 706C=UrNa 70D8=SerNa 7104=pH
7108=HCO3 710C=Na 7110=K 7114=Glu 7118=iCa 7140=PCO2 7168=Cl 716C=BE 7174=PO2 717C=Met-Hb
7180=CO-Hb 7184=Hct 7498=FIO2 D02A=IMV E004=Trect E014=Tblood E018=DeltaTemp EFFF=CompCt
F03D=STindx F03E=SitTim F03F=SitTim F040=ITBV F041=ITBVI F042=EVLW F043=EVLWI F044=GEDV_dia
F045=GEDVI F046=CFI F047=CCI F048=SI F049=SVV F04A=SR F04D=SQI F04E=BIS F051=tcGas F05E=MAC
F05F=MAC F067=PVRI F068=LCWI F069=RCWI F06A=VO2I F06B=PB F06C=Sp-vO2 F06D=DO2 F06E=DO2I
F06F=O2ER F070=Qs/Qt F071=BSA F072=LI F076=SitTim F079=InjVol F07A=ETVI F07C=CathCt F08A=Perf_l
F08B=Perf_r F08C=PLETHr F08D=PLETHl F08F=BUN F090=BEecf F091=SpMV F092=Ca-vO2 F093=Weight
F094=Height F099=MAC F09B=PlethT F09C=%SpO2T F09D=PulseT F0A4=P1 F0A5=P1_sys F0A6=P1_dia
F0A7=P1_mean F0A8=P2 F0A9=P2_sys F0AA=P2_dia F0AB=P2_mean F0AC=P3 F0AD=P3_sys F0AF=P3_mean
F0B0=P4 F0B1=P4_sys F0B2=P4_dia F0B3=P4_mean F0B4=IC1 F0B5=IC1_sys F0B6=IC1_dia F0B7=IC1_mean
F0B8=IC2 F0B9=IC2_sys F0BA=IC2_dia F0BB=IC2_mean F0BC=FAP F0BD=FAP_sys F0BE=FAP_dia
F0BF=FAP_mean F0C0=BAP F0C1=BAP_sys F0C2=BAP_dia F0C3=BAP_mean F0C4=Tvesic F0C5=Tcereb F0C6=Tamb
F0C7=T1 F0C8=T2 F0C9=T3 F0CA=T4 F0E0=TVin F0E1=TVexp F0E2=RRspir F0E3=PPV F0E5=Pulse F0F1=MRR
F0F2=MTV F0F3=SpTV F0F4=cTnI F0F5=CPB F0F6=BNP F0FF=PlatTi F100=ScvO2 F101=SNR F103=Hum F105=GEF
F106=PVPI F110=pToral F114=pTrect F118=pTaxil F12A=Air_T F12C=Perf_T F14A=RLShnt F154=QT-HR
F155=QT-HR F156=DeltaQTc F157=QTHRBl F158=pHc F159=PcCO2 F15A=PcO2 F15B=iMg F15C=SerMg
F15D=tSerCa F15E=SerPho F15F=SerCl F160=Fe F163=SerAlb F164='SaO2 F165=HbF F167=Plts F168=WBC
F169=RBC F16A=RC F16B=PlOsm F16C=CreaCl F16D=NsLoss F16E=Chol F16F=TGL F170=HDL F171=LDL
F172=Urea F173=Crea F174=Lact F177=tBili F178=SerPro F179=tPro F17A=dBili F17B=LDH F17C=ESR
F17D=PCT F17F=CK-MM F180=SerCK F181=CK-MB F182=CHE F183=CRP F184=AST F185=AP F186=alphaA
F187=GPT F188=GOT F189=GGT F18A=ACT F18B=PT F18C=PT_INR F18D=aPTTWB F18E=aPTTPE F18F=PT_WB
F190=PT_PE F191=TT F192=CT F193=Quick F194=FeNa F195=UrUrea F196=UrCrea F197=UrK F198=UrKEx
F199=UrOsm F19A=UrCl F19B=UrPro F19C=UrCa F19D=UrDens F19E=UrHb F19F=UrGlu F1A0='ScO2
F1A1='AnGap F1C0=SpO2pr F1D4=SpO2po F1DC=PerfPo F22C=PerfPr F3F5=P5_sys F3F6=P5_dia F3F7=P5_mean
F3F9=P6_sys F3FA=P6_dia F3FB=P6_mean F3FC=P7 F3FD=P7_sys F3FF=P7_mean F401=P8_sys F402=P8_dia
F403=P8_mean F411=Rf-I F412=Rf-II F413=Rf-V1 F414=Rf-V2 F415=Rf-V3 F416=Rf-V4 F417=Rf-V5
F418=Rf-V6 F44D=Rf-III F44E=Rf-aVR F44F=Rf-aVL F450=Rf-aVF F810=Age F811=G.Age F814=r
F815=SpAWRR F816=TC F818=Length F819=RSBI F81A=C20/C F81C=HI F81D=ALP F822=iCa(N) F824=SerCa
F825=tCO2 F826='tCO2 F827=SCrea F828=SpRR F829=SerGlo F82A=SerGlu F82C=MCHC_mean F82F=SerK
F830=UrNaEx F832=&PaCO2 F833=&PcCO2 F837=&pHc F838=&pH F83B=&PaO2 F83C=&PcO2 F83F=COsm F840=BSI
F841=LSCALE F842=RSCALE F84B=LT_MPF F84C=RT_MPF F855=LT_AL F856=RT_AL F85B=LT_BE F85C=RT_BE
F863=LT_DL F864=RT_DL F869=LT_TH F86A=RT_TH F873=AAI F875=O2EI F877=fgAir F87A=eeFlow
F87D=SpPkFl F881=fgFlow F882=VCO2ti F883=U/O F884=CH2O F885=MCH_mean F886=Power F889=ACI
F88B=PTC F88D=PlGain F88E=RVrat F88F=BUN/cr F890='B/Cre F891='U/Cre F892=U/SCr F893=UrNa/K
F894=PaFIO2 F895=PTrat F896=PTTrat F897=TOFrat F898=U/POsm F899=Rdyn F89A=RRsync F89B=REF
F8A0=RemTi F8A1=ExpTi F8A2=Elapse F8A3=InsTi F8A4=KCT F8A5=PTT F8A6=sRepTi F8A7=TOF1 F8A8=TOF2
F8A9=TOF3 F8AA=TOF4 F8AB=TOFcnt F8AC=Twitch F8AD=SrUrea F8AF=sUrTi F8B0=PtVent F8B1=HFVAmp
F8B2=i-eAGT F8B3=i-eDES F8B4=i-eENF F8B5=i-eHAL F8B6=i-eISO F8B7=i-eN2O F8B8=cktO2 F8B9=i-eSEV
F8BA=loPEEP F8BC=PVcP F8BD=RiseTi F8BE=HFTVin F8BF=HFVTV F8C0=sSghTV F8C2=SpTVex F8C3=TVPSV
F8C4=MCV_mean F8C5=TFC F8C6=TFI F8C7=AGTLev F8C8=DESLev F8C9=ENFLev F8CA=HALLev F8CB=ISOLev
F8CC=SEVLev F8CD=HFMVin F8CE=tUrVol F8CF=UrVSht F8D1=ESVI F8D3=BagWgt F8D9=sAADel F8DE=sARR
F8DF=sHFVRR F8E6=sChrge F8E7=sCurnt F8EA=sExpFl F8EB=sHFVFl F8EC=sInsFl F8ED=sAPkFl F8F3=sHFVAm
F8FB=loPmax F900=sPVE F901=sAPVE F902=sPVI F903=sAPVI F904=sSens F908=sPulsD F909=sCycTi
F90E=sO2Mon F90F=sBkgFl F910=sBasFl F911=sSenFl F912=sPincR F917=sAFIO2 F918=sAPVO2 F919=highO2
F91A=lowO2 F91B=sFlow F91C=sFlas F91D=sTrgFl F920=sGasPr F922=sCMV F923=sEnSgh F924=sSIMV
F926=sO2Cal F927=sO2Pr F928=sO2Suc F92C=sSPEEP F92D=sPlow F92E=sPhigh F930=highP F931=sAPVhP
F933=sAPVcP F935=sustP F937=sfmax F939=sIPPV F93A=sAPVRR F93B=sSghNr F93C=sSghR F93F=sExpTi
F940=sTlow F941=sInsTi F942=sThigh F943=sPVinT F944=sAPVTi F946=sALMRT F948=sVolas F949=sVmax
F94B=highMV F94C=lowMV F94D=highTV F94E=lowTV F951=sATV F952=sTVap F953=sMVDel F960=StO2
F961=CSI F962=SO2_1 F963=SO2_2 F964=SO2_3 F965=SO2_4 F966=T1Core F967=T2Core F968=DeltaP
F96C=DeltaP1 F970=DeltaP2 F974=HLMfl F975=SlvPfl F976=SucPfl F977=AuxPfl F978=PlePfl F979=SplPfl
F97A=AxOnTi F97B=AxOffT F97C=AxDVol F97D=AxTVol F97E=AxPlTi F97F=CpOnTi F980=CpOffT F981=CpDVol
F982=CpTVol F983=CpPlTi F984=CsOnTi F985=CsOffT F986=CsDVol F987=CsTVol F988=CsPlTi F990=Tin/Tt
F991=tPEEP F992=Cpav F993=Rpav F994=Rtot F995=Epav F996=RSBInm
""")
"""Physiological id (SCADA partition) -> the label the monitor shows (pp. 115-188); a
compound's members carry `` sys``, `` dia`` or `` mean``. The first of several numerics
sharing an id (e.g. the pulse rates, p. 284) gives the name."""

TEXT_LABELS: dict[int, str] = _table("""
00020100=ECG 00020101=I 00020102=II 00020103=V1 00020104=V2 00020105=V3 00020106=V4 00020107=V5
00020108=V6 0002013D=III 0002013E=aVR 0002013F=aVL 00020140=aVF 00020143=V 0002014B=MCL
0002014C=MCL1 00020300=ST 00023F20=QT 00023F24=QTc 00024182=HR 0002418A=btbHR 00024261=PVC
0002480A=Pulse 00024822=Pulse 00024900=SVRI 00024904=LVSWI 00024908=RVSWI 0002490C=C.I.
00024A00=P 00024A04=NBP 00024A0C=Ao 00024A10=ART 00024A14=ABP 00024A1C=PAP 00024A24=PAWP
00024A28=UAP 00024A30=LAP 00024A34=RAP 00024A44=CVP 00024A48=UVP 00024B00=VO2 00024B04=C.O.
00024B24=PVR 00024B28=SVR 00024B2C=SO2 00024B34=SaO2 00024B3C=SvO2 00024B40=AaDO2 00024B48=Temp
00024B50=Tart 00024B54=Tairwy 00024B5C=Tbody 00024B60=Tcore 00024B64=Tesoph 00024B68=Tinj
00024B6C=Tnaso 00024B74=Tskin 00024B78=Ttymp 00024B7C=Tven 00024B84=SV 00024B90=LCW 00024B94=RCW
00024B9C=LVSW 00024BA4=RVSW 00024BB0=Perf 00024BB4=Pleth 00024BB8=SpO2 00024BC4=DeltaSpO2
00024BC8=SpO2_l 00024BCC=SpO2_r 00024BDC=CCO 00024C00=EDV 00024C04=ESV 00024C25=dPmax
00025000=Resp 0002500A=RR 00025012=awRR 00025022=RRaw 00025080=VC 00025088=COMP 0002508C=Cdyn
00025090=Cstat 000250AC=CO2 000250CC=tcpCO2 000250D0=tcpO2 000250D4=AWF 000250D9=PEF
000250DD=PIF 000250E0=VCO2 000250E4=T.I. 000250E8=Pplat 000250F0=AWP 000250F2=AWPmin
000250F4=CPAP 000250F9=NgInsP 00025100=iPEEP 00025108=AWPin 00025109=PIP 0002510B=MnAwP
00025118=I:E_1: 0002511C=Vd/Vt 00025120=Raw 00025124=Rexp 00025128=Rinsp 00025130=ApneaD
0002513C=TV 00025148=MINVOL 00025160=FICO2 00025164=O2 00025168=DeltaO2 0002517C=PECO2
0002518C=AWFin 00025190=VQI 0002519C=Poccl 000251A8=PEEP 000251B0=Vd 000251B4=relVd
000251B8=TrpVol 000251CC=MMV 000251D4=DCO2 000251D8=DES 000251DC=ENF 000251E0=HAL 000251E4=SEV
000251E8=ISO 000251F0=N2O 00025360=DPosP 00025368=PEinsp 00025370=Leak 00025374=ALVENT
0002537C=N2 00025388=AGT 00025390=inAGT 00025804=CPP 00025808=ICP 00025880=GCS 00025882=EyeRsp
00025883=MotRsp 00025884=VblRsp 00025900=HC 00025924=PRL 00025928=PRR 0002592C=EEG 0002593C=EMG
0002597C=MDF 00025984=PPF 00025988=SEF 000259B8=TP 0002680C=UrFl 00026824=UrVol 00026830=BagVol
000268FC=AccVol 00027004=pHa 00027008=PaCO2 0002700C=PaO2 00027014=Hb 00027018=CaO2 00027034=pHv
00027038=PvCO2 0002703C=PvO2 00027048=CvO2 00027064=UrpH 0002706C=UrNa 000270D8=SerNa
00027104=pH 00027108=HCO3 0002710C=Na 00027110=K 00027114=Glu 00027118=iCa 00027140=PCO2
00027168=Cl 0002716C=BE 00027174=PO2 0002717C=Met-Hb 00027180=CO-Hb 00027184=Hct 00027498=FIO2
0002D02A=IMV 0002E004=Trect 0002E014=Tblood 0002E018=DeltaTemp 0002F03D=STindx 0002F03E=SitTim
0002F03F=SitTim 0002F040=ITBV 0002F041=ITBVI 0002F042=EVLW 0002F043=EVLWI 0002F044=GEDV
0002F045=GEDVI 0002F046=CFI 0002F047=CCI 0002F048=SI 0002F049=SVV 0002F04A=SR 0002F04D=SQI
0002F04E=BIS 0002F051=tcGas 0002F05D=MAC 0002F067=PVRI 0002F068=LCWI 0002F069=RCWI 0002F06A=VO2I
0002F06B=PB 0002F06C=Sp-vO2 0002F06D=DO2 0002F06E=DO2I 0002F06F=O2ER 0002F070=Qs/Qt 0002F071=BSA
0002F072=LI 0002F076=SitTim 0002F079=InjVol 0002F07A=ETVI 0002F07B=CompCt 0002F07C=CathCt
0002F08A=Perf_l 0002F08B=Perf_r 0002F08C=PLETHr 0002F08D=PLETHl 0002F08F=BUN 0002F090=BEecf
0002F091=SpMV 0002F092=Ca-vO2 0002F093=Weight 0002F094=Height 0002F099=MAC 0002F09B=PlethT
0002F09C=%SpO2T 0002F09D=PulseT 0002F0A4=P1 0002F0A8=P2 0002F0AC=P3 0002F0B0=P4 0002F0B4=IC1
0002F0B8=IC2 0002F0BC=FAP 0002F0C0=BAP 0002F0C4=Tvesic 0002F0C5=Tcereb 0002F0C6=Tamb 0002F0C7=T1
0002F0C8=T2 0002F0C9=T3 0002F0CA=T4 0002F0D8=IUP 0002F0E0=TVin 0002F0E1=TVexp 0002F0E2=RRspir
0002F0E3=PPV 0002F0E5=Pulse 0002F0F1=MRR 0002F0F2=MTV 0002F0F3=SpTV 0002F0F4=cTnI 0002F0F5=CPB
0002F0F6=BNP 0002F0FF=PlatTi 0002F100=ScvO2 0002F101=SNR 0002F103=Hum 0002F105=GEF 0002F106=PVPI
0002F110=pToral 0002F114=pTrect 0002F118=pTaxil 0002F12A=Air_T 0002F12C=Perf_T 0002F14A=RLShnt
0002F154=QT-HR 0002F155=QT-HR 0002F156=DeltaQTc 0002F157=QTHRBl 0002F158=pHc 0002F159=PcCO2
0002F15A=PcO2 0002F15B=iMg 0002F15C=SerMg 0002F15D=tSerCa 0002F15E=SerPho 0002F15F=SerCl
0002F160=Fe 0002F163=SerAlb 0002F164='SaO2 0002F165=HbF 0002F166='SvO2 0002F167=Plts
0002F168=WBC 0002F169=RBC 0002F16A=RC 0002F16B=PlOsm 0002F16C=CreaCl 0002F16D=NsLoss
0002F16E=Chol 0002F16F=TGL 0002F170=HDL 0002F171=LDL 0002F172=Urea 0002F173=Crea 0002F174=Lact
0002F177=tBili 0002F178=SerPro 0002F179=tPro 0002F17A=dBili 0002F17B=LDH 0002F17C=ESR
0002F17D=PCT 0002F17F=CK-MM 0002F180=SerCK 0002F181=CK-MB 0002F182=CHE 0002F183=CRP 0002F184=AST
0002F185=AP 0002F186=alphaA 0002F187=GPT 0002F188=GOT 0002F189=GGT 0002F18A=ACT 0002F18B=PT
0002F18C=PT_INR 0002F18D=aPTTWB 0002F18E=aPTTPE 0002F18F=PT_WB 0002F190=PT_PE 0002F191=TT
0002F192=CT 0002F193=Quick 0002F194=FeNa 0002F195=UrUrea 0002F196=UrCrea 0002F197=UrK
0002F198=UrKEx 0002F199=UrOsm 0002F19A=UrCl 0002F19B=UrPro 0002F19C=UrCa 0002F19D=UrDens
0002F19E=UrHb 0002F19F=UrGlu 0002F1A0='ScO2 0002F1A1='AnGap 0002F1C0=SpO2pr 0002F1D4=SpO2po
0002F1DC=PerfPo 0002F22C=PerfPr 0002F3F4=P5 0002F3F8=P6 0002F3FC=P7 0002F400=P8 0002F411=Rf-I
0002F412=Rf-II 0002F413=Rf-V1 0002F414=Rf-V2 0002F415=Rf-V3 0002F416=Rf-V4 0002F417=Rf-V5
0002F418=Rf-V6 0002F44D=Rf-III 0002F44E=Rf-aVR 0002F44F=Rf-aVL 0002F450=Rf-aVF 0002F810=Age
0002F811=G.Age 0002F812=BSA(B) 0002F813=BSA(D) 0002F814=r 0002F815=SpAWRR 0002F816=TC
0002F817='BE,B 0002F818=Length 0002F819=RSBI 0002F81A=C20/C 0002F81B=extHR 0002F81C=HI
0002F81D=ALP 0002F81E=etAGTs 0002F81F=inAGTs 0002F821='BEecf 0002F822=iCa(N) 0002F824=SerCa
0002F825=tCO2 0002F826='tCO2 0002F827=SCrea 0002F828=SpRR 0002F829=SerGlo 0002F82A=SerGlu
0002F82B='Hb 0002F82C=MCHC 0002F82E='HCO3 0002F82F=SerK 0002F830=UrNaEx 0002F832=&PaCO2
0002F833=&PcCO2 0002F834=&PCO2 0002F835=&PvCO2 0002F836=&pHa 0002F837=&pHc 0002F838=&pH
0002F839=&pHv 0002F83B=&PaO2 0002F83C=&PcO2 0002F83D=&PO2 0002F83E=&PvO2 0002F83F=COsm
0002F840=BSI 0002F841=LSCALE 0002F842=RSCALE 0002F849=LT_MDF 0002F84A=RT_MDF 0002F84B=LT_MPF
0002F84C=RT_MPF 0002F84F=LT_PPF 0002F850=RT_PPF 0002F853=LT_SEF 0002F854=RT_SEF 0002F855=LT_AL
0002F856=RT_AL 0002F859=LT_%AL 0002F85A=RT_%AL 0002F85B=LT_BE 0002F85C=RT_BE 0002F85F=LT_%BE
0002F860=RT_%BE 0002F863=LT_DL 0002F864=RT_DL 0002F867=LT_%DL 0002F868=RT_%DL 0002F869=LT_TH
0002F86A=RT_TH 0002F86D=LT_%TH 0002F86E=RT_%TH 0002F871=LT_TP 0002F872=RT_TP 0002F873=AAI
0002F875=O2EI 0002F876=fgAGT 0002F877=fgAir 0002F878=fgDES 0002F879=fgENF 0002F87A=eeFlow
0002F87B=fgHAL 0002F87C=fgISO 0002F87D=SpPkFl 0002F87E=fgN2O 0002F87F=fgO2 0002F880=fgSEV
0002F881=fgFlow 0002F882=VCO2ti 0002F883=U/O 0002F884=CH2O 0002F885=MCH 0002F886=Power
0002F889=ACI 0002F88B=PTC 0002F88D=PlGain 0002F88E=RVrat 0002F88F=BUN/cr 0002F890='B/Cre
0002F891='U/Cre 0002F892=U/SCr 0002F893=UrNa/K 0002F894=PaFIO2 0002F895=PTrat 0002F896=PTTrat
0002F897=TOFrat 0002F898=U/POsm 0002F899=Rdyn 0002F89A=RRsync 0002F89B=REF 0002F89C='SO2
0002F89D=SO2_l 0002F89E=SO2_r 0002F8A0=RemTi 0002F8A1=ExpTi 0002F8A2=Elapse 0002F8A3=InsTi
0002F8A4=KCT 0002F8A5=PTT 0002F8A7=TOF1 0002F8A8=TOF2 0002F8A9=TOF3 0002F8AA=TOF4
0002F8AB=TOFcnt 0002F8AC=Twitch 0002F8AD=SrUrea 0002F8B0=PtVent 0002F8B1=HFVAmp 0002F8B2=i-eAGT
0002F8B3=i-eDES 0002F8B4=i-eENF 0002F8B5=i-eHAL 0002F8B6=i-eISO 0002F8B7=i-eN2O 0002F8B8=cktO2
0002F8B9=i-eSEV 0002F8BA=loPEEP 0002F8BB=Pmax 0002F8BC=PVcP 0002F8BD=RiseTi 0002F8BE=HFTVin
0002F8BF=HFVTV 0002F8C2=SpTVex 0002F8C3=TVPSV 0002F8C4=MCV 0002F8C5=TFC 0002F8C6=TFI
0002F8C7=AGTLev 0002F8C8=DESLev 0002F8C9=ENFLev 0002F8CA=HALLev 0002F8CB=ISOLev 0002F8CC=SEVLev
0002F8CD=HFMVin 0002F8CE=tUrVol 0002F8CF=UrVSht 0002F8D0=EDVI 0002F8D1=ESVI 0002F8D3=BagWgt
0002F960=StO2 0002F961=CSI 0002F962=SO2_1 0002F963=SO2_2 0002F964=SO2_3 0002F965=SO2_4
0002F966=T1Core 0002F967=T2Core 0002F968=DeltaP 0002F96C=DeltaP1 0002F970=DeltaP2 0002F974=HLMfl
0002F975=SlvPfl 0002F976=SucPfl 0002F977=AuxPfl 0002F978=PlePfl 0002F979=SplPfl 0002F97A=AxOnTi
0002F97B=AxOffT 0002F97C=AxDVol 0002F97D=AxTVol 0002F97E=AxPlTi 0002F97F=CpOnTi 0002F980=CpOffT
0002F981=CpDVol 0002F982=CpTVol 0002F983=CpPlTi 0002F984=CsOnTi 0002F985=CsOffT 0002F986=CsDVol
0002F987=CsTVol 0002F988=CsPlTi 0002F990=Tin/Tt 0002F991=tPEEP 0002F992=Cpav 0002F993=Rpav
0002F994=Rtot 0002F995=Epav 0002F996=RSBInm 04010030=P_1 04010034=P_2 04010038=P_3 0401003C=P_4
04010054=IUP 040100B4=AUX 04010400=P_5 04010404=P_6 04010408=P_7 0401040C=P_8 04010668=AWV
04010764=L_V1 04010768=L_V2 0401076C=L_V3 04010770=L_V4 04010774=L_V5 04010778=L_V6 0401077C=L_I
04010780=L_II 04010784=L_III 04010788=L_aVR 0401078C=L_aVL 04010790=L_aVF 04010794=AWVex
0401079C=PLETH2 040107F0=LT_EEG 0401082C=RT_EEG 04010888=BP 04010CE4=AGTs 0401119C=vECG
040111A0=ICG 04024B48=sTemp 04025012=sAWRR 04025022=sRRaw 040250DD=sPIF 040250F2=sPmin
040250F4=sCPAP 04025108=sPin 04025109=sPIP 04025118=sIE_1: 0402513C=sTV 04025148=sMV
04025164=sO2 040251A8=sPEEP 040251B8=sTrVol 040251CC=sMMV 040251D8=sDES 040251DC=sENF
040251E0=sHAL 040251E4=sSEV 040251E8=sISO 04026858=sDRate 04027498=sFIO2 0402F0E0=sTVin
0402F0FF=sPltTi 0402F876=sAGT 0402F877=sfgAir 0402F87E=sfgN2O 0402F87F=sfgO2 0402F881=sfgFl
0402F8A6=sRepTi 0402F8AF=sUrTi 0402F8BB=sPmax 0402F8BC=sPSV 0402F8C0=sSghTV 0402F8D9=sAADel
0402F8DE=sARR 0402F8DF=sHFVRR 0402F8E6=sChrge 0402F8E7=sCurnt 0402F8EA=sExpFl 0402F8EB=sHFVFl
0402F8EC=sInsFl 0402F8ED=sAPkFl 0402F8F3=sHFVAm 0402F8FB=loPmax 0402F900=sPVE 0402F901=sAPVE
0402F902=sPVI 0402F903=sAPVI 0402F904=sSens 0402F908=sPulsD 0402F909=sCycTi 0402F90E=sO2Mon
0402F90F=sBkgFl 0402F910=sBasFl 0402F911=sSenFl 0402F912=sPincR 0402F917=sAFIO2 0402F918=sAPVO2
0402F919=highO2 0402F91A=lowO2 0402F91B=sFlow 0402F91C=sFlas 0402F91D=sTrgFl 0402F920=sGasPr
0402F922=sCMV 0402F923=sEnSgh 0402F924=sSIMV 0402F926=sO2Cal 0402F927=sO2Pr 0402F928=sO2Suc
0402F92C=sSPEEP 0402F92D=sPlow 0402F92E=sPhigh 0402F930=highP 0402F931=sAPVhP 0402F933=sAPVcP
0402F935=sustP 0402F937=sfmax 0402F938=sIMV 0402F939=sIPPV 0402F93A=sAPVRR 0402F93B=sSghNr
0402F93C=sSghR 0402F93F=sExpTi 0402F940=sTlow 0402F941=sInsTi 0402F942=sThigh 0402F943=sPVinT
0402F944=sAPVTi 0402F946=sALMRT 0402F948=sVolas 0402F949=sVmax 0402F94B=highMV 0402F94C=lowMV
0402F94D=highTV 0402F94E=lowTV 0402F951=sATV 0402F952=sTVap 0402F953=sMVDel
""")
"""Label TextId (NOM_ATTR_ID_LABEL) -> the label it names (pp. 115-188)."""

UNIT_SYMBOLS: dict[int, str] = _table("""
0000=NOS 0002=/ 0200=- 0220=% 0240=ppth 0260=ppm 02A0=ppb 02C0=ppt 0360=mol/mol 03E0=pH
0400=drop 0420=rbc 0440=beat 0460=breath 0480=cell 04A0=cough 04C0=sigh 04E0=%PCV 0500=m 0511=cm
0512=mm 0513=µm 0560=in 0592=ml/m2 05A0=/m 05B2=/mm 05C0=m2 05E0=in2 0620=m3 0631=cm3 0632=mm3
0640=l 0652=ml 0672=ml/breath 0691=/cm3 0692=/mm3 06A0=/l 06B3=/ul 06B4=1/nl 06C0=g 06C3=kg
06D2=mg 06D3=µg 06D4=ng 06E0=lb 0700=oz 0720=/g 0740=g-m 0743=kg-m 0760=g-m/m2 0763=kg-m/m2
0783=kg-m2 07A3=kg/m2 07C3=kg/m3 07E0=g/cm3 07F2=mg/cm3 07F3=µg/cm3 07F4=ng/cm3 0800=g/l
0812=mg/l 0813=ug/l 0814=ng/l 0840=g/dl 0852=mg/dl 0853=mcg/dl 0860=g/ml 0872=mg/ml 0873=µg/ml
0874=ng/ml 0875=pg/ml 0880=sec 0892=msec 0893=µsec 08A0=min 08C0=hrs 08E0=days 0900=weeks
0920=months 0940=years 0960=TOD 0980=date 09A0=/sec 09C0=Hz 09E0=/min 0A00=/hour 0A20=/day
0A40=/week 0A60=/month 0A80=/year 0AA0=bpm 0AC0=puls/min 0AE0=rpm 0B00=m/sec 0B12=mm/sec
0B20=l/min/m2 0B32=ml/min/m2 0B40=m2/sec 0B51=cm2/sec 0B60=m3/sec 0B71=cm3/sec 0BE0=l/sec
0C00=l/min 0C10=dl/min 0C12=ml/min 0C20=l/hour 0C32=ml/hour 0C40=l/day 0C52=ml/day 0C72=ml/kg
0CE3=kg/sec 0D00=g/min 0D03=kg/min 0D12=mg/min 0D13=µg/min 0D14=ng/min 0D20=g/hour 0D23=kg/hour
0D32=mg/hour 0D33=µg/hour 0D34=ng/hr 0D43=kg/day 0D80=g/kg/min 0D92=mg/kg/min 0D93=µg/kg/min
0D94=ng/kg/min 0DA0=g/kg/hour 0DB2=mg/kg/hour 0DB3=µg/kg/hour 0DB4=ng/kg/hour 0DE3=kg/l/sec
0E63=kg/m/sec 0E83=kg-m/sec 0EA0=N-s 0EC0=N 0F00=Pa 0F02=hPa 0F03=kPa 0F20=mmHg 0F40=cmH2O
0F72=mBar 0F80=J 0FA0=eV 0FC0=W 0FD2=mW 0FD4=nW 0FD5=pW 1020=Dyn-sec/cm^5 1040=A 1052=mA 1060=C
1073=µC 10A0=V 10B2=mV 10B3=µV 10C0=Ohm 10C3=kOhm 1100=F 1120=°K 1140=°F 1180=cd 11B2=mOsm
11C0=mol 11D2=mmol 11F2=mEq 1212=mOsm/l 1272=mmol/l 1273=µmol/l 12F2=mEq/l 1352=mol/kg
1452=mEq/day 1560=i.u. 1572=mi.u. 1580=i.u./cm3 1592=mi.u./cm3 15C0=u/l 15C5=/l 15E0=i.u./ml
15F2=mi.u./ml 1620=i.u./min 1632=mi.u./min 1640=i.u./hour 1652=mi.u./hour 16A0=i.u./kg/min
16B2=mi.u./kg/min 16C0=i.u./kg/hour 16D2=mi.u./kg/hour 1712=ml/cmH2O 1720=cmH2O/l/sec
1752=ml2/sec 1760=cmH2O/% 1780=DS*m2/cm5 17A0=°C 17D2=mAh 1800=cmH2O/l 1820=mmHg/% 1843=kPa/%
1880=l/mmHg 1892=ml/mmHg 1912=ml/dl 1920=dB 1940=g/mg 1952=mg/mg 1960=bpm/l 1972=bpm/ml
1980=1/(min*l) 19A0=m/min 19B1=cm/min F000=complx F001=count F002=part F003=puls F004=µV_p-p
F005=µV2 F007=lumen F008=lb/in2 F009=mmHg/s F00A=ml/s F00B=bpm/ml F060=J/day F063=kJ/day
F064=MJ/day F080=cal F083=kcal F084=10**6_cal F0A0=cal/day F0A3=kcal/day F0A4=Mcal/day
F0C0=cal/ml F0C3=kcal/ml F0E0=J/ml F0E3=kJ/ml F100=RPM F120=l/(mn*l*kg) F140=l/mbar F152=ml/mbar
F160=l/kg/hr F172=ml/kg/hr F180=bar/l/s F192=mbar/l/s F1A0=bar/l F1B2=mbar/l F1C0=V/mV
F1E0=cmH2O/uV F200=J/l F220=l/bar F240=m/mV F252=mm/mV F260=l/min/kg F272=ml/min/kg F280=Pa/l/s
F282=hPa/l/s F283=kPa/l/s F2A0=ml/Pa F2A2=ml/hPa F2A3=ml/kPa F2C0=mmHg/l/s
""")
"""Unit code (dimension partition) -> its symbol (pp. 193-201)."""


def physio_label(physio_id: int) -> str:
    """The guide's label for a physiological id, or ``"physio 0xNNNN"``."""
    return PHYSIO_LABELS.get(physio_id, f"physio 0x{physio_id:04X}")


def unit_symbol(unit_code: int) -> str | None:
    """The symbol of a unit code, ``None`` when the guide does not list it."""
    return UNIT_SYMBOLS.get(unit_code)
