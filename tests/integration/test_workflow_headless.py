"""The session shape of a scenario through the real CLI: phases, infusion and scripted events."""

import pytest

from monitor.core.workflow.messages import EventKind
from monitor.storage import database
from monitor.storage.store import SessionStore
from tests.integration.helpers import json_lines, run_monitor


@pytest.fixture(scope="module")
def typical(tmp_path_factory):
    data = tmp_path_factory.mktemp("data")
    proc = run_monitor("run", "--headless", "--source", "sim:typical", "--speed", "max",
                       "--seed", "5", "--data-dir", str(data), timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json_lines(proc.stdout), database.open_database(data)


def test_phases_infusion_and_events_are_printed_at_their_session_times(typical):
    lines, _ = typical
    start = lines[0]["start"]
    flow = [(x["type"], x.get("phase") or x.get("action") or x.get("kind"),
             round(x["t"] - start, 3))
            for x in lines if x["type"] in ("phase", "infusion", "event")]
    assert flow == [
        ("infusion", "start", 600), ("phase", "infusion", 600),
        ("event", "dissociation", 1200), ("event", "nausea", 1500),
        ("event", "antiemetic_given", 1620),
        ("infusion", "stop", 3000), ("phase", "recovery", 3000),
        ("phase", "ended", 5400)]
    events = [x for x in lines if x["type"] == "event"]
    assert [(x["id"], x["author"]) for x in events] == [
        ("e1", "scenario"), ("e2", "scenario"), ("e3", "scenario")]
    assert events[2]["text"] == "ondansetron 4 mg IV"
    assert not [x for x in lines if x["type"] == "refused"]


def test_the_printed_events_are_recorded(typical):
    lines, db = typical
    sid = lines[0]["id"]
    with SessionStore(db) as store:
        events = store.session_events(sid)
        actions = store.infusion_actions(sid)
    printed = [(x["id"], x["t"], x["kind"]) for x in lines if x["type"] == "event"]
    assert [(e.event_id, e.t, e.kind.value) for e in events] == printed
    assert events[1].kind is EventKind.NAUSEA
    assert [(a.action.value, a.t) for a in actions] == [
        (x["action"], x["t"]) for x in lines if x["type"] == "infusion"]
