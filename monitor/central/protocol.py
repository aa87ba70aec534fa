"""What travels between the chairs and the central station: topics and JSON messages.

Topic tree (``SITE`` the clinic, ``CHAIR`` a chair's id: letters, digits, ``-``
and ``_``)::

    clinic/SITE/chair/CHAIR/state      retained, QoS 1: who, phase, timer, devices, online
    clinic/SITE/chair/CHAIR/numerics   QoS 0, once a second: the current values
    clinic/SITE/chair/CHAIR/nibp       QoS 1: each NIBP determination
    clinic/SITE/chair/CHAIR/alarm      QoS 1: every alarm transition, numbered (``seq``)
    clinic/SITE/chair/CHAIR/receipt    QoS 1, from the central: "I have alarm seq N"
    clinic/SITE/chair/CHAIR/command    QoS 1, from the central: acknowledge / audio pause,
                                       taken only by a chair whose setting allows it

Every payload is a compact JSON object with ``"v": 1`` (:data:`VERSION`); a
reader refuses another version by name, never guesses. The chair's last will
is its ``state`` with ``"online": false``, retained, so a chair that dies is
seen as gone. Alarm numbers start at 1 for each run of the chair (``run``: the
chair's start time), so the central detects a lost alarm as a gap.

Times: ``t`` is the chair's session time of the event (simulated in an
accelerated run); ``sent`` is the chair's wall clock when it handed the
message to the broker, from which the central measures the delivery latency
(meaningful when the clocks of chair and central agree: NTP on a clinic LAN).
"""

from __future__ import annotations

import ipaddress
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

VERSION = 1
"""The message format version this release writes and reads."""

DEFAULT_SITE = "clinic"
MQTT_PORT, MQTTS_PORT = 1883, 8883
_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
KINDS = ("state", "numerics", "nibp", "alarm", "receipt", "command")
REMOTE_ACTIONS = ("acknowledge", "audio_pause")
"""What a central may ask a chair to do, when the chair's clinic setting allows it."""


class CentralError(ValueError):
    """A broker URL, chair id or message that cannot be used; the text says why."""


@dataclass(frozen=True)
class BrokerUrl:
    """``mqtt://HOST[:PORT]`` or ``mqtts://HOST[:PORT]`` (TLS), with optional ``user@``."""

    host: str
    port: int
    tls: bool
    username: str | None = None

    @property
    def text(self) -> str:
        user = f"{self.username}@" if self.username else ""
        return f"{'mqtts' if self.tls else 'mqtt'}://{user}{self.host}:{self.port}"

    @property
    def is_loopback(self) -> bool:
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False


def parse_broker_url(text: str) -> BrokerUrl:
    """Parse a broker URL.

    Raises
    ------
    CentralError
        Naming what was wrong and what is allowed. A password in the URL is
        refused (it would end up in shell history and logs): give a password file.
    """
    parts = urlsplit(text.strip())
    if parts.scheme not in ("mqtt", "mqtts"):
        raise CentralError(f"broker URL {text!r}: the scheme must be mqtt:// or mqtts:// (TLS)")
    if parts.password is not None:
        raise CentralError(f"broker URL {text!r}: give the password in a file "
                           "(--central-password-file), not in the URL")
    if not parts.hostname:
        raise CentralError(f"broker URL {text!r}: no host; e.g. mqtts://broker.clinic:8883")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise CentralError(f"broker URL {text!r}: only mqtt[s]://[USER@]HOST[:PORT]")
    try:
        port = parts.port
    except ValueError:
        raise CentralError(f"broker URL {text!r}: the port must be a number from 1 to "
                           "65535") from None
    tls = parts.scheme == "mqtts"
    return BrokerUrl(parts.hostname, port or (MQTTS_PORT if tls else MQTT_PORT), tls,
                     unquote(parts.username) if parts.username else None)


def check_id(value: str, what: str) -> str:
    """A site or chair id as topics need it (letters, digits, ``-``, ``_``; at most 64)."""
    if not _ID.match(value or ""):
        raise CentralError(f"{what} {value!r}: use letters, digits, '-' and '_' only "
                           "(at most 64), e.g. chair-3")
    return value


def topic(site: str, chair: str, kind: str) -> str:
    """``clinic/SITE/chair/CHAIR/KIND``."""
    assert kind in KINDS
    return f"clinic/{site}/chair/{chair}/{kind}"


def chairs_filter(site: str) -> str:
    """The subscription of a central: every chair of the site."""
    return f"clinic/{site}/chair/+/+"


def parse_topic(name: str) -> tuple[str, str, str]:
    """``(site, chair, kind)`` of a chair topic (:class:`CentralError` for another)."""
    parts = name.split("/")
    if len(parts) != 5 or parts[0] != "clinic" or parts[2] != "chair" or parts[4] not in KINDS:
        raise CentralError(f"topic {name!r} is not clinic/SITE/chair/CHAIR/"
                           f"({'|'.join(KINDS)})")
    return parts[1], parts[3], parts[4]


def _clean(value: Any) -> Any:
    if isinstance(value, float):
        return None if not math.isfinite(value) else round(value, 3)
    if isinstance(value, Mapping):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def encode(body: Mapping[str, Any]) -> bytes:
    """A message as compact JSON with its version; NaN and infinities become null."""
    return json.dumps({"v": VERSION, **_clean(body)}, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")


def decode(payload: bytes) -> dict[str, Any]:
    """A message back (:class:`CentralError` naming what is wrong with it)."""
    try:
        body = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CentralError(f"not a JSON message ({exc})") from None
    if not isinstance(body, dict):
        raise CentralError("not a JSON object")
    version = body.get("v")
    if version != VERSION:
        raise CentralError(f"message version {version!r}; this release reads version "
                           f"{VERSION}")
    return body


__all__ = ["DEFAULT_SITE", "KINDS", "VERSION", "BrokerUrl", "CentralError", "chairs_filter",
           "check_id", "decode", "encode", "parse_broker_url", "parse_topic", "topic"]
