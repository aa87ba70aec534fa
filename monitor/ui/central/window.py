"""The central station's window: a tile per chair, sized for a wall screen.

Each tile shows the chair's name, patient (as the clinic sends it), phase and
timer, HR, SpO2, NIBP with its age, the chair's most urgent alarm in its IEC
colour and flash rate, and its link ("NO SIGNAL · 14 s" when it went silent:
the tile is then a technical alarm of the central, drawn in the medium
colour). Chairs are ordered most urgent first, or in room order.

The MQTT client (:class:`~monitor.central.listener.CentralListener`) runs on its
own threads; this window reads its model under the listener's lock on a timer
(4 Hz, and the flash), never doing I/O on the GUI thread.
"""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from monitor.central.listener import CentralListener
from monitor.core.alarms.model import Priority
from monitor.ui.alarms.style import COLOURS, UNLIT_BACKGROUND, flash_on
from monitor.ui.central.texts import TileTexts, tile_texts
from monitor.ui.shared import theme

REFRESH_MS = 250
SILENCE_S = 120.0
"""How long "Silence the desk" silences the central's own sound (never a chair's alarm)."""
SOUNDING_STATES = ("raised", "escalated")
"""An alarm sounds at the central while the chair has not acknowledged it."""


def _label(size: int, bold: bool = False, colour: str = theme.TEXT) -> QLabel:
    label = QLabel("")
    label.setFont(theme.font(size, bold=bold))
    label.setStyleSheet(f"color: {colour}; background: transparent;")
    return label


class ChairTile(QFrame):
    """One chair at the central (texts from :func:`~monitor.ui.central.texts.tile_texts`).

    A click opens the chair's trends (:attr:`clicked`).
    """

    clicked = Signal()
    acknowledge_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("chair_tile")
        self.name = _label(30, bold=True)
        self.patient = _label(16, colour=theme.TEXT_DIM)
        self.phase = _label(22, bold=True, colour=theme.TEXT)
        self.hr = _label(72, bold=True, colour=theme.HR_GREEN)
        self.spo2 = _label(72, bold=True, colour=theme.SPO2_CYAN)
        self.nibp = _label(44, bold=True, colour=theme.NIBP_WHITE)
        self.nibp_age = _label(16, colour=theme.TEXT_DIM)
        self.alarm = _label(20, bold=True)
        self.alarm.setWordWrap(True)
        self.link = _label(14, colour=theme.TEXT_DIM)
        self.ack_button = QPushButton("Acknowledge at the chair\u2026")
        self.ack_button.setToolTip("Acknowledge this chair's alarms from the desk (the clinic "
                                   "allows it for this chair); logged with your initials")
        self.ack_button.clicked.connect(self.acknowledge_clicked)
        self.ack_button.setVisible(False)
        grid = QGridLayout(self)
        grid.addWidget(self.name, 0, 0, 1, 2)
        grid.addWidget(self.phase, 0, 2, 1, 1, Qt.AlignmentFlag.AlignRight)
        grid.addWidget(self.patient, 1, 0, 1, 3)
        for col, (caption, value) in enumerate((("HR", self.hr), ("SpO2", self.spo2))):
            box = QVBoxLayout()
            box.addWidget(_label(14, colour=theme.TEXT_DIM))
            box.itemAt(0).widget().setText(caption)
            box.addWidget(value)
            grid.addLayout(box, 2, col)
        nibp_box = QVBoxLayout()
        nibp_box.addWidget(_label(14, colour=theme.TEXT_DIM))
        nibp_box.itemAt(0).widget().setText("NIBP")
        nibp_box.addWidget(self.nibp)
        nibp_box.addWidget(self.nibp_age)
        grid.addLayout(nibp_box, 2, 2)
        grid.addWidget(self.alarm, 3, 0, 1, 3)
        grid.addWidget(self.link, 4, 0, 1, 2)
        grid.addWidget(self.ack_button, 4, 2, 1, 1, Qt.AlignmentFlag.AlignRight)
        self.texts: TileTexts | None = None
        self.remote_allowed = False

    def show_texts(self, texts: TileTexts, flash_t: float) -> None:
        """Show ``texts``; the alarm line flashes at its priority's rate."""
        self.texts = texts
        self.name.setText(texts.name)
        self.patient.setText(texts.patient or " ")
        self.phase.setText(texts.phase)
        self.hr.setText(texts.hr)
        self.spo2.setText(texts.spo2)
        self.nibp.setText(texts.nibp)
        self.nibp_age.setText(texts.nibp_age or " ")
        self.link.setText(texts.link)
        self.ack_button.setVisible(self.remote_allowed and texts.remote and bool(texts.alarm))
        priority = Priority.MEDIUM if texts.offline else texts.priority
        alarm = texts.alarm if not texts.offline else "CHAIR NOT HEARD: " + texts.link
        self.alarm.setText(alarm or "no alarm")
        if priority is None:
            self.alarm.setStyleSheet(f"color: {theme.TEXT_DIM}; background: transparent;")
            border = theme.PANEL_BORDER
        else:
            colours = COLOURS[priority]
            lit = flash_on(priority, flash_t)
            self.alarm.setStyleSheet(
                f"color: {colours.lit_text if lit else colours.dark_text}; "
                f"background: {colours.lit if lit else UNLIT_BACKGROUND}; padding: 4px;")
            border = colours.lit
        self.setStyleSheet(f"QFrame#chair_tile {{ background: {theme.PANEL}; "
                           f"border: 3px solid {border}; border-radius: 6px; }}")

    def alarm_text(self) -> str:
        return self.alarm.text()

    def mousePressEvent(self, event) -> None:  # noqa: N802 (Qt override)
        self.clicked.emit()
        super().mousePressEvent(event)


class CentralWindow(QMainWindow):
    """Every chair of the site, one tile each (see the module docstring).

    Parameters
    ----------
    listener : CentralListener
        Started by the caller; read under its lock.
    order : str
        ``urgency`` (most urgent first) or ``room`` (by chair id).
    columns : int
        Tiles per row.
    """

    def __init__(self, listener: CentralListener, *, order: str = "urgency",
                 columns: int = 4, sound: bool = True, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Central station \u2014 {listener.config.site}")
        self.listener = listener
        self.order = order
        self.columns = columns
        body = QWidget()
        body.setStyleSheet(f"background: {theme.BACKGROUND};")
        outer = QVBoxLayout(body)
        self.header = _label(20, bold=True)
        self.silence_button = QPushButton("Silence the desk 2 min")
        self.silence_button.setToolTip("Silences this desk's alarm sound for 2 minutes; the "
                                       "chairs' own alarms are not touched")
        self.silence_button.clicked.connect(self.silence)
        top = QHBoxLayout()
        top.addWidget(self.header, 1)
        top.addWidget(self.silence_button)
        outer.addLayout(top)
        self.grid = QGridLayout()
        outer.addLayout(self.grid, 1)
        self.empty = _label(20, colour=theme.TEXT_DIM)
        self.empty.setText("No chair has published yet.")
        outer.addWidget(self.empty)
        self.setCentralWidget(body)
        self.tiles: dict[str, ChairTile] = {}
        self._placed: list[str] = []
        self._flash0 = time.monotonic()
        self._silenced_until = 0.0
        self.audio_problem = ""
        self.sounding: Priority | None = None
        self.sound = None
        if sound:
            from monitor.ui.alarms.sound import AlarmSoundPlayer

            self.sound = AlarmSoundPlayer(self)
            self.sound.audio_failed.connect(self._on_audio_failed)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.refresh)
        self.timer.start(REFRESH_MS)
        self.refresh()

    def silence(self) -> None:
        """Silence this desk's sound for :data:`SILENCE_S` (the chairs go on alarming)."""
        self._silenced_until = time.monotonic() + SILENCE_S
        self.refresh()

    def _on_audio_failed(self, reason: str) -> None:
        self.audio_problem = reason

    def sounding_priority(self, chairs) -> Priority | None:  # type: ignore[no-untyped-def]
        """What the desk sounds: the highest unacknowledged alarm of any chair, or medium
        for a chair not heard from (the central's own technical alarm)."""
        if time.monotonic() < self._silenced_until:
            return None
        best: Priority | None = None
        for chair in chairs:
            found: list[Priority] = [Priority.MEDIUM] if not chair.online else []
            for alarm in chair.active.values() if chair.online else ():
                if alarm.get("state") in SOUNDING_STATES:
                    try:
                        found.append(Priority.parse(str(alarm.get("priority"))))
                    except ValueError:
                        found.append(Priority.MEDIUM)   # unknown: sounded, not ignored
            for p in found:
                if best is None or p > best:
                    best = p
        return best

    def refresh(self) -> None:
        """Read the model (under the listener's lock) and show every chair."""
        now = time.time()
        with self.listener.lock:
            chairs = self.listener.model.ordered(self.order)
            texts = [(c.chair, tile_texts(c, now)) for c in chairs]
            self.sounding = self.sounding_priority(chairs)
        if self.sound is not None:
            self.sound.set_sounding(self.sounding)
        link = "connected" if self.listener.connected else "BROKER NOT CONNECTED"
        offline = sum(1 for _, t in texts if t.offline)
        silenced = time.monotonic() < self._silenced_until
        self.header.setText(f"Central station \u00b7 {len(texts)} chairs"
                            + (f" \u00b7 {offline} not heard" if offline else "")
                            + f" \u00b7 broker {link} \u00b7 {time.strftime('%H:%M')}"
                            + (" \u00b7 DESK SILENCED" if silenced else "")
                            + (" \u00b7 NO ALARM SOUND at this desk" if self.audio_problem
                               else ""))
        colour = theme.TEXT if self.listener.connected else COLOURS[Priority.MEDIUM].lit
        self.header.setStyleSheet(f"color: {colour};")
        flash_t = time.monotonic() - self._flash0
        # As many columns as fit whole (about 600 px a tile), at most the asked number.
        columns = max(1, min(self.columns, self.width() // 600))
        order = [chair for chair, _ in texts] + [f"#{columns}"]
        for chair, t in texts:
            tile = self.tiles.get(chair)
            if tile is None:
                tile = self.tiles[chair] = ChairTile()
                tile.setCursor(Qt.CursorShape.PointingHandCursor)
                tile.clicked.connect(lambda c=chair: self.open_trends(c))
                tile.remote_allowed = self.listener.config.remote_actions
                tile.acknowledge_clicked.connect(lambda c=chair: self.ask_acknowledge(c))
            tile.show_texts(t, flash_t)
        if order != self._placed:
            for tile in self.tiles.values():
                self.grid.removeWidget(tile)
            for i, chair in enumerate(order[:-1]):
                self.grid.addWidget(self.tiles[chair], i // columns, i % columns)
            self._placed = order
        self.empty.setVisible(not texts)

    def ask_acknowledge(self, chair_id: str) -> None:
        """Ask the desk nurse's initials, then acknowledge ``chair_id``'s alarms remotely."""
        from PySide6.QtWidgets import QInputDialog

        initials, ok = QInputDialog.getText(self, "Acknowledge at the chair",
                                            f"Your initials (logged at {chair_id} and here):")
        if ok and initials.strip():
            self.acknowledge(chair_id, initials.strip())

    def acknowledge(self, chair_id: str, by: str) -> str:
        """Acknowledge ``chair_id``'s alarms from the desk as ``by``; the answer is shown."""
        answer = self.listener.remote_action(chair_id, "acknowledge", by)
        self.last_remote = answer
        return answer

    def open_trends(self, chair_id: str):  # type: ignore[no-untyped-def]
        """Open ``chair_id``'s trends (a copy of what the central received so far)."""
        import copy

        from monitor.ui.central.trends import ChairTrendDialog

        with self.listener.lock:
            chair = self.listener.model.chairs.get(chair_id)
            chair = copy.deepcopy(chair) if chair is not None else None
        if chair is None:
            return None
        dialog = ChairTrendDialog(chair, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        self.trend_dialog = dialog
        return dialog

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        self.timer.stop()
        if self.sound is not None:
            self.sound.set_sounding(None)
        super().closeEvent(event)


__all__ = ["CentralWindow", "ChairTile"]
