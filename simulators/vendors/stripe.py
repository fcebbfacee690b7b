"""Billing on Stripe's wire (`stripe-like`): what stripe-python sends and expects, unmodified.

Stripe's API reference (docs.stripe.com/api) is the source of every shape here:
- Objects: customers, products, prices, subscriptions with items, invoices, credit notes and
  payment intents, each with `id`, `object` and Stripe's field names; money in minor units,
  currencies in lower case, times in Unix seconds.
- Requests are form-encoded in bracket notation; lists take `limit` (1-100, default 10),
  `starting_after` / `ending_before` and answer `{"object": "list", "data", "has_more",
  "url"}`; `expand[]` replaces an id with its object (docs: Expanding responses).
- Errors are `{"error": {"type", "code", "message", "param"}}` with 400 / 401 / 402 / 404 /
  409 / 429 / 5xx (docs: Errors); an `Idempotency-Key` replays the first answer for 24 h and a
  different request under the same key is an `idempotency_error` (docs: Idempotent requests).
- Webhooks are event objects signed `Stripe-Signature: t=<unix>,v1=<HMAC-SHA256 of
  "t.payload">` with the endpoint's `whsec_` secret (docs: Webhooks, Check signatures).

How the domain's subscription-per-contract maps onto Stripe's objects:
- A price is a product (the SKU) in one currency: `price` ids are `<SKU>.<CURRENCY>`.
- A subscription names its contract in `metadata[contract_id]` and the contract version each
  change brings in `metadata[contract_version]`, as integrations keep CRM ids in metadata.
  Creating one activates the contract; updating it with `items` amends it (prorated), updating
  it with a new `metadata[contract_version]` and no items renews its term; cancelling it
  (`DELETE`) ends it, and reads the contract version from `metadata[contract_version]` in the
  query (Stripe's cancel takes no metadata; this one extension carries the version).
- Invoices: draft, open (posted with a balance), paid (posted, nothing left), void (reversed).
  Finalizing posts a draft; paying applies a payment of what remains (its payment intent);
  a credit note for the whole invoice reverses it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from functools import partial
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from simulators.base import DomainEvent
from simulators.billing import price_id
from simulators.http import Answer
from simulators.vendors import facade
from simulators.vendors.facade import (
    TEXT,
    WHOLE,
    Facade,
    Handler,
    Scope,
    Unreadable,
    derive,
    form,
    obj,
    one_of,
)

API_VERSION = "2024-06-20"
#: The API version a vendor upgrade (event schema 2) moves webhooks to.
UPGRADED = "2025-01-27"
#: Domain events as Stripe's event types.
EVENT_TYPES = {
    "subscription.activated": "customer.subscription.created",
    "subscription.amended": "customer.subscription.updated",
    "subscription.renewed": "customer.subscription.updated",
    "subscription.cancelled": "customer.subscription.deleted",
    "invoice.posted": "invoice.finalized",
    "invoice.reversed": "credit_note.created",
    "payment.posted": "payment_intent.succeeded",
}
#: Domain error codes as Stripe's (`code`, `param`); others keep their own code, lower-cased.
ERROR_CODES = {
    "RATE_PLAN_NOT_FOUND": ("resource_missing", "items"),
    "SUBSCRIPTION_NOT_FOUND": ("resource_missing", "id"),
    "INVOICE_NOT_FOUND": ("resource_missing", "id"),
    "INVALID_INVOICE_STATUS": ("invoice_not_editable", None),
    "INVOICE_NOT_POSTED": ("invoice_not_editable", None),
    "PAYMENT_APPLIED": ("credit_note_invalid_amount", "invoice"),
    "CREDIT_MEMO_APPLIED": ("credit_note_invalid_amount", "invoice"),
    "idempotency_key_reused": ("idempotency_key_reused", None),
    "idempotency_key_in_use": ("idempotency_key_in_use", None),
    "invalid_request": ("parameter_invalid", None),
    "unknown_entity": ("resource_missing", None),
}


class Refusal(facade.Refusal):
    """Stripe's error object: `{"error": {"type", "code", "message", "param"}}`."""

    def __init__(
        self, status: int, code: str | None, message: str, param: str | None = None,
        kind: str = "invalid_request_error", headers: Mapping[str, str] | None = None,
    ) -> None:  # fmt: skip
        super().__init__(status, code or "", message, headers)
        self.param, self.kind = param, kind

    def response(self) -> Response:
        body: dict[str, Any] = {"type": self.kind, "message": self.message}
        if self.code:
            body["code"] = self.code
        if self.param is not None:
            body["param"] = self.param
        return JSONResponse({"error": body}, self.status, self.headers)


def BadParameter(
    message: str, param: str | None = None, code: str = "parameter_invalid"
) -> Refusal:
    """A parameter Stripe would refuse: 400, or 404 for an id it never issued."""
    return Refusal(404 if code == "resource_missing" else 400, code, message, param)


def answer_error(answer: Answer) -> Refusal:
    """A refusal from the system or its profile, as Stripe answers it."""
    status, code, message, headers = facade.refused(answer)
    if status == 429:
        return Refusal(429, "rate_limit", "Too many requests hit the API too quickly.",
                       headers=headers)  # fmt: skip
    if status >= 500:
        return Refusal(status, None, message or "An error occurred with our API.",
                       kind="api_error", headers=headers)  # fmt: skip
    if code in ("idempotency_key_reused", "idempotency_key_in_use"):
        return Refusal(400 if status == 422 else 409, code, message, kind="idempotency_error")
    stripe_code, param = ERROR_CODES.get(code, (code.lower(), None))
    return Refusal(404 if status == 404 else 400, stripe_code, f"{message} ({code})", param)


class StripeBilling(Facade):
    vendor = "stripe"
    public: ClassVar[frozenset[str]] = frozenset(
        {"/openapi.json", "/docs", "/docs/oauth2-redirect"}
    )

    @property
    def api_key(self) -> str:
        return f"sk_test_{self.token}"

    @property
    def webhook_secret(self) -> str:
        return f"whsec_{derive(self.secret, 'stripe.webhooks')}"

    def credentials(self) -> dict[str, Any]:
        return {"api_key": self.api_key, "webhook_secret": self.webhook_secret}

    def authorized(self, scope: Scope) -> bool:
        for name, value in scope["headers"]:
            if name == b"authorization":
                return bool(value.decode("latin-1") == f"Bearer {self.api_key}")
        return False

    def denied(self) -> Response:
        return Refusal(401, "api_key_invalid", "Invalid API Key provided.").response()

    def refusal(self, answer: Answer) -> Refusal:
        return answer_error(answer)

    # -- objects ------------------------------------------------------------------------------

    def customer(self, customer_id: str, record: Mapping[str, Any]) -> dict[str, Any]:
        currency = record.get("currency")
        return {
            "id": customer_id, "object": "customer", "name": record.get("name") or None,
            "email": record.get("email") or None,
            "currency": currency.lower() if isinstance(currency, str) else None,
            "address": {"country": record.get("region")} if record.get("region") else None,
            "metadata": {}, "livemode": False,
        }  # fmt: skip

    def product(self, sku: str, record: Mapping[str, Any]) -> dict[str, Any]:
        metadata = {"kind": record["kind"]}
        if record.get("support_level"):
            metadata["support_level"] = record["support_level"]
        return {"id": sku, "object": "product", "name": record["name"], "active": True,
                "type": "service", "metadata": metadata, "livemode": False}  # fmt: skip

    def price(self, price: str, record: Mapping[str, Any]) -> dict[str, Any]:
        recurring = {"interval": "year", "interval_count": 1} if record["recurring"] else None
        return {
            "id": price, "object": "price", "product": record["sku"], "active": True,
            "currency": record["currency"].lower(), "unit_amount": record["unit_amount"],
            "type": "recurring" if recurring else "one_time", "recurring": recurring,
            "livemode": False,
        }  # fmt: skip

    def subscription(
        self, record: Mapping[str, Any], latest_invoice: str | None = None
    ) -> dict[str, Any]:
        subscription_id = record["subscription_id"]
        currency = str(record.get("currency", ""))
        prices = self.records("price")
        items = []
        for line in record["lines"]:
            price = price_id(line["sku"], currency)
            priced = prices.get(price)
            items.append({
                "id": f"si_{subscription_id}_{line['sku']}", "object": "subscription_item",
                "price": self.price(price, priced) if priced else {"id": price, "object": "price"},
                "quantity": line["quantity"], "subscription": subscription_id,
            })  # fmt: skip
        cancelled = record["status"] == "cancelled"
        return {
            "id": subscription_id, "object": "subscription", "customer": record["customer_id"],
            "status": "canceled" if cancelled else "active", "currency": currency.lower(),
            "items": {"object": "list", "data": items, "has_more": False,
                      "url": f"/v1/subscription_items?subscription={subscription_id}"},
            "metadata": _contract(record),
            "current_period_start": self.unix(record["term_start"]),
            "current_period_end": self.unix(record["term_end"]),
            "canceled_at": self.unix(record["term_end"]) if cancelled else None,
            "cancel_at_period_end": False, "latest_invoice": latest_invoice, "livemode": False,
        }  # fmt: skip

    def invoice(self, record: Mapping[str, Any]) -> dict[str, Any]:
        if record["status"] == "draft":
            status = "draft"
        elif record["status"] == "reversed":
            status = "void"
        else:
            status = "paid" if record["balance"] == 0 else "open"
        return {
            "id": record["invoice_id"], "object": "invoice", "customer": record["customer_id"],
            "subscription": record["subscription_id"], "status": status,
            "currency": str(record["currency"]).lower(), "total": record["amount"],
            "amount_due": record["amount"], "amount_paid": record.get("payments_applied", 0),
            "amount_remaining": record["balance"],
            "metadata": _contract(record),
            "livemode": False,
        }  # fmt: skip

    def credit_note(self, record: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "id": record["credit_memo_id"], "object": "credit_note",
            "customer": record["customer_id"], "amount": record["amount"],
            "currency": str(record["currency"]).lower(), "status": "issued",
            "metadata": _contract(record),
            "livemode": False,
        }  # fmt: skip

    def payment_intent(self, record: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "id": record["payment_id"], "object": "payment_intent", "amount": record["amount"],
            "amount_received": record["amount"], "currency": str(record["currency"]).lower(),
            "customer": record["customer_id"], "invoice": record["invoice_id"],
            "status": "succeeded", "livemode": False,
        }  # fmt: skip

    #: Each listed object: its domain entity, how to show a record, the filters it takes.
    LISTS: ClassVar[dict[str, tuple[str, str, dict[str, str]]]] = {
        "customers": ("customer", "customer", {"email": "email"}),
        "products": ("product", "product", {}),
        "prices": ("price", "price", {"product": "sku", "currency": "currency"}),
        "subscriptions": ("subscription", "subscription",
                          {"customer": "customer_id", "status": "status"}),
        "invoices": ("invoice", "invoice",
                     {"customer": "customer_id", "subscription": "subscription_id"}),
        "credit_notes": ("credit_memo", "credit_note", {"customer": "customer_id"}),
        "payment_intents": ("payment", "payment_intent", {"customer": "customer_id"}),
    }  # fmt: skip

    def show(self, shape: str, record_id: str, record: Mapping[str, Any]) -> dict[str, Any]:
        if shape in ("customer", "product", "price"):
            shown: dict[str, Any] = getattr(self, shape)(record_id, record)
            return shown
        full = {f"{shape}_id" if shape != "credit_note" else "credit_memo_id": record_id, **record}
        if shape == "payment_intent":
            full["payment_id"] = record_id
        shown = getattr(self, shape)(full)
        return shown

    def expand(self, body: dict[str, Any], paths: list[str]) -> dict[str, Any]:
        """`expand[]`: ids replaced by their objects, one level or under `data.`."""
        targets = {
            "customer": ("customer", "customer"), "latest_invoice": ("invoice", "invoice"),
            "subscription": ("subscription", "subscription"), "invoice": ("invoice", "invoice"),
            "payment_intent": ("payment", "payment_intent"),
        }  # fmt: skip
        for path in paths:
            objects = body["data"] if path.startswith("data.") and "data" in body else [body]
            name = path.removeprefix("data.")
            if name not in targets:
                raise BadParameter(f"This property cannot be expanded ({path}).", "expand")
            entity, shape = targets[name]
            for shown in objects:
                value = shown.get(name)
                if isinstance(value, str):
                    record = self.records(entity).get(value)
                    if record is not None:
                        shown[name] = self.show(shape, value, record)
        return body

    # -- routes -------------------------------------------------------------------------------

    def routes(self, app: FastAPI) -> None:
        collection = {"collection": one_of(*self.LISTS)}
        filters = {name: TEXT for name in ("starting_after", "ending_before", "customer",
                                           "subscription", "status", "product", "currency",
                                           "email")}  # fmt: skip
        listed = {"limit": {"type": "integer", "minimum": 1, "maximum": 100}, **filters}
        one = {**collection, "object_id": TEXT}
        item = obj(price=TEXT, quantity=WHOLE, id=TEXT, deleted={"type": "boolean"})
        metadata = obj(contract_id=TEXT, contract_version=TEXT, quote_id=TEXT,
                       term_months=TEXT)  # fmt: skip
        subscription = obj(customer=TEXT, items={"type": "array", "items": item},
                           metadata=metadata, collection_method=TEXT,
                           proration_behavior=TEXT)  # fmt: skip

        route = partial(self.route, app)

        route("GET", "/v1/{collection}", "list", self.list_objects, path=collection,
              query=listed)  # fmt: skip
        route("GET", "/v1/{collection}/{object_id}", "retrieve", self.retrieve, path=one,
              query={"expand[]": TEXT})  # fmt: skip
        route("POST", "/v1/customers", "create_customer", self.create_customer,
              body=obj(name=TEXT, email=TEXT), form=True)  # fmt: skip
        route("POST", "/v1/subscriptions", "create_subscription", self.create_subscription,
              body=subscription, form=True)  # fmt: skip
        route("POST", "/v1/subscriptions/{subscription_id}", "update_subscription",
              self.update_subscription, path={"subscription_id": TEXT}, body=subscription,
              form=True)  # fmt: skip
        route("DELETE", "/v1/subscriptions/{subscription_id}", "cancel_subscription",
              self.cancel_subscription, path={"subscription_id": TEXT},
              query={"metadata[contract_version]": TEXT})  # fmt: skip
        actions = {"invoice_id": TEXT, "action": one_of("finalize", "pay")}
        route("POST", "/v1/invoices/{invoice_id}/{action}", "invoice_action",
              self.invoice_action, path=actions)  # fmt: skip
        route("POST", "/v1/credit_notes", "create_credit_note", self.create_credit_note,
              body=obj(invoice=TEXT, amount=WHOLE), form=True)  # fmt: skip

    async def dispatch(self, request: Request, handler: Handler) -> Response:
        """Read the parameters (query and form), then run the handler."""
        try:
            params = await form(request)
        except Unreadable as unreadable:
            return Refusal(400, None, str(unreadable)).response()
        key = request.headers.get("idempotency-key")
        if key is not None and len(key) > 255:
            return Refusal(400, None, "Idempotency-Key is longer than 255 characters.").response()
        # Stripe compares a retried request's parameters, not what they came to mean.
        asked = {name: value for name, value in params.items() if name != "expand"}
        request.state.fingerprint = json.dumps(
            [request.method, request.url.path, asked], sort_keys=True
        )

        async def handle(request: Request, **path: Any) -> Response:
            return await handler(request, params, **path)

        return await super().dispatch(request, handle)

    async def list_objects(
        self, request: Request, params: dict[str, Any], collection: str
    ) -> Response:
        if collection not in self.LISTS:
            raise BadParameter(f"Unrecognized request URL (GET: /v1/{collection}).", None,
                               "resource_missing")  # fmt: skip
        entity, shape, filters = self.LISTS[collection]
        limit = _whole(params.get("limit", "10"), "limit", 1, 100)
        where: dict[str, Any] = {}
        for name, field in filters.items():
            if name in params:
                value = params[name]
                if name == "currency":
                    value = str(value).upper()
                if name == "status" and value == "canceled":
                    value = "cancelled"
                where[field] = value
        payload: dict[str, Any] = {"entity": entity, "where": where, "limit": limit}
        if params.get("starting_after"):
            payload["after"] = params["starting_after"]
        if params.get("ending_before"):
            payload.update(after=params["ending_before"], order="desc")
        found = await self.perform(request, "find_records", payload)
        data = [self.show(shape, row.pop("id"), row) for row in found["records"]]
        if params.get("ending_before"):
            data.reverse()
        body = {"object": "list", "data": data, "has_more": found["has_more"],
                "url": f"/v1/{collection}"}  # fmt: skip
        return JSONResponse(self.expand(body, _expansions(params)))

    async def retrieve(
        self, request: Request, params: dict[str, Any], collection: str, object_id: str
    ) -> Response:
        if collection not in self.LISTS:
            raise BadParameter(f"Unrecognized request URL (GET: /v1/{collection}/...).", None,
                               "resource_missing")  # fmt: skip
        entity, shape, _ = self.LISTS[collection]
        payload = {"entity": entity, "where": {"id": object_id}, "limit": 1}
        found = await self.perform(request, "find_records", payload)
        if not found["records"]:
            raise BadParameter(f"No such {shape}: '{object_id}'", "id", "resource_missing")
        row = found["records"][0]
        return JSONResponse(self.expand(self.show(shape, row.pop("id"), row), _expansions(params)))

    async def create_customer(self, request: Request, params: dict[str, Any]) -> Response:
        payload: dict[str, Any] = {key: params[key] for key in ("name", "email") if key in params}
        if "preferred_locales" in params or "currency" in params:
            payload["currency"] = str(params.get("currency", "usd")).upper()
        found = await self.perform(request, "create_customer", payload)
        customer_id = found.pop("customer_id")
        return JSONResponse(self.customer(customer_id, found))

    def lines(self, items: Any, param: str = "items") -> tuple[list[dict[str, Any]], str]:
        """`items[n][price]` and `items[n][quantity]` as the domain's lines, and their
        currency."""
        if not isinstance(items, list) or not items:
            raise BadParameter("Missing required param: items.", param, "parameter_missing")
        lines, currencies = [], set()
        for index, item in enumerate(items):
            if not isinstance(item, dict) or not isinstance(item.get("price"), str):
                raise BadParameter(f"Missing required param: {param}[{index}][price].",
                                   f"{param}[{index}][price]", "parameter_missing")  # fmt: skip
            sku, currency = _price(item["price"], f"{param}[{index}][price]")
            currencies.add(currency)
            quantity = _whole(item.get("quantity", "1"), f"{param}[{index}][quantity]", 1, 10**6)
            lines.append({"sku": sku, "quantity": quantity})
        if len(currencies) > 1:
            raise BadParameter("All prices on a subscription must have the same currency.", param)
        return lines, currencies.pop()

    async def create_subscription(self, request: Request, params: dict[str, Any]) -> Response:
        if not isinstance(params.get("customer"), str):
            raise BadParameter("Missing required param: customer.", "customer", "parameter_missing")
        metadata = _metadata(params)
        lines, currency = self.lines(params.get("items"))
        payload: dict[str, Any] = {
            "contract_id": _required(metadata, "contract_id"),
            "contract_version": _version(metadata), "customer_id": params["customer"],
            "currency": currency.upper(), "lines": lines,
        }  # fmt: skip
        payload.update(_optional(metadata))
        if params.get("collection_method") == "send_invoice":
            payload["invoice_status"] = "draft"
        return await self.subscription_answer(request, "create_subscription", payload, params)

    async def update_subscription(
        self, request: Request, params: dict[str, Any], subscription_id: str
    ) -> Response:
        record, payload = self.contract_change(subscription_id, params)
        if "items" in params:
            payload["lines"] = self.changed_lines(record, params["items"])
            return await self.subscription_answer(request, "amend_subscription", payload, params)
        return await self.subscription_answer(request, "renew_subscription", payload, params)

    async def cancel_subscription(
        self, request: Request, params: dict[str, Any], subscription_id: str
    ) -> Response:
        _, payload = self.contract_change(subscription_id, params)
        return await self.subscription_answer(request, "cancel_subscription", payload, params)

    def contract_change(
        self, subscription_id: str, params: dict[str, Any]
    ) -> tuple[Mapping[str, Any], dict[str, Any]]:
        """A change of a subscription's contract: the subscription, and the domain request
        naming its contract and the version (and quote) the change brings."""
        record = self.known_subscription(subscription_id)
        metadata = _metadata(params)
        payload = {"contract_id": record["contract_id"], "contract_version": _version(metadata),
                   **_optional(metadata)}  # fmt: skip
        return record, payload

    def known_subscription(self, subscription_id: str) -> Mapping[str, Any]:
        record = self.records("subscription").get(subscription_id)
        if record is None:
            raise BadParameter(f"No such subscription: '{subscription_id}'", "id",
                               "resource_missing")  # fmt: skip
        return record

    def changed_lines(self, record: Mapping[str, Any], items: Any) -> list[dict[str, Any]]:
        """Stripe's item changes (`id` to change or delete an item, `price` to add one) applied
        to the subscription's lines: the domain's full target lines. Item ids name their
        product, so a change read again after it was applied comes to the same lines."""
        if not isinstance(items, list):
            raise BadParameter("Invalid array.", "items")
        prefix = f"si_{record['subscription_id']}_"
        lines = {line["sku"]: int(line["quantity"]) for line in record["lines"]}
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                raise BadParameter("Invalid object.", f"items[{index}]")
            param = f"items[{index}]"
            sku = None
            if isinstance(item.get("id"), str):
                sku = item["id"].removeprefix(prefix)
                if not item["id"].startswith(prefix) or not sku:
                    raise BadParameter(f"No such subscription item: '{item['id']}'",
                                       f"{param}[id]", "resource_missing")  # fmt: skip
                if item.get("deleted") in ("true", True):
                    lines.pop(sku, None)  # gone already: a retry of a change that was applied
                    continue
            if isinstance(item.get("price"), str):
                new_sku, currency = _price(item["price"], f"{param}[price]")
                if currency != str(record.get("currency", currency)).upper():
                    raise BadParameter("All prices on a subscription must have the same "
                                       "currency.", f"{param}[price]")  # fmt: skip
                quantity = lines.pop(sku, 1) if sku is not None else 1
                sku = new_sku
                lines[sku] = quantity  # a price already there keeps one item (Stripe's rule)
            if sku is None:
                raise BadParameter("Each item needs an id or a price.", param, "parameter_missing")
            if "quantity" in item:
                lines[sku] = _whole(item["quantity"], f"{param}[quantity]", 1, 10**6)
        return [{"sku": sku, "quantity": quantity} for sku, quantity in lines.items()]

    async def subscription_answer(
        self, request: Request, operation: str, payload: Mapping[str, Any], params: dict[str, Any]
    ) -> Response:
        found = await self.perform(request, operation, payload)
        record = self.records("subscription")[found["subscription_id"]]
        shown = self.subscription(record, found.get("invoice_id"))
        return JSONResponse(self.expand(shown, _expansions(params)))

    async def invoice_action(
        self, request: Request, params: dict[str, Any], invoice_id: str, action: str
    ) -> Response:
        if action == "finalize":
            operation, payload = "post_invoice", {"invoice_id": invoice_id}
        elif action == "pay":
            record = self.records("invoice").get(invoice_id)
            if record is None:
                raise BadParameter(f"No such invoice: '{invoice_id}'", "id", "resource_missing")
            operation = "apply_payment"
            payload = {"invoice_id": invoice_id, "amount": record["balance"]}
        else:
            raise BadParameter(f"Unrecognized request URL (POST: /v1/invoices/.../{action}).",
                               None, "resource_missing")  # fmt: skip
        await self.perform(request, operation, payload)
        record = self.records("invoice")[invoice_id]
        return JSONResponse(self.expand(self.invoice(record), _expansions(params)))

    async def create_credit_note(self, request: Request, params: dict[str, Any]) -> Response:
        invoice_id = params.get("invoice")
        if not isinstance(invoice_id, str):
            raise BadParameter("Missing required param: invoice.", "invoice", "parameter_missing")
        record = self.records("invoice").get(invoice_id)
        if (
            record is not None
            and "amount" in params
            and str(params["amount"]) != str(record["amount"])
        ):
            raise BadParameter("Only a credit note for the whole invoice is simulated.", "amount")
        found = await self.perform(request, "reverse_invoice", {"invoice_id": invoice_id})
        memo = self.records("credit_memo")[found["credit_memo_id"]]
        note = self.show("credit_note", found["credit_memo_id"], memo)
        note["invoice"] = invoice_id
        return JSONResponse(note)

    # -- webhooks -----------------------------------------------------------------------------

    def webhook(self, event: DomainEvent, delivery: int, unix: int) -> tuple[bytes, dict[str, str]]:
        fields = dict(event.payload.get("data", event.payload))
        kind = EVENT_TYPES.get(event.type, event.type)
        if event.type.startswith("subscription."):
            shown = self.subscription(fields)
        elif event.type == "payment.posted":
            shown = self.payment_intent(fields)
        elif event.type == "invoice.reversed":  # the credit note that voids the invoice
            shown = self.credit_note({**fields, "amount": fields["amount"]})
            shown.update(id=fields["credit_memo_id"], invoice=fields["invoice_id"])
        else:
            shown = self.invoice({"payments_applied": 0, **fields})
        body = {
            "id": f"evt_{event.event_id}", "object": "event",
            "api_version": API_VERSION if event.payload.get("schema_version", 1) < 2 else UPGRADED,
            "created": self.unix(event.occurred_at), "type": kind,
            "data": {"object": shown}, "livemode": False, "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
        }  # fmt: skip
        raw = json.dumps(body, separators=(",", ":"))
        signature = sign_raw(self.webhook_secret, unix, raw)
        return raw.encode(), {"Content-Type": "application/json", "Stripe-Signature": signature}


def sign_raw(secret: str, timestamp: int, payload: str) -> str:
    """Stripe's signature over the exact bytes sent (what `construct_event` checks)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


# -- parameters --------------------------------------------------------------------------------


def _contract(record: Mapping[str, Any]) -> dict[str, str]:
    """The contract a billing record belongs to, as metadata shows it."""
    return {"contract_id": record["contract_id"],
            "contract_version": str(record["contract_version"])}  # fmt: skip


def _whole(value: Any, param: str, low: int, high: int) -> int:
    text = str(value)
    if not (text.isascii() and text.isdigit()) or not low <= int(text) <= high:
        raise BadParameter(f"Invalid integer: {text[:20]} (must be {low} to {high}).", param)
    return int(text)


def _price(value: str, param: str) -> tuple[str, str]:
    sku, dot, currency = value.rpartition(".")
    if not dot or not sku or len(currency) != 3:
        raise BadParameter(f"No such price: '{value[:80]}'", param, "resource_missing")
    return sku, currency.upper()


def _metadata(params: Mapping[str, Any]) -> dict[str, Any]:
    metadata = params.get("metadata", {})
    if not isinstance(metadata, dict):
        raise BadParameter("Invalid hash.", "metadata")
    return metadata


def _required(metadata: Mapping[str, Any], name: str) -> str:
    value = metadata.get(name)
    if not isinstance(value, str) or not value:
        raise BadParameter(f"Missing required param: metadata[{name}].", f"metadata[{name}]",
                           "parameter_missing")  # fmt: skip
    return value


def _version(metadata: Mapping[str, Any]) -> int:
    return _whole(_required(metadata, "contract_version"), "metadata[contract_version]", 1, 10**9)


def _optional(metadata: Mapping[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    if isinstance(metadata.get("quote_id"), str) and metadata["quote_id"]:
        found["quote_id"] = metadata["quote_id"]
    if "term_months" in metadata:
        found["term_months"] = _whole(metadata["term_months"], "metadata[term_months]", 1, 120)
    return found


def _expansions(params: Mapping[str, Any]) -> list[str]:
    expand = params.get("expand", [])
    if isinstance(expand, str):
        return [expand]
    if not isinstance(expand, list) or not all(isinstance(path, str) for path in expand):
        raise BadParameter("Invalid array.", "expand")
    return expand
