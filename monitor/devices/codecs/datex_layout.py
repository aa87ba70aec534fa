"""GE Datex-Ohmeda S/5 computer interface ("DRI"): framing and record layouts.

Shared by the codec (:mod:`monitor.devices.codecs.datex`) and the simulator's
encoder, so both sides agree on every offset. Written from the protocol
description in ``device-protocols-and-formats.md`` section 2c; all integers
are little-endian and packed.

Framing: a frame is ``0x7E``, the stuffed bytes of ``record + checksum``,
``0x7E``; inside a frame 0x7E becomes ``0x7D 0x5E`` and 0x7D becomes
``0x7D 0x5D``; the checksum is the 8-bit sum of the unstuffed record bytes.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass

FLAG = 0x7E
ESC = 0x7D
ESC_BIT = 0x20

HEADER = struct.Struct("<hBBHIBBHh")      # r_len .. r_maintype: 16 bytes
DESCRIPTOR = struct.Struct("<hB")         # sr_offset (relative to the data area), sr_type
N_DESCRIPTORS = 8
HEADER_SIZE = HEADER.size + N_DESCRIPTORS * DESCRIPTOR.size    # 40
END_OF_LIST = 0xFF
MAX_RECORD = 1490
MAX_STUFFED_FRAME = 2 * (MAX_RECORD + 1) + 2
"""Longest legal frame on the wire (every byte escaped); longer runs are garbage."""

# Main types.
MAINTYPE_PHDB = 0
MAINTYPE_WAVE = 1
MAINTYPE_ALARM = 4

# PHDB subrecord types (sr_type) and classes (bits 8-11 of cl_drilvl_subt).
PHDB_DISPLAYED = 1
CLASS_BASIC, CLASS_EXT1, CLASS_EXT2, CLASS_EXT3 = 0, 1, 2, 3
CLASS_MASK = {CLASS_BASIC: 0x0, CLASS_EXT1: 0x2, CLASS_EXT2: 0x4, CLASS_EXT3: 0x8}

PHDB_SUBRECORD_SIZE = 278
PHDB_CLASS_DATA = 4          # class data starts after the u32 time
PHDB_CLASS_DATA_SIZE = 270
PHDB_TAIL = struct.Struct("<BBH")   # marker, reserved, cl_drilvl_subt (at offset 274)

# Basic class, displayed values: byte offsets of int16 fields within the
# class data. Every group but ecg_extra starts with a 6-byte header
# (u32 status, u16 label). The 270 bytes are exactly these groups in this
# order plus 2 reserved bytes.
GROUP_HEADER = 6
ECG_GROUP = 0                # 16 B: hr, st1, st2, st3, imp_rr
P_GROUPS = (16, 30, 44, 58)  # 14 B each: sys, dia, mean, hr (P1..P4)
NIBP_GROUP = 72              # 14 B: sys, dia, mean, hr
T_GROUPS = (86, 94, 102, 110)  # 8 B each: temp
SPO2_GROUP = 118             # 14 B: spo2, pr, ir_amp, svo2
CO2_GROUP = 132              # 14 B: et, fi, rr, amb_press
O2_GROUP = 146               # 10 B: et, fi
N2O_GROUP = 156              # 10 B: et, fi
AA_GROUP = 166               # 12 B: et, fi, mac_sum
FLOW_VOL_GROUP = 178         # 22 B: rr, ppeak, peep, pplat, tv_insp, tv_exp, compliance, mv_exp
CO_WEDGE_GROUP = 200         # 14 B: co, blood_temp, ref, pcwp
NMT_GROUP = 214              # 12 B: t1, tratio, ptc
ECG_EXTRA = 226              # 6 B, no header: hr_ecg, hr_max, hr_min
SVO2_GROUP = 232             # 8 B: svo2
P56_GROUPS = (240, 254)      # 14 B each: sys, dia, mean, hr (P5, P6)
BASIC_END = 268              # then 2 reserved bytes

BASIC_GROUPS: tuple[tuple[int, int, bool], ...] = (
    (ECG_GROUP, 5, True), *((g, 4, True) for g in P_GROUPS), (NIBP_GROUP, 4, True),
    *((g, 1, True) for g in T_GROUPS), (SPO2_GROUP, 4, True), (CO2_GROUP, 4, True),
    (O2_GROUP, 2, True), (N2O_GROUP, 2, True), (AA_GROUP, 3, True), (FLOW_VOL_GROUP, 8, True),
    (CO_WEDGE_GROUP, 4, True), (NMT_GROUP, 3, True), (ECG_EXTRA, 3, False),
    (SVO2_GROUP, 1, True), *((g, 4, True) for g in P56_GROUPS),
)
"""``(offset, number of int16 fields, has a header)`` of every basic-class group, in order."""


def field(group: int, index: int) -> int:
    """Offset within the class data of the ``index``-th int16 of a group (after its header)."""
    return group + GROUP_HEADER + 2 * index


ECG_HR = field(ECG_GROUP, 0)
ECG_ST = tuple(field(ECG_GROUP, i) for i in (1, 2, 3))
ECG_IMP_RR = field(ECG_GROUP, 4)
P_FIELDS = tuple(tuple(field(g, i) for i in range(4)) for g in (*P_GROUPS, *P56_GROUPS))
"""(sys, dia, mean, hr) offsets of P1..P6."""
NIBP_SYS = field(NIBP_GROUP, 0)
NIBP_DIA = field(NIBP_GROUP, 1)
NIBP_MEAN = field(NIBP_GROUP, 2)
NIBP_HR = field(NIBP_GROUP, 3)
T_TEMP = tuple(field(g, 0) for g in T_GROUPS)
T1_TEMP = T_TEMP[0]
SPO2_SPO2 = field(SPO2_GROUP, 0)
SPO2_PR = field(SPO2_GROUP, 1)
SPO2_IR_AMP = field(SPO2_GROUP, 2)
SPO2_SVO2 = field(SPO2_GROUP, 3)
CO2_ET = field(CO2_GROUP, 0)
CO2_FI = field(CO2_GROUP, 1)
CO2_RR = field(CO2_GROUP, 2)
CO2_AMB = field(CO2_GROUP, 3)
O2_ET = field(O2_GROUP, 0)
O2_FI = field(O2_GROUP, 1)
N2O_ET = field(N2O_GROUP, 0)
N2O_FI = field(N2O_GROUP, 1)
AA_ET = field(AA_GROUP, 0)
AA_FI = field(AA_GROUP, 1)
AA_MAC_SUM = field(AA_GROUP, 2)
FV_RR, FV_PPEAK, FV_PEEP, FV_PPLAT, FV_TV_INSP, FV_TV_EXP, FV_COMPLIANCE, FV_MV_EXP = (
    field(FLOW_VOL_GROUP, i) for i in range(8))
COW_CO = field(CO_WEDGE_GROUP, 0)
COW_BLOOD_TEMP = field(CO_WEDGE_GROUP, 1)
COW_REF = field(CO_WEDGE_GROUP, 2)
COW_PCWP = field(CO_WEDGE_GROUP, 3)
NMT_T1 = field(NMT_GROUP, 0)
NMT_TRATIO = field(NMT_GROUP, 1)
NMT_PTC = field(NMT_GROUP, 2)
ECG_EXTRA_HR, ECG_EXTRA_HR_MAX, ECG_EXTRA_HR_MIN = (ECG_EXTRA + 2 * i for i in range(3))
SVO2_SVO2 = field(SVO2_GROUP, 0)

# The NMT ptc word is a bit field: post-tetanic count in bits 0-4 (31: not
# available), the TOF / double-burst / single-twitch count in bits 5-8 and the
# stimulus current (mA) in bits 9-15. At or below PTC_INVALID_LIMIT none of it
# is valid.
PTC_COUNT_MASK = 0x1F
PTC_NOT_AVAILABLE = 31
PTC_TOF_SHIFT, PTC_TOF_MASK = 5, 0xF
PTC_INVALID_LIMIT = -31000

# Special int16 values: anything below -32001 is not a measurement.
SPECIAL_LIMIT = -32001
NO_DATA = -32767
NOT_UPDATED = -32766
DISCONTINUITY = -32765
UNDER_RANGE = -32764
OVER_RANGE = -32763
NOT_CALIBRATED = -32762

# Requests (host -> monitor).
PHDB_REQUEST_BODY = struct.Struct("<BhIh")    # rcrd_type, tx_interval, class_bf, reserved
PHDB_REQUEST_LEN = HEADER_SIZE + PHDB_REQUEST_BODY.size    # 49
INTERVAL_SINGLE = -1
INTERVAL_STOP = 0
WAVE_REQUEST_BODY = struct.Struct("<hH8B10h")  # req_type, reserved, 8 wave ids, reserved
WAVE_REQUEST_LEN = HEADER_SIZE + WAVE_REQUEST_BODY.size    # 72
WAVE_START, WAVE_STOP = 0, 1

# Waves.
WAVE_PLETH = 8
PLETH_RATE_HZ = 100.0
PLETH_SCALE = 0.01
WAVE_HEADER = struct.Struct("<hHH")    # sample count, status, reserved
MAX_WAVE_IDS = 8


@dataclass(frozen=True)
class RecordHeader:
    """The fields of a record header a reader needs."""

    r_len: int
    r_nbr: int
    dri_level: int
    plug_id: int
    r_time: int
    maintype: int
    subrecords: tuple[tuple[int, int], ...]
    """``(offset, type)`` of each subrecord, offsets relative to the data area."""


def pack_header(maintype: int, subrecords: list[tuple[int, int]], data_len: int, *,
                r_time: int = 0, r_nbr: int = 0, dri_level: int = 0, plug_id: int = 0) -> bytes:
    """A 40-byte record header for ``data_len`` bytes of subrecord data."""
    if len(subrecords) > N_DESCRIPTORS:
        raise ValueError("at most 8 subrecords per record")
    head = HEADER.pack(HEADER_SIZE + data_len, r_nbr & 0xFF, dri_level & 0xFF, plug_id,
                       r_time & 0xFFFFFFFF, 0, 0, 0, maintype)
    descs = list(subrecords)
    if len(descs) < N_DESCRIPTORS:
        descs.append((0, END_OF_LIST))
    descs += [(0, 0)] * (N_DESCRIPTORS - len(descs))
    return head + b"".join(DESCRIPTOR.pack(off, typ) for off, typ in descs)


def unpack_header(record: bytes) -> RecordHeader:
    """Parse the header of ``record`` (at least :data:`HEADER_SIZE` bytes)."""
    r_len, r_nbr, level, plug, r_time, _, _, _, maintype = HEADER.unpack_from(record, 0)
    subs = []
    for i in range(N_DESCRIPTORS):
        off, typ = DESCRIPTOR.unpack_from(record, HEADER.size + i * DESCRIPTOR.size)
        if typ == END_OF_LIST:
            break
        subs.append((off, typ))
    return RecordHeader(r_len, r_nbr, level, plug, r_time, maintype, tuple(subs))


def cl_drilvl_subt(cls: int, dri_level: int = 0, subtype: int = PHDB_DISPLAYED) -> int:
    """The class / DRI level / subtype word of a PHDB subrecord."""
    return ((cls & 0xF) << 8) | ((dri_level & 0xF) << 4) | (subtype & 0xF)


def pack_phdb_subrecord(time: int, class_data: bytes, cls: int, *, dri_level: int = 0,
                        marker: int = 0) -> bytes:
    """A 278-byte PHDB subrecord around up to 270 bytes of class data."""
    if len(class_data) > PHDB_CLASS_DATA_SIZE:
        raise ValueError("class data longer than 270 bytes")
    data = class_data.ljust(PHDB_CLASS_DATA_SIZE, b"\0")
    return (struct.pack("<I", time & 0xFFFFFFFF) + data
            + PHDB_TAIL.pack(marker, 0, cl_drilvl_subt(cls, dri_level)))


def basic_class_data(values: dict[int, int], fill: int = NO_DATA) -> bytes:
    """Basic-class data with ``values`` (offset -> raw int16) and ``fill`` elsewhere.

    Every int16 field of every group gets ``fill``; group headers and the
    reserved bytes are zero.
    """
    buf = bytearray(PHDB_CLASS_DATA_SIZE)
    for group, n, header in BASIC_GROUPS:
        first = field(group, 0) if header else group
        for i in range(n):
            struct.pack_into("<h", buf, first + 2 * i, fill)
    for off, raw in values.items():
        struct.pack_into("<h", buf, off, raw)
    return bytes(buf)


def pack_wave_subrecord(samples: list[int], status: int = 0) -> bytes:
    """A wave subrecord: 6-byte header (sample count first) then int16 samples."""
    return WAVE_HEADER.pack(len(samples), status, 0) + struct.pack(f"<{len(samples)}h", *samples)


def pack_record(maintype: int, subrecords: list[tuple[int, bytes]], **header: int) -> bytes:
    """A whole record: header plus the ``(type, body)`` subrecords laid end to end."""
    descs, offset = [], 0
    for typ, body in subrecords:
        descs.append((offset, typ))
        offset += len(body)
    data = b"".join(body for _, body in subrecords)
    return pack_header(maintype, descs, len(data), **header) + data


def phdb_request(interval: int, class_mask: int = CLASS_MASK[CLASS_BASIC], *,
                 dri_level: int = 0) -> bytes:
    """The 49-byte displayed-values request; interval in s, -1 single shot, 0 stop."""
    body = PHDB_REQUEST_BODY.pack(PHDB_DISPLAYED, interval, class_mask, 0)
    return pack_header(MAINTYPE_PHDB, [(0, 0)], len(body), dri_level=dri_level) + body


def wave_request(req_type: int, wave_ids: tuple[int, ...] = (), *, dri_level: int = 0) -> bytes:
    """The 72-byte wave start (0) / stop (1) request for up to 8 wave ids."""
    if len(wave_ids) > MAX_WAVE_IDS:
        raise ValueError("at most 8 waves per request")
    ids = list(wave_ids) + [END_OF_LIST] * (MAX_WAVE_IDS - len(wave_ids))
    body = WAVE_REQUEST_BODY.pack(req_type, 0, *ids, *([0] * 10))
    return pack_header(MAINTYPE_WAVE, [(0, 0)], len(body), dri_level=dri_level) + body


def checksum(data: bytes) -> int:
    """8-bit sum of ``data``."""
    return sum(data) & 0xFF


def stuff(data: bytes) -> bytes:
    """Escape 0x7D and 0x7E (0x7D first, so escapes are not escaped again)."""
    return data.replace(b"\x7d", b"\x7d\x5d").replace(b"\x7e", b"\x7d\x5e")


def frame(record: bytes) -> bytes:
    """``record`` as sent on the wire: flags, stuffed record and stuffed checksum."""
    return b"\x7e" + stuff(record + bytes([checksum(record)])) + b"\x7e"


_ESCAPED = (FLAG ^ ESC_BIT, ESC ^ ESC_BIT)      # 0x5E, 0x5D: the only bytes after an escape


def unstuff(raw: bytes) -> bytes | None:
    """Undo :func:`stuff`; ``None`` for a malformed escape.

    Only ``0x7D 0x5E`` and ``0x7D 0x5D`` are escapes; a 0x7D at the end or
    followed by any other byte means the frame was damaged.
    """
    if ESC not in raw:
        return raw
    parts = raw.split(b"\x7d")
    out = bytearray(parts[0])
    for part in parts[1:]:
        if not part or part[0] not in _ESCAPED:
            return None
        out.append(part[0] ^ ESC_BIT)
        out += part[1:]
    return bytes(out)


class Deframer:
    """Splits a byte stream into checked records, incrementally.

    Bytes before the first flag are discarded (counted in ``discarded``);
    each flag ends one frame and starts the next, so empty frames and noise
    between frames cost nothing but a ``bad`` count. A frame whose escape is
    malformed or whose checksum fails is dropped and counted in ``bad``; a
    run longer than any legal frame is dropped (``discarded``) and the
    deframer waits for the next flag. ``on_drop(bad_frame, nbytes)`` is
    called for each loss, in stream order. At most :data:`MAX_STUFFED_FRAME`
    bytes are ever held.
    """

    def __init__(self, on_drop: Callable[[bool, int], None] | None = None) -> None:
        self._raw = bytearray()
        self._in_frame = False
        self._on_drop = on_drop
        self.bad = 0
        self.discarded = 0

    def _drop(self, bad_frame: bool, nbytes: int) -> None:
        self.bad += bad_frame
        self.discarded += nbytes
        if self._on_drop is not None:
            self._on_drop(bad_frame, nbytes)

    @property
    def buffered(self) -> int:
        """Bytes held for the frame in progress."""
        return len(self._raw)

    def feed(self, data: bytes) -> list[bytes]:
        """Records (checksum removed) completed by ``data``, oldest first."""
        out: list[bytes] = []
        pos, n = 0, len(data)
        while pos < n:
            flag = data.find(FLAG, pos)
            end = n if flag < 0 else flag
            self._take(data, pos, end)
            if flag < 0:
                break
            if self._in_frame and self._raw:
                record = self._finish(bytes(self._raw))
                if record is not None:
                    out.append(record)
            self._raw.clear()
            self._in_frame = True
            pos = flag + 1
        return out

    def _take(self, data: bytes, start: int, end: int) -> None:
        if end <= start:
            return
        if not self._in_frame:
            self._drop(False, end - start)
            return
        if len(self._raw) + end - start > MAX_STUFFED_FRAME:
            self._drop(False, len(self._raw) + end - start)
            self._raw.clear()
            self._in_frame = False
            return
        self._raw += data[start:end]

    def _finish(self, raw: bytes) -> bytes | None:
        body = unstuff(raw)
        if body is None or len(body) < 2 or checksum(body[:-1]) != body[-1]:
            self._drop(True, 0)
            return None
        return body[:-1]
