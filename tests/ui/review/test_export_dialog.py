"""The export dialog: runs the real exporters on a worker thread, shows progress and outcome."""

from __future__ import annotations

import csv
import threading

import pytest

from monitor.core.vitals import Vital
from monitor.ui.review.export_dialog import ExportDialog, ExportFormat

pytestmark = pytest.mark.qt_log_ignore(r"does not support propagateSizeHints")  # offscreen


@pytest.fixture
def dialog(qtbot, review_db):
    view = ExportDialog(review_db.path, review_db.ids["typical"])
    qtbot.addWidget(view)
    view.show()
    yield view
    qtbot.waitUntil(lambda: not view.busy(), timeout=30_000)


def _export(qtbot, dialog, fmt, path, *, deidentify=False, ok=True):
    dialog.format_box.setCurrentIndex(list(ExportFormat).index(fmt))
    dialog.path_edit.setText(str(path))
    dialog.deidentify_box.setChecked(deidentify)
    signal = dialog.export_finished if ok else dialog.export_failed
    progress = []
    dialog._runner.progress.connect(lambda done, total: progress.append((done, total)))
    with qtbot.waitSignal(signal, timeout=60_000) as blocker:
        assert dialog.start_export()
        assert dialog.busy() and not dialog.export_button.isEnabled()
    qtbot.waitUntil(lambda: not dialog.busy())
    assert dialog.export_button.isEnabled()
    return blocker.args[0], progress


def test_csv_export_runs_off_the_gui_thread_and_reports_success(qtbot, dialog, tmp_path,
                                                                loaded):
    threads = []
    original = dialog._runner._run
    dialog._runner._run = lambda task: (threads.append(threading.current_thread()),
                                        original(task))
    message, progress = _export(qtbot, dialog, ExportFormat.CSV, tmp_path / "s.csv")
    assert threads and threads[0] is not threading.main_thread()
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == ["s-alarms.csv", "s-events.csv", "s.csv"]
    assert "s.csv" in message and message in dialog.status.text()
    assert dialog.status.objectName() == "export_done"
    assert progress and progress[-1][0] == progress[-1][1] > 0
    assert dialog.progress_bar.value() == dialog.progress_bar.maximum()
    with open(tmp_path / "s.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    hr = [r for r in rows if r["vital"] == Vital.HR.value]
    assert len(hr) == len(loaded["typical"].record.numerics[Vital.HR])


def test_unwritable_path_shows_the_error_and_leaves_nothing(qtbot, dialog, tmp_path):
    target = tmp_path / "no-such-folder" / "s.csv"
    message, _ = _export(qtbot, dialog, ExportFormat.CSV, target, ok=False)
    assert "no-such-folder" in message and "does not exist" in message
    assert dialog.status.text() == f"Export failed: {message}"
    assert dialog.status.objectName() == "export_error"
    assert list(tmp_path.iterdir()) == []
    assert dialog.close_button.isEnabled()


@pytest.mark.parametrize("fmt", [ExportFormat.VITAL, ExportFormat.EDF, ExportFormat.HL7,
                                 ExportFormat.PDF])
def test_every_format_exports_from_the_dialog(qtbot, dialog, tmp_path, fmt):
    path = tmp_path / f"session{fmt.suffix}"
    message, _ = _export(qtbot, dialog, fmt, path, deidentify=True)
    assert path.is_file() and path.stat().st_size > 0
    assert path.name in message
    assert [p.name for p in tmp_path.iterdir()] == [path.name]   # no temporary left


def test_changing_format_changes_the_suffix(dialog):
    dialog.path_edit.setText("/tmp/x/session-1.csv")
    dialog.format_box.setCurrentIndex(list(ExportFormat).index(ExportFormat.EDF))
    assert dialog.path_edit.text() == "/tmp/x/session-1.edf"
    assert not dialog.page_size_box.isEnabled()
    dialog.format_box.setCurrentIndex(list(ExportFormat).index(ExportFormat.PDF))
    assert dialog.page_size_box.isEnabled()


def test_no_file_chosen_is_refused(dialog):
    dialog.path_edit.clear()
    assert not dialog.start_export()
    assert "Choose the file" in dialog.status.text()
    assert not dialog.busy()


def test_the_review_view_pdf_button_preselects_pdf(qtbot, make_review):
    view = make_review("surge")
    view.pdf_button.click()
    assert view.export_dialog is not None and view.export_dialog.isVisible()
    assert view.export_dialog.chosen_format is ExportFormat.PDF
    assert view.export_dialog.path_edit.text().endswith(".pdf")
    view.export_dialog.reject()
