"""CPQ on Salesforce's REST wire (`salesforce-like`): what simple-salesforce sends and expects.

Salesforce's REST API Developer Guide is the source of every shape here:
- `/services/data/vXX.X/sobjects/<Object>/<Id>`: GET a record, POST to create (201
  `{"id", "success", "errors"}`), PATCH to update (204), DELETE (204); PATCH on
  `<Object>/<ExternalIdField__c>/<value>` upserts by external id (the way integrations make a
  create safe to retry). `/composite/tree/<Object>` creates a record with its children.
- `/query?q=<SOQL>` answers `{"totalSize", "done", "records", "nextRecordsUrl"}`, each record
  with `attributes` (`type`, `url`); `nextRecordsUrl` (`/query/<locator>`) is queryMore. A page
  holds 2,000 records unless `Sforce-Query-Options: batchSize=` asks for 200 to 2,000.
  The SOQL subset is `simulators.vendors.query`'s; relationship fields (`Account__r.Name`) are
  followed one level.
- Errors are a list, `[{"errorCode", "message", "fields"}]`: 400 MALFORMED_QUERY,
  INVALID_FIELD, FIELD_CUSTOM_VALIDATION_EXCEPTION (a validation rule: the domain's refusal,
  its code first in the message), 401 INVALID_SESSION_ID, 403 REQUEST_LIMIT_EXCEEDED (the API
  limit: no Retry-After from Salesforce; Syncline adds the profile's so retries can be judged),
  404 NOT_FOUND, 503 SERVER_UNAVAILABLE (maintenance, outage).
- Change events: the integration is told of approvals by Change Data Capture events on the
  quote object, the shape MuleSoft's, Boomi's and Workato's Salesforce connectors subscribe to
  (an event carries its `ChangeEventHeader` with record ids, change type, changed fields,
  transaction key, sequence and commit time, and a replay id; it says what changed, not the
  quote's lines, which the integration reads with SOQL). Salesforce streams them over CometD
  or gRPC to a subscriber; here each is pushed to the webhook URL in CometD's message shape,
  `{"channel": "/data/SBQQ__Quote__ChangeEvent", "data": {"schema", "payload", "event":
  {"replayId"}}}`, signed with Syncline-Signature as a relay would sign it (Salesforce does not
  sign streamed events: its subscribers authenticate the connection instead).

Objects: SBQQ__Quote__c (quotes), SBQQ__QuoteLine__c, Contract, Account (the CRM accounts).
Quote types Quote / Amendment / Renewal / Cancellation; statuses Draft, In Review, Approved,
Rejected, Cancelled. Money fields are in major units, as Salesforce's currency fields are.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from simulators.base import DomainEvent
from simulators.catalog import MINOR_UNITS
from simulators.http import Answer
from simulators.vendors import facade
from simulators.vendors.facade import (
    TEXT,
    WHOLE,
    Facade,
    Scope,
    obj,
    one_of,
)
from simulators.vendors.query import Query, QueryError, parse
from simulators.webhooks import canonical_body, sign

API_VERSION = "59.0"
QUOTE_TYPES = {"new": "Quote", "amendment": "Amendment", "renewal": "Renewal",
               "cancellation": "Cancellation"}  # fmt: skip
QUOTE_STATUSES = {"draft": "Draft", "inProgress": "In Review", "approved": "Approved",
                  "rejected": "Rejected", "cancelled": "Cancelled"}  # fmt: skip
CONTRACT_STATUSES = {"active": "Activated", "cancelled": "Canceled"}


@dataclass(frozen=True)
class SObject:
    """An object as Salesforce names it: its domain entity, fields and relationships."""

    name: str
    entity: str
    fields: Mapping[str, str]  # Salesforce field -> domain field
    values: Mapping[str, Mapping[Any, Any]] = field(default_factory=dict)  # domain -> SF value
    relations: Mapping[str, tuple[str, str]] = field(default_factory=dict)  # X__r -> (object, id)
    money: frozenset[str] = frozenset()  # fields in major units

    def to_domain(self, name: str, value: Any) -> tuple[str, Any]:
        if name not in self.fields:
            raise Refusal(400, "INVALID_FIELD", f"No such column '{name}' on entity '{self.name}'")
        if name in self.money:
            raise Refusal(400, "INVALID_FIELD", f"{name} cannot be filtered on here")
        inverse = {shown: own for own, shown in self.values.get(name, {}).items()}
        return self.fields[name], inverse.get(value, value)


QUOTE = SObject(
    "SBQQ__Quote__c", "quote",
    {"Id": "id", "Name": "id", "SBQQ__Type__c": "quote_type", "SBQQ__Status__c": "status",
     "SBQQ__Account__c": "customer_id", "SBQQ__MasterContract__c": "contract_id",
     "Contract_Version__c": "contract_version", "CurrencyIsoCode": "currency",
     "SBQQ__NetAmount__c": "total", "SBQQ__SubscriptionTerm__c": "term_months",
     "Billing_Region__c": "region"},
    {"SBQQ__Type__c": QUOTE_TYPES, "SBQQ__Status__c": QUOTE_STATUSES},
    {"SBQQ__Account__r": ("Account", "SBQQ__Account__c"),
     "SBQQ__MasterContract__r": ("Contract", "SBQQ__MasterContract__c")},
    frozenset({"SBQQ__NetAmount__c"}),
)  # fmt: skip
QUOTE_LINE = SObject(
    "SBQQ__QuoteLine__c", "quote_line",
    {"Id": "id", "Name": "id", "SBQQ__Quote__c": "quote_id", "SBQQ__ProductCode__c": "sku",
     "SBQQ__Quantity__c": "quantity", "Product_Kind__c": "kind",
     "Support_Level__c": "support_level"},
    relations={"SBQQ__Quote__r": ("SBQQ__Quote__c", "SBQQ__Quote__c")},
)  # fmt: skip
CONTRACT = SObject(
    "Contract", "contract",
    {"Id": "id", "ContractNumber": "id", "AccountId": "customer_id", "Status": "status",
     "Latest_Version__c": "latest_version", "SBQQ__Quote__c": "latest_quote_id"},
    {"Status": CONTRACT_STATUSES},
    {"Account": ("Account", "AccountId"), "SBQQ__Quote__r": ("SBQQ__Quote__c", "SBQQ__Quote__c")},
)  # fmt: skip
ACCOUNT = SObject(
    "Account", "account",
    {"Id": "id", "Name": "name", "BillingCountry": "region", "CurrencyIsoCode": "currency"},
)  # fmt: skip
OBJECTS = {sobject.name: sobject for sobject in (QUOTE, QUOTE_LINE, CONTRACT, ACCOUNT)}


class Refusal(facade.Refusal):
    """Salesforce's error list."""

    def response(self) -> Response:
        body = [{"errorCode": self.code, "message": self.message, "fields": []}]
        return JSONResponse(body, self.status, self.headers)


def _refusal(answer: Answer) -> Refusal:
    status, code, message, headers = facade.refused(answer)
    if status == 429:
        return Refusal(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.", headers)
    if status >= 500:
        return Refusal(status, "SERVER_UNAVAILABLE", message, headers)
    if status == 404:
        return Refusal(404, "NOT_FOUND", f"{code}: {message}")
    if code == "invalid_request":
        return Refusal(400, "INVALID_FIELD", message)
    return Refusal(400, "FIELD_CUSTOM_VALIDATION_EXCEPTION", f"{code}: {message}")


class SalesforceCPQ(Facade):
    vendor = "salesforce"

    def credentials(self) -> dict[str, Any]:
        return {"session_id": self.token, "version": API_VERSION}

    def authorized(self, scope: Scope) -> bool:
        for name, value in scope["headers"]:
            if name == b"authorization":
                return bool(value.decode("latin-1") in (f"Bearer {self.token}",
                                                        f"OAuth {self.token}"))  # fmt: skip
        return False

    def denied(self) -> Response:
        return Refusal(401, "INVALID_SESSION_ID", "Session expired or invalid").response()

    # -- records as Salesforce shows them -------------------------------------------------------

    def shown(self, sobject: SObject, record: Mapping[str, Any],
              names: tuple[str, ...] | None = None) -> dict[str, Any]:  # fmt: skip
        record_id = str(record["id"])
        body: dict[str, Any] = {
            "attributes": {
                "type": sobject.name,
                "url": f"/services/data/v{API_VERSION}/sobjects/{sobject.name}/{record_id}",
            }
        }
        for name in names or tuple(sobject.fields):
            head, dot, rest = name.partition(".")
            if dot:
                body.setdefault(head, {}).update(self.related(sobject, record, head, rest))
                continue
            if name not in sobject.fields:
                raise Refusal(
                    400, "INVALID_FIELD", f"No such column '{name}' on entity '{sobject.name}'"
                )
            value = record.get(sobject.fields[name])
            if name in sobject.money and isinstance(value, int):
                value = value / MINOR_UNITS.get(str(record.get("currency")), 100)
            body[name] = sobject.values.get(name, {}).get(value, value)
        return body

    def related(self, sobject: SObject, record: Mapping[str, Any], relation: str, name: str
                ) -> dict[str, Any]:  # fmt: skip
        if relation not in sobject.relations:
            raise Refusal(
                400,
                "INVALID_FIELD",
                f"Didn't understand relationship '{relation}' on {sobject.name}",
            )
        target_name, id_field = sobject.relations[relation]
        target = OBJECTS[target_name]
        target_id = record.get(sobject.fields[id_field])
        found = self.records(target.entity).get(str(target_id)) if target_id else None
        if found is None:
            return {}
        shown = self.shown(target, {"id": target_id, **found}, (name,))
        shown.pop("attributes", None)
        return shown

    # -- routes ---------------------------------------------------------------------------------

    def routes(self, app: FastAPI) -> None:
        base = "/services/data/v{version}"
        version = {"version": {"type": "string", "pattern": r"^[0-9]{2}\.[0-9]$"}}
        sobject = {**version, "name": one_of(*OBJECTS)}
        record = {**sobject, "record_id": TEXT}
        quote = obj(**{name: TEXT for name in QUOTE.fields}, Approver__c=TEXT,
                    Approvers__c=TEXT)  # fmt: skip
        line = obj(SBQQ__ProductCode__c=TEXT, SBQQ__Quantity__c=WHOLE)
        tree = obj(records={"type": "array", "items": obj(
            **{name: TEXT for name in QUOTE.fields},
            SBQQ__LineItems__r=obj(records={"type": "array", "items": line}))})  # fmt: skip
        # The shape of the simplest queries of the subset, so that generated ones can be run.
        simplest = "^SELECT (Id|Name) FROM (Account|Contract|SBQQ__Quote__c)( LIMIT [1-9])?$"
        soql = {"type": "string", "pattern": simplest}

        route = partial(self.route, app)

        for url in (base + "/query", base + "/query/"):
            route("GET", url, f"query{url[-1:].replace('/', '_slash')}", self.query,
                  path=version, query={"q": soql})  # fmt: skip
        route("GET", base + "/query/{locator}", "query_more", self.query_more,
              path={**version, "locator": TEXT})  # fmt: skip
        route("GET", base + "/sobjects/{name}/{record_id}", "retrieve", self.retrieve,
              path=record)  # fmt: skip
        for url in (base + "/sobjects/{name}", base + "/sobjects/{name}/"):
            route("POST", url, f"create{url[-1:].replace('/', '_slash')}", self.create,
                  path=sobject, body=quote)  # fmt: skip
        route("PATCH", base + "/sobjects/{name}/{record_id}", "update", self.update,
              path=record, body=quote)  # fmt: skip
        route("PATCH", base + "/sobjects/{name}/{external}/{value}", "upsert", self.upsert,
              path={**sobject, "external": TEXT, "value": TEXT}, body=quote)  # fmt: skip
        route("DELETE", base + "/sobjects/{name}/{record_id}", "delete", self.delete,
              path=record)  # fmt: skip
        route("POST", base + "/composite/tree/{name}", "composite_tree", self.tree,
              path=sobject, body=tree)  # fmt: skip

    async def upsert(self, request: Request, name: str, external: str, value: str) -> Response:
        return await self.create(request, name, f"{external}:{value}")

    def path_parameters(self, request: Request) -> dict[str, Any]:
        return {k: v for k, v in request.path_params.items() if k != "version"}

    def refusal(self, answer: Answer) -> Refusal:
        return _refusal(answer)

    @staticmethod
    def sobject(name: str) -> SObject:
        if name not in OBJECTS:
            raise Refusal(404, "NOT_FOUND", f"The requested resource does not exist ({name})")
        return OBJECTS[name]

    async def body(self, request: Request) -> dict[str, Any]:
        raw = await request.body()
        return facade.json_object(raw, lambda why: Refusal(400, "JSON_PARSER_ERROR", why))

    # -- SOQL -----------------------------------------------------------------------------------

    async def query(self, request: Request, text: str | None = None, start: int = 0) -> Response:
        if text is None:
            text = request.query_params.get("q", "")
        try:
            parsed = parse(text)
        except QueryError as error:
            raise Refusal(400, "MALFORMED_QUERY", str(error)) from None
        sobject = self.sobject(parsed.source)
        batch = _batch_size(request.headers.get("sforce-query-options", ""))
        where = dict(sobject.to_domain(name, value) for name, value in parsed.where)
        wanted = parsed.limit if parsed.limit is not None else 10**9
        limit = max(1, min(batch, wanted - start))
        payload: dict[str, Any] = {"entity": sobject.entity, "where": where, "limit": limit,
                                   "offset": parsed.offset + start}  # fmt: skip
        if parsed.order_by is not None:
            payload["order_by"] = sobject.to_domain(parsed.order_by, None)[0]
            payload["order"] = "desc" if parsed.descending else "asc"
        found = await self.perform(request, "find_records", payload)
        rows = found["records"][: max(0, wanted - start)]
        total = min(found["total"] - parsed.offset, wanted)
        records = [self.shown(sobject, row, parsed.fields) for row in rows]
        after = start + len(rows)
        body: dict[str, Any] = {"totalSize": max(total, 0), "done": after >= total,
                                "records": records}  # fmt: skip
        if after < total:
            body["nextRecordsUrl"] = (
                f"/services/data/v{API_VERSION}/query/{_locator(parsed, after)}"
            )
        return JSONResponse(body)

    async def query_more(self, request: Request, locator: str) -> Response:
        text, start = _unlocate(locator)
        return await self.query(request, text, start)

    async def retrieve(self, request: Request, name: str, record_id: str) -> Response:
        sobject = self.sobject(name)
        found = await self.perform(
            request, "find_records", {"entity": sobject.entity, "where": {"id": record_id}}
        )
        if not found["records"]:
            raise Refusal(404, "NOT_FOUND", "The requested resource does not exist")
        return JSONResponse(self.shown(sobject, found["records"][0]))

    # -- writes ---------------------------------------------------------------------------------

    async def create(self, request: Request, name: str, key: str | None = None) -> Response:
        sobject = self.sobject(name)
        if sobject is not QUOTE:
            raise Refusal(400, "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY",
                          f"{name} records are made by CPQ itself here; create a quote "
                          "(lines with it, through composite/tree)")  # fmt: skip
        fields = await self.body(request)
        operation, payload = self.quote_request(fields, [])
        if key is not None:
            payload["external_id"] = key
        made = await self.perform(request, operation, payload)
        created = not made.get("existing")
        return JSONResponse({"id": made["quote_id"], "success": True, "errors": [],
                             "created": created}, 201 if created else 200)  # fmt: skip

    def quote_request(self, fields: Mapping[str, Any], lines: list[dict[str, Any]]
                      ) -> tuple[str, dict[str, Any]]:  # fmt: skip
        kind = fields.get("SBQQ__Type__c", "Quote")
        contract = fields.get("SBQQ__MasterContract__c")
        payload: dict[str, Any] = {}
        if fields.get("SBQQ__SubscriptionTerm__c") is not None:
            payload["term_months"] = fields["SBQQ__SubscriptionTerm__c"]
        if kind in ("Renewal", "Cancellation"):
            if not contract:
                raise Refusal(
                    400,
                    "REQUIRED_FIELD_MISSING",
                    "Required fields are missing: [SBQQ__MasterContract__c]",
                )
            payload["contract_id"] = contract
            if kind == "Cancellation":
                payload.pop("term_months", None)
            return ("renew_contract" if kind == "Renewal" else "cancel_contract"), payload
        if kind not in ("Quote", "Amendment"):
            raise Refusal(
                400,
                "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                f"bad value for restricted picklist field: {kind}",
            )
        payload["lines"] = lines
        if kind == "Amendment" or contract:
            payload["contract_id"] = contract
            return "amend_contract", payload
        payload["customer_id"] = fields.get("SBQQ__Account__c")
        return "create_quote", payload

    async def tree(self, request: Request, name: str) -> Response:
        if self.sobject(name) is not QUOTE:
            raise Refusal(400, "INVALID_TYPE", "composite/tree here creates SBQQ__Quote__c")
        records = (await self.body(request)).get("records")
        if not isinstance(records, list) or len(records) != 1 or not isinstance(records[0], dict):
            raise Refusal(400, "INVALID_INPUT", "give one quote, its lines under "
                          "SBQQ__LineItems__r")  # fmt: skip
        quote = records[0]
        children = _dict(quote.get("SBQQ__LineItems__r")).get("records", [])
        lines = []
        for child in children if isinstance(children, list) else []:
            if not isinstance(child, dict):
                raise Refusal(400, "INVALID_INPUT", "each line must be an object")
            lines.append({"sku": child.get("SBQQ__ProductCode__c"),
                          "quantity": child.get("SBQQ__Quantity__c")})  # fmt: skip
        operation, payload = self.quote_request(quote, lines)
        made = await self.perform(request, operation, payload)
        reference = _dict(quote.get("attributes")).get("referenceId", "ref1")
        results = [{"referenceId": reference, "id": made["quote_id"]}]
        line_ids = sorted(line_id for line_id, line in self.records("quote_line").items()
                          if line["quote_id"] == made["quote_id"])  # fmt: skip
        for child, line_id in zip(children, line_ids, strict=False):
            results.append({"referenceId": _dict(child.get("attributes")).get("referenceId"),
                            "id": line_id})  # fmt: skip
        return JSONResponse({"hasErrors": False, "results": results}, 201)

    #: A quote's status as updates set it, and the operation that does it.
    TRANSITIONS: ClassVar[dict[str, str]] = {
        "Approved": "approve_quote", "Rejected": "reject_quote",
        "In Review": "submit_for_approval", "Cancelled": "cancel_quote",
    }  # fmt: skip

    async def update(self, request: Request, name: str, record_id: str) -> Response:
        if self.sobject(name) is not QUOTE:
            raise Refusal(
                400,
                "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY",
                f"{name} records change through their quotes here",
            )
        fields = await self.body(request)
        status = fields.get("SBQQ__Status__c")
        if status not in self.TRANSITIONS or set(fields) - {"SBQQ__Status__c", "Approver__c",
                                                            "Approvers__c"}:  # fmt: skip
            raise Refusal(400, "INVALID_FIELD_FOR_INSERT_UPDATE",
                          "an update sets SBQQ__Status__c to Approved, Rejected, In Review or "
                          "Cancelled (with Approver__c, or Approvers__c as a;b); other changes "
                          "are not simulated")  # fmt: skip
        payload: dict[str, Any] = {"quote_id": record_id}
        if fields.get("Approver__c"):
            payload["approver"] = fields["Approver__c"]
        if fields.get("Approvers__c"):
            payload["approvers"] = str(fields["Approvers__c"]).split(";")
        await self.perform(request, self.TRANSITIONS[status], payload)
        return Response(status_code=204)

    async def delete(self, request: Request, name: str, record_id: str) -> Response:
        """Deleting a draft quote cancels it (CPQ keeps it, Cancelled)."""
        if self.sobject(name) is not QUOTE:
            raise Refusal(400, "DELETE_FAILED", f"{name} records cannot be deleted here")
        await self.perform(request, "cancel_quote", {"quote_id": record_id})
        return Response(status_code=204)

    # -- change events --------------------------------------------------------------------------

    def webhook(self, event: DomainEvent, delivery: int, unix: int) -> tuple[bytes, dict[str, str]]:
        fields = dict(event.payload.get("data", event.payload))
        header = dict(fields.pop("ChangeEventHeader", {}))
        quote = {"id": fields.get("quote_id"), **fields, "status": "approved"}
        shown = self.shown(QUOTE, quote)
        shown.pop("attributes")
        header.setdefault("entityName", QUOTE.name)
        payload = {"ChangeEventHeader": header, **shown}
        message = {
            "channel": "/data/SBQQ__Quote__ChangeEvent",
            "data": {"schema": f"syncline-quote-{event.payload.get('schema_version', 1)}",
                     "payload": payload,
                     "event": {"replayId": header.get("sequenceNumber", 0),
                               "EventUuid": event.event_id}},
        }  # fmt: skip
        signature = sign(self.secret, unix, message)
        return canonical_body(message).encode(), {"Content-Type": "application/json",
                                                  "Syncline-Signature": signature}  # fmt: skip


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _batch_size(options: str) -> int:
    for part in options.split(","):
        name, _, value = part.strip().partition("=")
        if name.strip() == "batchSize" and value.strip().isdigit():
            return max(200, min(2000, int(value)))
    return 2000


def _locator(query: Query, start: int) -> str:
    packed = json.dumps({"q": query.text, "at": start}).encode()
    return "01g" + base64.urlsafe_b64encode(packed).decode().rstrip("=")


def _unlocate(locator: str) -> tuple[str, int]:
    try:
        packed = locator.removeprefix("01g")
        state = json.loads(base64.urlsafe_b64decode(packed + "=" * (-len(packed) % 4)))
        return str(state["q"]), int(state["at"])
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise Refusal(400, "INVALID_QUERY_LOCATOR", "invalid query locator") from None
