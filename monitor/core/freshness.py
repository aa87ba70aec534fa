"""When did each vital last carry a usable value: the basis of stale-data handling."""

from __future__ import annotations

from monitor.core.reading import Reading
from monitor.core.vitals import Vital

DEFAULT_STALE_AFTER_S = 10.0
DEFAULT_NIBP_GREY_AFTER_S = 15 * 60.0


class Freshness:
    """Tracks the last valid reading per vital.

    A continuous vital with no valid reading for ``stale_after`` seconds is
    stale: its last value must not be shown as current.
    """

    def __init__(self, stale_after: float = DEFAULT_STALE_AFTER_S) -> None:
        if stale_after <= 0:
            raise ValueError("stale_after must be positive")
        self.stale_after = stale_after
        self._last_valid: dict[Vital, Reading] = {}
        self._last_any: dict[Vital, Reading] = {}

    def update(self, reading: Reading) -> None:
        """Note a reading."""
        self._last_any[reading.vital] = reading
        if reading.valid:
            self._last_valid[reading.vital] = reading

    def last_valid(self, vital: Vital) -> Reading | None:
        """The newest reading of ``vital`` that carried a value."""
        return self._last_valid.get(vital)

    def last(self, vital: Vital) -> Reading | None:
        """The newest reading of ``vital``, valid or not."""
        return self._last_any.get(vital)

    def age(self, vital: Vital, now: float) -> float | None:
        """Seconds since the last valid reading, or ``None`` if there never was one."""
        r = self._last_valid.get(vital)
        return None if r is None else now - r.t

    def current(self, vital: Vital, now: float) -> Reading | None:
        """The reading to show as current, or ``None`` when there is none.

        ``None`` when the vital never had a value, when its newest reading
        says "no value" (sensor off, artifact...), or when its last value is
        older than ``stale_after``.
        """
        newest = self._last_any.get(vital)
        if newest is None or not newest.valid:
            return None
        if now - newest.t > self.stale_after:
            return None
        return newest
