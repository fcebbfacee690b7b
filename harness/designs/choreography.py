"""Event choreography: each system's adapter consumes from the broker and publishes the next event.

No conductor (seed document: "event-driven synchronization: improved scalability and
decoupling; needs event governance and idempotency design"). Connectors relay each vendor's
webhooks to the broker under the vendor's event id; then, as consumer groups:

    quote.approved       -> erp-adapter:     ERP sales order and contract  -> order.booked
    order.booked         -> billing-adapter: create / amend / renew / cancel the subscription
    subscription.changed -> support-adapter: the entitlement               -> entitlement.updated
    billing documents    -> ledger-adapter:  the ERP ledger posting

Each adapter is an idempotent consumer, as such teams build them: an inbox of message ids per
group (journaled, kept 72 h) and idempotency keys made of business ids on every write. A
refused write is logged and acknowledged; a technical failure is left unacknowledged, so the
broker redelivers it and, in the end, dead-letters it. There is no central validation, no
compensation and, unless `versioned=True`, no version check: each adapter applies events in the
order they reach it, so an older amendment arriving late overwrites a newer one.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import Any

from harness.designs import canonical, ledger
from harness.designs.api import ConsumerFn, Context, HandlerFn
from harness.designs.steps import book_in_erp
from harness.effects import Effect, Reply
from harness.engine.inbox import Inbox, inbox
from harness.engine.retry import RetryPolicy, retry
from simulators.base import DomainEvent
from simulators.billing import SUBSCRIPTION_EVENTS

Steps = Generator[Effect, Any, Any]
Handled = Generator[Effect, Any, bool]

#: Vendor webhooks relayed to the broker, and the topic each goes to.
RELAYED = {
    "quote.approved": "quote.approved",
    **dict.fromkeys(SUBSCRIPTION_EVENTS, "subscription.changed"),
    **{event: "billing.document" for event in ledger.LEDGER_EVENTS},
}


class Choreography:
    name = "choreography"

    def __init__(self, versioned: bool = False) -> None:
        self.versioned = versioned
        self.policy: RetryPolicy = retry(initial=1.0, coefficient=2.0, max_interval=60.0,
                                         max_attempts=6)  # fmt: skip
        self.relay_policy: RetryPolicy = retry(initial=0.5, max_interval=30.0)
        self.inboxes: dict[str, Inbox] = {}

    @property
    def subscriptions(self) -> Mapping[str, HandlerFn]:
        return dict.fromkeys(RELAYED, self.relay)

    @property
    def consumers(self) -> Mapping[str, Mapping[str, ConsumerFn]]:
        return {
            "erp-adapter": {"quote.approved": self.on_quote_approved},
            "billing-adapter": {"order.booked": self.on_order_booked},
            "support-adapter": {"subscription.changed": self.on_subscription_changed},
            "ledger-adapter": {"billing.document": self.on_billing_document},
        }

    # -- connectors: vendor webhooks onto the broker -------------------------------------

    def relay(self, ctx: Context, event: DomainEvent) -> Steps:
        topic = RELAYED[event.type]
        payload = {**event.payload, "_source_type": event.type}
        reply = yield from self._publish(ctx, topic, event.event_id, payload, event.keys)
        if not reply.ok:
            yield ctx.note("connector", event.event_id, "not_relayed", {"topic": topic})

    # -- adapters --------------------------------------------------------------------------

    def on_quote_approved(self, ctx: Context, message: DomainEvent) -> Handled:
        return (yield from self._consume(ctx, "erp-adapter", message, self._book))

    def on_order_booked(self, ctx: Context, message: DomainEvent) -> Handled:
        return (yield from self._consume(ctx, "billing-adapter", message, self._bill))

    def on_subscription_changed(self, ctx: Context, message: DomainEvent) -> Handled:
        return (yield from self._consume(ctx, "support-adapter", message, self._entitle))

    def on_billing_document(self, ctx: Context, message: DomainEvent) -> Handled:
        return (yield from self._consume(ctx, "ledger-adapter", message, self._post))

    def _book(self, ctx: Context, message: DomainEvent) -> Handled:
        quote = canonical.quote(_vendor_event(message))
        keys = _keys(quote.quote_id, quote.contract_id, quote.contract_version)
        yield ctx.status(quote.quote_id, "started", keys=keys)
        if self.versioned:
            # Check, then write: one contract at a time in this adapter, or two versions could
            # both pass the check (a partitioned consumer does the same). Released at the end.
            yield ctx.acquire(f"erp-adapter:{quote.contract_id}")
            held = yield from ctx.call_with_retry(
                self.policy, "erp", "get_contract", {"contract_id": quote.contract_id}
            )
            if held.ok and int(held.body.get("contract_version", 0)) >= quote.contract_version:
                details = {"version": quote.contract_version}
                yield ctx.note("versions", quote.contract_id, "stale_event_ignored", details)
                yield ctx.status(quote.quote_id, "superseded", keys=keys)
                return True
        booked = yield from book_in_erp(ctx, self.policy, quote)
        if not booked.ok:
            return (yield from self._failed(ctx, quote.quote_id, booked, keys))
        order = {
            **quote.order().request(), "quote_type": quote.quote_type,
            "order_id": booked.body["order_id"],
        }  # fmt: skip
        published = yield from self._publish(
            ctx, "order.booked", f"order.booked:{quote.quote_id}", order, keys
        )
        return published.ok

    def _bill(self, ctx: Context, message: DomainEvent) -> Handled:
        order = message.payload
        contract, version = str(order["contract_id"]), int(order["contract_version"])
        keys = _keys(str(order["quote_id"]), contract, version)
        if self.versioned:
            yield ctx.acquire(f"billing-adapter:{contract}")
        found = yield from ctx.call_with_retry(
            self.policy, "billing", "get_subscription", {"contract_id": contract}
        )
        if found.error is not None and found.error.code != "SUBSCRIPTION_NOT_FOUND":
            return False  # billing is not answering: let the broker redeliver
        if found.ok and self.versioned and int(found.body["contract_version"]) >= version:
            yield ctx.note("versions", contract, "stale_event_ignored", {"version": version})
            return True
        operation = (
            canonical.BILLING_OPERATIONS[str(order["quote_type"])]
            if found.ok
            else "create_subscription"
        )
        request = {k: v for k, v in order.items() if k not in ("quote_type", "order_id")}
        billed = yield from ctx.call_with_retry(
            self.policy, "billing", operation, request, f"{contract}:v{version}:billing"
        )
        if not billed.ok:
            return (yield from self._failed(ctx, str(order["quote_id"]), billed, keys))
        yield ctx.status(str(order["quote_id"]), "billing_updated", keys=keys)
        return True

    def _entitle(self, ctx: Context, message: DomainEvent) -> Handled:
        entitlement = canonical.subscription(_vendor_event(message)).entitlement()
        contract, version = entitlement.contract_id, entitlement.contract_version
        if self.versioned:
            yield ctx.acquire(f"support-adapter:{contract}")
            held = yield from ctx.call_with_retry(
                self.policy, "support", "get_entitlement", {"contract_id": contract}
            )
            if held.ok and int(held.body.get("contract_version", 0)) >= version:
                yield ctx.note("versions", contract, "stale_event_ignored", {"version": version})
                return True
        reply = yield from ctx.call_with_retry(
            self.policy, "support", "upsert_entitlement", entitlement.request(),
            f"{contract}:v{version}:support",
        )  # fmt: skip
        if not reply.ok:
            return (yield from self._failed(ctx, contract, reply, _keys(None, contract, version)))
        updated = yield from self._publish(
            ctx, "entitlement.updated", f"entitlement.updated:{contract}:v{version}",
            entitlement.request(), _keys(None, contract, version),
        )  # fmt: skip
        return updated.ok

    def _post(self, ctx: Context, message: DomainEvent) -> Handled:
        posting = ledger.posting_for(_vendor_event(message))
        reply = yield from ctx.call_with_retry(
            self.policy, "erp", posting.operation, posting.request, posting.idem_key
        )
        if not reply.ok:
            return (yield from self._failed(ctx, message.event_id, reply, posting.keys))
        return True

    # -- the consumer's plumbing -----------------------------------------------------------

    def _consume(self, ctx: Context, group: str, message: DomainEvent, work: Any) -> Handled:
        """Idempotent consumer: skip a message id this group has already handled."""
        box = yield from self._inbox(ctx, group)
        now = yield ctx.now()
        for forgotten in box.forget_expired(now):
            yield ctx.store(f"inbox:{group}", forgotten, None)
        if message.event_id in box:
            return True
        try:
            done = yield from work(ctx, message)
        except canonical.MappingError as error:
            yield ctx.status(message.event_id, "parked", f"mapping: {error}", dict(message.keys))
            done = True
        if done:  # remembered only once handled: a failure is redelivered, not skipped
            box.remember(message.event_id, now)
            yield ctx.store(f"inbox:{group}", message.event_id, now)
        return bool(done)

    def _inbox(self, ctx: Context, group: str) -> Generator[Effect, Any, Inbox]:
        box = self.inboxes.get(group)
        if box is None:  # first use since start or restart: rebuild from the journal
            box = self.inboxes[group] = inbox()
            for message_id, seen_at in (yield ctx.scan(f"inbox:{group}")):
                box.remember(message_id, seen_at)
        return box

    def _failed(self, ctx: Context, subject: str, reply: Reply, keys: Any) -> Handled:
        """A refusal is logged and acknowledged; a technical failure goes back to the broker."""
        assert reply.error is not None
        if reply.error.kind != "business":
            return False
        reason = f"{reply.error.code}: {reply.error.message}"
        yield ctx.note(
            "exceptions", subject, "parked", {"code": reply.error.code, "reason": reason}
        )
        yield ctx.status(subject, "parked", reason, keys)
        return True

    def _publish(
        self,
        ctx: Context,
        topic: str,
        message_id: str,
        payload: Mapping[str, Any],
        keys: Mapping[str, str | int],
    ) -> Generator[Effect, Any, Reply]:
        attempt = 1
        while True:
            reply: Reply = yield ctx.publish(topic, message_id, payload, keys)
            if (
                reply.ok
                or reply.error is None
                or not self.relay_policy.retries(reply.error, attempt)
            ):
                return reply
            yield ctx.sleep(self.relay_policy.delay(attempt, reply.error, ctx.rng))
            attempt += 1


def _vendor_event(message: DomainEvent) -> DomainEvent:
    """The vendor's event a connector relayed, as the canonical mappings read it."""
    payload = dict(message.payload)
    source = str(payload.pop("_source_type", message.type))
    system = "cpq" if source == "quote.approved" else "billing"
    return DomainEvent(message.event_id, source, system, message.occurred_at, payload, message.keys)


def _keys(quote: str | None, contract: str, version: int) -> dict[str, str | int]:
    keys: dict[str, str | int] = {"contract": contract, "contract_version": version}
    if quote is not None:
        keys["quote"] = quote
    return keys
