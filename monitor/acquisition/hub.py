"""The hub thread: session state, phase plan, stale-data checks, fan-out.

Every item from the reader passes through here once. The hub keeps the
session model (phases), tracks freshness per vital, raises technical
conditions on session time (not on a GUI timer, so they happen headless and
at any speed), and hands each item to the recorder queue, the UI queue and
the headless printer. The nurse's commands (events, manual readings,
infusion start/pause/resume/stop, end of session) arrive on its control
queue and are applied by a :class:`WorkflowHandler` on this thread.

A :class:`DeviceNumeric` (a numeric the device sent that is none of our
vitals, e.g. an IntelliVue invasive pressure labelled ART) goes to the
recorder and the headless printer only: never to the alarm engine, the
workflow or the live view, whose model knows only our vitals. It does count
as data from the source (the link is alive) for the no-data condition.
"""

from __future__ import annotations

import logging
import math
import threading
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from monitor.acquisition.workflow_handler import WORKFLOW_COMMANDS, WorkflowHandler
from monitor.core.alarms.engine import AlarmEngine, LoadProfile
from monitor.core.alarms.model import (
    AlarmAction,
    AlarmCommand,
    AlarmMessage,
    AlarmReminder,
    AlarmSnapshot,
    AlarmTransition,
    LoadProfileFile,
)
from monitor.core.alarms.profile import AlarmProfile, ProfileError
from monitor.core.alarms.profile_file import load_default_profile, load_profile
from monitor.core.clock import Clock
from monitor.core.events import (
    CentralLink,
    ClockOffset,
    Condition,
    Counters,
    DeviceFlag,
    HubMessage,
    Note,
    PhaseChanged,
    RawBytes,
    RecordingStatus,
    Selection,
    SourceInfo,
    SourceStatus,
    StreamEnded,
    Technical,
)
from monitor.core.freshness import DEFAULT_STALE_AFTER_S
from monitor.core.queues import BoundedQueue, LatestValue
from monitor.core.reading import DeviceNumeric, Quality, Reading, WaveChunk
from monitor.core.selection import SourceSelector
from monitor.core.session import Phase, SessionModel, SessionStatus
from monitor.core.vitals import SPECS, SUPPLEMENTARY_VITALS, Kind, Vital
from monitor.core.workflow.messages import (
    AddEvent,
    ChecklistTicked,
    InfusionChanged,
    ScriptedStart,
    SessionEvent,
    WorkflowCommand,
)
from monitor.core.workflow.setup import DEFAULT_PLANNED_MIN
from monitor.storage.recorder import CloseSession

log = logging.getLogger(__name__)

IDLE_WAIT_S = 0.1
CLOCK_SAMPLES = 15
"""Distinct device times whose median offset from arrival time is a source's clock offset."""
CLOCK_FIRST_AFTER = 3
"""Samples needed before a source's clock offset is first published."""
CLOCK_MOVE_S = 1.0
"""A published clock offset is published again when the median moves by more than this."""


class _Feed:
    """One source's data-path state in the hub: its no-data timer and its clock."""

    __slots__ = ("clock_last", "clock_published", "clock_samples", "ended", "last_item_t",
                 "link_down", "name", "no_data")

    def __init__(self, name: str, last_item_t: float | None = None) -> None:
        self.name = name
        self.last_item_t = last_item_t
        self.no_data = False
        self.link_down = False   # its port was lost: not shown until its data comes again
        self.ended: StreamEnded | None = None
        self.clock_samples: deque[float] = deque(maxlen=CLOCK_SAMPLES)
        self.clock_last: float | None = None   # the last device time sampled
        self.clock_published: float | None = None

    def clock_sample(self, device_time: float, t: float) -> float | None:
        """Note a reading's device time; the offset to publish, if it is due."""
        if device_time == self.clock_last:
            return None   # the other readings of the same frame
        self.clock_last = device_time
        self.clock_samples.append(device_time - t)
        if len(self.clock_samples) < CLOCK_FIRST_AFTER:
            return None
        ordered = sorted(self.clock_samples)
        median = ordered[len(ordered) // 2]
        if self.clock_published is None or abs(median - self.clock_published) > CLOCK_MOVE_S:
            self.clock_published = median
            return median
        return None


class Hub(threading.Thread):
    """Fans readings out and watches the session clock.

    Parameters
    ----------
    model : SessionModel
    clock : Clock
    inbox : BoundedQueue
        Items from the reader thread.
    recorder_q : BoundedQueue or None
    ui_q : BoundedQueue or None
    sink : callable or None
        Called on this thread with every published message (headless JSON).
    phase_plan : sequence of (time, Phase)
        Scripted phase changes (simulated sessions).
    stale_after : float
        Session seconds without a valid value before a vital is stale, and
        without any data before the source counts as silent.
    profile : AlarmProfile or None
        The alarm profile (default: the shipped ketamine profile).
    history : sequence of Reading
        A resumed session's recorded readings (its baseline is rebuilt from them).
    event_plan : sequence of AddEvent
        Scripted events, each with its time (simulated sessions).
    scripted_start : ScriptedStart or None
        The override a simulated scenario declares for its scripted infusion
        start (which passes the nurse's baseline gate).
    events, infusion : sequence of SessionEvent, sequence of InfusionChanged
        A resumed session's recorded events and infusion actions.
    stop_source : callable or None
        ``stop_source(reason)`` asks the reader to stop; called when the nurse
        ends the session, which then closes like any other end of the stream.
    measures : frozenset of Vital or None
        What the sources can measure (the union of ``Driver.measures``), for
        the alarm engine.
    sources : sequence of SourceInfo
        The session's sources. With two or more, the hub selects the source
        of each vital and handles every source's data path on its own; with
        one (or none given) it behaves as with a single device.
    priority : mapping of Vital to source names, or None
        The chair configuration's order of sources per vital (see
        :func:`monitor.core.selection.default_priority`).

    Attributes
    ----------
    device_numerics : int
        How many :class:`DeviceNumeric` items arrived (recorded, not shown).
    alarms : AlarmEngine
        Runs on this thread; operator commands reach it through :meth:`notify`.
    alarm_state : LatestValue of AlarmSnapshot
        The newest alarm picture, for the live view to read on every tick.
    workflow : WorkflowHandler
        Applies the nurse's commands that reach it through :meth:`notify`.
    selector : SourceSelector or None
        The choice of source per vital (several sources only).
    source_ends : dict of str to StreamEnded
        How each source's stream ended, by source name.
    """

    def __init__(self, model: SessionModel, clock: Clock, inbox: BoundedQueue, *,
                 recorder_q: BoundedQueue | None, ui_q: BoundedQueue | None,
                 sink: Callable[[HubMessage], None] | None = None,
                 phase_plan: Sequence[tuple[float, Phase]] = (),
                 stale_after: float = DEFAULT_STALE_AFTER_S,
                 profile: AlarmProfile | None = None,
                 history: Sequence[Reading] = (),
                 event_plan: Sequence[AddEvent] = (),
                 events: Sequence[SessionEvent] = (),
                 infusion: Sequence[InfusionChanged] = (),
                 stop_source: Callable[[str], None] | None = None,
                 planned_infusion_s: float = DEFAULT_PLANNED_MIN * 60.0,
                 checklist: Sequence[ChecklistTicked] = (),
                 scripted_start: ScriptedStart | None = None,
                 measures: frozenset[Vital] | None = None,
                 sources: Sequence[SourceInfo] = (),
                 priority: Mapping[Vital, Sequence[str]] | None = None) -> None:
        super().__init__(name="hub", daemon=False)
        self.model = model
        self.clock = clock
        self.inbox = inbox
        self.recorder_q = recorder_q
        self.ui_q = ui_q
        self.sink = sink
        self.stale_after = stale_after
        self._plan = sorted(phase_plan)
        self._event_plan = sorted((e for e in event_plan if e.t is not None),
                                  key=lambda e: e.t or 0.0)
        self._stop_source = stop_source
        self.control: BoundedQueue[HubMessage] = BoundedQueue(1000, "hub control")
        self.counters = Counters()
        self.device_numerics = 0
        self._last_valid: dict[Vital, float] = {}
        self._stale: set[Vital] = set()
        self.sources = tuple(sources)
        self.multi = len(self.sources) > 1
        if self.multi:
            # Each device's no-data timer runs from the start: one that never
            # sends says so, while the others go on.
            self._feeds = {s.name: _Feed(s.name, model.started_at) for s in self.sources}
            self.selector: SourceSelector | None = SourceSelector(self.sources, priority,
                                                                  stale_after)
        else:
            only = self.sources[0].name if self.sources else ""
            self._feeds = {only: _Feed(only)}
            self.selector = None
        self._feed_list = list(self._feeds.values())
        self._single = self._feed_list[0]
        self._no_data = False   # every source is silent
        self._data_since = model.started_at  # when data (re)started flowing
        self._now = model.started_at
        self.ended: StreamEnded | None = None
        self.source_ends: dict[str, StreamEnded] = {}
        self.recording_ok = True
        self.recording_ever_failed = False
        baseline = _baseline_part(model, history)
        last_nibp = max((r.t for r in history if r.valid and r.vital is Vital.NIBP_SYS),
                        default=None)
        self.alarms = AlarmEngine(profile or load_default_profile(), started_at=model.started_at,
                                  stale_after=stale_after, phase=model.phase,
                                  phase_started_at=model.phase_started_at(),
                                  baseline_readings=baseline, measures=measures,
                                  last_nibp_t=last_nibp,
                                  sources=tuple(self._feeds) if self.multi else ())
        self.alarm_state: LatestValue[AlarmSnapshot] = LatestValue(self.alarms.snapshot())
        self.workflow = WorkflowHandler(model, publish=self._publish, ingest=self._ingest,
                                        set_phase=self._set_phase, events=events,
                                        infusion=infusion,
                                        planned_infusion_s=planned_infusion_s,
                                        baseline_readings=baseline, checklist=checklist,
                                        scripted_start=scripted_start)

    # -- thread ----------------------------------------------------------

    def run(self) -> None:
        if self.selector is not None:
            self.selector.start(self._now)
        while True:
            try:
                if self._step():
                    return
            except Exception as exc:  # noqa: BLE001 -- monitoring must outlive one bad item
                self._internal_error(exc)

    def _step(self) -> bool:
        """Handle pending commands and at most one item; True once the stream has ended."""
        for msg in self.control.drain():
            self._handle_control(msg)
        item = self.inbox.get(timeout=IDLE_WAIT_S)
        self._check_overflow(self.inbox)
        if item is None:
            if self.clock.speed is not None:
                self._advance(self.clock.now())
            self._update_alarm_state()
            return False
        if isinstance(item, StreamEnded):
            return self._stream_ended(item)
        t = item.t if isinstance(item, Reading) else (
            item.t0 if isinstance(item, WaveChunk) else getattr(item, "t", self._now))
        self._advance(t)
        self._handle(item)
        self._update_alarm_state()
        return False

    def _internal_error(self, exc: Exception) -> None:
        """A bug met one item: log it, say so as a technical alarm, and keep monitoring."""
        self.counters.internal_errors += 1
        log.exception("hub: internal error handling an item; monitoring continues")
        try:
            self._publish(Technical(Condition.INTERNAL_ERROR, True, self._now,
                                    f"internal error ({type(exc).__name__}); monitoring "
                                    "continues, see the log"))
            self._update_alarm_state()
        except Exception:  # noqa: BLE001 -- never let the report kill the hub
            log.exception("hub: could not report the internal error")

    def notify(self, msg: HubMessage | AlarmCommand | LoadProfile | WorkflowCommand) -> None:
        """Thread-safe: hand the hub a status message, an alarm command or a nurse command."""
        if not self.control.put(msg):
            log.error("hub control queue full: %r lost", type(msg).__name__)

    # -- time ------------------------------------------------------------

    def _advance(self, t: float) -> None:
        """Bring phases and technical conditions up to session time ``t``."""
        if t < self._now:
            return
        self._now = t
        while True:   # scripted phases and events, in time order
            next_phase = self._plan[0][0] if self._plan else math.inf
            next_event = (self._event_plan[0].t or 0.0) if self._event_plan else math.inf
            if min(next_phase, next_event) > t:
                break
            if next_phase <= next_event:
                when, phase = self._plan.pop(0)
                if list(Phase).index(phase) > list(Phase).index(self.model.phase):
                    self.workflow.scripted_phase(phase, when)
            else:
                self.workflow.scripted(self._event_plan.pop(0), t)
        for feed in self._feed_list:
            if feed.last_item_t is not None and not feed.no_data:
                deadline = feed.last_item_t + self.stale_after
                if t >= deadline:
                    self._source_silent(feed, deadline)
        if self.selector is not None:
            self._apply_selections(self.selector.tick(t))
        self._emit(self.alarms.tick(t))
        if self.workflow.timer.take_planned_end_reminder(t):
            minutes = self.workflow.timer.planned_s / 60.0
            self._emit(self.alarms.announce(
                "infusion.planned_end", f"Planned infusion time reached ({minutes:g} min)", t))
        if not self._no_data:
            for vital, last in self._last_valid.items():
                # After a silence, every vital gets a full stale period to come back.
                deadline = max(last, self._data_since) + self.stale_after
                if vital not in self._stale and t >= deadline:
                    self._stale.add(vital)
                    self._publish(Technical(Condition.STALE, True, deadline,
                                            f"no valid {SPECS[vital].label}", vital))

    def _set_phase(self, phase: Phase, t: float) -> None:
        self.model.set_phase(phase, t)
        self._publish(PhaseChanged(phase, t))

    # -- items -----------------------------------------------------------

    def _ingest(self, reading: Reading) -> None:
        """A reading the nurse typed: the same path as one from the device."""
        self._advance(reading.t)
        self._handle(reading)

    def _feed_of(self, source: str) -> _Feed | None:
        return self._feeds.get(source) if self.multi else self._single

    def _source_silent(self, feed: _Feed, deadline: float) -> None:
        """``feed`` sent nothing for ``stale_after``: its no-data condition (and a fall-back)."""
        feed.no_data = True
        self._no_data = all(f.no_data for f in self._feed_list)
        if not self.multi:
            self._publish(Technical(Condition.NO_DATA, True, deadline,
                                    "no data from the source"))
            return
        self._publish(Technical(Condition.NO_DATA, True, deadline, f"no data from {feed.name}",
                                source=feed.name))
        if self.selector is not None:
            self._apply_selections(self.selector.set_silent(feed.name, True, deadline))

    def _source_data(self, feed: _Feed, t: float) -> None:
        """Data from ``feed`` again after a silence."""
        feed.no_data = False
        feed.link_down = False
        if self._no_data:
            self._no_data = False
            self._data_since = t
        if not self.multi:
            self._publish(Technical(Condition.NO_DATA, False, t, "data from the source again"))
            return
        self._publish(Technical(Condition.NO_DATA, False, t, f"data from {feed.name} again",
                                source=feed.name))
        if self.selector is not None:
            self._apply_selections(self.selector.set_silent(feed.name, False, t))

    def _link_lost(self, tech: Technical) -> None:
        """A device's port is gone (cable pulled, adapter unplugged): fall back at once.

        Its last values are not waited on for the stale period: a lost link sends
        nothing more. It is shown again once its data comes back (and, higher in the
        order, after the return hold).
        """
        feed = self._feeds.get(tech.source)
        if feed is None or feed.link_down or self.selector is None:
            return
        feed.link_down = True
        if not feed.no_data:
            self._apply_selections(self.selector.set_silent(feed.name, True, tech.t))

    def _link_back(self, feed: _Feed, t: float) -> None:
        feed.link_down = False
        if self.selector is not None:
            self._apply_selections(self.selector.set_silent(feed.name, False, t))

    def _apply_selections(self, selections: list[Selection]) -> None:
        """Publish each change of source; the vital's freshness is now the new source's."""
        for sel in selections:
            self._publish(sel)
            if sel.vital not in self._last_valid or self.selector is None:
                continue
            last = self.selector.last_valid(sel.vital, sel.source)
            if last is None:
                continue
            self._last_valid[sel.vital] = last
            if sel.vital in self._stale and sel.t < max(last, self._data_since) + self.stale_after:
                self._stale.discard(sel.vital)
                self._publish(Technical(Condition.STALE, False, sel.t,
                                        f"{SPECS[sel.vital].label} valid again", sel.vital))

    def _handle(self, item: HubMessage) -> None:
        # A typed value says nothing about whether the source still sends data.
        manual = isinstance(item, Reading) and item.quality is Quality.MANUAL
        if isinstance(item, (Reading, WaveChunk, DeviceNumeric)) and not manual:
            t = item.t_end if isinstance(item, WaveChunk) else item.t
            feed = self._feed_of(item.source)
            if feed is not None:
                feed.last_item_t = max(feed.last_item_t or t, t)
                if feed.no_data:
                    self._source_data(feed, t)
                elif feed.link_down:
                    self._link_back(feed, t)
        if isinstance(item, Reading):
            self.counters.readings += 1
            if self.selector is not None and not manual:
                if item.device_time is not None:
                    self._clock_sample(item)
                self._apply_selections(self.selector.on_reading(item))
                if not self.selector.shows(item.vital, item.source):
                    self._publish_unshown(item)   # the other device's: record and trend
                    return
            elif item.device_time is not None and not manual:
                self._clock_sample(item)
            self.workflow.on_reading(item)
            if (item.valid and not manual and SPECS[item.vital].kind is Kind.CONTINUOUS
                    and item.vital not in SUPPLEMENTARY_VITALS):  # variants: record only
                self._last_valid[item.vital] = item.t
                if item.vital in self._stale:
                    self._stale.discard(item.vital)
                    self._publish(Technical(Condition.STALE, False, item.t,
                                            f"{SPECS[item.vital].label} valid again", item.vital))
        elif isinstance(item, WaveChunk):
            self.counters.wave_samples += len(item)
            if self.selector is not None:
                self._apply_selections(self.selector.on_wave(item))
                if not self.selector.shows(item.vital, item.source):
                    self._to_recorder(item)   # recorded, not drawn
                    if self.sink is not None:
                        self.sink(item)
                    return
        elif isinstance(item, Technical):
            if not self.multi and item.source:
                item = replace(item, source="")   # one device: the alarms as always
            elif (item.condition is Condition.PORT_LOST and item.active
                  and self.selector is not None):
                self._link_lost(item)
        elif isinstance(item, RawBytes):
            self._to_recorder(item)  # raw bytes go to the capture only
            return
        elif isinstance(item, DeviceNumeric):
            # For the record only: no alarm, no workflow, not the live view (which
            # knows only our vitals); the headless printer shows it.
            self.device_numerics += 1
            self._to_recorder(item)
            if self.sink is not None:
                self.sink(item)
            return
        elif isinstance(item, DeviceFlag) and item.name == "sensor_off":
            source = item.source if self.multi else ""
            self._publish(Technical(Condition.SENSOR_PROBLEM, item.active, item.t,
                                    item.text or ("sensor off" if item.active
                                                  else "sensor back"), source=source))
            if self.selector is not None:
                self._apply_selections(
                    self.selector.set_sensor_off(item.source, item.active, item.t))
        self._publish(item)

    def _clock_sample(self, reading: Reading) -> None:
        feed = self._feed_of(reading.source)
        if feed is None or reading.device_time is None or not math.isfinite(reading.device_time):
            return
        offset = feed.clock_sample(reading.device_time, reading.t)
        if offset is not None:
            self._publish(ClockOffset(reading.t, reading.source or feed.name, offset))

    def _publish_unshown(self, reading: Reading) -> None:
        """A reading of a source not shown for its vital: recorded, printed, drawn; not alarmed."""
        self._to_recorder(reading)
        if self.ui_q is not None:
            self.ui_q.put(reading)
        if self.sink is not None:
            self.sink(reading)

    def _handle_control(self, msg: object) -> None:
        now = max(self._now, self.clock.now()) if self.clock.speed is not None else self._now
        if isinstance(msg, WORKFLOW_COMMANDS):
            self._advance(now)
            if self.workflow.handle(msg, now) and self._stop_source is not None:
                self._stop_source(f"session ended by {self.workflow.ended_by}")
            self._update_alarm_state()   # a manual reading may have raised an alarm
            return
        if not isinstance(msg, (RecordingStatus, Note)):  # an operator's alarm command
            if isinstance(msg, LoadProfileFile):
                try:   # file I/O here, on the hub thread, never on the GUI thread
                    msg = LoadProfile(load_profile(msg.path), msg.by)
                except ProfileError as exc:
                    self._emit([AlarmAction(now, "refused", f"alarm profile refused, the "
                                            f"current one stays: {exc}", msg.by)])
                    return
            self._emit(self.alarms.command(msg, now))  # type: ignore[arg-type]
            return
        if isinstance(msg, RecordingStatus):
            self.recording_ok = msg.ok
            self.recording_ever_failed |= not msg.ok
        self._publish(msg)

    def _to_recorder(self, msg: HubMessage) -> None:
        if self.recorder_q is not None and not self.recorder_q.put(msg):
            self._check_overflow(self.recorder_q)

    def _update_alarm_state(self) -> None:
        if self.alarms.changed:
            self.alarm_state.set(self.alarms.snapshot())

    def _emit(self, messages: list[AlarmMessage]) -> None:
        """Log and show what the alarm engine produced."""
        for msg in messages:
            if isinstance(msg, AlarmTransition):
                self.counters.alarms[msg.state.value] = self.counters.alarms.get(
                    msg.state.value, 0) + 1
            if not isinstance(msg, AlarmReminder):
                self._to_recorder(msg)
            if self.ui_q is not None:
                self.ui_q.put(msg)
            if self.sink is not None:
                self.sink(msg)

    def _feed_alarms(self, msg: HubMessage) -> None:
        if isinstance(msg, Reading):
            self._emit(self.alarms.on_reading(msg))
        elif isinstance(msg, Technical):
            self._emit(self.alarms.on_technical(msg))
        elif isinstance(msg, RecordingStatus):
            self._emit(self.alarms.on_recording(msg))
        elif isinstance(msg, PhaseChanged):
            self._emit(self.alarms.on_phase(msg.phase, msg.t))

    def _publish(self, msg: HubMessage) -> None:
        self._feed_alarms(msg)
        if not isinstance(msg, (RecordingStatus, SourceStatus, CentralLink)):
            self._to_recorder(msg)
        if self.ui_q is not None:
            self.ui_q.put(msg)  # the view counts its own overflow
        if self.sink is not None:
            self.sink(msg)

    def _check_overflow(self, q: BoundedQueue) -> None:
        lost = q.take_dropped()
        if lost:
            self.counters.dropped[q.name] = self.counters.dropped.get(q.name, 0) + lost
            log.error("%s overflow: %d items lost", q.name, lost)
            msg = Technical(Condition.QUEUE_OVERFLOW, True, self._now,
                            f"{q.name} full: {lost} items lost", count=lost)
            if q is not self.recorder_q and self.recorder_q is not None:
                self.recorder_q.put(msg)
            if self.ui_q is not None:
                self.ui_q.put(msg)
            if self.sink is not None:
                self.sink(msg)
            self._emit(self.alarms.on_technical(msg))

    def _stream_ended(self, end: StreamEnded) -> bool:
        """A source's stream ended; True (the session ends) once every source's has."""
        if not self.multi:
            self.source_ends[end.source] = end
            self._finish(end)
            return True
        feed = self._feeds.get(end.source)
        if feed is None:   # not one of ours: a stray end marker ends nothing
            log.warning("hub: end of an unknown source %r ignored", end.source)
            return False
        if feed.ended is None:
            feed.ended = end
            self.source_ends[feed.name] = end
        if all(f.ended is not None for f in self._feed_list):
            self._finish(StreamEnded(max(end.t, self._now), end.reason))
            return True
        self._advance(end.t)
        reason = end.reason or "source ended"
        self._publish(Note(end.t, "source_end", f"source {feed.name} ended: {reason}", "system"))
        if self.sink is not None:
            self.sink(end)   # the headless "end" line of that source
        if self.selector is not None:
            self._apply_selections(self.selector.set_ended(feed.name, end.t))
        self._update_alarm_state()
        return False

    def _finish(self, end: StreamEnded) -> None:
        self._advance(end.t)
        for msg in self.control.drain():
            self._handle_control(msg)
        if self.model.phase is not Phase.ENDED:
            self._set_phase(Phase.ENDED, max(end.t, self.model.phase_started_at()))
        self.ended = end
        self._update_alarm_state()
        self._publish(Note(end.t, "session_end", end.reason, "system"))
        self._publish(end)
        if self.recorder_q is not None:
            self.recorder_q.put_reliably(CloseSession(SessionStatus.COMPLETED, end.t))


def _baseline_part(model: SessionModel, history: Sequence[Reading]) -> list[Reading]:
    """The readings of a resumed session taken before its infusion started."""
    end = model.started(Phase.INFUSION)
    if not history or end is None:
        return list(history) if model.phase is Phase.BASELINE else []
    return [r for r in history if r.t < end]
