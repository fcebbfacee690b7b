"""Any simulator over HTTP: an ASGI app (FastAPI) that applies the system's profile in real time.

The same domain module and `Behaviour` answer as in the simulated run; only the driver differs:
here a decision's delay is slept (divided by the clock's time scale) and its fate becomes an
HTTP answer. Rules:

1. Every operation is `POST /v1/<operation>` with a JSON object body, behind the system's
   bearer token (401 without it, before the body is read). The body is read within the
   service's `Limits` and as strict JSON (`simulators.wire`: 413, 431, 400), and judged against
   the operation's declared request (`simulators.requests`, 400) before anything changes.
   `Idempotency-Key` (at most 255 characters, as Stripe's) is honoured as the profile says.
   `X-Syncline-Attempt` and `X-Syncline-Trace`, when a client sends them, go into the history
   so retries can be judged.
2. Answers: 200 and the body; a business refusal with its own 4xx and
   `{"error": {"code", "message"}}`; a refusal by the gateway (outage, maintenance, rate limit,
   read-only, brownout) with its 429 / 503 and `Retry-After`; a ghost write (applied, answer
   lost) and a lost request (not applied) both as 504 after the client's timeout — the client
   cannot tell them apart, as in production, and must treat 504 as "maybe applied".
3. Each applied request's events are delivered as webhooks to the subscriber URLs, signed
   `t=<unix time>,v1=<hex HMAC-SHA256 of "t.body">`, with the profile's delay, duplicates,
   reordering, loss and retry schedule; a delivery counts when the receiver answers 2xx. A
   durable stream (CDC) holds an event while the receiver is away, for its retention.
4. Everything is recorded as plain history records (the shape of `harness.history`): the
   caller turns them into its history file; a string too long for a history line is cut, with
   a marker saying how much. Control endpoints (`/admin/...`) sit behind the admin token:
   start / stop a fault (its parameters checked as the simulated driver's), export the
   history, reset.
5. Every refusal is a 4xx with `{"error": {"code", "message"}}` and leaves the connection open.

Nothing here reads a clock of its own: the driver passes one in.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from fastapi import FastAPI, Header, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from simulators.availability import Conditions
from simulators.base import BUSINESS_ID_FIELDS, DomainEvent, Outcome, SystemOfRecord
from simulators.profiles import Behaviour, CallDecision
from simulators.webhooks import canonical_body, sign
from simulators.wire import Limited, Limits, Malformed, TooLarge, decode, read_body

Record = dict[str, Any]
#: An HTTP answer: status, JSON body, headers.
Answer = tuple[int, dict[str, Any], dict[str, str]]
#: Sends one webhook: (url, body, headers) -> the receiver's status code (0: unreachable).
Send = Callable[[str, bytes, dict[str, str]], Awaitable[int]]
#: A webhook on another wire (a vendor's): (event, delivery number, unix time) -> body, headers.
Wire = Callable[[DomainEvent, int, int], tuple[bytes, dict[str, str]]]
#: Told of each request a system handled, before it is answered: (system, operation, payload,
#: scenario time, idempotency key, fingerprint) — what the host keeps to rebuild the system
#: after a crash.
Applied = Callable[[str, str, Mapping[str, Any], float, str | None, str | None], None]
#: Refusals that change nothing, not even an idempotency key (the request was malformed).
NOTHING_APPLIED = frozenset({"invalid_request", "unknown_operation"})


class Clock(Protocol):
    def now(self) -> float:
        """Seconds of scenario time since the service started."""

    def unix(self) -> int:
        """Unix time, for webhook signatures (receivers compare it with their own clock)."""

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` of scenario time."""


@dataclass
class LiveSystem:
    """One system of record served over HTTP, with its behaviour, clock and history sink."""

    system: SystemOfRecord
    behaviour: Behaviour
    clock: Clock
    record: Callable[[Record], None]
    token: str
    signing_secret: str
    subscribers: list[str] = field(default_factory=list)  # webhook URLs
    send: Send | None = None
    applied: Applied | None = None
    wire: Wire | None = None  # webhooks in a vendor's shape and signature (simulators.vendors)
    calls: int = 0
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def name(self) -> str:
        return self.system.name

    def renew(self, system: SystemOfRecord, behaviour: Behaviour) -> None:
        """A fresh start (an admin reset): new records and behaviour; deliveries of the old
        world's events are dropped."""
        for task in self.tasks:
            task.cancel()
        self.system, self.behaviour, self.calls = system, behaviour, 0

    async def serve(
        self, operation: str, payload: dict[str, Any], idem_key: str | None, attempt: int,
        trace: str | None, fingerprint: str | None = None,
    ) -> Answer:  # fmt: skip
        """One request, as the profile decides: (status, body, headers). `fingerprint`: see
        `SystemOfRecord.handle`."""
        self.calls += 1
        exchange = _Exchange(self, self.calls, operation, attempt, trace, self.clock.now())
        keys = {
            key: value for f, key in BUSINESS_ID_FIELDS
            if type(value := payload.get(f)) in (str, int)  # what the request has not checked
        }  # fmt: skip
        exchange.record("invoke", idem_key=idem_key, keys=keys)
        decision = self.behaviour.decide(exchange.started, operation not in self.system.reads)
        if decision.fate in ("lost", "refuse"):
            await self.clock.sleep(decision.delay)
            return (
                exchange.lost(decision) if decision.fate == "lost" else exchange.refused(decision)
            )
        conflict = self.system.claim(operation, idem_key)
        if conflict is not None:
            await self.clock.sleep(self.behaviour.profile.refusal_after_s)
            exchange.record("fail", error_kind="transient", error_code=conflict.code,
                            cause="conflict")  # fmt: skip
            return 409, _error(conflict.code, conflict.message), {}
        self.behaviour.in_service += 1
        try:
            await self.clock.sleep(decision.delay)
        finally:
            self.behaviour.in_service -= 1
            self.system.release(operation, idem_key)
        now = self.clock.now()
        outcome = self.system.handle(operation, payload, now, idem_key, fingerprint)
        if self.applied is not None and not (
            outcome.error is not None and outcome.error.code in NOTHING_APPLIED and not idem_key
        ):
            self.applied(self.name, operation, payload, now, idem_key, fingerprint)
        # A write of the integration's applied after the profile's client timeout with no key
        # guarding it: a retry would apply it again (harness/sim/network.py, rule 3).
        late = now - exchange.started - self.behaviour.profile.client_timeout_s
        guarded = self.system.idempotency.supported and idem_key is not None
        world = trace is not None and trace.startswith("world:")
        self.commit(outcome, late if late > 0 and not (guarded or world) else None)
        if decision.fate == "ghost":  # applied, but the answer never reaches the client
            timeout = self.behaviour.profile.client_timeout_s
            await self.clock.sleep(max(exchange.started + timeout - self.clock.now(), 0.0))
            return exchange.lost(decision)
        if outcome.error is not None:
            error = outcome.error
            exchange.record("fail", error_kind="business", error_code=error.code,
                            cause="business")  # fmt: skip
            return error.status, _error(error.code, error.message), {}
        exchange.record("ok")
        return 200, dict(outcome.body), {}

    def fault(self, kind: str, params: Mapping[str, Any], starts: bool) -> None:
        """Open or close a condition (`Conditions.KINDS`) and record it."""
        conditions = self.behaviour.conditions
        (conditions.open if starts else conditions.close)(kind, params)
        record: Record = {"kind": "fault", "t": round(self.clock.now(), 6), "system": self.name,
                          "fault": kind, "phase": "start" if starts else "stop"}  # fmt: skip
        if params:
            record["params"] = dict(params)
        self.record(record)

    # -- what requests change, and the webhooks they cause --------------------------------

    def commit(self, outcome: Outcome, past_timeout: float | None = None) -> None:
        now = round(self.clock.now(), 6)
        for change in outcome.changes:
            record: Record = {
                "kind": "state", "t": now, "system": change.system, "entity": change.entity,
                "entity_id": change.entity_id, "change": change.change,
                "version": change.version, "keys": dict(change.keys),
            }  # fmt: skip
            if change.effect_key is not None:
                record["effect_key"] = change.effect_key
            if change.values is not None:
                record["values"] = dict(change.values)
            if past_timeout is not None:
                record["past_timeout"] = round(past_timeout, 6)
            self.record(record)
        for event in outcome.events:
            self._event(event, "emitted", 0)
            self.deliver(event)

    def deliver(self, event: DomainEvent) -> None:
        """Deliver `event` to every subscriber, on its own (an emitted event, or one whose
        delivery a crash of the services cut short)."""
        for url in self.subscribers:
            task = asyncio.get_running_loop().create_task(self._deliver(event, url))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def _deliver(self, event: DomainEvent, url: str) -> None:
        """At least once, as the vendor's profile says: delay, retries, duplicates, loss."""
        plan = self.behaviour.plan_delivery()
        if plan.lost or self.send is None:
            self._event(event, "lost", 0)
            return
        await self.clock.sleep(plan.delay)
        attempt, delivered = 1, 0
        while True:
            reached = False
            if "partition" not in self.behaviour.conditions:
                status = await self.send(url, *self._signed(event, delivered + 1))
                reached = 200 <= status < 300
            delivered += 1 if reached else 0
            age = self.clock.now() - event.occurred_at
            step = self.behaviour.after_attempt(plan, reached, attempt, delivered, age)
            for kind, number in step.records:
                self._event(event, kind, number)
            if step.wait is None:
                return
            attempt += 1
            await self.clock.sleep(step.wait)

    def _signed(self, event: DomainEvent, delivery: int) -> tuple[bytes, dict[str, str]]:
        if self.wire is not None:
            return self.wire(event, delivery, self.clock.unix())
        envelope = webhook_body(event, delivery)
        signature = sign(self.signing_secret, self.clock.unix(), envelope)
        headers = {"Content-Type": "application/json", "Syncline-Signature": signature}
        return canonical_body(envelope).encode(), headers

    def _event(self, event: DomainEvent, kind: str, number: int) -> None:
        record: Record = {
            "kind": "event", "t": round(self.clock.now(), 6), "type": kind,
            "event_id": event.event_id, "event_type": event.type, "system": event.system,
            "keys": dict(event.keys),
        }  # fmt: skip
        if number:
            record["delivery"] = number
        self.record(record)


@dataclass(frozen=True, slots=True)
class _Exchange:
    """One request being answered: what its history records share, and its failed answers."""

    live: LiveSystem
    call_id: int
    operation: str
    attempt: int
    trace: str | None
    started: float

    def record(self, answer: str, **fields: Any) -> None:
        """invoke, then ok / fail / info (Jepsen's indefinite), as the simulated network does."""
        now = self.live.clock.now()
        record: Record = {
            "kind": "call", "t": round(now, 6), "type": answer, "call": self.call_id,
            "system": self.live.name, "operation": self.operation, "attempt": self.attempt,
        }  # fmt: skip
        if self.trace is not None:
            record["trace"] = self.trace
        if answer != "invoke":
            record["latency"] = round(now - self.started, 6)
        record.update({k: v for k, v in fields.items() if v is not None})
        self.live.record(record)

    def lost(self, decision: CallDecision) -> Answer:
        """No answer in time (a lost request, or a ghost write): 504, maybe applied."""
        self.record("info", error_kind="ambiguous", error_code="timeout", cause=decision.cause)
        return 504, _error("timeout", f"no answer from {self.live.name}"), {}

    def refused(self, decision: CallDecision) -> Answer:
        """The gateway's refusal (outage, maintenance, rate limit...), with Retry-After."""
        status = decision.status or 503
        code = decision.code or str(status)
        headers, retry_after = {}, None
        if decision.retry_after is not None:
            # Whole seconds on the wire, as vendors send them, rounded up: a client that waits
            # what it was told is never early. The history records what the client was told.
            retry_after = float(max(1, math.ceil(decision.retry_after)))
            headers["Retry-After"] = str(int(retry_after))
        self.record("fail", error_kind="transient", error_code=code, cause=decision.cause,
                    retry_after=retry_after)  # fmt: skip
        message = f"{self.live.name} answered {status} ({decision.cause})"
        return status, _error(code, message), headers


def webhook_body(event: DomainEvent, delivery: int = 1) -> dict[str, Any]:
    """What a webhook carries: the event, as the receiver rebuilds it (`DomainEvent`)."""
    return {
        "event_id": event.event_id, "type": event.type, "system": event.system,
        "occurred_at": event.occurred_at, "payload": dict(event.payload),
        "keys": dict(event.keys), "delivery": delivery,
    }  # fmt: skip


def event_from_webhook(body: Mapping[str, Any]) -> DomainEvent:
    """The event a webhook carries (`webhook_body`'s inverse); ValueError when it is not one."""
    missing = sorted({"event_id", "type", "system", "payload", "keys"} - set(body))
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")
    if not isinstance(body["payload"], dict) or not isinstance(body["keys"], dict):
        raise ValueError("payload and keys must be objects")
    try:
        occurred_at, delivery = float(body.get("occurred_at", 0.0)), int(body.get("delivery", 1))
    except (TypeError, ValueError, OverflowError):
        raise ValueError("occurred_at and delivery must be numbers") from None
    return DomainEvent(str(body["event_id"]), str(body["type"]), str(body["system"]),
                       occurred_at, body["payload"], body["keys"], delivery)  # fmt: skip


def _error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def _bearer(header: str | None) -> str | None:
    if header is None or not header.startswith("Bearer "):
        return None
    return header.removeprefix("Bearer ").strip()


@dataclass
class Control:
    """What the admin endpoints act on, shared by every system a service runs."""

    admin_token: str
    history: Callable[[], Iterable[str]]  # JSON lines of the history so far
    reset: Callable[[], None]
    #: Work the service's host has still to do besides webhooks (an operations team's).
    pending: Callable[[], int] = lambda: 0
    #: Fault kinds the host enacts itself (a vendor upgrade, an orchestrator crash), beside the
    #: behaviours' conditions: (system, kind, parameters, starts) -> None, or why it cannot.
    enact: Callable[[str, str, Mapping[str, Any], bool], Awaitable[str | None]] | None = None
    enacts: frozenset[str] = frozenset()


#: The answers every operation may give besides its own, for the OpenAPI description.
ANSWERS: dict[int | str, dict[str, Any]] = {
    401: {"description": "no or wrong bearer token"},
    429: {"description": "rate limited; see Retry-After"},
    503: {"description": "outage, maintenance, read-only or brownout; see Retry-After"},
    504: {"description": "no answer in time: the request may have been applied"},
}


#: Headers an operation reads, for the OpenAPI description.
HEADERS = [
    {"name": "Idempotency-Key", "in": "header", "required": False,
     "schema": {"type": "string", "maxLength": 255}},
    {"name": "X-Syncline-Attempt", "in": "header", "required": False,
     "schema": {"type": "integer", "minimum": 1, "maximum": 1000}},
    {"name": "X-Syncline-Trace", "in": "header", "required": False,
     "schema": {"type": "string", "maxLength": 200}},
]  # fmt: skip


def _header_problem(headers: Mapping[str, str]) -> str | None:
    """Why an operation's own headers (`HEADERS`) cannot be taken, or None."""
    if len(headers.get("idempotency-key", "")) > 255:
        return "Idempotency-Key is longer than 255 characters"
    attempt = headers.get("x-syncline-attempt", "1")
    if not (attempt.isascii() and attempt.isdigit() and 1 <= int(attempt) <= 1000):
        return "X-Syncline-Attempt must be a whole number from 1 to 1000"
    if len(headers.get("x-syncline-trace", "")) > 200:
        return "X-Syncline-Trace is longer than 200 characters"
    return None


async def read_json(request: Request, limits: Limits) -> tuple[Any, JSONResponse | None]:
    """A request's body as strict JSON within `limits`, or the 4xx answer refusing it."""
    try:
        raw = await read_body(request.stream(), limits.body_bytes)
        return (decode(raw) if raw else {}), None  # no body: no fields
    except TooLarge as large:
        return None, JSONResponse(_error("body_too_large", str(large)), 413)
    except Malformed as malformed:
        return None, JSONResponse(_error("invalid_request", str(malformed)), 400)


def create_app(live: LiveSystem, control: Control, limits: Limits | None = None) -> FastAPI:
    """The ASGI app for one system: its operations, health, and the admin endpoints."""
    limits = limits or Limits()
    app = FastAPI(
        title=f"Syncline simulated {live.name}",
        version="1",
        description=(
            f"The simulated {live.name} system of record, answering as its profile says "
            "(latency, outages, rate limits, ghost writes). Bearer token per system."
        ),
    )

    def add_operation(operation: str) -> None:
        async def call(request: Request) -> JSONResponse:
            headers = request.headers
            if _bearer(headers.get("authorization")) != live.token:
                return JSONResponse(_error("unauthorized", "a valid bearer token is needed"), 401)
            payload, refused = await read_json(request, limits)
            if refused is not None:
                return refused
            problem = _header_problem(headers)
            if problem is None and not isinstance(payload, dict):
                problem = "the request must be a JSON object"
            if problem is not None:
                return JSONResponse(_error("invalid_request", problem), 400)
            attempt = int(headers.get("x-syncline-attempt", "1"))
            status, body, answer = await live.serve(
                operation, payload, headers.get("idempotency-key"), attempt,
                headers.get("x-syncline-trace"),
            )  # fmt: skip
            return JSONResponse(body, status, answer)

        schema = live.system.requests[operation].schema()
        body = {"content": {"application/json": {"schema": schema}}}
        app.post(
            f"/v1/{operation}", name=operation, operation_id=operation,
            summary=operation.replace("_", " "), responses=ANSWERS,
            openapi_extra={"requestBody": body, "parameters": HEADERS},
        )(call)  # fmt: skip

    for operation in live.system.operations:
        add_operation(operation)

    @app.get("/healthz", operation_id="healthz")
    async def healthz() -> dict[str, Any]:
        """Up, how many webhook deliveries are still on their way (waiting out a retry), and
        how much other work the host has pending (an operations team's)."""
        return {
            "system": live.name,
            "status": "up",
            "deliveries_pending": len(live.tasks),
            "operations_pending": control.pending(),
        }

    def admin(authorization: str | None) -> JSONResponse | None:
        if _bearer(authorization) != control.admin_token:
            return JSONResponse(_error("unauthorized", "the admin token is needed"), 401)
        return None

    @app.post(
        "/admin/faults/{kind}/{action}", operation_id="fault",
        openapi_extra={"requestBody": {"content": {"application/json": {"schema": {
            "type": "object", "additionalProperties": {"type": "number"}}}}}},
    )  # fmt: skip
    async def fault(kind: str, action: str, request: Request) -> JSONResponse:
        refused = admin(request.headers.get("authorization"))
        if refused is not None:
            return refused
        params, refused = await read_json(request, limits)
        if refused is not None:
            return refused
        if action not in ("start", "stop"):
            return JSONResponse(_error("bad_action", "action is start or stop"), 400)
        if kind in control.enacts and control.enact is not None:
            problem = await control.enact(live.name, kind, params, action == "start")
            if problem is not None:
                return JSONResponse(_error("cannot_enact", problem), 409)
            return JSONResponse({"system": live.name, "fault": kind, "phase": action})
        if kind not in Conditions.KINDS:
            known = ", ".join(sorted(Conditions.KINDS | control.enacts))
            return JSONResponse(_error("unknown_fault", f"a live fault is one of: {known}"), 400)
        problem = Conditions.problem(kind, params)
        if problem is not None:
            return JSONResponse(_error("invalid_request", problem), 400)
        live.fault(kind, params, action == "start")
        return JSONResponse({"system": live.name, "fault": kind, "phase": action})

    @app.get("/admin/history", operation_id="history")
    async def history(authorization: str | None = Header(default=None)) -> Any:
        refused = admin(authorization)
        if refused is not None:
            return refused
        return PlainTextResponse("".join(f"{line}\n" for line in control.history()))

    @app.post("/admin/reset", operation_id="reset")
    async def reset(authorization: str | None = Header(default=None)) -> JSONResponse:
        refused = admin(authorization)
        if refused is not None:
            return refused
        control.reset()
        return JSONResponse({"reset": True})

    app.add_middleware(Limited, limits=limits)
    return app


#: A history line longer than this has its long strings cut (rule 4).
LONG_LINE = 8192
#: What is kept of a string that is cut, and the marker after it.
KEPT = 256


def to_line(record: Record) -> str:
    line = json.dumps(record, separators=(",", ":"), ensure_ascii=False)
    if len(line) <= LONG_LINE:
        return line
    return json.dumps(_cut(record), separators=(",", ":"), ensure_ascii=False)


def _cut(value: Any) -> Any:
    if isinstance(value, str) and len(value) > KEPT:
        return f"{value[:KEPT]}...[{len(value) - KEPT} more characters cut]"
    if isinstance(value, dict):
        return {key: _cut(inner) for key, inner in value.items()}
    if isinstance(value, list | tuple):
        return [_cut(inner) for inner in value]
    return value
