"""Numeric tiles: new values, stale values, invalid readings."""

from __future__ import annotations

from monitor.core.reading import Quality, Reading
from monitor.core.vitals import Vital
from tests.ui.helpers import T0, reading


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
