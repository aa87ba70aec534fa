"""A private Eclipse Mosquitto on loopback for the tests (issue 17).

Each test that needs a broker gets its own ``mosquitto`` process, on a free
port of 127.0.0.1, with its configuration, password and ACL files in a
temporary folder; it is stopped (and can be restarted on the same port) by
the test. Without the binary the test is skipped with the reason, except under
``CI=true`` where a missing broker is a failure (``.ci/run`` installs it).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest


def mosquitto_binary() -> str:
    found = shutil.which("mosquitto") or next(
        (p for p in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto") if Path(p).exists()),
        None)
    if found is None:
        reason = "the Mosquitto broker is not installed (apt-get install -y mosquitto)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Broker:
    """One Mosquitto; :meth:`stop` and :meth:`start` keep its port."""

    def __init__(self, folder: Path, extra: str = "") -> None:
        self.binary = mosquitto_binary()
        self.folder = folder
        self.port = free_port()
        self.conf = folder / "mosquitto.conf"
        self.conf.write_text(f"listener {self.port} 127.0.0.1\n"
                             + ("allow_anonymous true\n" if "allow_anonymous" not in extra
                                else "")
                             + "persistence false\nlog_dest stderr\nlog_type error\n"
                             + "log_type warning\n"
                             # As root, Mosquitto switches to its own user, which cannot read
                             # the test's private folder; the test's user it is.
                             + ("user root\n" if os.geteuid() == 0 else "") + extra)
        self.proc: subprocess.Popen | None = None
        self.url = f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> Broker:
        self.proc = subprocess.Popen([self.binary, "-c", str(self.conf)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mosquitto exited: {self.proc.stderr.read().decode()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("mosquitto did not start listening within 10 s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self.proc is not None and self.proc.stderr is not None:
            self.proc.stderr.close()
        self.proc = None
