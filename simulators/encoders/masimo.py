"""Masimo serial ASCII 1 lines, in the Rad-8's shape, once a second."""

from __future__ import annotations

import time

import numpy as np

from monitor.core.reading import Quality, Reading
from simulators.encoders.text import PerSecondLineEncoder, shown

EXC_SET = 0x000800          # "Masimo SET": present in normal operation
EXC_SENSOR_OFF = 0x000020
EXC_LOW_PERFUSION = 0x000004
LOW_PI = 0.25               # % : what a Rad-8 shows as PI while it reports low perfusion
ALARM_ACTIVE = 0x0010
ALARM_SPO2_LOW = 0x0002
ALARM_PR_HIGH = 0x0004
ALARM_PR_LOW = 0x0008


class MasimoAsciiEncoder(PerSecondLineEncoder):
    """A Rad-8 on ASCII 1 output::

        MM/DD/YY HH:MM:SS SN=0000056661 SPO2=098% BPM=072 PI=03.60% SPCO=--.-% SPMET=--.-%
        DESAT=-- PIDELTA=+-- ALARM=0000 EXC=000800

    (one line, CR LF). SpO2 and pulse rate are the latest pushed readings
    (see :class:`PerSecondLineEncoder` for the schedule); PI is a slow random
    walk. A probe that is off (``sensor_off``, or ``SENSOR_OFF`` readings)
    prints dashes with EXC 0x000820; a reading without a value prints dashes
    with EXC 0x000800. The device's own alarm bits follow the limits below.
    The device clock runs ``clock_offset_s`` away from session time (it is
    not synchronised) and is printed in local time.

    Attributes
    ----------
    serial_number : str
    clock_offset_s : float
    spo2_low, pr_low, pr_high : int
        Device alarm limits (Rad-8 factory defaults).
    """

    name = "masimo-ascii"

    def __init__(self, rng: np.random.Generator) -> None:
        super().__init__(rng)
        self.serial_number = f"{int(rng.integers(1, 10**7)):010d}"
        self.clock_offset_s = float(rng.integers(-600, 601))
        self.spo2_low, self.pr_low, self.pr_high = 88, 50, 140
        self._pi = float(rng.uniform(1.5, 5.0))

    def _line(self, at: float, spo2: Reading | None, pulse: Reading | None) -> bytes:
        self._pi = float(np.clip(self._pi + 0.08 * self.rng.standard_normal(), 0.3, 12.0))
        clock = time.strftime("%m/%d/%y %H:%M:%S", time.localtime(at + self.clock_offset_s))
        off = self._probe_off(spo2, pulse)
        s, p = (None, None) if off else (shown(spo2), shown(pulse))
        alarm = 0
        if s is not None and s < self.spo2_low:
            alarm |= ALARM_SPO2_LOW
        if p is not None and p < self.pr_low:
            alarm |= ALARM_PR_LOW
        if p is not None and p > self.pr_high:
            alarm |= ALARM_PR_HIGH
        if alarm:
            alarm |= ALARM_ACTIVE
        low = not off and any(r is not None and r.quality is Quality.LOW_PERFUSION
                              for r in (spo2, pulse))
        exc = EXC_SET | (EXC_SENSOR_OFF if off else 0) | (EXC_LOW_PERFUSION if low else 0)
        pi = min(self._pi, LOW_PI) if low else self._pi
        text = (f"{clock} SN={self.serial_number}"
                f" SPO2={'---' if s is None else f'{s:03d}'}%"
                f" BPM={'---' if p is None else f'{p:03d}'}"
                f" PI={'--.--' if off else f'{pi:05.2f}'}%"
                f" SPCO=--.-% SPMET=--.-% DESAT=-- PIDELTA=+--"
                f" ALARM={alarm:04X} EXC={exc:06X}\r\n")
        return text.encode("ascii")
