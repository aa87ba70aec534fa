"""Protocol names -> codec and encoder classes (the names users type)."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from monitor.devices.codecs.base import Codec

# name: (codec "module:Class", encoder "module:Class")
PROTOCOLS: dict[str, tuple[str, str]] = {
    "masimo-ascii": ("monitor.devices.codecs.masimo:MasimoAsciiCodec",
                     "simulators.encoders.masimo:MasimoAsciiEncoder"),
    "datex-s5": ("monitor.devices.codecs.datex:DatexS5Codec",
                 "simulators.encoders.datex:DatexS5Encoder"),
    "nonin-2": ("monitor.devices.codecs.nonin:Nonin2Codec",
                "simulators.encoders.nonin:Nonin2Encoder"),
    "text": ("monitor.devices.codecs.text:TextLineCodec",
             "simulators.encoders.text:TextLineEncoder"),
}


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
    return _load(PROTOCOLS[check_protocol(name)][0])


def encoder_class(name: str) -> type:
    return _load(PROTOCOLS[check_protocol(name)][1])
