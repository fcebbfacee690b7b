"""Billing: subscriptions, amendments, invoices and credit memos; emits lifecycle events.

Shaped after Zuora's Orders API (vendor-behaviour.md): CreateSubscription and amendments by
order action; invoices posted at once for what the change bills (first year plus one-time
hardware on activation, the prorated difference on an amendment; a decrease becomes a credit
memo). Billing does not know contract versions are ordered: an old amendment applied after a
newer one overwrites it, as in the real system. Guarding that is the integration's job.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from simulators.base import BusinessError, IdempotencyRule, Payload, SystemOfRecord
from simulators.catalog import Catalog

YEAR_S = 365.25 * 24 * 3600
MONTH_S = YEAR_S / 12


class Billing(SystemOfRecord):
    name = "billing"

    def __init__(self, catalog: Catalog, idempotency: IdempotencyRule | None = None) -> None:
        super().__init__(idempotency)
        self.catalog = catalog
        self.by_contract: dict[str, list[str]] = {}  # contract id -> subscription ids

    def subscription_for(self, contract_id: str) -> dict[str, Any]:
        for subscription_id in self.by_contract.get(contract_id, ()):
            subscription = self.table("subscription")[subscription_id]
            if subscription["status"] == "active":
                return subscription
        raise BusinessError(
            "SUBSCRIPTION_NOT_FOUND",
            f"no active subscription for contract {contract_id}",
            status=404,
        )

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
        }
        keys = {
            "contract": contract_id,
            "contract_version": version,
            "subscription": subscription_id,
        }
        self._create("subscription", subscription_id, subscription, keys, effect_key=contract_id)
        self.by_contract.setdefault(contract_id, []).append(subscription_id)
        self._emit("subscription.activated", self._event_body(subscription), keys)
        amount = self.catalog.recurring_total(lines, currency) + self.catalog.one_time_total(
            lines, currency
        )
        invoice_id = self._bill(subscription, amount, payload.get("quote_id"))
        return {"subscription_id": subscription_id, "invoice_id": invoice_id}

    def op_amend_subscription(self, payload: Payload, now: float) -> Payload:
        subscription = self.subscription_for(payload["contract_id"])
        lines = [dict(line) for line in payload["lines"]]
        currency = subscription["currency"]
        self._require_priced(lines, currency)
        version = int(payload["contract_version"])
        old_lines = subscription["lines"]
        recurring_delta = self.catalog.recurring_total(
            lines, currency
        ) - self.catalog.recurring_total(old_lines, currency)
        period_left = 1.0 - ((now - subscription["term_start"]) % YEAR_S) / YEAR_S
        hardware_added = max(
            0,
            self.catalog.one_time_total(lines, currency)
            - self.catalog.one_time_total(old_lines, currency),
        )
        amount = round(recurring_delta * period_left) + hardware_added
        keys = {
            "contract": subscription["contract_id"],
            "contract_version": version,
            "subscription": subscription["subscription_id"],
        }
        self._update(
            "subscription",
            subscription["subscription_id"],
            {"lines": lines, "contract_version": version},
            keys,
        )
        self._emit("subscription.amended", self._event_body(subscription), keys)
        document_id = self._bill(subscription, amount, payload.get("quote_id"))
        return {"subscription_id": subscription["subscription_id"], "invoice_id": document_id}

    def op_get_subscription(self, payload: Payload, now: float) -> Payload:
        return dict(self.subscription_for(payload["contract_id"]))

    def _require_priced(self, lines: list[dict[str, Any]], currency: str) -> None:
        for line in lines:
            product = self.catalog.products.get(line["sku"])
            if product is None or currency not in product.prices:
                raise BusinessError(
                    "RATE_PLAN_NOT_FOUND", f"no {currency} rate plan for product {line['sku']}"
                )

    def _bill(self, subscription: Mapping[str, Any], amount: int, quote_id: Any) -> str | None:
        """Post an invoice for a positive amount, a credit memo for a negative one."""
        if amount == 0:
            return None
        entity, prefix = ("invoice", "INV") if amount > 0 else ("credit_memo", "CM")
        document_id = self.next_id(prefix)
        version = subscription["contract_version"]
        keys: dict[str, str | int] = {
            "contract": subscription["contract_id"],
            "contract_version": version,
            "subscription": subscription["subscription_id"],
            entity: document_id,
        }
        if quote_id is not None:
            keys["quote"] = str(quote_id)
        document = {
            f"{entity}_id": document_id,
            "subscription_id": subscription["subscription_id"],
            "contract_id": subscription["contract_id"],
            "contract_version": version,
            "currency": subscription["currency"],
            "amount": abs(amount),
            "status": "posted",
        }
        effect_key = f"{subscription['contract_id']}:v{version}"
        self._create(entity, document_id, document, keys, effect_key=effect_key)
        if entity == "invoice":
            self._emit("invoice.posted", dict(document), keys)
        return document_id

    @staticmethod
    def _event_body(subscription: Mapping[str, Any]) -> dict[str, Any]:
        return {
            key: subscription[key]
            for key in (
                "subscription_id", "contract_id", "contract_version", "customer_id", "lines",
                "status",
            )
        }  # fmt: skip
