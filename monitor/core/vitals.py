"""Vital kinds with units, plausible ranges and IEEE 11073-10101 codes."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Vital(enum.StrEnum):
    """The measured quantities the monitor knows about.

    The string values are the stable names used on the command line, in
    JSON output and in the database.
    """

    HR = "hr"
    PULSE_RATE = "pulse_rate"
    SPO2 = "spo2"
    NIBP_SYS = "nibp_sys"
    NIBP_DIA = "nibp_dia"
    NIBP_MEAN = "nibp_mean"
    RESP_RATE = "resp_rate"
    ETCO2 = "etco2"
    TEMP = "temp"
    PERF_INDEX = "pi"
    SPCO = "spco"
    SPMET = "spmet"
    SPHB = "sphb"
    PVI = "pvi"
    DESAT_INDEX = "desat"
    PI_DELTA = "pi_delta"
    PLETH = "pleth"


class Kind(enum.Enum):
    """How a vital arrives: a value every second or so, a sparse determination, or a wave."""

    CONTINUOUS = "continuous"
    DISCRETE = "discrete"
    WAVEFORM = "waveform"


@dataclass(frozen=True)
class VitalSpec:
    """Static facts about one vital.

    Attributes
    ----------
    vital : Vital
    label : str
        Short label shown on screen.
    unit : str
        Display unit.
    ucum : str
        UCUM unit code.
    kind : Kind
    plausible : tuple[float, float]
        Values outside this closed range are physiologically impossible and
        are treated as out-of-range data, never shown or alarmed as values.
    mdc_code : int or None
        IEEE 11073-10101 numeric code (partition 2 << 16 | term code);
        ``None`` for device-specific numerics with no code we can vouch for.
    mdc_ref : str
        IEEE 11073-10101 reference id, or a description of the private quantity.
    unit_mdc_code : int
    unit_mdc_ref : str
    decimals : int
        Digits after the decimal point when displayed.
    """

    vital: Vital
    label: str
    unit: str
    ucum: str
    kind: Kind
    plausible: tuple[float, float]
    mdc_code: int | None
    mdc_ref: str
    unit_mdc_code: int
    unit_mdc_ref: str
    decimals: int = 0

    def is_plausible(self, value: float) -> bool:
        """Whether ``value`` lies in the plausible range (NaN is not)."""
        lo, hi = self.plausible
        return lo <= value <= hi


_BPM = (264864, "MDC_DIM_BEAT_PER_MIN")
_PCT = (262688, "MDC_DIM_PERCENT")
_MMHG = (266016, "MDC_DIM_MMHG")
_RPM = (264928, "MDC_DIM_RESP_PER_MIN")
_DIMLESS = (262656, "MDC_DIM_DIMLESS")
_DEGC = (268192, "MDC_DIM_DEGC")
_GDL = (264096, "MDC_DIM_G_PER_DL")

SPECS: dict[Vital, VitalSpec] = {
    s.vital: s
    for s in (
        VitalSpec(Vital.HR, "HR", "bpm", "/min", Kind.CONTINUOUS, (15, 300),
                  147842, "MDC_ECG_HEART_RATE", *_BPM),
        VitalSpec(Vital.PULSE_RATE, "PR", "bpm", "/min", Kind.CONTINUOUS, (15, 300),
                  149530, "MDC_PULS_OXIM_PULS_RATE", *_BPM),
        VitalSpec(Vital.SPO2, "SpO2", "%", "%", Kind.CONTINUOUS, (0, 100),
                  150456, "MDC_PULS_OXIM_SAT_O2", *_PCT),
        VitalSpec(Vital.NIBP_SYS, "NIBP sys", "mmHg", "mm[Hg]", Kind.DISCRETE, (30, 300),
                  150021, "MDC_PRESS_BLD_NONINV_SYS", *_MMHG),
        VitalSpec(Vital.NIBP_DIA, "NIBP dia", "mmHg", "mm[Hg]", Kind.DISCRETE, (10, 250),
                  150022, "MDC_PRESS_BLD_NONINV_DIA", *_MMHG),
        VitalSpec(Vital.NIBP_MEAN, "NIBP mean", "mmHg", "mm[Hg]", Kind.DISCRETE, (15, 270),
                  150023, "MDC_PRESS_BLD_NONINV_MEAN", *_MMHG),
        VitalSpec(Vital.RESP_RATE, "RR", "rpm", "/min", Kind.CONTINUOUS, (0, 150),
                  151562, "MDC_RESP_RATE", *_RPM),
        VitalSpec(Vital.ETCO2, "EtCO2", "mmHg", "mm[Hg]", Kind.CONTINUOUS, (0, 150),
                  151708, "MDC_CONC_AWAY_CO2_ET", *_MMHG),
        VitalSpec(Vital.TEMP, "Temp", "°C", "Cel", Kind.CONTINUOUS, (15, 45),
                  150344, "MDC_TEMP", *_DEGC, decimals=1),
        VitalSpec(Vital.PERF_INDEX, "PI", "%", "%", Kind.CONTINUOUS, (0, 30),
                  None, "perfusion index (Masimo)", *_PCT, decimals=2),
        VitalSpec(Vital.SPCO, "SpCO", "%", "%", Kind.CONTINUOUS, (0, 100),
                  None, "carboxyhemoglobin saturation (Masimo)", *_PCT, decimals=1),
        VitalSpec(Vital.SPMET, "SpMet", "%", "%", Kind.CONTINUOUS, (0, 100),
                  None, "methemoglobin saturation (Masimo)", *_PCT, decimals=1),
        VitalSpec(Vital.SPHB, "SpHb", "g/dL", "g/dL", Kind.CONTINUOUS, (0, 30),
                  None, "total hemoglobin (Masimo)", *_GDL, decimals=1),
        VitalSpec(Vital.PVI, "PVI", "%", "%", Kind.CONTINUOUS, (0, 100),
                  None, "pleth variability index (Masimo)", *_PCT),
        VitalSpec(Vital.DESAT_INDEX, "DESAT", "", "1", Kind.CONTINUOUS, (0, 1000),
                  None, "desaturation index (Masimo)", *_DIMLESS),
        VitalSpec(Vital.PI_DELTA, "PI delta", "", "1", Kind.CONTINUOUS, (-100, 100),
                  None, "perfusion index change (Masimo)", *_DIMLESS),
        VitalSpec(Vital.PLETH, "Pleth", "", "1", Kind.WAVEFORM, (-1e6, 1e6),
                  150452, "MDC_PULS_OXIM_PLETH", *_DIMLESS),
    )
}

NUMERIC_VITALS: tuple[Vital, ...] = tuple(v for v in Vital if SPECS[v].kind is not Kind.WAVEFORM)
NIBP_VITALS: tuple[Vital, ...] = (Vital.NIBP_SYS, Vital.NIBP_DIA, Vital.NIBP_MEAN)


def spec(vital: Vital) -> VitalSpec:
    """The :class:`VitalSpec` of ``vital``."""
    return SPECS[vital]


def parse_vital(name: str) -> Vital:
    """Look a vital up by its stable name, with a message listing valid names."""
    try:
        return Vital(name)
    except ValueError:
        valid = ", ".join(v.value for v in Vital)
        raise ValueError(f"unknown vital {name!r}; valid names: {valid}") from None


def mean_arterial(sys: float, dia: float) -> float:
    """Mean arterial pressure estimated as diastolic + one third of the pulse pressure."""
    return dia + (sys - dia) / 3.0
