"""Locust's distributed mode, for real: `syncline load` as the master, two worker processes on
loopback running the shipped locustfile, and the checkers over what they did together."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from harness.live.load import LOCUSTFILE
from tests.live.test_end_to_end import SYNCLINE, Live, figures, free_port, wait_until_up


def test_a_load_from_a_master_and_two_workers_passes_the_checkers(tmp_path: Path) -> None:
    live = Live(tmp_path)
    master_port = free_port()
    # No faults and no master-data gaps: nothing waits on people, so the load settles at once.
    calm = ("--set", "faults=[]", "--set", "world.gaps={}")
    with live.serve("--orchestrator", "reference", *calm) as services:
        wait_until_up(live.orchestrator_url, services)
        with (tmp_path / "load.log").open("wb") as log:
            master = subprocess.Popen(
                [*SYNCLINE, "load", "subscription_amendment", "--users", "6", "--spawn-rate",
                 "3", "--duration", "15s", "--services", str(live.services), "--orchestrator",
                 live.orchestrator_url, "--settle", "90", "--locust-arg=--master",
                 "--locust-arg=--expect-workers=2",
                 f"--locust-arg=--master-bind-port={master_port}"],
                stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        environment = {**os.environ, "SYNCLINE_SERVICES": str(live.services / "tokens.json")}
        command = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--worker",
                   "--master-host", "127.0.0.1", "--master-port", str(master_port)]  # fmt: skip
        workers = [subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL)
                   for _ in range(2)]  # fmt: skip
        try:
            assert master.wait(300) == 0, (tmp_path / "load.log").read_text()
        finally:
            for worker in workers:
                worker.terminate()
                worker.wait(20)
    output = (tmp_path / "load.log").read_text()
    summary = live.summary()
    assert summary["status"] == "pass", summary["checkers"]
    lost = figures(summary, "nothing_lost")
    assert lost["lost"] == 0 and lost["approved"] > 10
    assert figures(summary, "effect_once")["duplicates"] == 0
    assert "overall: PASS" in output
