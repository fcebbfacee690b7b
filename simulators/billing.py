"""Billing: subscriptions with terms, invoices, credit memos, payments and invoice reversal.

Shaped after Zuora's Orders API (vendor-behaviour.md): create, amend, renew and cancel
subscriptions; invoices for what a change bills (the first year plus one-time hardware on
activation, the prorated difference on an amendment, the next term on a renewal), a credit memo
when the difference is negative or a cancellation leaves unused time. Invoice reversal is refused
as Zuora refuses it: when the invoice is not posted, or a payment or a credit memo has been
applied to it. Billing does not know that contract versions are ordered: an old amendment
applied after a newer one overwrites it, as in the real system.

Events are callout notifications: the body carries a `notificationId` that stays the same
across the vendor's retries, beside the record's fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from simulators.base import BusinessError, IdempotencyRule, Payload, SystemOfRecord
from simulators.catalog import Catalog
from simulators.requests import CURRENCY, ID, LINES, MONEY, TERM, VERSION, Request, Text, request

YEAR_S = 365.25 * 24 * 3600
MONTH_S = YEAR_S / 12
SUBSCRIPTION_FIELDS = (
    "subscription_id", "contract_id", "contract_version", "customer_id", "currency", "lines",
    "status", "term_start", "term_end",
)  # fmt: skip


#: The events billing sends about a subscription's life; each carries it as it is now.
SUBSCRIPTION_EVENTS = (
    "subscription.activated", "subscription.amended", "subscription.renewed",
    "subscription.cancelled",
)  # fmt: skip


def price_id(sku: str, currency: str) -> str:
    """A product's price in one currency, named as a price book entry is."""
    return f"{sku}.{currency}"


#: An invoice is posted at once unless the request asks for a draft.
INVOICE_STATUS = Text(8, choices=("draft", "posted"))


class Billing(SystemOfRecord):
    name = "billing"
    reads = frozenset({"get_subscription", "get_invoice", "list_changes", "find_records"})
    archived = frozenset({"invoice", "credit_memo", "payment"})
    entities = frozenset({
        "customer", "product", "price", "subscription", "invoice", "credit_memo", "payment",
    })  # fmt: skip
    requests: ClassVar[Mapping[str, Request]] = {
        **SystemOfRecord.requests,
        "create_subscription": request(
            {
                "contract_id": ID,
                "contract_version": VERSION,
                "customer_id": ID,
                "currency": CURRENCY,
                "lines": LINES,
            },
            term_months=TERM,
            quote_id=ID,
            invoice_status=INVOICE_STATUS,
        ),
        "amend_subscription": request(
            {"contract_id": ID, "contract_version": VERSION, "lines": LINES},
            quote_id=ID,
            invoice_status=INVOICE_STATUS,
        ),
        "renew_subscription": request(
            {"contract_id": ID, "contract_version": VERSION},
            term_months=TERM,
            quote_id=ID,
            invoice_status=INVOICE_STATUS,
        ),
        "cancel_subscription": request(
            {"contract_id": ID, "contract_version": VERSION}, quote_id=ID
        ),
        "get_subscription": request({"contract_id": ID}),
        "post_invoice": request({"invoice_id": ID}),
        "apply_payment": request({"invoice_id": ID, "amount": MONEY}),
        "apply_credit_memo": request({"credit_memo_id": ID, "invoice_id": ID}),
        "reverse_invoice": request({"invoice_id": ID}),
        "get_invoice": request({"invoice_id": ID}),
        "create_customer": request(
            name=Text(256, 0), email=Text(256, 0), currency=CURRENCY, region=Text(16)
        ),
    }

    def __init__(
        self,
        catalog: Catalog,
        idempotency: IdempotencyRule | None = None,
        epoch: float = 0.0,
        accounts: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        super().__init__(idempotency, epoch)
        self.catalog = catalog
        self.by_contract: dict[str, list[str]] = {}  # contract id -> subscription ids
        #: The business's customers as billing accounts (synced from CRM before the run).
        self.accounts = accounts or {}

    def listing(self, entity: str) -> Mapping[str, Mapping[str, Any]] | None:
        """Besides its records: the accounts it was given, and the catalog as products and
        their prices (one per product and currency)."""
        if entity == "customer":
            return {**self.accounts, **self.records.get("customer", {})}
        if entity == "product":
            return {
                sku: {"sku": sku, "name": product.name, "kind": product.kind,
                      "recurring": product.recurring, "support_level": product.support_level}
                for sku, product in self.catalog.products.items()
            }  # fmt: skip
        if entity == "price":
            return {
                price_id(sku, currency): {"sku": sku, "currency": currency, "unit_amount": amount,
                                          "recurring": product.recurring}
                for sku, product in self.catalog.products.items()
                for currency, amount in product.prices.items()
            }  # fmt: skip
        return super().listing(entity)

    def op_create_customer(self, payload: Payload, now: float) -> Payload:
        """A billing account of its own (the business's are there already)."""
        customer_id = self.next_id("CUS")
        customer = {
            "name": payload.get("name", ""), "email": payload.get("email", ""),
            "currency": payload.get("currency"), "region": payload.get("region"),
        }  # fmt: skip
        self._create("customer", customer_id, customer, {"customer": customer_id})
        return {"customer_id": customer_id, **customer}

    def still_open(self, entity: str, record: Mapping[str, Any]) -> bool:
        """An invoice the customer still owes on stays."""
        return entity == "invoice" and record["status"] == "posted" and record["balance"] > 0

    def subscription_for(self, contract_id: str) -> dict[str, Any]:
        for subscription_id in self.by_contract.get(contract_id, ()):
            subscription = self.table("subscription")[subscription_id]
            if subscription["status"] == "active":
                return subscription
        raise BusinessError(
            "SUBSCRIPTION_NOT_FOUND", f"no active subscription for contract {contract_id}", 404
        )

    # -- subscription lifecycle --------------------------------------------------------

    def op_create_subscription(self, payload: Payload, now: float) -> Payload:
        lines = [dict(line) for line in payload["lines"]]
        currency = payload["currency"]
        self._require_priced(lines, currency)
        contract_id = payload["contract_id"]
        version = int(payload["contract_version"])
        subscription_id = self.next_id("SUB")
        term_months = int(payload.get("term_months", 36))
        subscription = {
            "subscription_id": subscription_id,
            "contract_id": contract_id,
            "contract_version": version,
            "customer_id": payload["customer_id"],
            "currency": currency,
            "lines": lines,
            "status": "active",
            "term_start": now,
            "term_end": now + term_months * MONTH_S,
            "term_months": term_months,
        }
        keys = self._keys(subscription, version)
        self._create(
            "subscription", subscription_id, subscription, keys, effect_key=contract_id,
            values=self._value(subscription),
        )  # fmt: skip
        self.by_contract.setdefault(contract_id, []).append(subscription_id)
        self._emit("subscription.activated", self._body(subscription), keys)
        amount = self.catalog.recurring_total(lines, currency)
        amount += self.catalog.one_time_total(lines, currency)
        document = self._bill(subscription, amount, payload, "activation")
        return {"subscription_id": subscription_id, "invoice_id": document}

    def op_amend_subscription(self, payload: Payload, now: float) -> Payload:
        subscription = self.subscription_for(payload["contract_id"])
        lines = [dict(line) for line in payload["lines"]]
        currency = subscription["currency"]
        self._require_priced(lines, currency)
        version = int(payload["contract_version"])
        old_lines = subscription["lines"]
        recurring_delta = self.catalog.recurring_total(lines, currency)
        recurring_delta -= self.catalog.recurring_total(old_lines, currency)
        hardware_added = max(
            0,
            self.catalog.one_time_total(lines, currency)
            - self.catalog.one_time_total(old_lines, currency),
        )
        amount = round(recurring_delta * self._year_left(subscription, now)) + hardware_added
        self._change(subscription, version, {"lines": lines}, "subscription.amended")
        document = self._bill(subscription, amount, payload, "amendment")
        return {"subscription_id": subscription["subscription_id"], "invoice_id": document}

    def op_renew_subscription(self, payload: Payload, now: float) -> Payload:
        """Extend the term; the next term's first year is invoiced now."""
        subscription = self.subscription_for(payload["contract_id"])
        version = int(payload["contract_version"])
        months = int(payload.get("term_months", subscription["term_months"]))
        fields = {"term_end": subscription["term_end"] + months * MONTH_S, "term_months": months}
        self._change(subscription, version, fields, "subscription.renewed")
        amount = self.catalog.recurring_total(subscription["lines"], subscription["currency"])
        document = self._bill(subscription, amount, payload, "renewal")
        return {"subscription_id": subscription["subscription_id"], "invoice_id": document}

    def op_cancel_subscription(self, payload: Payload, now: float) -> Payload:
        """Cancel now; the unused part of the current year is credited."""
        subscription = self.subscription_for(payload["contract_id"])
        version = int(payload["contract_version"])
        unused = self.catalog.recurring_total(subscription["lines"], subscription["currency"])
        credit = -round(unused * self._year_left(subscription, now))
        self._change(
            subscription,
            version,
            {"status": "cancelled", "term_end": now},
            "subscription.cancelled",
        )
        document = self._bill(subscription, credit, payload, "cancellation")
        return {"subscription_id": subscription["subscription_id"], "credit_memo_id": document}

    def op_get_subscription(self, payload: Payload, now: float) -> Payload:
        return dict(self.subscription_for(payload["contract_id"]))

    # -- invoices, credit memos, payments ----------------------------------------------

    def op_post_invoice(self, payload: Payload, now: float) -> Payload:
        invoice = self._invoice(payload["invoice_id"])
        if invoice["status"] != "draft":
            raise BusinessError(
                "INVALID_INVOICE_STATUS", f"invoice {invoice['invoice_id']} is {invoice['status']}"
            )
        self._update(
            "invoice", invoice["invoice_id"], {"status": "posted"}, self._document_keys(invoice),
            values={"status": "posted"},
        )  # fmt: skip
        self._emit("invoice.posted", self.public(invoice), self._document_keys(invoice))
        return {"invoice_id": invoice["invoice_id"], "status": "posted"}

    def op_apply_payment(self, payload: Payload, now: float) -> Payload:
        invoice = self._invoice(payload["invoice_id"])
        amount = int(payload["amount"])
        if invoice["status"] != "posted":
            raise BusinessError(
                "INVALID_INVOICE_STATUS", f"invoice {invoice['invoice_id']} is {invoice['status']}"
            )
        if not 0 < amount <= invoice["balance"]:
            raise BusinessError(
                "INVALID_PAYMENT_AMOUNT",
                f"payment of {amount} does not fit the balance {invoice['balance']}",
            )
        payment_id = self.next_id("P")
        keys = {**self._document_keys(invoice), "payment": payment_id}
        payment = {
            "payment_id": payment_id, "invoice_id": invoice["invoice_id"], "amount": amount,
            "currency": invoice["currency"], "customer_id": invoice["customer_id"],
        }  # fmt: skip
        self._create(
            "payment", payment_id, payment, keys, f"payment:{payment_id}",
            values={"amount": amount, "currency": invoice["currency"]},
        )  # fmt: skip
        balance = invoice["balance"] - amount
        fields = {"balance": balance, "payments_applied": invoice["payments_applied"] + amount}
        self._update("invoice", invoice["invoice_id"], fields, keys)
        self._emit("payment.posted", {**payment, "invoice_balance": balance}, keys)
        return {"payment_id": payment_id, "invoice_balance": balance}

    def op_apply_credit_memo(self, payload: Payload, now: float) -> Payload:
        memo = self.get("credit_memo", payload["credit_memo_id"], code="CREDIT_MEMO_NOT_FOUND")
        invoice = self._invoice(payload["invoice_id"])
        if invoice["status"] != "posted":
            raise BusinessError(
                "INVALID_INVOICE_STATUS", f"invoice {invoice['invoice_id']} is {invoice['status']}"
            )
        applied = min(memo["balance"], invoice["balance"])
        if applied <= 0:
            raise BusinessError("NOTHING_TO_APPLY", "the credit memo or the invoice has no balance")
        keys = self._document_keys(invoice)
        self._update(
            "credit_memo", memo["credit_memo_id"], {"balance": memo["balance"] - applied}, keys
        )
        fields = {
            "balance": invoice["balance"] - applied,
            "credits_applied": invoice["credits_applied"] + applied,
        }
        self._update("invoice", invoice["invoice_id"], fields, keys)
        return {"applied": applied, "invoice_balance": invoice["balance"]}

    def op_reverse_invoice(self, payload: Payload, now: float) -> Payload:
        """A full credit memo against the invoice, refused as Zuora refuses it."""
        invoice = self._invoice(payload["invoice_id"])
        if invoice["status"] != "posted":
            raise BusinessError(
                "INVOICE_NOT_POSTED",
                f"invoice {invoice['invoice_id']} is {invoice['status']}, not posted",
            )
        if invoice["payments_applied"] > 0:
            raise BusinessError(
                "PAYMENT_APPLIED", f"a payment is applied to invoice {invoice['invoice_id']}"
            )
        if invoice["credits_applied"] > 0:
            raise BusinessError(
                "CREDIT_MEMO_APPLIED",
                f"a credit memo is applied to invoice {invoice['invoice_id']}",
            )
        keys = self._document_keys(invoice)
        memo_id = self._document(
            "credit_memo",
            "CM",
            invoice,
            invoice["amount"],
            f"reversal:{invoice['invoice_id']}",
            keys,
            "reversal",
        )
        self._update(
            "invoice", invoice["invoice_id"], {"status": "reversed", "balance": 0}, keys,
            values={"status": "reversed"},
        )  # fmt: skip
        self._emit(
            "invoice.reversed",
            {**self.public(invoice), "credit_memo_id": memo_id},
            {**keys, "credit_memo": memo_id},
        )
        return {"invoice_id": invoice["invoice_id"], "credit_memo_id": memo_id}

    def op_get_invoice(self, payload: Payload, now: float) -> Payload:
        return dict(self._invoice(payload["invoice_id"]))

    # -- helpers -----------------------------------------------------------------------

    def _change(
        self, subscription: dict[str, Any], version: int, fields: Mapping[str, Any], event: str
    ) -> None:
        keys = self._keys(subscription, version)
        fields = {**fields, "contract_version": version}
        values = self._value({**subscription, **fields})
        self._update("subscription", subscription["subscription_id"], fields, keys, values=values)
        self._emit(event, self._body(subscription), keys)

    def _value(self, subscription: Mapping[str, Any]) -> dict[str, Any]:
        """What a subscription holds, as the history records it: its lines at billing's prices
        (worth nothing once cancelled), as a quote totals them, its status and its term."""
        currency = subscription["currency"]
        lines = [] if subscription["status"] == "cancelled" else subscription["lines"]
        total = self.catalog.recurring_total(lines, currency)
        total += self.catalog.one_time_total(lines, currency)
        return {
            "total": total, "currency": currency,
            "lines": self.catalog.priced_lines(lines, currency),
            "status": subscription["status"], "term_start": round(subscription["term_start"], 3),
            "term_end": round(subscription["term_end"], 3),
        }  # fmt: skip

    @staticmethod
    def _year_left(subscription: Mapping[str, Any], now: float) -> float:
        return 1.0 - ((now - float(subscription["term_start"])) % YEAR_S) / YEAR_S

    def _require_priced(self, lines: list[dict[str, Any]], currency: str) -> None:
        for line in lines:
            product = self.catalog.products.get(line["sku"])
            if product is None or currency not in product.prices:
                raise BusinessError(
                    "RATE_PLAN_NOT_FOUND", f"no {currency} rate plan for product {line['sku']}"
                )

    def _invoice(self, invoice_id: str) -> dict[str, Any]:
        return self.get("invoice", invoice_id, code="INVOICE_NOT_FOUND")

    def _bill(
        self, subscription: Mapping[str, Any], amount: int, request: Payload, reason: str
    ) -> str | None:
        """An invoice for a positive amount, a credit memo for a negative one, nothing for 0.
        Its business effect is the contract version billed for a reason (activation, amendment,
        renewal, cancellation): a renewal that follows its version's amendment bills twice."""
        if amount == 0:
            return None
        version = subscription["contract_version"]
        keys = self._keys(subscription, version)
        if request.get("quote_id") is not None:
            keys["quote"] = str(request["quote_id"])
        effect_key = f"{subscription['contract_id']}:v{version}:{reason}"
        if amount < 0:
            return self._document(
                "credit_memo", "CM", subscription, -amount, effect_key, keys, reason
            )
        status = "draft" if request.get("invoice_status") == "draft" else "posted"
        invoice_id = self._document(
            "invoice", "INV", subscription, amount, effect_key, keys, reason, status
        )
        if status == "posted":
            invoice = self.table("invoice")[invoice_id]
            self._emit("invoice.posted", self.public(invoice), self._document_keys(invoice))
        return invoice_id

    def _document(
        self,
        entity: str,
        prefix: str,
        source: Mapping[str, Any],
        amount: int,
        effect_key: str,
        keys: Mapping[str, str | int],
        reason: str,
        status: str = "posted",
    ) -> str:
        """A credit memo or an invoice, `reason` what it is for (activation, amendment,
        renewal, cancellation, reversal), as the history records it."""
        document_id = self.next_id(prefix)
        document = {
            f"{entity}_id": document_id,
            "subscription_id": source["subscription_id"],
            "contract_id": source["contract_id"],
            "contract_version": source["contract_version"],
            "customer_id": source["customer_id"],
            "currency": source["currency"],
            "amount": amount,
            "balance": amount,
            "status": status,
            "payments_applied": 0,
            "credits_applied": 0,
        }
        held = {"amount": amount, "currency": source["currency"], "status": status,
                "reason": reason}  # fmt: skip
        self._create(
            entity, document_id, document, {**keys, entity: document_id}, effect_key, values=held
        )
        return document_id

    @staticmethod
    def _keys(subscription: Mapping[str, Any], version: int) -> dict[str, str | int]:
        return {
            "contract": subscription["contract_id"],
            "contract_version": version,
            "subscription": subscription["subscription_id"],
        }

    def _document_keys(self, invoice: Mapping[str, Any]) -> dict[str, str | int]:
        keys = self._keys(invoice, invoice["contract_version"])
        keys["invoice"] = invoice["invoice_id"]
        return keys

    def _body(self, subscription: Mapping[str, Any]) -> dict[str, Any]:
        """A subscription as its events carry it: each line with the support level its rate
        plan grants, if any, so the integration can keep support's entitlement in step."""
        body = {key: subscription[key] for key in SUBSCRIPTION_FIELDS}
        body["lines"] = [self._described(line) for line in body["lines"]]
        return body

    def _described(self, line: Mapping[str, Any]) -> dict[str, Any]:
        level = (
            self.catalog.product(line["sku"]).support_level if line["sku"] in self.catalog else None
        )
        return {**line, "support_level": level} if level is not None else dict(line)

    def _envelope(self, event_type: str, event_id: str, payload: Payload, now: float) -> Payload:
        return {"notificationId": event_id, "eventType": event_type, **payload}
