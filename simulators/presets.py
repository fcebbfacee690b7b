"""Behaviour presets named after observed vendor behaviour.

Each preset is plain data in the scenario's own vocabulary (the fields of `systems.<name>`), so
a scenario picks one with `preset: netsuite-like` and overrides any field beside it. Numbers
come from docs/vendor-behaviour.md; where a vendor publishes nothing (latency, above
all) the value is an assumption, and each preset's `assumed` list says which.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Preset:
    name: str
    vendor: str
    fields: Mapping[str, Any]
    sources: tuple[str, ...]
    assumed: tuple[str, ...] = field(default=())


PRESETS: dict[str, Preset] = {}


def _preset(preset: Preset) -> None:
    PRESETS[preset.name] = preset


_preset(Preset(
    "salesforce-like", "Salesforce CPQ on the Salesforce platform",
    {
        "latency": {"p50": "200ms", "p99": "1.5s", "cap": "10m"},
        "client_timeout": "10m",
        "rate_limits": [
            {"sliding_window": 200_000, "per": "24h", "status": 403,
             "code": "REQUEST_LIMIT_EXCEEDED", "retry_after": "none"},
        ],
        "concurrency": {"limit": 25, "mode": "reject", "status": 403,
                        "code": "REQUEST_LIMIT_EXCEEDED", "retry_after": "none"},
        "idempotency": {"supported": False},
        "webhooks": {
            "delay": {"p50": "1s", "p99": "10s"}, "duplicate_probability": "0.1%",
            "loss_probability": "0.01%", "retry_schedule": [], "replay_retention": "72h",
        },
    },
    sources=(
        "rolling 24 h allocation 100,000 + 1,000 per licence (Enterprise): 100 licences",
        "over the limit: HTTP 403 REQUEST_LIMIT_EXCEEDED with no Retry-After",
        "requests running >= 20 s capped at 25 concurrent; call timeout 10 min",
        "no idempotency keys on the REST API",
        "Change Data Capture: commit order, events kept 72 h for replay, a queued publish "
        "rarely lost",
    ),
    assumed=(
        "latency p50 200 ms / p99 1.5 s (only 'well under 300 ms average' is published)",
        "the 25-request concurrency cap applied to every request, not only long ones",
        "100 licences; CDC delay p50 1 s / p99 10 s; 0.1 % duplicates; 0.01 % lost",
    ),
))  # fmt: skip

_preset(Preset(
    "zuora-like", "Zuora Billing (Orders API, callouts)",
    {
        "latency": {"p50": "400ms", "p99": "3s"},
        "rate_limits": [
            {"token_bucket": "50000/min", "burst": 50_000, "status": 429,
             "code": "REQUEST_EXCEEDED_LIMIT", "retry_after": "120s"},
        ],
        "concurrency": {"limit": 40, "mode": "reject", "status": 429,
                        "code": "REQUEST_EXCEEDED_LIMIT", "retry_after": "120s"},
        "idempotency": {"supported": True, "retention": "24h", "conflict_in_flight": True},
        "webhooks": {
            "delay": {"p50": "5s", "p99": "2m"}, "duplicate_probability": "2%",
            "reorder_probability": "5%", "reorder_delay": {"exponential": "2m"},
            "retry_schedule": ["30m", "30m"],
        },
    },
    sources=(
        "50,000 API calls per minute per tenant; 429 REQUEST_EXCEEDED_LIMIT, Retry-After 120 s",
        "concurrency 40 for subscribe/amend",
        "Idempotency-Key kept 24 h; 409 for a concurrent request; 422 for another payload",
        "callouts: 3 attempts by default, 30 min apart; order not guaranteed",
    ),
    assumed=(
        "latency p50 400 ms / p99 3 s",
        "the concurrency cap of 40 applied to every call",
        "callout delay p50 5 s / p99 2 min; 2 % duplicates; 5 % held back ~2 min",
    ),
))  # fmt: skip

_preset(Preset(
    "stripe-like", "Stripe Billing",
    {
        "latency": {"p50": "300ms", "p99": "2s"},
        "rate_limits": [
            {"token_bucket": "100/s", "burst": 100, "status": 429, "code": "rate_limit",
             "retry_after": "none"},
        ],
        "idempotency": {"supported": True, "retention": "24h", "conflict_in_flight": True},
        "webhooks": {
            "delay": {"p50": "2s", "p99": "30s"}, "duplicate_probability": "1%",
            "reorder_probability": "10%", "reorder_delay": {"exponential": "30s"},
            "retry_schedule": ["1h", "2h", "4h", "8h", "16h", "24h", "17h"],
            "signing_secret": "whsec_simulated",
        },
    },
    sources=(
        "100 read/write requests per second in live mode; 429 on excess",
        "idempotency keys <= 255 chars, pruned after >= 24 h; first result replayed; "
        "same key with other parameters is an error",
        "webhooks retried with exponential backoff for up to 3 days; no ordering guarantee; "
        "duplicates happen; signed t=timestamp,v1=HMAC-SHA256; 5 min tolerance",
    ),
    assumed=(
        "latency p50 300 ms / p99 2 s; no Retry-After on 429",
        "retry steps 1 h, 2 h, 4 h ... summing to 3 days; 1 % duplicates; 10 % held back",
    ),
))  # fmt: skip

_preset(Preset(
    "netsuite-like", "Oracle NetSuite OneWorld (REST)",
    {
        "latency": {"p50": "1.2s", "p99": "5s", "cap": "15m"},
        "client_timeout": "60s",
        "concurrency": {"limit": 15, "mode": "reject", "status": 429,
                        "code": "Too Many Requests", "retry_after": "none"},
        "maintenance": [{"weekly": "sat 00:01", "tz": "America/Los_Angeles", "duration": "4h"}],
        "outages": {"mtbf": "4d", "mttr": "29m"},
        "idempotency": {"supported": True, "retention": "24h", "conflict_in_flight": True},
    },
    sources=(
        "account concurrency = tier base + 10 per SuiteCloud Plus licence: 15 for standard "
        "tier + 1 licence; the 16th concurrent request fails (REST: 429)",
        "REST timeout 15 min; SOAP calls 0.8-2.4 s (anecdotal)",
        "default maintenance windows start NA 00:01 Pacific",
        "99.5 % uptime outside scheduled windows (third-party)",
    ),
    assumed=(
        "latency p50 1.2 s / p99 5 s; client timeout 60 s",
        "the maintenance window on Saturdays, 4 h long",
        "outages mtbf 4 d / mttr 29 min, about 0.5 % unavailability",
        "idempotency keys honoured for 24 h",
    ),
))  # fmt: skip

_preset(Preset(
    "sap-like", "SAP S/4HANA Cloud (OData)",
    {
        "latency": {"p50": "600ms", "p99": "4s"},
        "rate_limits": [
            {"token_bucket": "100/s", "burst": 100, "status": 429, "code": "TOO_MANY_REQUESTS",
             "retry_after": "60s"},
        ],
        "maintenance": [{"weekly": "sun 04:00", "tz": "UTC", "duration": "4h"}],
        "idempotency": {"supported": False},
    },
    sources=(
        "weekly 4 h maintenance windows (AMER Sun 04:00 UTC)",
        "~100 rps, 429 with Retry-After 60 (third-party; SAP publishes no limit)",
        "updates need an ETag (If-Match, 412 on mismatch) rather than idempotency keys",
    ),
    assumed=("latency p50 600 ms / p99 4 s", "no idempotency-key support"),
))  # fmt: skip

_preset(Preset(
    "d365-like", "Microsoft Dynamics 365 Finance & Operations",
    {
        "latency": {"p50": "800ms", "p99": "5s"},
        "rate_limits": [
            {"sliding_window": 6000, "per": "5m", "status": 429,
             "code": "TooManyRequests", "retry_after": "computed"},
        ],
        "concurrency": {"limit": 52, "mode": "reject", "status": 429,
                        "code": "TooManyRequests", "retry_after": "1s"},
        "maintenance": [{"weekly": "sat 22:00", "tz": "UTC", "duration": "6h",
                         "mode": "read_only"}],
        "brownouts": {"mtbf": "3d", "duration": "30m", "latency_factor": 3, "error_rate": "5%"},
        "idempotency": {"supported": False},
    },
    sources=(
        "service protection: 6,000 requests per 5-min sliding window per user and server; "
        "52 concurrent; 429 with Retry-After",
        "6-hour regional maintenance windows at weekends; expect degradation more than outage",
    ),
    assumed=(
        "latency p50 800 ms / p99 5 s",
        "the weekend window as read-only (batches roll); brownouts every ~3 d for 30 min",
        "Retry-After 1 s on the concurrency limit; no idempotency-key support",
    ),
))  # fmt: skip

_preset(Preset(
    "zendesk-like", "Zendesk Support (Enterprise)",
    {
        "latency": {"p50": "250ms", "p99": "2s"},
        "rate_limits": [
            {"fixed_window": 700, "per": "1m", "status": 429, "code": "TooManyRequests",
             "retry_after": "computed"},
        ],
        "outages": {"mtbf": "10d", "mttr": "14m"},
        "idempotency": {"supported": True, "retention": "2h", "conflict_in_flight": False},
        "webhooks": {"delay": {"p50": "1s", "p99": "10s"}, "duplicate_probability": "1%",
                     "retry_schedule": ["10s", "1m", "5m"]},
    },
    sources=(
        "700 requests per minute (Enterprise), 429 with Retry-After",
        "webhooks: 10 s timeout, some status codes retried, duplicates possible",
        "99.9 % availability (premier)",
    ),
    assumed=(
        "latency p50 250 ms / p99 2 s; outages mtbf 10 d / mttr 14 min (~0.1 %)",
        "idempotency keys kept 2 h; webhook retry steps 10 s, 1 min, 5 min; 1 % duplicates",
    ),
))  # fmt: skip

_preset(Preset(
    "servicenow-like", "ServiceNow Customer Service Management",
    {
        "latency": {"p50": "400ms", "p99": "3s"},
        "rate_limits": [
            {"fixed_window": 5000, "per": "1h", "status": 429, "code": "Too Many Requests",
             "retry_after": "computed"},
        ],
        "outages": {"mtbf": "5d", "mttr": "14m"},
        "idempotency": {"supported": False},
        "webhooks": {"delay": {"p50": "2s", "p99": "30s"}, "retry_schedule": ["1m", "5m"]},
    },
    sources=(
        "admin-defined per-hour rate limits, 429 with Retry-After",
        "entitlement check when a case is opened",
        "99.8 % monthly availability in one public contract",
    ),
    assumed=(
        "latency p50 400 ms / p99 3 s; a 5,000 per hour limit",
        "outages mtbf 5 d / mttr 14 min (~0.2 %); no idempotency keys",
    ),
))  # fmt: skip


def preset_fields(name: str) -> Mapping[str, Any]:
    """The fields of a preset, for the scenario loader to merge under a system's overrides."""
    return PRESETS[name].fields
