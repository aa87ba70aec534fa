"""The live view the nurse watches at the infusion chair.

:class:`LiveView` owns the widgets and the refresh loop. Its other parts
live next to it: the alarm wiring in :mod:`monitor.ui.live.view_alarms`, the
nurse's commands and refusals in :mod:`monitor.ui.live.view_commands` (both
mixed into the view) and the widget layout in :mod:`monitor.ui.live.view_layout`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from typing import Literal

from PySide6.QtCore import QPoint, QRect, Signal
from PySide6.QtGui import QCloseEvent, QShowEvent
from PySide6.QtWidgets import QMainWindow, QMessageBox, QWidget

from monitor.core.alarms.model import AlarmReminder, AlarmSnapshot
from monitor.core.alarms.profile import AlarmProfile
from monitor.core.clock import Clock
from monitor.core.queues import BoundedQueue
from monitor.core.reading import WaveChunk
from monitor.core.vitals import Vital
from monitor.core.workflow.messages import EventKind
from monitor.core.workflow.setup import DEFAULT_PLANNED_MIN, SessionSetup
from monitor.ui.alarms.bar import AlarmBarWidget
from monitor.ui.alarms.limits_dialog import AlarmLimitsDialog
from monitor.ui.alarms.log_list import AlarmLogWidget
from monitor.ui.alarms.sound import AlarmSoundPlayer
from monitor.ui.live.bridge import DrainBridge
from monitor.ui.live.header import HeaderWidget
from monitor.ui.live.keys_dialog import KeysDialog
from monitor.ui.live.model import LiveModel
from monitor.ui.live.nibp_tile import NibpTileWidget
from monitor.ui.live.pleth import PlethSweepWidget
from monitor.ui.live.review_launcher import ReviewLauncher
from monitor.ui.live.shortcuts import install_shortcuts
from monitor.ui.live.tile import VitalTileWidget
from monitor.ui.live.trends import TrendsWidget
from monitor.ui.live.view_alarms import _ALARM_LOG_TYPES, LiveAlarmsMixin, _active_alarms
from monitor.ui.live.view_commands import NurseCommandsMixin
from monitor.ui.live.view_layout import LARGE_TILES, SMALL_TILES, build_layout
from monitor.ui.shared import theme
from monitor.ui.workflow.events_bar import EventsBarWidget
from monitor.ui.workflow.events_list import EventsListWidget
from monitor.ui.workflow.manual_entry_dialog import ManualEntryDialog
from monitor.ui.workflow.model import SHARED_MESSAGES, WORKFLOW_MESSAGES, WorkflowModel
from monitor.ui.workflow.panel import WorkflowPanelWidget

log = logging.getLogger(__name__)

MAX_BATCH = 5000
"""Most queue items applied per refresh tick, so a flood cannot freeze the GUI."""

TEXTS_EVERY_S = 0.2
TEXTS_EVERY_TICKS = 5
"""With nothing new but pleth samples, the numerics, clocks, workflow strip and trends
are brought up to date on every fifth tick (every 0.2 s at 25 Hz), or sooner when the
session clock moved :data:`TEXTS_EVERY_S` seconds (a replay at speed).

The pleth and the alarm picture are updated on every tick, and everything else on
any tick that brings another message or a new alarm picture. What changes with time
alone (a clock's second, a value going stale, an NIBP age) is shown at most this
late; each pass costs about as much as the rest of a tick, so at 25 Hz most of the
window's CPU went to finding nothing changed.
"""

_SHORTCUT_TARGETS: dict[str, tuple[str, str]] = {
    "note": ("events_bar", "focus_note"),
    "manual": ("", "open_manual_entry"),
    "start": ("workflow_panel", "request_start"),
    "pause": ("workflow_panel", "request_pause_resume"),
    "stop": ("workflow_panel", "request_stop"),
    "end": ("workflow_panel", "request_end"),
    "events": ("events_bar", "toggle_events"),
    "keys": ("", "show_keys"),
    "review": ("review", "open"),
}
"""Shortcut action (see :mod:`monitor.ui.live.shortcuts`) -> (view attribute, method name)."""


class LiveView(LiveAlarmsMixin, NurseCommandsMixin, QMainWindow):
    """Big numerics, pleth sweep, session trends and status for one chair.

    A timer (:class:`~monitor.ui.live.bridge.DrainBridge`) calls :meth:`drain`
    ``refresh_hz`` times a second. It starts when the view is first shown,
    or earlier with :meth:`start`; :meth:`stop` (or closing the window)
    stops it, and a stopped view is not restarted by showing it again. Each
    call applies a bounded batch of queue items to a Qt-free
    :class:`~monitor.ui.live.model.LiveModel` and then updates the widgets
    for the clock's ``now``, so stale values turn to ``---`` even when no
    data arrives.

    Alarms: on every tick the view reads the newest alarm picture
    (``alarm_state()``, never the droppable queue) and shows it on the alarm
    bar, the tiles and the trend limit lines, and tells the speaker what to
    sound. Alarm messages from the queue go to the alarm log panel (opened
    from the bar); reminders play the reminder tone. The nurse's actions
    (acknowledge, audio pause (also the Space bar), limits dialog) become
    commands for ``send_command`` (see
    :class:`~monitor.ui.live.view_alarms.LiveAlarmsMixin` and
    :class:`~monitor.ui.live.view_commands.NurseCommandsMixin`).

    Parameters
    ----------
    clock : Clock
        The session clock; "now" always comes from ``clock.now()``.
    ui_queue : BoundedQueue
        Hub messages (readings, wave chunks, events).
    simulated : bool
        Show the "SIMULATED DATA" banner.
    stale_after_s : float
        A continuous vital with no valid reading for this long shows ``---``.
    nibp_grey_after_s : float
        An NIBP determination older than this turns grey.
    refresh_hz : float
        Drain/redraw rate.
    alarm_state : callable or None
        Returns the newest :class:`AlarmSnapshot` (``hub.alarm_state.get``);
        ``None``: no alarm system (the bar says so).
    send_command : callable or None
        Sends an operator command to the alarm engine (``hub.notify``).
    profile : AlarmProfile or None
        The alarm profile in force, for the limits dialog; replaced by the
        engine's own on every new alarm snapshot.
    sound : AlarmSoundPlayer, False or None
        The speaker. ``None`` creates one when there is an alarm system;
        ``False`` runs silent (tests).
    setup : SessionSetup or None
        The session's set-up (planned infusion time, responsible clinician);
        ``None``: 40 min planned, no clinician known.
    review_command : sequence of str or None
        What the "Review…" button runs (:func:`monitor.app.review_command`);
        ``None``: the button says review is not available here.
    parent : QWidget or None

    Attributes
    ----------
    model : LiveModel
    tiles : dict[Vital, VitalTileWidget]
        HR, SpO2, PR, RR and EtCO2.
    nibp_tile : NibpTileWidget
    header : HeaderWidget
    pleth : PlethSweepWidget
    trends : TrendsWidget
    alarm_bar : AlarmBarWidget
    alarm_log : AlarmLogWidget
        Hidden until the bar's "Alarm log" button opens it.
    sound : AlarmSoundPlayer or None
    profile : AlarmProfile or None
    limits_dialog : AlarmLimitsDialog or None
        The dialog while it is open.
    workflow : WorkflowModel
        The session's shape (phases, infusion timer, events) from the hub's messages.
    workflow_panel : WorkflowPanelWidget
        Baseline and start gate, infusion timer, recovery and discharge.
    events_bar : EventsBarWidget
        One-click events, the note field, the nurse's initials, manual entry, keys.
    events_list : EventsListWidget
        Hidden until the bar's "Events" button (or Ctrl+L) opens it in
        place of the pleth and trends.
    manual_dialog : ManualEntryDialog or None
    keys_dialog : KeysDialog or None

    The nurse's workflow commands (events, corrections, infusion actions,
    manual entries, end of session) go to ``send_command`` too; the hub's
    replies (recorded events, infusion changes, refusals) come back on the
    queue and update :attr:`workflow`. Keyboard shortcuts are listed in
    :mod:`monitor.ui.live.shortcuts` (F12 or "?" shows them).

    Signals
    -------
    refreshed(int)
        After every :meth:`drain`, with the number of queue items handled.
    """

    refreshed = Signal(int)

    def __init__(self, clock: Clock, ui_queue: BoundedQueue, *, simulated: bool,
                 stale_after_s: float = 10.0, nibp_grey_after_s: float = 900.0,
                 refresh_hz: float = 25.0,
                 alarm_state: Callable[[], AlarmSnapshot | None] | None = None,
                 send_command: Callable[[object], None] | None = None,
                 profile: AlarmProfile | None = None,
                 sound: AlarmSoundPlayer | Literal[False] | None = None,
                 setup: SessionSetup | None = None,
                 review_command: Sequence[str] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Infusion Monitor" + (" \u2014 SIMULATED" if simulated else ""))
        self.setStyleSheet(theme.STYLE_SHEET)
        self.setMinimumSize(1024, 640)
        self._clock = clock
        self._queue = ui_queue
        self._simulated = simulated
        self.model = LiveModel(stale_after_s, nibp_grey_after_s)
        self.header = HeaderWidget(simulated)
        self.header.set_setup(setup)
        self.tiles: dict[Vital, VitalTileWidget] = {
            v: VitalTileWidget(v, large=v in LARGE_TILES) for v in LARGE_TILES + SMALL_TILES}
        self.nibp_tile = NibpTileWidget()
        self.pleth = PlethSweepWidget(self.model.sweep, stale_after_s)
        self.trends = TrendsWidget(self.model)
        self.alarm_bar = AlarmBarWidget()
        self.alarm_log = AlarmLogWidget()
        self.workflow = WorkflowModel(
            setup.planned_infusion_s if setup is not None else DEFAULT_PLANNED_MIN * 60.0,
            clinician=setup.clinician if setup is not None else "",
            stale_after_s=stale_after_s)
        if profile is not None:
            self.workflow.use_profile(profile)
        self.setup = setup
        self.events_bar = EventsBarWidget()
        self.review = ReviewLauncher(review_command, self)
        self.review.failed.connect(self._on_review_failed)
        self.workflow_panel = WorkflowPanelWidget(self.workflow, clock.now,
                                                  self.events_bar.initials)
        self.events_list = EventsListWidget(clock.now, self.events_bar.initials)
        self.manual_dialog: ManualEntryDialog | None = None
        self.keys_dialog: KeysDialog | None = None
        self._events_version = -1
        self._alarm_state = alarm_state
        self._send_command = send_command
        self.profile = profile
        self.limits_dialog: AlarmLimitsDialog | None = None
        self.refusal_box: QMessageBox | None = None
        self._snapshot: AlarmSnapshot | None | Literal[False] = False  # False: none shown yet
        self._ended_shown = False
        self._owns_sound = sound is None and alarm_state is not None
        self.sound: AlarmSoundPlayer | None = (
            AlarmSoundPlayer(self) if self._owns_sound else (sound if sound else None))
        self._left_stack, self._trend_stack = build_layout(self)
        self._connect_alarms()
        self._connect_workflow()
        self._bridge = DrainBridge(self.drain, refresh_hz, self)
        self._autostart = True
        self._texts_at = -math.inf       # session time of the last full update
        self._texts_skipped = 0          # ticks since then
        self._texts_snapshot: object = False
        self._data_moved = True          # a message other than pleth samples came
        self._update_widgets(clock.now())
        self._update_alarms(clock.now())

    def _connect_workflow(self) -> None:
        for widget in (self.workflow_panel, self.events_bar, self.events_list):
            widget.command_issued.connect(self._on_workflow_command)
        self.events_bar.manual_entry_requested.connect(self.open_manual_entry)
        self.events_bar.events_toggled.connect(self._on_events_toggled)
        self.events_bar.keys_requested.connect(self.show_keys)
        self.events_bar.review_requested.connect(self.review.open)
        self.events_bar.initials_needed.connect(self._on_initials_needed)
        events = [f"event:{k.value}" for k in EventKind if k is not EventKind.NOTE]
        self.shortcuts = install_shortcuts(self, self._on_shortcut,
                                           [*events, *_SHORTCUT_TARGETS])

    def _on_shortcut(self) -> None:
        # Handlers are looked up by name, never stored as bound methods on the
        # view: such a cycle would keep the window alive past the QApplication.
        action = self.sender().objectName()
        if action.startswith("event:"):
            self.events_bar.record(EventKind(action.removeprefix("event:")))
            return
        target = _SHORTCUT_TARGETS.get(action)
        if target is not None:
            owner, method = target
            getattr(getattr(self, owner) if owner else self, method)()

    # -- the refresh loop -------------------------------------------------------

    def start(self) -> None:
        """Start draining the queue at ``refresh_hz``."""
        self._autostart = False
        self._snapshot = False  # show the alarm picture afresh (restarts the flashing)
        self._bridge.start()

    def stop(self) -> None:
        """Stop the refresh and flash timers and silence the speaker.

        The view keeps showing what it has.
        """
        self._autostart = False
        self._bridge.stop()
        self.alarm_bar.stop()
        if self.sound is not None:
            self.sound.set_sounding(None)

    def is_running(self) -> bool:
        """Whether the refresh timer is running."""
        return self._bridge.is_active()

    def drain(self) -> int:
        """Apply up to :data:`MAX_BATCH` queued items and update every widget.

        Returns the number of queue items handled.
        """
        items = self._queue.drain(MAX_BATCH)
        for item in items:
            if type(item) is not WaveChunk:
                self._data_moved = True
            try:
                if isinstance(item, (*_ALARM_LOG_TYPES, AlarmReminder)):
                    self._on_alarm_message(item)
                elif isinstance(item, WORKFLOW_MESSAGES):
                    self.workflow.apply(item)
                else:
                    self.model.apply(item)
            except Exception:  # noqa: BLE001 -- one bad message must not blank the monitor
                log.exception("live view could not apply %r", type(item).__name__)
            if isinstance(item, SHARED_MESSAGES):
                try:
                    self.workflow.apply(item)
                except Exception:  # noqa: BLE001 -- nor stop the vitals
                    log.exception("workflow panel could not apply %r", type(item).__name__)
        now = self._clock.now()
        dropped = self._queue.take_dropped()
        if dropped:
            self._data_moved = True
        self.model.note_dropped(dropped, now)
        self._update_widgets(now)
        self._update_alarms(now)
        self.refreshed.emit(len(items))
        return len(items)

    def _texts_due(self, now: float) -> bool:
        """Whether this tick updates more than the pleth (see :data:`TEXTS_EVERY_S`)."""
        due = (self._data_moved or self._snapshot is not self._texts_snapshot
               or self._texts_skipped + 1 >= TEXTS_EVERY_TICKS
               or not 0.0 <= now - self._texts_at < TEXTS_EVERY_S)
        if due:
            self._texts_at, self._texts_snapshot, self._data_moved = now, self._snapshot, False
            self._texts_skipped = 0
        else:
            self._texts_skipped += 1
        return due

    def _update_widgets(self, now: float) -> None:
        self.pleth.refresh(now, ended=self.model.ended_at is not None)
        if not self._texts_due(now):
            return
        demo = self.model.demo_banner()
        self.header.set_simulated(self._simulated or self.model.simulated_source or bool(demo),
                                  self.model.banner or demo)
        self.header.show_state(self.model, now)
        for vital, tile in self.tiles.items():
            tile.set_state(self.model.tile_state(vital, now))
        self.nibp_tile.set_state(self.model.nibp_state(now))
        self.trends.refresh(now)
        self._update_workflow(now)

    def _update_workflow(self, now: float) -> None:
        workflow = self.workflow
        self.workflow_panel.show_state(workflow.state(now, _active_alarms(self._snapshot)), now)
        if workflow.events_version != self._events_version:
            self._events_version = workflow.events_version
            rows = workflow.events()
            self.events_list.set_rows(rows, self.model.origin)
            self.events_bar.set_event_count(len(rows))
            self.trends.set_events(rows)
        for refusal in workflow.take_refusals():
            self._show_refusal(refusal.message, "Not done")

    # -- the window ---------------------------------------------------------------

    def _on_events_toggled(self, shown: bool) -> None:
        self._left_stack.setCurrentWidget(self.events_list if shown else self.pleth.parentWidget())

    def dialog_area(self) -> QRect:
        """Where this window's dialogs sit, in global coordinates.

        Over the pleth and trends (or the events list) and the events bar:
        never over the header, the alarm bar, the workflow strip or the
        numeric tiles (see :mod:`monitor.ui.shared.placement`).
        """
        area = QRect(self._left_stack.mapToGlobal(QPoint(0, 0)), self._left_stack.size())
        bar = self.events_bar
        return area.united(QRect(bar.mapToGlobal(QPoint(0, 0)), bar.size()))

    def _on_review_failed(self, why: str) -> None:
        self._show_refusal(why, "Review not opened")

    def show_keys(self) -> None:
        """Show the list of keyboard shortcuts (F12, "?", or the "Keys" button)."""
        if self.keys_dialog is None:
            self.keys_dialog = KeysDialog(self)
        if self.keys_dialog.isVisible():
            self.keys_dialog.raise_()
            self.keys_dialog.activateWindow()
        else:
            self.keys_dialog.show()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        if self._autostart:  # a view on screen must refresh, unless told otherwise
            self.start()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt override)
        self.stop()
        if self._owns_sound and self.sound is not None:
            self.sound.close()
        super().closeEvent(event)
