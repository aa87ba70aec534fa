"""One cell of the scenario x protocol matrix: a scenario's clinical picture through one path.

The simulated driver (direct, or encoder -> bytes -> the real codec) feeds a
real reader thread and hub on a max-speed session clock; the hub's published
messages are reduced to what a nurse and a reviewer see: phases, infusion
actions, scripted events, refusals, alarm transitions and the no-data /
stale technical conditions. Recording is left out (the recorder's path is
the same for every protocol and is covered by the golden-timeline tests), so
a cell costs only the protocol path itself.

Cells run in worker processes (:func:`picture` is picklable), so the matrix
uses both cores.
"""

from __future__ import annotations

from monitor.acquisition.hub import Hub
from monitor.acquisition.reader import ReaderThread
from monitor.acquisition.sources import make_driver
from monitor.core.alarms.model import AlarmTransition
from monitor.core.clock import SimClock
from monitor.core.events import Condition, PhaseChanged, Technical
from monitor.core.queues import BoundedQueue
from monitor.core.session import SessionModel
from monitor.core.workflow.messages import CommandRefused, InfusionChanged, SessionEvent
from monitor.devices.registry import parse_source

T0 = 1_800_000_000.0
SEED = 3
DIRECT = "direct"
PROTOCOLS = (DIRECT, "datex-s5", "nonin-2", "masimo-ascii", "text", "intellivue-mib",
             "intellivue-lan", "hl7-pcd01")
OXIMETERS = frozenset({"nonin-2", "masimo-ascii", "text"})
"""Protocols that carry only SpO2, pulse rate and pleth."""
SESSIONS = frozenset({"intellivue-mib", "intellivue-lan"})
"""Protocols with a session: after a link loss the data comes back only once the host's
next association attempt (after its back-off) has been answered."""

Entry = tuple


def picture(scenario: str, protocol: str) -> list[Entry]:
    """Run ``scenario`` through ``protocol`` (or ``direct``); the reduced hub output.

    Each entry is ``(kind, t from session start, *details)`` with kind one of
    ``phase``, ``infusion``, ``event``, ``refused``, ``alarm``, ``technical``.
    """
    driver = make_driver(parse_source(f"sim:{scenario}"), seed=SEED,
                         protocol=None if protocol == DIRECT else protocol)
    clock = SimClock(T0, speed=None)
    driver.open(clock, T0)
    inbox: BoundedQueue = BoundedQueue(5000, "reader queue", block_when_full=True)
    out: list[Entry] = []

    def sink(msg: object) -> None:
        entry = _reduce(msg)
        if entry is not None:
            out.append(entry)

    reader = ReaderThread(driver, inbox, clock)
    hub = Hub(SessionModel(1, T0, driver.label, True), clock, inbox, recorder_q=None,
              ui_q=None, sink=sink, phase_plan=driver.phase_plan,
              event_plan=driver.event_plan, stop_source=reader.stop,
              **_planned(driver.phase_plan))
    hub.start()
    reader.start()
    reader.join(600)
    hub.join(600)
    return out


def _planned(plan) -> dict[str, float]:
    times = {phase.value: t for t, phase in plan}
    if "infusion" in times and "recovery" in times:
        return {"planned_infusion_s": times["recovery"] - times["infusion"]}
    return {}


def _reduce(msg: object) -> Entry | None:
    if isinstance(msg, PhaseChanged):
        return ("phase", msg.t - T0, msg.phase.value)
    if isinstance(msg, InfusionChanged):
        return ("infusion", msg.t - T0, msg.action.value, msg.by)
    if isinstance(msg, SessionEvent):
        return ("event", msg.t - T0, msg.kind.value, msg.text, msg.author)
    if isinstance(msg, CommandRefused):
        return ("refused", msg.t - T0, msg.command)
    if isinstance(msg, AlarmTransition):
        return ("alarm", msg.t - T0, msg.alarm_id, msg.priority.label, msg.state.value)
    if isinstance(msg, Technical) and msg.condition in (Condition.NO_DATA, Condition.STALE,
                                                       Condition.SENSOR_PROBLEM):
        return ("technical", msg.t - T0, msg.condition.value,
                msg.vital.value if msg.vital else None, msg.active)
    return None
