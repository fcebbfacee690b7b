"""`syncline gate`: scenarios as a CI resilience gate.

Each scenario runs against the design it names (`design:`, the reference by default) or the
one given; the gate's verdict is the worst of all, as an exit code (ARCHITECTURE.md), with a JUnit
file (one test case per scenario × checker) and a Markdown summary for the pull request.

    runs/gate/<seed>-<UTC time>/
        gate.json  junit.xml  summary.md
        <scenario>/      each scenario's run directory
"""

from __future__ import annotations

import glob
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness import checkers
from harness.checkers.base import Status
from harness.designs import load_factory
from harness.pool import Finished, Task, run_all
from harness.runner import RunResult, new_directory, point_latest
from harness.scenario import Scenario, ScenarioError, load, shipped_scenarios

GATE_SCHEMA = "syncline.gate/1"


@dataclass(frozen=True)
class GateResult:
    directory: Path
    runs: list[tuple[Scenario, RunResult]]

    @property
    def status(self) -> Status:
        return checkers.worst(result.status for _, result in self.runs)

    def as_dict(self, seed: int) -> dict[str, Any]:
        """gate.json: the gate's verdict and each scenario's, for programs."""
        return {
            "schema": GATE_SCHEMA,
            "seed": seed,
            "status": self.status,
            "runs": {
                scenario.name: {
                    "design": result.summary["design"],
                    "status": result.status,
                    "run_dir": result.run_dir.name,
                    "not_passing": {
                        v.checker: v.status for v in result.verdicts if v.status != "pass"
                    },
                }
                for scenario, result in self.runs
            },
        }


def collect(specs: Sequence[str], overrides: Sequence[str] = ()) -> list[Scenario]:
    """Scenarios named by files, directories (their *.yaml), globs, or shipped names."""
    scenarios = [load(source, overrides) for source in collect_sources(specs)]
    names = [s.name for s in scenarios]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise ScenarioError(f"scenario names must differ within a gate; given twice: {twice[0]}")
    return scenarios


def collect_sources(specs: Sequence[str]) -> list[str]:
    """The scenario files and shipped names that files, directories, globs and `shipped` name."""
    sources: list[str] = []
    for spec in specs:
        path = Path(spec)
        if path.is_dir():
            found = sorted(str(p) for p in path.glob("*.y*ml"))
            if not found:
                raise ScenarioError(f"directory {spec} holds no scenario files (*.yaml)")
            sources += found
        elif any(char in spec for char in "*?["):
            found = sorted(glob.glob(spec))
            if not found:
                raise ScenarioError(f"{spec} matches no scenario file")
            sources += found
        elif spec == "shipped":
            sources += shipped_scenarios()
        else:
            sources.append(spec)
    return sources


def gate(
    scenarios: Sequence[Scenario],
    design: str | None = None,
    seed: int = 0,
    out: Path = Path("runs"),
    workers: int | None = None,
    finished: Finished | None = None,
    reports: bool = True,
) -> GateResult:
    """Run each scenario against its design (or `design`); `reports=False` skips each run's HTML
    report and charts (the verdicts, and so the gate, are the same)."""
    for scenario in scenarios:  # a bad design fails before any run
        load_factory(design or scenario.design)
    directory = new_directory(out / "gate", seed)
    tasks = [
        Task(s.name, s, design or s.design, seed, directory / s.name, reports) for s in scenarios
    ]
    results = run_all(tasks, workers, finished)
    point_latest(out, directory, "latest-gate")  # `latest` stays the newest single run's
    outcome = GateResult(directory, list(zip(scenarios, results, strict=True)))
    text = json.dumps(outcome.as_dict(seed), indent=2, ensure_ascii=False) + "\n"
    (directory / "gate.json").write_text(text, encoding="utf-8")
    return outcome
