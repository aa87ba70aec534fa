"""Colours, fonts and the style sheet of the dark, high-contrast live view."""

from __future__ import annotations

from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

from monitor.core.session import Phase
from monitor.core.vitals import Vital

BACKGROUND = "#000000"
PANEL = "#0d1117"
PANEL_BORDER = "#30363d"
TEXT = "#e6edf3"
TEXT_DIM = "#8b949e"
LEGEND_FILL = "#000000d9"
"""A trend legend's panel: the plot's black, nearly opaque, so no curve hides its text."""
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
FIELD_BG = "#161b22"
"""Ground of a text field, a combo box or a spin box in a dialog."""
BUTTON_BG = "#21262d"
DISABLED_TEXT = "#6e7681"
HIGHLIGHT = "#1f6feb"
FIELD_ERROR = "#ff8a80"
"""Light red: a refusal written beside the field it is about (5.9:1 on a dialog's ground)."""
REC_OK = "#ff4040"
STATUS_TEXT = "#ffb300"

HR_GREEN = "#00e676"
SPO2_CYAN = "#00e5ff"
NIBP_WHITE = "#ffffff"
NIBP_RED = "#ff6e6e"
RESP_YELLOW = "#ffeb3b"
RESP_VIOLET = "#b388ff"
"""Respiration rate: violet, told apart at a glance from EtCO2's amber beside it."""
PR_CYAN = "#4dd0e1"

VITAL_COLOURS: dict[Vital, str] = {
    Vital.HR: HR_GREEN,
    Vital.PULSE_RATE: PR_CYAN,
    Vital.SPO2: SPO2_CYAN,
    Vital.PLETH: SPO2_CYAN,
    Vital.NIBP_SYS: NIBP_RED,
    Vital.NIBP_DIA: NIBP_RED,
    Vital.NIBP_MEAN: NIBP_WHITE,
    Vital.RESP_RATE: RESP_VIOLET,
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
QLabel#tile_limits {{ color: {TEXT}; }}
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


DIALOG_STYLE_SHEET = f"""
QDialog {{ background: {PANEL}; color: {TEXT}; border: 1px solid {TEXT_DIM}; }}
QDialog QLabel, QDialog QCheckBox, QDialog QRadioButton {{ color: {TEXT}; }}
QDialog QLabel {{ background: transparent; }}
QDialog QLineEdit, QDialog QTimeEdit, QDialog QDateEdit, QDialog QSpinBox,
QDialog QDoubleSpinBox, QDialog QComboBox, QDialog QPlainTextEdit, QDialog QTextEdit {{
    background: {FIELD_BG}; color: {TEXT}; border: 1px solid {PANEL_BORDER};
    selection-background-color: {HIGHLIGHT}; selection-color: #ffffff;
    placeholder-text-color: {TEXT_DIM};
}}
QDialog QPushButton {{
    background: {BUTTON_BG}; color: {TEXT}; border: 1px solid {PANEL_BORDER};
    border-radius: 4px; padding: 5px 14px;
}}
QDialog QPushButton:default {{ border-color: {TEXT_DIM}; }}
QDialog QPushButton:disabled {{ color: {DISABLED_TEXT}; }}
QDialog QCheckBox::indicator, QDialog QRadioButton::indicator {{
    width: 14px; height: 14px; border: 2px solid {TEXT_DIM}; background: {FIELD_BG};
}}
QDialog QRadioButton::indicator {{ border-radius: 9px; }}
QDialog QCheckBox::indicator:checked, QDialog QRadioButton::indicator:checked {{
    background: {HIGHLIGHT}; border-color: {TEXT};
}}
QDialog QCheckBox::indicator:disabled, QDialog QRadioButton::indicator:disabled {{
    border-color: {PANEL_BORDER};
}}
QToolTip {{ background: {FIELD_BG}; color: {TEXT}; border: 1px solid {PANEL_BORDER}; }}
"""
"""The application's style sheet: every dialog and message box dark, its text light.

Scoped to dialogs (and tooltips) so the windows keep their own style sheets;
a dialog's own sheet (``dialog_style.DIALOG_STYLE``) refines it.
"""


def dark_palette() -> QPalette:
    """The application palette: the dialogs' dark ground and high-contrast text.

    What a style sheet does not reach (a native part of a message box or a
    file dialog, a style's own drawing) is drawn from it.
    """
    palette = QPalette()
    roles = {
        QPalette.ColorRole.Window: PANEL, QPalette.ColorRole.WindowText: TEXT,
        QPalette.ColorRole.Base: FIELD_BG, QPalette.ColorRole.AlternateBase: PANEL,
        QPalette.ColorRole.Text: TEXT, QPalette.ColorRole.Button: BUTTON_BG,
        QPalette.ColorRole.ButtonText: TEXT, QPalette.ColorRole.BrightText: "#ffffff",
        QPalette.ColorRole.Highlight: HIGHLIGHT, QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.ToolTipBase: FIELD_BG, QPalette.ColorRole.ToolTipText: TEXT,
        QPalette.ColorRole.PlaceholderText: TEXT_DIM, QPalette.ColorRole.Link: "#58a6ff",
        QPalette.ColorRole.Light: "#484f58", QPalette.ColorRole.Midlight: PANEL_BORDER,
        QPalette.ColorRole.Mid: PANEL_BORDER, QPalette.ColorRole.Dark: BACKGROUND,
        QPalette.ColorRole.Shadow: BACKGROUND,
    }
    for role, hex_code in roles.items():
        palette.setColor(role, QColor(hex_code))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text,
                 QPalette.ColorRole.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(DISABLED_TEXT))
    return palette


def apply_theme(app: QApplication) -> None:
    """Give the whole application the dark theme (Fusion style, palette, dialog sheet).

    Fusion draws from the palette on every platform, so a message box is
    never the platform's light grey with the window's light text on it.
    """
    fusion = QStyleFactory.create("Fusion")
    if fusion is not None:
        app.setStyle(fusion)
    app.setPalette(dark_palette())
    app.setStyleSheet(DIALOG_STYLE_SHEET)


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
