"""Where the live view's widgets sit on the screen.

:func:`build_layout` arranges the widgets :class:`~monitor.ui.live.view.LiveView`
has created: header and alarm bar on top; the workflow panel, the pleth and
trends (or the events list) and the events bar in the left column; the
numeric tiles on the right; the alarm log in the trends' place when opened.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QHBoxLayout, QStackedWidget, QVBoxLayout, QWidget

from monitor.core.vitals import Vital

if TYPE_CHECKING:
    from monitor.ui.live.view import LiveView

LARGE_TILES = (Vital.HR, Vital.SPO2)
SMALL_TILES = (Vital.PULSE_RATE, Vital.RESP_RATE, Vital.ETCO2)


def build_layout(view: LiveView) -> tuple[QStackedWidget, QStackedWidget]:
    """Lay out ``view``'s widgets and make the result its central widget.

    Returns the left column's stack (pleth and trends, or the events list)
    and the stack of the trends and the alarm log under the pleth.
    """
    root = QWidget()
    root.setObjectName("live_root")
    # The workflow and events go in the left column, so the numerics on
    # the right keep the whole height.
    # The events list, when opened, takes the place of the pleth and trends.
    waves = QWidget()
    waves_column = QVBoxLayout(waves)
    waves_column.setContentsMargins(0, 0, 0, 0)
    waves_column.setSpacing(6)
    waves_column.addWidget(view.pleth, 1)
    # The alarm log, when opened, takes the place of the trends (the pleth
    # and the numbers stay): it never squeezes the trends below legibility.
    trend_stack = QStackedWidget()
    trend_stack.addWidget(view.trends)
    trend_stack.addWidget(view.alarm_log)
    waves_column.addWidget(trend_stack, 6)
    left_stack = QStackedWidget()
    left_stack.addWidget(waves)
    left_stack.addWidget(view.events_list)
    left = QVBoxLayout()
    left.setSpacing(6)
    left.addWidget(view.workflow_panel)
    left.addWidget(left_stack, 1)
    left.addWidget(view.events_bar)
    big_row = QHBoxLayout()
    big_row.setSpacing(6)
    for vital in LARGE_TILES:
        big_row.addWidget(view.tiles[vital])
    small_row = QHBoxLayout()
    small_row.setSpacing(6)
    for vital in SMALL_TILES:
        small_row.addWidget(view.tiles[vital])
    right = QVBoxLayout()
    right.setSpacing(6)
    right.addLayout(big_row, 5)
    right.addWidget(view.nibp_tile, 4)
    right.addLayout(small_row, 3)
    body = QHBoxLayout()
    body.setContentsMargins(0, 0, 0, 0)
    body.setSpacing(8)
    body.addLayout(left, 11)
    body.addLayout(right, 9)
    column = QVBoxLayout(root)
    column.setContentsMargins(6, 4, 6, 6)
    column.setSpacing(6)
    column.addWidget(view.header)
    column.addWidget(view.alarm_bar)
    column.addLayout(body, 1)
    view.setCentralWidget(root)
    return left_stack, trend_stack
