"""The reference design stepped by hand: its decisions without any driver."""

from __future__ import annotations

import random
from typing import Any

from harness.designs.api import Context
from harness.designs.reference import ReferenceDesign
from harness.effects import (
    Acquire,
    Call,
    CallError,
    Fork,
    Note,
    Now,
    Publish,
    Reply,
    Sleep,
    Status,
)
from simulators.base import DomainEvent
from tests.journal import Journal, answer_journal

QUOTE = {
    "quote_id": "Q-000001", "contract_id": "CT-000001", "contract_version": 1,
    "customer_id": "CUST-00001", "currency": "BRL", "total": 100, "term_months": 36,
    "lines": [{"sku": "SW-FLEET-STD", "quantity": 5, "kind": "subscription"}],
}  # fmt: skip


def approved(event_id: str = "CPQ-EVT-1", **changes: Any) -> DomainEvent:
    return DomainEvent(event_id, "quote.approved", "cpq", 0.0, {**QUOTE, **changes}, {})


def step(
    design: ReferenceDesign,
    event: DomainEvent,
    answer: Any,
    journal: Journal | None = None,
    crash_at: type | None = None,
) -> list[Any]:
    """Run one handler and what it forks, answering each Call and Publish with `answer(effect)`.

    The journal is kept in `journal` (a fresh one if not given). With `crash_at`, everything
    stops at the first effect of that type, as an orchestrator crash would. Returns every effect.
    """
    journal = {} if journal is None else journal
    queue = [design.subscriptions[event.type](Context(random.Random(0)), event)]
    effects: list[Any] = []
    while queue:
        steps, result = queue.pop(0), None
        try:
            while True:
                effect = steps.send(result)
                effects.append(effect)
                if crash_at is not None and isinstance(effect, crash_at):
                    return effects
                result = _interpret(effect, answer, journal, queue)
        except StopIteration:
            pass
    return effects


def _interpret(effect: Any, answer: Any, journal: Journal, queue: list[Any]) -> Any:
    if isinstance(effect, Call | Publish):
        return answer(effect)
    if isinstance(effect, Now):
        return 0.0
    if isinstance(effect, Fork) and not effect.daemon:  # a daemon would run forever
        queue.append(effect.steps)
    return answer_journal(effect, journal)[1]


def ok(effect: Any) -> Reply:
    """Every call succeeds; billing has no subscription yet; the broker acknowledges."""
    if isinstance(effect, Call) and effect.operation == "get_subscription":
        return Reply({}, CallError("business", "SUBSCRIPTION_NOT_FOUND"))
    if isinstance(effect, Call) and effect.operation == "find_sales_orders":
        return Reply({"order_ids": ["SO-1"]})
    return Reply({"order_id": "SO-1", "contract_version": 0})


def test_a_business_error_parks_before_any_downstream_write() -> None:
    refusal = Reply({}, CallError("business", "TAX_CODE_MISSING", "no tax code for BR"))
    effects = step(ReferenceDesign(), approved(), lambda call: refusal)
    calls = [e for e in effects if isinstance(e, Call)]
    assert [(c.system, c.operation) for c in calls] == [("erp", "validate_order")]
    parked = [e for e in effects if isinstance(e, Status) and e.status == "parked"]
    assert len(parked) == 1 and "TAX_CODE_MISSING" in (parked[0].reason or "")


def test_the_happy_path_writes_erp_then_billing_with_business_keys() -> None:
    effects = step(ReferenceDesign(), approved(), ok)
    calls = [e for e in effects if isinstance(e, Call)]
    assert [c.operation for c in calls] == [
        "validate_order", "create_sales_order", "upsert_contract", "get_subscription",
        "create_subscription", "upsert_entitlement",
    ]  # fmt: skip
    assert [c.idem_key for c in calls] == [
        None, "Q-000001:erp-order", "CT-000001:v1:erp-contract", None, "CT-000001:v1:billing",
        "CT-000001:v1:support",
    ]  # fmt: skip
    assert Acquire("contract:CT-000001") in effects
    # no billing callout came while stepping by hand: after the grace period the quote's own
    # lines bring support up to date
    grace = effects.index(Sleep(300.0))
    assert effects.index(calls[4]) < grace < effects.index(calls[5])
    statuses = [e.status for e in effects if isinstance(e, Status)]
    assert statuses == ["started", "billing_updated", "completed"]
    # the completion is announced through the outbox, staged in the same step as the close
    completed = next(e for e in effects if isinstance(e, Status) and e.status == "completed")
    staged = effects.index(Note("outbox", "contract.synced:CT-000001:v1", "staged",
                                {"topic": "contract.synced"}))  # fmt: skip
    between = effects[effects.index(completed) : staged]
    assert not any(isinstance(e, Call | Sleep | Acquire | Publish) for e in between)
    published = [e for e in effects if isinstance(e, Publish)]
    assert [(p.topic, p.message_id) for p in published] == [
        ("contract.synced", "contract.synced:CT-000001:v1")
    ]


def test_a_crash_before_the_broker_acknowledged_republishes_at_restart() -> None:
    journal: Journal = {}
    step(ReferenceDesign(), approved(), ok, journal, crash_at=Publish)
    assert list(journal["outbox"]) == ["contract.synced:CT-000001:v1"]
    restarted = DomainEvent("RESTART-1", "orchestrator.restarted", "orchestrator", 0.0, {}, {})
    effects = step(ReferenceDesign(), restarted, ok, journal)
    published = [e.message_id for e in effects if isinstance(e, Publish)]
    assert published == ["contract.synced:CT-000001:v1"]  # the same id: consumers de-duplicate
    assert not journal["outbox"]


def test_operators_compensate_what_erp_committed_then_close() -> None:
    """Billing is down past the retry budget: ERP holds the order and v1, then operators undo."""
    from harness.engine import retry

    def billing_down(effect: Any) -> Reply:
        if (
            isinstance(effect, Call)
            and effect.system == "billing"
            and "subscription" in (effect.operation)
            and effect.operation != "get_subscription"
        ):
            return Reply({}, CallError("transient", "SERVICE_UNAVAILABLE"))
        return ok(effect)

    journal: Journal = {}
    design = ReferenceDesign(retry(max_attempts=2))
    parked = step(design, approved(), billing_down, journal)
    assert [e.status for e in parked if isinstance(e, Status)][-1] == "dead_lettered"
    compensate = DomainEvent(
        "OPS-1", "operator.compensate", "operations", 0.0, {"workflow": "Q-000001"}, {}
    )
    effects = step(design, compensate, ok, journal)
    calls = [(e.operation, e.idem_key) for e in effects if isinstance(e, Call)]
    assert calls == [
        ("get_subscription", None), ("find_sales_orders", None),
        ("cancel_sales_order", "SO-1:cancel"), ("revert_contract", "CT-000001:v1:0:revert"),
    ]  # fmt: skip
    closed = [e for e in effects if isinstance(e, Status)]
    assert [e.status for e in closed] == ["compensated"]
    assert "SO-1" in (closed[0].reason or "") and "Q-000001" not in journal["workflow"]


def test_compensation_is_refused_once_billing_holds_the_version() -> None:
    journal: Journal = {}
    design = ReferenceDesign()

    def support_refuses(effect: Any) -> Reply:
        if isinstance(effect, Call) and effect.operation == "upsert_entitlement":
            return Reply({}, CallError("business", "INVALID_LEVEL"))
        return ok(effect)

    step(design, approved(), support_refuses, journal)
    assert journal["workflow"]["Q-000001"]["status"] == "parked"

    def billing_has_v1(effect: Any) -> Reply:
        if isinstance(effect, Call) and effect.operation == "get_subscription":
            return Reply({"contract_id": "CT-000001", "contract_version": 1})
        return ok(effect)

    compensate = DomainEvent(
        "OPS-1", "operator.compensate", "operations", 0.0, {"workflow": "Q-000001"}, {}
    )
    effects = step(design, compensate, billing_has_v1, journal)
    assert not any(isinstance(e, Call) and e.system == "erp" for e in effects)
    assert journal["workflow"]["Q-000001"]["code"] == "COMPENSATION_REFUSED"


def test_duplicates_and_stale_versions_do_nothing() -> None:
    design = ReferenceDesign()
    ok = lambda call: Reply({"order_id": "SO-1"})  # noqa: E731
    step(design, approved(contract_version=3), ok)
    assert step(design, approved(contract_version=3), ok)[1:] == []  # same event id: inbox
    stale = step(design, approved("CPQ-EVT-2", quote_id="Q-2", contract_version=2), ok)
    assert not any(isinstance(e, Call) for e in stale)
    assert [e.status for e in stale if isinstance(e, Status)] == ["started", "superseded"]
