"""The central's picture of the chairs, message by message (no broker, no Qt)."""

from __future__ import annotations

import json

import pytest

from monitor.central.protocol import (
    CentralError,
    decode,
    encode,
    parse_broker_url,
    parse_topic,
    topic,
)
from monitor.central.station import CentralModel

T0 = 1_800_000_000.0


def msg(topic_kind: str, chair: str = "chair-1", **body) -> tuple[str, bytes]:
    return topic("clinic", chair, topic_kind), encode(body)


def alarm(seq: int, state: str = "raised", alarm_id: str = "spo2.low",
          priority: str = "medium", sent: float = T0, run: float = 1.0) -> tuple[str, bytes]:
    return msg("alarm", seq=seq, run=run, id=alarm_id, kind="physiological", vital="spo2",
               priority=priority, state=state, t=sent, message="SpO2 89 < 92", sent=sent)


def kinds(events) -> list[tuple[str, str]]:
    return [(e.kind, e.chair) for e in events]


def test_a_chair_appears_with_its_state_and_its_numerics():
    m = CentralModel()
    ev = m.on_message(*msg("state", name="Chair 1", online=True, run=1.0, phase="infusion"),
                      now=T0)
    assert kinds(ev) == [("appeared", "chair-1")]
    m.on_message(*msg("numerics", t=T0, values={"hr": 72, "spo2": 97}), now=T0 + 1)
    chair = m.chairs["chair-1"]
    assert chair.name == "Chair 1" and chair.state["phase"] == "infusion"
    assert chair.values == {"hr": 72, "spo2": 97} and len(chair.trend) == 1


def test_alarms_are_shown_with_their_latency_and_the_most_urgent_first():
    m = CentralModel()
    ev = m.on_message(*alarm(1, sent=T0), now=T0 + 0.25)
    assert [e.kind for e in ev] == ["appeared", "alarm"]
    assert ev[-1].detail["latency_s"] == 0.25 and ev[-1].detail["seq"] == 1
    m.on_message(*alarm(2, alarm_id="nibp_sys.high", priority="high"), now=T0 + 1)
    assert m.chairs["chair-1"].most_urgent["id"] == "nibp_sys.high"
    m.on_message(*alarm(3, state="cleared", alarm_id="nibp_sys.high", priority="high"),
                 now=T0 + 2)
    assert m.chairs["chair-1"].most_urgent["id"] == "spo2.low"
    m.on_message(*msg("alarm", seq=4, run=1.0, id="", state="audio_paused", sent=T0), now=T0 + 3)
    assert m.chairs["chair-1"].audio_paused


def test_a_lost_alarm_is_reported_missing_and_a_duplicate_is_ignored():
    m = CentralModel()
    m.on_message(*alarm(1), now=T0)
    ev = m.on_message(*alarm(4), now=T0 + 1)
    assert [e.kind for e in ev] == ["missing", "alarm"] and ev[0].detail["seq"] == [2, 3]
    assert m.on_message(*alarm(4), now=T0 + 2) == []          # QoS 1 sent it twice
    ev = m.on_message(*alarm(2), now=T0 + 3)                   # late, but here
    assert [e.kind for e in ev] == ["alarm"]
    assert m.chairs["chair-1"].missing == {3}


def test_a_new_run_of_the_chair_numbers_its_alarms_again():
    m = CentralModel()
    m.on_message(*alarm(5, run=1.0), now=T0)
    ev = m.on_message(*alarm(1, run=2.0), now=T0 + 60)
    assert [e.kind for e in ev] == ["alarm"]                   # no false gap, no duplicate


def test_last_will_and_silence_take_a_chair_offline_and_its_next_message_back():
    m = CentralModel(offline_after=10.0)
    m.on_message(*msg("state", online=True, run=1.0), now=T0)
    ev = m.on_message(*msg("state", online=False, run=1.0), now=T0 + 5)
    assert kinds(ev) == [("offline", "chair-1")] and ev[0].detail["reason"] == "last will"
    ev = m.on_message(*msg("numerics", t=T0, values={}), now=T0 + 6)
    assert kinds(ev) == [("online", "chair-1")]
    assert m.tick(T0 + 15.9) == []
    ev = m.tick(T0 + 16)
    assert kinds(ev) == [("offline", "chair-1")] and ev[0].detail["reason"] == "silent"
    assert m.tick(T0 + 30) == []                               # said once


def test_bad_messages_are_problems_naming_the_chair_and_never_stop_the_others():
    m = CentralModel()
    ev = m.on_message(topic("clinic", "chair-2", "numerics"), b"{not json", now=T0)
    assert ev[0].kind == "problem" and ev[0].chair == "chair-2"
    assert "not a JSON message" in ev[0].detail["problem"]
    ev = m.on_message(topic("clinic", "chair-2", "alarm"),
                      json.dumps({"v": 9, "seq": 1}).encode(), now=T0)
    assert "message version 9; this release reads version 1" in ev[0].detail["problem"]
    ev = m.on_message("clinic/x/other/chair-2/alarm", b"{}", now=T0)
    assert ev[0].kind == "problem" and "is not clinic/SITE/chair/CHAIR/" in ev[0].detail["problem"]
    assert m.on_message(*alarm(1, sent=T0), now=T0)[-1].kind == "alarm"  # others go on
    assert m.problems == 3


def test_two_chairs_with_one_id_are_a_problem():
    m = CentralModel()
    m.on_message(*msg("state", online=True, run=1.0), now=T0)
    ev = m.on_message(*msg("state", online=True, run=2.0), now=T0 + 1)
    assert ev[0].kind == "problem" and "a second chair publishes with this id" in \
        ev[0].detail["problem"]


def test_the_order_puts_offline_and_alarming_chairs_first_or_keeps_room_order():
    m = CentralModel()
    for chair in ("chair-1", "chair-2", "chair-3"):
        m.on_message(*msg("state", chair=chair, online=True, run=1.0), now=T0)
    m.on_message(topic("clinic", "chair-3", "alarm"), encode(
        {"seq": 1, "run": 1.0, "id": "spo2.low", "priority": "high", "state": "raised",
         "sent": T0}), now=T0)
    m.on_message(*msg("state", chair="chair-2", online=False, run=1.0), now=T0)
    assert [c.chair for c in m.ordered()] == ["chair-2", "chair-3", "chair-1"]
    assert [c.chair for c in m.ordered("room")] == ["chair-1", "chair-2", "chair-3"]


@pytest.mark.parametrize(("text", "message"), [
    ("http://broker", "the scheme must be mqtt:// or mqtts://"),
    ("mqtt://user:secret@broker", "give the password in a file"),
    ("mqtt://", "no host"),
    ("mqtt://broker:99999", "the port must be a number from 1 to 65535"),
    ("mqtt://broker/path", "only mqtt[s]://[USER@]HOST[:PORT]"),
])
def test_bad_broker_urls_say_what_is_allowed(text, message):
    with pytest.raises(CentralError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_broker_url(text)


def test_broker_urls_and_topics():
    url = parse_broker_url("mqtts://chair3@broker.clinic")
    assert (url.host, url.port, url.tls, url.username) == ("broker.clinic", 8883, True,
                                                            "chair3")
    assert not url.is_loopback and parse_broker_url("mqtt://127.0.0.1").is_loopback
    assert parse_topic(topic("site-a", "chair-3", "alarm")) == ("site-a", "chair-3", "alarm")
    assert decode(encode({"x": float("nan")})) == {"v": 1, "x": None}


def test_the_chair_header_says_how_its_central_link_is():
    from monitor.core.events import CentralLink
    from monitor.ui.live.model import LiveModel

    model = LiveModel()
    assert model.central_texts() == []                        # not published: nothing
    model.apply(CentralLink(T0, True, "mqtt://desk:1883", alarms_sent=3, alarms_confirmed=2,
                            last_confirmed=2))
    assert model.central_texts() == ["Central: connected \u00b7 2 of 3 alarms confirmed by "
                                     "the desk"]
    model.apply(CentralLink(T0 + 9, False, "mqtt://desk:1883",
                            "no answer from the broker desk:1883"))
    assert model.central_texts() == ["Central: NOT CONNECTED \u00b7 no answer from the broker "
                                     "desk:1883"]
    assert model.central_texts()[0] in model.status_messages(T0 + 10)
