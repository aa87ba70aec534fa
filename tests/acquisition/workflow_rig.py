"""A hub on its own thread, driven command by command (the workflow tests' rig)."""

from __future__ import annotations

import threading
import time

from monitor.acquisition.hub import Hub
from monitor.core.clock import SimClock
from monitor.core.events import Note, StreamEnded
from monitor.core.queues import BoundedQueue
from monitor.core.reading import make_reading
from monitor.core.session import SessionModel
from monitor.core.vitals import Vital

START = 1000.0


class Rig:
    """A hub on its own thread, fed step by step so each command lands at a known time.

    With a max-speed clock the hub's "now" is the time of the last item it
    handled: :meth:`feed` waits until the hub has taken every item, and
    :meth:`command` until the hub has handled a marker sent after the command.
    """

    def __init__(self, model: SessionModel | None = None, **kw) -> None:
        self.inbox = BoundedQueue(10_000, "in", block_when_full=True)
        self.rec_q = BoundedQueue(10_000, "rec", block_when_full=True)
        self.out: list = []
        self._lock = threading.Lock()
        self.stop_reasons: list[str] = []
        self.hub = Hub(model or SessionModel(1, START), SimClock(START, speed=None), self.inbox,
                       recorder_q=self.rec_q, ui_q=None, sink=self._sink, stale_after=10.0,
                       stop_source=self._stop_source, **kw)
        self.hub.start()

    def _sink(self, msg) -> None:
        with self._lock:
            self.out.append(msg)

    def _stop_source(self, reason: str) -> None:   # what the reader does when asked to stop
        self.stop_reasons.append(reason)
        self.inbox.put(StreamEnded(self.hub._now, reason))

    def feed(self, *items) -> None:
        for it in items:
            self.inbox.put(it)
        _wait(lambda: len(self.inbox) == 0)

    def at(self, t: float) -> None:
        """Move the hub to session time ``t`` (a timestamped item that is not data arrives)."""
        self.feed(Note(t, "tick"))

    def command(self, cmd) -> list:
        """Send ``cmd``; return what the hub published in reply (readings, events, alarms...)."""
        with self._lock:
            n = len(self.out)
        marker = Note(0.0, f"sync {n}")   # control messages are handled in order
        self.hub.notify(cmd)
        self.hub.notify(marker)
        _wait(lambda: any(m is marker for m in self.out[n:]))
        with self._lock:
            reply = self.out[n:]
        return reply[:next(i for i, m in enumerate(reply) if m is marker)]

    def end(self, t: float) -> list:
        if self.hub.is_alive() and not self.stop_reasons:
            self.inbox.put(StreamEnded(t))
        self.hub.join(10)
        assert not self.hub.is_alive()
        return self.out


def _wait(pred, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, "hub did not answer"
        time.sleep(0.005)


def _only(reply, cls):
    found = [m for m in reply if isinstance(m, cls)]
    assert len(found) == 1, reply
    return found[0]


def feed_baseline(rig: Rig, sys: float = 120.0, dia: float = 75.0, *,
                  first: float = START + 5, second: float = START + 305) -> None:
    """Two NIBP determinations 5 min apart, then HR and SpO2: a complete baseline."""
    for t in (first, second):
        rig.feed(make_reading(Vital.NIBP_SYS, sys, t), make_reading(Vital.NIBP_DIA, dia, t))
    rig.feed(make_reading(Vital.HR, 72, second + 1), make_reading(Vital.SPO2, 98, second + 1))
