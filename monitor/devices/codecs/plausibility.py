"""A plausibility filter for protocols with no checksum (Masimo ASCII 1, plain text lines).

A text line with one flipped bit can still have every field in its
documented form (``SPO2=098%`` becomes ``SPO2=018%``), and nothing on the
wire says it is wrong. Physiology says so: an averaged SpO2 or pulse rate
does not jump that far between two lines a second apart. Such a jump is
held back until the next line confirms it (the new value again, within the
same step); a jump the next line does not confirm was a garbled line, is
counted as a bad frame and never shown, recorded as a reading or alarmed.
Its bytes stay in the raw capture.

The cost is one line (one second) of delay on a genuine jump larger than
the step below, and none on anything else; ``bench/bench_plausibility.py``
measures it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from monitor.core.reading import Reading
from monitor.core.vitals import Vital
from monitor.devices.codecs.base import CodecItem, CodecStats

MAX_STEP_PER_S: dict[Vital, float] = {
    Vital.SPO2: 8.0,          # % SpO2: a fast desaturation falls 1-2 %/s on an averaged value
    Vital.PULSE_RATE: 30.0,   # bpm
    Vital.HR: 30.0,
}
"""The largest change between two valid lines one second apart that is shown at once."""

MAX_JUDGED_GAP_S = 5.0
"""Lines further apart than this are not compared (after a gap any value may come)."""


@dataclass
class _Track:
    accepted: Reading | None = None
    held: Reading | None = None


@dataclass
class PlausibilityFilter:
    """Holds implausible jumps of the vitals in :data:`MAX_STEP_PER_S` until confirmed.

    Counts go into ``stats``: ``extra["implausible_held"]`` for each value
    held back, ``extra["implausible_rejected"]`` (and ``frames_bad``) for each
    one the next line did not confirm.
    """

    stats: CodecStats
    _tracks: dict[Vital, _Track] = field(default_factory=dict)

    def filter(self, items: list[CodecItem]) -> list[CodecItem]:
        """The items of one line, without the values held back."""
        out: list[CodecItem] = []
        for item in items:
            if isinstance(item, Reading) and item.vital in MAX_STEP_PER_S:
                if self._pass(item):
                    out.append(item)
            else:
                out.append(item)
        return out

    def _pass(self, r: Reading) -> bool:
        track = self._tracks.setdefault(r.vital, _Track())
        if not r.valid or not math.isfinite(r.value):
            self._reject_held(track)
            track.accepted = None   # a probe off or no value: the next value starts afresh
            return True
        step = MAX_STEP_PER_S[r.vital]
        held = track.held
        if held is not None and abs(r.value - held.value) <= step * max(1.0, r.t - held.t):
            track.held, track.accepted = None, r   # confirmed: the jump was real
            return True
        last = track.accepted
        if last is None or r.t - last.t > MAX_JUDGED_GAP_S or \
                abs(r.value - last.value) <= step * max(1.0, r.t - last.t):
            self._reject_held(track)
            track.accepted = r
            return True
        self._reject_held(track)
        track.held = r
        self._count("implausible_held")
        return False

    def _reject_held(self, track: _Track) -> None:
        if track.held is not None:
            track.held = None
            self._count("implausible_rejected")
            self.stats.frames_bad += 1

    def _count(self, key: str) -> None:
        self.stats.extra[key] = self.stats.extra.get(key, 0) + 1
