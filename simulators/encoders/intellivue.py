"""A Philips IntelliVue monitor's Data Export port (intellivue-mib, intellivue-lan), for the simulator.

The monitor side of the Data Export protocol, from the Philips "Data Export
Interface Programming Guide" (page numbers are the guide's), built and parsed
with :mod:`monitor.devices.codecs.intellivue_layout`, the codec's own layouts.

Session. Silent until a valid Association Request (ch. 6): a malformed one
(lengths that lie, no user data, no MDDL version 1, nomenclature 1.0,
SYST_CLIENT or usable poll profile: revision 0 with a receive MTU of at least
300 bytes) gets the Refuse message. A valid one gets the Association Response
(the client's min_poll_period echoed, at least 256 ms; MTUs the minimum of
the client's and the monitor's: 1000 bytes on the MIB, 1364 on the LAN; the
Poll Profile Extensions package granted with the fastest numeric source the
client asked for and, when asked, waves), then the MDS Create Event Report
(the MDS attributes with the monitor's Date and Time and Relative Time),
re-sent every 3 s with the same invoke id and the association aborted after
three unanswered sends (p. 54). Then single polls (one result) and extended
polls (an immediate result with sequence number 0; with a Time Periodic Data
Poll attribute, further results on the monitor's own result grid, 1 s for
real-time numerics and alerts, 6 / 30 / 150 s for averaged numerics and
256 ms for waves, until the active period has passed; a new request
restarts the sequence numbers but not the grid, p. 60) are answered, and the
wave priority list can be read and set (p. 63); results larger than the
negotiated receive MTU are split into Remote Operation Linked Results. An
extended poll without the negotiated package, or of a class it does not
cover, gets a Remote Operation Error. With no message from the host for the
association time-out (10 s for a poll period under 3.3 s, 3 periods up to
43 s, then 130 s, p. 70) the monitor sends an Abort and forgets the
association; a Release Request gets the Release Response; the host's Abort
ends it silently. A new Association Request while associated is discarded
(p. 282) and, so that a host that keeps asking cannot hold a dead
association forever, does not count as the host talking. Input limits
(p. 28, 30, 55): on the MIB at most 5 frames in 128 ms are processed; polls
of one object class are processed at 1 a second on average (bursts of 2;
numerics' observed values and their other attribute groups counted apart);
the rest are ignored and counted in :attr:`IntelliVueEncoder.ignored`.

Data. Numerics (each with its handle, type, metric specification, label,
label string and observed value, per the polled attribute group): ECG HR,
SpO2, pleth pulse rate, respiration rate (NOM_RESP_RATE), the compound CO2
(EtCO2 and FiCO2 0, only once the scenario has capnography), temperature
(36.8 degC unless TEMP is pushed) and the compound NBP (sys/dia/mean, the
latest determination repeated until the next one, with the determination's
own Absolute Time Stamp; absent before the first). Values are FLOAT-Type with
the fewest decimals that carry the pushed value exactly (at most 3).
Readings without a value go out as INVALID (QUESTIONABLE for
artifact/questionable, +INF for out of range) with a NaN mantissa; DEMO
readings carry the DEMO_DATA bit. A poll result's time stamp is the
monitor's Relative Time, its Absolute Time field all 0xFF, as the guide says
a monitor sends it (p. 57); absolute times (MDS Date and Time, the NBP
stamp) are the monitor's clock as local wall time, as the layout module
reads them. Pleth: the pushed 100 Hz wave resampled (linear interpolation)
on the monitor's 125 Hz grid (sample period 8 ms, 32 samples per 256 ms,
p. 286), 16-bit samples with 12 significant bits, scaled 0..4095 <->
-2.048..2.047 (a step of exactly 0.001) by its ScaleRangeSpec16. Each
periodic result carries the 256 ms period ending at its grid time and is
sent 20 ms later (the monitor's output delay: the pushed wave lags the clock
by up to one 100 Hz sample); an immediate result carries the last complete
period unless it went out already (a renewal's confirmation then has no
samples), so no sample is sent twice and none is skipped. An array with any
sample missing is sent INVALID. With attribute group 0 the wave's static
and dynamic context come in the first result and then every 1024 ms
(p. 287). Alerts: the device alert condition, a patient alarm list
("** SpO2 LOW" below 90 %, "*** DESAT" below 80 %, the monitor's default
limits) and a technical alarm list ("SpO2 SENSOR OFF", NOM_EVT_SENSOR_DISCONN
from NOM_PULS_OXIM_SAT_O2, while ``sensor_off`` is set or the scenario's SpO2
is SENSOR_OFF; "SpO2 LOW PERF" while it is LOW_PERFUSION). While the probe
is off the SpO2 and pulse numerics and the pleth arrays are INVALID.

Transports. :class:`IntelliVueMibEncoder` frames each message for the
MIB/RS232 port (BOF, header 0x11 0x01 + length, FCS, EOF, with 0x7D
transparency over header, data and FCS); :class:`IntelliVueLanEncoder` sends
each as one UDP datagram and, while no client is associated, announces itself
with Connect Indications (:meth:`IntelliVueLanEncoder.announcements`: at
once, then after 4 s, doubling up to 64 s with a random component, RFC 951 as
on p. 53, restarted when an association ends; the guide's monitor keeps
sending them while associated, here they stop, so a second host sees the
monitor taken). ``corrupt`` damages a frame's FCS (MIB) or makes a
datagram's inner length disagree with its outer one (LAN: UDP drops a
datagram with damaged bytes; only a message built wrong gets through).

The monitor's clock runs ``clock_offset`` seconds (drawn once from ``rng``)
off the session clock and its Relative Time counts from a power-on drawn
from ``rng`` one to ten hours before the first time it sees.
"""

from __future__ import annotations

import math
import struct
from collections import deque
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from monitor.core.reading import Quality, Reading, WaveChunk
from monitor.core.vitals import Vital
from monitor.devices.codecs import intellivue_layout as L
from simulators.encoders.base import Encoder

# -- what this simulated monitor is ---------------------------------------------------------

MIB_MAX_MTU, LAN_MAX_MTU = 1000, 1364          # the largest negotiable MTUs (p. 71)
MIN_CLIENT_MTU = 300                           # a client must receive at least this (p. 71)
MIN_POLL_PERIOD_TICKS = L.relative_time(0.256)  # the fastest this monitor lets a client poll
MIB_FRAME_LIMIT = (5, 0.128)
"""At most this many frames in this many seconds are processed (p. 30, implementation note)."""
POLL_RATE_PER_S, POLL_BURST = 1.0, 2.0
"""Polls of one object class processed: one a second on average, bursts of two (p. 55)."""
NUMERIC_SOURCES = ((L.POLL_EXT_PERIOD_NU_1SEC, 1.0), (L.POLL_EXT_PERIOD_NU_AVG_12SEC, 6.0),
                   (L.POLL_EXT_PERIOD_NU_AVG_60SEC, 30.0), (L.POLL_EXT_PERIOD_NU_AVG_300SEC, 150.0))
"""The Poll Profile Extensions numeric sources, fastest first, with their result period (p. 60)."""
MDS_RESEND_S, MDS_SENDS = 3.0, 3                # p. 54
WAVE_RATE_HZ = 125.0                            # 8 ms sample period (p. 286)
WAVE_ARRAY = 32                                 # samples per 256 ms result
WAVE_LAG_S = 0.02
WAVE_KEEP = 3000                                # pushed samples held at most (30 s)
WAVE_CONTEXT_EVERY = 4                          # attribute group 0: context once per 1024 ms
PLETH_SCALED = (0, 4095)                        # 12 significant bits
PLETH_ABSOLUTE = (-2.048, 2.047)                # a step of exactly 0.001
DEFAULT_TEMP = 36.8
SPO2_LOW, SPO2_DESAT = 90.0, 80.0               # the monitor's default adult limits
NOM_EVT_LO, NOM_EVT_SIG_LO, NOM_EVT_DESAT = 62, 380, 3246
ALARM_TEXT_ID = 0x00010000
ANNOUNCE_FIRST_S, ANNOUNCE_MAX_S = 4.0, 64.0    # RFC 951 resend periods (p. 53)
NOM_DEV_MON_PHYSIO_MULTI_PARAM_MDS = 4429       # the system type a real MX800 announces
MANUFACTURER, MODEL = b"Philips", b"866062"     # an MX800, as in a real capture
BED_LABEL = "CHAIR 1"
SW_REVISION = b"H.15.41 "
ID_COMP_APPL_SW, SW_REVISION_SPEC = 0x0058, 4
TEXT_CATALOG_REVISION, ENGLISH, STRFMT_UNICODE_NT = 0x01000100, 1, 11
MDS_OPERATING, AREA_OPERATING_ROOM, LINE_F_50HZ = 6, 1, 1
BEDSIDE_AUDIBLE = 0x4000
UPD_PERIODIC, NBP_ACCESS = 0x4000, 0xB000       # NBP: intermittent, episodic, non-continuous
AUTO_MEASUREMENT = 1
SMOOTH_STATIC = L.SMOOTH_CURVE | L.STATIC_SCALE


# -- association control (ch. 6) ------------------------------------------------------------

@dataclass(frozen=True)
class AssociationTerms:
    """What the monitor agreed to in its Association Response."""

    min_poll_ticks: int
    mtu_rx: int                  # the largest command the monitor sends
    mtu_tx: int                  # the largest command the client may send
    ext_options: int | None      # PollProfileExt options granted; None: no extended polls
    numeric_period_s: float

    @property
    def timeout_s(self) -> float:
        """The association time-out (p. 70)."""
        period = self.min_poll_ticks / L.TICKS_PER_S
        if period < 3.3:
            return 10.0
        return 3 * period if period <= 43.0 else 130.0

    def user_info(self) -> L.UserInfo:
        """The Association Response's MDSEUserInfoStd."""
        profile = L.PollProfile(min_poll_period=self.min_poll_ticks, max_mtu_rx=self.mtu_rx,
                                max_mtu_tx=self.mtu_tx, ext_options=self.ext_options)
        return L.UserInfo(system_type=L.SYST_SERVER, startup_mode=L.WARM_START,
                          profile=profile)


def negotiate(request: bytes, max_mtu: int) -> AssociationTerms:
    """The terms for an Association Request (p. 67-72); ValueError says why it is refused."""
    message = L.parse_association(request)           # session LI, user data (LayoutError)
    if message.kind != "request" or message.info is None:
        raise ValueError("not an association request")
    _, pos = L.read_li(request, 1)
    pos += len(L.ASSOC_SESSION_DATA)
    if pos >= len(request) or request[pos] != 0xC1:
        raise ValueError("no presentation header")
    length, pos = L.read_li(request, pos + 1)
    if pos + length != len(request):
        raise ValueError("presentation LI does not match the message")
    info = message.info
    if not info.protocol_version & L.MDDL_VERSION1:
        raise ValueError("no common protocol version")
    if not info.nomenclature_version & L.NOMEN_VERSION:
        raise ValueError("no common nomenclature version")
    if not info.system_type & L.SYST_CLIENT:
        raise ValueError("not a client")
    profile = info.profile
    if profile is None or not profile.revision & L.POLL_PROFILE_REV_0 \
            or profile.max_mtu_rx < MIN_CLIENT_MTU:
        raise ValueError("poll profile not supported")
    ext_options, numeric_period = None, 1.0
    for bit, period in NUMERIC_SOURCES:
        if profile.ext_options is not None and profile.ext_options & bit:
            ext_options = bit | (profile.ext_options & L.POLL_EXT_PERIOD_RTSA)
            numeric_period = period
            break
    return AssociationTerms(max(profile.min_poll_period, MIN_POLL_PERIOD_TICKS),
                            min(profile.max_mtu_rx, max_mtu), min(profile.max_mtu_tx, max_mtu),
                            ext_options, numeric_period)


# -- small builders the layout module does not have (candidates to move there) ---------------

def float_value(value: float, max_digits: int = 3) -> int:
    """FLOAT-Type u32 of ``value`` with the fewest digits that carry it exactly."""
    digits = 0
    if math.isfinite(value):
        for digits in range(max_digits + 1):
            scaled = value * 10 ** digits
            if abs(scaled - round(scaled)) < 1e-6:
                break
        while digits > -3 and abs(round(value * 10 ** digits)) > L.FLOAT_MAX_MANTISSA:
            digits -= 1
    return L.float_type(value, digits)


def variable_label(data: bytes) -> bytes:
    """VariableLabel (p. 40): 8-bit text, always an even length."""
    if len(data) % 2:
        data += b"\x00"
    return L.u16(len(data)) + data


def build_get_result(invoke_id: int, attributes: list[L.Attribute]) -> bytes:
    """Get Result (p. 50, p. 63): the MDS object and the attributes asked for."""
    body = L.managed_object(L.MDS_OBJECT) + L.attribute_list(attributes)
    ro = L.RORS.pack(invoke_id, L.CMD_GET, len(body)) + body
    return L.SPPDU.pack(L.SESSION_ID, L.DEFAULT_CONTEXT_ID) + L.ROAPDUS.pack(L.RORS_APDU,
                                                                             len(ro)) + ro


def split_messages(data: bytes) -> list[bytes]:
    """Messages concatenated in ``data``, each delimited by its own length fields."""
    out, pos = [], 0
    while pos < len(data):
        n = L.message_length(data, pos)
        if n is None or n < 0 or pos + n > len(data):
            break
        out.append(data[pos:pos + n])
        pos += n
    return out


# -- the monitor's objects ------------------------------------------------------------------

@dataclass(frozen=True)
class _Numeric:
    """One numeric object: its handle, label and the vitals it carries."""

    handle: int
    label: str
    physio: int                                  # the object's type (the compound's id)
    unit: int
    members: tuple[tuple[Vital, int], ...]       # (vital, physio id) of each value
    update_ticks: int = L.TICKS_PER_S

    @property
    def compound(self) -> bool:
        return len(self.members) > 1

    @property
    def label_id(self) -> int:
        """The label's TextId: NLS_NOM_<physio> (partition 2 in the upper half)."""
        return (L.NOM_PART_SCADA << 16) | self.physio


NUMERICS = (
    _Numeric(0x0150, "HR", L.NOM_ECG_CARD_BEAT_RATE, L.NOM_DIM_BEAT_PER_MIN,
             ((Vital.HR, L.NOM_ECG_CARD_BEAT_RATE),)),
    _Numeric(0x0151, "SpO2", L.NOM_PULS_OXIM_SAT_O2, L.NOM_DIM_PERCENT,
             ((Vital.SPO2, L.NOM_PULS_OXIM_SAT_O2),)),
    _Numeric(0x0152, "Pulse", L.NOM_PLETH_PULS_RATE, L.NOM_DIM_BEAT_PER_MIN,
             ((Vital.PULSE_RATE, L.NOM_PLETH_PULS_RATE),)),
    _Numeric(0x0153, "NBP", L.NOM_PRESS_BLD_NONINV, L.NOM_DIM_MMHG,
             ((Vital.NIBP_SYS, L.NOM_PRESS_BLD_NONINV_SYS),
              (Vital.NIBP_DIA, L.NOM_PRESS_BLD_NONINV_DIA),
              (Vital.NIBP_MEAN, L.NOM_PRESS_BLD_NONINV_MEAN)), update_ticks=0),
    _Numeric(0x0154, "RR", L.NOM_RESP_RATE, L.NOM_DIM_RESP_PER_MIN,
             ((Vital.RESP_RATE, L.NOM_RESP_RATE),)),
    _Numeric(0x0155, "CO2", L.NOM_AWAY_CO2, L.NOM_DIM_MMHG,
             ((Vital.ETCO2, L.NOM_AWAY_CO2_ET), (Vital.FICO2, L.NOM_AWAY_CO2_INSP_MIN))),
    _Numeric(0x0156, "Temp", L.NOM_TEMP, L.NOM_DIM_DEGC, ((Vital.TEMP, L.NOM_TEMP),)),
)
_BY_VITAL = {vital: n for n in NUMERICS for vital, _ in n.members}
_NBP = _BY_VITAL[Vital.NIBP_SYS]
_NIBP_VITALS = tuple(v for v, _ in _NBP.members)
_PROBE = frozenset({Vital.SPO2, Vital.PULSE_RATE})
PLETH_HANDLE, ALERT_HANDLE, MDS_HANDLE = 0x0160, 0x0170, 0x0001
_POLLABLE = frozenset({L.NOM_MOC_VMO_METRIC_NU, L.NOM_MOC_VMO_METRIC_SA_RT, L.NOM_MOC_VMO_AL_MON,
                       L.NOM_MOC_PT_DEMOG, L.NOM_MOC_VMS_MDS})
_EXTENDED = frozenset({L.NOM_MOC_VMO_METRIC_NU, L.NOM_MOC_VMO_METRIC_SA_RT, L.NOM_MOC_VMO_AL_MON})


def _wants(group: int, *which: int) -> bool:
    return group == L.NOM_ATTR_GRP_ALL or group in which


@dataclass
class _Poll:
    """A poll being answered; periodic (``period`` > 0) until ``until``."""

    obj_class: int
    attr_grp: int
    poll_number: int
    invoke_id: int
    extended: bool
    period: float = 0.0
    next_t: float = 0.0
    until: float = 0.0
    seq: int = 0


@dataclass(frozen=True)
class _Alarm:
    source: int
    code: int
    kind: int
    text: str
    handle: int


class _TokenBucket:
    def __init__(self) -> None:
        self.tokens = POLL_BURST
        self.t: float | None = None

    def take(self, now: float) -> bool:
        if self.t is not None:
            self.tokens = min(POLL_BURST, self.tokens + (now - self.t) * POLL_RATE_PER_S)
        self.t = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class IntelliVueEncoder(Encoder):
    """The monitor side of the Data Export protocol (see the module docstring).

    Transport subclasses say how one message travels (:meth:`wire`), how host
    bytes split into messages (:meth:`_messages`) and how a frame is damaged.

    Attributes
    ----------
    clock_offset : int
        Seconds the monitor's clock runs ahead of the session clock.
    state : str
        ``"idle"`` (no association), ``"creating"`` (association accepted,
        MDS Create Event not yet confirmed) or ``"associated"``.
    terms : AssociationTerms or None
        The current association's terms.
    associations : int
        Associations accepted so far.
    ignored : dict of str to int
        Host messages the monitor did not act on, by reason.
    """

    max_mtu: ClassVar[int] = MIB_MAX_MTU

    def __init__(self, rng: np.random.Generator) -> None:
        super().__init__(rng)
        self.clock_offset = int(rng.integers(-90, 91))
        self._uptime_s = float(rng.uniform(3600.0, 36000.0))
        self.mac = bytes((0x00, 0x09, 0xFB, *rng.integers(0, 256, 3).tolist()))
        self._power_on: float | None = None
        self._now: float | None = None
        self._inbox: list[bytes] = []
        self.state = "idle"
        self.terms: AssociationTerms | None = None
        self.associations = 0
        self.ignored: dict[str, int] = {}
        self._last_rx = 0.0
        self._mds_invoke = 0
        self._mds_sends = 0
        self._mds_next = 0.0
        self._periodic_polls: dict[int, _Poll] = {}
        self._buckets: dict[tuple[int, bool], _TokenBucket] = {}
        self._wave_list = [L.NLS_NOM_PULS_OXIM_PLETH]
        self._wave_sent: int | None = None        # the last wave period sent (its end boundary)
        # scenario side
        self._latest: dict[Vital, Reading] = {}
        self._nibp: dict[Vital, Reading] = {}
        self._nibp_t: float | None = None
        self._capnography = False
        self._wt = np.empty(0)
        self._wv = np.empty(0)
        self._alarm_changes = 0
        self._alarm_key: tuple[_Alarm, ...] = ()

    # -- scenario side -------------------------------------------------------

    def push(self, item: Reading | WaveChunk) -> None:
        if isinstance(item, WaveChunk):
            self._touch(item.t_end)
            if item.vital is Vital.PLETH and len(item):
                self._wt = np.concatenate((self._wt, item.times()))
                self._wv = np.concatenate(
                    (self._wv, np.asarray(item.samples, dtype=np.float64)))
                if self._wt.size > WAVE_KEEP:           # nobody polls the wave: bounded
                    self._wt, self._wv = self._wt[-WAVE_KEEP:], self._wv[-WAVE_KEEP:]
            return
        self._touch(item.t)
        if item.vital in _NIBP_VITALS:
            if item.valid:
                if item.vital is Vital.NIBP_SYS and item.t != self._nibp_t:
                    self._nibp, self._nibp_t = {}, item.t
                self._nibp[item.vital] = item
            return
        if item.vital is Vital.ETCO2:
            self._capnography = True
        self._latest[item.vital] = item

    def _touch(self, t: float) -> None:
        if self._power_on is None:
            self._power_on = t - self._uptime_s
        self._now = t if self._now is None else max(self._now, t)

    def _probe_off(self) -> bool:
        spo2 = self._latest.get(Vital.SPO2)
        return self.sensor_off or (spo2 is not None and spo2.quality is Quality.SENSOR_OFF)

    # -- host side -----------------------------------------------------------

    def receive(self, data: bytes) -> None:
        self._inbox += self._messages(bytes(data))

    def _messages(self, data: bytes) -> list[bytes]:
        raise NotImplementedError

    def wire(self, message: bytes) -> bytes:
        """``message`` as it travels (one frame or one datagram)."""
        raise NotImplementedError

    def _admit_frame(self, now: float) -> bool:
        return True

    def _ignore(self, reason: str) -> None:
        self.ignored[reason] = self.ignored.get(reason, 0) + 1

    def _handle(self, message: bytes, now: float, out: list[bytes]) -> None:
        kind = L.message_kind(message)
        if kind == "request":
            self._on_association_request(message, now, out)
        elif self.state == "idle":
            self._ignore("not associated")
        elif kind == "release_request":
            out.append(L.build_release_response())
            self._end_association()
        elif kind == "abort":
            self._end_association()
        elif kind == "data":
            self._last_rx = now
            try:
                self._on_data_export(L.parse_data_message(message), now, out)
            except (ValueError, struct.error, IndexError):      # LayoutError is a ValueError
                self._ignore("malformed")
        else:
            self._ignore("unexpected message")

    def _on_association_request(self, message: bytes, now: float, out: list[bytes]) -> None:
        if self.state != "idle":
            self._ignore("association request while associated")
            return
        try:
            self.terms = negotiate(message, self.max_mtu)
        except (ValueError, struct.error, IndexError) as exc:
            self._ignore(f"refused: {exc}")
            out.append(L.build_refuse())
            return
        self.associations += 1
        self.state = "creating"
        self._last_rx = now
        self._mds_invoke = (self._mds_invoke + 1) & 0xFFFF
        self._mds_sends, self._mds_next = 0, now
        self._periodic_polls.clear()
        self._buckets.clear()
        self._wave_list = [L.NLS_NOM_PULS_OXIM_PLETH]
        self._wave_sent = None
        out.append(L.build_association_response(self.terms.user_info()))

    def _end_association(self) -> None:
        self.state = "idle"
        self.terms = None
        self._periodic_polls.clear()
        self._wave_sent = None

    def _on_data_export(self, message: L.DataMessage, now: float, out: list[bytes]) -> None:
        if message.ro_type == L.RORS_APDU and self.state == "creating":
            result = L.parse_event_report_result(message.body)
            if (message.invoke_id == self._mds_invoke
                    and message.command_type == L.CMD_CONFIRMED_EVENT_REPORT
                    and result.event_type == L.NOM_NOTI_MDS_CREAT
                    and result.managed_object == L.MDS_OBJECT):
                self.state = "associated"
            else:
                self._ignore("unexpected result")
            return
        if message.ro_type != L.ROIV_APDU:
            self._ignore("unexpected remote operation")
        elif self.state != "associated":
            self._ignore("before the MDS create result")
        elif message.command_type == L.CMD_CONFIRMED_ACTION:
            self._on_action(message, now, out)
        elif message.command_type == L.CMD_GET:
            self._on_get(message, out)
        elif message.command_type in (L.CMD_SET, L.CMD_CONFIRMED_SET):
            self._on_set(message, out)
        else:
            self._ignore("unknown command")

    def _on_action(self, message: L.DataMessage, now: float, out: list[bytes]) -> None:
        invoke_id = message.invoke_id
        try:
            request = L.parse_poll_request(message.body)
        except L.LayoutError:
            action = L.read_u16(message.body, 10)
            out.append(L.build_error(invoke_id, 9, L.u16(L.NOM_MOC_VMS_MDS) + L.u16(action)))
            return                                              # NO_SUCH_ACTION (p. 45)
        assert self.terms is not None
        cls = request.obj_class
        if request.extended:
            ext = self.terms.ext_options
            if ext is None or cls not in _EXTENDED or (cls == L.NOM_MOC_VMO_METRIC_SA_RT
                                                       and not ext & L.POLL_EXT_PERIOD_RTSA):
                out.append(L.build_error(invoke_id, 9, L.u16(L.NOM_MOC_VMS_MDS)
                                         + L.u16(request.action_type)))
                return
        elif cls not in _POLLABLE:
            out.append(L.build_error(invoke_id, 0, L.u16(cls)))   # NO_SUCH_OBJECT_CLASS
            return
        if request.managed_object != L.MDS_OBJECT:
            out.append(L.build_error(invoke_id, 1, L.managed_object(request.managed_object)))
            return                                              # NO_SUCH_OBJECT_INSTANCE
        observed = cls == L.NOM_MOC_VMO_METRIC_NU and \
            request.attr_group == L.NOM_ATTR_GRP_METRIC_VAL_OBS
        if not self._buckets.setdefault((cls, observed), _TokenBucket()).take(now):
            self._ignore("poll rate")
            return
        poll = _Poll(cls, request.attr_group, request.poll_number, invoke_id, request.extended)
        out += self._poll_result(poll, now)
        period_s = request.period_s
        if request.extended and period_s:
            old = self._periodic_polls.get(cls)
            poll.period = self._period(cls)
            if old is not None and now - poll.period <= old.next_t <= old.until:
                poll.next_t = old.next_t                    # the basic period goes on (p. 61)
            elif cls == L.NOM_MOC_VMO_METRIC_SA_RT:
                poll.next_t = self._wave_boundary(self._last_wave_window(now) + 1)
            else:
                assert self._power_on is not None
                k = math.floor((now - self._power_on) / poll.period + 1e-9) + 1
                poll.next_t = self._power_on + k * poll.period
            poll.until = now + period_s
            poll.seq = 1
            self._periodic_polls[cls] = poll

    def _period(self, obj_class: int) -> float:
        if obj_class == L.NOM_MOC_VMO_METRIC_SA_RT:
            return L.WAVE_RESULT_PERIOD_S
        if obj_class == L.NOM_MOC_VMO_METRIC_NU and self.terms is not None:
            return self.terms.numeric_period_s
        return L.ALERT_RESULT_PERIOD_S

    def _on_get(self, message: L.DataMessage, out: list[bytes]) -> None:
        count = L.read_u16(message.body, 10)
        ids = [L.read_u16(message.body, 14 + 2 * i) for i in range(count)]
        out.append(build_get_result(message.invoke_id, [
            (L.NOM_ATTR_POLL_RTSA_PRIO_LIST, L.text_id_list(self._wave_list))
            for attr in ids if attr == L.NOM_ATTR_POLL_RTSA_PRIO_LIST]))

    def _on_set(self, message: L.DataMessage, out: list[bytes]) -> None:
        _obj, entries = L.parse_set_argument(message.body)
        changed = []
        for operator, attr, value in entries:
            if attr == L.NOM_ATTR_POLL_RTSA_PRIO_LIST:
                if operator == L.MODIFY_REPLACE:
                    self._wave_list = L.parse_text_id_list(value)
                elif operator == L.MODIFY_SET_TO_DEFAULT:
                    self._wave_list = [L.NLS_NOM_PULS_OXIM_PLETH]
                changed.append((attr, L.text_id_list(self._wave_list)))
            elif attr == L.NOM_ATTR_POLL_NU_PRIO_LIST:
                changed.append((attr, value))       # accepted; every numeric is sent anyway
        if message.command_type == L.CMD_CONFIRMED_SET:
            out.append(L.build_set_result(message.invoke_id, changed))

    # -- device side ---------------------------------------------------------

    def due(self, now: float) -> list[bytes]:
        self._touch(now)
        out: list[bytes] = []
        self._timers(now, out)               # what was due before the host's messages came
        inbox, self._inbox = self._inbox, []
        for message in inbox:
            if self._admit_frame(now):
                self._handle(message, now, out)
            else:
                self._ignore("frame rate")
        self._timers(now, out)
        return [self.wire(message) for message in out]

    def _timers(self, now: float, out: list[bytes]) -> None:
        """Periodic results, MDS Create resends and the association time-out up to ``now``."""
        if self.state == "idle":
            return
        assert self.terms is not None
        deadline = self._last_rx + self.terms.timeout_s
        self._periodic(min(now, deadline), out)
        if self.state == "creating" and self._mds_next <= now:
            if self._mds_sends >= MDS_SENDS:
                out.append(L.build_abort())
                self._end_association()
            else:
                self._mds_sends += 1
                self._mds_next += MDS_RESEND_S
                out.append(self._mds_create(now))
        if self.state != "idle" and now >= deadline:
            out.append(L.build_abort())
            self._end_association()

    def _periodic(self, upto: float, out: list[bytes]) -> None:
        while True:
            due = [(p.next_t, cls) for cls, p in self._periodic_polls.items()
                   if p.next_t + (WAVE_LAG_S if cls == L.NOM_MOC_VMO_METRIC_SA_RT else 0.0)
                   <= upto]
            if not due:
                return
            t, cls = min(due)
            poll = self._periodic_polls[cls]
            if t > poll.until:
                del self._periodic_polls[cls]
                continue
            out += self._poll_result(poll, t)
            poll.seq = (poll.seq + 1) & 0xFFFF
            poll.next_t += poll.period

    # -- building results ----------------------------------------------------

    def _rel(self, t: float) -> int:
        assert self._power_on is not None
        return L.relative_time(t - self._power_on)

    def monitor_time(self, t: float) -> float:
        """The monitor's clock at session time ``t``."""
        return t + self.clock_offset

    def _poll_result(self, poll: _Poll, t: float) -> list[bytes]:
        """The result message(s) of ``poll`` at ``t``: linked results when over the MTU."""
        objects, stamp = self._observations(poll, t)
        assert self.terms is not None
        # The command: RORS header 6 + ActionResult 10 + reply header + PollInfoList 4 + 6.
        room = self.terms.mtu_rx - (6 + 10 + (20 if poll.extended else 18) + 4 + 6)
        parts: list[list[tuple[int, list[L.Attribute]]]] = [[]]
        size = 0
        for handle, attributes in objects:
            n = 6 + sum(4 + len(v) for _, v in attributes)
            if parts[-1] and size + n > room:
                parts.append([])
                size = 0
            parts[-1].append((handle, attributes))
            size += n
        messages = []
        for i, part in enumerate(parts):
            linked = None
            if i < len(parts) - 1:
                linked = ((L.RORLS_LAST if i == len(parts) - 2 else
                           L.RORLS_FIRST if i == 0 else L.RORLS_NOT_FIRST_NOT_LAST), i + 1)
            messages.append(L.build_poll_result(
                poll.invoke_id, poll.poll_number, poll.obj_class, self._rel(stamp),
                contexts=[(0, part)] if part else [], attr_group=poll.attr_grp,
                sequence_no=poll.seq, extended=poll.extended, linked=linked))
        return messages

    def _observations(self, poll: _Poll, t: float
                      ) -> tuple[list[tuple[int, list[L.Attribute]]], float]:
        """The polled objects' (handle, attributes) at ``t``, and the result's time stamp.

        The stamp is ``t``, or for waves the beginning of the 256 ms period the
        samples cover (p. 62).
        """
        group, cls = poll.attr_grp, poll.obj_class
        if cls == L.NOM_MOC_VMO_METRIC_NU:
            return [(n.handle, self._numeric_attributes(n, group))
                    for n in self._present_numerics()], t
        if cls == L.NOM_MOC_VMO_METRIC_SA_RT:
            window = self._wave_window(poll, t)
            wave = self._wave_attributes(poll, window)
            if window is not None:
                stamp = self._wave_boundary(window - 1)
            elif self._wave_sent is not None:        # the period under way since the last one
                stamp = self._wave_boundary(self._wave_sent)
            else:
                stamp = t
            return ([] if not wave else [(PLETH_HANDLE, wave)]), stamp
        if cls == L.NOM_MOC_VMO_AL_MON:
            return [(ALERT_HANDLE, self._alert_attributes(group))], t
        if cls == L.NOM_MOC_VMS_MDS:
            return [(MDS_HANDLE, self._mds_attributes(t, group))], t
        return [], t

    # numerics

    def _present_numerics(self) -> list[_Numeric]:
        out = []
        for n in NUMERICS:
            if n is _NBP:
                present = bool(self._nibp)
            elif n.physio == L.NOM_AWAY_CO2:
                present = self._capnography
            else:
                present = n.physio == L.NOM_TEMP or n.members[0][0] in self._latest
            if present:
                out.append(n)
        return out

    def _numeric_attributes(self, n: _Numeric, group: int) -> list[L.Attribute]:
        attrs: list[L.Attribute] = []
        if _wants(group, L.NOM_ATTR_GRP_VMO_STATIC):
            access = NBP_ACCESS if n is _NBP else UPD_PERIODIC
            structure = bytes((1, len(n.members))) if n.compound else bytes((0, 0))
            attrs += [(L.NOM_ATTR_ID_HANDLE, L.u16(n.handle)),
                      (L.NOM_ATTR_ID_TYPE, L.type_value(L.NOM_PART_SCADA, n.physio)),
                      (L.NOM_ATTR_METRIC_SPECN, L.u32(n.update_ticks) + L.u16(AUTO_MEASUREMENT)
                       + L.u16(access) + structure + L.u16(0))]
        if _wants(group, L.NOM_ATTR_GRP_VMO_DYN):
            attrs += [(L.NOM_ATTR_ID_LABEL, L.label(n.label_id)),
                      (L.NOM_ATTR_ID_LABEL_STRING, L.string_value(n.label))]
        if _wants(group, L.NOM_ATTR_GRP_METRIC_VAL_OBS):
            values = [L.nu_obs_value(physio, state, n.unit, 0.0, raw=raw)
                      for (vital, physio) in n.members
                      for state, raw in (self._state_value(vital, n),)]
            if n.compound:
                attrs.append((L.NOM_ATTR_NU_CMPD_VAL_OBS, L.nu_obs_value_cmp(values)))
            else:
                attrs.append((L.NOM_ATTR_NU_VAL_OBS, values[0]))
            if n is _NBP and self._nibp_t is not None:
                attrs.append((L.NOM_ATTR_TIME_STAMP_ABS,
                              L.absolute_time(self.monitor_time(self._nibp_t))))
        return attrs

    def _state_value(self, vital: Vital, n: _Numeric) -> tuple[int, int]:
        """(MeasurementState, FLOAT-Type u32) of ``vital`` now."""
        if vital in _PROBE and self._probe_off():
            return L.MS_INVALID, L.FLOAT_NAN
        reading = (self._nibp if n is _NBP else self._latest).get(vital)
        if reading is None:
            if vital is Vital.TEMP:
                return 0, float_value(DEFAULT_TEMP)
            if vital is Vital.FICO2:
                return 0, float_value(0.0)
            return L.MS_INVALID | L.MS_UNAVAILABLE, L.FLOAT_NAN
        if reading.valid:
            state = L.MS_DEMO_DATA if reading.quality is Quality.DEMO else 0
            return state, float_value(reading.value)
        if reading.quality in (Quality.QUESTIONABLE, Quality.ARTIFACT):
            return L.MS_QUESTIONABLE, L.FLOAT_NAN
        if reading.quality is Quality.OUT_OF_RANGE:
            return 0, L.FLOAT_POS_INF
        return L.MS_INVALID, L.FLOAT_NAN

    # waves

    def _wave_boundary(self, k: int) -> float:
        """Session time of the ``k``-th 256 ms boundary of the monitor's wave grid."""
        assert self._power_on is not None
        return self._power_on + k * L.WAVE_RESULT_PERIOD_S

    def _last_wave_window(self, t: float) -> int:
        """The last wave period complete (its lag passed) at ``t``, by its end boundary."""
        assert self._power_on is not None
        return math.floor((t - WAVE_LAG_S - self._power_on) / L.WAVE_RESULT_PERIOD_S + 1e-9)

    def _wave_window(self, poll: _Poll, t: float) -> int | None:
        """The period (by its end boundary) whose samples the result carries; None: none.

        A periodic result carries the period ending at its grid time; an immediate
        one the last complete period unless it was sent already (a renewal's
        confirmation then carries no samples). A period is never sent twice.
        """
        assert self._power_on is not None
        if poll.period == 0.0:
            k = self._last_wave_window(t)
        else:
            k = round((t - self._power_on) / L.WAVE_RESULT_PERIOD_S)
        if self._wave_sent is not None and k <= self._wave_sent:
            return None
        return k

    def _wave_attributes(self, poll: _Poll, window: int | None) -> list[L.Attribute]:
        if L.NLS_NOM_PULS_OXIM_PLETH not in self._wave_list:
            return []
        group = poll.attr_grp
        attrs: list[L.Attribute] = []
        context = group != L.NOM_ATTR_GRP_ALL or poll.seq % WAVE_CONTEXT_EVERY == 0
        if _wants(group, L.NOM_ATTR_GRP_VMO_STATIC) and context:
            attrs += [(L.NOM_ATTR_ID_HANDLE, L.u16(PLETH_HANDLE)),
                      (L.NOM_ATTR_ID_TYPE, L.type_value(L.NOM_PART_SCADA, L.NOM_PLETH)),
                      (L.NOM_ATTR_METRIC_SPECN, L.u32(L.relative_time(L.WAVE_RESULT_PERIOD_S))
                       + L.u16(AUTO_MEASUREMENT) + L.u16(UPD_PERIODIC) + bytes(2) + L.u16(0)),
                      (L.NOM_ATTR_SA_SPECN, L.sa_spec(WAVE_ARRAY, 16, 12, SMOOTH_STATIC)),
                      (L.NOM_ATTR_TIME_PD_SAMP, L.sample_period(1.0 / WAVE_RATE_HZ))]
        if _wants(group, L.NOM_ATTR_GRP_VMO_DYN) and context:
            lo, hi = PLETH_ABSOLUTE
            attrs += [(L.NOM_ATTR_ID_LABEL, L.label(L.NLS_NOM_PULS_OXIM_PLETH)),
                      (L.NOM_ATTR_ID_LABEL_STRING, L.string_value("Pleth")),
                      (L.NOM_ATTR_UNIT_CODE, L.u16(L.NOM_DIM_DIMLESS)),
                      (L.NOM_ATTR_METRIC_STAT, L.u16(0)),
                      (L.NOM_ATTR_SCALE_SPECN_I16, L.scale_range_spec(lo, hi, *PLETH_SCALED,
                                                                      digits=3))]
        if _wants(group, L.NOM_ATTR_GRP_METRIC_VAL_OBS) and window is not None:
            self._wave_sent = window
            raw, valid = self._pleth_samples(window * WAVE_ARRAY - WAVE_ARRAY,
                                             window * WAVE_ARRAY)
            attrs.append((L.NOM_ATTR_SA_VAL_OBS, L.sa_obs_value(
                L.NOM_PLETH, 0 if valid else L.MS_INVALID, L.sa_samples(raw))))
        return attrs

    def _pleth_samples(self, start: int, end: int) -> tuple[list[int], bool]:
        """Raw samples ``start`` to ``end - 1`` of the 125 Hz grid and whether all are valid."""
        assert self._power_on is not None
        taus = self._power_on + np.arange(start, end) / WAVE_RATE_HZ
        values = self._pleth_at(taus)
        if self._probe_off() or np.isnan(values).any():
            return [0] * (end - start), False
        lo, hi = PLETH_ABSOLUTE
        step = (hi - lo) / (PLETH_SCALED[1] - PLETH_SCALED[0])
        raw = np.clip(np.rint((values - lo) / step) + PLETH_SCALED[0], *PLETH_SCALED)
        return raw.astype(np.int64).tolist(), True

    def _pleth_at(self, taus: np.ndarray) -> np.ndarray:
        """The pushed pleth linearly interpolated at ``taus``; NaN outside contiguous data."""
        t, v = self._wt, self._wv
        if t.size < 2:
            return np.full(taus.size, np.nan)
        i = np.clip(np.searchsorted(t, taus, side="right") - 1, 0, t.size - 2)
        t0, t1 = t[i], t[i + 1]
        inside = (taus >= t0) & (taus <= t1) & (t1 - t0 <= 0.015)
        frac = np.where(inside, (taus - t0) / np.where(t1 > t0, t1 - t0, 1.0), 0.0)
        return np.where(inside, v[i] + frac * (v[i + 1] - v[i]), np.nan)

    def _trim_wave(self, keep_from: float) -> None:
        if self._wt.size and self._wt[0] < keep_from - 1.0:
            keep = self._wt >= keep_from - 1.0
            self._wt, self._wv = self._wt[keep], self._wv[keep]

    # alerts

    def alarms(self) -> tuple[list[_Alarm], list[_Alarm]]:
        """(patient, technical) alarms active now."""
        patient, technical = [], []
        spo2 = self._latest.get(Vital.SPO2)
        handle = _BY_VITAL[Vital.SPO2].handle
        if self._probe_off():
            technical.append(_Alarm(L.NOM_PULS_OXIM_SAT_O2, L.NOM_EVT_SENSOR_DISCONN,
                                    L.MED_PRI_T_AL, "SpO2 SENSOR OFF", handle))
        elif spo2 is not None and spo2.quality is Quality.LOW_PERFUSION:
            technical.append(_Alarm(L.NOM_PULS_OXIM_SAT_O2, NOM_EVT_SIG_LO, L.LOW_PRI_T_AL,
                                    "SpO2 LOW PERF", handle))
        if not self._probe_off() and spo2 is not None and spo2.valid:
            if spo2.value < SPO2_DESAT:
                patient.append(_Alarm(L.NOM_PULS_OXIM_SAT_O2, NOM_EVT_DESAT, L.HI_PRI_P_AL,
                                      "*** DESAT", handle))
            elif spo2.value < SPO2_LOW:
                patient.append(_Alarm(L.NOM_PULS_OXIM_SAT_O2, NOM_EVT_LO, L.MED_PRI_P_AL,
                                      "** SpO2 LOW", handle))
        return patient, technical

    def _alert_attributes(self, group: int) -> list[L.Attribute]:
        attrs: list[L.Attribute] = []
        if _wants(group, L.NOM_ATTR_GRP_VMO_STATIC):
            attrs += [(L.NOM_ATTR_ID_HANDLE, L.u16(ALERT_HANDLE)),
                      (L.NOM_ATTR_ID_TYPE, L.type_value(L.NOM_PART_OBJ, L.NOM_MOC_VMO_AL_MON))]
        if _wants(group, L.NOM_ATTR_GRP_AL_MON):
            patient, technical = self.alarms()
            key = tuple(patient + technical)
            if key != self._alarm_key:
                self._alarm_key = key
                self._alarm_changes = (self._alarm_changes + 1) & 0xFFFF
            max_p = max((a.kind for a in patient), default=L.NO_ALERT)
            max_t = max((a.kind for a in technical), default=L.NO_ALERT)
            attrs += [(L.NOM_ATTR_DEV_AL_COND, L.device_alert_condition(
                          0, self._alarm_changes, max_p, max_t, max(max_p, max_t))),
                      (L.NOM_ATTR_AL_MON_P_AL_LIST, _alarm_list(patient)),
                      (L.NOM_ATTR_AL_MON_T_AL_LIST, _alarm_list(technical))]
        return attrs

    # the MDS

    def _mds_attributes(self, t: float, group: int) -> list[L.Attribute]:
        attrs: list[L.Attribute] = []
        if _wants(group, L.NOM_ATTR_GRP_SYS_ID):
            attrs += [(L.NOM_ATTR_SYS_TYPE, L.type_value(L.NOM_PART_OBJ,
                                                         NOM_DEV_MON_PHYSIO_MULTI_PARAM_MDS)),
                      (L.NOM_ATTR_ID_MODEL, variable_label(MANUFACTURER) + variable_label(MODEL)),
                      (L.NOM_ATTR_SYS_ID, variable_label(self.mac)),
                      (L.NOM_ATTR_NOM_VERS, L.u32(0x00010000)),
                      (L.NOM_ATTR_LOCALIZN, _localization()),
                      (L.NOM_ATTR_ID_ASSOC_NO, L.u16(self.associations))]
        if _wants(group, L.NOM_ATTR_GRP_SYS_APPL):
            attrs += [(L.NOM_ATTR_VMS_MDS_STAT, L.u16(MDS_OPERATING)),
                      (L.NOM_ATTR_ID_BED_LABEL, L.string_value(BED_LABEL, size=17)),
                      (L.NOM_ATTR_MODE_OP, L.u16(L.OPMODE_MONITORING)),
                      (L.NOM_ATTR_AREA_APPL, L.u16(AREA_OPERATING_ROOM)),
                      (L.NOM_ATTR_TIME_ABS, L.absolute_time(self.monitor_time(t))),
                      (L.NOM_ATTR_TIME_REL, L.u32(self._rel(t))),
                      (L.NOM_ATTR_LINE_FREQ, L.u16(LINE_F_50HZ)),
                      (L.NOM_ATTR_ALTITUDE, L.u16(0))]
        if _wants(group, L.NOM_ATTR_GRP_SYS_PROD):
            attrs.append((L.NOM_ATTR_ID_PROD_SPECN, L.u16(1) + L.u16(4 + 2 + len(SW_REVISION))
                          + L.u16(SW_REVISION_SPEC) + L.u16(ID_COMP_APPL_SW)
                          + variable_label(SW_REVISION)))
        return attrs

    def _mds_create(self, t: float) -> bytes:
        """The MDS Create Event Report (p. 54), with the monitor's date, time and relative time."""
        attrs = [a for g in (L.NOM_ATTR_GRP_SYS_ID, L.NOM_ATTR_GRP_SYS_APPL)
                 for a in self._mds_attributes(t, g)]
        return L.build_mds_create_event(self._mds_invoke, self._rel(t), attrs)


def _localization() -> bytes:
    return L.u32(TEXT_CATALOG_REVISION) + L.u16(ENGLISH) + L.u16(STRFMT_UNICODE_NT)


def _alarm_list(alarms: list[_Alarm]) -> bytes:
    return L.dev_alarm_list([
        L.dev_alarm_entry(a.source, a.code, a.kind, 0, (L.NOM_MOC_VMO_METRIC_NU, 0, a.handle),
                          a.text, al_inst_no=i, al_text=ALARM_TEXT_ID | a.code,
                          flags=BEDSIDE_AUDIBLE)
        for i, a in enumerate(alarms)])


class IntelliVueMibEncoder(IntelliVueEncoder):
    """The monitor's MIB/RS232 port (115200 8N1): each message one frame.

    Attributes
    ----------
    dropped_frames : dict of str to int
        Host frames the deframer dropped, by kind (bad FCS, malformed...).
    """

    name: ClassVar[str] = "intellivue-mib"
    max_mtu: ClassVar[int] = MIB_MAX_MTU

    def __init__(self, rng: np.random.Generator) -> None:
        super().__init__(rng)
        self.dropped_frames: dict[str, int] = {}
        self._deframer = L.Deframer(self._on_drop)
        self._frame_times: deque[float] = deque()

    def _on_drop(self, kind: str, nbytes: int) -> None:
        if kind != L.DROP_GARBAGE:
            self.dropped_frames[kind] = self.dropped_frames.get(kind, 0) + 1

    def _messages(self, data: bytes) -> list[bytes]:
        return self._deframer.feed(data)

    def wire(self, message: bytes) -> bytes:
        return L.frame(message)

    def _admit_frame(self, now: float) -> bool:
        limit, window = MIB_FRAME_LIMIT
        while self._frame_times and self._frame_times[0] <= now - window:
            self._frame_times.popleft()
        if len(self._frame_times) >= limit:
            return False
        self._frame_times.append(now)
        return True

    def corrupt(self, frame: bytes) -> bytes:
        """The frame with its FCS damaged (framing and escapes still valid)."""
        messages = L.Deframer().feed(frame)
        if not messages:
            return frame[:-1] + bytes(((frame[-1] + 1) & 0xFF,)) if frame else frame
        content = L.frame_header(len(messages[0])) + messages[0]
        fcs = bytes(b ^ 0x5A for b in L.fcs_bytes(content))
        return bytes([L.BOF]) + L.escape(content + fcs) + bytes([L.EOF])


class IntelliVueLanEncoder(IntelliVueEncoder):
    """The monitor's LAN port: each message one UDP datagram; Connect Indications announce it.

    Attributes
    ----------
    ip_address, subnet_mask : str
        What the Connect Indication says of the monitor's interface (the UDP
        runner sets the address it serves on).
    data_port : int
        The Data Export port the Connect Indication announces (24105 on a
        real monitor; the runner sets the port it listens on).
    """

    name: ClassVar[str] = "intellivue-lan"
    max_mtu: ClassVar[int] = LAN_MAX_MTU

    def __init__(self, rng: np.random.Generator) -> None:
        super().__init__(rng)
        self.ip_address = "127.0.0.1"
        self.subnet_mask = "255.0.0.0"
        self.data_port = L.DATA_EXPORT_PORT
        self._announce_next: float | None = None
        self._announce_period = ANNOUNCE_FIRST_S

    def _messages(self, data: bytes) -> list[bytes]:
        messages = split_messages(data)
        rest = data[sum(len(m) for m in messages):]
        if rest:                     # a datagram whose lengths lie: parsed (and refused) as is
            messages.append(rest)
        return messages

    def wire(self, message: bytes) -> bytes:
        return message

    def corrupt(self, frame: bytes) -> bytes:
        """The datagram with its command's length disagreeing with the message's."""
        if len(frame) >= 14 and frame[0] == 0xE1:
            inner = L.read_u16(frame, 12)
            return frame[:12] + L.u16(inner + 2) + frame[14:]
        if len(frame) >= 2:                        # association control: its LI lies
            return frame[:1] + bytes(((frame[1] + 2) & 0xFF,)) + frame[2:]
        return frame

    def _end_association(self) -> None:
        super()._end_association()
        self._announce_next, self._announce_period = None, ANNOUNCE_FIRST_S

    @property
    def announcing(self) -> bool:
        """Whether the monitor sends Connect Indications now (no client associated)."""
        return self.state == "idle"

    def announcements(self, now: float) -> list[bytes]:
        """Connect Indications due by session time ``now`` (for the broadcast port 24005).

        The first at the first call while unassociated, then after 4 s, doubling up to
        about 64 s, each period with a random component of +/-10 % (RFC 951, p. 53).
        """
        self._touch(now)
        if not self.announcing:
            self._announce_next = None
            return []
        out = []
        if self._announce_next is None:
            self._announce_next = now
        while self._announce_next <= now:
            out.append(self.connect_indication(self._announce_next))
            self._announce_next += self._announce_period * float(self.rng.uniform(0.9, 1.1))
            self._announce_period = min(self._announce_period * 2, ANNOUNCE_MAX_S)
        return out

    def connect_indication(self, t: float | None = None) -> bytes:
        """The Connect Indication event (p. 53, 107) at session time ``t`` (default: now)."""
        if t is None:
            t = self._now
        if t is not None:
            self._touch(t)
        attrs = [(L.NOM_ATTR_SYS_TYPE, L.type_value(L.NOM_PART_OBJ,
                                                    NOM_DEV_MON_PHYSIO_MULTI_PARAM_MDS)),
                 (L.NOM_ATTR_LOCALIZN, _localization()),
                 (L.NOM_ATTR_NET_ADDR_INFO, L.ip_address_info(self.mac, self.ip_address,
                                                              self.subnet_mask)),
                 (L.NOM_ATTR_PCOL_SUPPORT, L.protocol_support(
                     [(L.AP_ID_ACSE, L.TP_ID_UDP, self.data_port, 0),
                      (L.AP_ID_DATA_OUT, L.TP_ID_UDP, self.data_port, 0)]))]
        return L.build_connect_indication(attrs, 0 if t is None else self._rel(t))
