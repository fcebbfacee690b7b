"""Sweep throughput on 1 worker against 2 workers, measured in one process, same runs.

Runs the same sweep (the seed scenario, shortened, over seeds × ERP MTBF values) through a
process pool of 1 and of 2 workers, and through a Dask LocalCluster of 2 workers, and prints
runs/s and the speed-up over 1 worker. The aggregates must be the same bytes on every executor:
the benchmark is also a determinism check.

    .venv/bin/python bench/bench_sweep.py [--seeds 6] [--duration 2d]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from harness.aggregate import aggregate
from harness.sweep import execute, open_executor, parse_variation, plan, start


def sweep_once(spec: str, workers: int, seeds: int, duration: str) -> tuple[float, str, int]:
    """(seconds, aggregates as JSON, runs) for one sweep on `spec` with `workers`."""
    variation = parse_variation("erp.outages.mtbf=1d,3d")
    sweep_plan = plan("subscription_amendment", "reference", list(range(seeds)), [variation],
                      [f"duration={duration}"])  # fmt: skip
    with tempfile.TemporaryDirectory() as out, open_executor(spec, workers) as (executor, slots):
        directory = start(sweep_plan, Path(out))
        began = time.perf_counter()
        results = execute(directory, executor, slots)
        elapsed = time.perf_counter() - began
    return elapsed, json.dumps(aggregate(sweep_plan, results), sort_keys=True), len(results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=6)
    parser.add_argument("--duration", default="2d", help="simulated duration of each run")
    args = parser.parse_args()
    print(f"Syncline sweep benchmark · {datetime.now(UTC):%Y-%m-%d} · "
          f"Python {platform.python_version()} · {platform.machine()} · "
          f"{os.cpu_count()} cores")  # fmt: skip
    rows = [("process", 1), ("process", 2), ("dask://local", 2)]
    measured = {}
    for spec, workers in rows:
        seconds, aggregates, runs = sweep_once(spec, workers, args.seeds, args.duration)
        measured[(spec, workers)] = (seconds, aggregates)
        print(f"  {spec:<13} {workers} worker{'s' if workers > 1 else ' '}  {runs} runs "
              f"in {seconds:6.2f} s · {runs / seconds:5.2f} runs/s")  # fmt: skip
    if len({aggregates for _, aggregates in measured.values()}) != 1:
        sys.exit("non-deterministic: the executors' aggregates differ")
    one = measured[("process", 1)][0]
    for spec, workers in rows[1:]:
        print(f"  speed-up over 1 worker: {spec} × {workers}: "
              f"{one / measured[(spec, workers)][0]:.2f}×")  # fmt: skip
    print("  aggregates identical on every executor")


if __name__ == "__main__":
    main()
