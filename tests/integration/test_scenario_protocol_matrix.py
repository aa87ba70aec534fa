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
* A protocol with a session (IntelliVue) loses its association in a link
  loss: the monitor drops a silent host, the host retries with back-off, so
  the data comes back up to one back-off (plus the handshake) after the link
  does: :func:`reassociation_s`, for the end of the no-data alarm.
* An HL7 gateway (hl7-pcd01) sends a message a second and one per NIBP
  determination, each acknowledged by the codec (the ACKs reach the simulated
  gateway through the codec's tick): compared like any monitor, with no
  allowance of its own.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import pytest

from monitor.core.freshness import DEFAULT_STALE_AFTER_S
from simulators.scenario import scenario_names
from tests.integration.matrix_rig import DIRECT, OXIMETERS, PROTOCOLS, SESSIONS, picture

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


def reassociation_s() -> float:
    """How much later than the link a session protocol's data may come back."""
    from monitor.devices.codecs.intellivue import BACKOFF_S

    return max(BACKOFF_S) + TOLERANCE_S + 2.0     # the longest back-off, then the handshake


_AFTER_A_SILENCE = {("source.no_data", "high", "escalated"), ("source.no_data", "high", "cleared"),
                    ("no_data", None, False)}
"""What a session protocol's re-association may delay (later, never earlier)."""


def _tolerance(key: tuple) -> float:
    return DEFAULT_STALE_AFTER_S + 1.0 if key[0] == UNAVAILABLE else TOLERANCE_S


def _matches(t_expected: float, t_got: float, key: tuple, protocol: str | None) -> bool:
    if protocol in SESSIONS and key in _AFTER_A_SILENCE:
        return -TOLERANCE_S <= t_got - t_expected <= reassociation_s()
    return abs(t_got - t_expected) <= _tolerance(key)


def unmatched(expected: list[tuple], got: list[tuple],
              protocol: str | None = None) -> tuple[list, list]:
    """Entries of each side with no partner of the same key within the tolerance."""
    left = list(got)
    missing = []
    for t, *key in expected:
        match = next((g for g in left if tuple(g[1:]) == tuple(key)
                      and _matches(t, g[0], tuple(key), protocol)), None)
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
    missing, extra = unmatched(direct["alarms"], got["alarms"], protocol)
    assert (missing, extra) == ([], [])
    missing, extra = unmatched(direct["technical"], got["technical"], protocol)
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
        late = reassociation_s() if protocol in SESSIONS else TOLERANCE_S
        assert loss + 60 - TOLERANCE_S <= alarms[1][0] <= loss + 60 + late, protocol


def test_every_scenario_is_in_the_matrix():
    assert len(scenario_names()) >= 7
    assert {p for _, p in CELLS} == set(PROTOCOLS)
