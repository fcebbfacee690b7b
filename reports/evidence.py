"""Evidence as people read it: calendar times, durations with units, business ids first.

summary.json keeps each evidence item as the checker wrote it (run seconds, history positions:
what a program needs); reports show it with run times as calendar times, `_s` figures as
durations, and the history positions left out (`syncline trace` follows the business id).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from harness.units import format_duration

#: How many evidence items of a checker the reports show (and draw lineage from).
SHOWN = 10
#: Keys holding a run time (seconds since the scenario's start).
TIMES = frozenset({"approved_at", "shown_at", "since", "t", "at", "posted_at", "opened_at"})
#: Keys holding an id `syncline trace` can follow, in the order one is chosen.
TRACEABLE = ("quote", "invoice", "order", "contract", "case", "message", "workflow")


def traceable_id(item: Mapping[str, Any]) -> str | None:
    """The id in an evidence item that `syncline trace` can follow, if any: a named id, the
    business ids of the request it names (`keys`), or the id in a `business_key`."""
    found = next((str(item[key]) for key in TRACEABLE if key in item), None)
    if found is not None:
        return found
    keys = item.get("keys")
    if isinstance(keys, Mapping):
        found = next((str(keys[key]) for key in TRACEABLE if key in keys), None)
        if found is not None:
            return found
    business_key = item.get("business_key")
    if isinstance(business_key, str):  # `invoice:INV-2`, `CT-7:v3`, `Q-1:erp-order`
        kind, colon, rest = business_key.partition(":")
        return (rest if colon and kind in TRACEABLE else kind).partition(":")[0] or None
    return None


def describe(item: Mapping[str, Any], start: datetime) -> str:
    """`contract=CT-21, version 1, approved Mon 02 Mar 06:16, window 22.5h`."""
    parts = []
    for key, value in item.items():
        if key == "position" or key.endswith(("_position", "positions")):
            continue
        if key in TIMES and isinstance(value, int | float):
            parts.append(
                f"{key.replace('_', ' ')} {start + timedelta(seconds=value):%a %d %b %H:%M}"
            )
        elif key.endswith("_s") and isinstance(value, int | float):
            parts.append(f"{key[:-2].replace('_', ' ')} {format_duration(value)}")
        elif isinstance(value, Mapping):
            inner = ", ".join(f"{k} {v}" for k, v in value.items())
            parts.append(f"{key.replace('_', ' ')} ({inner})")
        elif isinstance(value, list | tuple):
            parts.append(f"{key.replace('_', ' ')} {', '.join(map(str, value))}")
        else:
            parts.append(f"{key.replace('_', ' ')} {value}")
    return "; ".join(parts)
