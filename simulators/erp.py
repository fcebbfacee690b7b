"""ERP: master data, sales orders, contracts and GL postings for invoices and payments.

Authoritative for financial controls and master data (seed document). Shaped after NetSuite
OneWorld (vendor-behaviour.md): a customer transacts only in its subsidiary, which cannot change
after a posting; every line needs an item mapped from the CPQ SKU; every order and posting needs
an active tax code for its region. A request that breaks a rule is refused whole, as ERPs do,
and nothing is written. Records carry their subsidiary and tax code.

Master data can change while a run goes on (`set_tax_code`, `set_item_mapping`): a fault
deactivates a tax code or removes an SKU mapping, and restores it later.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from simulators.base import BusinessError, IdempotencyRule, Payload, SystemOfRecord
from simulators.requests import (
    CURRENCY,
    ID,
    LINES,
    MONEY,
    TERM,
    VERSION,
    Request,
    Text,
    Whole,
    request,
)


@dataclass(frozen=True, slots=True)
class Subsidiary:
    subsidiary_id: str
    legal_name: str
    region: str
    currency: str


@dataclass(frozen=True, slots=True)
class TaxCode:
    code: str
    region: str
    active: bool = True


@dataclass(frozen=True, slots=True)
class MasterData:
    """ERP's reference data, as loaded from the seeded world (gaps included)."""

    subsidiaries: Mapping[str, Subsidiary]
    customers: Mapping[str, str]  # customer id -> subsidiary id
    items: Mapping[str, str]  # CPQ SKU -> ERP item id
    tax_codes: Mapping[str, TaxCode]  # region -> tax code


#: Earlier versions a contract keeps, privately and compactly, for compensations to put back
#: (each reverts one; a fourth compensation in a row on one contract is not a case flows make).
CONTRACT_HISTORY = 3


def _posting(document: str) -> Request:
    """A GL posting's request: the billing document it books, for whom, how much."""
    return request(
        {document: ID, "customer_id": ID, "currency": CURRENCY, "amount": MONEY}, contract_id=ID
    )


class ERP(SystemOfRecord):
    name = "erp"
    reads = frozenset({
        "validate_order", "get_contract", "get_customer", "find_sales_orders", "find_records",
    })  # fmt: skip
    entities = frozenset({"customer", "sales_order", "contract", "journal_entry"})
    archived = frozenset({"sales_order", "journal_entry"})
    requests: ClassVar[Mapping[str, Request]] = {
        **SystemOfRecord.requests,
        "validate_order": request({"customer_id": ID, "lines": LINES}, currency=CURRENCY),
        "create_sales_order": request(
            {
                "quote_id": ID,
                "contract_id": ID,
                "contract_version": VERSION,
                "customer_id": ID,
                "lines": LINES,
                "total": MONEY,
            },
            currency=CURRENCY,
            term_months=TERM,
        ),
        "upsert_contract": request(
            {
                "contract_id": ID,
                "contract_version": VERSION,
                "customer_id": ID,
                "order_id": ID,
                "lines": LINES,
            }
        ),
        "find_sales_orders": request({"quote_id": ID}),
        "find_journal_entries": request(
            {"source": Text(16, choices=("invoice", "payment", "credit_memo"))},
            invoice_id=ID,
            payment_id=ID,
            credit_memo_id=ID,
        ),
        "cancel_sales_order": request({"order_id": ID}),
        "revert_contract": request({"contract_id": ID, "from_version": Whole(0, 10**9)}),
        "get_contract": request({"contract_id": ID}),
        "get_customer": request({"customer_id": ID}),
        "assign_subsidiary": request({"customer_id": ID, "subsidiary_id": ID}),
        "post_invoice": _posting("invoice_id"),
        "post_credit_memo": _posting("credit_memo_id"),
        "post_payment": _posting("payment_id"),
    }

    def __init__(
        self,
        master: MasterData,
        idempotency: IdempotencyRule | None = None,
        epoch: float = 0.0,
        name: str = "erp",
    ) -> None:
        super().__init__(idempotency, epoch)
        self.name = name
        # ERP's own, mutable copy: administrators (and faults) change it during a run.
        self.master = MasterData(
            dict(master.subsidiaries), dict(master.customers), dict(master.items),
            dict(master.tax_codes),
        )  # fmt: skip
        self.posted_customers: set[str] = set()
        self.orders_by_quote: dict[str, list[str]] = {}

    def _forget(self, entity: str, record: Mapping[str, Any]) -> None:
        if entity == "sales_order":
            orders = self.orders_by_quote.get(record["quote_id"], [])
            if record["order_id"] in orders:
                orders.remove(record["order_id"])
            if not orders:
                self.orders_by_quote.pop(record["quote_id"], None)

    # -- master data administration (not an API a design calls) -------------------------

    def set_tax_code(self, region: str, code: TaxCode | None) -> None:
        tax_codes = self.master.tax_codes
        assert isinstance(tax_codes, dict)
        if code is None:
            tax_codes.pop(region, None)
        else:
            tax_codes[region] = code

    def onboard(self, subsidiary: Subsidiary, customers: Mapping[str, str]) -> None:
        """Set up a legal entity and its customers (an acquisition's onboarding)."""
        subsidiaries, known = self.master.subsidiaries, self.master.customers
        assert isinstance(subsidiaries, dict) and isinstance(known, dict)
        subsidiaries[subsidiary.subsidiary_id] = subsidiary
        known.update(customers)

    def set_item_mapping(self, sku: str, item_id: str | None) -> None:
        items = self.master.items
        assert isinstance(items, dict)
        if item_id is None:
            items.pop(sku, None)
        else:
            items[sku] = item_id

    def problems(self, payload: Payload) -> list[BusinessError]:
        """Every master-data rule the order breaks, in a fixed order (empty when valid)."""
        found: list[BusinessError] = []
        customer_id = payload["customer_id"]
        subsidiary_id = self.master.customers.get(customer_id)
        if subsidiary_id is None:
            return [BusinessError("CUSTOMER_NOT_FOUND", f"customer {customer_id} is not in ERP")]
        subsidiary = self.master.subsidiaries[subsidiary_id]
        if payload.get("currency", subsidiary.currency) != subsidiary.currency:
            found.append(
                BusinessError(
                    "CURRENCY_MISMATCH",
                    f"subsidiary {subsidiary_id} transacts in {subsidiary.currency}, "
                    f"not {payload['currency']}",
                )
            )
        for line in payload["lines"]:
            if line["sku"] not in self.master.items:
                found.append(
                    BusinessError("ITEM_NOT_MAPPED", f"SKU {line['sku']} has no ERP item mapping")
                )
        tax_code = self.master.tax_codes.get(subsidiary.region)
        if tax_code is None:
            found.append(
                BusinessError(
                    "TAX_CODE_MISSING", f"no tax code is set up for region {subsidiary.region}"
                )
            )
        elif not tax_code.active:
            found.append(
                BusinessError(
                    "TAX_CODE_INACTIVE",
                    f"tax code {tax_code.code} for region {subsidiary.region} is inactive",
                )
            )
        return found

    def _require_valid(self, payload: Payload) -> None:
        found = self.problems(payload)
        if found:
            message = "; ".join(problem.message for problem in found)
            raise BusinessError(found[0].code, message)

    def listing(self, entity: str) -> Mapping[str, Mapping[str, Any]] | None:
        """Besides its records: the customers of its master data, with their subsidiary."""
        if entity == "customer":
            return {
                customer_id: {"customer_id": customer_id, "subsidiary_id": subsidiary_id}
                for customer_id, subsidiary_id in self.master.customers.items()
            }
        return super().listing(entity)

    def op_validate_order(self, payload: Payload, now: float) -> Payload:
        """Dry-run validation against master data; refuses exactly as `create_sales_order`."""
        self._require_valid(payload)
        subsidiary_id = self.master.customers[payload["customer_id"]]
        return {"valid": True, "subsidiary_id": subsidiary_id}

    def op_create_sales_order(self, payload: Payload, now: float) -> Payload:
        self._require_valid(payload)
        subsidiary = self.master.subsidiaries[self.master.customers[payload["customer_id"]]]
        order_id = self.next_id("SO")
        order: dict[str, Any] = {
            "order_id": order_id,
            "quote_id": payload["quote_id"],
            "contract_id": payload["contract_id"],
            "contract_version": int(payload["contract_version"]),
            "customer_id": payload["customer_id"],
            "subsidiary_id": subsidiary.subsidiary_id,
            "tax_code": self.master.tax_codes[subsidiary.region].code,
            "currency": subsidiary.currency,
            "lines": [
                {"item_id": self.master.items[line["sku"]], "quantity": int(line["quantity"])}
                for line in payload["lines"]
            ],
            "total": int(payload["total"]),
            "status": "pendingFulfillment",
            "created_at": now,
        }
        keys = {
            "quote": order["quote_id"],
            "contract": order["contract_id"],
            "contract_version": order["contract_version"],
            "order": order_id,
        }
        booked = sorted([str(line["sku"]), int(line["quantity"])] for line in payload["lines"])
        money = {"total": order["total"], "currency": order["currency"], "lines": booked}
        self._create(
            "sales_order", order_id, order, keys, effect_key=order["quote_id"], values=money
        )
        self.orders_by_quote.setdefault(order["quote_id"], []).append(order_id)
        return {"order_id": order_id, "subsidiary_id": subsidiary.subsidiary_id}

    def op_upsert_contract(self, payload: Payload, now: float) -> Payload:
        """Create the contract, or move it to the given version (ERP does not guard versions)."""
        contract_id = payload["contract_id"]
        version = int(payload["contract_version"])
        fields = {
            "contract_id": contract_id,
            "contract_version": version,
            "customer_id": payload["customer_id"],
            "order_id": payload["order_id"],
            "lines": [dict(line) for line in payload["lines"]],
            "status": "active",
        }
        keys = {"contract": contract_id, "contract_version": version, "order": payload["order_id"]}
        held = _contract_values(fields)
        existing = self.table("contract").get(contract_id)
        if existing is not None:
            previous = {k: v for k, v in existing.items() if k in fields}
            previous["lines"] = tuple(tuple(line.items()) for line in previous["lines"])
            history = [*existing["_history"][1 - CONTRACT_HISTORY :], previous]
            self._update(
                "contract", contract_id, {**fields, "_history": history}, keys, values=held
            )
        else:
            self._create("contract", contract_id, {**fields, "_history": []}, keys, values=held)
        return {"contract_id": contract_id, "contract_version": version}

    def op_find_sales_orders(self, payload: Payload, now: float) -> Payload:
        """The quote's sales orders not cancelled (a saved search on the quote's external id)."""
        orders = self.table("sales_order")
        found = self.orders_by_quote.get(str(payload["quote_id"]), [])
        return {"order_ids": [o for o in found if orders[o]["status"] != "cancelled"]}

    def op_find_journal_entries(self, payload: Payload, now: float) -> Payload:
        """The journal entries posted for a billing document (a search on its external id):
        `{"source": "invoice" | "payment" | "credit_memo", "<source>_id": its id}`."""
        source = str(payload["source"])
        reference = payload.get(f"{source}_id")
        if reference is None:
            raise BusinessError("invalid_request", f"find_journal_entries: {source}_id is required")
        found = [
            entry_id
            for entry_id, entry in self.table("journal_entry").items()
            if entry["reference"] == reference and entry["source"] == source
        ]
        return {"journal_entry_ids": found}

    def op_cancel_sales_order(self, payload: Payload, now: float) -> Payload:
        """Compensation: cancel an order nothing downstream will bill."""
        order = self.get("sales_order", payload["order_id"], code="RCRD_DSNT_EXIST")
        if order["status"] == "cancelled":
            return {"order_id": order["order_id"], "status": "cancelled"}
        keys = {
            "order": order["order_id"],
            "quote": order["quote_id"],
            "contract": order["contract_id"],
        }
        self._update(
            "sales_order", order["order_id"], {"status": "cancelled"}, keys,
            values={"status": "cancelled"},
        )  # fmt: skip
        return {"order_id": order["order_id"], "status": "cancelled"}

    def op_revert_contract(self, payload: Payload, now: float) -> Payload:
        """Compensation: put the contract back to the version before `from_version`."""
        contract = self.get("contract", payload["contract_id"], code="RCRD_DSNT_EXIST")
        undo = int(payload["from_version"])
        if contract["contract_version"] != undo:  # already reverted, or moved on: nothing to do
            return {
                "contract_id": contract["contract_id"],
                "contract_version": contract["contract_version"],
            }
        history = list(contract["_history"])
        restored: dict[str, Any] = (
            dict(history.pop()) if history else {"contract_version": 0, "status": "void"}
        )
        if "lines" in restored:
            restored["lines"] = [dict(line) for line in restored["lines"]]
        version = int(restored["contract_version"])
        keys = {"contract": contract["contract_id"], "contract_version": version}
        self._update(
            "contract", contract["contract_id"], {**restored, "_history": history}, keys,
            change="reverted", values=_contract_values(restored),
        )  # fmt: skip
        return {"contract_id": contract["contract_id"], "contract_version": version}

    def op_get_contract(self, payload: Payload, now: float) -> Payload:
        return self.public(self.get("contract", payload["contract_id"], code="RCRD_DSNT_EXIST"))

    def op_get_customer(self, payload: Payload, now: float) -> Payload:
        customer_id = payload["customer_id"]
        if customer_id not in self.master.customers:
            raise BusinessError("RCRD_DSNT_EXIST", f"customer {customer_id} is not in ERP", 404)
        return {"customer_id": customer_id, "subsidiary_id": self.master.customers[customer_id]}

    def op_assign_subsidiary(self, payload: Payload, now: float) -> Payload:
        """Move a customer to another subsidiary: refused once it has a posting (OneWorld)."""
        customer_id, subsidiary_id = payload["customer_id"], payload["subsidiary_id"]
        if customer_id not in self.master.customers:
            raise BusinessError("RCRD_DSNT_EXIST", f"customer {customer_id} is not in ERP", 404)
        if subsidiary_id not in self.master.subsidiaries:
            raise BusinessError("INVALID_SUBSIDIARY", f"subsidiary {subsidiary_id} does not exist")
        if customer_id in self.posted_customers:
            raise BusinessError(
                "SUBSIDIARY_LOCKED",
                f"customer {customer_id} has postings; its subsidiary can no longer change",
            )
        customers = self.master.customers
        assert isinstance(customers, dict)
        customers[customer_id] = subsidiary_id
        return {"customer_id": customer_id, "subsidiary_id": subsidiary_id}

    # -- GL postings ---------------------------------------------------------------------

    def op_post_invoice(self, payload: Payload, now: float) -> Payload:
        """Debit receivables, credit deferred revenue, for a billing invoice."""
        return self._journal(payload, "invoice", ("accounts_receivable", "deferred_revenue"))

    def op_post_credit_memo(self, payload: Payload, now: float) -> Payload:
        """The reverse of an invoice posting, for a credit memo (or an invoice reversal)."""
        return self._journal(payload, "credit_memo", ("deferred_revenue", "accounts_receivable"))

    def op_post_payment(self, payload: Payload, now: float) -> Payload:
        """Debit cash, credit receivables, for a payment received against an invoice."""
        return self._journal(payload, "payment", ("cash", "accounts_receivable"))

    def _journal(self, payload: Payload, source: str, accounts: tuple[str, str]) -> Payload:
        customer_id = payload["customer_id"]
        subsidiary_id = self.master.customers.get(customer_id)
        if subsidiary_id is None:
            raise BusinessError("CUSTOMER_NOT_FOUND", f"customer {customer_id} is not in ERP")
        subsidiary = self.master.subsidiaries[subsidiary_id]
        if payload["currency"] != subsidiary.currency:
            raise BusinessError(
                "CURRENCY_MISMATCH",
                f"subsidiary {subsidiary_id} books in {subsidiary.currency}, "
                f"not {payload['currency']}",
            )
        tax_code = self.master.tax_codes.get(subsidiary.region)
        if tax_code is None or not tax_code.active:
            raise BusinessError(
                "TAX_CODE_MISSING" if tax_code is None else "TAX_CODE_INACTIVE",
                f"no active tax code for region {subsidiary.region}",
            )
        reference = payload[f"{source}_id"]
        amount = int(payload["amount"])
        if amount <= 0:
            raise BusinessError("INVALID_AMOUNT", f"a {source} posting needs a positive amount")
        entry_id = self.next_id("JE")
        debit, credit = accounts
        entry = {
            "journal_entry_id": entry_id,
            "source": source,
            "reference": reference,
            "customer_id": customer_id,
            "subsidiary_id": subsidiary_id,
            "tax_code": tax_code.code,
            "currency": subsidiary.currency,
            "lines": [
                {"account": debit, "debit": amount, "credit": 0},
                {"account": credit, "debit": 0, "credit": amount},
            ],
        }
        keys: dict[str, str | int] = {source: reference, "journal_entry": entry_id}
        if payload.get("contract_id") is not None:
            keys["contract"] = payload["contract_id"]
        posted = {"source": source, "reference": reference, "amount": amount,
                  "currency": subsidiary.currency}  # fmt: skip
        self._create("journal_entry", entry_id, entry, keys, f"{source}:{reference}", values=posted)
        self.posted_customers.add(customer_id)
        return {"journal_entry_id": entry_id, "subsidiary_id": subsidiary_id}


def _contract_values(contract: Mapping[str, Any]) -> dict[str, Any]:
    """What ERP's contract holds, as the history records it: its lines as sorted
    `[sku, quantity]`, and its status where it has one (a contract reverted to nothing is void)."""
    held: dict[str, Any] = {
        "lines": sorted(
            [str(line["sku"]), int(line["quantity"])] for line in contract.get("lines", ())
        )
    }
    if "status" in contract:
        held["status"] = contract["status"]
    return held
