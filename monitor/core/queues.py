"""Bounded queues whose overflow is counted, never silent."""

from __future__ import annotations

import collections
import threading
from typing import Generic, TypeVar

T = TypeVar("T")


class BoundedQueue(Generic[T]):
    """A thread-safe FIFO with a fixed size.

    When full, :meth:`put` either waits for room (``block_when_full``, used
    for simulated sources, at any speed: back-pressure holds the producer
    back, so memory stays bounded and nothing is lost) or drops the new item
    and counts it (a real device, which must never be held back). The consumer of the count
    (:meth:`take_dropped`) turns it into a queue-overflow event.

    Parameters
    ----------
    maxsize : int
    name : str
        Used in overflow messages.
    block_when_full : bool
    """

    def __init__(self, maxsize: int, name: str, block_when_full: bool = False) -> None:
        if maxsize <= 0:
            raise ValueError("maxsize must be positive")
        self.maxsize = maxsize
        self.name = name
        self.block_when_full = block_when_full
        self._items: collections.deque[T] = collections.deque()
        self._lock = threading.Lock()
        self._not_empty = threading.Condition(self._lock)
        self._not_full = threading.Condition(self._lock)
        self._dropped = 0
        self.dropped_total = 0
        self.high_water = 0
        """The most items the queue ever held (never above ``maxsize``)."""

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def put(self, item: T) -> bool:
        """Add ``item``. Returns ``False`` if it was dropped because the queue was full."""
        with self._lock:
            if len(self._items) >= self.maxsize:
                if not self.block_when_full:
                    self._dropped += 1
                    self.dropped_total += 1
                    return False
                while len(self._items) >= self.maxsize:
                    self._not_full.wait()
            self._items.append(item)
            self.high_water = max(self.high_water, len(self._items))
            self._not_empty.notify()
            return True

    def put_reliably(self, item: T, retry_s: float = 0.05) -> None:
        """Add an item that must not be lost (end markers): wait for room if full."""
        pause = threading.Event()
        while not self.put(item):
            self.take_dropped_one()
            pause.wait(retry_s)

    def take_dropped_one(self) -> None:
        """Un-count one drop (a retried :meth:`put_reliably` was not really lost)."""
        with self._lock:
            if self._dropped:
                self._dropped -= 1
                self.dropped_total -= 1

    def get(self, timeout: float | None = None) -> T | None:
        """Take the oldest item, waiting up to ``timeout`` seconds; ``None`` if none came."""
        with self._lock:
            if not self._items:
                self._not_empty.wait(timeout)
                if not self._items:
                    return None
            item = self._items.popleft()
            self._not_full.notify()
            return item

    def drain(self, max_items: int | None = None) -> list[T]:
        """Take up to ``max_items`` items at once (all when ``None``), without waiting."""
        with self._lock:
            n = len(self._items) if max_items is None else min(max_items, len(self._items))
            out = [self._items.popleft() for _ in range(n)]
            if n:
                self._not_full.notify_all()
            return out

    def take_dropped(self) -> int:
        """Items dropped since the last call."""
        with self._lock:
            n, self._dropped = self._dropped, 0
            return n


class LatestValue(Generic[T]):
    """A thread-safe slot holding only the newest value (for state, not for events).

    The alarm picture travels this way rather than on the display queue, so
    a flood of queued items can never delay or drop what the alarm bar shows.
    """

    def __init__(self, value: T | None = None) -> None:
        self._lock = threading.Lock()
        self._value = value

    def set(self, value: T) -> None:
        """Replace the value."""
        with self._lock:
            self._value = value

    def get(self) -> T | None:
        """The newest value (``None`` before the first :meth:`set`)."""
        with self._lock:
            return self._value
