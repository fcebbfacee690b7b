"""Webhook signatures in Stripe's scheme, and the vendors' retry schedules."""

from __future__ import annotations

from simulators.webhooks import WebhookDelivery, sign, verify

PAYLOAD = {"notificationId": "BILLING-EVT-000001", "amount": 100}


def test_a_signature_verifies_and_a_forgery_or_stale_one_does_not() -> None:
    header = sign("whsec_x", 1_700_000_000, PAYLOAD)
    assert header.startswith("t=1700000000,v1=") and len(header.split("v1=")[1]) == 64
    assert verify("whsec_x", header, PAYLOAD, now=1_700_000_100)
    assert not verify("whsec_other", header, PAYLOAD, now=1_700_000_100)
    assert not verify("whsec_x", header, {**PAYLOAD, "amount": 1}, now=1_700_000_100)
    assert not verify("whsec_x", header, PAYLOAD, now=1_700_000_000 + 301)
    assert not verify("whsec_x", None, PAYLOAD, now=1_700_000_000)
    assert not verify("whsec_x", "garbage", PAYLOAD, now=1_700_000_000)


def test_retry_schedule() -> None:
    zuora = WebhookDelivery(retry_schedule=(1800.0, 1800.0))
    assert zuora.max_attempts == 3
    assert [zuora.retry_wait(n) for n in (1, 2, 3)] == [1800.0, 1800.0, None]
