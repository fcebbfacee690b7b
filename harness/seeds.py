"""Named random streams derived from the run's one seed.

Every component draws from its own stream (`stream(seed, "erp.latency")`), derived with a
fixed hash rather than Python's salted `hash()`, so adding a component never shifts another's
draws and the same seed gives the same bytes on every machine.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable


def derive(seed: int, name: str) -> int:
    digest = hashlib.sha256(f"{seed}\x1f{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def stream(seed: int, name: str) -> random.Random:
    return random.Random(derive(seed, name))


def streams(seed: int) -> Callable[[str], random.Random]:
    """A factory of named streams for one run."""

    def named(name: str) -> random.Random:
        return stream(seed, name)

    return named
