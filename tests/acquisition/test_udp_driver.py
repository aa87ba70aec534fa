"""The LAN driver on real UDP sockets on loopback: datagrams both ways, capture, discovery.

The monitor is the test's own socket. A Datex S/5 encoder stands in for the
device's data (the driver is the same whatever the codec), answering the
request the driver sends when it opens, one frame per datagram; a small
session codec checks that ``tick`` messages go out one datagram each.
"""

from __future__ import annotations

import select
import socket
import threading
import time

import numpy as np
import pytest

from monitor.core.clock import RealClock
from monitor.core.events import Condition, RawBytes, SourceStatus, Technical
from monitor.core.reading import Quality, Reading
from monitor.core.vitals import Vital
from monitor.devices.base import SourceError
from monitor.devices.registry import (
    SerialOverrides,
    device_driver,
    parse_lan_target,
    parse_source,
)
from monitor.devices.udp_driver import UdpDriver
from simulators.encoders.datex import DatexS5Encoder
from tests.acquisition.test_serial_session_codec import HelloCodec


class Monitor:
    """A UDP socket on 127.0.0.1 (or another loopback address) playing the monitor."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.port = self.sock.getsockname()[1]
        self.heard: list[tuple[bytes, tuple]] = []

    def listen(self, count: int = 1, timeout: float = 5.0) -> list[tuple[bytes, tuple]]:
        deadline = time.monotonic() + timeout
        while len(self.heard) < count and time.monotonic() < deadline:
            ready, _, _ = select.select([self.sock], [], [], 0.05)
            if ready:
                self.heard.append(self.sock.recvfrom(65535))
        return self.heard

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def monitor():
    m = Monitor()
    yield m
    m.close()


def _read_until(driver, done, timeout: float = 5.0) -> list:
    stop = threading.Event()
    items: list = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        items += driver.read(stop) or []
        if done(items):
            break
    return items


def _open(driver: UdpDriver) -> UdpDriver:
    driver.open(RealClock(), time.time())
    return driver


def test_requests_answers_and_values_travel_as_datagrams(monitor):
    driver = _open(UdpDriver("127.0.0.1", "datex-s5", port=monitor.port))
    try:
        [(request, sender)] = monitor.listen()
        assert request == driver.codec.open_requests()
        # Bound to the loopback address that routes to the monitor, never to all interfaces.
        assert sender[0] == "127.0.0.1" and driver.local_address == sender
        encoder = DatexS5Encoder(np.random.default_rng(1))
        encoder.receive(request)
        t0 = time.time()
        for k, (vital, value) in enumerate([(Vital.SPO2, 97.0), (Vital.PULSE_RATE, 71.0),
                                            (Vital.HR, 70.0)]):
            encoder.push(Reading(vital, value, t0 + k * 0.01, Quality.OK))
        frames = encoder.due(t0 + 1.5)
        assert frames
        for frame in frames:
            monitor.sock.sendto(frame, sender)
        items = _read_until(driver, lambda got: any(
            isinstance(i, Reading) and i.vital is Vital.SPO2 for i in got))
        spo2 = [i.value for i in items if isinstance(i, Reading) and i.vital is Vital.SPO2]
        assert spo2 == [97.0]
        captured = [i for i in items if isinstance(i, RawBytes) and i.direction == "in"]
        assert [i.data for i in captured] == frames    # one datagram, one capture chunk
        out = [i.data for i in items if isinstance(i, RawBytes) and i.direction == "out"]
        assert out == [request]                        # captured too, once
        assert driver.settings_text == f"UDP 127.0.0.1:{monitor.port}"
    finally:
        driver.close()
    [_, (stop, _)] = monitor.listen(2)
    assert stop == driver.codec.close_requests()


def test_tick_messages_go_out_one_datagram_each_with_the_link_state(monitor):
    driver = UdpDriver("127.0.0.1", "datex-s5", port=monitor.port)
    codec = driver.codec = HelloCodec()
    _open(driver)
    try:
        [(hello, host)] = monitor.listen()
        assert hello == b"HELLO\n"
        monitor.sock.sendto(b"WELCOME\n", host)
        items = _read_until(driver, lambda got: sum(
            isinstance(i, RawBytes) and i.data == b"POLL\n" for i in got) >= 2
            and any(isinstance(i, SourceStatus) for i in got))
        assert [d for d, _ in monitor.listen(3)] == [b"HELLO\n", b"POLL\n", b"POLL\n"]
        status = [i for i in items if isinstance(i, SourceStatus)][-1]
        assert status.connected and status.link_state == "associated" == codec.link_state
        assert status.label == f"lan:127.0.0.1:{monitor.port} (datex-s5)"
    finally:
        driver.close()
    assert monitor.listen(4)[-1][0] == b"BYE\n"


def test_datagrams_from_another_address_are_not_the_monitor(monitor):
    stranger = Monitor("127.0.0.2")
    driver = UdpDriver("127.0.0.1", "datex-s5", port=monitor.port)
    driver.codec = HelloCodec()
    _open(driver)
    try:
        [(_, host)] = monitor.listen()
        stranger.sock.sendto(b"WELCOME\n", host)
        items = _read_until(driver, lambda got: False, timeout=0.5)
        assert not [i for i in items if isinstance(i, RawBytes) and i.direction == "in"]
        assert driver.codec.link_state == "associating"
        monitor.sock.sendto(b"WELCOME\n", host)    # from another port of the monitor: taken
        _read_until(driver, lambda _: driver.codec.link_state == "associated")
        assert driver.codec.link_state == "associated"
    finally:
        driver.close()
        stranger.close()


def test_an_unknown_host_is_a_lost_port_naming_it_and_retried():
    driver = _open(UdpDriver("no-such-monitor.invalid", "datex-s5"))
    try:
        items = _read_until(driver, lambda got: sum(
            isinstance(i, SourceStatus) for i in got) >= 2, timeout=4)
        lost = [i for i in items if isinstance(i, Technical)]
        assert [(i.condition, i.active) for i in lost] == [(Condition.PORT_LOST, True)]
        assert lost[0].message.startswith("monitor no-such-monitor.invalid not found")
        statuses = [i for i in items if isinstance(i, SourceStatus)]
        assert statuses and not any(s.connected for s in statuses)
        assert "no-such-monitor.invalid" in statuses[-1].message
        assert driver._attempt >= 2     # retried with back-off
    finally:
        driver.close()


def test_discovery_talks_to_the_monitor_that_announces_itself(monitor):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        discovery_port = probe.getsockname()[1]

    def announcement(data: bytes) -> int | None:
        if not data.startswith(b"ANNOUNCE "):
            raise ValueError("not an announcement")
        return int(data.split()[1])

    driver = UdpDriver(None, "datex-s5", discovery_port=discovery_port,
                       announcement=announcement)
    driver.codec = HelloCodec()
    _open(driver)
    try:
        assert driver.label == f"lan:discover:{discovery_port}"
        monitor.sock.sendto(b"garbage", ("127.0.0.1", discovery_port))
        items = _read_until(driver, lambda got: any(
            isinstance(i, SourceStatus) for i in got), timeout=3)
        status = next(i for i in items if isinstance(i, SourceStatus))
        assert not status.connected and "announce" in status.message
        monitor.sock.sendto(f"ANNOUNCE {monitor.port}".encode(), ("127.0.0.1", discovery_port))
        _read_until(driver, lambda _: driver.peer is not None, timeout=3)
        assert driver.peer == ("127.0.0.1", monitor.port)
        [(hello, _)] = monitor.listen()
        assert hello == b"HELLO\n"
    finally:
        driver.close()


def test_lan_sources_and_their_errors():
    assert parse_lan_target("10.1.2.3") == ("10.1.2.3", None)
    assert parse_lan_target("monitor-7:24106") == ("monitor-7", 24106)
    assert parse_lan_target("discover") == (None, None)
    assert parse_lan_target("discover:24006") == (None, 24006)
    for bad in ("host:", ":24105", "host:0", "host:70000", "host:x"):
        with pytest.raises(SourceError, match="lan:HOST"):
            parse_lan_target(bad)
    with pytest.raises(SourceError, match="a lan: source speaks intellivue-lan, not 'datex-s5'"):
        device_driver(parse_source("lan:127.0.0.1"), protocol="datex-s5")
    with pytest.raises(SourceError, match="use --source lan:HOST"):
        device_driver(parse_source("serial:/dev/ttyUSB0"), protocol="intellivue-lan")
    with pytest.raises(SourceError, match="serial: sources only"):
        device_driver(parse_source("lan:127.0.0.1"), overrides=SerialOverrides(baudrate=9600))
    assert parse_source("lan:10.0.0.1").scheme == "lan"


def test_a_lan_source_implies_the_intellivue_lan_protocol():
    driver = device_driver(parse_source("lan:10.0.0.1"))
    assert isinstance(driver, UdpDriver) and driver.protocol == "intellivue-lan"
    assert (driver.host, driver.port, driver.label) == ("10.0.0.1", 24105, "lan:10.0.0.1")
    found = device_driver(parse_source("lan:discover"), duration_s=5)
    assert isinstance(found, UdpDriver) and found.host is None
    assert (found.discovery_port, found.label) == (24005, "lan:discover")
    other = device_driver(parse_source("lan:discover:24006"), protocol="intellivue-lan")
    assert other.discovery_port == 24006 and other.label == "lan:discover:24006"


def test_discovery_reads_the_data_export_port_from_an_intellivue_connect_indication(monitor):
    from monitor.devices.codecs import intellivue_layout as L

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        discovery_port = probe.getsockname()[1]
    driver = _open(UdpDriver(None, "intellivue-lan", discovery_port=discovery_port))
    try:
        # A Connect Indication announcing no data export is no monitor to talk to.
        acse_only = [(L.NOM_ATTR_PCOL_SUPPORT,
                      L.protocol_support([(L.AP_ID_ACSE, L.TP_ID_UDP, monitor.port, 0)]))]
        monitor.sock.sendto(L.build_connect_indication(acse_only),
                            ("127.0.0.1", discovery_port))
        _read_until(driver, lambda _: False, timeout=0.3)
        assert driver.peer is None
        announcement = L.build_connect_indication(
            L.default_connect_attributes("127.0.0.1", port=monitor.port))
        monitor.sock.sendto(announcement, ("127.0.0.1", discovery_port))
        _read_until(driver, lambda _: driver.peer is not None, timeout=3)
        assert driver.peer == ("127.0.0.1", monitor.port)
        [(request, _)] = monitor.listen()
        assert L.message_kind(request) == "request"
        assert driver.codec.link_state == "associating"
    finally:
        driver.close()
