"""`syncline load`: Locust against the live services, then the checkers over what happened.

Locust runs in its own process with the shipped locustfile (never imported here). When it
ends, the load waits for the integration to settle (the orchestrator idle, the history quiet),
exports the services' history through their admin endpoint, and judges it with the
orchestrator's history: the same checkers and reports as a simulated run.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from harness.live.client import http_client
from harness.live.judge import judge, read_exceptions
from harness.live.reach import ServicesGone
from harness.runner import RunResult, new_directory
from harness.units import format_duration

LOCUSTFILE = Path(__file__).with_name("locustfile.py")


@dataclass(frozen=True)
class LoadPlan:
    services_dir: Path
    users: int
    spawn_rate: float
    duration_s: float  # how long Locust runs
    orchestrator: str  # its base URL, to wait until it is idle
    settle_s: float = 60.0
    locust_args: tuple[str, ...] = ()  # passed on, e.g. ("--master", "--expect-workers=2")


def locust_command(plan: LoadPlan, run_dir: Path) -> list[str]:
    return [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
        "--users", str(plan.users), "--spawn-rate", f"{plan.spawn_rate:g}",
        "--run-time", f"{max(round(plan.duration_s), 1)}s", "--csv", str(run_dir / "locust"),
        "--html", str(run_dir / "locust.html"), "--only-summary", "--loglevel", "WARNING",
        *plan.locust_args,
    ]  # fmt: skip


def run_load(plan: LoadPlan, seed: int) -> tuple[RunResult, int]:
    """Run the load, settle, export, judge; return the judged run and Locust's exit code."""
    run_dir = new_directory(plan.services_dir / "loads", seed)
    environment = {**os.environ, "SYNCLINE_SERVICES": str(plan.services_dir / "tokens.json")}
    locust = subprocess.run(locust_command(plan, run_dir), env=environment, check=False)
    settled = asyncio.run(settle(plan.services_dir, plan.orchestrator, plan.settle_s))
    described = json.loads((plan.services_dir / "tokens.json").read_text(encoding="utf-8"))
    held = asyncio.run(read_exceptions(plan.orchestrator, described["admin_token"]))
    exported, lost = asyncio.run(export_history(plan.services_dir, run_dir))
    orchestrator_history = plan.services_dir / "orchestrator" / "history.jsonl"
    result = judge(plan.services_dir, run_dir, [exported, orchestrator_history], held=held,
                   unsettled=lost or settled.why_not)  # fmt: skip
    return result, locust.returncode


#: What a service's /healthz says it has still to do.
SERVICE_WORK = ("deliveries_pending", "operations_pending")


@dataclass(frozen=True)
class Settled:
    """How waiting for the integration to settle ended."""

    settled: bool
    still_moving: int  # workflows in flight and webhooks waiting to be (re)delivered
    waited_s: float

    @property
    def why_not(self) -> str | None:
        if self.settled:
            return None
        return (
            f"still moving after {format_duration(self.waited_s)} (--settle): "
            f"{self.still_moving:,} workflows in flight or webhooks waiting to be delivered"
        )


async def settle(services_dir: Path, orchestrator: str, settle_s: float) -> Settled:
    """Until, for a few seconds, nothing is moving: no webhook waiting to be (re)delivered, no
    exception the operations team has still to act on, nothing in flight in the orchestrator
    (or, for an orchestrator that does not say, no new record in the history); at most
    `settle_s`."""
    history = services_dir / "history.jsonl"
    described = json.loads((services_dir / "tokens.json").read_text(encoding="utf-8"))
    services = [system["url"] for system in described["systems"].values()]
    began = time.monotonic()
    deadline, quiet_since, last_size, busy = began + settle_s, began, -1, 0
    async with http_client(timeout=5.0) as client:
        while time.monotonic() < deadline:
            size = history.stat().st_size if history.exists() else 0
            in_flight = await _figures(client, orchestrator, ("in_flight",))
            busy = in_flight or 0
            for url in services:
                busy += (
                    await _figures(client, url, ("deliveries_pending", "operations_pending")) or 0
                )
            grew = in_flight is None and size != last_size  # nothing else to go by
            if grew or busy:
                quiet_since, last_size = time.monotonic(), size
            elif time.monotonic() - quiet_since >= 3.0:
                return Settled(True, 0, time.monotonic() - began)
            await asyncio.sleep(0.5)
    return Settled(False, busy, time.monotonic() - began)


async def _figures(client: httpx.AsyncClient, base: str, names: tuple[str, ...]) -> int | None:
    """The sum of `names` in `base`/healthz, or None if it does not say."""
    try:
        answer = (await client.get(f"{base.rstrip('/')}/healthz")).json()
    except (httpx.HTTPError, ValueError):
        return None  # not there (a plugin orchestrator without /healthz)
    if not isinstance(answer, dict) or not any(name in answer for name in names):
        return None
    return sum(int(answer.get(name) or 0) for name in names)


async def export_history(services_dir: Path, run_dir: Path) -> tuple[Path, str | None]:
    """The services' history, as their admin endpoint gives it; if they no longer answer, as
    they wrote it to their directory, with the finding that they were lost (None: they
    answered)."""
    described = json.loads((services_dir / "tokens.json").read_text(encoding="utf-8"))
    any_system = next(iter(described["systems"].values()))
    exported = run_dir / "services-history.jsonl"
    async with http_client(any_system["url"], described["admin_token"], timeout=60.0) as client:
        try:
            answer = await client.get("/admin/history")
            answer.raise_for_status()
        except httpx.HTTPError as error:
            written = services_dir / "history.jsonl"
            if not written.is_file():
                raise ServicesGone(
                    f"the services at {any_system['url']} did not give their history "
                    f"({type(error).__name__}) and {written} is gone"
                ) from None
            shutil.copyfile(written, exported)
            return exported, (
                f"the services at {any_system['url']} were lost: they did not answer at the "
                f"end ({type(error).__name__}); judged on the history they had written, and "
                f"`syncline serve --resume {services_dir}` would bring them back"
            )
        exported.write_text(answer.text, encoding="utf-8")
    return exported, None
