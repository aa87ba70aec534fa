"""One reader thread per source: driver -> hub queue."""

from __future__ import annotations

import logging
import threading
from dataclasses import replace

from monitor.core.clock import Clock
from monitor.core.events import Condition, StreamEnded, Technical
from monitor.core.queues import BoundedQueue
from monitor.devices.base import Driver

log = logging.getLogger(__name__)


class ReaderThread(threading.Thread):
    """Reads a driver until it ends or :meth:`stop` is called.

    It only reads and queues: it never touches a widget. It always finishes
    by queueing :class:`StreamEnded`.

    Every item that carries a ``source`` and comes without one is stamped with
    the driver's ``name``, so that with several devices at a chair each value,
    wave, flag, link status and technical condition says which device it came
    from (typed readings never pass through a reader).
    """

    def __init__(self, driver: Driver, out: BoundedQueue, clock: Clock) -> None:
        super().__init__(name=f"reader {driver.label}", daemon=False)
        self.driver = driver
        self.out = out
        self.clock = clock
        self._should_stop = threading.Event()
        self._stop_reason = "stopped"

    def stop(self, reason: str = "stopped") -> None:
        """Ask the thread to stop; the first ``reason`` given becomes the end marker's reason."""
        if not self._should_stop.is_set():
            self._stop_reason = reason
        self._should_stop.set()

    def run(self) -> None:
        reason = "source ended"
        try:
            while not self._should_stop.is_set():
                items = self.driver.read(self._should_stop)
                if items is None:
                    break
                name = self.driver.name
                for item in items:
                    if name and getattr(item, "source", None) == "":
                        item = replace(item, source=name)
                    self.out.put(item)
            if self._should_stop.is_set():
                reason = self._stop_reason
        except Exception as exc:  # a driver bug must not take the app down silently
            log.exception("source %s failed", self.driver.label)
            reason = f"source error: {exc}"
            self.out.put(Technical(Condition.SOURCE_ERROR, True, self.clock.now(),
                                   f"source {self.driver.label} failed: {exc}",
                                   source=self.driver.name))
        finally:
            leave = getattr(self.clock, "leave", None)
            if leave is not None:       # a max-speed clock paced by several devices
                leave()
            self.driver.close()
            # The end marker must get through even when the queue is full.
            self.out.put_reliably(StreamEnded(self.clock.now(), reason, self.driver.name))
