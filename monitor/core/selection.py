"""Which source (device) is shown and alarmed for each vital when a chair has several.

Pure: no I/O, no clock of its own; the hub feeds it every reading, wave chunk,
probe flag and source silence with session times, and publishes the
:class:`~monitor.core.events.Selection` messages it returns.

The choices made (issue 16; a mature bedside monitor's behaviour):

- **Priority.** Each vital has an order of sources (:func:`default_priority`, or
  the chair configuration's, completed with the sources it leaves out in the
  default order). SpO2, pulse rate, pleth and the oximeter's own numerics
  (perfusion index, SpCO, ...) prefer the dedicated oximeters; every other
  vital (ECG heart rate, NIBP, respiration, CO2, temperature) the monitors.
  Only sources that may measure the vital are listed.
- **Available.** A source is available for a continuous vital when its last
  reading of it was valid and came less than ``stale_after`` ago, its probe is
  not off (a ``sensor_off`` flag: the SpO2 side of that device), it is not
  silent and its stream has not ended. Pleth: a wave chunk within
  ``stale_after``, under the same conditions.
- **Fall-back is immediate, return waits.** The shown source is the first
  available one in priority order. When the shown one stops being available,
  the first available one takes over at once (the reason says why: ``stale``,
  ``sensor``, ``no_data``, ``ended``); when none is, the shown one stays (the
  vital then goes stale, as with one device). A source higher in the order
  takes over again only once it has been valid without a break for
  :data:`RETURN_HOLD_S` (``returned``), so a flapping probe does not make the
  shown value jump to and fro.
- **Start.** Each vital's first selection (``start``) is made when a source is
  first available for it: at once when that is the first source in its order,
  else once the first source has had :data:`RETURN_HOLD_S` from the session
  start to come (a device a second late does not cause a fall-back and a
  return in the first seconds). A vital no source ever delivers gets no
  selection. Before its first selection a vital's readings are recorded but
  not alarmed (at most :data:`RETURN_HOLD_S`).
- **NIBP** (episodic): every valid determination of any device is shown and
  alarmed; the selection follows the device of the latest one (``newer``).
- Readings of vitals outside the priority table (the supplementary numerics,
  recorded only) and manual readings (no source) always pass.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from monitor.core.events import Selection, SourceInfo
from monitor.core.freshness import DEFAULT_STALE_AFTER_S
from monitor.core.reading import Reading, WaveChunk
from monitor.core.vitals import SPECS_PRIMARY, Kind, Vital

RETURN_HOLD_S = 5.0
"""How long a higher-priority source must be valid without a break before it is shown again."""

OXIMETER_VITALS: frozenset[Vital] = frozenset({
    Vital.SPO2, Vital.PULSE_RATE, Vital.PLETH, Vital.PERF_INDEX, Vital.SPCO, Vital.SPMET,
    Vital.SPHB, Vital.PVI, Vital.DESAT_INDEX, Vital.PI_DELTA})
"""The vitals a pulse oximeter measures: oximeters first by default, and what a probe-off
flag (``sensor_off``) makes unavailable on its device."""

REASONS = ("start", "stale", "sensor", "no_data", "ended", "returned", "newer")


def _measures(src: SourceInfo, vital: Vital) -> bool:
    return src.measures is None or vital in src.measures


def default_priority(sources: Sequence[SourceInfo]) -> dict[Vital, tuple[str, ...]]:
    """The default order of sources for each primary vital some source may measure.

    Oximeters first (in the order given) for :data:`OXIMETER_VITALS`, then the
    monitors; monitors first for every other vital. Vitals no source measures
    are left out.
    """
    oximeters = [s for s in sources if s.kind == "oximeter"]
    monitors = [s for s in sources if s.kind != "oximeter"]
    out: dict[Vital, tuple[str, ...]] = {}
    for vital in SPECS_PRIMARY:
        order = oximeters + monitors if vital in OXIMETER_VITALS else monitors + oximeters
        names = tuple(s.name for s in order if _measures(s, vital))
        if names:
            out[vital] = names
    return out


def _merged_priority(sources: Sequence[SourceInfo],
                     priority: Mapping[Vital, Sequence[str]] | None
                     ) -> dict[Vital, tuple[str, ...]]:
    """The configured order, completed: unknown names dropped, missing sources appended."""
    default = default_priority(sources)
    if not priority:
        return default
    known = {s.name for s in sources}
    out = dict(default)
    for vital, names in priority.items():
        given = [n for n in dict.fromkeys(names) if n in known]
        rest = [n for n in default.get(vital, ()) if n not in given]
        order = tuple(given + rest)
        if order:
            out[vital] = order
    if Vital.PLETH not in priority and Vital.SPO2 in priority and Vital.PLETH in out:
        # The wave shown follows the SpO2 order (its own, completed, when it has one).
        spo2 = [n for n in out[Vital.SPO2] if n in out[Vital.PLETH]]
        out[Vital.PLETH] = tuple(spo2 + [n for n in out[Vital.PLETH] if n not in spo2])
    return out


@dataclass
class _Track:
    """One source's state for one vital."""

    last_valid: float | None = None
    last_ok: bool = False       # the latest reading (or chunk) was valid
    valid_since: float | None = None  # start of the current unbroken valid run


class _SourceState:
    __slots__ = ("ended", "sensor_off", "silent")

    def __init__(self) -> None:
        self.silent = False
        self.sensor_off = False
        self.ended = False


class SourceSelector:
    """Chooses, for each vital, the source shown and alarmed.

    Parameters
    ----------
    sources : sequence of SourceInfo
    priority : mapping of Vital to source names, or None
        The chair configuration's order; :func:`default_priority` otherwise
        (and for the vitals and sources it leaves out).
    stale_after : float
        Seconds after a source's last valid value before it is no longer
        available for that vital (the hub's stale period).

    Attributes
    ----------
    priority : dict of Vital to tuple of str
        The order in use for each vital that is selected.
    """

    def __init__(self, sources: Sequence[SourceInfo],
                 priority: Mapping[Vital, Sequence[str]] | None = None,
                 stale_after: float = DEFAULT_STALE_AFTER_S) -> None:
        if stale_after <= 0:
            raise ValueError("stale_after must be positive")
        self.sources = tuple(sources)
        self.stale_after = stale_after
        self.priority = _merged_priority(self.sources, priority)
        self._state = {s.name: _SourceState() for s in self.sources}
        self._tracks: dict[Vital, dict[str, _Track]] = {
            v: {n: _Track() for n in names} for v, names in self.priority.items()}
        self._shown: dict[Vital, str] = {}
        self._started_at: float | None = None
        self._due: dict[Vital, float] = {}
        self._next_due = math.inf

    # -- questions -------------------------------------------------------

    def shown(self, vital: Vital) -> str | None:
        """The source shown for ``vital``, ``None`` before its first selection."""
        return self._shown.get(vital)

    def shows(self, vital: Vital, source: str) -> bool:
        """Whether a reading of ``vital`` from ``source`` is shown and alarmed."""
        if not source or vital not in self.priority:
            return True
        return self._shown.get(vital) == source

    def last_valid(self, vital: Vital, source: str) -> float | None:
        """When ``source`` last gave a valid value of ``vital``."""
        track = self._tracks.get(vital, {}).get(source)
        return None if track is None else track.last_valid

    def available(self, vital: Vital, source: str, t: float) -> bool:
        """Whether ``source`` may show ``vital`` at ``t`` (see the module's rules)."""
        track = self._tracks.get(vital, {}).get(source)
        st = self._state.get(source)
        if track is None or st is None or st.silent or st.ended:
            return False
        if st.sensor_off and vital in OXIMETER_VITALS:
            return False
        return (track.last_ok and track.last_valid is not None
                and t < track.last_valid + self.stale_after)

    # -- inputs ----------------------------------------------------------

    def start(self, t: float) -> None:
        """The session (or its resumption) starts at ``t``: the start selections' clock."""
        if self._started_at is None:
            self._started_at = t
            self._set_due(t + RETURN_HOLD_S)

    def on_reading(self, reading: Reading) -> list[Selection]:
        """A reading arrived (from any source): the selections it causes."""
        vital, source = reading.vital, reading.source
        tracks = self._tracks.get(vital)
        if not source or tracks is None or source not in tracks:
            return []
        if SPECS_PRIMARY[vital].kind is Kind.DISCRETE:
            return self._on_determination(reading)
        self._note(tracks[source], reading.t, reading.valid)
        return self._evaluate(vital, reading.t)

    def on_wave(self, chunk: WaveChunk) -> list[Selection]:
        """A wave chunk arrived: the pleth follows the SpO2 order by the same rule."""
        tracks = self._tracks.get(chunk.vital)
        if not chunk.source or tracks is None or chunk.source not in tracks:
            return []
        self._note(tracks[chunk.source], chunk.t_end, chunk.quality.has_value)
        return self._evaluate(chunk.vital, chunk.t_end)

    def set_sensor_off(self, source: str, active: bool, t: float) -> list[Selection]:
        """``source``'s probe is off (``active``) or back: its SpO2 side is unavailable."""
        st = self._state.get(source)
        if st is None or st.sensor_off == active:
            return []
        st.sensor_off = active
        if active:
            self._break_runs(source, OXIMETER_VITALS)
        return self._evaluate_all(t, OXIMETER_VITALS)

    def set_silent(self, source: str, silent: bool, t: float) -> list[Selection]:
        """``source`` went silent (no data for ``stale_after``) or sends data again."""
        st = self._state.get(source)
        if st is None or st.silent == silent:
            return []
        st.silent = silent
        if silent:
            self._break_runs(source, self.priority)
        return self._evaluate_all(t)

    def set_ended(self, source: str, t: float) -> list[Selection]:
        """``source``'s stream ended: it is never available again."""
        st = self._state.get(source)
        if st is None or st.ended:
            return []
        st.ended = True
        self._break_runs(source, self.priority)
        return self._evaluate_all(t)

    def tick(self, t: float) -> list[Selection]:
        """Session time reached ``t``: falls back from a stale source, returns after the hold."""
        if t < self._next_due:
            return []
        out: list[Selection] = []
        for vital, due in list(self._due.items()):
            if t >= due:
                out += self._evaluate(vital, t)
        self._next_due = min(self._due.values(), default=math.inf)
        if self._started_at is not None and t < self._started_at + RETURN_HOLD_S:
            self._next_due = min(self._next_due, self._started_at + RETURN_HOLD_S)
        return out

    # -- the rule ----------------------------------------------------------

    def _note(self, track: _Track, t: float, valid: bool) -> None:
        if valid:
            broken = (not track.last_ok or track.valid_since is None
                      or track.last_valid is None or t >= track.last_valid + self.stale_after)
            if broken:
                track.valid_since = t
            track.last_valid = t if track.last_valid is None else max(track.last_valid, t)
            track.last_ok = True
        else:
            track.last_ok = False
            track.valid_since = None

    def _break_runs(self, source: str, vitals: Iterable[Vital]) -> None:
        for vital in vitals:
            track = self._tracks.get(vital, {}).get(source)
            if track is not None:
                track.valid_since = None

    def _on_determination(self, reading: Reading) -> list[Selection]:
        """NIBP: the device of the latest valid determination is the one shown."""
        if not reading.valid:
            return []
        vital, source = reading.vital, reading.source
        previous = self._shown.get(vital)
        if previous == source:
            return []
        self._shown[vital] = source
        if previous is None:
            return [Selection(reading.t, vital, source, "start")]
        return [Selection(reading.t, vital, source, "newer", previous)]

    def _evaluate_all(self, t: float, vitals: Iterable[Vital] | None = None) -> list[Selection]:
        out: list[Selection] = []
        for vital in (self.priority if vitals is None else vitals):
            if vital in self.priority and SPECS_PRIMARY[vital].kind is not Kind.DISCRETE:
                out += self._evaluate(vital, t)
        return out

    def _why_not(self, vital: Vital, source: str) -> str:
        st = self._state[source]
        if st.ended:
            return "ended"
        if st.silent:
            return "no_data"
        track = self._tracks[vital][source]
        if (st.sensor_off and vital in OXIMETER_VITALS) or (
                not track.last_ok and track.last_valid is not None):
            return "sensor"
        return "stale"

    def _evaluate(self, vital: Vital, t: float) -> list[Selection]:
        names = self.priority[vital]
        tracks = self._tracks[vital]
        current = self._shown.get(vital)
        best = next((n for n in names if self.available(vital, n, t)), None)
        chosen: str | None = None
        reason = ""
        if current is None:
            waited = self._started_at is None or t >= self._started_at + RETURN_HOLD_S
            if best is not None and (best == names[0] or waited):
                chosen, reason = best, "start"
        elif not self.available(vital, current, t):
            if best is not None:
                chosen, reason = best, self._why_not(vital, current)
        else:
            for n in names[:names.index(current)]:
                since = tracks[n].valid_since
                if self.available(vital, n, t) and since is not None \
                        and t >= since + RETURN_HOLD_S:
                    chosen, reason = n, "returned"
                    break
        out: list[Selection] = []
        if chosen is not None and chosen != current:
            self._shown[vital] = chosen
            out.append(Selection(t, vital, chosen, reason, current or ""))
            current = chosen
        self._schedule(vital, t, current)
        return out

    def _schedule(self, vital: Vital, t: float, current: str | None) -> None:
        """When this vital must be looked at again with no new input."""
        tracks = self._tracks[vital]
        due = math.inf
        if current is None:
            if self._started_at is not None:
                due = self._started_at + RETURN_HOLD_S
        else:
            cur = tracks[current]
            if self.available(vital, current, t) and cur.last_valid is not None:
                due = cur.last_valid + self.stale_after
            names = self.priority[vital]
            for n in names[:names.index(current)]:
                since = tracks[n].valid_since
                if since is not None and self.available(vital, n, t):
                    due = min(due, since + RETURN_HOLD_S)
        if due <= t:
            due = math.inf
        if due == math.inf:
            self._due.pop(vital, None)
        else:
            self._due[vital] = due
            self._set_due(due)

    def _set_due(self, due: float) -> None:
        self._next_due = min(self._next_due, due)


__all__ = ["OXIMETER_VITALS", "REASONS", "RETURN_HOLD_S", "SourceSelector", "default_priority"]
