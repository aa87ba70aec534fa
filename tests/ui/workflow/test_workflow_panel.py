"""The workflow panel in the live view: gate outcomes, infusion actions, recovery and discharge."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from monitor.core.reading import make_reading
from monitor.core.vitals import Vital
from monitor.core.workflow.discharge import ChecklistItem
from monitor.core.workflow.messages import (
    ChangeInfusion,
    ChecklistTicked,
    EndSession,
    InfusionAction,
    InfusionChanged,
    TickChecklist,
)
from monitor.core.workflow.setup import SessionSetup
from monitor.ui.workflow.text import NOT_READY_TEXT, PAUSED_TEXT, PLANNED_REACHED_TEXT, READY_TEXT
from tests.ui.helpers import T0, nibp, session_started
from tests.ui.workflow_helpers import INFUSION_AT, baseline_readings, started, stopped, vitals_at

pytestmark = pytest.mark.qt_log_ignore(r"does not support propagateSizeHints")

SETUP = SessionSetup("JD-104", 80, 0.5, "Dr Lee", planned_infusion_min=40)


@pytest.fixture
def sent() -> list:
    return []


@pytest.fixture
def wf_view(qtbot, make_view, ui_queue, clock, sent):
    """A live view with a session whose commands land in ``sent``, shown at 1280x800."""
    view = make_view(send_command=sent.append, setup=SETUP, sound=False)
    view.resize(1280, 800)
    view.show()
    qtbot.waitExposed(view)
    ui_queue.put(session_started())
    view.drain()
    return view


def feed(view, queue, clock, t, *messages):
    clock.advance_to(t)
    for m in messages:
        for item in (m if isinstance(m, list) else [m]):
            queue.put(item)
    view.drain()


def test_baseline_of_an_oximeter_alone_says_pr_not_hr(wf_view, ui_queue, clock):
    """With no ECG the baseline's rate is the pulse rate, and says so."""
    readings = [make_reading(Vital.PULSE_RATE, r.value, r.t) if r.vital is Vital.HR else r
                for r in baseline_readings(124, 78, hr=66, spo2=97)]
    feed(wf_view, ui_queue, clock, INFUSION_AT - 5, readings)
    assert wf_view.workflow_panel.baseline_label.text() == "NIBP 124/78   PR 66   SpO2 97"


def test_baseline_shows_values_and_gate(wf_view, ui_queue, clock):
    panel = wf_view.workflow_panel
    feed(wf_view, ui_queue, clock, INFUSION_AT - 5, baseline_readings(124, 78, hr=66, spo2=97))
    assert panel.baseline_label.text() == "NIBP 124/78   HR 66   SpO2 97"
    assert panel.gate_label.text() == "Baseline complete: ready to start."
    assert panel.gate_label.toolTip() == "Baseline 124/78 mmHg: ready to start."
    assert panel.pages.currentWidget().isAncestorOf(panel.start_button)
    assert panel.baseline_nibp_label.text().startswith("Next NIBP in")


def test_gate_ready_starts_with_the_nurses_initials(qtbot, wf_view, ui_queue, clock, sent):
    feed(wf_view, ui_queue, clock, INFUSION_AT - 5, baseline_readings(124, 78))
    wf_view.events_bar.initials_edit.setText("RN")
    qtbot.mouseClick(wf_view.workflow_panel.start_button, Qt.MouseButton.LeftButton)
    dialog = wf_view.workflow_panel.dialog
    assert dialog.edits["by"].text() == "RN"
    dialog.ok()
    assert sent == [ChangeInfusion(InfusionAction.START, "RN")]


def test_gate_override_needed_asks_for_a_reason(wf_view, ui_queue, clock, sent):
    feed(wf_view, ui_queue, clock, INFUSION_AT - 5, baseline_readings(150, 85))
    panel = wf_view.workflow_panel
    assert "clinician override" in panel.gate_label.text()
    panel.request_start()
    dialog = panel.dialog
    assert dialog.windowTitle() == "Baseline override"
    assert dialog.edits["clinician"].text() == "Dr Lee"     # the responsible clinician
    dialog.ok()
    assert "Reason is required" in dialog.error_text() and sent == []
    dialog.edits["reason"].setText("white-coat; 138/84 at home")
    dialog.ok()
    # The hub checks the override against its own gate and logs it.
    assert sent == [ChangeInfusion(InfusionAction.START, "Dr Lee", "white-coat; 138/84 at home")]


def test_gate_blocked_needs_the_clinician_and_reason(wf_view, ui_queue, clock, sent):
    feed(wf_view, ui_queue, clock, INFUSION_AT - 5, baseline_readings(186, 112))
    panel = wf_view.workflow_panel
    assert "cannot start" in panel.gate_label.text()
    panel.request_start()
    dialog = panel.dialog
    assert dialog.edits["clinician"].text() == ""           # must be named, not defaulted
    dialog.edits["reason"].setText("rechecked 176/104 after rest")
    dialog.ok()
    assert "Clinician is required" in dialog.error_text() and sent == []
    dialog.edits["clinician"].setText("Dr Moss")
    dialog.ok()
    assert sent == [ChangeInfusion(InfusionAction.START, "Dr Moss",
                                   "rechecked 176/104 after rest")]


def test_gate_with_too_little_data_cannot_be_overridden(wf_view, ui_queue, clock, sent):
    feed(wf_view, ui_queue, clock, T0 + 100, nibp(120, 80, 93, T0 + 60), vitals_at(T0 + 100))
    panel = wf_view.workflow_panel
    panel.request_start()
    assert panel.dialog is None and sent == []
    assert "1 of 2 determinations" in panel.info_box.text()
    assert "Ctrl+M" in panel.info_box.text()
    panel.info_box.close()


def test_infusion_timers_pause_and_resume(qtbot, wf_view, ui_queue, clock, sent):
    panel = wf_view.workflow_panel
    feed(wf_view, ui_queue, clock, INFUSION_AT + 754, started())
    assert (panel.elapsed_label.text(), panel.remaining_label.text()) == ("12:34", "27:26")
    assert panel.infusion_state_label.text() == "RUNNING"
    assert panel.planned_label.text() == "of 40:00 planned"
    qtbot.mouseClick(panel.pause_button, Qt.MouseButton.LeftButton)
    dialog = panel.dialog
    dialog.edits["by"].setText("RN")
    dialog.ok()
    assert "Reason is required" in dialog.error_text() and sent == []
    dialog.edits["reason"].setText("BP 182/104")
    dialog.ok()
    assert sent == [ChangeInfusion(InfusionAction.PAUSE, "RN", "BP 182/104")]
    feed(wf_view, ui_queue, clock, INFUSION_AT + 900,
         InfusionChanged(InfusionAction.PAUSE, INFUSION_AT + 780, "RN", "BP 182/104"))
    assert panel.infusion_state_label.text() == PAUSED_TEXT
    assert panel.planned_label.text() == "paused 2:00: BP 182/104"
    assert panel.planned_label.toolTip() == ""          # it fits: not cut
    assert panel.infusion_state_label.objectName() == "wf_paused"
    assert panel.property("paused")
    assert panel.elapsed_label.text() == "13:00"        # frozen while paused
    assert panel.pause_button.text().startswith("Resume")
    panel.request_pause_resume()
    assert sent[-1] == ChangeInfusion(InfusionAction.RESUME, "RN")
    feed(wf_view, ui_queue, clock, INFUSION_AT + 960,
         InfusionChanged(InfusionAction.RESUME, INFUSION_AT + 900, "RN"))
    assert panel.infusion_state_label.text() == "RUNNING" and not panel.property("paused")
    assert panel.elapsed_label.text() == "14:00"


def test_stop_asks_first(wf_view, ui_queue, clock, sent):
    panel = wf_view.workflow_panel
    feed(wf_view, ui_queue, clock, INFUSION_AT + 2000, started())
    panel.request_stop()
    dialog = panel.dialog
    assert "6:40 of the planned time remain" in dialog.message_label.text()
    dialog.edits["by"].setText("RN")
    dialog.edits["reason"].setText("dissociation")
    dialog.ok()
    assert sent == [ChangeInfusion(InfusionAction.STOP, "RN", "dissociation")]


def test_planned_time_reached_is_a_quiet_reminder(wf_view, ui_queue, clock):
    panel = wf_view.workflow_panel
    feed(wf_view, ui_queue, clock, INFUSION_AT + 2399, started())
    assert panel.reminder_label.text() == ""
    feed(wf_view, ui_queue, clock, INFUSION_AT + 2460)
    assert panel.reminder_label.text() == PLANNED_REACHED_TEXT
    assert panel.remaining_label.text() == "-1:00"


def _to_recovery(view, queue, clock, stop_t):
    feed(view, queue, clock, stop_t, baseline_readings(120, 80), started(), stopped(stop_t))


def test_recovery_readiness_and_checklist(qtbot, wf_view, ui_queue, clock, sent):
    panel = wf_view.workflow_panel
    stop_t = INFUSION_AT + 2400
    _to_recovery(wf_view, ui_queue, clock, stop_t)
    feed(wf_view, ui_queue, clock, stop_t + 1200, nibp(124, 82, 96, stop_t + 600),
         nibp(122, 80, 94, stop_t + 1150), vitals_at(stop_t + 1200))
    assert panel.since_label.text() == "20:00"
    assert panel.readiness_text() == NOT_READY_TEXT
    assert panel.unmet_text() == "Waiting for: checklist 0/3"
    assert "Escort present (not ticked)" in panel.unmet_label.toolTip()
    for item in ChecklistItem:
        qtbot.mouseClick(panel.checklist_boxes[item], Qt.MouseButton.LeftButton,
                         pos=panel.checklist_boxes[item].rect().bottomLeft() + _inset())
    assert wf_view.workflow.checklist == {i.value for i in ChecklistItem}
    assert sent == [TickChecklist(i.value, True, "RN") for i in ChecklistItem]   # to be recorded
    sent.clear()
    feed(wf_view, ui_queue, clock, stop_t + 1201, vitals_at(stop_t + 1201))
    assert panel.readiness_text() == READY_TEXT
    assert panel.readiness_label.objectName() == "wf_ready"
    assert panel.unmet_text() == ""
    panel.request_end()
    dialog = panel.dialog
    assert "Every discharge criterion is met" in dialog.message_label.text()
    dialog.edits["by"].setText("RN")
    dialog.edits["note"].setText("escort: husband")
    dialog.edits["cadss"].setText("7")
    dialog.ok()
    assert sent == [EndSession("RN", "escort: husband", 7)]


def test_recorded_ticks_and_unticks_set_the_boxes(qtbot, wf_view, ui_queue,
                                                                   clock, sent):
    panel = wf_view.workflow_panel
    stop_t = INFUSION_AT + 2400
    _to_recovery(wf_view, ui_queue, clock, stop_t)
    feed(wf_view, ui_queue, clock, stop_t + 60,
         ChecklistTicked(stop_t + 30, "escort_present", True, "RN"))
    assert panel.checklist_boxes[ChecklistItem.ESCORT_PRESENT].isChecked()
    feed(wf_view, ui_queue, clock, stop_t + 70,
         ChecklistTicked(stop_t + 65, "escort_present", False, "RN"))
    assert not panel.checklist_boxes[ChecklistItem.ESCORT_PRESENT].isChecked()


def _inset():
    from PySide6.QtCore import QPoint

    return QPoint(8, -8)


def test_end_refuses_a_bad_cadss(wf_view, ui_queue, clock, sent):
    _to_recovery(wf_view, ui_queue, clock, INFUSION_AT + 2400)
    wf_view.workflow_panel.request_end()
    dialog = wf_view.workflow_panel.dialog
    dialog.edits["by"].setText("RN")
    dialog.edits["cadss"].setText("93")
    dialog.ok()
    assert "CADSS must be a whole number from 0 to 92" in dialog.error_text() and sent == []


def test_ending_while_the_infusion_runs_asks_for_confirmation(wf_view, ui_queue, clock, sent):
    feed(wf_view, ui_queue, clock, INFUSION_AT + 300, started())
    wf_view.workflow_panel.request_end()
    dialog = wf_view.workflow_panel.dialog
    assert "THE INFUSION IS STILL RUNNING" in dialog.message_label.text()
    dialog.reject()
    assert sent == []


def test_ended_session(wf_view, ui_queue, clock):
    from monitor.core.events import PhaseChanged
    from monitor.core.session import Phase
    from monitor.core.workflow.messages import SessionDischarged

    stop_t = INFUSION_AT + 2400
    _to_recovery(wf_view, ui_queue, clock, stop_t)
    feed(wf_view, ui_queue, clock, stop_t + 1300,
         SessionDischarged(stop_t + 1300, "RN", ("escort present",)),
         PhaseChanged(Phase.ENDED, stop_t + 1300))
    assert wf_view.workflow_panel.ended_label.text() == \
        "SESSION ENDED \u2014 discharged by RN; checklist: escort present"


def test_refusals_are_shown(wf_view, ui_queue, clock):
    from monitor.core.workflow.messages import CommandRefused

    feed(wf_view, ui_queue, clock, T0 + 10,
         CommandRefused(T0 + 10, "change_infusion:pause",
                        "cannot pause the infusion: it is not started yet", "RN"))
    box = wf_view.refusal_box
    assert box is not None and box.windowTitle() == "Not done"
    assert box.text() == "Cannot pause the infusion: it is not started yet"
    box.close()


def test_unmet_text_names_every_unmet_criterion_briefly():
    from monitor.core.workflow.discharge import DischargeReadiness
    from monitor.core.workflow.values import BaselineValues
    from monitor.ui.workflow.text import unmet_text

    r = DischargeReadiness().evaluate(T0 + 840, T0, BaselineValues(120, 80, 70, 98), (),
                                      None, 92.0, 1, ["escort_present"])
    assert unmet_text(r) == "Waiting for: time 14/20 min, NIBP, HR, SpO2, alarms, checklist 1/3"
    assert unmet_text(None) == ""


def test_the_planned_end_sounds_once_through_the_hubs_low_reminder(qtbot, make_view, clock):
    """One sound source: the hub's low-priority announcement, never a second tone."""
    from monitor.acquisition.hub import Hub
    from monitor.core.alarms.model import Priority
    from monitor.core.clock import SimClock
    from monitor.core.events import StreamEnded
    from monitor.core.queues import BoundedQueue
    from monitor.core.session import SessionModel
    from tests.ui.alarm_fakes import FakeSound

    ui_q: BoundedQueue = BoundedQueue(10_000, "ui")
    inbox: BoundedQueue = BoundedQueue(10_000, "in", block_when_full=True)
    hub = Hub(SessionModel(1, T0), SimClock(T0, speed=None), inbox, recorder_q=None,
              ui_q=ui_q, planned_infusion_s=600.0, stale_after=1000.0)
    sound = FakeSound()
    view = make_view(queue=ui_q, send_command=hub.notify, alarm_state=hub.alarm_state.get,
                     sound=sound, setup=SETUP)
    ui_q.put(session_started())
    hub.start()
    try:
        for item in baseline_readings(120, 78):
            inbox.put(item)
        qtbot.waitUntil(lambda: hub._now >= INFUSION_AT - 10, timeout=5_000)
        hub.notify(ChangeInfusion(InfusionAction.START, "RN"))
        start_t = INFUSION_AT - 4
        for item in vitals_at(start_t):   # the hub's clock follows the items
            inbox.put(item)
        qtbot.waitUntil(lambda: view.drain() >= 0 and hub.workflow.infusion_state == "running",
                        timeout=5_000)
        started_at = hub.workflow.timer.started_at
        for k in range(1, 13):            # a minute apart, past the 10-min plan
            t = started_at + 60 * k
            for item in vitals_at(t) + (nibp(118, 76, 90, t) if k % 5 == 0 else []):
                inbox.put(item)
        qtbot.waitUntil(lambda: view.drain() >= 0 and hub._now >= started_at + 720,
                        timeout=5_000)
        for _ in range(5):
            view.drain()
        # The player starts a burst only when the priority changes: LOW once, nothing else.
        changes = [p for i, p in enumerate(sound.sounding) if i == 0 or p != sound.sounding[i - 1]]
        assert [p for p in changes if p is not None] == [Priority.LOW]
        assert sound.reminders == 0
        assert "Planned infusion time reached (10 min)" in view.alarm_bar.message_text()
    finally:
        inbox.put(StreamEnded(hub._now + 1))
        hub.join(10)

