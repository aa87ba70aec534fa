"""The JSON lines of the session workflow in headless runs."""

import json

from monitor.acquisition.headless import to_json
from monitor.core.workflow.messages import (
    ChecklistTicked,
    CommandRefused,
    EventKind,
    EventTimeCorrected,
    InfusionAction,
    InfusionChanged,
    SessionDischarged,
    SessionEvent,
)


def test_workflow_messages_become_json_lines():
    cases = [
        (SessionEvent("e1", 10.0, EventKind.ANTIEMETIC, "ondansetron", "RN"),
         {"type": "event", "id": "e1", "kind": "antiemetic_given", "t": 10.0,
          "text": "ondansetron", "author": "RN"}),
        (EventTimeCorrected("e1", 10.0, 8.0, "RN B", 20.0),
         {"type": "event_correction", "id": "e1", "old_t": 10.0, "new_t": 8.0, "by": "RN B",
          "at": 20.0}),
        (InfusionChanged(InfusionAction.PAUSE, 30.0, "RN", "nausea"),
         {"type": "infusion", "action": "pause", "t": 30.0, "reason": "nausea", "by": "RN"}),
        (CommandRefused(40.0, "manual_entry", "SpO2 101 % is outside ...", "RN"),
         {"type": "refused", "command": "manual_entry", "message": "SpO2 101 % is outside ...",
          "t": 40.0, "by": "RN"}),
        (SessionDischarged(50.0, "RN", ("escort present",), "ok", 12),
         {"type": "discharge", "t": 50.0, "by": "RN", "checklist": ["escort present"],
          "note": "ok", "cadss": 12}),
        (ChecklistTicked(45.0, "escort_present", True, "RN"),
         {"type": "checklist", "item": "escort_present", "ticked": True, "t": 45.0,
          "by": "RN"}),
    ]
    for msg, expected in cases:
        got = to_json(msg, readings=False)
        assert got == expected
        json.dumps(got, allow_nan=False)


def test_the_device_status_line_carries_the_protocol_session_state():
    from monitor.core.events import SourceStatus

    got = to_json(SourceStatus(5.0, "serial:/dev/pts/3 (intellivue-mib)", True, 1200.0, 40, 1,
                               0, 4.5, link_state="refused: data export off",
                               detail="0 of 2 polls answered", link_ok=False),
                  readings=False)
    assert got == {"type": "source", "t": 5.0, "label": "serial:/dev/pts/3 (intellivue-mib)",
                   "connected": True, "bytes_per_s": 1200.0, "frames_ok": 40, "frames_bad": 1,
                   "bytes_discarded": 0, "last_data_t": 4.5, "message": "",
                   "link_state": "refused: data export off",
                   "detail": "0 of 2 polls answered", "link_ok": False}
