"""MLLP delivery against a real TCP server: acknowledgements, retry with back-off, the outbox."""

from __future__ import annotations

import threading

import pytest

from monitor.export.hl7 import read_messages, session_messages, write_hl7
from monitor.export.mllp import (
    AckCode,
    MllpClient,
    Retry,
    RetryPolicy,
    flush_outbox,
    parse_ack,
    pending,
    send_session,
)
from tests.export.hl7_fixtures import (
    MllpServer,
    field,
    free_port,
    record_with_manual_entries,
    validated,
)

FAST = {"backoff_s": 0.01, "max_backoff_s": 0.05, "timeout_s": 2.0}


@pytest.fixture(scope="module")
def record(tmp_path_factory):
    return record_with_manual_entries(tmp_path_factory.mktemp("mllp-session"), session_s=60)


@pytest.fixture
def outbox(tmp_path):
    return tmp_path / "outbox"


def _ids(messages):
    return [field(m, "MSH", 10) for m in messages]


def test_every_message_is_acknowledged_and_the_outbox_emptied(record, outbox, tmp_path):
    path = tmp_path / "s.hl7"
    write_hl7(record, path)
    done: list[tuple[int, int]] = []
    with MllpServer() as server:
        report = send_session(record, "127.0.0.1", server.port, outbox_dir=outbox,
                              progress=lambda d, t: done.append((d, t)), **FAST)
    written = read_messages(path)
    assert (report.delivered, report.pending, report.rejected) == (len(written), 0, 0)
    assert report.complete and report.last_error is None
    assert server.received == written
    assert server.connections == 1   # one connection for the whole session
    for er7 in server.received:
        validated(er7, tmp_path / "report.txt")
    assert list(outbox.iterdir()) == []
    assert done[-1] == (len(written), len(written))


def test_a_host_that_is_down_is_retried_with_back_off_until_it_comes_up(record, outbox):
    port = free_port()   # nothing listens: connections are refused
    retries: list[Retry] = []
    servers: list[MllpServer] = []

    def on_retry(r: Retry) -> None:
        retries.append(r)
        if len(retries) == 3:   # the host comes up after the third failed try
            servers.append(MllpServer(port=port))

    try:
        report = send_session(record, "127.0.0.1", port, outbox_dir=outbox, attempts=5,
                              on_retry=on_retry, **FAST)
    finally:
        for s in servers:
            s.close()
    assert [r.error for r in retries] == [f"connection refused by 127.0.0.1:{port}"] * 3
    assert [r.attempt for r in retries] == [1, 2, 3]
    assert [r.delay_s for r in retries] == [0.01, 0.02, 0.04]
    assert report.complete and report.delivered == len(session_messages(record))
    assert servers[0].received == session_messages(record)
    assert pending(outbox) == []


def test_back_off_doubles_up_to_its_cap():
    policy = RetryPolicy(attempts=8, backoff_s=1, max_backoff_s=60)
    assert [policy.delay(a) for a in range(1, 9)] == [1, 2, 4, 8, 16, 32, 60, 60]


def test_an_application_error_is_retried_then_delivered(record, outbox):
    answers = iter(["AE:database busy", "AE:database busy"])
    retries: list[Retry] = []
    with MllpServer(lambda n, m: next(answers, "AA")) as server:
        report = send_session(record, "127.0.0.1", server.port, outbox_dir=outbox,
                              on_retry=retries.append, **FAST)
    messages = session_messages(record)
    assert [r.error for r in retries] == ["host answered AE: database busy"] * 2
    assert server.received[:3] == [messages[0]] * 3 and server.received[3:] == messages[1:]
    assert report.complete and report.delivered == len(messages)
    assert report.last_error == "host answered AE: database busy"   # kept for the user
    assert pending(outbox) == []


def test_a_rejected_message_is_reported_and_kept_then_flushed_later(record, outbox):
    messages = session_messages(record)
    refused = field(messages[2], "MSH", 10)

    def answer(n: int, m: str) -> str:
        return "AR:unknown patient" if field(m, "MSH", 10) == refused else "AA"

    with MllpServer(answer) as server:
        report = send_session(record, "127.0.0.1", server.port, outbox_dir=outbox, **FAST)
    assert (report.delivered, report.pending, report.rejected) == (len(messages) - 1, 1, 1)
    assert report.last_error == "host answered AR: unknown patient"
    assert server.received.count(messages[2]) == 1, "a rejected message is not retried"
    assert [p.name for p in pending(outbox)] == [f"{refused}.hl7"]
    assert pending(outbox)[0].read_bytes().decode("utf-8") == messages[2]

    with MllpServer() as fixed:
        again = flush_outbox(outbox, "127.0.0.1", fixed.port, **FAST)
    assert (again.delivered, again.pending) == (1, 0)
    assert fixed.received == [messages[2]]
    assert pending(outbox) == []


def test_an_ack_for_another_control_id_is_not_a_delivery(record, outbox):
    messages = session_messages(record)
    with MllpServer(lambda n, m: "WRONG") as server:
        report = send_session(record, "127.0.0.1", server.port, outbox_dir=outbox,
                              attempts=2, **FAST)
    assert report.delivered == 0 and report.pending == len(messages)
    assert report.last_error == (f"127.0.0.1:{server.port} acknowledged control id "
                                 f"'SOMETHING-ELSE', not '{field(messages[0], 'MSH', 10)}'")
    assert server.received == [messages[0]] * 2   # gave up: the rest wait in the outbox
    assert sorted(p.name for p in pending(outbox)) == sorted(f"{c}.hl7" for c in _ids(messages))

    with MllpServer() as good:   # later: everything goes, oldest first
        again = flush_outbox(outbox, "127.0.0.1", good.port, **FAST)
    assert again.complete and again.delivered == len(messages)
    assert good.received == messages
    assert pending(outbox) == []


def test_a_host_that_never_answers_times_out_and_the_messages_stay(record, outbox):
    messages = session_messages(record)
    with MllpServer(lambda n, m: None) as server:
        report = send_session(record, "127.0.0.1", server.port, outbox_dir=outbox,
                              attempts=2, backoff_s=0.01, timeout_s=0.2)
    assert report.delivered == 0 and report.pending == len(messages)
    assert report.last_error == f"no acknowledgement from 127.0.0.1:{server.port} within 0.2 s"
    assert server.connections == 2   # a fresh connection for the second try
    assert len(pending(outbox)) == len(messages)


def test_a_host_that_hangs_up_is_retried(record, outbox):
    answers = iter(["CLOSE"])
    retries: list[Retry] = []
    with MllpServer(lambda n, m: next(answers, "AA")) as server:
        report = send_session(record, "127.0.0.1", server.port, outbox_dir=outbox,
                              on_retry=retries.append, **FAST)
    assert [r.error for r in retries] == [
        f"127.0.0.1:{server.port} closed the connection before acknowledging"]
    assert report.complete


def test_stop_ends_the_run_and_keeps_the_rest(record, outbox):
    stop = threading.Event()
    port = free_port()
    report = send_session(record, "127.0.0.1", port, outbox_dir=outbox, attempts=50,
                          backoff_s=30, timeout_s=1, on_retry=lambda r: stop.set(), stop=stop)
    assert report.delivered == 0 and report.pending == len(session_messages(record))
    assert report.last_error == f"connection refused by 127.0.0.1:{port}"


def test_acknowledgements_are_read_from_any_engine():
    ack = parse_ack("MSH|^~\\&|E||||20260101||ACK|1|P|2.3\rMSA|CA|X-1\r")
    assert (ack.code, ack.control_id, ack.text) == (AckCode.CA, "X-1", "")
    assert ack.code.accepted
    ack = parse_ack("MSH|^~\\&|E||||20260101||ACK|1|P|2.6\rMSA|CR|X-2\r"
                    "ERR|||207^Application internal error^HL70357|E||||no such ward \\T\\ bed")
    assert ack.code.rejected and ack.text == "no such ward & bed"


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"attempts": 0}, "attempts must be a whole number"),
    ({"backoff_s": -1}, "back-off"),
    ({"timeout_s": 0}, "timeout"),
])
def test_bad_settings_are_refused_with_what_is_allowed(record, outbox, kwargs, match):
    with pytest.raises(ValueError, match=match):
        send_session(record, "127.0.0.1", 2575, outbox_dir=outbox, **kwargs)
    with pytest.raises(ValueError, match=r"port 0 is not a TCP port \(1-65535\)"):
        MllpClient("127.0.0.1", 0)
    assert not outbox.exists()
