"""Harness speed against bare SimPy, measured in one process.

Runs the seed scenario with the reference design (engine only, then the full run with history
on disk and checkers), then a bare SimPy model scheduling the same number of events, and prints
workflows/s, events/s and the ratio harness / bare. The harness's event count must be the same
on every repetition: the benchmark is also a determinism check. Then the seed scenario stretched
to 30 simulated days (`--days`) as a full run (judged aside where a second core is), against the
10 s goal of issue 21.

    .venv/bin/python bench/bench_engine.py [--seed 7] [--repeat 3] [--days 30]
"""

from __future__ import annotations

import argparse
import platform
import resource
import sys
import tempfile
import time
from collections.abc import Callable, Generator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import simpy

from harness import aside, checkers
from harness.designs.reference import ReferenceDesign
from harness.history import HistoryWriter, Record, WorkflowRecord
from harness.metrics import RunMetrics
from harness.runner import run
from harness.scenario import load
from harness.sim.runtime import Simulation
from simulators import compiled

SCENARIO = "subscription_amendment"
#: The 30-day run's goal (issue 21); it was 30 s before.
GOAL_S = 10.0


def scheduled_events(env: simpy.Environment) -> int:
    """Events the environment scheduled: SimPy numbers each one from its `_eid` counter."""
    return int(next(env._eid))


def harness_engine(seed: int) -> tuple[float, int, int]:
    """(seconds, SimPy events, workflows) for the simulation alone, history discarded."""
    scenario = load(SCENARIO)
    started: set[str] = set()

    def sink(record: Record) -> None:
        if type(record) is WorkflowRecord and record.status == "started":
            started.add(record.workflow)

    simulation = Simulation(scenario, ReferenceDesign, seed, sink)
    began = time.perf_counter()
    simulation.run()
    elapsed = time.perf_counter() - began
    return elapsed, scheduled_events(simulation.env), len(started)


def harness_full(seed: int, overrides: tuple[str, ...] = ()) -> tuple[float, int, int]:
    """(seconds, history records, workflows) for a whole run: history streamed to disk,
    checkers and metrics, summary.json (no report)."""
    with tempfile.TemporaryDirectory() as out:
        began = time.perf_counter()
        result = run(load(SCENARIO, overrides), "reference", seed, Path(out))
        elapsed = time.perf_counter() - began
    summary = result.summary
    return elapsed, summary["history"]["records"], sum(summary["workflows"].values())


def breakdown(seed: int, overrides: tuple[str, ...]) -> list[tuple[str, float]]:
    """Where a full run's time goes: the simulation with its records kept in a list, then each
    sink alone over those records (the history writer, the checkers, the metrics)."""
    scenario = load(SCENARIO, overrides)
    records: list[Record] = []
    began = time.perf_counter()
    Simulation(scenario, ReferenceDesign, seed, records.append).run()
    parts = [("simulation (engine, systems, design)", time.perf_counter() - began)]
    with tempfile.TemporaryDirectory() as out:
        writer = HistoryWriter(Path(out) / "history.jsonl")
        dispatch = checkers.Dispatch(checkers.build(scenario))
        metrics = RunMetrics()
        sinks: list[tuple[str, Callable[[Record], None], Callable[[], object]]] = [
            ("history written as JSON lines", writer, writer.close),
            ("checkers (13 folds)", dispatch, dispatch.verdicts),
            ("metrics", metrics, metrics.summary),
        ]
        for label, sink, finish in sinks:
            began = time.perf_counter()
            for record in records:
                sink(record)
            finish()
            parts.append((label, time.perf_counter() - began))
    return parts


def bare_simpy(events: int, processes: int = 200) -> float:
    """Seconds for plain SimPy processes doing `events` timeouts in all."""
    env = simpy.Environment()
    per_process = events // processes

    def worker(offset: float) -> Generator[simpy.Event, Any, None]:
        for _ in range(per_process):
            yield env.timeout(1.0 + offset)

    for number in range(processes):
        env.process(worker(number / processes))
    began = time.perf_counter()
    env.run()
    elapsed = time.perf_counter() - began
    assert scheduled_events(env) >= per_process * processes
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3, help="best of N")
    parser.add_argument("--days", type=float, default=30, help="the stretched run's duration")
    args = parser.parse_args()

    engine = [harness_engine(args.seed) for _ in range(args.repeat)]
    counts = {(events, workflows) for _, events, workflows in engine}
    if len(counts) != 1:
        sys.exit(f"non-deterministic: event counts differ between repetitions: {counts}")
    (events, workflows), engine_s = counts.pop(), min(s for s, _, _ in engine)
    full_s = min(harness_full(args.seed)[0] for _ in range(args.repeat))
    bare_s = min(bare_simpy(events) for _ in range(args.repeat))
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    horizon = load(SCENARIO).horizon_s
    print(f"Syncline benchmark · {datetime.now(UTC):%Y-%m-%d} · "
          f"Python {platform.python_version()} · simpy {simpy.__version__} · "
          f"{platform.machine()} · best of {args.repeat}")  # fmt: skip
    print(f"modules: {compiled.STATE} (simulators/compiled.py; SYNCLINE_PURE=1 for the sources) · "
          f"a single run judged aside: {'yes' if aside.wanted() else 'no'}")  # fmt: skip
    print(f"{SCENARIO}, seed {args.seed}: {horizon / 86400:g} simulated days, "
          f"{workflows:,} workflows, {events:,} SimPy events")  # fmt: skip
    rows = (
        ("harness, engine only", engine_s),
        ("harness, full run (history + checkers)", full_s),
        ("bare SimPy, same number of events", bare_s),
    )
    for label, seconds in rows:
        rate = f" · {workflows / seconds:>7,.0f} workflows/s" if "harness" in label else ""
        print(f"  {label:<40} {seconds:7.3f} s · {events / seconds:>10,.0f} events/s{rate}")
    print(f"  ratio harness/bare events/s: engine only {bare_s / engine_s:.3f} · "
          f"full run {bare_s / full_s:.3f}")  # fmt: skip
    print(f"  simulated/wall time: engine only {horizon / engine_s:,.0f}× · "
          f"full run {horizon / full_s:,.0f}× · peak RSS {peak_mib:,.0f} MiB")  # fmt: skip

    stretched = (f"duration={args.days:g}d",)
    long_s, records, long_workflows = harness_full(args.seed, stretched)
    long_horizon = load(SCENARIO, stretched).horizon_s
    verdict = "within" if long_s <= GOAL_S else "OVER"
    print(f"{SCENARIO} stretched to {args.days:g} days of traffic (+ its drain), full run: "
          f"{long_workflows:,} workflows, {records:,} history records")  # fmt: skip
    print(f"  {long_s:.1f} s wall, {verdict} the {GOAL_S:g} s goal · simulated/wall time "
          f"{long_horizon / long_s:,.0f}× · {long_s / full_s:.2f}× the wall time of the "
          f"{horizon / 86400:g}-day run, for {long_horizon / horizon:.2f}× its simulated "
          "time")  # fmt: skip
    print("  where the time goes (each part alone, the same records):")
    for label, seconds in breakdown(args.seed, stretched):
        print(f"    {label:<40} {seconds:6.1f} s")


if __name__ == "__main__":
    main()
