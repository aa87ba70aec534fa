"""The review view on real recorded sessions: curves, bands, limits, alarms, cursor, lists."""

from __future__ import annotations

import math
import time
from dataclasses import replace

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QAbstractItemView, QApplication

from monitor.core.alarms.model import Priority
from monitor.core.session import Phase
from monitor.core.vitals import Vital
from monitor.ui.alarms.style import COLOURS
from monitor.ui.review.plot_items import x_extent
from monitor.ui.review.readout import earlier_text
from monitor.ui.review.review_plots import FOCUS_HALF_WIDTH_MIN, PLETH_KEY
from monitor.ui.review.review_view import header_text

pytestmark = pytest.mark.qt_log_ignore(r"does not support propagateSizeHints")  # offscreen


def _minutes(view, t):
    return (t - view.record.start) / 60.0


def _click_row(qtbot, table, row):
    rect = table.visualItemRect(table.item(row, 1))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_curves_hold_the_recorded_data(make_review):
    view = make_review("surge")
    record = view.record
    for vital in (Vital.HR, Vital.PULSE_RATE, Vital.SPO2, Vital.RESP_RATE, Vital.ETCO2):
        curve = view.plots.curves[vital]
        series = record.numerics[vital]
        assert np.allclose(curve.xData, (series.t - record.start) / 60.0)
        assert np.array_equal(curve.yData, series.v, equal_nan=True)
    t, v = record.numerics[Vital.NIBP_SYS].valid()   # NIBP: the valid determinations
    assert np.array_equal(view.plots.curves[Vital.NIBP_SYS].yData, v)
    assert np.allclose(view.plots.curves[Vital.NIBP_SYS].xData, (t - record.start) / 60.0)
    assert list(view.plots.plots) == ["nibp", "hr", "spo2", "resp", PLETH_KEY]


def test_pleth_drawn_whole_when_zoomed_in_and_as_its_envelope_when_out(make_review):
    view = make_review("surge")
    pleth, wave = view.plots.curves[Vital.PLETH], view.record.pleth
    x = (wave.t - view.record.start) / 60.0
    assert view.plots.pleth_level > 0                  # the whole session: an envelope
    assert len(pleth.yData) < len(wave.v) / 20
    assert np.nanmax(pleth.yData) == np.nanmax(wave.v)
    assert np.nanmin(pleth.yData) == np.nanmin(wave.v)
    view.plots.set_x_range(45.0, 45.1)                 # 6 seconds: every sample
    assert view.plots.pleth_level == 0
    inside = (x >= 45.0) & (x <= 45.1)
    assert inside.sum() > 500
    shown = (pleth.xData >= 45.0) & (pleth.xData <= 45.1)
    assert np.array_equal(pleth.yData[shown], wave.v[inside])
    assert np.allclose(pleth.xData[shown], x[inside])


def test_whole_session_shown_and_x_linked(qtbot, make_review):
    view = make_review("typical")
    lo, hi = view.plots.x_range()
    span = (view.record.end - view.record.start) / 60.0
    assert lo <= 0.0 and hi >= span and hi - lo < 1.05 * span
    view.plots.set_x_range(20.0, 30.0)
    for plot in view.plots.plots.values():   # every plot shown follows (not the pleth: hidden)
        if plot.isVisible():
            assert np.allclose(plot.viewRange()[0], (20.0, 30.0), atol=1e-6)
    assert not view.plots.plots[PLETH_KEY].isVisible()
    view.plots.set_x_range(25.0, 25.5)       # zoomed to seconds, the pleth is back, linked
    pleth = view.plots.plots[PLETH_KEY]
    qtbot.waitUntil(lambda: pleth.isVisible() and np.allclose(pleth.viewRange()[0],
                                                               (25.0, 25.5), atol=1e-4))


def test_phase_bands_and_limit_lines(make_review, loaded):
    view = make_review("typical")
    record = view.record
    phases = [p for p in record.phases if p.phase is not Phase.ENDED]
    assert [p for p, _ in view.plots.bands] == [p.phase for p in phases]
    for (_, regions), span in zip(view.plots.bands, phases, strict=True):
        assert len(regions) == len(view.plots.plots)
        assert np.allclose(x_extent(regions[0]),
                           (_minutes(view, span.start), _minutes(view, span.end)))
    lines = loaded["typical"].profile.limit_lines()[Vital.SPO2]
    drawn = sorted(line.line().y1() for line in view.plots.limit_lines[Vital.SPO2])
    assert drawn == sorted(x for x in (lines.low_medium, lines.low_high, lines.high_medium,
                                       lines.high_high) if x is not None)
    assert all(line in view.plots.plots["spo2"].items
               for line in view.plots.limit_lines[Vital.SPO2])


def test_alarm_spans_on_their_vital_in_priority_colours(make_review):
    view = make_review("surge")
    spans = view.record.alarm_spans()
    assert len(view.plots.alarm_regions) == len(spans) >= 2
    for (span, regions), expected in zip(view.plots.alarm_regions, spans, strict=True):
        assert span == expected
        assert len(regions) == 1 and regions[0] in view.plots.plots["nibp"].items
        assert np.allclose(x_extent(regions[0]),
                           (_minutes(view, span.start), _minutes(view, span.end)))
        colour = regions[0].brush().color()
        assert colour.name() == COLOURS[span.priority].lit
        assert 0 < colour.alpha() < 128   # translucent: the trend stays readable


def test_technical_alarm_spans_every_plot(make_review):
    view = make_review("link")
    technical = [(s, r) for s, r in view.plots.alarm_regions if s.alarm_id == "source.no_data"]
    assert technical, [s.alarm_id for s, _ in view.plots.alarm_regions]
    for span, regions in technical:
        assert len(regions) == len(view.plots.plots)
    # Medium, then high after 60 s without data: two bands, each at its own priority.
    first, second = (s for s, _ in technical)
    assert (first.priority, first.escalated_to, second.priority) == (
        Priority.MEDIUM, Priority.HIGH, Priority.HIGH)
    assert first.end == second.start
    for span, regions in technical:
        assert regions[0].brush().color().name() == COLOURS[span.priority].lit


def test_technical_alarm_of_a_vital_spans_every_plot_too(make_review):
    view = make_review("sensor")
    stale = [(s, r) for s, r in view.plots.alarm_regions if s.alarm_id == "spo2.stale"]
    assert stale and stale[0][0].vital is Vital.SPO2
    assert all(len(regions) == len(view.plots.plots) for _, regions in stale)


def test_readings_without_a_value_are_gaps(make_review):
    view = make_review("sensor")
    series = view.record.numerics[Vital.SPO2]
    missing = np.isnan(series.v)
    assert missing.any()
    y = view.plots.curves[Vital.SPO2].yData
    assert np.array_equal(np.isnan(y), missing)
    assert view.plots.curves[Vital.SPO2].opts["connect"] == "finite"


def test_event_markers_at_the_recorded_times(make_review):
    view = make_review("typical")
    assert [t for t, _ in view.plots.event_lines] == [e.t for e in view.record.events]
    for t, lines in view.plots.event_lines:
        assert len(lines) == len(view.plots.plots)
        assert np.allclose(x_extent(lines[0]), _minutes(view, t))


def test_clicking_an_alarm_centres_the_plots_on_it(qtbot, make_review):
    view = make_review("surge")
    spans = view.record.alarm_spans()
    with qtbot.waitSignal(view.alarm_list.moment_chosen) as blocker:
        _click_row(qtbot, view.alarm_list, 1)
    assert blocker.args == [spans[1].start]
    lo, hi = view.plots.x_range()
    x = _minutes(view, spans[1].start)
    assert math.isclose((lo + hi) / 2, x, abs_tol=1e-6)   # from the whole session: ±5 min
    assert math.isclose(hi - lo, 2 * FOCUS_HALF_WIDTH_MIN, abs_tol=1e-6)
    assert view.plots.cursor_t == spans[1].start
    # Zoomed in, a jump keeps the zoom width.
    view.plots.set_x_range(0.0, 4.0)
    _click_row(qtbot, view.alarm_list, 0)
    lo, hi = view.plots.x_range()
    assert math.isclose((lo + hi) / 2, _minutes(view, spans[0].start), abs_tol=1e-6)
    assert math.isclose(hi - lo, 4.0, abs_tol=1e-6)


def test_clicking_an_event_centres_on_it(qtbot, make_review):
    view = make_review("typical")
    nausea = next(i for i in range(view.event_list.rowCount())
                  if view.event_list.item(i, 1).text() == "Nausea")
    event = next(e for e in view.record.events if e.kind.label == "Nausea")
    _click_row(qtbot, view.event_list, nausea)
    lo, hi = view.plots.x_range()
    assert math.isclose((lo + hi) / 2, _minutes(view, event.t), abs_tol=1e-6)
    assert "Nausea" in view.event_list.item(nausea, 1).text()
    assert view.event_list.item(nausea, 2).text() == event.text


def _move_mouse(widget, pos):
    """A real mouse-move event to ``widget`` (QTest's can be dropped after earlier tests)."""
    event = QMouseEvent(QEvent.Type.MouseMove, QPointF(pos), QPointF(widget.mapToGlobal(pos)),
                        Qt.MouseButton.NoButton, Qt.MouseButton.NoButton,
                        Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, event)


def _last_valid(series, t):
    ok = np.isfinite(series.v) & (series.t <= t)
    return series.t[ok][-1], series.v[ok][-1]


def test_cursor_follows_the_mouse_and_reads_the_recorded_values(qtbot, make_review):
    view = make_review("surge")
    record = view.record
    plot = view.plots.plots["hr"]
    view.plots.set_x_range(30.0, 40.0)
    scene = plot.vb.mapViewToScene(QPointF(35.0, 80.0))
    pos = view.plots.mapFromScene(scene)
    moved = []
    view.plots.cursor_moved.connect(moved.append)
    _move_mouse(view.plots.viewport(), QPoint(pos.x(), pos.y()))
    qtbot.waitUntil(lambda: bool(moved))
    under_mouse = plot.vb.mapSceneToView(view.plots.mapToScene(pos)).x()
    assert 30.0 < under_mouse < 40.0
    assert abs(_minutes(view, view.plots.cursor_t) - under_mouse) < 0.02   # 1 px is 0.013
    t = view.plots.cursor_t
    text = view.readout.text()
    _, hr = _last_valid(record.numerics[Vital.HR], t)
    _, spo2 = _last_valid(record.numerics[Vital.SPO2], t)
    nibp_t, sys_v = _last_valid(record.numerics[Vital.NIBP_SYS], t)
    _, dia_v = _last_valid(record.numerics[Vital.NIBP_DIA], t)
    assert f"HR\u00a0{hr:.0f}" in text and f"SpO2\u00a0{spo2:.0f}" in text
    assert f"NIBP {sys_v:.0f}/{dia_v:.0f}" in text
    taken = time.strftime("%H:%M:%S", time.localtime(nibp_t))
    assert f"taken {taken}, {earlier_text(t - nibp_t)} earlier" in text
    assert "just now" not in text and "ago" not in text
    shown = [line for line, p in zip(view.plots.cursor_lines, view.plots.plots.values(),
                                     strict=True) if p.isVisible()]
    assert len(shown) == len(view.plots.plots) - 1       # 10 minutes: the pleth is hidden
    assert all(line.isVisible() and np.allclose(x_extent(line), _minutes(view, t))
               for line in shown)


def test_summary_panel_shows_summarize_numbers(make_review, loaded):
    view = make_review("surge")
    summary = loaded["surge"].summary
    assert summary is not None and not loaded["surge"].summary_error
    table = view.summary_panel.vitals_table
    rows = {table.item(i, 0).text(): i for i in range(table.rowCount())}
    sys_row = rows["NIBP sys (mmHg)"]
    vs = summary.vitals[Vital.NIBP_SYS]
    assert table.item(sys_row, 1).text() == f"{vs.baseline:.0f}"
    assert table.item(sys_row, 2).text().startswith(f"{vs.peak:.0f} at +")
    assert table.item(sys_row, 4).text() == f"{vs.end:.0f}"
    above = vs.time_beyond["high_high"]
    assert above > 0 and f"> {vs.limits.high_high:g}: {above / 60:.1f} min" \
        in table.item(sys_row, 5).text()
    labels = view.summary_panel.labels
    counts = summary.alarm_counts
    escalated = {a.alarm_id for a in loaded["surge"].record.alarms
                 if a.state.value == "escalated"}
    assert summary.escalated_alarms == len(escalated) > 0   # the surge escalates
    assert labels["alarms"].text() == (f"high {counts.get(Priority.HIGH, 0)}, medium "
                                       f"{counts.get(Priority.MEDIUM, 0)}, low "
                                       f"{counts.get(Priority.LOW, 0)} ({len(escalated)} "
                                       "escalated, one row per priority in the list)"
                                       f" \u00b7 technical {summary.technical_alarms}")
    assert f"{summary.infusion_s / 60:.1f} min running" in labels["infusion"].text()
    assert "PHQ-9 before 15" in labels["scores"].text()
    assert "MADRS before 24" in labels["scores"].text()


def test_header_names_patient_date_clinician_dose_course(make_review):
    view = make_review("surge")
    text = view.header.text()
    for part in ("Patient AB-0012", "clinician Dr Okafor", "dose 0.75 mg/kg (52.5 mg total)",
                 "course 2 of 6", f"session {view.record.session_id}", "SIMULATED"):
        assert part in text


def test_header_of_a_session_without_set_up(loaded):
    record = loaded["link"].record
    assert record.setup is None
    text = header_text(record)
    assert text.startswith("No patient reference  \u00b7") and "dose \u2014" in text
    assert "Patient" not in text
    assert "course" not in text
    assert "INTERRUPTED" in header_text(replace(record, session=replace(
        record.session, status=type(record.session.status)("interrupted"))))


def test_lists_show_every_alarm_and_event(make_review):
    view = make_review("typical")
    record = view.record
    kinds = [view.event_list.item(i, 1).text() for i in range(view.event_list.rowCount())]
    for e in record.events:
        assert e.kind.label in kinds
    assert "Infusion started" in kinds and "Infusion stopped" in kinds
    surge = make_review("surge")
    spans = surge.record.alarm_spans()
    assert surge.alarm_list.rowCount() == len(spans)
    for row, span in enumerate(spans):   # each row at the priority of its own episode
        assert surge.alarm_list.item(row, 1).text() == span.priority.label
        assert surge.alarm_list.item(row, 1).background().color().name() == \
            COLOURS[span.priority].lit
    for table in (surge.alarm_list, surge.event_list):   # wrapped, never sideways:
        assert table.wordWrap()                           # a tall row scrolls by pixels
        assert table.horizontalScrollBarPolicy() == Qt.ScrollBarPolicy.ScrollBarAlwaysOff
        assert table.verticalScrollMode() == QAbstractItemView.ScrollMode.ScrollPerPixel


@pytest.mark.parametrize("name", ["typical", "desat", "link"])
def test_whole_window_draws(make_review, name):
    view = make_review(name)
    image = view.grab()
    area = view.screen().availableGeometry()
    assert area.contains(view.frameGeometry())          # fits the screen, frame and all
    assert image.width() > 0.9 * area.width() and image.height() > 0.8 * area.height()
