"""Vital kinds with units, plausible ranges and IEEE 11073-10101 codes."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Vital(enum.StrEnum):
    """The measured quantities the monitor knows about.

    The string values are the stable names used on the command line, in
    JSON output and in the database. Members after PLETH are the
    :data:`SUPPLEMENTARY_VITALS`: device numerics kept for the record only,
    then the :data:`SUPPLEMENTARY_WAVES`, likewise.
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
    # Nonin Data Format #2 variants (supplementary: recorded, never shown or alarmed).
    SPO2_DISPLAY = "spo2_display"
    SPO2_FAST = "spo2_fast"
    SPO2_BEAT = "spo2_beat"
    SPO2_EXT = "spo2_ext"
    SPO2_EXT_DISPLAY = "spo2_ext_display"
    PR_DISPLAY = "pr_display"
    PR_EXT = "pr_ext"
    PR_EXT_DISPLAY = "pr_ext_display"
    # GE Datex-Ohmeda S/5 basic class (supplementary, likewise).
    ST1 = "st1"
    ST2 = "st2"
    ST3 = "st3"
    IMP_RR = "imp_rr"
    P1_SYS = "p1_sys"
    P1_DIA = "p1_dia"
    P1_MEAN = "p1_mean"
    P1_HR = "p1_hr"
    P2_SYS = "p2_sys"
    P2_DIA = "p2_dia"
    P2_MEAN = "p2_mean"
    P2_HR = "p2_hr"
    P3_SYS = "p3_sys"
    P3_DIA = "p3_dia"
    P3_MEAN = "p3_mean"
    P3_HR = "p3_hr"
    P4_SYS = "p4_sys"
    P4_DIA = "p4_dia"
    P4_MEAN = "p4_mean"
    P4_HR = "p4_hr"
    P5_SYS = "p5_sys"
    P5_DIA = "p5_dia"
    P5_MEAN = "p5_mean"
    P5_HR = "p5_hr"
    P6_SYS = "p6_sys"
    P6_DIA = "p6_dia"
    P6_MEAN = "p6_mean"
    P6_HR = "p6_hr"
    NIBP_HR = "nibp_hr"
    TEMP2 = "temp2"
    TEMP3 = "temp3"
    TEMP4 = "temp4"
    SPO2_IR_AMP = "spo2_ir_amp"
    SO2 = "so2"
    FICO2 = "fico2"
    AMB_PRESS = "amb_press"
    O2_ET = "o2_et"
    O2_FI = "o2_fi"
    N2O_ET = "n2o_et"
    N2O_FI = "n2o_fi"
    AA_ET = "aa_et"
    AA_FI = "aa_fi"
    AA_MAC = "aa_mac"
    SPIRO_RR = "spiro_rr"
    PPEAK = "ppeak"
    PEEP = "peep"
    PPLAT = "pplat"
    TV_INSP = "tv_insp"
    TV_EXP = "tv_exp"
    COMPLIANCE = "compliance"
    MV_EXP = "mv_exp"
    CO = "co"
    BLOOD_TEMP = "blood_temp"
    RVEF = "rvef"
    PCWP = "pcwp"
    NMT_T1 = "nmt_t1"
    NMT_RATIO = "nmt_ratio"
    NMT_PTC = "nmt_ptc"
    NMT_COUNT = "nmt_count"
    HR_ECG = "hr_ecg"
    HR_MAX = "hr_max"
    HR_MIN = "hr_min"
    SVO2 = "svo2"
    # Further waves a monitor sends (Philips IntelliVue): recorded, never shown.
    RESP_WAVE = "resp_wave"
    CO2_WAVE = "co2_wave"


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
_MM = (263442, "MDC_DIM_MILLI_M")
_CMH2O = (266048, "MDC_DIM_CM_H2O")
_ML = (263762, "MDC_DIM_MILLI_L")
_LPM = (265216, "MDC_DIM_X_L_PER_MIN")
_ML_PER_CMH2O = (268050, "MDC_DIM_MILLI_L_PER_CM_H2O")

P_CHANNELS: tuple[tuple[Vital, Vital, Vital, Vital], ...] = (
    (Vital.P1_SYS, Vital.P1_DIA, Vital.P1_MEAN, Vital.P1_HR),
    (Vital.P2_SYS, Vital.P2_DIA, Vital.P2_MEAN, Vital.P2_HR),
    (Vital.P3_SYS, Vital.P3_DIA, Vital.P3_MEAN, Vital.P3_HR),
    (Vital.P4_SYS, Vital.P4_DIA, Vital.P4_MEAN, Vital.P4_HR),
    (Vital.P5_SYS, Vital.P5_DIA, Vital.P5_MEAN, Vital.P5_HR),
    (Vital.P6_SYS, Vital.P6_DIA, Vital.P6_MEAN, Vital.P6_HR),
)
"""(sys, dia, mean, pulse rate) of the invasive pressure channels P1..P6.

The site (ART, CVP, PA, ICP...) is whatever the monitor's channel is labelled;
the channel number is what identifies the vital.
"""


def _invasive_specs() -> list[VitalSpec]:
    out: list[VitalSpec] = []
    for n, (sys, dia, mean, hr) in enumerate(P_CHANNELS, start=1):
        for vital, part, code in ((sys, "SYS", 150017), (dia, "DIA", 150018),
                                  (mean, "MEAN", 150019)):
            out.append(VitalSpec(vital, f"P{n} {part.lower()}", "mmHg", "mm[Hg]",
                                 Kind.CONTINUOUS, (-50, 350),
                                 code, f"MDC_PRESS_BLD_{part}", *_MMHG))
        out.append(VitalSpec(hr, f"P{n} PR", "bpm", "/min", Kind.CONTINUOUS, (15, 300),
                             None, f"pulse rate from invasive pressure P{n} (Datex)", *_BPM))
    return out


def _variant(vital: Vital, label: str, of: Vital, what: str) -> VitalSpec:
    """A Nonin SpO2 or pulse-rate variant: the unit and range of ``of``, no code of its own."""
    base = SPECS_PRIMARY[of]
    return VitalSpec(vital, label, base.unit, base.ucum, Kind.CONTINUOUS, base.plausible,
                     None, f"{what} (Nonin)", base.unit_mdc_code, base.unit_mdc_ref)


SPECS_PRIMARY: dict[Vital, VitalSpec] = {
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
"""The monitor's own vitals: the only ones the live view may show and alarms may watch."""

_SUPPLEMENTARY: tuple[VitalSpec, ...] = (
    _variant(Vital.SPO2_DISPLAY, "SpO2-D", Vital.SPO2,
             "SpO2 4-beat average formatted for display, held 10 s after probe off"),
    _variant(Vital.SPO2_FAST, "SpO2 fast", Vital.SPO2, "SpO2 4-beat average, fast response"),
    _variant(Vital.SPO2_BEAT, "SpO2 b-b", Vital.SPO2, "SpO2 beat to beat, unaveraged"),
    _variant(Vital.SPO2_EXT, "E-SpO2", Vital.SPO2, "SpO2 8-beat extended average"),
    _variant(Vital.SPO2_EXT_DISPLAY, "E-SpO2-D", Vital.SPO2,
             "SpO2 8-beat extended average formatted for display"),
    _variant(Vital.PR_DISPLAY, "PR-D", Vital.PULSE_RATE,
             "pulse rate 4-beat average formatted for display"),
    _variant(Vital.PR_EXT, "E-PR", Vital.PULSE_RATE, "pulse rate 8-beat extended average"),
    _variant(Vital.PR_EXT_DISPLAY, "E-PR-D", Vital.PULSE_RATE,
             "pulse rate 8-beat extended average formatted for display"),
    *(VitalSpec(v, f"ST{n}", "mm", "mm", Kind.CONTINUOUS, (-50, 50),
                131840, "MDC_ECG_AMPL_ST", *_MM, decimals=1)
      for n, v in enumerate((Vital.ST1, Vital.ST2, Vital.ST3), start=1)),
    VitalSpec(Vital.IMP_RR, "RR imp", "rpm", "/min", Kind.CONTINUOUS, (0, 150),
              151578, "MDC_TTHOR_RESP_RATE", *_RPM),
    *_invasive_specs(),
    VitalSpec(Vital.NIBP_HR, "NIBP PR", "bpm", "/min", Kind.DISCRETE, (15, 300),
              149546, "MDC_PULS_RATE_NON_INV", *_BPM),
    *(VitalSpec(v, f"T{n}", "°C", "Cel", Kind.CONTINUOUS, (0, 50),
                150344, "MDC_TEMP", *_DEGC, decimals=1)
      for n, v in enumerate((Vital.TEMP2, Vital.TEMP3, Vital.TEMP4), start=2)),
    VitalSpec(Vital.SPO2_IR_AMP, "Pleth amp", "%", "%", Kind.CONTINUOUS, (0, 100),
              None, "pleth modulation, IR amplitude (Datex)", *_PCT, decimals=1),
    VitalSpec(Vital.SO2, "SO2", "%", "%", Kind.CONTINUOUS, (0, 100),
              None, "SO2, SaO2 or SvO2 as labelled, SpO2 group (Datex)", *_PCT),
    VitalSpec(Vital.FICO2, "FiCO2", "mmHg", "mm[Hg]", Kind.CONTINUOUS, (0, 150),
              151716, "MDC_CONC_AWAY_CO2_INSP", *_MMHG, decimals=1),
    VitalSpec(Vital.AMB_PRESS, "Pamb", "mmHg", "mm[Hg]", Kind.CONTINUOUS, (300, 900),
              None, "ambient pressure at the gas module (Datex)", *_MMHG),
    VitalSpec(Vital.O2_ET, "EtO2", "%", "%", Kind.CONTINUOUS, (0, 100),
              152440, "MDC_CONC_AWAY_O2_ET", *_PCT),
    VitalSpec(Vital.O2_FI, "FiO2", "%", "%", Kind.CONTINUOUS, (0, 100),
              152196, "MDC_CONC_AWAY_O2_INSP", *_PCT),
    VitalSpec(Vital.N2O_ET, "EtN2O", "%", "%", Kind.CONTINUOUS, (0, 100),
              152108, "MDC_CONC_AWAY_N2O_ET", *_PCT),
    VitalSpec(Vital.N2O_FI, "FiN2O", "%", "%", Kind.CONTINUOUS, (0, 100),
              152192, "MDC_CONC_AWAY_N2O_INSP", *_PCT),
    VitalSpec(Vital.AA_ET, "EtAA", "%", "%", Kind.CONTINUOUS, (0, 25),
              152460, "MDC_CONC_AWAY_AGENT_ET", *_PCT, decimals=1),
    VitalSpec(Vital.AA_FI, "FiAA", "%", "%", Kind.CONTINUOUS, (0, 25),
              152464, "MDC_CONC_AWAY_AGENT_INSP", *_PCT, decimals=1),
    VitalSpec(Vital.AA_MAC, "MAC", "MAC", "1", Kind.CONTINUOUS, (0, 10),
              None, "anaesthetic agents, total MAC (Datex)", *_DIMLESS, decimals=1),
    VitalSpec(Vital.SPIRO_RR, "RR spiro", "rpm", "/min", Kind.CONTINUOUS, (0, 150),
              151570, "MDC_AWAY_RESP_RATE", *_RPM),
    VitalSpec(Vital.PPEAK, "Ppeak", "cmH2O", "cm[H2O]", Kind.CONTINUOUS, (-20, 150),
              151817, "MDC_PRESS_AWAY_INSP_MAX", *_CMH2O),
    VitalSpec(Vital.PEEP, "PEEP", "cmH2O", "cm[H2O]", Kind.CONTINUOUS, (-20, 150),
              151804, "MDC_PRESS_AWAY_END_EXP_POS", *_CMH2O),
    VitalSpec(Vital.PPLAT, "Pplat", "cmH2O", "cm[H2O]", Kind.CONTINUOUS, (-20, 150),
              None, "airway plateau pressure, spirometry (Datex)", *_CMH2O),
    VitalSpec(Vital.TV_INSP, "TVinsp", "mL", "mL", Kind.CONTINUOUS, (0, 3000),
              152660, "MDC_VOL_AWAY_TIDAL_INSP", *_ML),
    VitalSpec(Vital.TV_EXP, "TVexp", "mL", "mL", Kind.CONTINUOUS, (0, 3000),
              152664, "MDC_VOL_AWAY_TIDAL_EXP", *_ML),
    VitalSpec(Vital.COMPLIANCE, "Compl", "mL/cmH2O", "mL/cm[H2O]", Kind.CONTINUOUS, (0, 500),
              151688, "MDC_COMPL_LUNG", *_ML_PER_CMH2O),
    VitalSpec(Vital.MV_EXP, "MVexp", "L/min", "L/min", Kind.CONTINUOUS, (0, 60),
              None, "expiratory minute volume, spirometry (Datex)", *_LPM, decimals=1),
    VitalSpec(Vital.CO, "C.O.", "L/min", "L/min", Kind.CONTINUOUS, (0, 30),
              None, "cardiac output, C.O. module (Datex)", *_LPM, decimals=2),
    VitalSpec(Vital.BLOOD_TEMP, "Tblood", "°C", "Cel", Kind.CONTINUOUS, (15, 45),
              188436, "MDC_TEMP_BLD", *_DEGC, decimals=1),
    VitalSpec(Vital.RVEF, "RVEF", "%", "%", Kind.CONTINUOUS, (0, 100),
              None, "right heart ejection fraction (Datex)", *_PCT),
    VitalSpec(Vital.PCWP, "PCWP", "mmHg", "mm[Hg]", Kind.CONTINUOUS, (-20, 100),
              150052, "MDC_PRESS_BLD_ART_PULM_WEDGE", *_MMHG),
    VitalSpec(Vital.NMT_T1, "NMT T1", "%", "%", Kind.CONTINUOUS, (0, 200),
              None, "NMT first twitch, % of reference (Datex)", *_PCT),
    VitalSpec(Vital.NMT_RATIO, "TOF ratio", "%", "%", Kind.CONTINUOUS, (0, 200),
              None, "NMT T4/T1 (TOF) or T2/T1 (double burst) ratio (Datex)", *_PCT),
    VitalSpec(Vital.NMT_PTC, "PTC", "", "1", Kind.CONTINUOUS, (0, 21),
              None, "NMT post-tetanic count (Datex)", *_DIMLESS),
    VitalSpec(Vital.NMT_COUNT, "NMT count", "", "1", Kind.CONTINUOUS, (0, 4),
              None, "NMT TOF / double-burst / single-twitch count, by mode (Datex)",
              *_DIMLESS),
    VitalSpec(Vital.HR_ECG, "HR ECG", "bpm", "/min", Kind.CONTINUOUS, (15, 300),
              147842, "MDC_ECG_HEART_RATE", *_BPM),
    VitalSpec(Vital.HR_MAX, "HR max", "bpm", "/min", Kind.CONTINUOUS, (0, 300),
              None, "maximum heart rate (Datex)", *_BPM),
    VitalSpec(Vital.HR_MIN, "HR min", "bpm", "/min", Kind.CONTINUOUS, (0, 300),
              None, "minimum heart rate (Datex)", *_BPM),
    VitalSpec(Vital.SVO2, "SvO2", "%", "%", Kind.CONTINUOUS, (0, 100),
              150332, "MDC_SAT_O2_VEN", *_PCT),
)

_SUPPLEMENTARY_WAVES: tuple[VitalSpec, ...] = (
    VitalSpec(Vital.RESP_WAVE, "Resp wave", "", "1", Kind.WAVEFORM, (-1e6, 1e6),
              None, "impedance respiration wave (IntelliVue NOM_RESP)", *_DIMLESS),
    VitalSpec(Vital.CO2_WAVE, "CO2 wave", "mmHg", "mm[Hg]", Kind.WAVEFORM, (-1e6, 1e6),
              None, "airway CO2 wave, capnogram (IntelliVue NOM_AWAY_CO2)", *_MMHG),
)

SPECS: dict[Vital, VitalSpec] = {**SPECS_PRIMARY, **{s.vital: s for s in _SUPPLEMENTARY},
                                 **{s.vital: s for s in _SUPPLEMENTARY_WAVES}}

SUPPLEMENTARY_VITALS: tuple[Vital, ...] = tuple(s.vital for s in _SUPPLEMENTARY)
"""Every other numeric a device sends, kept so nothing is lost from the record.

These are recorded and exported, but the live view does not show them and the
alarm system must not alarm on them (nor on their staleness); the vitals in
:data:`SPECS_PRIMARY` keep their names and meaning.
"""

SUPPLEMENTARY_WAVES: tuple[Vital, ...] = tuple(s.vital for s in _SUPPLEMENTARY_WAVES)
"""Waves a monitor sends beside the pleth (respiration, CO2), recorded only: the live
view's sweep and the review show the pleth; these are kept in the ``waves`` table."""

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
