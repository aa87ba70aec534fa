"""Test helpers for the HL7 export and MLLP delivery: recorded sessions, a real MLLP server.

A session is recorded by the real pipeline (simulator driver, hub, recorder,
SQLite) with the nurse's set-up and typed-in values, or by the real
command-line tool in a subprocess; messages are read back with hl7apy.
"""

from __future__ import annotations

import socket
import socketserver
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Self

from hl7apy.core import Message
from hl7apy.parser import parse_message

from monitor.acquisition.pipeline import Pipeline
from monitor.acquisition.sources import make_driver
from monitor.core.clock import SimClock
from monitor.core.reading import Reading
from monitor.core.vitals import Vital
from monitor.core.workflow.messages import EndSession, ManualEntry
from monitor.devices.registry import parse_source
from monitor.review.record import SessionRecord, load_record
from monitor.storage import database

PATIENT = "AB-12"
SETUP = {"patient_ref": PATIENT, "weight_kg": 70.0, "dose_mg_per_kg": 0.5, "total_mg": 35.0,
         "planned_infusion_min": 40.0, "course_number": 2, "course_total": 6,
         "clinician": "Dr A"}
MANUAL_NIBP = (150.0, 90.0)
MANUAL_HR = 88.0


def _wait_until(pred: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def record_with_manual_entries(data_dir: Path, *, session_s: float = 150.0) -> SessionRecord:
    """A ``sim:typical`` session of ``session_s`` with a patient, one cuff NIBP and typed-in values.

    After the monitor's first NIBP the nurse types in an NIBP of 150/90 and
    an HR of 88; the session then runs to ``session_s`` and is ended.
    """
    db = database.open_database(data_dir)
    clock = SimClock(time.time(), speed=100.0)
    out: list = []
    pipeline = Pipeline(make_driver(parse_source("sim:typical"), seed=3), db, clock,
                        sink=out.append, setup=SETUP)
    started = pipeline.start()
    _wait_until(lambda: any(isinstance(m, Reading) and m.vital is Vital.NIBP_DIA
                            for m in list(out)), "the first NIBP")
    pipeline.hub.notify(ManualEntry(Vital.NIBP_SYS, MANUAL_NIBP[0], by="RN",
                                    dia=MANUAL_NIBP[1]))
    pipeline.hub.notify(ManualEntry(Vital.HR, MANUAL_HR, by="RN"))
    t_end = started.started_at + session_s
    _wait_until(lambda: clock.now() >= t_end, "the end of the session")
    pipeline.hub.notify(EndSession("RN"))
    assert pipeline.join(timeout=30), "the pipeline did not stop"
    return load_record(db, started.session_id)


def headless_record(data_dir: Path, scenario: str, duration_s: int) -> SessionRecord:
    """A session recorded by ``infusion-monitor run --headless`` (no patient reference)."""
    subprocess.run([sys.executable, "-m", "monitor", "run", "--headless", "--source",
                    f"sim:{scenario}", "--speed", "max", "--duration", str(duration_s),
                    "--data-dir", str(data_dir)], check=True, capture_output=True, timeout=120)
    return load_record(database.open_database(data_dir), 1)


# -- reading messages back -----------------------------------------------------------


def validated(er7: str, report: Path) -> Message:
    """``er7`` parsed by hl7apy into its groups and validated; no error and no warning allowed."""
    msg = parse_message(er7, find_groups=True)
    assert msg.validate(report_file=str(report))
    problems = report.read_text()
    assert problems == "", problems
    return msg


def field(er7: str, segment: str, n: int, occurrence: int = 0) -> str:
    """Field ``n`` of the ``occurrence``-th ``segment`` (plain split, for cheap checks)."""
    segs = [s for s in er7.split("\r") if s.startswith(segment + "|")]
    parts = segs[occurrence].split("|")
    return parts[n - 1] if segment == "MSH" else parts[n] if n < len(parts) else ""


def dtm_to_unix(text: str) -> float:
    """An HL7 DTM with fraction and UTC offset (``20260101120000.250+0100``) as Unix seconds."""
    return datetime.strptime(text, "%Y%m%d%H%M%S.%f%z").timestamp()


# -- a real MLLP server --------------------------------------------------------------

Answer = Callable[[int, str], str | None]
"""Given (how many messages received so far, from 1; the message) the answer to give:
``"AA"``, ``"AE:<text>"``, ``"AR:<text>"``, ``"CA"``, ``"WRONG"`` (AA for another
control id), ``"CLOSE"`` (hang up) or ``None`` (stay silent)."""


def always_aa(n: int, message: str) -> str:
    return "AA"


def ack_for(message: str, answer: str, n: int) -> str:
    """An acknowledgement built with hl7apy, as an interface engine would send it."""
    code, _, text = answer.partition(":")
    cid = message.split("\r", 1)[0].split("|")[9]
    ack = Message("ACK", version="2.6")
    ack.msh.msh_3 = "TEST-ENGINE"
    ack.msh.msh_9 = "ACK^R01^ACK"
    ack.msh.msh_10 = f"ACK{n}"
    ack.msh.msh_11 = "P"
    ack.msa.msa_1 = "AA" if code == "WRONG" else code
    ack.msa.msa_2 = "SOMETHING-ELSE" if code == "WRONG" else cid
    if text:
        ack.msa.msa_3 = text
    return ack.to_er7() + "\r"


class MllpServer:
    """An MLLP listener on 127.0.0.1 answering each message as ``answer`` says.

    ``received`` holds every message it read (retries too), in order.
    """

    def __init__(self, answer: Answer = always_aa, port: int = 0) -> None:
        self.answer = answer
        self.received: list[str] = []
        self.connections = 0
        self._lock = threading.Lock()
        outer = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                with outer._lock:
                    outer.connections += 1
                self.request.settimeout(10)
                buf = b""
                while True:
                    try:
                        chunk = self.request.recv(65536)
                    except OSError:
                        return
                    if not chunk:
                        return
                    buf += chunk
                    while b"\x1c\r" in buf:
                        block, buf = buf.split(b"\x1c\r", 1)
                        message = block[block.index(b"\x0b") + 1:].decode("utf-8")
                        with outer._lock:
                            outer.received.append(message)
                            n = len(outer.received)
                        reply = outer.answer(n, message)
                        if reply == "CLOSE":
                            return
                        if reply is not None:
                            ack = ack_for(message, reply, n)
                            self.request.sendall(b"\x0b" + ack.encode() + b"\x1c\r")

        class Server(socketserver.ThreadingTCPServer):
            allow_reuse_address = True
            daemon_threads = False
            block_on_close = True

        self._server = Server(("127.0.0.1", port), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.02}, name="mllp-test-server")
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(10)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def free_port() -> int:
    """A port on 127.0.0.1 nobody listens on (connections to it are refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
