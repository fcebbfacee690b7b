"""Calendar windows, random outages and brownouts, and the live conditions they open."""

from __future__ import annotations

import itertools
import random
import statistics
from datetime import UTC, datetime, time

from simulators.availability import (
    Conditions,
    OnceMaintenance,
    RandomBrownouts,
    RandomOutages,
    WeeklyMaintenance,
    Window,
)

MONDAY = datetime(2026, 3, 2, tzinfo=UTC)


def test_weekly_maintenance_follows_the_local_calendar_across_dst() -> None:
    window = WeeklyMaintenance(5, time(0, 1), 4 * 3600, "America/Los_Angeles")
    found = window.windows(MONDAY, 14 * 86400)
    # Sat 7 Mar 00:01 PST is 08:01 UTC; US DST starts on 8 Mar, so Sat 14 Mar is 07:01 UTC.
    assert [w.start / 60 for w in found] == [(5 * 24 + 8) * 60 + 1, (12 * 24 + 7) * 60 + 1]
    assert all(w.end - w.start == 4 * 3600 and w.kind == "maintenance" for w in found)
    read_only = WeeklyMaintenance(5, time(22), 3600, "UTC", "read_only").windows(MONDAY, 7 * 86400)
    assert [w.kind for w in read_only] == ["read_only"]


def test_once_maintenance_inside_and_outside_the_horizon() -> None:
    at = datetime(2026, 3, 3, 12, tzinfo=UTC)
    assert OnceMaintenance(at, 3600).windows(MONDAY, 86400) == []
    assert OnceMaintenance(at, 3600).windows(MONDAY, 2 * 86400) == [
        Window(36 * 3600, 37 * 3600, "maintenance")
    ]


def test_outages_and_brownouts_are_seeded_with_the_configured_means() -> None:
    outages = RandomOutages(mtbf_s=3600, mttr_s=600)
    first = outages.windows(random.Random(3), 2000 * 3600)
    assert first == outages.windows(random.Random(3), 2000 * 3600)
    gaps = [b.start - a.end for a, b in itertools.pairwise(first)]
    assert abs(statistics.mean(gaps) / 3600 - 1) < 0.1
    assert abs(statistics.mean(w.end - w.start for w in first) / 600 - 1) < 0.1
    brownouts = RandomBrownouts(7200, 900, latency_factor=4, error_rate=0.1)
    found = brownouts.windows(random.Random(1), 500 * 3600)
    assert found and all(w.kind == "brownout" and w.params["latency_factor"] == 4 for w in found)


def test_conditions_stack_and_take_the_worst_parameter() -> None:
    conditions = Conditions()
    mild, severe = {"latency_factor": 2.0}, {"latency_factor": 5.0}
    conditions.open("brownout", mild)
    conditions.open("brownout", severe)
    assert "brownout" in conditions and conditions.worst("brownout", "latency_factor", 1) == 5.0
    conditions.close("brownout", severe)
    assert conditions.worst("brownout", "latency_factor", 1) == 2.0
    conditions.close("brownout", mild)
    assert "brownout" not in conditions and conditions.kinds() == ()
    assert conditions.worst("brownout", "latency_factor", 1.0) == 1.0
