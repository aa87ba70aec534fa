"""A database of real recorded sessions for the clinician's windows, built once per run.

Three headless simulated sessions at ``--speed max`` (a few seconds each)
in one data folder, with the set-up a nurse would have entered saved
afterwards (``save_setup`` also puts the patient reference on the session):

- ``typical``: patient ``AB-0012``, infusion 1 of 6, with scripted events, played
  through the Datex S/5 protocol as the window's demo is (so it has a raw
  capture and can be replayed);
- ``surge``: patient ``AB-0012``, infusion 2 of 6 (hypertensive surge: high NIBP alarms);
- ``desat``: patient ``CD-0345``, infusion 1 of 3 (SpO2 falls mid-infusion);
- ``link``: no set-up at all (link loss mid-infusion: a technical "no data" alarm);
- ``sensor``: patient ``EF-0001`` (the probe comes off: SpO2 and PR without values,
  technical "no valid value" alarms of those vitals).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from monitor.storage import database
from monitor.ui.review.loading import ReviewData, load_review

REPO = Path(__file__).resolve().parents[3]

SESSIONS: dict[str, tuple[str, dict[str, object]]] = {
    "typical": ("sim:typical --protocol datex-s5", {
        "patient_ref": "AB-0012", "course_number": 1, "course_total": 6, "weight_kg": 70.0,
        "dose_mg_per_kg": 0.5, "total_mg": 35.0, "clinician": "Dr Okafor", "pre_phq9": 18,
        "pre_madrs": 30, "post_cadss": 12}),
    "surge": ("sim:hypertensive-surge", {
        "patient_ref": "AB-0012", "course_number": 2, "course_total": 6, "weight_kg": 70.0,
        "dose_mg_per_kg": 0.75, "total_mg": 52.5, "clinician": "Dr Okafor", "pre_phq9": 15,
        "pre_madrs": 24}),
    "desat": ("sim:desaturation", {
        "patient_ref": "CD-0345", "course_number": 1, "course_total": 3, "weight_kg": 82.0,
        "dose_mg_per_kg": 0.5, "total_mg": 41.0, "clinician": "Dr Lund"}),
    "link": ("sim:link-loss", {}),
    "sensor": ("sim:sensor-off", {"patient_ref": "EF-0001", "course_number": 1,
                                  "course_total": 1}),
}


@dataclass(frozen=True)
class ReviewDb:
    """The data folder, its database and the session id of each scenario."""

    data_dir: Path
    path: Path
    ids: dict[str, int]


def record_session(data_dir: Path, source: str) -> int:
    """Run one headless simulated session into ``data_dir``; its session id.

    ``source`` is the ``--source`` value, optionally followed by more options.
    """
    env = dict(os.environ, XDG_DATA_HOME=str(data_dir / "xdg"),
               XDG_CONFIG_HOME=str(data_dir / "xdg"))
    done = subprocess.run([sys.executable, "-m", "monitor", "run", "--headless", "--source",
                           *source.split(), "--speed", "max", "--data-dir", str(data_dir)],
                          check=True, capture_output=True, text=True, cwd=REPO, timeout=300,
                          env=env)
    summary = [json.loads(line) for line in done.stdout.splitlines()
               if line.startswith('{"type":"summary"')]
    assert summary, done.stdout[-2000:] + done.stderr[-2000:]
    return int(summary[-1]["session"])


@pytest.fixture(scope="session")
def review_db(tmp_path_factory) -> ReviewDb:
    """The shared database: tests must not change it (copy it first)."""
    data_dir = tmp_path_factory.mktemp("review-ui-data")
    ids = {}
    for name, (source, setup) in SESSIONS.items():
        ids[name] = record_session(data_dir, source)
        if setup:
            database.save_setup(database.open_database(data_dir), ids[name], setup)
    return ReviewDb(data_dir, database.open_database(data_dir), ids)


@pytest.fixture(scope="session")
def loaded(review_db) -> dict[str, ReviewData]:
    """Each session loaded for review (record, profile, summary), once."""
    return {name: load_review(review_db.path, sid) for name, sid in review_db.ids.items()}


@pytest.fixture
def make_review(qtbot, loaded):
    """Build a shown ``ReviewView`` of a scenario's session."""
    from monitor.ui.review.review_view import ReviewView

    def factory(name: str = "surge", **kwargs) -> ReviewView:
        view = ReviewView(loaded[name], **kwargs)
        qtbot.addWidget(view)
        view.show()
        qtbot.waitExposed(view)
        return view

    return factory
