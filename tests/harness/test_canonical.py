"""Vendor payloads to canonical entities: both schema versions, and clear refusals."""

from __future__ import annotations

import pytest

from harness.designs import canonical
from simulators.base import DomainEvent

QUOTE = {
    "quote_id": "Q-1", "quote_type": "amendment", "contract_id": "CT-1", "contract_version": 2,
    "customer_id": "C-1", "currency": "EUR", "total": 100, "term_months": 36,
    "lines": [
        {"sku": "SW-FLEET-PRO", "quantity": 5, "kind": "subscription"},
        {"sku": "SUP-PREMIUM", "quantity": 5, "kind": "support", "support_level": "premium"},
    ],
}  # fmt: skip


def event(payload: dict[str, object], system: str = "cpq") -> DomainEvent:
    return DomainEvent("E-1", "quote.approved", system, 0.0, payload, {})


def test_both_schema_versions_map_to_the_same_quote() -> None:
    v1 = canonical.quote(event({"schema_version": 1, "ChangeEventHeader": {}, **QUOTE}))
    v2 = canonical.quote(event({"schema_version": 2, "data": QUOTE}))
    assert v1 == v2 and v1.lines[0] == canonical.Line("SW-FLEET-PRO", 5, "subscription")
    assert v1.lines[1].product == canonical.Product("SUP-PREMIUM", "support")
    assert v1.lines[1].support_level == "premium"  # as CPQ's quote line says
    assert v1.customer == canonical.Customer("C-1", "EUR")
    order = v1.order()
    assert order.contract == canonical.Contract("CT-1", 2, "C-1", v1.lines)
    assert order.request() == {
        "quote_id": "Q-1", "contract_id": "CT-1", "contract_version": 2, "customer_id": "C-1",
        "currency": "EUR", "total": 100, "term_months": 36,
        "lines": [{"sku": "SW-FLEET-PRO", "quantity": 5}, {"sku": "SUP-PREMIUM", "quantity": 5}],
    }  # fmt: skip
    assert order.contract.request("SO-9")["order_id"] == "SO-9"
    assert v1.entitlement() == canonical.Entitlement("CT-1", 2, "C-1", "premium", 5)


def test_an_entitlement_maps_to_support_and_back() -> None:
    wanted = canonical.Entitlement("CT-1", 2, "C-1", "premium", 5)
    held = {**wanted.request(), "entitlement_id": "ENT-1", "status": "active", "valid_to": 9.0}
    assert canonical.held_entitlement(held) == wanted
    with pytest.raises(canonical.MappingError, match="support entitlement record"):
        canonical.held_entitlement({"contract_id": "CT-1"})


def test_cancellations_grant_nothing() -> None:
    cancel = canonical.quote(event({**QUOTE, "quote_type": "cancellation", "lines": []}))
    assert cancel.entitlement().level == "none"


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ({"schema_version": 3, "data": QUOTE}, "schema version 3 is not supported"),
        ({"schema_version": "x", **QUOTE}, "unreadable schema_version"),
        ({"schema_version": 2, "payload": QUOTE}, "has no data"),
        ({k: v for k, v in QUOTE.items() if k != "contract_id"}, "cannot map field 'contract_id'"),
        ({**QUOTE, "contract_version": "two"}, "cannot map field"),
    ],
)
def test_what_cannot_be_mapped_says_why(payload: dict[str, object], reason: str) -> None:
    with pytest.raises(canonical.MappingError, match=reason):
        canonical.quote(event(payload))


def test_the_entitlement_takes_the_best_support_plan() -> None:
    lines = (
        canonical.Line("SUP-STANDARD", 3, "support", "standard"),
        canonical.Line("SUP-PREMIUM", 2, "support", "premium"),
    )
    best = canonical.entitlement_for(canonical.Contract("CT-1", 4, "C-1", lines), active=True)
    assert (best.level, best.covered_units) == ("premium", 2)
    software = (canonical.Line("SW-FLEET-STD", 1),)
    plain = canonical.entitlement_for(canonical.Contract("CT-1", 4, "C-1", software), True)
    assert (plain.level, plain.covered_units) == ("none", 0)
