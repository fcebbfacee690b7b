"""Live throughput: approved quotes completed per second end to end, over real HTTP on loopback.

Starts `syncline serve` (the seed scenario, no maintenance, at a time scale that makes the
profiles' latencies small against the HTTP work) and `syncline orchestrator` (the reference
design, SQLite journal) as processes, approves quotes into CPQ from `--clients` concurrent
clients, and waits until every one has completed in ERP, billing and support. Prints quotes
completed per second, the orchestrator's p50 / p95 webhook acceptance latency (arrival to
answer: signature checked, event committed to SQLite), and the machine.

    .venv/bin/python bench/bench_live.py [--quotes 200] [--clients 8] [--time-scale 600]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

SYNCLINE = [sys.executable, "-m", "harness"]
LINES = [{"sku": "HW-EDGE-100", "quantity": 10}, {"sku": "SW-FLEET-STD", "quantity": 10},
         {"sku": "SUP-STANDARD", "quantity": 10}]  # fmt: skip


def wait_up(url: str) -> None:
    for _ in range(200):
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


async def sell(cpq: str, token: str, quotes: int, clients: int, customers: list[str]) -> None:
    queue: asyncio.Queue[int] = asyncio.Queue()
    for number in range(quotes):
        queue.put_nowait(number)
    headers = {"Authorization": f"Bearer {token}"}

    async def rep() -> None:
        async with httpx.AsyncClient(base_url=cpq, headers=headers, timeout=30) as client:
            while not queue.empty():
                number = queue.get_nowait()
                deal = {"customer_id": customers[number % len(customers)], "lines": LINES}
                quote = (await client.post("/v1/create_quote", json=deal)).json()["quote_id"]
                await client.post("/v1/approve_quote", json={"quote_id": quote})

    await asyncio.gather(*(rep() for _ in range(clients)))


def completed(history: Path) -> int:
    if not history.exists():
        return 0
    with history.open(encoding="utf-8") as lines:
        return sum(1 for line in lines if '"status":"completed"' in line and '"Q-' in line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quotes", type=int, default=200)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--time-scale", default="600")
    parser.add_argument("--port", type=int, default=18601)
    options = parser.parse_args()
    out = Path(tempfile.mkdtemp(prefix="syncline-bench-live-"))
    orchestrator_url = f"http://127.0.0.1:{options.port + 9}"
    # Customers in regions ERP can book (the seed scenario has no tax code for BR).
    serve = subprocess.Popen(
        [*SYNCLINE, "serve", "subscription_amendment", "--time-scale", options.time_scale,
         "--port", str(options.port), "--webhooks", orchestrator_url, "--out", str(out),
         "--set", "systems.erp.maintenance=[]", "--set", "world.gaps.missing_tax_codes=[]"],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )  # fmt: skip
    orchestrator = None
    try:
        wait_up(f"http://127.0.0.1:{options.port}")
        orchestrator = subprocess.Popen(
            [*SYNCLINE, "orchestrator", str(out / "live"), "--port", str(options.port + 9)],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
        )  # fmt: skip
        wait_up(orchestrator_url)
        described = json.loads((out / "live" / "tokens.json").read_text())
        cpq = described["systems"]["cpq"]
        customers = [f"CUST-{n:05d}" for n in range(1, 61)]
        history = out / "live" / "orchestrator" / "history.jsonl"
        began = time.perf_counter()
        asyncio.run(sell(cpq["url"], cpq["token"], options.quotes, options.clients, customers))
        sold = time.perf_counter() - began
        while completed(history) < options.quotes and time.perf_counter() - began < 600:
            time.sleep(0.05)
        elapsed = time.perf_counter() - began
        done = completed(history)
        health = httpx.get(f"{orchestrator_url}/healthz").json()
    finally:
        for process in (orchestrator, serve):
            if process is not None:
                process.send_signal(signal.SIGINT)
                process.wait(20)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")  # fmt: skip
    print(f"quotes approved: {options.quotes} from {options.clients} clients in {sold:.1f} s; "
          f"completed end to end: {done} in {elapsed:.1f} s")  # fmt: skip
    print(f"throughput: {done / elapsed:.1f} quotes completed per second "
          f"(time scale {options.time_scale})")  # fmt: skip
    accept = health["webhook_accept_ms"]
    print(
        f"webhooks accepted: {health['webhooks']}, p50 {accept['p50']} ms, "
        f"p95 {accept['p95']} ms (arrival to 202: signature checked, committed to SQLite)"
    )


if __name__ == "__main__":
    main()
