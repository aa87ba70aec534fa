"""What the live window's numeric tiles and NIBP tile show, from the live model (no Qt).

:class:`TileTextsMixin` is mixed into :class:`~monitor.ui.live.model.LiveModel`:
the value and reason of each continuous vital's tile (a typed value with its
age, a stale or invalid value, a value with a caveat such as low perfusion, a
vital the source cannot measure), which vital a tile shows (the pulse rate in
the heart rate's place without an ECG) and the NIBP determination with its age.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from monitor.core.reading import Quality, Reading
from monitor.core.vitals import SPECS, Vital
from monitor.ui.shared.formatting import (
    ENDED_REASON,
    NO_VALUE_TEXT,
    STALE_REASON,
    format_age,
    format_before_end,
    format_value,
    quality_reason,
)

if TYPE_CHECKING:
    from monitor.core.freshness import Freshness

MANUAL_SHOWN_S = 900.0
"""A value the nurse typed stays on its tile this long (no device refreshes it)."""

MANUAL_TAG = "MANUAL"
"""The tag shown with a value the nurse typed in."""

NOT_MEASURED_REASON = "NOT MEASURED"
"""What the tile of a vital the source cannot measure says (instead of ``---`` all session)."""

NO_BP_SOURCE_REASON = "NO BP SOURCE"
"""What the NIBP tile says while no device measures NIBP and none was typed in (the
alarm bar's one reminder and the workflow strip's NIBP prompt say to enter it by hand)."""


@dataclass(frozen=True)
class TileState:
    """What a numeric tile shows: the value text and a reason under it.

    ``manual`` marks a value the nurse typed in (the tile tags it). ``shown``
    is the vital whose value the tile shows when it is not the tile's own (the
    pulse rate in the heart rate's place when there is no ECG), and ``label``
    its caption then. ``not_measured``: the source cannot measure it.
    """

    text: str
    reason: str = ""
    manual: bool = False
    ended: bool = False
    """The session has ended: nothing is current, the tile is greyed."""
    shown: Vital | None = None
    label: str = ""
    not_measured: bool = False


@dataclass(frozen=True)
class NibpState:
    """What the NIBP tile shows.

    Attributes
    ----------
    text : str
        ``"sys/dia"`` or ``---``.
    mean_text : str
        ``"(mean)"`` or empty.
    age_text : str
        How old the determination is, or empty when there is none.
    reason : str
        Why there is no value, or empty.
    aged : bool
        The determination is older than the grey-out limit.
    manual : bool
        The determination was typed in by the nurse (the tile tags it).
    """

    text: str
    mean_text: str = ""
    age_text: str = ""
    reason: str = ""
    aged: bool = False
    manual: bool = False
    device: str = ""
    """The device the determination came from, in a session of several devices."""


def device_caption(label: str, device: str) -> str:
    """A tile's caption naming the device shown ("SpO2 \u00b7 Masimo"), or the plain label."""
    return f"{label} \u00b7 {device}" if device else label


DEVICE_CAPTION_SCALE = 0.65
"""The device name's size in a caption, of the vital's: the limits keep their room."""


def caption_html(caption: str, px: int) -> str:
    """A caption as the tile draws it: the vital bold, the device after it smaller.

    ``"HR \u00b7 Datex S/5"`` at 28 px: "HR" at 28 px bold, " \u00b7 Datex S/5" at 20 px
    regular, so a tile naming its device still has room for its limit figures.
    """
    head, sep, device = caption.partition(" \u00b7 ")
    if not sep:
        return html.escape(caption)
    small = max(10, round(px * DEVICE_CAPTION_SCALE))
    return (f"{html.escape(head)}<span style=\"font-size:{small}px; font-weight:normal\">"
            f" \u00b7 {html.escape(device)}</span>")


class TileTextsMixin:
    """The tiles' questions of the live model; the model provides the attributes below."""

    freshness: Freshness
    measures: frozenset[Vital] | None
    stale_after_s: float
    nibp_grey_after_s: float
    _nibp_t: float | None
    _nibp: dict[Vital, Reading]

    if TYPE_CHECKING:
        @property
        def ended_at(self) -> float | None: ...

    def tile_device(self, vital: Vital) -> str:
        """The device a tile names: the one shown for ``vital`` when it could be another.

        With several devices a tile names its device where more than one device of
        the chair measures its vital (SpO2 and pulse rate from the oximeter or the
        monitor), as a monitor labels a parameter's source only where it has two; a
        vital only one device measures (the monitor's ECG heart rate, its NIBP) says
        the vital alone, and keeps its room for the limit figures: its device is the
        header's only link line that names it.
        """
        if not getattr(self, "multi_source", False):
            return ""
        sources = getattr(self, "sources", ())
        measuring = [s for s in sources if s.measures is None or vital in s.measures]
        if len(measuring) <= 1:
            return ""
        return self.shown_source(vital)   # type: ignore[attr-defined]

    def measured(self, vital: Vital) -> bool:
        """Whether the source can measure ``vital`` (or a value of it ever arrived)."""
        return (self.measures is None or vital in self.measures
                or self.freshness.last(vital) is not None)

    def tile_vital(self, vital: Vital) -> Vital:
        """The vital the tile of ``vital`` shows: without ECG, PR and HR change places."""
        if vital in (Vital.HR, Vital.PULSE_RATE) and not self.measured(Vital.HR) \
                and self.measured(Vital.PULSE_RATE):
            return Vital.PULSE_RATE if vital is Vital.HR else Vital.HR
        return vital

    def tile_state(self, vital: Vital, now: float) -> TileState:
        """What the tile of a continuous ``vital`` shows at ``now``.

        A value the nurse typed in is tagged manual and stays
        :data:`MANUAL_SHOWN_S` with its age, unless the device sends newer data.
        A vital the source cannot measure says :data:`NOT_MEASURED_REASON`; with
        no ECG the heart rate's tile shows the pulse rate (labelled PR) and the
        pulse rate's tile says the heart rate is not measured. A value with a
        caveat (low perfusion) is shown with the caveat under it.
        """
        shown = self.tile_vital(vital)
        state = self._vital_state(shown, now)
        device = "" if state.manual or state.not_measured else self.tile_device(shown)
        if shown is vital:
            return replace(state, label=device_caption(SPECS[vital].label, device)) \
                if device else state
        return replace(state, shown=shown, label=device_caption(SPECS[shown].label, device))

    def _vital_state(self, vital: Vital, now: float) -> TileState:
        if self.ended_at is not None:
            return TileState(NO_VALUE_TEXT, ENDED_REASON, ended=True)
        newest = self.freshness.last(vital)
        if newest is not None and newest.quality is Quality.MANUAL \
                and 0 <= now - newest.t <= MANUAL_SHOWN_S:
            return TileState(format_value(vital, newest.value),
                             f"{MANUAL_TAG} \u00b7 {format_age(now - newest.t)}", manual=True)
        if not self.measured(vital):
            return TileState("", NOT_MEASURED_REASON, not_measured=True)
        current = self.freshness.current(vital, now)
        if current is not None:
            return TileState(format_value(vital, current.value), quality_reason(current.quality))
        if newest is None:
            return TileState(NO_VALUE_TEXT)
        if now - newest.t > self.stale_after_s:
            return TileState(NO_VALUE_TEXT, STALE_REASON)
        return TileState(NO_VALUE_TEXT, quality_reason(newest.quality) or STALE_REASON)

    def nibp_state(self, now: float) -> NibpState:
        """What the NIBP tile shows at ``now``."""
        ended = self.ended_at
        if self._nibp_t is None:
            source = "" if self.measured(Vital.NIBP_SYS) else NO_BP_SOURCE_REASON
            return NibpState(NO_VALUE_TEXT, reason=ENDED_REASON if ended is not None else source,
                             aged=ended is not None)
        if ended is not None:   # the last determination, greyed, its age frozen at the end
            age = max(0.0, ended - self._nibp_t)
            age_text, aged = format_before_end(age), True
        else:
            age = now - self._nibp_t
            age_text, aged = format_age(age), age > self.nibp_grey_after_s
        sys_r = self._nibp.get(Vital.NIBP_SYS)
        dia_r = self._nibp.get(Vital.NIBP_DIA)
        mean_r = self._nibp.get(Vital.NIBP_MEAN)
        mean_text = ""
        if mean_r is not None and mean_r.valid:
            mean_text = f"({format_value(Vital.NIBP_MEAN, mean_r.value)})"
        if sys_r is not None and dia_r is not None and sys_r.valid and dia_r.valid:
            text = (f"{format_value(Vital.NIBP_SYS, sys_r.value)}/"
                    f"{format_value(Vital.NIBP_DIA, dia_r.value)}")
            manual = Quality.MANUAL in (sys_r.quality, dia_r.quality)
            device = "" if manual else self.tile_device(Vital.NIBP_SYS)
            return NibpState(text, mean_text, age_text, MANUAL_TAG if manual else "", aged,
                             manual, device)
        reason = ""
        for r in (sys_r, dia_r):
            if r is not None and not r.valid:
                reason = quality_reason(r.quality)
                break
        return NibpState(NO_VALUE_TEXT, mean_text, age_text, reason or "INCOMPLETE", aged)
