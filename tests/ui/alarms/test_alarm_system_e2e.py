"""The whole alarm path with real parts: simulator -> pipeline -> hub's engine -> live view.

No fakes: the hub thread runs the engine, the view reads the hub's alarm state on
its refresh timer and sends operator commands through ``hub.notify``, and the view's
own speaker finds no audio device on a machine without one.
"""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import Qt

from monitor.acquisition.pipeline import Pipeline
from monitor.acquisition.sources import make_driver
from monitor.core.alarms.model import AlarmTransition, Priority
from monitor.core.clock import SimClock
from monitor.devices.registry import parse_source
from monitor.storage.database import open_database
from monitor.storage.store import SessionStore
from monitor.ui.alarms import sound as alarm_sound
from monitor.ui.live.view import LiveView

pytestmark = pytest.mark.qt_log_ignore(
    r"^Couldn't (load|resolve) .*(library|symbols)$",
    r"^PulseAudioService: pa_context_connect\(\) failed",
    r"^QSoundEffect: playback of this format is not supported on the selected audio device",
    r"does not support propagateSizeHints",   # offscreen platform, dialogs and message boxes
)


@pytest.fixture
def running(qtbot, tmp_path):
    """The desaturation scenario at 60x, from 29 min in, with the real window."""
    db = open_database(tmp_path / "data")
    driver = make_driver(parse_source("sim:desaturation"), seed=0, duration_s=None,
                         protocol=None, overrides=None, data_dir=None)
    start = time.time()
    clock = SimClock(start, 60.0)
    pipe = Pipeline(driver, db, clock, with_ui=True)
    pipe.start()
    hub = pipe.hub
    view = LiveView(clock, pipe.ui_queue, simulated=True, alarm_state=hub.alarm_state.get,
                    send_command=hub.notify, profile=hub.alarms.profile)
    view.events_bar.initials_edit.setText("RN")   # every action records who
    qtbot.addWidget(view)
    view.resize(1280, 800)
    view.show()
    yield view, hub, pipe, db
    view.stop()
    pipe.stop()
    assert pipe.join(timeout=15)
    view.close()


@pytest.fixture
def unplayable_tones(monkeypatch, tmp_path):
    """Make the speaker unusable on any machine: no output device here, or no tone files."""
    monkeypatch.setattr(alarm_sound, "shipped_tone_dir", lambda: tmp_path)


def test_no_audio_device_raises_the_technical_alarm_through_the_engine(qtbot, unplayable_tones,
                                                                        running):
    view, hub, _, _ = running

    def raised() -> bool:
        snap = hub.alarm_state.get()
        return snap is not None and any(a.alarm_id == "audio.unavailable" for a in snap.alarms)

    qtbot.waitUntil(raised, timeout=10_000)
    qtbot.waitUntil(lambda: "NO ALARM SOUND" in " ".join(view.alarm_bar.indicator_texts()),
                    timeout=5_000)
    entry = next(a for a in hub.alarm_state.get().alarms if a.alarm_id == "audio.unavailable")
    assert entry.priority is Priority.MEDIUM and entry.latched


def test_acknowledge_from_the_window_reaches_the_engine_and_the_record(qtbot, running):
    view, hub, pipe, db = running
    qtbot.waitUntil(lambda: bool(hub.alarm_state.get().alarms), timeout=10_000)
    qtbot.waitUntil(view.alarm_bar.acknowledge_button.isEnabled, timeout=5_000)
    qtbot.mouseClick(view.alarm_bar.acknowledge_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: all(a.acknowledged or not a.active
                                for a in hub.alarm_state.get().alarms), timeout=5_000)
    sid = pipe.session_id

    def logged() -> bool:
        with SessionStore(db) as store:
            return any(isinstance(a, AlarmTransition) and a.state.value == "acknowledged"
                       for a in store.alarms(sid))

    qtbot.waitUntil(logged, timeout=5_000)   # the recorder commits every 0.5 s


def test_a_refused_profile_file_is_shown_and_the_limits_stay(qtbot, running, tmp_path):
    from monitor.core.alarms.profile_file import default_profile_path
    from monitor.ui.alarms.limits_dialog import AlarmLimitsDialog

    view, hub, _, _ = running
    bad = tmp_path / "clinic.toml"
    bad.write_text(default_profile_path().read_text().replace('vital = "spo2"',
                                                               'vital = "sp02"', 1))
    dialog = AlarmLimitsDialog(hub.alarms.profile, parent=view)
    qtbot.addWidget(dialog)
    dialog.commands_issued.connect(lambda cmds: [hub.notify(c) for c in cmds])
    dialog.load_file(str(bad))
    assert dialog.error_text() and not dialog.commands     # no initials: nothing sent
    dialog.initials_edit.setText("RN")
    dialog.load_file(str(bad))
    qtbot.waitUntil(lambda: view.refusal_box is not None and view.refusal_box.isVisible(),
                    timeout=10_000)
    text = view.refusal_box.text()
    assert str(bad) in text and "sp02" in text and "unknown vital" in text
    assert hub.alarms.profile.rule("spo2.low.medium").limit == 92
    view.refusal_box.close()
