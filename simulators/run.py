"""``infusion-sim run``: a scenario on a (virtual) serial port, in a device's own protocol.

The scenario engine makes the physiology; a protocol encoder turns it into
the bytes the real device sends, at the device's rate (scaled by
``--speed``); faults are applied to the frames; the bytes go to a
pseudo-terminal, a real serial port, a UDP socket (a monitor on the LAN), a
TCP connection to an HL7 listener (a gateway sending MLLP) or stdout. Host bytes (requests) are passed back to the encoder, so a Datex
monitor answers only when asked and an IntelliVue only once associated.

Choices made:

* On UDP (:class:`UdpPort`) each frame is one datagram, sent to the address
  that last talked to the simulated monitor (nothing is sent before a host
  has), and each datagram received is one :meth:`Encoder.receive`. Injected
  garbage is a datagram of its own (a stray datagram on the LAN). While no
  host is associated the monitor's Connect Indications go to ``--announce``.
* On TCP (:class:`MllpClientPort`) the simulator is the client, as an HL7
  gateway is: it connects to the listener, non-blocking, and when the
  connection is refused or closed tries again with a back-off (0.5 s doubling
  to 8 s, real seconds; reset once connected). Each frame is written whole or
  the connection is given up (a frame cut by a stalled listener would run
  into the next one); frames written while no connection is up are lost, as
  on a gateway, and counted (the encoder resends what is not acknowledged).
  A scenario's link loss and a disconnect fault close the connection; it is
  made anew after. Injected garbage is written between frames on the same
  connection.
* On stdout nobody can answer, so a host runs in process
  (:class:`VirtualHostPort`): the protocol's real codec opens the session
  and its due messages (:meth:`Codec.tick`) go to the encoder, the encoder's
  bytes to the codec and to stdout; a capture of a protocol with a session
  (IntelliVue) then holds a real session, replayable with ``replay:FILE``.
* A scenario's link loss loses both directions: the monitor's frames and the
  host's requests.
* A wrong bed (``Faults.wrong_bed_at``) makes a gateway label the messages
  with another bed for a while (``Encoder.wrong_bed``, for encoders that have
  it); a duplicate (``Faults.duplicate``) sends a frame twice in a row.

Several devices at one chair (:func:`run_devices`, ``infusion-sim run`` with
more than one ``--protocol``):

* One engine and one clock: every device plays the same patient. Each scenario
  item is pushed to every device's encoder, and each encoder sends what its
  protocol carries (an oximeter's SpO2 and pulse rate, a monitor's everything).
  The scenario's own episodes belong to the patient or the session and reach
  every device alike (a sensor-off episode blanks the SpO2 of both, a link loss
  silences both); the per-device :class:`Faults` are the way to fail one device
  alone.
* Each device has its own faults, drawn from its own random stream, and its
  encoder its own generator (:func:`device_rng`): device 0 keeps the streams a
  run of that device alone uses (so its faults and serial number are the same
  whether it plays alone or beside another), device ``i`` derives them from the
  seed and ``i``. Faults are independent across devices and reproducible.
* Each port's lines carry the device's label when there are several:
  ``PTY 1 masimo-ascii /dev/pts/3`` (``PTY /dev/pts/3`` alone), ``UDP 2
  intellivue-lan 127.0.0.1:24105``, ``MLLP 2 hl7-pcd01 connected HOST:PORT``;
  one ``START`` line follows the ports' lines.
* A tester unplugs a device while the others run through a control channel
  (:class:`ControlChannel`: a FIFO, or stdin): ``unplug N`` closes device N's
  port as ``--disconnect-at`` does (a pty is closed, its path vanishes) and
  ``plug N`` opens it again (a new pty, announced by a new ``PTY`` line and
  followed by ``--link``). Each command is answered on stdout when it is
  applied, at the next step of the runner: ``UNPLUGGED 1 masimo-ascii``,
  ``PLUGGED 1 masimo-ascii`` (``UNPLUGGED`` / ``PLUGGED`` alone). A device
  unplugged by hand and by ``--disconnect-at`` stays out until both have let it
  back.
"""

from __future__ import annotations

import errno
import logging
import os
import select
import socket
import stat
import sys
import threading
import time
import tty
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import numpy as np

from monitor.core.clock import SimClock
from simulators.encoders.base import Encoder
from simulators.engine import ScenarioEngine
from simulators.scenario import Scenario

log = logging.getLogger(__name__)

STEP_S = 0.02   # real seconds between writes: bytes arrive in small bursts, like a UART
BROADCAST = "255.255.255.255"
ANNOUNCE_PORT = 24005
"""Where a LAN monitor's Connect Indications go by default (the guide's port)."""


@dataclass
class Faults:
    """Fault injection rates (probability per frame) and timed events (session seconds)."""

    garbage: float = 0.0
    corrupt: float = 0.0
    drop: float = 0.0
    disconnect_at: float | None = None
    reconnect_after: float = 5.0
    sensor_off_at: float | None = None
    sensor_off_for: float = 30.0
    duplicate: float = 0.0
    wrong_bed_at: float | None = None
    wrong_bed_for: float = 30.0


class Port:
    """Where the device's bytes go."""

    closes_on_link_loss = False
    """A scenario's link loss closes the port (a TCP connection dropped), reopened after."""

    def write(self, data: bytes) -> int:
        raise NotImplementedError

    def send(self, pieces: list[bytes]) -> int:
        """Write frames (and injected garbage) in order; bytes written."""
        return self.write(b"".join(pieces)) if pieces else 0

    def read(self) -> bytes:
        return b""

    def messages(self, now: float) -> list[bytes]:
        """What the host sent by session time ``now``, one element per message or read."""
        data = self.read()
        return [data] if data else []

    def send_announcements(self, datagrams: list[bytes]) -> None:
        """Send the device's announcements (a LAN monitor's Connect Indications)."""

    def close(self) -> None:
        pass

    def reopen(self) -> None:
        pass


class PtyPort(Port):
    """A pseudo-terminal; the app opens its slave side like a serial port.

    ``link`` (optional) is a stable symlink to the slave, re-pointed when the
    port is reopened after a simulated unplug (the pts number changes).
    ``label`` (a device's number and protocol, when a run has several) goes
    before the path in the ``PTY`` line.
    """

    def __init__(self, announce: IO[str], link: Path | None = None, *, label: str = "") -> None:
        self.announce = announce
        self.link = link
        self.label = label
        self.master = -1
        self.slave = -1
        self.lost_bytes = 0
        self.reopen()

    def reopen(self) -> None:
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)      # bytes pass unchanged: no echo, no CR/LF mapping
        os.set_blocking(self.master, False)
        name = os.ttyname(self.slave)
        if self.link is not None:
            tmp = self.link.with_name(self.link.name + ".tmp")
            tmp.unlink(missing_ok=True)
            tmp.symlink_to(name)
            tmp.replace(self.link)
        self.announce.write(f"PTY {_labelled(self.label, name)}\n")
        self.announce.flush()

    def write(self, data: bytes) -> int:
        try:
            return os.write(self.master, data)
        except BlockingIOError:
            # Nobody reads the port: a real UART would overrun too.
            self.lost_bytes += len(data)
            return 0
        except OSError:
            self.lost_bytes += len(data)
            return 0

    def read(self) -> bytes:
        try:
            ready, _, _ = select.select([self.master], [], [], 0)
            if ready:
                return os.read(self.master, 4096)
        except OSError:
            pass
        return b""

    def close(self) -> None:
        for fd in (self.master, self.slave):
            if fd >= 0:
                os.close(fd)
        self.master = self.slave = -1
        if self.link is not None:
            self.link.unlink(missing_ok=True)


class SerialPort(Port):
    """A real serial port (e.g. one end of a null-modem cable)."""

    def __init__(self, device: str, settings: object) -> None:
        self.device = device
        self.settings = settings
        self.ser = None
        self.reopen()

    def reopen(self) -> None:
        import serial

        s = self.settings
        self.ser = serial.Serial(self.device, baudrate=s.baudrate, bytesize=s.bytesize,
                                 parity=s.parity, stopbits=s.stopbits, rtscts=s.rtscts,
                                 xonxoff=s.xonxoff, timeout=0, write_timeout=0)

    def write(self, data: bytes) -> int:
        try:
            return self.ser.write(data) or 0
        except (OSError, ValueError):  # serial's write timeout, a port gone
            return 0

    def read(self) -> bytes:
        return self.ser.read(self.ser.in_waiting or 0) if self.ser.in_waiting else b""

    def close(self) -> None:
        if self.ser is not None:
            self.ser.close()


class StdoutPort(Port):
    """The raw bytes on stdout (a capture, or a pipe into another tool)."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream

    def write(self, data: bytes) -> int:
        self.stream.write(data)
        self.stream.flush()
        return len(data)


class VirtualHostPort(Port):
    """A host in process in front of ``inner``: the codec talks to the device, sees its bytes.

    ``messages(now)`` returns the codec's due messages (its open requests first),
    so the encoder hears a real host; every byte written goes to the codec
    (which decodes it, keeping its session going) and on to ``inner``.
    """

    def __init__(self, inner: Port, codec: object) -> None:
        from monitor.devices.codecs.base import Codec

        assert isinstance(codec, Codec)
        self.inner = inner
        self.codec = codec
        self._now = 0.0
        self._opened = False

    def write(self, data: bytes) -> int:
        self.codec.feed(data, self._now)
        return self.inner.write(data)

    def send(self, pieces: list[bytes]) -> int:
        return sum(self.write(piece) for piece in pieces)

    def messages(self, now: float) -> list[bytes]:
        self._now = now
        out = []
        if not self._opened:
            self._opened = True
            request = self.codec.open_requests()
            if request:
                out.append(request)
        return out + [m for m in self.codec.tick(now) if m]

    def close(self) -> None:
        self.inner.close()

    def reopen(self) -> None:
        self._opened = False     # a replugged cable: the host opens the session again
        self.inner.reopen()


class UdpPort(Port):
    """A monitor's LAN port: a UDP socket on ``host:port``, one datagram per frame.

    Frames go to the address that last sent a datagram here (none before a
    host has); announcements go to ``announce_to`` (a host and port, the
    broadcast address allowed). The bound address is printed as ``UDP HOST:PORT``.
    """

    def __init__(self, announce: IO[str], port: int, host: str = "127.0.0.1",
                 announce_to: tuple[str, int] | None = None, *, label: str = "") -> None:
        self.announce = announce
        self.label = label
        self.host = host
        self.port = port
        self.announce_to = announce_to
        self.peer: tuple[str, int] | None = None
        self.sock: socket.socket | None = None
        self.lost_datagrams = 0
        self._printed = False
        self.reopen()

    def reopen(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if self.announce_to is not None and self.announce_to[0] == BROADCAST:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        sock.bind((self.host, self.port))
        sock.setblocking(False)
        self.sock = sock
        self.port = sock.getsockname()[1]
        if not self._printed:    # the address stays the same across a reopen
            self._printed = True
            self.announce.write(f"UDP {_labelled(self.label, f'{self.host}:{self.port}')}\n")
            self.announce.flush()

    def _sendto(self, datagram: bytes, to: tuple[str, int]) -> int:
        if self.sock is None:
            return 0
        try:
            return self.sock.sendto(datagram, to)
        except OSError:          # the host's socket is gone (ICMP), a full buffer
            self.lost_datagrams += 1
            return 0

    def write(self, data: bytes) -> int:
        return self.send([data])

    def send(self, pieces: list[bytes]) -> int:
        if self.peer is None:
            self.lost_datagrams += len(pieces)
            return 0
        return sum(self._sendto(piece, self.peer) for piece in pieces if piece)

    def messages(self, now: float) -> list[bytes]:
        out = []
        while self.sock is not None:
            try:
                data, sender = self.sock.recvfrom(65535)
            except (BlockingIOError, ConnectionRefusedError):
                break
            except OSError:
                break
            self.peer = sender[:2]
            if data:
                out.append(data)
        return out

    def send_announcements(self, datagrams: list[bytes]) -> None:
        if self.announce_to is not None:
            for datagram in datagrams:
                self._sendto(datagram, self.announce_to)

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None


class MllpClientPort(Port):
    """An HL7 gateway's connection to the listener at ``host:port``; the simulator is the client.

    Non-blocking throughout: the connection is attempted at once and again,
    after a refusal, a close by the listener or a broken write, once the
    back-off has passed (``backoff``: first and longest delay, real seconds;
    doubled after each failure, reset once connected). A connection attempt
    unanswered for ``connect_timeout_s`` is given up the same way. Each frame
    is written whole (blocking up to ``write_timeout_s``) or the connection is
    dropped; frames written while not connected are lost and counted in
    :attr:`lost_frames`. Connects and drops are printed as ``MLLP connected
    HOST:PORT`` and ``MLLP disconnected HOST:PORT (why)``. A scenario's link
    loss drops the connection; it is made again when the loss ends.
    """

    closes_on_link_loss = True

    def __init__(self, announce: IO[str], host: str, port: int, *,
                 backoff: tuple[float, float] = (0.5, 8.0), connect_timeout_s: float = 5.0,
                 write_timeout_s: float = 2.0, label: str = "") -> None:
        self.announce = announce
        self.label = label
        self.host = host
        self.port = port
        self.backoff = backoff
        self.connect_timeout_s = connect_timeout_s
        self.write_timeout_s = write_timeout_s
        family, _, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        self._family, self._address = family, address
        self.sock: socket.socket | None = None
        self.connects = 0
        self.lost_frames = 0
        self._connecting_since: float | None = None
        self._delay = backoff[0]
        self._next_try = 0.0
        self._closed = False
        self._service()

    @property
    def connected(self) -> bool:
        return self.sock is not None and self._connecting_since is None

    def _say(self, text: str) -> None:
        self.announce.write(f"MLLP {_labelled(self.label, text)}\n")
        self.announce.flush()

    def _service(self) -> None:
        """Connect when due; finish a connection in progress."""
        if self._closed:
            return
        now = time.monotonic()
        if self.sock is None:
            if now < self._next_try:
                return
            sock = socket.socket(self._family, socket.SOCK_STREAM)
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            err = sock.connect_ex(self._address)
            if err not in (0, errno.EINPROGRESS, errno.EWOULDBLOCK, errno.EAGAIN):
                sock.close()
                self._retry_later(f"connection failed: {os.strerror(err)}", quiet=True)
                return
            self.sock, self._connecting_since = sock, now
        if self._connecting_since is None:
            return
        _, writable, _ = select.select([], [self.sock], [], 0)
        if not writable:
            if now - self._connecting_since > self.connect_timeout_s:
                self._drop("no answer to the connection request", quiet=True)
            return
        err = self.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if err:
            self._drop(f"connection failed: {os.strerror(err)}", quiet=True)
            return
        self._connecting_since = None
        self._delay = self.backoff[0]
        self.connects += 1
        self._say(f"connected {self.host}:{self.port}")

    def _drop(self, why: str, quiet: bool = False) -> None:
        was_connected = self.connected
        if self.sock is not None:
            self.sock.close()
        self.sock, self._connecting_since = None, None
        if was_connected:
            self._say(f"disconnected {self.host}:{self.port} ({why})")
        self._retry_later(why, quiet=quiet or was_connected)

    def _retry_later(self, why: str, quiet: bool) -> None:
        if not quiet:
            log.info("MLLP %s:%d: %s", self.host, self.port, why)
        log.debug("MLLP %s:%d: %s; next attempt in %.1f s", self.host, self.port, why,
                  self._delay)
        self._next_try = time.monotonic() + self._delay
        self._delay = min(self._delay * 2.0, self.backoff[1])

    def write(self, data: bytes) -> int:
        self._service()
        if not self.connected or self.sock is None:
            self.lost_frames += 1
            return 0
        try:
            self.sock.settimeout(self.write_timeout_s)
            self.sock.sendall(data)
        except OSError as exc:    # a timeout (the listener stalled), a reset, a broken pipe
            self.lost_frames += 1
            self._drop(f"write failed: {exc.strerror or exc}")
            return 0
        finally:
            if self.sock is not None:
                self.sock.setblocking(False)
        return len(data)

    def send(self, pieces: list[bytes]) -> int:
        return sum(self.write(piece) for piece in pieces if piece)

    def messages(self, now: float) -> list[bytes]:
        self._service()
        out: list[bytes] = []
        for _ in range(64):          # bounded per step; the rest is read at the next
            if not self.connected or self.sock is None:
                break
            try:
                data = self.sock.recv(65536)
            except BlockingIOError:
                break
            except OSError as exc:
                self._drop(f"read failed: {exc.strerror or exc}")
                break
            if not data:
                self._drop("closed by the listener")
                break
            out.append(data)
        return out

    def close(self) -> None:
        self._drop("closed by the simulator", quiet=True)
        self._closed = True

    def reopen(self) -> None:
        self._closed = False
        self._delay, self._next_try = self.backoff[0], 0.0
        self._service()


def _labelled(label: str, text: str) -> str:
    """``text`` after a device's label (``"1 masimo-ascii"``), or alone for a run of one."""
    return f"{label} {text}" if label else text


def device_rng(seed: int, index: int, stream: int) -> np.random.Generator:
    """The random generator of device ``index`` (from 0) for ``stream`` (:data:`FAULT_STREAM`,
    :data:`ENCODER_STREAM`): device 0 has a run of one device's generator, device ``i`` its own."""
    return np.random.default_rng([seed, stream] if index == 0 else [seed, stream, index])


FAULT_STREAM = 0xFA17
"""The stream of a device's per-frame faults."""
ENCODER_STREAM = 0xE7C0
"""The stream of what a device's encoder varies (serial number, clock offset)."""


def _new_counts() -> dict[str, int]:
    return {"frames": 0, "dropped": 0, "corrupted": 0, "garbage": 0, "bytes": 0,
            "link_lost": 0, "duplicated": 0}


@dataclass(eq=False)
class Device:
    """One device of a run: its encoder, its port, its own faults, its state.

    Parameters
    ----------
    encoder : Encoder
    port : Port
    faults : Faults
        This device's faults only.
    label : str
        ``"N protocol"`` (N from 1) when the run has several devices, else
        ``""``; names the device in the control channel's answers.
    rng : numpy.random.Generator, optional
        The per-frame faults' stream; :func:`device_rng` of the device's index
        by default.

    Attributes
    ----------
    counts : dict of str to int
        Frames sent, dropped, corrupted... (the counts :func:`run` returns).
    unplugged : bool
        Set by the control channel: the cable is out until it is cleared.
    connected : bool
        Whether the cable is in (not unplugged, not in a ``disconnect_at``
        window).
    """

    encoder: Encoder
    port: Port
    faults: Faults = field(default_factory=Faults)
    label: str = ""
    rng: np.random.Generator | None = None
    counts: dict[str, int] = field(default_factory=_new_counts)
    unplugged: bool = False
    connected: bool = True
    _in_loss: bool = False
    _scheduled_out: bool = False
    _disconnect_done: bool = False
    _reconnect_at: float = 0.0
    _frames: list[bytes] = field(default_factory=list)

    def _timed_faults(self, rel: float) -> None:
        """Apply the faults due at ``rel`` session seconds: sensor off, wrong bed, unplugs."""
        f, encoder = self.faults, self.encoder
        if f.sensor_off_at is not None:
            encoder.sensor_off = f.sensor_off_at <= rel < f.sensor_off_at + f.sensor_off_for
        if f.wrong_bed_at is not None and hasattr(encoder, "wrong_bed"):
            encoder.wrong_bed = f.wrong_bed_at <= rel < f.wrong_bed_at + f.wrong_bed_for
        if not self._disconnect_done and f.disconnect_at is not None and rel >= f.disconnect_at:
            self._disconnect_done, self._scheduled_out = True, True
            self._reconnect_at = f.disconnect_at + f.reconnect_after
            log.info("%sdisconnected at %.1f s", _labelled(self.label, ""), rel)
            self._plug(False)
        if self._scheduled_out and rel >= self._reconnect_at:
            self._scheduled_out = False
            log.info("%sreconnected at %.1f s", _labelled(self.label, ""), rel)
        self._plug(not self._scheduled_out and not self.unplugged)

    def _plug(self, on: bool) -> None:
        if on == self.connected:
            return
        if not on:
            self.port.close()
        elif not self._in_loss:      # a connection stays closed to the end of a link loss
            self.port.reopen()
        self.connected = on

    def _stretch(self, edge: float, last: bool, lost: bool, closes: bool) -> None:
        """The frames of the stretch of time ending at ``edge`` (``lost``: in a link loss)."""
        encoder, port = self.encoder, self.port
        if closes and lost != self._in_loss:
            # A connection's link loss: the connection drops, and is made again after.
            self._in_loss = lost
            if self.connected and lost:
                self._deliver()
                port.close()
            elif self.connected:
                port.reopen()
        due = encoder.due(edge)
        if self.connected and last:
            heard = [host for host in port.messages(edge)
                     if not lost]    # in a link loss the host's requests are lost too
            for host in heard:
                encoder.receive(host)
            if heard:
                # Answered at once, after what was due before (a renewed poll never
                # cancels a result already due).
                due += encoder.due(edge)
        if lost:
            self.counts["link_lost"] += len(due)   # the scenario's link loss: nothing arrives
        else:
            self._frames += due
            if self.connected:
                port.send_announcements(_announcements(encoder, edge))

    def _deliver(self) -> None:
        frames, self._frames = self._frames, []
        if self.connected:
            assert self.rng is not None
            _deliver(frames, self.encoder, self.port, self.faults, self.rng, self.counts)


class ControlChannel:
    """Commands to a running simulator, one a line: a FIFO (made when missing) or stdin.

    ``unplug N`` pulls device N's cable (N from 1, in command-line order),
    ``plug N`` puts it back; without N, every device. Blank lines and lines
    starting with ``#`` are ignored; anything else is reported on stderr and
    ignored. Read without blocking at each step of the runner (no thread):
    a FIFO is opened for writing too, so that writers may come and go
    (``echo unplug 1 > FIFO`` once per command); stdin ends at its end of file.

    Parameters
    ----------
    path : str
        A FIFO's path (made, and removed at :meth:`close`, when it does not
        exist), or ``"-"`` for stdin.

    Raises
    ------
    ValueError
        When ``path`` exists and is not a FIFO.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._made: Path | None = None
        self._keep = -1
        self._buffer = b""
        if path == "-":
            self._fd = sys.stdin.fileno()
            return
        fifo = Path(path)
        if not fifo.exists():
            os.mkfifo(fifo)
            self._made = fifo
        elif not stat.S_ISFIFO(fifo.stat().st_mode):
            raise ValueError(f"{path} exists and is not a FIFO")
        self._fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
        self._keep = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)   # never an end of file

    def poll(self) -> list[str]:
        """The complete lines received since the last call, stripped."""
        while self._fd >= 0:
            try:
                ready, _, _ = select.select([self._fd], [], [], 0)
                if not ready:
                    break
                data = os.read(self._fd, 4096)
            except BlockingIOError:
                break
            except OSError:
                data = b""
            if not data:                 # stdin's end: a last line without its newline
                self._buffer += b"\n"
                self._fd = -1
                break
            self._buffer += data
        *lines, self._buffer = self._buffer.split(b"\n")
        return [line.decode("utf-8", "replace").strip() for line in lines]

    def close(self) -> None:
        for fd in (self._keep, self._fd if self.path != "-" else -1):
            if fd >= 0:
                os.close(fd)
        self._fd = self._keep = -1
        if self._made is not None:
            self._made.unlink(missing_ok=True)
            self._made = None


def apply_command(line: str, devices: Sequence[Device], out: IO[str],
                  err: IO[str] | None = None) -> bool:
    """Carry out one control line (see :class:`ControlChannel`); False when it is not one.

    The answer (``UNPLUGGED 1 masimo-ascii``...) goes to ``out``, a complaint to ``err``.
    """
    words = line.split()
    if not words or words[0].startswith("#"):
        return True
    err = err if err is not None else sys.stderr
    verb, rest = words[0].lower(), words[1:]
    chosen: list[Device] | None = None
    if verb in ("unplug", "plug") and not rest:
        chosen = list(devices)
    elif verb in ("unplug", "plug") and len(rest) == 1 and rest[0].isdigit() \
            and 1 <= int(rest[0]) <= len(devices):
        chosen = [devices[int(rest[0]) - 1]]
    if chosen is None:
        numbers = "1" if len(devices) == 1 else f"1 to {len(devices)}"
        err.write(f"infusion-sim: control: {line!r} is not a command; expected 'unplug N' "
                  f"or 'plug N' (N: {numbers}, or none for every device)\n")
        err.flush()
        return False
    for device in chosen:
        device.unplugged = verb == "unplug"
        word = "UNPLUGGED" if device.unplugged else "PLUGGED"
        out.write(f"{word} {device.label}\n" if device.label else f"{word}\n")
    out.flush()
    return True


def run(scenario: Scenario, encoder: Encoder, port: Port, *, speed: float, seed: int,
        faults: Faults, duration_s: float | None = None,
        should_stop: threading.Event | None = None) -> dict[str, int]:
    """Play ``scenario`` through ``encoder`` onto ``port`` until it ends. Returns counts."""
    device = Device(encoder, port, faults)
    return run_devices(scenario, [device], speed=speed, seed=seed, duration_s=duration_s,
                       should_stop=should_stop)[0]


def run_devices(scenario: Scenario, devices: Sequence[Device], *, speed: float, seed: int,
                duration_s: float | None = None, should_stop: threading.Event | None = None,
                control: ControlChannel | None = None,
                announce: IO[str] | None = None) -> list[dict[str, int]]:
    """Play ``scenario`` as every device of ``devices`` at once, on one clock, until it ends.

    Parameters
    ----------
    scenario : Scenario
    devices : sequence of Device
        Each with its own encoder, port and faults; one engine feeds them all.
    speed : float
        Session seconds per real second.
    seed : int
        The engine's seed; a device without ``rng`` takes :func:`device_rng`
        of ``seed`` and its index.
    duration_s : float, optional
        Session seconds to play (default: the scenario's length).
    should_stop : threading.Event, optional
        Ends the run early when set.
    control : ControlChannel, optional
        Read at each step; its commands unplug and plug devices.
    announce : IO[str], optional
        Where ``START`` and the control's answers go (default: the first
        announcing port's stream, else stdout).

    Returns
    -------
    list of dict of str to int
        Each device's counts, in order.
    """
    should_stop = should_stop or threading.Event()
    start = time.time()
    announcing = [d.port.announce for d in devices
                  if isinstance(d.port, (PtyPort, UdpPort, MllpClientPort))]
    if announcing:
        # Testers can line the devices' output up with the scenario's seconds.
        announcing[0].write(f"START {start:.6f}\n")
        announcing[0].flush()
    out = announce or (announcing[0] if announcing else sys.stdout)
    for index, device in enumerate(devices):
        if device.rng is None:
            device.rng = device_rng(seed, index, FAULT_STREAM)
    clock = SimClock(start, speed)
    engine = ScenarioEngine(scenario, seed, start, run_s=duration_s)
    end = start + engine.run_s
    done_to = start
    try:
        while not should_stop.is_set():
            now = clock.now()
            rel = now - start
            if control is not None:
                for line in control.poll():
                    apply_command(line, devices, out)
            for device in devices:
                device._timed_faults(rel)
            upto = min(now, end)
            # The step is cut at the edges of a link loss, so each stretch is wholly lost or
            # wholly sent, however long a step a loaded machine takes.
            for edge in (*engine.link_loss_edges(done_to, upto), upto):
                items = engine.generate(edge)
                lost = engine.link_lost((done_to + edge) / 2)
                for device in devices:
                    for item in items:
                        device.encoder.push(item)
                    device._stretch(edge, edge == upto, lost, device.port.closes_on_link_loss)
                done_to = edge
            for device in devices:
                device._deliver()
            if now >= end:
                break
            should_stop.wait(STEP_S)
    finally:
        for device in devices:
            device.port.close()
    return [device.counts for device in devices]


def _deliver(frames: list[bytes], encoder: Encoder, port: Port, faults: Faults,
             rng: np.random.Generator, counts: dict[str, int]) -> None:
    """Send ``frames`` with the per-frame faults applied."""
    out: list[bytes] = []
    for frame in frames:
        counts["frames"] += 1
        if faults.drop and rng.random() < faults.drop:
            counts["dropped"] += 1
            continue
        if faults.garbage and rng.random() < faults.garbage:
            counts["garbage"] += 1
            out.append(rng.integers(0, 256, int(rng.integers(1, 24)),
                                    dtype=np.uint8).tobytes())
        if faults.corrupt and rng.random() < faults.corrupt:
            counts["corrupted"] += 1
            frame = encoder.corrupt(frame)
        out.append(frame)
        if faults.duplicate and rng.random() < faults.duplicate:
            counts["duplicated"] += 1
            out.append(frame)
    if out:
        counts["bytes"] += port.send(out)


def _announcements(encoder: Encoder, now: float) -> list[bytes]:
    """The device's announcements due by ``now`` (a LAN monitor's Connect Indications)."""
    make = getattr(encoder, "announcements", None)
    return list(make(now)) if make is not None else []


def announce_stream() -> IO[str]:
    return sys.stdout
