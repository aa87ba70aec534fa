"""Philips IntelliVue Data Export (MX/MP series): the host side of the session, and its data.

Two codecs share everything but the transport: :class:`IntelliVueMibCodec`
(``intellivue-mib``, the MIB/RS232 port, messages in BOF/EOF frames with an
FCS) and :class:`IntelliVueLanCodec` (``intellivue-lan``, one UDP datagram per
message, no framing; a byte stream of concatenated datagrams, e.g. a capture
file, is split by the messages' own length fields). Layouts live in
:mod:`monitor.devices.codecs.intellivue_layout`; page numbers are the guide's.

Choices (documented for review):

* **Session** (guide pp. 25-27, 65-73). :meth:`open_requests` sends an
  Association Request asking for the Poll Profile Extensions with real-time
  numerics and waves, a 1 s minimum poll period (the monitor's association
  time-out is then 10 s) and 1000-byte MTUs. No answer within
  :data:`ANSWER_TIMEOUT_S`, a refusal, an abort, a release by the monitor, or
  silence from an associated monitor for :data:`RX_TIMEOUT_S` starts a retry
  after a back-off of 2, 4, 8 then every 10 s (:data:`BACKOFF_S`: short, because
  the nurse waits for the values while the cable is back; an Association Request
  every 10 s is nothing on the monitor's port); a retry after
  no answer or silence sends a Release Request before the Association Request,
  because the monitor discards an association request from a client it still
  thinks associated (p. 282). No MDS Create Event within :data:`MDS_WAIT_S` of
  the accept counts as lost too. A refuse counts only while asking; an abort or
  release while a retry already waits keeps that retry's time. The back-off
  starts again at 2 s once a session reaches its polls. A late accept (after
  the answer time-out) is still taken. Link states: "associating",
  "associated", "refused: ...", "no answer (retrying in N s)", "released",
  "aborted"; counts in ``stats.extra`` (``polls_sent``, ``polls_answered``,
  ``refused``, ``aborted``, ``reassociations``, ``keepalives`` ...).
* **MDS Create Event** (p. 54): answered with its invoke id and object
  mirrored (a resent one is answered again); its Date and Time and Relative
  Time map relative time stamps to the monitor's clock; its operating mode's
  DEMO bit counts as demo mode.
* **Polls** (pp. 59-63). With the extensions negotiated: numerics
  (NOM_MOC_VMO_METRIC_NU) and the alert monitor (NOM_MOC_VMO_AL_MON) get one
  Extended Poll every ``poll_period_s`` (at least 1 s: the monitor takes one
  poll per object type and second, p. 28), without a period attribute, so
  each poll is answered once and the period is ours. The numerics poll asks
  for all attribute groups on the first poll and every
  :data:`CONTEXT_REFRESH_S` (labels, p. 81), the Metric Observed Value group
  otherwise (the guide advises against polling all groups often, p. 284).
  Waves (NOM_MOC_VMO_METRIC_SA_RT) come from one periodic Extended Poll
  (results every 256 ms, context multiplexed in, p. 287) renewed every
  :data:`WAVE_RENEW_S` before its :data:`WAVE_POLL_PERIOD_S` runs out, after
  asking the monitor to put the pleth first in its wave priority list, then
  the CO2 and the respiration waves (p. 63). Without the extensions: single polls of numerics and alarms, no
  waves; a Remote Operation Error "no such action" or "invalid argument" to
  an extended poll falls back to that too. When nothing else went out for
  :data:`KEEPALIVE_S`, a single poll of
  the alert monitor's static context keeps the association (p. 63).
  The first messages after the MDS Create Event Result are spread over 0.6 s
  (the monitor takes at most 4 frames per 128 ms on the MIB, p. 30).
* **Decoding never depends on the session** (a replay never sends): any
  well-formed poll result of a numeric, wave or alert monitor object is
  decoded whatever was asked; results of any other object class, or of
  another class than the request with that invoke id asked for, count as
  ``unrequested_result`` and are skipped. A message whose lengths disagree
  anywhere (p. 285) is dropped whole (``bad_attribute_list``); one bad value
  inside a sound attribute list skips that value (``bad_attribute_value``).
* **Numerics.** Each NuObsValue (and each member of a compound) is routed by
  its physiological id: ECG HR -> HR; SpO2 -> SPO2; pleth pulse rate -> PULSE_RATE;
  NIBP sys/dia/mean -> NIBP_*; NIBP pulse -> NIBP_HR; EtCO2 -> ETCO2; inspired
  minimum CO2 (imCO2) -> FICO2; RESP_RATE from the airway rate (awRR) when it has a
  value, else the impedance rate (RR), which is also IMP_RR; TEMP from the first
  temperature present in the order T1, Temp, Tcore, Tesoph, Trect, Tnaso, Ttymp,
  Tvesic, Tskin; T2..T4 -> TEMP2..TEMP4; Tblood -> BLOOD_TEMP. A second object
  with the same id, and every other numeric (invasive pressures ART, ABP, PAP,
  CVP, P1..P8 by id, any other temperature, anything unknown) becomes a
  :class:`~monitor.core.reading.DeviceNumeric` with its id, the monitor's label
  (label string, else its label TextId, else the guide's label for the id; a
  compound member adds `` sys``/`` dia``/`` mean``) and its unit, unconverted.
  A label is remembered per object with the ids it came with: forgotten at each
  new association, and not used for another id (a handle given anew,
  ``stale_label``). Unknown ids are counted as ``unknown_numerics``.
* **Units.** A vital's value is converted to our unit: kPa -> mmHg (x 7.50062),
  CO2 in % -> mmHg with the monitor's ambient pressure numeric (else 760 mmHg),
  degF -> degC; values converted are rounded to 0.1 (temperatures 0.01). A
  vital sent in a unit we cannot convert goes out as a device numeric instead
  (``unit_mismatch``), never as a wrong number.
* **Qualities** (measurement state, p. 76): invalid, unavailable or an undefined
  bit of the first octet (valid only when it is 0 but for test/demo, p. 77) -> NO_VALUE;
  FLOAT NaN or NRes -> NO_VALUE, +/-INF -> OUT_OF_RANGE (p. 41); questionable or
  calibrating -> QUESTIONABLE; test or demo data -> DEMO with the value kept, and
  a ``DeviceFlag("intellivue.demo_data")`` when the monitor's demo state changes
  (numerics, the alert condition's demo bit, or the MDS operating mode).
* **NIBP** is emitted for a new determination only: the first one seen, then
  whenever its time stamp (the numeric's absolute, else relative time stamp)
  or, without one, its raw values change. A value with EARLY_INDICATION or
  MSMT_ONGOING (a measurement under way) is not a determination yet; one
  whose members all have no value emits nothing.
* **Waves.** Pleth (NOM_PLETH) from the first wave object carrying it (another
  one after :data:`PLETH_SOURCE_QUIET_S` of silence, or a new association), at
  1/sample period, masked to its significant bits when the spec says so,
  invalid-mask samples NaN, scaled by the scale-and-range specification when
  it has absolute values (else the raw sample values, a relative trace);
  nothing is emitted before the object's sample period is known. The poll's
  relative time stamp must continue where the previous chunk ended: a later
  one is a gap (the timeline re-anchors, ``wave_gap``), an earlier one an
  overlap whose repeated samples are dropped (the immediate answer to a
  renewed poll), one earlier than the previous chunk's start a restart of the
  monitor's clock (re-anchored, ``wave_time_jump``); differences are taken modulo 2^32 (the wrap). So a lost frame
  shows as a gap exactly when it carried samples, wherever the bytes were
  cut. The impedance respiration wave (NOM_RESP) and the CO2 wave
  (NOM_AWAY_CO2, in mmHg: kPa and % converted) go the same way to
  ``RESP_WAVE`` and ``CO2_WAVE`` (recorded, not shown); other waves are
  counted (``wave_skipped``).
* **Linked results** (p. 44): the numerics and alarm lists of a result sent in
  parts are taken together when its last part (a plain result) arrives; parts
  of another poll cut off by a lost message are dropped
  (``incomplete_linked_result``). Wave parts are taken as they come.
* **Alarms** (pp. 99-102): the T- and P-alarm lists of the alert monitor give a ``DeviceFlag`` when an alarm starts or
  ends: a SpO2 "sensor off" / "no sensor" alert is ``sensor_off``, any other
  ``intellivue.alarm.<source>.<code>`` with the monitor's alarm text.
* **Time.** Readings carry the arrival time ``t``; ``device_time`` is the
  numeric's own absolute time stamp when it sends a valid one (an NIBP
  determination's time: an aperiodic measurement), else the poll's absolute
  time stamp when valid, else its relative time mapped through the MDS Create
  Event's clock.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from monitor.core.events import DeviceFlag
from monitor.core.reading import (
    DeviceNumeric,
    Quality,
    Reading,
    WaveChunk,
    make_device_numeric,
    make_reading,
)
from monitor.core.vitals import SPECS, Vital
from monitor.devices.codecs import intellivue_layout as L
from monitor.devices.codecs.base import (
    MAX_BUFFER_BYTES,
    Codec,
    CodecItem,
    SerialSettings,
    WaveTimeline,
)

ANSWER_TIMEOUT_S = 3.0
"""Time an association request waits for the monitor's answer."""
BACKOFF_S = (2.0, 4.0, 8.0, 10.0)
"""Delays before successive association retries; the last repeats."""
MDS_WAIT_S = 10.0
"""Time after the accept within which the MDS Create Event must come."""
RX_TIMEOUT_S = 10.0
"""Silence from an associated monitor after which the association is presumed lost."""
KEEPALIVE_S = 3.0
"""Longest quiet time on our side while associated (the monitor's time-out is 10 s)."""
CONTEXT_REFRESH_S = 30.0
"""How often the numerics poll asks for all attribute groups (labels)."""
WAVE_POLL_PERIOD_S = 20.0
WAVE_RENEW_S = 15.0
MIN_POLL_PERIOD_S = 1.0
PLETH_SOURCE_QUIET_S = 2.0
WAVE_VITALS: dict[int, Vital] = {L.NOM_PLETH: Vital.PLETH, L.NOM_RESP: Vital.RESP_WAVE,
                                 L.NOM_AWAY_CO2: Vital.CO2_WAVE}
"""The waves kept: the pleth (shown), the impedance respiration and CO2 waves (recorded)."""
"""A pleth from another wave object is taken once the current one is quiet this long."""
MAX_OUTSTANDING = 64

KPA_TO_MMHG = 7.50062
STANDARD_PRESSURE_MMHG = 760.0

DEMO_FLAG = "intellivue.demo_data"
DEMO_TEXT = "Monitor in demo mode: not patient data"

_DIRECT: dict[int, Vital] = {
    L.NOM_ECG_CARD_BEAT_RATE: Vital.HR,
    L.NOM_PULS_OXIM_SAT_O2: Vital.SPO2,
    L.NOM_PLETH_PULS_RATE: Vital.PULSE_RATE,
    L.NOM_PRESS_BLD_NONINV_SYS: Vital.NIBP_SYS,
    L.NOM_PRESS_BLD_NONINV_DIA: Vital.NIBP_DIA,
    L.NOM_PRESS_BLD_NONINV_MEAN: Vital.NIBP_MEAN,
    L.NOM_PRESS_BLD_NONINV_PULS_RATE: Vital.NIBP_HR,
    L.NOM_AWAY_CO2_ET: Vital.ETCO2,
    L.NOM_AWAY_CO2_INSP_MIN: Vital.FICO2,
    L.NOM_TEMP_GEN_2: Vital.TEMP2,
    L.NOM_TEMP_GEN_3: Vital.TEMP3,
    L.NOM_TEMP_GEN_4: Vital.TEMP4,
    L.NOM_TEMP_BLD: Vital.BLOOD_TEMP,
}
"""Physiological id -> vital, for the ids that need no choice."""

TEMP_PRIORITY = (L.NOM_TEMP_GEN_1, L.NOM_TEMP, L.NOM_TEMP_CORE, L.NOM_TEMP_ESOPH,
                 L.NOM_TEMP_RECT, L.NOM_TEMP_NASOPH, L.NOM_TEMP_TYMP, 0xF0C4, L.NOM_TEMP_SKIN)
"""Temperatures in the order TEMP is taken from (T1, Temp, Tcore, ..., Tvesic, Tskin)."""

NIBP_IDS = frozenset({L.NOM_PRESS_BLD_NONINV_SYS, L.NOM_PRESS_BLD_NONINV_DIA,
                      L.NOM_PRESS_BLD_NONINV_MEAN, L.NOM_PRESS_BLD_NONINV_PULS_RATE})
SENSOR_OFF_CODES = frozenset({L.NOM_EVT_SENSOR_DISCONN, L.NOM_EVT_XDUCR_DISCONN})

_OUR_UNITS = {"mmHg": L.NOM_DIM_MMHG, "%": L.NOM_DIM_PERCENT, "bpm": L.NOM_DIM_BEAT_PER_MIN,
              "rpm": L.NOM_DIM_RESP_PER_MIN, "°C": L.NOM_DIM_DEGC}
_UNITLESS = frozenset({L.NOM_DIM_NOS, L.NOM_DIM_DIMLESS})
_UNDEFINED_VALIDITY_BITS = L.MS_VALIDITY_MASK & ~(
    L.MS_INVALID | L.MS_QUESTIONABLE | L.MS_UNAVAILABLE | L.MS_CALIBRATION_ONGOING
    | L.MS_TEST_DATA | L.MS_DEMO_DATA)
"""First-octet state bits the guide leaves undefined: a value is valid only when the
first octet is 0 (p. 77), so these make it NO_VALUE."""


# -- values ------------------------------------------------------------------------------

def state_quality(state: int, value: L.FloatValue) -> Quality:
    """Our quality for a measurement state and FLOAT-Type value (module notes)."""
    if state & (L.MS_INVALID | L.MS_UNAVAILABLE | _UNDEFINED_VALIDITY_BITS):
        return Quality.NO_VALUE
    if value.special in ("nan", "nres"):
        return Quality.NO_VALUE
    if value.special is not None:
        return Quality.OUT_OF_RANGE
    if state & (L.MS_QUESTIONABLE | L.MS_CALIBRATION_ONGOING):
        return Quality.QUESTIONABLE
    if state & (L.MS_TEST_DATA | L.MS_DEMO_DATA):
        return Quality.DEMO
    return Quality.OK


def is_demo(state: int) -> bool:
    return bool(state & (L.MS_TEST_DATA | L.MS_DEMO_DATA))


def to_unit(value: float, unit_code: int, target: str, ambient_mmhg: float | None
            ) -> float | None:
    """``value`` in ``unit_code`` expressed in our unit ``target``; None when not convertible."""
    if _OUR_UNITS.get(target) == unit_code:
        return value
    if target == "mmHg" and unit_code == L.NOM_DIM_KILO_PASCAL:
        return round(value * KPA_TO_MMHG, 1)
    if target == "mmHg" and unit_code == L.NOM_DIM_PERCENT:
        return round(value * (ambient_mmhg or STANDARD_PRESSURE_MMHG) / 100.0, 1)
    if target == "°C" and unit_code == L.NOM_DIM_FAHR:
        return round((value - 32.0) * 5.0 / 9.0, 2)
    return None


def unit_text(unit_code: int) -> str:
    """The unit of a device numeric: the guide's symbol, "" unitless, else the code."""
    if unit_code in _UNITLESS:
        return ""
    return L.unit_symbol(unit_code) or f"unit 0x{unit_code:04X}"


def member_suffix(physio_id: int) -> str:
    """`` sys``, `` dia`` or `` mean`` when the id is a compound member, else ""."""
    name = L.PHYSIO_LABELS.get(physio_id, "")
    for suffix in (" sys", " dia", " mean"):
        if name.endswith(suffix):
            return suffix
    return ""


@dataclass
class _Value:
    """One numeric value of a poll, with what the router needs."""

    key: tuple[int, int]          # (context id, handle) of its object
    nu: L.NuObsValue
    label: str
    device_time: float | None
    stamp: bytes | None           # its object's own time stamp (aperiodic measurements)


@dataclass
class _WaveContext:
    """What the static and dynamic context of one wave object told us."""

    period_ticks: int | None = None
    spec: L.SaSpec | None = None
    scale: L.ScaleRangeSpec | None = None
    invalid_mask: int = 0
    unit_code: int | None = None
    timeline: WaveTimeline | None = None
    expected_rel: int | None = None


# -- the codec ---------------------------------------------------------------------------

class _IntelliVueCodec(Codec):
    """The session and the decoding; subclasses say how messages travel."""

    device_name = "IntelliVue"
    device_kind = "monitor"

    serial_defaults: ClassVar[SerialSettings] = SerialSettings(baudrate=115200)
    carries_nibp: ClassVar[bool] = True
    measures: ClassVar[frozenset[Vital] | None] = frozenset(
        {Vital.HR, Vital.PULSE_RATE, Vital.SPO2, Vital.NIBP_SYS, Vital.NIBP_DIA,
         Vital.NIBP_MEAN, Vital.RESP_RATE, Vital.ETCO2, Vital.TEMP, Vital.PLETH})

    def __init__(self, poll_period_s: float = 1.0) -> None:
        super().__init__()
        if not MIN_POLL_PERIOD_S <= poll_period_s <= 3600:
            raise ValueError("poll_period_s must be 1..3600 s (the monitor takes one poll "
                             "per object type and second)")
        self.poll_period_s = float(poll_period_s)
        self._state = "idle"
        self._closed = False
        self._now: float | None = None
        self._backoff_step = 0
        self._retry_at: float | None = None
        self._sent_at: float | None = None     # association request (None: time not yet known)
        self._accept_at: float | None = None
        self._last_tx: float | None = None
        self._last_rx: float | None = None
        self._associations = 0
        self._release_first = False
        self._urgent: list[bytes] = []       # sent in any state (a release response)
        self._refuse_reason = ""
        self._reset_association()
        # Decoding state: survives re-associations (a replay knows no session).
        self._labels: dict[tuple[int, int], tuple[str, frozenset[int]]] = {}
        self._waves: dict[tuple[int, int], _WaveContext] = {}
        self._wave_sources: dict[Vital, tuple[tuple[int, int], float]] = {}
        self._nibp_last: dict[tuple[int, int], object] = {}
        self._alarms: dict[str, dict[tuple[int, int], L.AlarmEntry]] = {"t": {}, "p": {}}
        self._parts_key: tuple[int, int, int] | None = None     # a linked result under way
        self._nu_parts: list[_Value] = []
        self._alarm_parts: dict[str, dict[tuple[int, int], L.AlarmEntry]] = {}
        self._flags_on: dict[str, str] = {}
        self._demo_sources: dict[str, bool] = {}
        self._demo_flag = False
        self._mds_clock: tuple[float, int] | None = None
        self._ambient_mmhg: float | None = None

    def _reset_association(self) -> None:
        self._outstanding: dict[int, tuple[int, bool, bool]] = {}   # class, answered, periodic
        self._pending: list[bytes] = []
        self._polling = False
        self._extended = True
        self._waves_offered = False
        self._next_nu: float | None = None
        self._next_al: float | None = None
        self._next_wave: float | None = None
        self._next_context: float | None = None
        self._invoke = 0
        self._poll_number = 0

    # -- transport (subclasses) -------------------------------------------------------

    def _wrap(self, message: bytes) -> bytes:
        raise NotImplementedError

    def _messages(self, data: bytes) -> list[bytes]:
        raise NotImplementedError

    def _resync_input(self) -> None:
        """Forget partial input (the port was reopened)."""

    # -- the Codec interface ----------------------------------------------------------

    @property
    def link_state(self) -> str:
        if self._state == "no_answer":
            wait = 0 if self._retry_at is None or self._now is None else max(
                0, math.ceil(self._retry_at - self._now))
            return f"no answer (retrying in {wait} s)"
        if self._state == "refused":
            return f"refused: {self._refuse_reason}"
        return {"idle": "", "associating": "associating", "associated": "associated",
                "released": "released", "aborted": "aborted"}.get(self._state, self._state)

    @property
    def link_ok(self) -> bool:
        """Data comes only while associated."""
        return self._state == "associated"

    @property
    def status_detail(self) -> str:
        """Polls answered of polls sent, for the device status ("" before any poll)."""
        sent = self.stats.extra.get("polls_sent", 0)
        if not sent:
            return ""
        return f"{self.stats.extra.get('polls_answered', 0)} of {sent} polls answered"

    def open_requests(self) -> bytes:
        """The port was (re)opened: a new session, starting with the Association Request."""
        self._closed = False
        self._backoff_step = 0
        self._resync_input()
        self._resync_waves()
        self._release_first = False
        self._start_association(None)
        return self._wrap(L.build_association_request(self._user_info()))

    def close_requests(self) -> bytes:
        """Release Request; the session then stays released until the next open."""
        self._closed = True
        self._state = "released"
        self._reset_association()
        return self._wrap(L.build_release_request())

    def tick(self, t: float) -> list[bytes]:
        try:
            return [self._wrap(m) for m in self._tick(float(t))]
        except Exception:   # noqa: BLE001 - a session fault must never stop the reader
            self._count("internal_error")
            return []

    def feed(self, data: bytes, t: float) -> list[CodecItem]:
        items: list[CodecItem] = []
        try:
            data = bytes(data)
            self.stats.bytes_in += len(data)
            self._now = t
            for message in self._messages(data):
                self._message(message, t, items)
        except Exception:   # noqa: BLE001 - the contract: feed never raises
            self._resync_waves()
            self._count("internal_error")
        return items

    # -- the session ------------------------------------------------------------------

    def _user_info(self) -> L.UserInfo:
        return L.UserInfo(profile=L.PollProfile(min_poll_period=L.relative_time(1.0)))

    def _start_association(self, t: float | None) -> None:
        self._reset_association()
        self._state = "associating"
        self._sent_at = t
        self._accept_at = None
        self._retry_at = None
        self._last_rx = None
        if self._associations or t is not None:
            self._count("reassociations")

    def _lose(self, t: float, state: str) -> None:
        """The association is gone (``state``): retry after the next back-off delay."""
        self._reset_association()
        self._state = state
        delay = BACKOFF_S[min(self._backoff_step, len(BACKOFF_S) - 1)]
        self._backoff_step += 1
        self._retry_at = t + delay
        self._release_first = state == "no_answer"

    def _tick(self, t: float) -> list[bytes]:
        self._now = t
        urgent, self._urgent = self._urgent, []
        if self._state == "idle" or self._closed:
            return urgent
        if self._state == "associating":
            return urgent + self._tick_associating(t)
        if self._state == "associated":
            return urgent + self._tick_associated(t)
        if self._retry_at is not None and t >= self._retry_at:
            out = [L.build_release_request()] if self._release_first else []
            self._start_association(t)
            self._last_tx = t
            return [*urgent, *out, L.build_association_request(self._user_info())]
        return urgent

    def _tick_associating(self, t: float) -> list[bytes]:
        if self._sent_at is None:
            self._sent_at = self._last_tx = t
        elif t - self._sent_at >= ANSWER_TIMEOUT_S:
            self._count("no_answer")
            self._lose(t, "no_answer")
        return []

    def _tick_associated(self, t: float) -> list[bytes]:
        if self._accept_at is None:
            self._accept_at = t
        if self._last_rx is None:
            self._last_rx = t
        if not self._polling and t - self._accept_at >= MDS_WAIT_S:
            self._count("no_mds_create")
            self._lose(t, "no_answer")
            return []
        if t - self._last_rx >= RX_TIMEOUT_S:
            self._count("monitor_silent")
            self._lose(t, "no_answer")
            return []
        out, self._pending = self._pending, []
        if self._polling:
            out += self._due_polls(t)
        if not out and self._last_tx is not None and t - self._last_tx >= KEEPALIVE_S:
            out.append(self._poll(L.NOM_MOC_VMO_AL_MON, L.NOM_ATTR_GRP_VMO_STATIC, t,
                                  extended=False))
            self._count("keepalives")
        if out:
            self._last_tx = t
        return out

    def _due_polls(self, t: float) -> list[bytes]:
        out: list[bytes] = []
        if self._next_nu is not None and t >= self._next_nu:
            refresh = self._next_context is None or t >= self._next_context
            if refresh:
                self._next_context = t + CONTEXT_REFRESH_S
            group = L.NOM_ATTR_GRP_ALL if refresh else L.NOM_ATTR_GRP_METRIC_VAL_OBS
            out.append(self._poll(L.NOM_MOC_VMO_METRIC_NU, group, t))
            self._next_nu = _next_due(self._next_nu, self.poll_period_s, t)
        if self._next_al is not None and t >= self._next_al:
            out.append(self._poll(L.NOM_MOC_VMO_AL_MON, L.NOM_ATTR_GRP_AL_MON, t))
            self._next_al = _next_due(self._next_al, self.poll_period_s, t)
        if self._next_wave is not None and t >= self._next_wave:
            out.append(self._poll(L.NOM_MOC_VMO_METRIC_SA_RT, L.NOM_ATTR_GRP_ALL, t,
                                  period_s=WAVE_POLL_PERIOD_S))
            self._next_wave = _next_due(self._next_wave, WAVE_RENEW_S, t)
        return out

    def _next_invoke(self) -> int:
        self._invoke = self._invoke % 0xFFFF + 1
        return self._invoke

    def _poll(self, obj_class: int, group: int, t: float, period_s: float | None = None,
              extended: bool | None = None) -> bytes:
        ext = self._extended if extended is None else extended
        invoke = self._next_invoke()
        self._poll_number = self._poll_number % 0xFFFF + 1
        if len(self._outstanding) >= MAX_OUTSTANDING:
            self._outstanding.pop(next(iter(self._outstanding)))
        self._outstanding[invoke] = (obj_class, False, period_s is not None)
        self._count("polls_sent")
        return L.build_poll_request(invoke, self._poll_number, obj_class, group,
                                    period_s=period_s if ext else None, extended=ext)

    def _on_accept(self, info: L.UserInfo | None, t: float) -> None:
        if self._state not in ("associating", "no_answer") or self._closed:
            self._count("unexpected_accept")
            return
        self._reset_association()
        self._labels.clear()                 # the monitor may have given handles anew
        self._wave_sources.clear()
        self._state = "associated"
        self._retry_at = None
        self._associations += 1
        self._accept_at = t
        self._last_rx = t
        if self._last_tx is None:
            self._last_tx = t
        profile = info.profile if info is not None else None
        ext = profile.ext_options if profile is not None else None
        self._extended = bool(ext is not None and ext & (
            L.POLL_EXT_PERIOD_NU_1SEC | L.POLL_EXT_PERIOD_NU_AVG_12SEC
            | L.POLL_EXT_PERIOD_NU_AVG_60SEC | L.POLL_EXT_PERIOD_NU_AVG_300SEC))
        self._waves_offered = bool(self._extended and ext is not None
                                   and ext & L.POLL_EXT_PERIOD_RTSA)
        self._count("associations")

    def _on_mds_create(self, invoke_id: int, event: L.EventReport, t: float,
                       items: list[CodecItem]) -> None:
        _obj, attrs = L.parse_mds_create_info(event.data)
        self._mds_attributes(dict(attrs), t, items)
        if self._state != "associated":
            self._count("unexpected_mds_create")
            return
        self._pending.append(L.build_mds_create_result(invoke_id, event.managed_object))
        if self._polling:
            return                                   # a resent event: answered again
        self._polling = True
        self._backoff_step = 0
        self._next_nu, self._next_al = t + 0.2, t + 0.4
        self._next_context = None
        if self._waves_offered:
            self._pending.append(L.build_set_priority_list(
                self._next_invoke(), L.NOM_ATTR_POLL_RTSA_PRIO_LIST,
                [L.NLS_NOM_PULS_OXIM_PLETH, L.NLS_NOM_AWAY_CO2, L.NLS_NOM_RESP]))
            self._next_wave = t + 0.6

    def _mds_attributes(self, attrs: dict[int, bytes], t: float,
                        items: list[CodecItem]) -> None:
        abs_raw, rel_raw = attrs.get(L.NOM_ATTR_TIME_ABS), attrs.get(L.NOM_ATTR_TIME_REL)
        if abs_raw is not None and rel_raw is not None and len(rel_raw) == 4:
            try:
                abs_t = L.parse_absolute_time(abs_raw)
            except L.LayoutError:
                abs_t = None
            if abs_t is not None:
                self._mds_clock = (abs_t, L.read_u32(rel_raw, 0))
        mode = attrs.get(L.NOM_ATTR_MODE_OP)
        if mode is not None and len(mode) >= 2:
            self._set_demo("mds", bool(L.read_u16(mode, 0) & L.OPMODE_DEMO), t, items)

    def _on_association_message(self, msg: L.AssociationMessage, t: float) -> None:
        kind = msg.kind
        if kind == "accept":
            self._on_accept(msg.info, t)
        elif kind == "refuse":
            self._count("refused")
            code = msg.refuse_reason
            self._refuse_reason = ("by the monitor" if code is None
                                   else f"by the monitor (reason code {code})")
            if self._state in ("associating", "no_answer"):
                self._ended(t, "refused")
        elif kind == "abort":
            self._count("aborted")
            self._ended(t, "aborted")
        elif kind == "release_request":
            self._urgent.append(L.build_release_response())
            self._count("released_by_monitor")
            self._ended(t, "released")
        else:
            self._count(f"association_{kind}")

    def _ended(self, t: float, state: str) -> None:
        """The monitor ended (or refused) the association: retry, or keep a retry already due."""
        if self._closed or self._state == "idle":
            return
        if self._state in ("associating", "associated"):
            self._lose(t, state)
        else:                                   # already waiting to retry: keep its time
            self._state = state
            self._release_first = False

    # -- messages ---------------------------------------------------------------------

    def _count(self, key: str, n: int = 1) -> None:
        self.stats.extra[key] = self.stats.extra.get(key, 0) + n

    def _on_drop(self, kind: str, nbytes: int) -> None:
        """The transport lost bytes or a frame (counted; waves judge losses by their time)."""
        if kind != L.DROP_GARBAGE:
            self.stats.frames_bad += 1
            self._count(kind)
        self.stats.bytes_discarded += nbytes

    def _resync_waves(self) -> None:
        for ctx in self._waves.values():
            if ctx.timeline is not None:
                ctx.timeline.resync = True
            ctx.expected_rel = None

    def _message(self, message: bytes, t: float, items: list[CodecItem]) -> None:
        kind = L.message_kind(message)
        try:
            if kind == "data":
                self._data(L.parse_data_message(message), t, items)
            elif kind == "connect_indication":
                L.parse_connect_indication(message)
                self._count("connect_indication")
            elif kind:
                self._on_association_message(L.parse_association(message), t)
            else:
                raise L.LayoutError("unknown message")
        except L.LayoutError:
            self.stats.frames_bad += 1
            self._count("bad_attribute_list" if kind == "data" else "bad_message")
            return
        self.stats.frames_ok += 1
        self.stats.last_frame_t = t
        self._last_rx = t

    def _data(self, msg: L.DataMessage, t: float, items: list[CodecItem]) -> None:
        if msg.ro_type == L.ROIV_APDU:
            self._invoke_from_monitor(msg, t, items)
        elif msg.ro_type == L.ROER_APDU:
            self._remote_error(msg)
        elif msg.command_type == L.CMD_CONFIRMED_ACTION:
            self._poll_result(msg, t, items)
        elif msg.command_type == L.CMD_CONFIRMED_SET:
            self._count("priority_list_set")
        else:
            self._count(f"result_cmd_{msg.command_type}")

    def _remote_error(self, msg: L.DataMessage) -> None:
        """A Remote Operation Error (p. 45); extended polls refused -> single polls, no waves."""
        self._count("remote_error")
        self._count(f"remote_error_{msg.command_type}")
        asked = self._outstanding.pop(msg.invoke_id, None)
        if (asked is not None and self._extended and asked[0] != L.NOM_MOC_VMO_METRIC_SA_RT
                and msg.command_type in (L.ROER_NO_SUCH_ACTION, L.ROER_INVALID_ARGUMENT_VALUE)):
            self._extended = False
            self._waves_offered = False
            self._next_wave = None
            self._count("extended_polls_refused")

    def _invoke_from_monitor(self, msg: L.DataMessage, t: float,
                             items: list[CodecItem]) -> None:
        if msg.command_type not in (L.CMD_EVENT_REPORT, L.CMD_CONFIRMED_EVENT_REPORT):
            self._count(f"invoke_cmd_{msg.command_type}")
            return
        event = L.parse_event_report(msg.body)
        if event.event_type == L.NOM_NOTI_MDS_CREAT:
            self._on_mds_create(msg.invoke_id, event, t, items)
        else:
            self._count(f"event_{event.event_type}")

    # -- poll results -----------------------------------------------------------------

    def _poll_result(self, msg: L.DataMessage, t: float, items: list[CodecItem]) -> None:
        reply = L.parse_poll_reply(msg.body)
        asked = self._outstanding.get(msg.invoke_id)
        if reply.obj_class not in (L.NOM_MOC_VMO_METRIC_NU, L.NOM_MOC_VMO_METRIC_SA_RT,
                                   L.NOM_MOC_VMO_AL_MON) or (
                asked is not None and asked[0] != reply.obj_class):
            self._count("unrequested_result")
            return
        final = msg.ro_type == L.RORS_APDU
        if asked is not None and final:
            if not asked[1]:
                self._count("polls_answered")
            if asked[2]:                    # periodic: its results keep coming
                self._outstanding[msg.invoke_id] = (asked[0], True, True)
            else:
                del self._outstanding[msg.invoke_id]
        dt = self._device_time(reply)
        if reply.obj_class == L.NOM_MOC_VMO_METRIC_SA_RT:
            self._wave_result(reply, t, items)
            return
        self._linked_parts((msg.invoke_id, reply.poll_number, reply.obj_class), msg.linked)
        if reply.obj_class == L.NOM_MOC_VMO_METRIC_NU:
            self._numerics(reply, dt, final, t, items)
        else:
            self._alarm_result(reply, final, t, items)

    def _linked_parts(self, key: tuple[int, int, int], linked: tuple[int, int] | None) -> None:
        """Keep the parts of a linked result (p. 44) only while they belong to this one."""
        first = linked is not None and linked[0] == L.RORLS_FIRST
        if self._parts_key is not None and (self._parts_key != key or first):
            self._count("incomplete_linked_result")
            self._parts_key = None
        if self._parts_key is None:
            self._nu_parts, self._alarm_parts = [], {}
        self._parts_key = key if linked is not None else None

    def _device_time(self, reply: L.PollReply) -> float | None:
        abs_t = reply.abs_time_unix
        if abs_t is not None:
            return abs_t
        if self._mds_clock is None or reply.rel_time == 0:
            return None
        base_abs, base_rel = self._mds_clock
        return base_abs + L.rel_time_diff(reply.rel_time, base_rel) / L.TICKS_PER_S

    # numerics

    def _numerics(self, reply: L.PollReply, dt: float | None, final: bool, t: float,
                  items: list[CodecItem]) -> None:
        values = self._nu_parts
        for obs in reply.observations:
            values.extend(self._observation_values(obs, dt))
        if not final:
            del values[4096:]
            return
        self._nu_parts = []
        if not values:
            return
        self._set_demo("numerics", any(is_demo(v.nu.state) for v in values), t, items)
        for v in values:
            if v.nu.physio_id == L.NOM_PRESS_AIR_AMBIENT and v.nu.valid:
                mmhg = to_unit(v.nu.value.value, v.nu.unit_code, "mmHg", None)
                self._ambient_mmhg = mmhg if mmhg is not None and mmhg > 0 else None
        self._route(values, t, items)

    def _observation_values(self, obs: L.Observation, dt: float | None) -> list[_Value]:
        key = (obs.context_id, obs.handle)
        attrs = dict(obs.attributes)
        stamp = attrs.get(L.NOM_ATTR_TIME_STAMP_ABS) or attrs.get(L.NOM_ATTR_TIME_STAMP_REL)
        own_dt = dt
        if L.NOM_ATTR_TIME_STAMP_ABS in attrs:
            # The numeric's own time (an NIBP determination's) before the poll's.
            try:
                own_dt = L.parse_absolute_time(attrs[L.NOM_ATTR_TIME_STAMP_ABS]) or dt
            except L.LayoutError:
                pass
        nus: list[L.NuObsValue] = []
        try:
            if L.NOM_ATTR_NU_VAL_OBS in attrs:
                nus.append(L.parse_nu_obs_value(attrs[L.NOM_ATTR_NU_VAL_OBS]))
            if L.NOM_ATTR_NU_CMPD_VAL_OBS in attrs:
                nus.extend(L.parse_nu_obs_value_cmp(attrs[L.NOM_ATTR_NU_CMPD_VAL_OBS]))
        except L.LayoutError:
            self._count("bad_attribute_value")
            return []
        ids = frozenset(nu.physio_id for nu in nus)
        self._remember_label(key, attrs, ids)
        return [_Value(key, nu, self._label_of(key, nu.physio_id), own_dt, stamp) for nu in nus]

    def _remember_label(self, key: tuple[int, int], attrs: dict[int, bytes],
                        ids: frozenset[int]) -> None:
        """The object's label string (else its label TextId), with the ids sent beside it."""
        text = ""
        if L.NOM_ATTR_ID_LABEL_STRING in attrs:
            try:
                text = L.parse_string(attrs[L.NOM_ATTR_ID_LABEL_STRING])[0]
            except L.LayoutError:
                self._count("bad_attribute_value")
        raw = attrs.get(L.NOM_ATTR_ID_LABEL)
        if not text and raw is not None and len(raw) == 4:
            text = L.TEXT_LABELS.get(L.read_u32(raw, 0), "")
        if text:
            self._labels[key] = (text, ids)
            if len(self._labels) > 4096:
                self._labels.clear()

    def _label_of(self, key: tuple[int, int], physio_id: int) -> str:
        """The label learnt for the object, unless it came beside other ids (a reused handle)."""
        text, ids = self._labels.get(key, ("", frozenset()))
        if text and ids and physio_id not in ids:
            self._count("stale_label")
            return ""
        return text

    def _route(self, values: list[_Value], t: float, items: list[CodecItem]) -> None:
        """Each value to its vital (module notes) or to a device numeric."""
        taken: dict[Vital, _Value] = {}
        by_id: dict[int, list[_Value]] = {}
        for v in values:
            by_id.setdefault(v.nu.physio_id, []).append(v)
        for pid, vital in _DIRECT.items():
            if pid in by_id:
                taken[vital] = by_id[pid][0]
        temp = next((by_id[p][0] for p in TEMP_PRIORITY if p in by_id), None)
        if temp is not None:
            taken[Vital.TEMP] = temp
        rr = by_id.get(L.NOM_RESP_RATE, [None])[0]
        aw = by_id.get(L.NOM_AWAY_RESP_RATE, [None])[0]
        if rr is not None:
            taken[Vital.IMP_RR] = rr
        resp = aw if aw is not None and state_quality(aw.nu.state, aw.nu.value).has_value else (
            rr or aw)
        if resp is not None:
            taken[Vital.RESP_RATE] = resp
        used = {id(v) for v in taken.values()}
        nibp: list[tuple[Vital, _Value]] = []
        for vital, v in taken.items():
            if v.nu.physio_id in NIBP_IDS:
                nibp.append((vital, v))
            else:
                self._emit_vital(vital, v, t, items)
        self._emit_nibp(nibp, t, items)
        for v in values:
            if id(v) not in used:
                items.append(self._device_numeric(v, t))

    def _reading(self, vital: Vital, v: _Value, t: float) -> Reading | None:
        """The reading for ``v`` in our unit; None when its unit does not convert."""
        quality = state_quality(v.nu.state, v.nu.value)
        if not quality.has_value:
            return Reading.invalid(vital, t, quality, v.device_time)
        value = to_unit(v.nu.value.value, v.nu.unit_code, SPECS[vital].unit, self._ambient_mmhg)
        if value is None:
            return None
        return make_reading(vital, value, t, quality, v.device_time)

    def _emit_vital(self, vital: Vital, v: _Value, t: float, items: list[CodecItem]) -> None:
        reading = self._reading(vital, v, t)
        if reading is None:
            self._count("unit_mismatch")
            items.append(self._device_numeric(v, t))
        else:
            items.append(reading)

    def _emit_nibp(self, nibp: list[tuple[Vital, _Value]], t: float,
                   items: list[CodecItem]) -> None:
        """NIBP readings of objects showing a new determination (module notes)."""
        groups: dict[tuple[int, int], list[tuple[Vital, _Value]]] = {}
        for vital, v in nibp:
            groups.setdefault(v.key, []).append((vital, v))
        for key, members in groups.items():
            states = [v.nu.state for _, v in members]
            if any(s & (L.MS_EARLY_INDICATION | L.MS_MSMT_ONGOING) for s in states):
                continue
            readings = [(vital, v, self._reading(vital, v, t)) for vital, v in members]
            if not any(r is not None and r.valid for _, _, r in readings):
                self._nibp_last.pop(key, None)
                continue
            stamp = members[0][1].stamp
            mark = stamp if stamp is not None else tuple(
                (v.nu.physio_id, v.nu.state, v.nu.value.mantissa, v.nu.value.exponent)
                for _, v in members)
            if self._nibp_last.get(key) == mark:
                continue
            self._nibp_last[key] = mark
            for vital, v, r in readings:
                if r is None:
                    self._count("unit_mismatch")
                    items.append(self._device_numeric(v, t))
                else:
                    items.append(r)

    def _device_numeric(self, v: _Value, t: float) -> DeviceNumeric:
        pid = v.nu.physio_id
        if pid not in L.PHYSIO_LABELS:
            self._count("unknown_numerics")
        unit = unit_text(v.nu.unit_code)
        if unit.startswith("unit 0x"):
            self._count("unknown_unit")
        label = f"{v.label}{member_suffix(pid)}" if v.label else L.physio_label(pid)
        return make_device_numeric(t, pid, label, v.nu.value.value, unit,
                                   state_quality(v.nu.state, v.nu.value), v.device_time,
                                   self.name)

    # demo

    def _set_demo(self, source: str, on: bool, t: float, items: list[CodecItem]) -> None:
        self._demo_sources[source] = on
        now = any(self._demo_sources.values())
        if now != self._demo_flag:
            self._demo_flag = now
            items.append(DeviceFlag(t, DEMO_FLAG, now, DEMO_TEXT))

    # waves

    def _wave_result(self, reply: L.PollReply, t: float, items: list[CodecItem]) -> None:
        for obs in reply.observations:
            key = (obs.context_id, obs.handle)
            attrs = dict(obs.attributes)
            ctx = self._waves.setdefault(key, _WaveContext())
            try:
                self._wave_context(ctx, attrs)
                values = self._wave_values(attrs)
            except L.LayoutError:
                self._count("bad_attribute_value")
                continue
            for sa in values:
                self._wave_samples(key, ctx, sa, reply.rel_time, t, items)
        if len(self._waves) > 256:
            self._waves.clear()

    @staticmethod
    def _wave_values(attrs: dict[int, bytes]) -> list[L.SaObsValue]:
        out: list[L.SaObsValue] = []
        if L.NOM_ATTR_SA_VAL_OBS in attrs:
            out.append(L.parse_sa_obs_value(attrs[L.NOM_ATTR_SA_VAL_OBS])[0])
        if L.NOM_ATTR_SA_CMPD_VAL_OBS in attrs:
            out.extend(L.parse_sa_obs_value_cmp(attrs[L.NOM_ATTR_SA_CMPD_VAL_OBS]))
        return out

    @staticmethod
    def _wave_context(ctx: _WaveContext, attrs: dict[int, bytes]) -> None:
        if L.NOM_ATTR_TIME_PD_SAMP in attrs:
            period = L.read_u32(attrs[L.NOM_ATTR_TIME_PD_SAMP], 0)
            if period > 0 and period != ctx.period_ticks:
                ctx.period_ticks = period
                ctx.timeline = WaveTimeline(L.TICKS_PER_S / period)
                ctx.expected_rel = None
        if L.NOM_ATTR_SA_SPECN in attrs:
            ctx.spec = L.parse_sa_spec(attrs[L.NOM_ATTR_SA_SPECN])
        if L.NOM_ATTR_SCALE_SPECN_I16 in attrs:
            ctx.scale = L.parse_scale_range_spec(attrs[L.NOM_ATTR_SCALE_SPECN_I16])
        if L.NOM_ATTR_UNIT_CODE in attrs and len(attrs[L.NOM_ATTR_UNIT_CODE]) >= 2:
            ctx.unit_code = L.read_u16(attrs[L.NOM_ATTR_UNIT_CODE], 0)
        if L.NOM_ATTR_SA_FIXED_VAL_SPECN in attrs:
            masks = [v for i, v in L.parse_sa_fixed_val_spec(attrs[L.NOM_ATTR_SA_FIXED_VAL_SPECN])
                     if i == L.SA_FIX_INVALID_MASK]
            ctx.invalid_mask = masks[0] if masks else 0

    def _wave_samples(self, key: tuple[int, int], ctx: _WaveContext, sa: L.SaObsValue,
                      rel: int, t: float, items: list[CodecItem]) -> None:
        vital = WAVE_VITALS.get(sa.physio_id)
        if vital is None or not self._wave_source(vital, key, t):
            self._count("wave_skipped")
            return
        if ctx.period_ticks is None or ctx.timeline is None:
            self._count("wave_without_context")
            return
        self._wave_sources[vital] = (key, t)
        samples = self._scaled_samples(ctx, sa)
        if vital is Vital.CO2_WAVE:
            samples = self._co2_wave_mmhg(samples, ctx.unit_code)
        n = len(samples)
        if n == 0:
            return
        skip = self._wave_continuity(ctx, rel, n)
        ctx.expected_rel = (rel + n * ctx.period_ticks) % L.REL_TIME_MODULUS
        if skip >= n:
            self._count("wave_duplicate")
            return
        samples = samples[skip:]
        quality = self._wave_quality(sa.state, samples)
        if quality is Quality.NO_VALUE:
            samples = np.full(len(samples), np.nan)
        t0 = ctx.timeline.start_of(len(samples), t)
        items.append(WaveChunk(vital, t0, ctx.timeline.rate_hz, samples, quality))

    def _wave_source(self, vital: Vital, key: tuple[int, int], t: float) -> bool:
        """Whether this object feeds ``vital``: the first one seen, until it is quiet for 2 s."""
        source = self._wave_sources.get(vital)
        if source is None or source[0] == key:
            return True
        return t - source[1] > PLETH_SOURCE_QUIET_S

    def _co2_wave_mmhg(self, samples: np.ndarray, unit_code: int | None) -> np.ndarray:
        """The capnogram in mmHg, from kPa or % (the ambient pressure) where so sent."""
        if unit_code == L.NOM_DIM_KILO_PASCAL:
            return samples * KPA_TO_MMHG
        if unit_code == L.NOM_DIM_PERCENT:
            return samples * (self._ambient_mmhg or STANDARD_PRESSURE_MMHG) / 100.0
        return samples

    def _wave_continuity(self, ctx: _WaveContext, rel: int, n: int) -> int:
        """Samples of this chunk already delivered (overlap); flags gaps and jumps."""
        assert ctx.timeline is not None and ctx.period_ticks is not None
        if ctx.expected_rel is None:
            return 0
        diff = L.rel_time_diff(rel, ctx.expected_rel)
        tolerance = ctx.period_ticks // 2 + 16          # half a sample + the 2 ms precision
        if abs(diff) <= tolerance:
            return 0
        if diff > 0 or -diff > n * ctx.period_ticks + tolerance:
            self._count("wave_gap" if diff > 0 else "wave_time_jump")
            ctx.timeline.resync = True
            return 0
        self._count("wave_overlap")
        return round(-diff / ctx.period_ticks)

    @staticmethod
    def _scaled_samples(ctx: _WaveContext, sa: L.SaObsValue) -> np.ndarray:
        size = ctx.spec.sample_size if ctx.spec is not None else 16
        dtype = ">u1" if size == 8 else ">u2"
        width = 1 if size == 8 else 2
        raw = np.frombuffer(sa.samples[:len(sa.samples) // width * width], dtype=dtype)
        raw = raw.astype(np.int64)
        if ctx.spec is not None and ctx.spec.flags & L.SA_EXT_VAL_RANGE:
            raw = raw & ((1 << ctx.spec.significant_bits) - 1)
        values = raw.astype(np.float64)
        scale = ctx.scale
        if (scale is not None and math.isfinite(scale.lower_absolute)
                and math.isfinite(scale.upper_absolute)
                and scale.upper_scaled != scale.lower_scaled):
            k = (scale.upper_absolute - scale.lower_absolute) / (
                scale.upper_scaled - scale.lower_scaled)
            values = scale.lower_absolute + (values - scale.lower_scaled) * k
        if ctx.invalid_mask:
            full = np.frombuffer(sa.samples[:len(raw) * width], dtype=dtype).astype(np.int64)
            values[(full & ctx.invalid_mask) != 0] = np.nan
        return values

    @staticmethod
    def _wave_quality(state: int, samples: np.ndarray) -> Quality:
        if (state & (L.MS_INVALID | L.MS_UNAVAILABLE | _UNDEFINED_VALIDITY_BITS)
                or not np.isfinite(samples).any()):
            return Quality.NO_VALUE
        if state & (L.MS_QUESTIONABLE | L.MS_CALIBRATION_ONGOING):
            return Quality.QUESTIONABLE
        if is_demo(state):
            return Quality.DEMO
        return Quality.OK

    # alarms

    def _alarm_result(self, reply: L.PollReply, final: bool, t: float,
                      items: list[CodecItem]) -> None:
        parts = self._alarm_parts
        for obs in reply.observations:
            attrs = dict(obs.attributes)
            self._alarm_condition(attrs, t, items)
            for kind, aid in (("t", L.NOM_ATTR_AL_MON_T_AL_LIST), ("p", L.NOM_ATTR_AL_MON_P_AL_LIST)):
                if aid not in attrs:
                    continue
                try:
                    entries = L.parse_dev_alarm_list(attrs[aid])
                except L.LayoutError:
                    self._count("bad_attribute_value")
                    continue
                bucket = parts.setdefault(kind, {})
                for e in entries[:1024]:
                    bucket[(e.al_source, e.al_code)] = e
        if not final:
            return
        self._alarm_parts = {}
        for kind, active in parts.items():
            self._alarms[kind] = active
        if parts:
            self._alarm_flags(t, items)

    def _alarm_condition(self, attrs: dict[int, bytes], t: float, items: list[CodecItem]) -> None:
        raw = attrs.get(L.NOM_ATTR_DEV_AL_COND)
        if raw is None:
            return
        try:
            cond = L.parse_device_alert_condition(raw)
        except L.LayoutError:
            self._count("bad_attribute_value")
            return
        self._set_demo("alerts", bool(cond.device_alert_state & L.AL_DEV_IN_DEMO_MODE), t, items)

    def _alarm_flags(self, t: float, items: list[CodecItem]) -> None:
        now: dict[str, str] = {}
        for entries in self._alarms.values():
            for e in entries.values():
                name, text = alarm_flag(e)
                now.setdefault(name, text)
        for name in [n for n in self._flags_on if n not in now]:
            items.append(DeviceFlag(t, name, False, self._flags_on.pop(name)))
        for name, text in now.items():
            if name not in self._flags_on:
                self._flags_on[name] = text
                items.append(DeviceFlag(t, name, True, text))


def alarm_flag(entry: L.AlarmEntry) -> tuple[str, str]:
    """(flag name, text) for one alarm of the monitor (module notes)."""
    code = entry.al_code & ~1
    source_is_scada = not entry.al_code & 1
    source = L.PHYSIO_LABELS.get(entry.al_source, "") if source_is_scada else ""
    text = entry.text or f"{source or f'source {entry.al_source}'} alert {entry.al_code}"
    if source_is_scada and code in SENSOR_OFF_CODES and source.startswith(("SpO2", "Pleth")):
        return "sensor_off", f"SpO2 sensor: {text}"
    return f"intellivue.alarm.{entry.al_source}.{entry.al_code}", text


def _next_due(due: float, period: float, t: float) -> float:
    """The next time after ``due`` on a ``period`` grid, never in the past of ``t``."""
    nxt = due + period
    return nxt if nxt > t else t + period


class IntelliVueMibCodec(_IntelliVueCodec):
    """IntelliVue Data Export over the MIB/RS232 port (115200 8N1, no flow control).

    Parameters
    ----------
    poll_period_s : float
        Seconds between numerics polls and between alert polls (1..3600).
    """

    name: ClassVar[str] = "intellivue-mib"
    description: ClassVar[str] = "Philips IntelliVue Data Export (MIB/RS-232)"

    def __init__(self, poll_period_s: float = 1.0) -> None:
        super().__init__(poll_period_s=poll_period_s)
        self._deframer = L.Deframer(on_drop=self._on_drop)

    @property
    def buffered(self) -> int:
        """Unparsed bytes held (never more than :data:`MAX_BUFFER_BYTES`)."""
        return self._deframer.buffered

    def _wrap(self, message: bytes) -> bytes:
        return L.frame(message)

    def _messages(self, data: bytes) -> list[bytes]:
        return self._deframer.feed(data)

    def _resync_input(self) -> None:
        self._deframer.reset()


class IntelliVueLanCodec(_IntelliVueCodec):
    """IntelliVue Data Export over the LAN: one UDP datagram per message (port 24105).

    ``feed`` also takes a stream of concatenated messages (a capture file),
    split by their own length fields; bytes that start no message are skipped
    and counted, and a message whose outer layers do not parse is counted as
    malformed and the stream searched again from its second byte.

    Parameters
    ----------
    poll_period_s : float
        Seconds between numerics polls and between alert polls (1..3600).
    """

    name: ClassVar[str] = "intellivue-lan"
    description: ClassVar[str] = "Philips IntelliVue Data Export (LAN/UDP)"
    transport: ClassVar[str] = "udp"

    def __init__(self, poll_period_s: float = 1.0) -> None:
        super().__init__(poll_period_s=poll_period_s)
        self._buf = bytearray()
        self._resyncing = False          # skipping garbage: false starts are not messages

    @property
    def buffered(self) -> int:
        return len(self._buf)

    def _wrap(self, message: bytes) -> bytes:
        return message

    def _resync_input(self) -> None:
        if self._buf:
            self.stats.bytes_discarded += len(self._buf)
        self._buf.clear()

    def _messages(self, data: bytes) -> list[bytes]:
        buf = self._buf
        buf += data
        out: list[bytes] = []
        pos = 0
        while pos < len(buf):
            n = L.message_length(buf, pos)
            if n is None:
                break
            if n < 0 or not _plausible(buf, pos, n):
                pos = self._skip(buf, pos)
                continue
            if pos + n > len(buf):
                break
            message = bytes(buf[pos:pos + n])
            if not _frames_a_message(message):
                if not self._resyncing:                # at a boundary: a malformed message
                    self.stats.frames_bad += 1
                    self._count("bad_message")
                pos = self._skip(buf, pos)
                continue
            out.append(message)
            self._resyncing = False
            pos += n
        del buf[:pos]
        if len(buf) > MAX_BUFFER_BYTES:
            self._on_drop(L.DROP_OVERSIZED, len(buf))
            buf.clear()
        return out

    def _skip(self, buf: bytearray, pos: int) -> int:
        """Skip garbage up to the next byte that could start a message."""
        self._resyncing = True
        nxt = pos + 1
        while nxt < len(buf) and buf[nxt] not in _STARTS:
            nxt += 1
        self._on_drop(L.DROP_GARBAGE, nxt - pos)
        return nxt


_STARTS = frozenset({0xE1, 0x00, *L.ASSOC_KINDS})


def _frames_a_message(message: bytes) -> bool:
    """Whether ``message``'s outer layers parse (so its length field can be trusted)."""
    kind = L.message_kind(message)
    try:
        if kind == "data":
            L.parse_data_message(message)
        elif kind == "connect_indication":
            L.parse_connect_indication(message)
        else:
            L.parse_association(message)
    except L.LayoutError:
        return False
    return True


def _plausible(buf: bytes | bytearray, pos: int, n: int) -> bool:
    """Cheap header checks before trusting a length field (so garbage cannot swallow data)."""
    first = buf[pos]
    if first in (0xE1, 0x00):
        if len(buf) - pos < 8:
            return True
        ro_type = (buf[pos + 4] << 8) | buf[pos + 5]
        return n >= 14 and ro_type in (L.ROIV_APDU, L.RORS_APDU, L.ROER_APDU, L.ROLRS_APDU) and (
            first == 0xE1 or ro_type == L.ROIV_APDU)
    if len(buf) - pos < 5:
        return n <= 64 or first in (L.CN_SPDU_SI, L.AC_SPDU_SI)
    if first in (L.CN_SPDU_SI, L.AC_SPDU_SI):
        return buf[pos + (4 if buf[pos + 1] == 0xFF else 2)] == 0x05
    return n <= 64

