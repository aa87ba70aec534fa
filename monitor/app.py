"""Composition root of the monitoring window.

Opens the recordings, deals with a session a crash left open (offer to
resume it in the same record, or close it as interrupted), builds the
acquisition pipeline and hands its UI queue to the live view. Qt itself is
only touched through :mod:`monitor.ui.application`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from monitor.acquisition.pipeline import Pipeline
from monitor.core.alarms.profile import AlarmProfile
from monitor.core.clock import Clock, RealClock, SimClock
from monitor.devices.base import Driver
from monitor.storage import database
from monitor.storage.database import SessionRow

log = logging.getLogger(__name__)

AskResume = Callable[[SessionRow, float], bool]


@dataclass
class GuiOptions:
    """What the window was asked to show."""

    driver: Driver
    data_dir: Path | None
    speed: float | None
    stale_after: float
    profile: AlarmProfile | None = None


def prepare_session(opts: GuiOptions, ask_resume: AskResume,
                    now: float | None = None) -> tuple[Pipeline, Clock]:
    """Open storage, settle unfinished sessions, and build (not start) the pipeline.

    ``ask_resume(row, gap_seconds)`` is asked about the newest unfinished
    session; every other unfinished session is closed as interrupted.

    Raises
    ------
    monitor.storage.database.StorageError
    """
    db = database.open_database(opts.data_dir)
    resume = None
    unfinished = database.find_unfinished(db)
    if unfinished:
        newest = unfinished[-1]
        last = newest.last_data_at or newest.started_at
        wall = time.time() if now is None else now
        if ask_resume(newest, max(0.0, wall - last)):
            resume = newest.id
        for row in unfinished:
            if row.id != resume:
                database.mark_interrupted(db, row.id)
    start = time.time() if now is None else now
    if resume is not None:
        # An accelerated simulation runs ahead of the wall clock: continue after
        # the last recorded data so the record's times stay strictly increasing.
        start = max(start, (unfinished[-1].last_data_at or 0.0) + 1.0)
    clock: Clock = SimClock(start, opts.speed) if opts.driver.simulated else RealClock()
    pipeline = Pipeline(opts.driver, db, clock, with_ui=True, resume=resume,
                        stale_after=opts.stale_after, profile=opts.profile)
    return pipeline, clock


def pick_source():  # type: ignore[no-untyped-def]
    """Ask the nurse for the source in a dialog; ``None`` if cancelled.

    Returns a :class:`monitor.ui.source_dialog.SourceChoice`.
    """
    from monitor.ui import application
    from monitor.ui.source_dialog import choose_source

    application.create_application()
    return choose_source()


def run_gui(opts: GuiOptions, argv: list[str] | None = None,
            quit_after_s: float | None = None) -> int:
    """Show the monitoring window until it is closed. Returns the exit code."""
    from monitor.ui import application

    app = application.create_application(argv)
    restore_signals = application.quit_on_signals(app)
    try:
        try:
            pipeline, clock = prepare_session(opts, application.ask_resume)
            pipeline.start()
        except database.StorageError as exc:
            application.show_fatal(f"Cannot start recording.\n\n{exc}")
            return 2
        assert pipeline.ui_queue is not None and pipeline.hub is not None
        hub = pipeline.hub
        code = application.run_live_view(app, clock, pipeline.ui_queue,
                                         simulated=opts.driver.simulated,
                                         stale_after_s=opts.stale_after,
                                         quit_after_s=quit_after_s,
                                         alarm_state=hub.alarm_state.get,
                                         send_command=hub.notify,
                                         profile=hub.alarms.profile)
    finally:
        restore_signals()
    pipeline.stop()
    if not pipeline.join(timeout=15):
        pipeline.abandon_unwritable()
        if not pipeline.join(timeout=5):
            log.error("acquisition threads did not stop")
    return code
