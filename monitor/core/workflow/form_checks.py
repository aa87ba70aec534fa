"""Checks for typed-in form fields: each returns the clean value or raises :class:`FieldError`.

Never a crash on bad input: text where a number belongs, NaN, a bool, a
value out of range all become a :class:`FieldError` naming the field, the
value as given and what is allowed.
"""

from __future__ import annotations

import math


class FieldError(ValueError):
    """A form field was refused.

    Attributes
    ----------
    field : str
        The field, e.g. ``"weight_kg"``.
    value : object
        The value as given.
    problem : str
        What is wrong and what is allowed.
    """

    def __init__(self, field: str, value: object, problem: str) -> None:
        super().__init__(f"{field} = {value!r}: {problem}")
        self.field = field
        self.value = value
        self.problem = problem


def number(name: str, value: object) -> float:
    """``value`` (a number, or text with a decimal point or comma) as a finite float."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise FieldError(name, value, "is required")
    x: object = value
    if isinstance(value, str):
        try:
            x = float(value.strip().replace(",", "."))
        except ValueError:
            raise FieldError(name, value, "must be a number") from None
    if isinstance(x, bool) or not isinstance(x, int | float) or not math.isfinite(x):
        raise FieldError(name, value, "must be a number")
    return float(x)


def in_range(name: str, value: object, lo: float, hi: float, unit: str) -> float:
    """A number within ``[lo, hi]``; the error states the range and unit."""
    x = number(name, value)
    if not lo <= x <= hi:
        raise FieldError(name, value, f"allowed range is {lo:g}-{hi:g} {unit}".rstrip())
    return x


def integer(name: str, value: object, lo: int, hi: int | None = None) -> int:
    """A whole number from ``lo`` (to ``hi``, if given)."""
    x = number(name, value)
    allowed = f"a whole number from {lo}" + (f" to {hi}" if hi is not None else " up")
    if x != int(x) or x < lo or (hi is not None and x > hi):
        raise FieldError(name, value, f"must be {allowed}")
    return int(x)


def text(name: str, value: object, max_len: int, required: bool = True) -> str:
    """Stripped printable text of at most ``max_len`` characters (``None`` is empty)."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise FieldError(name, value, "must be text")
    clean = value.strip()
    if required and not clean:
        raise FieldError(name, value, "is required")
    if len(clean) > max_len:
        raise FieldError(name, value, f"must be at most {max_len} characters")
    if not clean.isprintable():
        raise FieldError(name, value, "must not contain control characters")
    return clean


def optional_int(name: str, value: object, bounds: tuple[int, int]) -> int | None:
    """:func:`integer` within ``bounds``, or ``None`` when left empty."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return integer(name, value, *bounds)
