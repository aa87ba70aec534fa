"""Replay of raw captures through the real codec: a recorded session, or a byte file.

``replay:SESSION`` plays the bytes a session recorded (``raw_capture``) with
their original spacing, through the codec of the protocol the session used.
``replay:FILE`` plays a plain capture (e.g. ``infusion-sim run --stdout >
FILE`` or ``cat /dev/ttyUSB0 > FILE``) at the protocol's line rate (baud / 10
bytes per second). Either goes at ``--speed``. This is how a field problem
becomes a regression test.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from monitor.core.clock import Clock
from monitor.core.events import RawBytes
from monitor.devices.base import Driver, SourceError
from monitor.devices.codecs.base import Codec, CodecItem
from monitor.devices.protocols import codec_class

FILE_CHUNK = 64


class ReplayDriver(Driver):
    """Feeds recorded bytes to a codec on the session clock.

    Parameters
    ----------
    chunks : list of (relative seconds, bytes)
    protocol : str
    label : str
    """

    simulated = True

    def __init__(self, chunks: list[tuple[float, bytes]], protocol: str, label: str) -> None:
        self.protocol = protocol
        self.codec: Codec = codec_class(protocol)()
        self.label = label
        self._chunks = chunks
        self._i = 0
        self._clock: Clock | None = None
        self._start = 0.0

    def open(self, clock: Clock, session_start: float) -> None:
        self._clock = clock
        self._start = session_start

    def read(self, should_stop: threading.Event) -> list[CodecItem | RawBytes] | None:
        assert self._clock is not None
        if self._i >= len(self._chunks):
            return None
        rel, data = self._chunks[self._i]
        t = self._start + rel
        if self._clock.sleep_until(t, should_stop):
            return None
        self._i += 1
        return [RawBytes(t, data), *self.codec.feed(data, t)]


def from_session(db_path: Path, session_id: int) -> ReplayDriver:
    """A replay of what session ``session_id`` received, with its original timing."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        row = conn.execute("SELECT protocol FROM sessions WHERE id = ?",
                           (session_id,)).fetchone()
        if row is None:
            raise SourceError(f"no session {session_id} in {db_path}; "
                              "see 'infusion-monitor sessions'")
        if not row[0]:
            raise SourceError(f"session {session_id} has no raw capture to replay "
                              "(only serial sessions record one)")
        rows = conn.execute("SELECT t, data FROM raw_capture WHERE session_id = ?"
                            " AND direction = 'in' ORDER BY t, rowid",
                            (session_id,)).fetchall()
    finally:
        conn.close()
    if not rows:
        raise SourceError(f"session {session_id} recorded no bytes to replay")
    t0 = rows[0][0]
    return ReplayDriver([(t - t0, bytes(d)) for t, d in rows], row[0],
                        f"replay:session {session_id}")


def from_file(path: Path, protocol: str) -> ReplayDriver:
    """A replay of a plain byte capture, paced at the protocol's line rate."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"cannot read the capture {path}: {exc.strerror or exc}") from exc
    rate = codec_class(protocol).serial_defaults.baudrate / 10.0
    chunks = [(i / rate, data[i:i + FILE_CHUNK]) for i in range(0, len(data), FILE_CHUNK)]
    if not chunks:
        raise SourceError(f"the capture {path} is empty")
    return ReplayDriver(chunks, protocol, f"replay:{path.name}")
