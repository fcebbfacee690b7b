"""The reference orchestrator as a service, against the simulators as services, all in one
process over ASGI transports on a clock that moves only when something waits."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import httpx

from harness.designs import Context
from harness.designs.reference import ReferenceDesign
from harness.live.driver import LiveDriver
from harness.live.journal import Journal
from harness.live.orchestrator import Orchestrator, create_orchestrator_app
from harness.live.serve import HistoryLog, Services, plan_services
from harness.seeds import streams
from simulators.http import Control, create_app
from simulators.webhooks import canonical_body, sign
from tests.conftest import scenario_with
from tests.simulators.test_http import DEAL, FakeClock


class World:
    """Simulators and orchestrator wired together in memory."""

    def __init__(
        self, tmp_path: Path, state: Path | None = None, services: Services | None = None
    ) -> None:
        scenario = scenario_with(**{"systems.erp.maintenance": []})
        self.services: Services = services or plan_services(
            scenario, 7, tmp_path / "live", 1.0, "127.0.0.1", 8101, "http://orchestrator"
        )
        self.clock = FakeClock()
        self.state = state or tmp_path / "orchestrator"
        self.state.mkdir(exist_ok=True)
        self.history = HistoryLog(self.state / "history.jsonl")

    async def run(self, steps: Callable[[World], Coroutine[Any, Any, Any]]) -> Any:
        services = self.services
        assert services.history is not None
        control = Control(services.admin_token, services.history.lines, services.reset)
        clients = {
            name: httpx.AsyncClient(
                transport=httpx.ASGITransport(app=create_app(live, control)),
                base_url=f"http://{name}",
                headers={"Authorization": f"Bearer {services.tokens[name]}"},
            )
            for name, live in services.live.items()
        }  # fmt: skip
        self.journal = Journal(self.state / "journal.sqlite")
        # No CPQ reconciliation: on this fake clock it would poll without pause, and these
        # tests are about the journal (a webhook accepted before a crash is handled at restart).
        design = ReferenceDesign(reconcile_every=None)
        self.driver = LiveDriver(design, clients, self.journal, self.clock, self.history,
                                 Context(streams(7)("design.reference")))  # fmt: skip
        self.orchestrator = Orchestrator(self.driver, services.signing_secret, "admin",
                                         self.clock.unix)  # fmt: skip
        app = create_orchestrator_app(self.orchestrator)
        self.inbound = httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                         base_url="http://orchestrator")  # fmt: skip

        async def send(url: str, body: bytes, headers: dict[str, str]) -> int:
            answer = await self.inbound.post(url.removeprefix("http://orchestrator"),
                                             content=body, headers=headers)  # fmt: skip
            return answer.status_code

        for live in services.live.values():
            live.clock, live.send = self.clock, send
        self.clients = clients
        self.orchestrator.start()
        try:
            return await steps(self)
        finally:
            await self.settle()
            for client in clients.values():
                await client.aclose()
            await self.inbound.aclose()
            self.journal.close()

    async def settle(self) -> None:
        """Until no webhook is on its way and no handler is running."""
        for _ in range(200):
            pending = [t for live in self.services.live.values() for t in live.tasks]
            pending += list(self.driver.tasks)
            if not pending:
                return
            await asyncio.gather(*pending, return_exceptions=True)

    def records(self) -> list[dict[str, Any]]:
        self.history.close()
        assert self.services.history is not None
        lines = [*self.services.history.lines(), *self.history.lines()]
        return [json.loads(line) for line in lines if line]


async def sell(world: World, deal: dict[str, Any] = DEAL) -> str:
    cpq = world.clients["cpq"]
    quote = (await cpq.post("/v1/create_quote", json=deal)).json()["quote_id"]
    assert (await cpq.post("/v1/approve_quote", json={"quote_id": quote})).status_code == 200
    return str(quote)


def test_an_approved_quote_reaches_erp_billing_and_support(tmp_path: Path) -> None:
    world = World(tmp_path)

    async def steps(world: World) -> str:
        return await sell(world)

    quote = asyncio.run(world.run(steps))
    records = world.records()
    statuses = [r["status"] for r in records if r["kind"] == "workflow" and r["workflow"] == quote]
    assert statuses[0] == "started" and statuses[-1] == "completed", statuses
    contract = next(r["keys"]["contract"] for r in records if r["kind"] == "state"
                    and r["keys"].get("quote") == quote)  # fmt: skip
    created = {(r["system"], r["entity"]) for r in records
               if r["kind"] == "state" and r["keys"].get("contract") == contract}  # fmt: skip
    assert {("erp", "sales_order"), ("billing", "subscription"),
            ("support", "entitlement")} <= created  # fmt: skip
    calls = [r for r in records if r["kind"] == "call" and r["type"] == "invoke"]
    assert {c["system"] for c in calls} >= {"erp", "billing", "support"}


def test_forged_stale_and_unsigned_webhooks_are_rejected_and_recorded(tmp_path: Path) -> None:
    world = World(tmp_path)
    body = {
        "event_id": "E-1", "type": "quote.approved", "system": "cpq", "occurred_at": 0.0,
        "payload": {"quote_id": "Q-000001"}, "keys": {"quote": "Q-000001"}, "delivery": 1,
    }  # fmt: skip
    raw = json.dumps(body).encode()

    async def steps(world: World) -> list[int]:
        now = world.clock.unix()
        secret = world.services.signing_secret
        answers = []
        for signature in (None, sign("not-the-secret", now, body), sign(secret, now - 3600, body)):
            headers = {"Syncline-Signature": signature} if signature else {}
            answer = await world.inbound.post("/webhooks/cpq", content=raw, headers=headers)
            answers.append(answer.status_code)
        return answers

    assert asyncio.run(world.run(steps)) == [401, 401, 401]
    notes = [r for r in world.records() if r["kind"] == "policy" and r["policy"] == "security"]
    assert [n["details"]["reason"] for n in notes] == [
        "unsigned", "bad or stale signature", "bad or stale signature"
    ]  # fmt: skip
    assert not any(r["kind"] == "workflow" and r["workflow"] == "Q-000001" for r in world.records())


def test_a_webhook_accepted_before_a_crash_is_handled_at_restart(tmp_path: Path) -> None:
    state = tmp_path / "orchestrator"
    first = World(tmp_path, state)

    async def killed_after_commit(world: World) -> str:
        # As if `kill -9` struck between the commit (and the 202) and the handler's first step.
        world.orchestrator._handle = lambda position, body: None  # type: ignore[method-assign]
        return await sell(world)

    quote = asyncio.run(first.run(killed_after_commit))
    assert not any(r["kind"] == "workflow" and r["workflow"] == quote for r in first.records())
    journal = Journal(state / "journal.sqlite")
    assert [body["keys"]["quote"] for _, _, body in journal.pending()] == [quote]
    journal.close()

    second = World(tmp_path, state, first.services)  # the same systems, a new orchestrator

    async def restarted(world: World) -> None:
        return None

    asyncio.run(second.run(restarted))
    statuses = [r["status"] for r in second.records()
                if r["kind"] == "workflow" and r["workflow"] == quote]  # fmt: skip
    assert statuses and statuses[-1] == "completed", statuses
    assert Journal(state / "journal.sqlite").pending() == []  # handled, then forgotten


def test_hostile_webhooks_get_a_4xx_before_anything_parses_them(tmp_path: Path) -> None:
    """A signature with non-ASCII hex, a body nested 100,000 deep (unsigned, then signed), and a
    signed event sent to a path naming another system: 4xx each, nothing accepted."""
    world = World(tmp_path)
    body = {
        "event_id": "E-9", "type": "quote.approved", "system": "cpq", "occurred_at": 0.0,
        "payload": {"quote_id": "Q-000009"}, "keys": {"quote": "Q-000009"}, "delivery": 1,
    }  # fmt: skip
    raw = canonical_body(body).encode()
    deep = b"[" * 100_000 + b"]" * 100_000

    def signed(content: bytes, now: int) -> str:
        digest = hmac.new(world.services.signing_secret.encode(), f"{now}.".encode() + content,
                          hashlib.sha256).hexdigest()  # fmt: skip
        return f"t={now},v1={digest}"

    async def steps(world: World) -> list[int]:
        now = world.clock.unix()
        tries = [
            ("/webhooks/cpq", raw, {"Syncline-Signature": f"t={now},v1=\u00e9\u00e9"}),
            ("/webhooks/cpq", deep, {}),
            ("/webhooks/cpq", deep, {"Syncline-Signature": signed(deep, now)}),
            ("/webhooks/nosuch", raw, {"Syncline-Signature": signed(raw, now)}),
        ]
        answers = []
        for path, content, headers in tries:
            encoded = {k: v.encode("latin-1") for k, v in headers.items()}
            answer = await world.inbound.post(path, content=content, headers=encoded)
            answers.append(answer.status_code)
        return answers

    assert asyncio.run(world.run(steps)) == [401, 401, 400, 400]
    assert not any(r["kind"] == "workflow" and r["workflow"] == "Q-000009" for r in world.records())
