"""Harness against bare SimPy in CPU instructions, counted by valgrind: the same figures on a
busy machine as on an idle one.

Wall-clock ratios on a shared two-core machine move by a third from one hour to the next
(bench/RESULTS.md). Instructions do not: callgrind counts the same total for the same code,
inputs and environment. Each part runs in a child under callgrind twice, with `--hours` of the
seed scenario's traffic and with twice that; the difference is what the added traffic cost,
without the interpreter's start, the imports, the scenario's load and the world's making. Parts:
the engine alone (history discarded), the full run in one process (history on disk, checkers,
metrics), and a bare SimPy model scheduling the same number of events. With `--against DIR`
(another checkout, e.g. a `git worktree` of main), the same parts are counted there too, for a
before/after without noise. About five minutes a checkout for the default 4 h; needs valgrind
(`apt-get install valgrind`).

    .venv/bin/python bench/bench_instructions.py [--hours 4] [--seed 7] [--against DIR]
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Generator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SCENARIO = "subscription_amendment"


def child(part: str, duration: str, seed: int, events: int) -> None:
    """Run one part once; print the SimPy events it scheduled."""
    if part == "bare":
        bare_simpy(events)
        print(f"events {events}")
        return
    from harness.designs.reference import ReferenceDesign
    from harness.runner import simulate
    from harness.scenario import load
    from harness.sim.runtime import Simulation

    scenario = load(SCENARIO, [f"duration={duration}"])
    if part == "engine":
        simulation = Simulation(scenario, ReferenceDesign, seed, lambda record: None)
        simulation.run()
        events = int(next(simulation.env._eid))
    else:
        with tempfile.TemporaryDirectory() as out:
            simulate(scenario, ReferenceDesign, seed, Path(out) / "history.jsonl", aside=False)
    print(f"events {events}")


def bare_simpy(events: int, processes: int = 200) -> None:
    """Plain SimPy processes doing `events` timeouts in all (bench_engine.py's model)."""
    import simpy

    env = simpy.Environment()

    def worker(count: int, offset: float) -> Generator[simpy.Event, Any, None]:
        for _ in range(count):
            yield env.timeout(1.0 + offset)

    for number in range(processes):
        env.process(worker(events // processes, number / processes))
    env.run()


def counted(part: str, duration: str, seed: int, events: int, tree: Path) -> tuple[int, int]:
    """(instructions, events) of a child running `part` once under callgrind, with the harness
    imported from `tree`."""
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
         __file__, "--child", part, "--duration", duration, "--seed", str(seed),
         "--events", str(events)],
        capture_output=True, text=True, check=True, cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree), "SYNCLINE_ONE_PROCESS": "1"},
    )  # fmt: skip
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        sys.exit(f"callgrind printed no count for {part}: {done.stderr[-500:]}")
    return int(found.group(1)), int(done.stdout.split()[-1])


def marginal(tree: Path, hours: float, seed: int) -> tuple[int, int, int, int]:
    """(events, engine, full, bare): what `hours` more of traffic cost, in SimPy events and in
    instructions of each part: the run with twice the traffic less the run with `hours`."""
    short, long = f"{hours:g}h", f"{2 * hours:g}h"
    engine_short, events_short = counted("engine", short, seed, 0, tree)
    engine_long, events_long = counted("engine", long, seed, 0, tree)
    full_short, _ = counted("full", short, seed, 0, tree)
    full_long, _ = counted("full", long, seed, 0, tree)
    bare_short, _ = counted("bare", short, seed, events_short, tree)
    bare_long, _ = counted("bare", long, seed, events_long, tree)
    return (events_long - events_short, engine_long - engine_short, full_long - full_short,
            bare_long - bare_short)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hours", type=float, default=4, help="traffic added between the runs")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--against", type=Path, help="another checkout (git worktree) to count too")
    parser.add_argument("--child", choices=("engine", "full", "bare"), help=argparse.SUPPRESS)
    parser.add_argument("--duration", default="4h", help=argparse.SUPPRESS)
    parser.add_argument("--events", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.duration, args.seed, args.events)
        return
    if shutil.which("valgrind") is None:
        sys.exit("bench_instructions needs valgrind: apt-get install valgrind")
    print(f"Syncline instruction benchmark · {datetime.now(UTC):%Y-%m-%d} · "
          f"Python {platform.python_version()} · {platform.machine()}")  # fmt: skip
    here = Path(__file__).resolve().parent.parent
    trees = [here, args.against.resolve()] if args.against else [here]
    per_event: dict[Path, tuple[float, float]] = {}
    for tree in trees:
        events, engine, full, bare = marginal(tree, args.hours, args.seed)
        per_event[tree] = (engine / events, full / events)
        print(
            f"{tree}: {SCENARIO}, seed {args.seed}, {args.hours:g} h more traffic "
            f"({2 * args.hours:g} h against {args.hours:g} h): {events:,} SimPy events more"
        )
        for label, count in (("harness, engine only", engine),
                             ("harness, full run, one process", full),
                             ("bare SimPy, same number of events", bare)):  # fmt: skip
            print(f"  {label:<36} {count / 1e6:9,.1f} M instructions · "
                  f"{count / events:8,.0f} an event")  # fmt: skip
        print(f"  ratio bare/harness instructions: engine only {bare / engine:.3f} · "
              f"full run {bare / full:.3f}")  # fmt: skip
    if args.against:
        (engine_now, full_now), (engine_was, full_was) = per_event[here], per_event[trees[1]]
        print(f"this checkout against {args.against}, instructions an event: engine only "
              f"{engine_now / engine_was:.3f}× · full run {full_now / full_was:.3f}×")  # fmt: skip


if __name__ == "__main__":
    main()
