"""The live view's alarm wiring: the alarm picture on the widgets and the nurse's alarm actions.

:class:`LiveAlarmsMixin` is mixed into :class:`~monitor.ui.live.view.LiveView`.
On every tick it shows the newest alarm picture on the alarm bar, the tiles
and the trend limit lines and tells the speaker what to sound; it logs the
queue's alarm messages, and turns the alarm bar's buttons (acknowledge, audio
pause and resume, limits dialog, alarm log) and the Space bar into commands.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QStackedWidget

from monitor.core.alarms.coverage import alarms_off
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
    Priority,
    ResumeAudio,
)
from monitor.core.alarms.profile import AlarmProfile
from monitor.core.vitals import NIBP_VITALS, Vital
from monitor.ui.alarms.bar import AlarmBarWidget
from monitor.ui.alarms.limits_dialog import AlarmLimitsDialog
from monitor.ui.alarms.log_list import AlarmLogWidget
from monitor.ui.alarms.sound import AlarmSoundPlayer
from monitor.ui.live.model import LiveModel
from monitor.ui.live.nibp_tile import NibpTileWidget
from monitor.ui.live.tile import VitalTileWidget
from monitor.ui.live.tile_limits import tile_limit_texts
from monitor.ui.live.trends import TrendsWidget
from monitor.ui.workflow.events_bar import EventsBarWidget
from monitor.ui.workflow.model import WorkflowModel

log = logging.getLogger("monitor.ui.live.view")   # the view's logger, as before

_ALARM_LOG_TYPES = (AlarmTransition, AlarmAction, LimitChanged)


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


def _limits_vital(tile: VitalTileWidget) -> Vital:
    """Whose limits a tile shows: its own vital's, or the heart rate's for the pulse rate
    in the HR place (with no ECG the pulse rate raises the heart-rate alarms)."""
    shown = tile.shown_vital()
    return Vital.HR if tile.vital is Vital.HR and shown is Vital.PULSE_RATE else shown


def _alarming(snapshot: AlarmSnapshot | None) -> dict[Vital, Priority]:
    """The vitals in an active physiological alarm, at its highest priority."""
    out: dict[Vital, Priority] = {}
    for entry in () if snapshot is None else snapshot.alarms:
        if entry.kind is AlarmKind.PHYSIOLOGICAL and entry.active and entry.vital is not None:
            out[entry.vital] = max(out.get(entry.vital, entry.priority), entry.priority)
    return out


class LiveAlarmsMixin:
    """The alarm picture and the alarm bar's actions of the live view.

    Mixed in before ``QMainWindow``; the view creates the attributes below
    and calls :meth:`_connect_alarms` once its layout is built.
    """

    model: LiveModel
    tiles: dict[Vital, VitalTileWidget]
    nibp_tile: NibpTileWidget
    trends: TrendsWidget
    alarm_bar: AlarmBarWidget
    alarm_log: AlarmLogWidget
    workflow: WorkflowModel
    events_bar: EventsBarWidget
    sound: AlarmSoundPlayer | None
    profile: AlarmProfile | None
    limits_dialog: AlarmLimitsDialog | None
    _alarm_state: Callable[[], AlarmSnapshot | None] | None
    _snapshot: AlarmSnapshot | None | Literal[False]
    _ended_shown: bool
    _trend_stack: QStackedWidget

    if TYPE_CHECKING:   # from NurseCommandsMixin (monitor.ui.live.view_commands)
        def _send(self, command: object) -> None: ...

        def _who(self) -> str: ...

        def _show_refusal(self, detail: str, title: str) -> None: ...

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
            for tile in self.tiles.values():   # the alarms of the vital the tile shows
                tile.set_alarm(None if snapshot is None
                               else _entry_for(snapshot, (tile.shown_vital(),)), t)
            self.nibp_tile.set_alarm(
                None if snapshot is None else _entry_for(snapshot, NIBP_VITALS), t)
            limits = {} if snapshot is None else snapshot.limits
            off = () if snapshot is None else snapshot.vitals_off
            for tile in self.tiles.values():
                tile.set_limit_texts(tile_limit_texts((_limits_vital(tile),), limits, off))
            self.nibp_tile.set_limit_texts(tile_limit_texts(NIBP_VITALS, limits, off))
            if not ended:   # an ended session's trends keep the limits it had
                self.trends.set_limits(limits, _alarming(snapshot))
        self._show_bells(snapshot)
        self.alarm_bar.show_time(now)
        if self.sound is not None:
            self.sound.set_sounding(None if snapshot is None else snapshot.sounding)

    def _show_bells(self, snapshot: AlarmSnapshot | None) -> None:
        """The crossed bell on each tile whose vital raises no alarm (worked out on a change)."""
        rest = (self.model.measures, tuple(tile.shown_vital() for tile in self.tiles.values()))
        shown = getattr(self, "_bells_shown", None)
        if shown is not None and shown[0] is snapshot and shown[1] == rest:
            return
        self._bells_shown = (snapshot, rest)
        profile = snapshot.profile if snapshot is not None else None
        off = snapshot.vitals_off if snapshot is not None else ()
        measures = self.model.measures
        for tile in self.tiles.values():
            tile.set_alarms_off(profile is not None and alarms_off(
                tile.shown_vital(), profile, off, measures))
        self.nibp_tile.set_alarms_off(profile is not None and any(
            alarms_off(v, profile, off, measures) for v in (Vital.NIBP_SYS, Vital.NIBP_DIA)))

    def _on_alarm_message(self, msg: object) -> None:
        if isinstance(msg, AlarmReminder):
            if self.sound is not None:
                self.sound.play_reminder()
            return
        assert isinstance(msg, _ALARM_LOG_TYPES)
        self.alarm_log.add(msg)
        if isinstance(msg, AlarmAction) and msg.action == "refused":
            self._show_refusal(msg.detail, "Alarm settings not changed")

    def _on_flash_ticked(self, t: float) -> None:
        for tile in self.tiles.values():
            tile.show_flash(t)
        self.nibp_tile.show_flash(t)

    def _paused(self) -> bool:
        snapshot = self._snapshot
        return bool(snapshot) and snapshot.audio_paused_until is not None  # type: ignore[union-attr]

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
        self._trend_stack.setCurrentWidget(self.alarm_log if shown else self.trends)

    # -- the alarm limits dialog ------------------------------------------------

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
