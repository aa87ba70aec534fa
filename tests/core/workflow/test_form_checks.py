"""Form field checks: clean values back, or a FieldError naming field, value and rule."""

import pytest

from monitor.core.workflow.form_checks import (
    FieldError,
    in_range,
    integer,
    number,
    optional_int,
    text,
)


@pytest.mark.parametrize("raw,value", [(70, 70.0), (70.5, 70.5), ("70", 70.0), (" 70,5 ", 70.5),
                                       ("1e2", 100.0)])
def test_number_reads_numbers_and_typed_text(raw, value):
    assert number("w", raw) == value


@pytest.mark.parametrize("raw,problem", [(None, "is required"), ("", "is required"),
                                         ("  ", "is required"), ("seventy", "must be a number"),
                                         ("nan", "must be a number"), (float("inf"),
                                                                       "must be a number"),
                                         (False, "must be a number"), ([70], "must be a number")])
def test_number_refuses_what_is_not_a_number(raw, problem):
    with pytest.raises(FieldError) as info:
        number("w", raw)
    assert (info.value.field, info.value.problem) == ("w", problem)
    assert info.value.value is raw   # the value as given, not as converted


def test_in_range_states_the_range_and_unit():
    assert in_range("w", "20", 20, 300, "kg") == 20.0
    with pytest.raises(FieldError, match=r"^w = 19\.5: allowed range is 20-300 kg$"):
        in_range("w", 19.5, 20, 300, "kg")


@pytest.mark.parametrize("raw,ok", [(3, True), ("3", True), (3.0, True), (3.5, False),
                                    (0, False), (28, False)])
def test_integer(raw, ok):
    if ok:
        assert integer("n", raw, 1, 27) == 3
    else:
        with pytest.raises(FieldError, match="a whole number from 1 to 27"):
            integer("n", raw, 1, 27)


def test_integer_without_upper_bound():
    assert integer("n", 1000, 1) == 1000
    with pytest.raises(FieldError, match="a whole number from 1 up"):
        integer("n", 0, 1)


def test_optional_int_empty_is_none():
    assert optional_int("s", None, (0, 27)) is None
    assert optional_int("s", " ", (0, 27)) is None
    assert optional_int("s", "12", (0, 27)) == 12


@pytest.mark.parametrize("raw,problem", [(None, "is required"), (" ", "is required"),
                                         (12, "must be text"), ("abcdef", "at most 5"),
                                         ("a\tb", "control characters")])
def test_text_refusals(raw, problem):
    with pytest.raises(FieldError, match=problem):
        text("t", raw, 5)


def test_text_optional_and_stripped():
    assert text("t", None, 5, required=False) == ""
    assert text("t", "  ab ", 5) == "ab"
