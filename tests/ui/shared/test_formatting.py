"""Pure formatting helpers of the live view."""

from __future__ import annotations

import math

import pytest

from monitor.core.reading import Quality
from monitor.core.vitals import Vital
from monitor.ui.shared.formatting import (
    format_age,
    format_elapsed,
    format_gap,
    format_value,
    quality_reason,
)


@pytest.mark.parametrize(("seconds", "text"), [
    (0, "just now"),
    (-5, "just now"),
    (59.9, "just now"),
    (60, "1 min ago"),
    (119, "1 min ago"),
    (240, "4 min ago"),
    (59 * 60 + 59, "59 min ago"),
    (3600, "1 h ago"),
    (3600 + 5 * 60, "1 h 5 min ago"),
    (2 * 3600 + 59 * 60 + 30, "2 h 59 min ago"),
    (math.nan, "just now"),
])
def test_format_age(seconds, text):
    assert format_age(seconds) == text


@pytest.mark.parametrize(("seconds", "text"), [
    (0, "0:00:00"), (-3, "0:00:00"), (59.9, "0:00:59"), (61, "0:01:01"),
    (3600 + 62, "1:01:02"), (36000, "10:00:00"),
])
def test_format_elapsed(seconds, text):
    assert format_elapsed(seconds) == text


def test_format_gap():
    assert format_gap(None) == "Session resumed"
    assert format_gap(20) == "Session resumed after a gap of 1 min"
    assert format_gap(7 * 60 + 10) == "Session resumed after a gap of 7 min"


def test_format_value_and_reasons():
    assert format_value(Vital.HR, 72.4) == "72"
    assert format_value(Vital.HR, math.nan) == "---"
    assert quality_reason(Quality.SENSOR_OFF) == "SENSOR OFF"
    assert quality_reason(Quality.NO_VALUE) == "NO DATA"
    assert quality_reason(Quality.OK) == ""
