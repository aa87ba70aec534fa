"""Line numbers in TOML text, for error messages that point at the offending line.

``tomllib`` returns plain dicts that have forgotten where each value came
from, and in Python 3.11 its decode errors carry the position only inside the
message text. These helpers recover both.
"""

from __future__ import annotations

import logging
import re
import tomllib

log = logging.getLogger(__name__)

KeyPath = tuple[str | int, ...]
"""A value's place in the document: table and key names, with array-of-tables indices."""

_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)")
_AT_END = re.compile(r"\s*\(at end of document\)")
_KEY_PART = r"""(?:[A-Za-z0-9_-]+|"[^"\n]*"|'[^'\n]*')"""
_DOTTED = rf"{_KEY_PART}(?:\s*\.\s*{_KEY_PART})*"
_ARRAY_HEADER = re.compile(rf"^\s*\[\[\s*({_DOTTED})\s*\]\]")
_TABLE_HEADER = re.compile(rf"^\s*\[\s*({_DOTTED})\s*\]")
_KEY_LINE = re.compile(rf"^\s*({_DOTTED})\s*=")


def decode_error_position(exc: tomllib.TOMLDecodeError, text: str) -> tuple[str, int, int | None]:
    """Split a TOML decode error into its message, line and column.

    Parameters
    ----------
    exc : tomllib.TOMLDecodeError
        The error, whose text ends in ``(at line N, column M)`` or
        ``(at end of document)``.
    text : str
        The document that failed, used for the last line number.

    Returns
    -------
    tuple of (str, int, int or None)
        The message without the position, the 1-based line and the column
        (``None`` when the error is at the end of the document).
    """
    message = str(exc)
    match = _POSITION.search(message)
    if match:
        return message[:match.start()] + message[match.end():], int(match[1]), int(match[2])
    last_line = max(1, text.count("\n") + (0 if text.endswith("\n") else 1))
    return _AT_END.sub("", message), last_line, None


def _split_key(dotted: str) -> tuple[str, ...]:
    return tuple(part.strip("\"'") for part in re.findall(_KEY_PART, dotted))


def locate_line(text: str, target: KeyPath) -> int | None:
    """The 1-based line where the value at ``target`` is defined.

    A line matches when the table header or key it declares is ``target``
    or lies inside it, so a whole table is found by its header and a key
    written as ``table.key = ...`` is found too.

    Parameters
    ----------
    text : str
        The TOML document.
    target : KeyPath
        For example ``("baseline", "sbp")`` or ``("episodes", 1, "kind")``.

    Returns
    -------
    int or None
        ``None`` if no line declares it (for instance a value written in an
        inline table on another key's line).
    """
    current: KeyPath = ()
    array_counts: dict[tuple[str, ...], int] = {}
    in_multiline = False
    for number, line in enumerate(text.splitlines(), start=1):
        if in_multiline:
            if (line.count('"""') + line.count("'''")) % 2:
                in_multiline = False
            continue
        if match := _ARRAY_HEADER.match(line):
            name = _split_key(match[1])
            index = array_counts.get(name, 0)
            array_counts[name] = index + 1
            current = (*name, index)
            declared: KeyPath = current
        elif match := _TABLE_HEADER.match(line):
            current = _split_key(match[1])
            declared = current
        elif match := _KEY_LINE.match(line):
            declared = (*current, *_split_key(match[1]))
            if (line.count('"""') + line.count("'''")) % 2:
                in_multiline = True
        else:
            continue
        if declared[:len(target)] == target:
            return number
    return None
