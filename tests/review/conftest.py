"""One database of real recorded sessions, built once per test run by headless simulated runs.

Three sessions in one data folder, each a full scenario run at ``--speed max``
(a few seconds each), with the set-up a nurse would have entered saved
afterwards:

- ``typical``: patient ``PT-001``, infusion 1 of 2 (scenario typical: 125/78, HR 72);
- ``desaturation``: patient ``PT-001``, infusion 2 of 2 (SpO2 about 86 % mid-infusion);
- ``surge``: patient ``AB-77``, infusion 1 of 6 (hypertensive-surge: systolic past 180).
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from monitor.storage import database

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class RecordedDb:
    """The database and the session id of each scenario."""

    path: Path
    ids: dict[str, int]


SESSIONS = {
    "typical": ("sim:typical", {"patient_ref": "PT-001", "course_number": 1, "course_total": 2,
                                "weight_kg": 70.0, "dose_mg_per_kg": 0.5, "total_mg": 35.0,
                                "clinician": "Dr Okafor", "pre_phq9": 18, "pre_madrs": 30,
                                "post_cadss": 12}),
    "desaturation": ("sim:desaturation", {"patient_ref": "PT-001", "course_number": 2,
                                          "course_total": 2, "weight_kg": 70.0,
                                          "dose_mg_per_kg": 0.5, "total_mg": 35.0,
                                          "clinician": "Dr Okafor", "pre_phq9": 15,
                                          "pre_madrs": 26, "post_cadss": 9}),
    "surge": ("sim:hypertensive-surge", {"patient_ref": "AB-77", "course_number": 1,
                                         "course_total": 6, "dose_mg_per_kg": 0.75,
                                         "total_mg": 60.0, "clinician": "Dr Lund"}),
}


def record_session(data_dir: Path, source: str, *extra: str) -> int:
    """Run one headless simulated session into ``data_dir``; its session id."""
    done = subprocess.run([sys.executable, "-m", "monitor", "run", "--headless", "--source",
                           source, "--speed", "max", "--data-dir", str(data_dir), *extra],
                          check=True, capture_output=True, text=True, cwd=REPO, timeout=300)
    summary = [json.loads(line) for line in done.stdout.splitlines()
               if line.startswith('{"type":"summary"')]
    assert summary, done.stdout[-2000:] + done.stderr[-2000:]
    return int(summary[-1]["session"])


@pytest.fixture(scope="session")
def recorded(tmp_path_factory) -> RecordedDb:
    """The shared database (treat it as read-only)."""
    data_dir = tmp_path_factory.mktemp("review-data")
    ids = {}
    for name, (source, setup) in SESSIONS.items():
        ids[name] = record_session(data_dir, source)
        db = database.open_database(data_dir)
        database.save_setup(db, ids[name], setup)
    return RecordedDb(database.open_database(data_dir), ids)
