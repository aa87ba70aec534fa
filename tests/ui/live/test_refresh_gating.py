"""The refresh loop: pleth every tick, the rest on news or at most three ticks late."""

from __future__ import annotations

from monitor.core.vitals import Vital
from monitor.ui.live.view import TEXTS_EVERY_S, TEXTS_EVERY_TICKS
from tests.ui.helpers import T0, pleth_chunk, reading, session_started


def _hr(view) -> str:
    return view.tiles[Vital.HR].value_text()


def test_a_reading_is_shown_on_the_tick_it_arrives(view, ui_queue, clock):
    ui_queue.put(session_started())
    view.drain()
    for k in range(2 * TEXTS_EVERY_TICKS):   # whatever the tick's place in the cycle
        clock.advance_to(T0 + 0.01 * (k + 1))
        ui_queue.put(reading(Vital.HR, 60 + k, T0 + 0.01 * (k + 1)))
        view.drain()
        assert _hr(view) == str(60 + k)


def test_pleth_samples_are_drawn_on_every_tick(view, ui_queue, clock):
    ui_queue.put(session_started())
    view.drain()
    for k in range(2 * TEXTS_EVERY_TICKS):
        ui_queue.put(pleth_chunk(T0 + 0.25 * k, n=25))
        view.drain()
        _, y = view.pleth.curve.getData()
        cursor = view.model.sweep.cursor
        assert y.shape == view.model.sweep.y.shape and y[cursor] == view.model.sweep.y[cursor]


def test_a_value_going_stale_is_shown_within_three_ticks(view, ui_queue, clock):
    """With no news and the clock hardly moving, time-driven texts still follow."""
    ui_queue.put(session_started())
    ui_queue.put(reading(Vital.HR, 72, T0))
    view.drain()
    stale_at = T0 + view.model.stale_after_s
    clock.advance_to(stale_at - 0.01)
    view.drain()
    assert _hr(view) == "72"
    clock.advance_to(stale_at + 0.5 * TEXTS_EVERY_S)   # past the limit, by less than a pass
    shown = []
    for _ in range(TEXTS_EVERY_TICKS):
        ui_queue.put(pleth_chunk(clock.now() - 0.25, n=25))   # only pleth samples come
        view.drain()
        shown.append(_hr(view))
    assert shown[-1] == "---"


def test_a_clock_jump_updates_at_once(view, ui_queue, clock):
    ui_queue.put(session_started())
    ui_queue.put(reading(Vital.HR, 72, T0))
    view.drain()
    clock.advance_to(T0 + 30)
    view.drain()
    assert _hr(view) == "---"
    assert view.header.session_clock_label.text() == "0:00:30"
