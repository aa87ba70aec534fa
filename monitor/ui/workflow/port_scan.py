"""Listing the serial ports for the source chooser, on a worker thread.

``list_ports`` does I/O, so :class:`PortScan` (mixed into
:class:`~monitor.ui.workflow.source_dialog.SourceDialog`) runs it on a
worker thread and brings the result back to the GUI thread through
:class:`_PortScanRelay`'s queued signals, then fills the dialog's port list
and status line.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, Signal, SignalInstance
from PySide6.QtWidgets import QLabel, QLineEdit, QListWidget, QListWidgetItem, QPushButton

log = logging.getLogger("monitor.ui.workflow.source_dialog")   # the dialog's logger, as before

PortLister = Callable[[], list[dict]]

SEARCHING_TEXT = "Searching for ports\u2026"
NO_PORTS_TEXT = "No serial ports found \u2014 is the USB-serial adapter plugged in?"


def port_label(port: dict) -> str:
    """``"/dev/ttyUSB0 — FT232R USB UART [0403:6001]"`` for one :func:`list_ports` entry."""
    text = str(port.get("device", ""))
    description = str(port.get("description") or "")
    if description and description not in ("n/a", text):
        text += f" \u2014 {description}"
    if port.get("vid_pid"):
        text += f" [{port['vid_pid']}]"
    return text


class _PortScanRelay(QObject):
    """Carries one port scan's result from its worker thread to the GUI thread.

    It is not parented, so a worker that outlives its dialog never touches a
    deleted object; Qt queues the emissions to the dialog's thread.

    Signals
    -------
    ports_listed(object)
        The list of port dicts.
    scan_failed(str)
        Why the ports could not be listed.
    """

    ports_listed = Signal(object)
    scan_failed = Signal(str)


class PortScan:
    """The port scan of :class:`~monitor.ui.workflow.source_dialog.SourceDialog`.

    A mixin for that dialog: it uses the dialog's port list, status label,
    port field and Refresh button, the ``_list_ports``, ``_relay`` and
    ``_scan_thread`` it sets up, and emits its ``ports_listed`` and
    ``port_scan_failed`` signals.
    """

    ports_listed: SignalInstance
    port_scan_failed: SignalInstance
    port_list: QListWidget
    port_status_label: QLabel
    port_edit: QLineEdit
    refresh_button: QPushButton
    _list_ports: PortLister
    _relay: _PortScanRelay
    _scan_thread: threading.Thread | None

    def is_scanning(self) -> bool:
        """True while a port scan runs on its worker thread."""
        return self._scan_thread is not None

    def refresh_ports(self) -> None:
        """List the serial ports again, on a worker thread."""
        if self._scan_thread is not None:
            return
        self.port_list.clear()
        self.port_status_label.setText(SEARCHING_TEXT)
        self.refresh_button.setEnabled(False)
        relay, list_ports = self._relay, self._list_ports

        def scan() -> None:
            try:
                ports = list(list_ports())
            except Exception as exc:  # noqa: BLE001 - any failure is shown to the nurse
                log.warning("could not list serial ports: %s", exc)
                relay.scan_failed.emit(str(exc) or type(exc).__name__)
            else:
                relay.ports_listed.emit(ports)

        self._scan_thread = threading.Thread(target=scan, name="serial-port-scan")
        self._scan_thread.start()

    def _on_ports_listed(self, ports: list[dict]) -> None:
        self._scan_finished()
        typed = self.port_edit.text().strip()
        for port in ports:
            item = QListWidgetItem(port_label(port))
            item.setData(Qt.ItemDataRole.UserRole, str(port.get("device", "")))
            tips = [str(port[k]) for k in ("manufacturer", "serial_number") if port.get(k)]
            if tips:
                item.setToolTip(" \u00b7 ".join(tips))
            self.port_list.addItem(item)
            if typed and item.data(Qt.ItemDataRole.UserRole) == typed:
                item.setSelected(True)
        n = len(ports)
        self.port_status_label.setText(
            NO_PORTS_TEXT if n == 0 else f"{n} port{'s' if n != 1 else ''} found")
        self.ports_listed.emit(ports)

    def _on_scan_failed(self, message: str) -> None:
        self._scan_finished()
        text = f"Could not list the serial ports: {message}"
        self.port_status_label.setText(text)
        self.port_scan_failed.emit(text)

    def _scan_finished(self) -> None:
        # The worker has emitted its last signal; it ends on its own without a join.
        self._scan_thread = None
        self.refresh_button.setEnabled(True)
