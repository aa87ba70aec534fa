"""Composes one monitored session: drivers -> readers -> hub -> recorder / UI / printer.

A chair with several devices (issue 16) has one driver and one reader thread
per device, all feeding the one hub inbox on one time base (host arrival
time); each reader stamps what it reads with its device's name, and the hub
chooses the device shown and alarmed for each vital.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from monitor.acquisition.hub import Hub
from monitor.acquisition.reader import ReaderThread
from monitor.core.alarms.profile import AlarmProfile
from monitor.core.alarms.profile_file import load_default_profile
from monitor.core.clock import Clock
from monitor.core.events import (
    History,
    HubMessage,
    Note,
    RecordingStatus,
    SessionStarted,
    SourceInfo,
)
from monitor.core.freshness import DEFAULT_STALE_AFTER_S
from monitor.core.queues import BoundedQueue
from monitor.core.session import Phase, SessionModel
from monitor.core.vitals import SPECS_PRIMARY, Vital
from monitor.core.workflow.messages import MANUAL_NOTE_KIND
from monitor.core.workflow.setup import DEFAULT_PLANNED_MIN
from monitor.devices.base import Driver
from monitor.devices.protocols import PROTOCOLS, codec_class, default_names
from monitor.storage import database
from monitor.storage.recorder import Recorder
from monitor.storage.store import SessionStore

log = logging.getLogger(__name__)

PRIMARY_VITALS = tuple(SPECS_PRIMARY)

INBOX_SIZE = 50_000
RECORDER_QUEUE_SIZE = 500_000
UI_QUEUE_SIZE = 20_000
SIM_INBOX_SIZE = 5_000
SIM_RECORDER_QUEUE_SIZE = 20_000
"""Queue sizes for a simulated source, which waits when they are full."""
HISTORY_WAVE_S = 10.0


class Pipeline:
    """One session's threads and queues.

    Call :meth:`start` once (it creates or resumes the session row, so call
    it before a GUI event loop starts), then :meth:`stop` and/or :meth:`join`.

    Parameters
    ----------
    driver : Driver or sequence of Driver
        The session's source, or its sources in the chair's order (each with
        a unique ``name``; an empty one gets its device's name).
    db_path : Path
        An opened, migrated database (see :func:`monitor.storage.database.open_database`).
    clock : Clock
    with_ui : bool
        Create :attr:`ui_queue` for a live view.
    sink : callable or None
        Receives every hub message on the hub thread (headless printer).
    resume : int or None
        Id of an unfinished session to continue in the same record.
    stale_after : float
    profile : AlarmProfile or None
        The alarm profile (default: the shipped ketamine profile).
    setup : mapping or None
        The nurse's set-up of a new session (see
        :func:`monitor.storage.database.save_setup`), saved with it when it is created.
    priority : mapping of Vital to source names, or None
        The chair's order of devices per vital (several sources; ``None``: the default).
    """

    def __init__(self, driver: Driver | Sequence[Driver], db_path: Path, clock: Clock, *,
                 with_ui: bool = False,
                 sink: Callable[[HubMessage], None] | None = None, resume: int | None = None,
                 stale_after: float = DEFAULT_STALE_AFTER_S,
                 profile: AlarmProfile | None = None,
                 setup: Mapping[str, object] | None = None,
                 priority: Mapping[Vital, Sequence[str]] | None = None) -> None:
        self.drivers: list[Driver] = [driver] if isinstance(driver, Driver) else list(driver)
        if not self.drivers:
            raise ValueError("a session needs at least one source")
        for d, name in zip(self.drivers, default_names(self.drivers), strict=True):
            d.name = name
        self.driver = self.drivers[0]
        if any(getattr(d, "carries_nibp", False) for d in self.drivers):
            # A simulated chair of an oximeter and a monitor: the monitor takes the blood
            # pressure, so the oximeter has no separate cuff (one determination, not two).
            for d in self.drivers:
                if hasattr(d, "separate_cuff") and not getattr(d, "carries_nibp", False):
                    d.separate_cuff = False
        self.sources = tuple(source_info(d) for d in self.drivers)
        self.priority = priority
        self.setup = setup
        self.profile = profile if profile is not None else load_default_profile()
        self.db_path = db_path
        self.clock = clock
        self.sink = sink
        self.resume = resume
        self.stale_after = stale_after
        # A simulated source (at any speed) is held back when the hub or the recorder
        # falls behind: small blocking queues bound memory and nothing is lost. A real
        # device is never held back: its queues are large and an overflow is an event.
        held_back = all(d.simulated for d in self.drivers)
        self.inbox: BoundedQueue = BoundedQueue(
            SIM_INBOX_SIZE if held_back else INBOX_SIZE, "reader queue",
            block_when_full=held_back)
        self.recorder_q: BoundedQueue = BoundedQueue(
            SIM_RECORDER_QUEUE_SIZE if held_back else RECORDER_QUEUE_SIZE, "recorder queue",
            block_when_full=held_back)
        # At max speed the display is held back too: a dropped event or infusion
        # record would leave the window showing less than the record (and infusion
        # records that no longer form valid transitions).
        fast = clock.speed is None
        self.ui_queue: BoundedQueue | None = (
            BoundedQueue(UI_QUEUE_SIZE, "display queue", block_when_full=fast)
            if with_ui else None)
        self.session_id: int | None = None
        self.model: SessionModel | None = None
        self.hub: Hub | None = None
        self.recorder: Recorder | None = None
        self.reader: ReaderThread | None = None
        self.readers: list[ReaderThread] = []

    @property
    def label(self) -> str:
        """The session's source as the record names it: the one, or every device."""
        if len(self.sources) == 1:
            return self.driver.label
        return database.sources_text(self.sources)

    @property
    def measures(self) -> frozenset[Vital] | None:
        """What the sources can measure together (``None``: one does not declare it)."""
        out: set[Vital] = set()
        for d in self.drivers:
            if d.measures is None:
                return None
            out |= d.measures
        return frozenset(out)

    def start(self) -> SessionStarted:
        """Create (or resume) the session and start the threads."""
        now = self.clock.now()
        gap = None
        history = None
        if self.resume is None:
            started_at = now
            sid = database.create_session(
                self.db_path, started_at=started_at, source=self.driver.label,
                simulated=self.driver.simulated,
                protocol=self.driver.protocol, serial_settings=self.driver.settings_text,
                alarm_profile=f"{self.profile.name} ({self.profile.source})",
                sources=self.sources)
            if self.setup is not None:
                database.save_setup(self.db_path, sid, self.setup)
            spans = None
        else:
            sid = self.resume
            row = database.session_row(self.db_path, sid)
            database.claim_session(self.db_path, sid)
            database.add_sources(self.db_path, sid, self.sources)
            started_at = row.started_at
            spans = database.load_phases(self.db_path, sid)
            last = database.last_data_time(self.db_path, sid)
            gap = max(0.0, now - (last if last is not None else started_at))
            history = self._load_history(sid, now)
        self.session_id = sid
        simulated = all(d.simulated for d in self.drivers)
        self.model = SessionModel(sid, started_at, self.label, simulated,
                                  spans=list(spans) if spans else [])
        self._open_drivers(started_at)
        started = SessionStarted(sid, started_at, self.label, simulated,
                                 tuple(self.model.spans), resumed=self.resume is not None,
                                 gap_s=gap, measures=self.measures,
                                 banner=next((d.banner for d in self.drivers if d.banner), ""),
                                 sources=self.sources)
        lockstep = getattr(self.clock, "lockstep", None)
        if lockstep is not None and len(self.drivers) > 1 \
                and getattr(self.clock, "speed", 1.0) is None:
            lockstep(len(self.drivers))   # several simulated devices at --speed max: together
        self.readers = [ReaderThread(d, self.inbox, self.clock) for d in self.drivers]
        self.reader = self.readers[0]
        # The scripted plan (a scenario's phases and events, a replay's record)
        # comes from the first source that has one: every device plays one patient.
        scripted = next((d for d in self.drivers if d.phase_plan or d.event_plan
                         or d.scripted_start is not None), self.driver)
        past = history if history is not None else History()
        self.hub = Hub(self.model, self.clock, self.inbox, recorder_q=self.recorder_q,
                       ui_q=self.ui_queue, sink=self.sink, phase_plan=scripted.phase_plan,
                       stale_after=self.stale_after, profile=self.profile,
                       history=past.readings, event_plan=scripted.event_plan,
                       events=past.events, infusion=past.infusion,
                       checklist=past.checklist,
                       stop_source=self._stop_readers,
                       planned_infusion_s=self._planned_infusion_s(sid, scripted),
                       scripted_start=scripted.scripted_start,
                       measures=self.measures, sources=self.sources,
                       priority=self.priority)
        self.recorder = Recorder(self.db_path, sid, self.recorder_q,
                                 on_status=self.hub.notify, clock_now=self.clock.now)
        # open_database proved the folder writable: say recording is on.
        recording = RecordingStatus(True, now, "")
        for msg in (started, recording, history):
            if msg is None:
                continue
            if self.ui_queue is not None:
                self.ui_queue.put(msg)
            if self.sink is not None:
                self.sink(msg)
        if gap is not None:
            self.recorder_q.put(Note(now, "resumed", f"resumed after a gap of {gap:.0f} s",
                                     "system"))
        self.recorder.start()
        self.hub.start()
        for reader in self.readers:
            reader.start()
        return started

    def _open_drivers(self, started_at: float) -> None:
        """Open every source; when one cannot be opened, close those opened and raise."""
        opened: list[Driver] = []
        try:
            for d in self.drivers:
                d.open(self.clock, started_at)
                opened.append(d)
        except BaseException:
            for d in opened:
                d.close()
            raise

    def _stop_readers(self, reason: str = "stopped") -> None:
        for reader in self.readers:
            reader.stop(reason)

    def _planned_infusion_s(self, sid: int, scripted: Driver) -> float:
        """The planned infusion time: the set-up's, a replay's original, a scenario's, or 40 min."""
        setup = self.setup if self.setup is not None else database.load_setup(self.db_path, sid)
        minutes = (setup or {}).get("planned_infusion_min")
        if isinstance(minutes, (int, float)) and minutes > 0:
            return float(minutes) * 60.0
        if scripted.planned_infusion_s is not None:   # a replay's original
            return scripted.planned_infusion_s
        plan = {phase: t for t, phase in scripted.phase_plan}
        if Phase.INFUSION in plan and Phase.RECOVERY in plan:
            return plan[Phase.RECOVERY] - plan[Phase.INFUSION]
        return DEFAULT_PLANNED_MIN * 60.0

    def _load_history(self, sid: int, now: float) -> History:
        with SessionStore(self.db_path) as store:
            # The display and the alarm baseline use the main vitals only; the
            # supplementary device numerics stay in the record.
            readings = tuple(store.readings(sid, vitals=PRIMARY_VITALS))
            waves = tuple(store.waves(sid, Vital.PLETH, since=now - HISTORY_WAVE_S))
            events = tuple(store.session_events(sid))
            infusion = tuple(store.infusion_actions(sid))
            corrections = tuple(store.event_corrections(sid))
            notes = tuple(Note(e.t, e.kind, e.text, e.author) for e in store.events(sid)
                          if e.kind == MANUAL_NOTE_KIND)
            checklist = tuple(store.checklist_ticks(sid))
        return History(readings, waves, events, infusion, corrections, notes, checklist)

    def stop(self) -> None:
        """Ask the source to stop; the hub then closes the session and the recorder flushes."""
        self._stop_readers()
        self.release_display()

    def release_display(self) -> None:
        """The window no longer reads the display queue: never hold the hub back for it."""
        if self.ui_queue is not None:
            self.ui_queue.block_when_full = False
            self.ui_queue.drain()   # wakes a hub waiting for room

    def join(self, timeout: float | None = None) -> bool:
        """Wait for all threads; returns ``True`` if they all finished. Only waits."""
        threads = [*self.readers, self.hub, self.recorder]
        for thread in threads:
            if thread is not None:
                thread.join(timeout)
        return not any(t and t.is_alive() for t in threads)

    def abandon_unwritable(self, grace_s: float = 5.0) -> None:
        """After the session ended, stop a recorder that still cannot write.

        The items it could not write are logged as lost; what was committed
        stays committed.
        """
        if self.hub is not None and self.hub.is_alive():
            return
        if self.recorder is not None and self.recorder.is_alive():
            self.recorder.join(grace_s)
            if self.recorder.is_alive() and self.recorder.failed:
                self.recorder.stop()

    @property
    def recording_failed(self) -> bool:
        """Whether recording failed at any point of the run."""
        return bool(self.recorder and self.recorder.ever_failed)


def source_info(driver: Driver) -> SourceInfo:
    """What the session records of one source: its name, link, protocol and kind of device."""
    kind = codec_class(driver.protocol).device_kind if driver.protocol in PROTOCOLS \
        else "monitor"
    return SourceInfo(driver.name, driver.label, driver.protocol, driver.simulated, kind,
                      driver.measures, driver.settings_text)
