"""HL7 v2 observations over MLLP, IHE PCD-01 "Communicate PCD Data" (hl7-pcd01).

Network monitors and their gateways (Mindray, Philips, GE, Nihon Kohden, Welch
Allyn) send ORU^R01 messages with ISO/IEEE 11073 (MDC) coded OBX rows over TCP.
:class:`Hl7Pcd01Codec` deframes MLLP on any number of channels (one per TCP
connection: :meth:`~Hl7Pcd01Codec.feed_channel`; :meth:`~Hl7Pcd01Codec.feed` is
channel 0), decodes the observations for one bed and owes one MLLP-framed
acknowledgement per message (:meth:`~Hl7Pcd01Codec.replies`). Code and unit maps
live in :mod:`monitor.devices.codecs.hl7_codes` and ``resources/hl7_code_maps``.

Choices (documented for review):

* **Parser.** Our own, not hl7apy: hl7apy builds a validated element tree per
  message and decoded about 30 messages a second (CPU time, one core, an
  11-row PCD-01 message, tolerant or strict), where a split on the message's
  own separators decodes 6000 to 8000 a second with their ACKs (CPU time; see
  bench/RESULTS.md) and lets every fault be counted and answered as this codec
  chooses. hl7apy validates our ACKs in the tests.
* **MLLP** (per channel): a message is the bytes between ``0x0B`` and ``0x1C
  0x0D``. Bytes outside a frame are skipped and counted (``bytes_discarded``,
  ``garbage``); a start block inside a frame drops the unfinished frame before
  it (``truncated_frames``). A frame longer than :data:`MAX_MESSAGE_BYTES`
  (1 MiB) is discarded as it arrives (only its first :data:`HEAD_BYTES` are kept,
  to read MSH), counted (``too_large``) and answered AR when its MSH-10 can be
  read; a start block before its end makes it a truncated frame like any other
  (dropped unanswered: the sender resends what it sees unanswered). A read is
  never copied whole into a channel: a channel never holds more than 1 MiB.
* **Separators** come from MSH-1 and MSH-2 (any characters, never assumed
  ``|^~\\&``); the ACK is written with the sender's separators. Escape
  sequences ``\\F\\ \\S\\ \\T\\ \\R\\ \\E\\`` and ``\\Xhh..\\`` are decoded,
  other escapes (highlighting, formatting) dropped. Segments end at CR; LF and
  CR LF are tolerated and counted (``lf_segments``). Text is UTF-8, else
  Latin-1.
* **Acknowledgements** (HL7 v2.6 ch. 2). Original mode (MSH-15 and MSH-16
  empty): one ACK per message, MSA-1 AA, AE (a message we cannot fully use: a
  bad value, a segment without its fields, bad encoding characters; the good
  rows are still used) or AR (refused: not ORU^R01, version outside 2.3-2.8,
  processing id other than P (training and debugging data are no patient's),
  too large). Enhanced mode: a commit ACK (CA, CE, CR for AA, AE, AR) when
  MSH-15 asks (AL, or ER on an error, SU on success; empty counts as AL), then an
  application ACK (AA, AE, AR) when MSH-16 asks (same rules, empty: none);
  both NE: no answer. MSA-2 is MSH-10 as sent; the ACK's MSH swaps
  sending and receiving application and facility, keeps MSH-11 and MSH-12, and
  is ``ACK^<trigger>^ACK`` (``ACK^<trigger>`` for 2.3/2.3.1). AE/AR/CE/CR carry
  an ERR segment with an HL7 table 0357 code and a short reason (ERR-2
  location, ERR-3, ERR-4 ``E``, ERR-8 from 2.5 on; ERR-1 and MSA-3 before). A
  message without a readable MSH-10 (no MSH, a letter as field separator) gets
  no ACK (there is nothing to acknowledge it by), and an ACK received is never
  answered (``acks_received``).
* **Routing** (``bed``, case-insensitive, exact match of a component or
  subcomponent): PV1-3 (all repetitions), OBX-18 of any OBX, MSH-3. ``None``
  takes every message. A message for another bed is answered AA (whatever its
  rows), not decoded, and counted (``other_bed``); its key (PV1-3 as sent, else OBX-18, else MSH-3)
  goes into :attr:`beds_seen` (the :data:`BEDS_SEEN_MAX` most recent keys).
* **Observations.** OBX-3 (code, text, coding system) is looked up in the code
  maps (a clinic's files, the vendor maps, then MDC). NM and SN (a plain
  ``^number``) values; OBX-11 F, R or C carries a value, any other status
  (X, D, W, P, I, empty...) gives no value (a NaN reading for a vital). A row
  with a value but no OBX-2 is read as NM (``no_value_type``).
  Text where a number is due: no value for that row, the message answered AE
  (``bad_value``). OBX rows without a value type (MDS/VMD/channel headers) and
  with other value types (CWE, ST...) are skipped (``non_numeric_obx``).
* **Which row takes a vital.** When one message carries several rows for one
  vital (two SpO2 channels, two temperatures), a row with a value type wins over
  one without, then the map's lowest ``priority``, then the row with the code and
  OBX-4 containment that took the vital last time (so the vital stays on one
  channel whatever the row order), then the first in the message; the others,
  told apart by containment, are device numerics labelled ``<OBX-3 text>
  <OBX-4>``. Rows mapped to a label (invasive pressures) and unknown codes are device numerics
  with their code (OBX-3.1 as a number, else a CRC-32 of it), the label or
  OBX-3 text (with `` <OBX-4>`` added from the second row of one code in a
  message on), their value unconverted and their unit text (``unknown_codes``).
* **Units** (OBX-6: MDC code, MDC reference id or UCUM text): kPa -> mmHg,
  degF -> degC (converted values rounded to 0.1, temperatures 0.01). A vital in a
  unit of another dimension (EtCO2 in %), a unit we do not know or a missing unit
  where the vital's unit is ambiguous gives a device numeric with the unit text
  instead (``unit_mismatch``, ``unknown_units``, ``unit_missing``), never a value
  shown in a wrong unit.
* **NIBP** (sys, dia, mean) is emitted only for a new determination: its OBX-14
  time (of the first NIBP row that has one, its own or its parent row's) or any
  of its values differ from the last one emitted (on any channel). OBR-7 and MSH-7 are not used for this:
  gateways restamp them every cycle. A determination with no value at all emits
  nothing. Two determinations with equal values and no OBX-14 count as one.
* **Waves.** The pleth (MDC_PULS_OXIM_PLETH 150452, or a mapped code) from NA
  (samples as components) or MA (samples as repetitions, the first channel)
  rows; the first pleth row of a message only (``wave_skipped``). The sample
  rate comes from a row of the same message whose OBX-3 text is
  ``MDC_ATTR_SAMP_RATE`` (Hz; the one whose OBX-4 shares the longest prefix
  with the wave's) or ``MDC_ATTR_TIME_PD_SAMP`` (a period in s, or ms with
  unit ms / MDC_DIM_MILLI_SEC); without one the wave is not emitted
  (``wave_no_rate``). Non-numeric samples are NaN. Chunks are laid end to end
  by :class:`~monitor.devices.codecs.base.WaveTimeline` on arrival time.
* **Time.** Readings carry the host arrival time ``t``; ``device_time`` is
  OBX-14, else the OBX-14 of the nearest parent row in the containment tree (a
  channel or VMD row whose OBX-4 is a prefix: ``1.0.1`` for ``1.0.1.2``, as
  IHE examples stamp the NIBP compound row), else OBR-7, else MSH-7 (HL7 DTM;
  its ``+/-ZZZZ`` offset honoured, none: the host's local time). A device time more than :data:`FUTURE_TOLERANCE_S`
  (5 min) ahead of ``t`` is not kept (the value is; ``future_time``).
* **Link state**: "" before any message; "receiving for bed KEY" (or "receiving
  (any bed)"); "messages for other beds only (seen: A, B)" when only other beds
  were heard for :data:`OTHER_BED_QUIET_S`; "last message malformed: <reason>" or
  "last message refused: <reason>" after one. :attr:`~Hl7Pcd01Codec.status_detail`
  gives the counts ("120 messages, 3 for other beds, 1 malformed").
* Never raises out of ``feed*`` (an internal error counts as ``internal_error``
  and is answered AE); replies owed are bounded per channel
  (:data:`MAX_PENDING_REPLIES`, oldest dropped).
"""

from __future__ import annotations

import functools
import math
import re
import time
import zlib
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import ClassVar

import numpy as np

from monitor.core.reading import (
    Quality,
    Reading,
    WaveChunk,
    make_device_numeric,
    make_reading,
)
from monitor.core.vitals import Vital
from monitor.devices.codecs.base import Codec, CodecItem, SerialSettings, WaveTimeline
from monitor.devices.codecs.hl7_codes import (
    CodeEntry,
    CodeMaps,
    default_unit,
    lookup_unit,
    vital_dimension,
)
from monitor.devices.mllp_protocol import END_BLOCK, START_BLOCK

SOURCE = "hl7-pcd01"
MAX_MESSAGE_BYTES = 1 << 20
"""A larger MLLP frame is discarded (and answered AR when its MSH-10 can be read)."""
HEAD_BYTES = 4096
"""Bytes kept of a frame being discarded, to read its MSH."""
MAX_PENDING_REPLIES = 256
BEDS_SEEN_MAX = 20
OTHER_BED_QUIET_S = 10.0
"""Only other beds heard for this long: the link state says so."""
FUTURE_TOLERANCE_S = 300.0
SUPPORTED_VERSIONS = (3, 8)
"""Accepted MSH-12: 2.3 through 2.8 (with any sub-release)."""
VALUED_STATUS = frozenset({"F", "R", "C"})
NIBP_VITALS = (Vital.NIBP_SYS, Vital.NIBP_DIA, Vital.NIBP_MEAN)
RATE_TEXT = "mdc_attr_samp_rate"
PERIOD_TEXT = "mdc_attr_time_pd_samp"

_START = START_BLOCK[0]
_STD_ENCODING = "^~\\&"

# HL7 table 0357 (message error condition codes)
ERR_SEGMENT_SEQUENCE = 100
ERR_REQUIRED_FIELD = 101
ERR_DATA_TYPE = 102
ERR_UNSUPPORTED_TYPE = 200
ERR_UNSUPPORTED_EVENT = 201
ERR_UNSUPPORTED_PROCESSING = 202
ERR_UNSUPPORTED_VERSION = 203
ERR_INTERNAL = 207
_ERR_TEXT = {100: "Segment sequence error", 101: "Required field missing",
             102: "Data type error", 200: "Unsupported message type",
             201: "Unsupported event code", 202: "Unsupported processing id",
             203: "Unsupported version id", 207: "Application internal error"}

_DTM = re.compile(r"(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:\.(\d{1,4}))?"
                  r"(?:([+-])(\d{2})(\d{2}))?$")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)$")


# -- ER7 text ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Separators:
    """MSH-1 and MSH-2: field, component, repetition, escape and subcomponent characters."""

    field: str = "|"
    component: str = "^"
    repetition: str = "~"
    escape: str = "\\"
    subcomponent: str = "&"

    @property
    def encoding(self) -> str:
        return self.component + self.repetition + self.escape + self.subcomponent

    def unescape(self, text: str) -> str:
        """Decode the escape sequences of one component's text."""
        esc = self.escape
        if not esc or esc not in text:
            return text
        parts = text.split(esc)
        if len(parts) < 3:
            return text
        out = [parts[0]]
        table = {"F": self.field, "S": self.component, "T": self.subcomponent,
                 "R": self.repetition, "E": esc}
        i = 1
        while i < len(parts):
            if i + 1 >= len(parts):              # a lone escape character: keep it
                out.append(esc + parts[i])
                break
            seq = parts[i]
            if seq in table:
                out.append(table[seq])
            elif seq[:1] == "X" and len(seq) > 1:
                try:
                    out.append(bytes.fromhex(seq[1:]).decode("latin-1"))
                except ValueError:
                    pass
            elif seq == ".br":
                out.append("\n")
            # other sequences (\H\ \N\ formatting): dropped
            out.append(parts[i + 1])
            i += 2
        return "".join(out)

    def escape_text(self, text: str) -> str:
        """Our own text made safe inside a component."""
        esc = self.escape
        text = text.replace(esc, f"{esc}E{esc}")
        for ch, code in ((self.field, "F"), (self.component, "S"), (self.repetition, "R"),
                         (self.subcomponent, "T")):
            text = text.replace(ch, f"{esc}{code}{esc}")
        return text.replace("\r", " ").replace("\n", " ")

    def components(self, raw: str) -> list[str]:
        """The components of the first repetition of a field, unescaped."""
        if self.repetition in raw:
            raw = raw.split(self.repetition, 1)[0]
        parts = raw.split(self.component)
        if self.escape in raw:
            return [self.unescape(c) for c in parts]
        return parts

    def first(self, raw: str) -> str:
        """The first component of the first repetition of a field, unescaped."""
        for ch in (self.repetition, self.component, self.subcomponent):
            if ch in raw:
                raw = raw.split(ch, 1)[0]
        return self.unescape(raw) if self.escape in raw else raw

    def all_components(self, raw: str) -> list[str]:
        """Every component and subcomponent of every repetition, unescaped."""
        out: list[str] = []
        for rep in raw.split(self.repetition):
            for comp in rep.split(self.component):
                if self.subcomponent in comp:
                    out.extend(self.unescape(s) for s in comp.split(self.subcomponent))
                out.append(self.unescape(comp))
        return out


@functools.lru_cache(maxsize=512)
def parse_dtm(text: str) -> float | None:
    """An HL7 DTM (``YYYY[MM[DD[HH[MM[SS[.S...]]]]]][+/-ZZZZ]``) as Unix seconds; None if bad.

    Without an offset the host's local time is assumed.
    """
    m = _DTM.match(text.strip())
    if m is None:
        return None
    y, mo, d, h, mi, s, frac, sign, zh, zm = m.groups()
    try:
        dt = datetime(int(y), int(mo or 1), int(d or 1), int(h or 0), int(mi or 0),
                      int(s or 0))
        if sign is not None:
            off = timedelta(hours=int(zh), minutes=int(zm))
            dt = dt.replace(tzinfo=timezone(off if sign == "+" else -off))
        value = dt.timestamp()
    except (ValueError, OverflowError, OSError):
        return None
    if frac:
        value += int(frac) / 10 ** len(frac)
    return value


def format_dtm(t: float) -> str:
    """Host time ``t`` as an HL7 DTM with the local offset (``YYYYMMDDHHMMSS+ZZZZ``)."""
    try:
        lt = time.localtime(t)
    except (OverflowError, OSError, ValueError):
        lt = time.localtime()
    off = (lt.tm_gmtoff or 0) // 60
    sign = "+" if off >= 0 else "-"
    return time.strftime("%Y%m%d%H%M%S", lt) + f"{sign}{abs(off) // 60:02d}{abs(off) % 60:02d}"


def _number(text: str) -> float | None:
    text = text.strip()
    if not _NUMBER.match(text):
        return None
    return float(text)


def _code_int(code: str) -> int:
    if code.isdigit() and len(code) <= 18:
        return int(code)
    return zlib.crc32(code.encode("utf-8", "replace")) & 0x7FFFFFFF


# -- messages ----------------------------------------------------------------------------

class _Unusable(Exception):
    """The message is answered with an error and not decoded."""

    def __init__(self, ack: str, err: int, reason: str, where: tuple[str, int, int] | None = None
                 ) -> None:
        super().__init__(reason)
        self.ack = ack
        self.err = err
        self.reason = reason
        self.where = where


@dataclass
class _Header:
    """What the ACK needs of MSH (raw field texts in the sender's separators)."""

    seps: Separators
    fields: list[str]           # fields[n] is MSH-(n+1); fields[1] is MSH-2
    control_id: str             # MSH-10 as sent (raw)
    version: str = ""
    trigger: str = ""

    def get(self, n: int) -> str:
        """Raw MSH-n."""
        i = n - 1
        return self.fields[i] if 0 <= i < len(self.fields) else ""


@dataclass(slots=True)
class _Obx:
    index: int
    value_type: str
    code: str
    text: str
    system: str
    containment: str
    value: str                  # raw OBX-5
    unit: list[str]
    status: str
    time_raw: str
    device_time: float | None
    entry: CodeEntry | None = None


@dataclass
class _Outcome:
    """The answer owed for one message."""

    code: str = "AA"            # AA, AE or AR
    err: int = 0
    reason: str = ""
    where: tuple[str, int, int] | None = None

    def error(self, err: int, reason: str, where: tuple[str, int, int] | None = None) -> None:
        if self.code == "AA":
            self.code, self.err, self.reason, self.where = "AE", err, reason, where


@dataclass
class _Channel:
    buf: bytearray = field(default_factory=bytearray)
    in_frame: bool = False
    discarding: bool = False     # inside a frame that grew too large
    head: bytes = b""
    replies: list[bytes] = field(default_factory=list)


# -- the codec ---------------------------------------------------------------------------

BED_SETTING = "; bed="
"""How the listener's settings text (recorded with the session) names its bed."""
ANY_BED = "any"


def bed_setting(bed: str | None) -> str:
    """The part of the listener's settings text that names the bed (``any``: every bed)."""
    return f"{BED_SETTING}{ANY_BED if bed is None else bed}"


class Hl7Pcd01Codec(Codec):
    """HL7 v2 ORU^R01 (IHE PCD-01) over MLLP, for one bed (see the module notes).

    Parameters
    ----------
    bed : str or None
        The routing key (matched against PV1-3, OBX-18 and MSH-3 components,
        case-insensitively); ``None`` takes every message.
    code_maps : sequence of Path, optional
        A clinic's own code map files, looked up before the shipped ones.

    Attributes
    ----------
    beds_seen : dict of str to int
        Routing keys of other beds' messages (PV1-3 as sent, else OBX-18, else
        MSH-3) and how many came, the :data:`BEDS_SEEN_MAX` most recent last.
    maps : CodeMaps
        The code maps in lookup order.

    Notes
    -----
    A driver calls :meth:`feed_channel` with each connection's bytes, then
    writes :meth:`replies` of that channel back to it, and calls
    :meth:`close_channel` when the connection ends. Decoding state (NIBP
    determinations, routing counts, which row takes a vital) is shared by all
    channels: one bed, whichever connection its messages come on.

    Raises
    ------
    monitor.devices.codecs.hl7_codes.CodeMapError
        A code map file is refused (the message names the file and the key).
    """

    device_name = "HL7 monitor"
    device_kind = "monitor"

    name: ClassVar[str] = "hl7-pcd01"
    description: ClassVar[str] = "HL7 v2 observations, IHE PCD-01 (network monitors and gateways)"
    serial_defaults: ClassVar[SerialSettings] = SerialSettings()
    transport: ClassVar[str] = "tcp"
    carries_nibp: ClassVar[bool] = True
    measures: ClassVar[frozenset[Vital] | None] = frozenset({
        Vital.HR, Vital.PULSE_RATE, Vital.SPO2, Vital.NIBP_SYS, Vital.NIBP_DIA,
        Vital.NIBP_MEAN, Vital.RESP_RATE, Vital.ETCO2, Vital.TEMP, Vital.PLETH})

    @classmethod
    def replay_options(cls, settings_text: str | None) -> dict[str, object]:
        """The bed the session's listener took (``; bed=KEY`` in its settings text).

        An HL7 capture holds every message the listener heard, other beds' too:
        a replay routes them as the session did. Without a recorded bed (a plain
        capture file), every bed is taken.
        """
        if not settings_text or BED_SETTING not in settings_text:
            return {}
        bed = settings_text.rsplit(BED_SETTING, 1)[1]
        return {"bed": None if bed == ANY_BED else bed}

    def __init__(self, bed: str | None = None,
                 code_maps: Sequence[Path] | None = None) -> None:
        super().__init__()
        bed = bed.strip() if bed is not None else None
        self.bed: str | None = bed or None
        self._bed_cf = self.bed.casefold() if self.bed else None
        self.maps = CodeMaps(code_maps or ())
        self.beds_seen: dict[str, int] = OrderedDict()
        self._channels: dict[int, _Channel] = {}
        self._acks_sent = 0
        self._state = ""
        self._last_ours_t: float | None = None
        self._nibp_last: tuple | None = None
        self._wave: WaveTimeline | None = None
        self._vital_source: dict[Vital, tuple[str, str]] = {}

    # -- public API ------------------------------------------------------------------

    def feed(self, data: bytes, t: float) -> list[CodecItem]:
        """Channel 0 (a replay, the in-process simulator)."""
        return self.feed_channel(0, data, t)

    def feed_channel(self, channel: int, data: bytes, t: float) -> list[CodecItem]:
        """Bytes that arrived on one connection at host time ``t``; never raises."""
        items: list[CodecItem] = []
        try:
            ch = self._channels.get(channel)
            if ch is None:
                ch = self._channels[channel] = _Channel()
            self.stats.bytes_in += len(data)
            for message, too_large in self._deframe(ch, bytes(data)):
                self._message(ch, message, too_large, t, items)
        except Exception:                        # noqa: BLE001 - never out of feed
            self._count("internal_error")
        return items

    def replies(self, channel: int) -> list[bytes]:
        """The MLLP-framed ACKs owed on ``channel``, in order (and forgets them)."""
        ch = self._channels.get(channel)
        if ch is None or not ch.replies:
            return []
        out, ch.replies = ch.replies, []
        return out

    def tick(self, t: float) -> list[bytes]:
        """The replies owed on channel 0."""
        return self.replies(0)

    def close_channel(self, channel: int) -> None:
        """Forget a connection: its partial message (counted as discarded) and unsent ACKs."""
        ch = self._channels.pop(channel, None)
        if ch is not None and ch.in_frame:
            self.stats.bytes_discarded += len(ch.buf)
            self._count("truncated_frames")

    @property
    def link_state(self) -> str:
        return self._state

    @property
    def link_ok(self) -> bool:
        """Messages for this bed arrive (or none arrived yet); not while only other beds' do,
        or after a malformed or refused one."""
        return self._state == "" or self._state.startswith("receiving")

    @property
    def status_detail(self) -> str:
        """Messages heard, and of them for other beds, malformed and refused ("" before any)."""
        extra = self.stats.extra
        total = extra.get("messages", 0)
        if not total:
            return ""
        parts = [f"{total} message{'s' if total != 1 else ''}"]
        for key, words in (("other_bed", "for other beds"), ("malformed", "malformed"),
                           ("refused", "refused")):
            if extra.get(key):
                parts.append(f"{extra[key]} {words}")
        return ", ".join(parts)

    @property
    def buffered(self) -> int:
        """Bytes held in partial messages, all channels."""
        return sum(len(c.buf) + len(c.head) for c in self._channels.values())

    # -- MLLP ------------------------------------------------------------------------

    def _count(self, key: str, n: int = 1) -> None:
        self.stats.extra[key] = self.stats.extra.get(key, 0) + n

    def _garbage(self, n: int) -> None:
        if n > 0:
            self.stats.bytes_discarded += n
            self._count("garbage")

    def _deframe(self, ch: _Channel, data: bytes) -> list[tuple[bytes, bool]]:
        """Complete frames (text, too_large) in ``data`` appended to the channel's bytes."""
        out: list[tuple[bytes, bool]] = []
        pos = 0
        n = len(data)
        next_end = -2        # the next end block at or after pos (-1: none; -2: not looked)

        def find_end(at: int) -> int:
            # Looked up again only once passed: a run of start blocks stays linear.
            nonlocal next_end
            if next_end == -2 or 0 <= next_end < at:
                next_end = data.find(END_BLOCK, at)
            return next_end

        while pos < n:
            if ch.discarding:
                if ch.buf[-1:] == END_BLOCK[:1] and data[pos:pos + 1] == END_BLOCK[1:]:
                    end, skip = pos, 1                 # the 0x1C ended the previous read
                else:
                    end, skip = find_end(pos), 2
                    restart = data.find(START_BLOCK, pos, end if end >= 0 else n)
                    if restart >= 0:                   # its end was lost: a new message
                        self.stats.bytes_discarded += restart - pos
                        self._count("truncated_frames")
                        ch.discarding, ch.head, ch.buf = False, b"", bytearray()
                        pos = restart + 1
                        continue
                if end < 0:
                    self.stats.bytes_discarded += n - pos
                    ch.buf = bytearray(data[-1:]) if data[-1:] == END_BLOCK[:1] else bytearray()
                    return out
                self.stats.bytes_discarded += end - pos
                out.append((ch.head, True))
                ch.discarding, ch.in_frame, ch.head = False, False, b""
                ch.buf = bytearray()
                pos = end + skip
                continue
            if not ch.in_frame:
                start = data.find(START_BLOCK, pos)
                if start < 0:
                    self._garbage(n - pos)
                    return out
                self._garbage(start - pos)
                ch.in_frame = True
                ch.buf = bytearray()
                pos = start + 1
                continue
            # inside a frame: its end block (perhaps split across reads), or a new start
            if ch.buf[-1:] == END_BLOCK[:1] and data[pos:pos + 1] == END_BLOCK[1:]:
                del ch.buf[-1:]
                self._frame_done(ch, out)
                pos += 1
                continue
            end = find_end(pos)
            restart = data.find(START_BLOCK, pos, end if end >= 0 else n)
            if restart >= 0:
                self.stats.bytes_discarded += len(ch.buf) + (restart - pos)
                self._count("truncated_frames")
                ch.buf = bytearray()
                pos = restart + 1
                continue
            stop = n if end < 0 else end
            room = MAX_MESSAGE_BYTES - len(ch.buf)
            if stop - pos > room:                      # too large: keep its head only
                ch.buf += data[pos:pos + max(room, 0)]
                ch.head = bytes(ch.buf[:HEAD_BYTES])
                self.stats.bytes_discarded += len(ch.buf) + (stop - pos - max(room, 0))
                ch.buf = bytearray()
                if end < 0:
                    if data[-1:] == END_BLOCK[:1]:
                        ch.buf = bytearray(END_BLOCK[:1])
                    ch.discarding = True
                    return out
                out.append((ch.head, True))
                ch.in_frame, ch.head = False, b""
                pos = end + 2
                continue
            ch.buf += data[pos:stop]
            if end < 0:
                return out
            self._frame_done(ch, out)
            pos = end + 2
        return out

    @staticmethod
    def _frame_done(ch: _Channel, out: list[tuple[bytes, bool]]) -> None:
        frame = bytes(ch.buf)
        ch.buf = bytearray()
        ch.in_frame = False
        if len(frame) > MAX_MESSAGE_BYTES:
            out.append((frame[:HEAD_BYTES], True))
        else:
            out.append((frame, False))

    # -- one message -----------------------------------------------------------------

    def _message(self, ch: _Channel, raw: bytes, too_large: bool, t: float,
                 items: list[CodecItem]) -> None:
        self._count("messages")
        self.stats.last_frame_t = t
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")
        if "\n" in text:
            self._count("lf_segments")
            text = text.replace("\r\n", "\r").replace("\n", "\r")
        segments = [s for s in text.lstrip(" \t\r\x00\ufeff").split("\r") if s.strip()]
        if too_large:
            segments = segments[:1]
            self._count("too_large")
        header, problem = self._header(segments)
        if header is None:
            self._bad(problem)
            return
        if header.get(9).split(header.seps.component, 1)[0].strip().upper() == "ACK":
            self._count("acks_received")
            return
        outcome = _Outcome()
        try:
            if problem:
                raise _Unusable("AE", ERR_REQUIRED_FIELD, problem, ("MSH", 1, 2))
            if too_large:
                raise _Unusable("AR", ERR_INTERNAL,
                                f"message larger than {MAX_MESSAGE_BYTES // 1024} KiB")
            self._check_header(header)
            decoded = self._decode(header, segments, t, outcome)
            if decoded is not None:
                items.extend(decoded)
        except _Unusable as exc:
            outcome = _Outcome(exc.ack, exc.err, exc.reason, exc.where)
        except Exception:                        # noqa: BLE001 - answered, never raised
            self._count("internal_error")
            outcome = _Outcome("AE", ERR_INTERNAL, "internal error")
        if outcome.code == "AA":
            self.stats.frames_ok += 1
        else:
            self.stats.frames_bad += 1
            if outcome.code == "AR":
                self._count("refused")
                self._state = f"last message refused: {outcome.reason}"
            else:
                self._count("malformed")
                self._state = f"last message malformed: {outcome.reason}"
        self._answer(ch, header, outcome, t)

    def _bad(self, reason: str) -> None:
        """A message that cannot be acknowledged."""
        self.stats.frames_bad += 1
        self._count("malformed")
        self._count("no_ack")
        self._state = f"last message malformed: {reason}"

    def _header(self, segments: list[str]) -> tuple[_Header | None, str]:
        """MSH read with its own separators; (None, reason) when there is no MSH-10 to answer.

        A second element that is not empty is a problem answered AE (bad encoding characters).
        """
        if not segments or not segments[0].startswith("MSH"):
            return None, "no MSH segment"
        msh = segments[0]
        if len(msh) < 5:
            return None, "MSH too short"
        fs = msh[3]
        if fs.isalnum() or fs.isspace():
            return None, f"field separator {fs!r} is not usable"
        fields = msh.split(fs)
        fields[0] = fs                               # MSH-1 is the separator itself
        enc = fields[1] if len(fields) > 1 else ""
        problem = ""
        if (len(enc) < 4 or len(enc) > 5 or len(set(enc[:4])) < 4 or fs in enc
                or any(c.isalnum() or c.isspace() for c in enc)):
            problem = f"bad encoding characters {enc[:8]!r} in MSH-2"
            seps = Separators(fs, *_STD_ENCODING)
        else:
            seps = Separators(fs, enc[0], enc[1], enc[2], enc[3])
        control = fields[9] if len(fields) > 9 else ""
        if not control.strip():
            return None, "no message control id (MSH-10)"
        header = _Header(seps, fields, control)
        header.version = seps.components(header.get(12))[0].strip()
        msg_type = seps.components(header.get(9))
        header.trigger = msg_type[1].strip() if len(msg_type) > 1 else ""
        return header, problem

    def _check_header(self, header: _Header) -> None:
        seps = header.seps
        msg_type = [c.strip().upper() for c in seps.components(header.get(9))]
        if msg_type[0] != "ORU":
            raise _Unusable("AR", ERR_UNSUPPORTED_TYPE,
                            f"message type {msg_type[0] or 'missing'} is not ORU", ("MSH", 1, 9))
        if len(msg_type) < 2 or msg_type[1] != "R01":
            raise _Unusable("AR", ERR_UNSUPPORTED_EVENT,
                            f"event {msg_type[1] if len(msg_type) > 1 else 'missing'} is not R01",
                            ("MSH", 1, 9))
        version = header.version
        m = re.match(r"2\.(\d+)", version)
        if m is None or not SUPPORTED_VERSIONS[0] <= int(m[1]) <= SUPPORTED_VERSIONS[1]:
            raise _Unusable("AR", ERR_UNSUPPORTED_VERSION,
                            f"HL7 version {version or 'missing'} not supported (2.3 to 2.8)",
                            ("MSH", 1, 12))
        processing = seps.components(header.get(11))[0].strip().upper()
        if processing != "P":
            raise _Unusable("AR", ERR_UNSUPPORTED_PROCESSING,
                            f"processing id {processing or 'missing'} is not P (production)",
                            ("MSH", 1, 11))

    # -- routing and decoding --------------------------------------------------------

    def _decode(self, header: _Header, segments: list[str], t: float,
                outcome: _Outcome) -> list[CodecItem] | None:
        seps = header.seps
        fs = seps.field
        msh_time = parse_dtm(seps.components(header.get(7))[0])
        senders = frozenset(c.strip().casefold() for c in seps.all_components(header.get(3))
                            if c.strip())
        keys: set[str] = set(senders)
        bed_shown = ""
        obr_time: float | None = None
        stamped: dict[str, tuple[str, float]] = {}      # OBX-4 -> its OBX-14 (raw, time)
        obx: list[_Obx] = []
        equipment_shown = ""
        counts: dict[str, int] = {}
        for segment in segments[1:]:
            name = segment[:3]
            counts[name] = counts.get(name, 0) + 1
            if name == "PV1":
                f = segment.split(fs)
                if len(f) > 3 and f[3]:
                    keys.update(c.strip().casefold() for c in seps.all_components(f[3]))
                    if not bed_shown:
                        bed_shown = "^".join(seps.components(f[3])).strip("^")
            elif name == "OBR":
                f = segment.split(fs)
                obr_time = parse_dtm(seps.components(f[7])[0]) if len(f) > 7 and f[7] else None
            elif name == "OBX":
                f = segment.split(fs)
                n = counts[name]
                if len(f) > 18 and f[18]:
                    comps = seps.all_components(f[18])
                    keys.update(c.strip().casefold() for c in comps)
                    if not equipment_shown:
                        equipment_shown = "^".join(seps.components(f[18])).strip("^")
                if len(f) < 4 or not f[3]:
                    outcome.error(ERR_REQUIRED_FIELD,
                                  f"OBX {n} has no observation identifier (OBX-3)", ("OBX", n, 3))
                    continue
                if len(f) < 15:
                    f.extend([""] * (15 - len(f)))
                code3 = seps.components(f[3])
                time_raw = seps.first(f[14]).strip() if f[14] else ""
                dt = parse_dtm(time_raw) if time_raw else None
                containment = seps.first(f[4]).strip()
                if dt is not None:
                    if containment:
                        stamped[containment] = (time_raw, dt)
                elif containment and stamped:
                    # a metric without OBX-14 takes its channel's or VMD's (the parent rows)
                    parent = containment
                    while "." in parent:
                        parent = parent.rsplit(".", 1)[0]
                        if parent in stamped:
                            time_raw, dt = stamped[parent]
                            break
                if dt is None:
                    dt = obr_time if obr_time is not None else msh_time
                obx.append(_Obx(
                    n, f[2].strip().upper(), code3[0].strip(),
                    code3[1].strip() if len(code3) > 1 else "",
                    code3[2].strip() if len(code3) > 2 else "",
                    containment, f[5],
                    seps.components(f[6]) if f[6] else [],
                    seps.first(f[11]).strip().upper(), time_raw, dt))
        keys.discard("")
        if self._bed_cf is not None and self._bed_cf not in keys:
            shown = (bed_shown or equipment_shown
                     or "^".join(seps.components(header.get(3))).strip("^") or "(no key)")
            self._other_bed(shown[:64], t)
            outcome.code = "AA"                  # not ours to judge: accepted, ignored
            return None
        self._last_ours_t = t
        self._state = (f"receiving for bed {self.bed}" if self.bed else "receiving (any bed)")
        return self._observations(obx, seps, senders, t, outcome)

    def _other_bed(self, shown: str, t: float) -> None:
        self._count("other_bed")
        seen = self.beds_seen
        seen[shown] = seen.pop(shown, 0) + 1            # most recent last
        while len(seen) > BEDS_SEEN_MAX:
            seen.pop(next(iter(seen)))
        if self._last_ours_t is None or t - self._last_ours_t > OTHER_BED_QUIET_S:
            recent = list(seen)[::-1][:5]
            self._state = f"messages for other beds only (seen: {', '.join(recent)})"

    def _observations(self, rows: list[_Obx], seps: Separators, senders: frozenset[str],
                      t: float, outcome: _Outcome) -> list[CodecItem]:
        rates: list[tuple[str, float]] = []
        winners: dict[Vital, _Obx] = {}
        for row in rows:
            text_cf = row.text.casefold()
            if text_cf in (RATE_TEXT, PERIOD_TEXT):
                rate = self._rate(row, seps, text_cf == PERIOD_TEXT)
                if rate is not None:
                    rates.append((row.containment, rate))
                continue
            row.entry = self.maps.lookup(row.code, row.text, row.system, senders)
            vital = row.entry.vital if row.entry is not None else None
            if vital is None:
                continue
            if vital is Vital.PLETH:
                if row.value_type not in ("NA", "MA"):
                    continue
            elif row.value_type not in ("NM", "SN", ""):
                continue
            best = winners.get(vital)
            if best is None or self._rank(vital, row) < self._rank(vital, best):
                winners[vital] = row
        for vital, row in winners.items():
            self._vital_source[vital] = (row.code, row.containment)
        win_rows = {id(r): v for v, r in winners.items()}
        items: list[CodecItem] = []
        nibp: list[Reading] = []
        nibp_time = ""
        numeric_codes: set[str] = set()
        for row in rows:
            if row.entry is None and row.text.casefold() in (RATE_TEXT, PERIOD_TEXT):
                continue
            vtype = row.value_type
            if vtype in ("NA", "MA"):
                if win_rows.get(id(row)) is Vital.PLETH:
                    self._wave_item(row, seps, rates, t, items)
                else:
                    self._count("wave_skipped")
                continue
            entry = row.entry
            if vtype == "" and id(row) not in win_rows:
                if not row.value.strip():
                    continue                           # an MDS/VMD/channel header row
                self._count("no_value_type")           # a value without OBX-2: taken as NM
            if vtype not in ("NM", "SN", ""):
                self._count("non_numeric_obx")
                continue
            value, ok = self._value(row, seps, outcome)
            dt = row.device_time
            if dt is not None and dt - t > FUTURE_TOLERANCE_S:
                self._count("future_time")
                dt = None
            vital = win_rows.get(id(row))
            if vital is not None:
                reading = self._reading(vital, row, value, ok, t, dt)
                if reading is None:
                    items.append(self._numeric(row, value, ok, t, dt, entry, second=True))
                elif vital in NIBP_VITALS:
                    nibp.append(reading)
                    if not nibp_time and row.time_raw:
                        nibp_time = row.time_raw
                else:
                    items.append(reading)
                continue
            if entry is None:
                self._count("unknown_codes")
            repeated = row.code in numeric_codes            # a second ART channel
            numeric_codes.add(row.code)
            items.append(self._numeric(row, value, ok, t, dt, entry, second=repeated or (
                entry is not None and entry.vital is not None)))
        if nibp:
            key = (nibp_time, tuple((r.vital.value, r.value if r.valid else None)
                                    for r in sorted(nibp, key=lambda r: r.vital.value)))
            if any(r.valid for r in nibp) and key != self._nibp_last:
                self._nibp_last = key
                items.extend(nibp)
            elif any(r.valid for r in nibp):
                self._count("nibp_repeated")
        return items

    def _rank(self, vital: Vital, row: _Obx) -> tuple[int, int, int]:
        """Which row takes a vital (lowest first): a row with a value type, the map's
        priority, the code and containment that took it last time."""
        return (0 if row.value_type else 1, row.entry.priority if row.entry is not None else 0,
                0 if self._vital_source.get(vital) == (row.code, row.containment) else 1)

    def _value(self, row: _Obx, seps: Separators, outcome: _Outcome) -> tuple[float | None, bool]:
        """The row's number and whether its status lets it carry one."""
        if row.status not in VALUED_STATUS:
            if not row.status:
                self._count("no_status")
            return None, False
        comps = seps.components(row.value)
        if row.value_type == "SN":
            comparator = comps[0].strip()
            rest = [c.strip() for c in comps[2:]]
            if comparator not in ("", "=") or any(rest) or len(comps) < 2:
                self._count("sn_not_a_value")
                return None, False
            text = comps[1]
        else:
            text = comps[0] if len(comps) == 1 else seps.component.join(comps)
        if not text.strip():
            return None, True
        number = _number(text)
        if number is None:
            self._count("bad_value")
            outcome.error(ERR_DATA_TYPE, f"OBX {row.index} value is not a number", ("OBX", row.index, 5))
        return number, True

    def _reading(self, vital: Vital, row: _Obx, value: float | None, ok: bool, t: float,
                 dt: float | None) -> Reading | None:
        """The vital's reading, or None when the unit forbids it (a device numeric then)."""
        if not ok:
            return Reading.invalid(vital, t, Quality.NO_VALUE, dt)
        if any(c.strip() for c in row.unit):
            unit, _ = lookup_unit(row.unit)
            if unit is None:
                self._count("unknown_units")
                return None
        else:
            unit = (row.entry.unit if row.entry is not None and row.entry.unit is not None
                    else default_unit(vital))
            if unit is None:
                self._count("unit_missing")
                return None
        if unit.dimension != vital_dimension(vital):
            self._count("unit_mismatch")
            return None
        if value is None:
            return Reading.invalid(vital, t, Quality.NO_VALUE, dt)
        converted = unit.convert(value)
        if converted != value:
            converted = round(converted, 2 if unit.dimension == "temperature" else 1)
        return make_reading(vital, converted, t, device_time=dt)

    def _numeric(self, row: _Obx, value: float | None, ok: bool, t: float, dt: float | None,
                 entry: CodeEntry | None, second: bool = False) -> CodecItem:
        label = (entry.label if entry is not None and entry.label else None) or row.text or row.code
        if second:
            label = f"{label} {row.containment}".strip()
        unit_text = lookup_unit(row.unit)[1] if row.unit else ""
        quality = Quality.OK if ok else Quality.NO_VALUE
        return make_device_numeric(t, _code_int(row.code), label, value, unit_text, quality,
                                   device_time=dt, source=SOURCE)

    def _rate(self, row: _Obx, seps: Separators, period: bool) -> float | None:
        if row.status not in VALUED_STATUS:
            return None
        number = _number(seps.components(row.value)[0])
        if number is None or number <= 0 or not math.isfinite(number):
            self._count("bad_sample_rate")
            return None
        if not period:
            return number if number <= 100_000 else None
        unit = " ".join(row.unit).casefold()
        seconds = number / 1000.0 if ("ms" in unit.split() or "milli" in unit) else number
        return 1.0 / seconds if seconds > 0 else None

    def _wave_item(self, row: _Obx, seps: Separators, rates: list[tuple[str, float]], t: float,
                   items: list[CodecItem]) -> None:
        if row.status not in VALUED_STATUS:
            self._count("wave_no_value")
            return
        if not rates:
            self._count("wave_no_rate")
            return

        def shared(c: str) -> int:
            a, b = c.split("."), row.containment.split(".")
            n = 0
            while n < min(len(a), len(b)) and a[n] == b[n]:
                n += 1
            return n

        rate = max(rates, key=lambda r: shared(r[0]))[1]
        if row.value_type == "NA":
            texts = row.value.split(seps.component)
        else:
            texts = [rep.split(seps.component, 1)[0] for rep in row.value.split(seps.repetition)]
        try:
            samples = np.array([float(x) for x in texts], dtype=np.float64)
        except ValueError:                     # empty or text samples: those are NaN
            samples = np.array([_number(x) if _number(x) is not None else np.nan
                                for x in texts], dtype=np.float64)
        samples[~np.isfinite(samples)] = np.nan
        if not len(samples):
            return
        if self._wave is None or self._wave.rate_hz != rate:
            self._wave = WaveTimeline(rate)
        t0 = self._wave.start_of(len(samples), t)
        quality = Quality.OK if np.isfinite(samples).any() else Quality.NO_VALUE
        items.append(WaveChunk(Vital.PLETH, t0, rate, samples, quality))

    # -- acknowledgements ------------------------------------------------------------

    def _answer(self, ch: _Channel, header: _Header, outcome: _Outcome, t: float) -> None:
        seps = header.seps
        accept = seps.components(header.get(15))[0].strip().upper()
        application = seps.components(header.get(16))[0].strip().upper()
        ok = outcome.code == "AA"
        if not accept and not application:
            self._queue(ch, self._ack(header, outcome.code, outcome, t))
            return

        def wanted(kind: str) -> bool:
            return kind not in ("NE",) and (kind != "ER" or not ok) and (kind != "SU" or ok)

        if wanted(accept or "AL"):
            self._queue(ch, self._ack(header, "C" + outcome.code[1], outcome, t))
        if application and wanted(application):
            self._queue(ch, self._ack(header, outcome.code, outcome, t))

    def _queue(self, ch: _Channel, message: bytes) -> None:
        ch.replies.append(message)
        self._count("acks_sent")
        if len(ch.replies) > MAX_PENDING_REPLIES:
            del ch.replies[0]
            self._count("replies_dropped")

    def _ack(self, header: _Header, code: str, outcome: _Outcome, t: float) -> bytes:
        """One ACK message, MLLP-framed, in the sender's separators."""
        seps = header.seps
        fs = seps.field
        self._acks_sent += 1
        version = header.version or "2.6"
        old = version in ("2.3", "2.3.1")
        pre25 = old or version.startswith("2.4")
        trigger = header.trigger or "R01"
        msg_type = (seps.component.join(("ACK", seps.escape_text(trigger))) if old else
                    seps.component.join(("ACK", seps.escape_text(trigger), "ACK")))
        msh = fs.join(("MSH", seps.encoding, header.get(5), header.get(6), header.get(3),
                       header.get(4), format_dtm(t), "", msg_type,
                       f"ACK{self._acks_sent:010d}", header.get(11) or "P", header.get(12)))
        ctrl = header.control_id
        segs = [msh]
        if code in ("AA", "CA"):
            segs.append(fs.join(("MSA", code, ctrl)))
        else:
            reason = seps.escape_text(outcome.reason[:80])
            err_text = seps.escape_text(_ERR_TEXT.get(outcome.err, "Error"))
            sub, comp = seps.subcomponent, seps.component
            loc = outcome.where
            if pre25:
                segs.append(fs.join(("MSA", code, ctrl, reason)))
                eld = comp.join((loc[0], str(loc[1]), str(loc[2])) if loc else ("", "", ""))
                segs.append(fs.join(("ERR", eld + comp + sub.join(
                    (str(outcome.err), err_text, "HL70357")))))
            else:
                segs.append(fs.join(("MSA", code, ctrl)))
                erl = comp.join((loc[0], str(loc[1]), str(loc[2]))) if loc else ""
                segs.append(fs.join(("ERR", "", erl, comp.join(
                    (str(outcome.err), err_text, "HL70357")), "E", "", "", "", reason)))
        body = "\r".join(segs) + "\r"
        return START_BLOCK + body.encode("utf-8") + END_BLOCK
