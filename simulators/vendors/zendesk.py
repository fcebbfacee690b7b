"""Support on Zendesk's wire (`zendesk-like`): what zenpy sends and expects, unmodified.

Zendesk's Support API reference (developer.zendesk.com/api-reference) is the source of every
shape here:
- `/api/v2/organizations`, `/users`, `/tickets` (with or without `.json`), one object under its
  singular name (`{"ticket": {...}}`), lists under the plural; integer ids.
- Cursor pagination (`page[size]` up to 100, `page[after]`; `meta.has_more`,
  `meta.after_cursor`, `links.next`) and, without `page[size]`, offset pages (`page`,
  `per_page`, `next_page`).
- Errors: `{"error": "RecordNotFound", "description"}` (404), `{"error": "RecordInvalid",
  "description", "details"}` (422), 401 `Couldn't authenticate you`, 429 with `Retry-After`
  (docs: Rate limits), 503 with `Retry-After` in maintenance.
- Authentication: `email/token:api_token` Basic, or an OAuth bearer token.
- Webhooks are event-subscription bodies (`type`, `subject`, `detail`, `event`) signed
  `X-Zendesk-Webhook-Signature: base64(HMAC-SHA256(timestamp + body))` with
  `X-Zendesk-Webhook-Signature-Timestamp` (docs: Verifying webhook authenticity).

How support's records map onto Zendesk's:
- Organizations are the business's customers (id: their position in the customer list, from 1;
  `external_id`: the customer id); each has one end user (id 1,000,000 + the organization's).
- The entitlement lives in organization fields, as integrations store it: updating an
  organization with `organization_fields` naming `contract_id`, `contract_version`,
  `support_level`, optionally `valid_from` / `valid_to` (ISO 8601) and `covered_units`,
  writes that contract's entitlement; `entitlement_status: cancelled` cancels it. Reading an
  organization shows the entitlement support would honour now (its best active one).
- Tickets are support cases (id: the case number). Priority urgent / high / normal / low is
  severity 1 to 4. Updating a ticket to `solved` or `closed` closes it; adding the tag
  `escalated` (or priority `urgent`) escalates it, the comment's body as the reason.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import partial
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from simulators.base import DomainEvent
from simulators.http import Answer
from simulators.vendors import facade
from simulators.vendors.facade import (
    TEXT,
    WHOLE,
    Facade,
    Scope,
    derive,
    obj,
    one_of,
)

PRIORITIES = ("urgent", "high", "normal", "low")  # severity 1 to 4
STATUSES = {"new": "new", "escalated": "open", "closed": "closed"}
USER_OFFSET = 1_000_000
EMAIL = "integration@syncline.test"


class Refused(facade.Refusal):
    """Zendesk's error object: `{"error": <kind>, "description", "details"}`."""

    def __init__(self, status: int, kind: str, description: str,
                 headers: Mapping[str, str] | None = None,
                 details: Mapping[str, Any] | None = None) -> None:  # fmt: skip
        super().__init__(status, kind, description, headers)
        self.details = dict(details or {})

    def response(self) -> Response:
        body: dict[str, Any] = {"error": self.code, "description": self.message}
        if self.details:
            body["details"] = self.details
        return JSONResponse(body, self.status, self.headers)


def answer_error(answer: Answer) -> Refused:
    status, code, message, headers = facade.refused(answer)
    if status == 429:
        return Refused(429, "TooManyRequests", "Rate limit exceeded", headers)
    if status >= 500:
        return Refused(status, "ServiceUnavailable", message or "Try again later", headers)
    if status == 404:
        return Refused(404, "RecordNotFound", message or "Not found")
    if status == 409:
        return Refused(409, "Conflict", message)
    return Refused(422, "RecordInvalid", "Record validation errors",
                   details={"base": [{"error": code, "description": message}]})  # fmt: skip


def invalid(description: str) -> Refused:
    return Refused(422, "RecordInvalid", "Record validation errors",
                   details={"base": [{"description": description}]})  # fmt: skip


class ZendeskSupport(Facade):
    vendor = "zendesk"
    public: ClassVar[frozenset[str]] = frozenset({"/openapi.json", "/docs"})

    @property
    def api_token(self) -> str:
        return self.token

    @property
    def webhook_secret(self) -> str:
        return derive(self.secret, "zendesk.webhooks", 44)

    def credentials(self) -> dict[str, Any]:
        return {"email": EMAIL, "api_token": self.api_token, "oauth_token": self.token,
                "webhook_secret": self.webhook_secret}  # fmt: skip

    def authorized(self, scope: Scope) -> bool:
        for name, value in scope["headers"]:
            if name != b"authorization":
                continue
            header = value.decode("latin-1")
            if header == f"Bearer {self.token}":
                return True
            if header.startswith("Basic "):
                try:
                    user, _, password = base64.b64decode(header[6:]).decode().partition(":")
                except (ValueError, UnicodeDecodeError):
                    return False
                return user == f"{EMAIL}/token" and hmac.compare_digest(password, self.token)
        return False

    def denied(self) -> Response:
        return Refused(401, "Couldn't authenticate you", "Couldn't authenticate you").response()

    # -- ids ------------------------------------------------------------------------------------

    def customers(self) -> list[str]:
        return sorted(self.records("customer"))

    def organization_id(self, customer_id: str) -> int | None:
        customers = self.customers()
        return customers.index(customer_id) + 1 if customer_id in customers else None

    def customer_of(self, organization_id: Any) -> str:
        customers = self.customers()
        number = _int(organization_id)
        if number is None or not 1 <= number <= len(customers):
            raise Refused(404, "RecordNotFound", "Not found")
        return customers[number - 1]

    @staticmethod
    def case_id(ticket_id: Any) -> str:
        number = _int(ticket_id)
        if number is None:
            raise Refused(404, "RecordNotFound", "Not found")
        return f"CS-{number:06d}"

    # -- objects --------------------------------------------------------------------------------

    def organization(self, customer_id: str, entitled: Mapping[str, Any] | None) -> dict[str, Any]:
        account = self.records("customer").get(customer_id, {})
        fields: dict[str, Any] = {"customer_id": customer_id, "support_level": "none"}
        if entitled and entitled.get("entitled"):
            fields.update(support_level=entitled["level"], contract_id=entitled["contract_id"],
                          contract_version=entitled.get("contract_version"))  # fmt: skip
        return {
            "id": self.organization_id(customer_id), "external_id": customer_id,
            "name": account.get("name", customer_id), "organization_fields": fields,
            "tags": [], "url": None,
        }  # fmt: skip

    def user(self, customer_id: str) -> dict[str, Any]:
        organization_id = self.organization_id(customer_id) or 0
        account = self.records("customer").get(customer_id, {})
        return {
            "id": USER_OFFSET + organization_id, "name": account.get("name", customer_id),
            "email": f"contact+{customer_id.lower()}@customers.syncline.test",
            "role": "end-user", "organization_id": organization_id, "external_id": customer_id,
        }  # fmt: skip

    def ticket(self, case: Mapping[str, Any]) -> dict[str, Any]:
        organization_id = self.organization_id(case["customer_id"])
        tags = ["escalated"] if case["status"] == "escalated" else []
        return {
            "id": int(str(case["case_id"]).rpartition("-")[2]), "subject": case["subject"],
            "status": STATUSES.get(case["status"], case["status"]),
            "priority": PRIORITIES[int(case["severity"]) - 1],
            "organization_id": organization_id,
            "requester_id": USER_OFFSET + (organization_id or 0), "tags": tags,
            "custom_fields": [
                {"id": "entitled", "value": case.get("entitled")},
                {"id": "entitlement_level", "value": case.get("entitlement_level")},
                {"id": "contract_id", "value": case.get("contract_id")},
            ],
            "created_at": _iso(self.unix(case.get("opened_at", 0.0))),
        }  # fmt: skip

    # -- routes ---------------------------------------------------------------------------------

    def routes(self, app: FastAPI) -> None:
        collections = ("tickets", "organizations", "users")
        listing = {"collection": one_of(*collections, *(f"{c}.json" for c in collections))}
        paging = {"page[size]": {"type": "integer", "minimum": 1, "maximum": 100},
                  "page[after]": TEXT, "page": WHOLE, "per_page": WHOLE}  # fmt: skip
        comment = obj(body=TEXT)
        ticket = obj(ticket=obj(subject=TEXT, organization_id=WHOLE, requester_id=WHOLE,
                                priority=one_of(*PRIORITIES), status=TEXT, comment=comment,
                                tags={"type": "array", "items": TEXT}))  # fmt: skip
        fields = obj(contract_id=TEXT, contract_version=WHOLE, support_level=TEXT,
                     valid_from=TEXT, valid_to=TEXT, covered_units=WHOLE,
                     entitlement_status=TEXT)  # fmt: skip
        organization = obj(organization=obj(organization_fields=fields))

        route = partial(self.route, app)

        route("GET", "/api/v2/{collection}", "list", self.list_objects, path=listing,
              query=paging)  # fmt: skip
        route("GET", "/api/v2/{collection}/{object_id}", "show", self.show,
              path={**listing, "object_id": TEXT})  # fmt: skip
        for url in ("/api/v2/tickets", "/api/v2/tickets.json"):
            route("POST", url, f"create_ticket{url[15:].replace('.', '_')}", self.create_ticket,
                  body=ticket)  # fmt: skip
        route("PUT", "/api/v2/tickets/{ticket_id}", "update_ticket", self.update_ticket,
              path={"ticket_id": TEXT}, body=ticket)  # fmt: skip
        route(
            "PUT",
            "/api/v2/organizations/{organization_id}",
            "update_organization",
            self.update_organization,
            path={"organization_id": TEXT},
            body=organization,
        )

    def path_parameters(self, request: Request) -> dict[str, Any]:
        return {key: _bare(value) for key, value in request.path_params.items()}

    def refusal(self, answer: Answer) -> Refused:
        return answer_error(answer)

    async def body(self, request: Request, name: str) -> dict[str, Any]:
        parsed = facade.json_object(await request.body(),
                                    lambda why: Refused(400, "InvalidJSON", why))  # fmt: skip
        inner = parsed.get(name)
        if not isinstance(inner, dict):
            raise invalid(f"the body must be an object with a {name!r} object")
        return inner

    async def list_objects(self, request: Request, collection: str) -> Response:
        query = request.query_params
        size = _int(query.get("page[size]"))
        per_page = size or _int(query.get("per_page")) or 100
        if not 1 <= per_page <= 100:
            raise invalid("page[size] must be 1 to 100")
        after = query.get("page[after]")
        base = str(request.url).split("?")[0]
        if collection == "tickets":
            payload: dict[str, Any] = {"entity": "case", "limit": per_page}
            if after:
                payload["after"] = self.case_id(_cursor(after))
            elif not size and _int(query.get("page")):
                payload["offset"] = ((_int(query.get("page")) or 1) - 1) * per_page
            found = await self.perform(request, "find_records", payload)
            items = [self.ticket({**row, "case_id": row["id"]}) for row in found["records"]]
        elif collection in ("organizations", "users"):
            payload = {"entity": "customer", "limit": per_page}
            if after:
                payload["after"] = self.customer_of(_cursor(after) % USER_OFFSET)
            found = await self.perform(request, "find_records", payload)
            shown = self.organization if collection == "organizations" else None
            items = [shown(row["id"], None) if shown else self.user(row["id"])
                     for row in found["records"]]  # fmt: skip
        else:
            raise Refused(404, "InvalidEndpoint", "Not found")
        body: dict[str, Any] = {collection: items}
        if size or after:
            last = str(items[-1]["id"]) if items else after
            cursor = _encode_cursor(last) if last else None
            body["meta"] = {"has_more": found["has_more"], "after_cursor": cursor,
                            "before_cursor": None}  # fmt: skip
            body["links"] = {
                "next": f"{base}?page[size]={per_page}&page[after]={cursor}"
                if found["has_more"] else None, "prev": None,
            }  # fmt: skip
        else:
            page = _int(query.get("page")) or 1
            body.update(
                count=found["total"],
                previous_page=None,
                next_page=(
                    f"{base}?page={page + 1}&per_page={per_page}" if found["has_more"] else None
                ),
            )
        return JSONResponse(body)

    async def show(self, request: Request, collection: str, object_id: str) -> Response:
        if collection == "tickets":
            case = await self.perform(request, "get_case", {"case_id": self.case_id(object_id)})
            return JSONResponse({"ticket": self.ticket(case)})
        if collection == "organizations":
            customer_id = self.customer_of(object_id)
            entitled = await self.perform(request, "check_entitlement",
                                          {"customer_id": customer_id})  # fmt: skip
            return JSONResponse({"organization": self.organization(customer_id, entitled)})
        if collection == "users":
            number = _int(object_id)
            customer_id = self.customer_of((number or 0) - USER_OFFSET)
            found = await self.perform(
                request, "find_records", {"entity": "customer", "where": {"id": customer_id}}
            )
            if not found["records"]:
                raise Refused(404, "RecordNotFound", "Not found")
            return JSONResponse({"user": self.user(customer_id)})
        raise Refused(404, "InvalidEndpoint", "Not found")

    async def create_ticket(self, request: Request) -> Response:
        ticket = await self.body(request, "ticket")
        if "organization_id" in ticket:
            customer_id = self.customer_of(ticket["organization_id"])
        elif "requester_id" in ticket:
            customer_id = self.customer_of((_int(ticket["requester_id"]) or 0) - USER_OFFSET)
        else:
            raise invalid("a ticket needs an organization_id or a requester_id")
        priority = ticket.get("priority") or "normal"
        if priority not in PRIORITIES:
            raise invalid(f"priority must be one of {', '.join(PRIORITIES)}")
        subject = ticket.get("subject") or _comment(ticket)
        payload = {"customer_id": customer_id, "severity": PRIORITIES.index(priority) + 1,
                   "subject": str(subject)[:1000]}  # fmt: skip
        opened = await self.perform(request, "open_case", payload)
        case = self.records("case")[opened["case_id"]]
        shown = self.ticket({**case, "case_id": opened["case_id"]})
        audit = {"ticket_id": shown["id"], "events": [{"type": "Create"}]}
        return JSONResponse({"ticket": shown, "audit": audit}, 201)

    async def update_ticket(self, request: Request, ticket_id: str) -> Response:
        ticket = await self.body(request, "ticket")
        case_id = self.case_id(ticket_id)
        status = ticket.get("status")
        tags = ticket.get("tags") or ticket.get("additional_tags") or []
        tags = tags if isinstance(tags, list) else []
        if status in ("solved", "closed"):
            operation, payload = "close_case", {"case_id": case_id}
        elif "escalated" in tags or ticket.get("priority") == "urgent":
            reason = _comment(ticket)[:1000]
            operation, payload = "escalate_case", {"case_id": case_id, "reason": reason}
        else:
            raise invalid(
                "an update closes a ticket (status solved or closed) or escalates it "
                "(tag escalated, or priority urgent); other changes are not simulated"
            )
        await self.perform(request, operation, payload)
        case = self.records("case")[case_id]
        return JSONResponse({"ticket": self.ticket({**case, "case_id": case_id}),
                             "audit": {"ticket_id": int(ticket_id), "events": []}})  # fmt: skip

    async def update_organization(self, request: Request, organization_id: str) -> Response:
        organization = await self.body(request, "organization")
        customer_id = self.customer_of(organization_id)
        fields = organization.get("organization_fields")
        if not isinstance(fields, dict) or "contract_id" not in fields:
            raise invalid("organization_fields must name the entitlement's contract_id")
        version = _int(fields.get("contract_version"))
        if version is None:
            raise invalid("organization_fields.contract_version must be a whole number")
        contract = {"contract_id": str(fields["contract_id"]), "contract_version": version}
        if fields.get("entitlement_status") == "cancelled":
            await self.perform(request, "cancel_entitlement", contract)
        else:
            payload: dict[str, Any] = {**contract, "customer_id": customer_id,
                                       "level": str(fields.get("support_level", ""))}  # fmt: skip
            for name in ("valid_from", "valid_to"):
                if fields.get(name):
                    payload[name] = self.scenario_time(fields[name], name)
            if fields.get("covered_units") is not None:
                units = _int(fields["covered_units"])
                if units is None:
                    raise invalid("organization_fields.covered_units must be a whole number")
                payload["covered_units"] = units
            await self.perform(request, "upsert_entitlement", payload)
        found = self.records("entitlement")
        entitled = next(({"entitled": e["status"] == "active", "level": e["level"],
                          "contract_id": e["contract_id"],
                          "contract_version": e["contract_version"]}
                         for e in found.values() if e["contract_id"] == contract["contract_id"]),
                        None)  # fmt: skip
        return JSONResponse({"organization": self.organization(customer_id, entitled)})

    def scenario_time(self, value: Any, name: str) -> float:
        try:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            raise invalid(f"organization_fields.{name} must be an ISO 8601 time") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.timestamp() - self.live.system.epoch

    # -- webhooks -------------------------------------------------------------------------------

    def webhook(self, event: DomainEvent, delivery: int, unix: int) -> tuple[bytes, dict[str, str]]:
        fields = dict(event.payload.get("data", event.payload))
        case = {**fields, "status": "escalated"}
        ticket = self.ticket(case)
        body = {
            "account_id": 1, "id": event.event_id, "time": _iso(self.unix(event.occurred_at)),
            "type": "zen:event-type:ticket.priority_changed", "zendesk_event_version": "2022-11-06",
            "subject": f"zen:ticket:{ticket['id']}", "detail": ticket,
            "event": {"current": "urgent", "previous": ticket["priority"],
                      "reason": fields.get("escalation_reason", "")},
        }  # fmt: skip
        raw = json.dumps(body, separators=(",", ":"))
        timestamp = _iso(unix)
        digest = hmac.new(self.webhook_secret.encode(), (timestamp + raw).encode(), hashlib.sha256)
        return raw.encode(), {
            "Content-Type": "application/json", "X-Zendesk-Webhook-Id": "syncline-support",
            "X-Zendesk-Webhook-Signature": base64.b64encode(digest.digest()).decode(),
            "X-Zendesk-Webhook-Signature-Timestamp": timestamp,
        }  # fmt: skip


def verify(secret: str, body: bytes, signature: str, timestamp: str) -> bool:
    """Zendesk's documented check: base64(HMAC-SHA256(secret, timestamp + body))."""
    digest = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    return hmac.compare_digest(base64.b64encode(digest).decode(), signature)


def _comment(ticket: Mapping[str, Any]) -> str:
    comment = ticket.get("comment")
    return str(comment.get("body", "")) if isinstance(comment, dict) else ""


def _bare(name: str) -> str:
    return name.removesuffix(".json")


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = str(value) if value is not None else ""
    return int(text) if text.isascii() and text.isdigit() and len(text) < 16 else None


def _iso(unix: int) -> str:
    return datetime.fromtimestamp(unix, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _encode_cursor(last_id: str) -> str:
    return base64.urlsafe_b64encode(last_id.encode()).decode().rstrip("=")


def _cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        raise invalid("page[after] is not a cursor this API gave") from None
    number = _int(text)
    if number is None:
        raise invalid("page[after] is not a cursor this API gave")
    return number
