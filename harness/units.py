"""Quantities with units as scenario files write them: `250ms`, `15m`, `6/h`, `99.5%`.

Each parser takes what YAML gives (a number or a string) and returns seconds, events per
second, or a fraction; a bad value raises ValueError with a sentence a user can act on.
"""

from __future__ import annotations

import difflib
import math
import re

_SECONDS = {
    "ms": 0.001, "s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "hr": 3600.0,
    "d": 86400.0, "day": 86400.0, "w": 604800.0, "wk": 604800.0,
}  # fmt: skip
_SECONDS.update(
    {
        f"{word}s": _SECONDS[short]
        for word, short in (("sec", "s"), ("min", "m"), ("hr", "h"), ("day", "d"), ("wk", "w"))
    }
)
_SECONDS.update(
    {
        word: _SECONDS[short]
        for word, short in (
            ("second", "s"),
            ("seconds", "s"),
            ("minute", "m"),
            ("minutes", "m"),
            ("hour", "h"),
            ("hours", "h"),
            ("week", "w"),
            ("weeks", "w"),
        )
    }
)
_QUANTITY = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([a-z]*)\s*$")


def _number(value: object, what: str) -> tuple[float, str]:
    if isinstance(value, bool):
        raise ValueError(f"{what} must be a number with a unit, not {value!r}")
    if isinstance(value, int | float):
        return float(value), ""
    if isinstance(value, str):
        text = value.strip().lower()
        if text.startswith("-"):
            raise ValueError(f"{what} must not be negative, got {value!r}")
        match = _QUANTITY.match(text)
        if match:
            return float(match.group(1)), match.group(2)
    raise ValueError(f"cannot read {value!r} as {what}")


def parse_duration(value: object) -> float:
    """Seconds from `90`, `250ms`, `30s`, `15m`, `2h`, `3d` or `1w`."""
    try:
        amount, unit = _number(value, "a duration")
    except ValueError as error:
        raise ValueError(f"{error}; {DURATION_FORMS}") from None
    if unit and unit not in _SECONDS:
        raise ValueError(f"unknown duration unit in {value!r}{_closest(unit)}; {DURATION_FORMS}")
    seconds = amount * _SECONDS.get(unit, 1.0)
    if seconds < 0:
        raise ValueError(f"a duration must not be negative, got {value!r}")
    return seconds


#: The accepted forms, as error messages and the JSON Schema state them.
DURATION_FORMS = "write a number with a unit: ms, s, m, h, d or w (e.g. 250ms, 30s, 15m, 2h, 3d)"
RATE_FORMS = "write a count per period: 6/h, 0.5/min, 100/d, 2/s or 10/15m"


def _closest(unit: str) -> str:
    close = difflib.get_close_matches(unit, _SECONDS, n=1, cutoff=0.5)
    return f" (did you mean {close[0]!r}?)" if close else ""


def require_unit(value: object, what: str, forms: str) -> object:
    """Refuse a bare number other than 0 where a unit is expected: `duration: 48` might mean
    hours or seconds, and a scenario file should not have to be guessed."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value != 0:
        raise ValueError(f"{value!r} is a bare number, but {what} needs a unit; {forms}")
    return value


def format_exact_duration(seconds: float) -> str:
    """The shortest text with a unit that `parse_duration` reads back to exactly `seconds`."""
    if seconds == 0:
        return "0s"
    for unit in ("w", "d", "h", "m", "s", "ms"):
        amount = seconds / _SECONDS[unit]
        if amount == int(amount) and parse_duration(f"{int(amount)}{unit}") == seconds:
            return f"{int(amount)}{unit}"
    return f"{seconds!r}s"


def parse_rate(value: object) -> float:
    """Events per second from `6/h`, `0.5/min`, `100/d` (a bare number means per hour)."""
    if isinstance(value, str) and value.strip().startswith("-"):
        raise ValueError(f"a rate must not be negative, got {value!r}")
    if isinstance(value, str) and "/" in value:
        count_text, _, per_text = value.partition("/")
        count, count_unit = _number(count_text, "a rate")
        if count_unit:
            raise ValueError(f"cannot read {value!r} as a rate; {RATE_FORMS}")
        per_text = per_text.strip().lower()
        try:
            per = parse_duration(per_text if per_text[:1].isdigit() else f"1{per_text}")
        except ValueError:
            unit = per_text.lstrip("0123456789. ")
            hint = _closest(unit)
            raise ValueError(f"cannot read {value!r} as a rate{hint}; {RATE_FORMS}") from None
        if per == 0:
            raise ValueError(f"a rate needs a non-zero period, got {value!r}")
    else:
        try:
            count, unit = _number(value, "a rate")
        except ValueError:
            raise ValueError(f"cannot read {value!r} as a rate; {RATE_FORMS}") from None
        if unit:
            raise ValueError(f"cannot read {value!r} as a rate; {RATE_FORMS}")
        per = 3600.0
    if count < 0:
        raise ValueError(f"a rate must not be negative, got {value!r}")
    return count / per


def format_rate(per_second: float) -> str:
    """The text `parse_rate` reads back exactly: per hour when that is exact, else per second."""
    hourly = f"{per_second * 3600!r}/h"
    return hourly if parse_rate(hourly) == per_second else f"{per_second!r}/s"


def parse_probability(value: object) -> float:
    """A fraction in [0, 1] from `0.15` or `15%`."""
    if isinstance(value, str) and value.strip().endswith("%"):
        amount, _ = _number(value.strip()[:-1], "a percentage")
        fraction = amount / 100.0
    else:
        fraction, unit = _number(value, "a probability")
        if unit:
            raise ValueError(f"cannot read {value!r} as a probability; write 0.15 or 15%")
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"a probability must be between 0 and 1 (or 0% and 100%), got {value!r}")
    return fraction


def format_duration(seconds: float) -> str:
    """The shortest readable form: `850ms`, `42s`, `15m`, `2.5h`, `3d`."""
    if not math.isfinite(seconds):
        return "∞"
    for unit, size in (("d", 86400.0), ("h", 3600.0), ("m", 60.0), ("s", 1.0)):
        if abs(seconds) >= size:
            return f"{seconds / size:.3g}{unit}"
    return f"{seconds * 1000:.3g}ms"
