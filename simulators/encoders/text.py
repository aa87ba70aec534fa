"""Text oximeter lines (``SPO2=098 HR=072``) and the once-a-second schedule text devices share."""

from __future__ import annotations

import abc
import math
from collections import deque

import numpy as np

from monitor.core.reading import Quality, Reading, WaveChunk
from monitor.core.vitals import Vital
from simulators.encoders.base import Encoder

_EPS = 1e-6
_LINE_VITALS = frozenset({Vital.SPO2, Vital.PULSE_RATE})

GARBAGE = bytes(b for b in range(256)
                if not (chr(b).isascii() and (chr(b).isalnum() or chr(b) in " \t\r\n%+-./:=*")))
"""Bytes that never occur in a well-formed text line of any supported protocol."""


def mangle(frame: bytes, rng: np.random.Generator) -> bytes:
    """``frame`` damaged the way line noise damages text, keeping its line end.

    Either a run of 1 to 6 bytes is overwritten with bytes from
    :data:`GARBAGE`, or the line is cut short and ends in one such byte.
    Plain text has no checksum, so noise that turned one digit into another
    would give a plausible wrong value no receiver could detect; this
    function never does that (the damage always leaves a byte no valid line
    contains), which is what a codec can be tested against.
    """
    body = frame.rstrip(b"\r\n")
    end = frame[len(body):]
    if not body:
        return bytes([GARBAGE[int(rng.integers(len(GARBAGE)))]]) + end
    junk = bytes(GARBAGE[i] for i in rng.integers(0, len(GARBAGE), size=6).tolist())
    if rng.random() < 0.75:
        width = int(rng.integers(1, min(6, len(body)) + 1))
        at = int(rng.integers(0, len(body) - width + 1))
        body = body[:at] + junk[:width] + body[at + width:]
    else:
        body = body[:int(rng.integers(0, len(body)))] + junk[:1]
    return body + end


class PerSecondLineEncoder(Encoder):
    """A device that prints one line a second from its latest SpO2 and pulse rate.

    Lines fall at ``t0``, ``t0 + 1``, ... where ``t0`` is the time of the
    first pushed item. The line at ``T`` reflects the SpO2 and pulse-rate
    readings pushed with times up to ``T``; a vital whose latest reading is
    older than one second is shown as missing, and when neither was pushed
    within ``(T - 1, T]`` (a link loss in the scenario) no line is sent at
    all. Subclasses format the line (:meth:`_line`).
    """

    def __init__(self, rng: np.random.Generator) -> None:
        super().__init__(rng)
        self._t0: float | None = None
        self._k = 0                   # the next line falls at _t0 + _k
        self._pending: deque[Reading] = deque()
        self._latest: dict[Vital, Reading] = {}

    def push(self, item: Reading | WaveChunk) -> None:
        """Take a scenario item (time order); only SpO2 and pulse-rate readings are printed."""
        if self._t0 is None:
            self._t0 = item.t0 if isinstance(item, WaveChunk) else item.t
        if isinstance(item, Reading) and item.vital in _LINE_VITALS:
            self._pending.append(item)

    def due(self, now: float) -> list[bytes]:
        """One line per whole second since the first item, up to ``now``.

        The line for second ``T`` is decided once a reading timed ``T`` or
        later has been pushed, so readings that reach the encoder late still
        get their own line (sent late) instead of being lost.
        """
        frames: list[bytes] = []
        while self._t0 is not None and self._pending:
            at = self._t0 + self._k
            if at > now + _EPS or self._pending[-1].t < at - _EPS:
                break
            while self._pending and self._pending[0].t <= at + _EPS:
                reading = self._pending.popleft()
                self._latest[reading.vital] = reading
            fresh = {v: r for v, r in self._latest.items() if r.t > at - 1 + _EPS}
            if fresh:
                frames.append(self._line(at, fresh.get(Vital.SPO2),
                                         fresh.get(Vital.PULSE_RATE)))
            self._k += 1
            if not fresh and self._pending:     # silent (link loss): skip to the next reading
                self._k = max(self._k, math.ceil(self._pending[0].t - self._t0 - _EPS))
        return frames

    def corrupt(self, frame: bytes) -> bytes:
        """The line with line noise in it; see :func:`mangle`."""
        return mangle(frame, self.rng)

    def _probe_off(self, spo2: Reading | None, pulse: Reading | None) -> bool:
        """Whether the device should say its probe is off."""
        return self.sensor_off or any(
            r is not None and r.quality is Quality.SENSOR_OFF for r in (spo2, pulse))

    @abc.abstractmethod
    def _line(self, at: float, spo2: Reading | None, pulse: Reading | None) -> bytes:
        """The line for session time ``at`` (None: no fresh reading of that vital)."""


def shown(reading: Reading | None) -> int | None:
    """The integer a device prints for ``reading``, None when it has no value."""
    if reading is None or not reading.valid:
        return None
    return min(max(round(reading.value), 0), 999)


class TextLineEncoder(PerSecondLineEncoder):
    """``SPO2=098 HR=072`` once a second (Nonin ASCII style); ``---`` for no value or probe off."""

    name = "text"

    def _line(self, at: float, spo2: Reading | None, pulse: Reading | None) -> bytes:
        off = self._probe_off(spo2, pulse)
        values = [None if off else shown(r) for r in (spo2, pulse)]
        s, h = ("---" if v is None else f"{v:03d}" for v in values)
        return f"SPO2={s} HR={h}\r\n".encode("ascii")
