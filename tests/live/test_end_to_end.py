"""Live mode for real: `syncline serve` and `syncline orchestrator` as processes on loopback,
a short headless Locust load through `syncline load`, and the checkers over what happened —
with the scenario's orchestrator crash enacted by serve (SIGKILL and restart), with the
orchestrator killed (-9) by hand mid-load and started again, and with the operations team
resuming what a missing tax code parked."""

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


#: Ports the live tests listen on stay below Linux's ephemeral range (32768 up, where every
#: outgoing connection takes its local port): a port probed free there can be taken by some
#: other worker's client before serve binds it, and serve then exits with uvicorn's 3.
EPHEMERAL = 32768


def free_base_port(count: int, first: int = 18100, step: int = 10, last: int = 26000) -> int:
    """A port with the `count` after it free too (the services take consecutive ports), looked
    for in [first, last) in steps of `step`, starting at a place of this process's own and
    wrapping round, so that parallel test workers rarely probe the same ports."""
    assert last <= EPHEMERAL, "a listening port in the ephemeral range can be taken meanwhile"
    bases = range(first, last - count + 1, step)
    start = os.getpid() % len(bases)
    for base in (*bases[start:], *bases[:start]):
        try:
            for port in range(base, base + count):
                with socket.socket() as probe:
                    probe.bind(("127.0.0.1", port))
        except OSError:
            continue
        return base
    raise RuntimeError(f"no {count} free ports in a row between {first} and {last}")


def free_port() -> int:
    """One free port, from a range of single ports apart from the blocks (31000 to 32760)."""
    return free_base_port(1, first=31000, step=7, last=32760)


#: Each started process's output file, by pid, so that a process that dies while it is awaited
#: is reported with its last words.
LOGS: dict[int, Path] = {}


def wait_until_up(url: str, process: subprocess.Popen[bytes], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited with {process.returncode}{_last_words(process)}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def _last_words(process: subprocess.Popen[bytes]) -> str:
    log = LOGS.get(process.pid)
    if log is None or not log.exists():
        return ""
    tail = log.read_text(errors="replace").strip().splitlines()[-5:]
    return ": " + " | ".join(tail) if tail else ""


@contextmanager
def process(*args: str, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as output:
        started = subprocess.Popen([*SYNCLINE, *args], stdout=output, stderr=subprocess.STDOUT)
        LOGS[started.pid] = log
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
    def __init__(self, tmp_path: Path, scenario: str = "subscription_amendment") -> None:
        self.tmp_path, self.scenario = tmp_path, scenario
        self.base = free_base_port(5)
        self.orchestrator_port = self.base + 9
        self.orchestrator_url = f"http://127.0.0.1:{self.orchestrator_port}"
        self.services = tmp_path / "runs" / "live"

    def serve(self, *options: str, time_scale: str = TIME_SCALE) -> Any:
        """The services, and the orchestrator too when `options` say `--orchestrator`; without,
        it delivers to the orchestrator started by hand."""
        out = str(self.tmp_path / "runs")
        runs = "--orchestrator" in options
        where = ["--orchestrator-port" if runs else "--webhooks",
                 str(self.orchestrator_port) if runs else self.orchestrator_url]  # fmt: skip
        return process(
            "serve", self.scenario, "--time-scale", time_scale, "--port", str(self.base),
            *where, "--out", out, "--set", "systems.erp.maintenance=[]", *options,
            log=self.tmp_path / "serve.log",
        )  # fmt: skip

    def orchestrator(self, log: str = "orchestrator.log") -> Any:
        return process("orchestrator", str(self.services), "--port", str(self.orchestrator_port),
                       log=self.tmp_path / log)  # fmt: skip

    def load(self, duration: str) -> subprocess.Popen[bytes]:
        with (self.tmp_path / "load.log").open("wb") as log:  # the child keeps its own handle
            return subprocess.Popen(
                [*SYNCLINE, "load", self.scenario, "--users", "6", "--spawn-rate",
                 "3", "--duration", duration, "--services", str(self.services),
                 "--orchestrator", self.orchestrator_url, "--settle", "90"],
                stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip

    def summary(self) -> dict[str, Any]:
        loads = self.services / "loads"
        told = (self.tmp_path / "load.log").read_text(errors="replace")[-3000:]
        assert loads.is_dir(), f"the load judged nothing; it said:\n{told}"
        [run_dir] = loads.iterdir()
        summary: dict[str, Any] = json.loads((run_dir / "summary.json").read_text())
        return summary


def figures(summary: dict[str, Any], checker: str) -> dict[str, Any]:
    verdict = next(v for v in summary["checkers"] if v["checker"] == checker)
    assert verdict["status"] == "pass", verdict
    result: dict[str, Any] = verdict["figures"]
    return result


#: The scenario's faults replaced by one orchestrator crash, at 600x 60 to 70 minutes in (6 to
#: 7 s): fast enough that the vendors' retries of what the crash refused (an hour apart) land
#: within the settle.
CRASH = "faults=[{kind: orchestrator_crash, start: 60m, duration: 10m}]"


def test_serve_crashes_and_restarts_its_orchestrator_and_nothing_breaks(tmp_path: Path) -> None:
    """At 600x the run's latency and throughput SLOs are not this test's business (an hour of
    scenario time goes by in six seconds of load); the invariants a crash threatens are."""
    live = Live(tmp_path)
    with live.serve("--orchestrator", "reference", "--set", CRASH, time_scale="600") as services:
        wait_until_up(live.orchestrator_url, services)
        load = live.load("12s")
        load.wait(240)
    summary = live.summary()
    assert "unsettled" not in summary, summary["unsettled"]
    for checker in ("effect_once", "partial_updates", "convergence", "retry_hygiene",
                    "monotonic_versions", "lineage"):  # fmt: skip
        figures(summary, checker)  # each passes
    assert figures(summary, "effect_once")["duplicates"] == 0
    lost = figures(summary, "nothing_lost")
    assert lost["lost"] == 0 and lost["approved"] > 10
    crash = [f for f in summary["faults"] if f["kind"] == "orchestrator_crash"]
    assert [(f["start_s"] // 60, f["end_s"] // 600) for f in crash] == [(60, 7)]
    started = (live.services / "orchestrator.log").read_text().count("Orchestrator (reference)")
    assert started == 2  # killed at 60m, a new process on the same journal at 70m
    state = live.services / "orchestrator"
    assert '"event":"restarted"' in (state / "history.jsonl").read_text()
    for private in (live.services / "history.jsonl", live.services / "tokens.json",
                    state / "journal.sqlite", state / "history.jsonl"):  # fmt: skip
        assert private.stat().st_mode & 0o077 == 0, private  # the user's alone
    run_dir = next((live.services / "loads").iterdir())
    for made in ("report.html", "locust.html", "locust_stats.csv", "history.jsonl"):
        assert (run_dir / made).is_file(), made


#: missing_tax_code's SLOs in time, each 60 times longer. At 3600x a 1 min p50 is 17 ms of real
#: time, and whether a loaded test machine passes the history that fast is not the design's
#: doing (the simulated tests and the swarm judge the SLOs as shipped); 60 times longer, they
#: mean at 3600x what they mean at 60x.
SIXTY_TIMES_SLOWER = (
    "--set", "slo.billing_to_support={p50: 1h, p95: 10h, max: 60h}",
    "--set", "slo.invoiced_before_entitled.invoice_delivery=10h",
    "--set", "slo.end_to_end.p50=5h",
)  # fmt: skip


def test_the_operations_team_resumes_what_a_missing_tax_code_parked(tmp_path: Path) -> None:
    """missing_tax_code as shipped: BR and AU orders park at ERP validation until operations
    fix the tax codes in São Paulo's business hours (11:00 UTC + 4 h: 15 s at 3600x)."""
    live = Live(tmp_path, "missing_tax_code")
    slower = live.serve("--orchestrator", "reference", *SIXTY_TIMES_SLOWER, time_scale="3600")
    with slower as served:
        wait_until_up(live.orchestrator_url, served)
        load = live.load("20s")
        code = load.wait(240)  # 1 when a checker fails: which one is asserted below
        assert code in (0, 1), (tmp_path / "load.log").read_text()
    summary = live.summary()
    assert code == 0 or summary["status"] == "fail"
    failing = [c for c in summary["checkers"] if c["status"] != "pass"]
    assert not failing, failing
    worked = figures(summary, "human_time")
    lost = figures(summary, "nothing_lost")
    assert worked["worked"] > 0, worked
    assert lost["lost"] == 0 and lost["parked"] == 0, lost


def test_kill_9_of_the_orchestrator_mid_load_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    """At 600x, so that the vendors' retries of what the dead orchestrator refused land within
    the settle; the latency SLOs are not this test's business, the invariants are."""
    live = Live(tmp_path)
    with live.serve("--set", "faults=[]", time_scale="600") as services:
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
            load.wait(300)
    summary = live.summary()
    assert "unsettled" not in summary, summary["unsettled"]
    for checker in ("retry_hygiene", "convergence", "monotonic_versions", "lineage"):
        figures(summary, checker)  # each passes
    assert figures(summary, "effect_once")["duplicates"] == 0
    lost = figures(summary, "nothing_lost")
    assert lost["lost"] == 0 and lost["approved"] > 10
    assert figures(summary, "partial_updates")["partial_at_end"] == 0


def _approved(history: Path) -> set[str]:
    """Quotes CPQ approved, as its history says (an approval is the quote write with money)."""
    found = set()
    for line in history.read_text().splitlines():
        if '"entity":"quote"' in line and '"values"' in line:
            found.add(json.loads(line)["entity_id"])
    return found


def _until_approved(history: Path, within_s: float) -> None:
    """Wait until CPQ's history shows an approved quote (polled; it is written line by line)."""
    deadline = time.monotonic() + within_s
    while not (history.exists() and _approved(history)):
        assert time.monotonic() < deadline, f"no quote approved within {within_s:g} s of the load"
        time.sleep(0.25)


def test_serve_killed_mid_load_resumes_the_same_world_and_nothing_is_lost(tmp_path: Path) -> None:
    """`kill -9` of serve (its orchestrator and broker die with it) two seconds after the load's
    first approval, `serve --resume` on the same directory: same tokens, the vendors' records
    rebuilt, and the load's verdicts cover every quote approved before and after the crash. At
    600x, so that the vendors' retries of what the crash refused (an hour apart) land within the
    settle."""
    live = Live(tmp_path)
    history = live.services / "history.jsonl"
    with live.serve("--orchestrator", "reference", time_scale="600") as first:
        wait_until_up(live.orchestrator_url, first)
        tokens = (live.services / "tokens.json").read_text()
        load = live.load("24s")
        _until_approved(history, within_s=12)  # mid-load: Locust's start is slow on a busy machine
        time.sleep(2)  # some of the work those approvals started is in flight when serve dies
        first.send_signal(signal.SIGKILL)
        first.wait()
    before = _approved(history)
    served = live.services.resolve()
    with process("serve", "--resume", str(live.services), log=tmp_path / "resumed.log") as again:
        wait_until_up(live.orchestrator_url, again)
        assert (live.services / "tokens.json").read_text() == tokens  # the same world
        assert live.services.resolve() == served
        load.wait(300)
    told = (tmp_path / "resumed.log").read_text()
    assert "Resumed" in told and "vendor changes replayed" in told, told
    after = _approved(history)
    assert before and after > before, (len(before), len(after))
    summary = live.summary()
    assert "unsettled" not in summary, summary["unsettled"]
    lost = figures(summary, "nothing_lost")
    assert lost["lost"] == 0 and lost["approved"] == len(after), lost
    assert figures(summary, "effect_once")["duplicates"] == 0
    for checker in ("partial_updates", "convergence", "monotonic_versions", "lineage"):
        figures(summary, checker)  # each passes
    restarted = [line for line in history.read_text().splitlines() if '"restarted"' in line]
    assert len(restarted) == 1 and '"subject":"serve"' in restarted[0]
