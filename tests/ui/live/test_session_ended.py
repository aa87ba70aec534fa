"""After the data source ends, the window says the session ended and every action says why not.

Issue 11 §9: latched alarms kept flashing, Acknowledge silently did nothing
(the hub had finished, so commands went nowhere), "● REC" stayed lit and the
tiles kept the last numbers in full colour.
"""

from __future__ import annotations

import numpy as np
import pytest

from monitor.core.alarms.model import Acknowledge, PauseAudio, Priority, ResumeAudio
from monitor.core.alarms.profile_file import load_default_profile
from monitor.core.events import StreamEnded
from monitor.core.session import Phase
from monitor.core.vitals import Vital
from monitor.core.workflow.messages import AddEvent, EventKind
from monitor.ui.alarms.bar import ENDED_TEXT
from monitor.ui.alarms.style import clock_text
from monitor.ui.shared import theme
from tests.ui.alarm_fakes import FakeSound, entry, snapshot
from tests.ui.alarms.test_live_view_alarms import FakeAlarms
from tests.ui.helpers import T0, nibp, phase, pleth_chunk, reading, session_started

END = T0 + 1800


def _ended_view(make_view, ui_queue, clock):
    alarms, sound = FakeAlarms(), FakeSound()
    view = make_view(alarm_state=alarms.get, send_command=alarms.send,
                     profile=load_default_profile(), sound=sound)
    ui_queue.put(session_started())
    for r in nibp(150, 95, 113, T0 + 1440):
        ui_queue.put(r)
    ui_queue.put(reading(Vital.HR, 88, END - 1))
    ui_queue.put(reading(Vital.SPO2, 86, END - 1))
    ui_queue.put(pleth_chunk(END - 2, n=100))
    # A latched high alarm nobody acknowledged, as the last snapshot before the end had it.
    alarms.snapshot = snapshot(entry(Priority.HIGH, "SpO2 86 \u2264 88", active=False,
                                     latched=True, cleared_at=END - 1))
    clock.advance_to(END - 1)
    view.drain()
    assert view.alarm_bar.message_text().startswith("*** SpO2 86")
    assert view.alarm_bar.is_flashing()
    assert view.tiles[Vital.HR].value_text() == "88"
    assert np.isfinite(view.pleth.curve.yData).any()
    ui_queue.put(phase(Phase.ENDED, END))
    ui_queue.put(StreamEnded(END, "source ended"))
    clock.advance_to(END + 5)
    view.drain()
    return view, alarms, sound


def test_an_ended_session_says_so_everywhere(make_view, ui_queue, clock):
    view, _, sound = _ended_view(make_view, ui_queue, clock)
    header = view.header
    assert header.status_text().startswith(
        f"SESSION ENDED at {clock_text(END)} (source ended): not monitoring")
    assert header.phase_label.text() == "ENDED"
    assert header.rec_label.text() == "REC off" and header.rec_label.objectName() == "rec_off"
    # No alarm is shown, flashes or sounds: nothing is monitored any more.
    bar = view.alarm_bar
    assert bar.message_text() == ENDED_TEXT and not bar.is_flashing()
    assert not bar.acknowledge_button.isEnabled()
    assert not bar.audio_pause_button.isEnabled() and not bar.limits_button.isEnabled()
    assert sound.sounding[-1] is None
    # The tiles are greyed with no current number.
    for vital in (Vital.HR, Vital.SPO2):
        tile = view.tiles[vital]
        assert (tile.value_text(), tile.reason_text()) == ("---", "ENDED")
        assert tile.is_ended()
        assert theme.TEXT_DIM in tile.value_label.styleSheet()
    # The pleth is cleared at once (at --speed max the clock stops: it would never go stale).
    assert not np.isfinite(view.pleth.curve.yData).any()
    # The last NIBP stays, grey, its age frozen at the end (6 min), however long one waits.
    state = view.model.nibp_state(clock.now())
    assert state.text == "150/95" and state.aged and state.age_text == "6 min before the end"
    clock.advance_to(END + 3600)
    view.drain()
    assert view.model.nibp_state(clock.now()).age_text == "6 min before the end"
    assert view.header.session_clock_label.text() == "0:30:00"


@pytest.mark.qt_log_ignore(r"does not support propagateSizeHints")   # the refusal boxes
def test_every_action_after_the_end_says_why_it_was_not_done(make_view, ui_queue, clock):
    view, alarms, _ = _ended_view(make_view, ui_queue, clock)
    view._on_acknowledge()             # the Acknowledge shortcut still reaches here
    assert alarms.sent == []
    box = view.refusal_box
    assert box is not None and box.windowTitle() == "Session ended"
    assert "SESSION ENDED at" in box.text() and "Acknowledging the alarms was not done" in \
        box.text()
    view._on_audio_pause()
    assert "The audio pause was not done" in view.refusal_box.text()
    view.events_bar.note_edit.setText("patient resting")
    view.events_bar.note_button.click()
    assert "The event was not done and is not in the record" in view.refusal_box.text()
    view._on_workflow_command(AddEvent(EventKind.NAUSEA, "", "RN"))
    assert alarms.sent == []
    view._on_audio_resume()            # sound back on is never held up
    assert alarms.sent == [ResumeAudio(by="RN")]
    assert not any(isinstance(c, (Acknowledge, PauseAudio)) for c in alarms.sent)
