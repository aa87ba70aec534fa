"""Deliver HL7 messages over MLLP to the clinic's interface engine, with an outbox.

MLLP frames a message as ``0x0B <message> 0x1C 0x0D`` on a TCP connection.
Messages go one at a time; each waits for its acknowledgement:

* MSA-1 ``AA`` or ``CA``, with MSA-2 equal to the message's MSH-10: delivered;
* ``AE`` / ``CE`` (an error the host may get over), no answer within the
  timeout, a closed or refused connection, an answer that is not an
  acknowledgement or acknowledges another control id: tried again after
  ``backoff_s``, then twice that, and so on (capped at ``max_backoff_s``),
  up to ``attempts`` tries in all, on a new connection each time;
* ``AR`` / ``CR`` (the host refuses this message): not tried again in this
  run; the next message goes.

When a message has used all its tries, delivery stops: the host is away,
and the rest wait for :func:`flush_outbox`.

The outbox is a folder holding one file per message not yet acknowledged,
named ``<MSH-10>.hl7`` and written atomically (temporary file, then
rename). :func:`send_session` first puts every message of the session there
and deletes each file only after its positive acknowledgement; whatever was
not delivered stays, and :func:`flush_outbox` sends it later, oldest first
(by the time it was queued, then by name). Nothing is dropped without a
trace: a message leaves the outbox only when the host has taken it.

The framing and the acknowledgements (:func:`parse_ack`, :class:`AckCode`) are
in :mod:`monitor.devices.mllp_protocol` (the HL7 listener uses them too); they are
imported here too.

Everything here blocks on the network: call it from the command line or a
worker thread, never the GUI thread. A ``stop`` event cuts the waiting short.
"""

from __future__ import annotations

import contextlib
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from monitor.devices.mllp_protocol import (
    END_BLOCK,
    MAX_ACK_BYTES,
    START_BLOCK,
    Ack,
    AckCode,
    MllpError,
    parse_ack,
)
from monitor.export.common import ExportError, Progress, atomic_write, check_size, report
from monitor.export.hl7 import SENDING_APP, Hl7Error, session_messages
from monitor.review.record import SessionRecord

SUFFIX = ".hl7"

DEFAULT_ATTEMPTS = 5
DEFAULT_BACKOFF_S = 1.0
DEFAULT_MAX_BACKOFF_S = 60.0
DEFAULT_TIMEOUT_S = 10.0

__all__ = ["DEFAULT_ATTEMPTS", "DEFAULT_BACKOFF_S", "DEFAULT_MAX_BACKOFF_S", "DEFAULT_TIMEOUT_S",
           "END_BLOCK", "MAX_ACK_BYTES", "START_BLOCK", "SUFFIX", "Ack", "AckCode",
           "DeliveryReport", "MllpClient", "MllpError", "Retry", "RetryPolicy", "control_id",
           "enqueue", "flush_outbox", "parse_ack", "pending", "send_session"]


def control_id(message: str) -> str:
    """MSH-10 of an ER7 message."""
    if not message.startswith("MSH") or len(message) < 8:
        raise Hl7Error(f"not an HL7 message (no MSH segment first): {message[:40]!r}")
    fields = message.split("\r", 1)[0].split(message[3])
    if len(fields) < 10 or not fields[9]:
        raise Hl7Error(f"the message has no control id (MSH-10): {message[:80]!r}")
    return fields[9].split(message[4])[0]



@dataclass(frozen=True)
class Retry:
    """Handed to ``on_retry`` before waiting to try a message again."""

    control_id: str
    attempt: int        # the try that failed, from 1
    delay_s: float
    error: str


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try each message.

    ``attempts`` tries (1 or more), waiting ``backoff_s`` before the second,
    doubled before each later one up to ``max_backoff_s``; ``timeout_s``
    bounds one try (connecting, sending, the acknowledgement).
    """

    attempts: int = DEFAULT_ATTEMPTS
    backoff_s: float = DEFAULT_BACKOFF_S
    max_backoff_s: float = DEFAULT_MAX_BACKOFF_S
    timeout_s: float = DEFAULT_TIMEOUT_S

    def __post_init__(self) -> None:
        if type(self.attempts) is not int or self.attempts < 1:
            raise ValueError(f"attempts must be a whole number, 1 or more, not {self.attempts!r}")
        if not (self.backoff_s >= 0 and self.max_backoff_s >= 0 and self.timeout_s > 0):
            raise ValueError(f"back-off {self.backoff_s!r} s and its cap {self.max_backoff_s!r} s"
                             f" must be 0 or more, the timeout {self.timeout_s!r} s more than 0")

    def delay(self, attempt: int) -> float:
        """The wait after try number ``attempt`` (from 1) failed."""
        return min(self.backoff_s * 2 ** (attempt - 1), self.max_backoff_s)


@dataclass(frozen=True)
class DeliveryReport:
    """What a delivery run did.

    ``delivered``: acknowledged in this run (and removed from the outbox);
    ``pending``: of this run, still in the outbox, ``rejected`` (AR / CR)
    among them; ``last_error``: the last thing that went wrong, in words.
    """

    delivered: int
    pending: int
    rejected: int
    last_error: str | None
    outbox_dir: Path

    @property
    def complete(self) -> bool:
        return self.pending == 0

    def __str__(self) -> str:
        text = f"{self.delivered} delivered, {self.pending} pending in {self.outbox_dir}"
        if self.rejected:
            text += f" ({self.rejected} rejected by the host)"
        return text + (f"; last error: {self.last_error}" if self.last_error else "")


class MllpClient:
    """One MLLP connection to ``host:port``, opened when needed.

    ``timeout_s`` bounds connecting, and sending a message plus receiving its
    acknowledgement.
    """

    def __init__(self, host: str, port: int, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
            raise ValueError(f"MLLP port {port!r} is not a TCP port (1-65535)")
        if not host or not host.strip():
            raise ValueError("the MLLP host is empty")
        self.host, self.port, self.timeout_s = host, port, float(timeout_s)
        self._sock: socket.socket | None = None
        self._buffer = b""
        self._deadline = 0.0

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"

    def send(self, message: str) -> Ack:
        """Send one message and return its acknowledgement.

        Raises :class:`MllpError` (and closes the connection) if the connection
        fails or times out, or the answer is not an acknowledgement.
        """
        try:
            sock = self._connect()
            self._deadline = time.monotonic() + self.timeout_s
            sock.sendall(START_BLOCK + message.encode("utf-8") + END_BLOCK)
            return parse_ack(self._read_frame(sock).decode("utf-8", errors="replace"))
        except MllpError:
            self.close()
            raise
        except OSError as exc:
            self.close()
            raise MllpError(self._describe(exc)) from exc

    def close(self) -> None:
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.close()
        self._sock = None
        self._buffer = b""

    def _connect(self) -> socket.socket:
        if self._sock is None:
            try:
                self._sock = socket.create_connection((self.host, self.port), self.timeout_s)
            except TimeoutError as exc:
                raise MllpError(f"no answer from {self.where} to connecting within "
                                f"{self.timeout_s:g} s") from exc
        return self._sock

    def _read_frame(self, sock: socket.socket) -> bytes:
        while True:
            start = self._buffer.find(START_BLOCK)
            end = self._buffer.find(END_BLOCK, max(start, 0))
            if start >= 0 and end > start:
                payload = self._buffer[start + 1:end]
                self._buffer = self._buffer[end + len(END_BLOCK):]
                return payload
            if len(self._buffer) > MAX_ACK_BYTES:
                raise MllpError(f"{self.where} sent over {MAX_ACK_BYTES} bytes with no "
                                "complete MLLP block")
            sock.settimeout(max(self._deadline - time.monotonic(), 1e-3))
            chunk = sock.recv(65536)
            if not chunk:
                raise MllpError(f"{self.where} closed the connection before acknowledging")
            self._buffer += chunk

    def _describe(self, exc: OSError) -> str:
        if isinstance(exc, ConnectionRefusedError):
            return f"connection refused by {self.where}"
        if isinstance(exc, TimeoutError):
            return f"no acknowledgement from {self.where} within {self.timeout_s:g} s"
        if isinstance(exc, socket.gaierror):
            return f"cannot find host {self.host!r}: {exc.strerror}"
        if isinstance(exc, ConnectionError):
            return f"{self.where} dropped the connection ({exc.strerror or exc})"
        return f"cannot reach {self.where}: {exc.strerror or exc}"


def enqueue(outbox_dir: Path, messages: Iterable[str]) -> list[Path]:
    """Put each message in the outbox as ``<control id>.hl7`` (atomically); return the files."""
    outbox = Path(outbox_dir)
    try:
        outbox.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"cannot create the outbox {outbox}: {exc.strerror or exc}") from exc
    paths = []
    for message in messages:
        cid = control_id(message)
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", cid):
            raise Hl7Error(f"control id {cid!r} cannot name an outbox file (letters, digits, "
                           "'.', '_' and '-' only)")
        data = message.encode("utf-8")
        paths.append(atomic_write(outbox / f"{cid}{SUFFIX}",
                                  lambda tmp, data=data: tmp.write_bytes(data),
                                  check=check_size(len(data))))
    return paths


def pending(outbox_dir: Path) -> list[Path]:
    """The messages waiting in the outbox, oldest first (queued time, then name)."""
    files = []
    for path in Path(outbox_dir).glob(f"[!.]*{SUFFIX}"):   # not the temporary ".*" files
        with contextlib.suppress(FileNotFoundError):
            files.append((path.stat().st_mtime_ns, path.name, path))
    return [p for _, _, p in sorted(files)]


def send_session(record: SessionRecord, host: str, port: int, *, outbox_dir: Path,
                 deidentify: bool = False, key: bytes | None = None,
                 sending_app: str = SENDING_APP, facility: str = "",
                 attempts: int = DEFAULT_ATTEMPTS, backoff_s: float = DEFAULT_BACKOFF_S,
                 max_backoff_s: float = DEFAULT_MAX_BACKOFF_S,
                 timeout_s: float = DEFAULT_TIMEOUT_S, progress: Progress | None = None,
                 on_retry: Callable[[Retry], None] | None = None,
                 stop: threading.Event | None = None) -> DeliveryReport:
    """Queue the session's messages in the outbox, then deliver them (see the module docstring).

    Parameters
    ----------
    record : SessionRecord
    host, port
        The interface engine's MLLP listener.
    outbox_dir : Path
        Created if missing.
    deidentify, key, sending_app, facility
        As for :func:`monitor.export.hl7.session_messages`.
    attempts, backoff_s, max_backoff_s, timeout_s
        See :class:`RetryPolicy`.
    progress : callable or None
        Called with (messages settled, messages in all) after each message.
    on_retry : callable or None
        Called with a :class:`Retry` before each wait (e.g. to show "retrying in 4 s").
    stop : threading.Event or None
        Set it to end the run early; what is left stays in the outbox.

    Raises
    ------
    Hl7Error
        If the session has nothing to send or no patient reference.
    ExportError
        If the outbox cannot be written.
    ValueError
        If a retry setting or the port is out of range.
    """
    policy = RetryPolicy(attempts, backoff_s, max_backoff_s, timeout_s)
    client = MllpClient(host, port, timeout_s)
    messages = session_messages(record, deidentify=deidentify, key=key,
                                sending_app=sending_app, facility=facility)
    if not messages:
        raise Hl7Error(f"session {record.session_id} has no values to send")
    paths = enqueue(outbox_dir, messages)
    return _Delivery(client, policy, on_retry, stop).run(paths, Path(outbox_dir), progress)


def flush_outbox(outbox_dir: Path, host: str, port: int, *, attempts: int = DEFAULT_ATTEMPTS,
                 backoff_s: float = DEFAULT_BACKOFF_S,
                 max_backoff_s: float = DEFAULT_MAX_BACKOFF_S,
                 timeout_s: float = DEFAULT_TIMEOUT_S, progress: Progress | None = None,
                 on_retry: Callable[[Retry], None] | None = None,
                 stop: threading.Event | None = None) -> DeliveryReport:
    """Send what waits in the outbox, oldest first (parameters as for :func:`send_session`)."""
    policy = RetryPolicy(attempts, backoff_s, max_backoff_s, timeout_s)
    client = MllpClient(host, port, timeout_s)
    return _Delivery(client, policy, on_retry, stop).run(pending(outbox_dir), Path(outbox_dir),
                                                         progress)


class _Delivery:
    """One run through a list of outbox files on one connection."""

    def __init__(self, client: MllpClient, policy: RetryPolicy,
                 on_retry: Callable[[Retry], None] | None, stop: threading.Event | None) -> None:
        self.client, self.policy, self.on_retry = client, policy, on_retry
        self.stop = stop if stop is not None else threading.Event()
        self.last_error: str | None = None

    def run(self, paths: list[Path], outbox: Path, progress: Progress | None) -> DeliveryReport:
        delivered = rejected = gone = 0
        try:
            for done, path in enumerate(paths, start=1):
                if self.stop.is_set():
                    break
                try:
                    message = path.read_bytes().decode("utf-8")
                    cid = control_id(message)
                except FileNotFoundError:   # another run delivered it meanwhile
                    gone += 1
                    continue
                except (OSError, UnicodeDecodeError, Hl7Error) as exc:
                    self.last_error = f"{path} cannot be sent ({exc}); it stays in the outbox"
                    continue
                outcome = self._send(message, cid)
                if outcome == "delivered":
                    path.unlink(missing_ok=True)
                    delivered += 1
                rejected += outcome == "rejected"
                report(progress, done, len(paths))
                if outcome == "gave up":
                    break
        finally:
            self.client.close()
        return DeliveryReport(delivered, len(paths) - gone - delivered, rejected,
                              self.last_error, outbox)

    def _send(self, message: str, cid: str) -> str:
        """Try one message: "delivered", "rejected" or "gave up"."""
        client = self.client
        for attempt in range(1, self.policy.attempts + 1):
            try:
                ack = client.send(message)
            except MllpError as exc:
                self.last_error = str(exc)
            else:
                if ack.control_id != cid:
                    client.close()   # out of step with the host: start afresh
                    self.last_error = (f"{client.where} acknowledged control id "
                                       f"{ack.control_id!r}, not {cid!r}")
                elif ack.code.accepted:
                    return "delivered"
                else:
                    self.last_error = f"host answered {ack.code.value}: " + (
                        ack.text or f"(no reason given by {client.where})")
                    if ack.code.rejected:
                        return "rejected"
            if attempt == self.policy.attempts:
                break
            delay = self.policy.delay(attempt)
            if self.on_retry is not None:
                self.on_retry(Retry(cid, attempt, delay, self.last_error or ""))
            if self.stop.wait(delay):
                break
        return "gave up"
