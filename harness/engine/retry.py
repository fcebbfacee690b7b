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
"""

from __future__ import annotations

import random
from collections.abc import Generator
from dataclasses import dataclass, replace
from typing import Any

from harness.effects import Call, CallError, Effect, Reply, Sleep


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


def call_with_retry(
    call: Call, policy: RetryPolicy, rng: random.Random
) -> Generator[Effect, Any, Reply]:
    """Yield the call (and sleeps) until it succeeds or the policy gives up; return the reply."""
    attempt = 1
    while True:
        reply: Reply = yield replace(call, attempt=attempt)
        if reply.error is None or not policy.retries(reply.error, attempt):
            return reply
        yield Sleep(policy.delay(attempt, reply.error, rng))
        attempt += 1
