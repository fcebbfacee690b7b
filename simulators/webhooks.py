"""Webhook delivery as vendors do it: delays, retries on a schedule, duplicates, loss, signing.

A vendor delivers each event once after a delay. When a delivery fails (the receiver is down or
partitioned away) it retries on its own schedule (Zuora: up to 3 attempts 30 minutes apart;
Stripe: backing off for up to 3 days) and gives up after the last. A delivery the vendor
believes failed although it arrived (the acknowledgement was lost) is retried too: that is how
duplicates happen, arriving a retry interval later. Some events are held back (reordering) and
a few are never delivered at all (Salesforce: "rarely a queued publish is lost").

A durable stream (Salesforce CDC, a broker topic) works differently: an event the receiver
cannot take is held, and delivered when the receiver is back (it replays from its last position),
as long as the stream retains it (`replay_retention_s`, 72 h for CDC).

Signatures follow Stripe's scheme: header `t=<unix time>,v1=<hex HMAC-SHA256 of "t.body">`;
receivers reject stale timestamps (5 minutes' tolerance by default).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from simulators.json_text import dumps_as
from simulators.latency import Exponential, Latency, Lognormal

DEFAULT_TOLERANCE_S = 300.0


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    delay: Latency = Lognormal.from_percentiles(1.0, 30.0)
    duplicate_probability: float = 0.0
    loss_probability: float = 0.0
    reorder_probability: float = 0.0
    reorder_delay: Latency = Exponential(60.0)
    retry_schedule: tuple[float, ...] = (1800.0, 1800.0)  # waits before attempts 2, 3, ...
    signing_secret: str | None = None
    replay_retention_s: float | None = None  # a durable stream: held while the receiver is away

    @property
    def max_attempts(self) -> int:
        return 1 + len(self.retry_schedule)

    def retry_wait(self, attempt: int) -> float | None:
        """Seconds before attempt `attempt + 1`, or None when the vendor gives up."""
        if attempt <= len(self.retry_schedule):
            return self.retry_schedule[attempt - 1]
        return None


@dataclass(frozen=True, slots=True)
class DeliveryPlan:
    """How one event will travel: first delay, lost for good, or acknowledged late (a duplicate)."""

    delay: float
    lost: bool = False
    duplicate: bool = False


_canonical = dumps_as(sort_keys=True, separators=(",", ":"), default=str)


def canonical_body(payload: Mapping[str, Any]) -> str:
    """The text a webhook's signature is made over: sorted keys, no spaces."""
    return _canonical(payload)


def sign(secret: str, timestamp: int, payload: Mapping[str, Any]) -> str:
    message = f"{timestamp}.{canonical_body(payload)}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(
    secret: str,
    header: str | None,
    payload: Mapping[str, Any],
    now: float,
    tolerance_s: float = DEFAULT_TOLERANCE_S,
) -> bool:
    """True when `header` signs `payload` with `secret` and is no older than the tolerance."""
    return verify_raw(secret, header, canonical_body(payload).encode(), now, tolerance_s)


def verify_raw(
    secret: str,
    header: str | None,
    body: bytes,
    now: float,
    tolerance_s: float = DEFAULT_TOLERANCE_S,
) -> bool:
    """`verify` over the bytes that arrived, before anything parses them: a receiver checks who
    sent a body before it spends any work on it. Any header, however malformed, is an answer of
    False, never an error."""
    if not header:
        return False
    try:
        fields = dict(part.split("=", 1) for part in header.split(","))
        timestamp = int(fields["t"])
        signature = fields["v1"].encode("latin-1", "replace")  # as HTTP headers arrive
    except (KeyError, ValueError, OverflowError):
        return False
    if abs(now - timestamp) > tolerance_s:
        return False
    message = str(timestamp).encode() + b"." + body
    expected = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest().encode()
    return hmac.compare_digest(expected, signature)
