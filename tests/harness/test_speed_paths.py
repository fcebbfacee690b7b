"""The two speed paths change nothing a user sees: the compiled modules and the pure sources, and
a run judged in a second process and in one, write the same bytes (harness/aside.py,
simulators/compiled.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from harness import aside, cores
from harness.checkers import Verdict
from harness.designs.reference import ReferenceDesign
from harness.history import RECORD_TYPES, Record
from harness.pool import Task, longest_first
from harness.runner import simulate
from harness.scenario import Scenario, load
from simulators import compiled

SHORT = ("duration=1d",)


def judged(aside: bool, history: Path, scenario: Scenario | None = None) -> dict[str, Any]:
    verdicts, summary = simulate(
        scenario or load("subscription_amendment", SHORT), ReferenceDesign, 3, history, aside=aside
    )
    assert [v.checker for v in verdicts] == [c["checker"] for c in summary["checkers"]]
    return summary


def test_a_run_judged_aside_writes_the_same_history_and_summary(tmp_path: Path) -> None:
    (tmp_path / "alone").mkdir()
    (tmp_path / "aside").mkdir()
    alone = judged(False, tmp_path / "alone" / "history.jsonl")
    aside = judged(True, tmp_path / "aside" / "history.jsonl")
    assert (tmp_path / "aside" / "history.jsonl").read_bytes() == (
        tmp_path / "alone" / "history.jsonl"
    ).read_bytes()
    assert json.dumps(aside) == json.dumps(alone)
    assert aside["history"]["records"] > 10_000


class Explodes:
    """A checker plugin that fails on the first workflow record it sees."""

    name = "explodes"
    wants = tuple(RECORD_TYPES.values())

    def __init__(self, scenario: Scenario, slo: object) -> None:
        self.seen = 0

    def observe(self, position: int, record: Record) -> None:
        self.seen += 1
        if self.seen == 5_000:
            raise ZeroDivisionError("the checker's own bug, at record 5000")

    def verdict(self) -> Verdict:
        return Verdict(self.name, "pass", "never reached")


def test_an_error_in_the_judging_process_is_raised_in_the_run_and_the_history_kept(
    tmp_path: Path,
) -> None:
    scenario = load(
        "subscription_amendment", (*SHORT, "checkers=[tests.harness.test_speed_paths:Explodes]")
    )
    history = tmp_path / "history.jsonl"
    with pytest.raises(ZeroDivisionError, match="at record 5000"):
        judged(True, history, scenario)
    lines = history.read_bytes().splitlines()
    assert len(lines) >= 5_000  # what the child was sent before the error is on disk
    assert all(line.startswith(b'{"kind":') for line in lines)


def test_a_run_in_a_pool_worker_keeps_to_one_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SYNCLINE_ONE_PROCESS", raising=False)
    with ProcessPoolExecutor(1) as pool:
        in_worker = pool.submit(aside.wanted).result()
    assert (aside.wanted(), in_worker) == (cores.usable() > 1, False)
    monkeypatch.setenv("SYNCLINE_ONE_PROCESS", "1")
    assert not aside.wanted()


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="no CPU affinity here")
def test_a_process_held_to_one_core_keeps_to_one_process() -> None:
    """A container's or taskset's share counts, not the machine's cores."""
    held = subprocess.run(
        [sys.executable, "-c", "import os; os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})"
         "; from harness import aside, cores; print(cores.usable(), aside.wanted())"],
        env={**os.environ, "SYNCLINE_ONE_PROCESS": ""}, capture_output=True, text=True,
        check=True,
    )  # fmt: skip
    assert held.stdout.split() == ["1", "False"]


def test_a_pool_starts_the_runs_with_the_most_arrivals_first() -> None:
    def task(label: str, duration: str, rate: str) -> Task:
        scenario = load("subscription_amendment",
                        [f"duration={duration}", f"workload.amendments={rate}"])  # fmt: skip
        return Task(label, scenario, "reference", 1, Path(label))

    tasks = [task("short", "1d", "10/h"), task("long", "8d", "10/h"), task("busy", "1d", "90/h"),
             task("short-too", "1d", "10/h")]  # fmt: skip
    assert [tasks[index].label for index in longest_first(tasks)] == [
        "long", "busy", "short", "short-too"]  # fmt: skip


def run_cli(tmp_path: Path, name: str, pure: bool) -> tuple[bytes, dict[str, Any]]:
    environment = {**os.environ, "SYNCLINE_PURE": "1" if pure else ""}
    out = tmp_path / name
    subprocess.run(
        [sys.executable, "-m", "harness", "run", "subscription_amendment", "--seed", "3",
         "--set", "duration=2d", "--design", "point-to-point", "--out", str(out)],
        env=environment, capture_output=True, check=False, timeout=300,
    )  # fmt: skip
    run_dir = (out / "latest").resolve()
    summary = json.loads((run_dir / "summary.json").read_text())
    return (run_dir / "history.jsonl").read_bytes(), summary


@pytest.mark.skipif(compiled.STATE != "compiled", reason=f"modules not compiled ({compiled.STATE})")
def test_compiled_and_pure_sources_write_the_same_bytes(tmp_path: Path) -> None:
    check = "import simulators.compiled as c, harness.history as h; print(c.STATE, h.__file__)"
    for pure, state, suffix in ((True, "pure", ".py"), (False, "compiled", ".so")):
        environment = {**os.environ, "SYNCLINE_PURE": "1" if pure else ""}
        shown = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True,
                               env=environment, check=True)  # fmt: skip
        assert shown.stdout.split()[0] == state and shown.stdout.strip().endswith(suffix)
    pure_history, pure_summary = run_cli(tmp_path, "pure", pure=True)
    built_history, built_summary = run_cli(tmp_path, "compiled", pure=False)
    assert built_history == pure_history
    assert json.dumps(built_summary) == json.dumps(pure_summary)
    assert pure_summary["status"] == "fail"  # point-to-point's duplicates: figures to compare


def test_a_source_changed_since_the_build_runs_as_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stamp = tmp_path / "compiled.sha256"
    monkeypatch.setattr(compiled, "STAMP", stamp)
    monkeypatch.delenv("SYNCLINE_PURE", raising=False)
    assert compiled.state() == "pure"  # never built
    stamp.write_text(compiled.digest() + "\n")
    assert compiled.state() == "compiled"
    stamp.write_text("0" * 64 + "\n")
    assert compiled.state() == "stale"
    monkeypatch.setenv("SYNCLINE_PURE", "1")
    stamp.write_text(compiled.digest() + "\n")
    assert compiled.state() == "pure"
