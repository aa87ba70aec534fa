"""The live view the nurse watches at the infusion chair."""

from __future__ import annotations

import logging

from PySide6.QtCore import Signal
from PySide6.QtGui import QCloseEvent, QShowEvent
from PySide6.QtWidgets import QHBoxLayout, QMainWindow, QVBoxLayout, QWidget

from monitor.acquisition.queues import BoundedQueue
from monitor.core.clock import Clock
from monitor.core.vitals import Vital
from monitor.ui import theme
from monitor.ui.bridge import DrainBridge
from monitor.ui.header import HeaderWidget
from monitor.ui.live_model import LiveModel
from monitor.ui.nibp_tile import NibpTileWidget
from monitor.ui.pleth import PlethSweepWidget
from monitor.ui.tile import VitalTileWidget
from monitor.ui.trends import TrendsWidget

log = logging.getLogger(__name__)

MAX_BATCH = 5000
"""Most queue items applied per refresh tick, so a flood cannot freeze the GUI."""

LARGE_TILES = (Vital.HR, Vital.SPO2)
SMALL_TILES = (Vital.PULSE_RATE, Vital.RESP_RATE, Vital.ETCO2)


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

    Signals
    -------
    refreshed(int)
        After every :meth:`drain`, with the number of queue items handled.
    """

    refreshed = Signal(int)

    def __init__(self, clock: Clock, ui_queue: BoundedQueue, *, simulated: bool,
                 stale_after_s: float = 10.0, nibp_grey_after_s: float = 900.0,
                 refresh_hz: float = 25.0, parent: QWidget | None = None) -> None:
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
        self._build_layout()
        self._bridge = DrainBridge(self.drain, refresh_hz, self)
        self._autostart = True
        self._update_widgets(clock.now())

    def _build_layout(self) -> None:
        root = QWidget()
        root.setObjectName("live_root")
        left = QVBoxLayout()
        left.setSpacing(6)
        left.addWidget(self.pleth, 2)
        left.addWidget(self.trends, 7)
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
        body = QHBoxLayout()
        body.setSpacing(8)
        body.addLayout(left, 11)
        body.addLayout(right, 9)
        column = QVBoxLayout(root)
        column.setContentsMargins(6, 4, 6, 6)
        column.setSpacing(6)
        column.addWidget(self.header)
        column.addLayout(body, 1)
        self.setCentralWidget(root)

    # -- the refresh loop -------------------------------------------------------

    def start(self) -> None:
        """Start draining the queue at ``refresh_hz``."""
        self._autostart = False
        self._bridge.start()

    def stop(self) -> None:
        """Stop the refresh timer (the view keeps showing what it has)."""
        self._autostart = False
        self._bridge.stop()

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
                self.model.apply(item)
            except Exception:  # noqa: BLE001 -- one bad message must not blank the monitor
                log.exception("live view could not apply %r", type(item).__name__)
        now = self._clock.now()
        self.model.note_dropped(self._queue.take_dropped(), now)
        self._update_widgets(now)
        self.refreshed.emit(len(items))
        return len(items)

    def _update_widgets(self, now: float) -> None:
        self.header.set_simulated(self._simulated or self.model.simulated_source)
        self.header.show_state(self.model, now)
        for vital, tile in self.tiles.items():
            tile.set_state(self.model.tile_state(vital, now))
        self.nibp_tile.set_state(self.model.nibp_state(now))
        self.pleth.refresh(now)
        self.trends.refresh(now)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        if self._autostart:  # a view on screen must refresh, unless told otherwise
            self.start()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt override)
        self.stop()
        super().closeEvent(event)
