"""How many cores this process may run on: the default size of a pool, and whether a run can
judge its history aside."""

from __future__ import annotations

import os


def usable() -> int:
    """The cores the scheduler lets this process use (a container's or `taskset`'s share),
    where the platform says; else the machine's count."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1
