"""The alarm bar: highest priority, flashing colours, other alarms, indicators, buttons."""

from __future__ import annotations

import time

import pytest
from PySide6.QtWidgets import QVBoxLayout, QWidget

from monitor.core.alarms.model import AlarmKind, Priority
from monitor.core.vitals import Vital
from monitor.ui.alarms.bar import NO_ALARMS_TEXT, NOT_CONNECTED_TEXT, AlarmBarWidget
from monitor.ui.alarms.style import COLOURS, UNLIT_BACKGROUND
from monitor.ui.shared.theme import PANEL
from tests.ui.alarm_fakes import entry, snapshot
from tests.ui.helpers import T0

RED, YELLOW, CYAN = (COLOURS[p].lit for p in (Priority.HIGH, Priority.MEDIUM, Priority.LOW))


class FlashClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def flash_clock() -> FlashClock:
    return FlashClock()


@pytest.fixture
def bar(qtbot, flash_clock):
    widget = AlarmBarWidget(flash_clock=flash_clock)
    qtbot.addWidget(widget)
    widget.resize(1268, 64)
    yield widget
    widget.stop()
    assert not widget.is_flashing()


def test_calm_bar_without_alarms(bar):
    bar.set_snapshot(snapshot())
    assert bar.message_text() == NO_ALARMS_TEXT
    assert bar.colours()[0] == PANEL
    assert not bar.is_flashing()
    assert not bar.acknowledge_button.isEnabled()
    assert bar.indicator_texts() == []


def test_without_an_alarm_system_the_bar_says_so(bar):
    bar.set_snapshot(None, connected=False)
    assert bar.message_text() == NOT_CONNECTED_TEXT
    assert not bar.audio_pause_button.isEnabled()
    assert not bar.limits_button.isEnabled()


@pytest.mark.parametrize(("priority", "colour", "text_colour"), [
    (Priority.HIGH, RED, "#ffffff"), (Priority.MEDIUM, YELLOW, "#000000"),
    (Priority.LOW, CYAN, "#000000")])
def test_colour_per_priority(bar, priority, colour, text_colour):
    bar.set_snapshot(snapshot(entry(priority, "SpO2 90 < 92")))
    bar.show_flash(0.0)
    assert bar.colours() == (colour, text_colour)


def test_high_alarm_flashes_in_its_phase(bar):
    bar.set_snapshot(snapshot(entry(Priority.HIGH, "SpO2 86 \u2264 88")))
    assert bar.is_flashing()
    seen = []
    for t in (0.0, 0.1, 0.26, 0.4, 0.51, 0.74, 0.76):
        bar.show_flash(t)
        seen.append(bar.colours()[0] == RED)
    assert seen == [True, True, False, False, True, True, False]
    bar.show_flash(0.3)
    assert bar.colours() == (UNLIT_BACKGROUND, COLOURS[Priority.HIGH].dark_text)


def test_medium_alarm_flashes_every_second(bar):
    bar.set_snapshot(snapshot(entry(Priority.MEDIUM, "HR 118 > 110", Vital.HR)))
    lit = []
    for t in (0.0, 0.9, 1.1, 1.9, 2.1):
        bar.show_flash(t)
        lit.append(bar.colours()[0] == YELLOW)
    assert lit == [True, True, False, False, True]


def test_low_alarm_is_steady_and_needs_no_timer(bar):
    bar.set_snapshot(snapshot(entry(Priority.LOW, "NIBP overdue", None,
                                    kind=AlarmKind.TECHNICAL)))
    assert not bar.is_flashing()
    for t in (0.0, 0.3, 1.2, 7.7):
        bar.show_flash(t)
        assert bar.colours()[0] == CYAN


def test_acknowledged_alarm_keeps_its_colour_without_flashing(bar):
    bar.set_snapshot(snapshot(entry(Priority.HIGH, "SpO2 86 \u2264 88", acknowledged=True)))
    assert not bar.is_flashing()
    for t in (0.0, 0.3, 0.8):
        bar.show_flash(t)
        assert bar.colours()[0] == RED


def test_the_timer_drives_the_flashing(qtbot, bar, flash_clock):
    bar.set_snapshot(snapshot(entry(Priority.HIGH, "SpO2 86 \u2264 88")))
    assert bar.colours()[0] == RED  # a new alarm starts lit
    ticks = []
    bar.flash_ticked.connect(ticks.append)
    flash_clock.t += 0.3
    qtbot.waitUntil(lambda: bar.colours()[0] == UNLIT_BACKGROUND, timeout=2000)
    assert ticks and ticks[-1] == pytest.approx(0.3)
    flash_clock.t += 0.25
    qtbot.waitUntil(lambda: bar.colours()[0] == RED, timeout=2000)
    bar.set_snapshot(snapshot())
    assert not bar.is_flashing()


def test_shows_the_highest_priority_and_lists_the_others(bar):
    bar.set_snapshot(snapshot(
        entry(Priority.LOW, "NIBP overdue", None, kind=AlarmKind.TECHNICAL),
        entry(Priority.MEDIUM, "HR 118 > 110", Vital.HR),
        entry(Priority.HIGH, "SpO2 86 \u2264 88")))
    bar.show_flash(0.0)
    assert bar.message_text() == "*** SpO2 86 \u2264 88"
    assert bar.colours()[0] == RED
    assert bar.others_text() == "** HR 118 > 110   \u00b7   * NIBP overdue"
    assert bar.others_label.isVisibleTo(bar)


def test_one_alarm_has_no_second_line(bar):
    bar.set_snapshot(snapshot(entry(Priority.MEDIUM, "HR 118 > 110", Vital.HR)))
    assert bar.message_text() == "** HR 118 > 110"
    assert bar.others_text() == ""
    assert not bar.others_label.isVisibleTo(bar)


def test_latched_cleared_alarm_shows_when_it_cleared(bar):
    cleared = T0 + 754
    bar.set_snapshot(snapshot(entry(Priority.HIGH, "SpO2 85 \u2264 88", active=False,
                                    latched=True, cleared_at=cleared)))
    hhmm = time.strftime("%H:%M", time.localtime(cleared))
    assert bar.message_text() == f"*** SpO2 85 \u2264 88 \u2014 cleared at {hhmm}"
    assert bar.is_flashing()  # still signalling until acknowledged
    assert bar.acknowledge_button.isEnabled()


def test_long_message_shrinks_then_wraps_never_cut(qtbot, flash_clock):
    window = QWidget()
    window.setMinimumSize(1268, 80)  # the window's size never follows its layout (offscreen)
    qtbot.addWidget(window)
    bar = AlarmBarWidget(flash_clock=flash_clock)
    QVBoxLayout(window).addWidget(bar)
    window.show()
    qtbot.waitExposed(window)
    label = bar.message_label
    bar.set_snapshot(snapshot(entry(Priority.HIGH, "NIBP sys 185 \u2265 180 (2 readings in 5 min)",
                                    Vital.NIBP_SYS)))
    assert 16 <= label.font().pixelSize() <= 30
    assert label.text() == bar.message_text()  # the whole message, in a smaller font
    assert label.fontMetrics().horizontalAdvance(label.text()) <= label.contentsRect().width()
    words = " ".join(["very long technical message"] * 6)
    bar.set_snapshot(snapshot(entry(Priority.HIGH, words, None, kind=AlarmKind.TECHNICAL)))
    assert bar.message_text() == f"*** {words}"
    assert label.text() == f"*** {words}" and label.wordWrap()   # wrapped, not cut
    bar.set_snapshot(snapshot(entry(Priority.HIGH, "SpO2 86 < 88", Vital.SPO2)))
    assert not label.wordWrap() and label.text() == "*** SpO2 86 < 88"
    bar.stop()


@pytest.mark.parametrize("size", [(1280, 800), (1920, 1080)])
def test_alarm_text_shortens_by_rule_and_is_never_cut(qtbot, flash_clock, size):
    """The review found "no audio output (no audio…" and latched alarms losing "cleared at"."""
    window = QWidget()
    window.setMinimumSize(size[0] - 12, 80)
    qtbot.addWidget(window)
    bar = AlarmBarWidget(flash_clock=flash_clock)
    QVBoxLayout(window).addWidget(bar)
    window.resize(*size)
    window.show()
    qtbot.waitExposed(window)
    cleared = T0 + 600
    alarms = [entry(Priority.HIGH, "NIBP sys 203 \u2265 200 (single reading)", Vital.NIBP_SYS,
                    active=False, cleared_at=cleared, latched=True, raised_at=T0 + 5),
              entry(Priority.MEDIUM, "NO ALARM SOUND: no audio output (no audio output device)",
                    None, kind=AlarmKind.TECHNICAL, alarm_id="audio.none", raised_at=T0 + 4),
              entry(Priority.MEDIUM, "NIBP dia 115 > 100", Vital.NIBP_DIA, raised_at=T0 + 3),
              entry(Priority.MEDIUM, "HR 118 > 110 (for 10 s)", Vital.HR, raised_at=T0 + 2,
                    alarm_id="hr.high")]
    bar.set_snapshot(snapshot(*alarms))
    for label in (bar.message_label, bar.others_label):
        assert "\u2026" not in label.text()
        assert label.fontMetrics().horizontalAdvance(label.text()) <= label.contentsRect().width()
    clock = time.strftime("%H:%M", time.localtime(cleared))
    assert bar.message_label.text().startswith("*** NIBP sys 203")
    assert bar.message_label.text().endswith(f"cleared {clock}") or \
        bar.message_label.text().endswith(f"cleared at {clock}")
    shown = bar.others_label.text()
    assert "NO ALARM SOUND" in shown
    # Each alarm is whole or counted: "+N more" stands for the ones left out.
    parts = shown.split("   \u00b7   ")
    more = sum(int(p[1:].split()[0]) for p in parts if p.startswith("+"))
    assert len([p for p in parts if not p.startswith("+")]) + more == 3
    bar.stop()


def test_audio_pause_countdown_follows_the_clock(bar):
    snap = snapshot(entry(Priority.HIGH, "SpO2 86 \u2264 88"), audio_paused_until=T0 + 120)
    bar.set_snapshot(snap)
    bar.show_time(T0)
    assert bar.audio_pause_text() == "AUDIO PAUSED 2:00"
    assert bar.audio_pause_button.text() == "AUDIO PAUSED\n2:00"
    bar.show_time(T0 + 17)
    assert bar.audio_pause_text() == "AUDIO PAUSED 1:43"
    bar.show_time(T0 + 119.5)
    assert bar.audio_pause_text() == "AUDIO PAUSED 0:01"
    bar.set_snapshot(snapshot(entry(Priority.HIGH, "SpO2 86 \u2264 88")))
    bar.show_time(T0 + 121)
    assert bar.audio_pause_text() == "Audio pause"


def test_audio_button_pauses_then_resumes(qtbot, bar):
    bar.set_snapshot(snapshot(entry(Priority.HIGH, "SpO2 86 \u2264 88")))
    with qtbot.waitSignal(bar.audio_pause_clicked, timeout=1000):
        bar.audio_pause_button.click()
    bar.set_snapshot(snapshot(entry(Priority.HIGH, "SpO2 86 \u2264 88"),
                              audio_paused_until=T0 + 120))
    with qtbot.waitSignal(bar.audio_resume_clicked, timeout=1000), \
            qtbot.assertNotEmitted(bar.audio_pause_clicked):
        bar.audio_pause_button.click()


def test_acknowledge_button(qtbot, bar):
    bar.set_snapshot(snapshot(entry(Priority.MEDIUM, "HR 118 > 110", Vital.HR)))
    with qtbot.waitSignal(bar.acknowledge_clicked, timeout=1000):
        bar.acknowledge_button.click()


def test_no_alarm_sound_indicator(bar):
    bar.set_snapshot(snapshot(audio_ok=False))
    assert bar.indicator_texts() == ["NO ALARM SOUND"]
    bar.set_snapshot(snapshot(audio_ok=True))
    assert bar.indicator_texts() == []
    bar.set_sound_ok(False)  # the player found out first
    assert bar.indicator_texts() == ["NO ALARM SOUND"]


def test_alarms_off_banner_per_vital(bar):
    bar.set_snapshot(snapshot(vitals_off=(Vital.SPO2, Vital.NIBP_DIA)))
    assert bar.indicator_texts() == ["SpO2 ALARMS OFF", "NIBP dia ALARMS OFF"]
    bar.set_snapshot(snapshot(vitals_off=(Vital.SPO2,), audio_ok=False))
    assert bar.indicator_texts() == ["NO ALARM SOUND", "SpO2 ALARMS OFF"]
    bar.set_snapshot(snapshot())
    assert bar.indicator_texts() == []


def test_the_flash_timer_is_set_for_the_next_switch_only(bar, flash_clock):
    """At 2 Hz the bar and the tiles change four times a second: the timer wakes that often."""
    ticks: list[float] = []
    bar.flash_ticked.connect(ticks.append)
    bar.set_snapshot(snapshot(entry(Priority.HIGH, "SpO2 86 \u2264 88")))
    assert bar.is_flashing() and bar._timer.isSingleShot()
    assert 240 <= bar._timer.interval() <= 251             # to the first switch, 0.25 s on
    assert bar.colours()[0] == RED
    flash_clock.t += 0.25                                  # the timer fires at the switch
    bar._on_flash_timer()
    assert ticks == [pytest.approx(0.25)] and bar.colours()[0] == UNLIT_BACKGROUND
    assert 240 <= bar._timer.interval() <= 251 and bar._timer.isActive()
    flash_clock.t += 0.1                                   # a late wake-up: the rest only
    bar._on_flash_timer()
    assert 140 <= bar._timer.interval() <= 151
    bar.set_snapshot(snapshot(entry(Priority.MEDIUM, "HR 118 > 110", Vital.HR)))
    assert bar._timer.interval() <= 651                    # medium switches at 1.0 s
    bar.set_snapshot(snapshot())
    assert not bar.is_flashing() and not bar._timer.isActive()
