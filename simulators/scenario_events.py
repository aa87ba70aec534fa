"""Scripted chair events in a scenario: what the nurse would click, and when.

::

    [[events]]
    at_min = 25            # minutes from session start, before the session ends
    kind = "nausea"        # an EventKind value: nausea, vomiting, anxiety, dissociation,
                           # headache, antiemetic_given, antihypertensive_given,
                           # dose_changed, note
    text = "mild, settled with reassurance"   # optional; required for kind = "note"

The simulated driver hands them to the hub at their session times, where
they become events like the nurse's own (``{"type": "event", ...}`` lines
in a headless run).
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from dataclasses import dataclass

from monitor.core.workflow.messages import EventKind
from simulators.tomlsource import KeyPath

Fail = Callable[[KeyPath, str], typing.NoReturn]
"""Raises a ScenarioError naming the file and the line of a key path."""

MAX_TEXT = 500


@dataclass(frozen=True)
class ScriptedEvent:
    """An event at ``at_min`` minutes from session start."""

    at_min: float
    kind: EventKind
    text: str = ""


def parse_events(fail: Fail, value: object, total_min: float) -> tuple[ScriptedEvent, ...]:
    """Validate the ``[[events]]`` array of a scenario.

    Parameters
    ----------
    fail : callable
        ``fail(key_path, message)`` raises the scenario's error at that key's line.
    value : object
        The parsed TOML value of ``events``.
    total_min : float
        The session's length: every event must come before it ends.
    """
    if not isinstance(value, list):
        fail(("events",), "expected an array of tables ([[events]])")
    return tuple(_event(fail, table, i, total_min) for i, table in enumerate(value))


def _event(fail: Fail, table: object, index: int, total_min: float) -> ScriptedEvent:
    where: KeyPath = ("events", index)
    if not isinstance(table, dict):
        fail(where, f"expected a table, got {type(table).__name__} {table!r}")
    allowed = ("at_min", "kind", "text")
    for key in table:
        if key not in allowed:
            fail((*where, key), f"unknown key; valid keys: {', '.join(allowed)}")
    for key in ("at_min", "kind"):
        if key not in table:
            fail(where, f"missing key {key!r}")
    at = table["at_min"]
    if isinstance(at, bool) or not isinstance(at, int | float):
        fail((*where, "at_min"), f"expected a number, got {at!r}")
    if not 0 <= at < total_min:
        fail((*where, "at_min"), f"{at:g} is out of range: events come from 0 to before "
                                 f"the session ends ({total_min:g} min)")
    kind = table["kind"]
    if not isinstance(kind, str) or kind not in EventKind.__members__.values():
        valid = ", ".join(k.value for k in EventKind)
        fail((*where, "kind"), f"expected one of {valid}, got {kind!r}")
    text = table.get("text", "")
    if not isinstance(text, str) or "\n" in text.strip() or len(text) > MAX_TEXT:
        fail((*where, "text"), f"expected one line of at most {MAX_TEXT} characters")
    if kind == EventKind.NOTE and not text.strip():
        fail(where, "a note needs a text")
    return ScriptedEvent(float(at), EventKind(kind), text.strip())
