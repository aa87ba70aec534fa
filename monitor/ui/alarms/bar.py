"""The alarm bar: the most urgent alarm, big, at the top of the live view."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QFontMetrics, QResizeEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from monitor.core.alarms.model import AlarmSnapshot
from monitor.ui.alarms.indicators import INDICATOR_PX, AlarmIndicatorsWidget
from monitor.ui.alarms.style import (
    COLOURS,
    UNLIT_BACKGROUND,
    alarm_texts,
    countdown_text,
    entry_lit,
    flashes,
    next_switch,
)
from monitor.ui.live.header import header_scale
from monitor.ui.shared import theme

NO_ALARMS_TEXT = "No active alarms"
NOT_CONNECTED_TEXT = "Alarm system not connected"
ENDED_TEXT = "Session ended: alarms are off"
PAUSE_TEXT = "Audio pause"
PAUSED_PREFIX = "AUDIO PAUSED"

BAR_HEIGHT = 64
"""Height of the bar at 1280 px wide (it scales with the window like the header)."""
MAIN_PX, OTHERS_PX, BUTTON_PX, SMALL_BUTTON_PX = 30, 16, 17, 14
MIN_MAIN_PX = 20
"""Below this the message takes a shorter wording (or wraps) rather than shrinking further."""
_OTHERS_SEP = "   \u00b7   "

_BUTTON_STYLE = f"""
QPushButton {{
    background: #21262d; color: {theme.TEXT}; border: 1px solid {theme.PANEL_BORDER};
    border-radius: 4px; padding: 0 10px;
}}
QPushButton:disabled {{ color: #484f58; }}
QPushButton:checked {{ background: #30363d; border-color: {theme.TEXT_DIM}; }}
QPushButton#audio_paused {{ background: #ffb300; color: #000000; border-color: #ffb300; }}
"""


def _fit_px(label: QLabel, text: str, max_px: int, min_px: int, bold: bool = True) -> int:
    """The largest pixel size (``min_px``..``max_px``) at which ``text`` fits ``label``."""
    room = label.contentsRect().width() - 4
    px = max_px
    while px > min_px:
        if QFontMetrics(theme.font(px, bold)).horizontalAdvance(text) <= room:
            break
        px -= 1
    return px


class AlarmBarWidget(QFrame):
    """Shows the highest-priority alarm, the inactivation states and the alarm buttons.

    The message area carries the most urgent alarm (``*** SpO2 87 < 92``) in
    its priority colour, flashing while it signals: red at 2 Hz, yellow at
    0.5 Hz, cyan steady; acknowledged alarms keep their colour without
    flashing. Other alarms on screen are listed, most urgent first, on a
    second line. Permanent indicators say "NO ALARM SOUND" and "<vital>
    ALARMS OFF"; the audio-pause button counts the pause down.

    One single-shot timer drives the flashing while any alarm on screen
    signals, set each time for the next switch between lit and unlit
    (:func:`~monitor.ui.alarms.style.next_switch`); the phase comes
    from ``flash_clock`` (seconds since the flashing started), so what is
    lit is a pure function of time (:func:`~monitor.ui.alarms.style.flash_on`).
    Tiles follow the same phase through :attr:`flash_ticked`.

    Parameters
    ----------
    parent : QWidget or None
    flash_clock : callable
        Monotonic seconds (``time.monotonic``; tests pass their own).

    Attributes
    ----------
    message_label, others_label : QLabel
    indicators : AlarmIndicatorsWidget
    acknowledge_button, audio_pause_button, limits_button, log_button : QPushButton

    Signals
    -------
    acknowledge_clicked()
        The nurse acknowledged the alarms on screen.
    audio_pause_clicked()
        The nurse asked to pause the alarm sound.
    audio_resume_clicked()
        The nurse ended the audio pause early.
    limits_clicked()
        The nurse asked for the alarm limits dialog.
    log_toggled(bool)
        The alarm-log button was switched on or off.
    flash_ticked(float)
        The flash timer ticked: seconds on the flash clock, for widgets
        that flash in phase with the bar.
    """

    acknowledge_clicked = Signal()
    audio_pause_clicked = Signal()
    audio_resume_clicked = Signal()
    limits_clicked = Signal()
    log_toggled = Signal(bool)
    flash_ticked = Signal(float)

    def __init__(self, parent: QWidget | None = None, *,
                 flash_clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(parent)
        self.setObjectName("alarm_bar")
        self.setStyleSheet(_BUTTON_STYLE)
        self._flash_clock = flash_clock
        self._flash_origin = 0.0
        self._flashing = False
        # One single-shot timer, set for the next lit/unlit switch (nothing changes between).
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._on_flash_timer)

        self._message_frame = QFrame()
        self._message_frame.setObjectName("alarm_message")
        self.message_label = QLabel()
        self.message_label.setObjectName("alarm_main")
        self.others_label = QLabel()
        self.others_label.setObjectName("alarm_others")
        for label in (self.message_label, self.others_label):
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        message = QVBoxLayout(self._message_frame)
        message.setContentsMargins(10, 0, 10, 0)
        message.setSpacing(0)
        message.addWidget(self.message_label, 3)
        message.addWidget(self.others_label, 2)

        self.indicators = AlarmIndicatorsWidget()

        self.acknowledge_button = self._button("Acknowledge", "acknowledge")
        self.audio_pause_button = self._button(PAUSE_TEXT, "audio_pause")
        self.audio_pause_button.setToolTip("Pause the alarm sound (Space)")
        self.limits_button = self._button("Alarm limits\u2026", "limits")
        self.log_button = self._button("Alarm log", "log")
        self.log_button.setCheckable(True)
        self.acknowledge_button.clicked.connect(self._on_acknowledge)
        self.audio_pause_button.clicked.connect(self._on_audio_pause)
        self.limits_button.clicked.connect(self.limits_clicked)
        self.log_button.toggled.connect(self.log_toggled)

        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(6)
        row.addWidget(self._message_frame, 1)
        row.addWidget(self.indicators)
        row.addWidget(self.acknowledge_button)
        row.addWidget(self.audio_pause_button)
        rare = QVBoxLayout()  # the rarely used buttons share one column
        rare.setSpacing(3)
        rare.addWidget(self.limits_button)
        rare.addWidget(self.log_button)
        row.addLayout(rare)

        self._snapshot: AlarmSnapshot | None = None
        self._connected = False
        self._sound_ok = True
        self._main_text = ""
        self._main_choices: list[str] = []
        self._others_text = ""
        self._others_choices: list[list[str]] = []
        self._pause_text = PAUSE_TEXT
        self._style = ""
        self._colours = ("", "")
        self._scale = 0.0
        self._update_fonts(1.0)
        self.set_snapshot(None)
        # The labels are laid out after the bar's own resize: fit the texts to
        # the labels' widths when those change.
        self.message_label.installEventFilter(self)
        self.others_label.installEventFilter(self)

    def _button(self, text: str, name: str) -> QPushButton:
        button = QPushButton(text)
        button.setObjectName(name)
        # Buttons never take the focus: Space is the audio-pause key, and a
        # focused button would swallow it.
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        button.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Expanding)
        return button

    # -- what the bar shows ---------------------------------------------------

    def set_snapshot(self, snapshot: AlarmSnapshot | None, connected: bool = True,
                     ended: bool = False) -> None:
        """Show ``snapshot`` (``None``: no alarm picture; ``connected=False``: no engine).

        ``ended``: the session has ended; nothing is monitored, so no alarm is
        shown, flashes or can be acted on (the alarm log keeps them all).
        """
        if ended:
            snapshot = None
        self._snapshot = snapshot
        self._connected = connected
        alarms = snapshot.alarms if snapshot is not None else ()
        if alarms:
            self._set_main(alarm_texts(alarms[0]))
            self._set_others([alarm_texts(a) for a in alarms[1:]])
        else:
            self._set_main([ENDED_TEXT if ended else
                            NO_ALARMS_TEXT if connected else NOT_CONNECTED_TEXT])
            self._set_others([])
        self.others_label.setVisible(len(alarms) > 1)
        live = connected and not ended
        self.acknowledge_button.setEnabled(live and any(not a.acknowledged for a in alarms))
        for button in (self.audio_pause_button, self.limits_button):
            button.setEnabled(live)
        self._update_indicators()
        if any(flashes(a) for a in alarms):
            if not self._flashing:
                self._flash_origin = self._flash_clock()
                self._flashing = True
            self._schedule_flash()
        else:
            self._flashing = False
            self._timer.stop()
        self.show_flash(self.flash_time())

    def set_sound_ok(self, ok: bool) -> None:
        """Whether the speaker works, as the sound player found (shown at once)."""
        self._sound_ok = ok
        self._update_indicators()

    def show_time(self, now: float) -> None:
        """Bring the audio-pause countdown to session time ``now``."""
        until = self._snapshot.audio_paused_until if self._snapshot is not None else None
        paused = until is not None
        text = f"{PAUSED_PREFIX} {countdown_text(until - now)}" if until is not None else PAUSE_TEXT
        if text != self._pause_text:
            self._pause_text = text
            # Two lines while paused, so the button stays narrow.
            self.audio_pause_button.setText(text.replace(f"{PAUSED_PREFIX} ", f"{PAUSED_PREFIX}\n"))
            self.audio_pause_button.setToolTip(
                "End the audio pause" if paused else "Pause the alarm sound (Space)")
        name = "audio_paused" if paused else "audio_pause"
        if self.audio_pause_button.objectName() != name:
            self.audio_pause_button.setObjectName(name)
            style = self.audio_pause_button.style()  # re-polish: the style follows the name
            style.unpolish(self.audio_pause_button)
            style.polish(self.audio_pause_button)

    def show_flash(self, t: float) -> None:
        """Colour the message for flash time ``t`` (only touched when the colour changes)."""
        alarms = self._snapshot.alarms if self._snapshot is not None else ()
        if not alarms:
            background, text = theme.PANEL, theme.TEXT_DIM
        else:
            top = alarms[0]
            colours = COLOURS[top.priority]
            if entry_lit(top, t):
                background, text = colours.lit, colours.lit_text
            else:
                background, text = UNLIT_BACKGROUND, colours.dark_text
        if (background, text) == self._colours:
            return
        self._colours = (background, text)
        self._message_frame.setStyleSheet(
            f"QFrame#alarm_message {{ background: {background}; border-radius: 4px;"
            f" border: 1px solid {theme.PANEL_BORDER}; }}"
            f" QLabel {{ color: {text}; }}")

    def flash_time(self) -> float:
        """Seconds on the flash clock since the flashing started (0 when not flashing)."""
        if not self._flashing:
            return 0.0
        return self._flash_clock() - self._flash_origin

    def is_flashing(self) -> bool:
        """Whether an alarm on the bar flashes (the flash timer is set)."""
        return self._flashing

    def stop(self) -> None:
        """Stop the flash timer (the bar keeps its last colours)."""
        self._flashing = False
        self._timer.stop()

    def _schedule_flash(self) -> None:
        alarms = self._snapshot.alarms if self._snapshot is not None else ()
        t = self.flash_time()
        switch = next_switch((a.priority for a in alarms if flashes(a)), t)
        if switch is None:
            return
        self._timer.start(max(1, math.ceil((switch - t) * 1000.0)))

    # -- for tests and the log ------------------------------------------------

    def message_text(self) -> str:
        """The most urgent alarm as shown (or the no-alarm text)."""
        return self._main_text

    def others_text(self) -> str:
        """The other alarms on screen, unelided (empty with one alarm or none)."""
        return self._others_text

    def audio_pause_text(self) -> str:
        """The audio-pause button's text (``"AUDIO PAUSED 1:43"`` while paused)."""
        return self._pause_text

    def colours(self) -> tuple[str, str]:
        """``(background, text)`` of the message area now, as ``#rrggbb``."""
        return self._colours

    def indicator_texts(self) -> list[str]:
        """The permanent indicators shown ("NO ALARM SOUND", "SpO2 ALARMS OFF")."""
        return self.indicators.texts() if self.indicators.isVisibleTo(self) else []

    # -- internals -------------------------------------------------------------

    def _set_main(self, texts: list[str]) -> None:
        if texts == self._main_choices:
            return
        self._main_choices = texts
        self._main_text = texts[0]
        self._fit_main()

    def _fit_main(self) -> None:
        """The longest wording at the biggest font that fits; never cut.

        Each wording (:func:`~monitor.ui.alarms.style.alarm_texts`, longest
        first) is tried from the full font down to the smallest; the first
        that fits is shown. If even the shortest does not fit at the smallest
        font, it wraps onto a second line.
        """
        label = self.message_label
        if not self._main_choices:
            return
        room = label.contentsRect().width() - 4
        base, smallest = round(MAIN_PX * self._scale), round(MIN_MAIN_PX * self._scale)
        for text in self._main_choices:
            px = _fit_px(label, text, base, smallest)
            if QFontMetrics(theme.font(px, True)).horizontalAdvance(text) <= room:
                break
        wrap = QFontMetrics(theme.font(px, True)).horizontalAdvance(text) > room
        if px != label.font().pixelSize():
            label.setFont(theme.font(px, bold=True))
        if wrap != label.wordWrap():
            label.setWordWrap(wrap)
        if text != label.text():
            label.setText(text)

    def _set_others(self, choices: list[list[str]]) -> None:
        self._others_choices = choices
        self._others_text = _OTHERS_SEP.join(c[0] for c in choices)
        self._elide_others()

    def _elide_others(self) -> None:
        """The other alarms in the longest wording that fits, else the first ones and a count.

        Every alarm shown is shown whole: the wordings shorten together, and
        what still does not fit is counted (``+2 more``, all of them in the log).
        """
        fm = QFontMetrics(self.others_label.font())
        room = max(0, self.others_label.contentsRect().width() - 4)
        choices = self._others_choices
        levels = max((len(c) for c in choices), default=1)
        shown = ""
        for level in range(levels):
            text = _OTHERS_SEP.join(c[min(level, len(c) - 1)] for c in choices)
            if fm.horizontalAdvance(text) <= room:
                shown = text
                break
        else:
            shortest = [c[-1] for c in choices]
            for n in range(len(shortest) - 1, -1, -1):
                more = f"+{len(shortest) - n} more"
                text = _OTHERS_SEP.join([*shortest[:n], more])
                if fm.horizontalAdvance(text) <= room or n == 0:
                    shown = text
                    break
        if shown != self.others_label.text():
            self.others_label.setText(shown)

    def _update_indicators(self) -> None:
        snap = self._snapshot
        no_sound = not self._sound_ok or (snap is not None and not snap.audio_ok)
        self.indicators.show_state(no_sound, snap.vitals_off if snap is not None else ())

    def _on_acknowledge(self) -> None:
        self.acknowledge_clicked.emit()

    def _on_audio_pause(self) -> None:
        paused = self._snapshot is not None and self._snapshot.audio_paused_until is not None
        if paused:
            self.audio_resume_clicked.emit()
        else:
            self.audio_pause_clicked.emit()

    def _on_flash_timer(self) -> None:
        if not self._flashing:
            return
        t = self.flash_time()
        self.show_flash(t)
        self.flash_ticked.emit(t)
        self._schedule_flash()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        window = self.window()
        self._update_fonts(header_scale(window.width() if window is not None else self.width()))
        self._fit_main()
        self._elide_others()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if event.type() == QEvent.Type.Resize:
            if watched is self.message_label:
                self._fit_main()
            elif watched is self.others_label:
                self._elide_others()
        return super().eventFilter(watched, event)

    def _update_fonts(self, scale: float) -> None:
        if abs(scale - self._scale) < 0.02:
            return
        self._scale = scale
        self.setFixedHeight(round(BAR_HEIGHT * scale))
        self.others_label.setFont(theme.font(round(OTHERS_PX * scale), bold=True))
        pad = round(24 * scale)
        for button, widest, base_px in (
                (self.acknowledge_button, "Acknowledge", BUTTON_PX),
                (self.audio_pause_button, PAUSED_PREFIX, BUTTON_PX),
                (self.limits_button, "Alarm limits\u2026", SMALL_BUTTON_PX),
                (self.log_button, "Alarm limits\u2026", SMALL_BUTTON_PX)):
            font = theme.font(round(base_px * scale), bold=True)
            button.setFont(font)
            button.setFixedWidth(QFontMetrics(font).horizontalAdvance(widest) + pad)
        self.indicators.set_pixel_size(round(INDICATOR_PX * scale))
        self._fit_main()
