"""``infusion-monitor run --headless``: the same pipeline, no display, JSON lines out."""

from __future__ import annotations

import json
import logging
import math
import signal
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from monitor.acquisition.pipeline import Pipeline
from monitor.central.publisher import ChairPublisher, PublisherConfig
from monitor.core.alarms.model import AlarmAction, AlarmTransition, LimitChanged
from monitor.core.alarms.profile import AlarmProfile
from monitor.core.clock import Clock, RealClock, SimClock
from monitor.core.events import (
    CentralLink,
    ClockOffset,
    DeviceFlag,
    HubMessage,
    Note,
    PhaseChanged,
    RecordingStatus,
    Selection,
    SessionStarted,
    SourceStatus,
    StreamEnded,
    Technical,
)
from monitor.core.reading import DeviceNumeric, Reading
from monitor.core.vitals import Vital
from monitor.core.workflow.messages import (
    ChecklistTicked,
    CommandRefused,
    EventTimeCorrected,
    InfusionChanged,
    SessionDischarged,
    SessionEvent,
)
from monitor.devices.base import Driver
from monitor.storage import database

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_RECORDING_FAILED = 3
EXIT_SOURCE_FAILED = 4


def _num(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else x


def to_json(msg: HubMessage | DeviceNumeric, *, readings: bool) -> dict[str, object] | None:
    """The JSON object printed for ``msg``, or ``None`` if it is not printed."""
    if isinstance(msg, Reading):
        if not readings:
            return None
        return {"type": "reading", "t": msg.t, "vital": msg.vital.value,
                "value": _num(msg.value), "quality": msg.quality.value, "source": msg.source}
    if isinstance(msg, DeviceNumeric):   # none of our vitals: printed with the readings
        if not readings:
            return None
        return {"type": "device_numeric", "t": msg.t, "code": msg.code, "label": msg.label,
                "value": _num(msg.value), "unit": msg.unit, "quality": msg.quality.value,
                "device_time": _num(msg.device_time), "source": msg.source}
    if isinstance(msg, SessionStarted):
        return {"type": "session", "id": msg.session_id, "start": msg.started_at,
                "source": msg.source, "simulated": msg.simulated, "resumed": msg.resumed,
                "gap_s": msg.gap_s, "phase": msg.spans[-1].phase.value,
                "measures": None if msg.measures is None
                else sorted(v.value for v in msg.measures),
                "sources": [{"name": s.name, "label": s.label, "protocol": s.protocol,
                             "kind": s.kind, "simulated": s.simulated}
                            for s in msg.sources]}
    if isinstance(msg, Selection):
        return {"type": "selection", "t": msg.t, "vital": msg.vital.value,
                "source": msg.source, "reason": msg.reason, "previous": msg.previous}
    if isinstance(msg, ClockOffset):
        return {"type": "clock_offset", "t": msg.t, "source": msg.source,
                "offset_s": round(msg.offset_s, 3)}
    if isinstance(msg, PhaseChanged):
        return {"type": "phase", "phase": msg.phase.value, "t": msg.t}
    if isinstance(msg, Technical):
        return {"type": "technical", "condition": msg.condition.value, "active": msg.active,
                "t": msg.t, "vital": msg.vital.value if msg.vital else None,
                "message": msg.message, **({"count": msg.count} if msg.count else {}),
                **({"source": msg.source} if msg.source else {})}
    if isinstance(msg, RecordingStatus):
        return {"type": "recording", "ok": msg.ok, "t": msg.t, "message": msg.message}
    if isinstance(msg, CentralLink):
        return {"type": "central", "t": msg.t, "connected": msg.connected, "url": msg.url,
                "message": msg.message, "alarms_sent": msg.alarms_sent,
                "alarms_confirmed": msg.alarms_confirmed, "last_confirmed": msg.last_confirmed,
                "outbox": msg.outbox, "dropped": msg.dropped}
    if isinstance(msg, Note):
        return {"type": "note", "kind": msg.kind, "t": msg.t, "text": msg.text}
    if isinstance(msg, SourceStatus):
        return {"type": "source", "t": msg.t, "label": msg.label, "connected": msg.connected,
                "bytes_per_s": round(msg.bytes_per_s, 1), "frames_ok": msg.frames_ok,
                "frames_bad": msg.frames_bad, "bytes_discarded": msg.bytes_discarded,
                "last_data_t": msg.last_data_t, "message": msg.message,
                "link_state": msg.link_state, "detail": msg.detail,
                "link_ok": msg.link_ok, **({"source": msg.source} if msg.source else {})}
    if isinstance(msg, DeviceFlag):
        return {"type": "device", "t": msg.t, "name": msg.name, "active": msg.active,
                "text": msg.text, **({"source": msg.source} if msg.source else {})}
    if isinstance(msg, StreamEnded):
        return {"type": "end", "t": msg.t, "reason": msg.reason,
                **({"source": msg.source} if msg.source else {})}
    if isinstance(msg, AlarmTransition):
        return {"type": "alarm", "id": msg.alarm_id, "kind": msg.kind.value,
                "vital": msg.vital.value if msg.vital else None,
                "priority": msg.priority.label, "state": msg.state.value, "t": msg.t,
                "value": _num(msg.value), "limit": _num(msg.limit), "message": msg.message,
                **({"by": msg.by} if msg.by else {})}
    if isinstance(msg, AlarmAction):
        return {"type": "alarm_action", "action": msg.action, "t": msg.t,
                "detail": msg.detail, "by": msg.by}
    if isinstance(msg, SessionEvent):
        return {"type": "event", "id": msg.event_id, "kind": msg.kind.value, "t": msg.t,
                "text": msg.text, "author": msg.author}
    if isinstance(msg, EventTimeCorrected):
        return {"type": "event_correction", "id": msg.event_id, "old_t": msg.old_t,
                "new_t": msg.new_t, "by": msg.by, "at": msg.at}
    if isinstance(msg, InfusionChanged):
        return {"type": "infusion", "action": msg.action.value, "t": msg.t,
                "reason": msg.reason, "by": msg.by}
    if isinstance(msg, CommandRefused):
        return {"type": "refused", "command": msg.command, "message": msg.message, "t": msg.t,
                "by": msg.by}
    if isinstance(msg, SessionDischarged):
        return {"type": "discharge", "t": msg.t, "by": msg.by, "checklist": list(msg.checklist),
                "note": msg.note, "cadss": msg.cadss}
    if isinstance(msg, ChecklistTicked):
        return {"type": "checklist", "item": msg.item, "ticked": msg.ticked, "t": msg.t,
                "by": msg.by}
    if isinstance(msg, LimitChanged):
        return {"type": "limit_change", "t": msg.t, "rule": msg.rule_id,
                "setting": msg.setting, "old": msg.old, "new": msg.new, "by": msg.by,
                "reason": msg.reason}
    return None


class JsonLinePrinter:
    """Prints hub messages as JSON lines, flushing each so a reader sees it at once."""

    def __init__(self, stream: IO[str], *, readings: bool) -> None:
        self.stream = stream
        self.readings = readings
        self._lock = threading.Lock()
        self.broken = False

    def __call__(self, msg: HubMessage | DeviceNumeric) -> None:
        obj = to_json(msg, readings=self.readings)
        if obj is not None:
            self.write(obj)

    def write(self, obj: dict[str, object]) -> None:
        if self.broken:
            return
        line = json.dumps(obj, allow_nan=False, separators=(",", ":"))
        with self._lock:
            try:
                self.stream.write(line + "\n")
                self.stream.flush()
            except (BrokenPipeError, ValueError):
                # The reader of stdout went away; keep monitoring and recording.
                self.broken = True


@dataclass
class HeadlessOptions:
    """What ``run --headless`` was asked to do.

    ``drivers``: every source of the session (``driver`` is the first; given
    alone, it is the only one). ``priority``: vital -> source names, first
    preferred (the chair configuration's; ``None`` or a vital left out: the default).
    """

    driver: Driver
    data_dir: Path | None
    speed: float | None
    duration_s: float | None
    readings: bool
    stale_after: float
    profile: AlarmProfile | None = None
    new_database: bool = False     # set a damaged database aside and start a new one
    drivers: Sequence[Driver] = ()
    priority: Mapping[Vital, Sequence[str]] | None = None
    central: PublisherConfig | None = None
    """Publish the chair to the clinic's central station (``--central``)."""

    def __post_init__(self) -> None:
        self.drivers = list(self.drivers) or [self.driver]
        self.driver = self.drivers[0]


def run_headless(opts: HeadlessOptions, out: IO[str] | None = None,
                 err: IO[str] | None = None, start_time: float | None = None) -> int:
    """Run one session with no display. Returns the process exit code.

    0 when the run completed and everything was recorded; 2 when the data
    folder cannot be used at start; 3 when the run completed but recording
    failed at some point (monitoring went on; the output says when); 4 when
    the source itself failed (what it delivered until then is recorded).
    """
    out = out or sys.stdout
    err = err or sys.stderr
    printer = JsonLinePrinter(out, readings=opts.readings)
    try:
        db_path = database.open_database(opts.data_dir, new_database=opts.new_database)
    except database.StorageError as exc:
        err.write(f"infusion-monitor: {exc}\n")
        return EXIT_USAGE
    for row in database.find_unfinished(db_path):
        ended = database.mark_interrupted(db_path, row.id)
        printer.write({"type": "recovered", "session": row.id, "status": "interrupted",
                       "start": row.started_at, "end": ended})
    start = time.time() if start_time is None else start_time
    simulated = all(d.simulated for d in opts.drivers)
    clock: Clock = SimClock(start, opts.speed) if simulated else RealClock()
    publishers: list[ChairPublisher] = []

    def sink(msg: HubMessage | DeviceNumeric) -> None:
        printer(msg)
        for publisher in publishers:
            publisher.offer(msg)

    pipeline = Pipeline(opts.drivers, db_path, clock, sink=sink,
                        stale_after=opts.stale_after, profile=opts.profile,
                        priority=opts.priority)
    if opts.central is not None:
        # Its link reports go to the hub like a device's (never waiting on a full inbox).
        publishers.append(ChairPublisher(
            opts.central, pipeline.inbox.put, session_now=clock.now,
            command=lambda cmd: pipeline.hub.notify(cmd) if pipeline.hub else None))
        publishers[0].start()
    pipeline.start()
    restore = _stop_on_signals(pipeline)
    try:
        while not pipeline.join(timeout=0.5):
            # Session over but the disk still refuses the last writes: give up after a while.
            pipeline.abandon_unwritable()
    finally:
        restore()
        for publisher in publishers:
            publisher.stop()
    hub = pipeline.hub
    if hub is not None:
        # Statuses the recorder sent after the hub finished (a failure on the
        # last commit) are printed too: a failure is never silent.
        for msg in hub.control.drain():
            printer(msg)
    summary = {"type": "summary", "session": pipeline.session_id,
               "readings": hub.counters.readings if hub else 0,
               "wave_samples": hub.counters.wave_samples if hub else 0,
               "recorded_readings": pipeline.recorder.committed_readings
               if pipeline.recorder else 0,
               "device_numerics": hub.device_numerics if hub else 0,
               "recorded_device_numerics": pipeline.recorder.committed_device_numerics
               if pipeline.recorder else 0,
               "dropped": hub.counters.dropped if hub else {},
               "alarms": dict(hub.counters.alarms) if hub else {},
               "recording_failed": pipeline.recording_failed}
    printer.write(summary)
    if pipeline.recording_failed:
        return EXIT_RECORDING_FAILED
    if hub is not None and hub.ended is not None and hub.ended.reason.startswith("source error"):
        return EXIT_SOURCE_FAILED
    return EXIT_OK


def _stop_on_signals(pipeline: Pipeline):  # type: ignore[no-untyped-def]
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}

    def handler(signum, frame):  # type: ignore[no-untyped-def]
        pipeline.stop()

    for s in previous:
        signal.signal(s, handler)

    def restore() -> None:
        for s, h in previous.items():
            signal.signal(s, h)

    return restore
