"""The one place live code makes an HTTP client: tests replace its transport (respx)."""

from __future__ import annotations

import httpx

#: Connect fast on loopback; reads wait as long as a simulator may take to answer.
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=2.0)


def http_client(
    base_url: str = "",
    token: str | None = None,
    timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
    transport: httpx.AsyncBaseTransport | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.AsyncClient:
    """An async client for the simulators, the orchestrator or a webhook receiver."""
    headers = {**(headers or {}), **({"Authorization": f"Bearer {token}"} if token else {})}
    return httpx.AsyncClient(
        base_url=base_url, headers=headers, timeout=timeout, transport=transport
    )
