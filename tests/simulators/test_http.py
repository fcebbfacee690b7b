"""The simulators over HTTP answer as their profiles say: auth, business refusals, gateway
refusals, ghost writes, idempotency, signed webhooks, control endpoints, OpenAPI, history."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import httpx

from harness.history import CallRecord, EventRecord, from_json
from harness.live.serve import Services, plan_services
from harness.scenario import Scenario
from simulators.webhooks import verify
from tests.conftest import scenario_with

LINES = [{"sku": "HW-EDGE-100", "quantity": 10}, {"sku": "SW-FLEET-STD", "quantity": 10}]
DEAL = {"customer_id": "CUST-00001", "lines": LINES}


class FakeClock:
    """Scenario time that moves only when something sleeps: tests never wait."""

    def __init__(self) -> None:
        self.t = 0.0

    def now(self) -> float:
        return self.t

    def unix(self) -> int:
        return 1_800_000_000 + int(self.t)

    async def sleep(self, seconds: float) -> None:
        self.t += max(seconds, 0.0)
        await asyncio.sleep(0)


Sent = list[tuple[str, dict[str, Any], dict[str, str]]]


def services(tmp_path: Path, scenario: Scenario | None = None) -> tuple[Services, Sent]:
    quiet = scenario or scenario_with(**{"systems.erp.maintenance": []})
    built = plan_services(quiet, 7, tmp_path / "live", 1.0, "127.0.0.1", 8101, "http://orch")
    clock, sent = FakeClock(), []

    async def send(url: str, body: bytes, headers: dict[str, str]) -> int:
        sent.append((url, json.loads(body), headers))
        return 200

    for live in built.live.values():
        live.clock, live.send = clock, send
    return built, sent


def drive(
    built: Services, system: str, steps: Callable[[httpx.AsyncClient], Coroutine[Any, Any, Any]]
) -> Any:
    from simulators.http import Control, create_app

    assert built.history is not None
    history = built.history
    control = Control(built.admin_token, history.lines, built.reset)
    app = create_app(built.live[system], control)

    async def go() -> Any:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sim") as client:
            result = await steps(client)
            for _ in range(20):  # let the webhook deliveries finish
                if not built.live[system].tasks:
                    break
                await asyncio.gather(*built.live[system].tasks)
            return result

    try:
        return asyncio.run(go())
    finally:
        history.close()


def auth(built: Services, system: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {built.tokens[system]}"}


def test_a_quote_is_created_approved_and_its_webhook_signed(tmp_path: Path) -> None:
    built, sent = services(tmp_path)

    async def steps(client: httpx.AsyncClient) -> list[httpx.Response]:
        headers = auth(built, "cpq")
        created = await client.post("/v1/create_quote", json=DEAL, headers=headers)
        quote = created.json()["quote_id"]
        approved = await client.post("/v1/approve_quote", json={"quote_id": quote},
                                     headers={**headers, "X-Syncline-Attempt": "2"})  # fmt: skip
        return [created, approved]

    created, approved = drive(built, "cpq", steps)
    assert created.status_code == 200 and approved.status_code == 200
    assert approved.json()["status"] == "approved"
    [(url, body, headers)] = [s for s in sent if s[1]["type"] == "quote.approved"]
    assert url == "http://orch/webhooks/cpq"
    assert body["keys"]["quote"] == created.json()["quote_id"]
    assert verify(built.signing_secret, headers["Syncline-Signature"], body, 1_800_000_000 + 60)
    assert not verify("forged", headers["Syncline-Signature"], body, 1_800_000_000 + 60)
    assert built.history is not None
    records = [from_json(line) for line in built.history.lines()]  # the harness's own shape
    calls = [r for r in records if isinstance(r, CallRecord)]
    assert [(c.operation, c.type) for c in calls] == [
        ("create_quote", "invoke"), ("create_quote", "ok"),
        ("approve_quote", "invoke"), ("approve_quote", "ok"),
    ]  # fmt: skip
    assert calls[2].attempt == 2
    assert any(isinstance(r, EventRecord) and r.type == "delivered" for r in records)


def test_bad_tokens_and_business_refusals(tmp_path: Path) -> None:
    built, _ = services(tmp_path)

    async def steps(client: httpx.AsyncClient) -> list[httpx.Response]:
        return [
            await client.post("/v1/create_quote", json=DEAL),
            await client.post("/v1/create_quote", json=DEAL, headers=auth(built, "erp")),
            await client.post("/v1/create_quote", json={**DEAL, "customer_id": "NOPE"},
                              headers=auth(built, "cpq")),
            await client.post("/v1/create_quote", json={}, headers=auth(built, "cpq")),
            await client.post("/v1/create_quote", content=b"[1, 2]", headers=auth(built, "cpq")),
        ]  # fmt: skip

    no_token, wrong_system, business, malformed, not_an_object = drive(built, "cpq", steps)
    assert no_token.status_code == wrong_system.status_code == 401
    assert business.status_code == 400 and business.json()["error"]["code"] == "INVALID_ACCOUNT"
    assert malformed.status_code == 400 and malformed.json()["error"]["code"] == "invalid_request"
    assert not_an_object.status_code == 400
    assert not_an_object.json()["error"]["message"] == "the request must be a JSON object"


def test_a_fault_started_by_the_admin_refuses_calls_until_stopped(tmp_path: Path) -> None:
    built, _ = services(tmp_path)
    admin = {"Authorization": f"Bearer {built.admin_token}"}

    async def steps(client: httpx.AsyncClient) -> list[httpx.Response]:
        return [
            await client.post("/admin/faults/outage/start", headers=auth(built, "erp")),
            await client.post("/admin/faults/outage/start", headers=admin),
            await client.post("/v1/get_quote", json={"quote_id": "Q-1"},
                              headers=auth(built, "cpq")),
            await client.post("/admin/faults/outage/stop", headers=admin),
            await client.post("/v1/get_quote", json={"quote_id": "Q-1"},
                              headers=auth(built, "cpq")),
            await client.get("/admin/history", headers=admin),
        ]  # fmt: skip

    refused, started, during, stopped, after, history = drive(built, "cpq", steps)
    assert refused.status_code == 401 and started.status_code == stopped.status_code == 200
    assert during.status_code == 503 and during.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
    assert after.status_code == 404  # answered again: Q-1 does not exist
    faults = [json.loads(line) for line in history.text.splitlines() if '"fault"' in line]
    assert [(f["fault"], f["phase"]) for f in faults] == [("outage", "start"), ("outage", "stop")]


def test_a_ghost_write_is_applied_and_answered_504(tmp_path: Path) -> None:
    scenario = scenario_with(**{"systems.erp.maintenance": [],
                                "systems.cpq.ghost_write_probability": 1.0})  # fmt: skip
    built, _ = services(tmp_path, scenario)

    async def steps(client: httpx.AsyncClient) -> httpx.Response:
        headers = {**auth(built, "cpq"), "Idempotency-Key": "deal-1"}
        return await client.post("/v1/create_quote", json=DEAL, headers=headers)

    answer = drive(built, "cpq", steps)
    assert answer.status_code == 504
    assert built.live["cpq"].system.table("quote")  # applied although the answer was lost


def test_an_idempotency_key_replays_the_first_answer(tmp_path: Path) -> None:
    scenario = scenario_with(**{"systems.erp.maintenance": [],
                                "systems.cpq.idempotency": {"supported": True}})  # fmt: skip
    built, _ = services(tmp_path, scenario)

    async def steps(client: httpx.AsyncClient) -> list[httpx.Response]:
        headers = {**auth(built, "cpq"), "Idempotency-Key": "deal-1"}
        first = await client.post("/v1/create_quote", json=DEAL, headers=headers)
        again = await client.post("/v1/create_quote", json=DEAL, headers=headers)
        other = await client.post("/v1/create_quote", json={**DEAL, "lines": DEAL["lines"][:1]},
                                  headers=headers)  # fmt: skip
        return [first, again, other]

    first, again, other = drive(built, "cpq", steps)
    assert first.json() == again.json() and len(built.live["cpq"].system.table("quote")) == 1
    assert other.status_code == 422


def test_every_operation_is_in_the_openapi_description(tmp_path: Path) -> None:
    built, _ = services(tmp_path)

    async def steps(client: httpx.AsyncClient) -> Any:
        return (await client.get("/openapi.json")).json()

    for system in ("cpq", "erp", "billing", "support"):
        spec = drive(built, system, steps)
        operations = {
            path.removeprefix("/v1/") for path in spec["paths"] if path.startswith("/v1/")
        }
        assert operations == set(built.live[system].system.operations), system


def test_serve_refuses_a_port_in_use_with_one_sentence(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from harness.cli import main

    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = CliRunner().invoke(
            main, ["serve", "subscription_amendment", "--port", str(port), "--out", str(tmp_path)]
        )
    assert result.exit_code == 2
    assert f"port {port} on 127.0.0.1 (for cpq) is in use" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "subscription_amendment").exists()  # nothing started, nothing written


def test_a_reset_starts_the_world_again_and_keeps_the_history_so_far(tmp_path: Path) -> None:
    built, _ = services(tmp_path)
    admin = {"Authorization": f"Bearer {built.admin_token}"}

    async def steps(client: httpx.AsyncClient) -> list[httpx.Response]:
        before = await client.post("/v1/create_quote", json=DEAL, headers=auth(built, "cpq"))
        reset = await client.post("/admin/reset", headers=admin)
        after = await client.post("/v1/create_quote", json=DEAL, headers=auth(built, "cpq"))
        return [before, reset, after]

    before, reset, after = drive(built, "cpq", steps)
    assert reset.status_code == 200
    assert before.json()["quote_id"] == after.json()["quote_id"] == "Q-000001"  # a fresh world
    assert len(built.live["cpq"].system.table("quote")) == 1
    archived = tmp_path / "live" / "history.before-reset-1.jsonl"
    old = [json.loads(line) for line in archived.read_text().splitlines()]
    assert built.history is not None
    new = [json.loads(line) for line in built.history.lines()]
    assert [r["kind"] for r in (old[0], new[0])] == ["run_started", "run_started"]
    assert sum(r["kind"] == "call" for r in old) == sum(r["kind"] == "call" for r in new) == 2


def test_an_unknown_fault_kind_is_refused(tmp_path: Path) -> None:
    built, _ = services(tmp_path)

    async def steps(client: httpx.AsyncClient) -> httpx.Response:
        admin = {"Authorization": f"Bearer {built.admin_token}"}
        return await client.post("/admin/faults/outtage/start", headers=admin)

    answer = drive(built, "cpq", steps)
    assert answer.status_code == 400 and "outage" in answer.json()["error"]["message"]


def test_serve_enacts_a_vendor_upgrade_and_refuses_a_crash_it_cannot_make(
    tmp_path: Path,
) -> None:
    """The studio's buttons for the kinds serve enacts itself, through the admin endpoint."""
    from harness.live.serve import ADMIN_FAULTS, admin_faults
    from simulators.http import Control, create_app

    built, _ = services(tmp_path)
    assert built.history is not None and built.system_faults is not None
    control = Control(built.admin_token, built.history.lines, built.reset,
                      enact=admin_faults(built, None), enacts=ADMIN_FAULTS)  # fmt: skip
    app = create_app(built.live["billing"], control)
    admin = {"Authorization": f"Bearer {built.admin_token}"}

    async def go() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sim") as client:
            upgrade = "/admin/faults/vendor_upgrade/start"
            return [
                await client.post(upgrade, json={"schema_version": 3}, headers=admin),
                await client.post("/admin/faults/orchestrator_crash/start", headers=admin),
                await client.post("/admin/faults/master_data_gap/start", headers=admin),
            ]

    upgraded, crash, gap = asyncio.run(go())
    assert upgraded.status_code == 200
    assert built.system_faults.systems["billing"].event_schema_version == 3
    assert crash.status_code == 409
    assert crash.json()["error"]["message"] == (
        "serve runs no orchestrator to crash (start it with --orchestrator)"
    )
    assert gap.status_code == 400 and "vendor_upgrade" in gap.json()["error"]["message"]
    records = [json.loads(line) for line in built.history.lines()]
    faults = [(r["system"], r["fault"], r["phase"]) for r in records if r["kind"] == "fault"]
    assert faults == [("billing", "vendor_upgrade", "start")]
    built.history.close()
