"""Screenshots of the central station window with several simulated chairs.

Starts a private Mosquitto on loopback, N headless chairs (``infusion-monitor run
--headless --central …``) playing different scenarios fast, and the real
central window; saves the screen at chosen moments. Run under a display of the
wanted size (``tools/screenshots/run.sh``: ``SCRIPTS=central``).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

SCENARIOS = ("hypertensive-surge", "typical", "desaturation", "typical", "hypertensive-surge",
             "typical")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--chairs", type=int, default=6)
    parser.add_argument("--at", default="25")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from PySide6 import QtCore

    from monitor.central.listener import CentralConfig, CentralListener
    from monitor.central.protocol import parse_broker_url
    from monitor.ui import application
    from monitor.ui.central.window import CentralWindow
    from tests.central.broker import Broker

    with tempfile.TemporaryDirectory() as tmp:
        broker = Broker(Path(tmp)).start()
        chairs = [subprocess.Popen(
            [sys.executable, "-m", "monitor", "run", "--headless", "--source",
             f"sim:{SCENARIOS[i % len(SCENARIOS)]}", "--speed", "60", "--seed", str(i),
             "--data-dir", f"{tmp}/c{i}", "--central", broker.url, "--chair", f"chair-{i + 1}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for i in range(args.chairs)]
        app = application.create_application()
        listener = CentralListener(CentralConfig(parse_broker_url(broker.url)), lambda e: None)
        listener.start()
        window = CentralWindow(listener, columns=3)
        window.setGeometry(app.primaryScreen().geometry())
        window.show()
        grabs = [float(x) for x in args.at.split(",")]

        def grab(i: int) -> None:
            path = args.out / f"central-{i + 1}.png"
            app.primaryScreen().grabWindow(0).save(str(path))
            print(path, flush=True)
            if i == len(grabs) - 1:
                chairs[-1].kill()          # one chair dies: its tile goes NO SIGNAL
                def gone() -> None:
                    path = args.out / "central-gone.png"
                    app.primaryScreen().grabWindow(0).save(str(path))
                    print(path, flush=True)
                    app.quit()

                QtCore.QTimer.singleShot(16000, gone)

        for i, at in enumerate(grabs):
            QtCore.QTimer.singleShot(int(at * 1000), lambda i=i: grab(i))
        try:
            return app.exec()
        finally:
            listener.stop()
            for p in chairs:
                p.terminate()
                p.wait(10)
            broker.stop()


if __name__ == "__main__":
    sys.exit(main())
