"""The one place live code makes an HTTP client: tests replace its transport (respx)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import httpx

T = TypeVar("T")

#: Connect fast on loopback; reads wait as long as a simulator may take to answer.
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=2.0)
#: Connections a client keeps to one service. Callers with more requests in flight than this
#: queue for a slot themselves (`asyncio.Semaphore`), in O(1): httpcore's pool scans every
#: queued request for every free connection, quadratic under a backlog (two thirds of the
#: orchestrator's CPU at 600 quotes in flight), and a few connections carry loopback traffic.
CONNECTIONS = 4


def http_client(
    base_url: str = "",
    token: str | None = None,
    timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
    transport: httpx.AsyncBaseTransport | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.AsyncClient:
    """An async client for the simulators, the orchestrator or a webhook receiver."""
    headers = {**(headers or {}), **({"Authorization": f"Bearer {token}"} if token else {})}
    limits = httpx.Limits(max_connections=CONNECTIONS, max_keepalive_connections=CONNECTIONS)
    return httpx.AsyncClient(
        base_url=base_url, headers=headers, timeout=timeout, transport=transport, limits=limits
    )


def run_service(main: Coroutine[Any, Any, T]) -> T:
    """Run a long-lived service (serve, the orchestrator) on uvloop when it is installed: the
    same asyncio, a faster loop (bench/RESULTS.md)."""
    try:
        import uvloop  # noqa: PLC0415 - optional, as uvicorn treats it
    except ImportError:
        return asyncio.run(main)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)
