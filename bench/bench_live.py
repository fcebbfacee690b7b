"""Live throughput: approved quotes completed per second end to end, over real HTTP on loopback.

Starts `syncline serve --orchestrator reference` (the seed scenario without its faults or
maintenance, at a time scale that makes the profiles' latencies small against the HTTP work;
the reference design with its SQLite journal) as processes, approves quotes into CPQ from
`--clients` concurrent clients, and waits until every one has completed in ERP, billing and
support. Prints quotes
completed per second, the orchestrator's p50 / p95 webhook acceptance latency (arrival to
answer: signature checked, event committed to SQLite), and the machine. In the same run it
measures the framework's ceiling: a bare FastAPI + uvicorn endpoint answering the same request
shape to the same clients, and prints Syncline's per-request cost as a ratio to it.

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

from harness.live.loopback import LoopbackTransport

SYNCLINE = [sys.executable, "-m", "harness"]
#: The vendors' own limits lifted (rate limits, concurrency caps, maintenance): the benchmark
#: measures what Syncline can carry, not what the vendor profiles allow.
UNLIMITED = [
    part
    for system in ("cpq", "erp", "billing", "support")
    for setting in (f"systems.{system}.rate_limits=[]", f"systems.{system}.concurrency=null",
                    f"systems.{system}.maintenance=[]")
    for part in ("--set", setting)
]  # fmt: skip
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
         "--port", str(options.port), "--orchestrator", "reference", "--orchestrator-port",
         str(options.port + 9), "--out", str(out), "--set", "faults=[]",
         "--set", "world.gaps.missing_tax_codes=[]", *UNLIMITED],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )  # fmt: skip
    orchestrator = None
    ceiling = framework_ceiling(options.quotes * 2, options.clients, options.port + 20)
    try:
        wait_up(f"http://127.0.0.1:{options.port}")
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
    requests = requests_per_quote(out / "live" / "history.jsonl", done)
    per_quote_ms = 1000 / (done / elapsed) if done else float("nan")
    bare_ms = 1000 / ceiling
    print(
        f"framework ceiling: a bare FastAPI + uvicorn endpoint answered {ceiling:,.0f} requests/s "
        f"({bare_ms:.2f} ms each) to {options.clients} clients on this machine"
    )
    print(
        f"per quote: {requests:.1f} HTTP requests to the services and orchestrator, "
        f"{per_quote_ms:.1f} ms of wall time; the framework alone would take "
        f"{requests * bare_ms:.1f} ms: Syncline's cost is "
        f"{per_quote_ms / (requests * bare_ms):.1f}x the framework's for the same requests"
    )


COUNTED = ('"type":"invoke"', '"type":"delivered"')


def requests_per_quote(history: Path, quotes: int) -> float:
    """Calls the services answered plus webhooks they delivered, per completed quote."""
    if not quotes or not history.exists():
        return float("nan")
    with history.open(encoding="utf-8") as lines:
        calls = sum(
            1 for line in lines if '"type":"invoke"' in line or '"type":"delivered"' in line
        )
    return calls / quotes


def framework_ceiling(requests: int, clients: int, port: int) -> float:
    """Requests per second a bare FastAPI + uvicorn app answers on this machine: the same
    request shape (POST, bearer token, a JSON quote) and as many clients, through the lean
    transport the orchestrator uses (httpx's default one is slower than the server), no work
    behind it."""
    app = subprocess.Popen(
        [sys.executable, "-c", BARE_APP, str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        wait_up(f"http://127.0.0.1:{port}")
        queue: asyncio.Queue[int] = asyncio.Queue()

        async def hammer() -> float:
            for number in range(requests):
                queue.put_nowait(number)
            headers = {"Authorization": "Bearer t"}
            deal = {"customer_id": "CUST-00001", "lines": LINES}

            async def client() -> None:
                async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}",
                                             headers=headers, timeout=30,
                                             transport=LoopbackTransport()) as http:  # fmt: skip
                    while not queue.empty():
                        queue.get_nowait()
                        (await http.post("/v1/create_quote", json=deal)).json()

            began = time.perf_counter()
            await asyncio.gather(*(client() for _ in range(clients)))
            return requests / (time.perf_counter() - began)

        return asyncio.run(hammer())
    finally:
        app.send_signal(signal.SIGINT)
        app.wait(20)


BARE_APP = """
import sys
import uvicorn
from fastapi import FastAPI, Header, Request
app = FastAPI()
@app.get("/healthz")
async def healthz():
    return {"status": "up"}
@app.post("/v1/{operation}")
async def operation(operation: str, request: Request, authorization: str | None = Header(None)):
    body = await request.json()
    return {"quote_id": "Q-000001", "operation": operation, "lines": body.get("lines")}
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""


if __name__ == "__main__":
    main()
