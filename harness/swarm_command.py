"""`syncline swarm`: shipped or own scenarios × swarm seeds, each seed its own fault profile."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import click

from harness.checkers.base import worst
from harness.cli_options import scenario_options
from harness.runner import EXIT_CODES
from harness.swarm import failing_seeds, plan_swarm
from harness.sweep import read_plan
from harness.sweep_command import run_plan
from harness.units import format_duration

#: How many failing seeds the terminal lists (swarm.md lists them all).
SHOWN_FAILURES = 20


@click.command("swarm")
@click.argument("scenarios", nargs=-1)
@click.option("--seeds", type=click.IntRange(min=1), help="How many swarm seeds per scenario.")
@click.option("--first-seed", default=1, show_default=True, type=int, help="Seeds start here.")
@click.option("--design", default="reference", show_default=True, help="The design under test.")
@click.option(
    "--executor",
    "executor_spec",
    default="process",
    show_default=True,
    help="`process` (a pool on this machine), `dask://HOST:PORT` or `dask://local`.",
)
@click.option("--workers", type=click.IntRange(min=1), help="Runs at once (default: CPU cores).")
@click.option(
    "--resume",
    "resume_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Finish an interrupted swarm: its directory.",
)
@click.option(
    "--out",
    default="runs",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Where results go (runs/latest-swarm points at the newest swarm).",
)
@scenario_options
def swarm_command(
    scenarios: Sequence[str],
    seeds: int | None,
    first_seed: int,
    design: str,
    executor_spec: str,
    workers: int | None,
    resume_dir: Path | None,
    out: str,
    overrides: tuple[str, ...],
) -> None:
    """Run SCENARIOS (files, directories, globs, shipped names; `shipped` for all of them) over
    swarm seeds: each seed switches fault kinds on and off and draws their targets, times and
    strengths. Prints the pass rate per checker and every failing seed with its cause and the
    command that replays it; writes runs/swarm/<UTC time>/swarm.html and swarm.md.

    Exit 0 when every seed passed, 1 when one failed, 3 when one could not be decided.
    """
    if resume_dir is not None:
        if scenarios or seeds is not None or overrides:
            raise click.UsageError("--resume takes the plan from the swarm directory; give only "
                                   "--resume DIR (and --executor, --workers)")  # fmt: skip
        swarm_plan = read_plan(resume_dir)
    else:
        if not scenarios or seeds is None:
            raise click.UsageError("give SCENARIOS and --seeds N (or --resume DIR)")
        seed_list = list(range(first_seed, first_seed + seeds))
        swarm_plan = plan_swarm(scenarios, design, seed_list, overrides)
    click.echo(
        click.style("Syncline swarm", bold=True)
        + f" · {swarm_plan.design} · {len(swarm_plan.points)} scenario"
        f"{'s' if len(swarm_plan.points) != 1 else ''} × {len(swarm_plan.seeds)} seeds "
        f"({swarm_plan.seeds[0]}–{swarm_plan.seeds[-1]}) = {swarm_plan.runs} runs"
    )
    directory, results, wall = run_plan(
        swarm_plan, "swarm", executor_spec, workers, resume_dir, Path(out)
    )
    from harness.aggregate import write_aggregates  # noqa: PLC0415 - scipy only where used
    from reports.swarm import write_swarm_report  # noqa: PLC0415 - jinja likewise

    aggregates = write_aggregates(directory, swarm_plan, results)
    write_swarm_report(directory)
    click.echo(f"  {len(results)} runs in {format_duration(wall)} wall\n")
    width = max(len(point["label"]) for point in aggregates["points"]) + 2
    click.echo(f"  {'SCENARIO'.ljust(width)}EVERY CHECKER PASSED")
    for point in aggregates["points"]:
        click.echo(f"  {point['label'].ljust(width)}{_rate(point['passed'])}")
    from harness.aggregate import pass_rate  # noqa: PLC0415 - scipy only where used

    checker_names = list(dict.fromkeys(c for r in results for c in r["checkers"]))
    width = max(len(name) for name in checker_names) + 2
    click.echo(f"\n  {'CHECKER'.ljust(width)}{'EXERCISED':<12}SEEDS PASSED (all scenarios)")
    for name in checker_names:
        judged = [r for r in results if name in r["checkers"]]
        passed = sum(1 for r in judged if r["checkers"][name] == "pass")
        tested = exercised(results, name)
        click.echo(f"  {name.ljust(width)}{tested:<12}{_rate(pass_rate(passed, len(judged)))}")
    failing = failing_seeds(swarm_plan, results)
    click.echo(f"\n  failing seeds: {len(failing)} of {len(results)}")
    for seed in failing[:SHOWN_FAILURES]:
        for checker, cause in seed.causes.items():
            click.echo(f"    {seed.scenario} seed {seed.seed}: {checker}: {cause}")
        click.echo(f"      replay: {seed.replay}")
    if len(failing) > SHOWN_FAILURES:
        click.echo(f"    … and {len(failing) - SHOWN_FAILURES} more in swarm.md")
    click.echo(f"\n  report:        {directory / 'swarm.html'}")
    click.echo(f"  markdown:      {directory / 'swarm.md'}")
    status = worst(r["status"] for r in results)
    colour = {"pass": "green", "fail": "red", "unknown": "yellow"}[status]
    click.echo("  overall: " + click.style(status.upper(), fg=colour, bold=True))
    sys.exit(EXIT_CODES[status])


def _rate(entry: dict[str, object]) -> str:
    from reports.sweep import rate  # noqa: PLC0415 - matplotlib only where used

    return rate(entry)


def exercised(results: Sequence[dict[str, object]], checker: str) -> str:
    from reports.swarm import exercised as counted  # noqa: PLC0415 - jinja only where used

    return counted(results, checker)
