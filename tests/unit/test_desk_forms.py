"""The desk's form fields read into what the services take: whatever a person (or a script)
types, the reading gives a value the service then judges in its own words, never an error of
the page itself."""

from __future__ import annotations

import pytest

from services.portal.desk.forms import fen, number


@pytest.mark.parametrize("text, expected", [
    ("12.34", 1234), ("1,234.5", 123450), (" 0 ", 0), ("", None), ("abc", None),
    # Decimal reads these, but no int holds them (int() raised: the page answered 500)
    ("NaN", None), ("sNaN", None), ("Infinity", None), ("-inf", None),
    # past what Decimal multiplies (decimal.Overflow), or past any budget
    ("1e999999", None), ("9" * 17, None), ("1e16", None), ("9" * 16, 999999999999999900),
])
def test_an_amount_in_yuan_is_fen_or_none(text: str, expected: int | None) -> None:
    assert fen(text) == expected


@pytest.mark.parametrize("text", ["nan", "NaN", "inf", "-Infinity", "1e999", "abc", ""])
def test_a_number_that_is_none_reads_as_minus_one(text: str) -> None:
    """-1 is refused by every service in its own words; int(nan) and int(inf) raised (500)."""
    value = number(text)
    assert value == -1.0
    int(value)  # what the minutes of an order and the percent of a milestone do with it


def test_a_number_is_read_as_typed() -> None:
    assert number(" 3 ") == 3.0 and number("0.5") == 0.5 and number("-2") == -2.0
