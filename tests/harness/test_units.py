"""Quantities with units, as scenario files write them."""

from __future__ import annotations

import pytest
from hypothesis import given

from harness.units import format_duration, parse_duration, parse_probability, parse_rate
from tests.strategies import durations


@given(durations)
def test_durations_read_in_every_unit(pair: tuple[str, float]) -> None:
    text, seconds = pair
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize(
    ("text", "per_second"),
    [
        ("6/h", 6 / 3600),
        ("0.5/min", 0.5 / 60),
        ("100/d", 100 / 86400),
        ("60/2h", 30 / 3600),
        (12, 12 / 3600),
    ],
)
def test_rates(text: object, per_second: float) -> None:
    assert parse_rate(text) == pytest.approx(per_second)


@pytest.mark.parametrize(
    ("text", "fraction"), [("15%", 0.15), (0.15, 0.15), ("99.5%", 0.995), (1, 1.0)]
)
def test_probabilities(text: object, fraction: float) -> None:
    assert parse_probability(text) == pytest.approx(fraction)


@pytest.mark.parametrize(
    ("parser", "value", "message"),
    [
        (parse_duration, "-5m", "must not be negative"),
        (parse_duration, "5 parsecs", "unknown duration unit"),
        (parse_duration, True, "must be a number"),
        (parse_rate, "-3/h", "must not be negative"),
        (parse_rate, "3/0h", "non-zero period"),
        (parse_rate, "3h", "write a count per period: 6/h"),
        (parse_rate, "3/hx", "did you mean .h.?"),
        (parse_duration, "5 hors", "did you mean .hours.?"),
        (parse_probability, "120%", "between 0 and 1"),
        (parse_probability, 2, "between 0 and 1"),
    ],
)
def test_bad_values_say_what_is_wrong(parser: object, value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parser(value)  # type: ignore[operator]


def test_format_duration() -> None:
    assert [format_duration(s) for s in (0.25, 42, 900, 9000, 172800)] == [
        "250ms",
        "42s",
        "15m",
        "2.5h",
        "2d",
    ]
    assert format_duration(float("nan")) == "∞"
