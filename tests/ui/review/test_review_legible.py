"""The review window as a clinician reads it: pleth only where legible, labels in view, units.

Real recorded sessions in a shown window (offscreen): what is visible at
the whole-session view and when zoomed to seconds, where the limit labels
are after a zoom, the axis units, the legends and the cursor readout.
"""

from __future__ import annotations

import pytest
from PySide6.QtGui import QColor
from pytestqt.exceptions import TimeoutError as WaitTimeout

from monitor.core.vitals import Vital
from monitor.ui.review.plot_items import minute_ticks
from monitor.ui.review.review_plots import PLETH_KEY, PLETH_MAX_RANGE_MIN, trace_colour
from monitor.ui.review.style import READOUT_PX
from monitor.ui.shared import theme

pytestmark = pytest.mark.qt_log_ignore(r"does not support propagateSizeHints")  # offscreen


def _middle(view) -> float:
    return (view.record.end - view.record.start) / 120.0


def test_pleth_hidden_zoomed_out_and_shown_at_twenty_seconds(qtbot, make_review):
    view = make_review("surge")
    plots = view.plots
    pleth, spo2 = plots.plots[PLETH_KEY], plots.plots["resp"]
    # The whole session and 10 minutes: a solid block, so not shown, and the hint says why.
    for lo, hi in ((None, None), (30.0, 40.0)):
        if lo is None:
            plots.zoom_out()
        else:
            plots.set_x_range(lo, hi)
        assert not pleth.isVisible() and not plots.pleth_visible
        assert view.pleth_hint.isVisible()
        assert spo2.getAxis("bottom").isVisible()      # the time axis under the lowest shown
        # its room goes to the trends: the lowest one reaches the bottom of the layout
        qtbot.waitUntil(lambda: spo2.geometry().bottom() > plots.ci.geometry().bottom() - 12)
    mid = _middle(view)
    plots.set_x_range(mid, mid + 20 / 60.0)                 # 20 seconds
    assert pleth.isVisible() and plots.pleth_visible and not view.pleth_hint.isVisible()
    assert pleth.getAxis("bottom").isVisible() and not spo2.getAxis("bottom").isVisible()
    curve = plots.curves[Vital.PLETH]
    # 2000 samples on ~500 px: drawn at (nearly) every sample, the beats apart
    qtbot.waitUntil(lambda: plots.pleth_level <= 1 and len(curve.yData) > 500)
    axis = pleth.getAxis("bottom")                            # seconds read as a clock
    values = [v for _, vs in axis.tickValues(mid, mid + 20 / 60.0, axis.width())
              for v in vs]
    labels = axis.tickStrings(values, 1.0, 5 / 60.0)
    assert labels and all(":" in t for t in labels)
    assert minute_ticks([35.9], 5 / 60.0) == ["35:54"] and minute_ticks([40.0], 10) == ["40"]
    plots.set_x_range(mid, mid + 2 * PLETH_MAX_RANGE_MIN)
    assert not pleth.isVisible()


def test_limit_labels_stay_in_view_when_zoomed(qtbot, make_review):
    view = make_review("surge")
    plots = view.plots
    assert plots.limit_labels
    def outside() -> list[str]:
        """The labels whose text is not wholly inside their plot, as drawn.

        A label ignores the view's scaling: its text box is its own offset
        from where the view maps its data point.
        """
        out = []
        for label, _ in plots.limit_labels:
            vb = next(p.vb for p in plots.plots.values()
                      if label.parentItem() is p.vb.childGroup)
            anchor = vb.mapViewToScene(label.pos())
            box = label.transform().mapRect(label.boundingRect()).translated(anchor)
            if not vb.sceneBoundingRect().adjusted(-1, -1, 1, 1).contains(box):
                out.append(label.text())
        return out

    for lo, hi in ((10.0, 20.0), (44.0, 44.5), (0.0, plots.span_min)):
        plots.set_x_range(lo, hi)
        for label, _ in plots.limit_labels:
            assert lo <= label.pos().x() <= hi, (label.text(), lo, hi)
        # the view's transform is applied when it is next drawn
        try:
            qtbot.waitUntil(lambda: not outside(), timeout=2000)
        except WaitTimeout:
            raise AssertionError(f"{lo}-{hi}: {outside()}") from None
    def overlapping() -> list[tuple[str, str]]:
        """Pairs of limit labels of one plot whose texts overprint."""
        boxes = []
        for label, _ in plots.limit_labels:
            vb = label.parentItem()
            anchor = next(p.vb for p in plots.plots.values()
                          if p.vb.childGroup is vb).mapViewToScene(label.pos())
            boxes.append((vb, label.text(),
                          label.transform().mapRect(label.boundingRect()).translated(anchor)))
        return [(a[1], b[1]) for i, a in enumerate(boxes) for b in boxes[i + 1:]
                if a[0] is b[0] and a[2].intersects(b[2])]

    plots.zoom_out()
    try:
        qtbot.waitUntil(lambda: not overlapping(), timeout=2000)
    except WaitTimeout:
        raise AssertionError(overlapping()) from None
    plots.set_x_range(44.0, 44.5)                            # the phase in view is named
    shown = [label for label, _, _ in plots.phase_labels if label.isVisible()]
    assert [label.text() for label in shown] == ["infusion"]
    assert 44.0 <= shown[0].pos().x() <= 44.5


def test_axes_carry_units_and_every_shared_plot_a_legend(make_review):
    view = make_review("surge")
    plots = view.plots
    units = {key: plot.getAxis("left").labelText for key, plot in plots.plots.items()}
    assert units == {"nibp": "mmHg", "hr": "bpm", "spo2": "%", "resp": "/min \u00b7 mmHg",
                     PLETH_KEY: "pleth"}
    assert plots.plots[PLETH_KEY].getAxis("bottom").labelText.startswith("minutes")
    legends = plots.legends
    assert [n for n, _ in legends["resp"]] == ["RR (/min)", "EtCO2 (mmHg)"]
    assert [n for n, _ in legends["hr"]] == ["HR (bpm)", "PR (bpm)"]
    assert [n for n, _ in legends["nibp"]] == ["sys/dia (mmHg)", "mean (mmHg)"]
    for key, entries in legends.items():
        title = plots.plots[key].titleLabel.text
        for name, colour in entries:
            assert name in title and colour in title
    rr, etco2 = (c for _, c in legends["resp"])
    assert etco2 == theme.VITAL_COLOURS[Vital.ETCO2]         # the amber of its tile
    assert rr == trace_colour(Vital.RESP_RATE) == plots.curves[Vital.RESP_RATE].opts[
        "pen"].color().name()
    hue = {c: QColor(c).hsvHue() for c in (rr, etco2)}
    assert abs(hue[rr] - hue[etco2]) > 60                   # told apart at a glance


def test_cursor_readout_is_legible(make_review):
    view = make_review("surge")
    view.plots.set_cursor(view.record.start + 60 * _middle(view))
    assert view.readout.font().pixelSize() == READOUT_PX >= 14
    assert view.readout.wordWrap()
    colour = view.readout.palette().color(view.readout.foregroundRole())
    assert colour.lightness() > 200                         # bright text on the dark panel
    assert "just now" not in view.readout.text() and "earlier" in view.readout.text()
