"""Vendor payloads to canonical entities: both schema versions, and clear refusals."""

from __future__ import annotations

import pytest

from harness.designs import canonical
from simulators.base import DomainEvent

QUOTE = {
    "quote_id": "Q-1", "quote_type": "amendment", "contract_id": "CT-1", "contract_version": 2,
    "customer_id": "C-1", "currency": "EUR", "total": 100, "term_months": 36,
    "lines": [{"sku": "SW-FLEET-PRO", "quantity": 5, "kind": "subscription"},
              {"sku": "SUP-PREMIUM", "quantity": 5, "kind": "support"}],
}  # fmt: skip


def event(payload: dict[str, object], system: str = "cpq") -> DomainEvent:
    return DomainEvent("E-1", "quote.approved", system, 0.0, payload, {})


def test_both_schema_versions_map_to_the_same_quote() -> None:
    v1 = canonical.quote(event({"schema_version": 1, "ChangeEventHeader": {}, **QUOTE}))
    v2 = canonical.quote(event({"schema_version": 2, "data": QUOTE}))
    assert v1 == v2 and v1.lines[0] == canonical.Line("SW-FLEET-PRO", 5)
    assert v1.order_request()["lines"] == [
        {"sku": "SW-FLEET-PRO", "quantity": 5}, {"sku": "SUP-PREMIUM", "quantity": 5},
    ]  # fmt: skip
    assert v1.entitlement_request()["level"] == "premium"


def test_cancellations_grant_nothing() -> None:
    cancel = canonical.quote(event({**QUOTE, "quote_type": "cancellation", "lines": []}))
    assert cancel.entitlement_request()["level"] == "none"


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
    lines = (canonical.Line("SUP-STANDARD", 3), canonical.Line("SUP-PREMIUM", 2))
    request = canonical.entitlement_request("CT-1", 4, "C-1", lines, active=True)
    assert (request["level"], request["covered_units"]) == ("premium", 2)
    plain = canonical.entitlement_request(
        "CT-1", 4, "C-1", (canonical.Line("SW-FLEET-STD", 1),), True
    )
    assert (plain["level"], plain["covered_units"]) == ("none", 0)
