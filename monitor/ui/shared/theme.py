"""Colours, fonts and the style sheet of the dark, high-contrast live view."""

from __future__ import annotations

from PySide6.QtGui import QColor, QFont

from monitor.core.session import Phase
from monitor.core.vitals import Vital

BACKGROUND = "#000000"
PANEL = "#0d1117"
PANEL_BORDER = "#30363d"
TEXT = "#e6edf3"
TEXT_DIM = "#8b949e"
AGED = "#7a7a7a"
"""Colour of a value that is still shown but too old to trust (old NIBP)."""
REASON = "#ffb300"
"""Amber: why a value is missing."""
MANUAL = "#4fc3f7"
"""Light blue: the "MANUAL" tag of a value the nurse typed in."""
WARNING_BG = "#b00020"
WARNING_TEXT = "#ffffff"
SIMULATED_BG = "#ff00ff"
SIMULATED_TEXT = "#000000"
REC_OK = "#ff4040"
STATUS_TEXT = "#ffb300"

HR_GREEN = "#00e676"
SPO2_CYAN = "#00e5ff"
NIBP_WHITE = "#ffffff"
NIBP_RED = "#ff6e6e"
RESP_YELLOW = "#ffeb3b"
PR_CYAN = "#4dd0e1"

VITAL_COLOURS: dict[Vital, str] = {
    Vital.HR: HR_GREEN,
    Vital.PULSE_RATE: PR_CYAN,
    Vital.SPO2: SPO2_CYAN,
    Vital.PLETH: SPO2_CYAN,
    Vital.NIBP_SYS: NIBP_RED,
    Vital.NIBP_DIA: NIBP_RED,
    Vital.NIBP_MEAN: NIBP_WHITE,
    Vital.RESP_RATE: RESP_YELLOW,
    Vital.ETCO2: "#ffc107",
}
"""Trace and tile colour of each vital."""

PHASE_TINTS: dict[Phase, tuple[int, int, int, int]] = {
    Phase.BASELINE: (60, 110, 200, 38),
    Phase.INFUSION: (190, 80, 200, 46),
    Phase.RECOVERY: (60, 170, 100, 38),
    Phase.ENDED: (120, 120, 120, 30),
}
"""Subtle RGBA tints of the phase bands behind the trends."""

FONT_FAMILY = "DejaVu Sans"
"""Preferred family; Qt falls back to the default sans font when it is missing.

Fonts are set with ``QFont`` only: the style sheet never sets font
properties, so the sizes computed on resize are not overridden.
"""

STYLE_SHEET = f"""
QMainWindow, QWidget#live_root {{ background: {BACKGROUND}; }}
QLabel {{ color: {TEXT}; background: transparent; }}
QFrame#tile {{
    background: {PANEL};
    border: 1px solid {PANEL_BORDER};
    border-radius: 6px;
}}
QLabel#tile_caption {{ color: {TEXT_DIM}; }}
QLabel#tile_reason {{ color: {REASON}; }}
QLabel#sim_banner {{
    background: {SIMULATED_BG};
    color: {SIMULATED_TEXT};
}}
QLabel#rec_ok {{ color: {REC_OK}; }}
QLabel#rec_off {{ color: {TEXT_DIM}; }}
QLabel#rec_stopped {{
    background: {WARNING_BG};
    color: {WARNING_TEXT};
    padding: 2px 8px;
}}
QLabel#status {{ color: {STATUS_TEXT}; }}
"""


def color(hex_code: str, alpha: int = 255) -> QColor:
    """A ``QColor`` from ``#rrggbb`` with optional alpha."""
    c = QColor(hex_code)
    c.setAlpha(alpha)
    return c


def font(pixel_size: int, bold: bool = False) -> QFont:
    """The app font at ``pixel_size`` pixels."""
    f = QFont(FONT_FAMILY)
    f.setPixelSize(max(1, int(pixel_size)))
    f.setBold(bold)
    return f
