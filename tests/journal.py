"""An in-memory journal for tests that step designs and policies without a driver."""

from __future__ import annotations

from typing import Any

from harness.effects import Load, Scan, Store

Journal = dict[str, dict[str, Any]]


def answer_journal(effect: object, journal: Journal) -> tuple[bool, Any]:
    """Answer a Load, Store or Scan as the driver would: (was it one, its result)."""
    if isinstance(effect, Load):
        return True, journal.get(effect.table, {}).get(effect.key)
    if isinstance(effect, Store):
        table = journal.setdefault(effect.table, {})
        if effect.value is None:
            table.pop(effect.key, None)
        else:
            table[effect.key] = effect.value
        return True, None
    if isinstance(effect, Scan):
        return True, sorted(journal.get(effect.table, {}).items())
    return False, None
