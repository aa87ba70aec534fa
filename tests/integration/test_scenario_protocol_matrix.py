"""Every bundled scenario through every protocol gives the nurse the same clinical picture.

Each scenario runs on the session clock at max speed directly (the engine's
readings handed over) and through each protocol (the device's encoder, its
bytes, the real codec). Against the direct run, every protocol must give the
same phases, infusion actions, scripted events and refusals, the same alarms
(id, priority, state) within a few seconds, and the same no-data and stale
conditions.

What a protocol legitimately changes, and nothing else:

* An oximeter protocol (nonin-2, masimo-ascii, text) carries only SpO2,
  pulse rate and pleth: alarms on respiration and EtCO2 are not compared.
  Its NIBP comes from the simulated chair's separate cuff, so the baseline
  gate and the BP alarms must match.
* A probe that comes off is signalled at once by a device that has a
  sensor-off flag (Nonin, Masimo: the ``sensor.problem`` alarm, which takes
  the place of the stale alarms of SpO2 and pulse rate) and after the stale
  delay by one that simply stops sending values (direct, Datex, text). Both
  are "SpO2 and pulse rate unavailable", compared as one medium alarm with
  the stale delay as tolerance.
* Timing shifts by the protocol's own framing (a line a second, a record a
  second, packets of 25 frames): :data:`TOLERANCE_S`.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import pytest

from monitor.core.freshness import DEFAULT_STALE_AFTER_S
from simulators.scenario import scenario_names
from tests.integration.matrix_rig import DIRECT, OXIMETERS, PROTOCOLS, picture

pytestmark = pytest.mark.slow

TOLERANCE_S = 3.0
UNAVAILABLE = "spo2_probe.unavailable"
_PROBE_IDS = {"spo2.stale", "pulse_rate.stale", "sensor.problem"}
_NOT_ON_AN_OXIMETER = ("resp_rate", "etco2", "temp")
_OXIMETER_VITALS = {"spo2", "pulse_rate", None}

CELLS = [(s, p) for s in scenario_names() for p in PROTOCOLS]


@pytest.fixture(scope="module")
def pictures():
    """Every cell, two at a time (one per core), in fresh processes."""
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=2, mp_context=ctx) as pool:
        futures = {cell: pool.submit(picture, *cell) for cell in CELLS}
        return {cell: f.result(timeout=600) for cell, f in futures.items()}


def _carried(alarm_id: str, protocol: str) -> bool:
    return protocol not in OXIMETERS or not alarm_id.startswith(_NOT_ON_AN_OXIMETER)


def clinical(entries: list[tuple], protocol: str) -> dict[str, list[tuple]]:
    """The picture, normalised as the module docstring says, for comparison with ``direct``."""
    out: dict[str, list[tuple]] = {"workflow": [], "alarms": [], "technical": []}
    probe_state: set[str] = set()
    for kind, t, *rest in entries:
        if kind in ("phase", "infusion", "event", "refused"):
            out["workflow"].append((kind, round(t, 1), *rest))
        elif kind == "alarm":
            alarm_id, priority, state = rest
            if not _carried(alarm_id, protocol):
                continue
            if alarm_id in _PROBE_IDS:   # one "probe unavailable" alarm, raised then cleared
                was = bool(probe_state)
                (probe_state.discard if state == "cleared" else probe_state.add)(alarm_id)
                if was == bool(probe_state):
                    continue
                alarm_id, state = UNAVAILABLE, "raised" if probe_state else "cleared"
            out["alarms"].append((t, alarm_id, priority, state))
        elif kind == "technical":
            condition, vital, active = rest
            if condition == "no_data" or (condition == "stale" and (
                    protocol not in OXIMETERS or vital in _OXIMETER_VITALS)):
                out["technical"].append((t, condition, vital, active))
    return out


def _tolerance(key: tuple) -> float:
    return DEFAULT_STALE_AFTER_S + 1.0 if key[0] == UNAVAILABLE else TOLERANCE_S


def unmatched(expected: list[tuple], got: list[tuple]) -> tuple[list, list]:
    """Entries of each side with no partner of the same key within the tolerance."""
    left = list(got)
    missing = []
    for t, *key in expected:
        match = next((g for g in left if tuple(g[1:]) == tuple(key)
                      and abs(g[0] - t) <= _tolerance(tuple(key))), None)
        if match is None:
            missing.append((round(t, 1), *key))
        else:
            left.remove(match)
    return missing, [(round(g[0], 1), *g[1:]) for g in left]


@pytest.mark.parametrize("scenario,protocol",
                         [c for c in CELLS if c[1] != DIRECT])
def test_protocol_gives_the_direct_clinical_picture(pictures, scenario, protocol):
    direct = clinical(pictures[(scenario, DIRECT)], protocol)
    got = clinical(pictures[(scenario, protocol)], protocol)
    assert got["workflow"] == direct["workflow"]
    missing, extra = unmatched(direct["alarms"], got["alarms"])
    assert (missing, extra) == ([], [])
    missing, extra = unmatched(direct["technical"], got["technical"])
    assert (missing, extra) == ([], [])


def test_link_loss_is_a_silence_through_every_protocol(pictures):
    """The window's default protocol (datex-s5) and nonin-2 used to keep sending."""
    loss = 30 * 60
    for protocol in PROTOCOLS:
        alarms = [a for a in clinical(pictures[("link-loss", protocol)], protocol)["alarms"]
                  if a[1] == "source.no_data"]
        assert [(a[2], a[3]) for a in alarms] == [
            ("medium", "raised"), ("high", "escalated"), ("high", "cleared")], protocol
        assert loss < alarms[0][0] <= loss + DEFAULT_STALE_AFTER_S + 1, protocol
        assert alarms[1][0] == pytest.approx(loss + 60, abs=TOLERANCE_S), protocol


def test_every_scenario_is_in_the_matrix():
    assert len(scenario_names()) >= 7
    assert {p for _, p in CELLS} == set(PROTOCOLS)
