"""The business truth (harness/checkers/truth.py) held to what CPQ sold and to billing's and
support's own rules: a correct integration's records hold exactly what the truth says."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings

from harness.checkers.holdings import differences
from harness.checkers.truth import Truth
from harness.designs import canonical
from harness.history import StateRecord
from simulators.base import Outcome
from simulators.billing import Billing
from simulators.catalog import Catalog, Product
from simulators.cpq import CPQ
from simulators.support import Support
from tests.strategies import contract_lives

CATALOG = Catalog(
    [
        Product("HW", "Controller", "hardware", {"USD": 100_00}),
        Product("SW", "Software", "subscription", {"USD": 12_00}),
        Product("SUP-STD", "Standard support", "support", {"USD": 2_00}, "standard"),
        Product("SUP-PREM", "Premium support", "support", {"USD": 5_00}, "premium"),
    ]
)
PLANS = {"SUP-STD": "standard", "SUP-PREM": "premium"}
RANK = {"none": 0, "standard": 1, "premium": 2}


def records(outcome: Outcome, now: float) -> list[StateRecord]:
    """The outcome's writes as the history records them."""
    return [
        StateRecord(now, c.system, c.entity, c.entity_id, c.change, c.version, c.keys,
                    c.effect_key, c.values)
        for c in outcome.changes
    ]  # fmt: skip


def approve(cpq: CPQ, operation: str, payload: dict[str, Any], now: float) -> list[StateRecord]:
    made = cpq.handle(operation, payload, now)
    assert made.ok, made.error
    approved = cpq.handle("approve_quote", {"quote_id": made.body["quote_id"]}, now)
    assert approved.ok, approved.error
    return records(approved, now)


@settings(max_examples=60, deadline=None)
@given(contract_lives)
def test_the_truth_is_what_cpq_sold_and_what_billing_and_support_then_hold(life: Any) -> None:
    first_lines, term, changes, cancelled = life
    cpq, billing, support = CPQ(CATALOG, {"C1": {"currency": "USD"}}), Billing(CATALOG), Support()
    truth = Truth()
    now = 1000.0
    sold = approve(cpq, "create_quote", {"customer_id": "C1", "lines": first_lines,
                                         "term_months": term}, now)  # fmt: skip
    contract = str(sold[0].keys["contract"])
    steps = [*changes, *([("cancellation", None)] if cancelled else [])]
    lines, owed_term = first_lines, term
    for position, record in enumerate(sold):
        truth.observe(position, record)
    for version, (kind, detail) in enumerate([("new", None), *steps], start=1):
        now += 86400.0
        if kind == "amendment":
            lines = detail
            payload = {"contract_id": contract, "lines": lines}
            written = approve(cpq, "amend_contract", payload, now)
        elif kind == "renewal":
            owed_term += detail
            written = approve(cpq, "renew_contract", {"contract_id": contract,
                                                      "term_months": detail}, now)  # fmt: skip
        elif kind == "cancellation":
            written = approve(cpq, "cancel_contract", {"contract_id": contract}, now)
        else:
            written = []
        for record in written:
            truth.observe(0, record)
        owed = truth.at(contract, version)
        assert owed is not None and owed.quote_type == kind
        # The entitlement is the best support line of the version's lines, for its quantity.
        plans = [(RANK[PLANS[line["sku"]]], line) for line in lines if line["sku"] in PLANS]
        best = max(plans, key=lambda pair: pair[0], default=None)
        grant = ("none", 0) if best is None else (PLANS[best[1]["sku"]], best[1]["quantity"])
        assert owed.grant == (("none", 0) if kind == "cancellation" else grant)
        assert owed.term_months == owed_term
        booked = tuple(sorted((line["sku"], line["quantity"]) for line in lines))
        assert owed.booked == (() if kind == "cancellation" else booked)
        # Billing and support, kept in step as a correct integration does, hold the truth.
        order = {"contract_id": contract, "contract_version": version, "customer_id": "C1",
                 "currency": "USD", "lines": lines, "term_months": term}  # fmt: skip
        operation = {
            "new": "create_subscription",
            "amendment": "amend_subscription",
            "renewal": "renew_subscription",
            "cancellation": "cancel_subscription",
        }[kind]
        if kind == "renewal":
            order["term_months"] = detail
        billed = billing.handle(operation, order, now)
        assert billed.ok, billed.error
        held = records(billed, now)
        subscription = next(r for r in held if r.entity == "subscription")
        assert subscription.values is not None
        assert differences("billing", subscription.values, owed) == {}
        entitlement = canonical.Quote(
            "Q", kind, contract, version, "C1", "USD", 0, term,
            tuple(canonical.Line(line["sku"], line["quantity"], "",
                                 PLANS.get(line["sku"], "")) for line in lines),
        ).entitlement()  # fmt: skip
        entitled = support.handle("upsert_entitlement", entitlement.request(), now)
        assert entitled.ok, entitled.error
        (record,) = records(entitled, now)
        assert record.values is not None
        assert differences("support", record.values, owed) == {}
