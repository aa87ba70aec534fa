"""The source chooser: ports listed off the GUI thread, protocol defaults, the choice."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from monitor.devices.registry import SerialOverrides, parse_source
from monitor.ui.workflow.source_dialog import (
    NO_PORTS_TEXT,
    SEARCHING_TEXT,
    SourceChoice,
    SourceDialog,
)

PORTS = [
    {"device": "/dev/ttyUSB0", "description": "FT232R USB UART", "vid_pid": "0403:6001",
     "manufacturer": "FTDI", "serial_number": "A10K1234"},
    {"device": "/dev/ttyUSB1", "description": "CP2102 USB to UART Bridge Controller",
     "vid_pid": "10C4:EA60", "manufacturer": "Silicon Labs", "serial_number": "0001"},
    {"device": "/dev/ttyS0", "description": "n/a", "vid_pid": "", "manufacturer": "",
     "serial_number": ""},
]
SCENARIOS = [("desaturation", "SpO2 falls to 86 %"), ("typical", "Typical 40-minute infusion")]

dialog_on_offscreen = pytest.mark.qt_log_ignore("does not support propagateSizeHints")


class FakePorts:
    """Test data for ``list_ports``: fixed dicts, and the thread each call ran on."""

    def __init__(self, ports: list[dict], gate: threading.Event | None = None) -> None:
        self.ports = ports
        self.gate = gate
        self.threads: list[threading.Thread] = []

    def __call__(self) -> list[dict]:
        self.threads.append(threading.current_thread())
        if self.gate is not None:
            self.gate.wait(10)
        return [dict(p) for p in self.ports]


@pytest.fixture
def make_dialog(qtbot):
    """Build dialogs on fake ports; each is listed (the worker finished) before use."""

    def factory(ports: list[dict] | None = None, *, wait: bool = True) -> SourceDialog:
        lister = ports if callable(ports) else FakePorts(PORTS if ports is None else ports)
        dialog = SourceDialog(lister, scenarios=SCENARIOS)
        qtbot.addWidget(dialog)
        if wait:
            qtbot.waitUntil(lambda: not dialog.is_scanning(), timeout=5000)
        return dialog

    return factory


def port_texts(dialog: SourceDialog) -> list[str]:
    return [dialog.port_list.item(i).text() for i in range(dialog.port_list.count())]


def select_port(dialog: SourceDialog, device: str) -> None:
    for i in range(dialog.port_list.count()):
        item = dialog.port_list.item(i)
        if item.data(Qt.ItemDataRole.UserRole) == device:
            dialog.port_list.setCurrentItem(item)
            return
    raise AssertionError(f"{device} not listed")


def test_ports_are_listed_with_description_and_vid_pid(make_dialog):
    dialog = make_dialog()
    assert port_texts(dialog) == [
        "/dev/ttyUSB0 \u2014 FT232R USB UART [0403:6001]",
        "/dev/ttyUSB1 \u2014 CP2102 USB to UART Bridge Controller [10C4:EA60]",
        "/dev/ttyS0",
    ]
    assert dialog.port_status_label.text() == "3 ports found"
    assert "FTDI" in dialog.port_list.item(0).toolTip()


def test_no_ports_says_to_check_the_adapter(make_dialog):
    dialog = make_dialog([])
    assert dialog.port_list.count() == 0
    assert dialog.port_status_label.text() == NO_PORTS_TEXT


def test_ports_are_listed_off_the_gui_thread_and_shown_on_it(qtbot, make_dialog):
    gate = threading.Event()
    lister = FakePorts(PORTS, gate)
    try:
        dialog = make_dialog(lister, wait=False)
        assert dialog.port_status_label.text() == SEARCHING_TEXT
        assert not dialog.refresh_button.isEnabled()
        shown_on: list[threading.Thread] = []
        dialog.ports_listed.connect(lambda ports: shown_on.append(threading.current_thread()))
        with qtbot.waitSignal(dialog.ports_listed, timeout=5000):
            gate.set()
    finally:
        gate.set()
    assert len(lister.threads) == 1
    assert lister.threads[0] is not threading.current_thread()
    assert lister.threads[0] is not threading.main_thread()
    assert shown_on == [threading.main_thread()]
    assert dialog.port_list.count() == 3 and dialog.refresh_button.isEnabled()


def test_refresh_lists_the_ports_again(qtbot, make_dialog):
    lister = FakePorts([])
    dialog = make_dialog(lister)
    assert dialog.port_status_label.text() == NO_PORTS_TEXT
    lister.ports = PORTS[:1]
    with qtbot.waitSignal(dialog.ports_listed, timeout=5000):
        dialog.refresh_button.click()
    assert port_texts(dialog) == ["/dev/ttyUSB0 \u2014 FT232R USB UART [0403:6001]"]
    assert dialog.port_status_label.text() == "1 port found"
    assert len(lister.threads) == 2


def test_a_failing_scan_is_reported(qtbot):
    def broken() -> list[dict]:
        raise OSError("permission denied")

    dialog = SourceDialog(broken, scenarios=SCENARIOS)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: not dialog.is_scanning(), timeout=5000)
    assert "permission denied" in dialog.port_status_label.text()
    assert dialog.refresh_button.isEnabled()


def test_protocols_are_labelled_with_their_descriptions(make_dialog):
    dialog = make_dialog()
    combo = dialog.protocol_combo
    assert [combo.itemData(i) for i in range(combo.count())] == [
        "masimo-ascii", "datex-s5", "nonin-2", "text", "intellivue-mib"]
    datex = combo.itemText(combo.findData("datex-s5"))
    assert "GE Datex-Ohmeda S/5" in datex and "datex-s5" in datex


def test_protocol_change_resets_the_settings_to_its_defaults(make_dialog):
    dialog = make_dialog()
    dialog.protocol_combo.setCurrentIndex(dialog.protocol_combo.findData("masimo-ascii"))
    assert dialog.defaults_label.text().endswith("9600 8N1")
    dialog.baud_combo.setCurrentIndex(dialog.baud_combo.findData(115200))
    dialog.flow_combo.setCurrentIndex(dialog.flow_combo.findData("xonxoff"))
    assert dialog.serial_overrides() is not None

    dialog.protocol_combo.setCurrentIndex(dialog.protocol_combo.findData("datex-s5"))
    assert dialog.defaults_label.text().endswith("19200 8E1 RTS/CTS")
    assert dialog.baud_combo.currentData() == 19200
    assert dialog.parity_combo.currentData() == "E"
    assert dialog.flow_combo.currentData() == "rtscts"
    assert dialog.settings_label.text() == "In use: 19200 8E1 RTS/CTS"
    assert dialog.serial_overrides() is None


def test_ok_is_disabled_until_a_port_is_chosen(make_dialog):
    dialog = make_dialog()
    assert dialog.is_serial()
    assert not dialog.ok_button.isEnabled()
    assert dialog.choice() is None
    select_port(dialog, "/dev/ttyUSB1")
    assert dialog.port_edit.text() == "/dev/ttyUSB1"
    assert dialog.ok_button.isEnabled()
    dialog.ok_button.click()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.choice() == SourceChoice("serial:/dev/ttyUSB1", "masimo-ascii", None)


def test_a_port_typed_by_hand(qtbot, make_dialog):
    dialog = make_dialog()
    select_port(dialog, "/dev/ttyUSB0")
    dialog.port_edit.clear()
    assert not dialog.ok_button.isEnabled()
    assert dialog.port_list.selectedItems() == []
    qtbot.keyClicks(dialog.port_edit, "/dev/pts/7")
    assert dialog.ok_button.isEnabled()
    choice = dialog.choice()
    assert choice is not None and choice.source == "serial:/dev/pts/7"
    assert str(parse_source(choice.source)) == "serial:/dev/pts/7"


def test_overrides_hold_only_what_was_changed(make_dialog):
    dialog = make_dialog()
    dialog.protocol_combo.setCurrentIndex(dialog.protocol_combo.findData("datex-s5"))
    select_port(dialog, "/dev/ttyUSB0")
    assert dialog.choice() == SourceChoice("serial:/dev/ttyUSB0", "datex-s5", None)

    dialog.baud_combo.setCurrentIndex(dialog.baud_combo.findData(9600))
    assert dialog.choice().overrides == SerialOverrides(baudrate=9600)
    assert dialog.settings_label.text() == "In use: 9600 8E1 RTS/CTS (changed)"
    dialog.flow_combo.setCurrentIndex(dialog.flow_combo.findData("none"))
    assert dialog.choice().overrides == SerialOverrides(baudrate=9600, flow="none")
    dialog.baud_combo.setCurrentIndex(dialog.baud_combo.findData(19200))
    dialog.flow_combo.setCurrentIndex(dialog.flow_combo.findData("rtscts"))
    assert dialog.choice().overrides is None

    dialog.parity_combo.setCurrentIndex(dialog.parity_combo.findData("O"))
    assert dialog.choice().overrides == SerialOverrides(parity="O")
    dialog.reset_button.click()
    assert dialog.choice().overrides is None


def test_simulator_returns_the_scenario_and_protocol(make_dialog):
    dialog = make_dialog()
    dialog.sim_radio.click()
    assert not dialog.is_serial() and dialog.pages.currentIndex() == 1
    assert dialog.ok_button.isEnabled()  # no port needed
    assert dialog.scenario_combo.currentText() == "typical \u2014 Typical 40-minute infusion"
    assert dialog.sim_protocol_combo.currentText() == "built-in (no device protocol)"
    assert dialog.choice() == SourceChoice("sim:typical", None, None)

    dialog.scenario_combo.setCurrentIndex(dialog.scenario_combo.findData("desaturation"))
    dialog.sim_protocol_combo.setCurrentIndex(dialog.sim_protocol_combo.findData("nonin-2"))
    assert dialog.choice() == SourceChoice("sim:desaturation", "nonin-2", None)

    dialog.serial_radio.click()
    assert not dialog.ok_button.isEnabled()


def test_bundled_scenarios_by_default(qtbot):
    dialog = SourceDialog(FakePorts([]))
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: not dialog.is_scanning(), timeout=5000)
    names = [dialog.scenario_combo.itemData(i) for i in range(dialog.scenario_combo.count())]
    assert "typical" in names and dialog.scenario_combo.currentData() == "typical"


@dialog_on_offscreen
def test_shown_and_accepted_by_double_click(qtbot, make_dialog):
    dialog = make_dialog()
    dialog.show()
    qtbot.waitExposed(dialog)
    with qtbot.waitSignal(dialog.accepted, timeout=5000):
        item = dialog.port_list.item(0)
        rect = dialog.port_list.visualItemRect(item)
        # A real double-click starts with a press and release.
        qtbot.mouseClick(dialog.port_list.viewport(), Qt.MouseButton.LeftButton,
                         pos=rect.center())
        qtbot.mouseDClick(dialog.port_list.viewport(), Qt.MouseButton.LeftButton,
                          pos=rect.center())
    assert dialog.choice() == SourceChoice("serial:/dev/ttyUSB0", "masimo-ascii", None)


def test_each_protocol_is_offered_on_its_own_transport(make_dialog):
    dialog = make_dialog()
    serial = [dialog.protocol_combo.itemData(i) for i in range(dialog.protocol_combo.count())]
    lan = [dialog.lan_protocol_combo.itemData(i)
           for i in range(dialog.lan_protocol_combo.count())]
    assert "intellivue-mib" in serial and "intellivue-lan" not in serial
    assert lan == ["intellivue-lan", "hl7-pcd01"]   # the LAN page: UDP and TCP
    sim = [dialog.sim_protocol_combo.itemData(i)
           for i in range(dialog.sim_protocol_combo.count())]
    assert {"intellivue-mib", "intellivue-lan"} <= set(sim)   # both play in-process


def test_a_network_monitor_by_address_or_found_on_the_lan(make_dialog):
    dialog = make_dialog()
    dialog.lan_radio.click()
    assert dialog.is_lan() and not dialog.is_serial() and dialog.pages.currentIndex() == 2
    assert not dialog.ok_button.isEnabled()          # no address yet
    dialog.host_edit.setText(" 192.168.1.20 ")
    assert dialog.ok_button.isEnabled()
    assert dialog.choice() == SourceChoice("lan:192.168.1.20", "intellivue-lan", None)
    assert parse_source(dialog.choice().source).scheme == "lan"

    dialog.discover_check.click()
    assert not dialog.host_edit.isEnabled()
    assert dialog.choice() == SourceChoice("lan:discover", "intellivue-lan", None)
    dialog.discover_check.click()
    dialog.host_edit.clear()
    assert not dialog.ok_button.isEnabled()

    dialog.sim_radio.click()
    assert dialog.pages.currentIndex() == 1 and dialog.choice().source == "sim:typical"


def test_an_hl7_feed_needs_where_to_listen_this_chairs_bed_and_the_gateway(make_dialog):
    dialog = make_dialog()
    dialog.lan_radio.click()
    lan = [dialog.lan_protocol_combo.itemData(i)
           for i in range(dialog.lan_protocol_combo.count())]
    assert lan == ["intellivue-lan", "hl7-pcd01"]
    dialog.lan_protocol_combo.setCurrentIndex(lan.index("hl7-pcd01"))
    assert dialog.is_hl7() and dialog.lan_kinds.currentIndex() == 1
    assert not dialog.ok_button.isEnabled()
    dialog.listen_edit.setText("192.168.10.5:2575")
    dialog.bed_edit.setText("KETAMINE^CHAIR^1")
    assert not dialog.ok_button.isEnabled()          # nobody may connect yet
    dialog.gateway_edit.setText(" 192.168.10.9 ")
    assert dialog.ok_button.isEnabled()
    assert dialog.choice() == SourceChoice("hl7:192.168.10.5:2575", "hl7-pcd01", None,
                                           bed="KETAMINE^CHAIR^1", allow="192.168.10.9")
    assert parse_source(dialog.choice().source).scheme == "hl7"
    dialog.lan_protocol_combo.setCurrentIndex(lan.index("intellivue-lan"))
    assert dialog.lan_kinds.currentIndex() == 0 and not dialog.ok_button.isEnabled()
