"""The numeric tile of one continuous vital (HR, SpO2, PR, RR, EtCO2)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QLabel, QSizePolicy, QWidget

from monitor.core.vitals import SPECS, Vital
from monitor.ui.live.model import TileState
from monitor.ui.live.tile_alarm import TileAlarm, TileAlarmMixin
from monitor.ui.shared import theme
from monitor.ui.shared.choice_label import ChoiceLabel
from monitor.ui.shared.fitted_label import FittedLabelWidget


def caption_pixel_size(tile_height: int) -> int:
    """Font size of a tile's label, unit and reason lines for a tile this tall."""
    return max(13, min(28, int(tile_height * 0.09)))


def limits_pixel_size(caption_px: int) -> int:
    """The limit figures are a little smaller than the caption beside them."""
    return max(11, caption_px - 2)


def make_caption(text: str, object_name: str, align: Qt.AlignmentFlag) -> QLabel:
    """A small tile line (label, unit, reason, age)."""
    label = QLabel(text)
    label.setObjectName(object_name)
    label.setAlignment(align | Qt.AlignmentFlag.AlignVCenter)
    label.setFont(theme.font(14, bold=object_name == "tile_reason"))
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
    return label


def caption_row(caption: QLabel, limits: ChoiceLabel, unit: QLabel) -> QHBoxLayout:
    """A tile's top line: its caption and unit whole, the alarm limits in the room between.

    The limits take the longest wording that fits there (:mod:`.tile_limits`).
    """
    row = QHBoxLayout()
    row.setContentsMargins(0, 0, 0, 0)
    row.setSpacing(6)
    row.addWidget(caption)
    row.addWidget(limits, 1)
    row.addWidget(unit)
    for label in (caption, unit):
        label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
    return row


def make_limits_label() -> ChoiceLabel:
    """The small figures of a tile's alarm limits, right-aligned before the unit."""
    label = ChoiceLabel(optional=True)   # the full limits are in the limits dialog
    label.setObjectName("tile_limits")
    label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    label.setFont(theme.font(14))
    return label


class VitalTileWidget(TileAlarmMixin, QFrame):
    """Label, unit, big value and a reason line for one continuous vital.

    Parameters
    ----------
    vital : Vital
    large : bool
        Big tile (HR, SpO2) or small tile (PR, RR, EtCO2); only the font
        limits differ, the font follows the tile size.
    parent : QWidget or None

    Attributes
    ----------
    vital : Vital
    value_label : FittedLabelWidget
    reason_label : QLabel
    limits_label : ChoiceLabel
        The alarm limits in small figures beside the caption (:meth:`set_limit_texts`).
    alarm : TileAlarm
        The alarm shown on the tile (:meth:`set_alarm`).

    Signals
    -------
    None of its own.
    """

    def __init__(self, vital: Vital, *, large: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("tile")
        self.vital = vital
        spec = SPECS[vital]
        colour = theme.VITAL_COLOURS[vital]
        self._caption = make_caption(spec.label, "tile_caption", Qt.AlignmentFlag.AlignLeft)
        self._unit = make_caption(spec.unit, "tile_caption", Qt.AlignmentFlag.AlignRight)
        self._caption.setStyleSheet(f"color: {colour};")
        self.value_label = FittedLabelWidget("888", 18, 260 if large else 120, parent=self)
        self.value_label.setObjectName("tile_value")
        self.value_label.setStyleSheet(f"color: {colour};")
        self.reason_label = make_caption("", "tile_reason", Qt.AlignmentFlag.AlignCenter)
        self.limits_label = make_limits_label()
        grid = QGridLayout(self)
        grid.setContentsMargins(8, 4, 8, 4)
        grid.setSpacing(0)
        grid.addLayout(caption_row(self._caption, self.limits_label, self._unit), 0, 0, 1, 2)
        grid.addWidget(self.value_label, 1, 0, 1, 2)
        grid.addWidget(self.reason_label, 2, 0, 1, 2)
        grid.setRowStretch(1, 1)
        self._limit_texts: list[str] = []
        self._shown_limits: list[str] = []
        self._state = TileState(self.value_label.text())
        self.alarm = TileAlarm(self)
        self.set_state(TileState("---"))

    def value_text(self) -> str:
        """The text the value label shows."""
        return self.value_label.text()

    def reason_text(self) -> str:
        """The text under the value (why there is none), or empty."""
        return self.reason_label.text()

    def shown_vital(self) -> Vital:
        """The vital whose value the tile shows (the pulse rate in the HR place without ECG)."""
        return self._state.shown or self.vital


    def is_not_measured(self) -> bool:
        """Whether the tile says the source cannot measure its vital."""
        return self._state.not_measured

    def set_state(self, state: TileState) -> None:
        """Show ``state``; labels are only touched when their text changes."""
        if state == self._state:
            return
        look = (state.manual, state.ended, state.not_measured, state.shown, state.label)
        look_changed = look != (self._state.manual, self._state.ended,
                                self._state.not_measured, self._state.shown, self._state.label)
        self._state = state
        self.value_label.setText(state.text)
        self.reason_label.setText(state.reason)
        if look_changed:
            dim = state.ended or state.not_measured
            reason = theme.MANUAL if state.manual else theme.TEXT_DIM if dim else None
            self.reason_label.setStyleSheet(f"color: {reason};" if reason else "")
            colour = theme.VITAL_COLOURS[self.shown_vital()]
            self.value_label.setStyleSheet(f"color: {theme.TEXT_DIM if dim else colour};")
            self.set_caption(state.label or SPECS[self.vital].label)
            self._caption.setStyleSheet(f"color: {colour};")
            self._unit.setText(SPECS[self.shown_vital()].unit)
            self._show_limits()
            self.reserve_bell_room()
            self.update()   # the crossed bell follows the caption

    def _bell_applies(self) -> bool:
        return not (self._state.ended or self._state.not_measured)

    def set_limit_texts(self, texts: list[str]) -> None:
        """The alarm limits in small figures, longest wording first (:mod:`.tile_limits`)."""
        self._limit_texts = list(texts)
        self._show_limits()

    def limit_text(self) -> str:
        """The limit figures shown (none on an ended or not-measured tile)."""
        return self.limits_label.text()

    def _show_limits(self) -> None:
        texts = [] if self._state.ended or self._state.not_measured else self._limit_texts
        if texts != self._shown_limits:
            self._shown_limits = texts
            self.limits_label.set_texts(texts)

    def is_ended(self) -> bool:
        """Whether the tile is greyed because the session has ended."""
        return self._state.ended

    def is_manual(self) -> bool:
        """Whether the value shown was typed in by the nurse (tagged "MANUAL")."""
        return self._state.manual

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self._update_caption_fonts()

    def _update_caption_fonts(self) -> None:
        px = caption_pixel_size(self.height())
        if px == self._caption.font().pixelSize():
            return
        for label in (self._caption, self._unit, self.reason_label):
            label.setFont(theme.font(px, bold=label is not self._unit))
            label.setFixedHeight(int(px * 1.4))
        self.limits_label.setFont(theme.font(limits_pixel_size(px)))
        self.limits_label.setFixedHeight(int(px * 1.4))
        if self._caption_plain:
            self._render_caption()   # the device's name follows the caption's size
        self.reserve_bell_room()
