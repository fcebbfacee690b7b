"""Several designs against one scenario and seed: the same world, workload and fault schedule.

    runs/<scenario>/compare/<seed>-<UTC time>/
        comparison.json   each design's verdicts and key figures, side by side
        comparison.html   for people: verdicts, figures, a chart per key figure, decision table
        comparison.md     the same in Markdown
        charts/*.png      windows.png (every design's billing -> support CDF), one per figure
        <design>/         each design's own run directory

Inputs are identical by construction: the world, the arrivals and the fault schedule are drawn
from the seed's named streams, none of which a design can reach; only what the systems answer
differs, because the designs ask differently.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness import checkers
from harness.checkers.base import Status
from harness.pool import Finished, Task, run_all
from harness.runner import RunResult, new_directory, point_latest, resolve_design
from harness.scenario import Scenario

COMPARISON_SCHEMA = "syncline.comparison/1"


@dataclass(frozen=True)
class Comparison:
    directory: Path
    data: dict[str, Any]
    results: dict[str, RunResult]

    @property
    def status(self) -> Status:
        return checkers.worst(result.status for result in self.results.values())


def compare(
    scenario: Scenario,
    designs: Sequence[str],
    seed: int = 0,
    out: Path = Path("runs"),
    workers: int | None = None,
    finished: Finished | None = None,
    reports: bool = True,
) -> Comparison:
    """Run every design on the scenario with the seed; write and return the comparison
    (`reports=False`: without each run's HTML report and charts)."""
    # Each run directory is named as `syncline run` names it: by the design's own name (a
    # plugin's factory is built once here, so a bad one fails before any run).
    names = [resolve_design(design, scenario.designs)().name for design in designs]
    if len(set(names)) != len(names):
        raise ValueError("each design can be compared once")
    directory = new_directory(out / scenario.name / "compare", seed)
    tasks = [
        Task(name, scenario, design, seed, directory / name, reports)
        for design, name in zip(designs, names, strict=True)
    ]
    results = run_all(tasks, workers, finished)
    ordered = dict(zip(names, results, strict=True))
    data = comparison_data(scenario, seed, ordered)
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    (directory / "comparison.json").write_text(text, encoding="utf-8")
    point_latest(out, directory, "latest-compare")  # `latest` stays the newest single run's
    return Comparison(directory, data, ordered)


def comparison_data(scenario: Scenario, seed: int, results: dict[str, RunResult]) -> dict[str, Any]:
    """The comparison as plain data: per design, its verdicts and the figures architects weigh."""
    hours = scenario.horizon_s / 3600
    return {
        "schema": COMPARISON_SCHEMA,
        "scenario": scenario.name,
        "seed": seed,
        "simulated_hours": round(hours, 3),
        "designs": {name: _entry(result) for name, result in results.items()},
    }


def _entry(result: RunResult) -> dict[str, Any]:
    verdicts = {v.checker: v for v in result.verdicts}
    found = {(c, k): value for c, v in verdicts.items() for k, value in v.figures.items()}

    def figure(checker: str, key: str, default: Any = None) -> Any:
        return found.get((checker, key), default)

    systems = result.summary["systems"].values()
    calls, ok = sum(s["calls"] for s in systems), sum(s["ok"] for s in systems)
    retries = sum(s["retries"] for s in systems)
    approved = figure("nothing_lost", "approved", 0) or 0
    return {
        "status": result.status,
        "run_dir": result.run_dir.name,
        "verdicts": {
            c: {"status": v.status, "summary": v.summary, **({} if v.judged else {"judged": False})}
            for c, v in verdicts.items()
        },
        "figures": {
            "window_p50_s": figure("billing_to_support", "p50_s"),
            "window_p95_s": figure("billing_to_support", "p95_s"),
            "window_max_s": figure("billing_to_support", "max_s"),
            "versions_never_reached_support": figure("billing_to_support", "missing", 0),
            "invoiced_before_entitled_share": figure("invoiced_before_entitled", "share"),
            "duplicate_effects": figure("effect_once", "duplicates", 0),
            "partial_contracts": figure("partial_updates", "partial_at_end", 0),
            "stale_overwrites": figure("monotonic_versions", "stale_overwrites", 0),
            "lost": figure("nothing_lost", "lost", 0),
            "lost_ledger_documents": figure("nothing_lost", "ledger_lost", 0),
            "late": figure("nothing_lost", "late", 0),
            "parked": figure("nothing_lost", "parked", 0),
            "end_to_end_p95_s": figure("end_to_end", "p95_s"),
            "completed_per_hour": figure("end_to_end", "per_hour"),
            "calls_per_quote": round(calls / approved, 3) if approved else None,
            "retries_per_successful_call": round(retries / ok, 4) if ok else None,
        },
    }
