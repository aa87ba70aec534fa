"""The broker as a clinic runs it: passwords, the shipped ACL, TLS with the clinic's CA.

The broker is a real Mosquitto; its ACL is the shipped
``resources/mosquitto/infusion-monitor.acl`` file itself.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import paho.mqtt.client as mqtt

from monitor.central.protocol import encode, topic
from tests.central.broker import Broker
from tests.central.test_chair_to_central import Proc, procs  # noqa: F401 (fixture)
from tests.central.tls import make_ca

ACL = Path(__file__).resolve().parents[2] / "resources" / "mosquitto" / "infusion-monitor.acl"
PASSWORDS = {"chair-1": "pw-chair-1", "chair-2": "pw-chair-2", "central": "pw-central"}


def _password_file(folder: Path) -> Path:
    path = folder / "passwd"
    for i, (user, password) in enumerate(PASSWORDS.items()):
        subprocess.run(["mosquitto_passwd", "-b", *(["-c"] if i == 0 else []), str(path), user,
                        password], check=True, capture_output=True)
    path.chmod(0o644)
    return path


def _secret(folder: Path, user: str) -> Path:
    path = folder / f"{user}.pw"
    path.write_text(PASSWORDS[user] + "\n")
    path.chmod(0o600)
    return path


def _clinic_broker(folder: Path, tls: dict[str, Path] | None = None) -> Broker:
    extra = (f"allow_anonymous false\npassword_file {_password_file(folder)}\n"
             f"acl_file {ACL}\n")
    if tls is not None:
        extra += (f"cafile {tls['ca']}\ncertfile {tls['cert']}\nkeyfile {tls['key']}\n"
                  "tls_version tlsv1.2\n")
    b = Broker(folder, extra)
    if tls is not None:
        b.url = f"mqtts://127.0.0.1:{b.port}"
    return b.start()


def _with_user(url: str, user: str) -> str:
    scheme, rest = url.split("://")
    return f"{scheme}://{user}@{rest}"


def test_each_chair_publishes_only_under_its_own_id(tmp_path, procs):  # noqa: F811
    broker = _clinic_broker(tmp_path)
    try:
        central = Proc("central", "--broker", _with_user(broker.url, "central"),
                       "--password-file", str(_secret(tmp_path, "central")), "--headless")
        procs.append(central)
        central.wait_for(lambda x: x["type"] == "central" and x["connected"])
        chair = Proc("run", "--headless", "--source", "sim:typical", "--speed", "10",
                     "--data-dir", str(tmp_path / "c1"),
                     "--central", _with_user(broker.url, "chair-1"), "--chair", "chair-1",
                     "--central-password-file", str(_secret(tmp_path, "chair-1")))
        procs.append(chair)
        central.wait_for(lambda x: x["type"] == "chair" and x["event"] == "appeared"
                         and x["chair"] == "chair-1")
        # chair-1's credentials writing as chair-2: the broker drops it (the ACL).
        rogue = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="rogue")
        rogue.username_pw_set("chair-1", PASSWORDS["chair-1"])
        rogue.connect("127.0.0.1", broker.port)
        rogue.loop_start()
        for seq in (1, 2, 3):
            rogue.publish(topic("clinic", "chair-2", "alarm"),
                          encode({"seq": seq, "run": 1.0, "id": "spo2.low", "state": "raised",
                                  "priority": "high", "sent": time.time()}), qos=1).wait_for_publish(5)
        # ... while its own topic is allowed: the central hears that one.
        rogue.publish(topic("clinic", "chair-1", "numerics"),
                      encode({"t": time.time(), "sent": time.time(), "values": {"hr": 61}}),
                      qos=1).wait_for_publish(5)
        time.sleep(2)
        rogue.loop_stop()
        rogue.disconnect()
        central.drain()
        assert not [x for x in central.seen if x.get("chair") == "chair-2"], central.seen
        chair.stop()
        central.stop()
    finally:
        broker.stop()


def test_a_wrong_password_is_told_at_the_chair_which_goes_on_monitoring(tmp_path, procs):  # noqa: F811
    broker = _clinic_broker(tmp_path)
    try:
        wrong = tmp_path / "wrong.pw"
        wrong.write_text("not-the-password\n")
        wrong.chmod(0o600)
        chair = Proc("run", "--headless", "--source", "sim:typical", "--speed", "1",
                     "--data-dir", str(tmp_path / "c1"),
                     "--central", _with_user(broker.url, "chair-1"), "--chair", "chair-1",
                     "--central-password-file", str(wrong))
        procs.append(chair)
        alarm = chair.wait_for(lambda x: x["type"] == "alarm"
                               and x["id"] == "central.not_connected", timeout=30)
        assert alarm["priority"] == "low"
        assert "broker refused the chair" in alarm["message"], alarm
        assert "authori" in alarm["message"].lower() or "password" in alarm["message"].lower()
        chair.wait_for(lambda x: x["type"] == "recording" and x["ok"])   # still recording
        chair.stop()
    finally:
        broker.stop()


def test_tls_with_the_clinic_ca_and_a_refusal_without_it(tmp_path, procs):  # noqa: F811
    tls = make_ca(tmp_path / "pki")
    broker = _clinic_broker(tmp_path, tls)
    try:
        central = Proc("central", "--broker", _with_user(broker.url, "central"),
                       "--password-file", str(_secret(tmp_path, "central")),
                       "--ca", str(tls["ca"]), "--headless")
        procs.append(central)
        central.wait_for(lambda x: x["type"] == "central" and x["connected"])
        chair = Proc("run", "--headless", "--source", "sim:typical", "--speed", "10",
                     "--data-dir", str(tmp_path / "c1"),
                     "--central", _with_user(broker.url, "chair-1"), "--chair", "chair-1",
                     "--central-password-file", str(_secret(tmp_path, "chair-1")),
                     "--central-ca", str(tls["ca"]))
        procs.append(chair)
        central.wait_for(lambda x: x["type"] == "chair" and x["event"] == "appeared")
        chair.stop()
        # Without the clinic's CA the broker's certificate is not trusted: refused, said.
        stranger = Proc("run", "--headless", "--source", "sim:typical", "--speed", "1",
                        "--data-dir", str(tmp_path / "c2"),
                        "--central", _with_user(broker.url, "chair-2"), "--chair", "chair-2",
                        "--central-password-file", str(_secret(tmp_path, "chair-2")))
        procs.append(stranger)
        alarm = stranger.wait_for(lambda x: x["type"] == "alarm"
                                  and x["id"] == "central.not_connected", timeout=30)
        assert "certificate" in alarm["message"].lower(), alarm
        stranger.stop()
        central.stop()
    finally:
        broker.stop()
