"""A monitor on the network: UDP datagrams through a codec, reconnect, discovery.

``lan:HOST[:PORT]`` talks to a Philips IntelliVue's LAN data export (UDP port
24105 by default); ``lan:discover[:PORT]`` first listens for the Connect
Indication a monitor broadcasts on UDP port 24005 and then talks to the first
monitor that announces itself, on the data export port it announces.

Choices made:

* One message is one datagram, both ways: each datagram received is one
  :meth:`Codec.feed`, each message of :meth:`Codec.tick` one ``sendto``. The
  codec owns the session (association, polls, keep-alive, re-association
  with back-off); a monitor that does not answer is its business, shown as
  its ``link_state``.
* The socket is bound to the local address the routing table picks for the
  monitor (a connected probe socket's own address), never silently to all
  interfaces; datagrams are taken only from the monitor's IP address (from
  any port of it). Discovery must listen on all interfaces (broadcasts reach
  no socket bound to one address) and says so in the log.
* The network itself failing (no route to the monitor, an unknown host
  name, the local address gone) is the serial driver's ``port_lost`` naming
  the host, retried with the same back-off; on recovery the session is
  opened again (``open_requests``).
* Every datagram, received and sent, is returned as :class:`RawBytes`
  (``"in"``, ``"out"``) for the raw capture; a replay feeds the ``"in"``
  bytes, concatenated, to the same codec.
"""

from __future__ import annotations

import errno
import logging
import select
import socket
import struct
import threading
from collections.abc import Callable

from monitor.core.clock import Clock
from monitor.core.events import Condition, RawBytes, SourceStatus, Technical
from monitor.core.vitals import Vital
from monitor.devices.base import Driver
from monitor.devices.codecs.base import Codec, CodecItem
from monitor.devices.protocols import codec_class
from monitor.devices.serial_driver import BACKOFF_S, DecodingWatch, LinkRetry

log = logging.getLogger(__name__)

DATA_PORT = 24105
"""The IntelliVue's data export port (the guide: "the fixed UDP port 24105")."""
DISCOVERY_PORT = 24005
"""Where an IntelliVue broadcasts its Connect Indication."""
READ_TIMEOUT_S = 0.1
MAX_DATAGRAM = 65535
MAX_DATAGRAMS_PER_READ = 64
"""Datagrams taken in one read before the codec's due messages go out."""

Announcement = Callable[[bytes], int | None]
"""A Connect Indication parser: the data export port it announces, or ``None``
when the datagram is not one (or announces no data export)."""

class UdpDriver(LinkRetry, Driver):
    """Reads one networked monitor through a protocol codec.

    Parameters
    ----------
    host : str or None
        The monitor's host name or IPv4 address; ``None``: discover it.
    protocol : str
        A name from :data:`monitor.devices.protocols.PROTOCOLS` (``intellivue-lan``).
    port : int
        The monitor's data port (a discovered monitor's announced port wins).
    discovery_port : int
        Where to listen for Connect Indications (only when ``host`` is ``None``).
    announcement : callable or None
        The Connect Indication parser (:data:`Announcement`); by default
        :func:`intellivue_announcement`.
    duration_s : float or None
        Stop after this many seconds (headless runs); ``None``: until stopped.
    """

    simulated = False

    def __init__(self, host: str | None, protocol: str, *, port: int = DATA_PORT,
                 discovery_port: int = DISCOVERY_PORT,
                 announcement: Announcement | None = None,
                 undecodable_after_s: float | None = None,
                 duration_s: float | None = None) -> None:
        self.host = host
        self.port = port
        self.discovery_port = discovery_port
        self.protocol = protocol
        self.codec: Codec = codec_class(protocol)()
        if host is None:
            self.label = ("lan:discover" if discovery_port == DISCOVERY_PORT
                          else f"lan:discover:{discovery_port}")
        else:
            self.label = f"lan:{host}" if port == DATA_PORT else f"lan:{host}:{port}"
        self.duration_s = duration_s
        self._announcement = announcement
        self._end: float | None = None
        self._clock: Clock | None = None
        self._sock: socket.socket | None = None
        self._listen: socket.socket | None = None
        self._peer: tuple[str, int] | None = None      # the monitor's (ip, data port)
        self._attempt = 0
        self._next_attempt = 0.0
        self._port_lost = False
        self._last_error = ""
        self._bytes_window = 0
        self._status_at = 0.0
        self._pending: list = []
        self._watch = DecodingWatch(self._where(), protocol,
                                    **({} if undecodable_after_s is None
                                       else {"after_s": undecodable_after_s}))

    # -- Driver --------------------------------------------------------------

    @property
    def measures(self) -> frozenset[Vital] | None:
        """What the protocol carries (the codec's declaration)."""
        return self.codec.measures

    @property
    def settings_text(self) -> str | None:
        if self._peer is not None:
            return f"UDP {self._peer[0]}:{self._peer[1]}"
        return f"UDP discovery on port {self.discovery_port}" if self.host is None else None

    @property
    def peer(self) -> tuple[str, int] | None:
        """The monitor's IP address and data port once known."""
        return self._peer

    @property
    def local_address(self) -> tuple[str, int] | None:
        """The address the data socket is bound to, once open."""
        return None if self._sock is None else self._sock.getsockname()[:2]

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
        if self._sock is None:
            if self._listen is not None:
                out += self._discover(now)
            elif now >= self._next_attempt:
                out += self._try_connect(now)
            if self._sock is None:
                if self._listen is None:
                    should_stop.wait(READ_TIMEOUT_S)
                return out + self._status(self._clock.now())
        assert self._sock is not None
        got = False
        try:
            ready, _, _ = select.select([self._sock], [], [], READ_TIMEOUT_S)
            for _ in range(MAX_DATAGRAMS_PER_READ if ready else 0):
                try:
                    data, sender = self._sock.recvfrom(MAX_DATAGRAM)
                except BlockingIOError:
                    break
                except ConnectionRefusedError:
                    continue    # an ICMP port unreachable: no answer, the codec's business
                if not self._from_monitor(sender) or not data:
                    continue
                t = self._clock.now()
                got = True
                self._bytes_window += len(data)
                out.append(RawBytes(t, data))
                out += self.codec.feed(data, t)
        except OSError as exc:
            out += self._lost(self._clock.now(), _os_reason(exc))
            return out + self._status(self._clock.now())
        t = self._clock.now()
        out += self._send_due(t)
        out += self._watch.check(t, got, self.codec.stats.frames_ok)
        return out + self._status(t)

    def close(self) -> None:
        if self._sock is not None:
            stop = self.codec.close_requests()
            if stop and self._peer is not None:
                try:
                    self._sock.sendto(stop, self._peer)
                except OSError as exc:
                    log.warning("could not send the release to %s: %s", self._where(), exc)
            self._sock.close()
            self._sock = None
        if self._listen is not None:
            self._listen.close()
            self._listen = None

    # -- connection ----------------------------------------------------------

    def _where(self) -> str:
        if self._peer is not None and self.host is None:
            return f"the monitor at {self._peer[0]}"
        return f"monitor {self.host}" if self.host is not None else "the network"

    def _try_connect(self, now: float) -> list:
        if self.host is None and self._peer is None:
            return self._start_listening(now)
        try:
            if self.host is not None:    # resolved again at each attempt (DHCP, DNS)
                self._peer = (_resolve(self.host), self.port)
            assert self._peer is not None
            sock = _bound_socket(self._peer)
        except OSError as exc:
            return self._failed(now, exc)
        self._sock = sock
        self._attempt = 0
        self._last_error = ""
        self._watch.where = self._where()
        self._watch.reset()
        log.info("talking to %s at %s:%d (%s) from %s:%d", self._where(), *self._peer,
                 self.protocol, *sock.getsockname()[:2])
        out: list = []
        request = self.codec.open_requests()
        if request:
            out += self._send(now, request)
        out += self._send_due(now)
        if self._sock is not None and self._port_lost:
            self._port_lost = False
            out.append(Technical(Condition.PORT_LOST, False, now,
                                 f"{self._where()} reachable on the network"))
        return out

    def _failed(self, now: float, exc: OSError) -> list:
        return self._retry_later(now, _network_message(self._where(), exc))

    def _lost(self, now: float, why: str) -> list:
        log.warning("lost %s: %s", self._where(), why)
        if self._sock is not None:
            self._sock.close()
        self._sock = None
        self._attempt = 0
        self._next_attempt = now + BACKOFF_S[0]
        self._last_error = f"{self._where()} unreachable ({why})"
        if self._port_lost:
            return []
        self._port_lost = True
        return [Technical(Condition.PORT_LOST, True, now,
                          f"{self._where()} unreachable ({why}); reconnecting")]

    def _send(self, t: float, message: bytes) -> list:
        assert self._sock is not None and self._peer is not None
        try:
            self._sock.sendto(message, self._peer)
        except OSError as exc:
            if exc.errno == errno.ECONNREFUSED:   # a late ICMP for an earlier datagram
                return [RawBytes(t, message, "out")]
            return self._lost(t, _os_reason(exc))
        return [RawBytes(t, message, "out")]

    def _send_due(self, t: float) -> list:
        out: list = []
        for message in self.codec.tick(t):
            if self._sock is None:
                break
            if message:
                out += self._send(t, message)
        return out

    def _from_monitor(self, sender: tuple) -> bool:
        return self._peer is not None and sender[0] == self._peer[0]

    # -- discovery -----------------------------------------------------------

    def _start_listening(self, now: float) -> list:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setblocking(False)
            sock.bind(("", self.discovery_port))
        except OSError as exc:
            sock.close()
            if exc.errno == errno.EADDRINUSE:
                exc = OSError(exc.errno, f"UDP port {self.discovery_port} is in use by "
                                         "another program")
            return self._failed(now, exc)
        self._listen = sock
        log.warning("listening for monitors' Connect Indications on UDP port %d of all "
                    "interfaces (broadcasts reach no socket bound to one address)",
                    self.discovery_port)
        self._last_error = (f"waiting for a monitor to announce itself on UDP port "
                            f"{self.discovery_port}")
        return []

    def _discover(self, now: float) -> list:
        assert self._listen is not None
        try:
            ready, _, _ = select.select([self._listen], [], [], READ_TIMEOUT_S)
            while ready:
                try:
                    data, sender = self._listen.recvfrom(MAX_DATAGRAM)
                except BlockingIOError:
                    break
                port = self._announced_port(data)
                if port is None:
                    log.debug("ignored a datagram from %s on the discovery port", sender[0])
                    continue
                log.info("monitor at %s announced its data export on UDP port %d",
                         sender[0], port)
                self._peer = (sender[0], port)
                self._listen.close()
                self._listen = None
                return self._try_connect(now)
        except OSError as exc:
            if self._listen is not None:
                self._listen.close()
                self._listen = None
            return self._failed(now, exc)
        return []

    def _announced_port(self, data: bytes) -> int | None:
        parse = self._announcement or intellivue_announcement
        try:
            return parse(data)
        except (ValueError, IndexError, struct.error):   # LayoutError is a ValueError
            log.debug("not a Connect Indication", exc_info=True)
            return None

    # -- status --------------------------------------------------------------

    def _status(self, t: float) -> list:
        rate = self._status_rate(t)
        if rate is None:
            return []
        st = self.codec.stats
        up = self._sock is not None
        return [SourceStatus(t, f"{self.label} ({self.protocol})", up, rate,
                             st.frames_ok, st.frames_bad, st.bytes_discarded, st.last_frame_t,
                             "" if up else self._last_error or "not connected",
                             self.codec.link_state if up else "",
                             self.codec.status_detail if up else "",
                             self.codec.link_ok or not up)]


def intellivue_announcement(data: bytes) -> int | None:
    """The data export port an IntelliVue's Connect Indication announces (p. 53, 108)."""
    from monitor.devices.codecs.intellivue_layout import parse_connect_indication

    return parse_connect_indication(data).data_port


class _UnknownHost(OSError):
    """A host name that does not resolve."""


def _resolve(host: str) -> str:
    try:
        infos = socket.getaddrinfo(host, None, socket.AF_INET, socket.SOCK_DGRAM)
    except socket.gaierror as exc:
        raise _UnknownHost(errno.EHOSTUNREACH, exc.strerror) from exc
    return str(infos[0][4][0])


def _bound_socket(peer: tuple[str, int]) -> socket.socket:
    """A non-blocking UDP socket bound to the local address that routes to ``peer``."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(peer)        # no packet is sent: the kernel only picks the route
        local = probe.getsockname()[0]
    finally:
        probe.close()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.bind((local, 0))
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


def _os_reason(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


def _network_message(where: str, exc: OSError) -> str:
    """``where`` (``monitor 10.0.0.5``) and what failed, in the nurse's words."""
    if isinstance(exc, _UnknownHost):
        return f"{where} not found: no such host name on the network ({exc.strerror})"
    if exc.errno in (errno.ENETUNREACH, errno.ENETDOWN):
        return f"{where} cannot be reached: no network route (is the LAN cable in?)"
    if exc.errno in (errno.EHOSTUNREACH, errno.EHOSTDOWN):
        return f"{where} cannot be reached: {_os_reason(exc)}"
    if exc.errno == errno.EADDRINUSE:
        return f"cannot listen for monitors: {_os_reason(exc)}"
    if exc.errno in (errno.EADDRNOTAVAIL, errno.EPERM, errno.EACCES):
        return f"cannot use the network for {where}: {_os_reason(exc)}"
    return f"cannot reach {where}: {_os_reason(exc)}"
