"""Swarm testing over scenarios: every scenario × N seeds, each seed drawing its own faults.

A swarm is a sweep (harness/sweep.py) whose points are scenarios rather than parameter values,
and whose runs each add the fault profile their seed draws (`harness.faults.draw_swarm`). It
shares the sweep's executors, resumable `results.jsonl` and aggregates; what it adds is the
account of every seed that did not pass: which checker, its one-line cause, and the command that
replays it.

    runs/swarm/<UTC time>/
        sweep.json  results.jsonl  aggregates.json
        swarm.html  swarm.md       pass rates per checker and scenario, every failing seed
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from harness.gate import collect_sources
from harness.runner import resolve_design
from harness.scenario import ScenarioError, load
from harness.sweep import Point, SweepError, SweepPlan

SWARM = "swarm"


def plan_swarm(
    specs: Sequence[str], design: str, seeds: Sequence[int], overrides: Sequence[str] = ()
) -> SweepPlan:
    """Every scenario named (files, directories, globs, shipped names), loaded and validated now,
    × the seeds, against `design`."""
    if not seeds:
        raise SweepError("a swarm needs at least one seed (--seeds N)")
    sources = collect_sources(specs)
    points = []
    for index, source in enumerate(sources):
        scenario = load(source, overrides)
        points.append(Point(index, {"scenario": source}, scenario, named=True))
    names = [point.scenario.name for point in points]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise ScenarioError(f"a scenario is given twice: {twice[0]}")
    for point in points:  # a bad plugin fails before any run
        resolve_design(design, point.scenario.designs)
    return SweepPlan(SWARM, design, tuple(seeds), (), tuple(points), swarm=True)


@dataclass(frozen=True)
class FailingSeed:
    scenario: str
    seed: int
    status: str
    causes: Mapping[str, str]  # checker -> its one-line summary
    replay: str


def failing_seeds(plan: SweepPlan, results: Sequence[Mapping[str, Any]]) -> list[FailingSeed]:
    """Every run that did not pass, in (scenario, seed) order, with the command that replays it."""
    points = {point.index: point for point in plan.points}
    found = []
    for result in results:
        if result["status"] == "pass":
            continue
        point = points[result["point"]]
        replay = (
            f"syncline run {shlex.quote(point.settings['scenario'])} --swarm "
            f"--seed {result['seed']} --design {shlex.quote(plan.design)}"
        )
        causes = result.get("causes") or {
            checker: status for checker, status in result["checkers"].items() if status != "pass"
        }
        found.append(
            FailingSeed(point.scenario.name, int(result["seed"]), result["status"], causes, replay)
        )
    return found
