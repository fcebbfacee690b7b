"""`syncline sweep`: many seeds × parameter values, aggregated, with a report (harness/sweep.py)."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from harness.cli_options import scenario_options
from harness.sweep import (
    Progress,
    SweepError,
    SweepInterrupted,
    SweepPlan,
    execute,
    open_executor,
    parse_variation,
    plan,
    read_plan,
    start,
)
from harness.units import format_duration

EXIT_INTERRUPTED = 130
EXIT_INTERNAL = 4


@click.command("sweep")
@click.argument("scenario", required=False)
@click.option("--seeds", type=click.IntRange(min=1), help="How many seeds each point runs.")
@click.option("--first-seed", default=0, show_default=True, type=int, help="Seeds start here.")
@click.option(
    "--vary",
    "variations",
    multiple=True,
    metavar="PATH=V1,V2,...",
    help="A scenario field and its values, e.g. --vary erp.outages.mtbf=1d,3d,7d (a system's "
    "name stands for systems.<name>; repeatable: every combination runs).",
)
@click.option("--design", default="reference", show_default=True, help="The design under test.")
@click.option(
    "--executor",
    "executor_spec",
    default="process",
    show_default=True,
    help="`process` (a pool on this machine), `dask://HOST:PORT` (a Dask scheduler) or "
    "`dask://local` (a Dask LocalCluster here).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    help="Processes of the pool, or of dask://local (default: one per CPU core).",
)
@click.option(
    "--batch", "batch_size", type=click.IntRange(min=1), help="Runs per task (default: chosen)."
)
@click.option(
    "--keep-runs",
    is_flag=True,
    help="Keep each run's directory (history.jsonl, summary.json) under runs/ in the sweep.",
)
@click.option(
    "--resume",
    "resume_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Finish an interrupted sweep: its directory (the plan is read from there).",
)
@click.option(
    "--out",
    default="runs",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Where results go (runs/latest-sweep points at the newest sweep).",
)
@scenario_options
def sweep_command(
    scenario: str | None,
    seeds: int | None,
    first_seed: int,
    variations: tuple[str, ...],
    design: str,
    executor_spec: str,
    workers: int | None,
    batch_size: int | None,
    keep_runs: bool,
    resume_dir: Path | None,
    out: str,
    overrides: tuple[str, ...],
) -> None:
    """Run SCENARIO over many seeds and parameter values and aggregate the figures.

    Writes runs/<scenario>/sweep/<UTC time>/ with results.jsonl (one line per finished run),
    aggregates.json (means with 95 % confidence intervals, pass rates) and sweep.html. Exits 0
    once the report is written, whatever the verdicts; 130 if interrupted (finished runs are
    kept: rerun with --resume DIR).
    """
    if resume_dir is not None:
        if scenario is not None or seeds is not None or variations or overrides:
            raise SweepError("--resume takes the plan from the sweep directory; give only "
                             "--resume DIR (and --executor, --workers, --batch)")  # fmt: skip
        sweep_plan = read_plan(resume_dir)
        keep_runs = keep_runs or (resume_dir / "runs").is_dir()
    else:
        if scenario is None or seeds is None:
            raise SweepError("give a SCENARIO and --seeds N (or --resume DIR)")
        varied = [parse_variation(text) for text in variations]
        seed_list = list(range(first_seed, first_seed + seeds))
        sweep_plan = plan(scenario, design, seed_list, varied, overrides)
    points = len(sweep_plan.points)
    click.echo(
        click.style("Syncline sweep", bold=True)
        + f" · {sweep_plan.scenario} × {sweep_plan.design} · {points} point"
        f"{'s' if points != 1 else ''} × {len(sweep_plan.seeds)} seeds = {sweep_plan.runs} runs"
    )
    for point in sweep_plan.points if sweep_plan.variations else ():
        click.echo(f"  {point.folder}  {point.label}")
    directory, results, wall = run_plan(
        sweep_plan, "sweep", executor_spec, workers, resume_dir, Path(out), batch_size, keep_runs
    )
    from harness.aggregate import write_aggregates  # noqa: PLC0415 - scipy only where used
    from reports.sweep import write_sweep_report  # noqa: PLC0415 - matplotlib likewise

    aggregates = write_aggregates(directory, sweep_plan, results)
    write_sweep_report(directory)
    click.echo(f"  {len(results)} runs in {format_duration(wall)} wall\n")
    _print_points(aggregates)
    click.echo(f"  report:        {directory / 'sweep.html'}")
    click.echo(f"  markdown:      {directory / 'sweep.md'}")
    click.echo(f"  aggregates:    {directory / 'aggregates.json'}")


def run_plan(
    sweep_plan: SweepPlan,
    command: str,
    executor_spec: str,
    workers: int | None,
    resume_dir: Path | None,
    out: Path,
    batch_size: int | None = None,
    keep_runs: bool = False,
) -> tuple[Path, list[dict[str, Any]], float]:
    """Run what the plan still lacks, with a progress bar: (its directory, every result, wall
    seconds). Interrupted or failed, it says how to resume with `syncline COMMAND --resume` and
    exits 130 or 4."""
    began = time.perf_counter()
    with open_executor(executor_spec, workers) as (executor, slots):
        directory = resume_dir or start(sweep_plan, out)  # once the executor is there
        click.echo(f"  {executor_spec}, {slots} runs at once · {command} directory: {directory}")
        try:
            with _progress(sweep_plan.runs) as progress:
                results = execute(directory, executor, slots, batch_size, keep_runs, progress)
        except SweepInterrupted as stopped:
            why = "interrupted" if stopped.cause is None else f"a run failed ({stopped.cause})"
            click.echo(
                f"\n{why}: {stopped.done} of {stopped.total} runs are kept in {directory}; "
                f"finish with: syncline {command} --resume {directory}",
                err=True,
            )
            sys.exit(EXIT_INTERRUPTED if stopped.cause is None else EXIT_INTERNAL)
    return directory, results, time.perf_counter() - began


#: What the terminal shows per point: (heading, figure, scale, unit).
SHOWN = (
    ("billing→support p95", "billing_to_support.p95_s", 1 / 60, "min"),
    ("end-to-end p95", "end_to_end.p95_s", 1 / 60, "min"),
    ("duplicates", "effect_once.duplicates", 1.0, ""),
    ("lost", "nothing_lost.lost", 1.0, ""),
)


def _print_points(aggregates: dict[str, Any]) -> None:
    from reports.sweep import estimate  # noqa: PLC0415 - loaded with the report already
    from reports.sweep_charts import Charted  # noqa: PLC0415

    points = aggregates["points"]
    width = max(len(p["label"]) for p in points)
    heads = "".join(f"{title:<22}" for title, *_ in SHOWN)
    click.echo(f"  {'POINT'.ljust(width)}  {'PASSED':<10}{heads}".rstrip())
    for point in points:
        cells = []
        for title, name, scale, unit in SHOWN:
            shown = estimate(point["figures"].get(name), Charted(title, name, scale))
            cells.append(f"{shown}{f' {unit}' if unit and shown != '–' else ''}".ljust(22))
        passed = f"{point['passed']['passed']}/{point['runs']}"
        click.echo(f"  {point['label'].ljust(width)}  {passed:<10}" + "".join(cells).rstrip())
    click.echo()


@contextmanager
def _progress(total: int) -> Iterator[Progress]:
    """A progress bar on a terminal; elsewhere (CI logs) a line at every tenth of the runs."""
    if sys.stderr.isatty():
        with click.progressbar(length=total, label="  sweeping", file=sys.stderr,
                               show_pos=True, show_eta=True) as bar:  # fmt: skip
            shown = 0

            def advance(done: int, _total: int, _batch: Sequence[dict[str, Any]]) -> None:
                nonlocal shown
                bar.update(done - shown)
                shown = done

            yield advance
        return
    began, last_tenth = time.perf_counter(), -1

    def report(done: int, total_runs: int, _batch: Sequence[dict[str, Any]]) -> None:
        nonlocal last_tenth
        tenth = done * 10 // max(total_runs, 1)
        if tenth == last_tenth:
            return
        last_tenth = tenth
        elapsed = time.perf_counter() - began
        click.echo(f"  {done}/{total_runs} runs ({done / max(total_runs, 1):.0%}) "
                   f"· {format_duration(elapsed)} elapsed", err=True)  # fmt: skip

    yield report
