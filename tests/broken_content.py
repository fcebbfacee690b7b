"""Designs that each get one piece of content or one duty wrong, the way integration teams do.

Each is the reference design with one hook overridden (`call`, `entitle`, `write_downstream`,
`park_if_failed`, or its outbox): every other guarantee is the reference's. The harm each does
shows in what the vendor systems hold (a cancelled contract still premium in support, ERP's
ledger at a hundredth of billing's invoices, ...) or in the history (a message never
published, an entitlement written twice), not in a workflow status: most of them report
success.
"""

from __future__ import annotations

import random
from collections.abc import Generator, Mapping
from typing import Any

from harness.designs import canonical
from harness.designs.api import Context
from harness.designs.reference import ReferenceDesign
from harness.effects import Call, Effect, Note, Now, Publish, Reply, Sleep
from harness.engine.outbox import Outbox
from harness.engine.retry import Confirm, RetryPolicy, call_with_retry, retry

Steps = Generator[Effect, Any, None]
Keys = Mapping[str, str | int]
Answer = Generator[Effect, Any, Reply]

#: One attempt, no retry: the building block of a design's own retry loop.
ONCE = retry(max_attempts=1)


class _RewritesRequests(ReferenceDesign):
    """The reference, with some of its requests rewritten on their way out (`rewrite`)."""

    def call(
        self,
        ctx: Context,
        system: str,
        operation: str,
        payload: Mapping[str, Any],
        idem_key: str | None = None,
        confirm: Confirm | None = None,
        look_first: bool = False,
    ) -> Answer:
        operation, payload = self.rewrite(system, operation, payload)
        return (yield from super().call(ctx, system, operation, payload, idem_key, confirm,
                                        look_first))  # fmt: skip

    def rewrite(
        self, system: str, operation: str, payload: Mapping[str, Any]
    ) -> tuple[str, Mapping[str, Any]]:
        return operation, payload


class SupportKeepsItsLevel(ReferenceDesign):
    """Support's adapter merges what it sends into what support holds and takes `level: none`
    and `covered_units: 0` for "not provided": support moves to the new contract version but
    keeps its old level and units, so a cancelled contract stays premium (or standard)."""

    name = "support-keeps-its-level"

    def entitle(
        self,
        ctx: Context,
        entitlement: canonical.Entitlement,
        source: str,
        uncertain: bool = False,
    ) -> Steps:
        contract = entitlement.contract_id
        if self._contract(contract)["entitled"] < entitlement.contract_version:
            held = yield from self.call(
                ctx, "support", "get_entitlement", {"contract_id": contract}
            )
            if held.ok:
                entitlement = canonical.Entitlement(
                    contract, entitlement.contract_version, entitlement.customer_id,
                    _given(entitlement.level, "none", str(held.body.get("level", "none"))),
                    _given(entitlement.covered_units, 0, int(held.body.get("covered_units", 0))),
                )  # fmt: skip
        yield from super().entitle(ctx, entitlement, source, uncertain)


def _given(sent: Any, empty: Any, held: Any) -> Any:
    """The merge's rule: an "empty" value sent means "not provided", so the held one stays."""
    return held if sent == empty else sent


class ERPContractKeepsFirstLines(ReferenceDesign):
    """ERP's contract is updated as a header: the adapter reads the contract ERP holds and
    writes it back at the new version with the lines it already has, so every later version
    keeps the lines the contract was first signed with (ERP's sales orders stay right)."""

    name = "erp-contract-keeps-first-lines"

    def call(
        self,
        ctx: Context,
        system: str,
        operation: str,
        payload: Mapping[str, Any],
        idem_key: str | None = None,
        confirm: Confirm | None = None,
        look_first: bool = False,
    ) -> Answer:
        if operation == "upsert_contract":
            held = yield from super().call(
                ctx, system, "get_contract", {"contract_id": payload["contract_id"]}
            )
            if held.ok and held.body.get("lines"):
                payload = {**payload, "lines": held.body["lines"]}
            elif held.error is not None and held.error.code != "RCRD_DSNT_EXIST":
                return held
        return (yield from super().call(ctx, system, operation, payload, idem_key, confirm,
                                        look_first))  # fmt: skip


class LedgerInHundredths(_RewritesRequests):
    """Posts invoices to ERP's ledger in major units: billing's amounts are in minor units
    (cents), and the invoice mapping divides by 100, so ERP books a hundredth of each invoice
    (payments and credit memos are right)."""

    name = "ledger-in-hundredths"

    def rewrite(
        self, system: str, operation: str, payload: Mapping[str, Any]
    ) -> tuple[str, Mapping[str, Any]]:
        if operation == "post_invoice" and system != "billing":
            payload = {**payload, "amount": int(payload["amount"]) // 100}
        return operation, payload


class DraftAmendmentInvoices(_RewritesRequests):
    """Amends billing's subscriptions with `invoice_status: draft` (for a review nobody does):
    the amendment invoices are never posted, so they are never sent, owed or booked in ERP."""

    name = "draft-amendment-invoices"

    def rewrite(
        self, system: str, operation: str, payload: Mapping[str, Any]
    ) -> tuple[str, Mapping[str, Any]]:
        if system == "billing" and operation == "amend_subscription":
            payload = {**payload, "invoice_status": "draft"}
        return operation, payload


class RenewalAsAmendment(_RewritesRequests):
    """Sends a renewal quote to billing as an amendment with the same lines: billing takes
    the new version, but the term is never extended and the renewal is never invoiced."""

    name = "renewal-as-amendment"

    def rewrite(
        self, system: str, operation: str, payload: Mapping[str, Any]
    ) -> tuple[str, Mapping[str, Any]]:
        if system == "billing" and operation == "renew_subscription":
            operation = "amend_subscription"
        return operation, payload


class RelayInMemory(ReferenceDesign):
    """Its relay keeps `contract.synced` messages in memory and flushes them every five
    minutes, instead of staging them in the journal: a message whose contract version was
    completed shortly before a crash is never published."""

    name = "relay-in-memory"

    def __init__(self) -> None:
        super().__init__()
        self.outbox = _MemoryRelay(self.outbox.policy)


class _MemoryRelay(Outbox):
    __slots__ = ("pending",)

    #: How long a message waits in memory for the next flush.
    FLUSH_EVERY_S = 300.0

    def __init__(self, policy: RetryPolicy) -> None:
        super().__init__(policy)
        self.pending: dict[str, dict[str, Any]] = {}

    def stage(self, topic: str, message_id: str, payload: Mapping[str, Any], keys: Keys) -> Steps:
        staged_at = yield Now()
        self.pending[message_id] = {
            "topic": topic, "payload": dict(payload), "keys": dict(keys), "staged_at": staged_at,
        }  # fmt: skip

    def relay(self, message_id: str, rng: random.Random) -> Generator[Effect, Any, Reply | None]:
        yield Sleep(self.FLUSH_EVERY_S)
        message = self.pending.pop(message_id, None)
        if message is None:
            return None
        topic, payload, keys = message["topic"], message["payload"], message["keys"]
        attempt = 1
        while True:
            reply: Reply = yield Publish(topic, message_id, payload, keys, attempt)
            if reply.error is None or not self.policy.retries(reply.error, attempt):
                break
            yield Sleep(self.policy.delay(attempt, reply.error, rng))
            attempt += 1
        if reply.error is None:
            yield Note("outbox", message_id, "published", {"attempts": attempt})
        return reply


class EntitlesBeforeBilling(ReferenceDesign):
    """Entitles support from the quote first, then writes ERP and billing: support serves
    contract versions billing does not hold yet, or never will (revenue leakage)."""

    name = "entitles-before-billing"

    def write_downstream(
        self,
        ctx: Context,
        quote: canonical.Quote,
        state: dict[str, int],
        keys: Keys,
        uncertain: bool = False,
    ) -> Generator[Effect, Any, bool]:
        yield from self.entitle(ctx, quote.entitlement(), "quote", uncertain)
        yield ctx.release(f"entitlement:{quote.contract_id}")
        return (yield from super().write_downstream(ctx, quote, state, keys, uncertain))


class SilentDeadLetters(ReferenceDesign):
    """Gives up after ten attempts (minutes, not the reference's hours) and sets the work
    aside as a dead letter in its journal, but tells nobody: no operator hears of it, so
    nothing is ever replayed."""

    name = "silent-dead-letters"

    def __init__(self) -> None:
        super().__init__(retry(initial=1.0, coefficient=2.0, max_interval=300.0, max_attempts=10))

    def park_if_failed(
        self, ctx: Context, reply: Reply, workflow: str, keys: Keys, step: str
    ) -> Generator[Effect, Any, bool]:
        error = reply.error
        if error is None or error.kind == "business":
            return (yield from super().park_if_failed(ctx, reply, workflow, keys, step))
        now = yield ctx.now()
        reason = f"{step}: {error.code}: {error.message}"
        failure = {"step": step, "code": error.code, "reason": reason, "at": now}
        changes = {"status": "dead_lettered", "failure": failure, "parked_at": now}
        yield from self.exceptions.update(workflow, changes)
        yield ctx.status(workflow, "dead_lettered", reason, keys)
        return True


class FakeCompensation(ReferenceDesign):
    """Its compensation finds the quote's ERP orders and reports them cancelled ("compensated:
    orders [...] cancelled") without ever asking ERP to cancel them: they stay open in ERP."""

    name = "fake-compensation"

    def call(
        self,
        ctx: Context,
        system: str,
        operation: str,
        payload: Mapping[str, Any],
        idem_key: str | None = None,
        confirm: Confirm | None = None,
        look_first: bool = False,
    ) -> Answer:
        if operation == "cancel_sales_order":
            yield from ()
            return Reply({"order_id": payload["order_id"], "status": "cancelled"})
        return (yield from super().call(ctx, system, operation, payload, idem_key, confirm,
                                        look_first))  # fmt: skip


class ShortReadBack(ReferenceDesign):
    """After a write times out it reads back at once, not waiting for the request still in
    the vendor's hands; seeing nothing, it writes again without the idempotency key, so a
    write applied after the client's timeout is applied twice."""

    name = "short-read-back"

    def call(
        self,
        ctx: Context,
        system: str,
        operation: str,
        payload: Mapping[str, Any],
        idem_key: str | None = None,
        confirm: Confirm | None = None,
        look_first: bool = False,
    ) -> Answer:
        if confirm is None:
            return (yield from super().call(ctx, system, operation, payload, idem_key))
        breaker = self.breakers.get(system)
        if look_first:
            found = yield from call_with_retry(confirm.read, self.policy, ctx.rng, breaker)
            if found.ok and confirm.applied(found):
                return confirm.answer(found) if confirm.answer else Reply(found.body)
        attempt = 1
        while True:
            sent = Call(system, operation, payload, idem_key, attempt)
            reply = yield from call_with_retry(sent, ONCE, ctx.rng, breaker)
            error = reply.error
            if error is None or not self.policy.retries(error, attempt):
                return reply
            if error.kind == "ambiguous":  # read back now, and write afresh if it is not there
                check = yield from call_with_retry(confirm.read, self.policy, ctx.rng, breaker)
                if check.ok and confirm.applied(check):
                    return confirm.answer(check) if confirm.answer else Reply(check.body)
                idem_key = None
            else:
                yield ctx.sleep(self.policy.delay(attempt, error, ctx.rng))
            attempt += 1
