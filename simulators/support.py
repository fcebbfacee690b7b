"""Support: entitlements per contract, versioned; answers "is this customer entitled now?".

Shaped after ServiceNow / Service Cloud entitlements (vendor-behaviour.md): one entitlement per
contract, whose every upsert writes a new revision (the agent-visible history, and the customer
notification that goes with it). Writing the same contract version twice is therefore a
duplicate business effect, which only an idempotency key or the caller's own care prevents.
"""

from __future__ import annotations

from typing import Any

from simulators.base import BusinessError, IdempotencyRule, Payload, SystemOfRecord


class Support(SystemOfRecord):
    name = "support"

    def __init__(self, idempotency: IdempotencyRule | None = None) -> None:
        super().__init__(idempotency)
        self.by_contract: dict[str, str] = {}  # contract id -> entitlement id
        self.by_customer: dict[str, list[str]] = {}  # customer id -> entitlement ids

    def op_upsert_entitlement(self, payload: Payload, now: float) -> Payload:
        contract_id = payload["contract_id"]
        version = int(payload["contract_version"])
        level = payload["level"]
        if level not in ("none", "standard", "premium"):
            raise BusinessError("INVALID_LEVEL", f"unknown entitlement level {level!r}")
        fields: dict[str, Any] = {
            "contract_id": contract_id,
            "contract_version": version,
            "customer_id": payload["customer_id"],
            "level": level,
            "covered_units": int(payload.get("covered_units", 0)),
            "valid_from": now,
        }
        effect_key = f"{contract_id}:v{version}"
        entitlement_id = self.by_contract.get(contract_id)
        if entitlement_id is None:
            entitlement_id = self.next_id("ENT")
            keys = {
                "contract": contract_id,
                "contract_version": version,
                "entitlement": entitlement_id,
            }
            self._create("entitlement", entitlement_id, fields, keys, effect_key=effect_key)
            self.by_contract[contract_id] = entitlement_id
            self.by_customer.setdefault(payload["customer_id"], []).append(entitlement_id)
        else:
            keys = {
                "contract": contract_id,
                "contract_version": version,
                "entitlement": entitlement_id,
            }
            self._update("entitlement", entitlement_id, fields, keys, effect_key=effect_key)
        return {"entitlement_id": entitlement_id, "contract_version": version}

    def op_check_entitlement(self, payload: Payload, now: float) -> Payload:
        """The agent's question: the best level any of the customer's contracts grants now."""
        best: dict[str, Any] = {"entitled": False, "level": "none", "contract_id": None}
        rank = {"none": 0, "standard": 1, "premium": 2}
        for entitlement_id in self.by_customer.get(payload["customer_id"], ()):
            entitlement = self.table("entitlement")[entitlement_id]
            if rank[entitlement["level"]] > rank[best["level"]]:
                best = {
                    "entitled": True,
                    "level": entitlement["level"],
                    "contract_id": entitlement["contract_id"],
                    "contract_version": entitlement["contract_version"],
                }
        return best
