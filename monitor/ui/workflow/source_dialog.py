"""The source chooser: a bedside monitor on a serial port or on the LAN, or the simulator.

The dialog's form (mode, port, protocol and serial settings, scenario) and
the choice it makes; listing the serial ports off the GUI thread is
:mod:`monitor.ui.workflow.port_scan`.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QRadioButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from monitor.devices import serial_driver
from monitor.devices.codecs.base import SerialSettings
from monitor.devices.protocols import PROTOCOLS, codec_class
from monitor.devices.registry import SerialOverrides
from monitor.ui.shared import theme
from monitor.ui.workflow.port_scan import NO_PORTS_TEXT as NO_PORTS_TEXT
from monitor.ui.workflow.port_scan import SEARCHING_TEXT as SEARCHING_TEXT
from monitor.ui.workflow.port_scan import PortLister as PortLister
from monitor.ui.workflow.port_scan import PortScan, _PortScanRelay
from monitor.ui.workflow.port_scan import port_label as port_label

SERIAL_TEXT = "Bedside monitor (serial)"
LAN_TEXT = "Network monitor (LAN)"
DISCOVER_TARGET = "discover"
"""``lan:discover``: the first monitor that announces itself on the LAN."""
SIMULATOR_TEXT = "Simulator (demo / training)"
BUILT_IN_TEXT = "built-in (no device protocol)"
BAUD_RATES = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200)
PARITIES = (("None (N)", "N"), ("Even (E)", "E"), ("Odd (O)", "O"))
FLOWS = (("None", "none"), ("RTS/CTS", "rtscts"), ("XON/XOFF", "xonxoff"))

_STYLE_SHEET = f"""
QDialog {{ background: {theme.PANEL}; }}
QLabel, QRadioButton, QGroupBox {{ color: {theme.TEXT}; }}
QLabel#source_status {{ color: {theme.STATUS_TEXT}; }}
QLabel#source_hint {{ color: {theme.TEXT_DIM}; }}
QListWidget, QLineEdit, QComboBox {{
    background: {theme.BACKGROUND};
    color: {theme.TEXT};
    border: 1px solid {theme.PANEL_BORDER};
}}
"""


@dataclass(frozen=True)
class SourceChoice:
    """What the nurse chose in :class:`SourceDialog`.

    Attributes
    ----------
    source : str
        A ``--source`` value: ``"serial:/dev/ttyUSB0"``, ``"lan:192.168.1.20"``,
        ``"lan:discover"``, ``"hl7:192.168.10.5:2575"`` or ``"sim:typical"``.
    protocol : str or None
        A name from :data:`monitor.devices.protocols.PROTOCOLS`; ``None`` for
        the simulator's built-in feed.
    overrides : SerialOverrides or None
        Only the serial settings changed from the protocol's defaults;
        ``None`` when nothing was changed (and always for the simulator).
    bed : str or None
        An HL7 listener's routing key (``--bed``): this chair's bed or device.
    allow : str or None
        An HL7 listener's allowed sender, the gateway (``--hl7-allow``).
    """

    source: str
    protocol: str | None = None
    overrides: SerialOverrides | None = None
    bed: str | None = None
    allow: str | None = None


def protocols_on(transport: str) -> list[str]:
    """The protocol names whose devices talk over ``transport`` ("serial", "udp")."""
    return [name for name in PROTOCOLS if codec_class(name).transport == transport]


def _protocol_combo(names: Sequence[str], first: tuple[str, object] | None = None
                    ) -> QComboBox:
    """A protocol chooser: each protocol by its description and name (``first`` on top)."""
    combo = QComboBox()
    if first is not None:
        combo.addItem(*first)
    for name in names:
        combo.addItem(f"{codec_class(name).description} ({name})", name)
    return combo


def _form_page(rows: Sequence[tuple[str, QWidget]], hint_text: str) -> QWidget:
    """A page of the chooser: a form of labelled rows, then a wrapped hint."""
    hint = QLabel(hint_text)
    hint.setObjectName("source_hint")
    hint.setWordWrap(True)
    page = QWidget()
    layout = QVBoxLayout(page)
    layout.setContentsMargins(0, 0, 0, 0)
    form = QFormLayout()
    for label, widget in rows:
        form.addRow(label, widget)
    layout.addLayout(form)
    layout.addWidget(hint)
    layout.addStretch(1)
    return page


def _flow_of(settings: SerialSettings) -> str:
    return "rtscts" if settings.rtscts else "xonxoff" if settings.xonxoff else "none"


class SourceDialog(QDialog, PortScan):
    """Choose where the data come from before monitoring starts.

    The serial ports are listed by ``list_ports`` on a worker thread (it does
    I/O); the result comes back to the GUI thread through a queued signal
    (:class:`~monitor.ui.workflow.port_scan.PortScan`).

    Parameters
    ----------
    list_ports : callable
        Returns port dicts (``device``, ``description``, ``vid_pid``, ...);
        :func:`monitor.devices.serial_driver.list_ports` by default. Never
        called on the GUI thread.
    scenarios : sequence of (name, description) or None
        The simulator scenarios; :func:`simulators.scenario.list_scenarios`
        (the bundled files) by default.
    parent : QWidget or None

    Signals
    -------
    ports_listed(object)
        On the GUI thread after a scan's ports are shown, with their dicts.
    port_scan_failed(str)
        On the GUI thread when ``list_ports`` raised, with the message shown.
    """

    ports_listed = Signal(object)
    port_scan_failed = Signal(str)

    def __init__(self, list_ports: PortLister = serial_driver.list_ports, *,
                 scenarios: Sequence[tuple[str, str]] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Choose the data source")
        self.setStyleSheet(_STYLE_SHEET)
        self._list_ports = list_ports
        self._scan_thread: threading.Thread | None = None
        self._relay = _PortScanRelay()
        self._relay.ports_listed.connect(self._on_ports_listed,
                                         Qt.ConnectionType.QueuedConnection)
        self._relay.scan_failed.connect(self._on_scan_failed,
                                        Qt.ConnectionType.QueuedConnection)
        if scenarios is None:
            from simulators.scenario import list_scenarios

            scenarios = list_scenarios()

        self.serial_radio = QRadioButton(SERIAL_TEXT)
        self.lan_radio = QRadioButton(LAN_TEXT)
        self.sim_radio = QRadioButton(SIMULATOR_TEXT)
        self._mode_group = QButtonGroup(self)
        modes = QHBoxLayout()
        for radio in (self.serial_radio, self.lan_radio, self.sim_radio):
            self._mode_group.addButton(radio)
            modes.addWidget(radio)
        self.serial_radio.setChecked(True)
        modes.addStretch(1)

        self.pages = QStackedWidget()
        self.pages.addWidget(self._build_serial_page())
        self.pages.addWidget(self._build_sim_page(scenarios))
        self.pages.addWidget(self._build_lan_page())

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("Start monitoring")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addLayout(modes)
        layout.addWidget(self.pages, 1)
        layout.addWidget(self.buttons)

        for radio in (self.serial_radio, self.lan_radio, self.sim_radio):
            radio.toggled.connect(self._on_mode_toggled)
        self._on_protocol_changed()
        self._update_ok()
        self.refresh_ports()

    # -- building ------------------------------------------------------------

    def _build_serial_page(self) -> QWidget:
        self.port_list = QListWidget()
        self.port_status_label = QLabel()
        self.port_status_label.setObjectName("source_status")
        self.port_status_label.setWordWrap(True)
        self.port_edit = QLineEdit()
        self.port_edit.setPlaceholderText("pick a port above, or type one (/dev/pts/5)")
        self.refresh_button = QPushButton("Refresh")

        self.protocol_combo = _protocol_combo(protocols_on("serial"))
        self.defaults_label = QLabel()
        self.defaults_label.setObjectName("source_hint")

        self.baud_combo = QComboBox()
        for rate in BAUD_RATES:
            self.baud_combo.addItem(str(rate), rate)
        self.parity_combo = QComboBox()
        for text, value in PARITIES:
            self.parity_combo.addItem(text, value)
        self.flow_combo = QComboBox()
        for text, value in FLOWS:
            self.flow_combo.addItem(text, value)
        self.reset_button = QPushButton("Protocol defaults")
        self.settings_label = QLabel()

        port_row = QHBoxLayout()
        port_row.addWidget(QLabel("Port:"))
        port_row.addWidget(self.port_edit, 1)
        port_row.addWidget(self.refresh_button)

        settings_box = QGroupBox("Serial settings (change only if the monitor is set "
                                 "differently)")
        form = QFormLayout(settings_box)
        form.addRow("Baud rate:", self.baud_combo)
        form.addRow("Parity:", self.parity_combo)
        form.addRow("Flow control:", self.flow_combo)
        form.addRow(self.settings_label, self.reset_button)

        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("Serial ports:"))
        layout.addWidget(self.port_list, 1)
        layout.addWidget(self.port_status_label)
        layout.addLayout(port_row)
        protocol_form = QFormLayout()
        protocol_form.addRow("Protocol:", self.protocol_combo)
        protocol_form.addRow("", self.defaults_label)
        layout.addLayout(protocol_form)
        layout.addWidget(settings_box)

        self.port_list.itemSelectionChanged.connect(self._on_port_selected)
        self.port_list.itemDoubleClicked.connect(self._on_port_double_clicked)
        self.port_edit.textChanged.connect(self._on_port_text_changed)
        self.refresh_button.clicked.connect(self.refresh_ports)
        self.protocol_combo.currentIndexChanged.connect(self._on_protocol_changed)
        self.reset_button.clicked.connect(self._on_protocol_changed)
        for combo in (self.baud_combo, self.parity_combo, self.flow_combo):
            combo.currentIndexChanged.connect(self._update_settings_label)
        return page

    def _build_sim_page(self, scenarios: Sequence[tuple[str, str]]) -> QWidget:
        self.scenario_combo = QComboBox()
        for name, description in scenarios:
            self.scenario_combo.addItem(f"{name} \u2014 {description}", name)
        index = self.scenario_combo.findData("typical")
        if index >= 0:
            self.scenario_combo.setCurrentIndex(index)
        self.sim_protocol_combo = _protocol_combo(list(PROTOCOLS), (BUILT_IN_TEXT, None))
        return _form_page([("Scenario:", self.scenario_combo),
                           ("Protocol:", self.sim_protocol_combo)],
                          "Simulated data is for demonstration and training only: it is "
                          "never a patient. A protocol plays the scenario through that "
                          "device's encoder and decoder.")

    def _build_lan_page(self) -> QWidget:
        self.lan_protocol_combo = _protocol_combo([*protocols_on("udp"), *protocols_on("tcp")])
        self.lan_kinds = QStackedWidget()
        self.lan_kinds.addWidget(self._build_udp_fields())
        self.lan_kinds.addWidget(self._build_hl7_fields())
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        form = QFormLayout()
        form.addRow("Protocol:", self.lan_protocol_combo)
        layout.addLayout(form)
        layout.addWidget(self.lan_kinds, 1)
        self.lan_protocol_combo.currentIndexChanged.connect(self._on_lan_protocol_changed)
        self._on_lan_protocol_changed()
        return page

    def _build_udp_fields(self) -> QWidget:
        self.host_edit = QLineEdit()
        self.host_edit.setPlaceholderText("the monitor's IP address or name, e.g. 192.168.1.20")
        self.discover_check = QCheckBox("Find the monitor on the network (it announces "
                                        "itself when its LAN data export is on)")
        page = _form_page([("Monitor address:", self.host_edit), ("", self.discover_check)],
                          "The monitor's LAN data export must be on (IntelliVue, in "
                          "configuration mode: Main Setup \u2192 Global Settings \u2192 "
                          "LAN Data Export; Central Monitoring set to Optional). The chair "
                          "PC and the monitor must be on the same network.")
        self.host_edit.textChanged.connect(self._update_ok)
        self.discover_check.toggled.connect(self._on_discover_toggled)
        return page

    def _build_hl7_fields(self) -> QWidget:
        self.listen_edit = QLineEdit()
        self.listen_edit.setPlaceholderText("this PC's address on the clinic network and a "
                                            "port, e.g. 192.168.10.5:2575")
        self.bed_edit = QLineEdit()
        self.bed_edit.setPlaceholderText("as the gateway names this chair, e.g. "
                                         "KETAMINE^CHAIR^1 (PV1-3), or the monitor's id")
        self.gateway_edit = QLineEdit()
        self.gateway_edit.setPlaceholderText("the monitor's or gateway's IP address, "
                                             "e.g. 192.168.10.9")
        page = _form_page([("Listen on:", self.listen_edit), ("This chair's bed:", self.bed_edit),
                           ("Gateway address:", self.gateway_edit)],
                          "Point the monitor's or gateway's HL7 output (ORU^R01, IHE "
                          "PCD-01) at the address and port above. Only messages for this "
                          "chair's bed are taken (matched in PV1-3, OBX-18 or MSH-3); "
                          "others are acknowledged and ignored. Only the gateway's "
                          "address may connect.")
        for edit in (self.listen_edit, self.bed_edit, self.gateway_edit):
            edit.textChanged.connect(self._update_ok)
        return page

    def is_hl7(self) -> bool:
        """True when the LAN page's protocol listens for HL7 messages (a TCP protocol)."""
        protocol = self.lan_protocol_combo.currentData()
        return protocol is not None and codec_class(protocol).transport == "tcp"

    # -- public --------------------------------------------------------------

    def is_serial(self) -> bool:
        """True when the bedside monitor (serial) is chosen."""
        return self.serial_radio.isChecked()

    def is_lan(self) -> bool:
        """True when a network monitor (LAN) is chosen."""
        return self.lan_radio.isChecked()

    def set_simulator(self, simulator: bool) -> None:
        """Switch between the simulator and the serial page."""
        (self.sim_radio if simulator else self.serial_radio).setChecked(True)

    def serial_defaults(self) -> SerialSettings:
        """The chosen protocol's default serial settings."""
        return codec_class(self.protocol_combo.currentData()).serial_defaults

    def serial_overrides(self) -> SerialOverrides | None:
        """Only the settings changed from the protocol's defaults; None if none were."""
        defaults = self.serial_defaults()
        baud = self.baud_combo.currentData()
        parity = self.parity_combo.currentData()
        flow = self.flow_combo.currentData()
        overrides = SerialOverrides(
            baudrate=baud if baud != defaults.baudrate else None,
            parity=parity if parity != defaults.parity else None,
            flow=flow if flow != _flow_of(defaults) else None)
        return None if overrides == SerialOverrides() else overrides

    def choice(self) -> SourceChoice | None:
        """What the form says now; None while it is incomplete (no port, no scenario)."""
        if self.is_serial():
            port = self.port_edit.text().strip()
            if not port:
                return None
            return SourceChoice(f"serial:{port}", self.protocol_combo.currentData(),
                                self.serial_overrides())
        if self.is_lan() and self.is_hl7():
            fields = (self.listen_edit, self.bed_edit, self.gateway_edit)
            listen, bed, gateway = (e.text().strip() for e in fields)
            if not (listen and bed and gateway):
                return None
            return SourceChoice(f"hl7:{listen}", self.lan_protocol_combo.currentData(), None,
                                bed=bed, allow=gateway)
        if self.is_lan():
            protocol = self.lan_protocol_combo.currentData()
            host = (DISCOVER_TARGET if self.discover_check.isChecked()
                    else self.host_edit.text().strip())
            if not host or not protocol:
                return None
            return SourceChoice(f"lan:{host}", protocol, None)
        scenario = self.scenario_combo.currentData()
        if not scenario:
            return None
        return SourceChoice(f"sim:{scenario}", self.sim_protocol_combo.currentData(), None)

    # -- handlers ------------------------------------------------------------

    def _on_port_selected(self) -> None:
        items = self.port_list.selectedItems()
        if items:
            self.port_edit.setText(items[0].data(Qt.ItemDataRole.UserRole))

    def _on_port_double_clicked(self, item: QListWidgetItem) -> None:
        self.port_edit.setText(item.data(Qt.ItemDataRole.UserRole))
        if self.ok_button.isEnabled():
            self.accept()

    def _on_port_text_changed(self, text: str) -> None:
        for item in self.port_list.selectedItems():
            if item.data(Qt.ItemDataRole.UserRole) != text.strip():
                item.setSelected(False)
        self._update_ok()

    def _on_mode_toggled(self) -> None:
        self.pages.setCurrentIndex(0 if self.is_serial() else 2 if self.is_lan() else 1)
        self._update_ok()

    def _on_lan_protocol_changed(self) -> None:
        self.lan_kinds.setCurrentIndex(1 if self.is_hl7() else 0)
        if hasattr(self, "ok_button"):
            self._update_ok()

    def _on_discover_toggled(self, discover: bool) -> None:
        self.host_edit.setEnabled(not discover)
        self._update_ok()

    def _on_protocol_changed(self) -> None:
        defaults = self.serial_defaults()
        self.defaults_label.setText(f"Protocol default: {defaults.describe()}")
        if self.baud_combo.findData(defaults.baudrate) < 0:
            self.baud_combo.addItem(str(defaults.baudrate), defaults.baudrate)
        self.baud_combo.setCurrentIndex(self.baud_combo.findData(defaults.baudrate))
        self.parity_combo.setCurrentIndex(self.parity_combo.findData(defaults.parity))
        self.flow_combo.setCurrentIndex(self.flow_combo.findData(_flow_of(defaults)))
        self._update_settings_label()

    # -- updaters ------------------------------------------------------------

    def _update_settings_label(self) -> None:
        defaults = self.serial_defaults()
        flow = self.flow_combo.currentData()
        in_use = SerialSettings(self.baud_combo.currentData(), defaults.bytesize,
                                self.parity_combo.currentData(), defaults.stopbits,
                                rtscts=flow == "rtscts", xonxoff=flow == "xonxoff")
        changed = " (changed)" if self.serial_overrides() is not None else ""
        self.settings_label.setText(f"In use: {in_use.describe()}{changed}")

    def _update_ok(self) -> None:
        self.ok_button.setEnabled(self.choice() is not None)


def choose_source(parent: QWidget | None = None,
                  list_ports: PortLister = serial_driver.list_ports) -> SourceChoice | None:
    """Show :class:`SourceDialog` modally; the choice, or None if cancelled."""
    dialog = SourceDialog(list_ports, parent=parent)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    return dialog.choice()
