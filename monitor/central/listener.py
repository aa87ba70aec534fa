"""The central station's MQTT client, and ``infusion-monitor central --headless``.

:class:`CentralListener` subscribes to every chair of the site, hands each
message to a :class:`~monitor.central.station.CentralModel` on its own thread
(never on paho's network thread, never on a GUI thread), confirms each alarm
it received to its chair (``receipt``), and passes the model's events to a
callback: the headless printer (:func:`run_headless_central`), or the window.
"""

from __future__ import annotations

import json
import logging
import queue
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from monitor.central.protocol import REMOTE_ACTIONS, BrokerUrl, chairs_filter, encode, topic
from monitor.central.publisher import diagnose
from monitor.central.station import OFFLINE_AFTER_S, CentralEvent, CentralModel

log = logging.getLogger(__name__)

INBOX = 10_000
"""Messages waiting for the model; beyond it a flood is dropped and counted (a problem)."""


@dataclass(frozen=True)
class CentralConfig:
    """Where the central listens, as whom, and how long a chair may be silent."""

    url: BrokerUrl
    site: str = "clinic"
    name: str = "central"
    password: str | None = None
    ca_file: Path | None = None
    offline_after: float = OFFLINE_AFTER_S
    remote_actions: bool = False
    """This desk may ask chairs (that allow it) to acknowledge or pause their alarms."""


class CentralListener:
    """Every chair of the site, into a model, with a receipt for each alarm.

    Parameters
    ----------
    config : CentralConfig
    on_event : callable
        Called on the listener's thread with each :class:`CentralEvent`, and
        with ``("link", connected, text)`` tuples when the broker link changes.
    """

    def __init__(self, config: CentralConfig,
                 on_event: Callable[[CentralEvent | tuple[str, bool, str]], None]) -> None:
        import paho.mqtt.client as mqtt

        self.config = config
        self.model = CentralModel(config.offline_after)
        self.lock = threading.Lock()
        """Held while the model changes: a window reads the model under it."""
        self._on_event = on_event
        self._inbox: queue.Queue[tuple[str, bytes, float]] = queue.Queue(INBOX)
        self.flood_dropped = 0
        self._dropped_from: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="central-listener",
                                        daemon=True)
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2,
                             client_id=f"infusion-central-{config.site}-{config.name}")
        if config.url.username:
            client.username_pw_set(config.url.username, config.password)
        if config.url.tls:
            client.tls_set(ca_certs=str(config.ca_file) if config.ca_file else None,
                           tls_version=ssl.PROTOCOL_TLS_CLIENT)
        client.reconnect_delay_set(1, 10)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        self._client = client
        self.connected = False

    def start(self) -> None:
        self._client.connect_async(self.config.url.host, self.config.url.port, keepalive=5)
        self._client.loop_start()
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._thread.join(timeout)
        self._client.disconnect()
        self._client.loop_stop()

    # -- paho's network thread: only queue ------------------------------------------

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            self._on_event(("link", False, f"broker refused the central: {reason_code}"))
            return
        self.connected = True
        client.subscribe(chairs_filter(self.config.site), qos=1)
        self._on_event(("link", True, f"connected to {self.config.url.text}"))

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        was, self.connected = self.connected, False
        if was:
            self._on_event(("link", False, f"broker link lost: {reason_code}"))

    def _on_message(self, client, userdata, message) -> None:
        try:
            self._inbox.put_nowait((message.topic, bytes(message.payload), time.time()))
        except queue.Full:
            self.flood_dropped += 1
            parts = message.topic.split("/")
            chair = parts[3] if len(parts) == 5 else "?"
            self._dropped_from[chair] = self._dropped_from.get(chair, 0) + 1

    # -- the listener's thread --------------------------------------------------------

    def _loop(self) -> None:
        reported_flood = 0
        started = time.time()
        told_down = False
        while not self._stop.is_set():
            if not self.connected and not told_down and time.time() - started >= 5.0:
                told_down = True    # never connected: say why, once
                self._on_event(("link", False, diagnose(self.config.url, self.config.ca_file)))
            try:
                name, payload, arrived = self._inbox.get(timeout=0.2)
            except queue.Empty:
                name = None
            events: list[CentralEvent] = []
            with self.lock:
                if name is not None:
                    events = self.model.on_message(name, payload, arrived)
                events += self.model.tick(time.time())
            for event in events:
                if event.kind == "alarm":
                    self._confirm(event)
                self._on_event(event)
            if self.flood_dropped != reported_flood:
                reported_flood = self.flood_dropped
                dropped, self._dropped_from = self._dropped_from, {}
                for chair, lost in sorted(dropped.items(), key=lambda kv: -kv[1]):
                    self._on_event(CentralEvent("problem", chair, time.time(), {
                        "problem": f"{lost} messages from {chair} dropped: more arrive "
                                   "than the central can take (a flood from this chair?)"}))

    def remote_action(self, chair_id: str, action: str, by: str,
                      alarm_id: str | None = None) -> str:
        """Ask ``chair_id`` to ``acknowledge`` (or ``audio_pause``); returns what happened.

        Refused here, with the reason, unless this desk and that chair both allow
        remote actions; sent actions are reported as ``remote_action`` events (the
        desk's log), and the chair logs the action it applied with who did it.
        """
        with self.lock:
            chair = self.model.chairs.get(chair_id)
            allowed = bool(chair and chair.online and chair.state.get("remote_actions"))
        if not self.config.remote_actions:
            return "refused: this desk may not act on a chair's alarms (clinic setting)"
        if not allowed:
            return (f"refused: {chair_id} does not take actions from the desk "
                    "(its clinic setting), or is not connected")
        if action not in REMOTE_ACTIONS or not by.strip():
            return f"refused: {action!r} by {by!r}"
        self._client.publish(topic(self.config.site, chair_id, "command"),
                             encode({"action": action, "by": f"{by} at {self.config.name}",
                                     "id": alarm_id, "t": time.time()}), qos=1)
        self._on_event(CentralEvent("remote_action", chair_id, time.time(),
                                    {"action": action, "by": by, "id": alarm_id}))
        return f"sent: {action} to {chair_id}"

    def _confirm(self, event: CentralEvent) -> None:
        chair = self.model.chairs.get(event.chair)
        body = {"seq": event.detail.get("seq"), "run": chair.run if chair else None,
                "central": self.config.name, "t": time.time()}
        self._client.publish(topic(self.config.site, event.chair, "receipt"), encode(body),
                             qos=1)


def event_json(event: CentralEvent | tuple[str, bool, str]) -> dict[str, Any]:
    """The JSON line of an event of the central (``central --headless``)."""
    if isinstance(event, tuple):
        _, connected, text = event
        return {"type": "central", "connected": connected, "message": text, "t": time.time()}
    if event.kind in ("appeared", "offline", "online"):
        return {"type": "chair", "event": event.kind, "chair": event.chair, "t": event.t,
                **event.detail}
    return {"type": event.kind, "chair": event.chair, "t": event.t, **event.detail}


def run_headless_central(config: CentralConfig, stream: IO[str],
                         should_stop: threading.Event,
                         duration_s: float | None = None) -> int:
    """Print the central's view as JSON lines until stopped (or ``duration_s`` passed)."""
    lock = threading.Lock()

    def write(event: CentralEvent | tuple[str, bool, str]) -> None:
        line = json.dumps(event_json(event), separators=(",", ":"), allow_nan=False)
        with lock:
            try:
                stream.write(line + "\n")
                stream.flush()
            except (BrokenPipeError, ValueError):
                pass

    listener = CentralListener(config, write)
    listener.start()
    try:
        should_stop.wait(duration_s)
    finally:
        listener.stop()
    return 0


__all__ = ["CentralConfig", "CentralListener", "event_json", "run_headless_central"]
