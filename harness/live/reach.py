"""Is anyone there? The live commands ask before they start, and say so when a service goes.

Any HTTP answer counts as answering (a user's orchestrator may serve no `/healthz`); a refused
or timed-out connection does not. A service gets a few seconds' grace before it counts as
silent: one that is starting, or being restarted after a crash, answers soon.
"""

from __future__ import annotations

import asyncio

import httpx

from harness.live.client import http_client


class ServicesGone(Exception):
    """A service stopped answering in the middle of a live command."""


async def not_answering(
    targets: dict[str, str], timeout_s: float = 3.0, grace_s: float = 5.0
) -> list[tuple[str, str]]:
    """(what, URL) of each of `targets` (what -> base URL) that has not answered HTTP once
    within `grace_s` (asked every quarter second)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + grace_s
    async with http_client(timeout=timeout_s) as client:

        async def silent(url: str) -> bool:
            while True:
                try:
                    await client.get(f"{url.rstrip('/')}/healthz")
                except httpx.HTTPError:
                    if loop.time() >= deadline:
                        return True
                    await asyncio.sleep(0.25)
                    continue
                return False

        found = await asyncio.gather(*(silent(url) for url in targets.values()))
    return [(what, url) for (what, url), gone in zip(targets.items(), found, strict=True) if gone]
