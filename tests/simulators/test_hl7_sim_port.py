"""``infusion-sim run --mllp``: the simulated HL7 gateway's TCP connection to a real listener.

The listener here is a plain TCP server on loopback that deframes MLLP and
answers each message with a commit ACK (written in this test, not the app's
codec), so the client's connecting, reconnecting, whole frames and ACK reading
are tested over a real socket.
"""

from __future__ import annotations

import io
import socket
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from simulators import run as sim_run
from simulators.encoders.hl7 import Hl7Pcd01Encoder, other_bed
from simulators.scenario import parse_scenario
from tests.integration.helpers import REPO

SCENARIO = """
description = "two minutes"
[session]
baseline_min = 1
infusion_min = 1
recovery_min = 1
"""

LOSS = SCENARIO + """
[[episodes]]
kind = "link_loss"
at_min = 0.25
duration_s = 10
"""


def wait_for(condition, timeout: float = 10.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def field(message: bytes, segment: str, n: int) -> str:
    """Field ``n`` of the first ``segment`` (MSH counted as HL7 does: MSH-1 is the '|')."""
    for seg in message.strip(b"\x0b\x1c\r").decode().split("\r"):
        if seg.startswith(segment + "|"):
            fields = seg.split("|")
            return fields[n - 1] if segment == "MSH" else fields[n]
    raise AssertionError(f"no {segment} in {message[:60]!r}")


class AckListener:
    """A loopback MLLP listener: records each message, answers CA (unless ``mute``)."""

    def __init__(self, port: int = 0) -> None:
        self.server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind(("127.0.0.1", port))
        self.server.listen(4)
        self.server.settimeout(0.05)
        self.port = self.server.getsockname()[1]
        self.messages: list[bytes] = []
        self.between: list[bytes] = []     # bytes outside frames
        self.connections = 0
        self.mute = False
        self.closing = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            self._talk(conn)

    def _talk(self, conn: socket.socket) -> None:
        conn.settimeout(0.05)
        buffer = b""
        with conn:
            while not self._stop.is_set():
                if self.closing.is_set():
                    self.closing.clear()
                    return
                try:
                    data = conn.recv(65536)
                except TimeoutError:
                    continue
                except OSError:
                    return
                if not data:
                    return
                buffer += data
                while b"\x1c\r" in buffer:
                    head, _, buffer = buffer.partition(b"\x1c\r")
                    before, sep, body = head.rpartition(b"\x0b")
                    if before:
                        self.between.append(before)
                    if not sep:
                        self.between.append(head)
                        continue
                    self.messages.append(body)
                    if not self.mute:
                        conn.sendall(self.ack(body))

    @staticmethod
    def ack(body: bytes) -> bytes:
        control = body.split(b"\r", 1)[0].split(b"|")[9]
        return (b"\x0bMSH|^~\\&|MONITOR||GATEWAY||20260101000000+0000||ACK^R01^ACK|A"
                + control + b"|P|2.6\rMSA|CA|" + control + b"\r\x1c\r")

    def close(self) -> None:
        self._stop.set()
        self.server.close()
        self._thread.join(5)


@pytest.fixture
def listener():
    server = AckListener()
    yield server
    server.close()


def play(port, encoder, scenario: str = SCENARIO, duration: float = 40.0, speed: float = 20.0,
         faults: sim_run.Faults | None = None) -> dict[str, int]:
    return sim_run.run(parse_scenario(scenario, "short"), encoder, port, speed=speed, seed=0,
                       faults=faults or sim_run.Faults(), duration_s=duration)


def test_every_message_arrives_whole_and_its_ack_settles_it(listener):
    encoder = Hl7Pcd01Encoder(np.random.default_rng(1))
    out = io.StringIO()
    port = sim_run.MllpClientPort(out, "127.0.0.1", listener.port)
    counts = play(port, encoder)
    assert f"MLLP connected 127.0.0.1:{listener.port}" in out.getvalue()
    assert listener.connections == 1
    wait_for(lambda: len(listener.messages) >= counts["frames"], what="the last frames")
    # One a second of numerics (40), and nothing but frames on the wire.
    assert 39 <= len(listener.messages) <= 41
    assert listener.between == []
    assert all(m.startswith(b"MSH|") and m.endswith(b"\r") for m in listener.messages)
    assert counts["frames"] == len(listener.messages) == encoder.counts["sent"]
    # The last ACKs may be in flight when the run ends and the port closes.
    assert encoder.counts["acked"] >= len(listener.messages) - 2
    assert encoder.counts["resent"] == 0


def test_a_refused_connection_is_tried_again_until_the_listener_comes():
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    free = probe.getsockname()[1]
    probe.close()
    encoder = Hl7Pcd01Encoder(np.random.default_rng(1))
    out = io.StringIO()
    port = sim_run.MllpClientPort(out, "127.0.0.1", free, backoff=(0.1, 0.4))
    assert not port.connected
    late: list[AckListener] = []
    opener = threading.Timer(1.0, lambda: late.append(AckListener(free)))
    opener.start()
    try:
        counts = play(port, encoder, duration=60.0)
        opener.join()
        assert late and late[0].connections == 1
        assert "MLLP connected" in out.getvalue()
        assert port.lost_frames > 0                  # sent while nobody listened
        # What was lost before the connection is sent again once connected.
        assert encoder.counts["resent"] > 0
        assert counts["frames"] > len(late[0].messages) > 0
    finally:
        for server in late:
            server.close()


def test_a_listener_that_closes_the_connection_is_reconnected_and_unanswered_messages_resent(
        listener):
    encoder = Hl7Pcd01Encoder(np.random.default_rng(1), ack_timeout_s=3.0)
    out = io.StringIO()
    port = sim_run.MllpClientPort(out, "127.0.0.1", listener.port, backoff=(0.1, 0.2))
    runner = threading.Thread(target=play, args=(port, encoder), kwargs={"duration": 60.0})
    runner.start()
    wait_for(lambda: len(listener.messages) >= 10, what="ten messages")
    listener.mute = True
    wait_for(lambda: len(listener.messages) >= 13, what="unanswered messages")
    listener.mute = False
    listener.closing.set()
    runner.join(30)
    assert listener.connections >= 2
    assert "MLLP disconnected" in out.getvalue()
    ids = [field(m, "MSH", 10) for m in listener.messages]
    resent = {i for i in ids if ids.count(i) > 1}
    assert resent, "the unanswered messages were not sent again"
    assert encoder.counts["resent"] >= len(resent)


def test_a_scenario_link_loss_drops_the_connection_and_makes_it_again(listener):
    encoder = Hl7Pcd01Encoder(np.random.default_rng(1))
    out = io.StringIO()
    port = sim_run.MllpClientPort(out, "127.0.0.1", listener.port, backoff=(0.05, 0.1))
    counts = play(port, encoder, scenario=LOSS, duration=40.0)
    text = out.getvalue()
    assert text.count("MLLP connected") == 2
    assert "MLLP disconnected" in text
    assert listener.connections == 2
    assert counts["link_lost"] > 0
    # No message stamped inside the loss (15 s to 25 s) reached the listener fresh.
    starts = sorted({field(m, "OBR", 7) for m in listener.messages})
    assert starts


def test_a_disconnect_fault_closes_the_connection_and_the_reopen_makes_a_new_one(listener):
    encoder = Hl7Pcd01Encoder(np.random.default_rng(1))
    out = io.StringIO()
    port = sim_run.MllpClientPort(out, "127.0.0.1", listener.port)
    play(port, encoder, duration=30.0,
         faults=sim_run.Faults(disconnect_at=10.0, reconnect_after=5.0))
    assert listener.connections == 2
    assert out.getvalue().count("MLLP connected") == 2
    # What was due while the cable was out went nowhere; unacknowledged, it was sent again.
    assert encoder.counts["resent"] >= 3
    assert len({field(m, "MSH", 10) for m in listener.messages}) >= 28


def test_wrong_bed_duplicates_and_garbage_reach_the_listener_as_a_gateway_sends_them(
        listener):
    encoder = Hl7Pcd01Encoder(np.random.default_rng(1))
    port = sim_run.MllpClientPort(io.StringIO(), "127.0.0.1", listener.port)
    faults = sim_run.Faults(garbage=0.2, duplicate=0.2, wrong_bed_at=10.0, wrong_bed_for=10.0)
    counts = play(port, encoder, duration=40.0, faults=faults)
    beds = {field(m, "MSH", 10): field(m, "PV1", 3) for m in listener.messages}
    assert list(beds.values()).count(other_bed(encoder.bed)) in range(9, 12)
    assert other_bed(encoder.bed) == "KETAMINE^ROOM1^CHAIR2"
    ids = [field(m, "MSH", 10) for m in listener.messages]
    assert len(ids) - len(set(ids)) == counts["duplicated"] > 0
    assert counts["garbage"] > 0 and listener.between
    assert encoder.counts["unexpected_acks"] > 0     # the duplicates' second ACKs


def test_the_command_line_connects_to_the_listener(listener):
    done = subprocess.run(
        [sys.executable, "-m", "simulators", "run", "typical", "--protocol", "hl7-pcd01",
         "--mllp", f"127.0.0.1:{listener.port}", "--bed", "INFUSION^2^CHAIR7",
         "--mindray-codes", "--speed", "20", "--duration", "10"],
        check=False, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert f"MLLP connected 127.0.0.1:{listener.port}" in done.stdout
    assert len(listener.messages) >= 9
    assert {field(m, "PV1", 3) for m in listener.messages} == {"INFUSION^2^CHAIR7"}
    assert b"|101^HR|" in listener.messages[0]


@pytest.mark.parametrize("argv,message", [
    (["--protocol", "hl7-pcd01", "--pty"], "use --mllp HOST:PORT"),
    (["--protocol", "nonin-2", "--mllp", "127.0.0.1:2575"], "serial protocol"),
    (["--protocol", "nonin-2", "--pty", "--bed", "X"], "for an HL7 gateway"),
    (["--protocol", "intellivue-lan", "--mllp", "127.0.0.1:2575"], "over the LAN"),
])
def test_the_command_line_refuses_a_gateway_option_where_it_does_not_apply(argv, message,
                                                                          capsys):
    from simulators.cli import main

    assert main(["run", "typical", *argv]) == 2
    assert message in capsys.readouterr().err
