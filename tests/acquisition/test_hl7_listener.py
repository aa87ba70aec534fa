"""The HL7 MLLP listener on real TCP sockets on loopback: framing, faults, limits, TLS.

The senders are the test's own sockets. The codec here is a small MLLP
stand-in (:class:`AckingCodec`: one ACK echoing MSH-10 per complete frame,
bounded like the real codec's contract) so that these tests exercise the
sockets alone; the real ``hl7-pcd01`` codec is read through the listener in
``test_hl7_listener_codec.py`` and end to end in ``tests/integration``.
"""

from __future__ import annotations

import os
import random
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable

import pytest

from monitor.core.clock import RealClock
from monitor.core.events import Condition, RawBytes, SourceStatus, Technical
from monitor.devices import hl7_driver
from monitor.devices.base import SourceError
from monitor.devices.codecs.base import Codec, CodecItem, SerialSettings
from monitor.devices.hl7_driver import Hl7Driver, parse_allow

SB, EB = b"\x0b", b"\x1c\x0d"


def message(control_id: str, bed: str = "12") -> bytes:
    """An ORU^R01 shaped enough for the stand-in codec (MSH-10 is what it reads)."""
    return (f"MSH|^~\\&|GW|ICU|MON|CHAIR|20260101120000||ORU^R01^ORU_R01|{control_id}|P|2.6\r"
            f"PV1||I|ICU^1^{bed}\r"
            "OBX|1|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.1.1.1|97|262688^MDC_DIM_PERCENT^MDC"
            "|||||R\r").encode()


def framed(control_id: str) -> bytes:
    return SB + message(control_id) + EB


class AckingCodec(Codec):
    """Per channel: MLLP frames, one ACK (AA, MSA-2 = MSH-10) each; at most ``limit`` held."""

    name = "acking"
    description = "test stand-in"
    serial_defaults = SerialSettings()
    transport = "tcp"

    def __init__(self, limit: int = hl7_driver.MAX_MESSAGE_BYTES) -> None:
        super().__init__()
        self.limit = limit
        self.buffers: dict[int, bytearray] = {}
        self.discarding: set[int] = set()
        self.owed: dict[int, list[bytes]] = {}
        self.messages: list[tuple[int, str]] = []
        self.closed: list[int] = []
        self.most_held = 0

    def feed(self, data: bytes, t: float) -> list[CodecItem]:
        return self.feed_channel(0, data, t)

    def feed_channel(self, channel: int, data: bytes, t: float) -> list[CodecItem]:
        buf = self.buffers.setdefault(channel, bytearray())
        i = 0
        while i < len(data):
            if channel in self.discarding:       # skip to the end of an oversized message
                j = (buf + data[i:]).find(EB)
                if j < 0:
                    buf[:] = data[-1:]
                    break
                i += j + 2 - len(buf)
                buf.clear()
                self.discarding.discard(channel)
                continue
            if not buf:
                j = data.find(SB, i)
                self.stats.bytes_discarded += (len(data) if j < 0 else j) - i
                if j < 0:
                    break
                i = j
            if buf.endswith(b"\x1c") and data[i:i + 1] == b"\r":
                end = i + 1                      # an end block split in two
            else:
                j = data.find(EB, i)
                end = len(data) if j < 0 else j + 2
            buf += data[i:end]
            i = end
            self.most_held = max(self.most_held, len(buf))
            k = buf.rfind(SB)
            if k > 0:                            # a new start block: resynchronise
                del buf[:k]
            if buf.endswith(EB):
                self._message(channel, bytes(buf[1:-2]), t)
                buf.clear()
            elif len(buf) > self.limit:
                self.stats.bytes_discarded += len(buf)
                buf[:] = buf[-1:]
                self.discarding.add(channel)
        return []

    def _message(self, channel: int, msg: bytes, t: float) -> None:
        fields = msg.split(b"\r", 1)[0].split(b"|")
        cid = fields[9].decode() if len(fields) > 9 else ""
        self.stats.frames_ok += 1
        self.stats.last_frame_t = t
        self.messages.append((channel, cid))
        ack = f"MSH|^~\\&|MON|CHAIR|GW|ICU|20260101120001||ACK|A{cid}|P|2.6\rMSA|AA|{cid}\r"
        self.owed.setdefault(channel, []).append(SB + ack.encode() + EB)

    def replies(self, channel: int) -> list[bytes]:
        return self.owed.pop(channel, [])

    def close_channel(self, channel: int) -> None:
        self.closed.append(channel)
        self.buffers.pop(channel, None)
        self.discarding.discard(channel)


class Rig:
    """The driver's reader thread, collecting what it returns."""

    def __init__(self, driver: Hl7Driver) -> None:
        self.driver = driver
        self.items: list = []
        self.reads = 0
        self.stop = threading.Event()
        self.lock = threading.RLock()
        driver.open(RealClock(), time.time())
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.is_set():
            got = self.driver.read(self.stop)
            if got is None:
                break
            with self.lock:
                self.items += got
                self.reads += 1

    def wait(self, cond: Callable[[], bool], timeout: float = 10.0, what: str = "") -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if cond():
                    return
            time.sleep(0.01)
        raise AssertionError(f"timed out waiting for {what or cond}")

    def of(self, kind: type) -> list:
        with self.lock:
            return [x for x in self.items if isinstance(x, kind)]

    def raw(self, direction: str = "in") -> list[bytes]:
        return [x.data for x in self.of(RawBytes) if x.direction == direction]

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        assert not self.thread.is_alive(), "the reader thread is stuck"
        self.driver.close()

    @property
    def port(self) -> int:
        address = self.driver.local_address
        assert address is not None
        return address[1]


def make(codec: AckingCodec | None = None, **kw) -> tuple[Rig, AckingCodec]:
    codec = codec or AckingCodec()
    kw.setdefault("host", "127.0.0.1")
    driver = Hl7Driver(kw.pop("host"), kw.pop("port", 0), codec=codec, **kw)
    rig = Rig(driver)
    rig.wait(lambda: driver.local_address is not None, what="listening")
    return rig, codec


@pytest.fixture
def rig():
    made: list[Rig] = []

    def build(**kw) -> tuple[Rig, AckingCodec]:
        r, c = make(**kw)
        made.append(r)
        return r, c

    yield build
    for r in made:
        r.close()


def connect(port: int, host: str = "127.0.0.1") -> socket.socket:
    s = socket.create_connection((host, port), timeout=5)
    s.settimeout(5)
    return s


def refused_at_once(port: int) -> bool:
    """The listener closes (resets) a new connection without reading it."""
    try:
        s = connect(port)
    except ConnectionResetError:
        return True          # reset before the handshake completed here
    try:
        s.sendall(framed("nope"))
        return s.recv(100) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True
    finally:
        s.close()


def read_acks(sock: socket.socket, count: int, timeout: float = 10.0) -> list[str]:
    """MSA-2 of the next ``count`` ACKs on ``sock``."""
    buf = b""
    deadline = time.monotonic() + timeout
    while buf.count(EB) < count and time.monotonic() < deadline:
        chunk = sock.recv(65536)
        if not chunk:
            break
        buf += chunk
    acks = [f for f in buf.split(EB) if f]
    out = []
    for a in acks:
        assert a.startswith(SB), a
        msa = next(seg for seg in a[1:].split(b"\r") if seg.startswith(b"MSA")).decode()
        assert msa.split("|")[1] == "AA"
        out.append(msa.split("|")[2])
    return out


# -- framing -----------------------------------------------------------------------------

def test_frames_split_anywhere_are_each_acknowledged_and_captured_whole(rig):
    r, codec = rig()
    stream = b"".join(framed(f"c{i}") for i in range(20))
    rng = random.Random(3)
    with connect(r.port) as s:
        i = 0
        while i < len(stream):
            n = rng.choice([1, 2, 3, 7, 50, 400])
            s.sendall(stream[i:i + n])
            i += n
            if rng.random() < 0.2:
                time.sleep(0.002)     # let some pieces arrive alone
        assert read_acks(s, 20) == [f"c{i}" for i in range(20)]
    r.wait(lambda: codec.closed, what="the channel closed")
    # The capture is the stream, in whole messages: a replay through channel 0 is the same.
    assert b"".join(r.raw("in")) == stream
    assert all(c.startswith(SB) and c.endswith(EB) for c in r.raw("in"))
    assert len(r.raw("out")) == 20


def test_several_messages_in_one_packet_with_garbage_between_them(rig):
    r, codec = rig()
    stream = (b"noise\r\n" + framed("a") + framed("b") + b"\x00\xff junk" + framed("c")
              + b"\r\n" + framed("d"))
    with connect(r.port) as s:
        s.sendall(stream)
        assert read_acks(s, 4) == ["a", "b", "c", "d"]
    r.wait(lambda: codec.closed, what="the channel closed")
    assert b"".join(r.raw("in")) == stream
    assert codec.stats.bytes_discarded > 0


def test_an_end_block_split_between_two_packets_still_ends_the_captured_message(rig):
    r, codec = rig()
    whole = framed("x")
    with connect(r.port) as s:
        s.sendall(whole[:-1])
        r.wait(lambda: codec.most_held >= len(whole) - 1, what="the first part")
        s.sendall(whole[-1:] + framed("y"))
        assert read_acks(s, 2) == ["x", "y"]
        r.wait(lambda: len(r.raw("in")) >= 2, what="two captured messages")
    assert r.raw("in")[:2] == [whole, framed("y")]


def test_two_connections_interleaved_are_captured_message_by_message(rig):
    r, codec = rig()
    a, b = connect(r.port), connect(r.port)
    try:
        ma, mb = framed("A1"), framed("B1")
        a.sendall(ma[:30])
        b.sendall(mb[:40])
        r.wait(lambda: codec.most_held >= 30, what="both halves")
        b.sendall(mb[40:])
        assert read_acks(b, 1) == ["B1"]
        a.sendall(ma[30:])
        assert read_acks(a, 1) == ["A1"]
    finally:
        a.close()
        b.close()
    r.wait(lambda: len(codec.closed) == 2, what="both channels closed")
    assert r.raw("in") == [mb, ma]
    assert {ch for ch, _ in codec.messages} == {1, 2}


# -- faults and limits -------------------------------------------------------------------

def test_half_a_message_then_silence_is_closed_without_stopping_the_others(rig):
    r, codec = rig(partial_timeout_s=0.5)
    hang = connect(r.port)
    try:
        hang.sendall(framed("half")[:60])
        r.wait(lambda: r.driver.connections == 1 and codec.most_held >= 60,
               what="the half message")
        with connect(r.port) as s:      # another sender is served meanwhile
            for i in range(5):
                s.sendall(framed(f"ok{i}"))
            assert read_acks(s, 5) == [f"ok{i}" for i in range(5)]
        reads_before = r.reads
        r.wait(lambda: r.driver.connections == 0, timeout=5, what="the hung sender closed")
        assert r.reads > reads_before          # the reader kept going
        assert hang.recv(10) == b""           # the listener closed it
    finally:
        hang.close()
    assert r.driver.timed_out == 1
    assert 1 in codec.closed and 1 not in codec.buffers      # its partial message forgotten
    # Its unfinished bytes reach the capture, after the whole messages that completed.
    assert r.raw("in")[-1] == framed("half")[:60]


def test_a_connection_between_messages_stays_open_past_the_partial_timeout(rig):
    r, _codec = rig(partial_timeout_s=0.3)
    with connect(r.port) as s:
        s.sendall(framed("1"))
        assert read_acks(s, 1) == ["1"]
        time.sleep(0.8)                       # idle between messages: a gateway's habit
        assert r.driver.connections == 1
        s.sendall(framed("2"))
        assert read_acks(s, 1) == ["2"]


@pytest.mark.slow
def test_a_thousand_connections_opened_and_closed_leave_nothing_behind(rig):
    r, codec = rig()
    fds = len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else None
    for i in range(1000):
        s = socket.create_connection(("127.0.0.1", r.port), timeout=5)
        if i % 100 == 0:
            s.sendall(framed(f"m{i}")[:10])       # some leave half a message behind
        s.close()
    r.wait(lambda: len(codec.closed) == 1000, timeout=30, what="all thousand closed")
    assert r.driver.connections == 0 and r.driver.accepted == 1000
    assert not codec.buffers
    if fds is not None:
        assert len(os.listdir("/proc/self/fd")) <= fds + 2
    with connect(r.port) as s:                # and it still serves
        s.sendall(framed("after"))
        assert read_acks(s, 1) == ["after"]


@pytest.mark.slow
def test_a_100_mb_message_is_discarded_as_it_arrives_and_never_held_whole(rig):
    r, codec = rig()
    block = b"OBX|1|ST|x||" + b"y" * (1 << 20) + b"\r"
    done = threading.Event()
    with connect(r.port) as s:
        def send() -> None:
            s.sendall(SB + b"MSH|^~\\&|GW|ICU|MON|CHAIR|2026||ORU^R01|big|P|2.6\r")
            for _ in range(100):
                s.sendall(block)
            s.sendall(EB + framed("next"))
            done.set()

        sender = threading.Thread(target=send, daemon=True)
        sender.start()
        s.settimeout(120)
        assert read_acks(s, 1, timeout=120) == ["next"]
        sender.join(60)
    assert done.is_set()
    assert codec.most_held <= hl7_driver.MAX_MESSAGE_BYTES + hl7_driver.RECV_CHUNK
    assert r.driver.oversized == 1
    # The capture holds the small message only: the big one was never kept.
    assert r.raw("in") == [framed("next")]
    assert max(len(x) for x in r.raw("in")) < 2 << 20


def test_a_sender_not_on_the_allow_list_is_closed_at_once_counted_and_shown(rig):
    r, codec = rig(allow=parse_allow("10.9.9.9, 192.168.7.0/24"))
    assert refused_at_once(r.port)
    r.wait(lambda: r.driver.refused == 1, what="the refusal counted")
    assert not codec.messages and not r.raw("in")
    r.wait(lambda: any("refused a connection from 127.0.0.1" in x.link_state
                       for x in r.of(SourceStatus)), timeout=5, what="the status")


def test_without_an_allow_list_only_this_computer_may_connect(rig):
    r, _ = rig()
    assert r.driver._allowed("127.0.0.1") and r.driver._allowed("::1")
    assert not r.driver._allowed("10.1.2.3")
    r2, _ = rig(allow=parse_allow("10.1.2.0/24"))
    assert r2.driver._allowed("10.1.2.77") and not r2.driver._allowed("10.1.3.1")
    assert r2.driver._allowed("::ffff:10.1.2.5")


def test_one_connection_over_the_limit_is_refused_and_the_others_go_on(rig):
    r, _codec = rig(max_connections=2)
    a, b = connect(r.port), connect(r.port)
    try:
        r.wait(lambda: r.driver.connections == 2, what="two connections")
        assert refused_at_once(r.port)
        r.wait(lambda: r.driver.refused == 1, what="the third refused")
        for s, cid in ((a, "a"), (b, "b")):
            s.sendall(framed(cid))
            assert read_acks(s, 1) == [cid]
    finally:
        a.close()
        b.close()
    r.wait(lambda: any("already 2 connections open" in x.link_state
                       for x in r.of(SourceStatus)), timeout=5, what="the status")


def test_a_port_in_use_is_a_clear_port_lost_then_listening_when_freed(rig):
    blocker = socket.socket()
    blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    blocker.bind(("127.0.0.1", 0))
    blocker.listen(1)
    port = blocker.getsockname()[1]
    codec = AckingCodec()
    driver = Hl7Driver("127.0.0.1", port, codec=codec)
    r = Rig(driver)
    try:
        r.wait(lambda: r.of(Technical), what="port_lost")
        lost = r.of(Technical)[0]
        assert lost.condition is Condition.PORT_LOST and lost.active
        assert f"127.0.0.1:{port}" in lost.message and "in use by another program" in lost.message
        r.wait(lambda: any(not x.connected and "in use" in x.message
                           for x in r.of(SourceStatus)), timeout=5, what="the status")
        blocker.close()
        r.wait(lambda: len(r.of(Technical)) >= 2, timeout=15, what="listening again")
        assert not r.of(Technical)[1].active
        with connect(port) as s:
            s.sendall(framed("1"))
            assert read_acks(s, 1) == ["1"]
    finally:
        blocker.close()
        r.close()


def test_an_address_not_of_this_computer_says_so():
    msg = hl7_driver._bind_message("10.254.254.254", 2575,
                                   OSError(99, "Cannot assign requested address"))
    assert "not an address of this computer" in msg
    msg = hl7_driver._bind_message("10.0.0.1", 104, PermissionError(13, "Permission denied"))
    assert "no permission" in msg and "below 1024" in msg


def test_every_interface_only_when_asked_and_then_said_in_the_status(rig):
    r, _ = rig(host="0.0.0.0")
    with connect(r.port) as s:
        s.sendall(framed("1"))
        assert read_acks(s, 1) == ["1"]
        r.wait(lambda: any("every network interface" in x.link_state
                           for x in r.of(SourceStatus)), timeout=5, what="the warning")


def test_without_a_host_the_interface_leading_to_the_gateway_is_taken():
    with pytest.raises(SourceError, match="does not say where to listen"):
        Hl7Driver(None, 2575, codec=AckingCodec())
    d = Hl7Driver(None, 2575, codec=AckingCodec(), allow=parse_allow("127.0.0.1"))
    assert d.host == "127.0.0.1" and d.label == "hl7:127.0.0.1:2575"
    with pytest.raises(SourceError, match="not an IP address"):
        parse_allow("gateway.local")


def test_the_status_says_connected_while_a_sender_is_and_not_once_it_has_gone(rig,
                                                                             monkeypatch):
    monkeypatch.setattr(hl7_driver, "SENDER_GONE_AFTER_S", 0.5)
    r, _codec = rig()
    r.wait(lambda: r.of(SourceStatus), timeout=5, what="a status")
    first = r.of(SourceStatus)[0]
    assert not first.connected and "no HL7 sender connected yet" in first.message
    with connect(r.port) as s:
        s.sendall(framed("1"))
        read_acks(s, 1)
        n = len(r.of(SourceStatus))
        r.wait(lambda: len(r.of(SourceStatus)) > n, timeout=5, what="the next status")
        assert r.of(SourceStatus)[-1].connected
        assert r.of(SourceStatus)[-1].frames_ok == 1
        assert r.of(SourceStatus)[-1].detail.endswith("1 connection open")
    r.wait(lambda: not r.of(SourceStatus)[-1].connected, timeout=5, what="gone")
    assert "since the last one left" in r.of(SourceStatus)[-1].message


# -- TLS ----------------------------------------------------------------------------------

def _self_signed(tmp_path) -> tuple:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    try:
        from cryptography import x509
    except ImportError:
        if shutil.which("openssl") is None:
            if os.environ.get("CI") == "true":
                pytest.fail("TLS test needs the cryptography package or the openssl CLI")
            pytest.skip("neither the cryptography package nor the openssl command is "
                        "available to make a test certificate")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                        "-keyout", str(key), "-out", str(cert), "-days", "2",
                        "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1"],
                       check=True, capture_output=True, timeout=60)
        return cert, key
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    pk = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    import ipaddress

    c = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
         .public_key(pk.public_key()).serial_number(1)
         .not_valid_before(now - datetime.timedelta(hours=1))
         .not_valid_after(now + datetime.timedelta(days=2))
         .add_extension(x509.SubjectAlternativeName(
             [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
         .sign(pk, hashes.SHA256()))
    cert.write_bytes(c.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(pk.private_bytes(serialization.Encoding.PEM,
                                     serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption()))
    return cert, key


def test_mllp_over_tls_round_trip(rig, tmp_path):
    cert, key = _self_signed(tmp_path)
    r, codec = rig(tls_cert=cert, tls_key=key)
    assert "over TLS" in (r.driver.settings_text or "")
    ctx = ssl.create_default_context(cafile=str(cert))
    with socket.create_connection(("127.0.0.1", r.port), timeout=5) as raw, \
            ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
        s.settimeout(5)
        s.sendall(framed("t1")[:25])
        time.sleep(0.05)
        s.sendall(framed("t1")[25:] + framed("t2"))
        assert read_acks(s, 2) == ["t1", "t2"]
    r.wait(lambda: codec.closed, what="closed")
    assert b"".join(r.raw("in")) == framed("t1") + framed("t2")


def test_a_plain_sender_on_a_tls_listener_is_closed_and_others_go_on(rig, tmp_path):
    cert, key = _self_signed(tmp_path)
    r, codec = rig(tls_cert=cert, tls_key=key, partial_timeout_s=1.0)
    with connect(r.port) as plain:
        plain.sendall(framed("plain"))
        try:
            assert plain.recv(100) in (b"",) or True
        except (ConnectionResetError, TimeoutError):
            pass
    r.wait(lambda: r.driver.connections == 0, timeout=5, what="the plain sender closed")
    assert not codec.messages


def test_tls_files_that_do_not_work_are_a_clear_source_error(tmp_path):
    with pytest.raises(SourceError, match="needs both"):
        Hl7Driver("127.0.0.1", 0, codec=AckingCodec(), tls_cert=tmp_path / "c.pem")
    with pytest.raises(SourceError, match="does not exist"):
        Hl7Driver("127.0.0.1", 0, codec=AckingCodec(), tls_cert=tmp_path / "c.pem",
                  tls_key=tmp_path / "k.pem")
    (tmp_path / "c.pem").write_text("not a certificate")
    (tmp_path / "k.pem").write_text("not a key")
    with pytest.raises(SourceError, match="cannot use the TLS certificate"):
        Hl7Driver("127.0.0.1", 0, codec=AckingCodec(), tls_cert=tmp_path / "c.pem",
                  tls_key=tmp_path / "k.pem")
