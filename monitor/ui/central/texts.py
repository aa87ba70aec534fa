"""What a chair's tile at the central says (Qt-free, tested without widgets)."""

from __future__ import annotations

from dataclasses import dataclass

from monitor.central.station import ChairView
from monitor.core.alarms.model import Priority
from monitor.ui.shared.formatting import format_age

PHASE_NAMES = {"baseline": "BASELINE", "infusion": "INFUSION", "recovery": "RECOVERY",
               "ended": "ENDED"}


@dataclass(frozen=True)
class TileTexts:
    """One chair's tile: every text, and the priority of its most urgent alarm."""

    name: str
    patient: str
    phase: str
    hr: str
    spo2: str
    nibp: str
    nibp_age: str
    alarm: str
    priority: Priority | None
    link: str
    offline: bool
    remote: bool = False
    """The chair takes the desk's acknowledge and audio pause (its clinic setting)."""


def _clock(seconds: float) -> str:
    seconds = max(0, int(seconds))
    h, rest = divmod(seconds, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60:02d}:{rest % 60:02d}"


def _for(seconds: float) -> str:
    """How long, to the second under two minutes ("14 s", "3 min")."""
    seconds = max(0.0, seconds)
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds // 60:.0f} min"


def _value(values: dict[str, float], key: str) -> str:
    v = values.get(key)
    return "---" if v is None else f"{v:.0f}"


def tile_texts(chair: ChairView, now: float) -> TileTexts:
    """The texts of ``chair``'s tile at wall time ``now``.

    An offline chair shows no number as current: its values are dashes and its
    link line says since when nothing came ("NO SIGNAL · 14 s", or the chair
    ended / its last will). The timer is the chair's own session time of its
    latest numerics minus when its phase began, so an accelerated (simulated)
    chair shows its own clock.
    """
    state = chair.state
    phase = PHASE_NAMES.get(str(state.get("phase") or ""), "")
    since = state.get("phase_since")
    if phase and isinstance(since, (int, float)) and chair.values_t is not None:
        phase = f"{phase} {_clock(chair.values_t - since)}"
    if phase and not chair.online:
        phase = f"last: {phase}"     # the chair's clock stopped with its messages
    values = chair.values if chair.online else {}
    hr = _value(values, "hr") if "hr" in values else _value(values, "pulse_rate")
    nibp = chair.nibp if chair.online else None
    if nibp and isinstance(nibp.get("sys"), (int, float)) and isinstance(nibp.get("dia"),
                                                                          (int, float)):
        nibp_text = f"{nibp['sys']:.0f}/{nibp['dia']:.0f}"
        age = (chair.values_t - nibp["t"]) if chair.values_t is not None \
            and isinstance(nibp.get("t"), (int, float)) else None
        nibp_age = "" if age is None else format_age(max(0.0, age))
    else:
        nibp_text, nibp_age = "---/---", ""
    top = chair.most_urgent
    priority = None
    if top and top.get("priority"):
        try:
            priority = Priority.parse(str(top["priority"]))
        except ValueError:   # a priority this release does not know: shown, not coloured
            priority = None
    alarm = ""
    if top:
        marks = {Priority.HIGH: "***", Priority.MEDIUM: "**", Priority.LOW: "*"}
        alarm = f"{marks.get(priority, '')} {top.get('message') or top.get('id')}".strip()
        if len(chair.active) > 1:
            alarm += f"  (+{len(chair.active) - 1})"
    if chair.audio_paused and alarm:
        alarm += "  \u00b7 audio paused at the chair"
    if chair.online:
        link = "connected"
        if chair.missing:
            link = f"{len(chair.missing)} alarm(s) missing"
    else:
        why = {"ended": "session ended at the chair",
               "last will": "the chair stopped without ending its session",
               "silent": "nothing received"}.get(chair.offline_reason, "")
        since = chair.offline_at if chair.offline_at is not None else chair.last_heard
        link = " \u00b7 ".join(x for x in ("NO SIGNAL", why, f"for {_for(now - since)}")
                                if x)
    return TileTexts(chair.name or chair.chair, str(state.get("patient") or ""), phase,
                     hr, _value(values, "spo2"), nibp_text, nibp_age, alarm, priority, link,
                     not chair.online, bool(state.get("remote_actions")) and chair.online)


__all__ = ["TileTexts", "tile_texts"]
