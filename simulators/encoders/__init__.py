"""Protocol encoders: what a real device would put on the wire for a scenario.

:func:`encoder_class` maps a protocol name (``--protocol``) to its encoder;
the codec of the same name is :func:`monitor.devices.protocols.codec_class`.
"""

from __future__ import annotations

import importlib

from monitor.devices.protocols import check_protocol

ENCODERS: dict[str, str] = {
    "masimo-ascii": "simulators.encoders.masimo:MasimoAsciiEncoder",
    "datex-s5": "simulators.encoders.datex:DatexS5Encoder",
    "nonin-2": "simulators.encoders.nonin:Nonin2Encoder",
    "text": "simulators.encoders.text:TextLineEncoder",
    "intellivue-mib": "simulators.encoders.intellivue:IntelliVueMibEncoder",
    "intellivue-lan": "simulators.encoders.intellivue:IntelliVueLanEncoder",
    "hl7-pcd01": "simulators.encoders.hl7:Hl7Pcd01Encoder",
}
"""Protocol name -> ``module:Class`` of its encoder (every protocol has one)."""


def encoder_class(name: str) -> type:
    """The encoder of protocol ``name`` (a :class:`ProtocolError` names the valid ones)."""
    module, _, cls = ENCODERS[check_protocol(name)].partition(":")
    return getattr(importlib.import_module(module), cls)
