"""Chairs publishing to a real Mosquitto, a headless central showing them (issue 17).

Every process is the real command line: ``infusion-monitor run --headless
--central …`` for a chair, ``infusion-monitor central --headless`` for the
nurses' desk, and a private broker on loopback (:mod:`tests.central.broker`).
"""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import threading
import time

import pytest

from tests.integration.helpers import REPO, monitor_cmd

TIMEOUT_S = 60.0


class Proc:
    """A command-line process whose JSON lines are read as they come."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(monitor_cmd(*args), stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, cwd=REPO)
        self.seen: list[dict] = []
        self._q: queue.Queue = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            if line.strip():
                self._q.put(json.loads(line))
        self._q.put(None)

    def wait_for(self, predicate, timeout: float = TIMEOUT_S) -> dict:  # type: ignore[no-untyped-def]
        for x in self.seen:
            if predicate(x):
                return x
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                x = self._q.get(timeout=left)
            except queue.Empty:
                break
            if x is None:
                break
            self.seen.append(x)
            if predicate(x):
                return x
        raise AssertionError(f"not seen in {timeout} s; last: {self.seen[-10:]}; "
                             f"stderr: {self.stop()}")

    def drain(self) -> list[dict]:
        """Everything printed so far (after :meth:`stop`: everything it printed)."""
        while True:
            try:
                x = self._q.get_nowait()
            except queue.Empty:
                return self.seen
            if x is not None:
                self.seen.append(x)

    def stop(self, sig: int = signal.SIGTERM) -> str:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._reader.join(5)
        err = self.proc.stderr.read() if not self.proc.stderr.closed else ""
        for stream in (self.proc.stdout, self.proc.stderr):
            stream.close()
        return err


@pytest.fixture
def procs():
    made: list[Proc] = []
    yield made
    for p in made:
        if not p.proc.stdout.closed:
            p.stop(signal.SIGKILL)


def _chair(procs, broker, tmp_path, chair: str, scenario: str = "hypertensive-surge",
           speed: str = "100", *extra: str) -> Proc:
    p = Proc("run", "--headless", "--source", f"sim:{scenario}", "--speed", speed,
             "--data-dir", str(tmp_path / chair), "--central", broker.url, "--chair", chair,
             *extra)
    procs.append(p)
    return p


def _central(procs, broker, *extra: str) -> Proc:
    p = Proc("central", "--broker", broker.url, "--headless", *extra)
    procs.append(p)
    return p


def test_a_chair_and_its_alarms_reach_the_central_which_confirms_them(broker, tmp_path,
                                                                      procs):
    central = _central(procs, broker)
    central.wait_for(lambda x: x["type"] == "central" and x["connected"])
    chair = _chair(procs, broker, tmp_path, "chair-1")
    appeared = central.wait_for(lambda x: x["type"] == "chair" and x["event"] == "appeared")
    assert appeared["chair"] == "chair-1"
    # The scenario's blood-pressure alarms (the first at 15 min: 9 s at 100x) arrive
    # numbered, each with its delivery latency.
    first = central.wait_for(lambda x: x["type"] == "alarm" and x["state"] == "raised")
    assert first["chair"] == "chair-1" and first["seq"] >= 1
    assert 0 <= first["latency_s"] < 1.0
    chair_alarm = chair.wait_for(lambda x: x["type"] == "alarm" and x["id"] == first["id"]
                                 and x["state"] == "raised")
    assert chair_alarm["message"] == first["message"]
    # The chair hears that the central has it.
    link = chair.wait_for(lambda x: x["type"] == "central" and x["alarms_confirmed"] >= 1)
    assert link["connected"] and link["last_confirmed"] >= first["seq"]
    assert not [x for x in central.seen if x["type"] == "missing"]
    chair.stop()
    # A chair that ends its session says so: offline at once (its final state).
    gone = central.wait_for(lambda x: x["type"] == "chair" and x["event"] == "offline")
    assert gone["chair"] == "chair-1"


def test_a_killed_chair_is_seen_gone_by_its_last_will(broker, tmp_path, procs):
    central = _central(procs, broker)
    chair = _chair(procs, broker, tmp_path, "chair-2", "typical", "1")
    central.wait_for(lambda x: x["type"] == "chair" and x["event"] == "appeared")
    chair.wait_for(lambda x: x["type"] == "central" and x["connected"])
    killed = time.time()
    chair.stop(signal.SIGKILL)
    gone = central.wait_for(lambda x: x["type"] == "chair" and x["event"] == "offline",
                            timeout=30)
    assert gone["chair"] == "chair-2" and gone["reason"] == "last will"
    assert gone["t"] - killed < 15        # keep-alive 5 s: the broker's will within 7.5 s


def test_without_a_broker_the_chair_monitors_and_says_central_not_connected(tmp_path, procs):
    from tests.central.broker import free_port

    class Nowhere:
        url = f"mqtt://127.0.0.1:{free_port()}"

    chair = _chair(procs, Nowhere, tmp_path, "chair-3", "typical", "1")
    alarm = chair.wait_for(lambda x: x["type"] == "alarm" and x["id"] == "central.not_connected",
                           timeout=30)
    assert alarm["priority"] == "low" and alarm["state"] == "raised"
    assert alarm["message"].startswith("CENTRAL NOT CONNECTED: the broker 127.0.0.1:")
    assert "refused the connection (is it running, on that port?)" in alarm["message"]
    session = chair.seen[0] if chair.seen[0]["type"] == "session" else chair.seen[1]
    assert alarm["t"] - session["start"] < 10
    chair.wait_for(lambda x: x["type"] == "phase" or x["type"] == "recording")   # monitoring


def test_a_broker_restart_loses_no_alarm(broker, tmp_path, procs):
    central = _central(procs, broker)
    chair = _chair(procs, broker, tmp_path, "chair-4")
    central.wait_for(lambda x: x["type"] == "alarm")
    broker.stop()
    time.sleep(3)
    broker.start()
    # Both reconnect; alarms raised meanwhile arrive, and none is reported missing.
    central.wait_for(lambda x: x["type"] == "central" and x["connected"]
                     and central.seen.index(x) > 0)
    chair.wait_for(lambda x: x["type"] == "central" and x["connected"]
                   and chair.seen.index(x) > 0, timeout=30)
    time.sleep(4)
    chair.stop()
    sent = [x for x in chair.drain() if x["type"] == "alarm"]
    central.wait_for(lambda x: x["type"] == "chair" and x["event"] == "offline")
    central.drain()
    shown = {x["seq"] for x in central.seen if x["type"] == "alarm"}
    missing = [x for x in central.seen if x["type"] == "missing"]
    reported = {s for x in missing for s in x["seq"]}
    # Every alarm numbered by the chair either arrived or is named missing: none silent.
    assert len(sent) >= 3
    assert set(range(1, max(shown) + 1)) <= shown | reported
    # ... and the last of them too: the central knows every number the chair gave.
    assert max(shown | reported) == len(sent), (len(sent), sorted(shown), sorted(reported))


def test_bad_central_settings_are_refused_with_the_reason(tmp_path):
    from tests.integration.helpers import run_monitor

    proc = run_monitor("run", "--headless", "--source", "sim:typical", "--duration", "5",
                       "--speed", "max", "--data-dir", str(tmp_path), "--central",
                       "mqtt://broker.clinic.example", "--chair", "chair-1")
    assert proc.returncode == 2
    assert "mqtt:// sends in clear text; use mqtts:// (TLS)" in proc.stderr
    proc = run_monitor("run", "--headless", "--source", "sim:typical", "--central",
                       "mqtt://127.0.0.1", "--data-dir", str(tmp_path))
    assert proc.returncode == 2 and "--central needs --chair ID" in proc.stderr
    proc = run_monitor("run", "--headless", "--source", "sim:typical", "--central",
                       "mqtt://127.0.0.1", "--chair", "chair 1", "--data-dir", str(tmp_path))
    assert proc.returncode == 2 and "use letters, digits, '-' and '_' only" in proc.stderr
    secret = tmp_path / "pw"
    secret.write_text("s3cret\n")
    secret.chmod(0o644)
    proc = run_monitor("central", "--broker", "mqtt://chair@127.0.0.1", "--password-file",
                       str(secret), "--headless")
    assert proc.returncode == 2 and "can be read by others (mode 644); chmod 600" in proc.stderr


def test_a_central_with_no_broker_says_why(procs):
    from tests.central.broker import free_port

    central = Proc("central", "--broker", f"mqtt://127.0.0.1:{free_port()}", "--headless")
    procs.append(central)
    link = central.wait_for(lambda x: x["type"] == "central", timeout=20)
    assert not link["connected"] and "refused the connection" in link["message"]


def test_three_chairs_at_once_each_under_its_own_id(broker, tmp_path, procs):
    central = _central(procs, broker)
    chairs = [_chair(procs, broker, tmp_path, f"chair-{i}", "typical", "20") for i in (1, 2, 3)]
    for i in (1, 2, 3):
        central.wait_for(lambda x, i=i: x["type"] == "chair" and x["event"] == "appeared"
                         and x["chair"] == f"chair-{i}")
    for chair in chairs:
        chair.stop()
    for i in (1, 2, 3):
        gone = central.wait_for(lambda x, i=i: x["type"] == "chair" and x["event"] == "offline"
                                and x["chair"] == f"chair-{i}")
        assert gone["reason"] == "ended"       # each said goodbye: its session ended
    assert not [x for x in central.seen if x["type"] == "problem"]


def test_the_chair_configuration_gives_the_central(broker, tmp_path, procs):
    from monitor.acquisition.chair import (
        ChairConfig,
        SourceEntry,
        load_chair_config,
        save_chair_config,
    )

    data = tmp_path / "d"
    data.mkdir()
    config = ChairConfig("Chair 9", (SourceEntry("sim:hypertensive-surge"),),
                         central={"url": broker.url, "chair": "chair-9"})
    save_chair_config(config, data / "chair.toml")
    again, problems = load_chair_config(data / "chair.toml")
    assert problems == [] and again.central == {"url": broker.url, "chair": "chair-9"}
    central = _central(procs, broker)
    chair = Proc("run", "--headless", "--speed", "100", "--data-dir", str(data))
    procs.append(chair)
    appeared = central.wait_for(lambda x: x["type"] == "chair" and x["event"] == "appeared")
    assert appeared["chair"] == "chair-9"
    chair.stop()


def test_a_bad_central_table_is_named(tmp_path):
    from monitor.acquisition.chair import ChairConfigError, load_chair_config

    path = tmp_path / "chair.toml"
    path.write_text('[[source]]\nsource = "sim:typical"\n[central]\nurl = "mqtt://x"\n'
                    'port = 1883\n')
    with pytest.raises(ChairConfigError, match=r"\[central\] unknown key 'port'; allowed: url, "
                                               "chair, site"):
        load_chair_config(path)
    path.write_text('[central]\ninsecure = "yes"\n')
    with pytest.raises(ChairConfigError, match=r"\[central\] insecure must be true or false"):
        load_chair_config(path)


def test_a_flood_from_one_chair_is_named_and_the_others_still_shown(broker):
    import paho.mqtt.client as mqtt

    from monitor.central import listener as listener_module
    from monitor.central.listener import CentralConfig, CentralListener
    from monitor.central.protocol import encode, parse_broker_url, topic

    events: list = []
    listener_module.INBOX, saved = 50, listener_module.INBOX
    try:
        central = CentralListener(CentralConfig(parse_broker_url(broker.url)), events.append)
    finally:
        listener_module.INBOX = saved
    central.start()
    try:
        deadline = time.monotonic() + 10
        while not central.connected and time.monotonic() < deadline:
            time.sleep(0.05)
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="flooder")
        client.connect("127.0.0.1", broker.port)
        client.loop_start()
        with central.lock:     # hold the model: the listener cannot keep up meanwhile
            for i in range(2000):
                client.publish(topic("clinic", "chair-flood", "numerics"),
                               encode({"t": i, "values": {"hr": 70}}))
            time.sleep(2.0)
        client.publish(topic("clinic", "chair-ok", "state"),
                       encode({"online": True, "run": 1.0}), qos=1).wait_for_publish(5)
        time.sleep(2.0)
        client.loop_stop()
        client.disconnect()
    finally:
        central.stop()
    floods = [e for e in events if getattr(e, "kind", "") == "problem"]
    assert floods and floods[0].chair == "chair-flood", floods
    assert "messages from chair-flood dropped" in floods[0].detail["problem"]
    assert "chair-ok" in central.model.chairs            # the other chair is still shown


def _desk(broker, remote: bool):  # type: ignore[no-untyped-def]
    from monitor.central.listener import CentralConfig, CentralListener
    from monitor.central.protocol import parse_broker_url

    events: list = []
    desk = CentralListener(CentralConfig(parse_broker_url(broker.url), name="desk-1",
                                         remote_actions=remote), events.append)
    desk.start()
    return desk, events


def _wait(predicate, timeout: float = TIMEOUT_S) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "not in time"
        time.sleep(0.05)


def test_remote_acknowledge_only_where_the_clinic_allows_it_and_logged_at_both_ends(
        broker, tmp_path, procs):
    desk, events = _desk(broker, remote=True)
    try:
        # A chair with the setting off: the desk refuses, says why, sends nothing.
        closed = _chair(procs, broker, tmp_path, "chair-a")
        _wait(lambda: "chair-a" in desk.model.chairs
              and desk.model.chairs["chair-a"].state.get("session") is not None)
        assert desk.remote_action("chair-a", "acknowledge", "RN Kim").startswith(
            "refused: chair-a does not take actions from the desk")
        closed.stop()
        # A chair that allows it: its raised alarm is acknowledged by the desk's nurse.
        chair = _chair(procs, broker, tmp_path, "chair-b", "hypertensive-surge", "100",
                       "--central-remote-actions")
        raised = chair.wait_for(lambda x: x["type"] == "alarm" and x["state"] == "raised"
                                and x["kind"] == "physiological")
        _wait(lambda: "chair-b" in desk.model.chairs
              and raised["id"] in desk.model.chairs["chair-b"].active)
        assert desk.remote_action("chair-b", "acknowledge", "RN Kim", raised["id"]) == \
            "sent: acknowledge to chair-b"
        action = chair.wait_for(lambda x: x["type"] == "alarm_action"
                                and x["action"] == "acknowledge")
        assert action["by"] == "RN Kim at desk-1 (central desk)"       # logged at the chair
        assert [e.detail["by"] for e in events if getattr(e, "kind", "") == "remote_action"] \
            == ["RN Kim"]                                               # and at the desk
        chair.stop()
    finally:
        desk.stop()


def test_a_desk_without_the_setting_cannot_act(broker, tmp_path, procs):
    desk, _ = _desk(broker, remote=False)
    try:
        chair = _chair(procs, broker, tmp_path, "chair-c", "typical", "10",
                       "--central-remote-actions")
        _wait(lambda: "chair-c" in desk.model.chairs)
        assert desk.remote_action("chair-c", "audio_pause", "RN Kim").startswith(
            "refused: this desk may not act on a chair's alarms")
        chair.stop()
    finally:
        desk.stop()
