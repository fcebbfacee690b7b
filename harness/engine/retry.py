"""Retry with exponential backoff and jitter, Temporal-style, honouring Retry-After.

Rules:
1. Business errors are never retried: retrying cannot fix a missing tax code.
2. Transient errors (not applied) are retried after `initial * coefficient**(n-1)`, capped at
   `max_interval`, spread by ±`jitter` from the design's own seeded stream, and never sooner
   than the server's Retry-After.
3. Ambiguous errors (applied, answer lost) are retried the same way; the call's idempotency key
   is what makes that safe, so a call without one may duplicate its effect.
4. `max_attempts=None` retries until success (Temporal's default); otherwise the last reply is
   returned after that many attempts.
5. With a `Confirm`, an ambiguous answer is first checked by reading back: if the write shows,
   it counts as done and is not sent again. This is how a write to a vendor without
   idempotency keys stays effect-once. A request that went unanswered for T seconds may still
   be in the vendor's hands, queued or slowed, so the read waits that long (or the backoff, if
   longer) before it looks, and while the write does not show it looks again, waiting twice
   as long each time, until the vendor can no longer be holding it (`settle_s` after it was
   sent: the vendor's own server-side limit on a request): only then is it sent again.
6. With a circuit breaker, each attempt first asks it; while it is open the work parks (sleeps
   until it half-opens) instead of failing; every state change is noted in the history.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

from harness.effects import Call, CallError, Effect, Note, Now, Reply, Sleep
from harness.engine.breaker import CircuitBreaker


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    initial: float = 1.0
    coefficient: float = 2.0
    max_interval: float = 100.0
    max_attempts: int | None = None
    jitter: float = 0.2
    non_retryable: frozenset[str] = frozenset({"business"})

    def retries(self, error: CallError, attempt: int) -> bool:
        if error.kind in self.non_retryable:
            return False
        return self.max_attempts is None or attempt < self.max_attempts

    def delay(self, attempt: int, error: CallError, rng: random.Random) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        backoff = min(self.initial * self.coefficient ** (attempt - 1), self.max_interval)
        backoff *= 1.0 + self.jitter * (2.0 * rng.random() - 1.0)
        if error.retry_after is not None:
            backoff = max(backoff, error.retry_after)
        return backoff

    def __repr__(self) -> str:
        attempts = "∞" if self.max_attempts is None else str(self.max_attempts)
        return (
            f"retry(initial={self.initial:g}s, coefficient={self.coefficient:g}, "
            f"max_interval={self.max_interval:g}s, max_attempts={attempts}, "
            f"jitter=±{self.jitter:.0%})"
        )


def retry(
    initial: float = 1.0,
    coefficient: float = 2.0,
    max_interval: float = 100.0,
    max_attempts: int | None = None,
    jitter: float = 0.2,
) -> RetryPolicy:
    """A retry policy; the defaults are Temporal's activity defaults (vendor-behaviour.md)."""
    if initial <= 0 or coefficient < 1 or max_interval < initial:
        raise ValueError("retry needs initial > 0, coefficient >= 1, max_interval >= initial")
    if max_attempts is not None and max_attempts < 1:
        raise ValueError("max_attempts must be at least 1 (or None for unlimited)")
    if not 0 <= jitter < 1:
        raise ValueError("jitter is a fraction in [0, 1)")
    return RetryPolicy(initial, coefficient, max_interval, max_attempts, jitter)


@dataclass(frozen=True, slots=True)
class Confirm:
    """After an ambiguous answer: a read, and whether its reply shows the write applied; with
    `answer`, the write's reply made from the read's (a search answers with a list)."""

    read: Call
    applied: Callable[[Reply], bool]
    answer: Callable[[Reply], Reply] | None = None
    #: How long after it was sent a vendor may still apply a request it did not answer (rule
    #: 5): its server-side limit on a request. Salesforce's is 10 minutes (NetSuite REST's 15).
    settle_s: float = 600.0


def call_with_retry(
    call: Call,
    policy: RetryPolicy,
    rng: random.Random,
    breaker: CircuitBreaker | None = None,
    confirm: Confirm | None = None,
) -> Generator[Effect, Any, Reply]:
    """Yield the call (and sleeps) until it succeeds or the policy gives up; return the reply."""
    attempt = 1
    while True:
        if breaker is not None:
            yield from _admitted(breaker, call.system)
        # the first attempt is the call itself; `replace` costs more than the call's own fields
        attempt_call = (
            call
            if attempt == call.attempt
            else Call(call.system, call.operation, call.payload, call.idem_key, attempt)
        )
        sent = (yield Now()) if confirm is not None else 0.0
        reply: Reply = yield attempt_call
        if breaker is not None:
            failed = reply.error is not None and reply.error.kind != "business"
            changed = breaker.record(failed, (yield Now()))
            if changed is not None:
                yield Note("breaker", call.system, changed, {"after": call.operation})
        if reply.error is None:
            return reply
        backed_off = False
        if reply.error.kind == "ambiguous" and confirm is not None:
            check = yield from _read_back(confirm, policy, rng, breaker, attempt, reply, sent)
            backed_off = True
            if check.ok and confirm.applied(check):
                yield Note("confirm", call.system, "applied", {"operation": call.operation})
                return confirm.answer(check) if confirm.answer else Reply(check.body)
        if not policy.retries(reply.error, attempt):
            return reply
        if not backed_off:
            yield Sleep(policy.delay(attempt, reply.error, rng))
        attempt += 1


def _read_back(
    confirm: Confirm,
    policy: RetryPolicy,
    rng: random.Random,
    breaker: CircuitBreaker | None,
    attempt: int,
    reply: Reply,
    sent: float,
) -> Generator[Effect, Any, Reply]:
    """Rule 5: read until the write shows, or the vendor can no longer be holding it."""
    assert reply.error is not None
    now = yield Now()
    wait = max(policy.delay(attempt, reply.error, rng), now - sent)
    while True:
        yield Sleep(wait)
        check = yield from call_with_retry(confirm.read, policy, rng, breaker)
        waited = (yield Now()) - sent
        if (check.ok and confirm.applied(check)) or waited >= confirm.settle_s:
            return check  # a refusal to read (not found) is no answer either: look again
        wait = min(2 * wait, confirm.settle_s - waited)


def _admitted(breaker: CircuitBreaker, system: str) -> Generator[Effect, Any, None]:
    """Wait (park) until the breaker lets a call through."""
    while True:
        wait, changed = breaker.admit((yield Now()))
        if changed is not None:
            yield Note("breaker", system, changed)
        if wait is None:
            return
        yield Sleep(wait)
