"""The encoder interface: scenario items in, the device's frames out, on the device's schedule."""

from __future__ import annotations

import abc
from typing import ClassVar

import numpy as np

from monitor.core.reading import Reading, WaveChunk


class Encoder(abc.ABC):
    """Emulates one device's data port byte for byte.

    The simulator runner pushes the scenario's items as session time passes
    (:meth:`push`) and asks for the frames the device would have sent up to
    ``now`` (:meth:`due`), each frame as its own ``bytes`` so faults can be
    put between or into frames. Host-to-device bytes go to :meth:`receive`
    (a Datex monitor only talks after a request). ``sensor_off`` makes the
    device signal a detached probe its own way (not silence).

    Parameters
    ----------
    rng : numpy.random.Generator
        For anything the device itself varies (never for the physiology).
    """

    name: ClassVar[str]

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.sensor_off = False

    @abc.abstractmethod
    def push(self, item: Reading | WaveChunk) -> None:
        """Take a scenario item (time order)."""

    @abc.abstractmethod
    def due(self, now: float) -> list[bytes]:
        """Frames the device sends up to session time ``now``, oldest first."""

    def receive(self, data: bytes) -> None:
        """Bytes from the host (requests). Ignored by one-way devices."""

    @abc.abstractmethod
    def corrupt(self, frame: bytes) -> bytes:
        """The frame as a damaged line would deliver it (bad checksum, mangled text)."""
