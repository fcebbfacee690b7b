"""The reference design stepped by hand: its decisions without any driver."""

from __future__ import annotations

import random
from typing import Any

from harness.designs.api import Context
from harness.designs.reference import ReferenceDesign
from harness.effects import Acquire, Call, CallError, Now, Reply, Scan, Sleep, Status
from simulators.base import DomainEvent

QUOTE = {
    "quote_id": "Q-000001", "contract_id": "CT-000001", "contract_version": 1,
    "customer_id": "CUST-00001", "currency": "BRL", "total": 100, "term_months": 36,
    "lines": [{"sku": "SW-FLEET-STD", "quantity": 5, "kind": "subscription"}],
}  # fmt: skip


def approved(event_id: str = "CPQ-EVT-1", **changes: Any) -> DomainEvent:
    return DomainEvent(event_id, "quote.approved", "cpq", 0.0, {**QUOTE, **changes}, {})


def step(design: ReferenceDesign, event: DomainEvent, answer: Any) -> list[Any]:
    """Run one handler, answering each Call with `answer(call)`; return every effect."""
    steps = design.subscriptions[event.type](Context(random.Random(0)), event)
    effects: list[Any] = []
    result: Any = None
    try:
        while True:
            effect = steps.send(result)
            effects.append(effect)
            if isinstance(effect, Call):
                result = answer(effect)
            elif isinstance(effect, Now):
                result = 0.0
            elif isinstance(effect, Scan):
                result = []  # an empty journal
            else:
                result = None
    except StopIteration:
        return effects


def test_a_business_error_parks_before_any_downstream_write() -> None:
    refusal = Reply({}, CallError("business", "TAX_CODE_MISSING", "no tax code for BR"))
    effects = step(ReferenceDesign(), approved(), lambda call: refusal)
    calls = [e for e in effects if isinstance(e, Call)]
    assert [(c.system, c.operation) for c in calls] == [("erp", "validate_order")]
    parked = [e for e in effects if isinstance(e, Status) and e.status == "parked"]
    assert len(parked) == 1 and "TAX_CODE_MISSING" in (parked[0].reason or "")


def test_the_happy_path_writes_erp_then_billing_with_business_keys() -> None:
    def answer(call: Call) -> Reply:
        if call.operation == "get_subscription":  # a first version: billing has none yet
            return Reply({}, CallError("business", "SUBSCRIPTION_NOT_FOUND"))
        return Reply({"order_id": "SO-1"} if call.operation == "create_sales_order" else {})

    effects = step(ReferenceDesign(), approved(), answer)
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


def test_duplicates_and_stale_versions_do_nothing() -> None:
    design = ReferenceDesign()
    ok = lambda call: Reply({"order_id": "SO-1"})  # noqa: E731
    step(design, approved(contract_version=3), ok)
    assert step(design, approved(contract_version=3), ok)[1:] == []  # same event id: inbox
    stale = step(design, approved("CPQ-EVT-2", quote_id="Q-2", contract_version=2), ok)
    assert not any(isinstance(e, Call) for e in stale)
    assert [e.status for e in stale if isinstance(e, Status)] == ["started", "superseded"]
