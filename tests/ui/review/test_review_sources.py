"""The review of a session of two devices: which device the values are from, and the filter."""

from __future__ import annotations

import numpy as np
import pytest

from monitor.core.vitals import Vital
from monitor.ui.review.loading import load_review
from monitor.ui.review.review_view import ReviewView
from tests.review.two_devices import T0, record_two_devices

pytestmark = pytest.mark.qt_log_ignore(r"does not support propagateSizeHints")  # offscreen


@pytest.fixture
def view(qtbot, tmp_path):
    db, sid = record_two_devices(tmp_path)
    v = ReviewView(load_review(db, sid))
    qtbot.addWidget(v)
    v.show()
    qtbot.waitExposed(v)
    return v


def _spo2(view: ReviewView) -> np.ndarray:
    return np.asarray(view.plots.curves[Vital.SPO2].yData)


def test_the_review_names_the_devices_and_plots_the_values_shown(view):
    assert "devices Masimo + Datex S/5" in view.header.text()
    assert view.source_filter.isVisible()
    assert [view.source_filter.itemText(i) for i in range(view.source_filter.count())] == [
        "Values shown at the chair", "Masimo only", "Datex S/5 only"]
    x = np.asarray(view.plots.curves[Vital.SPO2].xData) * 60.0
    shown = _spo2(view)
    assert len(shown) == 60
    assert np.all(shown[(x < 20) | (x >= 41)] == 97) and np.all(shown[(x > 20) & (x < 40)] == 91)


def test_choosing_a_device_shows_its_values_only_and_back(view, qtbot):
    view.source_filter.setCurrentIndex(2)          # Datex S/5 only
    qtbot.waitUntil(lambda: view.record.source_filter == "Datex S/5", timeout=10_000)
    assert np.all(_spo2(view) == 91) and len(_spo2(view)) == 60
    assert "values of Datex S/5 only" in view.header.text()
    spo2 = view._data.summary.vitals[Vital.SPO2]
    assert (spo2.lowest, spo2.peak) == (91, 91)
    view.source_filter.setCurrentIndex(0)
    qtbot.waitUntil(lambda: view.record.source_filter is None, timeout=10_000)
    assert set(np.unique(_spo2(view))) == {91, 97}
    assert view.source_filter.isEnabled()
    # The cursor reads the values now shown.
    view._on_cursor_moved(T0 + 30.6)
    assert "91" in view.readout.text()
