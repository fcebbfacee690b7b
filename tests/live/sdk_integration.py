"""The example SDK integration under `syncline conform`: serve on the vendors' wires, the
example as its own process receiving their webhooks, and conform driving and judging it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.live.test_end_to_end import SYNCLINE, process, wait_until_up
from tests.live.vendor_world import free_block

#: The seed scenario without its schedule of faults (serve cannot crash an orchestrator it does
#: not run) or master-data gaps (their repair waits on office hours, hours of scenario time),
#: and with billing losing a fifth of its answers: retries must be safe.
SETTINGS = ["faults=[]", "world.gaps={}", "systems.billing.ghost_write_probability=20%"]


def conform(tmp_path: Path, *example_options: str) -> tuple[int, dict[str, Any], str]:
    """Serve, start the example, run conform: (exit code, summary, what conform printed)."""
    base = free_block()
    example_url = f"http://127.0.0.1:{base + 18}"
    sets = [item for setting in SETTINGS for item in ("--set", setting)]
    runs = tmp_path / "runs"
    with process(
        "serve", "subscription_amendment", "--time-scale", "600", "--port", str(base),
        "--wire", "vendor", "--webhooks", example_url, "--out", str(runs), *sets,
        log=tmp_path / "serve.log",
    ) as served:  # fmt: skip
        wait_until_up(f"http://127.0.0.1:{base}", served)
        services = next(runs.glob("*/live/*/tokens.json")).parent
        with (tmp_path / "example.log").open("wb") as log:
            example = subprocess.Popen(
                [sys.executable, "-m", "examples.sdk_integration", "--services", str(services),
                 "--port", str(base + 18), *example_options],
                stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
            try:
                wait_until_up(example_url, example)
                judged = subprocess.run(
                    [*SYNCLINE, "conform", "subscription_amendment", "--services",
                     str(services), "--orchestrator-url", example_url, "--duration", "12s",
                     "--rate", "3", "--settle", "90s"],
                    capture_output=True, text=True, check=False, timeout=300,
                )  # fmt: skip
            finally:
                example.terminate()
                example.wait(10)
    summary_file = next((services / "conform").glob("*/summary.json"))
    return judged.returncode, json.loads(summary_file.read_text()), judged.stdout


def checker(summary: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(c for c in summary["checkers"] if c["checker"] == name)
    return found


def verdict(summary: dict[str, Any], name: str) -> str:
    return str(checker(summary, name)["status"])
