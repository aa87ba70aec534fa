"""The alarm log panel: rows for transitions, actions and limit changes; newest on top; bounded."""

from __future__ import annotations

import time

from monitor.core.alarms.model import (
    AlarmAction,
    AlarmKind,
    AlarmTransition,
    LimitChanged,
    Priority,
    TransitionState,
)
from monitor.core.vitals import Vital
from monitor.ui.alarms.log_list import AlarmLogWidget
from tests.ui.helpers import T0


def _raised(t: float, message: str = "SpO2 87 < 92") -> AlarmTransition:
    return AlarmTransition("spo2.low", AlarmKind.PHYSIOLOGICAL, Vital.SPO2, Priority.MEDIUM,
                           TransitionState.RAISED, t, 87.0, 92.0, message)


def test_rows_newest_on_top(qtbot):
    log = AlarmLogWidget()
    qtbot.addWidget(log)
    log.add(_raised(T0))
    log.add(AlarmAction(T0 + 3, "acknowledge", "all", "AB"))
    log.add(LimitChanged(T0 + 9, "spo2.low.medium", "limit", 92.0, 90.0, "AB", "COPD"))
    hms = [time.strftime("%H:%M:%S", time.localtime(T0 + d)) for d in (0, 3, 9)]
    assert log.rowCount() == 3
    assert log.row_texts(0) == (hms[2], "", "limit changed",
                                "spo2.low.medium limit: 92 \u2192 90 (COPD)", "", "AB")
    assert log.row_texts(1) == (hms[1], "", "acknowledge", "all", "", "AB")
    assert log.row_texts(2) == (hms[0], "MEDIUM", "raised", "SpO2 87 < 92", "87 / 92", "")
    assert log.item(2, 1).background().color().name() == "#ffd600"


def test_log_is_bounded(qtbot):
    log = AlarmLogWidget(max_rows=50)
    qtbot.addWidget(log)
    for i in range(120):
        log.add(_raised(T0 + i, f"SpO2 {i}"))
    assert log.rowCount() == 50
    assert log.row_texts(0)[3] == "SpO2 119"
    assert log.row_texts(49)[3] == "SpO2 70"
