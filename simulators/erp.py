"""ERP: master data (legal entities, customers, item mappings, tax codes), sales orders, contracts.

Authoritative for financial controls and master data (seed document). Shaped after NetSuite
OneWorld (vendor-behaviour.md): a customer transacts only in its subsidiary; every line needs an
item mapped from the CPQ SKU; every order needs an active tax code for its region. An order that
breaks any rule is refused whole, as ERPs do, and nothing is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from simulators.base import BusinessError, IdempotencyRule, Payload, SystemOfRecord


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


class ERP(SystemOfRecord):
    name = "erp"

    def __init__(self, master: MasterData, idempotency: IdempotencyRule | None = None) -> None:
        super().__init__(idempotency)
        self.master = master

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
        self._create("sales_order", order_id, order, keys, effect_key=order["quote_id"])
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
        }
        keys = {"contract": contract_id, "contract_version": version, "order": payload["order_id"]}
        if contract_id in self.table("contract"):
            self._update("contract", contract_id, fields, keys)
        else:
            self._create("contract", contract_id, fields, keys)
        return {"contract_id": contract_id, "contract_version": version}

    def op_get_contract(self, payload: Payload, now: float) -> Payload:
        return dict(self.get("contract", payload["contract_id"], code="RCRD_DSNT_EXIST"))
