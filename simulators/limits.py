"""Rate and concurrency limits, and the answer each vendor gives when one refuses a call.

Rate limits are a token bucket (Stripe-style requests per second with a burst), a fixed window
(Zendesk's requests per minute) or a sliding window (D365's 6,000 per 5 minutes, Salesforce's
rolling 24 h allocation). A concurrency cap either queues the call until a slot frees (the
driver enacts the queue) or rejects it at once (NetSuite's 16th concurrent request fails).

A refusal is shaped like the vendor's: `429` with a computed `Retry-After`, `429` with a fixed
one (Zuora's 120 s), or `403 REQUEST_LIMIT_EXCEEDED` with none (Salesforce).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Literal, Protocol

RetryAfter = float | Literal["computed"] | None


@dataclass(frozen=True, slots=True)
class LimitAnswer:
    """What a vendor answers when a limit refuses a call."""

    status: int = 429
    code: str = "TOO_MANY_REQUESTS"
    retry_after: RetryAfter = "computed"  # seconds, "computed" (until admitted), or no header

    def retry_after_for(self, wait: float) -> float | None:
        if self.retry_after == "computed":
            return max(wait, 0.0)
        return self.retry_after


class Limiter(Protocol):
    def admit(self, now: float) -> float | None:
        """None if the call is admitted, else the seconds until one would be."""


@dataclass(frozen=True, slots=True)
class TokenBucket:
    rate: float  # tokens per second
    burst: float
    answer: LimitAnswer = LimitAnswer()

    def limiter(self) -> Limiter:
        return _TokenBucketState(self.rate, self.burst)

    def __repr__(self) -> str:
        return f"token_bucket({self.rate:g}/s, burst={self.burst:g})"


@dataclass(frozen=True, slots=True)
class FixedWindow:
    limit: int
    window_s: float
    answer: LimitAnswer = LimitAnswer()

    def limiter(self) -> Limiter:
        return _FixedWindowState(self.limit, self.window_s)

    def __repr__(self) -> str:
        return f"fixed_window({self.limit} per {self.window_s:g}s)"


@dataclass(frozen=True, slots=True)
class SlidingWindow:
    limit: int
    window_s: float
    answer: LimitAnswer = LimitAnswer()

    def limiter(self) -> Limiter:
        return _SlidingWindowState(self.limit, self.window_s)

    def __repr__(self) -> str:
        return f"sliding_window({self.limit} per {self.window_s:g}s)"


RateLimit = TokenBucket | FixedWindow | SlidingWindow


@dataclass(frozen=True, slots=True)
class ConcurrencyCap:
    """At most `limit` calls in service at once; the rest queue (FIFO) or are rejected."""

    limit: int
    mode: Literal["queue", "reject"] = "queue"
    answer: LimitAnswer = LimitAnswer(retry_after=None)

    def __repr__(self) -> str:
        return f"concurrency({self.limit}, {self.mode})"


class _TokenBucketState:
    __slots__ = ("burst", "last", "rate", "tokens")

    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst = rate, burst
        self.tokens, self.last = burst, 0.0

    def admit(self, now: float) -> float | None:
        self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return None
        return (1.0 - self.tokens) / self.rate


class _FixedWindowState:
    __slots__ = ("count", "limit", "window", "window_s")

    def __init__(self, limit: int, window_s: float) -> None:
        self.limit, self.window_s = limit, window_s
        self.window, self.count = 0, 0

    def admit(self, now: float) -> float | None:
        window = int(now // self.window_s)
        if window != self.window:
            self.window, self.count = window, 0
        if self.count < self.limit:
            self.count += 1
            return None
        return (window + 1) * self.window_s - now


class _SlidingWindowState:
    """Exact: remembers the admission times of the last `limit` calls."""

    __slots__ = ("admitted", "limit", "window_s")

    def __init__(self, limit: int, window_s: float) -> None:
        self.limit, self.window_s = limit, window_s
        self.admitted: deque[float] = deque()

    def admit(self, now: float) -> float | None:
        admitted = self.admitted
        while admitted and admitted[0] <= now - self.window_s:
            admitted.popleft()
        if len(admitted) < self.limit:
            admitted.append(now)
            return None
        return admitted[0] + self.window_s - now
