"""Screenshots of the live window's dialogs, over the window as the nurse sees them.

Runs the real app in-process (as :mod:`tools.screenshots.live` does: the
built-in simulator through a device protocol, the pipeline, the recorder into
a temporary folder, the live window) and opens, one after the other, a
refusal ("Baseline incomplete"), the alarm limits dialog, the *New session*
form (for a bedside monitor, with a refused weight), the source chooser on its
network-monitor page (an IntelliVue on the LAN, then an HL7 feed) and, once the scripted
infusion runs, the *Stop infusion* confirmation; the whole screen is saved
with each. Run it under a display of the wanted size, e.g.::

    Xvfb :95 -screen 0 1280x800x24 &
    DISPLAY=:95 QT_QPA_PLATFORM=xcb python -m tools.screenshots.dialogs --out shots/1280
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tools.screenshots.live import run_app

STEPS = ("message", "limits", "new-session", "source-lan", "source-hl7", "chair",
         "stop-infusion")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for the PNG files")
    parser.add_argument("--source", default="sim:typical")
    parser.add_argument("--protocol", default="datex-s5")
    parser.add_argument("--speed", type=float, default=60.0,
                        help="session seconds per real second")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    from PySide6 import QtCore, QtWidgets

    from monitor.ui import application
    from monitor.ui.live.view import LiveView
    from monitor.ui.shared.placement import keep_clear
    from monitor.ui.workflow.session_setup_dialog import SessionSetupDialog

    qapp = application.create_application()
    screen = qapp.primaryScreen().geometry()
    opened: list[QtWidgets.QWidget] = []

    def view() -> LiveView | None:
        return next((w for w in qapp.topLevelWidgets()
                     if isinstance(w, LiveView) and w.isVisible()), None)

    def fill_screen() -> None:
        v = view()
        if v is not None:
            v.setGeometry(screen)

    def open_step(step: str) -> None:
        v = view()
        if v is None:
            return
        panel = v.workflow_panel
        if step == "message":
            panel.request_start()          # the baseline is not complete yet
            opened.append(panel.info_box)
        elif step == "limits":
            v.alarm_bar.limits_clicked.emit()
            opened.append(v.limits_dialog)
        elif step == "new-session":
            # At start-up the form comes before the window; here it is shown over it
            # (placed as the window's dialogs are) to see both at once.
            dialog = SessionSetupDialog("serial:/dev/ttyUSB0", "Ketamine infusion, adult",
                                        parent=v)
            keep_clear(dialog)
            dialog.edits["weight_kg"].setText("350")
            dialog.buttons.accepted.emit()  # refused: the problems beside the fields
            dialog.show()
            opened.append(dialog)
        elif step == "source-lan":
            # Chosen before the window with --choose-source; shown over it here.
            from monitor.ui.workflow.source_dialog import SourceDialog

            dialog = SourceDialog(list, parent=v)
            keep_clear(dialog)
            dialog.lan_radio.click()
            dialog.host_edit.setText("192.168.10.21")
            dialog.show()
            opened.append(dialog)
        elif step == "source-hl7":
            from monitor.ui.workflow.source_dialog import SourceDialog

            dialog = SourceDialog(list, parent=v)
            keep_clear(dialog)
            dialog.lan_radio.click()
            dialog.lan_protocol_combo.setCurrentIndex(
                dialog.lan_protocol_combo.findData("hl7-pcd01"))
            dialog.listen_edit.setText("192.168.10.5:2575")
            dialog.bed_edit.setText("CHAIR1")
            dialog.show()
            opened.append(dialog)
        elif step == "chair":
            # The chair's devices (--choose-source), with a problem to confirm.
            from monitor.acquisition.chair import ChairConfig, SourceEntry
            from monitor.ui.workflow.chair_dialog import ChairDialog

            config = ChairConfig("Chair 3", (
                SourceEntry("serial:/dev/ttyUSB0", "masimo-ascii", "Masimo"),
                SourceEntry("serial:/dev/ttyUSB1", "datex-s5"),
                SourceEntry("serial:/dev/ttyUSB0", "nonin-2", "Finger")))
            dialog = ChairDialog(config, list_ports=list, parent=v)
            keep_clear(dialog)
            dialog.show()
            opened.append(dialog)
        elif step == "stop-infusion":
            panel.request_stop()
            opened.append(panel.dialog if panel.dialog is not None else panel.info_box)

    def grab_step(step: str) -> None:
        path = args.out / f"dialog-{step}.png"
        qapp.primaryScreen().grabWindow(0).save(str(path))
        print(path, flush=True)
        while opened:
            widget = opened.pop()
            if widget is not None:
                widget.close()

    QtCore.QTimer.singleShot(1000, fill_screen)
    at = [3.0, 6.0, 9.0, 12.0, 15.0, 18.0, 40.0]    # stop: the scripted infusion runs by then
    for step, t in zip(STEPS, at, strict=True):
        QtCore.QTimer.singleShot(int(t * 1000), lambda s=step: open_step(s))
        QtCore.QTimer.singleShot(int((t + 1.0) * 1000), lambda s=step: grab_step(s))
    QtCore.QTimer.singleShot(int((at[-1] + 2.0) * 1000), qapp.quit)

    return run_app(args.source, args.protocol, args.speed)


if __name__ == "__main__":
    sys.exit(main())
