"""``infusion-sim run``: a scenario on a (virtual) serial port, in a device's own protocol.

The scenario engine makes the physiology; a protocol encoder turns it into
the bytes the real device sends, at the device's rate (scaled by
``--speed``); faults are applied to the frames; the bytes go to a
pseudo-terminal, a real serial port or stdout. Host bytes (requests) are
passed back to the encoder, so a Datex monitor answers only when asked.
"""

from __future__ import annotations

import logging
import os
import select
import sys
import threading
import time
import tty
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np

from monitor.core.clock import SimClock
from simulators.encoders.base import Encoder
from simulators.engine import ScenarioEngine
from simulators.scenario import Scenario

log = logging.getLogger(__name__)

STEP_S = 0.02   # real seconds between writes: bytes arrive in small bursts, like a UART


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


class Port:
    """Where the device's bytes go."""

    def write(self, data: bytes) -> int:
        raise NotImplementedError

    def read(self) -> bytes:
        return b""

    def close(self) -> None:
        pass

    def reopen(self) -> None:
        pass


class PtyPort(Port):
    """A pseudo-terminal; the app opens its slave side like a serial port.

    ``link`` (optional) is a stable symlink to the slave, re-pointed when the
    port is reopened after a simulated unplug (the pts number changes).
    """

    def __init__(self, announce: IO[str], link: Path | None = None) -> None:
        self.announce = announce
        self.link = link
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
        self.announce.write(f"PTY {name}\n")
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
        except Exception:  # write timeout: the receiver is not reading
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


def run(scenario: Scenario, encoder: Encoder, port: Port, *, speed: float, seed: int,
        faults: Faults, duration_s: float | None = None,
        should_stop: threading.Event | None = None) -> dict[str, int]:
    """Play ``scenario`` through ``encoder`` onto ``port`` until it ends. Returns counts."""
    should_stop = should_stop or threading.Event()
    start = time.time()
    if isinstance(port, PtyPort):
        # Testers can line the device's output up with the scenario's seconds.
        port.announce.write(f"START {start:.6f}\n")
        port.announce.flush()
    clock = SimClock(start, speed)
    run_s = duration_s if duration_s is not None else None
    engine = ScenarioEngine(scenario, seed, start, run_s=run_s)
    end = start + engine.run_s
    rng = np.random.default_rng([seed, 0xFA17])
    counts = {"frames": 0, "dropped": 0, "corrupted": 0, "garbage": 0, "bytes": 0,
              "link_lost": 0}
    connected = True
    reconnect_at = None
    disconnect_done = False
    done_to = start
    while not should_stop.is_set():
        now = clock.now()
        rel = now - start
        if faults.sensor_off_at is not None:
            encoder.sensor_off = (faults.sensor_off_at <= rel
                                  < faults.sensor_off_at + faults.sensor_off_for)
        if connected and not disconnect_done and faults.disconnect_at is not None \
                and rel >= faults.disconnect_at:
            port.close()
            connected, disconnect_done = False, True
            reconnect_at = faults.disconnect_at + faults.reconnect_after
            log.info("disconnected at %.1f s", rel)
        if not connected and reconnect_at is not None and rel >= reconnect_at:
            port.reopen()
            connected = True
            log.info("reconnected at %.1f s", rel)
        upto = min(now, end)
        frames = []
        # The step is cut at the edges of a link loss, so each stretch is wholly lost or
        # wholly sent, however long a step a loaded machine takes.
        for edge in (*engine.link_loss_edges(done_to, upto), upto):
            for item in engine.generate(edge):
                encoder.push(item)
            lost = engine.link_lost((done_to + edge) / 2)
            if connected and edge == upto:
                host = port.read()
                if host and not lost:    # in a link loss the host's requests are lost too
                    encoder.receive(host)
            due = encoder.due(edge)
            if lost:
                counts["link_lost"] += len(due)   # the scenario's link loss: nothing arrives
            else:
                frames += due
            done_to = edge
        if connected:
            out = bytearray()
            for frame in frames:
                counts["frames"] += 1
                if faults.drop and rng.random() < faults.drop:
                    counts["dropped"] += 1
                    continue
                if faults.garbage and rng.random() < faults.garbage:
                    counts["garbage"] += 1
                    out += rng.integers(0, 256, int(rng.integers(1, 24)),
                                        dtype=np.uint8).tobytes()
                if faults.corrupt and rng.random() < faults.corrupt:
                    counts["corrupted"] += 1
                    frame = encoder.corrupt(frame)
                out += frame
            if out:
                counts["bytes"] += port.write(bytes(out))
        if now >= end:
            break
        should_stop.wait(STEP_S)
    port.close()
    return counts


def announce_stream() -> IO[str]:
    return sys.stdout
