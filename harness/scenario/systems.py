"""How each simulated system behaves: `systems.<name>` in a scenario, optionally from a preset.

systems:
  erp:
    preset: netsuite-like          # every field of the preset...
    latency: {p50: 900ms, p99: 4s} # ...and any field overridden beside it
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import time
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AwareDatetime, PositiveInt, model_validator

from harness.scenario.types import (
    SYSTEMS,
    Duration,
    Positive,
    PositiveDuration,
    Probability,
    Rate,
    Spec,
)
from harness.units import parse_duration
from simulators.availability import (
    WEEKDAYS,
    Maintenance,
    OnceMaintenance,
    RandomBrownouts,
    RandomOutages,
    WeeklyMaintenance,
)
from simulators.base import IdempotencyRule
from simulators.latency import Empirical, Exponential, Fixed, Latency, Lognormal, Uniform
from simulators.limits import (
    ConcurrencyCap,
    FixedWindow,
    LimitAnswer,
    RateLimit,
    RetryAfter,
    SlidingWindow,
    TokenBucket,
)
from simulators.presets import PRESETS
from simulators.profiles import Profile
from simulators.webhooks import WebhookDelivery

_LATENCY_FAMILIES = {
    "p50/p99": ("p50", "p99"),
    "median/sigma": ("median", "sigma"),
    "fixed": ("fixed",),
    "uniform": ("uniform",),
    "exponential": ("exponential",),
    "quantiles": ("quantiles",),
}


class LatencySpec(Spec):
    """One of: `{p50, p99}` or `{median, sigma}` (lognormal, optional `cap`), `{fixed}`,
    `{uniform: [low, high]}`, `{exponential: mean}`, `{quantiles: {0: .., 50: .., 100: ..}}`."""

    p50: PositiveDuration | None = None
    """Lognormal latency: the median (a duration); give p99 with it."""
    p99: PositiveDuration | None = None
    """Lognormal latency: the 99th percentile (a duration, not below p50)."""
    median: PositiveDuration | None = None
    """Lognormal latency by its parameters: the median (a duration); give sigma with it."""
    sigma: Positive | None = None
    """Lognormal latency by its parameters: the log-space standard deviation (a number)."""
    cap: PositiveDuration | None = None
    """The longest a lognormal latency may be (a duration): its long tail cut here."""
    fixed: Duration | None = None
    """Always this latency (a duration)."""
    uniform: tuple[Duration, Duration] | None = None
    """Uniform between two durations, [low, high]."""
    exponential: PositiveDuration | None = None
    """Exponential latency with this mean (a duration)."""
    quantiles: dict[float, Duration] | None = None
    """An empirical distribution: percentile (0-100) -> duration, from 0 to 100."""

    @model_validator(mode="after")
    def _one_family(self) -> LatencySpec:
        given = [
            name
            for name, fields in _LATENCY_FAMILIES.items()
            if any(getattr(self, f) is not None for f in fields)
        ]
        if len(given) != 1:
            raise ValueError(
                "give one latency model: {p50, p99}, {median, sigma}, fixed, uniform, "
                f"exponential or quantiles (got {', '.join(given) or 'none'})"
            )
        missing = [f for f in _LATENCY_FAMILIES[given[0]] if getattr(self, f) is None]
        if missing:
            raise ValueError(f"latency {given[0]} needs {' and '.join(missing)}")
        if self.cap is not None and given[0] not in ("p50/p99", "median/sigma"):
            raise ValueError("cap applies to lognormal latency only")
        self.model()  # the model's own checks (p50 <= p99, ordered quantiles...)
        return self

    def model(self) -> Latency:
        if self.p50 is not None and self.p99 is not None:
            if self.p99 < self.p50:
                raise ValueError(f"p99 ({self.p99:g}s) must not be below p50 ({self.p50:g}s)")
            return Lognormal.from_percentiles(self.p50, self.p99, self.cap)
        if self.median is not None and self.sigma is not None:
            return Lognormal(self.median, self.sigma, self.cap)
        if self.fixed is not None:
            return Fixed(self.fixed)
        if self.uniform is not None:
            return Uniform(*self.uniform)
        if self.exponential is not None:
            return Exponential(self.exponential)
        assert self.quantiles is not None
        return Empirical(tuple((q / 100.0, v) for q, v in sorted(self.quantiles.items())))


def _retry_after(text: str) -> RetryAfter:
    if text in ("computed", "none"):
        return None if text == "none" else "computed"
    return parse_duration(text)


class RateLimitSpec(Spec):
    """One of `{token_bucket: 100/s, burst: 100}`, `{fixed_window: 700, per: 1m}`,
    `{sliding_window: 6000, per: 5m}`, with the vendor's answer (`status`, `code`,
    `retry_after`: computed, none, or a duration)."""

    token_bucket: Rate | None = None
    """A token bucket refilled at this rate (e.g. 100/s)."""
    burst: Positive | None = None
    """The token bucket's size: requests that may arrive at once (default: one second's refill)."""
    fixed_window: PositiveInt | None = None
    """At most this many requests per fixed window of `per`."""
    sliding_window: PositiveInt | None = None
    """At most this many requests in any window of `per` (a rolling allocation)."""
    per: PositiveDuration | None = None
    """The window's length for fixed_window and sliding_window (a duration, e.g. 1m)."""
    status: int = 429
    """The HTTP status the vendor answers over the limit (429, or 403 for Salesforce)."""
    code: str = "TOO_MANY_REQUESTS"
    """The error code the vendor answers over the limit."""
    retry_after: str = "computed"
    """The Retry-After the vendor sends: computed (when the limit frees), none, or a duration like
    120s."""

    @model_validator(mode="after")
    def _one_kind(self) -> RateLimitSpec:
        kinds = [k for k in ("token_bucket", "fixed_window", "sliding_window") if getattr(self, k)]
        if len(kinds) != 1:
            raise ValueError("give one of token_bucket, fixed_window or sliding_window")
        if kinds[0] != "token_bucket" and self.per is None:
            raise ValueError(f"{kinds[0]} needs 'per', the window's length (e.g. per: 1m)")
        try:
            _retry_after(self.retry_after)
        except ValueError:
            raise ValueError("retry_after is computed, none, or a duration like 120s") from None
        return self

    def model(self) -> RateLimit:
        answer = LimitAnswer(self.status, self.code, _retry_after(self.retry_after))
        if self.token_bucket is not None:
            burst = self.burst if self.burst is not None else max(1.0, self.token_bucket)
            return TokenBucket(self.token_bucket, burst, answer)
        assert self.per is not None
        if self.fixed_window is not None:
            return FixedWindow(self.fixed_window, self.per, answer)
        assert self.sliding_window is not None
        return SlidingWindow(self.sliding_window, self.per, answer)


class ConcurrencySpec(Spec):
    limit: PositiveInt
    """Requests the vendor serves at once."""
    mode: Literal["queue", "reject"] = "queue"
    """Over the limit: queue (wait for a slot) or reject (answer with `status`)."""
    status: int = 429
    """The HTTP status of a rejection."""
    code: str = "TOO_MANY_REQUESTS"
    """The error code of a rejection."""
    retry_after: str = "none"
    """The Retry-After of a rejection: computed, none, or a duration."""

    def model(self) -> ConcurrencyCap:
        answer = LimitAnswer(self.status, self.code, _retry_after(self.retry_after))
        return ConcurrencyCap(self.limit, self.mode, answer)


class MaintenanceSpec(Spec):
    """Either `weekly: "sat 22:00"` (local time in `tz`) or `once: <ISO datetime>`; `mode` is
    maintenance (unavailable) or read_only (writes refused)."""

    weekly: str | None = None
    """A weekly window's start, as day and local time in `tz`, e.g. "sat 22:00"."""
    once: AwareDatetime | None = None
    """A one-off window's start: a calendar time with a zone."""
    duration: PositiveDuration
    """How long the window lasts (a duration, e.g. 2h)."""
    tz: str = "UTC"
    """The IANA time zone `weekly` is written in, e.g. America/Los_Angeles."""
    mode: Literal["maintenance", "read_only"] = "maintenance"
    """maintenance (every call refused) or read_only (writes refused, reads served)."""

    @model_validator(mode="after")
    def _one_kind(self) -> MaintenanceSpec:
        if (self.weekly is None) == (self.once is None):
            raise ValueError("give exactly one of 'weekly' (like \"sat 22:00\") or 'once'")
        try:
            ZoneInfo(self.tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {self.tz!r}; use an IANA name") from None
        if self.weekly is not None:
            self._weekly_parts()
        return self

    def _weekly_parts(self) -> tuple[int, time]:
        assert self.weekly is not None
        parts = self.weekly.strip().lower().split()
        if len(parts) != 2 or parts[0][:3] not in WEEKDAYS:
            raise ValueError(f'cannot read weekly {self.weekly!r}; write it like "sat 22:00"')
        try:
            at = time.fromisoformat(parts[1])
        except ValueError:
            raise ValueError(f"cannot read the time in {self.weekly!r}; use HH:MM") from None
        return WEEKDAYS.index(parts[0][:3]), at

    def model(self) -> Maintenance:
        if self.once is not None:
            return OnceMaintenance(self.once, self.duration, self.mode)
        day, at = self._weekly_parts()
        return WeeklyMaintenance(day, at, self.duration, self.tz, self.mode)


class OutagesSpec(Spec):
    mtbf: PositiveDuration
    """Mean time between random outages (a duration, e.g. 30d)."""
    mttr: PositiveDuration
    """Mean time to repair one (a duration, e.g. 45m)."""


class BrownoutsSpec(Spec):
    mtbf: PositiveDuration
    """Mean time between random brownouts (a duration)."""
    duration: PositiveDuration
    """How long one lasts (a duration)."""
    latency_factor: Positive = 3.0
    """Latency is multiplied by this during a brownout."""
    error_rate: Probability = 0.05
    """The share of calls that fail with a 5xx during a brownout."""


class WebhookSpec(Spec):
    delay: LatencySpec = LatencySpec(p50=1.0, p99=30.0)
    """From the change to the webhook's delivery (a latency model)."""
    duplicate_probability: Probability = 0.0
    """The share of webhooks delivered twice (at-least-once delivery)."""
    loss_probability: Probability = 0.0
    """The share of webhooks never delivered."""
    reorder_probability: Probability = 0.0
    """The share of webhooks held back by `reorder_delay`, so later ones pass them."""
    reorder_delay: LatencySpec = LatencySpec(exponential=60.0)
    """How long a reordered webhook is held back (a latency model)."""
    retry_schedule: list[PositiveDuration] = [1800.0, 1800.0]
    """The vendor's redelivery delays after a failed delivery (durations, e.g. [30m, 30m])."""
    signing_secret: str | None = None
    """The secret webhooks are signed with (live mode), or none."""
    replay_retention: PositiveDuration | None = None
    """How long the vendor keeps events for replay (a duration), or none."""

    def model(self) -> WebhookDelivery:
        return WebhookDelivery(
            self.delay.model(),
            self.duplicate_probability,
            self.loss_probability,
            self.reorder_probability,
            self.reorder_delay.model(),
            tuple(self.retry_schedule),
            self.signing_secret,
            self.replay_retention,
        )


class IdempotencySpec(Spec):
    supported: bool = True
    """Whether the vendor honours idempotency keys at all."""
    retention: PositiveDuration = 24 * 3600.0
    """How long a key is remembered (a duration, e.g. 24h): a retry later than this writes again."""
    conflict_in_flight: bool = True
    """Whether a retry with a key whose first request is still in flight is refused (409) rather
    than run."""


class SystemSpec(Spec):
    preset: str | None = None
    """A behaviour preset named after a vendor (`syncline presets` lists them); fields given beside
    it override its values."""
    latency: LatencySpec = LatencySpec(p50=0.2, p99=1.0)
    """How long a call takes (a latency model: {p50, p99}, {median, sigma}, fixed, uniform,
    exponential or quantiles)."""
    maintenance: list[MaintenanceSpec] = []
    """Scheduled maintenance windows (weekly or once)."""
    outages: OutagesSpec | None = None
    """Random outages ({mtbf, mttr}); none when absent."""
    brownouts: BrownoutsSpec | None = None
    """Random brownouts: slow and failing for a while; none when absent."""
    rate_limits: list[RateLimitSpec] = []
    """Rate limits the vendor enforces, each answered as the vendor answers it."""
    concurrency: ConcurrencySpec | None = None
    """A cap on requests served at once; none when absent."""
    ghost_write_probability: Probability = 0.0
    """The share of calls applied whose answer is lost (the caller sees a timeout)."""
    lost_request_probability: Probability = 0.0
    """The share of calls lost before they arrive (the caller sees a timeout)."""
    client_timeout: PositiveDuration = 30.0
    """How long a caller waits for an answer before giving up (a duration)."""
    idempotency: IdempotencySpec = IdempotencySpec()
    """How the vendor treats idempotency keys."""
    webhooks: WebhookSpec = WebhookSpec()
    """How the vendor delivers its events: delay, duplicates, loss, reordering, retries."""

    @model_validator(mode="before")
    @classmethod
    def _apply_preset(cls, data: Any) -> Any:
        """A preset's fields, overridden by the ones the scenario gives beside it."""
        if not isinstance(data, Mapping) or data.get("preset") is None:
            return data
        name = data["preset"]
        if name not in PRESETS:
            raise ValueError(f"unknown preset {name!r}; presets: {', '.join(sorted(PRESETS))}")
        return _merge(PRESETS[name].fields, data)

    def profile(self) -> Profile:
        return Profile(
            latency=self.latency.model(),
            maintenance=tuple(m.model() for m in self.maintenance),
            outages=RandomOutages(self.outages.mtbf, self.outages.mttr) if self.outages else None,
            brownouts=(
                RandomBrownouts(
                    self.brownouts.mtbf,
                    self.brownouts.duration,
                    self.brownouts.latency_factor,
                    self.brownouts.error_rate,
                )
                if self.brownouts
                else None
            ),
            rate_limits=tuple(limit.model() for limit in self.rate_limits),
            concurrency=self.concurrency.model() if self.concurrency else None,
            ghost_write_probability=self.ghost_write_probability,
            lost_request_probability=self.lost_request_probability,
            client_timeout_s=self.client_timeout,
            idempotency=IdempotencyRule(
                self.idempotency.supported,
                self.idempotency.retention,
                self.idempotency.conflict_in_flight,
            ),
            webhooks=self.webhooks.model(),
        )


#: Fields that hold one model among alternatives: an override replaces them whole.
_REPLACED_WHOLE = frozenset({"latency", "delay", "reorder_delay"})


def _merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Mappings merge key by key; anything else in `override` replaces the base value."""
    merged = dict(base)
    for key, value in override.items():
        if (
            key not in _REPLACED_WHOLE
            and isinstance(value, Mapping)
            and isinstance(merged.get(key), Mapping)
        ):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


class SystemsSpec(Spec):
    cpq: SystemSpec | None
    """The CPQ system (quotes, approvals, amendments): Salesforce-like. `null` for a business
    without one: customers order in a web shop that creates their subscriptions in billing."""
    erp: SystemSpec | None
    """The ERP (orders, tax, master data, ledger): NetSuite-like. `null` for a business without
    one: no sales orders, ERP contracts or ledger postings to keep."""
    billing: SystemSpec
    """The billing system (subscriptions, invoices, payments): Zuora- or Stripe-like."""
    support: SystemSpec
    """The support desk (entitlements, cases): ServiceNow- or Zendesk-like."""
    erp_cloud: SystemSpec | None = None
    """A second ERP during a migration: it serves the regions `world.cloud_erp_regions` names."""

    def items(self) -> list[tuple[str, SystemSpec]]:
        """The systems this business has, by name (absent ones left out)."""
        named = [(name, getattr(self, name)) for name in (*SYSTEMS, "erp_cloud")]
        return [(name, spec) for name, spec in named if spec is not None]

    @property
    def absent(self) -> tuple[str, ...]:
        """The systems this business does without (`cpq: null`, `erp: null`)."""
        return tuple(name for name in SYSTEMS if getattr(self, name) is None)
