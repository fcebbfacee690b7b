"""The reference orchestrator, v1: a governed integration layer for the amendment flow.

Flow (seed document, "a better architecture"):
1. `quote.approved` -> validate the order against ERP master data, before any write.
   A business error parks the workflow with its reason; no downstream system is touched.
2. ERP sales order, then the ERP contract at the quote's contract version.
3. Billing: create the subscription for a contract's first version, amend it afterwards.
4. `subscription.activated` / `subscription.amended` -> upsert the support entitlement.

Rules it keeps:
- Every delivered event passes the inbox (72 h of event ids): duplicates do nothing.
- Every write carries an idempotency key derived from business IDs, so a retry after a lost
  answer (ghost write) replays instead of duplicating.
- Transient and ambiguous errors are retried with backoff and jitter; business errors never.
- Work on one contract is serialised by a lock, and a version older than one already written
  is superseded, never written: no stale overwrite in ERP, billing or support.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import Any

from harness.designs.api import Context, HandlerFn, event_body
from harness.effects import Effect, Reply
from harness.engine.inbox import Inbox, inbox
from harness.engine.retry import RetryPolicy, retry
from simulators.base import DomainEvent

Steps = Generator[Effect, Any, None]

#: Entitlement level granted by each support plan, best last.
SUPPORT_LEVELS = {"SUP-STANDARD": "standard", "SUP-PREMIUM": "premium"}


def entitlement_terms(lines: list[Mapping[str, Any]]) -> tuple[str, int]:
    """(level, covered units) of a contract's lines: the best support plan and its quantity."""
    level, units = "none", 0
    for line in lines:
        plan = SUPPORT_LEVELS.get(line["sku"])
        if plan is not None and (level == "none" or plan == "premium"):
            level, units = plan, int(line["quantity"])
    return level, units


class ReferenceDesign:
    """The orchestrator the harness holds other designs against."""

    name = "reference"

    def __init__(
        self,
        policy: RetryPolicy | None = None,
        *,
        deduplicate: bool = True,
        idempotency_keys: bool = True,
        guard_versions: bool = True,
    ) -> None:
        # The switches exist so tests can break one guarantee at a time and watch a checker
        # catch it; the shipped design keeps them all on.
        self.policy = policy or retry(initial=1.0, coefficient=2.0, max_interval=300.0)
        self.inbox: Inbox = inbox()
        self.deduplicate = deduplicate
        self.idempotency_keys = idempotency_keys
        self.guard_versions = guard_versions
        self.written: dict[str, int] = {}  # contract -> version written to ERP and billing
        self.entitled: dict[str, int] = {}  # contract -> version written to support
        self.awaiting: dict[str, dict[int, str]] = {}  # contract -> version -> workflow

    @property
    def subscriptions(self) -> Mapping[str, HandlerFn]:
        return {
            "quote.approved": self.on_quote_approved,
            "subscription.activated": self.on_billing_changed,
            "subscription.amended": self.on_billing_changed,
        }

    def _key(self, key: str) -> str | None:
        return key if self.idempotency_keys else None

    def _first_delivery(self, event: DomainEvent, now: float) -> bool:
        return not self.deduplicate or self.inbox.accept(event.event_id, now)

    def on_quote_approved(self, ctx: Context, event: DomainEvent) -> Steps:
        now = yield ctx.now()
        if not self._first_delivery(event, now):
            return
        quote = event_body(event)
        contract, version = quote["contract_id"], int(quote["contract_version"])
        workflow = quote["quote_id"]
        keys = {"quote": workflow, "contract": contract, "contract_version": version}
        yield ctx.status(workflow, "started", keys=keys)
        if self.guard_versions:
            yield ctx.acquire(f"contract:{contract}")
        if self.guard_versions and self.written.get(contract, 0) >= version:
            reason = f"contract {contract} is already at v{self.written[contract]}"
            yield ctx.status(workflow, "superseded", reason, keys)
            return
        order = {
            "quote_id": workflow,
            "contract_id": contract,
            "contract_version": version,
            "customer_id": quote["customer_id"],
            "currency": quote["currency"],
            "lines": [
                {"sku": line["sku"], "quantity": line["quantity"]} for line in quote["lines"]
            ],
            "total": quote["total"],
        }
        check = yield from ctx.call_with_retry(self.policy, "erp", "validate_order", order)
        if (yield from self._parked_on(ctx, check, workflow, keys, "ERP validation")):
            return
        created = yield from ctx.call_with_retry(
            self.policy, "erp", "create_sales_order", order, self._key(f"{workflow}:erp-order")
        )
        if (yield from self._parked_on(ctx, created, workflow, keys, "ERP sales order")):
            return
        order_id = created.body["order_id"]
        contract_write = {**order, "order_id": order_id}
        stored = yield from ctx.call_with_retry(
            self.policy,
            "erp",
            "upsert_contract",
            contract_write,
            self._key(f"{contract}:v{version}:erp-contract"),
        )
        if (yield from self._parked_on(ctx, stored, workflow, keys, "ERP contract")):
            return
        operation = "amend_subscription" if contract in self.written else "create_subscription"
        billed = yield from ctx.call_with_retry(
            self.policy,
            "billing",
            operation,
            {**order, "term_months": quote.get("term_months", 36)},
            self._key(f"{contract}:v{version}:billing"),
        )
        if (yield from self._parked_on(ctx, billed, workflow, keys, "billing")):
            return
        self.written[contract] = max(version, self.written.get(contract, 0))
        yield ctx.status(workflow, "billing_updated", keys=keys)
        if self.entitled.get(contract, 0) >= version:
            yield ctx.status(workflow, "completed", keys=keys)
        else:
            self.awaiting.setdefault(contract, {})[version] = workflow

    def on_billing_changed(self, ctx: Context, event: DomainEvent) -> Steps:
        now = yield ctx.now()
        if not self._first_delivery(event, now):
            return
        subscription = event_body(event)
        contract, version = subscription["contract_id"], int(subscription["contract_version"])
        if self.guard_versions:
            yield ctx.acquire(f"entitlement:{contract}")
        if self.guard_versions and self.entitled.get(contract, 0) >= version:
            return  # an older version arriving late: support already shows a newer one
        level, units = entitlement_terms(subscription["lines"])
        keys = {"contract": contract, "contract_version": version}
        reply = yield from ctx.call_with_retry(
            self.policy,
            "support",
            "upsert_entitlement",
            {
                "contract_id": contract,
                "contract_version": version,
                "customer_id": subscription["customer_id"],
                "level": level,
                "covered_units": units,
            },
            self._key(f"{contract}:v{version}:support"),
        )
        waiting = self.awaiting.get(contract, {})
        if reply.error is not None:
            for workflow in waiting.values():
                reason = f"support entitlement: {reply.error.code}: {reply.error.message}"
                yield ctx.status(workflow, "parked", reason, keys)
            return
        self.entitled[contract] = max(version, self.entitled.get(contract, 0))
        for waiting_version in sorted(v for v in waiting if v <= version):
            workflow = waiting.pop(waiting_version)
            status = "completed" if waiting_version == version else "superseded"
            yield ctx.status(workflow, status, keys={**keys, "quote": workflow})
        if not waiting:
            self.awaiting.pop(contract, None)

    @staticmethod
    def _parked_on(
        ctx: Context, reply: Reply, workflow: str, keys: Mapping[str, str | int], step: str
    ) -> Generator[Effect, Any, bool]:
        """Park the workflow in the exception state if the step failed for good."""
        if reply.error is None:
            return False
        reason = f"{step}: {reply.error.code}: {reply.error.message}"
        yield ctx.status(workflow, "parked", reason, keys)
        return True
