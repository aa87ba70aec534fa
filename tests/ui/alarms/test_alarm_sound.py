"""The alarm speaker: burst scheduling, highest priority only, and no-audio detection.

This machine and CI have no audio output device, so every test here also
checks that the player reports that instead of crashing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtMultimedia import QSoundEffect

from monitor.core.alarms.model import Priority
from monitor.ui.alarms import sound as alarm_sound
from monitor.ui.alarms.sound import REMINDER, AlarmSoundPlayer

# With no audio device QtMultimedia logs Qt warnings that are expected here:
# the FFmpeg backend's optional libraries (pipewire, VA-API) are missing, the
# PulseAudio client finds no server (both once per process, in whichever test
# first touches QtMultimedia), and every QSoundEffect says its WAV cannot play
# on the (null) output. Only these messages are let through; any other Qt
# warning still fails the test (qt_log_level_fail = WARNING).
pytestmark = pytest.mark.qt_log_ignore(
    r"^Couldn't (load|resolve) .*(library|symbols)$",
    r"^PulseAudioService: pa_context_connect\(\) failed",
    r"^QSoundEffect: playback of this format is not supported on the selected audio device",
)

FAST_HIGH_S = 0.3
"""High-priority repeat period used by the tests (instead of 7.8 s)."""


@pytest.fixture
def make_player(qtbot) -> Iterator[Callable[..., AlarmSoundPlayer]]:
    """Build players; at teardown close them and check nothing keeps running."""
    players: list[AlarmSoundPlayer] = []

    def factory(**kwargs) -> AlarmSoundPlayer:
        kwargs.setdefault("repeat_periods_s", {Priority.HIGH: FAST_HIGH_S,
                                               Priority.MEDIUM: FAST_HIGH_S})
        player = AlarmSoundPlayer(**kwargs)
        players.append(player)
        return player

    yield factory
    for player in players:
        player.close()
        assert not player._repeat.isActive()
        assert not player._check.isActive()
        assert not any(e.isPlaying() for e in player._effects.values())


@pytest.fixture
def player(make_player) -> AlarmSoundPlayer:
    return make_player()


class BurstLog:
    """Collects ``burst_started`` values."""

    def __init__(self, player: AlarmSoundPlayer) -> None:
        self.values: list[int] = []
        player.burst_started.connect(self.values.append)


def test_no_audio_device_is_reported_once(qtbot, make_player):
    player = make_player()
    with qtbot.waitSignal(player.audio_failed, timeout=2000) as blocker:
        pass
    assert blocker.args == ["no audio output device"]
    assert player.audio_ok is False
    assert player.failure == "no audio output device"
    # Every tone also reached status Error (the second symptom), yet no second report.
    qtbot.waitUntil(lambda: all(e.status() == QSoundEffect.Status.Error
                                for e in player._effects.values()), timeout=2000)
    with qtbot.assertNotEmitted(player.audio_failed, wait=100):
        pass


def test_a_tone_in_error_is_a_failure_even_if_outputs_are_listed(qtbot, make_player,
                                                                 monkeypatch):
    monkeypatch.setattr(alarm_sound, "output_problem", lambda: None)
    player = make_player()
    # Known at once when Qt already has the file cached, else after loading; the
    # signal comes from the event loop either way.
    with qtbot.waitSignal(player.audio_failed, timeout=2000) as blocker:
        pass
    assert "could not be loaded" in blocker.args[0]
    assert not player.audio_ok


def test_tones_that_never_load_time_out(qtbot, make_player, monkeypatch):
    monkeypatch.setattr(alarm_sound, "output_problem", lambda: None)
    monkeypatch.setattr(AlarmSoundPlayer, "_on_status_changed", lambda self: None)
    player = make_player(load_timeout_ms=50)
    with qtbot.waitSignal(player.audio_failed, timeout=2000) as blocker:
        pass
    assert blocker.args == ["alarm tones not loaded after 0.05 s"]


def test_high_starts_at_once_and_repeats(qtbot, player):
    log = BurstLog(player)
    with qtbot.waitSignal(player.burst_started, timeout=1) as blocker:
        player.set_sounding(Priority.HIGH)
    assert blocker.args == [int(Priority.HIGH)]
    assert log.values == [3]  # synchronously, inside set_sounding
    with qtbot.waitSignal(player.burst_started, timeout=2000) as blocker:
        pass
    assert blocker.args == [3]
    assert player.sounding is Priority.HIGH


def test_same_priority_every_tick_does_not_restart(qtbot, player):
    log = BurstLog(player)
    player.set_sounding(Priority.HIGH)
    for _ in range(5):
        player.set_sounding(Priority.HIGH)
    assert log.values == [3]
    qtbot.waitUntil(lambda: len(log.values) == 2, timeout=2000)  # only the timer repeats it


def test_default_periods_come_from_the_patterns(qtbot, make_player):
    player = make_player(repeat_periods_s={})
    player.set_sounding(Priority.HIGH)
    assert player._repeat.interval() == 7800
    player.set_sounding(Priority.MEDIUM)
    assert player._repeat.interval() == 18000


def test_switching_priority_starts_the_new_pattern_only(qtbot, player):
    log = BurstLog(player)
    player.set_sounding(Priority.HIGH)
    player.set_sounding(Priority.MEDIUM)  # high acknowledged, a medium remains
    assert log.values == [3, 2]
    qtbot.waitUntil(lambda: len(log.values) >= 4, timeout=2000)
    assert set(log.values[1:]) == {2}  # high never comes back
    player.set_sounding(Priority.HIGH)  # escalation: high at once
    assert log.values[-1] == 3


def test_low_plays_once(qtbot, player):
    log = BurstLog(player)
    player.set_sounding(Priority.LOW)
    assert log.values == [1]
    assert not player._repeat.isActive()
    with qtbot.assertNotEmitted(player.burst_started, wait=2 * int(FAST_HIGH_S * 1000)):
        pass


def test_none_stops_the_repeats(qtbot, player):
    log = BurstLog(player)
    player.set_sounding(Priority.HIGH)
    player.set_sounding(None)
    assert not player._repeat.isActive()
    assert player.sounding is None
    with qtbot.assertNotEmitted(player.burst_started, wait=2 * int(FAST_HIGH_S * 1000)):
        pass
    assert log.values == [3]
    player.set_sounding(Priority.HIGH)  # a new alarm after silence starts again
    assert log.values == [3, 3]


def test_reminder_plays_once_when_nothing_sounds(qtbot, player):
    with qtbot.waitSignal(player.burst_started, timeout=1) as blocker:
        assert player.play_reminder() is True
    assert blocker.args == [REMINDER]
    assert not player._repeat.isActive()


def test_no_reminder_while_an_alarm_sounds(qtbot, player):
    log = BurstLog(player)
    player.set_sounding(Priority.MEDIUM)
    assert player.play_reminder() is False
    assert log.values == [2]


def test_plays_the_shipped_tones_and_close_stops_everything(qtbot, player):
    from monitor.core.alarms.tones import shipped_tone_dir

    tone_dir = Path(player._effects[3].source().toLocalFile()).parent
    assert tone_dir == shipped_tone_dir()
    assert sorted(Path(player._effects[k].source().toLocalFile()).name
                  for k in player._effects) == ["high.wav", "low.wav", "medium.wav",
                                                "reminder.wav"]
    player.set_sounding(Priority.HIGH)
    player.close()
    assert not player._repeat.isActive()
    assert all(e.source().isEmpty() for e in player._effects.values())


def test_missing_tone_files_are_an_audio_failure(qtbot, tmp_path, monkeypatch):
    # Pretend an output device exists so the missing files are what fails.
    monkeypatch.setattr(alarm_sound, "output_problem", lambda: None)
    player = AlarmSoundPlayer(tone_dir=tmp_path)
    with qtbot.waitSignal(player.audio_failed, timeout=2000) as blocker:
        pass
    assert not player.audio_ok
    player.close()
    assert "alarm tone files missing" in blocker.args[0] and str(tmp_path) in blocker.args[0]


def test_a_closed_player_stays_silent(qtbot, player):
    log = BurstLog(player)
    player.close()
    player.set_sounding(Priority.HIGH)
    assert player.play_reminder() is False
    assert log.values == []
    assert not player._repeat.isActive()
