"""An independent builder of IHE PCD-01 ORU^R01 messages and MLLP frames, for the tests.

Written from the IHE PCD Technical Framework vol. 2 (transaction PCD-01 "Communicate PCD
Data", ORU^R01^ORU_R01, HL7 v2.6) and the HL7 v2.6 encoding rules (chapter 2), never from
the codec: nothing here imports :mod:`monitor.devices.codecs.hl7_pcd01`. A test that
decodes these messages with the codec is then a test against the standard, not against
the codec's own idea of it.

What the builder encodes (the facts it relies on):

- **Message** ``MSH PID PV1 OBR {OBX}`` (PCD TF-2 3.1.4.1.1, the patient result group
  with one order observation). MSH-21 ``IHE_PCD_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.1.1^ISO``
  (PCD TF-2 B.1), MSH-9 ``ORU^R01^ORU_R01``, MSH-12 ``2.6``, MSH-11 ``P``; MSH-15/16
  (accept / application acknowledgement type: ``AL``, ``NE``, ``ER``, ``SU``, or empty for
  the original acknowledgement mode) as the caller asks: the TF's own example sends
  ``NE|AL``, Mindray gateways ``AL|NE``.
- **Separators** from MSH-1 and MSH-2 (any five distinct characters, default ``|^~\\&``),
  segments ended by ``<CR>``; leaf text is escaped with the message's own escape
  character (``\\F\\ \\S\\ \\T\\ \\R\\ \\E\\``, HL7 v2.6 2.7.4).
- **OBX** (PCD TF-2 B.8): OBX-2 value type (``NM`` a number, ``NA`` a numeric array for a
  waveform, empty for an MDS/VMD/channel header with OBX-11 ``X``), OBX-3 the MDC code
  ``code^REFID^MDC``, OBX-4 the containment ``MDS.VMD.channel.metric`` (``1.0.0.0`` the
  MDS, ``1.1.0.0`` a VMD, ``1.1.1.0`` a channel, ``1.1.1.1`` a metric), OBX-5, OBX-6 the
  unit ``code^REFID^MDC`` (or UCUM ``mm[Hg]^mm[Hg]^UCUM``), OBX-11 the result status
  (``R`` not verified, ``F`` final, ``X`` no result, ``D`` delete, ``W`` wrong...), OBX-14
  the observation time, OBX-17 the method (``^APERIODIC`` for an NIBP determination in
  Mindray's messages), OBX-18 the equipment instance identifier (``EUI64^EUI-64``).
- **Times** ``YYYYMMDDHHMM[SS[.S[S[S[S]]]]][+/-ZZZZ]`` (HL7 DTM), no offset = the sender's
  local time.
- **MDC codes** (ISO/IEEE 11073-10101 code = partition * 65536 + term code): the metrics
  in :data:`MDC`, the units in :data:`UNITS`. Note that 266048 is MDC_DIM_CM_H2O
  (4 * 65536 + 3904) and kPa is MDC_DIM_KILO_PASCAL 265987 (3843), °F MDC_DIM_FAHR 266560
  (4416), °C MDC_DIM_DEGC 268192 (6048).

Real example messages (facts) are reproduced as fixtures with their source in
:data:`IHE_TF_BP_EXAMPLE`, :data:`NIST_NIBP_EXAMPLE`, :data:`GE_B40_EXAMPLE` and
:data:`MINDRAY_VS900_EXAMPLE`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

START_BLOCK = b"\x0b"
END_BLOCK = b"\x1c\x0d"

PROFILE_PCD01 = "IHE_PCD_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.1.1^ISO"

# (code, reference id) of ISO/IEEE 11073-10101 metrics used by the tests.
MDC = {
    "MDS": (69965, "MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS"),
    "VMD_SPO2": (69642, "MDC_DEV_ANALY_SAT_O2_VMD"),
    "VMD_ECG": (69798, "MDC_DEV_ECG_VMD"),
    "VMD_NIBP": (70686, "MDC_DEV_PRESS_BLD_NONINV_VMD"),
    "CHAN_NIBP": (70687, "MDC_DEV_PRESS_BLD_NONINV_CHAN"),
    "HR": (147842, "MDC_ECG_HEART_RATE"),
    "PR": (149530, "MDC_PULS_OXIM_PULS_RATE"),
    "SPO2": (150456, "MDC_PULS_OXIM_SAT_O2"),
    "NIBP": (150020, "MDC_PRESS_BLD_NONINV"),
    "NIBP_SYS": (150021, "MDC_PRESS_BLD_NONINV_SYS"),
    "NIBP_DIA": (150022, "MDC_PRESS_BLD_NONINV_DIA"),
    "NIBP_MEAN": (150023, "MDC_PRESS_BLD_NONINV_MEAN"),
    "CUFF_SYS": (150301, "MDC_PRESS_CUFF_SYS"),
    "CUFF_DIA": (150302, "MDC_PRESS_CUFF_DIA"),
    "CUFF_MEAN": (150303, "MDC_PRESS_CUFF_MEAN"),
    "ART_SYS": (150033, "MDC_PRESS_BLD_ART_SYS"),
    "ART_DIA": (150034, "MDC_PRESS_BLD_ART_DIA"),
    "ART_MEAN": (150035, "MDC_PRESS_BLD_ART_MEAN"),
    "RR": (151562, "MDC_RESP_RATE"),
    "ETCO2": (151708, "MDC_AWAY_CO2_ET"),
    "TEMP": (150344, "MDC_TEMP"),
    "PI": (150488, "MDC_BLD_PERF_INDEX"),
    "PLETH": (150452, "MDC_PULS_OXIM_PLETH"),
}

# (code, reference id) of ISO/IEEE 11073-10101 units (partition 4, MDC_PART_DIM).
UNITS = {
    "%": (262688, "MDC_DIM_PERCENT"),
    "bpm": (264864, "MDC_DIM_BEAT_PER_MIN"),
    "rpm": (264928, "MDC_DIM_RESP_PER_MIN"),
    "mmHg": (266016, "MDC_DIM_MMHG"),
    "kPa": (265987, "MDC_DIM_KILO_PASCAL"),
    "cmH2O": (266048, "MDC_DIM_CM_H2O"),
    "degC": (268192, "MDC_DIM_DEGC"),
    "degF": (266560, "MDC_DIM_FAHR"),
    "dimless": (262656, "MDC_DIM_DIMLESS"),
}

KPA_TO_MMHG = 760.0 / 101.325   # 7.50062 mmHg per kPa


@dataclass(frozen=True)
class Separators:
    """MSH-1 and MSH-2: field, component, repetition, escape, subcomponent."""

    field: str = "|"
    component: str = "^"
    repetition: str = "~"
    escape: str = "\\"
    subcomponent: str = "&"

    def __post_init__(self) -> None:
        chars = (self.field, self.component, self.repetition, self.escape, self.subcomponent)
        if any(len(c) != 1 for c in chars) or len(set(chars)) != 5:
            raise ValueError(f"five distinct single characters needed, got {chars!r}")
        if any(c in "\r\n\x0b\x1c" or c.isalnum() for c in chars):
            raise ValueError(f"separator characters must be printable punctuation: {chars!r}")

    @property
    def msh2(self) -> str:
        return self.component + self.repetition + self.escape + self.subcomponent

    def escape_text(self, text: str) -> str:
        """``text`` with each separator replaced by its HL7 escape sequence (v2.6 2.7.4)."""
        e = self.escape
        table = {e: f"{e}E{e}", self.field: f"{e}F{e}", self.component: f"{e}S{e}",
                 self.subcomponent: f"{e}T{e}", self.repetition: f"{e}R{e}"}
        return "".join(table.get(c, c) for c in text)


Field = str | Sequence["str | Sequence[str]"] | None
"""A field: plain text (one component), a list of components (each text or a list of
subcomponents), or None (empty). Text is escaped when encoded."""


def encode_field(value: Field, sep: Separators) -> str:
    """One field in ER7 with ``sep``; text is escaped, structure is joined."""
    if value is None:
        return ""
    if isinstance(value, str):
        return sep.escape_text(value)
    parts = []
    for comp in value:
        if isinstance(comp, str):
            parts.append(sep.escape_text(comp))
        else:
            parts.append(sep.subcomponent.join(sep.escape_text(s) for s in comp))
    return sep.component.join(parts)


def segment(name: str, fields: dict[int, Field], sep: Separators) -> str:
    """A segment ``name`` with ``fields[i]`` at field position i (1-based), trailing empties cut."""
    n = max((i for i, v in fields.items() if v), default=0)
    return sep.field.join([name] + [encode_field(fields.get(i), sep) for i in range(1, n + 1)])


def hl7_time(t: float, offset_minutes: int | None = 0, fraction: bool = False) -> str:
    """Unix time ``t`` as an HL7 DTM in the zone ``offset_minutes`` east of UTC.

    ``offset_minutes=None`` writes the local wall-clock time with no offset, as a sender
    without a zone does.
    """
    if offset_minutes is None:
        when = dt.datetime.fromtimestamp(t)
        zone = ""
    else:
        tz = dt.timezone(dt.timedelta(minutes=offset_minutes))
        when = dt.datetime.fromtimestamp(t, tz)
        sign = "+" if offset_minutes >= 0 else "-"
        zone = f"{sign}{abs(offset_minutes) // 60:02d}{abs(offset_minutes) % 60:02d}"
    text = when.strftime("%Y%m%d%H%M%S")
    if fraction:
        text += f".{when.microsecond // 100:04d}"
    return text + zone


@dataclass(frozen=True)
class Obx:
    """One OBX row (PCD TF-2 B.8).

    ``code`` is an MDC metric key of :data:`MDC` or a ``(code, text, system)`` triple (a
    vendor-local code such as Mindray's ``("160", "SpO2", "99MNDRY")``); ``unit`` a key of
    :data:`UNITS`, a triple, or None.
    """

    code: str | tuple[str, str, str]
    value: str | Sequence[str] = ""
    unit: str | tuple[str, str, str] | None = None
    sub_id: str = "1.1.1.1"
    value_type: str = "NM"
    status: str = "R"
    time: str | None = None          # OBX-14
    method: Field = None             # OBX-17
    equipment: Field = None          # OBX-18

    def fields(self, set_id: int) -> dict[int, Field]:
        if isinstance(self.code, str):
            num, ref = MDC[self.code]
            ident: Field = [str(num), ref, "MDC"]
        else:
            ident = list(self.code)
        unit: Field = None
        if isinstance(self.unit, str):
            num, ref = UNITS[self.unit]
            unit = [str(num), ref, "MDC"]
        elif self.unit is not None:
            unit = list(self.unit)
        value: Field = self.value if isinstance(self.value, str) else list(self.value)
        return {1: str(set_id), 2: self.value_type, 3: ident, 4: self.sub_id, 5: value,
                6: unit, 11: self.status, 14: self.time, 17: self.method, 18: self.equipment}


def header(code: str, sub_id: str, equipment: Field = None, time: str | None = None) -> Obx:
    """An MDS, VMD or channel row: no value type, no value, status X (PCD TF-2 B.8)."""
    return Obx(code, "", None, sub_id, value_type="", status="X", time=time,
               equipment=equipment)


@dataclass(frozen=True)
class Message:
    """A PCD-01 ORU^R01 message; :meth:`er7` encodes it, :meth:`frame` wraps it in MLLP."""

    control_id: str = "MSGID1234"
    obx: tuple[Obx, ...] = ()
    sending_app: Field = ("AcmeInc", "ACDE48234567ABCD", "EUI-64")     # MSH-3
    sending_facility: Field = None                                      # MSH-4
    receiving_app: Field = None                                         # MSH-5
    receiving_facility: Field = None                                    # MSH-6
    time: str = "20090713090030+0000"                                   # MSH-7
    message_type: Field = ("ORU", "R01", "ORU_R01")                     # MSH-9
    processing_id: str = "P"                                            # MSH-11
    version: str = "2.6"                                                # MSH-12
    accept_ack: str = "NE"                                              # MSH-15
    app_ack: str = "AL"                                                 # MSH-16
    charset: str | None = None                                          # MSH-18
    profile: str | None = PROFILE_PCD01                                 # MSH-21
    patient_id: Field = ("789567", "", "", "Imaginary Hospital", "PI")  # PID-3
    patient_name: Field = ("Doe", "John", "Joseph", "", "", "", "L", "A")
    location: Field = ("ICU", "2", "23")                                # PV1-3
    patient_class: str = "I"                                            # PV1-2
    obr_time: str | None = "20090813095715+0000"                        # OBR-7
    sep: Separators = field(default_factory=Separators)
    segments_after: tuple[str, ...] = ()
    """Raw extra segments appended after the OBX rows (already encoded)."""

    def msh(self) -> str:
        s = self.sep
        fields: dict[int, Field] = {
            3: self.sending_app, 4: self.sending_facility, 5: self.receiving_app,
            6: self.receiving_facility, 7: self.time, 9: self.message_type,
            10: self.control_id, 11: self.processing_id, 12: self.version,
            15: self.accept_ack or None, 16: self.app_ack or None, 18: self.charset,
        }
        if self.profile:
            fields[21] = self.profile.split("^")
        n = max(k for k, v in fields.items() if v)
        # MSH-1 is the field separator itself, MSH-2 the encoding characters (not escaped).
        rest = [encode_field(fields.get(i), s) for i in range(3, n + 1)]
        return "MSH" + s.field + s.msh2 + s.field + s.field.join(rest)

    def er7(self) -> str:
        s = self.sep
        segs = [self.msh(),
                segment("PID", {3: self.patient_id, 5: self.patient_name}, s),
                segment("PV1", {2: self.patient_class, 3: self.location}, s),
                segment("OBR", {1: "1",
                                2: [f"{self.control_id}", "AcmeAHDInc", "ACDE48234567ABCD",
                                    "EUI-64"],
                                3: [f"{self.control_id}", "AcmeAHDInc", "ACDE48234567ABCD",
                                    "EUI-64"],
                                4: ["182777000", "monitoring of patient", "SNOMED-CT"],
                                7: self.obr_time}, s)]
        segs += [segment("OBX", o.fields(i), s) for i, o in enumerate(self.obx, 1)]
        segs += list(self.segments_after)
        return "\r".join(segs) + "\r"

    def encode(self) -> bytes:
        return self.er7().encode(self.encoding)

    @property
    def encoding(self) -> str:
        return "utf-8" if self.charset in (None, "UNICODE UTF-8") else "latin-1"

    def frame(self) -> bytes:
        return frame(self.encode())

    def with_(self, **kw: object) -> Message:
        return replace(self, **kw)


def frame(payload: bytes) -> bytes:
    """MLLP: ``<VT> payload <FS><CR>``."""
    return START_BLOCK + payload + END_BLOCK


# -- typical messages -------------------------------------------------------------------


def vitals_obx(hr: float = 72, pr: float = 71, spo2: float = 97, rr: float = 16,
               etco2: float = 38, temp: float = 36.9, time: str | None = None,
               equipment: Field = ("0123456789ABCDEF", "EUI-64")) -> tuple[Obx, ...]:
    """A 1-per-second vitals message's rows: MDS, ECG, SpO2, resp/CO2, temperature (9 NM)."""
    return (
        header("MDS", "1.0.0.0", equipment=list(equipment) if equipment else None),
        header("VMD_ECG", "1.1.0.0"),
        Obx("HR", _num(hr), "bpm", "1.1.1.1", time=time),
        header("VMD_SPO2", "1.2.0.0"),
        Obx("SPO2", _num(spo2), "%", "1.2.1.1", time=time),
        Obx("PR", _num(pr), "bpm", "1.2.1.2", time=time),
        Obx("PI", "2.4", "%", "1.2.1.3", time=time),
        Obx("RR", _num(rr), "rpm", "1.3.1.1", time=time),
        Obx("ETCO2", _num(etco2), "mmHg", "1.3.1.2", time=time),
        Obx("TEMP", _num(temp), "degC", "1.4.1.1", time=time),
    )


def nibp_obx(sys: float = 120, dia: float = 80, mean: float = 93, time: str | None = None,
             unit: str = "mmHg", status: str = "R") -> tuple[Obx, ...]:
    """An NIBP determination's rows: VMD, channel (with the determination time), sys/dia/mean."""
    return (
        header("MDS", "1.0.0.0", equipment=["0123456789ABCDEF", "EUI-64"]),
        header("VMD_NIBP", "1.1.0.0"),
        header("CHAN_NIBP", "1.1.1.0", time=time),
        Obx("NIBP_SYS", _num(sys), unit, "1.1.1.1", status=status, time=time),
        Obx("NIBP_DIA", _num(dia), unit, "1.1.1.2", status=status, time=time),
        Obx("NIBP_MEAN", _num(mean), unit, "1.1.1.3", status=status, time=time),
    )


def _num(v: float) -> str:
    return f"{v:g}"


# -- real example messages (facts), as published ------------------------------------------

IHE_TF_BP_EXAMPLE = (
    # IHE PCD Technical Framework vol. 2, PCD-01 example "blood pressure" (AcmeInc /
    # ACDE48234567ABCD), as reproduced in the Open eHealth IPF test suite
    # (openehealth/ipf, commons/ihe/hl7v2 ... Pcd01ValidatorTest, testWithdrawnDatatype).
    "MSH|^~\\&|AcmeInc^ACDE48234567ABCD^EUI-64||||20090713090030+0000||ORU^R01^ORU_R01|"
    "MSGID1234|P|2.6|||NE|AL|||||IHE PCD ORU-R01 2006^HL7^2.16.840.1.113883.9.n.m^HL7\r"
    "PID|||789567^^^Imaginary Hospital^PI||Doe^John^Joseph^^^^L^A|||M\r"
    "OBR|1|AB12345^AcmeAHDInc^ACDE48234567ABCD^EUI-64|CD12345^AcmeAHDInc^ACDE48234567ABCD"
    "^EUI-64|182777000^monitoring of patient^SNOMED-CT|||20090813095715+0000\r"
    "OBX|1|CWE|68220^MDC_TIME_SYNC_PROTOCOL^MDC|0.0.0.1|532224^MDC_TIME_SYNC_NONE^MDC|||||R\r"
    "OBX|2||528391^MDC_DEV_SPEC_PROFILE_BP^MDC|1|||||||X|||||||0123456789ABCDEF^EUI-64\r"
    "OBX|3||150020^MDC_PRESS_BLD_NONINV^MDC|1.0.1|||||||X|||20090813095715+0000\r"
    "OBX|4|NM|150021^MDC_PRESS_BLD_NONINV_SYS^MDC|1.0.1.1|120|266016^MDC_DIM_MMHG^MDC|||||R\r"
    "OBX|5|NM|150022^MDC_PRESS_BLD_NONINV_DIA^MDC|1.0.1.2|80|266016^MDC_DIM_MMHG^MDC|||||R\r"
    "OBX|6|NM|150023^MDC_PRESS_BLD_NONINV_MEAN^MDC|1.0.1.3|100|266016^MDC_DIM_MMHG^MDC|||||R\r"
)

NIST_NIBP_EXAMPLE = (
    # The NIST PCD-01 test message "ACME_Gateway" (patient HO2009001^^^NIST, Hon^Albert),
    # units in UCUM; as published with NIST's HL7 v2 validation samples.
    "MSH|^~\\&|ACME_Gateway^080019FFFE3ED02D^EUI-64|ACME Healthcare|||20110602050000+0000||"
    "ORU^R01^ORU_R01|0104ef190d604db188c3|P|2.6|||AL|NE||UNICODE UTF-8|||"
    "PCD_DEC_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.1.1^ISO\r"
    "PID|||HO2009001^^^NIST^PI||Hon^Albert^^^^^L|Adams^^^^^^L|19610101|M|||"
    "15 N Saguaro^^Tucson^AZ^85701^^M\r"
    "PV1||I|HO Surgery^OR^1|\r"
    "OBR|1|080019FFFE3ED02D20110602045842^ACME_Gateway^080019FFFE3ED02D^EUI-64|"
    "080019FFFE3ED02D20110602045842^ACME_Gateway^080019FFFE3ED02D^EUI-64|"
    "182777000^monitoring of patient^SCT|||20110602045842+0000\r"
    "OBX|1||69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC|1.0.0.0|||||||X\r"
    "OBX|2||70686^MDC_DEV_PRESS_BLD_NONINV_VMD^MDC|1.1.0.0|||||||X\r"
    "OBX|3||70687^MDC_DEV_PRESS_BLD_NONINV_CHAN^MDC|1.1.1.0|||||||X|||20110602045842+0000\r"
    "OBX|4|NM|150021^MDC_PRESS_BLD_NONINV_SYS^MDC|1.1.1.1|120|mm[Hg]^mm[Hg]^UCUM|||||R|||"
    "20110602045842+0000||||080019FFFE3ED02D172.16.172.135^GATEWAY_ACME\r"
    "OBX|5|NM|150022^MDC_PRESS_BLD_NONINV_DIA^MDC|1.1.1.2|80|mm[Hg]^mm[Hg]^UCUM|||||R|||"
    "20110602045842+0000||||080019FFFE3ED02D172.16.172.135^GATEWAY_ACME\r"
    "OBX|6|NM|150023^MDC_PRESS_BLD_NONINV_MEAN^MDC|1.1.1.3|93|mm[Hg]^mm[Hg]^UCUM|||||R|||"
    "20110602045842+0000||||080019FFFE3ED02D172.16.172.135^GATEWAY_ACME\r"
    "OBX|7|NM|149546^MDC_PULS_RATE_NON_INV^MDC|1.1.1.4|63|{beat}/min^{beat}/min^UCUM|||||R|||"
    "20110602045842+0000||||080019FFFE3ED02D172.16.172.135^GATEWAY_ACME\r"
)

GE_B40_EXAMPLE = (
    # GE B40 patient monitor, HL7 interface manual 2062665-001 rev. G, "Sample Messages",
    # example 1 (VSP^080019FFFE134535^EUI-64, PV1-3 SURGERY^^V2) and the PCD-01
    # description's VMD/channel rows (pp. 19-21); the ECG and invasive-pressure rows
    # with their values as printed there.
    "MSH|^~\\&|VSP^080019FFFE134535^EUI-64|GE Healthcare|||20130122134100||ORU^R01^ORU_R01|"
    "004097134535|P|2.6|||NE|AL||UNICODE UTF-8|||PCD_DEC_001^IHE PCD^"
    "1.3.6.1.4.1.19376.1.6.1.1.1^ISO\r"
    "PID|||HED12^^^PID^MR||LAZY^KITTY^^^^^L|||\r"
    "PV1||R|SURGERY^^V2\r"
    "OBR|1|080019FFFE13453520130122134100^VSP^080019FFFE134535^EUI-64|"
    "080019FFFE13453520130122134100^VSP^080019FFFE134535^EUI-64|"
    "182777000^monitoring of patient^SCT|||20130122134100\r"
    "OBX|1||69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC|1.0.0.0|||||||X\r"
    "OBX|2||69854^MDC_DEV_METER_PRESS_BLD_VMD^MDC|1.13.0.0|||||||X\r"
    "OBX|3||69855^MDC_DEV_METER_PRESS_BLD_CHAN^MDC|1.13.1.0|||||||X\r"
    "OBX|4|NM|150033^MDC_PRESS_BLD_ART_SYS^MDC|1.13.1.1|112|266016^MDC_DIM_MMHG^MDC|||||R|||||||"
    "080019FFFE0B4020^B40_GE\r"
    "OBX|5|NM|150034^MDC_PRESS_BLD_ART_DIA^MDC|1.13.1.2|76|266016^MDC_DIM_MMHG^MDC|||||R|||||||"
    "080019FFFE0B4020^B40_GE\r"
    "OBX|6|NM|150035^MDC_PRESS_BLD_ART_MEAN^MDC|1.13.1.3|95|266016^MDC_DIM_MMHG^MDC|||||R||||||"
    "|080019FFFE0B4020^B40_GE\r"
    "OBX|7|NM|149522^MDC_BLD_PULS_RATE_INV^MDC|1.13.1.4|80|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||R"
    "|||||||080019FFFE0B4020^B40_GE\r"
    "OBX|10||69798^MDC_DEV_ECG_VMD^MDC|1.5.0.0|||||||X\r"
    "OBX|11|NM|147842^MDC_ECG_HEART_RATE^MDC|1.5.1.1|80|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||R"
    "|||||||080019FFFE0B4020^B40_GE\r"
    "OBX|12|NM|148066^MDC_ECG_V_P_C_RATE^MDC|1.5.1.2|0|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||R"
    "|||||||080019FFFE0B4020^B40_GE\r"
)

MINDRAY_VS900_EXAMPLE = (
    # A Mindray VS-900 vital signs monitor's PCD-01 message (MINDRAY_VS900^00A0370098007A80),
    # as published in a HAPI parsing example: NIBP as MDC_PRESS_CUFF_* with OBX-17
    # ^APERIODIC and its own determination time, an axillary temperature.
    "MSH|^~\\&|MINDRAY_VS900^00A0370098007A80^EUI-64||||20191206113452||ORU^R01^ORU_R01|1914|P|"
    "2.6|||AL|NE||UNICODE UTF-8|||IHE_PCD_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.1.1^ISO\r"
    "PID|||^^^Hospital^PI||^^^^^^L\r"
    "PV1||I||||||||||||||||||||||||||||||||||||||||||20191201\r"
    "OBR|1|1914^MINDRAY_VS900^00A0370098007A80^EUI-64|1914^MINDRAY_VS900^00A0370098007A80^EUI-64|"
    "182777000^monitoring of patient^SCT|||20191206113452\r"
    "OBX|1|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.3.1.150456|99|262688^MDC_DIM_PERCENT^MDC|||||R|||"
    "20191206113452||||00A0370098007A80^^00A0370098007A80^EUI-64\r"
    "OBX|2|NM|149530^MDC_PULS_OXIM_PULS_RATE^MDC|1.3.1.149530|94|264864^MDC_DIM_BEAT_PER_MIN^MDC|"
    "||||R|||20191206113452\r"
    "OBX|3|NM|150488^MDC_BLD_PERF_INDEX^MDC|1.3.1.150488|0.94|262688^MDC_DIM_PERCENT^MDC|||||R|||"
    "20191206113452\r"
    "OBX|4|NM|150301^MDC_PRESS_CUFF_SYS^MDC|1.1.9.150301|147|266016^MDC_DIM_MMHG^MDC|||||R|||"
    "20191206111016|||^APERIODIC\r"
    "OBX|5|NM|150303^MDC_PRESS_CUFF_MEAN^MDC|1.1.9.150303|109|266016^MDC_DIM_MMHG^MDC|||||R|||"
    "20191206111016|||^APERIODIC\r"
    "OBX|6|NM|150302^MDC_PRESS_CUFF_DIA^MDC|1.1.9.150302|90|266016^MDC_DIM_MMHG^MDC|||||R|||"
    "20191206111016|||^APERIODIC\r"
    "OBX|7|NM|188496^MDC_TEMP_AXIL^MDC|1.2.5.188496|35.1|268192^MDC_DIM_DEGC^MDC|||||R|||"
    "20191206113415|||^APERIODIC\r"
)


def parse_dtm(text: str) -> float:
    """An HL7 DTM with an offset as Unix seconds (for the tests' expectations)."""
    body, zone = text, ""
    for sign in "+-":
        if sign in text[8:]:
            i = text.rindex(sign)
            body, zone = text[:i], text[i:]
    frac = 0.0
    if "." in body:
        body, f = body.split(".")
        frac = float("0." + f)
    body = body.ljust(14, "0")
    when = dt.datetime.strptime(body, "%Y%m%d%H%M%S")
    if zone:
        minutes = int(zone[1:3]) * 60 + int(zone[3:5])
        tz = dt.timezone(dt.timedelta(minutes=minutes if zone[0] == "+" else -minutes))
        return when.replace(tzinfo=tz).timestamp() + frac
    return when.timestamp() + frac       # local time
