"""The live driver's HTTP client, mocked with respx: every answer a vendor gives becomes the
right kind of error for the engine (business, transient with Retry-After, ambiguous)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import respx

from harness.designs import Context
from harness.effects import Call, Reply
from harness.live.client import http_client
from harness.live.driver import LiveDriver
from harness.live.journal import Journal
from harness.seeds import streams
from tests.simulators.test_http import FakeClock


def call(tmp_path: Path, call: Call) -> Reply:
    async def go() -> Reply:
        async with http_client("http://erp.test", "secret-token") as client:
            journal = Journal(tmp_path / "journal.sqlite")
            driver = LiveDriver(object(), {"erp": client}, journal, FakeClock(),  # type: ignore[arg-type]
                                lambda record: None, Context(streams(1)("design")))  # fmt: skip
            try:
                return await driver._call(call, "trace-1")
            finally:
                journal.close()

    return asyncio.run(go())


ORDER = Call("erp", "create_sales_order", {"quote_id": "Q-1"}, idem_key="Q-1:v1:erp", attempt=2)


@respx.mock
def test_a_success_carries_the_body_and_the_request_its_headers(tmp_path: Path) -> None:
    route = respx.post("http://erp.test/v1/create_sales_order").respond(
        200, json={"order_id": "SO-1"}
    )
    reply = call(tmp_path, ORDER)
    assert reply.ok and reply.body == {"order_id": "SO-1"}
    sent = route.calls.last.request
    assert sent.headers["Authorization"] == "Bearer secret-token"
    assert sent.headers["Idempotency-Key"] == "Q-1:v1:erp"
    assert (
        sent.headers["X-Syncline-Attempt"] == "2" and sent.headers["X-Syncline-Trace"] == "trace-1"
    )


@respx.mock
def test_429_with_retry_after_is_transient_and_says_when(tmp_path: Path) -> None:
    respx.post("http://erp.test/v1/create_sales_order").respond(
        429, json={"error": {"code": "RATE_LIMITED", "message": "slow down"}},
        headers={"Retry-After": "12"},
    )  # fmt: skip
    error = call(tmp_path, ORDER).error
    assert error is not None and error.kind == "transient"
    assert (error.code, error.retry_after, error.status) == ("RATE_LIMITED", 12.0, 429)


@respx.mock
def test_a_business_refusal_is_business(tmp_path: Path) -> None:
    respx.post("http://erp.test/v1/create_sales_order").respond(
        400, json={"error": {"code": "TAX_CODE_MISSING", "message": "no tax code for BR"}}
    )
    error = call(tmp_path, ORDER).error
    assert error is not None and (error.kind, error.code) == ("business", "TAX_CODE_MISSING")


@respx.mock
def test_a_ghost_write_504_and_a_read_timeout_are_ambiguous(tmp_path: Path) -> None:
    route = respx.post("http://erp.test/v1/create_sales_order")
    route.respond(504, json={"error": {"code": "timeout", "message": "no answer"}})
    ghost = call(tmp_path, ORDER).error
    route.side_effect = httpx.ReadTimeout("read timed out")
    timed_out = call(tmp_path, ORDER).error
    assert ghost is not None and ghost.kind == "ambiguous"
    assert timed_out is not None and timed_out.kind == "ambiguous"


@respx.mock
def test_a_refused_connection_is_transient_a_dropped_one_ambiguous(tmp_path: Path) -> None:
    route = respx.post("http://erp.test/v1/create_sales_order")
    route.side_effect = httpx.ConnectError("connection refused")
    refused = call(tmp_path, ORDER).error
    route.side_effect = httpx.RemoteProtocolError("server disconnected")
    dropped = call(tmp_path, ORDER).error
    assert refused is not None and refused.kind == "transient"  # never sent: safe to retry
    assert dropped is not None and dropped.kind == "ambiguous"  # may have been applied


@respx.mock
def test_503_during_maintenance_is_transient(tmp_path: Path) -> None:
    respx.post("http://erp.test/v1/create_sales_order").respond(
        503, json={"error": {"code": "SERVICE_UNAVAILABLE", "message": "maintenance"}}
    )
    error = call(tmp_path, ORDER).error
    assert error is not None and (error.kind, error.status) == ("transient", 503)
