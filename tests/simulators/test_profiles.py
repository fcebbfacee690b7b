"""Profiles decide each call's fate purely from their own seeded streams."""

from __future__ import annotations

import itertools
import random
import statistics
from datetime import UTC, datetime, time

import pytest
from hypothesis import given, settings

from simulators.profiles import (
    LognormalLatency,
    OnceMaintenance,
    Profile,
    RandomOutages,
    WebhookDelivery,
    WeeklyMaintenance,
    Window,
)
from tests.strategies import latencies

MONDAY = datetime(2026, 3, 2, tzinfo=UTC)


def streams(seed: int = 1) -> object:
    return lambda name: random.Random(f"{seed}:{name}")


@settings(max_examples=25, deadline=None)
@given(latencies)
def test_lognormal_matches_its_p50_and_p99(pair: tuple[float, float]) -> None:
    p50, p99 = pair
    model, rng = LognormalLatency(p50, p99), random.Random(42)
    draws = sorted(model.sample(rng) for _ in range(20_000))
    assert abs(statistics.median(draws) / p50 - 1) < 0.08
    assert abs(draws[int(0.99 * len(draws))] / p99 - 1) < 0.25


def test_lognormal_cap_and_validation() -> None:
    capped, rng = LognormalLatency(1.0, 100.0, cap=5.0), random.Random(1)
    draws = [capped.sample(rng) for _ in range(5000)]
    assert max(draws) == 5.0 and min(draws) < 1.0
    with pytest.raises(ValueError, match="p50 <= p99"):
        LognormalLatency(2.0, 1.0)


def test_weekly_maintenance_follows_the_local_calendar_across_dst() -> None:
    window = WeeklyMaintenance(
        day=5, start=time(0, 1), duration_s=4 * 3600, tz="America/Los_Angeles"
    )
    found = window.windows(MONDAY, 14 * 86400)
    # Sat 7 Mar 00:01 PST is 08:01 UTC; US DST starts on 8 Mar, so Sat 14 Mar is 07:01 UTC.
    assert [w.start / 60 for w in found] == [(5 * 24 + 8) * 60 + 1, (12 * 24 + 7) * 60 + 1]
    assert all(w.end - w.start == 4 * 3600 and w.kind == "maintenance" for w in found)


def test_once_maintenance_inside_and_outside_the_horizon() -> None:
    at = datetime(2026, 3, 3, 12, tzinfo=UTC)
    assert OnceMaintenance(at, 3600).windows(MONDAY, 86400) == []
    assert OnceMaintenance(at, 3600).windows(MONDAY, 2 * 86400) == [
        Window(36 * 3600, 37 * 3600, "maintenance")
    ]


def test_outages_are_seeded_and_have_the_configured_means() -> None:
    outages = RandomOutages(mtbf_s=3600, mttr_s=600)
    first = outages.windows(random.Random(3), 2000 * 3600)
    assert first == outages.windows(random.Random(3), 2000 * 3600)
    gaps = [b.start - a.end for a, b in itertools.pairwise(first)]
    assert abs(statistics.mean(gaps) / 3600 - 1) < 0.1
    assert abs(statistics.mean(w.end - w.start for w in first) / 600 - 1) < 0.1


def test_calls_in_a_window_are_refused_fast_and_others_take_their_latency() -> None:
    behaviour = Profile(latency=LognormalLatency(1.0, 1.0)).bind(
        "erp", streams(), [Window(10, 20, "maintenance"), Window(15, 30, "outage")]
    )
    assert behaviour.decide(5).fate == "apply" and behaviour.decide(5).delay == 1.0
    refused = behaviour.decide(25)  # overlapping windows merge into one
    assert (refused.fate, refused.reason) == ("unavailable", "maintenance")
    assert behaviour.decide(30).fate == "apply"


def test_ghost_writes_and_timeouts_are_applied_but_unanswered() -> None:
    ghosts = Profile(ghost_write_probability=1.0, client_timeout_s=30).bind("b", streams(), [])
    decision = ghosts.decide(0)
    assert decision.fate == "ghost" and decision.delay + decision.lost_after == 30
    slow = Profile(latency=LognormalLatency(100.0, 100.0), client_timeout_s=30).bind(
        "b", streams(), []
    )
    assert (slow.decide(0).fate, slow.decide(0).delay, slow.decide(0).lost_after) == (
        "ghost",
        30,
        0,
    )


def test_duplicate_deliveries_follow_their_probability() -> None:
    profile = Profile(webhooks=WebhookDelivery(LognormalLatency(1, 10), duplicate_probability=0.15))
    behaviour = profile.bind("billing", streams(), [])
    counts = [len(behaviour.deliveries()) for _ in range(20_000)]
    assert set(counts) == {1, 2}
    assert abs(counts.count(2) / len(counts) - 0.15) < 0.01


def test_streams_are_independent_per_draw_kind() -> None:
    """Turning ghost writes on must not change any latency draw."""
    plain = Profile(latency=LognormalLatency(1, 10)).bind("erp", streams(), [])
    ghosty = Profile(latency=LognormalLatency(1, 10), ghost_write_probability=0.5).bind(
        "erp", streams(), []
    )
    plain_delays = [plain.decide(0).delay for _ in range(200)]
    ghosty_decisions = [ghosty.decide(0) for _ in range(200)]
    assert {d.fate for d in ghosty_decisions} == {"apply", "ghost"}
    assert plain_delays == [d.delay for d in ghosty_decisions]
