"""Network monitors and gateways over HL7 v2: an MLLP listener on TCP, through a codec.

``hl7:[HOST:]PORT`` listens for the ORU^R01 messages (IHE PCD-01) a monitor,
its gateway or a central station sends, each framed by MLLP (``0x0B``
message ``0x1C 0x0D``), and answers every message with the ACK the codec
composes. The codec (``hl7-pcd01``) decodes, routes by bed and acknowledges;
this driver owns the sockets.

Choices made:

* **Where it listens.** On ``HOST`` when given. Without it, on the local
  address the routing table picks for the first allowed sender (a connected
  UDP probe socket's own address: no packet is sent), so a chair PC with a
  clinical and an office network card listens on the clinical one only.
  ``0.0.0.0`` (every interface) is taken only when the user writes it, and
  then the log warns and the device status says so for the whole session.
* **Who may send.** An allow-list of addresses and networks (``10.1.2.3``,
  ``10.1.2.0/24``). Without one, only this computer itself (loopback and the
  listening address) may connect: the configured gateway must be named. A
  connection from anyone else is closed at once, counted, logged once per
  address and shown in the device status ("refused a connection from X").
  At most :data:`MAX_CONNECTIONS` connections at once; one more is closed at
  once and counted the same way.
* **One thread, no blocking.** The reader thread runs a selector over the
  listening socket and every connection, all non-blocking: no thread per
  connection, and a sender that sends half a message and hangs holds nothing
  but its own slot until :data:`PARTIAL_TIMEOUT_S` without a byte closes it
  (a connection with no partial message may stay idle for
  :data:`IDLE_TIMEOUT_S`: gateways keep a connection open between messages).
  Each read takes at most :data:`MAX_RECV_PER_READ` chunks of
  :data:`RECV_CHUNK` bytes, so a flood cannot starve the ACKs.
* **Bounded memory.** The codec discards a message larger than its limit
  (1 MiB) as it arrives. The driver keeps, per connection, only the bytes of
  the current message for the raw capture, up to :data:`MAX_MESSAGE_BYTES`;
  an oversized message is left out of the capture (counted in the log) and
  never held whole. ACKs waiting for a slow reader are capped at
  :data:`MAX_OUTBOX_BYTES`; a sender that never reads them is closed.
* **Channels.** Each connection is a codec channel (1, 2, 3...; never reused
  in a session): ``feed_channel`` its bytes, ``replies`` its ACKs written
  back at once, ``close_channel`` when it ends. Channel 0 is the replay's.
* **Raw capture.** A replay feeds the ``"in"`` bytes, concatenated, to
  channel 0, so the driver records each connection's bytes in whole
  messages (everything up to and including an end block, in the order the
  messages completed), never the interleaved halves of two connections; a
  connection's unfinished tail is recorded when it closes. Every ACK is a
  ``RawBytes`` ``"out"``.
* **Connections come and go.** Many gateways open a connection per message;
  a closed connection is no fault. The device status says "connected" while a
  sender is connected or sent within :data:`SENDER_GONE_AFTER_S`; silence is
  the hub's no-data alarm. A listener that cannot bind (port in use, a port
  below 1024 without privilege, an address not on this computer) is
  ``port_lost`` with a clear message, retried with the serial driver's
  back-off.
* **TLS.** With a certificate and key, MLLP runs inside TLS (server side,
  TLS 1.2 or later); handshakes are driven by the same selector.
* **Logs** name addresses, ports, counts and reasons only, never message
  content (the codec logs control ids and bed keys at most).
"""

from __future__ import annotations

import errno
import ipaddress
import logging
import select
import selectors
import socket
import ssl
import struct
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from monitor.core.clock import Clock
from monitor.core.events import Condition, RawBytes, SourceStatus, Technical
from monitor.core.vitals import Vital
from monitor.devices.base import Driver, SourceError
from monitor.devices.codecs.base import Codec
from monitor.devices.codecs.hl7_pcd01 import END_BLOCK
from monitor.devices.codecs.hl7_pcd01 import MAX_MESSAGE_BYTES as CODEC_MAX_MESSAGE_BYTES
from monitor.devices.serial_driver import DecodingWatch, LinkRetry

log = logging.getLogger(__name__)

DEFAULT_PORT = 2575
"""The port IANA assigns to HL7 over MLLP."""
PROTOCOL = "hl7-pcd01"
READ_TIMEOUT_S = 0.1
RECV_CHUNK = 64 * 1024
MAX_RECV_PER_READ = 64
MAX_CONNECTIONS = 4
MAX_MESSAGE_BYTES = CODEC_MAX_MESSAGE_BYTES
"""A message larger than this is discarded (the codec's limit)."""
MAX_OUTBOX_BYTES = 1 << 20
PARTIAL_TIMEOUT_S = 10.0
"""A connection in the middle of a message that sends nothing for this long is closed."""
IDLE_TIMEOUT_S = 300.0
"""A connection between messages that sends nothing for this long is closed."""
SENDER_GONE_AFTER_S = 10.0
"""With no connection open, the status says "connected" this long after the last one."""
ALL_INTERFACES = "0.0.0.0"
LISTEN_BACKLOG = 128
"""Connections the kernel may hold before they are accepted (then refused or served): a
short backlog makes a sender that reconnects quickly wait for SYN retries."""

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_allow(text: str) -> tuple[Network, ...]:
    """``ADDR[,ADDR...]`` (addresses or CIDR networks) -> networks.

    Raises
    ------
    SourceError
        An entry that is neither an IP address nor a network.
    """
    out = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        try:
            out.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise SourceError(f"--hl7-allow: {part!r} is not an IP address or a network "
                              "such as 10.1.2.3 or 10.1.2.0/24") from None
    if not out:
        raise SourceError("--hl7-allow needs at least one address, such as 10.1.2.3")
    return tuple(out)


@dataclass
class _Conn:
    """One sender's connection."""

    sock: socket.socket
    addr: tuple[str, int]
    channel: int
    last_rx: float
    handshaking: bool = False
    pending: bytearray = field(default_factory=bytearray)   # the current message, for capture
    oversized: bool = False        # the current message went past the limit: not captured
    partial: bool = False          # bytes since the last end block
    outbox: bytearray = field(default_factory=bytearray)
    tail: int = 0                  # last byte of the previous chunk (an end block split in two)


class Hl7Driver(LinkRetry, Driver):
    """Listens for HL7 v2 messages over MLLP and reads them through a codec.

    Parameters
    ----------
    host : str or None
        The local address to listen on; ``None``: the one that routes to the
        first allowed sender (then ``allow`` is required).
    port : int
    protocol : str
        ``hl7-pcd01`` (the only protocol spoken over MLLP).
    bed : str or None
        The routing key (PV1-3, OBX-18 or MSH-3 component); ``None``: every bed.
    code_maps : sequence of Path
        Extra code mapping files for the codec.
    allow : sequence of networks or None
        Senders allowed to connect; ``None``: this computer only.
    tls_cert, tls_key : Path or None
        Both to run MLLP over TLS.
    codec : Codec or None
        A codec instance (tests); by default the protocol's, built with
        ``bed`` and ``code_maps``.
    duration_s : float or None
        Stop after this many seconds (headless runs); ``None``: until stopped.
    """

    simulated = False

    def __init__(self, host: str | None, port: int = DEFAULT_PORT, protocol: str = PROTOCOL,
                 *, bed: str | None = None, code_maps: Sequence[Path] = (),
                 allow: Sequence[Network] | None = None,
                 tls_cert: Path | None = None, tls_key: Path | None = None,
                 max_connections: int = MAX_CONNECTIONS,
                 max_message_bytes: int = MAX_MESSAGE_BYTES,
                 partial_timeout_s: float = PARTIAL_TIMEOUT_S,
                 idle_timeout_s: float = IDLE_TIMEOUT_S,
                 codec: Codec | None = None,
                 duration_s: float | None = None) -> None:
        self.protocol = protocol
        self.port = port
        self.bed = bed
        self.allow: tuple[Network, ...] | None = tuple(allow) if allow is not None else None
        if host is None:
            if not self.allow:
                raise SourceError(
                    f"hl7:{port} does not say where to listen: give the address "
                    f"(hl7:HOST:{port}, e.g. the chair PC's address on the clinical network) "
                    "or the gateway's address with --hl7-allow (the listener then takes the "
                    "interface that leads to it)")
            host = _route_to(self.allow[0])
        self.host = host
        self.label = f"hl7:{host}:{port}"
        if codec is None:
            from monitor.devices.protocols import codec_class

            try:
                codec = codec_class(protocol)(bed=bed, code_maps=list(code_maps))  # type: ignore[call-arg]
            except (ValueError, OSError) as exc:
                raise SourceError(f"cannot read the HL7 code maps: {exc}") from exc
        self.codec = codec
        self._tls: ssl.SSLContext | None = None
        if (tls_cert is None) != (tls_key is None):
            raise SourceError("TLS needs both --hl7-tls-cert and --hl7-tls-key")
        if tls_cert is not None and tls_key is not None:
            self._tls = _server_context(tls_cert, tls_key)
        self.max_connections = max_connections
        self.max_message_bytes = max_message_bytes
        self.partial_timeout_s = partial_timeout_s
        self.idle_timeout_s = idle_timeout_s
        self.duration_s = duration_s
        self.refused = 0
        """Connections closed at once (not allowed, or over the connection limit)."""
        self.accepted = 0
        self.timed_out = 0
        self.oversized = 0
        self._refused_from: set[str] = set()
        self._last_refusal = ""
        self._end: float | None = None
        self._clock: Clock | None = None
        self._sel: selectors.DefaultSelector | None = None
        self._listen: socket.socket | None = None
        self._conns: dict[int, _Conn] = {}      # by file descriptor
        self._next_channel = 1
        self._last_sender_t: float | None = None
        self._attempt = 0
        self._next_attempt = 0.0
        self._port_lost = False
        self._last_error = ""
        self._bytes_window = 0
        self._status_at = 0.0
        self._pending: list = []
        self._watch = DecodingWatch(f"the HL7 senders on port {port}", protocol)

    # -- Driver --------------------------------------------------------------

    @property
    def measures(self) -> frozenset[Vital] | None:
        """What the protocol carries (the codec's declaration)."""
        return self.codec.measures

    @property
    def settings_text(self) -> str | None:
        from monitor.devices.codecs.hl7_pcd01 import bed_setting

        return (f"MLLP{' over TLS' if self._tls else ''} on TCP {self.host}:{self.port}"
                f"{bed_setting(self.bed)}")

    @property
    def local_address(self) -> tuple[str, int] | None:
        """The address and port listened on, once listening (port 0: the one given)."""
        return None if self._listen is None else self._listen.getsockname()[:2]

    @property
    def connections(self) -> int:
        """Connections open now."""
        return len(self._conns)

    def open(self, clock: Clock, session_start: float) -> None:
        self._clock = clock
        self._status_at = clock.now()
        if self.duration_s is not None:
            self._end = clock.now() + self.duration_s
        self._sel = selectors.DefaultSelector()
        self._pending = self._try_listen(clock.now())

    def read(self, should_stop: threading.Event) -> list | None:
        assert self._clock is not None and self._sel is not None
        now = self._clock.now()
        if self._end is not None and now >= self._end:
            return None
        out: list = self._pending
        self._pending = []
        if self._listen is None and now >= self._next_attempt:
            out += self._try_listen(now)
        if self._listen is None and not self._conns:
            should_stop.wait(READ_TIMEOUT_S)
            return out + self._status(self._clock.now())
        got = False
        budget = MAX_RECV_PER_READ
        try:
            events = self._sel.select(READ_TIMEOUT_S)
        except OSError as exc:       # a descriptor gone under the selector: rebuild
            log.warning("HL7 listener: selector failed (%s); reopening", exc)
            self._close_all(now)
            return out + self._status(now)
        for key, mask in events:
            if key.fileobj is self._listen:
                out += self._accept_all(self._clock.now())
                continue
            conn = self._conns.get(key.fd)
            if conn is None:
                continue
            if mask & selectors.EVENT_WRITE:
                out += self._flush(conn, self._clock.now())
            if mask & selectors.EVENT_READ and key.fd in self._conns:
                items, n, budget = self._receive(conn, budget)
                out += items
                got = got or n > 0
        t = self._clock.now()
        out += self._expire(t)
        out += self._watch.check(t, got, self.codec.stats.frames_ok)
        return out + self._status(t)

    def close(self) -> None:
        now = self._clock.now() if self._clock is not None else 0.0
        self._close_all(now)
        if self._sel is not None:
            self._sel.close()
            self._sel = None

    # -- listening -------------------------------------------------------------

    def _try_listen(self, now: float) -> list:
        assert self._sel is not None
        sock = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET,
                             socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self.port))
            sock.listen(LISTEN_BACKLOG)
            sock.setblocking(False)
        except OSError as exc:
            sock.close()
            return self._failed(now, exc)
        self._listen = sock
        self._sel.register(sock, selectors.EVENT_READ)
        self._attempt = 0
        self._last_error = ""
        self._watch.reset()
        bound = sock.getsockname()
        if self.port == 0:
            self.port = bound[1]
            self.label = f"hl7:{self.host}:{self.port}"
        if self.host == ALL_INTERFACES:
            log.warning("listening for HL7 on port %d of EVERY network interface (%s was "
                        "asked for): any network this computer is on can reach it",
                        self.port, ALL_INTERFACES)
        who = ", ".join(str(n) for n in self.allow) if self.allow else "this computer only"
        log.info("listening for HL7 (MLLP%s) on %s:%d; senders allowed: %s",
                 " over TLS" if self._tls else "", bound[0], bound[1], who)
        out: list = []
        if self._port_lost:
            self._port_lost = False
            out.append(Technical(Condition.PORT_LOST, False, now,
                                 f"listening for HL7 on {self.host}:{self.port}"))
        return out

    def _failed(self, now: float, exc: OSError) -> list:
        return self._retry_later(now, _bind_message(self.host, self.port, exc))

    def _close_all(self, now: float) -> None:
        for conn in list(self._conns.values()):
            self._drop(conn, now, "")
        if self._listen is not None:
            if self._sel is not None:
                try:
                    self._sel.unregister(self._listen)
                except (KeyError, ValueError):
                    pass
            self._listen.close()
            self._listen = None

    # -- connections -----------------------------------------------------------

    def _allowed(self, ip: str) -> bool:
        try:
            addr = ipaddress.ip_address(ip.split("%", 1)[0])
        except ValueError:
            return False
        if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
            addr = addr.ipv4_mapped
        if self.allow is None:
            return addr.is_loopback or ip == self.host
        return any(addr.version == n.version and addr in n for n in self.allow)

    def _accept_all(self, now: float) -> list:
        assert self._listen is not None and self._sel is not None
        out: list = []
        for _ in range(self.max_connections + 16):
            try:
                sock, addr = self._listen.accept()
            except (BlockingIOError, InterruptedError):
                break
            except OSError as exc:      # e.g. EMFILE: leave it in the backlog for now
                if exc.errno in (errno.ECONNABORTED, errno.EPROTO):
                    continue
                log.warning("HL7 listener: cannot accept a connection: %s", exc)
                break
            ip = str(addr[0])
            if not self._allowed(ip):
                self._refuse(sock, ip, f"refused a connection from {ip} (not an allowed "
                                       "sender: see --hl7-allow)")
                continue
            if len(self._conns) >= self.max_connections:
                out += self._reap()
            if len(self._conns) >= self.max_connections:
                self._refuse(sock, ip, f"refused a connection from {ip}: already "
                                       f"{self.max_connections} connections open")
                continue
            try:
                sock.setblocking(False)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
                handshaking = False
                if self._tls is not None:
                    sock = self._tls.wrap_socket(sock, server_side=True,
                                                 do_handshake_on_connect=False)
                    handshaking = True
            except (OSError, ssl.SSLError) as exc:
                log.warning("HL7 connection from %s failed at once: %s", ip, exc)
                sock.close()
                continue
            conn = _Conn(sock, (ip, int(addr[1])), self._next_channel, now, handshaking)
            self._next_channel += 1
            self._conns[sock.fileno()] = conn
            self._sel.register(sock, selectors.EVENT_READ)
            self.accepted += 1
            self._last_sender_t = now
            log.debug("HL7 sender %s:%d connected (channel %d)", ip, addr[1], conn.channel)
            if handshaking:
                self._handshake(conn, now)
        return out

    def _reap(self) -> list:
        """Read the connections that have something (an end, often) before refusing one more."""
        try:
            ready, _, _ = select.select([c.sock for c in self._conns.values()], [], [], 0)
        except (OSError, ValueError):
            return []
        out: list = []
        for sock in ready:
            conn = self._conns.get(sock.fileno())
            if conn is not None and not conn.handshaking:
                out += self._receive(conn, MAX_RECV_PER_READ)[0]
        return out

    def _refuse(self, sock: socket.socket, ip: str, why: str) -> None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # reset
        except OSError:
            pass
        sock.close()
        self.refused += 1
        self._last_refusal = why
        if ip not in self._refused_from:     # once per address: a scanner cannot flood the log
            self._refused_from.add(ip)
            log.warning("HL7 listener %s", why)

    def _handshake(self, conn: _Conn, now: float) -> bool:
        """Advance a TLS handshake; ``True`` once it is done."""
        assert isinstance(conn.sock, ssl.SSLSocket)
        try:
            conn.sock.do_handshake()
        except ssl.SSLWantReadError:
            self._want(conn, selectors.EVENT_READ)
            return False
        except ssl.SSLWantWriteError:
            self._want(conn, selectors.EVENT_READ | selectors.EVENT_WRITE)
            return False
        except (ssl.SSLError, OSError) as exc:
            self._drop(conn, now, f"TLS handshake failed ({_short(exc)})")
            return False
        conn.handshaking = False
        self._want(conn, selectors.EVENT_READ)
        return True

    def _want(self, conn: _Conn, events: int) -> None:
        assert self._sel is not None
        try:
            self._sel.modify(conn.sock, events)
        except (KeyError, ValueError):
            pass

    def _receive(self, conn: _Conn, budget: int) -> tuple[list, int, int]:
        """Read what ``conn`` has (at most ``budget`` chunks); items, bytes read, budget left."""
        assert self._clock is not None
        out: list = []
        total = 0
        if conn.handshaking and not self._handshake(conn, self._clock.now()):
            return out, 0, budget
        while budget > 0 and conn.sock.fileno() in self._conns:
            try:
                data = conn.sock.recv(RECV_CHUNK)
            except (BlockingIOError, InterruptedError, ssl.SSLWantReadError):
                break
            except ssl.SSLWantWriteError:
                self._want(conn, selectors.EVENT_READ | selectors.EVENT_WRITE)
                break
            except (OSError, ssl.SSLError) as exc:
                out += self._drop(conn, self._clock.now(), _short(exc))
                break
            budget -= 1
            t = self._clock.now()
            if not data:
                out += self._drop(conn, t, "")
                break
            total += len(data)
            conn.last_rx = t
            self._last_sender_t = t
            self._bytes_window += len(data)
            out += self._capture(conn, data, t)
            try:
                out += self.codec.feed_channel(conn.channel, data, t)  # type: ignore[attr-defined]
                replies = self.codec.replies(conn.channel)  # type: ignore[attr-defined]
            except Exception:   # the codec must not raise; if it does, this sender goes
                log.exception("HL7 codec failed on channel %d", conn.channel)
                out += self._drop(conn, t, "decoding failed")
                break
            for ack in replies:
                if ack:
                    out.append(RawBytes(t, ack, "out"))
                    conn.outbox += ack
            if conn.outbox:
                out += self._flush(conn, t)
            tls_buffered = isinstance(conn.sock, ssl.SSLSocket) and conn.sock.pending()
            if len(data) < RECV_CHUNK and not tls_buffered:
                break
        return out, total, budget

    def _capture(self, conn: _Conn, data: bytes, t: float) -> list:
        """The raw capture of ``data``: whole messages only, bounded per connection."""
        out: list = []
        start = 0
        search_from = 0
        if conn.tail == END_BLOCK[0] and data[:1] == END_BLOCK[1:]:
            cut = 1            # an end block split between two chunks
        else:
            cut = -1
        while True:
            if cut < 0:
                i = data.find(END_BLOCK, search_from)
                cut = -1 if i < 0 else i + len(END_BLOCK)
            if cut < 0:
                break
            if not conn.oversized:
                conn.pending += data[start:cut]
                out.append(RawBytes(t, bytes(conn.pending)))
            conn.pending.clear()
            conn.oversized = False
            start = search_from = cut
            cut = -1
        rest = data[start:]
        if rest and not conn.oversized:
            if len(conn.pending) + len(rest) > self.max_message_bytes + len(END_BLOCK) + 1:
                conn.oversized = True
                conn.pending.clear()
                self.oversized += 1
                log.warning("HL7 sender %s sent a message larger than %d bytes: discarded "
                            "(left out of the raw capture)", conn.addr[0],
                            self.max_message_bytes)
            else:
                conn.pending += rest
        conn.partial = bool(conn.pending) or conn.oversized
        conn.tail = data[-1] if data else conn.tail
        return out

    def _flush(self, conn: _Conn, t: float) -> list:
        """Write what ``conn`` owes; keep the rest for when the socket can take it."""
        while conn.outbox:
            try:
                n = conn.sock.send(conn.outbox)
            except (BlockingIOError, InterruptedError, ssl.SSLWantWriteError,
                    ssl.SSLWantReadError):
                break
            except (OSError, ssl.SSLError) as exc:
                return self._drop(conn, t, _short(exc))
            del conn.outbox[:n]
        if len(conn.outbox) > MAX_OUTBOX_BYTES:
            return self._drop(conn, t, "it does not read its acknowledgements")
        self._want(conn, selectors.EVENT_READ | (selectors.EVENT_WRITE if conn.outbox else 0))
        return []

    def _expire(self, t: float) -> list:
        out: list = []
        for conn in list(self._conns.values()):
            quiet = t - conn.last_rx
            if conn.handshaking and quiet >= self.partial_timeout_s:
                self.timed_out += 1
                out += self._drop(conn, t, "TLS handshake not finished in time")
            elif conn.partial and quiet >= self.partial_timeout_s:
                self.timed_out += 1
                out += self._drop(conn, t, f"half a message, then nothing for "
                                           f"{self.partial_timeout_s:g} s")
            elif quiet >= self.idle_timeout_s:
                self.timed_out += 1
                out += self._drop(conn, t, f"nothing for {self.idle_timeout_s:g} s")
        return out

    def _drop(self, conn: _Conn, t: float, why: str) -> list:
        """Close ``conn``: the codec forgets its partial message; its tail goes to the capture."""
        fd = conn.sock.fileno()
        if fd in self._conns:
            del self._conns[fd]
        if self._sel is not None:
            try:
                self._sel.unregister(conn.sock)
            except (KeyError, ValueError):
                pass
        try:
            conn.sock.close()
        except OSError:
            pass
        try:
            self.codec.close_channel(conn.channel)  # type: ignore[attr-defined]
        except Exception:
            log.exception("HL7 codec failed closing channel %d", conn.channel)
        self._last_sender_t = t
        if why:
            log.warning("closed the HL7 connection from %s:%d: %s", *conn.addr, why)
        else:
            log.debug("HL7 sender %s:%d disconnected", *conn.addr)
        out: list = []
        if conn.pending and not conn.oversized:
            out.append(RawBytes(t, bytes(conn.pending)))
        conn.pending.clear()
        return out

    # -- status ----------------------------------------------------------------

    def _link_notes(self) -> list[str]:
        notes = []
        if self.host == ALL_INTERFACES and self._listen is not None:
            notes.append(f"listening on every network interface (port {self.port})")
        if self._last_refusal:
            notes.append(f"{self._last_refusal}; {self.refused} refused in all")
        if self.oversized:
            notes.append(f"{self.oversized} messages over {self.max_message_bytes // 1024} KiB "
                         "discarded")
        return notes

    def _status(self, t: float) -> list:
        rate = self._status_rate(t)
        if rate is None:
            return []
        st = self.codec.stats
        listening = self._listen is not None
        recent = self._last_sender_t is not None and t - self._last_sender_t < SENDER_GONE_AFTER_S
        up = listening and (bool(self._conns) or recent)
        if not listening:
            message = self._last_error or "not listening"
        elif not up:
            message = (f"listening on {self.host}:{self.port}: no HL7 sender connected"
                       + (" since the last one left" if self._last_sender_t is not None
                          else " yet"))
        else:
            message = ""
        link = "; ".join(x for x in [self.codec.link_state if up else "", *self._link_notes()]
                         if x)
        n = len(self._conns)
        detail = "; ".join(x for x in [
            self.codec.status_detail,
            f"{n} connection{'s' if n != 1 else ''} open" if listening else ""] if x)
        return [SourceStatus(t, f"{self.label} ({self.protocol})", up, rate,
                             st.frames_ok, st.frames_bad, st.bytes_discarded, st.last_frame_t,
                             message, link, detail, self.codec.link_ok or not up)]


def _route_to(network: Network) -> str:
    """The local address the routing table picks for the first host of ``network``."""
    target = network.network_address if network.num_addresses == 1 else next(network.hosts())
    if target.is_loopback:
        return str(target) if target.version == 4 else "::1"
    probe = socket.socket(socket.AF_INET6 if target.version == 6 else socket.AF_INET,
                          socket.SOCK_DGRAM)
    try:
        probe.connect((str(target), DEFAULT_PORT))   # no packet is sent
        return str(probe.getsockname()[0])
    except OSError as exc:
        raise SourceError(f"no network route to the allowed sender {network}: cannot choose "
                          f"an interface to listen on ({exc.strerror or exc}); give "
                          "hl7:HOST:PORT") from None
    finally:
        probe.close()


def _server_context(cert: Path, key: Path) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    for what, path in (("certificate", cert), ("key", key)):
        if not Path(path).is_file():
            raise SourceError(f"the TLS {what} file {path} does not exist")
    try:
        ctx.load_cert_chain(str(cert), str(key))
    except (ssl.SSLError, OSError) as exc:
        raise SourceError(f"cannot use the TLS certificate {cert} with the key {key}: "
                          f"{_short(exc)} (both PEM files; the key without a passphrase)") \
            from None
    return ctx


def _short(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLError) and exc.reason:
        return str(exc.reason).replace("_", " ").lower()
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def _bind_message(host: str, port: int, exc: OSError) -> str:
    """Why the listener cannot listen, in the user's words."""
    where = f"{host}:{port}"
    if exc.errno == errno.EADDRINUSE:
        return (f"cannot listen for HL7 on {where}: the port is in use by another program "
                "(another monitor window, an interface engine?)")
    if exc.errno in (errno.EACCES, errno.EPERM):
        return (f"cannot listen for HL7 on {where}: no permission"
                + (" (ports below 1024 need administrator rights; 2575 is HL7's)"
                   if port < 1024 else ""))
    if exc.errno == errno.EADDRNOTAVAIL:
        return (f"cannot listen for HL7 on {where}: {host} is not an address of this "
                "computer (network cable out, or the address changed?)")
    if isinstance(exc, socket.gaierror):
        return f"cannot listen for HL7 on {where}: unknown host name {host}"
    return f"cannot listen for HL7 on {where}: {_short(exc)}"
