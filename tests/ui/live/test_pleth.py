"""Pleth sweep: left-to-right cursor, erased gap, NaN gaps, thin pen."""

from __future__ import annotations

import numpy as np

from tests.ui.helpers import T0, pleth_chunk, session_started


def test_sweep_draws_chunks_with_gap_ahead_of_cursor(view, ui_queue, clock):
    for i in range(4):
        ui_queue.put(pleth_chunk(T0 + i * 0.25, n=25))
    clock.advance_to(T0 + 1)
    view.drain()
    x, y = view.pleth.curve.getData()
    assert len(x) == 1000 and x[0] == 0.0 and np.isclose(x[-1], 9.99)
    cursor = view.model.sweep.cursor
    assert np.isfinite(y[cursor])
    assert np.isnan(y[(cursor + 1 + np.arange(30)) % 1000]).all()
    assert np.isfinite(y).sum() == 100
    previous = cursor
    ui_queue.put(pleth_chunk(T0 + 1.0, n=25))
    view.drain()
    assert view.model.sweep.cursor == (previous + 25) % 1000


def test_nan_samples_are_gaps(view, ui_queue):
    ui_queue.put(pleth_chunk(T0, n=100, nan_at=slice(40, 50)))
    view.drain()
    _, y = view.pleth.curve.getData()
    cursor = view.model.sweep.cursor
    first = (cursor - 99) % 1000
    written = y[(first + np.arange(100)) % 1000]
    assert np.isnan(written[40:50]).all() and np.isfinite(written[:40]).all()
    assert view.pleth.curve.opts["connect"] == "finite"


def test_thin_pen_without_antialiasing(view):
    curve = view.pleth.curve
    assert curve.opts["pen"].width() <= 1
    assert curve.opts["antialias"] is False


def test_sweep_clears_when_the_wave_stops(view, ui_queue, clock):
    ui_queue.put(pleth_chunk(T0, n=100))
    view.drain()
    clock.advance_to(T0 + 20)
    view.drain()
    _, y = view.pleth.curve.getData()
    assert y is None or len(y) == 0


def test_pleth_y_range_fits_the_trace_with_hysteresis(view, ui_queue, clock):
    ui_queue.put(session_started())
    for i in range(20):
        ui_queue.put(pleth_chunk(T0 + i * 0.25))
    clock.advance_to(T0 + 5)
    view.drain()
    _, y = view.pleth.curve.getData()
    lo, hi = view.pleth.plot_widget.getPlotItem().viewRange()[1]
    finite = y[np.isfinite(y)]
    assert lo <= finite.min() and finite.max() <= hi  # the whole trace is visible
    assert hi - lo <= 1.5 * (finite.max() - finite.min())  # and fills the panel


def test_the_curve_bounds_hold_the_whole_trace(view, ui_queue, clock):
    """The curve's bounds are the panel's, not measured: they must still hold every point."""
    for i in range(8):
        ui_queue.put(pleth_chunk(T0 + i * 0.25))
    clock.advance_to(T0 + 2)
    view.drain()
    big = pleth_chunk(T0 + 2.0)
    ui_queue.put(type(big)(big.vital, big.t0, big.rate, big.samples * 40.0 - 500.0))
    view.drain()
    x, y = view.pleth.curve.getData()
    rect = view.pleth.curve.boundingRect()
    finite = np.isfinite(y)
    assert finite.sum() > 200
    assert rect.left() <= x.min() and x.max() <= rect.right()
    assert rect.top() <= y[finite].min() and y[finite].max() <= rect.bottom()
