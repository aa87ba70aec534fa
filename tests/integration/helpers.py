"""Running the real command-line tools in subprocesses."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def monitor_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "monitor", *args]


def run_monitor(*args: str, timeout: float = 120, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(monitor_cmd(*args), capture_output=True, text=True, timeout=timeout,
                          cwd=REPO, **kw)


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]
