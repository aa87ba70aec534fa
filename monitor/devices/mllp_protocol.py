"""MLLP framing and HL7 acknowledgements: the bytes around a message and what the host answers.

MLLP frames a message as ``0x0B <message> 0x1C 0x0D`` on a TCP connection
(:data:`START_BLOCK`, :data:`END_BLOCK`). :func:`parse_ack` reads an
answer (MSA-1, MSA-2 and the host's text). Used by :mod:`monitor.export.mllp`,
which delivers the exported messages, by the HL7 PCD-01 codec that receives a
gateway's and by the simulated gateway; nothing here touches the network.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

START_BLOCK = b"\x0b"
END_BLOCK = b"\x1c\x0d"
MAX_ACK_BYTES = 1 << 20


class AckCode(enum.StrEnum):
    """MSA-1: original (A*) and enhanced-mode commit (C*) acknowledgement codes."""

    AA, AE, AR = "AA", "AE", "AR"
    CA, CE, CR = "CA", "CE", "CR"

    @property
    def accepted(self) -> bool:
        return self in (AckCode.AA, AckCode.CA)

    @property
    def rejected(self) -> bool:
        """The host refuses the message for good: sending it again will not help."""
        return self in (AckCode.AR, AckCode.CR)


@dataclass(frozen=True)
class Ack:
    """An acknowledgement: its code, the control id it acknowledges and the host's text."""

    code: AckCode
    control_id: str
    text: str


class MllpError(Exception):
    """A message was not acknowledged; the text says why, in words for the user."""


def parse_ack(text: str) -> Ack:
    """MSA-1, MSA-2 and the host's text (MSA-3, else ERR-8, else ERR-3.2) of an answer.

    Raises :class:`MllpError` if the answer is not an HL7 acknowledgement.
    """
    segments = [s for s in re.split(r"[\r\n]+", text.strip("\x0b\x1c\r\n ")) if s]
    if not segments or not segments[0].startswith("MSH") or len(segments[0]) < 8:
        raise MllpError(f"the host answered something that is not HL7: {text[:60]!r}")
    fs, cs = segments[0][3], segments[0][4]
    by_name = {}
    for seg in segments:
        by_name.setdefault(seg[:3], seg.split(fs))
    msa = by_name.get("MSA")
    if msa is None or len(msa) < 2:
        raise MllpError("the host's answer has no MSA segment")
    try:
        code = AckCode(msa[1].split(cs)[0].strip())
    except ValueError:
        raise MllpError(f"the host answered an unknown acknowledgement code {msa[1]!r}") from None
    acked = msa[2].split(cs)[0] if len(msa) > 2 else ""
    err = by_name.get("ERR", [])
    texts = [msa[3] if len(msa) > 3 else "", err[8] if len(err) > 8 else "",
             err[3].split(cs)[1] if len(err) > 3 and len(err[3].split(cs)) > 1 else ""]
    table = dict(zip("FSRET", fs + segments[0][4:8], strict=False))   # MSH-2: ^~\\&
    esc = re.escape(table.get("E", "\\"))
    text = next((t for t in texts if t), "")
    return Ack(code, acked, re.sub(f"{esc}([FSRET]){esc}", lambda m: table.get(m[1], ""), text))
