"""Repaint the live view many times with data flowing.

PySide6 6.12.0 with pyqtgraph 0.14.0 aborted Python 3.11 after a few hundred
repaints of a multi-plot layout (STYLE.md section 6). This test must run
to the end on the pinned binding; keep it when bumping PySide6.
"""

from __future__ import annotations

import numpy as np

from monitor.core.events import PhaseChanged, RecordingStatus
from monitor.core.session import Phase
from monitor.core.vitals import Vital
from tests.ui.helpers import T0, nibp, pleth_chunk, reading, session_started

REPAINTS = 1200
TICK_S = 0.04  # 25 Hz refresh


def test_many_repaints_with_data_flowing(qtbot, shown_view, ui_queue, clock):
    view = shown_view
    ui_queue.put(session_started())
    ui_queue.put(RecordingStatus(True, T0))
    hr = spo2 = 0
    for i in range(REPAINTS):
        t = T0 + i * TICK_S
        clock.advance_to(t + TICK_S)
        ui_queue.put(pleth_chunk(t, n=4))
        if i % 25 == 0:
            s = i // 25
            hr, spo2 = 60 + s % 30, 90 + s % 10
            ui_queue.put(reading(Vital.HR, hr, t))
            ui_queue.put(reading(Vital.PULSE_RATE, hr + 1, t))
            ui_queue.put(reading(Vital.SPO2, spo2, t))
            ui_queue.put(reading(Vital.RESP_RATE, 12 + s % 5, t))
        if i % 300 == 0:
            for r in nibp(120 + i // 300, 80, 93, t):
                ui_queue.put(r)
        if i == REPAINTS // 2:
            ui_queue.put(PhaseChanged(Phase.INFUSION, t))
        view.drain()
        if i % 100 == 99:
            view.grab()
        else:
            view.repaint()
    assert view.tiles[Vital.HR].value_label.text() == str(hr)
    assert view.tiles[Vital.SPO2].value_label.text() == str(spo2)
    assert view.nibp_tile.value_label.text() == f"{120 + (REPAINTS - 1) // 300}/80"
    assert view.header.phase_label.text() == "INFUSION"
    _, y = view.pleth.curve.getData()
    assert np.isfinite(y).sum() > 500
    assert len(ui_queue) == 0
