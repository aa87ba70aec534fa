"""A scenario's scripted infusion start goes through the nurse's baseline gate.

The hypertensive scenario's 148/92 baseline needs a clinician override: the
scenario file declares it, and the start is recorded with an override event
authored by the scenario that says so. A scripted start the gate does not
allow (incomplete baseline, a high baseline without the override the gate
asks for) is refused like a nurse's, printed as a ``refused`` line, and the
session stays in baseline.
"""

from __future__ import annotations

import pytest

from monitor.core.workflow.messages import SCRIPTED_AUTHOR
from monitor.storage import database
from monitor.storage.store import SessionStore
from tests.integration.helpers import json_lines, run_monitor


def _run(tmp_path, source: str, *extra: str) -> tuple[list[dict], object]:
    data = tmp_path / "data"
    proc = run_monitor("run", "--headless", "--source", source, "--speed", "max",
                       "--seed", "3", "--data-dir", str(data), *extra, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    return json_lines(proc.stdout), data


def _scenario(tmp_path, name: str, baseline: str, session: str = "",
              minutes: tuple[float, float, float] = (10, 2, 2)) -> str:
    path = tmp_path / f"{name}.toml"
    b, i, r = minutes
    path.write_text(f'description = "{name}"\n[session]\nbaseline_min = {b}\n'
                    f'infusion_min = {i}\nrecovery_min = {r}\n{session}\n'
                    f'[baseline]\n{baseline}\n', encoding="utf-8")
    return f"sim:{path}"


def _phases(lines):
    start = lines[0]["start"]
    return [(x["phase"], round(x["t"] - start)) for x in lines if x["type"] == "phase"]


def test_hypertensive_scenario_starts_with_a_recorded_scripted_override(tmp_path):
    lines, data = _run(tmp_path, "sim:hypertensive-surge")
    start = lines[0]["start"]
    assert ("infusion", 600) in _phases(lines)
    assert not [x for x in lines if x["type"] == "refused"]
    overrides = [x for x in lines if x["type"] == "event" and "override" in x["text"].lower()]
    assert len(overrides) == 1
    override = overrides[0]
    # Recorded as a nurse's override is: by the clinician who decided, with the reason.
    clinician = "Dr A. Example (scripted)"
    assert override["author"] == clinician
    assert round(override["t"] - start) == 600
    assert "Baseline" in override["text"] and "above 140/90" in override["text"]
    assert "scripted override" in override["text"]
    assert "Clinician: " in override["text"] and "Reason: " in override["text"]
    infusion = [x for x in lines if x["type"] == "infusion" and x["action"] == "start"]
    assert [x["by"] for x in infusion] == [clinician]
    assert "known treated hypertension" in infusion[0]["reason"]
    stop = [x for x in lines if x["type"] == "infusion" and x["action"] == "stop"]
    assert [x["by"] for x in stop] == [SCRIPTED_AUTHOR]
    with SessionStore(database.open_database(data)) as store:   # review reads the truth
        stored = [e for e in store.session_events(lines[0]["id"]) if "override" in e.text]
    assert [(e.author, e.text) for e in stored] == [(clinician, override["text"])]


def test_a_normal_baseline_starts_without_an_override(tmp_path):
    lines, _ = _run(tmp_path, _scenario(tmp_path, "normal", "sbp = 125\ndbp = 78"))
    assert ("infusion", 600) in _phases(lines)
    assert not [x for x in lines if x["type"] == "event" and "override" in x["text"].lower()]
    assert not [x for x in lines if x["type"] == "refused"]


@pytest.mark.parametrize("session, problem", [
    ("", "the reason"),                                  # no override declared at all
    ('override_reason = "usual for this patient"', "the clinician"),
])
def test_a_blocked_baseline_without_a_named_clinician_is_refused(tmp_path, session, problem):
    source = _scenario(tmp_path, "blocked", "sbp = 192\ndbp = 114\n", session)
    lines, _ = _run(tmp_path, source)
    refused = [x for x in lines if x["type"] == "refused"]
    assert refused and refused[0]["command"] == "change_infusion:start"
    assert round(refused[0]["t"] - lines[0]["start"]) == 600
    assert "180/110" in refused[0]["message"] and problem in refused[0]["message"]
    assert refused[0]["by"] == SCRIPTED_AUTHOR
    assert [p for p, _ in _phases(lines)] == ["ended"]        # never left the baseline
    assert not [x for x in lines if x["type"] == "infusion" and x["action"] == "start"]


def test_a_blocked_baseline_starts_with_a_named_clinician_and_reason(tmp_path):
    session = 'override_clinician = "Dr R. Vance"\noverride_reason = "treated, rechecked"'
    lines, _ = _run(tmp_path, _scenario(tmp_path, "cleared", "sbp = 192\ndbp = 114\n",
                                        session))
    assert ("infusion", 600) in _phases(lines)
    override = [x for x in lines if x["type"] == "event" and "override" in x["text"].lower()]
    assert len(override) == 1 and "Dr R. Vance" in override[0]["text"]
    assert "treated, rechecked" in override[0]["text"]


def test_an_incomplete_baseline_is_refused_even_with_an_override(tmp_path):
    session = 'override_clinician = "Dr R. Vance"\noverride_reason = "in a hurry"'
    # 3 min of baseline: one NIBP determination, the gate needs two.
    lines, _ = _run(tmp_path, _scenario(tmp_path, "short", "sbp = 125\ndbp = 78\n", session,
                                        minutes=(3, 2, 2)))
    refused = [x for x in lines if x["type"] == "refused"]
    assert refused and refused[0]["command"] == "change_infusion:start"
    assert "incomplete" in refused[0]["message"].lower()
    assert [p for p, _ in _phases(lines)] == ["ended"]


def test_an_override_key_must_be_a_single_line_of_text(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('description = "bad"\n[session]\noverride_reason = 12\n', encoding="utf-8")
    proc = run_monitor("run", "--headless", "--source", f"sim:{path}", "--speed", "max",
                       "--data-dir", str(tmp_path / "d"))
    assert proc.returncode == 2
    assert "line 3" in proc.stderr and "override_reason" in proc.stderr
    assert "Traceback" not in proc.stderr
