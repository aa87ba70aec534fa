"""Screenshots of the clinician's windows: the session browser, a review and a course view.

Records a few simulated sessions headless (``--speed max``) into a temporary
data folder, saves the set-up a nurse would have entered, then opens the real
windows one after the other and saves the whole screen of each. Run it under
a display of the wanted size, e.g.::

    Xvfb :97 -screen 0 1280x800x24 &
    DISPLAY=:97 QT_QPA_PLATFORM=xcb python -m tools.screenshots.review shots/1280

It writes ``browser.png``, ``review.png`` (the whole session), ``review-zoom.png``
(20 s around the middle of the infusion: the pleth shown), ``course.png`` and
``review-rr.png`` (a session with RR and EtCO2) into the folder given.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

SESSIONS: tuple[tuple[str, dict[str, object]], ...] = (
    ("sim:typical --protocol datex-s5", {
        "patient_ref": "PT-0042", "course_number": 1, "course_total": 6, "weight_kg": 72.0,
        "dose_mg_per_kg": 0.5, "total_mg": 36.0, "clinician": "Dr A. Rivera", "pre_phq9": 18,
        "pre_madrs": 30, "post_cadss": 12}),
    ("sim:hypertensive-surge --protocol datex-s5", {
        "patient_ref": "PT-0042", "course_number": 2, "course_total": 6, "weight_kg": 72.0,
        "dose_mg_per_kg": 0.75, "total_mg": 54.0, "clinician": "Dr A. Rivera", "pre_phq9": 15,
        "pre_madrs": 24, "post_cadss": 20}),
    ("sim:desaturation --protocol datex-s5", {
        "patient_ref": "PT-0042", "course_number": 3, "course_total": 6, "weight_kg": 72.0,
        "dose_mg_per_kg": 0.75, "total_mg": 54.0, "clinician": "Dr A. Rivera", "pre_phq9": 11,
        "pre_madrs": 19, "post_cadss": 8}),
    ("sim:link-loss", {}),
)
"""Each session's ``--source`` (and options) and the set-up saved for it."""


def record(data_dir: Path, source: str) -> int:
    """One headless session at full speed; its id."""
    done = subprocess.run([sys.executable, "-m", "monitor", "run", "--headless", "--source",
                           *source.split(), "--speed", "max", "--data-dir", str(data_dir)],
                          check=True, capture_output=True, text=True, cwd=REPO, timeout=600)
    summary = [json.loads(line) for line in done.stdout.splitlines()
               if line.startswith('{"type":"summary"')]
    return int(summary[-1]["session"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder for the PNG files")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    from PySide6 import QtCore

    from monitor.review.course import course_rows
    from monitor.storage import database
    from monitor.ui import application
    from monitor.ui.review.browser import BrowserView
    from monitor.ui.review.course_view import CourseView
    from monitor.ui.review.loading import load_review
    from monitor.ui.review.review_view import ReviewView

    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        ids = []
        for source, setup in SESSIONS:
            sid = record(data_dir, source)
            ids.append(sid)
            if setup:
                database.save_setup(database.open_database(data_dir), sid, setup)
        db = database.open_database(data_dir)
        qapp = application.create_application()
        screen = qapp.primaryScreen()
        windows: list = []
        steps: list = []

        def grab(name: str) -> None:
            path = args.out / f"{name}.png"
            screen.grabWindow(0).save(str(path))
            print(path, flush=True)

        def show(window) -> None:
            for w in windows:
                w.close()
            windows[:] = [window]
            window.show()
            window.raise_()

        def browser() -> None:
            view = BrowserView(db)
            show(view)
            view.refresh_button.click()      # the strip seen after a refresh

        def review(sid: int, name: str, zoom: bool = False) -> None:
            view = ReviewView(load_review(db, sid))
            show(view)
            if zoom:
                mid = view.record.start + (view.record.end - view.record.start) * 0.4
                view.plots.set_x_range(*(((mid - view.record.start) / 60.0) + d
                                         for d in (-10 / 60.0, 10 / 60.0)))
                view.plots.set_cursor(mid)
            else:
                view.plots.set_cursor(view.record.start + 0.45 * (view.record.end
                                                                  - view.record.start))

        def course() -> None:
            show(CourseView("PT-0042", course_rows(db, "PT-0042")))

        steps = [
            (browser, "browser"),
            (lambda: review(ids[1], "review"), "review"),
            (lambda: review(ids[1], "review-zoom", zoom=True), "review-zoom"),
            (lambda: review(ids[3], "review-nosetup"), "review-nosetup"),
            (course, "course"),
        ]

        def run(i: int = 0) -> None:
            if i == len(steps):
                qapp.quit()
                return
            make, name = steps[i]
            make()
            QtCore.QTimer.singleShot(2500, lambda: (grab(name), run(i + 1)))

        QtCore.QTimer.singleShot(200, run)
        status = qapp.exec()
        for w in windows:
            w.close()
        return status


if __name__ == "__main__":
    sys.exit(main())
