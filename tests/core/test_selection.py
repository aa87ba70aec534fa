"""Which device is shown and alarmed for each vital when a chair has several (issue 16).

The selector is pure: every test feeds it readings with session times and
checks the selections it returns.
"""

from __future__ import annotations

import pytest

from monitor.core.events import Selection, SourceInfo
from monitor.core.reading import Quality, make_reading
from monitor.core.selection import RETURN_HOLD_S, SourceSelector, default_priority
from monitor.core.vitals import Vital

STALE = 2.0

OXIMETER = SourceInfo("Masimo", "serial:/dev/ttyUSB0", "masimo-ascii", False, "oximeter",
                      frozenset({Vital.SPO2, Vital.PULSE_RATE, Vital.PLETH,
                                 Vital.PERF_INDEX}))
MONITOR = SourceInfo("Datex S/5", "serial:/dev/ttyUSB1", "datex-s5", False, "monitor",
                     frozenset({Vital.SPO2, Vital.PULSE_RATE, Vital.HR, Vital.NIBP_SYS,
                                Vital.NIBP_DIA, Vital.NIBP_MEAN, Vital.PLETH,
                                Vital.RESP_RATE}))
OTHER_MONITOR = SourceInfo("IntelliVue", "udp:10.0.0.5", "intellivue-lan", False, "monitor",
                           frozenset({Vital.NIBP_SYS, Vital.NIBP_DIA, Vital.NIBP_MEAN,
                                      Vital.HR, Vital.SPO2}))


def selector(*sources: SourceInfo, priority=None, start: float = 0.0) -> SourceSelector:
    sel = SourceSelector(sources or (OXIMETER, MONITOR), priority, stale_after=STALE)
    sel.start(start)
    return sel


def feed(sel: SourceSelector, vital: Vital, source: str, t: float, value: float = 97.0,
         quality: Quality = Quality.OK) -> list[Selection]:
    out = sel.on_reading(make_reading(vital, value, t, quality, source=source))
    return out + sel.tick(t)


def both_every_second(sel: SourceSelector, start: float, end: float, *,
                      vital: Vital = Vital.SPO2, skip: str = "") -> list[Selection]:
    out: list[Selection] = []
    t = start
    while t < end:
        for name in ("Masimo", "Datex S/5"):
            if name != skip:
                out += feed(sel, vital, name, t)
        t += 1.0
    return out


def test_the_default_order_puts_the_oximeter_first_for_spo2_and_the_monitor_for_hr():
    order = default_priority([MONITOR, OXIMETER])
    assert order[Vital.SPO2] == ("Masimo", "Datex S/5")
    assert order[Vital.PULSE_RATE] == ("Masimo", "Datex S/5")
    assert order[Vital.PLETH] == ("Masimo", "Datex S/5")
    assert order[Vital.HR] == ("Datex S/5",)           # the oximeter has no ECG
    assert order[Vital.NIBP_SYS] == ("Datex S/5",)
    assert Vital.ETCO2 not in order                     # nobody measures it


def test_a_configured_order_wins_and_is_completed_with_the_sources_it_leaves_out():
    sel = SourceSelector([OXIMETER, MONITOR, OTHER_MONITOR],
                         {Vital.SPO2: ["Datex S/5", "Nobody"], Vital.HR: ["IntelliVue"]})
    assert sel.priority[Vital.SPO2] == ("Datex S/5", "Masimo", "IntelliVue")
    assert sel.priority[Vital.HR] == ("IntelliVue", "Datex S/5")
    # The pleth shown follows the SpO2 order when it has none of its own.
    assert sel.priority[Vital.PLETH] == ("Datex S/5", "Masimo")


def test_each_vital_gets_one_start_selection_of_its_first_device():
    sel = selector()
    out = both_every_second(sel, 0.0, 8.0)
    assert out == [Selection(0.0, Vital.SPO2, "Masimo", "start")]
    assert sel.shows(Vital.SPO2, "Masimo") and not sel.shows(Vital.SPO2, "Datex S/5")
    out = feed(sel, Vital.HR, "Datex S/5", 8.0, 72.0)
    assert out == [Selection(8.0, Vital.HR, "Datex S/5", "start")]


def test_a_second_device_that_comes_first_waits_for_the_first_in_order():
    """A device a second late does not cause a fall-back and a return in the first seconds."""
    sel = selector()
    assert feed(sel, Vital.SPO2, "Datex S/5", 0.5) == []
    assert not sel.shows(Vital.SPO2, "Datex S/5")       # recorded, not yet alarmed
    out = feed(sel, Vital.SPO2, "Masimo", 1.5)
    assert out == [Selection(1.5, Vital.SPO2, "Masimo", "start")]


def test_the_second_in_order_starts_when_the_first_never_comes():
    sel = selector()
    out: list[Selection] = []
    for t in range(8):
        out += feed(sel, Vital.SPO2, "Datex S/5", float(t))
    assert out == [Selection(RETURN_HOLD_S, Vital.SPO2, "Datex S/5", "start")]


def test_a_silent_oximeter_falls_back_at_once_and_returns_after_the_hold():
    sel = selector()
    both_every_second(sel, 0.0, 10.0)
    out = both_every_second(sel, 10.0, 20.0, skip="Masimo")
    # The last Masimo value came at 9 s; it is stale from 11 s.
    assert out == [Selection(11.0, Vital.SPO2, "Datex S/5", "stale", "Masimo")]
    out = both_every_second(sel, 20.0, 40.0)
    assert out == [Selection(20.0 + RETURN_HOLD_S, Vital.SPO2, "Masimo", "returned",
                             "Datex S/5")]


def test_a_silence_reported_by_the_hub_is_no_data():
    sel = selector()
    both_every_second(sel, 0.0, 10.0)
    out = sel.set_silent("Masimo", True, 10.2)
    assert out == [Selection(10.2, Vital.SPO2, "Datex S/5", "no_data", "Masimo")]
    assert sel.set_silent("Masimo", True, 10.3) == []        # no change, no selection


def test_an_ended_stream_is_never_shown_again():
    sel = selector()
    both_every_second(sel, 0.0, 10.0)
    out = sel.set_ended("Masimo", 10.0)
    assert out == [Selection(10.0, Vital.SPO2, "Datex S/5", "ended", "Masimo")]
    assert both_every_second(sel, 10.0, 30.0) == []


def test_a_probe_off_or_invalid_readings_are_a_sensor_fall_back():
    sel = selector()
    both_every_second(sel, 0.0, 10.0)
    out = feed(sel, Vital.SPO2, "Masimo", 10.0, quality=Quality.SENSOR_OFF)
    assert out == [Selection(10.0, Vital.SPO2, "Datex S/5", "sensor", "Masimo")]
    sel2 = selector()
    both_every_second(sel2, 0.0, 10.0)
    out = sel2.set_sensor_off("Masimo", True, 10.0)
    assert out == [Selection(10.0, Vital.SPO2, "Datex S/5", "sensor", "Masimo")]
    # The probe off is the SpO2 side only: nothing else of that device changes.
    assert sel2.shown(Vital.HR) is None


def test_a_flapping_probe_does_not_make_the_shown_value_jump():
    sel = selector()
    both_every_second(sel, 0.0, 10.0)
    out: list[Selection] = []
    for t in range(10, 30):
        bad = t % 3 == 0                              # every third second invalid
        out += feed(sel, Vital.SPO2, "Masimo", float(t),
                    quality=Quality.SENSOR_OFF if bad else Quality.OK)
        out += feed(sel, Vital.SPO2, "Datex S/5", float(t))
    # One fall-back at the first bad reading, and no return: Masimo is never valid for the
    # hold without a break.
    assert out == [Selection(12.0, Vital.SPO2, "Datex S/5", "sensor", "Masimo")]


def test_when_no_device_is_available_the_shown_one_stays_and_goes_stale():
    sel = selector()
    both_every_second(sel, 0.0, 10.0)
    assert sel.tick(20.0) == []                     # both silent: no selection to nobody
    assert sel.shown(Vital.SPO2) == "Masimo"
    assert not sel.available(Vital.SPO2, "Masimo", 20.0)


def test_nibp_follows_the_device_of_the_latest_determination():
    sel = selector(OXIMETER, MONITOR, OTHER_MONITOR)
    out = feed(sel, Vital.NIBP_SYS, "IntelliVue", 60.0, 130.0)
    assert out == [Selection(60.0, Vital.NIBP_SYS, "IntelliVue", "start")]
    out = feed(sel, Vital.NIBP_SYS, "Datex S/5", 300.0, 150.0)
    assert out == [Selection(300.0, Vital.NIBP_SYS, "Datex S/5", "newer", "IntelliVue")]
    # Every valid determination is shown, whichever device: the latest one is.
    assert sel.shows(Vital.NIBP_SYS, "Datex S/5")
    assert feed(sel, Vital.NIBP_SYS, "Datex S/5", 600.0, 140.0) == []


def test_manual_readings_and_unlisted_vitals_always_pass():
    sel = selector()
    assert sel.shows(Vital.NIBP_SYS, "")                  # typed in by the nurse
    assert sel.shows(Vital.SPHB, "Masimo")                # no device order for it


def test_the_pleth_follows_the_same_rule():
    import numpy as np

    from monitor.core.reading import WaveChunk

    sel = selector()
    out = sel.on_wave(WaveChunk(Vital.PLETH, 0.0, 100.0, np.zeros(100), source="Masimo"))
    assert out == [Selection(1.0, Vital.PLETH, "Masimo", "start")]


def test_stale_after_must_be_positive():
    with pytest.raises(ValueError, match="stale_after"):
        SourceSelector([OXIMETER], stale_after=0)
