"""Composition root of the monitoring window.

Opens the recordings, deals with a session a crash left open (offer to
resume it in the same record, or close it as interrupted), asks for the
set-up of a new session, builds the acquisition pipeline (which saves the
set-up with the new session) and hands its UI queue to the live view. Qt
itself is only touched through :mod:`monitor.ui.application`. Every
database read and write here happens before the event loop starts.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from monitor.acquisition.pipeline import Pipeline
from monitor.central.publisher import ChairPublisher, PublisherConfig
from monitor.core.alarms.profile import AlarmProfile
from monitor.core.clock import Clock, RealClock, SimClock
from monitor.core.vitals import Vital
from monitor.core.workflow.setup import SessionSetup, SetupError, parse_setup
from monitor.devices.base import Driver
from monitor.storage import database
from monitor.storage.database import SessionRow

log = logging.getLogger(__name__)

AskResume = Callable[[SessionRow, float], bool]
AskSetup = Callable[[], SessionSetup | None]

_RECORD_NAMES = {"phq9": "pre_phq9", "madrs": "pre_madrs", "cadss": "post_cadss"}
""":class:`SessionSetup` fields stored under another name in ``session_setup``."""


class SetupCancelled(Exception):
    """The nurse cancelled the "New session" dialog: no session is started."""


@dataclass
class GuiOptions:
    """What the window was asked to show.

    ``setup``: ask for the "New session" set-up before a new session starts
    (``--no-setup`` turns it off for demos, tests and benches). ``drivers``:
    every source of the session (``driver`` is the first; given alone, it is
    the only one). ``priority``: vital -> source names, first preferred (the
    chair configuration's; ``None`` or a vital left out: the default order).
    """

    driver: Driver
    data_dir: Path | None
    speed: float | None
    stale_after: float
    profile: AlarmProfile | None = None
    setup: bool = True
    new_database: bool = False     # set a damaged database aside and start a new one
    drivers: Sequence[Driver] = ()
    priority: Mapping[Vital, Sequence[str]] | None = None
    central: PublisherConfig | None = None
    """Publish the chair to the clinic's central station (``--central``)."""
    central_patient: str = "pseudonym"
    """What the central is told of the patient: ``pseudonym``, ``reference`` or ``none``."""

    def __post_init__(self) -> None:
        self.drivers = list(self.drivers) or [self.driver]
        self.driver = self.drivers[0]

    @property
    def simulated(self) -> bool:
        """Every source is simulated (or replayed): the session runs on a simulated clock."""
        return all(d.simulated for d in self.drivers)

    @property
    def label(self) -> str:
        """The sources as the set-up dialog shows them: one label, or each name and label."""
        if len(self.drivers) == 1:
            return self.driver.label
        return ", ".join(f"{d.name} ({d.label})" if d.name else d.label for d in self.drivers)


def setup_record(setup: SessionSetup) -> dict[str, object]:
    """The set-up as :func:`monitor.storage.database.save_setup` stores it.

    Adds the computed total dose; the scores go under their stored names;
    the source is kept on the session row, not here.
    """
    record: dict[str, object] = {_RECORD_NAMES.get(k, k): v
                                 for k, v in setup.as_dict().items() if k != "source"}
    record["total_mg"] = setup.total_mg
    if record.get("post_cadss") is None:
        record.pop("post_cadss", None)   # never blank a CADSS recorded at discharge
    return {k: v for k, v in record.items() if k in database.SETUP_FIELDS}


def setup_from_record(record: dict[str, object] | None, source: str = ""
                      ) -> SessionSetup | None:
    """A stored set-up (:func:`monitor.storage.database.load_setup`) back as a SessionSetup.

    ``None`` when there is none or it is not a complete, valid set-up.
    """
    if not record:
        return None
    names = {v: k for k, v in _RECORD_NAMES.items()}
    form = {names.get(k, k): v for k, v in record.items()
            if names.get(k, k) in SessionSetup.__dataclass_fields__}
    form["source"] = source
    try:
        return parse_setup(form)
    except SetupError as exc:
        log.warning("the saved set-up is incomplete (%s): the window uses defaults", exc)
        return None


def session_setup(pipeline: Pipeline) -> SessionSetup | None:
    """The set-up of the pipeline's session: the one just entered, or a resumed one's saved one.

    Reads the database (call it before the event loop).
    """
    if pipeline.resume is None:
        return setup_from_record(dict(pipeline.setup) if pipeline.setup else None,
                                 pipeline.driver.label)
    try:
        record = database.load_setup(pipeline.db_path, pipeline.resume)
    except Exception:
        log.exception("could not read the set-up of session %s", pipeline.resume)
        return None
    return setup_from_record(record, pipeline.driver.label)


def prepare_session(opts: GuiOptions, ask_resume: AskResume,
                    now: float | None = None,
                    ask_setup: AskSetup | None = None,
                    sink: Callable[[object], None] | None = None) -> tuple[Pipeline, Clock]:
    """Open storage, settle unfinished sessions, and build (not start) the pipeline.

    ``ask_resume(row, gap_seconds)`` is asked about the newest unfinished
    session; every other unfinished session is closed as interrupted. A new
    session (not a resumed one) asks ``ask_setup()`` for its set-up, which
    the pipeline saves with the session when it starts.

    Raises
    ------
    monitor.storage.database.StorageError
    SetupCancelled
        ``ask_setup`` returned ``None``; nothing was changed.
    """
    db = database.open_database(opts.data_dir, new_database=opts.new_database)
    resume = None
    unfinished = database.find_unfinished(db)
    if unfinished:
        newest = unfinished[-1]
        last = newest.last_data_at or newest.started_at
        wall = time.time() if now is None else now
        if ask_resume(newest, max(0.0, wall - last)):
            resume = newest.id
    record = None
    if resume is None and ask_setup is not None:
        setup = ask_setup()
        if setup is None:
            raise SetupCancelled
        record = setup_record(setup)
    if unfinished:
        for row in unfinished:
            if row.id != resume:
                database.mark_interrupted(db, row.id)
    start = time.time() if now is None else now
    if resume is not None:
        # An accelerated simulation runs ahead of the wall clock: continue after
        # the last recorded data so the record's times stay strictly increasing.
        start = max(start, (unfinished[-1].last_data_at or 0.0) + 1.0)
    clock: Clock = SimClock(start, opts.speed) if opts.simulated else RealClock()
    several = {"priority": opts.priority} if len(opts.drivers) > 1 else {}
    pipeline = Pipeline(opts.drivers if len(opts.drivers) > 1 else opts.driver, db, clock,
                        with_ui=True, resume=resume, stale_after=opts.stale_after,
                        profile=opts.profile, setup=record, sink=sink, **several)
    return pipeline, clock


def central_patient(opts: GuiOptions, setup: SessionSetup | None, data_dir: Path) -> str:
    """What the chair tells the central of its patient, as the clinic chose.

    ``pseudonym`` (the default): the export's stable HMAC pseudonym of the
    reference under the data folder's key, so the desk can tell patients apart
    without their reference on the network; ``reference``; ``none``.
    """
    ref = setup.patient_ref if setup is not None else ""
    if not ref or opts.central_patient == "none":
        return ""
    if opts.central_patient == "reference":
        return ref
    from monitor.export import ExportError, pseudonym_key
    from monitor.export.deidentification import pseudonym

    try:
        return pseudonym(ref, pseudonym_key(data_dir))
    except ExportError as exc:
        log.warning("central: no pseudonym for the patient (%s): none is sent", exc)
        return ""


def start_publisher(opts: GuiOptions, pipeline: Pipeline, clock: Clock,
                    setup: SessionSetup | None) -> ChairPublisher | None:
    """The chair's publisher to the central station, started (``None`` without ``--central``)."""
    if opts.central is None:
        return None
    config = replace(opts.central,
                     patient=central_patient(opts, setup, pipeline.db_path.parent))
    publisher = ChairPublisher(
        config, pipeline.inbox.put, session_now=clock.now,
        command=lambda cmd: pipeline.hub.notify(cmd) if pipeline.hub else None)
    publisher.start()
    return publisher


def _planned_min_hint(driver: Driver) -> object:
    """A simulated scenario's infusion minutes (the dialog's default), if it has them."""
    shape = getattr(getattr(driver, "scenario", None), "session", None)
    return getattr(shape, "infusion_min", None)


def _asker(opts: GuiOptions) -> AskSetup | None:
    """The "New session" dialog, set up for this source and profile (``None`` if turned off)."""
    if not opts.setup:
        return None
    from monitor.core.alarms.profile_file import load_default_profile
    from monitor.ui import application

    profile = opts.profile if opts.profile is not None else load_default_profile()
    driver, label, simulated = opts.driver, opts.label, opts.simulated
    return lambda: application.ask_setup(label, profile.name, simulated=simulated,
                                         planned_min=_planned_min_hint(driver))


def pick_source(chair_path: Path | None = None):  # type: ignore[no-untyped-def]
    """Ask the nurse for the chair's devices in a dialog; ``None`` if cancelled.

    The dialog lists the devices of the chair configuration ``chair_path``
    (``<data folder>/chair.toml`` by default) when it exists; what the nurse
    chooses is written back to it when "Remember" is ticked. Returns a
    :class:`monitor.acquisition.chair.ChairConfig` (the command line takes it).
    A file that cannot be read or written is told to the nurse, never fatal:
    the session can still start with the devices chosen.
    """
    from monitor.acquisition.chair import (
        ChairConfig,
        ChairConfigError,
        default_chair_path,
        load_chair_config,
        save_chair_config,
    )
    from monitor.ui import application
    from monitor.ui.workflow.chair_dialog import choose_chair

    application.create_application()
    path = Path(chair_path) if chair_path is not None else default_chair_path()
    config, problems = ChairConfig(), []
    if path.is_file():
        try:
            config, problems = load_chair_config(path, check=False)
        except ChairConfigError as exc:
            problems = [f"{exc}; the chair's devices must be set up again"]
    chosen = choose_chair(config, problems)
    if chosen is None:
        return None
    result, remember = chosen
    if remember:
        try:
            save_chair_config(result, path)
        except ChairConfigError as exc:
            application.show_warning("Chair not remembered",
                                     f"The devices are used for this session but could not "
                                     f"be remembered for the chair.\n\n{exc}")
    return result


def run_central_window(config, *, order: str = "urgency",  # type: ignore[no-untyped-def]
                       quit_after_s: float | None = None) -> int:
    """``infusion-monitor central``: the nurses' desk window until it is closed."""
    from PySide6 import QtCore

    from monitor.central.listener import CentralListener
    from monitor.ui import application
    from monitor.ui.central.window import CentralWindow

    app = application.create_application()
    restore = application.quit_on_signals(app)
    listener = CentralListener(config, lambda event: None)
    listener.start()
    try:
        window = CentralWindow(listener, order=order)
        window.showMaximized()
        if quit_after_s is not None:
            QtCore.QTimer.singleShot(int(quit_after_s * 1000), app.quit)
        return app.exec()
    finally:
        restore()
        listener.stop()


def review_command(db_path: Path) -> list[str]:
    """What the live window's "Review…" runs: the session browser on this recording's folder."""
    return [sys.executable, "-m", "monitor", "review", "--data-dir", str(db_path.parent)]


def run_gui(opts: GuiOptions, argv: list[str] | None = None,
            quit_after_s: float | None = None) -> int:
    """Show the monitoring window until it is closed. Returns the exit code."""
    from monitor.ui import application

    app = application.create_application(argv)
    restore_signals = application.quit_on_signals(app)
    publishers: list[ChairPublisher] = []

    def to_central(msg: object) -> None:
        for publisher in publishers:
            publisher.offer(msg)

    try:
        try:
            pipeline, clock = prepare_session(opts, application.ask_resume,
                                              ask_setup=_asker(opts), sink=to_central)
            setup = session_setup(pipeline)
            publisher = start_publisher(opts, pipeline, clock, setup)
            if publisher is not None:   # before the session starts: it sees it start
                publishers.append(publisher)
            pipeline.start()
        except SetupCancelled:
            log.info("new session cancelled at its set-up")
            return 0
        except database.StorageError as exc:
            application.show_fatal(f"Cannot start recording.\n\n{exc}")
            return 2
        assert pipeline.ui_queue is not None and pipeline.hub is not None
        hub = pipeline.hub
        code = application.run_live_view(app, clock, pipeline.ui_queue,
                                         simulated=opts.simulated,
                                         stale_after_s=opts.stale_after,
                                         quit_after_s=quit_after_s,
                                         alarm_state=hub.alarm_state.get,
                                         send_command=hub.notify,
                                         profile=hub.alarms.profile,
                                         setup=setup,
                                         review_command=review_command(pipeline.db_path))
    finally:
        restore_signals()
    pipeline.stop()
    if not pipeline.join(timeout=15):
        pipeline.abandon_unwritable()
        if not pipeline.join(timeout=5):
            log.error("acquisition threads did not stop")
    for publisher in publishers:
        publisher.stop()
    return code
