"""Live mode for real: `syncline serve` and `syncline orchestrator` as processes on loopback,
a short headless Locust load through `syncline load`, and the checkers over what happened —
once undisturbed, once with the orchestrator killed (-9) mid-load and started again."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

SYNCLINE = [sys.executable, "-m", "harness"]
TIME_SCALE = "60"


def free_base_port(count: int) -> int:
    """A port with the `count` after it free too (the services take consecutive ports)."""
    for base in range(18100 + os.getpid() % 500 * 10, 30000, 10):
        try:
            for port in range(base, base + count):
                with socket.socket() as probe:
                    probe.bind(("127.0.0.1", port))
        except OSError:
            continue
        return base
    raise RuntimeError("no free ports")


def wait_until_up(url: str, process: subprocess.Popen[bytes], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited with {process.returncode}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


@contextmanager
def process(*args: str, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as output:
        started = subprocess.Popen([*SYNCLINE, *args], stdout=output, stderr=subprocess.STDOUT)
        try:
            yield started
        finally:
            if started.poll() is None:
                started.send_signal(signal.SIGINT)
                try:
                    started.wait(10)
                except subprocess.TimeoutExpired:
                    started.kill()
                    started.wait()


class Live:
    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.base = free_base_port(5)
        self.orchestrator_port = self.base + 9
        self.orchestrator_url = f"http://127.0.0.1:{self.orchestrator_port}"
        self.services = tmp_path / "runs" / "live"

    def serve(self) -> Any:
        out = str(self.tmp_path / "runs")
        return process(
            "serve", "subscription_amendment", "--time-scale", TIME_SCALE, "--port",
            str(self.base), "--webhooks", self.orchestrator_url, "--out", out,
            "--set", "systems.erp.maintenance=[]", log=self.tmp_path / "serve.log",
        )  # fmt: skip

    def orchestrator(self, log: str = "orchestrator.log") -> Any:
        return process("orchestrator", str(self.services), "--port", str(self.orchestrator_port),
                       log=self.tmp_path / log)  # fmt: skip

    def load(self, duration: str) -> subprocess.Popen[bytes]:
        with (self.tmp_path / "load.log").open("wb") as log:  # the child keeps its own handle
            return subprocess.Popen(
                [*SYNCLINE, "load", "subscription_amendment", "--users", "6", "--spawn-rate",
                 "3", "--duration", duration, "--services", str(self.services),
                 "--orchestrator", self.orchestrator_url, "--settle", "90"],
                stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip

    def summary(self) -> dict[str, Any]:
        [run_dir] = (self.services / "loads").iterdir()
        summary: dict[str, Any] = json.loads((run_dir / "summary.json").read_text())
        return summary


def figures(summary: dict[str, Any], checker: str) -> dict[str, Any]:
    verdict = next(v for v in summary["checkers"] if v["checker"] == checker)
    assert verdict["status"] == "pass", verdict
    result: dict[str, Any] = verdict["figures"]
    return result


def test_a_load_through_live_services_passes_the_checkers(tmp_path: Path) -> None:
    live = Live(tmp_path)
    with live.serve() as services:
        wait_until_up(f"http://127.0.0.1:{live.base}", services)
        with live.orchestrator() as orchestrator:
            wait_until_up(live.orchestrator_url, orchestrator)
            load = live.load("12s")
            assert load.wait(240) == 0, (tmp_path / "load.log").read_text()
    summary = live.summary()
    assert summary["status"] == "pass", summary["checkers"]
    assert figures(summary, "effect_once")["duplicates"] == 0
    lost = figures(summary, "nothing_lost")
    assert lost["lost"] == 0 and lost["approved"] > 10
    run_dir = next((live.services / "loads").iterdir())
    for made in ("report.html", "locust.html", "locust_stats.csv", "history.jsonl"):
        assert (run_dir / made).is_file(), made


def test_kill_9_of_the_orchestrator_mid_load_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    live = Live(tmp_path)
    with live.serve() as services:
        wait_until_up(f"http://127.0.0.1:{live.base}", services)
        with live.orchestrator() as first:
            wait_until_up(live.orchestrator_url, first)
            load = live.load("20s")
            time.sleep(8)
            first.send_signal(signal.SIGKILL)  # no goodbye: whatever was in flight is cut
            first.wait()
        time.sleep(2)  # webhooks meanwhile are refused; vendors hold or retry them
        with live.orchestrator("orchestrator-restarted.log") as second:
            wait_until_up(live.orchestrator_url, second)
            assert load.wait(300) == 0, (tmp_path / "load.log").read_text()
    summary = live.summary()
    assert figures(summary, "effect_once")["duplicates"] == 0
    lost = figures(summary, "nothing_lost")
    assert lost["lost"] == 0 and lost["approved"] > 10
    assert figures(summary, "partial_updates")["partial_at_end"] == 0
