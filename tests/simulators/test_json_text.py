"""`dumps_as` writes exactly what `json.dumps` writes with the same settings."""

from __future__ import annotations

import datetime
import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from simulators.json_text import dumps_as

scalars = (
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True)
    | st.text() | st.dates()  # a date is no JSON value: `default=str` writes it
)  # fmt: skip
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)
SETTINGS: list[dict[str, Any]] = [
    {"sort_keys": True, "default": str},  # an idempotency key's fingerprint
    {"sort_keys": True, "separators": (",", ":"), "default": str},  # a webhook's signed body
    {"separators": (",", ":"), "ensure_ascii": False, "default": str},  # history's values
]


@given(values)
def test_the_same_text_as_json_dumps(value: Any) -> None:
    for settings in SETTINGS:
        assert dumps_as(**settings)(value) == json.dumps(value, **settings)


def test_a_value_json_cannot_hold_fails_as_json_dumps_does() -> None:
    strict = dumps_as(sort_keys=True)
    moment = {"at": datetime.date(2026, 12, 3)}
    for encode in (strict, lambda value: json.dumps(value, sort_keys=True)):
        try:
            encode(moment)
        except TypeError as error:
            assert "not JSON serializable" in str(error)
        else:
            raise AssertionError("a date was written without a default")
