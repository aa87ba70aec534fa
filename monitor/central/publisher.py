"""The chair's side of the central station: publish its live state, never block the hub.

The hub hands every message to :meth:`ChairPublisher.offer` (on the hub
thread; cheap: a few dict updates, an alarm into the bounded outbox). A thread
of the publisher sends what is due to the broker through paho-mqtt (whose own
network thread keeps the connection): the alarm transitions in order, QoS 1,
numbered; each NIBP determination; the current numerics once a second; the
retained chair state when it changed (and every 10 s, so a central started
later, or after a broker restart, has it). The chair's last will is its state
with ``"online": false``.

What the chair says about the link (:class:`~monitor.core.events.CentralLink`,
and the technical condition ``central_lost`` that the alarm engine shows as
"CENTRAL NOT CONNECTED", low priority) goes back to the hub through its inbox:
raised when the broker has not accepted the chair for :data:`CONNECT_GRACE_S`
(at the start, or after the link dropped), with the broker's reason ("bad user
name or password", "not authorised"), cleared when it accepts the chair again.

Choices made here:

- While the broker is unreachable, paho keeps up to :data:`OUTBOX` messages and
  sends them, in order, once it is back (QoS 1 to the broker); the central
  numbers the alarms it gets, so one lost anywhere is a gap it reports. Numerics
  are not kept (only the current ones matter); a full outbox is counted and is
  a ``queue_overflow`` event at the chair, never silent.
- A central confirms each alarm it received (``receipt``); the chair counts the
  confirmed ones and the last confirmed number (``CentralLink``).
- The patient is sent as given (the caller chooses the reference, the clinic's
  pseudonym, or nothing).
"""

from __future__ import annotations

import logging
import math
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from monitor.central.protocol import (
    REMOTE_ACTIONS,
    BrokerUrl,
    CentralError,
    decode,
    encode,
    topic,
)
from monitor.core.alarms.model import Acknowledge, AlarmAction, AlarmTransition, PauseAudio
from monitor.core.events import (
    CentralLink,
    Condition,
    PhaseChanged,
    Selection,
    SessionStarted,
    SourceStatus,
    StreamEnded,
    Technical,
)
from monitor.core.queues import BoundedQueue
from monitor.core.reading import Reading
from monitor.core.vitals import SPECS, Kind, Vital
from monitor.core.workflow.messages import InfusionChanged

log = logging.getLogger(__name__)

CONNECT_GRACE_S = 5.0
"""How long the broker may take to accept the chair before CENTRAL NOT CONNECTED."""
STATE_EVERY_S = 10.0
NUMERICS_EVERY_S = 1.0
NUMERICS_FRESH_S = 10.0
"""A value older than this is not sent as current (the chair's stale period)."""
OUTBOX = 1000
"""Messages kept for the broker while it is away (alarms, NIBP, state)."""
KEEPALIVE_S = 5
NUMERIC_VITALS = (Vital.HR, Vital.PULSE_RATE, Vital.SPO2, Vital.RESP_RATE, Vital.ETCO2,
                  Vital.TEMP)
_NIBP = (Vital.NIBP_SYS, Vital.NIBP_DIA, Vital.NIBP_MEAN)
_AUDIO_ACTIONS = {"audio_pause": "audio_paused", "audio_resume": "audio_resumed",
                  "audio_pause_ended": "audio_resumed"}

Report = Callable[[object], None]
"""Where the publisher's own messages go: the hub's inbox (``put_reliably``)."""


@dataclass(frozen=True)
class PublisherConfig:
    """Where and as whom a chair publishes.

    ``password``: read by the caller from a file (never the command line).
    ``ca_file``: the clinic's CA for ``mqtts://`` (``None``: the system's).
    ``patient``: what the chair state says of the patient (reference,
    pseudonym or empty), as the clinic chose.
    """

    url: BrokerUrl
    chair: str
    site: str = "clinic"
    name: str = ""
    password: str | None = None
    ca_file: Path | None = None
    patient: str = ""
    remote_actions: bool = False
    """The clinic setting: the desk may acknowledge or pause this chair's alarms (off by
    default). Each remote action is logged at the chair with who did it at which desk."""


@dataclass
class _State:
    body: dict[str, Any] = field(default_factory=dict)
    dirty: bool = True
    sent_at: float = -math.inf


class ChairPublisher:
    """Publishes one chair to the clinic's broker (see the module docstring).

    Parameters
    ----------
    config : PublisherConfig
    report : callable
        Receives the publisher's :class:`CentralLink` and :class:`Technical`
        messages, from the publisher's thread (the hub inbox's ``put_reliably``).
    session_now : callable
        The session clock (the time of the technical conditions).
    wall_now : callable
        The wall clock (``sent`` times, from which the central measures latency).
    """

    def __init__(self, config: PublisherConfig, report: Report,
                 session_now: Callable[[], float] = time.time,
                 wall_now: Callable[[], float] = time.time,
                 command: Callable[[object], None] | None = None) -> None:
        import paho.mqtt.client as mqtt

        self.config = config
        self._report = report
        self._session_now = session_now
        self._wall_now = wall_now
        self._topic = {kind: topic(config.site, config.chair, kind)
                       for kind in ("state", "numerics", "nibp", "alarm", "receipt",
                                    "command")}
        self._command = command
        self.outbox: BoundedQueue[tuple[str, bytes, int, bool]] = BoundedQueue(OUTBOX,
                                                                               "central")
        self._run = round(wall_now(), 3)
        self._seq = 0
        self._state = _State({"chair": config.chair, "name": config.name or config.chair,
                              "online": True, "run": self._run, "patient": config.patient,
                              "phase": None, "phase_since": None, "session": None,
                              "infusion": None, "devices": {},
                              "remote_actions": config.remote_actions})
        self._values: dict[Vital, tuple[float, float]] = {}   # vital -> (value, t)
        self._shown: dict[Vital, str] = {}
        self._nibp: dict[Vital, tuple[float, float, str]] = {}
        self._lock = threading.Lock()     # hub thread (offer) vs publisher thread
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="central-publisher",
                                        daemon=True)
        self.connected = False
        self._refused = ""
        self._since_down = wall_now()
        self._told_down = False
        self._link: CentralLink | None = None
        self.alarms_sent = 0
        self.alarms_confirmed = 0
        self.last_confirmed = 0
        self._confirmed: set[int] = set()
        self.dropped = 0
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2,
                             client_id=f"infusion-monitor-{config.site}-{config.chair}",
                             clean_session=True)
        client.max_queued_messages_set(OUTBOX)
        client.reconnect_delay_set(1, 10)
        client.will_set(self._topic["state"], self._offline_payload(), qos=1, retain=True)
        if config.url.username:
            client.username_pw_set(config.url.username, config.password)
        if config.url.tls:
            client.tls_set(ca_certs=str(config.ca_file) if config.ca_file else None,
                           tls_version=ssl.PROTOCOL_TLS_CLIENT)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        self._client = client
        self._queue_full = mqtt.MQTT_ERR_QUEUE_SIZE

    # -- the hub's side ------------------------------------------------------

    def offer(self, msg: object) -> None:
        """A hub message (on the hub thread): noted, or queued for the broker. Never blocks."""
        if isinstance(msg, Reading):
            self._on_reading(msg)
        elif isinstance(msg, AlarmTransition):
            self._alarm({"id": msg.alarm_id, "kind": msg.kind.value,
                         "vital": msg.vital.value if msg.vital else None,
                         "priority": msg.priority.label, "state": msg.state.value,
                         "t": msg.t, "value": msg.value, "limit": msg.limit,
                         "message": msg.message, "by": msg.by})
        elif isinstance(msg, AlarmAction) and msg.action in _AUDIO_ACTIONS:
            self._alarm({"id": "", "kind": "action", "vital": None, "priority": "",
                         "state": _AUDIO_ACTIONS[msg.action], "t": msg.t, "value": None,
                         "limit": None, "message": msg.detail, "by": msg.by})
        elif isinstance(msg, Selection):
            self._shown[msg.vital] = msg.source
        elif isinstance(msg, SessionStarted):
            self._set_state(session=msg.session_id, started_at=msg.started_at,
                            simulated=msg.simulated, phase=msg.spans[-1].phase.value,
                            phase_since=msg.spans[-1].start)
        elif isinstance(msg, PhaseChanged):
            self._set_state(phase=msg.phase.value, phase_since=msg.t)
        elif isinstance(msg, InfusionChanged):
            self._set_state(infusion={"action": msg.action.value, "t": msg.t})
        elif isinstance(msg, SourceStatus):
            name = msg.source or msg.label
            with self._lock:
                devices = self._state.body["devices"]
                if devices.get(name) != msg.connected:
                    devices[name] = msg.connected
                    self._state.dirty = True
        elif isinstance(msg, StreamEnded) and not msg.source:
            self._set_state(ended_at=msg.t)

    def _on_reading(self, r: Reading) -> None:
        if not r.valid:
            return
        if r.source and self._shown.get(r.vital, r.source) != r.source:
            return   # another device's value: not the one shown and alarmed
        if r.vital in _NIBP:
            self._nibp[r.vital] = (r.value, r.t, r.source)
            got = [self._nibp.get(v) for v in _NIBP[:2]]
            if all(g is not None and g[1] == r.t for g in got):
                sys_, dia = got[0], got[1]
                mean = self._nibp.get(Vital.NIBP_MEAN)
                self._queue("nibp", {"t": r.t, "sys": sys_[0], "dia": dia[0],
                                     "mean": mean[0] if mean and mean[1] == r.t else None,
                                     "source": r.source, "sent": self._wall_now()}, qos=1)
                self._nibp.clear()
            return
        if SPECS[r.vital].kind is Kind.CONTINUOUS and r.vital in NUMERIC_VITALS:
            with self._lock:
                self._values[r.vital] = (r.value, r.t)

    def _alarm(self, body: dict[str, Any]) -> None:
        self._seq += 1
        self.alarms_sent += 1
        self._queue("alarm", {"seq": self._seq, "run": self._run, **body,
                              "sent": self._wall_now()}, qos=1)

    def _set_state(self, **changes: Any) -> None:
        with self._lock:
            self._state.body.update(changes)
            self._state.dirty = True

    def _queue(self, kind: str, body: dict[str, Any], qos: int, retain: bool = False) -> None:
        if not self.outbox.put((self._topic[kind], encode(body), qos, retain)):
            self.dropped += 1

    # -- the publisher's thread ------------------------------------------------------

    def start(self) -> None:
        """Connect (in the background: an absent broker never delays the chair) and run."""
        host, port = self.config.url.host, self.config.url.port
        try:
            self._client.connect_async(host, port, keepalive=KEEPALIVE_S)
        except (OSError, ValueError) as exc:    # a host name that does not resolve
            self._refused = f"cannot reach {host}:{port}: {exc}"
        self._client.loop_start()
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Send the chair's last state (offline: the session ended), then disconnect."""
        self._stop.set()
        self._thread.join(timeout)
        try:
            if self.connected:
                info = self._client.publish(self._topic["state"],
                                            self._offline_payload(ended=True), qos=1,
                                            retain=True)
                info.wait_for_publish(min(timeout, 2.0))
        except (RuntimeError, ValueError, OSError):
            pass
        self._client.disconnect()
        self._client.loop_stop()

    def _loop(self) -> None:
        next_numerics = self._wall_now()
        while not self._stop.is_set():
            now = self._wall_now()
            for item in self.outbox.drain(200):
                self._send(*item)
            if now >= next_numerics:
                next_numerics = now + NUMERICS_EVERY_S
                self._send_numerics(now)
                self._send_state(now)
                self._check_link(now)
            lost = self.outbox.take_dropped()
            if lost:
                self._report(Technical(Condition.QUEUE_OVERFLOW, True, self._session_now(),
                                       f"central station outbox full: {lost} messages "
                                       "not sent", count=lost))
            item = self.outbox.get(timeout=0.1)
            if item is not None:
                self._send(*item)
        for item in self.outbox.drain():
            self._send(*item)

    def _send(self, name: str, payload: bytes, qos: int, retain: bool) -> None:
        info = self._client.publish(name, payload, qos=qos, retain=retain)
        if info.rc == self._queue_full:
            self.dropped += 1
            self._report(Technical(Condition.QUEUE_OVERFLOW, True, self._session_now(),
                                   "central station outbox full: a message was not sent",
                                   count=1))

    def _send_numerics(self, now: float) -> None:
        if not self.connected:
            return
        session_now = self._session_now()
        with self._lock:
            values = {v.value: round(val, 2) for v, (val, t) in self._values.items()
                      if session_now - t <= NUMERICS_FRESH_S}
        self._client.publish(self._topic["numerics"],
                             encode({"t": session_now, "sent": now, "values": values}), qos=0)

    def _send_state(self, now: float) -> None:
        with self._lock:
            due = self._state.dirty or now - self._state.sent_at >= STATE_EVERY_S
            if not due or not self.connected:
                return
            body = dict(self._state.body, sent=now, alarm_seq=self._seq)
            self._state.dirty = False
            self._state.sent_at = now
        self._client.publish(self._topic["state"], encode(body), qos=1, retain=True)

    def _offline_payload(self, ended: bool = False) -> bytes:
        """The chair's state when it is gone: its last will, or (``ended``) its own goodbye."""
        return encode({"chair": self.config.chair, "name": self.config.name or self.config.chair,
                       "online": False, "run": self._run, "ended": ended})

    def _check_link(self, now: float) -> None:
        if not self.connected and not self._told_down \
                and now - self._since_down >= CONNECT_GRACE_S:
            self._told_down = True
            if not self._refused:      # paho does not say why a connection failed: find out
                self._refused = diagnose(self.config.url, self.config.ca_file)
            self._report(Technical(Condition.CENTRAL_LOST, True, self._session_now(),
                                   self._down_text()))
        if not self.connected and not self._told_down and self._link is None:
            return   # still connecting at the start: nothing to say yet
        link = CentralLink(self._session_now(), self.connected, self.config.url.text,
                           "" if self.connected else self._down_text(), self.alarms_sent,
                           self.alarms_confirmed, self.last_confirmed, len(self.outbox),
                           self.dropped)
        old = self._link
        if old is None or (old.connected, old.message, old.alarms_confirmed, old.dropped) != (
                link.connected, link.message, link.alarms_confirmed, link.dropped):
            self._link = link
            self._report(link)

    def _down_text(self) -> str:
        return self._refused or (f"no answer from the broker {self.config.url.host}:"
                                 f"{self.config.url.port}")

    # -- paho's callbacks (its network thread) -------------------------------------------

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            self._refused = f"broker refused the chair: {reason_code}"
            log.warning("central: %s", self._refused)
            return
        self.connected = True
        self._refused = ""
        client.subscribe(self._topic["receipt"], qos=1)
        if self.config.remote_actions and self._command is not None:
            client.subscribe(self._topic["command"], qos=1)
        with self._lock:
            self._state.dirty = True     # the retained state says online again
        if self._told_down:
            self._told_down = False
            self._report(Technical(Condition.CENTRAL_LOST, False, self._session_now(),
                                   "central station connected again"))
        log.info("central: connected to %s", self.config.url.text)

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        was, self.connected = self.connected, False
        if was:
            self._since_down = self._wall_now()
            if reason_code.is_failure:
                self._refused = f"broker link lost: {reason_code}"

    def _on_message(self, client, userdata, message) -> None:
        if message.topic == self._topic["command"]:
            self._on_command(message.payload)
            return
        try:
            body = decode(message.payload)
            seq = int(body["seq"])
        except (CentralError, KeyError, TypeError, ValueError) as exc:
            log.warning("central: a receipt that cannot be read: %s", exc)
            return
        if body.get("run") not in (None, self._run):
            return   # a receipt of an earlier run of this chair
        if seq not in self._confirmed:      # QoS 1 may deliver a receipt twice
            self._confirmed.add(seq)
            self.alarms_confirmed = len(self._confirmed)
            self.last_confirmed = max(self.last_confirmed, seq)


    def _remote(self, payload: bytes) -> tuple[str, str, str | None]:
        body = decode(payload)
        action, by = body.get("action"), str(body.get("by") or "").strip()
        if action not in REMOTE_ACTIONS:
            raise CentralError(f"action {action!r}; allowed: {', '.join(REMOTE_ACTIONS)}")
        if not by:
            raise CentralError("a remote action names who did it (by)")
        alarm_id = body.get("id")
        return action, by, str(alarm_id) if alarm_id else None

    def _on_command(self, payload: bytes) -> None:
        """A desk's action on this chair's alarms (only when the clinic setting allows it)."""
        if not self.config.remote_actions or self._command is None:
            return
        try:
            action, by, alarm_id = self._remote(payload)
        except CentralError as exc:
            log.warning("central: a remote action refused: %s", exc)
            return
        who = f"{by} (central desk)"
        self._command(Acknowledge(who, alarm_id) if action == "acknowledge"
                      else PauseAudio(who))


def diagnose(url: BrokerUrl, ca_file: Path | None, timeout: float = 2.0) -> str:
    """Why the broker at ``url`` cannot be reached, in the nurse's words (one try).

    A plain TCP connection, then for ``mqtts://`` the TLS handshake with the
    clinic's CA as the client makes it: "connection refused", "no answer",
    "the broker's certificate is not trusted (…)", "the host name does not resolve".
    """
    import socket

    where = f"{url.host}:{url.port}"
    try:
        sock = socket.create_connection((url.host, url.port), timeout=timeout)
    except socket.gaierror:
        return f"the broker's host name {url.host} does not resolve"
    except ConnectionRefusedError:
        return f"the broker {where} refused the connection (is it running, on that port?)"
    except OSError as exc:
        return f"no answer from the broker {where} ({exc.strerror or exc})"
    with sock:
        if not url.tls:
            return f"no answer from the broker {where}"
        context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
        try:
            with context.wrap_socket(sock, server_hostname=url.host):
                return f"the broker {where} accepted TLS but not the chair"
        except ssl.SSLCertVerificationError as exc:
            return (f"the broker's certificate is not trusted ({exc.verify_message}); "
                    "give the clinic's CA with --central-ca")
        except (ssl.SSLError, OSError) as exc:
            return f"TLS with the broker {where} failed: {exc}"


__all__ = ["CONNECT_GRACE_S", "ChairPublisher", "PublisherConfig", "diagnose"]
