"""The central station's picture of every chair, from the messages it receives (no I/O).

:meth:`CentralModel.on_message` takes one MQTT message (topic, payload, the
wall time it arrived) and returns what changed as :class:`CentralEvent`\\ s;
:meth:`CentralModel.tick` says which chairs went silent. The window and the
headless printer show these; the MQTT client (:mod:`.listener`) feeds them.

Rules:

- A chair **appears** with its first message, **goes offline** when its last
  will (or its final state) says so, or when nothing came from it for
  ``offline_after`` seconds (default :data:`OFFLINE_AFTER_S`: the central's
  technical alarm for that chair), and **comes back** with its next message.
- **Alarms** are numbered per run of the chair; a number skipped is reported
  as missing (the central never pretends it has every alarm), a number seen
  again is ignored (QoS 1 may deliver twice). Each alarm shown carries its
  delivery latency: the central's arrival time minus the chair's ``sent``.
- A message that does not parse, of another version, or a chair whose run
  changes while it is online (two chairs with one id) is a **problem** naming
  the chair and what is wrong; the chair's other data is still shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from monitor.central.protocol import CentralError, decode, parse_topic

OFFLINE_AFTER_S = 10.0
"""A chair not heard from for this long is offline (a technical alarm at the central)."""
PRIORITY_RANK = {"high": 3, "medium": 2, "low": 1}


@dataclass(frozen=True)
class CentralEvent:
    """What changed at the central.

    ``kind``: ``appeared``, ``offline``, ``online``, ``alarm``, ``missing``,
    ``problem``. ``detail`` holds the rest (the alarm's fields and
    ``latency_s``; the missing numbers; the problem's text; an offline
    chair's ``reason``: ``last will``, ``silent``, ``ended``).
    """

    kind: str
    chair: str
    t: float
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class ChairView:
    """One chair as the central knows it."""

    chair: str
    name: str = ""
    online: bool = True
    last_heard: float = 0.0
    run: float | None = None
    state: dict[str, Any] = field(default_factory=dict)
    values: dict[str, float] = field(default_factory=dict)
    values_t: float | None = None
    nibp: dict[str, Any] | None = None
    nibp_history: list[dict[str, Any]] = field(default_factory=list)
    active: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Alarm id -> its latest transition, for the alarms not cleared."""
    last_seq: int = 0
    missing: set[int] = field(default_factory=set)
    audio_paused: bool = False
    offline_reason: str = ""
    offline_at: float | None = None
    trend: list[tuple[float, dict[str, float]]] = field(default_factory=list)

    @property
    def most_urgent(self) -> dict[str, Any] | None:
        """The active alarm of the highest priority (the newest of equals), if any."""
        if not self.active:
            return None
        return max(self.active.values(),
                   key=lambda a: (PRIORITY_RANK.get(a.get("priority", ""), 0), a.get("t", 0.0)))

    @property
    def urgency(self) -> int:
        """For sorting: offline chairs and high alarms first."""
        top = self.most_urgent
        rank = PRIORITY_RANK.get(top.get("priority", ""), 0) if top else 0
        return rank + (4 if not self.online else 0)


TREND_MAX = 6 * 3600
"""Numerics kept per chair for its trend (one a second: six hours)."""


class CentralModel:
    """Every chair of a site, from its messages (see the module docstring)."""

    def __init__(self, offline_after: float = OFFLINE_AFTER_S) -> None:
        self.offline_after = offline_after
        self.chairs: dict[str, ChairView] = {}
        self.problems = 0

    def on_message(self, topic_name: str, payload: bytes, now: float) -> list[CentralEvent]:
        try:
            _, chair_id, kind = parse_topic(topic_name)
        except CentralError as exc:
            self.problems += 1
            return [CentralEvent("problem", "", now, {"problem": str(exc)})]
        out: list[CentralEvent] = []
        chair = self.chairs.get(chair_id)
        try:
            body = decode(payload)
        except CentralError as exc:
            self.problems += 1
            return [CentralEvent("problem", chair_id, now,
                                 {"problem": f"{kind} message: {exc}"})]
        if kind in ("receipt", "command"):
            return []      # a central's own messages (or another central's)
        if chair is None:
            chair = self.chairs[chair_id] = ChairView(chair_id, last_heard=now)
            if body.get("online", True):
                out.append(CentralEvent("appeared", chair_id, now,
                                        {"name": body.get("name", chair_id)}))
        run = body.get("run")
        if run is not None and chair.run is not None and run != chair.run and chair.online \
                and kind == "state" and body.get("online", True):
            out.append(CentralEvent("problem", chair_id, now, {
                "problem": "a second chair publishes with this id (two runs at once), or "
                           "the chair restarted; its alarm numbers start again"}))
            self.problems += 1
        if run is not None and run != chair.run:
            chair.run, chair.last_seq, chair.missing = run, 0, set()
        chair.last_heard = now
        if kind == "state":
            out += self._state(chair, body, now)
        else:
            if not chair.online:
                chair.online = True
                out.append(CentralEvent("online", chair_id, now))
            if kind == "numerics":
                values = body.get("values")
                if isinstance(values, dict):
                    chair.values = {k: v for k, v in values.items()
                                    if isinstance(v, (int, float))}
                    chair.values_t = body.get("t")
                    chair.trend.append((float(body.get("t") or now), dict(chair.values)))
                    del chair.trend[:-TREND_MAX]
            elif kind == "nibp":
                chair.nibp = body
                chair.nibp_history.append(body)
                del chair.nibp_history[:-1000]
            elif kind == "alarm":
                out += self._alarm(chair, body, now)
        return out

    def _state(self, chair: ChairView, body: dict[str, Any], now: float) -> list[CentralEvent]:
        chair.name = str(body.get("name") or chair.chair)
        online = bool(body.get("online", True))
        out: list[CentralEvent] = []
        if online:
            chair.state = body
            if not chair.online:
                chair.online = True
                out.append(CentralEvent("online", chair.chair, now))
        elif chair.online:
            chair.online = False
            reason = "ended" if body.get("ended") else "last will"
            chair.offline_reason, chair.offline_at = reason, now
            out.append(CentralEvent("offline", chair.chair, now, {"reason": reason}))
        return out

    def _alarm(self, chair: ChairView, body: dict[str, Any], now: float) -> list[CentralEvent]:
        try:
            seq = int(body["seq"])
        except (KeyError, TypeError, ValueError):
            self.problems += 1
            return [CentralEvent("problem", chair.chair, now,
                                 {"problem": "alarm message without a number (seq)"})]
        out: list[CentralEvent] = []
        if seq <= chair.last_seq and seq not in chair.missing:
            return []                                   # delivered twice (QoS 1)
        if seq in chair.missing:
            chair.missing.discard(seq)                  # late, but here
        elif seq > chair.last_seq + 1:
            gap = list(range(chair.last_seq + 1, seq))
            chair.missing.update(gap)
            out.append(CentralEvent("missing", chair.chair, now, {"seq": gap}))
        chair.last_seq = max(chair.last_seq, seq)
        sent = body.get("sent")
        latency = now - sent if isinstance(sent, (int, float)) else None
        state = body.get("state")
        alarm_id = body.get("id") or ""
        if state in ("audio_paused", "audio_resumed"):
            chair.audio_paused = state == "audio_paused"
        elif state == "cleared":
            chair.active.pop(alarm_id, None)
        elif alarm_id:
            chair.active[alarm_id] = body
        detail = {k: body.get(k) for k in ("seq", "id", "kind", "vital", "priority", "state",
                                            "message", "t", "by")}
        detail["latency_s"] = None if latency is None else round(latency, 4)
        out.append(CentralEvent("alarm", chair.chair, now, detail))
        return out

    def tick(self, now: float) -> list[CentralEvent]:
        """Chairs not heard from for ``offline_after`` go offline."""
        out = []
        for chair in self.chairs.values():
            if chair.online and now - chair.last_heard >= self.offline_after:
                chair.online = False
                chair.offline_reason, chair.offline_at = "silent", chair.last_heard
                out.append(CentralEvent("offline", chair.chair, now,
                                        {"reason": "silent",
                                         "silent_s": round(now - chair.last_heard, 1)}))
        return out

    def ordered(self, by: str = "urgency") -> list[ChairView]:
        """The chairs in the order the clinic chose: most urgent first, or by chair id."""
        chairs = list(self.chairs.values())
        if by == "urgency":
            return sorted(chairs, key=lambda c: (-c.urgency, c.chair))
        return sorted(chairs, key=lambda c: c.chair)


__all__ = ["OFFLINE_AFTER_S", "CentralEvent", "CentralModel", "ChairView"]
