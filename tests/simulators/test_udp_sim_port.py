"""``infusion-sim run --udp``: the simulated monitor's UDP port, and the host in process of --stdout."""

from __future__ import annotations

import io
import select
import socket
import subprocess
import sys
import threading

import numpy as np

from monitor.core.reading import Reading
from monitor.core.vitals import Vital
from monitor.devices.protocols import codec_class
from simulators import run as sim_run
from simulators.encoders import encoder_class
from simulators.encoders.base import Encoder
from simulators.scenario import parse_scenario
from tests.integration.helpers import REPO

SCENARIO = """
description = "two minutes"
[session]
baseline_min = 1
infusion_min = 1
recovery_min = 1
"""


class AnnouncingEncoder(Encoder):
    """A device that announces itself every second until a host talks, and echoes the host."""

    name = "announcing"

    def __init__(self) -> None:
        super().__init__(np.random.default_rng(0))
        self.heard: list[bytes] = []
        self._next = 0.0
        self._replies: list[bytes] = []

    def push(self, item) -> None:
        pass

    def receive(self, data: bytes) -> None:
        self.heard.append(data)
        self._replies.append(b"ECHO " + data)

    def due(self, now: float) -> list[bytes]:
        out, self._replies = self._replies, []
        return out

    def announcements(self, now: float) -> list[bytes]:
        if self.heard or now < self._next:
            return []
        self._next = now + 1.0
        return [b"HERE"]

    def corrupt(self, frame: bytes) -> bytes:
        return frame


def _recv(sock: socket.socket, timeout: float = 5.0) -> tuple[bytes, tuple]:
    ready, _, _ = select.select([sock], [], [], timeout)
    assert ready, "nothing arrived"
    return sock.recvfrom(65535)


def test_the_udp_port_announces_then_answers_the_host_one_datagram_each():
    listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    listener.bind(("127.0.0.1", 0))
    encoder = AnnouncingEncoder()
    out = io.StringIO()
    port = sim_run.UdpPort(out, 0, "127.0.0.1", listener.getsockname())
    address = ("127.0.0.1", port.port)
    stop = threading.Event()
    runner = threading.Thread(target=sim_run.run, args=(
        parse_scenario(SCENARIO, "short"), encoder, port),
        kwargs={"speed": 1.0, "seed": 0, "faults": sim_run.Faults(), "should_stop": stop})
    runner.start()
    try:
        assert out.getvalue().splitlines()[0] == f"UDP 127.0.0.1:{port.port}"
        assert _recv(listener)[0] == b"HERE"
        host = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        host.bind(("127.0.0.1", 0))
        host.sendto(b"one", address)
        host.sendto(b"two", address)
        replies = [_recv(host)[0], _recv(host)[0]]
        assert replies == [b"ECHO one", b"ECHO two"]     # one datagram each, both ways
        assert encoder.heard == [b"one", b"two"]
        host.close()
    finally:
        stop.set()
        runner.join(10)
        listener.close()
    assert not runner.is_alive()


class ChattyHost(sim_run.Port):
    """A host that sends a message stamped with the session time at every step."""

    def __init__(self) -> None:
        self.sent: list[float] = []

    def write(self, data: bytes) -> int:
        return len(data)

    def messages(self, now: float) -> list[bytes]:
        self.sent.append(now)
        return [f"{now:.3f}".encode()]


def test_a_link_loss_silences_the_host_too():
    scenario = parse_scenario(SCENARIO + """
[[episodes]]
kind = "link_loss"
at_min = 0.25
duration_s = 20
""", "loss")
    encoder = AnnouncingEncoder()
    port = ChattyHost()
    sim_run.run(scenario, encoder, port, speed=50.0, seed=0, faults=sim_run.Faults(),
                duration_s=60.0)
    start = min(port.sent)
    heard = [float(m) - start for m in encoder.heard]
    sent = [t - start for t in port.sent]
    assert any(15 < t < 35 for t in sent)
    assert not [t for t in heard if 15.5 < t < 34.5]        # lost while the link is cut
    assert any(t < 15 for t in heard) and any(t > 35 for t in heard)


def test_stdout_runs_a_host_so_the_capture_holds_a_session(tmp_path):
    """Datex answers only when asked: the in-process host asks, the capture decodes."""
    done = subprocess.run(
        [sys.executable, "-m", "simulators", "run", "typical", "--protocol", "datex-s5",
         "--stdout", "--speed", "100", "--duration", "30"],
        capture_output=True, timeout=120, cwd=REPO, check=False)
    assert done.returncode == 0, done.stderr
    codec = codec_class("datex-s5")()
    items = codec.feed(done.stdout, 0.0)
    assert codec.stats.frames_ok >= 5 and codec.stats.frames_bad == 0
    assert any(isinstance(i, Reading) and i.vital is Vital.SPO2 and i.valid for i in items)


def test_a_lan_protocol_needs_udp_and_a_serial_one_refuses_it(capsys):
    from simulators.cli import main

    assert main(["run", "typical", "--protocol", "datex-s5", "--udp", "0"]) == 2
    assert "serial protocol" in capsys.readouterr().err
    assert main(["run", "typical", "--protocol", "datex-s5", "--pty",
                 "--announce", "broadcast"]) == 2
    assert "--udp only" in capsys.readouterr().err


def test_the_udp_encoder_registry_is_complete():
    for name in ("datex-s5", "nonin-2"):
        assert encoder_class(name) is not None
