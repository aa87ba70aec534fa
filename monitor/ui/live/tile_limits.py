"""The alarm limits written small on a numeric tile, as bedside monitors do (no Qt).

``"▼50 ▲110"``: the limits the vital alarms at first (its medium-priority
limits, or the high-priority one on a side without a medium limit), low
first. The NIBP tile names its pressures: ``"sys ▼90 ▲160 · dia ▲100"``. A
vital without limits has no figures; one whose alarms are off says so with
the crossed bell instead (:mod:`monitor.ui.alarms.indicators`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from monitor.core.alarms.model import LimitLines
from monitor.core.vitals import Vital
from monitor.ui.live.trend_specs import short_label

LOW, HIGH = "\u25bc", "\u25b2"


def limit_figures(lines: LimitLines | None) -> str:
    """``"▼50 ▲110"`` for one vital's limits ("" without any)."""
    if lines is None:
        return ""
    parts = [f"{mark}{limit[0]:g}" for mark, limit in ((LOW, lines.on_side("low")),
                                                        (HIGH, lines.on_side("high")))
             if limit is not None]
    return " ".join(parts)


def tile_limit_texts(vitals: Sequence[Vital], limits: Mapping[Vital, LimitLines],
                     off: Sequence[Vital] = ()) -> list[str]:
    """The figures of a tile showing ``vitals``, longest first (the tile shows the first that fits).

    Named when more than one (``"sys ▼90 ▲160 · dia ▲100"``); ``off``: vitals
    whose alarms are off, omitted. The shorter wording closes the spaces
    (``"▼25▲50"``); the shortest keeps the first vital only. Empty list: no figures.
    """
    named = len(vitals) > 1
    parts = [(short_label(v), limit_figures(limits.get(v)))
             for v in vitals if v not in off]
    parts = [(name, text) for name, text in parts if text]
    if not parts:
        return []

    def join(items: list[tuple[str, str]], tight: bool) -> str:
        sep = "\u00b7" if tight else " \u00b7 "
        return sep.join((f"{name} {t.replace(' ', '') if tight else t}" if named
                         else (t.replace(" ", "") if tight else t)) for name, t in items)

    out = [join(parts, False), join(parts, True), join(parts[:1], True)]
    return list(dict.fromkeys(out))


def tile_limit_text(vitals: Sequence[Vital], limits: Mapping[Vital, LimitLines],
                    off: Sequence[Vital] = ()) -> str:
    """The longest wording of :func:`tile_limit_texts` ("" without figures)."""
    texts = tile_limit_texts(vitals, limits, off)
    return texts[0] if texts else ""
