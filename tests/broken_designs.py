"""Designs that each break one guarantee on purpose, to prove the checkers catch it."""

from __future__ import annotations

import random
from collections.abc import Generator, Mapping
from typing import Any

from harness.designs.api import Context
from harness.designs.reference import ReferenceDesign
from harness.effects import Call, Effect, Load, Note, Now, Reply, Status, Store
from harness.engine.exceptions import TABLE as EXCEPTIONS
from harness.engine.exceptions import ExceptionQueue
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
    def park_if_failed(
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

    def call(self, ctx: Context, system: str, operation: str, payload: Any, *rest: Any) -> Any:
        if operation == "create_sales_order":
            yield from ()
            return Reply({"order_id": f"UNBOOKED-{payload['quote_id']}"})
        return (yield from super().call(ctx, system, operation, payload, *rest))


class DropsALineInBilling(ReferenceDesign):
    """Sends billing every line but the last: the money no longer adds up."""

    name = "drops-a-line-in-billing"

    def call(self, ctx: Context, system: str, operation: str, payload: Any, *rest: Any) -> Any:
        if system == "billing" and operation.endswith("_subscription") and payload.get("lines"):
            payload = {**payload, "lines": list(payload["lines"])[:-1] or payload["lines"]}
        return (yield from super().call(ctx, system, operation, payload, *rest))


class RenewsOnlyTheTerm(ReferenceDesign):
    """Renews billing's term after a parked amendment without bringing its lines along: the
    amendment never reaches billing, though every system shows the latest version."""

    name = "renews-only-the-term"

    def bring_billing_lines(self, ctx: Context, order: Any, again: str) -> Any:
        yield from ()
        return Reply({})


class OwnRetryLoop(ReferenceDesign):
    """Retries in a loop of its own: every attempt a fresh call (numbered 1 again), a second
    apart, whatever Retry-After the vendor sent. Its own history shows no retry at all."""

    name = "own-retry-loop"

    def call(
        self, ctx: Context, system: str, operation: str, payload: Any, idem_key: Any = None,
        *rest: Any,
    ) -> Any:  # fmt: skip
        reply = Reply({})
        for _ in range(30):
            reply = yield Call(system, operation, payload, idem_key)
            if reply.error is None or reply.error.kind == "business":
                return reply
            yield ctx.sleep(1.0)
        return reply


class DropsALineInERP(ReferenceDesign):
    """Books ERP's order without its last line but with the quote's total: totals reconcile,
    lines do not."""

    name = "drops-a-line-in-erp"

    def call(self, ctx: Context, system: str, operation: str, payload: Any, *rest: Any) -> Any:
        if operation == "create_sales_order" and len(payload.get("lines", ())) > 1:
            payload = {**payload, "lines": list(payload["lines"])[:-1]}
        return (yield from super().call(ctx, system, operation, payload, *rest))


class KeepsExceptionsInMemory(ReferenceDesign):
    """Sets exceptions aside in memory instead of its journal. Its history says "parked, with a
    reason" all the same; a crash forgets them, and no operator can ever find that work again."""

    name = "keeps-exceptions-in-memory"

    def __init__(self) -> None:
        super().__init__()
        self.exceptions = _InMemoryExceptions()

    def _earlier_versions(self, *args: Any) -> Generator[Effect, Any, bool]:
        """Nor does it look in CPQ for earlier versions it did not write (the reference does,
        and so writes a forgotten new contract again when its next version comes)."""
        yield from ()
        return True


class _InMemoryExceptions(ExceptionQueue):
    __slots__ = ("entries",)

    def __init__(self) -> None:
        self.entries: dict[str, dict[str, Any]] = {}

    def park(self, workflow: str, code: str, reason: str, keys: Any) -> Generator[Any, Any, None]:
        entry = yield Load(EXCEPTIONS, workflow)
        now = yield Now()
        changes = {"status": "parked", "code": code, "reason": reason, "parked_at": now}
        self.entries[workflow] = {**(entry or {}), **changes}
        yield Store(EXCEPTIONS, workflow, None)  # out of the journal: in memory only
        yield Note("exceptions", workflow, "parked", {"code": code, "reason": reason})
        yield Status(workflow, "parked", reason, keys)

    def dead_letter(
        self, workflow: str, step: str, code: str, reason: str, keys: Any
    ) -> Generator[Any, Any, None]:
        yield from self.park(workflow, code, reason, keys)

    def take(self, workflow: str, action: str) -> Generator[Any, Any, dict[str, Any] | None]:
        entry = self.entries.pop(workflow, None)
        if entry is None:
            yield Note("exceptions", workflow, "nothing_to_act_on", {"action": action})
            return None
        yield Note("exceptions", workflow, "taken", {"action": action})
        return entry


class FailsEvenVersions(ReferenceDesign):
    """Gives up on every even contract version with a `failed` status: when the next version
    carries the whole contract everywhere, only the failed workflow says that one was dropped."""

    name = "fails-even-versions"

    def on_quote_approved(self, ctx: Context, event: DomainEvent) -> Generator[Effect, Any, None]:
        version = int(event.keys.get("contract_version", 1))
        if version % 2 == 0:
            keys = dict(event.keys)
            yield ctx.status(str(keys["quote"]), "failed", "gave up on an even version", keys)
            return
        yield from super().on_quote_approved(ctx, event)


class TrustsKeys(ReferenceDesign):
    """The reference, but it trusts idempotency keys and never reads back before re-sending:
    with an ERP that ignores keys, a lost answer becomes a second order or journal entry."""

    name = "trusts-keys"

    def call(self, ctx: Context, system: str, operation: str, payload: Any, *rest: Any) -> Any:
        idem_key = rest[0] if rest else None
        return (yield from super().call(ctx, system, operation, payload, idem_key))
