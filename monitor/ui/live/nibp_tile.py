"""The NIBP tile: sys/dia big, (mean) smaller, and the age of the determination."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QFrame, QGridLayout, QWidget

from monitor.ui.live.model import NibpState
from monitor.ui.live.tile import (
    caption_pixel_size,
    caption_row,
    limits_pixel_size,
    make_caption,
    make_limits_label,
)
from monitor.ui.live.tile_alarm import TileAlarm, TileAlarmMixin
from monitor.ui.live.tile_texts import device_caption
from monitor.ui.shared import theme
from monitor.ui.shared.fitted_label import FittedLabelWidget


class NibpTileWidget(TileAlarmMixin, QFrame):
    """Non-invasive blood pressure: the latest determination and how old it is.

    An old determination stays on screen but turns grey, since NIBP is
    measured only every few minutes.

    Parameters
    ----------
    parent : QWidget or None

    Attributes
    ----------
    value_label : FittedLabelWidget
        ``sys/dia``.
    mean_label : FittedLabelWidget
        ``(mean)``.
    age_label, reason_label : QLabel
    limits_label : ChoiceLabel
        The alarm limits in small figures beside the caption.
    alarm : TileAlarm
        The alarm shown on the tile (:meth:`set_alarm`): the most urgent
        of the systolic, diastolic and mean alarms.

    Signals
    -------
    None of its own.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("tile")
        self._caption = make_caption("NIBP", "tile_caption", Qt.AlignmentFlag.AlignLeft)
        self._caption.setStyleSheet(f"color: {theme.NIBP_WHITE};")
        self._unit = make_caption("mmHg", "tile_caption", Qt.AlignmentFlag.AlignRight)
        self.value_label = FittedLabelWidget("888/888", 18, 200, parent=self)
        self.value_label.setObjectName("tile_value")
        self.value_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.mean_label = FittedLabelWidget("(888)", 12, 90, parent=self)
        self.mean_label.setObjectName("tile_mean")
        self.mean_label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.age_label = make_caption("", "tile_caption", Qt.AlignmentFlag.AlignLeft)
        self.reason_label = make_caption("", "tile_reason", Qt.AlignmentFlag.AlignRight)
        self.limits_label = make_limits_label()
        grid = QGridLayout(self)
        grid.setContentsMargins(8, 4, 8, 4)
        grid.setSpacing(0)
        grid.addLayout(caption_row(self._caption, self.limits_label, self._unit), 0, 0, 1, 2)
        grid.addWidget(self.value_label, 1, 0)
        grid.addWidget(self.mean_label, 1, 1)
        grid.addWidget(self.age_label, 2, 0)
        grid.addWidget(self.reason_label, 2, 1)
        grid.setRowStretch(1, 1)
        grid.setColumnStretch(0, 7)
        grid.setColumnStretch(1, 3)
        self._state: NibpState | None = None
        self._limit_texts: list[str] = []
        self._colour = ""
        self.alarm = TileAlarm(self)
        self.set_state(NibpState("---"))

    def value_text(self) -> str:
        """The ``sys/dia`` text shown."""
        return self.value_label.text()

    def mean_text(self) -> str:
        """The ``(mean)`` text shown."""
        return self.mean_label.text()

    def age_text(self) -> str:
        """The age of the determination shown ("4 min ago")."""
        return self.age_label.text()

    def reason_text(self) -> str:
        """Why there is no value, or empty."""
        return self.reason_label.text()

    def is_manual(self) -> bool:
        """Whether the determination shown was typed in by the nurse (tagged "MANUAL")."""
        return self._state is not None and self._state.manual

    def value_colour(self) -> str:
        """The colour of the value text as ``#rrggbb``."""
        return self._colour

    def set_state(self, state: NibpState) -> None:
        """Show ``state``; labels are only touched when something changed."""
        if state == self._state:
            return
        manual_changed = self._state is None or state.manual != self._state.manual
        if self._state is None or state.device != self._state.device:
            self.set_caption(device_caption("NIBP", state.device))
        self._state = state
        self.value_label.setText(state.text)
        self.mean_label.setText(state.mean_text)
        self.age_label.setText(state.age_text)
        self.reason_label.setText(state.reason)
        if manual_changed:
            self.reason_label.setStyleSheet(f"color: {theme.MANUAL};" if state.manual else "")
        self._update_colour(theme.AGED if state.aged else theme.NIBP_WHITE)

    def set_limit_texts(self, texts: list[str]) -> None:
        """The alarm limits in small figures, longest wording first (``"sys ▼90 ▲160 · …"``)."""
        if texts != self._limit_texts:
            self._limit_texts = list(texts)
            self.limits_label.set_texts(texts)

    def limit_text(self) -> str:
        """The limit figures shown."""
        return self.limits_label.text()

    def _update_colour(self, colour: str) -> None:
        if colour == self._colour:
            return
        self._colour = colour
        for label in (self.value_label, self.mean_label):
            label.setStyleSheet(f"color: {colour};")

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        px = caption_pixel_size(self.height())
        if px == self._caption.font().pixelSize():
            return
        for label in (self._caption, self._unit, self.age_label, self.reason_label):
            label.setFont(theme.font(px, bold=label is not self._unit))
            label.setFixedHeight(int(px * 1.4))
        self.limits_label.setFont(theme.font(limits_pixel_size(px)))
        self.limits_label.setFixedHeight(int(px * 1.4))
        if self._caption_plain:
            self._render_caption()   # the device's name follows the caption's size
