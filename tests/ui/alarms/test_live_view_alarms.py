"""The live view's alarm picture: bar, tiles, trend limits, log, buttons, Space and sound."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from monitor.core.alarms.engine import AlarmEngine
from monitor.core.alarms.model import (
    Acknowledge,
    AlarmAction,
    AlarmKind,
    AlarmReminder,
    AlarmSnapshot,
    AudioOutput,
    ChangeLimit,
    LimitLines,
    PauseAudio,
    Priority,
    ResumeAudio,
)
from monitor.core.alarms.profile_file import load_default_profile
from monitor.core.queues import LatestValue
from monitor.core.reading import make_reading
from monitor.core.vitals import Vital
from monitor.ui.alarms.bar import NO_ALARMS_TEXT, NOT_CONNECTED_TEXT
from monitor.ui.alarms.style import COLOURS
from monitor.ui.live.tile_limits import tile_limit_text
from tests.ui.alarm_fakes import FakeSound, entry, snapshot
from tests.ui.helpers import T0, reading, rendered, session_started

RED, YELLOW = COLOURS[Priority.HIGH].lit, COLOURS[Priority.MEDIUM].lit


class FakeAlarms:
    """Stands in for the hub: a snapshot to read and a list of the commands sent."""

    def __init__(self) -> None:
        self.snapshot: AlarmSnapshot = snapshot()
        self.sent: list[object] = []

    def get(self) -> AlarmSnapshot:
        return self.snapshot

    def send(self, command: object) -> None:
        self.sent.append(command)


class EngineAlarms:
    """A real alarm engine driven by hand, publishing like the hub does."""

    def __init__(self, clock, ui_queue) -> None:
        self.clock = clock
        self.queue = ui_queue
        self.engine = AlarmEngine(load_default_profile(), started_at=T0)
        self.state = LatestValue(self.engine.snapshot())

    def _publish(self, messages) -> None:
        for msg in messages:
            self.queue.put(msg)
        if self.engine.changed:
            self.state.set(self.engine.snapshot())

    def feed(self, vital: Vital, value: float, t: float) -> None:
        r = make_reading(vital, value, t)
        self.queue.put(r)
        self._publish(self.engine.on_reading(r))

    def send(self, command) -> None:
        self._publish(self.engine.command(command, self.clock.now()))


@pytest.fixture
def sound() -> FakeSound:
    return FakeSound()


@pytest.fixture
def alarms() -> FakeAlarms:
    return FakeAlarms()


@pytest.fixture
def alarm_view(make_view, alarms, sound):
    return make_view(alarm_state=alarms.get, send_command=alarms.send,
                     profile=load_default_profile(), sound=sound)


def test_view_without_alarm_system_says_so(view):
    view.drain()
    assert view.alarm_bar.message_text() == NOT_CONNECTED_TEXT
    assert view.sound is None


def test_bar_shows_the_snapshot_on_every_tick(alarm_view, alarms):
    alarm_view.drain()
    assert alarm_view.alarm_bar.message_text() == NO_ALARMS_TEXT
    alarms.snapshot = snapshot(entry(Priority.MEDIUM, "HR 118 > 110", Vital.HR),
                               entry(Priority.HIGH, "SpO2 86 \u2264 88"))
    alarm_view.drain()  # nothing on the queue: the picture is read, not queued
    assert alarm_view.alarm_bar.message_text() == "*** SpO2 86 \u2264 88"
    assert alarm_view.alarm_bar.others_text() == "** HR 118 > 110"


def test_speaker_follows_the_sounding_priority(alarm_view, alarms, sound):
    alarms.snapshot = snapshot(entry(Priority.HIGH, "SpO2 86 \u2264 88"))
    alarm_view.drain()
    assert sound.sounding[-1] is Priority.HIGH
    alarms.snapshot = snapshot(entry(Priority.HIGH, "SpO2 86 \u2264 88"),
                               audio_paused_until=T0 + 120)
    alarm_view.drain()
    assert sound.sounding[-1] is None
    alarm_view.stop()
    assert sound.sounding[-1] is None


def test_acknowledge_button_sends_acknowledge(alarm_view, alarms):
    alarms.snapshot = snapshot(entry(Priority.HIGH, "SpO2 86 \u2264 88"))
    alarm_view.drain()
    alarm_view.alarm_bar.acknowledge_button.click()
    assert alarms.sent == [Acknowledge(by="RN")]


def test_audio_pause_button_pauses_and_resumes(alarm_view, alarms, clock):
    alarms.snapshot = snapshot(entry(Priority.HIGH, "SpO2 86 \u2264 88"))
    alarm_view.drain()
    bar = alarm_view.alarm_bar
    bar.audio_pause_button.click()
    assert alarms.sent == [PauseAudio(by="RN")]
    alarms.snapshot = snapshot(entry(Priority.HIGH, "SpO2 86 \u2264 88"),
                               audio_paused_until=T0 + 120)
    alarm_view.drain()
    assert bar.audio_pause_text() == "AUDIO PAUSED 2:00"
    clock.advance_to(T0 + 17)
    alarm_view.drain()
    assert bar.audio_pause_text() == "AUDIO PAUSED 1:43"
    clock.advance_to(T0 + 60)
    alarm_view.drain()
    assert bar.audio_pause_text() == "AUDIO PAUSED 1:00"
    bar.audio_pause_button.click()
    assert alarms.sent[-1] == ResumeAudio(by="RN")


def test_space_pauses_the_audio(qtbot, alarm_view, alarms):
    alarm_view.resize(1280, 800)
    alarm_view.show()
    qtbot.waitExposed(alarm_view)
    alarm_view.activateWindow()
    qtbot.waitUntil(alarm_view.isActiveWindow, timeout=2000)
    alarms.snapshot = snapshot(entry(Priority.HIGH, "SpO2 86 \u2264 88"))
    alarm_view.drain()
    qtbot.keyClick(alarm_view, Qt.Key.Key_Space)
    assert alarms.sent == [PauseAudio(by="RN")]
    alarms.snapshot = snapshot(entry(Priority.HIGH, "SpO2 86 \u2264 88"),
                               audio_paused_until=T0 + 120)
    alarm_view.drain()
    qtbot.keyClick(alarm_view, Qt.Key.Key_Space)  # already paused: Space does not extend it
    assert alarms.sent == [PauseAudio(by="RN")]


def test_tile_in_alarm_gets_the_priority_colour(qtbot, make_view, alarms, sound):
    view = make_view(alarm_state=alarms.get, send_command=alarms.send, sound=sound)
    view.resize(1280, 800)
    view.show()
    qtbot.waitExposed(view)
    alarms.snapshot = snapshot(entry(Priority.HIGH, "SpO2 86 \u2264 88"),
                               entry(Priority.MEDIUM, "NIBP sys 165 > 160", Vital.NIBP_SYS),
                               entry(Priority.LOW, "SpO2 not updated", Vital.SPO2,
                                     alarm_id="spo2.stale", kind=AlarmKind.TECHNICAL))
    view.drain()
    spo2 = view.tiles[Vital.SPO2]
    assert spo2.alarm_colour() == RED
    assert view.nibp_tile.alarm_colour() == YELLOW
    assert view.tiles[Vital.HR].alarm_colour() == ""
    image = rendered(spo2)
    border = image.pixelColor(2, image.height() // 2)
    assert border.red() > 200 and border.green() < 60 and border.blue() < 90, border.name()
    calm = rendered(view.tiles[Vital.HR]).pixelColor(2, image.height() // 2)
    assert calm.red() < 100, calm.name()


def test_tiles_flash_in_phase_with_the_bar(alarm_view, alarms):
    alarms.snapshot = snapshot(entry(Priority.HIGH, "SpO2 86 \u2264 88"),
                               entry(Priority.MEDIUM, "HR 118 > 110", Vital.HR,
                                     acknowledged=True))
    alarm_view.drain()
    bar, spo2, hr = alarm_view.alarm_bar, alarm_view.tiles[Vital.SPO2], alarm_view.tiles[Vital.HR]
    for t, lit in ((0.3, False), (0.55, True), (0.8, False)):
        bar.flash_ticked.emit(t)
        bar.show_flash(t)
        assert spo2.alarm.lit is lit
        assert (bar.colours()[0] == RED) is lit
        assert hr.alarm.lit  # acknowledged: steady


def test_pulse_rate_standing_in_for_hr_flashes_the_pr_tile(alarm_view, alarms):
    alarms.snapshot = snapshot(entry(Priority.MEDIUM, "PR 118 > 110", Vital.PULSE_RATE,
                                     alarm_id="hr.high"))
    alarm_view.drain()
    assert alarm_view.tiles[Vital.PULSE_RATE].alarm_colour() == YELLOW
    assert alarm_view.tiles[Vital.HR].alarm_colour() == ""


def test_limit_lines_on_the_trends(alarm_view, alarms, ui_queue):
    ui_queue.put(session_started())
    limits = load_default_profile().limit_lines()
    alarms.snapshot = snapshot(limits=limits)
    alarm_view.drain()
    trends = alarm_view.trends
    spo2 = trends.limit_lines[Vital.SPO2]
    assert sorted(line.value() for line in spo2) == [88.0, 92.0]  # one-sided: both levels
    colours = {line.value(): line.pen.color().name() for line in spo2}
    assert colours == {92.0: YELLOW, 88.0: COLOURS[Priority.HIGH].dark_text}
    assert all(line.pen.style() == Qt.PenStyle.DashLine and not line.movable and line.angle == 0
               for line in spo2)
    assert all(line in trends.plots["spo2"].items for line in spo2)
    # At most one pair per plot: the medium pair of the plot's first vital.
    assert sorted(line.value() for line in trends.limit_lines[Vital.HR]) == [50, 110]
    assert sorted(line.value() for line in trends.limit_lines[Vital.NIBP_SYS]) == [90, 160]
    assert Vital.NIBP_DIA not in trends.limit_lines
    assert trends.limit_texts("nibp") == ["sys 90", "sys 160"]   # on the right axis
    assert trends.limit_texts("spo2") == ["88", "92"]
    ticks = trends.plots["nibp"].getAxis("right")._tickLevels[0]
    assert sorted(text for _, text in ticks) == ["sys 160", "sys 90"]
    # A new snapshot with the same limits draws nothing again.
    alarms.snapshot = snapshot(entry(Priority.LOW, "x", vital=None), limits=dict(limits))
    alarm_view.drain()
    assert trends.limit_lines[Vital.SPO2] == spo2
    # A changed limit moves only that plot's lines.
    changed = dict(limits)
    changed[Vital.SPO2] = LimitLines(low_medium=90.0, low_high=88.0)
    hr_lines = trends.limit_lines[Vital.HR]
    alarms.snapshot = snapshot(limits=changed)
    alarm_view.drain()
    assert sorted(line.value() for line in trends.limit_lines[Vital.SPO2]) == [88.0, 90.0]
    assert trends.limit_lines[Vital.HR] is hr_lines
    assert not any(line in trends.plots["spo2"].items for line in spo2)


def test_a_vital_in_alarm_shows_its_own_pair(alarm_view, alarms, ui_queue):
    ui_queue.put(session_started())
    limits = load_default_profile().limit_lines()
    alarms.snapshot = snapshot(entry(Priority.MEDIUM, "NIBP dia 105 > 100", Vital.NIBP_DIA),
                               entry(Priority.HIGH, "HR 135 > 130", Vital.HR), limits=limits)
    alarm_view.drain()
    trends = alarm_view.trends
    # The diastolic alarm's limits replace the systolic ones on the NIBP plot.
    assert Vital.NIBP_SYS not in trends.limit_lines
    assert trends.limit_texts("nibp") == ["dia 100", "dia 110"]
    # A high-priority alarm shows the high-priority pair, in red.
    hr = trends.limit_lines[Vital.HR]
    assert sorted(line.value() for line in hr) == [40, 130]
    assert {line.pen.color().name() for line in hr} == {COLOURS[Priority.HIGH].dark_text}
    # Of two equal alarms on one plot, the one the bar shows first (the newest) has its pair.
    alarms.snapshot = snapshot(
        entry(Priority.MEDIUM, "NIBP sys 171 > 160", Vital.NIBP_SYS, raised_at=T0 + 10),
        entry(Priority.MEDIUM, "NIBP dia 103 > 100", Vital.NIBP_DIA, raised_at=T0 + 20),
        limits=limits)
    alarm_view.drain()
    assert alarm_view.alarm_bar.message_text() == "** NIBP dia 103 > 100"
    assert trends.limit_texts("nibp") == ["dia 100", "dia 110"]
    # Cleared: back to the medium pair of the first vital.
    alarms.snapshot = snapshot(limits=limits)
    alarm_view.drain()
    assert trends.limit_texts("nibp") == ["sys 90", "sys 160"]
    assert sorted(line.value() for line in trends.limit_lines[Vital.HR]) == [50, 110]


def test_alarm_messages_go_to_the_log_not_the_model(alarm_view, ui_queue, sound, caplog):
    ui_queue.put(AlarmAction(T0 + 5, "audio_pause", "2 min", "AB"))
    ui_queue.put(AlarmReminder(T0 + 6, "SpO2 alarms are OFF"))
    with caplog.at_level("WARNING"):
        alarm_view.drain()
    assert "unknown message" not in caplog.text
    assert alarm_view.alarm_log.rowCount() == 1
    assert alarm_view.alarm_log.row_texts(0)[2:] == ("audio pause", "2 min", "", "AB")
    assert sound.reminders == 1


def test_log_button_opens_the_log_panel(qtbot, alarm_view):
    alarm_view.resize(1280, 800)
    alarm_view.show()
    qtbot.waitExposed(alarm_view)
    assert not alarm_view.alarm_log.isVisible()
    alarm_view.alarm_bar.log_button.click()
    assert alarm_view.alarm_log.isVisible()
    qtbot.waitUntil(lambda: alarm_view.alarm_log.height() > 100, timeout=2000)
    alarm_view.alarm_bar.log_button.click()
    assert not alarm_view.alarm_log.isVisible()


def test_no_alarm_sound_from_the_player_is_sent_to_the_engine(alarm_view, alarms, sound):
    alarm_view.drain()
    sound.audio_failed.emit("no audio output device")
    assert alarms.sent == [AudioOutput(False, "no audio output device")]
    assert alarm_view.alarm_bar.indicator_texts() == ["NO ALARM SOUND"]


def test_no_alarm_sound_from_the_snapshot(alarm_view, alarms):
    alarms.snapshot = snapshot(audio_ok=False, vitals_off=(Vital.SPO2,))
    alarm_view.drain()
    assert alarm_view.alarm_bar.indicator_texts() == ["NO ALARM SOUND", "SpO2 ALARMS OFF"]


@pytest.mark.qt_log_ignore(r"does not support propagateSizeHints")  # offscreen, a dialog
def test_limits_dialog_sends_the_change(qtbot, alarm_view, alarms):
    alarm_view.drain()
    alarm_view.alarm_bar.limits_button.click()
    dialog = alarm_view.limits_dialog
    assert dialog is not None and dialog.isVisible()
    dialog.limit_boxes["spo2.low.medium"].setValue(90)
    dialog.initials_edit.setText("AB")
    dialog.buttons.button(dialog.buttons.StandardButton.Ok).click()
    assert alarms.sent == [ChangeLimit("spo2.low.medium", "limit", 90.0, "AB", "")]
    qtbot.waitUntil(lambda: alarm_view.limits_dialog is None, timeout=2000)


# -- with a real engine ------------------------------------------------------------


@pytest.fixture
def engine(clock, ui_queue) -> EngineAlarms:
    return EngineAlarms(clock, ui_queue)


@pytest.fixture
def engine_view(make_view, engine, sound):
    return make_view(alarm_state=engine.state.get, send_command=engine.send,
                     profile=engine.engine.profile, sound=sound)


def test_engine_alarm_end_to_end(engine_view, engine, clock, sound):
    view, bar = engine_view, engine_view.alarm_bar
    clock.advance_to(T0 + 1)
    engine.feed(Vital.SPO2, 85, T0 + 1)
    view.drain()
    assert bar.message_text() == "*** SpO2 85 \u2264 88"
    assert bar.is_flashing()
    assert view.tiles[Vital.SPO2].alarm_colour() == RED
    assert view.alarm_log.row_texts(0)[1:5] == ("HIGH", "raised", "SpO2 85 \u2264 88", "85 / 88")
    assert sound.sounding[-1] is Priority.HIGH
    # Acknowledge: steady red, silent, logged.
    bar.acknowledge_button.click()
    view.drain()
    assert not bar.is_flashing()
    bar.show_flash(0.3)
    assert bar.colours()[0] == RED
    assert sound.sounding[-1] is None
    assert [view.alarm_log.row_texts(i)[2] for i in range(2)] == ["acknowledge", "acknowledged"]
    # Audio pause with its countdown on the session clock.
    bar.audio_pause_button.click()
    view.drain()
    assert bar.audio_pause_text() == "AUDIO PAUSED 2:00"
    clock.advance_to(T0 + 18)
    view.drain()
    assert bar.audio_pause_text() == "AUDIO PAUSED 1:43"


def test_engine_limit_change_updates_log_profile_and_lines(engine_view, engine, ui_queue):
    view = engine_view
    ui_queue.put(session_started())
    view.drain()
    engine.send(ChangeLimit("spo2.low.medium", "limit", 90.0, "AB", "COPD"))
    view.drain()
    assert view.alarm_log.row_texts(0)[2:] == (
        "limit changed", "spo2.low.medium limit: 92 \u2192 90 (COPD)", "", "AB")
    assert view.profile.rule("spo2.low.medium").limit == 90.0
    assert sorted(line.value() for line in view.trends.limit_lines[Vital.SPO2]) == [88.0, 90.0]


def test_a_latched_alarm_shows_cleared_at_until_acknowledged(engine_view, engine, clock):
    view, bar = engine_view, engine_view.alarm_bar
    clock.advance_to(T0 + 1)
    engine.feed(Vital.SPO2, 85, T0 + 1)
    clock.advance_to(T0 + 2)
    engine.feed(Vital.SPO2, 97, T0 + 2)
    view.drain()
    assert "cleared at" in bar.message_text()
    assert bar.is_flashing()
    bar.acknowledge_button.click()
    clock.advance_to(T0 + 10)
    engine._publish(engine.engine.tick(T0 + 10))
    view.drain()
    assert bar.message_text() == NO_ALARMS_TEXT
    assert view.tiles[Vital.SPO2].alarm_colour() == ""


@pytest.mark.qt_log_ignore(
    r"^Couldn't (load|resolve) .*(library|symbols)$",
    r"^PulseAudioService: pa_context_connect\(\) failed",
    r"^QSoundEffect: playback of this format is not supported on the selected audio device",
)
def test_the_view_makes_its_own_speaker_and_reports_no_sound(qtbot, make_view, alarms):
    view = make_view(alarm_state=alarms.get, send_command=alarms.send)
    assert view.sound is not None
    qtbot.waitUntil(lambda: AudioOutput(False, "no audio output device") in alarms.sent,
                    timeout=5000)
    view.drain()
    assert "NO ALARM SOUND" in view.alarm_bar.indicator_texts()
    view.close()
    assert not view.sound._repeat.isActive() and not view.sound._check.isActive()


def test_reading_helper_still_works_with_alarms(alarm_view, ui_queue):
    ui_queue.put(reading(Vital.HR, 72, T0))
    alarm_view.drain()
    assert alarm_view.tiles[Vital.HR].value_text() == "72"


@pytest.mark.parametrize("size", [(1280, 800), (1920, 1080)])
def test_tiles_show_their_limits_in_small_figures(qtbot, alarm_view, alarms, ui_queue, size):
    """Limits are figures on the tiles, as monitors show them, not labels crowding a trend."""
    alarm_view.resize(*size)
    alarm_view.show()
    qtbot.waitExposed(alarm_view)
    ui_queue.put(session_started())
    alarms.snapshot = snapshot(limits=load_default_profile().limit_lines())
    alarm_view.drain()
    tiles = alarm_view.tiles
    assert tiles[Vital.HR].limit_text() == "\u25bc50 \u25b2110"
    assert tiles[Vital.SPO2].limit_text() == "\u25bc92"
    assert alarm_view.nibp_tile.limit_text() == "sys \u25bc90 \u25b2160 \u00b7 dia \u25b2100"
    for tile in (*tiles.values(), alarm_view.nibp_tile):
        label = tile.limits_label
        if label.text():   # whole, inside its tile, clear of the caption and the unit
            qtbot.waitUntil(lambda label=label: label.fontMetrics().horizontalAdvance(
                label.text()) <= label.width())   # once laid out
            assert label.geometry().right() < tile._unit.geometry().left()
            assert label.geometry().left() > tile._caption.geometry().left()
    # A vital whose alarms are off shows the crossed bell and no limits.
    alarms.snapshot = snapshot(limits=load_default_profile().limit_lines(),
                               vitals_off=(Vital.SPO2,))
    alarm_view.drain()
    assert tiles[Vital.SPO2].limit_text() == ""
    assert tiles[Vital.HR].limit_text() == "\u25bc50 \u25b2110"


def test_limit_figures_rules():
    limits = load_default_profile().limit_lines()
    assert tile_limit_text((Vital.HR,), limits) == "\u25bc50 \u25b2110"
    assert tile_limit_text((Vital.HR,), limits, off=(Vital.HR,)) == ""
    assert tile_limit_text((Vital.PULSE_RATE,), {}) == ""
    # The high-priority limit stands in on a side without a medium one.
    only_high = {Vital.HR: LimitLines(low_high=40.0, high_medium=110.0)}
    assert tile_limit_text((Vital.HR,), only_high) == "\u25bc40 \u25b2110"
