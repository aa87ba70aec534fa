"""The look of the clinician's windows: the live view's dark palette, at a desk's density."""

from __future__ import annotations

import time

from monitor.ui.shared import theme

RESP_RATE_TRACE = theme.RESP_VIOLET
"""RR's curve where it shares a plot with EtCO2's amber: violet, as on the live tile."""
READOUT_PX = 15
"""Pixel size of the review cursor readout (the values at the cursor), read at a desk."""

REVIEW_STYLE = f"""
QMainWindow, QDialog, QWidget#review_root {{ background: {theme.PANEL}; }}
QLabel, QCheckBox {{ color: {theme.TEXT}; }}
QLabel#review_header {{ color: {theme.TEXT}; font-weight: bold; }}
QLabel#review_hint {{ color: {theme.TEXT_DIM}; }}
QLabel#cursor_readout {{ color: {theme.TEXT}; }}
QLabel#section_title {{ color: {theme.TEXT_DIM}; font-weight: bold; }}
QLabel#summary_error, QLabel#export_error {{ color: {theme.REASON}; }}
QLabel#export_done {{ color: {theme.HR_GREEN}; }}
QTableView, QTableWidget {{
    background: {theme.BACKGROUND}; color: {theme.TEXT};
    gridline-color: {theme.PANEL_BORDER}; border: 1px solid {theme.PANEL_BORDER};
    selection-background-color: #1f6feb; selection-color: #ffffff;
}}
QHeaderView, QHeaderView::section, QTableCornerButton::section {{
    background: #161b22; color: {theme.TEXT_DIM}; border: 0;
}}
QHeaderView::section {{ padding: 3px 2px; }}
QLineEdit, QDateEdit, QSpinBox, QComboBox {{
    background: #161b22; color: {theme.TEXT}; border: 1px solid {theme.PANEL_BORDER};
    padding: 3px 5px;
}}
QPushButton {{
    background: #21262d; color: {theme.TEXT}; border: 1px solid {theme.PANEL_BORDER};
    border-radius: 4px; padding: 4px 12px;
}}
QPushButton:disabled {{ color: #484f58; }}
QProgressBar {{ border: 1px solid {theme.PANEL_BORDER}; color: {theme.TEXT}; text-align: center; }}
QProgressBar::chunk {{ background: #1f6feb; }}
QSplitter::handle {{ background: {theme.PANEL_BORDER}; }}
QScrollBar {{ background: {theme.PANEL}; border: 0; }}
QScrollBar:horizontal {{ height: 12px; }}
QScrollBar:vertical {{ width: 12px; }}
QScrollBar::handle {{ background: #30363d; border-radius: 4px; min-width: 24px; min-height: 24px; }}
QScrollBar::add-line, QScrollBar::sub-line {{ width: 0; height: 0; }}
QScrollBar::add-page, QScrollBar::sub-page {{ background: none; }}
"""


def date_text(t: float) -> str:
    """``"22 Nov 2026 14:02"`` in local time."""
    return time.strftime("%d %b %Y %H:%M", time.localtime(t))


def clock(t: float) -> str:
    """``"14:02"`` in local time."""
    return time.strftime("%H:%M", time.localtime(t))
