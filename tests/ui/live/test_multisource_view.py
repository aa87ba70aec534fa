"""A session of several devices in the live view: which device each number came from.

The tiles name the device shown ("SpO2 · Masimo"), follow the hub's fall-back
(a ``Selection``), never show the other device's value as the tile's, and the
trend draws the other device's series dotted with a legend. The header says
how each device's link is, one line per device, and a technical condition of
one device does not hide another's.
"""

from __future__ import annotations

from monitor.core.events import (
    Condition,
    Selection,
    SessionStarted,
    SourceInfo,
    SourceStatus,
    Technical,
)
from monitor.core.reading import Quality, Reading, make_reading
from monitor.core.session import Phase, PhaseSpan
from monitor.core.vitals import Vital
from monitor.ui.live.model import LiveModel
from monitor.ui.live.trend_specs import PLOT_SPECS
from monitor.ui.shared.formatting import format_age
from tests.ui.helpers import T0

OXI = SourceInfo("Masimo", "serial:/dev/pts/3", "masimo-ascii", False, "oximeter",
                 frozenset({Vital.SPO2, Vital.PULSE_RATE, Vital.PLETH}))
MON = SourceInfo("Datex S/5", "serial:/dev/pts/4", "datex-s5", False, "monitor",
                 frozenset({Vital.HR, Vital.SPO2, Vital.PULSE_RATE, Vital.NIBP_SYS,
                            Vital.NIBP_DIA, Vital.NIBP_MEAN, Vital.PLETH}))


def _started(*sources: SourceInfo) -> SessionStarted:
    measures = frozenset().union(*(s.measures or frozenset() for s in sources))
    return SessionStarted(1, T0, "two devices", False, (PhaseSpan(Phase.BASELINE, T0),),
                          measures=measures, sources=tuple(sources))


def _r(vital: Vital, value: float, t: float, source: str) -> Reading:
    return make_reading(vital, value, t, source=source)


def _model_with_two() -> LiveModel:
    model = LiveModel(stale_after_s=10.0)
    model.apply(_started(OXI, MON))
    model.apply(Selection(T0, Vital.SPO2, "Masimo", "start"))
    model.apply(Selection(T0, Vital.HR, "Datex S/5", "start"))
    return model


def test_tile_names_the_device_shown_and_ignores_the_other_devices_value():
    model = _model_with_two()
    model.apply(_r(Vital.SPO2, 97, T0 + 1, "Masimo"))
    model.apply(_r(Vital.SPO2, 93, T0 + 1.2, "Datex S/5"))   # not shown: its own series only
    state = model.tile_state(Vital.SPO2, T0 + 2)
    assert state.text == "97"
    assert state.label == "SpO2 \u00b7 Masimo"
    # The heart rate only the monitor measures: the tile says "HR" and keeps its room for
    # the limit figures (the header names the monitor's link).
    model.apply(_r(Vital.HR, 72, T0 + 1, "Datex S/5"))
    hr = model.tile_state(Vital.HR, T0 + 2)
    assert (hr.text, hr.label) == ("72", "")


def test_fall_back_moves_the_tile_to_the_other_device():
    model = _model_with_two()
    for s in range(5):
        model.apply(_r(Vital.SPO2, 97, T0 + s, "Masimo"))
        model.apply(_r(Vital.SPO2, 94, T0 + s + 0.5, "Datex S/5"))
    model.apply(Selection(T0 + 15, Vital.SPO2, "Datex S/5", "no_data", "Masimo"))
    model.apply(_r(Vital.SPO2, 95, T0 + 15, "Datex S/5"))
    state = model.tile_state(Vital.SPO2, T0 + 15.5)
    assert (state.text, state.label) == ("95", "SpO2 \u00b7 Datex S/5")
    # The main trend is what was shown: Masimo's values, then Datex's.
    t, v = model.trends.series(Vital.SPO2).view()
    assert list(v) == [97.0] * 5 + [95.0]
    # Each device keeps its own full series for the dotted lines.
    devices = model.trends.devices(Vital.SPO2)
    assert list(devices["Masimo"].view()[1]) == [97.0] * 5
    assert list(devices["Datex S/5"].view()[1]) == [94.0] * 5 + [95.0]


def test_a_typed_value_is_shown_whatever_device_is_selected():
    model = _model_with_two()
    model.apply(make_reading(Vital.SPO2, 91, T0 + 3, Quality.MANUAL))
    state = model.tile_state(Vital.SPO2, T0 + 4)
    assert state.manual and state.text == "91"
    assert "Masimo" not in state.label


def test_single_device_session_tiles_say_no_device():
    model = LiveModel()
    model.apply(_started(MON))
    model.apply(Selection(T0, Vital.SPO2, "Datex S/5", "start"))
    model.apply(_r(Vital.SPO2, 96, T0 + 1, "Datex S/5"))
    state = model.tile_state(Vital.SPO2, T0 + 2)
    assert state.text == "96" and state.label == ""
    assert model.trends.devices(Vital.SPO2) == {}


def test_nibp_tile_names_the_device_of_the_determination():
    model = _model_with_two()
    model.apply(Selection(T0 + 60, Vital.NIBP_SYS, "Datex S/5", "newer"))
    for vital, value in ((Vital.NIBP_SYS, 128), (Vital.NIBP_DIA, 81), (Vital.NIBP_MEAN, 97)):
        model.apply(_r(vital, value, T0 + 60, "Datex S/5"))
    state = model.nibp_state(T0 + 61)
    assert state.text == "128/81" and state.device == ""   # only the monitor takes NIBP
    # With a second device that takes the blood pressure, the tile names the one shown.
    cuff = SourceInfo("Cuff", "serial:/dev/pts/5", "text", False, "monitor",
                      frozenset({Vital.NIBP_SYS, Vital.NIBP_DIA, Vital.NIBP_MEAN}))
    model = LiveModel(stale_after_s=10.0)
    model.apply(_started(OXI, MON, cuff))
    model.apply(Selection(T0 + 60, Vital.NIBP_SYS, "Datex S/5", "newer"))
    for vital, value in ((Vital.NIBP_SYS, 128), (Vital.NIBP_DIA, 81), (Vital.NIBP_MEAN, 97)):
        model.apply(_r(vital, value, T0 + 60, "Datex S/5"))
    state = model.nibp_state(T0 + 61)
    assert state.text == "128/81" and state.device == "Datex S/5"


def test_header_has_one_link_line_per_device_and_per_device_technicals():
    model = _model_with_two()
    model.apply(SourceStatus(T0 + 5, "serial:/dev/pts/3 (masimo-ascii)", True, 120.0,
                             frames_ok=5, last_data_t=T0 + 5, source="Masimo"))
    model.apply(SourceStatus(T0 + 5, "serial:/dev/pts/4 (datex-s5)", False,
                             message="serial:/dev/pts/4 lost", source="Datex S/5"))
    model.apply(Technical(Condition.NO_DATA, True, T0 + 20, "no data from Masimo",
                          source="Masimo"))
    model.apply(Technical(Condition.NO_DATA, True, T0 + 21, "no data from Datex S/5",
                          source="Datex S/5"))
    lines = model.status_messages(T0 + 8)
    assert lines[0] == f"Masimo: OK \u00b7 last data {format_age(3.0)}"
    assert lines[1].startswith("Datex S/5: DEVICE DISCONNECTED")
    assert "no data from Masimo" in lines and "no data from Datex S/5" in lines
    model.apply(Technical(Condition.NO_DATA, False, T0 + 30, "data again", source="Masimo"))
    lines = model.status_messages(T0 + 31)
    assert lines[0].startswith("Masimo: serial:/dev/pts/3 (masimo-ascii)")  # 26 s: not OK
    assert "no data from Masimo" not in lines and "no data from Datex S/5" in lines


def test_pleth_of_the_device_not_shown_is_not_swept():
    import numpy as np

    from monitor.core.reading import WaveChunk

    model = _model_with_two()
    model.apply(Selection(T0, Vital.PLETH, "Masimo", "start"))
    model.apply(WaveChunk(Vital.PLETH, T0 + 1, 100.0, np.ones(25), source="Datex S/5"))
    assert model.sweep.last_t is None and model.sweep.version == 0
    model.apply(WaveChunk(Vital.PLETH, T0 + 1, 100.0, np.ones(25), source="Masimo"))
    assert model.sweep.last_t is not None and model.sweep.version > 0


def test_trend_draws_the_other_device_dotted_with_a_legend(view, ui_queue, clock):
    for msg in (_started(OXI, MON), Selection(T0, Vital.SPO2, "Masimo", "start")):
        ui_queue.put(msg)
    for s in range(0, 120):
        ui_queue.put(_r(Vital.SPO2, 97, T0 + s, "Masimo"))
        ui_queue.put(_r(Vital.SPO2, 93, T0 + s + 0.5, "Datex S/5"))
    clock.advance_to(T0 + 120)
    view.drain()
    view.trends.refresh(T0 + 120, force=True)
    dotted = view.trends.device_curves[(Vital.SPO2, "Datex S/5")]
    assert dotted.isVisible() and dotted.yData[-1] == 93
    assert not view.trends.device_curves[(Vital.SPO2, "Masimo")].isVisible()
    assert view.trends.curves[Vital.SPO2].yData[-1] == 97
    key = next(s.key for s in PLOT_SPECS if Vital.SPO2 in s.vitals)
    assert view.trends.device_legend_text(key) == \
        "\u2014 Masimo (shown)  \u00b7\u00b7\u00b7 Datex S/5"
    # After the fall-back the Masimo series is the dotted one.
    ui_queue.put(Selection(T0 + 121, Vital.SPO2, "Datex S/5", "no_data", "Masimo"))
    ui_queue.put(_r(Vital.SPO2, 94, T0 + 121, "Datex S/5"))
    clock.advance_to(T0 + 130)
    view.drain()
    view.trends.refresh(T0 + 130, force=True)
    assert view.trends.device_curves[(Vital.SPO2, "Masimo")].isVisible()
    assert not view.trends.device_curves[(Vital.SPO2, "Datex S/5")].isVisible()
    assert "\u00b7\u00b7\u00b7 Masimo" in view.trends.device_legend_text(key)
