"""Every dialog and message box of the app is dark, and its text readable (WCAG AA, 4.5:1).

Each dialog is opened the way the app opens it (the refusals through the
live window, the confirmations through the workflow panel), with the
application theme the app applies (:func:`monitor.ui.shared.theme.apply_theme`),
then rendered with ``grab()``. For every visible, enabled text of it (labels,
buttons, fields, their placeholders) the rendered pixels are read: the
ground is the commonest colour under the text, the text the pixels that
differ from it; the contrast of the text against its ground must reach
4.5:1 (WCAG 2 AA for normal text) on enough pixels to be a glyph.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QRect
from PySide6.QtGui import QImage, QPalette
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QComboBox,
    QDialog,
    QLabel,
    QLineEdit,
    QWidget,
)

from monitor.acquisition.chair import ChairConfig, SourceEntry
from monitor.core.alarms.profile_file import load_default_profile
from monitor.core.events import PhaseChanged, SessionStarted
from monitor.core.session import Phase, PhaseSpan, SessionStatus
from monitor.core.workflow.messages import CommandRefused, EventKind
from monitor.storage.database import SessionRow
from monitor.ui import application
from monitor.ui.review.export_dialog import ExportDialog
from monitor.ui.shared import theme
from monitor.ui.workflow.chair_dialog import ChairDialog
from monitor.ui.workflow.correct_time_dialog import CorrectTimeDialog
from monitor.ui.workflow.model import EventRow
from monitor.ui.workflow.source_dialog import SourceDialog
from tests.ui.helpers import T0
from tests.ui.workflow_helpers import INFUSION_AT, baseline_readings, started

pytestmark = pytest.mark.qt_log_ignore(r"does not support propagateSizeHints")

AA = 4.5
"""WCAG 2 AA: the least contrast of normal-size text with its ground."""

GLYPH_PIXELS = 4
"""How many pixels of a text must reach the contrast (a glyph, not a stray dot)."""


@pytest.fixture(autouse=True)
def app_theme(qapp) -> Iterator[None]:
    """The theme the app applies at start (``create_application``), undone afterwards."""
    style, palette, sheet = qapp.style().name(), QPalette(qapp.palette()), qapp.styleSheet()
    theme.apply_theme(qapp)
    yield
    qapp.setStyleSheet(sheet)
    qapp.setPalette(palette)
    qapp.setStyle(style)


# -- measuring ------------------------------------------------------------------


def _luminance(rgb: np.ndarray) -> np.ndarray:
    """WCAG relative luminance of sRGB colours (``... x 3`` array of 0-255)."""
    c = rgb.astype(np.float64) / 255.0
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return linear @ np.array([0.2126, 0.7152, 0.0722])


def contrast_ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """WCAG contrast ratio of colours ``a`` and ``b`` (broadcast), 1 to 21."""
    la, lb = _luminance(a), _luminance(b)
    return (np.maximum(la, lb) + 0.05) / (np.minimum(la, lb) + 0.05)


def _pixels(image: QImage) -> np.ndarray:
    """The image as an ``h x w x 3`` RGB array."""
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    w, h, line = image.width(), image.height(), image.bytesPerLine()
    return np.frombuffer(image.constBits(), np.uint8, h * line).reshape(h, line)[
        :, :w * 3].reshape(h, w, 3).copy()


def text_contrast(rgb: np.ndarray) -> tuple[float, int]:
    """The text's contrast with its ground in a crop, and how many pixels reach AA.

    The ground is the commonest colour; the text is every pixel that differs from it.
    """
    flat = rgb.reshape(-1, 3)
    colours, counts = np.unique(flat, axis=0, return_counts=True)
    ground = colours[np.argmax(counts)]
    ratios = contrast_ratio(flat, ground)
    ink = ratios[np.any(flat != ground, axis=1)]
    if ink.size == 0:
        return 1.0, 0
    return float(ink.max()), int(np.count_nonzero(ink >= AA))


def _texts(dialog: QWidget) -> list[tuple[QWidget, str]]:
    """The visible, enabled widgets of ``dialog`` showing a text, with that text.

    Disabled controls are left out (WCAG exempts inactive components).
    """
    out: list[tuple[QWidget, str]] = []
    for w in dialog.findChildren(QWidget):
        if not w.isVisibleTo(dialog) or not w.isEnabled() or w.width() < 4 or w.height() < 4:
            continue
        if w.visibleRegion().boundingRect() != w.rect():
            continue   # scrolled out of sight (or partly): not on the screen to be read
        if isinstance(w, (QLabel, QAbstractButton)):
            text = w.text()
        elif isinstance(w, QLineEdit):
            if isinstance(w.parentWidget(), QComboBox):
                continue   # the combo box's own text is checked
            text = w.text() or w.placeholderText()
        elif isinstance(w, QComboBox):
            text = w.currentText()
        else:
            continue
        if text.strip():
            out.append((w, text))
    return out


def _inset(w: QWidget) -> QRect:
    """Where ``w`` draws its text: inside its border and rounded corners."""
    rect = w.contentsRect() if isinstance(w, QLabel) else w.rect()
    border = 0 if isinstance(w, QLabel) else 4
    return rect.adjusted(border, border, -border, -border)


def assert_readable(dialog: QWidget) -> int:
    """Every text of ``dialog`` reaches AA against its ground; returns how many were checked."""
    assert dialog.isVisible()
    image = _pixels(dialog.grab().toImage())
    ratio = dialog.devicePixelRatioF()
    texts = _texts(dialog)
    assert texts, f"{dialog.windowTitle()}: no text found"
    poor: list[str] = []
    for w, text in texts:
        rect = _inset(w).translated(w.mapTo(dialog, QPoint(0, 0)))
        crop = image[int(rect.top() * ratio):int((rect.bottom() + 1) * ratio),
                     int(rect.left() * ratio):int((rect.right() + 1) * ratio)]
        if crop.size == 0:
            continue
        best, glyph = text_contrast(crop)
        if best < AA or glyph < GLYPH_PIXELS:
            poor.append(f"{type(w).__name__} {text[:40]!r}: {best:.2f}:1 ({glyph} px at AA)")
    assert not poor, f"{dialog.windowTitle()!r}: text below {AA}:1 -- " + "; ".join(poor)
    return len(texts)


def assert_dark(dialog: QWidget) -> None:
    """The dialog's ground is dark (the theme's, not the platform's light grey)."""
    image = _pixels(dialog.grab().toImage())
    colours, counts = np.unique(image.reshape(-1, 3), axis=0, return_counts=True)
    ground = colours[np.argmax(counts)]
    assert _luminance(ground) < 0.05, f"{dialog.windowTitle()!r}: ground {ground} is light"


# -- the dialogs ------------------------------------------------------------------


def _shown(qtbot, dialog: QWidget) -> QWidget:
    if not dialog.isVisible():
        dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


class Chair:
    """A live window at 1280x800 on the test clock, fed through its real queue."""

    def __init__(self, qtbot, make_view, clock, ui_queue) -> None:
        self.qtbot, self.make_view, self.clock, self.queue = qtbot, make_view, clock, ui_queue

    def view(self, *items: object, at: float = T0):
        self.sent: list[object] = []
        view = self.make_view(profile=load_default_profile(), sound=False,
                              send_command=self.sent.append)
        view.resize(1280, 800)
        view.show()
        self.qtbot.waitExposed(view)
        self.feed(view, *items, at=at)
        return view

    def feed(self, view, *items: object, at: float | None = None) -> None:
        for item in items:
            self.queue.put(item)
        if at is not None:
            self.clock.advance_to(at)
        view.drain()


@pytest.fixture
def chair(qtbot, make_view, clock, ui_queue) -> Chair:
    return Chair(qtbot, make_view, clock, ui_queue)


def _session(t: float = T0) -> SessionStarted:
    return SessionStarted(1, t, "serial:/dev/ttyUSB0", False, (PhaseSpan(Phase.BASELINE, t),))


def _baseline_incomplete(qtbot, chair: Chair) -> QWidget:
    view = chair.view(_session())
    view.workflow_panel.request_start()
    return view.workflow_panel.info_box


def _not_done(qtbot, chair: Chair) -> QWidget:
    view = chair.view(_session(), CommandRefused(T0 + 5, "ChangeInfusion",
                                                 "the infusion is not running", "RN"), at=T0 + 5)
    return view.refusal_box


def _session_ended(qtbot, chair: Chair) -> QWidget:
    view = chair.view(_session(), PhaseChanged(Phase.ENDED, T0 + 20), at=T0 + 30)
    view.events_bar.record(EventKind.NAUSEA)   # after the end: refused, and said so
    return view.refusal_box


def _start(qtbot, chair: Chair) -> QWidget:
    view = chair.view(_session(), *baseline_readings(), at=INFUSION_AT)
    view.workflow_panel.request_start()
    return view.workflow_panel.dialog


def _override(qtbot, chair: Chair) -> QWidget:
    view = chair.view(_session(), *baseline_readings(150, 95), at=INFUSION_AT)
    view.workflow_panel.request_start()
    return view.workflow_panel.dialog


def _running(chair: Chair):
    return chair.view(_session(), *baseline_readings(), *started(), at=INFUSION_AT + 300)


def _pause(qtbot, chair: Chair) -> QWidget:
    view = _running(chair)
    view.workflow_panel.request_pause_resume()
    return view.workflow_panel.dialog


def _stop(qtbot, chair: Chair) -> QWidget:
    view = _running(chair)
    view.workflow_panel.request_stop()
    return view.workflow_panel.dialog


def _end_with_error(qtbot, chair: Chair) -> QWidget:
    view = _running(chair)
    view.workflow_panel.request_end()
    dialog = view.workflow_panel.dialog
    dialog.edits["cadss"].setText("99")
    dialog.ok()     # refused: the red error banner shows
    return dialog


def _limits(qtbot, chair: Chair) -> QWidget:
    view = chair.view(_session())
    view._on_limits()
    view.limits_dialog._on_load_clicked()   # no initials: the refusal shows
    return view.limits_dialog


def _limits_file(qtbot, chair: Chair) -> QWidget:
    view = chair.view(_session())
    view._on_limits()
    view.limits_dialog.initials_edit.setText("RN")
    view.limits_dialog._on_load_clicked()
    return view.limits_dialog.file_dialog


def _manual(qtbot, chair: Chair) -> QWidget:
    view = chair.view(_session())
    view.open_manual_entry()
    dialog = view.manual_dialog
    dialog.sys_edit.setText("400")
    dialog.buttons.accepted.emit()      # refused: its message shows
    return dialog


def _correct_time(qtbot, chair: Chair) -> QWidget:
    view = chair.view(_session())
    row = EventRow("e1", T0 + 30, "Nausea", "mild", "RN")
    return CorrectTimeDialog(row, T0, T0 + 60, "RN", view)


def _keys(qtbot, chair: Chair) -> QWidget:
    view = chair.view(_session())
    view.show_keys()
    return view.keys_dialog


def _setup(demo: bool) -> Callable:
    def build(qtbot, chair: Chair) -> QWidget:
        dialog = application.setup_dialog("sim:typical" if demo else "serial:/dev/ttyUSB0",
                                          "Ketamine infusion, adult", simulated=demo)
        qtbot.addWidget(dialog)
        dialog.edits["weight_kg"].setText("350")
        dialog.buttons.accepted.emit()   # refusals beside the fields
        return dialog
    return build


def _source(qtbot, chair: Chair) -> QWidget:
    dialog = SourceDialog(lambda: [{"device": "/dev/ttyUSB0", "description": "FT232R",
                                    "vid_pid": "0403:6001"}],
                          scenarios=[("typical", "Typical 40-minute infusion")])
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: not dialog.is_scanning(), timeout=5000)
    return dialog


def _chair_devices(qtbot, chair: Chair) -> QWidget:
    config = ChairConfig("Chair 2", (SourceEntry("sim:typical", None, "Monitor"),
                                     SourceEntry("serial:/dev/nonexistent-tty", "masimo-ascii",
                                                 "Masimo")))
    dialog = ChairDialog(config, ["source 3: unknown protocol 'capno-x'"],
                         list_ports=list)
    qtbot.addWidget(dialog)
    return dialog


def _export(qtbot, chair: Chair) -> QWidget:
    dialog = ExportDialog(Path("/nonexistent/monitor.db"), 3)   # read only on export
    qtbot.addWidget(dialog)
    return dialog


def _resume(qtbot, chair: Chair) -> QWidget:
    row = SessionRow(4, time.time() - 3600, None, SessionStatus.OPEN, "sim:typical", True,
                     time.time() - 600, 1200)
    dialog = application.ResumeDialog(row, 600.0)
    qtbot.addWidget(dialog)
    return dialog


def _fatal(qtbot, chair: Chair) -> QWidget:
    box = application.fatal_box("Cannot start recording.\n\nThe data folder is read-only.")
    qtbot.addWidget(box)
    return box


DIALOGS: dict[str, Callable] = {
    "refusal: baseline incomplete": _baseline_incomplete,
    "refusal: not done": _not_done,
    "refusal: session ended": _session_ended,
    "confirm: start infusion": _start,
    "confirm: baseline override": _override,
    "confirm: pause infusion": _pause,
    "confirm: stop infusion": _stop,
    "confirm: end session (refused CADSS)": _end_with_error,
    "alarm limits (refused)": _limits,
    "alarm limits: load profile file": _limits_file,
    "manual entry (refused)": _manual,
    "correct event time": _correct_time,
    "keyboard shortcuts": _keys,
    "new session: device (refused)": _setup(False),
    "new session: demo (refused)": _setup(True),
    "choose the data source": _source,
    "the chair's devices (problems)": _chair_devices,
    "export": _export,
    "unfinished session": _resume,
    "cannot start": _fatal,
}


@pytest.mark.parametrize("name", list(DIALOGS))
def test_every_dialog_is_dark_and_its_text_reaches_wcag_aa(qtbot, chair, name):
    dialog = DIALOGS[name](qtbot, chair)
    assert isinstance(dialog, QDialog), f"{name}: nothing opened"
    _shown(qtbot, dialog)
    assert_dark(dialog)
    assert assert_readable(dialog) >= 2


def test_the_measure_refuses_light_text_on_a_light_ground(qtbot):
    """What the issue found: the window's near-white text on the platform's light grey box."""
    box = QDialog()
    qtbot.addWidget(box)
    box.setStyleSheet(f"QDialog {{ background: #efefef; }} QLabel {{ color: {theme.TEXT}; }}")
    label = QLabel("Baseline incomplete", box)
    label.resize(label.sizeHint())
    _shown(qtbot, box)
    best, _ = text_contrast(_pixels(box.grab(label.geometry()).toImage()))
    assert best < AA
    with pytest.raises(AssertionError, match="below 4.5:1"):
        assert_readable(box)


def test_contrast_ratio_matches_the_wcag_definition():
    black, white = np.array([0, 0, 0]), np.array([255, 255, 255])
    assert contrast_ratio(black, white) == pytest.approx(21.0)
    assert contrast_ratio(white, white) == pytest.approx(1.0)
    # #767676 on white is the classic AA boundary (4.54:1)
    assert contrast_ratio(np.array([0x76] * 3), white) == pytest.approx(4.54, abs=0.01)
    assert QApplication.instance() is not None


NON_TEXT = 3.0
"""WCAG 2 (1.4.11): the least contrast of a control's boundary with its ground."""


@pytest.mark.parametrize("checked", [False, True])
def test_radio_and_check_indicators_stand_out_from_the_dialog(qtbot, chair, checked):
    """The mode radios and the discovery box: seen whether set or not (they were near-black)."""
    from PySide6.QtWidgets import QCheckBox, QRadioButton, QStyle, QStyleOptionButton

    dialog = _shown(qtbot, _source(qtbot, chair))
    dialog.lan_radio.click()
    dialog.discover_check.setChecked(checked)
    buttons = [dialog.serial_radio, dialog.lan_radio, dialog.sim_radio, dialog.discover_check]
    image = _pixels(dialog.grab().toImage())
    for button in buttons:
        option = QStyleOptionButton()
        option.initFrom(button)
        element = (QStyle.SubElement.SE_RadioButtonIndicator if isinstance(button, QRadioButton)
                   else QStyle.SubElement.SE_CheckBoxIndicator)
        assert isinstance(button, QRadioButton | QCheckBox)
        rect = button.style().subElementRect(element, option, button)
        top_left = button.mapTo(dialog, rect.topLeft())
        crop = image[top_left.y():top_left.y() + rect.height(),
                     top_left.x():top_left.x() + rect.width()]
        ground = image[top_left.y() + rect.height() // 2, max(0, top_left.x() - 3)]
        best = float(contrast_ratio(crop.reshape(-1, 3), ground).max())
        assert best >= NON_TEXT, (button.text(), best)
