"""Designs that each break one guarantee on purpose, to prove the checkers catch it."""

from __future__ import annotations

import random
from collections.abc import Generator, Mapping
from typing import Any

from harness.designs.api import Context
from harness.designs.reference import ReferenceDesign
from harness.effects import Effect, Reply
from harness.engine.outbox import Outbox
from harness.engine.retry import retry
from simulators.base import DomainEvent


class NaiveConsumer(ReferenceDesign):
    """Takes every delivery as new: no inbox, no idempotency keys, no version guard."""

    name = "naive-consumer"

    def __init__(self) -> None:
        super().__init__(deduplicate=False, idempotency_keys=False, guard_versions=False)


class SlowEntitlement(ReferenceDesign):
    """Updates support only after a nightly-batch-like delay of three hours."""

    name = "slow-entitlement"

    def __init__(self) -> None:
        super().__init__(entitlement_grace=4 * 3600)

    def on_billing_changed(self, ctx: Context, event: DomainEvent) -> Generator[Effect, Any, None]:
        yield ctx.sleep(3 * 3600)
        yield from super().on_billing_changed(ctx, event)


class GivesUpSilently(ReferenceDesign):
    """Tries each call once and, when it fails, drops the work without a word."""

    name = "gives-up-silently"

    def __init__(self) -> None:
        super().__init__(retry(max_attempts=1))

    @staticmethod
    def _parked_on(
        ctx: Context, reply: Reply, workflow: str, keys: Mapping[str, str | int], step: str
    ) -> Generator[Effect, Any, bool]:
        if reply.error is None:
            return False
        if reply.error.kind == "business":
            yield ctx.status(workflow, "parked", reply.error.code, keys)
        return True


class Crashes:
    """A plugin with a bug: its handler raises."""

    name = "crashes"

    @property
    def subscriptions(self) -> Mapping[str, Any]:
        return {"quote.approved": self.on_quote}

    def on_quote(self, ctx: Context, event: DomainEvent) -> Generator[Effect, Any, None]:
        yield ctx.now()
        raise RuntimeError("boom")


class ForgetsTheLedger(ReferenceDesign):
    """Keeps contracts in step but never posts billing's invoices or payments to ERP."""

    name = "forgets-the-ledger"

    @property
    def subscriptions(self) -> Mapping[str, Any]:
        ledger = ("invoice.posted", "payment.posted", "invoice.reversed")
        return {k: v for k, v in super().subscriptions.items() if k not in ledger}


class DropsItsOutbox(ReferenceDesign):
    """Stages `contract.synced` in its outbox but never relays it to the broker."""

    name = "drops-its-outbox"

    def __init__(self) -> None:
        super().__init__()
        self.outbox = _Unrelayed(self.outbox.policy)


class _Unrelayed(Outbox):
    def relay(self, message_id: str, rng: random.Random) -> Generator[Effect, Any, Reply | None]:
        yield from ()
        return None


class SkipsTheERPOrder(ReferenceDesign):
    """Writes ERP's contract and bills, but never books the sales order: lineage is broken."""

    name = "skips-the-erp-order"

    def _call(self, ctx: Context, system: str, operation: str, payload: Any, *rest: Any) -> Any:
        if operation == "create_sales_order":
            yield from ()
            return Reply({"order_id": f"UNBOOKED-{payload['quote_id']}"})
        return (yield from super()._call(ctx, system, operation, payload, *rest))


class DropsALineInBilling(ReferenceDesign):
    """Sends billing every line but the last: the money no longer adds up."""

    name = "drops-a-line-in-billing"

    def _call(self, ctx: Context, system: str, operation: str, payload: Any, *rest: Any) -> Any:
        if system == "billing" and operation.endswith("_subscription") and payload.get("lines"):
            payload = {**payload, "lines": list(payload["lines"])[:-1] or payload["lines"]}
        return (yield from super()._call(ctx, system, operation, payload, *rest))


class RenewsOnlyTheTerm(ReferenceDesign):
    """Renews billing's term after a parked amendment without bringing its lines along: the
    amendment never reaches billing, though every system shows the latest version."""

    name = "renews-only-the-term"

    def _bring_billing_lines(self, ctx: Context, order: Any, again: str) -> Any:
        yield from ()
        return Reply({})
