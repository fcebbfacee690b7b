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
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from harness.live.client import http_client
from harness.live.judge import judge, read_exceptions
from harness.runner import RunResult, new_directory

LOCUSTFILE = Path(__file__).with_name("locustfile.py")


@dataclass(frozen=True)
class LoadPlan:
    services_dir: Path
    users: int
    spawn_rate: float
    duration: str  # Locust's run time: 30s, 2m, 1h
    orchestrator: str  # its base URL, to wait until it is idle
    settle_s: float = 60.0
    locust_args: tuple[str, ...] = ()  # passed on, e.g. ("--master", "--expect-workers=2")


def locust_command(plan: LoadPlan, run_dir: Path) -> list[str]:
    return [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
        "--users", str(plan.users), "--spawn-rate", f"{plan.spawn_rate:g}",
        "--run-time", plan.duration, "--csv", str(run_dir / "locust"),
        "--html", str(run_dir / "locust.html"), "--only-summary", "--loglevel", "WARNING",
        *plan.locust_args,
    ]  # fmt: skip


def run_load(plan: LoadPlan, seed: int) -> tuple[RunResult, int]:
    """Run the load, settle, export, judge; return the judged run and Locust's exit code."""
    run_dir = new_directory(plan.services_dir / "loads", seed)
    environment = {**os.environ, "SYNCLINE_SERVICES": str(plan.services_dir / "tokens.json")}
    locust = subprocess.run(locust_command(plan, run_dir), env=environment, check=False)
    asyncio.run(settle(plan.services_dir, plan.orchestrator, plan.settle_s))
    described = json.loads((plan.services_dir / "tokens.json").read_text(encoding="utf-8"))
    held = asyncio.run(read_exceptions(plan.orchestrator, described["admin_token"]))
    exported = asyncio.run(export_history(plan.services_dir, run_dir))
    orchestrator_history = plan.services_dir / "orchestrator" / "history.jsonl"
    result = judge(plan.services_dir, run_dir, [exported, orchestrator_history], held=held)
    return result, locust.returncode


async def settle(services_dir: Path, orchestrator: str, settle_s: float) -> None:
    """Until no webhook is waiting to be (re)delivered, the orchestrator has nothing in flight,
    and no record arrived for a few seconds; at most `settle_s`."""
    history = services_dir / "history.jsonl"
    described = json.loads((services_dir / "tokens.json").read_text(encoding="utf-8"))
    services = [system["url"] for system in described["systems"].values()]
    deadline, quiet_since, last_size = time.monotonic() + settle_s, time.monotonic(), -1
    async with http_client(timeout=5.0) as client:
        while time.monotonic() < deadline:
            size = history.stat().st_size if history.exists() else 0
            busy = await _busy(client, f"{orchestrator.rstrip('/')}/healthz", "in_flight")
            for url in services:
                busy += await _busy(client, f"{url}/healthz", "deliveries_pending")
            if size != last_size or busy:
                quiet_since, last_size = time.monotonic(), size
            elif time.monotonic() - quiet_since >= 3.0:
                return
            await asyncio.sleep(0.5)


async def _busy(client: httpx.AsyncClient, url: str, figure: str) -> int:
    try:
        return int((await client.get(url)).json().get(figure, 0))
    except (httpx.HTTPError, ValueError):
        return 0  # not there (a plugin orchestrator without /healthz): go by the history


async def export_history(services_dir: Path, run_dir: Path) -> Path:
    """The services' history, as their admin endpoint gives it."""
    described = json.loads((services_dir / "tokens.json").read_text(encoding="utf-8"))
    any_system = next(iter(described["systems"].values()))
    exported = run_dir / "services-history.jsonl"
    async with http_client(any_system["url"], described["admin_token"], timeout=60.0) as client:
        answer = await client.get("/admin/history")
        answer.raise_for_status()
        exported.write_text(answer.text, encoding="utf-8")
    return exported
