"""Header: simulated banner, clocks, phase, recording state, status messages."""

from __future__ import annotations

from dataclasses import replace

import pytest

from monitor.core.events import Condition, Note, RecordingStatus, StreamEnded, Technical
from monitor.core.queues import BoundedQueue
from monitor.core.session import Phase
from monitor.core.vitals import Vital
from monitor.ui.alarms.style import clock_text
from monitor.core.workflow.setup import SessionSetup
from monitor.ui.live.header import SIMULATED_TEXT
from monitor.ui.live.header_texts import NO_SETUP_TEXT, context_texts
from tests.ui.helpers import T0, phase, reading, session_started


def test_banner_visible_when_simulated(qtbot, make_view):
    view = make_view(simulated=True)
    view.resize(1280, 800)
    view.show()
    qtbot.waitExposed(view)
    banner = view.header.sim_banner
    assert banner.isVisible()
    assert banner.text() == SIMULATED_TEXT
    assert banner.width() >= 1000 and banner.height() >= 30
    view.drain()
    assert banner.isVisible()


def test_banner_absent_when_not_simulated(qtbot, make_view, ui_queue):
    view = make_view(simulated=False)
    view.show()
    qtbot.waitExposed(view)
    assert not view.header.sim_banner.isVisible()
    ui_queue.put(session_started(simulated=False))
    view.drain()
    assert not view.header.sim_banner.isVisible()


def test_banner_appears_if_the_session_says_simulated(qtbot, make_view, ui_queue):
    view = make_view(simulated=False)
    view.show()
    qtbot.waitExposed(view)
    ui_queue.put(session_started(simulated=True))
    view.drain()
    assert view.header.sim_banner.isVisible()


def test_a_monitor_in_demo_mode_shows_the_not_a_patient_banner(qtbot, make_view, ui_queue,
                                                                clock):
    from monitor.core.events import DeviceFlag
    from monitor.ui.live.header_texts import DEMO_BANNER

    view = make_view(simulated=False)
    view.show()
    qtbot.waitExposed(view)
    ui_queue.put(session_started(simulated=False))
    ui_queue.put(DeviceFlag(T0 + 1, "intellivue.demo_data", True, "Monitor in demo mode"))
    clock.advance_to(T0 + 2)
    view.drain()
    assert view.header.sim_banner.isVisible()
    assert view.header.sim_banner.text() == DEMO_BANNER
    ui_queue.put(DeviceFlag(T0 + 3, "intellivue.demo_data", False))
    clock.advance_to(T0 + 5)
    view.drain()
    assert not view.header.sim_banner.isVisible()


def test_session_clock_and_phase_follow_the_session(view, ui_queue, clock):
    header = view.header
    view.drain()
    assert header.phase_label.text() == "NO SESSION"
    assert header.session_clock_label.text() == "-:--:--"
    ui_queue.put(session_started())
    clock.advance_to(T0 + 65)
    view.drain()
    assert header.session_clock_label.text() == "0:01:05"
    assert header.phase_label.text() == "BASELINE"
    assert header.phase_elapsed_label.text() == "for 0:01:05"
    ui_queue.put(phase(Phase.INFUSION, T0 + 600))
    clock.advance_to(T0 + 3600 + 600 + 7)
    view.drain()
    assert header.phase_label.text() == "INFUSION"
    assert header.phase_elapsed_label.text() == "for 1:00:07"
    assert header.session_clock_label.text() == "1:10:07"
    ui_queue.put(phase(Phase.RECOVERY, T0 + 5000))
    clock.advance_to(T0 + 5000)
    view.drain()
    assert header.phase_label.text() == "RECOVERY"


def test_recording_indicator_and_stopped_warning(qtbot, shown_view, ui_queue, clock):
    header = shown_view.header
    ui_queue.put(RecordingStatus(True, T0))
    shown_view.drain()
    assert header.rec_label.isVisible() and header.rec_label.text() == "\u25cf REC"
    assert not header.rec_warning_label.isVisible()
    ui_queue.put(RecordingStatus(False, T0 + 1, "disk full"))
    ui_queue.put(reading(Vital.HR, 70, T0 + 1))
    clock.advance_to(T0 + 1)
    shown_view.drain()
    assert header.rec_warning_label.isVisible()
    assert header.rec_warning_label.text() == "RECORDING STOPPED \u2014 disk full"
    assert not header.rec_label.isVisible()
    assert shown_view.tiles[Vital.HR].value_label.text() == "70"  # monitoring continues


def test_technical_messages_and_stream_end(view, ui_queue, clock):
    ui_queue.put(Technical(Condition.NO_DATA, True, T0, "No data from source"))
    view.drain()
    assert "No data from source" in view.header.status_label.text()
    ui_queue.put(Technical(Condition.NO_DATA, False, T0, "No data from source"))
    ui_queue.put(StreamEnded(T0 + 2))
    view.drain()
    assert "No data from source" not in view.header.status_label.text()
    text = view.header.status_label.text()
    assert text.startswith(f"SESSION ENDED at {clock_text(T0 + 2)}: not monitoring")
    assert view.header.rec_label.text() == "REC off"   # nothing more is recorded


def test_resumed_session_message(view, ui_queue):
    ui_queue.put(session_started(resumed=True, gap_s=12 * 60))
    view.drain()
    assert "Session resumed after a gap of 12 min" in view.header.status_text()


def test_full_ui_queue_shows_overflow_warning(make_view, clock):
    small = BoundedQueue(5, "ui")
    view = make_view(queue=small)
    for i in range(8):
        small.put(reading(Vital.HR, 70 + i, T0))
    assert view.drain() == 5
    assert "UI queue overflow: 3 items lost" in view.header.status_label.text()
    assert view.tiles[Vital.HR].value_label.text() == "74"
    clock.advance_to(T0 + 120)
    view.drain()
    assert "overflow" not in view.header.status_label.text()


def test_hub_overflow_technical_message_is_shown(view, ui_queue):
    ui_queue.put(Technical(Condition.QUEUE_OVERFLOW, True, T0,
                           "UI queue overflow: 12 items lost", count=12))
    view.drain()
    assert "UI queue overflow: 12 items lost" in view.header.status_label.text()


def test_session_without_reported_failure_counts_as_recording(qtbot, shown_view, ui_queue,
                                                               clock):
    header = shown_view.header
    shown_view.drain()
    assert not header.rec_label.isVisible()  # no session yet: nothing is recorded
    ui_queue.put(session_started())
    shown_view.drain()
    assert header.rec_label.isVisible()
    ui_queue.put(RecordingStatus(False, T0 + 5, "recording failed: disk I/O error"))
    shown_view.drain()
    assert header.rec_warning_label.text() == (
        "RECORDING STOPPED \u2014 recording failed: disk I/O error")
    ui_queue.put(RecordingStatus(True, T0 + 20, "recording resumed; 3 items could not be "
                                                "kept and were lost"))
    clock.advance_to(T0 + 20)
    shown_view.drain()
    assert header.rec_label.isVisible() and not header.rec_warning_label.isVisible()
    assert "Recording resumed; 3 items" in header.status_label.text()
    clock.advance_to(T0 + 200)
    shown_view.drain()
    assert "Recording resumed" not in header.status_label.text()


def test_session_clock_stops_when_the_session_ends(view, ui_queue, clock):
    ui_queue.put(session_started())
    ui_queue.put(phase(Phase.ENDED, T0 + 3600))
    ui_queue.put(Note(T0 + 3600, "session_end", "scenario over", "system"))
    ui_queue.put(StreamEnded(T0 + 3600, "scenario over"))
    clock.advance_to(T0 + 4000)
    assert view.drain() == 4
    assert view.header.session_clock_label.text() == "1:00:00"
    assert view.header.phase_label.text() == "ENDED"
    assert view.header.phase_elapsed_label.text() == ""
    assert (f"SESSION ENDED at {clock_text(T0 + 3600)} (scenario over)"
            in view.header.status_label.text())
    assert view.model.recording is None  # no longer claims to be recording


SETUP = SessionSetup(patient_ref="PT-0042", weight_kg=72.0, dose_mg_per_kg=0.5,
                     clinician="Dr A. Rivera", planned_infusion_min=40.0,
                     course_number=2, course_total=6)


@pytest.mark.parametrize("width", [1280, 1920])
def test_header_says_who_what_and_the_time_of_day(qtbot, make_view, ui_queue, clock, width):
    view = make_view(setup=SETUP)
    view.resize(width, 800 if width == 1280 else 1080)
    view.show()
    qtbot.waitExposed(view)
    ui_queue.put(session_started())
    clock.advance_to(T0 + 125)
    view.drain()
    header = view.header
    label = header.context_label
    # The longest wording that fits, whole: the patient, the dose and the course at least.
    assert label.text() in context_texts(SETUP)
    assert label.fontMetrics().horizontalAdvance(label.text()) <= label.contentsRect().width()
    assert label.text().startswith("PT-0042 \u00b7 36 mg") and "2" in label.text()
    assert "6" in label.text()
    assert label.toolTip() == context_texts(SETUP)[0]
    assert header.wall_clock_label.text() == clock_text(T0 + 125)
    assert header.wall_clock_label.isVisible()
    clock.advance_to(T0 + 125 + 60)
    view.drain()
    assert header.wall_clock_label.text() == clock_text(T0 + 185)


def test_header_without_a_set_up_says_so(view):
    assert view.header.context_label.text() == NO_SETUP_TEXT


def test_context_wordings_shorten_by_rule():
    texts = context_texts(SETUP)
    assert texts[0] == ("PT-0042 \u00b7 0.5 mg/kg \u00d7 72 kg = 36 mg over 40 min \u00b7 "
                        "session 2 of 6 \u00b7 Dr A. Rivera")
    assert [len(t) for t in texts] == sorted((len(t) for t in texts), reverse=True)
    assert all(t.startswith("PT-0042") for t in texts)
    assert texts[-1] == "PT-0042 \u00b7 2/6"
    unknown_total = context_texts(replace(SETUP, course_total=None, course_number=3))
    assert unknown_total[-1] == "PT-0042 \u00b7 #3" and unknown_total[2].endswith("session 3")
