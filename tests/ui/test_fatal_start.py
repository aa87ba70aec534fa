"""The window cannot start: it says why, on stderr and in a dialog that a signal also closes."""

import os
import signal
import subprocess
import time

from tests.integration.helpers import REPO, monitor_cmd


def test_an_unusable_data_folder_is_said_and_sigterm_closes_the_dialog(tmp_path):
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.Popen(monitor_cmd("run", "--source", "sim:typical", "--no-setup",
                                        "--data-dir", str(a_file)),
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        said = "".join(proc.stderr.readline() for _ in range(3))   # before the dialog waits
        assert said.startswith("infusion-monitor: Cannot start recording.")
        assert "is a file, not a folder" in said and str(a_file) in said
        time.sleep(0.5)
        assert proc.poll() is None             # the dialog is up, waiting for the nurse
        proc.send_signal(signal.SIGTERM)       # used to be ignored while the dialog was up
        proc.communicate(timeout=20)
        assert proc.returncode == 2
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
    assert a_file.read_text() == "x"
