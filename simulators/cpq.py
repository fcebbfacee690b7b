"""CPQ: quotes, quote versions per contract, approvals; emits `quote.approved`.

Shaped after Salesforce CPQ (vendor-behaviour.md): a new-business quote opens a contract; an
amendment is a new quote for the same contract with the next contract version, carrying the
contract's full target lines. Approval is what the integration reacts to.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from simulators.base import BusinessError, IdempotencyRule, Payload, SystemOfRecord
from simulators.catalog import Catalog


class CPQ(SystemOfRecord):
    name = "cpq"

    def __init__(
        self,
        catalog: Catalog,
        accounts: Mapping[str, Mapping[str, Any]],
        idempotency: IdempotencyRule | None = None,
    ) -> None:
        super().__init__(idempotency)
        self.catalog = catalog
        self.accounts = accounts  # customer id -> {"currency": ..., "region": ...}
        self.contract_ids: list[str] = []  # in creation order, for deterministic picking

    def latest_quote(self, contract_id: str) -> dict[str, Any]:
        contract = self.get("contract", contract_id)
        return self.get("quote", contract["latest_quote_id"])

    def op_create_quote(self, payload: Payload, now: float) -> Payload:
        """New business when `contract_id` is absent; otherwise an amendment of that contract."""
        lines = [
            {"sku": line["sku"], "quantity": int(line["quantity"])} for line in payload["lines"]
        ]
        for line in lines:
            if line["sku"] not in self.catalog:
                raise BusinessError(
                    "INVALID_SKU", f"product {line['sku']!r} is not in the price book"
                )
            if line["quantity"] <= 0:
                raise BusinessError(
                    "INVALID_QUANTITY", f"quantity of {line['sku']} must be positive"
                )
        contract_id = payload.get("contract_id")
        if contract_id is None:
            customer_id = payload["customer_id"]
            if customer_id not in self.accounts:
                raise BusinessError("INVALID_ACCOUNT", f"account {customer_id!r} does not exist")
            version = 1
        else:
            contract = self.get("contract", contract_id, code="INVALID_CONTRACT")
            customer_id = contract["customer_id"]
            version = contract["latest_version"] + 1
        currency = self.accounts[customer_id]["currency"]
        quote_id = self.next_id("Q")
        if contract_id is None:
            contract_id = self.next_id("CT")
            self._create(
                "contract",
                contract_id,
                {"customer_id": customer_id, "latest_version": 1, "latest_quote_id": quote_id},
                {"contract": contract_id, "customer": customer_id},
            )
            self.contract_ids.append(contract_id)
        else:
            self._update(
                "contract",
                contract_id,
                {"latest_version": version, "latest_quote_id": quote_id},
                {"contract": contract_id, "contract_version": version},
            )
        quote = {
            "quote_id": quote_id,
            "contract_id": contract_id,
            "contract_version": version,
            "customer_id": customer_id,
            "currency": currency,
            "lines": lines,
            "total": self.catalog.total(lines, currency),
            "status": "draft",
            "amendment": version > 1,
            "term_months": int(payload.get("term_months", 36)),
        }
        self._create("quote", quote_id, quote, self._keys(quote))
        return {"quote_id": quote_id, "contract_id": contract_id, "contract_version": version}

    def op_approve_quote(self, payload: Payload, now: float) -> Payload:
        quote = self.get("quote", payload["quote_id"], code="INVALID_QUOTE")
        if quote["status"] != "draft":
            raise BusinessError("INVALID_STATUS", f"quote {quote['quote_id']} is {quote['status']}")
        self._update("quote", quote["quote_id"], {"status": "approved"}, self._keys(quote))
        event = {
            key: quote[key]
            for key in (
                "quote_id", "contract_id", "contract_version", "customer_id", "currency",
                "total", "amendment", "term_months",
            )
        }  # fmt: skip
        event["lines"] = [
            {**line, "kind": self.catalog.product(line["sku"]).kind} for line in quote["lines"]
        ]
        self._emit("quote.approved", event, self._keys(quote))
        return {"quote_id": quote["quote_id"], "status": "approved"}

    def op_get_quote(self, payload: Payload, now: float) -> Payload:
        return dict(self.get("quote", payload["quote_id"], code="INVALID_QUOTE"))

    @staticmethod
    def _keys(quote: Mapping[str, Any]) -> dict[str, str | int]:
        return {
            "quote": quote["quote_id"],
            "contract": quote["contract_id"],
            "contract_version": quote["contract_version"],
            "customer": quote["customer_id"],
        }
