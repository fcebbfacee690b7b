"""Every preset is a valid system profile, documents its sources, and can be overridden."""

from __future__ import annotations

import pytest

from harness.scenario import SystemSpec
from simulators.latency import Fixed
from simulators.limits import ConcurrencyCap, SlidingWindow
from simulators.presets import PRESETS

REQUIRED = {
    "salesforce-like", "zuora-like", "stripe-like", "netsuite-like", "sap-like", "d365-like",
    "zendesk-like", "servicenow-like",
}  # fmt: skip


def test_the_required_presets_exist_and_document_sources_and_assumptions() -> None:
    assert set(PRESETS) >= REQUIRED
    for preset in PRESETS.values():
        assert preset.vendor and preset.sources and preset.assumed, preset.name


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_each_preset_builds_a_profile(name: str) -> None:
    profile = SystemSpec.model_validate({"preset": name}).profile()
    assert profile.latency.sample.__self__ is profile.latency  # type: ignore[attr-defined]


def test_published_numbers_reach_the_profile() -> None:
    netsuite = SystemSpec.model_validate({"preset": "netsuite-like"}).profile()
    assert netsuite.concurrency == ConcurrencyCap(15, "reject", netsuite.concurrency.answer)  # type: ignore[union-attr]
    assert netsuite.maintenance[0].tz == "America/Los_Angeles"  # type: ignore[union-attr]
    d365 = SystemSpec.model_validate({"preset": "d365-like"}).profile()
    (limit,) = d365.rate_limits
    assert isinstance(limit, SlidingWindow) and (limit.limit, limit.window_s) == (6000, 300.0)
    salesforce = SystemSpec.model_validate({"preset": "salesforce-like"}).profile()
    assert salesforce.rate_limits[0].answer.status == 403
    assert salesforce.rate_limits[0].answer.retry_after is None
    assert not salesforce.idempotency.supported
    stripe = SystemSpec.model_validate({"preset": "stripe-like"}).profile()
    assert stripe.webhooks.signing_secret and stripe.webhooks.retry_schedule
    assert sum(stripe.webhooks.retry_schedule) == 3 * 86400


def test_a_scenario_overrides_any_preset_field() -> None:
    spec = SystemSpec.model_validate(
        {
            "preset": "zuora-like",
            "latency": {"fixed": "1s"},
            "webhooks": {"duplicate_probability": "15%"},
        }
    )
    profile = spec.profile()
    assert profile.latency == Fixed(1.0)  # replaced whole, not merged with the preset's p50/p99
    assert profile.webhooks.duplicate_probability == 0.15
    assert profile.webhooks.retry_schedule == (1800.0, 1800.0)  # the rest of the preset stays
    with pytest.raises(ValueError, match="unknown preset 'oracle-like'"):
        SystemSpec.model_validate({"preset": "oracle-like"})
