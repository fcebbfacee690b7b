"""Support: entitlements per contract version with validity dates, cases and escalations.

Shaped after ServiceNow / Service Cloud entitlements (vendor-behaviour.md): one entitlement per
contract whose every upsert writes a new revision (the agent-visible history, and the customer
notice that goes with it), so writing one contract version twice is a duplicate business effect.
An entitlement is valid from its start to its end date and until cancelled. A case records what
the agent could see when it was opened ("is this customer entitled now?"); escalating a case
emits `case.escalated`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from simulators.base import BusinessError, IdempotencyRule, Payload, SystemOfRecord
from simulators.requests import ID, SECONDS, VERSION, Request, Text, Whole, request

LEVELS = ("none", "standard", "premium")
SEVERITIES = (1, 2, 3, 4)


class Support(SystemOfRecord):
    name = "support"
    reads = frozenset({"check_entitlement", "get_entitlement", "get_case", "find_records"})
    entities = frozenset({"customer", "entitlement", "case"})
    archived = frozenset({"case"})
    requests: ClassVar[Mapping[str, Request]] = {
        **SystemOfRecord.requests,
        "upsert_entitlement": request(
            {"contract_id": ID, "contract_version": VERSION, "customer_id": ID, "level": Text(32)},
            valid_from=SECONDS,
            valid_to=SECONDS,
            covered_units=Whole(0, 10**9),
        ),
        "cancel_entitlement": request({"contract_id": ID, "contract_version": VERSION}),
        "get_entitlement": request({"contract_id": ID}),
        "check_entitlement": request({"customer_id": ID}, at=SECONDS),
        "open_case": request({"customer_id": ID}, severity=Whole(1, 4), subject=Text(1000, 0)),
        "escalate_case": request({"case_id": ID}, reason=Text(1000, 0)),
        "close_case": request({"case_id": ID}),
        "get_case": request({"case_id": ID}),
    }

    def __init__(
        self,
        idempotency: IdempotencyRule | None = None,
        epoch: float = 0.0,
        accounts: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        super().__init__(idempotency, epoch)
        #: The business's customers, as support's organizations (synced from CRM).
        self.accounts = accounts or {}
        self.by_contract: dict[str, str] = {}  # contract id -> entitlement id
        self.by_customer: dict[str, list[str]] = {}  # customer id -> entitlement ids

    def listing(self, entity: str) -> Mapping[str, Mapping[str, Any]] | None:
        """Besides its records: the customers it serves."""
        return self.accounts if entity == "customer" else super().listing(entity)

    # -- entitlements ------------------------------------------------------------------

    def op_upsert_entitlement(self, payload: Payload, now: float) -> Payload:
        contract_id = payload["contract_id"]
        version = int(payload["contract_version"])
        level = payload["level"]
        if level not in LEVELS:
            raise BusinessError("INVALID_LEVEL", f"unknown entitlement level {level!r}")
        valid_from = float(payload.get("valid_from", now))
        valid_to = float(payload.get("valid_to", valid_from + 3 * 365.25 * 86400))
        if valid_to <= valid_from:
            raise BusinessError("INVALID_DATES", "an entitlement must end after it starts")
        fields: dict[str, Any] = {
            "contract_id": contract_id,
            "contract_version": version,
            "customer_id": payload["customer_id"],
            "level": level,
            "covered_units": int(payload.get("covered_units", 0)),
            "valid_from": valid_from,
            "valid_to": valid_to,
            "status": "active",
        }
        effect_key = f"{contract_id}:v{version}"
        held = _held(fields)
        entitlement_id = self.by_contract.get(contract_id)
        if entitlement_id is None:
            entitlement_id = self.next_id("ENT")
            self._create(
                "entitlement",
                entitlement_id,
                fields,
                self._keys(fields, entitlement_id),
                effect_key,
                values=held,
            )
            self.by_contract[contract_id] = entitlement_id
            self.by_customer.setdefault(payload["customer_id"], []).append(entitlement_id)
        else:
            self._update(
                "entitlement",
                entitlement_id,
                fields,
                self._keys(fields, entitlement_id),
                effect_key,
                values=held,
            )
        return {"entitlement_id": entitlement_id, "contract_version": version}

    def op_cancel_entitlement(self, payload: Payload, now: float) -> Payload:
        contract_id = payload["contract_id"]
        entitlement_id = self.by_contract.get(contract_id)
        if entitlement_id is None:
            raise BusinessError(
                "ENTITLEMENT_NOT_FOUND", f"no entitlement for contract {contract_id}", 404
            )
        version = int(payload["contract_version"])
        fields = {"status": "cancelled", "valid_to": now, "contract_version": version}
        record = self.table("entitlement")[entitlement_id]
        keys = self._keys({**record, **fields}, entitlement_id)
        self._update(
            "entitlement", entitlement_id, fields, keys, f"{contract_id}:v{version}",
            values=_held({**record, **fields}),
        )  # fmt: skip
        return {"entitlement_id": entitlement_id, "status": "cancelled"}

    def op_get_entitlement(self, payload: Payload, now: float) -> Payload:
        """A contract's entitlement as support holds it now (its version included)."""
        entitlement_id = self.by_contract.get(payload["contract_id"])
        if entitlement_id is None:
            raise BusinessError(
                "ENTITLEMENT_NOT_FOUND",
                f"no entitlement for contract {payload['contract_id']}",
                404,
            )
        return {
            "entitlement_id": entitlement_id,
            **self.public(self.table("entitlement")[entitlement_id]),
        }

    def op_check_entitlement(self, payload: Payload, now: float) -> Payload:
        """The agent's question: the best level any of the customer's contracts grants now."""
        return self._entitled(payload["customer_id"], float(payload.get("at", now)))

    # -- cases -------------------------------------------------------------------------

    def op_open_case(self, payload: Payload, now: float) -> Payload:
        severity = int(payload.get("severity", 3))
        if severity not in SEVERITIES:
            raise BusinessError("INVALID_SEVERITY", f"severity must be 1 to 4, not {severity}")
        customer_id = payload["customer_id"]
        entitled = self._entitled(customer_id, now)
        case_id = self.next_id("CS")
        case = {
            "case_id": case_id,
            "customer_id": customer_id,
            "subject": str(payload.get("subject", "")),
            "severity": severity,
            "status": "new",
            "entitled": entitled["entitled"],
            "entitlement_level": entitled["level"],
            "contract_id": entitled["contract_id"],
            "opened_at": now,
        }
        keys: dict[str, str | int] = {"case": case_id, "customer": customer_id}
        if entitled["contract_id"] is not None:
            keys["contract"] = entitled["contract_id"]
        # The entitlement the agent saw, for judging it against what the customer is owed.
        seen = {"entitled": entitled["entitled"], "level": entitled["level"]}
        if entitled["contract_id"] is not None:
            seen["contract_version"] = entitled["contract_version"]
        self._create("case", case_id, case, keys, f"case:{case_id}", values=seen)
        return {"case_id": case_id, "entitled": entitled["entitled"], "level": entitled["level"]}

    def op_escalate_case(self, payload: Payload, now: float) -> Payload:
        case = self.get("case", payload["case_id"], code="CASE_NOT_FOUND")
        if case["status"] in ("escalated", "closed"):
            raise BusinessError(
                "INVALID_CASE_STATUS", f"case {case['case_id']} is {case['status']}"
            )
        keys = {"case": case["case_id"], "customer": case["customer_id"]}
        reason = str(payload.get("reason", ""))
        self._update(
            "case", case["case_id"], {"status": "escalated", "escalation_reason": reason}, keys
        )
        self._emit("case.escalated", {**self.public(case), "escalation_reason": reason}, keys)
        return {"case_id": case["case_id"], "status": "escalated"}

    def op_close_case(self, payload: Payload, now: float) -> Payload:
        case = self.get("case", payload["case_id"], code="CASE_NOT_FOUND")
        if case["status"] == "closed":
            raise BusinessError("INVALID_CASE_STATUS", f"case {case['case_id']} is closed")
        keys = {"case": case["case_id"], "customer": case["customer_id"]}
        self._update("case", case["case_id"], {"status": "closed", "closed_at": now}, keys)
        return {"case_id": case["case_id"], "status": "closed"}

    def op_get_case(self, payload: Payload, now: float) -> Payload:
        return self.public(self.get("case", payload["case_id"], code="CASE_NOT_FOUND"))

    # -- helpers -----------------------------------------------------------------------

    def _entitled(self, customer_id: str, at: float) -> dict[str, Any]:
        best: dict[str, Any] = {"entitled": False, "level": "none", "contract_id": None}
        for entitlement_id in self.by_customer.get(customer_id, ()):
            entitlement = self.table("entitlement")[entitlement_id]
            valid = entitlement["status"] == "active" and (
                entitlement["valid_from"] <= at < entitlement["valid_to"]
            )
            if valid and LEVELS.index(entitlement["level"]) > LEVELS.index(best["level"]):
                best = {
                    "entitled": True,
                    "level": entitlement["level"],
                    "contract_id": entitlement["contract_id"],
                    "contract_version": entitlement["contract_version"],
                }
        return best

    @staticmethod
    def _keys(fields: dict[str, Any], entitlement_id: str) -> dict[str, str | int]:
        return {
            "contract": fields["contract_id"],
            "contract_version": fields["contract_version"],
            "entitlement": entitlement_id,
        }


def _held(entitlement: Mapping[str, Any]) -> dict[str, Any]:
    """What an entitlement grants, as the history records it: level, units and status."""
    return {
        "level": entitlement["level"],
        "covered_units": entitlement["covered_units"],
        "status": entitlement["status"],
    }
