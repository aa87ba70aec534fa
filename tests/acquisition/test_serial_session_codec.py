"""The serial driver talks for a codec with a session: tick messages out, both directions captured.

A small line protocol with a session stands in for IntelliVue (the plumbing is
the driver's, whatever the codec): the host says HELLO when the port opens,
the device WELCOME, and the host then polls once a second. The device is the
test, on the master side of a real pseudo-terminal.
"""

from __future__ import annotations

import os
import select
import threading
import time
import tty

import pytest

from monitor.core.clock import RealClock
from monitor.core.events import RawBytes, SourceStatus
from monitor.devices.codecs.base import Codec, CodecItem, SerialSettings
from monitor.devices.serial_driver import SerialDriver


class HelloCodec(Codec):
    """HELLO -> WELCOME, then POLL every second; BYE on close."""

    name = "hello"
    description = "a line protocol with a session"
    serial_defaults = SerialSettings(115200)

    def __init__(self) -> None:
        super().__init__()
        self.state = ""
        self.next_poll: float | None = None
        self.ticks = 0
        self.buffer = b""

    def feed(self, data: bytes, t: float) -> list[CodecItem]:
        self.buffer = (self.buffer + data)[-64:]   # a read may split the line anywhere
        if b"WELCOME\n" in self.buffer:
            self.buffer = b""
            self.state = "associated"
            self.stats.frames_ok += 1
            self.next_poll = t
        return []

    def open_requests(self) -> bytes:
        self.state = "associating"
        self.next_poll = None
        self.buffer = b""
        return b"HELLO\n"

    def close_requests(self) -> bytes:
        return b"BYE\n"

    def tick(self, t: float) -> list[bytes]:
        self.ticks += 1
        if self.next_poll is None or t < self.next_poll:
            return []
        self.next_poll = t + 1.0
        return [b"POLL\n"]

    @property
    def link_state(self) -> str:
        return self.state


class Device:
    """The master side of a pty: what the host wrote, and a way to answer."""

    def __init__(self) -> None:
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        self.path = os.ttyname(self.slave)
        self.heard = b""

    def listen(self, want: bytes, timeout: float = 5.0) -> bytes:
        deadline = time.monotonic() + timeout
        while want not in self.heard and time.monotonic() < deadline:
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if ready:
                self.heard += os.read(self.master, 4096)
        return self.heard

    def close(self) -> None:
        os.close(self.master)
        os.close(self.slave)


@pytest.fixture
def device():
    d = Device()
    yield d
    d.close()


def _driver(path: str, protocol: str = "datex-s5", codec: Codec | None = None) -> SerialDriver:
    driver = SerialDriver(path, protocol)
    if codec is not None:
        driver.codec = codec
    driver.open(RealClock(), time.time())
    return driver


def _read_until(driver: SerialDriver, done, timeout: float = 5.0) -> list:
    stop = threading.Event()
    items: list = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        items += driver.read(stop) or []
        if done(items):
            break
    return items


def test_open_requests_then_tick_messages_go_out_and_are_captured(device):
    codec = HelloCodec()
    driver = _driver(device.path, codec=codec)
    try:
        assert device.listen(b"HELLO\n") == b"HELLO\n"
        assert [i for i in driver._pending if isinstance(i, RawBytes)] == [
            RawBytes(i.t, b"HELLO\n", "out") for i in driver._pending]
        items = _read_until(driver, lambda _: True)   # nothing answered: no poll yet
        assert not [i for i in items if isinstance(i, RawBytes) and i.data == b"POLL\n"]
        assert codec.ticks >= 2   # after the open requests, and after the read
        os.write(device.master, b"WELCOME\n")
        items += _read_until(driver, lambda got: sum(
            isinstance(i, RawBytes) and i.data == b"POLL\n" for i in got) >= 2)
        assert device.listen(b"POLL\nPOLL\n").startswith(b"HELLO\nPOLL\nPOLL\n")
        raw = [(i.direction, i.data) for i in items if isinstance(i, RawBytes)]
        assert b"".join(data for d, data in raw if d == "in") == b"WELCOME\n"
        assert raw.count(("out", b"POLL\n")) >= 2
        # One poll a second: the second one about a second after the first.
        polls = [i.t for i in items if isinstance(i, RawBytes) and i.data == b"POLL\n"]
        assert 0.9 <= polls[1] - polls[0] <= 1.5
        statuses = [i for i in items if isinstance(i, SourceStatus)]
        assert statuses and statuses[-1].link_state == "associated"
        assert statuses[-1].connected
    finally:
        driver.close()
    assert device.listen(b"BYE\n").endswith(b"BYE\n")


def test_a_protocol_without_a_session_sends_only_its_open_requests(device):
    driver = _driver(device.path, "datex-s5")
    try:
        request = driver.codec.open_requests()
        assert device.listen(request) == request
        items = _read_until(driver, lambda got: any(isinstance(i, SourceStatus) for i in got))
        assert [i.data for i in items if isinstance(i, RawBytes) and i.direction == "out"] \
            == [request]
        status = next(i for i in items if isinstance(i, SourceStatus))
        assert status.link_state == ""
    finally:
        driver.close()


def test_a_session_restarts_when_the_port_comes_back(tmp_path):
    """Unplugged and replugged: the open requests go out again, the codec's session restarts."""
    link = tmp_path / "ttyMONITOR"
    first = Device()
    link.symlink_to(first.path)
    codec = HelloCodec()
    driver = _driver(str(link), codec=codec)
    second = None
    try:
        first.listen(b"HELLO\n")
        os.write(first.master, b"WELCOME\n")
        _read_until(driver, lambda _: codec.state == "associated")
        second = Device()   # made first: a pts number reused under the driver races setraw
        first.close()
        first = None
        items = _read_until(driver, lambda _: driver._ser is None)
        link.unlink()
        link.symlink_to(second.path)
        items += _read_until(driver, lambda _: codec.state == "associating", timeout=10)
        assert second.listen(b"HELLO\n") == b"HELLO\n"
        outs = [i.data for i in items if isinstance(i, RawBytes) and i.direction == "out"]
        assert outs[-1] == b"HELLO\n"
    finally:
        driver.close()
        for d in (first, second):
            if d is not None:
                d.close()


def test_the_intellivue_link_state_reaches_the_device_status(device):
    """The real MIB codec over a real pty, the simulated monitor on the other side."""
    import numpy as np

    from monitor.core.reading import Quality, Reading
    from monitor.core.vitals import Vital
    from simulators.encoders import encoder_class

    encoder = encoder_class("intellivue-mib")(np.random.default_rng(7))
    driver = _driver(device.path, "intellivue-mib")
    stop = threading.Event()
    items: list = []
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            items += driver.read(stop) or []
            now = time.time()
            encoder.push(Reading(Vital.SPO2, 96.0, now, Quality.OK))
            ready, _, _ = select.select([device.master], [], [], 0)
            if ready:                                       # what the host wrote so far
                encoder.receive(os.read(device.master, 4096))
            for frame in encoder.due(now):
                os.write(device.master, frame)
            states = [i.link_state for i in items if isinstance(i, SourceStatus)]
            if "associated" in states and any(
                    isinstance(i, Reading) and i.vital is Vital.SPO2 for i in items):
                break
    finally:
        driver.close()
    states = [i.link_state for i in items if isinstance(i, SourceStatus)]
    assert states and states[-1] == "associated", states
    assert [i.value for i in items if isinstance(i, Reading) and i.vital is Vital.SPO2][-1] \
        == 96.0
    outs = [i for i in items if isinstance(i, RawBytes) and i.direction == "out"]
    assert len(outs) >= 3      # the request, the MDS create result, polls
