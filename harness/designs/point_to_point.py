"""Point-to-point: each system's webhook handler calls the next system directly.

The design teams build first (seed document: "direct SaaS-to-ERP APIs: fast initial deployment;
high coupling and weak governance at scale"), written as such integrations usually are:
- CPQ's `quote.approved` handler books the ERP sales order and contract, then creates or amends
  billing's subscription (it asks billing first whether one exists).
- Billing's subscription webhooks update support's entitlement; billing's invoices, payments and
  reversals are posted to ERP's ledger by billing's own connector.
- A failed call is tried again a few times after a fixed pause, whatever the error, lost answers
  included; Retry-After is not read. No idempotency keys and no inbox, so a duplicate webhook or
  a retried lost answer repeats the write. Nothing is validated before the first write, and a
  refusal is logged and dropped; there is no exception queue, no compensation, no journal.
- No version guard: whichever webhook arrives last wins.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from dataclasses import replace
from typing import Any

from harness.designs import canonical, ledger
from harness.designs.api import Context, HandlerFn
from harness.designs.steps import book_in_erp
from harness.effects import Effect, Reply
from harness.engine.retry import RetryPolicy, retry
from harness.units import parse_duration
from simulators.base import DomainEvent
from simulators.billing import SUBSCRIPTION_EVENTS

Steps = Generator[Effect, Any, None]


class PointToPoint:
    name = "point-to-point"

    def __init__(self, attempts: int = 3, pause: float | str = 5.0) -> None:
        seconds = parse_duration(pause)
        fixed = retry(
            initial=seconds, coefficient=1.0, max_interval=seconds, max_attempts=attempts,
            jitter=0.0,
        )  # fmt: skip
        # Everything is retried, business refusals too, as a generic HTTP client wrapper does.
        self.policy: RetryPolicy = replace(fixed, non_retryable=frozenset())

    @property
    def subscriptions(self) -> Mapping[str, HandlerFn]:
        return {
            "quote.approved": self.on_quote_approved,
            **dict.fromkeys(SUBSCRIPTION_EVENTS, self.on_subscription),
            **dict.fromkeys(ledger.LEDGER_EVENTS, self.on_billing_document),
        }

    def on_quote_approved(self, ctx: Context, event: DomainEvent) -> Steps:
        try:
            quote = canonical.quote(event)
        except canonical.MappingError as error:
            yield ctx.status(str(event.keys.get("quote", event.event_id)), "failed", str(error))
            return
        keys: dict[str, str | int] = {
            "quote": quote.quote_id, "contract": quote.contract_id,
            "contract_version": quote.contract_version,
        }  # fmt: skip
        booked = yield from book_in_erp(ctx, self.policy, quote, keyed=False)
        if not booked.ok:
            yield from self._dropped(ctx, quote.quote_id, booked, keys)
            return
        order = quote.order().request()
        found = yield from ctx.call_with_retry(
            self.policy, "billing", "get_subscription", {"contract_id": quote.contract_id}
        )
        operation = (
            canonical.BILLING_OPERATIONS[quote.quote_type] if found.ok else "create_subscription"
        )
        billed = yield from ctx.call_with_retry(self.policy, "billing", operation, order)
        if not billed.ok:
            yield from self._dropped(ctx, quote.quote_id, billed, keys)
            return
        yield ctx.status(quote.quote_id, "completed", keys=keys)

    def on_subscription(self, ctx: Context, event: DomainEvent) -> Steps:
        try:
            entitlement = canonical.subscription(event).entitlement()
        except canonical.MappingError as error:
            yield ctx.status(event.event_id, "failed", str(error))
            return
        yield from ctx.call_with_retry(
            self.policy, "support", "upsert_entitlement", entitlement.request()
        )

    def on_billing_document(self, ctx: Context, event: DomainEvent) -> Steps:
        try:
            posting = ledger.posting_for(event)
        except canonical.MappingError as error:
            yield ctx.status(event.event_id, "failed", str(error))
            return
        yield from ctx.call_with_retry(self.policy, "erp", posting.operation, posting.request)

    @staticmethod
    def _dropped(ctx: Context, quote: str, reply: Reply, keys: Mapping[str, str | int]) -> Steps:
        """Logged and dropped: the integration's log is the only trace of it."""
        assert reply.error is not None
        reason = f"{reply.error.code}: {reply.error.message}"
        yield ctx.status(quote, "failed", reason, keys)
