"""An HL7 gateway sending IHE PCD-01 observations (hl7-pcd01), for the simulator.

What a monitor's HL7 gateway (or a network monitor itself) puts on its MLLP
connection, after the IHE PCD Technical Framework vol. 2 (PCD-01,
Communicate PCD Data) and HL7 v2.6: each message is an unsolicited ORU^R01
in a frame ``0x0B <message> 0x1C 0x0D``, segments ended by CR.

Messages. ``MSH`` (``^~\\&``; MSH-3 the gateway, ``GATEWAY^<its EUI-64>^EUI-64``,
the same for every bed it serves; MSH-5/6 the receiving monitor; MSH-7 the
time of sending; MSH-9 ``ORU^R01^ORU_R01``; MSH-10 a control id unique in
the run (a resend keeps it); MSH-11 ``P``;
MSH-12 ``2.6``; MSH-15/16 ``AL``/``NE``, enhanced mode as PCD-01 asks: a
commit acknowledgement for every message, no application acknowledgement;
MSH-18 ``UNICODE UTF-8``; MSH-21 ``IHE_PCD_001``), ``PID`` (a simulated
patient), ``PV1`` (PV1-2 ``O``, an outpatient chair; PV1-3 the bed,
``point of care^room^bed``), ``OBR`` (placer and filler order numbers from the
control id and the gateway, OBR-4 ``182777000^monitoring of patient^SCT``,
OBR-7 the observation time) and the ``OBX`` rows: the MDS row
(``69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC``, containment ``1.0.0.0``, no
value, status X, as the PCD-01 examples put it) then one row per metric:
OBX-2 ``NM``, OBX-3 the MDC code, OBX-4 the containment
``MDS.VMD.channel.metric`` (:data:`MDC_ROWS`), OBX-5 the value with the
fewest decimals that carry it exactly, OBX-6 the MDC unit, OBX-11 ``F``,
OBX-14 the observation time, OBX-18 the monitor's EUI-64
(``EUI^^EUI^EUI-64``). All times are UTC with an explicit ``+0000`` offset
(to the millisecond when not whole seconds).

Schedule. One message per second of continuous vitals (the scenario's
numerics of that second: HR, pulse rate, SpO2, respiration rate, EtCO2 once
the scenario has capnography, and temperature, 36.8 degC unless TEMP is
pushed), stamped with that second; one message of its own per NIBP
determination (sys, dia, mean, with the determination's time), never
repeated. A value the scenario did not give (a probe off: ``sensor_off`` or
the reading's quality) is a row with no value and status X. With ``pleth``
(the default) each continuous message also carries the pleth pushed since
the previous one as an NA row (``150452^MDC_PULS_OXIM_PLETH^MDC``, samples
``^``-separated, see :data:`PLETH_DECIMALS`), its OBX-14 the first sample's
time, followed by its sample rate row (``2536^MDC_ATTR_SAMP_RATE^MDC`` in
``/s``, containment the wave's plus ``.1``), as the codec reads a wave;
samples missing (probe off) make the row status X with no samples; after a
gap in the pushed pleth (a link loss) only the samples since it are sent.

Mindray. With ``mindray_codes`` the metric rows carry Mindray's local codes
instead (``101^HR``, ``161^PR``, ``160^SpO2``, ``151^RR``, ``250^CO2Et``,
``200^T1``, ``170^Sys``/``171^Dia``/``172^Mean``: the codes in
``resources/hl7_code_maps/mindray.toml``), units as plain text (``bpm``,
``%``, ``rpm``, ``mmHg``, ``degC``), MSH-3 ``MINDRAY_PDS``, no MSH-21 (that
gateway does not claim PCD-01); the pleth, when sent, keeps its MDC code.

Acknowledgements. :meth:`receive` takes the listener's bytes (any split),
deframes them and reads each ACK (MSA-1, MSA-2). AA/CA settle the message;
AE/CE and AR/CR settle it too (the listener will not use it: resending does
not help) and are counted. A message unanswered ``ack_timeout_s`` session
seconds after it was sent is sent again, the same bytes and control id, at
most ``max_resends`` times (``0``: a gateway that drops rather than resends),
then dropped and counted. At most ``window`` messages wait for their ACK at
once; later ones wait their turn (in order) in a queue of ``backlog``, the
oldest dropped (counted) beyond it. An ACK for no waiting message (a
duplicate's second answer) or bytes that are no ACK are counted and
otherwise ignored. :attr:`counts` has every count.

Faults. ``wrong_bed`` (set by the runner for a while) labels the messages
with :attr:`other_bed` (PV1-3 with its bed component's number plus one) and
another monitor's equipment id: a gateway mixing up beds. ``corrupt`` makes
a malformed message: an NM value that is text, or an MSH whose encoding
characters are wrong (``^^\\&``: the listener answers AE and uses none of it).
"""

from __future__ import annotations

import math
import re
import time
from collections import deque
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from monitor.core.reading import Reading, WaveChunk
from monitor.core.vitals import NIBP_VITALS, Vital
from monitor.devices.mllp_protocol import END_BLOCK, START_BLOCK, MllpError, parse_ack
from simulators.encoders.base import Encoder

DEFAULT_BED = "KETAMINE^ROOM1^CHAIR1"
"""PV1-3 by default (point of care^room^bed): the monitor's ``--bed CHAIR1`` takes it."""
DEFAULT_TEMP = 36.8
RECEIVING = "INFUSION_MONITOR"
RECEIVING_FACILITY = "KETAMINE_CLINIC"
GATEWAY_APP = "GATEWAY"
MINDRAY_APP = "MINDRAY_PDS"
HL7_VERSION = "2.6"
PCD_01_PROFILE = "IHE_PCD_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.1.1^ISO"
MONITORING = "182777000^monitoring of patient^SCT"
MDS_ROW = ("69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC", "1.0.0.0")
PLETH_CODE = "150452^MDC_PULS_OXIM_PLETH^MDC"
PLETH_CONTAINMENT = "1.2.1.3"
SAMPLE_RATE_CODE = "2536^MDC_ATTR_SAMP_RATE^MDC"
SAMPLE_RATE_UNIT = "264608^MDC_DIM_PER_SEC^MDC"
PLETH_DECIMALS = 3
"""Pleth samples are written with this many decimals (the scenario's pleth is about +-1)."""
_SAMPLE = f"{{:.{PLETH_DECIMALS}f}}"
ACK_TIMEOUT_S = 5.0
MAX_RESENDS = 2
WINDOW = 32
BACKLOG = 60
MAX_INPUT_BYTES = 1 << 16
"""Undeframed listener bytes kept at most (an ACK is a few hundred bytes)."""

_BPM = "264864^MDC_DIM_BEAT_PER_MIN^MDC"
_MMHG = "266016^MDC_DIM_MMHG^MDC"


@dataclass(frozen=True)
class Row:
    """How one vital goes in an OBX row: OBX-3, OBX-4 and OBX-6."""

    code: str
    containment: str
    unit: str


MDC_ROWS: dict[Vital, Row] = {
    Vital.HR: Row("147842^MDC_ECG_HEART_RATE^MDC", "1.1.1.1", _BPM),
    Vital.RESP_RATE: Row("151562^MDC_RESP_RATE^MDC", "1.1.2.1",
                         "264928^MDC_DIM_RESP_PER_MIN^MDC"),
    Vital.SPO2: Row("150456^MDC_PULS_OXIM_SAT_O2^MDC", "1.2.1.1", "262688^MDC_DIM_PERCENT^MDC"),
    Vital.PULSE_RATE: Row("149530^MDC_PULS_OXIM_PULS_RATE^MDC", "1.2.1.2", _BPM),
    Vital.NIBP_SYS: Row("150021^MDC_PRESS_BLD_NONINV_SYS^MDC", "1.3.1.1", _MMHG),
    Vital.NIBP_DIA: Row("150022^MDC_PRESS_BLD_NONINV_DIA^MDC", "1.3.1.2", _MMHG),
    Vital.NIBP_MEAN: Row("150023^MDC_PRESS_BLD_NONINV_MEAN^MDC", "1.3.1.3", _MMHG),
    Vital.ETCO2: Row("151708^MDC_CONC_AWAY_CO2_ET^MDC", "1.4.1.1", _MMHG),
    Vital.TEMP: Row("150344^MDC_TEMP^MDC", "1.5.1.1", "268192^MDC_DIM_DEGC^MDC"),
}
"""Each vital's MDC code, containment (MDS 1; VMDs: 1 ECG, 2 SpO2, 3 NIBP, 4 CO2, 5
temperature) and MDC unit; NIBP is MDC_PRESS_BLD_NONINV (150020 + 1..3)."""

MINDRAY_ROWS: dict[Vital, Row] = {
    Vital.HR: Row("101^HR", "1.1.1.1", "bpm"),
    Vital.RESP_RATE: Row("151^RR", "1.1.2.1", "rpm"),
    Vital.SPO2: Row("160^SpO2", "1.2.1.1", "%"),
    Vital.PULSE_RATE: Row("161^PR", "1.2.1.2", "bpm"),
    Vital.NIBP_SYS: Row("170^Sys", "1.3.1.1", "mmHg"),
    Vital.NIBP_DIA: Row("171^Dia", "1.3.1.2", "mmHg"),
    Vital.NIBP_MEAN: Row("172^Mean", "1.3.1.3", "mmHg"),
    Vital.ETCO2: Row("250^CO2Et", "1.4.1.1", "mmHg"),
    Vital.TEMP: Row("200^T1", "1.5.1.1", "degC"),
}
"""Mindray's local codes (``resources/hl7_code_maps/mindray.toml``), units as text."""

CONTINUOUS = (Vital.HR, Vital.PULSE_RATE, Vital.SPO2, Vital.RESP_RATE, Vital.ETCO2, Vital.TEMP)
"""The rows of a continuous message, in order (EtCO2 only once pushed)."""
NIBP = NIBP_VITALS
_PROBE = frozenset({Vital.SPO2, Vital.PULSE_RATE})


def hl7_time(t: float) -> str:
    """Unix seconds as an HL7 DTM in UTC with its offset, to the millisecond if not whole."""
    ms = round(t * 1000.0)
    whole, frac = divmod(ms, 1000)
    stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime(whole))
    return f"{stamp}{f'.{frac:03d}' if frac else ''}+0000"


def nm(value: float) -> str:
    """A number as an NM: the fewest decimals that carry it exactly, no exponent."""
    if float(value).is_integer():
        return str(int(value))
    return np.format_float_positional(float(value), trim="-")


def frame(message: str) -> bytes:
    """An ER7 message as one MLLP frame."""
    return START_BLOCK + message.encode("utf-8") + END_BLOCK


def other_bed(bed: str) -> str:
    """Another bed of the same room: the bed component's trailing number plus one."""
    parts = bed.split("^")
    last = parts[-1]
    digits = re.search(r"(\d+)$", last)
    parts[-1] = (last[:digits.start()] + str(int(digits[1]) + 1)) if digits else last + "B"
    return "^".join(parts)


@dataclass
class _Waiting:
    """A message sent and not yet acknowledged."""

    control_id: str
    frame: bytes
    sent_at: float
    sends: int = 1


class Hl7Pcd01Encoder(Encoder):
    """Emulates an HL7 gateway's PCD-01 output (see the module docstring).

    Parameters
    ----------
    rng : numpy.random.Generator
        Draws the equipment ids and the first control id.
    bed : str
        PV1-3 (``point of care^room^bed``).
    mindray_codes : bool
        Mindray's local codes instead of MDC.
    pleth : bool
        Send the pleth as NA rows.
    ack_timeout_s, max_resends, window, backlog
        The acknowledgement policy (module docstring).
    """

    name: ClassVar[str] = "hl7-pcd01"

    def __init__(self, rng: np.random.Generator, *, bed: str = DEFAULT_BED,
                 mindray_codes: bool = False, pleth: bool = True,
                 ack_timeout_s: float = ACK_TIMEOUT_S, max_resends: int = MAX_RESENDS,
                 window: int = WINDOW, backlog: int = BACKLOG) -> None:
        super().__init__(rng)
        self.bed = bed
        self.mindray_codes = mindray_codes
        self.pleth = pleth
        self.ack_timeout_s = ack_timeout_s
        self.max_resends = max_resends
        self.window = window
        self.wrong_bed = False
        self.equipment = f"{int(rng.integers(0, 2**62)):016X}"
        self.other_equipment = f"{int(rng.integers(0, 2**62)):016X}"
        self.gateway_id = f"{int(rng.integers(0, 2**62)):016X}"
        self._next_id = int(rng.integers(1, 10**6))
        self.counts = {"sent": 0, "acked": 0, "errors": 0, "rejected": 0, "resent": 0,
                       "unacknowledged": 0, "backlog_dropped": 0, "unexpected_acks": 0,
                       "bad_acks": 0}
        self._seconds: dict[float, dict[Vital, Reading]] = {}
        self._nibp: dict[float, dict[Vital, Reading]] = {}
        self._temp: Reading | None = None
        self._capnography = False
        self._wave: list[tuple[float, float, np.ndarray]] = []   # (t0, rate, samples)
        self._now: float | None = None
        self._waiting: dict[str, _Waiting] = {}
        self._queue: deque[tuple[str, bytes]] = deque(maxlen=max(backlog, 1))
        self._input = bytearray()
        self._out: list[bytes] = []

    @property
    def other_bed(self) -> str:
        return other_bed(self.bed)

    @property
    def rows(self) -> dict[Vital, Row]:
        return MINDRAY_ROWS if self.mindray_codes else MDC_ROWS

    @property
    def waiting(self) -> int:
        """Messages sent and not yet acknowledged."""
        return len(self._waiting)

    # -- scenario side -------------------------------------------------------

    def push(self, item: Reading | WaveChunk) -> None:
        if isinstance(item, WaveChunk):
            if item.vital is Vital.PLETH and len(item) and self.pleth:
                self._wave.append((item.t0, item.rate, np.asarray(item.samples, np.float64)))
            return
        if item.vital in NIBP:
            self._nibp.setdefault(item.t, {})[item.vital] = item
            return
        if item.vital is Vital.TEMP:
            self._temp = item
            return
        if item.vital in CONTINUOUS:
            if item.vital is Vital.ETCO2:
                self._capnography = True
            self._seconds.setdefault(item.t, {})[item.vital] = item

    def due(self, now: float) -> list[bytes]:
        self._now = now if self._now is None else max(self._now, now)
        made = [(t, 0, self._seconds.pop(t)) for t in [t for t in self._seconds if t <= now]]
        made += [(t, 1, self._nibp.pop(t)) for t in [t for t in self._nibp if t <= now]]
        for t, kind, readings in sorted(made, key=lambda m: m[:2]):   # control ids in order
            self._queue_message(self._determination(t, readings) if kind
                                else self._continuous(t, readings))
        self._expire(now)
        self._fill_window(now)
        out, self._out = self._out, []
        return out

    def corrupt(self, frame_bytes: bytes) -> bytes:
        text = frame_bytes.decode("utf-8", "replace")
        if self.rng.random() < 0.5:
            damaged, n = re.subn(r"(\rOBX\|\d+\|NM\|[^|]*\|[^|]*\|)[^|]*", r"\1***", text,
                                 count=1)
            if n:
                return damaged.encode("utf-8")
        return text.replace("MSH|^~\\&", "MSH|^^\\&", 1).encode("utf-8")

    # -- listener side -------------------------------------------------------

    def receive(self, data: bytes) -> None:
        self._input += data
        while True:
            start = self._input.find(START_BLOCK)
            if start < 0:
                self._input.clear()
                return
            end = self._input.find(END_BLOCK, start + 1)
            if end < 0:
                del self._input[:start]
                if len(self._input) > MAX_INPUT_BYTES:
                    self.counts["bad_acks"] += 1
                    self._input.clear()
                return
            body = bytes(self._input[start + 1:end])
            del self._input[:end + len(END_BLOCK)]
            self._acknowledged(body.decode("utf-8", "replace"))

    def _acknowledged(self, text: str) -> None:
        try:
            ack = parse_ack(text)
        except MllpError:
            self.counts["bad_acks"] += 1
            return
        waiting = self._waiting.pop(ack.control_id, None)
        if waiting is None:
            self.counts["unexpected_acks"] += 1
            return
        if ack.code.accepted:
            self.counts["acked"] += 1
        elif ack.code.rejected:
            self.counts["rejected"] += 1
        else:
            self.counts["errors"] += 1
        if self._now is not None:
            self._fill_window(self._now)

    # -- sending -------------------------------------------------------------

    def _queue_message(self, message: str) -> None:
        if len(self._queue) == self._queue.maxlen:
            self.counts["backlog_dropped"] += 1
        control_id = message.split("\r", 1)[0].split("|")[9]
        self._queue.append((control_id, frame(message)))

    def _fill_window(self, now: float) -> None:
        while self._queue and len(self._waiting) < self.window:
            control_id, data = self._queue.popleft()
            self._waiting[control_id] = _Waiting(control_id, data, now)
            self.counts["sent"] += 1
            self._out.append(data)

    def _expire(self, now: float) -> None:
        for waiting in list(self._waiting.values()):
            if now - waiting.sent_at < self.ack_timeout_s - 1e-9:
                continue
            if waiting.sends > self.max_resends:
                del self._waiting[waiting.control_id]
                self.counts["unacknowledged"] += 1
                continue
            waiting.sends += 1
            waiting.sent_at = now
            self.counts["resent"] += 1
            self._out.append(waiting.frame)

    # -- messages ------------------------------------------------------------

    def _control_id(self) -> str:
        self._next_id += 1
        return str(self._next_id)

    def _header(self, t: float, control_id: str) -> list[str]:
        equipment = self.other_equipment if self.wrong_bed else self.equipment
        bed = self.other_bed if self.wrong_bed else self.bed
        if self.mindray_codes:
            app, profile = f"{MINDRAY_APP}^{self.gateway_id}^EUI-64", ""
        else:
            app, profile = f"{GATEWAY_APP}^{self.gateway_id}^EUI-64", PCD_01_PROFILE
        stamp = hl7_time(t)
        order = f"{control_id}^{GATEWAY_APP}^{self.gateway_id}^EUI-64"
        return [
            (f"MSH|^~\\&|{app}|{RECEIVING_FACILITY}|{RECEIVING}|{RECEIVING_FACILITY}|{stamp}||"
             f"ORU^R01^ORU_R01|{control_id}|P|{HL7_VERSION}|||AL|NE||UNICODE UTF-8|||{profile}"),
            "PID|||SIM0001^^^INFUSION^MR||SIMULATED^PATIENT^^^^^L",
            f"PV1||O|{bed}",
            f"OBR|1|{order}|{order}|{MONITORING}|||{stamp}",
            f"OBX|1||{MDS_ROW[0]}|{MDS_ROW[1]}|||||||X|||{stamp}||||{self._eui(equipment)}",
        ]

    @staticmethod
    def _eui(equipment: str) -> str:
        return f"{equipment}^^{equipment}^EUI-64"

    def _obx(self, n: int, vital: Vital, reading: Reading | None, t: float) -> str:
        row = self.rows[vital]
        equipment = self._eui(self.other_equipment if self.wrong_bed else self.equipment)
        valued = (reading is not None and reading.valid
                  and not (self.sensor_off and vital in _PROBE))
        value = nm(reading.value) if valued and reading is not None else ""
        status = "F" if valued else "X"
        stamp = hl7_time(reading.t if reading is not None else t)
        return (f"OBX|{n}|NM|{row.code}|{row.containment}|{value}|{row.unit}|||||{status}"
                f"|||{stamp}||||{equipment}")

    def _continuous(self, t: float, readings: dict[Vital, Reading]) -> str:
        control_id = self._control_id()
        segments = self._header(t, control_id)
        for vital in CONTINUOUS:
            if vital is Vital.ETCO2 and not self._capnography:
                continue
            if vital is Vital.TEMP:
                temp = self._temp or Reading(Vital.TEMP, DEFAULT_TEMP, t)
                reading = Reading(Vital.TEMP, temp.value, t, temp.quality)
            else:
                reading = readings.get(vital)
            segments.append(self._obx(len(segments) - 3, vital, reading, t))
        if self.pleth:
            segments += self._pleth_rows(t, len(segments) - 3)
        return "\r".join(segments) + "\r"

    def _determination(self, t: float, readings: dict[Vital, Reading]) -> str:
        control_id = self._control_id()
        segments = self._header(t, control_id)
        for vital in NIBP:
            segments.append(self._obx(len(segments) - 3, vital, readings.get(vital), t))
        return "\r".join(segments) + "\r"

    def _pleth_rows(self, t: float, n: int) -> list[str]:
        """The NA row of the pleth pushed before ``t`` and its sample rate row."""
        runs: list[tuple[float, float, list[np.ndarray]]] = []
        keep: list[tuple[float, float, np.ndarray]] = []
        for t0, rate, samples in self._wave:
            count = min(max(math.ceil((t - t0) * rate - 1e-6), 0), samples.size)
            if count < samples.size:
                keep.append((t0 + count / rate, rate, samples[count:]))
            if not count:
                continue
            taken = samples[:count]
            if runs and runs[-1][1] == rate and abs(
                    runs[-1][0] + sum(a.size for a in runs[-1][2]) / rate - t0) < 0.5 / rate:
                runs[-1][2].append(taken)
            else:
                runs.append((t0, rate, [taken]))
        self._wave = keep
        if not runs:
            return []
        t0, rate, parts = runs[-1]      # after a gap in the pushed pleth, the newest run only
        samples = np.concatenate(parts)
        equipment = self._eui(self.other_equipment if self.wrong_bed else self.equipment)
        lost = bool(np.isnan(samples).any()) or self.sensor_off
        value = "" if lost else "^".join(map(_SAMPLE.format, samples.tolist()))
        wave = (f"OBX|{n}|NA|{PLETH_CODE}|{PLETH_CONTAINMENT}|{value}|"
                f"262656^MDC_DIM_DIMLESS^MDC|||||{'X' if lost else 'F'}|||"
                f"{hl7_time(t0)}||||{equipment}")
        rate_row = (f"OBX|{n + 1}|NM|{SAMPLE_RATE_CODE}|{PLETH_CONTAINMENT}.1|{nm(rate)}|"
                    f"{SAMPLE_RATE_UNIT}|||||F|||{hl7_time(t0)}||||{equipment}")
        return [wave, rate_row]
