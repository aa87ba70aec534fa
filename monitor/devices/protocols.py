"""Protocol names -> codec classes (the names users type)."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from monitor.devices.codecs.base import Codec

PROTOCOLS: dict[str, str] = {
    "masimo-ascii": "monitor.devices.codecs.masimo:MasimoAsciiCodec",
    "datex-s5": "monitor.devices.codecs.datex:DatexS5Codec",
    "nonin-2": "monitor.devices.codecs.nonin:Nonin2Codec",
    "text": "monitor.devices.codecs.text:TextLineCodec",
    "intellivue-mib": "monitor.devices.codecs.intellivue:IntelliVueMibCodec",
    "intellivue-lan": "monitor.devices.codecs.intellivue:IntelliVueLanCodec",
    "hl7-pcd01": "monitor.devices.codecs.hl7_pcd01:Hl7Pcd01Codec",
}
"""Protocol name -> ``module:Class`` of its codec. The simulator's encoders are
looked up in :mod:`simulators.encoders` (the device layer never names them)."""


class ProtocolError(ValueError):
    """An unknown protocol name; the message lists the valid ones."""


def _load(ref: str) -> type:
    module, _, cls = ref.partition(":")
    return getattr(importlib.import_module(module), cls)


def check_protocol(name: str) -> str:
    if name not in PROTOCOLS:
        raise ProtocolError(f"unknown protocol {name!r}; valid protocols: "
                            f"{', '.join(PROTOCOLS)}")
    return name


def codec_class(name: str) -> type[Codec]:
    return _load(PROTOCOLS[check_protocol(name)])


class _Named(Protocol):
    name: str
    protocol: str | None
    label: str


def device_name(protocol: str | None, label: str = "") -> str:
    """The default name of a source: its protocol's device name, "Simulator", "Replay"."""
    if protocol is not None and protocol in PROTOCOLS:
        return codec_class(protocol).device_name
    if label.startswith("replay:"):
        return "Replay"
    return "Simulator" if label.startswith("sim:") else "Device"


def default_names(drivers: Sequence[_Named]) -> list[str]:
    """Each driver's name: its own when set, else its device name; repeats get " 2", " 3"."""
    names: list[str] = []
    for d in drivers:
        base = d.name or device_name(d.protocol, d.label)
        name, n = base, 1
        while name in names:
            n += 1
            name = f"{base} {n}"
        names.append(name)
    return names
