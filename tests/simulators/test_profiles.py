"""Profiles decide each call's fate purely, in a fixed order, from their own seeded streams."""

from __future__ import annotations

import math
import random

import pytest

from simulators.latency import Fixed, Lognormal
from simulators.limits import ConcurrencyCap, LimitAnswer, TokenBucket
from simulators.profiles import Profile
from simulators.webhooks import WebhookDelivery


def streams(seed: int = 1) -> object:
    return lambda name: random.Random(f"{seed}:{name}")


def bind(**fields: object) -> object:
    return Profile(**fields).bind("erp", streams())  # type: ignore[arg-type]


def within_99_percent(hits: int, trials: int, p: float) -> bool:
    """Is hits/trials inside the 99 % normal interval of a binomial(trials, p)?"""
    half_width = 2.576 * math.sqrt(p * (1 - p) / trials)
    return abs(hits / trials - p) <= half_width


def test_ghost_write_fraction_is_within_its_99_percent_interval() -> None:
    behaviour = bind(ghost_write_probability=0.05, latency=Fixed(1.0))
    trials = 100_000
    hits = sum(behaviour.decide(0.0).fate == "ghost" for _ in range(trials))  # type: ignore[attr-defined]
    assert within_99_percent(hits, trials, 0.05)


def test_duplicate_fraction_is_within_its_99_percent_interval() -> None:
    behaviour = bind(webhooks=WebhookDelivery(duplicate_probability=0.15))
    trials = 100_000
    hits = sum(behaviour.plan_delivery().duplicate for _ in range(trials))  # type: ignore[attr-defined]
    assert within_99_percent(hits, trials, 0.15)


def test_refusals_come_in_order_and_are_shaped_like_the_vendor() -> None:
    behaviour = bind(
        latency=Fixed(1.0),
        rate_limits=(TokenBucket(1.0, 1.0, LimitAnswer(429, "REQUEST_EXCEEDED_LIMIT", 120.0)),),
    )
    conditions = behaviour.conditions  # type: ignore[attr-defined]
    conditions.open("partition", {})
    conditions.open("outage", {})
    assert behaviour.decide(0.0).fate == "lost"  # type: ignore[attr-defined]
    conditions.close("partition", {})
    outage = behaviour.decide(0.0)  # type: ignore[attr-defined]
    assert (outage.fate, outage.cause, outage.status) == ("refuse", "outage", 503)
    conditions.close("outage", {})
    conditions.open("read_only", {})
    assert behaviour.decide(0.0, write=True).code == "READ_ONLY_MODE"  # type: ignore[attr-defined]
    assert behaviour.decide(0.0, write=False).fate == "apply"  # type: ignore[attr-defined]
    conditions.close("read_only", {})
    limited = behaviour.decide(0.1)  # type: ignore[attr-defined]
    assert (limited.cause, limited.status, limited.code, limited.retry_after) == (
        "rate_limit", 429, "REQUEST_EXCEEDED_LIMIT", 120.0,
    )  # fmt: skip


def test_concurrency_rejects_when_full_in_reject_mode() -> None:
    answer = LimitAnswer(429, "Too Many Requests", None)
    behaviour = bind(concurrency=ConcurrencyCap(15, "reject", answer))
    behaviour.in_service = 15  # type: ignore[attr-defined]
    refused = behaviour.decide(0.0)  # type: ignore[attr-defined]
    assert (refused.cause, refused.code, refused.retry_after) == (
        "concurrency",
        "Too Many Requests",
        None,
    )
    behaviour.in_service = 14  # type: ignore[attr-defined]
    assert behaviour.decide(0.0).fate == "apply"  # type: ignore[attr-defined]


def test_brownouts_slow_and_fail_calls() -> None:
    behaviour = bind(latency=Fixed(1.0))
    behaviour.conditions.open("brownout", {"latency_factor": 4.0, "error_rate": 0.5})  # type: ignore[attr-defined]
    decisions = [behaviour.decide(0.0) for _ in range(2000)]  # type: ignore[attr-defined]
    assert {d.delay for d in decisions} == {4.0}
    failed = sum(d.cause == "brownout" for d in decisions)
    assert within_99_percent(failed, 2000, 0.5)


def test_lost_requests_and_slow_answers() -> None:
    lost = bind(lost_request_probability=1.0, client_timeout_s=30.0).decide(0.0)  # type: ignore[attr-defined]
    assert (lost.fate, lost.delay) == ("lost", 30.0)
    slow = bind(latency=Fixed(100.0), client_timeout_s=30.0).decide(0.0)  # type: ignore[attr-defined]
    assert (slow.fate, slow.cause, slow.delay) == ("ghost", "timeout", 100.0)


def test_streams_are_independent_per_draw_kind() -> None:
    """Turning ghost writes on must not change any latency draw."""
    plain = bind(latency=Lognormal.from_percentiles(1, 10))
    ghosty = bind(latency=Lognormal.from_percentiles(1, 10), ghost_write_probability=0.5)
    plain_delays = [plain.decide(0).delay for _ in range(200)]  # type: ignore[attr-defined]
    ghosty_decisions = [ghosty.decide(0) for _ in range(200)]  # type: ignore[attr-defined]
    assert {d.fate for d in ghosty_decisions} == {"apply", "ghost"}
    assert plain_delays == [d.delay for d in ghosty_decisions]


def test_webhook_plans_reorder_lose_and_spike() -> None:
    webhooks = WebhookDelivery(delay=Fixed(1.0), loss_probability=1.0, reorder_probability=1.0)
    behaviour = bind(webhooks=webhooks)
    plan = behaviour.plan_delivery()  # type: ignore[attr-defined]
    assert plan.lost and plan.delay > 1.0
    spiked = bind(webhooks=WebhookDelivery(delay=Fixed(2.0)))
    spiked.conditions.open("webhook_delay", {"factor": 10.0})  # type: ignore[attr-defined]
    assert spiked.plan_delivery().delay == pytest.approx(20.0)  # type: ignore[attr-defined]
    storm = bind(webhooks=WebhookDelivery(duplicate_probability=0.0))
    storm.conditions.open("duplicate_storm", {"probability": 1.0})  # type: ignore[attr-defined]
    assert storm.plan_delivery().duplicate  # type: ignore[attr-defined]
