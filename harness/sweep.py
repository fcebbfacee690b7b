"""Sweeps: one scenario over many seeds and parameter values, through any `Executor`.

    runs/<scenario>/sweep/<UTC time>/
        sweep.json       the plan: design, seeds, varied parameters, each point's resolved scenario
        results.jsonl    one line per finished run (its verdicts and scalar figures), appended as
                         runs finish: what `--resume` reads, so an interrupted sweep loses nothing
        aggregates.json  per point and per parameter value: mean with a 95 % confidence interval
                         per figure, pass rates with a Wilson interval per checker
        sweep.html  sweep.md  charts/*.png   the report (reports/sweep.py)
        runs/<point>/<seed>/                 each run's directory, with `keep_runs`

Rules:
1. A run is `(point, seed)`; its inputs are the point's scenario and the seed, nothing else, so
   where it runs (this process, a process pool, a Dask worker) cannot change its result.
2. Tasks are batches of runs in seed-major order (every point's seed 0, then seed 1...), so a
   sweep stopped early still covers every point.
3. Results are appended to `results.jsonl` as each batch finishes, and aggregated from that file
   sorted by (point, seed): the aggregates are the same bytes whatever order runs finished in,
   whichever executor ran them, and whether the sweep was resumed.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness import checkers, cores
from harness.checkers.base import Verdict
from harness.faults import with_swarm
from harness.runner import new_directory, point_latest, resolve_design, run, simulate
from harness.scenario import Scenario, ScenarioError, load, parse
from harness.scenario.types import OPTIONAL_SYSTEMS, SYSTEMS

SWEEP_SCHEMA = "syncline.sweep/1"
RESULTS = "results.jsonl"
PLAN = "sweep.json"
#: When the batch size is chosen for the user: at least this many tasks per worker (to balance
#: the load) and in all (so the progress bar moves), fewer runs a task only for short sweeps.
TASKS_PER_WORKER = 4
MIN_TASKS = 50


class SweepError(ScenarioError):
    """A sweep that cannot start or go on; the message is meant for the user as it is."""


@dataclass(frozen=True)
class Variation:
    """One varied scenario field and the values it takes, as written (`erp.outages.mtbf`)."""

    path: str
    values: tuple[str, ...]

    @property
    def field(self) -> str:
        """The scenario path: a system's name stands for `systems.<name>`."""
        head = self.path.split(".", 1)[0]
        return f"systems.{self.path}" if head in (*SYSTEMS, *OPTIONAL_SYSTEMS) else self.path


def parse_variation(text: str) -> Variation:
    """`PATH=V1,V2,...` (`--vary`); values are read as YAML, like `--set`'s."""
    path, equals, values = text.partition("=")
    given = tuple(value.strip() for value in values.split(",") if value.strip())
    if not equals or not path.strip() or not given:
        raise SweepError(
            f"--vary {text!r}: write it as PATH=V1,V2,..., e.g. erp.outages.mtbf=1d,3d"
        )
    if len(set(given)) != len(given):
        raise SweepError(f"--vary {text!r}: a value is given twice")
    return Variation(path.strip(), given)


@dataclass(frozen=True)
class Point:
    """One combination of the varied values, and the scenario it makes."""

    index: int
    settings: Mapping[str, str]  # variation path -> value, in the variations' order
    scenario: Scenario
    named: bool = False  # a swarm's point: one scenario, labelled by its name

    @property
    def label(self) -> str:
        if self.named:
            return self.scenario.name
        return ", ".join(f"{path}={value}" for path, value in self.settings.items()) or "base"

    @property
    def folder(self) -> str:
        return f"p{self.index:03d}"


@dataclass(frozen=True)
class SweepPlan:
    scenario: str
    design: str
    seeds: tuple[int, ...]
    variations: tuple[Variation, ...]
    points: tuple[Point, ...]
    #: Swarm testing (`syncline swarm`): each run adds the fault profile its seed draws.
    swarm: bool = False

    @property
    def runs(self) -> int:
        return len(self.seeds) * len(self.points)

    def order(self) -> list[tuple[int, int]]:
        """Every run as (point, seed), seed-major (rule 2)."""
        return [(point.index, seed) for seed in self.seeds for point in self.points]

    def as_dict(self) -> dict[str, Any]:
        return {
            "schema": SWEEP_SCHEMA,
            "scenario": self.scenario,
            "design": self.design,
            "swarm": self.swarm,
            "seeds": list(self.seeds),
            "variations": [
                {"path": v.path, "field": v.field, "values": list(v.values)}
                for v in self.variations
            ],
            "points": [
                {
                    "index": p.index,
                    "label": p.label,
                    "settings": dict(p.settings),
                    "scenario": p.scenario.to_yaml(),
                }
                for p in self.points
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SweepPlan:
        variations = tuple(Variation(v["path"], tuple(v["values"])) for v in data["variations"])
        points = tuple(
            Point(
                p["index"],
                dict(p["settings"]),
                parse(p["scenario"], f"point {p['label']}"),
                bool(data.get("swarm", False)),
            )
            for p in data["points"]
        )
        return cls(
            data["scenario"], data["design"], tuple(data["seeds"]), variations, points,
            bool(data.get("swarm", False)),
        )  # fmt: skip

    @property
    def folder(self) -> Path:
        """Where its directories go under `out`: `<scenario>/sweep`, or `swarm`."""
        return Path("swarm") if self.swarm else Path(self.scenario, "sweep")


def plan(
    source: str,
    design: str,
    seeds: Sequence[int],
    variations: Sequence[Variation] = (),
    overrides: Sequence[str] = (),
) -> SweepPlan:
    """Every point's scenario, loaded and validated now: a bad value fails before any run."""
    if not seeds:
        raise SweepError("a sweep needs at least one seed (--seeds N)")
    fields = [v.field for v in variations]
    if len(set(fields)) != len(fields):
        raise SweepError("--vary names the same field twice")
    points = []
    for index, values in enumerate(itertools.product(*(v.values for v in variations))):
        settings = {v.path: value for v, value in zip(variations, values, strict=True)}
        point_overrides = [
            f"{v.field}={value}" for v, value in zip(variations, values, strict=True)
        ]
        try:
            scenario = load(source, [*overrides, *point_overrides])
        except ScenarioError as error:
            message = str(error)
            for variation, value in zip(variations, values, strict=True):
                given = f"--set {variation.field}={value}"
                message = message.replace(given, f"--vary {variation.path}={value}")
            raise SweepError(message) from None
        points.append(Point(index, settings, scenario))
    name = points[0].scenario.name
    resolve_design(design, points[0].scenario.designs)  # a bad plugin fails before any run
    return SweepPlan(name, design, tuple(seeds), tuple(variations), tuple(points))


# -- running -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunJob:
    """One run to make, picklable, as a task ships it to a worker."""

    point: int
    seed: int
    scenario: Scenario
    design: str
    run_dir: Path | None  # where to keep the run's files, or None to keep only its result
    swarm: bool = False


def run_batch(jobs: Sequence[RunJob]) -> list[dict[str, Any]]:
    """The task a worker runs: each job simulated and judged, a small result per run."""
    return [_run_one(job) for job in jobs]


def _run_one(job: RunJob) -> dict[str, Any]:
    if job.run_dir is not None:  # a run directory as `syncline run` leaves, without reports
        kept = run(job.scenario, job.design, job.seed, run_dir=job.run_dir, swarm=job.swarm)
        return outcome(job.point, job.seed, kept.verdicts, kept.summary)
    factory = resolve_design(job.design, job.scenario.designs)
    scenario = with_swarm(job.scenario, job.seed) if job.swarm else job.scenario
    verdicts, summary = simulate(scenario, factory, job.seed)
    return outcome(job.point, job.seed, verdicts, summary)


def outcome(
    point: int, seed: int, verdicts: Sequence[Verdict], summary: Mapping[str, Any]
) -> dict[str, Any]:
    """What a sweep keeps of a run: statuses, every scalar figure, every SLO, workflow counts,
    and the one-line summary of each verdict that did not pass (its cause)."""
    figures: dict[str, float] = {}
    slos: dict[str, float] = {}
    for verdict in verdicts:
        for key, value in verdict.figures.items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                figures[f"{verdict.checker}.{key}"] = value
        for key, limit in verdict.slo.items():
            if isinstance(limit, int | float) and not isinstance(limit, bool):
                slos[f"{verdict.checker}.{key}"] = limit
    return {
        "point": point,
        "seed": seed,
        "status": checkers.worst(v.status for v in verdicts),
        "checkers": {v.checker: v.status for v in verdicts if not v.not_applicable},
        "causes": {v.checker: v.summary for v in verdicts if v.status != "pass"},
        "exercised": {v.checker: v.exercised for v in verdicts if v.exercised is not None},
        "figures": figures,
        "slo": slos,
        "workflows": dict(summary["workflows"]),
        "records": summary["history"]["records"],
    }


#: Told after each batch: (runs finished so far, of all runs, the batch's results).
Progress = Callable[[int, int, Sequence[dict[str, Any]]], None]


class SweepInterrupted(Exception):
    """The sweep stopped before its last run: Ctrl-C (`cause` None), or a run or worker failed."""

    def __init__(self, directory: Path, done: int, total: int, cause: str | None = None) -> None:
        super().__init__(f"interrupted: {done} of {total} runs kept in {directory}")
        self.directory, self.done, self.total, self.cause = directory, done, total, cause


def start(plan_: SweepPlan, out: Path = Path("runs")) -> Path:
    """A new sweep directory holding the plan, and `out/latest-sweep` (or `latest-swarm`)
    pointing at it; `out/latest` stays the newest single run's."""
    directory = new_directory(out / plan_.folder)
    text = json.dumps(plan_.as_dict(), indent=2, ensure_ascii=False) + "\n"
    (directory / PLAN).write_text(text, encoding="utf-8")
    (directory / RESULTS).touch()
    point_latest(out, directory, "latest-swarm" if plan_.swarm else "latest-sweep")
    return directory


def read_plan(directory: Path) -> SweepPlan:
    path = directory / PLAN
    if not path.is_file():
        raise SweepError(f"{directory} is not a sweep directory: {PLAN} is missing")
    try:
        return SweepPlan.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, KeyError, TypeError) as error:
        raise SweepError(f"{path} is damaged and cannot be read: {error}") from None


def read_results(directory: Path) -> list[dict[str, Any]]:
    """The finished runs, in (point, seed) order; a line cut short by a kill is left out."""
    found: dict[tuple[int, int], dict[str, Any]] = {}
    path = directory / RESULTS
    if path.is_file():
        with path.open(encoding="utf-8") as lines:
            for line in lines:
                try:
                    result = json.loads(line)
                    found[(int(result["point"]), int(result["seed"]))] = result
                except (ValueError, KeyError, TypeError):
                    continue  # the last line of a sweep killed mid-write
    return [found[key] for key in sorted(found)]


def execute(
    directory: Path,
    executor: Executor,
    workers: int,
    batch_size: int | None = None,
    keep_runs: bool = False,
    progress: Progress | None = None,
) -> list[dict[str, Any]]:
    """Run what `directory`'s plan still lacks; return every result, in (point, seed) order.

    On Ctrl-C the runs not started are cancelled, and `SweepInterrupted` says how many were kept.
    """
    sweep_plan = read_plan(directory)
    _cut_partial_line(directory / RESULTS)
    done = {(r["point"], r["seed"]) for r in read_results(directory)}
    pending = [run for run in sweep_plan.order() if run not in done]
    points = {point.index: point for point in sweep_plan.points}
    jobs = [
        RunJob(
            point, seed, points[point].scenario, sweep_plan.design,
            directory / "runs" / points[point].folder / str(seed) if keep_runs else None,
            sweep_plan.swarm,
        )
        for point, seed in pending
    ]  # fmt: skip
    size = batch_size or max(1, len(jobs) // max(workers * TASKS_PER_WORKER, MIN_TASKS))
    batches = [jobs[i : i + size] for i in range(0, len(jobs), size)]
    finished = len(done)
    if progress is not None:
        progress(finished, sweep_plan.runs, [])
    futures: list[Future[list[dict[str, Any]]]] = []
    try:
        with (directory / RESULTS).open("a", encoding="utf-8") as results:
            futures = [executor.submit(run_batch, batch) for batch in batches]
            for future in as_completed(futures):
                batch_results = future.result()
                for result in batch_results:
                    results.write(json.dumps(result, separators=(",", ":")) + "\n")
                results.flush()
                os.fsync(results.fileno())
                finished += len(batch_results)
                if progress is not None:
                    progress(finished, sweep_plan.runs, batch_results)
    except KeyboardInterrupt as error:
        _cancel(futures)
        raise SweepInterrupted(directory, finished, sweep_plan.runs) from error
    except Exception as error:  # a run raised, or a worker died (BrokenProcessPool, KilledWorker)
        _cancel(futures)
        cause = f"{type(error).__name__}: {error}"
        raise SweepInterrupted(directory, finished, sweep_plan.runs, cause) from error
    return read_results(directory)


def _cancel(futures: Sequence[Future[Any]]) -> None:
    for future in futures:
        future.cancel()


def _cut_partial_line(path: Path) -> None:
    """Drop a last line a kill cut short, so the next result starts on a line of its own."""
    with path.open("rb+") as results:
        data = results.read()
        if data and not data.endswith(b"\n"):
            results.truncate(data.rfind(b"\n") + 1)


# -- executors -----------------------------------------------------------------------------


@contextlib.contextmanager
def open_executor(
    spec: str = "process", workers: int | None = None
) -> Iterator[tuple[Executor, int]]:
    """(executor, how many runs it makes at once) for `process` (a local process pool),
    `dask://local` (a Dask LocalCluster here) or `dask://HOST:PORT` (a Dask scheduler)."""
    if spec == "process":
        count = workers or cores.usable()
        pool = ProcessPoolExecutor(count)
        try:
            yield pool, count
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)  # an interrupted sweep stops now
            raise
        pool.shutdown()
        return
    if not spec.startswith(("dask://", "tcp://")):
        raise SweepError(
            f"--executor {spec!r}: give `process`, `dask://local` or `dask://HOST:PORT`"
        )
    try:
        from distributed import Client, LocalCluster  # noqa: PLC0415
    except ImportError:
        raise SweepError(
            "--executor dask needs Dask distributed: pip install 'syncline[dask]'"
        ) from None
    with contextlib.ExitStack() as stack:
        if spec == "dask://local":
            cluster = stack.enter_context(
                LocalCluster(
                    n_workers=workers or cores.usable(), threads_per_worker=1,
                    processes=True, dashboard_address=None,
                )
            )  # fmt: skip
            client = stack.enter_context(Client(cluster))
        else:
            address = "tcp://" + spec.split("://", 1)[1]
            try:
                client = stack.enter_context(Client(address, timeout="10s"))
            except (OSError, TimeoutError) as error:
                raise SweepError(f"cannot reach the Dask scheduler at {address}: {error}") from None
        threads = sum(client.nthreads().values()) or 1
        yield client.get_executor(pure=False), threads
