"""A small, complete design to copy: the amendment flow written straight through.

It validates each approved quote against ERP, books the order and contract, updates billing and
then support, retrying transient errors. It has no inbox, no idempotency keys and no version
guard, so duplicate webhooks and lost answers get through: run it and see which invariants
break.

    .venv/bin/syncline run subscription_amendment --design examples.straight_through:StraightThrough
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import Any

from harness import Context, Effect, retry
from simulators.base import DomainEvent

Steps = Generator[Effect, Any, None]
#: Billing's operation for each kind of quote, once the contract has a subscription.
BILLING = {"renewal": "renew_subscription", "cancellation": "cancel_subscription"}


class StraightThrough:
    name = "straight-through"

    def __init__(self) -> None:
        self.policy = retry(initial=1, max_interval=300)
        self.subscribed: set[str] = set()  # contracts that have a billing subscription

    @property
    def subscriptions(self) -> Mapping[str, Any]:
        return {"quote.approved": self.on_quote_approved}

    def on_quote_approved(self, ctx: Context, event: DomainEvent) -> Steps:
        quote = event.payload
        keys = {"quote": quote["quote_id"], "contract": quote["contract_id"]}
        lines = [{"sku": line["sku"], "quantity": line["quantity"]} for line in quote["lines"]]
        order = {**quote, "lines": lines}
        billing = (
            BILLING.get(quote.get("quote_type", ""), "amend_subscription")
            if quote["contract_id"] in self.subscribed
            else "create_subscription"
        )
        for system, operation in (
            ("erp", "validate_order"),
            ("erp", "create_sales_order"),
            ("erp", "upsert_contract"),
            ("billing", billing),
        ):
            reply = yield from ctx.call_with_retry(self.policy, system, operation, order)
            if not reply.ok:
                assert reply.error is not None
                yield ctx.status(quote["quote_id"], "parked", reply.error.message, keys)
                return
            order = {**order, **reply.body}
        self.subscribed.add(quote["contract_id"])
        # The best support plan on the contract (CPQ's quote lines say which level a support
        # plan grants), and how many units it covers (a cancellation's quote has no lines).
        plans = [
            (line["support_level"], line["quantity"])
            for line in quote["lines"]
            if line.get("support_level")
        ]
        level, units = max(plans, key=lambda plan: plan[0] == "premium", default=("none", 0))
        entitlement = {**order, "level": level, "covered_units": units}
        yield from ctx.call_with_retry(self.policy, "support", "upsert_entitlement", entitlement)
        yield ctx.status(quote["quote_id"], "completed", keys=keys)
