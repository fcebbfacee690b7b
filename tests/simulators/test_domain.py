"""CPQ, ERP, billing and support: the operations the amendment flow needs and their refusals."""

from __future__ import annotations

import pytest

from simulators.billing import Billing
from simulators.catalog import Catalog, Product
from simulators.cpq import CPQ
from simulators.erp import ERP, MasterData, Subsidiary, TaxCode
from simulators.support import Support

CATALOG = Catalog(
    [
        Product("HW", "Controller", "hardware", {"USD": 100_00, "BRL": 500_00}),
        Product("SW", "Software", "subscription", {"USD": 12_00, "BRL": 60_00}),
        Product("SUP", "Support", "support", {"USD": 6_00, "BRL": 30_00}, "premium"),
    ]
)
LINES = [{"sku": "HW", "quantity": 2}, {"sku": "SW", "quantity": 2}, {"sku": "SUP", "quantity": 2}]


def erp(**gaps: object) -> ERP:
    master = MasterData(
        subsidiaries={
            "SUB-US": Subsidiary("SUB-US", "Co Inc.", "US", "USD"),
            "SUB-BR": Subsidiary("SUB-BR", "Co Ltda.", "BR", "BRL"),
        },
        customers={"C1": "SUB-US", "C2": "SUB-BR"},
        items={"HW": "I1", "SW": "I2"}
        if gaps.get("unmapped")
        else {"HW": "I1", "SW": "I2", "SUP": "I3"},
        tax_codes={"US": TaxCode("US-T", "US", active=not gaps.get("inactive"))},
    )
    return ERP(master)


def order(customer: str = "C1", currency: str = "USD") -> dict[str, object]:
    return {
        "quote_id": "Q-1", "contract_id": "CT-1", "contract_version": 1,
        "customer_id": customer, "currency": currency, "lines": LINES, "total": 1,
    }  # fmt: skip


def test_cpq_versions_a_contract_and_announces_approval() -> None:
    cpq = CPQ(CATALOG, {"C1": {"currency": "USD"}})
    first = cpq.handle("create_quote", {"customer_id": "C1", "lines": LINES}, 0.0).body
    approved = cpq.handle("approve_quote", {"quote_id": first["quote_id"]}, 1.0)
    (event,) = approved.events
    assert event.type == "quote.approved"
    assert event.payload["total"] == 2 * (100_00 + 12_00 + 6_00)
    assert event.payload["lines"][0]["kind"] == "hardware"
    amend = cpq.handle("create_quote", {"contract_id": first["contract_id"], "lines": LINES}, 2.0)
    assert amend.body["contract_version"] == 2
    assert cpq.latest_quote(first["contract_id"])["quote_id"] == amend.body["quote_id"]
    twice = cpq.handle("approve_quote", {"quote_id": first["quote_id"]}, 3.0)
    assert twice.error is not None and twice.error.code == "INVALID_STATUS"


@pytest.mark.parametrize(
    ("system", "request_order", "code"),
    [
        (erp(), order(customer="C9"), "CUSTOMER_NOT_FOUND"),
        (erp(), order(customer="C2", currency="BRL"), "TAX_CODE_MISSING"),
        (erp(inactive=True), order(), "TAX_CODE_INACTIVE"),
        (erp(unmapped=True), order(), "ITEM_NOT_MAPPED"),
        (erp(), order(currency="EUR"), "CURRENCY_MISMATCH"),
    ],
)
def test_erp_refuses_orders_that_break_master_data(
    system: ERP, request_order: dict[str, object], code: str
) -> None:
    checked = system.handle("validate_order", request_order, 0.0)
    created = system.handle("create_sales_order", request_order, 0.0)
    assert checked.error is not None and checked.error.code == code
    assert created.error is not None and created.error.code == code
    assert created.changes == () and not system.table("sales_order")


def test_erp_books_a_valid_order_with_subsidiary_and_tax_code() -> None:
    system = erp()
    created = system.handle("create_sales_order", order(), 0.0)
    (change,) = created.changes
    assert change.effect_key == "Q-1" and change.keys["order"] == created.body["order_id"]
    booked = system.table("sales_order")[created.body["order_id"]]
    assert (booked["subsidiary_id"], booked["tax_code"]) == ("SUB-US", "US-T")
    contract = {**order(), "order_id": created.body["order_id"]}
    assert system.handle("upsert_contract", contract, 1.0).changes[0].change == "created"
    moved = system.handle("upsert_contract", {**contract, "contract_version": 2}, 2.0)
    assert moved.changes[0].change == "updated" and moved.changes[0].keys["contract_version"] == 2


def test_billing_activates_invoices_amends_and_credits() -> None:
    billing = Billing(CATALOG)
    created = billing.handle("create_subscription", order(), 0.0)
    assert [e.type for e in created.events] == ["subscription.activated", "invoice.posted"]
    invoice = billing.table("invoice")[created.body["invoice_id"]]
    assert invoice["amount"] == 2 * 100_00 + 2 * (12_00 + 6_00)
    upgraded = [{"sku": "HW", "quantity": 2}, {"sku": "SW", "quantity": 4}]
    amended = billing.handle(
        "amend_subscription", {**order(), "contract_version": 2, "lines": upgraded}, 0.0
    )
    assert [e.type for e in amended.events] == ["subscription.amended", "invoice.posted"]
    assert billing.table("invoice")[amended.body["invoice_id"]]["amount"] == 2 * 12_00 - 2 * 6_00
    downgraded = [{"sku": "HW", "quantity": 2}, {"sku": "SW", "quantity": 1}]
    credited = billing.handle(
        "amend_subscription", {**order(), "contract_version": 3, "lines": downgraded}, 0.0
    )
    assert credited.body["invoice_id"].startswith("CM-")
    assert [e.type for e in credited.events] == ["subscription.amended"]
    missing = billing.handle("amend_subscription", {**order(), "contract_id": "CT-9"}, 0.0)
    assert missing.error is not None and missing.error.code == "SUBSCRIPTION_NOT_FOUND"


def test_support_entitlement_is_versioned_per_contract() -> None:
    support = Support()
    grant = {"contract_id": "CT-1", "contract_version": 1, "customer_id": "C1", "level": "standard"}
    first = support.handle("upsert_entitlement", grant, 0.0)
    second = support.handle(
        "upsert_entitlement", {**grant, "contract_version": 2, "level": "premium"}, 1.0
    )
    assert first.body["entitlement_id"] == second.body["entitlement_id"]
    assert [c.effect_key for c in (*first.changes, *second.changes)] == ["CT-1:v1", "CT-1:v2"]
    check = support.handle("check_entitlement", {"customer_id": "C1"}, 2.0).body
    assert check == {
        "entitled": True,
        "level": "premium",
        "contract_id": "CT-1",
        "contract_version": 2,
    }
    bad = support.handle("upsert_entitlement", {**grant, "level": "gold"}, 3.0)
    assert bad.error is not None and bad.error.code == "INVALID_LEVEL"
