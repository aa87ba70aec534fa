"""Plain text oximeter lines (``SPO2=098 HR=072``), and the line splitter text protocols share.

The "Nonin 1"-style ASCII output of the Nonin 7500/7500FO, Avant 9600,
2500 PalmSAT and BT4000 sends a header (model, date, time) at power-up, then
once per second ``SPO2=XXX HR=YYY`` ending CR LF, optionally followed by
``F`` (fast mode) or ``*`` (event marker). ``SPO2=--- HR=---`` means no data.
There is no checksum: a line is accepted only when it matches that shape
exactly, so line noise shows up as a rejected line, not as a value.
"""

from __future__ import annotations

import logging
import re
from typing import NamedTuple

from monitor.core.reading import Quality, Reading, make_reading
from monitor.core.vitals import Vital
from monitor.devices.codecs.base import (
    MAX_BUFFER_BYTES,
    Codec,
    CodecItem,
    CodecStats,
    SerialSettings,
)
from monitor.devices.codecs.plausibility import PlausibilityFilter

log = logging.getLogger(__name__)

MAX_LINE_BYTES = 512
"""A longer "line" is cut to its last this many bytes (the rest counted as discarded)."""

_EOL = re.compile(rb"[\r\n]")


class Line(NamedTuple):
    """One line cut from the stream, without its terminator.

    ``overlong`` says the line was longer than the splitter keeps: only its
    last bytes are in ``data`` and the overflow has already been counted as
    a bad frame.
    """

    data: bytes
    overlong: bool


class LineSplitter:
    """Cuts a byte stream into lines, incrementally, in bounded memory.

    Lines end at CR, LF or CR LF (a CR LF pair gives an extra empty line,
    which callers skip like any blank line). A run longer than ``max_line``
    without a terminator keeps only its last ``max_line`` bytes, so a valid
    record at the end of a long run of noise is still found; the dropped
    bytes go to ``stats.bytes_discarded`` and each overlong line counts once
    in ``stats.frames_bad`` and ``stats.extra["overlong_lines"]``.

    Parameters
    ----------
    stats : CodecStats
        The owning codec's counters.
    max_line : int
        At most :data:`monitor.devices.codecs.base.MAX_BUFFER_BYTES`.
    """

    def __init__(self, stats: CodecStats, max_line: int = MAX_LINE_BYTES) -> None:
        self._stats = stats
        self._max = max(1, min(max_line, MAX_BUFFER_BYTES))
        self._buf = bytearray()
        self._overlong = False

    def __len__(self) -> int:
        """Bytes held of a line not yet terminated."""
        return len(self._buf)

    def feed(self, data: bytes) -> list[Line]:
        """Every line that ``data`` completes, oldest first."""
        lines: list[Line] = []
        pos, end = 0, len(data)
        view = memoryview(data)
        while pos < end:
            match = _EOL.search(data, pos)
            stop = end if match is None else match.start()
            self._append(view[pos:stop])
            if match is None:
                break
            lines.append(Line(bytes(self._buf), self._overlong))
            self._buf.clear()
            self._overlong = False
            pos = stop + 1
        return lines

    def _append(self, piece: memoryview) -> None:
        total = len(self._buf) + len(piece)
        if total <= self._max:
            self._buf += piece
            return
        self._stats.bytes_discarded += total - self._max
        if not self._overlong:
            self._overlong = True
            self._stats.frames_bad += 1
            self._stats.extra["overlong_lines"] = self._stats.extra.get("overlong_lines", 0) + 1
        if len(piece) >= self._max:
            self._buf[:] = piece[len(piece) - self._max:]
        else:
            del self._buf[:total - self._max]
            self._buf += piece


class LineCodec(Codec):
    """A codec for a one-record-per-line text protocol.

    Subclasses implement :meth:`_parse_line`. Blank lines are ignored; a line
    :meth:`_parse_line` rejects counts in ``frames_bad`` and its bytes in
    ``bytes_discarded``. Text lines carry no checksum, so every decoded
    line also passes a :class:`~monitor.devices.codecs.plausibility.PlausibilityFilter`
    (``plausibility=False`` turns it off, for tests of the framing alone).
    """

    def __init__(self, *, plausibility: bool = True) -> None:
        super().__init__()
        self._lines = LineSplitter(self.stats)
        self._plausible = PlausibilityFilter(self.stats) if plausibility else None

    @property
    def buffered(self) -> int:
        """Bytes held waiting for the end of a line (never above ``MAX_BUFFER_BYTES``)."""
        return len(self._lines)

    def feed(self, data: bytes, t: float) -> list[CodecItem]:
        """Parse ``data`` that arrived at host time ``t``; never raises."""
        self.stats.bytes_in += len(data)
        items: list[CodecItem] = []
        for line in self._lines.feed(bytes(data)):
            text = line.data.strip(b" \t")
            if not text:
                continue
            try:
                parsed = self._parse_line(text, t)
            except Exception:   # a parser bug must not stop the reader thread
                log.exception("%s: failed to parse line %r", self.name, text[:80])
                self._count("parser_errors")
                parsed = None
            if parsed is None:
                self.stats.bytes_discarded += len(line.data)
                if not line.overlong:       # an overlong line was counted already
                    self.stats.frames_bad += 1
                continue
            items.extend(parsed if self._plausible is None else self._plausible.filter(parsed))
        return items

    def _count(self, key: str, n: int = 1) -> None:
        self.stats.extra[key] = self.stats.extra.get(key, 0) + n

    def _frame_ok(self, t: float) -> None:
        self.stats.frames_ok += 1
        self.stats.last_frame_t = t

    def _parse_line(self, line: bytes, t: float) -> list[CodecItem] | None:
        """Items of one stripped, non-blank line, ``None`` if malformed.

        Lines that are neither data nor errors (headers) return ``[]``.
        """
        raise NotImplementedError


# Exactly the documented form: three digits or three dashes each, one space between. A line
# that lost or gained a byte (``SPO2=98 HR=072``) is a bad frame, never a value.
_TEXT_RECORD = re.compile(
    rb"SPO2=(?P<spo2>[0-9]{3}|-{3}) HR=(?P<hr>[0-9]{3}|-{3})"
    rb"(?P<tail>(?:[ \t]*(?:F|\*))*)")
_PRINTABLE = re.compile(rb"[\x20-\x7e\t]*")


class TextLineCodec(LineCodec):
    """``SPO2=098 HR=072`` lines from Nonin-style ASCII output.

    ``SPO2`` becomes :attr:`Vital.SPO2`, ``HR`` :attr:`Vital.PULSE_RATE` (it
    is the oximeter's pulse rate); dashes become ``NO_VALUE`` readings. Text
    before the last ``SPO2=`` on a line (noise that arrived without a line
    end) is discarded and the record after it still decoded. Printable lines
    without ``SPO2=`` or ``HR=`` (the power-up header) are skipped and
    counted in ``stats.extra["skipped_lines"]``, not as errors; anything else
    that does not match the record exactly is a bad frame. Event markers
    (``*``) are counted in ``stats.extra["event_markers"]``.

    Serial defaults are 9600 8N2, what the Nonin 7500/9600 ASCII mode sends;
    the extra stop bit is idle line time, so a device sending 8N1 (or the
    2500's 9-bit mark-parity framing) is read correctly too.
    """

    device_name = "Text device"
    device_kind = "monitor"

    name = "text"
    description = "Plain text oximeter lines 'SPO2=098 HR=072' (Nonin ASCII style), one per second"
    serial_defaults = SerialSettings(9600, 8, "N", 2)
    frame_period_s = 1.0
    measures = frozenset({Vital.SPO2, Vital.PULSE_RATE})

    def _parse_line(self, line: bytes, t: float) -> list[CodecItem] | None:
        at = line.rfind(b"SPO2=")
        if at < 0:
            if b"HR=" in line or not _PRINTABLE.fullmatch(line):
                return None
            self._count("skipped_lines")
            log.debug("text: skipped header line %r", line[:80])
            return []
        match = _TEXT_RECORD.fullmatch(line, at)
        if match is None:
            return None
        if at:
            self.stats.bytes_discarded += at
        if b"*" in match["tail"]:
            self._count("event_markers")
        self._frame_ok(t)
        return [_value(Vital.SPO2, match["spo2"], t), _value(Vital.PULSE_RATE, match["hr"], t)]


def _value(vital: Vital, raw: bytes, t: float) -> Reading:
    if raw.startswith(b"-"):
        return Reading.invalid(vital, t, Quality.NO_VALUE)
    return make_reading(vital, int(raw), t)
