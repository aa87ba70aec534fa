"""The header bar: simulated-data banner, clocks, phase, recording and status."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from monitor.core.session import Phase
from monitor.core.workflow.setup import SessionSetup
from monitor.ui.alarms.style import clock_text
from monitor.ui.live.header_texts import context_texts
from monitor.ui.live.model import LiveModel
from monitor.ui.shared import theme
from monitor.ui.shared.choice_label import ChoiceLabel
from monitor.ui.shared.formatting import format_elapsed

SIMULATED_TEXT = "SIMULATED DATA \u2014 NOT A PATIENT"
REC_TEXT = "\u25cf REC"
REC_OFF_TEXT = "REC off"
"""The ended session's indicator: grey, nothing more is being recorded."""
STOPPED_PREFIX = "RECORDING STOPPED"


def _label(object_name: str, pixel_size: int, bold: bool = False) -> QLabel:
    label = QLabel()
    label.setObjectName(object_name)
    label.setFont(theme.font(pixel_size, bold))
    label.setProperty("base_px", pixel_size)
    return label


def header_scale(width: int) -> float:
    """Font scale of the header for a window this wide (1.0 at 1280 px)."""
    return max(0.8, min(1.6, width / 1280.0))


def _brighter(channel: int) -> int:
    """A colour channel lifted well above the faint band tint, for text."""
    return min(255, channel + 90)


def _set_text(label: QLabel, text: str) -> None:
    if label.text() != text:
        label.setText(text)


class HeaderWidget(QFrame):
    """Session clock, phase and its elapsed time, recording state and messages.

    Parameters
    ----------
    simulated : bool
        Show the loud "SIMULATED DATA" banner.
    parent : QWidget or None

    Attributes
    ----------
    sim_banner : QLabel
        Visible whenever the data is simulated.
    session_clock_label : QLabel
        Time since the session started, ``H:MM:SS``.
    phase_label : QLabel
        The current phase, upper case.
    phase_elapsed_label : QLabel
        Time in the current phase.
    rec_label : QLabel
        ``"● REC"`` while the recorder is writing.
    rec_warning_label : QLabel
        Red ``"RECORDING STOPPED — <message>"`` strip when it is not.
    status_label : QLabel
        Technical and session messages (source lost, queue overflow, resumed...).
    context_label : ChoiceLabel
        Who and what: patient reference, dose and plan, course number,
        clinician (shortened by rule to fit, :func:`context_texts`).
    wall_clock_label : QLabel
        The time of day (``14:03``), the clock alarm messages are written in.

    Signals
    -------
    None of its own.
    """

    def __init__(self, simulated: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("header")
        self.sim_banner = _label("sim_banner", 22, bold=True)
        self.sim_banner.setText(SIMULATED_TEXT)
        self.sim_banner.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.sim_banner.setFixedHeight(34)
        self.session_clock_label = _label("session_clock", 30, bold=True)
        self.phase_label = _label("phase", 34, bold=True)
        self.phase_elapsed_label = _label("phase_elapsed", 24)
        self.rec_label = _label("rec_ok", 24, bold=True)
        self.rec_label.setText(REC_TEXT)
        self.rec_warning_label = _label("rec_stopped", 22, bold=True)
        self.rec_warning_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.status_label = _label("status", 18, bold=True)
        self.status_label.setMinimumHeight(26)
        for label in (self.rec_warning_label, self.status_label):
            label.setWordWrap(True)  # long messages wrap instead of being cut off
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Minimum)
        caption = _label("tile_caption", 18)
        caption.setText("Session")
        self.context_label = ChoiceLabel()
        self.context_label.setObjectName("context")
        self.context_label.setFont(theme.font(18, True))
        self.context_label.setProperty("base_px", 18)
        self.context_label.setAlignment(Qt.AlignmentFlag.AlignRight
                                        | Qt.AlignmentFlag.AlignVCenter)
        self.context_label.set_texts(context_texts(None))
        self.wall_clock_label = _label("wall_clock", 30, bold=True)
        self._labels = (self.sim_banner, self.session_clock_label, self.phase_label,
                        self.phase_elapsed_label, self.rec_label, self.rec_warning_label,
                        self.status_label, caption, self.context_label, self.wall_clock_label)
        self._scale = 1.0

        row = QHBoxLayout()
        row.setContentsMargins(8, 0, 8, 0)
        row.setSpacing(14)
        row.addWidget(caption)
        row.addWidget(self.session_clock_label)
        row.addSpacing(30)
        row.addWidget(self.phase_label)
        row.addWidget(self.phase_elapsed_label)
        row.addWidget(self.context_label, 1)
        row.addWidget(self.wall_clock_label)
        row.addWidget(self.rec_label)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addWidget(self.sim_banner)
        column.addLayout(row)
        column.addWidget(self.rec_warning_label)
        column.addWidget(self.status_label)

        self.rec_label.hide()
        self.rec_warning_label.hide()
        self.set_simulated(simulated)
        self._phase: Phase | None | str = "unset"
        self._update_phase_width()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._update_fonts(header_scale(self.width()))

    def _update_fonts(self, scale: float) -> None:
        if abs(scale - self._scale) < 0.02:
            return
        self._scale = scale
        for label in self._labels:
            px = round(int(label.property("base_px")) * scale)
            label.setFont(theme.font(px, label.font().bold()))
        self._update_phase_width()
        self.sim_banner.setFixedHeight(round(34 * scale))
        self.status_label.setMinimumHeight(round(26 * scale))

    def _update_phase_width(self) -> None:
        """Room for the longest phase name, so the header does not jump on a change."""
        fm = self.phase_label.fontMetrics()
        names = [p.value.upper() for p in Phase] + ["NO SESSION"]
        self.phase_label.setMinimumWidth(max(fm.horizontalAdvance(n) for n in names) + 4)

    def set_simulated(self, simulated: bool, banner: str = "") -> None:
        """Show or hide the banner: ``banner`` (a replay's), else the simulated-data one."""
        _set_text(self.sim_banner, banner or SIMULATED_TEXT)
        self.sim_banner.setVisible(simulated or bool(banner))

    def set_setup(self, setup: SessionSetup | None) -> None:
        """Show who the session is for and what was planned (``None``: no set-up)."""
        self.context_label.set_texts(context_texts(setup))

    def status_text(self) -> str:
        """The messages shown in the status line."""
        return self.status_label.text()

    def show_state(self, model: LiveModel, now: float) -> None:
        """Bring every label up to date with ``model`` at clock time ``now``."""
        elapsed = model.session_elapsed(now)
        _set_text(self.session_clock_label,
                  "-:--:--" if elapsed is None else format_elapsed(elapsed))
        _set_text(self.wall_clock_label, clock_text(now))
        self._update_phase(model, now)
        self._update_recording(model)
        _set_text(self.status_label, "   \u2022   ".join(model.status_messages(now)))

    def _update_phase(self, model: LiveModel, now: float) -> None:
        session = model.session
        phase = None if session is None else session.phase
        if phase is not self._phase:
            self._phase = phase
            self.phase_label.setText("NO SESSION" if phase is None else phase.value.upper())
            r, g, b, _ = theme.PHASE_TINTS.get(phase, (140, 147, 153, 255))
            self.phase_label.setStyleSheet(
                f"color: rgb({_brighter(r)}, {_brighter(g)}, {_brighter(b)});")
        text = ("" if phase is None or phase is Phase.ENDED
                else f"for {format_elapsed(model.phase_elapsed(now))}")
        _set_text(self.phase_elapsed_label, text)

    def _update_recording(self, model: LiveModel) -> None:
        ok = model.recording
        if ok is False:
            message = model.recording_message or "readings are not being saved"
            _set_text(self.rec_warning_label, f"{STOPPED_PREFIX} \u2014 {message}")
        ended = model.ended_at is not None and ok is not False
        name = "rec_off" if ended else "rec_ok"
        if self.rec_label.objectName() != name:
            self.rec_label.setObjectName(name)   # re-polished: the colour follows the name
            self.rec_label.style().unpolish(self.rec_label)
            self.rec_label.style().polish(self.rec_label)
            self.rec_label.setToolTip("The session has ended: nothing more is recorded"
                                      if ended else "Readings are being saved")
        _set_text(self.rec_label, REC_OFF_TEXT if ended else REC_TEXT)
        self.rec_label.setVisible(ok is True or ended)
        self.rec_warning_label.setVisible(ok is False)
