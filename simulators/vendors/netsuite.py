"""ERP on NetSuite's REST wire (`netsuite-like`): the record API and SuiteQL, as the `netsuite`
package (or any OAuth 1.0a client) calls them.

NetSuite's REST Web Services guide (SuiteTalk REST) is the source of every shape here:
- `/services/rest/record/v1/<type>/<id>`: GET a record, POST to create (204 with the new
  record's `Location`), PATCH to update, PUT on `eid:<external id>` to upsert; ids may be
  given as `eid:<external id>`. A list is `{"links", "count", "hasMore", "items", "offset",
  "totalResults"}` (`limit` up to 1,000, `offset`).
- `/services/rest/query/v1/suiteql` (POST `{"q"}`, with `limit` and `offset`) answers the same
  list shape; the SuiteQL subset is `simulators.vendors.query`'s, over the record types below.
- Errors are RFC 9457 problem details with `o:errorDetails: [{"detail", "o:errorCode"}]`:
  400 USER_ERROR (or the ERP's own code, such as RCRD_DSNT_EXIST or TAX_CODE_INACTIVE), 401
  INVALID_LOGIN, 404 NONEXISTENT_ID, 429 CONCURRENCY_LIMIT_EXCEEDED (the account's concurrency
  governance), 503 in maintenance.
- Token-based authentication: every request is OAuth 1.0a signed, HMAC-SHA256, realm = the
  account id (`simulators.vendors.oauth1`); a bad signature is 401.
- `X-NetSuite-Idempotency-Key` (NetSuite honours it on asynchronous requests; here on every
  write) makes a retried write safe.

Record types: customer (read), salesOrder (create, read), customrecord_contract (the contract
record: upsert by `eid:<contract id>`, read), invoice, creditMemo and customerPayment (create:
each posts the billing document to the ledger; the answer's `Location` is its journalEntry),
journalEntry (read). Money is in major units of the record's currency, as NetSuite shows it.
Items are named by `{"item": {"externalId": "<CPQ SKU>"}}`: ERP maps SKUs to its items itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from simulators.catalog import MINOR_UNITS
from simulators.http import Answer
from simulators.vendors import facade, oauth1
from simulators.vendors.facade import (
    TEXT,
    WHOLE,
    Facade,
    Handler,
    Scope,
    derive,
    obj,
    one_of,
)
from simulators.vendors.query import QueryError, parse

ROOT = "/services/rest"
TITLES = {400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 409: "Conflict",
          429: "Too Many Requests", 503: "Service Unavailable", 504: "Gateway Timeout"}  # fmt: skip


class Refusal(facade.Refusal):
    """NetSuite's problem details."""

    def response(self) -> Response:
        body = {
            "type": "https://www.rfc-editor.org/rfc/rfc9110.html#section-15",
            "title": TITLES.get(self.status, "Error"), "status": self.status,
            "o:errorDetails": [{"detail": self.message, "o:errorCode": self.code}],
        }  # fmt: skip
        return JSONResponse(body, self.status, self.headers)


def _refusal(answer: Answer) -> Refusal:
    status, code, message, headers = facade.refused(answer)
    if status == 429:
        return Refusal(429, "CONCURRENCY_LIMIT_EXCEEDED", message, headers)
    if status >= 500:
        return Refusal(status, "SERVICE_UNAVAILABLE" if status == 503 else "TIMEOUT", message,
                       headers)  # fmt: skip
    if status == 404:
        return Refusal(404, "NONEXISTENT_ID" if code == "not_found" else code, message)
    return Refusal(400, "USER_ERROR" if code == "invalid_request" else code, message)


def _money(minor: Any, currency: Any) -> float | None:
    if not isinstance(minor, int):
        return None
    return minor / MINOR_UNITS.get(str(currency), 100)


@dataclass(frozen=True)
class RecordType:
    """A record type as NetSuite names it: its domain entity, and SuiteQL's columns."""

    name: str
    entity: str
    columns: Mapping[str, str]  # SuiteQL column -> domain field
    show: Callable[[str, Mapping[str, Any]], dict[str, Any]]


def _ref(value: Any) -> dict[str, Any] | None:
    return {"id": value} if value is not None else None


def _lines(lines: Any) -> dict[str, Any]:
    return {"items": [{"item": {"externalId": line.get("sku", line.get("item_id"))},
                       "quantity": line["quantity"]} for line in lines or []]}  # fmt: skip


RECORDS = {
    record.name.lower(): record for record in (
        RecordType("customer", "customer", {"id": "id", "subsidiary": "subsidiary_id"},
                   lambda i, r: {"id": i, "externalId": i,
                                 "subsidiary": _ref(r.get("subsidiary_id"))}),
        RecordType(
            "salesOrder", "sales_order",
            {"id": "id", "tranid": "order_id", "entity": "customer_id",
             "custbody_quote_id": "quote_id", "custbody_contract_id": "contract_id",
             "custbody_contract_version": "contract_version", "subsidiary": "subsidiary_id",
             "currency": "currency", "status": "status"},
            lambda i, r: {
                "id": i, "tranId": i, "entity": _ref(r["customer_id"]),
                "custbody_quote_id": r["quote_id"], "custbody_contract_id": r["contract_id"],
                "custbody_contract_version": r["contract_version"],
                "subsidiary": _ref(r["subsidiary_id"]), "currency": {"refName": r["currency"]},
                "custbody_quote_total": _money(r["total"], r["currency"]),
                "status": {"id": r["status"]}, "item": _lines(r["lines"]),
            },
        ),
        RecordType(
            "customrecord_contract", "contract",
            {"id": "id", "custrecord_contract_version": "contract_version",
             "custrecord_customer": "customer_id", "custrecord_sales_order": "order_id"},
            lambda i, r: {
                "id": i, "externalId": i,
                "custrecord_contract_version": r["contract_version"],
                "custrecord_customer": _ref(r["customer_id"]),
                "custrecord_sales_order": _ref(r["order_id"]), "item": _lines(r["lines"]),
            },
        ),
        RecordType(
            "journalEntry", "journal_entry",
            {"id": "id", "custbody_source": "source", "custbody_reference": "reference",
             "entity": "customer_id", "subsidiary": "subsidiary_id", "currency": "currency"},
            lambda i, r: {
                "id": i, "tranId": i, "custbody_source": r["source"],
                "custbody_reference": r["reference"], "entity": _ref(r["customer_id"]),
                "subsidiary": _ref(r["subsidiary_id"]), "currency": {"refName": r["currency"]},
                "line": {"items": [
                    {"account": {"refName": line["account"]},
                     "debit": _money(line["debit"], r["currency"]) or None,
                     "credit": _money(line["credit"], r["currency"]) or None}
                    for line in r["lines"]]},
            },
        ),
    )
}  # fmt: skip
#: Billing documents a POST posts to the ledger: the operation, the document's id field.
POSTINGS = {"invoice": ("post_invoice", "invoice_id"),
            "creditmemo": ("post_credit_memo", "credit_memo_id"),
            "customerpayment": ("post_payment", "payment_id")}  # fmt: skip


class NetSuiteERP(Facade):
    vendor = "netsuite"
    sends_webhooks = False  # NetSuite has no webhooks of its own (SuiteScript would post them)

    @property
    def account(self) -> str:
        return "SYNCLINE_SB1"

    @property
    def consumer(self) -> tuple[str, str]:
        return derive(self.secret, f"{self.live.name}.consumer_key", 64), derive(
            self.secret, f"{self.live.name}.consumer_secret", 64)  # fmt: skip

    @property
    def access(self) -> tuple[str, str]:
        return self.token, derive(self.secret, f"{self.live.name}.token_secret", 64)

    def credentials(self) -> dict[str, Any]:
        return {"account": self.account, "token_auth": {
            "consumer_key": self.consumer[0], "consumer_secret": self.consumer[1],
            "token_id": self.access[0], "token_secret": self.access[1]}}  # fmt: skip

    def authorized(self, scope: Scope) -> bool:
        headers = {name.decode("latin-1").lower(): value.decode("latin-1")
                   for name, value in scope["headers"]}  # fmt: skip
        host = headers.get("host", "").lower().removesuffix(":443")
        url = f"{scope.get('scheme', 'https')}://{host}{scope['path']}"
        why = oauth1.verified(scope["method"], url, scope.get("query_string", b"").decode(),
                              headers.get("authorization", ""), self.account, self.consumer,
                              self.access, self.live.clock.unix())  # fmt: skip
        return why is None

    def denied(self) -> Response:
        return Refusal(401, "INVALID_LOGIN", "Invalid login attempt: the OAuth 1.0a signature, "
                       "token or realm is not this account's").response()  # fmt: skip

    # -- routes ---------------------------------------------------------------------------------

    def routes(self, app: FastAPI) -> None:
        kinds = one_of(*(record.name for record in RECORDS.values()),
                       "invoice", "creditMemo", "customerPayment")  # fmt: skip
        paging = {"limit": {"type": "integer", "minimum": 1, "maximum": 1000}, "offset": WHOLE}
        reference = obj(id=TEXT, externalId=TEXT, refName=TEXT)
        items = obj(items={"type": "array", "items": obj(item=reference, quantity=WHOLE)})
        record = obj(entity=reference, customer=reference, currency=reference, externalId=TEXT,
                     custbody_quote_id=TEXT, custbody_contract_id=TEXT,
                     custbody_contract_version=WHOLE, custbody_quote_total={"type": "number"},
                     custbody_billing_amount={"type": "number"}, payment={"type": "number"},
                     custrecord_contract_version=WHOLE, custrecord_customer=reference,
                     custrecord_sales_order=reference, item=items)  # fmt: skip
        suiteql = obj(q={"anyOf": [one_of("SELECT id, subsidiary FROM customer"), TEXT]})

        def route(method: str, url: str, name: str, handler: Handler, **description: Any) -> None:
            self.route(app, method, ROOT + url, name, handler, **description)

        route("GET", "/record/v1/{kind}", "list", self.list_records, path={"kind": kinds},
              query=paging)  # fmt: skip
        route("GET", "/record/v1/{kind}/{record_id}", "get", self.get_record,
              path={"kind": kinds, "record_id": TEXT})  # fmt: skip
        route("POST", "/record/v1/{kind}", "create", self.create, path={"kind": kinds},
              body=record)  # fmt: skip
        route("PUT", "/record/v1/{kind}/{record_id}", "upsert", self.upsert,
              path={"kind": kinds, "record_id": TEXT}, body=record)  # fmt: skip
        route("POST", "/query/v1/suiteql", "suiteql", self.suiteql, query=paging, body=suiteql)

    idempotency_header = "x-netsuite-idempotency-key"

    def refusal(self, answer: Answer) -> Refusal:
        return _refusal(answer)

    async def body(self, request: Request) -> dict[str, Any]:
        raw = await request.body()
        if not oauth1.body_hash_matches(request.headers.get("authorization", ""), raw):
            raise Refusal(401, "INVALID_LOGIN", "the signed body hash does not match the body")
        return facade.json_object(raw, lambda why: Refusal(400, "INVALID_CONTENT", why))

    @staticmethod
    def record_type(kind: str) -> RecordType:
        found = RECORDS.get(kind.lower())
        if found is None:
            raise Refusal(404, "NONEXISTENT_ID" if kind.lower() not in POSTINGS else "USER_ERROR",
                          f"Record type '{kind}' cannot be read here (readable: "
                          f"{', '.join(r.name for r in RECORDS.values())})")  # fmt: skip
        return found

    def page(self, request: Request, items: list[dict[str, Any]], found: Mapping[str, Any],
             offset: int) -> Response:  # fmt: skip
        return JSONResponse({
            "links": [{"rel": "self", "href": str(request.url)}], "count": len(items),
            "hasMore": found["has_more"], "items": items, "offset": offset,
            "totalResults": found["total"],
        })  # fmt: skip

    async def list_records(self, request: Request, kind: str) -> Response:
        record = self.record_type(kind)
        limit, offset = _paging(request)
        found = await self.perform(
            request, "find_records", {"entity": record.entity, "limit": limit, "offset": offset}
        )
        items = [{"links": [{"rel": "self",
                             "href": f"{ROOT}/record/v1/{record.name}/{row['id']}"}],
                  "id": row["id"]} for row in found["records"]]  # fmt: skip
        return self.page(request, items, found, offset)

    async def get_record(self, request: Request, kind: str, record_id: str) -> Response:
        record = self.record_type(kind)
        record_id = record_id.removeprefix("eid:")
        found = await self.perform(
            request, "find_records", {"entity": record.entity, "where": {"id": record_id}}
        )
        if not found["records"]:
            raise Refusal(404, "NONEXISTENT_ID", f"The record instance does not exist: {record_id}")
        row = found["records"][0]
        return JSONResponse(record.show(row.pop("id"), row))

    async def create(self, request: Request, kind: str) -> Response:
        fields = await self.body(request)
        if kind.lower() == "salesorder":
            payload = _sales_order(fields)
            made = await self.perform(request, "create_sales_order", payload)
            location = f"{ROOT}/record/v1/salesOrder/{made['order_id']}"
        elif kind.lower() in POSTINGS:
            operation, id_field = POSTINGS[kind.lower()]
            made = await self.perform(request, operation, _posting(fields, id_field))
            location = f"{ROOT}/record/v1/journalEntry/{made['journal_entry_id']}"
        else:
            raise Refusal(400, "USER_ERROR", f"Records of type '{kind}' are not created here "
                          "(salesOrder, invoice, creditMemo, customerPayment are; "
                          "customrecord_contract is upserted with PUT)")  # fmt: skip
        return Response(status_code=204, headers={"Location": f"{_origin(request)}{location}"})

    async def upsert(self, request: Request, kind: str, record_id: str) -> Response:
        if kind.lower() != "customrecord_contract" or not record_id.startswith("eid:"):
            raise Refusal(400, "USER_ERROR", "PUT upserts customrecord_contract/eid:<contract id>")
        fields = await self.body(request)
        payload = {
            "contract_id": record_id.removeprefix("eid:"),
            "contract_version": fields.get("custrecord_contract_version"),
            "customer_id": _dict(fields.get("custrecord_customer")).get("id"),
            "order_id": _dict(fields.get("custrecord_sales_order")).get("id"),
            "lines": _domain_lines(fields),
        }  # fmt: skip
        await self.perform(request, "upsert_contract", payload)
        location = f"{ROOT}/record/v1/customrecord_contract/{payload['contract_id']}"
        return Response(status_code=204, headers={"Location": f"{_origin(request)}{location}"})

    async def suiteql(self, request: Request) -> Response:
        text = (await self.body(request)).get("q")
        if not isinstance(text, str):
            raise Refusal(400, "USER_ERROR", "the body must name the query in q")
        try:
            parsed = parse(text)
        except QueryError as error:
            raise Refusal(400, "INVALID_PARAMETER", f"Invalid search query: {error}") from None
        record = self.record_type(parsed.source)
        columns = dict(record.columns)

        def column(name: str) -> str:
            if name.lower() not in columns:
                raise Refusal(400, "INVALID_PARAMETER", f"Unknown identifier '{name}' on "
                              f"{record.name} (known: {', '.join(columns)})")  # fmt: skip
            return columns[name.lower()]

        limit, offset = _paging(request)
        if parsed.limit is not None:
            limit = min(limit, parsed.limit)
        payload: dict[str, Any] = {
            "entity": record.entity, "limit": limit, "offset": offset + parsed.offset,
            "where": {column(name): value for name, value in parsed.where},
        }  # fmt: skip
        if parsed.order_by is not None:
            payload.update(order_by=column(parsed.order_by),
                           order="desc" if parsed.descending else "asc")  # fmt: skip
        found = await self.perform(request, "find_records", payload)
        wanted = ["*"] if parsed.fields == ("*",) else [name.lower() for name in parsed.fields]
        items = []
        for row in found["records"]:
            names = list(columns) if wanted == ["*"] else wanted
            items.append({name: row.get(column(name)) for name in names})
        return self.page(request, items, found, offset)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _paging(request: Request) -> tuple[int, int]:
    query = request.query_params
    limit, offset = query.get("limit", "1000"), query.get("offset", "0")
    if not (limit.isdigit() and offset.isdigit()) or not 1 <= int(limit) <= 1000:
        raise Refusal(400, "INVALID_PARAMETER", "limit must be 1 to 1000 and offset >= 0")
    return int(limit), int(offset)


def _origin(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


def _domain_lines(fields: Mapping[str, Any]) -> list[dict[str, Any]]:
    items = _dict(fields.get("item")).get("items", [])
    if not isinstance(items, list):
        raise Refusal(400, "USER_ERROR", "item.items must be a list")
    lines = []
    for entry in items:
        if not isinstance(entry, dict) or not isinstance(entry.get("item"), dict):
            raise Refusal(400, "USER_ERROR", 'each item names its item: {"externalId": SKU}')
        lines.append({"sku": entry["item"].get("externalId"), "quantity": entry.get("quantity")})
    return lines


def _minor(value: Any, currency: Any, field_name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Refusal(400, "USER_ERROR", f"{field_name} must be an amount")
    return round(value * MINOR_UNITS.get(str(currency), 100))


def _currency(fields: Mapping[str, Any]) -> str | None:
    currency = fields.get("currency")
    return currency.get("refName") if isinstance(currency, dict) else None


def _sales_order(fields: Mapping[str, Any]) -> dict[str, Any]:
    currency = _currency(fields)
    payload: dict[str, Any] = {
        "quote_id": fields.get("custbody_quote_id"),
        "contract_id": fields.get("custbody_contract_id"),
        "contract_version": fields.get("custbody_contract_version"),
        "customer_id": _dict(fields.get("entity")).get("id"),
        "lines": _domain_lines(fields),
        "total": _minor(fields.get("custbody_quote_total"), currency, "custbody_quote_total"),
    }  # fmt: skip
    if currency is not None:
        payload["currency"] = currency
    if fields.get("custbody_term_months") is not None:
        payload["term_months"] = fields["custbody_term_months"]
    return payload


def _posting(fields: Mapping[str, Any], id_field: str) -> dict[str, Any]:
    currency = _currency(fields)
    entity = _dict(fields.get("entity")) or _dict(fields.get("customer"))
    amount_field = "payment" if id_field == "payment_id" else "custbody_billing_amount"
    payload = {
        id_field: fields.get("externalId"), "customer_id": entity.get("id"),
        "currency": currency, "amount": _minor(fields.get(amount_field), currency, amount_field),
    }  # fmt: skip
    if fields.get("custbody_contract_id") is not None:
        payload["contract_id"] = fields["custbody_contract_id"]
    return payload
