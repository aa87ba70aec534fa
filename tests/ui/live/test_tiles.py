"""Numeric tiles: new values, stale values, invalid readings, not measured, the crossed bell."""

from __future__ import annotations

from dataclasses import replace

import pytest
from PySide6.QtGui import QColor

from monitor.core.alarms.engine import AlarmEngine
from monitor.core.alarms.model import SetVitalAlarms
from monitor.core.alarms.profile_file import load_default_profile
from monitor.core.queues import LatestValue
from monitor.core.reading import Quality, Reading, make_reading
from monitor.core.vitals import NIBP_VITALS, Vital
from monitor.ui.alarms.indicators import BELL_COLOUR
from tests.ui.helpers import T0, reading, session_started


def test_tiles_show_new_readings(view, ui_queue, clock):
    for vital, value in ((Vital.HR, 72), (Vital.SPO2, 98), (Vital.PULSE_RATE, 73),
                         (Vital.RESP_RATE, 14), (Vital.ETCO2, 36)):
        ui_queue.put(reading(vital, value, T0))
    assert view.drain() == 5
    for vital, text in ((Vital.HR, "72"), (Vital.SPO2, "98"), (Vital.PULSE_RATE, "73"),
                        (Vital.RESP_RATE, "14"), (Vital.ETCO2, "36")):
        assert view.tiles[vital].value_label.text() == text
    clock.advance_to(T0 + 1)
    ui_queue.put(reading(Vital.HR, 75, T0 + 1))
    view.drain()
    assert view.tiles[Vital.HR].value_label.text() == "75"


def test_tiles_start_empty(view):
    view.drain()
    assert view.tiles[Vital.HR].value_label.text() == "---"


def test_stale_value_turns_to_dashes_without_new_data(view, ui_queue, clock):
    hr = view.tiles[Vital.HR]
    ui_queue.put(reading(Vital.HR, 80, T0))
    view.drain()
    assert hr.value_label.text() == "80"
    clock.advance_to(T0 + 9)
    assert view.drain() == 0
    assert hr.value_label.text() == "80"
    clock.advance_to(T0 + 11)
    view.drain()
    assert hr.value_label.text() == "---"
    assert hr.reason_label.text() == "NO DATA"
    assert hr.value_text() == "---"
    ui_queue.put(reading(Vital.HR, 82, T0 + 11))
    view.drain()
    assert hr.value_label.text() == "82"
    assert hr.reason_label.text() == ""


def test_invalid_reading_shows_dashes_and_reason_at_once(view, ui_queue, clock):
    spo2 = view.tiles[Vital.SPO2]
    ui_queue.put(reading(Vital.SPO2, 97, T0))
    view.drain()
    clock.advance_to(T0 + 1)
    ui_queue.put(Reading.invalid(Vital.SPO2, T0 + 1, Quality.SENSOR_OFF))
    view.drain()
    assert spo2.value_label.text() == "---"
    assert spo2.reason_label.text() == "SENSOR OFF"
    assert spo2.reason_text() == "SENSOR OFF"


def test_custom_stale_limit(make_view, ui_queue, clock):
    view = make_view(stale_after_s=3.0)
    ui_queue.put(reading(Vital.RESP_RATE, 12, T0))
    view.drain()
    clock.advance_to(T0 + 3.5)
    view.drain()
    assert view.tiles[Vital.RESP_RATE].value_label.text() == "---"


# -- issue 13: not measured, low perfusion, the crossed bell ---------------------------------

OXIMETER = frozenset({Vital.SPO2, Vital.PULSE_RATE, Vital.PERF_INDEX})
MONITOR = frozenset({Vital.HR, Vital.PULSE_RATE, Vital.SPO2, Vital.RESP_RATE, Vital.ETCO2,
                     *NIBP_VITALS})


class Engine:
    """A real alarm engine for the view, publishing on the view's queue like the hub."""

    def __init__(self, ui_queue, measures) -> None:
        self.queue = ui_queue
        self.engine = AlarmEngine(load_default_profile(), started_at=T0, measures=measures)
        self.state = LatestValue(self.engine.snapshot())
        ui_queue.put(replace(session_started(), measures=measures))

    def feed(self, vital: Vital, value: float, t: float,
             quality: Quality = Quality.OK) -> None:
        r = make_reading(vital, value, t, quality)
        self.queue.put(r)
        for msg in self.engine.on_reading(r):
            self.queue.put(msg)
        self.state.set(self.engine.snapshot())

    def send(self, command) -> None:
        for msg in self.engine.command(command, T0):
            self.queue.put(msg)
        self.state.set(self.engine.snapshot())


def _engine_view(make_view, ui_queue, measures):
    engine = Engine(ui_queue, measures)
    view = make_view(alarm_state=engine.state.get, send_command=engine.send,
                     profile=engine.engine.profile, sound=False)
    view.resize(1280, 800)
    view.show()
    return view, engine


def _amber_pixels(tile) -> int:
    """Pixels of the crossed bell's colour where the tile draws its bell."""
    image = tile.grab(tile.bell_rect().toAlignedRect()).toImage()
    want = QColor(BELL_COLOUR)
    return sum(1 for y in range(image.height()) for x in range(image.width())
               if abs(image.pixelColor(x, y).red() - want.red()) < 40
               and abs(image.pixelColor(x, y).green() - want.green()) < 40
               and image.pixelColor(x, y).blue() < 80)


def test_an_oximeter_alone_shows_pr_in_the_hr_place_and_says_what_is_not_measured(
        qtbot, make_view, ui_queue, clock):
    view, engine = _engine_view(make_view, ui_queue, OXIMETER)
    engine.feed(Vital.PULSE_RATE, 77, T0)
    engine.feed(Vital.SPO2, 97, T0)
    view.drain()
    big, small = view.tiles[Vital.HR], view.tiles[Vital.PULSE_RATE]
    assert (big.caption_text(), big.value_text(), big.shown_vital()) == ("PR", "77",
                                                                          Vital.PULSE_RATE)
    assert (small.caption_text(), small.value_text(), small.reason_text()) == (
        "HR", "", "NOT MEASURED")
    assert small.is_not_measured() and not big.is_not_measured()
    for vital in (Vital.RESP_RATE, Vital.ETCO2):
        assert view.tiles[vital].reason_text() == "NOT MEASURED"
        assert view.tiles[vital].value_text() == ""
    assert view.nibp_tile.reason_text() == "NO BP SOURCE"
    # The pulse rate raises the heart-rate alarms; they flash the tile that shows it.
    for s in range(8):
        clock.advance_to(T0 + s)
        engine.feed(Vital.PULSE_RATE, 136, T0 + s)
    view.drain()
    assert big.alarm_colour() != "" and small.alarm_colour() == ""
    assert not big.bell_shown() and not small.bell_shown()   # PR is alarmed; HR not measured
    # and the tile that shows it shows their limits; the not-measured tile shows none.
    assert big.limit_text() == "\u25bc50 \u25b2110"
    assert small.limit_text() == ""


def test_a_monitor_with_ecg_keeps_hr_in_its_place(make_view, ui_queue):
    view, engine = _engine_view(make_view, ui_queue, MONITOR)
    engine.feed(Vital.HR, 71, T0)
    engine.feed(Vital.PULSE_RATE, 73, T0)
    view.drain()
    assert view.tiles[Vital.HR].caption_text() == "HR"
    assert view.tiles[Vital.HR].value_text() == "71"
    assert view.tiles[Vital.PULSE_RATE].value_text() == "73"
    assert view.tiles[Vital.RESP_RATE].reason_text() == ""   # measured, no value yet
    assert view.tiles[Vital.RESP_RATE].value_text() == "---"


def test_a_low_perfusion_value_is_shown_with_its_caveat(view, ui_queue):
    ui_queue.put(make_reading(Vital.SPO2, 95, T0, Quality.LOW_PERFUSION))
    view.drain()
    assert view.tiles[Vital.SPO2].value_text() == "95"
    assert view.tiles[Vital.SPO2].reason_text() == "LOW PERFUSION"
    ui_queue.put(make_reading(Vital.SPO2, 96, T0))
    view.drain()
    assert view.tiles[Vital.SPO2].reason_text() == ""


def test_the_crossed_bell_marks_the_tiles_whose_alarms_are_off(qtbot, make_view, ui_queue):
    view, engine = _engine_view(make_view, ui_queue, MONITOR)
    qtbot.waitExposed(view)
    view.drain()
    tiles = view.tiles
    assert [v for v, t in tiles.items() if t.bell_shown()] == [Vital.PULSE_RATE]
    assert _amber_pixels(tiles[Vital.PULSE_RATE]) > 10
    assert _amber_pixels(tiles[Vital.SPO2]) == 0
    engine.send(SetVitalAlarms(Vital.SPO2, False, by="RN"))
    engine.send(SetVitalAlarms(Vital.NIBP_SYS, False, by="RN"))
    view.drain()
    assert {v for v, t in tiles.items() if t.bell_shown()} == {Vital.PULSE_RATE, Vital.SPO2}
    assert view.nibp_tile.bell_shown()
    assert _amber_pixels(tiles[Vital.SPO2]) > 10
    engine.send(SetVitalAlarms(Vital.SPO2, True, by="RN"))
    view.drain()
    assert not tiles[Vital.SPO2].bell_shown()


@pytest.mark.qt_log_ignore("does not support propagateSizeHints")
def test_the_crossed_bell_never_covers_the_unit_of_a_small_tile_naming_its_device(qtbot):
    """At 1280×800 a small tile is about 150 px wide: "PR · Masimo", the bell and "bpm"."""
    from monitor.ui.live.tile import VitalTileWidget
    from monitor.ui.live.tile_texts import TileState

    tile = VitalTileWidget(Vital.PULSE_RATE, large=False)
    qtbot.addWidget(tile)
    tile.set_state(TileState("78", label="PR \u00b7 Masimo"))
    tile.set_limit_texts(["\u25bc50 \u25b2120"])
    tile.resize(150, 150)
    tile.show()
    qtbot.waitExposed(tile)
    tile.set_alarms_off(True)
    qtbot.wait(10)
    assert tile.bell_shown()
    bell = tile.bell_rect()
    unit = tile._unit.geometry()
    assert bell.right() <= unit.left(), (bell, unit)
    assert _amber_pixels(tile) > 10                     # drawn, where it says
    tile.set_alarms_off(False)
    assert tile._caption.contentsMargins().right() == 0  # no room kept without a bell
