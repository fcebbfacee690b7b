"""CPQ: quotes and quote lines, approvals, amendments, renewals and cancellations of contracts.

Shaped after Salesforce CPQ (vendor-behaviour.md). A new-business quote opens a contract; an
amendment, renewal or cancellation is a new quote for that contract with the next contract
version, carrying the contract's full target lines (a cancellation carries none). Advanced
Approvals: one approval row per approver, and the quote is approved when every row is.

Events are Change Data Capture on the quote object: a `ChangeEventHeader` (entityName,
recordIds, changeType, changedFields, transactionKey, sequenceNumber, commitTimestamp) beside
the quote's fields. Quote states follow TM Forum TMF648: draft, inProgress, approved,
rejected, cancelled.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from simulators.base import BusinessError, IdempotencyRule, Payload, SystemOfRecord
from simulators.catalog import Catalog
from simulators.requests import ID, LIMIT, LINES, SECONDS, TERM, Request, Text, Texts, request

QUOTE_OBJECT = "SBQQ__Quote__c"
EXTERNAL_ID = Text(255)
EVENT_FIELDS = (
    "quote_id", "quote_type", "contract_id", "contract_version", "customer_id", "region",
    "currency", "total", "amendment", "term_months",
)  # fmt: skip


class CPQ(SystemOfRecord):
    name = "cpq"
    reads = frozenset({
        "get_quote", "get_contract", "list_changes", "find_approved_quotes", "find_records",
    })  # fmt: skip
    entities = frozenset({"quote", "quote_line", "contract", "approval", "account"})
    archived = frozenset({"quote", "quote_line", "approval"})
    requests: ClassVar[Mapping[str, Request]] = {
        **SystemOfRecord.requests,
        # New business names the customer; an amendment names the contract instead.
        # `external_id`: the caller's unique key for the quote (a Salesforce External ID field);
        # a quote that already has it is answered again, unchanged (an upsert that finds it).
        "create_quote": request(
            {"lines": LINES},
            customer_id=ID,
            contract_id=ID,
            term_months=TERM,
            external_id=EXTERNAL_ID,
        ),
        "amend_contract": request(
            {"contract_id": ID, "lines": LINES}, term_months=TERM, external_id=EXTERNAL_ID
        ),
        "renew_contract": request({"contract_id": ID}, term_months=TERM, external_id=EXTERNAL_ID),
        "cancel_contract": request({"contract_id": ID}, external_id=EXTERNAL_ID),
        "cancel_quote": request({"quote_id": ID}),
        "get_quote": request({"quote_id": ID}),
        "find_approved_quotes": request(after=SECONDS, before=SECONDS, limit=LIMIT),
        "get_contract": request({"contract_id": ID}),
        "submit_for_approval": request({"quote_id": ID}, approvers=Texts()),
        "approve_quote": request({"quote_id": ID}, approver=Text(128)),
        "reject_quote": request({"quote_id": ID}, approver=Text(128)),
    }

    def __init__(
        self,
        catalog: Catalog,
        accounts: Mapping[str, Mapping[str, Any]],
        idempotency: IdempotencyRule | None = None,
        epoch: float = 0.0,
    ) -> None:
        super().__init__(idempotency, epoch)
        self.catalog = catalog
        self.accounts = accounts  # customer id -> {"currency": ..., "region": ...}
        self.contract_ids: list[str] = []  # in creation order, for deterministic picking
        self.by_external_id: dict[str, str] = {}  # a caller's key -> quote id
        self._sequence = 0

    def listing(self, entity: str) -> Mapping[str, Mapping[str, Any]] | None:
        """Besides its records: the CRM accounts it sells to."""
        return self.accounts if entity == "account" else super().listing(entity)

    def latest_quote(self, contract_id: str) -> dict[str, Any]:
        contract = self.get("contract", contract_id)
        return self.get("quote", contract["latest_quote_id"])

    def still_open(self, entity: str, record: Mapping[str, Any]) -> bool:
        """A contract's latest quote stays: amendments start from its lines."""
        if entity != "quote":
            return False
        contract = self.table("contract").get(record["contract_id"])
        return contract is not None and contract["latest_quote_id"] == record["quote_id"]

    # -- quotes ------------------------------------------------------------------------

    def op_create_quote(self, payload: Payload, now: float) -> Payload:
        """New business when `contract_id` is absent; otherwise an amendment of that contract."""
        if (known := self._known(payload)) is not None:
            return known
        if payload.get("contract_id") is None:
            customer_id = payload.get("customer_id")
            if customer_id is None:
                raise BusinessError("invalid_request", "create_quote: customer_id is required")
            if customer_id not in self.accounts:
                raise BusinessError("INVALID_ACCOUNT", f"account {customer_id!r} does not exist")
            lines = self._priced_lines(payload["lines"])
            return self._new_quote(None, customer_id, lines, "new", payload, now)
        return self.op_amend_contract(payload, now)

    def op_amend_contract(self, payload: Payload, now: float) -> Payload:
        if (known := self._known(payload)) is not None:
            return known
        contract = self._active_contract(payload["contract_id"])
        lines = self._priced_lines(payload["lines"])
        return self._new_quote(contract, contract["customer_id"], lines, "amendment", payload, now)

    def op_renew_contract(self, payload: Payload, now: float) -> Payload:
        if (known := self._known(payload)) is not None:
            return known
        contract = self._active_contract(payload["contract_id"])
        lines = self.latest_quote(contract["contract_id"])["lines"]
        return self._new_quote(contract, contract["customer_id"], lines, "renewal", payload, now)

    def op_cancel_contract(self, payload: Payload, now: float) -> Payload:
        if (known := self._known(payload)) is not None:
            return known
        contract = self._active_contract(payload["contract_id"])
        return self._new_quote(contract, contract["customer_id"], [], "cancellation", payload, now)

    def op_cancel_quote(self, payload: Payload, now: float) -> Payload:
        quote = self.get("quote", payload["quote_id"], code="INVALID_QUOTE")
        if quote["status"] not in ("draft", "inProgress"):
            raise BusinessError("INVALID_STATUS", f"quote {quote['quote_id']} is {quote['status']}")
        self._update("quote", quote["quote_id"], {"status": "cancelled"}, self._keys(quote))
        return {"quote_id": quote["quote_id"], "status": "cancelled"}

    def op_get_quote(self, payload: Payload, now: float) -> Payload:
        return dict(self.get("quote", payload["quote_id"], code="INVALID_QUOTE"))

    def op_find_approved_quotes(self, payload: Payload, now: float) -> Payload:
        """Quotes approved in (`after`, `before`], oldest first, at most `limit` (a SOQL query on
        the quote object's status and approval time): how an integration finds approvals whose
        change events it can no longer replay."""
        after, before = float(payload.get("after", 0.0)), float(payload.get("before", now))
        limit = int(payload.get("limit", 500))
        found = sorted(
            (float(quote["approved_at"]), quote_id)
            for quote_id, quote in self.table("quote").items()
            if quote.get("status") == "approved" and after < quote.get("approved_at", -1) <= before
        )
        return {"quotes": [quote_id for _, quote_id in found[:limit]]}

    def op_get_contract(self, payload: Payload, now: float) -> Payload:
        return dict(self.get("contract", payload["contract_id"], code="INVALID_CONTRACT"))

    # -- approvals ---------------------------------------------------------------------

    def op_submit_for_approval(self, payload: Payload, now: float) -> Payload:
        """One approval row per approver (Advanced Approvals); the quote goes inProgress."""
        quote = self._draft(payload["quote_id"])
        approvers = list(payload.get("approvers", ()))
        if not approvers:
            raise BusinessError("NO_APPROVERS", "a quote needs at least one approver")
        rows = []
        for approver in approvers:
            approval_id = self.next_id("APR")
            row = {"quote_id": quote["quote_id"], "approver": approver, "status": "pending"}
            self._create("approval", approval_id, row, self._keys(quote))
            rows.append(approval_id)
        self._update(
            "quote",
            quote["quote_id"],
            {"status": "inProgress", "approvals": rows},
            self._keys(quote),
        )
        return {"quote_id": quote["quote_id"], "approvals": rows}

    def op_approve_quote(self, payload: Payload, now: float) -> Payload:
        """Approve as `approver` (one row), or outright for a quote with no approval rows."""
        quote = self.get("quote", payload["quote_id"], code="INVALID_QUOTE")
        if quote["status"] not in ("draft", "inProgress"):
            raise BusinessError("INVALID_STATUS", f"quote {quote['quote_id']} is {quote['status']}")
        rows = quote.get("approvals", [])
        if rows:
            row_id = self._approval_row(rows, payload.get("approver"))
            self._update("approval", row_id, {"status": "approved"}, self._keys(quote))
            if any(self.table("approval")[r]["status"] != "approved" for r in rows):
                return {"quote_id": quote["quote_id"], "status": quote["status"]}
        # What CPQ sold, as the history keeps it for the business truth (harness/checkers/truth.py).
        sold = {
            "total": quote["total"], "currency": quote["currency"],
            "lines": self.catalog.priced_lines(quote["lines"], quote["currency"]),
            "quote_type": quote["quote_type"], "term_months": quote["term_months"],
            "support_levels": {
                line["sku"]: line["support_level"] for line in quote["lines"]
                if line.get("support_level") is not None
            },
            "one_time": sorted(
                line["sku"] for line in quote["lines"] if line["kind"] == "hardware"
            ),
        }  # fmt: skip
        self._update(
            "quote",
            quote["quote_id"],
            {"status": "approved", "approved_at": now},
            self._keys(quote),
            values=sold,
        )
        contract = self.get("contract", quote["contract_id"])
        if quote["quote_type"] == "cancellation":
            self._update(
                "contract", contract["contract_id"], {"status": "cancelled"}, self._keys(quote)
            )
        event = {key: quote[key] for key in EVENT_FIELDS}
        event["lines"] = [dict(line) for line in quote["lines"]]
        self._emit("quote.approved", event, self._keys(quote))
        return {"quote_id": quote["quote_id"], "status": "approved"}

    def op_reject_quote(self, payload: Payload, now: float) -> Payload:
        quote = self.get("quote", payload["quote_id"], code="INVALID_QUOTE")
        if quote["status"] != "inProgress":
            raise BusinessError("INVALID_STATUS", f"quote {quote['quote_id']} is {quote['status']}")
        row_id = self._approval_row(quote["approvals"], payload.get("approver"))
        self._update("approval", row_id, {"status": "rejected"}, self._keys(quote))
        self._update("quote", quote["quote_id"], {"status": "rejected"}, self._keys(quote))
        return {"quote_id": quote["quote_id"], "status": "rejected"}

    # -- helpers -----------------------------------------------------------------------

    def _new_quote(
        self,
        contract: dict[str, Any] | None,
        customer_id: str,
        lines: list[dict[str, Any]],
        quote_type: str,
        payload: Payload,
        now: float,
    ) -> Payload:
        currency = self.accounts[customer_id]["currency"]
        quote_id = self.next_id("Q")
        if contract is None:
            contract_id, version = self.next_id("CT"), 1
            record = {
                "contract_id": contract_id, "customer_id": customer_id, "status": "active",
                "latest_version": 1, "latest_quote_id": quote_id,
            }  # fmt: skip
            contract_keys = {"contract": contract_id, "customer": customer_id}
            self._create("contract", contract_id, record, contract_keys)
            self.contract_ids.append(contract_id)
        else:
            contract_id, version = contract["contract_id"], contract["latest_version"] + 1
            self._update(
                "contract",
                contract_id,
                {"latest_version": version, "latest_quote_id": quote_id},
                {"contract": contract_id, "contract_version": version},
            )
        quote = {
            "quote_id": quote_id,
            "quote_type": quote_type,
            "contract_id": contract_id,
            "contract_version": version,
            "customer_id": customer_id,
            "region": self.accounts[customer_id].get("region", ""),  # the billing country
            "currency": currency,
            "lines": lines,
            "total": self.catalog.total(lines, currency),
            "status": "draft",
            "amendment": quote_type != "new",
            "term_months": int(payload.get("term_months", 36)),
        }
        if payload.get("external_id"):
            quote["external_id"] = payload["external_id"]
            self.by_external_id[payload["external_id"]] = quote_id
        keys = self._keys(quote)
        self._create("quote", quote_id, quote, keys)
        for line in lines:
            line_id = self.next_id("QL")
            self._create("quote_line", line_id, {"quote_id": quote_id, **line}, keys)
        return {"quote_id": quote_id, "contract_id": contract_id, "contract_version": version}

    def _known(self, payload: Payload) -> Payload | None:
        """The quote made earlier under this request's external id, if there is one."""
        quote_id = self.by_external_id.get(payload.get("external_id") or "")
        if quote_id is None or quote_id not in self.table("quote"):
            return None
        quote = self.table("quote")[quote_id]
        return {"quote_id": quote_id, "contract_id": quote["contract_id"],
                "contract_version": quote["contract_version"], "existing": True}  # fmt: skip

    def _priced_lines(self, lines: Any) -> list[dict[str, Any]]:
        priced = [{"sku": line["sku"], "quantity": int(line["quantity"])} for line in lines]
        for line in priced:
            if line["sku"] not in self.catalog:
                raise BusinessError(
                    "INVALID_SKU", f"product {line['sku']!r} is not in the price book"
                )
            if line["quantity"] <= 0:
                raise BusinessError(
                    "INVALID_QUANTITY", f"quantity of {line['sku']} must be positive"
                )
        if not priced:
            raise BusinessError("NO_LINES", "a quote needs at least one line")
        for line in priced:  # the product's fields a quote line carries, as CPQ quote lines do
            product = self.catalog.product(line["sku"])
            line["kind"] = product.kind
            if product.support_level is not None:
                line["support_level"] = product.support_level
        return priced

    def _active_contract(self, contract_id: str) -> dict[str, Any]:
        contract = self.get("contract", contract_id, code="INVALID_CONTRACT")
        if contract["status"] != "active":
            raise BusinessError(
                "CONTRACT_NOT_ACTIVE", f"contract {contract_id} is {contract['status']}"
            )
        return contract

    def _draft(self, quote_id: str) -> dict[str, Any]:
        quote = self.get("quote", quote_id, code="INVALID_QUOTE")
        if quote["status"] != "draft":
            raise BusinessError("INVALID_STATUS", f"quote {quote_id} is {quote['status']}")
        return quote

    def _approval_row(self, rows: list[str], approver: Any) -> str:
        for row_id in rows:
            row = self.table("approval")[row_id]
            if row["approver"] == approver and row["status"] == "pending":
                return row_id
        raise BusinessError("NOT_AN_APPROVER", f"{approver!r} has no pending approval here")

    def _envelope(self, event_type: str, event_id: str, payload: Payload, now: float) -> Payload:
        self._sequence += 1
        header = {
            "entityName": QUOTE_OBJECT,
            "recordIds": [payload["quote_id"]],
            "changeType": "UPDATE",
            "changedFields": ["SBQQ__Status__c"],
            "transactionKey": f"{event_id}-tx",
            "sequenceNumber": self._sequence,
            "commitTimestamp": self.unix_ms(now),
        }
        return {"ChangeEventHeader": header, **payload}

    @staticmethod
    def _keys(quote: Mapping[str, Any]) -> dict[str, str | int]:
        return {
            "quote": quote["quote_id"],
            "contract": quote["contract_id"],
            "contract_version": quote["contract_version"],
            "customer": quote["customer_id"],
        }
