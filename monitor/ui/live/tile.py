"""The numeric tile of one continuous vital (HR, SpO2, PR, RR, EtCO2)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QSizePolicy, QWidget

from monitor.core.vitals import SPECS, Vital
from monitor.ui.live.model import TileState
from monitor.ui.live.tile_alarm import TileAlarm, TileAlarmMixin
from monitor.ui.shared import theme
from monitor.ui.shared.fitted_label import FittedLabelWidget


def caption_pixel_size(tile_height: int) -> int:
    """Font size of a tile's label, unit and reason lines for a tile this tall."""
    return max(13, min(28, int(tile_height * 0.09)))


def make_caption(text: str, object_name: str, align: Qt.AlignmentFlag) -> QLabel:
    """A small tile line (label, unit, reason, age)."""
    label = QLabel(text)
    label.setObjectName(object_name)
    label.setAlignment(align | Qt.AlignmentFlag.AlignVCenter)
    label.setFont(theme.font(14, bold=object_name == "tile_reason"))
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
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
        grid = QGridLayout(self)
        grid.setContentsMargins(8, 4, 8, 4)
        grid.setSpacing(0)
        grid.addWidget(self._caption, 0, 0)
        grid.addWidget(self._unit, 0, 1)
        grid.addWidget(self.value_label, 1, 0, 1, 2)
        grid.addWidget(self.reason_label, 2, 0, 1, 2)
        grid.setRowStretch(1, 1)
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

    def caption_text(self) -> str:
        """The tile's caption: its vital's label, or that of the vital shown in its place."""
        return self._caption.text()

    def is_not_measured(self) -> bool:
        """Whether the tile says the source cannot measure its vital."""
        return self._state.not_measured

    def set_state(self, state: TileState) -> None:
        """Show ``state``; labels are only touched when their text changes."""
        if state == self._state:
            return
        look = (state.manual, state.ended, state.not_measured, state.shown)
        look_changed = look != (self._state.manual, self._state.ended,
                                self._state.not_measured, self._state.shown)
        self._state = state
        self.value_label.setText(state.text)
        self.reason_label.setText(state.reason)
        if look_changed:
            dim = state.ended or state.not_measured
            reason = theme.MANUAL if state.manual else theme.TEXT_DIM if dim else None
            self.reason_label.setStyleSheet(f"color: {reason};" if reason else "")
            colour = theme.VITAL_COLOURS[self.shown_vital()]
            self.value_label.setStyleSheet(f"color: {theme.TEXT_DIM if dim else colour};")
            self._caption.setText(state.label or SPECS[self.vital].label)
            self._caption.setStyleSheet(f"color: {colour};")
            self._unit.setText(SPECS[self.shown_vital()].unit)
            self.update()   # the crossed bell follows the caption

    def _bell_applies(self) -> bool:
        return not (self._state.ended or self._state.not_measured)

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
