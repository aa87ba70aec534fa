"""Which vitals raise physiological alarms: what a tile's crossed bell says.

A monitor marks the numeric of a vital whose alarms are off with a crossed
bell (IEC 60601-1-8 "alarm off" symbol). Here a vital raises no alarm when
the profile has no rule for it or the nurse turned its alarms off; the pulse
rate raises the heart-rate alarms only where it stands in for a missing ECG
heart rate (an oximeter alone), and none of its own beside an ECG.
"""

from __future__ import annotations

from collections.abc import Iterable

from monitor.core.alarms.profile import AlarmProfile
from monitor.core.vitals import Vital


def alarms_off(vital: Vital, profile: AlarmProfile, vitals_off: Iterable[Vital],
               measures: frozenset[Vital] | None) -> bool:
    """Whether ``vital`` raises no physiological alarm in this session.

    Parameters
    ----------
    vital : Vital
    profile : AlarmProfile
        The profile in force.
    vitals_off : iterable of Vital
        The vitals whose alarms the nurse turned off.
    measures : frozenset of Vital or None
        What the source measures (``None``: not declared, an ECG may be there).
    """
    if vital is Vital.PULSE_RATE:
        if measures is None or Vital.HR in measures:
            return True   # beside an ECG heart rate the pulse rate has no alarm of its own
        vital = Vital.HR  # an oximeter alone: the pulse rate raises the heart-rate alarms
    return vital not in {r.vital for r in profile.rules} or vital in set(vitals_off)
