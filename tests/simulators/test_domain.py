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


# -- issue 3: the full domain ---------------------------------------------------------------


def cpq_with_contract() -> tuple[CPQ, str]:
    cpq = CPQ(CATALOG, {"C1": {"currency": "USD"}}, epoch=1_700_000_000)
    quote = cpq.handle("create_quote", {"customer_id": "C1", "lines": LINES}, 0.0).body
    cpq.handle("approve_quote", {"quote_id": quote["quote_id"]}, 0.0)
    return cpq, quote["contract_id"]


def test_cpq_events_are_change_data_capture_shaped() -> None:
    cpq = CPQ(CATALOG, {"C1": {"currency": "USD"}}, epoch=1_700_000_000)
    quote = cpq.handle("create_quote", {"customer_id": "C1", "lines": LINES}, 0.0).body
    assert len(cpq.table("quote_line")) == 3
    (event,) = cpq.handle("approve_quote", {"quote_id": quote["quote_id"]}, 2.5).events
    header = event.payload["ChangeEventHeader"]
    assert header["entityName"] == "SBQQ__Quote__c" and header["recordIds"] == [quote["quote_id"]]
    assert header["changeType"] == "UPDATE" and header["commitTimestamp"] == 1_700_000_002_500
    assert event.payload["schema_version"] == 1 and event.payload["quote_type"] == "new"


def test_cpq_approval_needs_every_approver() -> None:
    cpq = CPQ(CATALOG, {"C1": {"currency": "USD"}})
    quote_id = cpq.handle("create_quote", {"customer_id": "C1", "lines": LINES}, 0.0).body[
        "quote_id"
    ]
    cpq.handle(
        "submit_for_approval", {"quote_id": quote_id, "approvers": ["deal-desk", "finance"]}, 0.0
    )
    first = cpq.handle("approve_quote", {"quote_id": quote_id, "approver": "deal-desk"}, 1.0)
    assert first.body["status"] == "inProgress" and first.events == ()
    stranger = cpq.handle("approve_quote", {"quote_id": quote_id, "approver": "intern"}, 1.0)
    assert stranger.error is not None and stranger.error.code == "NOT_AN_APPROVER"
    second = cpq.handle("approve_quote", {"quote_id": quote_id, "approver": "finance"}, 2.0)
    assert [e.type for e in second.events] == ["quote.approved"]


def test_cpq_renews_cancels_and_refuses_a_cancelled_contract() -> None:
    cpq, contract_id = cpq_with_contract()
    renewal = cpq.handle(
        "renew_contract", {"contract_id": contract_id, "term_months": 12}, 1.0
    ).body
    assert renewal["contract_version"] == 2
    assert cpq.table("quote")[renewal["quote_id"]]["quote_type"] == "renewal"
    cancel = cpq.handle("cancel_contract", {"contract_id": contract_id}, 2.0).body
    (event,) = cpq.handle("approve_quote", {"quote_id": cancel["quote_id"]}, 3.0).events
    assert event.payload["quote_type"] == "cancellation" and event.payload["lines"] == []
    refused = cpq.handle("amend_contract", {"contract_id": contract_id, "lines": LINES}, 4.0)
    assert refused.error is not None and refused.error.code == "CONTRACT_NOT_ACTIVE"
    draft = cpq.handle("create_quote", {"customer_id": "C1", "lines": LINES}, 5.0).body
    assert (
        cpq.handle("cancel_quote", {"quote_id": draft["quote_id"]}, 6.0).body["status"]
        == "cancelled"
    )


def subscribed_billing() -> tuple[Billing, str]:
    billing = Billing(CATALOG)
    created = billing.handle("create_subscription", order(), 0.0).body
    return billing, created["invoice_id"]


def test_billing_events_carry_a_notification_id() -> None:
    billing = Billing(CATALOG)
    events = billing.handle("create_subscription", order(), 0.0).events
    assert all(e.payload["notificationId"] == e.event_id for e in events)


def test_billing_renews_and_cancels_with_term_dates() -> None:
    billing, _ = subscribed_billing()
    subscription = billing.subscription_for("CT-1")
    term_end = subscription["term_end"]
    renewed = billing.handle(
        "renew_subscription",
        {"contract_id": "CT-1", "contract_version": 2, "term_months": 12},
        10.0,
    )
    assert [e.type for e in renewed.events] == ["subscription.renewed", "invoice.posted"]
    assert subscription["term_end"] == pytest.approx(term_end + 365.25 * 86400)
    half_year = 365.25 * 86400 / 2
    cancelled = billing.handle(
        "cancel_subscription", {"contract_id": "CT-1", "contract_version": 3}, half_year
    )
    memo = billing.table("credit_memo")[cancelled.body["credit_memo_id"]]
    assert memo["amount"] == pytest.approx(2 * (12_00 + 6_00) / 2, abs=1)
    assert subscription["status"] == "cancelled" and subscription["term_end"] == half_year


def test_invoice_reversal_follows_zuoras_refusal_rules() -> None:
    billing, invoice_id = subscribed_billing()
    billing.handle("apply_payment", {"invoice_id": invoice_id, "amount": 100}, 1.0)
    paid = billing.handle("reverse_invoice", {"invoice_id": invoice_id}, 2.0)
    assert paid.error is not None and paid.error.code == "PAYMENT_APPLIED"

    billing, invoice_id = subscribed_billing()
    downgrade = [{"sku": "HW", "quantity": 2}, {"sku": "SW", "quantity": 1}]
    memo = billing.handle(
        "amend_subscription", {**order(), "contract_version": 2, "lines": downgrade}, 0.0
    ).body["invoice_id"]
    billing.handle("apply_credit_memo", {"credit_memo_id": memo, "invoice_id": invoice_id}, 1.0)
    credited = billing.handle("reverse_invoice", {"invoice_id": invoice_id}, 2.0)
    assert credited.error is not None and credited.error.code == "CREDIT_MEMO_APPLIED"

    billing = Billing(CATALOG)
    draft = billing.handle("create_subscription", {**order(), "invoice_status": "draft"}, 0.0)
    draft_id = draft.body["invoice_id"]
    assert "invoice.posted" not in [e.type for e in draft.events]
    unposted = billing.handle("reverse_invoice", {"invoice_id": draft_id}, 1.0)
    assert unposted.error is not None and unposted.error.code == "INVOICE_NOT_POSTED"
    assert billing.handle("post_invoice", {"invoice_id": draft_id}, 2.0).ok
    reversed_ = billing.handle("reverse_invoice", {"invoice_id": draft_id}, 3.0)
    assert [e.type for e in reversed_.events] == ["invoice.reversed"]
    assert billing.table("invoice")[draft_id]["status"] == "reversed"
    assert (
        billing.table("credit_memo")[reversed_.body["credit_memo_id"]]["amount"]
        == (billing.table("invoice")[draft_id]["amount"])
    )


def test_payments_reduce_the_balance_and_are_announced() -> None:
    billing, invoice_id = subscribed_billing()
    balance = billing.table("invoice")[invoice_id]["balance"]
    paid = billing.handle("apply_payment", {"invoice_id": invoice_id, "amount": balance}, 1.0)
    assert paid.body["invoice_balance"] == 0 and [e.type for e in paid.events] == ["payment.posted"]
    over = billing.handle("apply_payment", {"invoice_id": invoice_id, "amount": 1}, 2.0)
    assert over.error is not None and over.error.code == "INVALID_PAYMENT_AMOUNT"


def test_erp_posts_invoices_and_payments_to_the_ledger_and_locks_the_subsidiary() -> None:
    system = erp()
    invoice = {"invoice_id": "INV-1", "customer_id": "C1", "currency": "USD", "amount": 5000}
    posted = system.handle("post_invoice", invoice, 0.0)
    entry = system.table("journal_entry")[posted.body["journal_entry_id"]]
    assert [(line["account"], line["debit"], line["credit"]) for line in entry["lines"]] == [
        ("accounts_receivable", 5000, 0), ("deferred_revenue", 0, 5000),
    ]  # fmt: skip
    assert (entry["subsidiary_id"], entry["tax_code"]) == ("SUB-US", "US-T")
    assert posted.changes[0].effect_key == "invoice:INV-1"
    payment = {"payment_id": "P-1", "customer_id": "C1", "currency": "USD", "amount": 5000}
    assert system.handle("post_payment", payment, 1.0).ok
    moved = system.handle(
        "assign_subsidiary", {"customer_id": "C1", "subsidiary_id": "SUB-BR"}, 2.0
    )
    assert moved.error is not None and moved.error.code == "SUBSIDIARY_LOCKED"
    wrong = system.handle("post_invoice", {**invoice, "currency": "BRL"}, 3.0)
    assert wrong.error is not None and wrong.error.code == "CURRENCY_MISMATCH"


def test_erp_master_data_can_change_during_a_run() -> None:
    system = erp()
    system.set_tax_code("US", TaxCode("US-T", "US", active=False))
    assert system.handle("validate_order", order(), 0.0).error.code == "TAX_CODE_INACTIVE"  # type: ignore[union-attr]
    system.set_tax_code("US", TaxCode("US-T", "US"))
    system.set_item_mapping("SW", None)
    assert system.handle("validate_order", order(), 1.0).error.code == "ITEM_NOT_MAPPED"  # type: ignore[union-attr]
    system.set_item_mapping("SW", "I2")
    assert system.handle("validate_order", order(), 2.0).ok


def test_support_validity_cancellation_cases_and_escalation() -> None:
    support = Support()
    grant = {"contract_id": "CT-1", "contract_version": 1, "customer_id": "C1",
             "level": "premium", "valid_from": 100.0, "valid_to": 200.0}  # fmt: skip
    support.handle("upsert_entitlement", grant, 0.0)
    assert (
        support.handle("check_entitlement", {"customer_id": "C1"}, 50.0).body["entitled"] is False
    )
    assert (
        support.handle("check_entitlement", {"customer_id": "C1"}, 150.0).body["level"] == "premium"
    )
    assert (
        support.handle("check_entitlement", {"customer_id": "C1"}, 250.0).body["entitled"] is False
    )
    case = support.handle("open_case", {"customer_id": "C1", "severity": 1}, 150.0).body
    assert (case["entitled"], case["level"]) == (True, "premium")
    escalated = support.handle(
        "escalate_case", {"case_id": case["case_id"], "reason": "down"}, 151.0
    )
    assert [e.type for e in escalated.events] == ["case.escalated"]
    again = support.handle("escalate_case", {"case_id": case["case_id"]}, 152.0)
    assert again.error is not None and again.error.code == "INVALID_CASE_STATUS"
    support.handle("cancel_entitlement", {"contract_id": "CT-1", "contract_version": 2}, 160.0)
    unentitled = support.handle("open_case", {"customer_id": "C1"}, 170.0).body
    assert unentitled["entitled"] is False


def test_a_vendor_upgrade_moves_the_event_body_under_data() -> None:
    billing = Billing(CATALOG)
    billing.event_schema_version = 2
    event = billing.handle("create_subscription", order(), 0.0).events[0]
    assert (
        event.payload["schema_version"] == 2
        and event.payload["event_type"] == "subscription.activated"
    )
    assert event.payload["data"]["contract_id"] == "CT-1" and "contract_id" not in event.payload


def test_a_second_request_with_a_key_in_flight_gets_409() -> None:
    billing = Billing(CATALOG)
    assert billing.claim("create_subscription", "K1") is None
    conflict = billing.claim("create_subscription", "K1")
    assert conflict is not None and conflict.status == 409
    billing.release("create_subscription", "K1")
    assert billing.claim("create_subscription", "K1") is None
