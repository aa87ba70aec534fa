"""The codec interface every protocol implements, and the serial settings it defaults to."""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import ClassVar

from monitor.core.events import DeviceFlag
from monitor.core.reading import DeviceNumeric, Reading, WaveChunk
from monitor.core.vitals import Vital

MAX_BUFFER_BYTES = 64 * 1024
"""A codec never holds more unparsed bytes than this; the excess is discarded and counted."""


@dataclass(frozen=True)
class SerialSettings:
    """pyserial settings: what a device's data port uses by default."""

    baudrate: int = 9600
    bytesize: int = 8
    parity: str = "N"        # "N", "E", "O" (pyserial's PARITY_* values)
    stopbits: float = 1
    rtscts: bool = False
    xonxoff: bool = False

    def describe(self) -> str:
        flow = " RTS/CTS" if self.rtscts else " XON/XOFF" if self.xonxoff else ""
        stop = int(self.stopbits) if float(self.stopbits).is_integer() else self.stopbits
        return f"{self.baudrate} {self.bytesize}{self.parity}{stop}{flow}"


@dataclass
class CodecStats:
    """Running counts a codec keeps; shown to the nurse as device status."""

    bytes_in: int = 0
    frames_ok: int = 0
    frames_bad: int = 0          # checksum failures, malformed lines or records
    bytes_discarded: int = 0     # garbage skipped while resynchronising, overlong input
    last_frame_t: float | None = None
    extra: dict[str, int] = field(default_factory=dict)


CodecItem = Reading | WaveChunk | DeviceFlag | DeviceNumeric
"""What a codec emits. A :class:`DeviceNumeric` is a numeric that is none of our vitals
(an IntelliVue invasive pressure labelled ART, an unknown id): recorded, never shown or alarmed."""


class Codec(abc.ABC):
    """Turns a device's byte stream into items, incrementally.

    ``feed`` takes whatever bytes arrived (split anywhere, garbage included)
    with their host arrival time ``t`` and returns every complete item. It
    never raises on any input and never holds more than
    :data:`MAX_BUFFER_BYTES`. Values outside a vital's plausible range
    become NaN readings with quality ``out_of_range`` (use
    :func:`monitor.core.reading.make_reading`).
    """

    name: ClassVar[str]
    description: ClassVar[str]
    serial_defaults: ClassVar[SerialSettings]
    frame_period_s: ClassVar[float | None] = None
    """How often the device sends a frame of numerics when its stream carries
    no clock of its own (no wave, no device time): one line a second for the
    text protocols. Used to pace the replay of a plain byte capture."""
    transport: ClassVar[str] = "serial"
    """How the device's bytes travel: ``"serial"`` (a serial port, ``serial:PORT``) or
    ``"udp"`` (datagrams on the LAN, ``lan:HOST``); the source chooser offers each
    protocol on its own transport only."""
    device_name: ClassVar[str] = "Device"
    """The source's default name in a session ("Masimo", "Datex S/5")."""
    device_kind: ClassVar[str] = "monitor"
    """``"oximeter"`` for a dedicated pulse oximeter (first for SpO2 and pulse rate by
    default when a chair has several devices), else ``"monitor"``."""
    carries_nibp: ClassVar[bool] = False
    """The protocol carries blood pressure (a monitor, not an oximeter)."""
    measures: ClassVar[frozenset[Vital] | None] = None
    """The monitor's own vitals (``SPECS_PRIMARY``) the protocol can carry; ``None``:
    not declared (anything may come). A vital outside it is "not measured" by this
    source: the live view says so and no alarm waits for it."""

    def __init__(self) -> None:
        self.stats = CodecStats()

    @classmethod
    def replay_options(cls, settings_text: str | None) -> dict[str, object]:
        """Constructor options a replay needs from the settings a session recorded.

        A codec whose decoding depends on how the source was set up (the HL7
        listener's bed) says so here, from the driver's ``settings_text`` as the
        session stored it; none by default.
        """
        return {}

    @abc.abstractmethod
    def feed(self, data: bytes, t: float) -> list[CodecItem]:
        """Parse ``data`` that arrived at host time ``t``."""

    def open_requests(self) -> bytes:
        """Bytes to send to the device after opening the port (requests); none by default."""
        return b""

    def close_requests(self) -> bytes:
        """Bytes to send before closing the port (stop requests); none by default."""
        return b""

    def tick(self, t: float) -> list[bytes]:
        """Messages to send to the device now, at host time ``t``; none by default.

        For protocols with a session (IntelliVue): the replies, polls, keep-alives
        and re-associations that are due. Each element is one message (one frame
        on a serial line, one datagram on UDP). Drivers call it after every read
        (at least every 0.1 s) and after :meth:`open_requests`; a replay never
        sends, and the codec must decode what it is fed whatever it sent.
        """
        return []

    @property
    def link_state(self) -> str:
        """The protocol session's state for the device status; empty without a session."""
        return ""

    @property
    def link_ok(self) -> bool:
        """Whether the protocol session lets data through (IntelliVue: associated); True
        without a session. False makes the device status say the monitor sends no data."""
        return True

    @property
    def status_detail(self) -> str:
        """The protocol's own counts for the device status (polls answered...); empty."""
        return ""


WAVE_REANCHOR_S = 1.0
"""A wave chunk arriving more than this much later than contiguity re-anchors."""


class WaveTimeline:
    """Start times for the chunks of one wave stream.

    Chunks follow each other without gaps while the stream is intact; after
    a loss (:attr:`resync` set by the codec) or when a chunk arrives more than
    :data:`WAVE_REANCHOR_S` later than contiguity allows, the next chunk is
    re-anchored on its arrival time (never earlier than the previous end).

    Parameters
    ----------
    rate_hz : float
        Samples per second.
    """

    def __init__(self, rate_hz: float) -> None:
        self.rate_hz = rate_hz
        self.resync = True
        self._end: float | None = None

    def start_of(self, n: int, t: float) -> float:
        """Start time of a chunk of ``n`` samples whose last byte arrived at ``t``."""
        anchor = t - n / self.rate_hz
        t0 = self._end
        if t0 is None:
            t0 = anchor
        elif self.resync or anchor - t0 > WAVE_REANCHOR_S:
            t0 = max(anchor, t0)
        self.resync = False
        self._end = t0 + n / self.rate_hz
        return t0
