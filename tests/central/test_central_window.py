"""The central window offscreen: a tile per chair, the most urgent first, the IEC colours."""

from __future__ import annotations

import time

import pytest

from monitor.central.listener import CentralConfig, CentralListener
from monitor.central.protocol import encode, parse_broker_url, topic
from monitor.central.station import CentralModel
from monitor.core.alarms.model import Priority
from monitor.ui.alarms.style import COLOURS
from monitor.ui.central.texts import tile_texts
from monitor.ui.central.window import CentralWindow

pytestmark = pytest.mark.qt_log_ignore("does not support propagateSizeHints")
T0 = 1_800_000_000.0


def _feed(model: CentralModel, chair: str, kind: str, now: float, **body) -> None:
    model.on_message(topic("clinic", chair, kind), encode(body), now)


def _clinic(model: CentralModel, now: float) -> None:
    for i in (1, 2, 3):
        _feed(model, f"chair-{i}", "state", now, name=f"Chair {i}", online=True, run=1.0,
              patient=f"P-{i:010d}", phase="infusion", phase_since=now - 600)
        _feed(model, f"chair-{i}", "numerics", now, t=now, values={"hr": 70 + i, "spo2": 97})
    _feed(model, "chair-2", "nibp", now, t=now - 120, sys=182, dia=104, mean=130)
    _feed(model, "chair-2", "alarm", now, seq=1, run=1.0, id="nibp_sys.high", priority="high",
          state="raised", message="NIBP sys 182 > 180", sent=now)


def test_tile_texts_say_who_what_and_never_show_an_offline_chair_as_current():
    m = CentralModel()
    _clinic(m, T0)
    t = tile_texts(m.chairs["chair-2"], T0)
    assert (t.name, t.patient, t.phase) == ("Chair 2", "P-0000000002", "INFUSION 10:00")
    assert (t.hr, t.spo2, t.nibp, t.nibp_age) == ("72", "97", "182/104", "2 min ago")
    assert t.alarm == "*** NIBP sys 182 > 180" and t.priority is Priority.HIGH
    m.tick(T0 + 30)
    t = tile_texts(m.chairs["chair-1"], T0 + 30)
    assert t.offline and (t.hr, t.spo2, t.nibp) == ("---", "---", "---/---")
    assert t.phase == "last: INFUSION 10:00"
    assert t.link == "NO SIGNAL \u00b7 nothing received \u00b7 for 30 s"


def test_the_window_shows_every_chair_the_most_urgent_first(qtbot, broker):
    listener = CentralListener(CentralConfig(parse_broker_url(broker.url)), lambda e: None)
    now = time.time()
    with listener.lock:
        _clinic(listener.model, now)
    window = CentralWindow(listener, columns=3, sound=False)
    qtbot.addWidget(window)
    window.resize(1920, 1080)
    window.show()
    qtbot.waitExposed(window)
    window.refresh()
    assert window._placed[:-1] == ["chair-2", "chair-1", "chair-3"]
    tile = window.tiles["chair-2"]
    assert tile.alarm_text() == "*** NIBP sys 182 > 180"
    assert COLOURS[Priority.HIGH].lit in tile.styleSheet()
    assert window.tiles["chair-1"].alarm_text() == "no alarm"
    assert window.sounding is Priority.HIGH           # the desk sounds the high alarm
    # Room order keeps the chairs where they are.
    window.order = "room"
    window.refresh()
    assert window._placed[:-1] == ["chair-1", "chair-2", "chair-3"]
    # A chair not heard from is a technical alarm of the central, in the medium colour.
    with listener.lock:
        listener.model.tick(now + 60)
    window.refresh()
    assert window.tiles["chair-3"].alarm_text().startswith("CHAIR NOT HEARD: NO SIGNAL")
    assert window.tiles["chair-3"].hr.text() == "---"
    assert COLOURS[Priority.MEDIUM].lit in window.tiles["chair-3"].styleSheet()
    # Silencing the desk silences its own sound, not the chairs' alarms.
    window.silence()
    assert window.sounding is None and "DESK SILENCED" in window.header.text()
    assert window.tiles["chair-3"].alarm_text().startswith("CHAIR NOT HEARD")   # still shown
    window.close()


def test_the_desk_sounds_a_silent_chair_and_not_an_acknowledged_alarm(qtbot, broker):
    listener = CentralListener(CentralConfig(parse_broker_url(broker.url)), lambda e: None)
    now = time.time()
    with listener.lock:
        _clinic(listener.model, now)
        _feed(listener.model, "chair-2", "alarm", now, seq=2, run=1.0, id="nibp_sys.high",
              priority="high", state="acknowledged", message="NIBP sys 182 > 180", sent=now)
    window = CentralWindow(listener, sound=False)
    qtbot.addWidget(window)
    window.refresh()
    assert window.sounding is None            # acknowledged at the chair: shown, not sounded
    with listener.lock:
        listener.model.tick(now + 60)
    window.refresh()
    assert window.sounding is Priority.MEDIUM   # chairs not heard from
    window.close()


def test_a_click_opens_the_chair_trends_from_the_messages_received(qtbot, broker):
    from PySide6.QtCore import Qt

    listener = CentralListener(CentralConfig(parse_broker_url(broker.url)), lambda e: None)
    now = time.time()
    with listener.lock:
        _clinic(listener.model, now)
        for s in range(1, 120):
            _feed(listener.model, "chair-1", "numerics", now + s, t=now + s,
                  values={"hr": 70 + s % 5, "spo2": 97})
        _feed(listener.model, "chair-1", "nibp", now + 60, t=now + 60, sys=150, dia=90)
    window = CentralWindow(listener, sound=False)
    qtbot.addWidget(window)
    window.show()
    window.refresh()
    qtbot.mouseClick(window.tiles["chair-1"], Qt.MouseButton.LeftButton)
    dialog = window.trend_dialog
    assert "Chair 1" in dialog.windowTitle()
    hr = dialog.curves["hr"].yData
    assert len(hr) == 120 and hr[-1] == 70 + 119 % 5
    assert list(dialog.curves["nibp_sys"].yData) == [150.0]
    assert dialog.curves["nibp_sys"].xData[0] == 1.0       # a minute after first heard
    dialog.close()
    window.close()


def test_the_acknowledge_button_shows_only_where_desk_and_chair_allow_it(qtbot, broker):
    listener = CentralListener(CentralConfig(parse_broker_url(broker.url), remote_actions=True),
                               lambda e: None)
    now = time.time()
    with listener.lock:
        _clinic(listener.model, now)
        _feed(listener.model, "chair-1", "state", now, name="Chair 1", online=True, run=1.0,
              remote_actions=True)
        _feed(listener.model, "chair-1", "alarm", now, seq=1, run=1.0, id="spo2.low",
              priority="medium", state="raised", message="SpO2 90 < 92", sent=now)
    window = CentralWindow(listener, sound=False)
    qtbot.addWidget(window)
    window.show()
    window.refresh()
    assert window.tiles["chair-1"].ack_button.isVisible()
    assert not window.tiles["chair-2"].ack_button.isVisible()   # its setting is off
    assert not window.tiles["chair-3"].ack_button.isVisible()   # and it has no alarm
    window.close()
