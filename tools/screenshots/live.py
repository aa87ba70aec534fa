"""Screenshots of the live window as the nurse sees it, taken through the real app.

Runs ``infusion-monitor`` in-process (the real :func:`monitor.app.run_gui`
path: the built-in simulator through a device protocol's encoder and codec,
the pipeline, the recorder into a temporary folder, the live window) with a
filled-in *New session* form, and saves the whole screen at chosen moments.
Run it under a display of the wanted size, e.g.::

    Xvfb :99 -screen 0 1280x800x24 &
    DISPLAY=:99 QT_QPA_PLATFORM=xcb python -m tools.screenshots.live --out shots/1280

``tools/screenshots/run.sh`` does both sizes (1280×800 and 1920×1080).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from monitor import app as gui_app
from monitor.acquisition.chair import SourceEntry
from monitor.acquisition.sources import make_driver, make_drivers
from monitor.core.workflow.setup import SessionSetup
from monitor.devices.registry import parse_source

SETUP = SessionSetup(patient_ref="PT-0042", weight_kg=72.0, dose_mg_per_kg=0.5,
                     clinician="Dr A. Rivera", planned_infusion_min=40.0,
                     course_number=2, course_total=6)
"""The set-up every screenshot shows (a second session of six)."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for the PNG files")
    parser.add_argument("--source", default="sim:hypertensive-surge")
    parser.add_argument("--protocol", default="datex-s5")
    parser.add_argument("--speed", type=float, default=30.0,
                        help="session seconds per real second")
    parser.add_argument("--at", default="5,50,90",
                        help="real seconds after start at which to grab, comma-separated")
    parser.add_argument("--name", default="live", help="file name prefix")
    parser.add_argument("--also", action="append", default=[], metavar="PROTOCOL",
                        help="a further device of the chair: the same scenario through "
                             "this protocol (repeatable), e.g. --protocol masimo-ascii "
                             "--also datex-s5")
    parser.add_argument("--central", default=None, metavar="URL",
                        help="publish to this broker (the header shows the central link)")
    parser.add_argument("--chair", default="chair-1")
    args = parser.parse_args(argv)
    grabs = sorted(float(x) for x in args.at.split(","))
    args.out.mkdir(parents=True, exist_ok=True)

    from PySide6 import QtCore, QtWidgets

    from monitor.ui import application

    qapp = application.create_application()
    screen = qapp.primaryScreen().geometry()

    def live_window() -> QtWidgets.QWidget | None:
        from monitor.ui.live.view import LiveView
        return next((w for w in qapp.topLevelWidgets()
                     if isinstance(w, LiveView) and w.isVisible()), None)

    def fill_screen() -> None:
        view = live_window()
        if view is not None:
            view.setGeometry(screen)

    def grab(i: int, last: bool) -> None:
        path = args.out / f"{args.name}-{i + 1}.png"
        qapp.primaryScreen().grabWindow(0).save(str(path))
        print(path, flush=True)
        if last:
            qapp.quit()

    QtCore.QTimer.singleShot(1000, fill_screen)
    for i, at in enumerate(grabs):
        QtCore.QTimer.singleShot(int(at * 1000), lambda i=i: grab(i, i == len(grabs) - 1))

    central = None
    if args.central:
        from monitor.central.protocol import parse_broker_url
        from monitor.central.publisher import PublisherConfig

        central = PublisherConfig(parse_broker_url(args.central), args.chair)
    return run_app(args.source, args.protocol, args.speed, also=args.also, central=central)


def run_app(source: str, protocol: str | None, speed: float, also: list[str] = (),
            central=None) -> int:  # type: ignore[no-untyped-def]
    """The real window (``run_gui``) on ``source`` with :data:`SETUP`, into a temporary folder.

    ``also``: further devices of the chair, the same scenario through these protocols.
    """
    gui_app._asker = lambda opts: (lambda: SETUP)   # the form, already filled in
    if also:
        drivers = make_drivers([SourceEntry(source, p) for p in (protocol, *also)])
    else:
        drivers = [make_driver(parse_source(source), protocol=protocol)]
    with tempfile.TemporaryDirectory() as data_dir:
        opts = gui_app.GuiOptions(driver=drivers[0], data_dir=Path(data_dir), speed=speed,
                                  stale_after=10.0, drivers=drivers, central=central)
        return gui_app.run_gui(opts)


if __name__ == "__main__":
    sys.exit(main())
