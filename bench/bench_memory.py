"""Peak memory of a long run: the seed scenario stretched to 1,000,000 workflows.

A calibration run (the seed scenario as shipped) gives workflows per simulated day; the long
run is stretched to reach `--workflows`, with its history streamed to a temporary file and
every checker folding it, in a process of its own so its peak RSS is its own. Resident memory is
sampled at every tenth of simulated time, so a flat line shows memory following the live
business, not the run's length; a run a tenth as long, measured the same way, is the baseline.

    .venv/bin/python bench/bench_memory.py [--workflows 1000000] [--seed 7]
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import os
import platform
import resource
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.runner import resolve_design, simulate
from harness.scenario import load

SCENARIO = "subscription_amendment"
PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mib() -> float:
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * PAGE / 2**20


def measure(days: float, seed: int) -> dict[str, Any]:
    """Run the seed scenario for `days` of traffic; its figures and RSS samples (MiB)."""
    scenario = load(SCENARIO, [f"duration={days:g}d"])
    horizon = scenario.horizon_s
    samples: list[tuple[float, float]] = []
    next_tenth = [0.1]

    def progress(now: float) -> None:
        if now >= next_tenth[0] * horizon:
            samples.append((next_tenth[0], rss_mib()))
            next_tenth[0] += 0.1

    with tempfile.TemporaryDirectory() as folder:
        history = Path(folder) / "history.jsonl"
        began = time.perf_counter()
        _, summary = simulate(scenario, resolve_design("reference"), seed, history, progress)
        wall = time.perf_counter() - began
        size = history.stat().st_size
    return {
        "days": days,
        "workflows": sum(summary["workflows"].values()),
        "records": summary["history"]["records"],
        "history_bytes": size,
        "wall_s": wall,
        "simulated_s": horizon,
        "samples": samples,
        "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def in_own_process(days: float, seed: int) -> dict[str, Any]:
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        result: dict[str, Any] = pool.apply(measure, (days, seed))
        return result


def show(label: str, run: dict[str, Any]) -> None:
    print(f"  {label}: {run['days']:g} days of traffic, {run['workflows']:,} workflows, "
          f"{run['records']:,} history records ({run['history_bytes'] / 2**30:.2f} GiB on disk) "
          f"in {run['wall_s']:,.0f} s wall ({run['simulated_s'] / run['wall_s']:,.0f}× real "
          f"time); peak RSS {run['peak_mib']:,.0f} MiB")  # fmt: skip
    print("    RSS at each tenth of simulated time (MiB): "
          + " ".join(f"{mib:,.0f}" for _, mib in run["samples"]))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workflows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    print(f"Syncline memory benchmark · {datetime.now(UTC):%Y-%m-%d} · "
          f"Python {platform.python_version()} · {platform.machine()}")  # fmt: skip
    calibration = in_own_process(7, args.seed)
    per_day = calibration["workflows"] / (calibration["simulated_s"] / 86400)
    days = math.ceil(args.workflows / per_day * 1.02)
    show("calibration", calibration)
    baseline = in_own_process(days / 10, args.seed)
    show("a tenth as long", baseline)
    long_run = in_own_process(days, args.seed)
    show("the long run", long_run)
    budget = 2048
    verdict = "within" if long_run["peak_mib"] < budget else "OVER"
    growth = long_run["peak_mib"] / baseline["peak_mib"]
    print(f"  {long_run['workflows']:,} workflows: peak RSS {long_run['peak_mib']:,.0f} MiB, "
          f"{verdict} the {budget:,} MiB budget; {growth:.2f}× the peak of a run a tenth "
          "as long")  # fmt: skip


if __name__ == "__main__":
    main()
