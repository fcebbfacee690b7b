"""Billing on Stripe's wire, driven by stripe-python itself, pointed at serve by `api_base`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import stripe

from tests.live.vendor_world import VendorWorld, vendor_world

#: Billing's API limited to 20 requests a minute of scenario time (20 s of wall time at 3x).
#: Five requests a scenario minute: at time scale 10, the sixth must come within 6 s of real time
#: of the first, which holds on a loaded machine (20 a minute at scale 30 needed 21 in 2 s).
LIMITED = (
    "systems.billing.rate_limits=[{fixed_window: 5, per: 1m, status: 429, "
    "code: Too Many Requests, retry_after: computed}]"
)


def client(world: VendorWorld, retries: int = 0) -> stripe.StripeClient:
    billing = world.vendor("billing")
    stripe.ca_bundle_path = world.ca  # serve's CA, for its HTTPS on loopback
    return stripe.StripeClient(
        billing["api_key"], base_addresses={"api": billing["url"]}, max_network_retries=retries
    )


def a_customer_and_prices(sdk: stripe.StripeClient) -> tuple[Any, list[Any]]:
    customer = sdk.v1.customers.list({"limit": 1}).data[0]
    prices = sdk.v1.prices.list({"currency": customer.currency, "limit": 100}).data
    return customer, [price for price in prices if price.type == "recurring"][:2]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VendorWorld]:
    """One world for this file's tests; each works on contracts of its own."""
    with vendor_world(tmp_path_factory.mktemp("stripe"), wire="billing") as served:
        yield served


def test_stripe_python_creates_reads_amends_lists_and_cancels(world: VendorWorld) -> None:
    sdk = client(world)
    customer, prices = a_customer_and_prices(sdk)
    created = sdk.v1.subscriptions.create({
        "customer": customer.id, "items": [{"price": prices[0].id, "quantity": 3}],
        "metadata": {"contract_id": "CT-T1", "contract_version": "1"},
        "expand": ["latest_invoice"],
    })  # fmt: skip
    assert created.status == "active" and created.customer == customer.id
    assert created.items.data[0].quantity == 3
    assert created.latest_invoice.amount_due == 3 * prices[0].unit_amount
    read = sdk.v1.subscriptions.retrieve(created.id)
    assert read.metadata["contract_id"] == "CT-T1"
    amended = sdk.v1.subscriptions.update(created.id, {
        "items": [{"id": created.items.data[0].id, "quantity": 5},
                  {"price": prices[1].id, "quantity": 1}],
        "metadata": {"contract_version": "2"}, "proration_behavior": "create_prorations",
    })  # fmt: skip
    assert sorted(item.quantity for item in amended.items.data) == [1, 5]
    assert amended.metadata["contract_version"] == "2"
    renewed = sdk.v1.subscriptions.update(created.id, {"metadata": {"contract_version": "3"}})
    assert renewed.current_period_end > amended.current_period_end
    # Paging: three invoices, one a page, as auto-paging walks them.
    invoices = sdk.v1.invoices.list({"subscription": created.id, "limit": 1})
    assert len(invoices.data) == 1 and invoices.has_more
    walked = [invoice.id for invoice in invoices.auto_paging_iter()]
    assert len(walked) == len(set(walked)) == 3
    paid = sdk.v1.invoices.pay(walked[0])
    assert paid.status == "paid" and paid.amount_remaining == 0
    # Sent to be invoiced: the first invoice is a draft until finalized; a credit note for
    # the whole invoice voids it.
    drafted = sdk.v1.subscriptions.create({
        "customer": customer.id, "items": [{"price": prices[0].id, "quantity": 1}],
        "metadata": {"contract_id": "CT-T6", "contract_version": "1"},
        "collection_method": "send_invoice",
    })  # fmt: skip
    draft = sdk.v1.invoices.retrieve(str(drafted.latest_invoice))
    assert draft.status == "draft"
    assert sdk.v1.invoices.finalize_invoice(draft.id).status == "open"
    note = sdk.v1.credit_notes.create({"invoice": draft.id})
    assert note.amount == draft.amount_due
    assert sdk.v1.invoices.retrieve(draft.id).status == "void"
    cancelled = sdk.v1.subscriptions.cancel(created.id, {"metadata": {"contract_version": "4"}})
    assert cancelled.status == "canceled"
    # The history holds the domain's operations, as Syncline's own API leaves them.
    calls = [r["operation"] for r in world.history() if r["kind"] == "call"
             and r["type"] == "ok" and r["system"] == "billing"
             and r.get("keys", {}).get("contract") in ("CT-T1", "CT-T6", None)]  # fmt: skip
    assert [c for c in calls if "subscription" in c] == [
        "create_subscription", "amend_subscription", "renew_subscription",
        "create_subscription", "cancel_subscription",
    ]  # fmt: skip
    assert {"post_invoice", "apply_payment", "reverse_invoice"} <= set(calls)


def test_stripe_errors_idempotency_and_faults_as_stripe_python_raises_them(
    world: VendorWorld,
) -> None:
    sdk = client(world)
    customer, prices = a_customer_and_prices(sdk)
    params = {
        "customer": customer.id, "items": [{"price": prices[0].id}],
        "metadata": {"contract_id": "CT-T2", "contract_version": "1"},
    }  # fmt: skip
    options = {"idempotency_key": "ct-t2-v1"}
    first = sdk.v1.subscriptions.create(params, options)  # type: ignore[arg-type]
    again = sdk.v1.subscriptions.create(params, options)  # type: ignore[arg-type]
    assert again.id == first.id
    with pytest.raises(stripe.IdempotencyError):
        sdk.v1.subscriptions.create({**params, "metadata": {"contract_id": "CT-T3",
                                                         "contract_version": "1"}},
                                 options)  # type: ignore[arg-type]  # fmt: skip
    with pytest.raises(stripe.InvalidRequestError) as unpriced:
        sdk.v1.subscriptions.create({**params, "items": [{"price": "NO-SUCH-SKU.USD"}],
                                  "metadata": {"contract_id": "CT-T4",
                                               "contract_version": "1"}})  # fmt: skip
    assert unpriced.value.code == "resource_missing" and unpriced.value.http_status == 400
    with pytest.raises(stripe.InvalidRequestError) as missing:
        sdk.v1.subscriptions.retrieve("SUB-999999")
    assert missing.value.http_status == 404
    world.fault("billing", "maintenance", "start")
    with pytest.raises(stripe.APIError) as maintenance:
        sdk.v1.customers.retrieve(customer.id)
    assert maintenance.value.http_status == 503
    assert maintenance.value.json_body["error"]["type"] == "api_error"
    world.fault("billing", "maintenance", "stop")
    world.fault("billing", "ghost_writes", "start", probability=1.0)
    ghost = {**params, "metadata": {"contract_id": "CT-T5", "contract_version": "1"}}
    with pytest.raises(stripe.APIError) as lost:
        sdk.v1.subscriptions.create(ghost)
    assert lost.value.http_status == 504
    world.fault("billing", "ghost_writes", "stop", probability=1.0)
    held = sdk.v1.subscriptions.list({"customer": customer.id, "limit": 100}).data
    assert "CT-T5" in {s.metadata["contract_id"] for s in held}  # the write is there
    with pytest.raises(stripe.AuthenticationError):
        stripe.StripeClient("sk_test_wrong", base_addresses={"api": world.vendor("billing")[
            "url"]}).v1.customers.list()  # fmt: skip
    # The idempotent retry was applied once: one subscription for CT-T2.
    created = [
        r
        for r in world.history()
        if r["kind"] == "state"
        and r["entity"] == "subscription"
        and r["keys"].get("contract") == "CT-T2"
    ]
    assert len(created) == 1


def test_stripe_answers_429_with_retry_after(tmp_path: Path) -> None:
    with vendor_world(tmp_path, LIMITED, wire="billing", time_scale="10") as world:
        sdk = client(world)
        with pytest.raises(stripe.RateLimitError) as limited:
            for _ in range(40):
                sdk.v1.products.list()
        assert (
            limited.value.http_status == 429
            and limited.value.json_body["error"]["code"] == "rate_limit"
        )
        assert int(limited.value.headers["Retry-After"]) >= 1


def test_stripe_webhooks_verify_with_construct_event(world: VendorWorld) -> None:
    sdk = client(world)
    customer, prices = a_customer_and_prices(sdk)
    sdk.v1.subscriptions.create({
        "customer": customer.id, "items": [{"price": prices[0].id}],
        "metadata": {"contract_id": "CT-W1", "contract_version": "1"},
    })  # fmt: skip
    world.receiver.naming("CT-W1")
    secret = world.vendor("billing")["webhook_secret"]
    events = []
    for path, headers, body in world.receiver.received:
        assert path == "/webhooks/billing"
        events.append(stripe.Webhook.construct_event(body, headers["Stripe-Signature"],
                                                     secret))  # fmt: skip
    types = {event.type for event in events}
    assert {"customer.subscription.created", "invoice.finalized"} <= types
    created = [e.data.object.metadata["contract_id"] for e in events
               if e.type == "customer.subscription.created"]  # fmt: skip
    assert "CT-W1" in created
    _, headers, body = world.receiver.received[0]
    forged = json.dumps({**json.loads(body), "id": "evt_forged"})
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(forged, headers["Stripe-Signature"], secret)
