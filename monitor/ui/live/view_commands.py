"""The live view's nurse commands: who did it, sending to the hub, and refusals shown to the nurse.

:class:`NurseCommandsMixin` is mixed into :class:`~monitor.ui.live.view.LiveView`.
Every action the nurse takes (workflow commands, manual entries, alarm
actions) goes out through :meth:`~NurseCommandsMixin._send`, which holds it
back once the session has ended; an action without the nurse's initials is
not sent. Refusals (by the hub, or because the session ended) are shown in a
non-modal message box.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from monitor.core.alarms.model import AudioOutput, ResumeAudio
from monitor.ui.live.model import LiveModel
from monitor.ui.shared.dialog_style import message_box
from monitor.ui.workflow.events_bar import EventsBarWidget
from monitor.ui.workflow.manual_entry_dialog import ManualEntryDialog
from monitor.ui.workflow.text import command_text

log = logging.getLogger("monitor.ui.live.view")   # the view's logger, as before

_ALWAYS_SENT = (ResumeAudio, AudioOutput)
"""Sent even after the session ended: sound back on, the speaker's state (no record)."""


class NurseCommandsMixin:
    """Sending the nurse's commands and showing refusals, for the live view.

    Mixed in before ``QMainWindow``; the view creates the attributes below.
    """

    model: LiveModel
    events_bar: EventsBarWidget
    manual_dialog: ManualEntryDialog | None
    refusal_box: QMessageBox | None
    _send_command: Callable[[object], None] | None

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

    def _who(self) -> str:
        """The nurse's initials; when there are none, ask for them (the action is not sent)."""
        who = self.events_bar.initials()
        if not who:
            self.events_bar.ask_initials()
        return who

    def _on_initials_needed(self) -> None:
        self._show_refusal("Enter your initials in the Nurse field first: who did it is "
                           "recorded for every action.", "Initials needed")

    # -- refusals ---------------------------------------------------------------

    def _show_refusal(self, detail: str, title: str) -> None:
        """Tell the nurse an action was refused (non-modal; the record keeps it too)."""
        if self.refusal_box is not None:
            self.refusal_box.close()
        box = message_box(QMessageBox.Icon.Warning, title, detail[:1].upper() + detail[1:], self)
        box.finished.connect(self._on_refusal_closed)
        self.refusal_box = box
        box.show()

    def _on_refusal_closed(self) -> None:
        self.refusal_box = None

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
