"""A bedside monitor on a serial port: pyserial transport, a codec, reconnect with back-off."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import serial

from monitor.core.clock import Clock
from monitor.core.events import Condition, RawBytes, SourceStatus, Technical
from monitor.core.vitals import Vital
from monitor.devices.base import Driver
from monitor.devices.codecs.base import Codec, CodecItem, SerialSettings
from monitor.devices.protocols import codec_class

log = logging.getLogger(__name__)

READ_TIMEOUT_S = 0.1
STATUS_EVERY_S = 1.0
BACKOFF_S = (0.5, 1.0, 2.0, 5.0)
UNDECODABLE_AFTER_S = 10.0

PortOpener = Callable[..., serial.SerialBase]


class LinkRetry:
    """What the device drivers share: retrying a link with back-off, the status byte rate.

    Expects ``_attempt``, ``_next_attempt``, ``_last_error``, ``_port_lost``,
    ``_status_at`` and ``_bytes_window`` set by the driver.
    """

    _attempt: int
    _next_attempt: float
    _last_error: str
    _port_lost: bool
    _status_at: float
    _bytes_window: int

    def _retry_later(self, now: float, msg: str) -> list:
        """Try again after the next back-off step; PORT_LOST once, the message logged once."""
        delay = BACKOFF_S[min(self._attempt, len(BACKOFF_S) - 1)]
        self._attempt += 1
        self._next_attempt = now + delay
        out: list = []
        if msg != self._last_error:
            log.warning("%s; retrying", msg)
            self._last_error = msg
        if not self._port_lost:
            self._port_lost = True
            out.append(Technical(Condition.PORT_LOST, True, now, msg))
        return out

    def _status_rate(self, t: float) -> float | None:
        """Bytes/s since the last status, when a status is due (else ``None``)."""
        if t - self._status_at < STATUS_EVERY_S:
            return None
        rate = self._bytes_window / max(t - self._status_at, 1e-6)
        self._status_at = t
        self._bytes_window = 0
        return rate


class SerialDriver(LinkRetry, Driver):
    """Reads one device through a protocol codec.

    The port is opened in :meth:`open`, or retried with back-off (0.5, 1,
    2, then every 5 s) while it is missing or busy. If it disappears while
    running (USB unplugged) the driver reports ``port_lost``, keeps trying,
    and carries on in the same session when the port returns. Every byte
    received is also returned as :class:`RawBytes` for the raw capture.

    Parameters
    ----------
    port : str
        A device path (``/dev/ttyUSB0``, ``/dev/pts/5``) or a pyserial URL
        (``loop://``).
    protocol : str
        A name from :data:`monitor.devices.protocols.PROTOCOLS`.
    settings : SerialSettings or None
        Overrides of the protocol's defaults.
    open_port : callable
        Builds the pyserial object (``serial.serial_for_url`` by default).
    duration_s : float or None
        Stop after this many seconds (headless runs); ``None``: until stopped.
    """

    simulated = False

    def __init__(self, port: str, protocol: str, settings: SerialSettings | None = None, *,
                 open_port: PortOpener | None = None,
                 undecodable_after_s: float = UNDECODABLE_AFTER_S,
                 duration_s: float | None = None) -> None:
        self.port = port
        self.protocol = protocol
        self.codec: Codec = codec_class(protocol)()
        self.settings = settings or self.codec.serial_defaults
        self.label = f"serial:{port}"
        self._open_port = open_port or serial.serial_for_url
        self.undecodable_after_s = undecodable_after_s
        self.duration_s = duration_s
        self._end: float | None = None
        self._ser: serial.SerialBase | None = None
        self._clock: Clock | None = None
        self._attempt = 0
        self._next_attempt = 0.0
        self._port_lost = False
        self._last_error = ""
        self._bytes_window = 0
        self._status_at = 0.0
        self._watch = DecodingWatch(port, protocol, undecodable_after_s)
        self._pending: list = []

    # -- Driver --------------------------------------------------------------

    @property
    def measures(self) -> frozenset[Vital] | None:
        """What the protocol carries (the codec's declaration)."""
        return self.codec.measures

    @property
    def settings_text(self) -> str | None:
        return self.settings.describe()

    def open(self, clock: Clock, session_start: float) -> None:
        self._clock = clock
        self._status_at = clock.now()
        if self.duration_s is not None:
            self._end = clock.now() + self.duration_s
        self._pending = self._try_connect(clock.now())

    def read(self, should_stop: threading.Event) -> list[CodecItem | Technical | SourceStatus
                                                         | RawBytes] | None:
        assert self._clock is not None
        now = self._clock.now()
        if self._end is not None and now >= self._end:
            return None
        out: list = self._pending
        self._pending = []
        if self._ser is None:
            if now >= self._next_attempt:
                out += self._try_connect(now)
            if self._ser is None:
                should_stop.wait(READ_TIMEOUT_S)
                return out + self._status(self._clock.now())
        assert self._ser is not None
        try:
            data = self._ser.read(max(1, self._ser.in_waiting))
        except (serial.SerialException, OSError, TypeError) as exc:
            # TypeError: pyserial's read on a port closed under it.
            out += self._lost(now, str(exc) or type(exc).__name__)
            return out + self._status(now)
        t = self._clock.now()
        if data:
            self._bytes_window += len(data)
            out.append(RawBytes(t, data))
            out += self.codec.feed(data, t)
        out += self._send_due(t)
        out += self._check_decoding(t, bool(data))
        return out + self._status(t)

    def close(self) -> None:
        if self._ser is not None:
            try:
                stop = self.codec.close_requests()
                if stop:
                    self._ser.write(stop)
                    self._ser.flush()
            except (serial.SerialException, OSError) as exc:
                log.warning("could not send stop requests to %s: %s", self.port, exc)
            try:
                self._ser.close()
            except (serial.SerialException, OSError):
                pass
            self._ser = None

    # -- connection ----------------------------------------------------------

    def _try_connect(self, now: float) -> list:
        s = self.settings
        try:
            ser = self._open_port(self.port, baudrate=s.baudrate, bytesize=s.bytesize,
                                  parity=s.parity, stopbits=s.stopbits, rtscts=s.rtscts,
                                  xonxoff=s.xonxoff, timeout=READ_TIMEOUT_S,
                                  exclusive=True)
        except (serial.SerialException, OSError, ValueError) as exc:
            return self._retry_later(now, _port_message(self.port, exc))
        self._ser = ser
        self._attempt = 0
        self._last_error = ""
        self._watch.reset()
        out = []
        request = self.codec.open_requests()
        if request:
            try:
                ser.write(request)
                out.append(RawBytes(now, request, "out"))
            except (serial.SerialException, OSError) as exc:
                return self._lost(now, str(exc))
        out += self._send_due(now)
        if self._ser is None:   # the port failed under the first messages
            return out
        if self._port_lost:
            self._port_lost = False
            out.append(Technical(Condition.PORT_LOST, False, now, f"{self.port} connected"))
        log.info("opened %s (%s, %s)", self.port, self.protocol, self.settings.describe())
        return out

    def _send_due(self, t: float) -> list:
        """Write the codec's due messages (a session's replies, polls, keep-alives)."""
        out: list = []
        for message in self.codec.tick(t):
            if self._ser is None or not message:
                continue
            try:
                self._ser.write(message)
            except (serial.SerialException, OSError, TypeError) as exc:
                out += self._lost(t, str(exc) or type(exc).__name__)
                break
            out.append(RawBytes(t, message, "out"))
        return out

    def _lost(self, now: float, why: str) -> list:
        log.warning("lost %s: %s", self.port, why)
        try:
            if self._ser is not None:
                self._ser.close()
        except (serial.SerialException, OSError):
            pass
        self._ser = None
        self._attempt = 0
        self._next_attempt = now + BACKOFF_S[0]
        if self._port_lost:
            return []
        self._port_lost = True
        return [Technical(Condition.PORT_LOST, True, now,
                          f"{self.port} disconnected ({why}); reconnecting")]

    # -- decoding health -----------------------------------------------------

    def _check_decoding(self, t: float, got_bytes: bool) -> list:
        return self._watch.check(t, got_bytes, self.codec.stats.frames_ok)

    def _status(self, t: float) -> list:
        rate = self._status_rate(t)
        if rate is None:
            return []
        st = self.codec.stats
        return [SourceStatus(t, f"{self.label} ({self.protocol})", self._ser is not None, rate,
                             st.frames_ok, st.frames_bad, st.bytes_discarded, st.last_frame_t,
                             "" if self._ser is not None else self._last_error or "not connected",
                             self.codec.link_state if self._ser is not None else "",
                             self.codec.status_detail if self._ser is not None else "",
                             self.codec.link_ok or self._ser is None)]


class DecodingWatch:
    """Bytes that keep arriving without a frame decoding: the wrong protocol or cable.

    Raises :attr:`Condition.UNDECODABLE` when bytes have arrived for
    ``after_s`` since the last good frame, and clears it at the next one.

    Parameters
    ----------
    where : str
        The port or host, as the message names it.
    protocol : str
    after_s : float
    """

    def __init__(self, where: str, protocol: str, after_s: float = UNDECODABLE_AFTER_S) -> None:
        self.where = where
        self.protocol = protocol
        self.after_s = after_s
        self._since: float | None = None   # first byte after the last good frame
        self._active = False
        self._frames_seen = 0

    def reset(self) -> None:
        """The port was (re)opened: bytes count from the next one."""
        self._since = None

    def check(self, t: float, got_bytes: bool, frames_ok: int) -> list[Technical]:
        """The condition's change at ``t``, if any (``frames_ok``: the codec's count)."""
        if frames_ok != self._frames_seen:
            self._frames_seen = frames_ok
            self._since = None
            if self._active:
                self._active = False
                return [Technical(Condition.UNDECODABLE, False, t,
                                  f"{self.protocol} data decoded again")]
            return []
        if got_bytes and self._since is None:
            self._since = t
        if self._since is not None and not self._active and t - self._since >= self.after_s:
            self._active = True
            return [Technical(
                Condition.UNDECODABLE, True, t,
                f"data from {self.where} cannot be decoded as {self.protocol}: "
                "check the protocol setting and the cable")]
        return []


def _port_message(port: str, exc: BaseException) -> str:
    text = str(exc)
    if "No such file" in text or "could not open port" in text and "2]" in text:
        return f"serial port {port} does not exist (unplugged?)"
    if "busy" in text.lower() or "Resource temporarily unavailable" in text or "lock" in text:
        return f"serial port {port} is busy (used by another program?)"
    if "Permission denied" in text:
        return f"no permission to open {port} (add the user to the 'dialout' group)"
    return f"cannot open {port}: {text}"


def list_ports() -> list[dict[str, str]]:
    """Serial ports with their descriptions and USB VID:PID, for the source chooser."""
    from serial.tools import list_ports as lp

    out = []
    for p in sorted(lp.comports(), key=lambda p: p.device):
        vidpid = f"{p.vid:04X}:{p.pid:04X}" if p.vid is not None and p.pid is not None else ""
        out.append({"device": p.device, "description": p.description or "",
                    "vid_pid": vidpid, "manufacturer": p.manufacturer or "",
                    "serial_number": p.serial_number or ""})
    return out
