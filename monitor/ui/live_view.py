"""The live view the nurse watches at the infusion chair."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Literal

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from monitor.core.alarms.model import (
    Acknowledge,
    AlarmAction,
    AlarmEntry,
    AlarmKind,
    AlarmReminder,
    AlarmSnapshot,
    AlarmTransition,
    AudioOutput,
    LimitChanged,
    PauseAudio,
    ResumeAudio,
)
from monitor.core.alarms.profile import AlarmProfile
from monitor.core.clock import Clock
from monitor.core.queues import BoundedQueue
from monitor.core.vitals import NIBP_VITALS, Vital
from monitor.core.workflow.messages import EventKind
from monitor.core.workflow.setup import DEFAULT_PLANNED_MIN, SessionSetup
from monitor.ui import theme
from monitor.ui.alarm_bar import AlarmBarWidget
from monitor.ui.alarm_limits_dialog import AlarmLimitsDialog
from monitor.ui.alarm_log import AlarmLogWidget
from monitor.ui.alarm_sound import AlarmSoundPlayer
from monitor.ui.bridge import DrainBridge
from monitor.ui.dialog_style import DIALOG_STYLE
from monitor.ui.events_bar import EventsBarWidget
from monitor.ui.events_list import EventsListWidget
from monitor.ui.header import HeaderWidget
from monitor.ui.keys_dialog import KeysDialog
from monitor.ui.live_model import LiveModel
from monitor.ui.manual_entry_dialog import ManualEntryDialog
from monitor.ui.nibp_tile import NibpTileWidget
from monitor.ui.pleth import PlethSweepWidget
from monitor.ui.shortcuts import install_shortcuts
from monitor.ui.tile import VitalTileWidget
from monitor.ui.trends import TrendsWidget
from monitor.ui.workflow_model import SHARED_MESSAGES, WORKFLOW_MESSAGES, WorkflowModel
from monitor.ui.workflow_panel import WorkflowPanelWidget
from monitor.ui.workflow_text import command_text

log = logging.getLogger(__name__)

MAX_BATCH = 5000
"""Most queue items applied per refresh tick, so a flood cannot freeze the GUI."""

LARGE_TILES = (Vital.HR, Vital.SPO2)
SMALL_TILES = (Vital.PULSE_RATE, Vital.RESP_RATE, Vital.ETCO2)

LOG_HEIGHT = 200
"""Height of the alarm log when it is opened (the splitter lets the nurse change it)."""

_ALARM_LOG_TYPES = (AlarmTransition, AlarmAction, LimitChanged)
_ALWAYS_SENT = (ResumeAudio, AudioOutput)
"""Sent even after the session ended: sound back on, the speaker's state (no record)."""

_SHORTCUT_TARGETS: dict[str, tuple[str, str]] = {
    "note": ("events_bar", "focus_note"),
    "manual": ("", "open_manual_entry"),
    "start": ("workflow_panel", "request_start"),
    "pause": ("workflow_panel", "request_pause_resume"),
    "stop": ("workflow_panel", "request_stop"),
    "end": ("workflow_panel", "request_end"),
    "events": ("events_bar", "toggle_events"),
    "keys": ("", "show_keys"),
}
"""Shortcut action (see :mod:`monitor.ui.shortcuts`) -> (view attribute, method name)."""


def _active_alarms(snapshot: AlarmSnapshot | None | Literal[False]) -> int:
    """Physiological alarms whose condition is active (a discharge criterion)."""
    if not snapshot:
        return 0
    return sum(1 for a in snapshot.alarms if a.active and a.kind is AlarmKind.PHYSIOLOGICAL)


def _entry_for(snapshot: AlarmSnapshot, vitals: tuple[Vital, ...]) -> AlarmEntry | None:
    """The most urgent physiological alarm naming one of ``vitals``."""
    for entry in snapshot.alarms:
        if entry.kind is AlarmKind.PHYSIOLOGICAL and entry.vital in vitals:
            return entry
    return None


class LiveView(QMainWindow):
    """Big numerics, pleth sweep, session trends and status for one chair.

    A timer (:class:`~monitor.ui.bridge.DrainBridge`) calls :meth:`drain`
    ``refresh_hz`` times a second. It starts when the view is first shown,
    or earlier with :meth:`start`; :meth:`stop` (or closing the window)
    stops it, and a stopped view is not restarted by showing it again. Each
    call applies a bounded batch of queue items to a Qt-free
    :class:`~monitor.ui.live_model.LiveModel` and then updates the widgets
    for the clock's ``now``, so stale values turn to ``---`` even when no
    data arrives.

    Alarms: on every tick the view reads the newest alarm picture
    (``alarm_state()``, never the droppable queue) and shows it on the alarm
    bar, the tiles and the trend limit lines, and tells the speaker what to
    sound. Alarm messages from the queue go to the alarm log panel (opened
    from the bar); reminders play the reminder tone. The nurse's actions
    (acknowledge, audio pause (also the Space bar), limits dialog) become
    commands for ``send_command``.

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
    :mod:`monitor.ui.shortcuts` (F12 or "?" shows them).

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
        self._build_layout()
        self._connect_alarms()
        self._connect_workflow()
        self._bridge = DrainBridge(self.drain, refresh_hz, self)
        self._autostart = True
        self._update_widgets(clock.now())
        self._update_alarms(clock.now())

    def _build_layout(self) -> None:
        root = QWidget()
        root.setObjectName("live_root")
        # The workflow and events go in the left column, so the numerics on
        # the right keep the whole height.
        # The events list, when opened, takes the place of the pleth and trends.
        waves = QWidget()
        waves_column = QVBoxLayout(waves)
        waves_column.setContentsMargins(0, 0, 0, 0)
        waves_column.setSpacing(6)
        waves_column.addWidget(self.pleth, 1)
        waves_column.addWidget(self.trends, 6)
        self._left_stack = QStackedWidget()
        self._left_stack.addWidget(waves)
        self._left_stack.addWidget(self.events_list)
        left = QVBoxLayout()
        left.setSpacing(6)
        left.addWidget(self.workflow_panel)
        left.addWidget(self._left_stack, 1)
        left.addWidget(self.events_bar)
        big_row = QHBoxLayout()
        big_row.setSpacing(6)
        for vital in LARGE_TILES:
            big_row.addWidget(self.tiles[vital])
        small_row = QHBoxLayout()
        small_row.setSpacing(6)
        for vital in SMALL_TILES:
            small_row.addWidget(self.tiles[vital])
        right = QVBoxLayout()
        right.setSpacing(6)
        right.addLayout(big_row, 5)
        right.addWidget(self.nibp_tile, 4)
        right.addLayout(small_row, 3)
        body_widget = QWidget()
        body = QHBoxLayout(body_widget)
        body.setContentsMargins(0, 0, 0, 0)
        body.setSpacing(8)
        body.addLayout(left, 11)
        body.addLayout(right, 9)
        self._splitter = QSplitter(Qt.Orientation.Vertical)
        self._splitter.setChildrenCollapsible(False)
        self._splitter.addWidget(body_widget)
        self._splitter.addWidget(self.alarm_log)
        self._splitter.setStretchFactor(0, 1)
        self._splitter.setStretchFactor(1, 0)
        self.alarm_log.hide()
        column = QVBoxLayout(root)
        column.setContentsMargins(6, 4, 6, 6)
        column.setSpacing(6)
        column.addWidget(self.header)
        column.addWidget(self.alarm_bar)
        column.addWidget(self._splitter, 1)
        self.setCentralWidget(root)

    def _connect_alarms(self) -> None:
        bar = self.alarm_bar
        bar.acknowledge_clicked.connect(self._on_acknowledge)
        bar.audio_pause_clicked.connect(self._on_audio_pause)
        bar.audio_resume_clicked.connect(self._on_audio_resume)
        bar.limits_clicked.connect(self._on_limits)
        bar.log_toggled.connect(self._on_log_toggled)
        bar.flash_ticked.connect(self._on_flash_ticked)
        # Space pauses the alarm sound while this window is active (a dialog
        # keeps its own Space for its buttons and check boxes).
        self._space = QShortcut(QKeySequence(Qt.Key.Key_Space), self)
        self._space.setContext(Qt.ShortcutContext.WindowShortcut)
        self._space.activated.connect(self._on_space)
        if self.sound is not None:
            self.sound.audio_failed.connect(self._on_audio_failed)

    def _connect_workflow(self) -> None:
        for widget in (self.workflow_panel, self.events_bar, self.events_list):
            widget.command_issued.connect(self._on_workflow_command)
        self.events_bar.manual_entry_requested.connect(self.open_manual_entry)
        self.events_bar.events_toggled.connect(self._on_events_toggled)
        self.events_bar.keys_requested.connect(self.show_keys)
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
        self.model.note_dropped(self._queue.take_dropped(), now)
        self._update_widgets(now)
        self._update_alarms(now)
        self.refreshed.emit(len(items))
        return len(items)

    def _update_widgets(self, now: float) -> None:
        self.header.set_simulated(self._simulated or self.model.simulated_source)
        self.header.show_state(self.model, now)
        for vital, tile in self.tiles.items():
            tile.set_state(self.model.tile_state(vital, now))
        self.nibp_tile.set_state(self.model.nibp_state(now))
        self.pleth.refresh(now, ended=self.model.ended_at is not None)
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

    # -- alarms -----------------------------------------------------------------

    def _update_alarms(self, now: float) -> None:
        """Show the newest alarm picture; the widgets are only touched when it changed."""
        snapshot = self._alarm_state() if self._alarm_state is not None else None
        ended = self.model.ended_at is not None
        if ended:
            snapshot = None   # nothing is monitored: nothing shown, flashing or sounding
        if snapshot is not self._snapshot or ended != self._ended_shown:
            self._snapshot, self._ended_shown = snapshot, ended
            if snapshot is not None and snapshot.profile is not None:
                self.profile = snapshot.profile   # the engine's limits, never a stale copy
                self.workflow.use_profile(snapshot.profile)
            self.alarm_bar.set_snapshot(snapshot, connected=self._alarm_state is not None,
                                        ended=ended)
            self.alarm_bar.limits_button.setEnabled(
                self._alarm_state is not None and self.profile is not None and not ended)
            t = self.alarm_bar.flash_time()
            for vital, tile in self.tiles.items():
                tile.set_alarm(None if snapshot is None else _entry_for(snapshot, (vital,)), t)
            self.nibp_tile.set_alarm(
                None if snapshot is None else _entry_for(snapshot, NIBP_VITALS), t)
            if not ended:   # an ended session's trends keep the limits it had
                self.trends.set_limits({} if snapshot is None else snapshot.limits)
        self.alarm_bar.show_time(now)
        if self.sound is not None:
            self.sound.set_sounding(None if snapshot is None else snapshot.sounding)

    def _on_alarm_message(self, msg: object) -> None:
        if isinstance(msg, AlarmReminder):
            if self.sound is not None:
                self.sound.play_reminder()
            return
        assert isinstance(msg, _ALARM_LOG_TYPES)
        self.alarm_log.add(msg)
        if isinstance(msg, AlarmAction) and msg.action == "refused":
            self._show_refusal(msg.detail, "Alarm settings not changed")

    def _show_refusal(self, detail: str, title: str) -> None:
        """Tell the nurse an action was refused (non-modal; the record keeps it too)."""
        if self.refusal_box is not None:
            self.refusal_box.close()
        box = QMessageBox(QMessageBox.Icon.Warning, title,
                          detail[:1].upper() + detail[1:], QMessageBox.StandardButton.Ok, self)
        box.setStyleSheet(DIALOG_STYLE)   # the window's light text on the dialogs' dark ground
        box.setWindowModality(Qt.WindowModality.NonModal)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(self._on_refusal_closed)
        self.refusal_box = box
        box.show()

    def _on_refusal_closed(self) -> None:
        self.refusal_box = None

    def _on_flash_ticked(self, t: float) -> None:
        for tile in self.tiles.values():
            tile.show_flash(t)
        self.nibp_tile.show_flash(t)

    def _send(self, command: object) -> None:
        if self._send_command is None:
            log.warning("not connected to the hub: %r not sent", type(command).__name__)
            return
        if self.model.ended_at is not None and not isinstance(command, _ALWAYS_SENT):
            # The hub has closed the session: a command would go nowhere. Say so.
            self._show_refusal(f"{self.model.ended_text()}. {command_text(command)} was not done "
                               "and is not in the record.", "Session ended")
            return
        self._send_command(command)

    def _paused(self) -> bool:
        snapshot = self._snapshot
        return bool(snapshot) and snapshot.audio_paused_until is not None  # type: ignore[union-attr]

    def _who(self) -> str:
        """The nurse's initials; when there are none, ask for them (the action is not sent)."""
        who = self.events_bar.initials()
        if not who:
            self.events_bar.ask_initials()
        return who

    def _on_initials_needed(self) -> None:
        self._show_refusal("Enter your initials in the Nurse field first: who did it is "
                           "recorded for every action.", "Initials needed")

    def _on_acknowledge(self) -> None:
        if who := self._who():
            self._send(Acknowledge(by=who))

    def _on_audio_pause(self) -> None:
        if who := self._who():
            self._send(PauseAudio(by=who))

    def _on_audio_resume(self) -> None:
        self._send(ResumeAudio(by=self.events_bar.initials()))   # sound back on: never held up

    def _on_space(self) -> None:
        """Space pauses the sound; while paused it does nothing (the button resumes)."""
        if self._alarm_state is not None and not self._paused() and (who := self._who()):
            self._send(PauseAudio(by=who))

    def _on_audio_failed(self, reason: str) -> None:
        self.alarm_bar.set_sound_ok(False)
        self._send(AudioOutput(False, reason))

    def _on_log_toggled(self, shown: bool) -> None:
        self.alarm_log.setVisible(shown)
        if shown:
            total = sum(self._splitter.sizes())
            self._splitter.setSizes([max(0, total - LOG_HEIGHT), LOG_HEIGHT])

    def _on_events_toggled(self, shown: bool) -> None:
        self._left_stack.setCurrentWidget(self.events_list if shown else self.pleth.parentWidget())

    # -- the nurse's workflow ------------------------------------------------------

    def _on_workflow_command(self, command: object) -> None:
        who = getattr(command, "by", "") or getattr(command, "author", "")
        if isinstance(who, str) and who.strip():
            self.events_bar.remember_initials(who)
        elif not self._who():   # every action records who did it: ask, send nothing
            return
        else:
            field = "author" if hasattr(command, "author") else "by"
            command = replace(command, **{field: self.events_bar.initials()})
        self._send(command)

    def open_manual_entry(self) -> None:
        """Open the manual-entry dialog (Ctrl+M, or the events bar's button)."""
        if self.manual_dialog is not None:
            self.manual_dialog.raise_()
            self.manual_dialog.activateWindow()
            return
        dialog = ManualEntryDialog(self.events_bar.initials(), parent=self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.entry_made.connect(self._on_workflow_command)
        dialog.finished.connect(self._on_manual_closed)
        self.manual_dialog = dialog
        dialog.open()  # window-modal, never a nested event loop

    def _on_manual_closed(self) -> None:
        self.manual_dialog = None

    def show_keys(self) -> None:
        """Show the list of keyboard shortcuts (F12, "?", or the "Keys" button)."""
        if self.keys_dialog is None:
            self.keys_dialog = KeysDialog(self)
        if self.keys_dialog.isVisible():
            self.keys_dialog.raise_()
            self.keys_dialog.activateWindow()
        else:
            self.keys_dialog.show()

    def _on_limits(self) -> None:
        if self.limits_dialog is not None:
            self.limits_dialog.raise_()
            self.limits_dialog.activateWindow()
            return
        if self.profile is None:
            log.warning("no alarm profile: the limits dialog cannot open")
            return
        off = self._snapshot.vitals_off if self._snapshot else ()
        dialog = AlarmLimitsDialog(self.profile, vitals_off=off, parent=self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.commands_issued.connect(self._on_limit_commands)
        dialog.finished.connect(self._on_limits_closed)
        self.limits_dialog = dialog
        dialog.open()  # window-modal, never a nested event loop

    def _on_limit_commands(self, commands: list) -> None:
        for command in commands:
            self._send(command)

    def _on_limits_closed(self) -> None:
        self.limits_dialog = None

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        if self._autostart:  # a view on screen must refresh, unless told otherwise
            self.start()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt override)
        self.stop()
        if self._owns_sound and self.sound is not None:
            self.sound.close()
        super().closeEvent(event)
