"""`syncline orchestrator`: a design (the reference by default) as an HTTP service.

It receives the simulators' webhooks at `POST /webhooks/<system>`, checks each signature and
timestamp (a forged, unsigned or stale one gets 401 and a `security` note in the history),
commits the event to SQLite before answering 202, and runs the design's handler on the live
driver. After a `kill -9`, the next start handles whatever was received and not finished, and
tells the design `orchestrator.restarted` so it recovers from its journal; nothing is lost, and
the design's inbox keeps anything from happening twice.

The business exception queue and the dead letters are served too, behind the admin token:
`GET /exceptions` lists them, `POST /exceptions/<workflow>/<action>` (resolve, replay, skip,
compensate) sends the operator's decision to the design as the operations team would.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI, Header, Request
from fastapi.responses import JSONResponse
from redis.exceptions import RedisError

from harness.checkers.base import percentile
from harness.designs import Context, Design
from harness.designs.api import consumer_groups
from harness.engine.exceptions import EXCEPTIONAL
from harness.engine.exceptions import TABLE as WORKFLOWS
from harness.history import PolicyRecord
from harness.live.broker import RedisBroker
from harness.live.client import http_client
from harness.live.driver import LiveDriver
from harness.live.journal import Journal
from harness.live.loopback import LoopbackTransport
from harness.live.serve import HistoryLog, RealClock
from harness.runner import resolve_design
from harness.scenario import parse
from harness.seeds import streams
from simulators.base import DomainEvent
from simulators.http import event_from_webhook
from simulators.webhooks import DEFAULT_TOLERANCE_S, verify_raw
from simulators.wire import Limited, Limits, Malformed, TooLarge, decode, read_body

#: What an operator may decide about a parked or dead-lettered workflow.
ACTIONS = ("resolve", "replay", "skip", "compensate")
#: How the broker's dead letters are named among the exceptions.
BROKER_PREFIX = "broker:"


class NeedsBroker(Exception):
    """The design consumes from a broker and the services have none."""


def broker_for(
    described: dict[str, Any], design: Design, clock: RealClock, history: HistoryLog
) -> RedisBroker | None:
    """The services' broker, if they run one; one sentence if the design needs one and none."""
    url = described.get("broker")
    if url is None:
        if consumer_groups(design):
            raise NeedsBroker(
                f"{design.name} consumes from a broker and the services run none: install "
                "redis-server (serve starts it) or give serve --broker redis://HOST:PORT"
            )
        return None
    scenario, seed = described["scenario"], int(described.get("seed", 0))
    return RedisBroker(
        url, str(described["broker_namespace"]), scenario.broker, clock, history,
        streams(seed)("broker.delivery"), float(described["time_scale"]),
    )  # fmt: skip


@dataclass
class Orchestrator:
    driver: LiveDriver
    signing_secret: str
    admin_token: str
    unix: Callable[[], float]
    tolerance_s: float = DEFAULT_TOLERANCE_S
    limits: Limits = field(default_factory=Limits)
    operator_events: int = 0
    #: Seconds from a webhook's arrival to its answer (verified, committed), the latest 10,000.
    accept_latencies: deque[float] = field(default_factory=lambda: deque(maxlen=10_000))

    def start(self) -> None:
        """Tell the design it started (or restarted), then finish what a crash interrupted."""
        journal, design = self.driver.journal, self.driver.design
        restarted = journal.existed or not journal.empty
        lifecycle = "orchestrator.restarted" if restarted else "orchestrator.started"
        if restarted:  # what the process knew in memory (when to come back) is gone
            self._note("restarted", "orchestrator", {}, policy="orchestrator")
        pending = journal.pending()
        if lifecycle in design.subscriptions:
            now = self.driver.clock.now()
            event = DomainEvent(f"{lifecycle}-{now:.0f}", lifecycle, "orchestrator", now, {}, {})
            self.driver.spawn(event)
        for position, _, body in pending:
            self._handle(position, body)

    def receive(self, system: str, raw: bytes, signature: str | None) -> tuple[int, str]:
        """One webhook: (status, reason). Its signature is checked over the bytes that arrived
        before they are parsed; the body must name the system its path does (the signature
        covers the body, not the path). Durable before it is acknowledged."""
        if not verify_raw(self.signing_secret, signature, raw, self.unix(), self.tolerance_s):
            reason = _why(signature)
            self._note("webhook_rejected", system, {"reason": reason})
            return 401, reason
        try:
            body = decode(raw)  # strict JSON: finite numbers, bounded depth, Unicode text
        except Malformed as malformed:
            self._note("webhook_rejected", system, {"reason": str(malformed)})
            return 400, str(malformed)
        if not isinstance(body, dict):
            self._note("webhook_rejected", system, {"reason": "not a JSON object"})
            return 400, "not a JSON object"
        try:
            event_from_webhook(body)
        except ValueError as malformed:
            self._note("webhook_rejected", system, {"reason": str(malformed)})
            return 400, str(malformed)
        if body.get("system") != system:
            reason = f"the event is from {body.get('system')!r}, not {system!r}"
            self._note("webhook_rejected", system, {"reason": reason})
            return 400, reason
        position = self.driver.journal.receive(system, body)
        self._handle(position, body)
        return 202, "accepted"

    def _handle(self, position: int, body: dict[str, Any]) -> None:
        task = self.driver.spawn(event_from_webhook(body))
        task.add_done_callback(lambda _: self.driver.journal.handled(position))

    async def all_exceptions(self) -> list[dict[str, Any]]:
        """The design's exceptions, then the broker's dead letters (`broker:<group>:<id>`)."""
        found = self.exceptions()
        broker = self.driver.broker
        if broker is not None:
            with contextlib.suppress(RedisError, OSError):
                for group, message in await broker.dead_letters():
                    found.append({
                        "workflow": f"{BROKER_PREFIX}{group}:{message.event_id}",
                        "status": "dead_lettered", "code": "max_deliveries",
                        "reason": f"{group} gave up on {message.type}", "parked_at": None,
                        "keys": dict(message.keys),
                    })  # fmt: skip
        return found

    def exceptions(self) -> list[dict[str, Any]]:
        """Parked and dead-lettered workflows: id, status, code, reason, since, business keys."""
        return [
            {
                "workflow": key,
                "status": entry["status"],
                "code": entry.get("code"),
                "reason": entry.get("reason"),
                "parked_at": entry.get("parked_at"),
                "keys": dict((entry.get("event") or {}).get("keys") or {"quote": key}),
            }
            for key, entry in self.driver.journal.scan(WORKFLOWS)
            if isinstance(entry, dict) and entry.get("status") in EXCEPTIONAL
        ]

    async def decide(self, workflow: str, action: str) -> None:
        broker = self.driver.broker
        if workflow.startswith(BROKER_PREFIX) and broker is not None:
            group, _, message_id = workflow.removeprefix(BROKER_PREFIX).partition(":")
            if action == "replay" and await broker.replay(group, message_id):
                self._note(f"broker.replay:{group}", message_id, {}, policy="operations")
            return
        self.operator_events += 1
        now = self.driver.clock.now()
        event = DomainEvent(
            f"OPS-LIVE-{self.operator_events:06d}", f"operator.{action}", "operations", now,
            {"workflow": workflow}, {"quote": workflow},
        )  # fmt: skip
        self.driver.spawn(event)

    def _note(
        self, event: str, subject: str, details: dict[str, Any], policy: str = "security"
    ) -> None:
        self.driver.record(
            PolicyRecord(self.driver.clock.now(), policy, subject, event, details or None)
        )


def _why(signature: str | None) -> str:
    return "unsigned" if not signature else "bad or stale signature"


#: A webhook's body (`simulators.http.webhook_body`), for the OpenAPI description.
WEBHOOK_SCHEMA = {
    "type": "object",
    "required": ["event_id", "type", "system", "payload", "keys"],
    "properties": {
        "event_id": {"type": "string"}, "type": {"type": "string"},
        "system": {"type": "string"}, "occurred_at": {"type": "number"},
        "payload": {"type": "object"}, "keys": {"type": "object"},
        "delivery": {"type": "integer", "minimum": 1},
    },
}  # fmt: skip


def create_orchestrator_app(orchestrator: Orchestrator) -> FastAPI:
    app = FastAPI(
        title="Syncline orchestrator",
        version="1",
        description="A design under test as a service: signed webhooks in, calls out.",
    )

    @app.post(
        "/webhooks/{system}", status_code=202, operation_id="webhook",
        openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
            "schema": WEBHOOK_SCHEMA}}}},
    )  # fmt: skip
    async def webhook(
        system: str,
        request: Request,
        syncline_signature: str | None = Header(default=None),
    ) -> JSONResponse:
        arrived = time.perf_counter()
        try:
            raw = await read_body(request.stream(), orchestrator.limits.body_bytes)
        except TooLarge as large:
            return JSONResponse({"error": {"code": "body_too_large", "message": str(large)}}, 413)
        status, reason = orchestrator.receive(system, raw, syncline_signature)
        orchestrator.accept_latencies.append(time.perf_counter() - arrived)
        return JSONResponse({"status": reason}, status)

    def refused(authorization: str | None) -> JSONResponse | None:
        if authorization != f"Bearer {orchestrator.admin_token}":
            return JSONResponse({"error": {"code": "unauthorized"}}, 401)
        return None

    @app.get("/exceptions", operation_id="exceptions")
    async def exceptions(authorization: str | None = Header(default=None)) -> JSONResponse:
        return refused(authorization) or JSONResponse(await orchestrator.all_exceptions())

    @app.post("/exceptions/{workflow}/{action}", operation_id="decide")
    async def decide(
        workflow: str, action: str, authorization: str | None = Header(default=None)
    ) -> JSONResponse:
        denied = refused(authorization)
        if denied is not None:
            return denied
        if action not in ACTIONS:
            return JSONResponse(
                {"error": {"code": "bad_action", "message": f"one of {', '.join(ACTIONS)}"}}, 400
            )
        listed = await orchestrator.all_exceptions()
        if workflow not in {entry["workflow"] for entry in listed}:
            return JSONResponse({"error": {"code": "not_an_exception"}}, 404)
        await orchestrator.decide(workflow, action)
        return JSONResponse({"workflow": workflow, "action": action}, 202)

    @app.get("/healthz", operation_id="healthz")
    async def healthz() -> dict[str, Any]:
        latencies = sorted(orchestrator.accept_latencies)
        return {
            "status": "up",
            "in_flight": len(orchestrator.driver.tasks),
            "webhooks": len(latencies),
            "webhook_accept_ms": {
                "p50": round(percentile(latencies, 50) * 1000, 3) if latencies else None,
                "p95": round(percentile(latencies, 95) * 1000, 3) if latencies else None,
            },
        }

    app.add_middleware(Limited, limits=orchestrator.limits)
    return app


def read_services(directory: Path) -> dict[str, Any]:
    """What `syncline serve` wrote for its clients: URLs, tokens, secret, clock, scenario."""
    tokens = directory / "tokens.json"
    if not tokens.is_file():
        raise FileNotFoundError(
            f"{directory} holds no tokens.json: give the directory `syncline serve` printed"
        )
    described: dict[str, Any] = json.loads(tokens.read_text(encoding="utf-8"))
    described["scenario"] = parse((directory / "scenario.yaml").read_text(encoding="utf-8"),
                                  str(directory / "scenario.yaml"))  # fmt: skip
    return described


async def run_orchestrator(
    services_dir: Path, host: str, port: int, design: str, state: Path
) -> None:
    """Serve `design` against the services in `services_dir` until cancelled."""
    described = read_services(services_dir)
    scenario = described["scenario"]
    factory = resolve_design(design, scenario.designs)
    fresh = factory()
    state.mkdir(parents=True, exist_ok=True)
    clock = RealClock(described["time_scale"], described["started_unix"])
    history = HistoryLog(state / "history.jsonl")
    journal = Journal(state / "journal.sqlite")
    clients = {
        name: http_client(system["url"], system["token"], transport=LoopbackTransport())
        for name, system in described["systems"].items()
    }
    seed = int(described.get("seed", 0))
    context = Context(streams(seed)(f"design.{fresh.name}"), frozenset(described["systems"]))
    broker = broker_for(described, fresh, clock, history)
    driver = LiveDriver(fresh, clients, journal, clock, history, context, broker)
    orchestrator = Orchestrator(driver, described["signing_secret"], described["admin_token"],
                                time.time)  # fmt: skip
    config = uvicorn.Config(create_orchestrator_app(orchestrator), host=host, port=port,
                            log_level="warning", lifespan="off")  # fmt: skip
    server = uvicorn.Server(config)
    consuming: asyncio.Task[None] | None = None
    if broker is not None:
        await broker.connect()
        await broker.subscribe(consumer_groups(fresh))
        consuming = asyncio.create_task(broker.run())
    orchestrator.start()
    try:
        await server.serve()
    finally:
        server.should_exit = True
        if consuming is not None:
            consuming.cancel()
        await driver.stop()
        if broker is not None:
            await broker.close()
        for client in clients.values():
            await client.aclose()
        journal.close()
        history.close()
