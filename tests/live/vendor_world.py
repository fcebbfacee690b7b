"""`syncline serve --wire vendor` for the vendor SDK tests: the services as a process, a webhook
receiver beside them, and the admin calls that open faults."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from tests.live.test_end_to_end import free_base_port, process, wait_until_up

#: No scheduled maintenance, outages or faults: the tests open the ones they need.
CALM = [
    *(f"systems.{s}.{f}={v}" for s in ("cpq", "erp", "billing", "support")
      for f, v in (("maintenance", "[]"), ("outages", "null"))),
    "faults=[]", "world.gaps={}",
]  # fmt: skip


def free_block() -> int:
    """The first of 20 free ports (a system's own API takes base + n, its vendor wire base + 10
    + n): blocks of 20 from 26000, apart from the 10-port blocks other live tests take below
    26000 and under the ephemeral range (see EPHEMERAL), so that two workers never share one."""
    return free_base_port(20, first=26000, step=20, last=31000)


@dataclass
class Receiver:
    """Webhooks as they arrive: (path, headers, raw body). Answers 200."""

    port: int
    received: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)

    def serve(self) -> ThreadingHTTPServer:
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                received.append((self.path, dict(self.headers.items()), body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server

    def naming(self, text: str, seconds: float = 20.0) -> list[tuple[str, dict[str, str], bytes]]:
        """The webhooks whose bodies name `text`, once one has arrived (failing after
        `seconds` without one)."""
        deadline = time.monotonic() + seconds
        while not (found := [r for r in self.received if text.encode() in r[2]]):
            assert time.monotonic() < deadline, f"no webhook names {text}"
            time.sleep(0.1)
        return found


@dataclass
class VendorWorld:
    directory: Path
    described: dict[str, Any]
    receiver: Receiver

    def vendor(self, system: str) -> dict[str, Any]:
        found: dict[str, Any] = self.described["vendor"][system]
        return found

    @property
    def ca(self) -> str:
        return str(self.described["ca_bundle"])

    def fault(self, system: str, kind: str, action: str, **params: float) -> None:
        url = self.described["systems"][system]["url"]
        answer = httpx.post(
            f"{url}/admin/faults/{kind}/{action}", json=params,
            headers={"Authorization": f"Bearer {self.described['admin_token']}"},
        )  # fmt: skip
        answer.raise_for_status()

    def history(self) -> list[dict[str, Any]]:
        path = Path(self.described["history"])
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@contextmanager
def vendor_world(
    tmp_path: Path, *sets: str, wire: str = "vendor", time_scale: str = "600"
) -> Iterator[VendorWorld]:
    base = free_block()
    receiver = Receiver(base + 19)
    server = receiver.serve()
    overrides = [item for setting in (*CALM, *sets) for item in ("--set", setting)]
    try:
        with process(
            "serve", "subscription_amendment", "--time-scale", time_scale, "--port", str(base),
            "--webhooks", f"http://127.0.0.1:{receiver.port}", "--wire", wire,
            "--out", str(tmp_path / "runs"), *overrides, log=tmp_path / "serve.log",
        ) as served:  # fmt: skip
            wait_until_up(f"http://127.0.0.1:{base}", served)
            tokens = next((tmp_path / "runs").glob("*/live/*/tokens.json"))
            described = json.loads(tokens.read_text())
            for system in described.get("vendor", {}).values():
                _wait_for_tls(system["url"], described["ca_bundle"])
            yield VendorWorld(tokens.parent, described, receiver)
    finally:
        server.shutdown()
        server.server_close()


def _wait_for_tls(url: str, ca: str) -> None:
    for _ in range(100):
        try:
            httpx.get(f"{url}/openapi.json", verify=ca, timeout=1.0)
            return
        except httpx.HTTPError:
            threading.Event().wait(0.1)
    raise RuntimeError(f"{url} did not come up")
