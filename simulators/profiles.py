"""Behaviour profiles: what happens to one call at one time, decided purely from seeded streams.

A `Profile` is configuration (frozen, picklable, printable). `Profile.bind` gives a `Behaviour`:
the profile with its own random streams, its limiters' state and the live `Conditions` (fault
windows the driver opens and closes). Drivers ask it for a `CallDecision` and enact it: SimPy
waits, HTTP sleeps and answers.

A call meets, in this order (the first that refuses decides):
1. a partition between caller and system: the request is lost, the client times out;
2. an outage or maintenance window: 503, not applied; writes during a read-only window too;
3. each rate limit: the vendor's refusal (429 + Retry-After, or its own answer);
4. a concurrency cap in reject mode, when full (in queue mode the driver queues the call);
5. a brownout's error rate: 503 after the (slowed) latency;
6. the chance the request is lost on the way: not applied, the client times out;
7. the chance of a ghost write, or a latency past the client's timeout: applied, answer lost.

Each kind of draw has its own stream (`<system>.latency`, `.ghost`, `.lost`, `.errors`,
`.webhooks`), so changing one knob never shifts another's draws.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from simulators.availability import (
    Conditions,
    Maintenance,
    RandomBrownouts,
    RandomOutages,
    Window,
)
from simulators.base import IdempotencyRule
from simulators.latency import Latency, Lognormal
from simulators.limits import ConcurrencyCap, LimitAnswer, Limiter, RateLimit
from simulators.webhooks import DeliveryPlan, WebhookDelivery

Streams = Callable[[str], random.Random]
#: How often a durable stream (CDC) looks for its subscriber again, in scenario seconds.
STREAM_RECONNECT_S = 30.0
Fate = Literal["apply", "refuse", "ghost", "lost"]


@dataclass(frozen=True, slots=True)
class Profile:
    """Everything about how one simulated system behaves, apart from what it does."""

    latency: Latency = Lognormal.from_percentiles(0.2, 1.0)
    maintenance: tuple[Maintenance, ...] = ()
    outages: RandomOutages | None = None
    brownouts: RandomBrownouts | None = None
    rate_limits: tuple[RateLimit, ...] = ()
    concurrency: ConcurrencyCap | None = None
    ghost_write_probability: float = 0.0
    lost_request_probability: float = 0.0
    client_timeout_s: float = 30.0
    refusal_after_s: float = 0.25
    unavailable: LimitAnswer = LimitAnswer(503, "SERVICE_UNAVAILABLE", None)
    idempotency: IdempotencyRule = field(default_factory=IdempotencyRule)
    webhooks: WebhookDelivery = WebhookDelivery()

    def fault_windows(
        self, calendar_start: datetime, horizon_s: float, rng: random.Random
    ) -> list[Window]:
        """Maintenance, outage and brownout windows over the horizon, sorted by start."""
        found = [w for m in self.maintenance for w in m.windows(calendar_start, horizon_s)]
        if self.outages is not None:
            found.extend(self.outages.windows(rng, horizon_s))
        if self.brownouts is not None:
            found.extend(self.brownouts.windows(rng, horizon_s))
        return sorted(found, key=lambda w: (w.start, w.end, w.kind))

    def bind(self, system: str, streams: Streams) -> Behaviour:
        return Behaviour(self, system, streams)


@dataclass(frozen=True, slots=True)
class CallDecision:
    """What happens to one call.

    apply: applied after `delay`, answer delivered. refuse: not applied, the vendor answers
    `status`/`code` after `delay`. ghost: applied after `delay` (which may be later than the
    client's timeout), the answer never reaches the client, which gives up at its timeout.
    lost: never arrives; the client gives up after `delay`.
    """

    fate: Fate
    delay: float
    cause: str | None = None
    status: int | None = None
    code: str | None = None
    retry_after: float | None = None


class Draws:
    """The random streams one caller's decisions draw from: a system's callers each get their
    own (`Behaviour.draws_for`), so one caller's traffic never moves another's draws, while
    all of them meet the same conditions, limits and capacity."""

    __slots__ = ("errors", "ghost", "latency", "lost")

    def __init__(self, streams: Streams, prefix: str) -> None:
        self.latency = streams(f"{prefix}.latency")
        self.ghost = streams(f"{prefix}.ghost")
        self.lost = streams(f"{prefix}.lost")
        self.errors = streams(f"{prefix}.errors")


class Behaviour:
    """A profile bound to its streams, limiter state and live conditions."""

    __slots__ = (
        "_draws", "_limiters", "_streams", "_webhooks", "conditions", "in_service", "profile",
        "system",
    )  # fmt: skip

    def __init__(self, profile: Profile, system: str, streams: Streams) -> None:
        self.profile = profile
        self.system = system
        self.conditions = Conditions()
        self.in_service = 0
        self._streams = streams
        self._draws = Draws(streams, system)  # the integration's calls
        self._webhooks = streams(f"{system}.webhooks")
        self._limiters: list[tuple[Limiter, LimitAnswer]] = [
            (limit.limiter(), limit.answer) for limit in profile.rate_limits
        ]

    def draws_for(self, caller: str) -> Draws:
        """Streams of the system's own for another caller (the world's customers and staff)."""
        return Draws(self._streams, f"{self.system}.{caller}")

    def decide(self, now: float, write: bool = True, draws: Draws | None = None) -> CallDecision:
        profile, conditions = self.profile, self.conditions
        draws = draws or self._draws
        timeout = profile.client_timeout_s
        if "partition" in conditions:
            return CallDecision("lost", timeout, "partition")
        for kind in ("outage", "maintenance"):
            if kind in conditions:
                return self._refuse(kind, profile.unavailable)
        if write and "read_only" in conditions:
            return self._refuse("read_only", LimitAnswer(503, "READ_ONLY_MODE", None))
        for limiter, answer in self._limiters:
            wait = limiter.admit(now)
            if wait is not None:
                return self._refuse("rate_limit", answer, answer.retry_after_for(wait))
        cap = profile.concurrency
        if cap is not None and cap.mode == "reject" and self.in_service >= cap.limit:
            return self._refuse("concurrency", cap.answer, cap.answer.retry_after_for(0.0))
        latency = profile.latency.sample(draws.latency)
        latency *= conditions.worst("brownout", "latency_factor", 1.0)
        error_rate = conditions.worst("brownout", "error_rate", 0.0)
        if error_rate > 0 and draws.errors.random() < error_rate:
            answer = profile.unavailable
            return CallDecision("refuse", latency, "brownout", answer.status, answer.code)
        if profile.lost_request_probability > 0 and (
            draws.lost.random() < profile.lost_request_probability
        ):
            return CallDecision("lost", timeout, "lost")
        ghost = max(
            profile.ghost_write_probability, conditions.worst("ghost_writes", "probability", 0)
        )
        if ghost > 0 and draws.ghost.random() < ghost:
            return CallDecision("ghost", latency, "ghost")
        if latency > timeout:
            return CallDecision("ghost", latency, "timeout")
        return CallDecision("apply", latency)

    def _refuse(
        self, cause: str, answer: LimitAnswer, retry_after: float | None = None
    ) -> CallDecision:
        return CallDecision(
            "refuse", self.profile.refusal_after_s, cause, answer.status, answer.code, retry_after
        )

    def plan_delivery(self) -> DeliveryPlan:
        """How one emitted event will travel to its subscriber."""
        webhooks, rng, conditions = self.profile.webhooks, self._webhooks, self.conditions
        delay = webhooks.delay.sample(rng) * conditions.worst("webhook_delay", "factor", 1.0)
        if webhooks.reorder_probability > 0 and rng.random() < webhooks.reorder_probability:
            delay += webhooks.reorder_delay.sample(rng)
        lost = webhooks.loss_probability > 0 and rng.random() < webhooks.loss_probability
        duplicate_probability = max(
            webhooks.duplicate_probability, conditions.worst("duplicate_storm", "probability", 0)
        )
        duplicate = duplicate_probability > 0 and rng.random() < duplicate_probability
        return DeliveryPlan(delay, lost, duplicate)

    def duplicate_wait(self, attempt: int) -> float:
        """When an acknowledgement is lost, the vendor's next retry brings the duplicate."""
        wait = self.profile.webhooks.retry_wait(attempt)
        return wait if wait is not None else self.profile.webhooks.delay.sample(self._webhooks)

    def after_attempt(
        self, plan: DeliveryPlan, reached: bool, attempt: int, delivered: int, age: float
    ) -> AfterAttempt:
        """What the vendor does after delivery attempt `attempt` of an event `age` seconds old:
        `reached` says the receiver took it, `delivered` counts the attempts that reached it
        (this one included). The one delivery state machine of both drivers."""
        webhooks = self.profile.webhooks
        if reached:
            records = (("delivered", delivered),)
            if not plan.duplicate or delivered > 1:
                return AfterAttempt(records, None)
            return AfterAttempt(records, self.duplicate_wait(attempt))  # the ack was lost
        if webhooks.replay_retention_s is not None:  # a stream holds it for the subscriber
            if age > webhooks.replay_retention_s:
                return AfterAttempt((("dropped", attempt),), None)
            return AfterAttempt((("failed", attempt),) if attempt == 1 else (), STREAM_RECONNECT_S)
        retry = webhooks.retry_wait(attempt)
        if retry is None:
            return AfterAttempt((("failed", attempt), ("dropped", attempt)), None)
        return AfterAttempt((("failed", attempt),), retry)


@dataclass(frozen=True, slots=True)
class AfterAttempt:
    """The history records one delivery attempt leaves ((kind, number), e.g. ("failed", 2)),
    and the wait before the next attempt (None: the delivery is over)."""

    records: tuple[tuple[str, int], ...]
    wait: float | None
