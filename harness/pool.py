"""Several runs at once, one process each: what `compare` and `gate` share.

A run is `config in -> result out` and picklable (STYLE.md), so runs go to a process pool
unchanged; with one worker they run in this process, which is also what tests use.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from harness import cores
from harness.runner import RunResult, run
from harness.scenario import Scenario
from harness.workload import expected_arrivals


@dataclass(frozen=True)
class Task:
    """One run to make: where it goes, and a label to report it by."""

    label: str
    scenario: Scenario
    design: str
    seed: int
    run_dir: Path
    reports: bool = True  # each run's HTML report and charts (False: verdicts and history only)


#: Called as each run finishes, in the order they finish.
Finished = Callable[[Task, RunResult], None]


def run_all(
    tasks: Sequence[Task], workers: int | None = None, finished: Finished | None = None
) -> list[RunResult]:
    """Run every task (with its report, unless it says not); results in the tasks' order."""
    workers = max(1, min(workers or cores.usable(), len(tasks)))
    results: dict[int, RunResult] = {}
    if workers == 1:
        for index, task in enumerate(tasks):
            results[index] = _run(task)
            if finished is not None:
                finished(task, results[index])
    else:
        with ProcessPoolExecutor(workers) as pool:
            futures = {pool.submit(_run, tasks[index]): index for index in longest_first(tasks)}
            for future in as_completed(futures):
                index = futures[future]
                results[index] = future.result()
                if finished is not None:
                    finished(tasks[index], results[index])
    return [results[index] for index in range(len(tasks))]


def longest_first(tasks: Sequence[Task]) -> list[int]:
    """The tasks' indexes, the most expected arrivals first (ties in the tasks' order), so that
    no long run starts last while the other workers stand idle."""
    return sorted(range(len(tasks)), key=lambda index: -expected_arrivals(tasks[index].scenario))


def _run(task: Task) -> RunResult:
    if not task.reports:
        return run(task.scenario, task.design, task.seed, run_dir=task.run_dir)
    from reports import write_reports  # noqa: PLC0415 - matplotlib only where reports are made

    return run(task.scenario, task.design, task.seed, reports=write_reports, run_dir=task.run_dir)
