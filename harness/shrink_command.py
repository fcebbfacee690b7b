"""`syncline shrink RUN_DIR`: from a failing run, the smallest scenario that fails the same way."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import click
import yaml

from harness.designs import SHIPPED
from harness.runner import resolve_design, run
from harness.scenario import Scenario, ScenarioError, parse
from harness.shrink import Data, Shrinker
from harness.units import format_duration, parse_duration


@click.command("shrink")
@click.argument("run_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--checker", help="The checker to keep failing (default: the run's first failure).")
@click.option(
    "--design",
    help="The design, if the run does not say how to load it (a plugin run before this "
    "version): a shipped name or package.module:factory.",
)
@click.option(
    "--max-runs",
    default=200,
    show_default=True,
    type=click.IntRange(min=1),
    help="At most this many runs; the smallest failing scenario found by then is kept.",
)
def shrink_command(run_dir: Path, checker: str | None, design: str | None, max_runs: int) -> None:
    """Find the smallest scenario that still fails RUN_DIR's checker: shorten the run, drop
    faults (delta debugging), lower the rates, switch off randomness that does not matter.
    Writes RUN_DIR/shrunk/scenario.yaml, its run directory RUN_DIR/shrunk/run and the trace of
    its first evidence."""
    summary, data = _read_run(run_dir)
    verdicts = {v["checker"]: v for v in summary["checkers"]}
    if checker is None:
        checker = next((name for name, v in verdicts.items() if v["status"] == "fail"), None)
        if checker is None:
            raise ScenarioError(f"no checker failed in {run_dir}: nothing to shrink")
    elif checker not in verdicts:
        raise ScenarioError(f"{run_dir} has no checker {checker!r}; it has {', '.join(verdicts)}")
    elif verdicts[checker]["status"] != "fail":
        raise ScenarioError(f"{checker} did not fail in {run_dir}: nothing to shrink")
    spec = design or summary.get("design_spec") or summary["design"]
    if spec not in SHIPPED and ":" not in spec:
        raise ScenarioError(
            f"{run_dir} does not say how to load design {spec!r}: give --design "
            "package.module:factory"
        )
    scenario = _parse(data)
    factory = resolve_design(spec, scenario.designs)
    seed = int(summary["seed"])
    quotes = _quotes(summary)
    click.echo(
        click.style("Syncline shrink", bold=True)
        + f" · {scenario.name} × {spec} · seed {seed} · keeping {checker} failing"
        f" · at most {max_runs} runs"
    )

    def progress(step: str, tried: str, failed: bool, runs: int) -> None:
        outcome = click.style("still fails", fg="red") if failed else "passes: kept"
        click.echo(f"  [{runs:>3}/{max_runs}] {step:<10} {tried:<40} {outcome}")

    shrinker = Shrinker(data, factory, seed, checker, _parse, max_runs, progress)
    if not shrinker.fails(data, "original", "the run as recorded"):
        raise ScenarioError(
            f"{checker} passes when {run_dir}/scenario.yaml is run again with seed {seed}: "
            "the run cannot be replayed (was the design or the code changed since?)"
        )
    shrunk = shrinker.shrink()
    folder = run_dir / "shrunk"
    folder.mkdir(exist_ok=True)
    (folder / "scenario.yaml").write_text(  # with units, so `syncline run` takes it as it is
        _parse(shrunk.data).to_yaml(), encoding="utf-8"
    )
    result = run(_parse(shrunk.data), spec, seed, run_dir=folder / "run")
    verdict = next(v for v in result.verdicts if v.checker == checker)
    click.echo()
    faults = f"{len(data.get('faults') or [])} faults → {len(shrunk.data.get('faults') or [])}"
    before, after = parse_duration(data["duration"]), parse_duration(shrunk.data["duration"])
    duration = f"{format_duration(before)} → {format_duration(after)}"
    click.echo(f"  shrunk in {shrunk.runs} runs: {faults}, {duration}, "
               f"{quotes:,} quotes → {_quotes(result.summary):,}")  # fmt: skip
    for step in shrunk.steps:
        click.echo(f"    {step}")
    click.echo(f"  {checker} {verdict.status}: {verdict.summary}")
    click.echo(f"  scenario:      {folder / 'scenario.yaml'}")
    click.echo(f"  run:           {result.run_dir}")
    click.echo(f"  replay:        syncline run {folder / 'scenario.yaml'} --seed {seed} "
               f"--design {spec}")  # fmt: skip
    _trace_first(result.run_dir, result.summary, checker)


def _read_run(run_dir: Path) -> tuple[dict[str, Any], Data]:
    for required in ("scenario.yaml", "summary.json"):
        if not (run_dir / required).is_file():
            raise ScenarioError(f"{run_dir} is not a run directory: {required} is missing")
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    data = yaml.safe_load((run_dir / "scenario.yaml").read_text(encoding="utf-8"))
    return summary, data


def _parse(data: Data) -> Scenario:
    """The shrinker writes durations in seconds as it halves them."""
    text = yaml.safe_dump(data, sort_keys=False)
    return parse(text, "the shrunk scenario", strict_units=False)


def _quotes(summary: dict[str, Any]) -> int:
    lost = next((v for v in summary["checkers"] if v["checker"] == "nothing_lost"), None)
    return int(lost["figures"].get("approved", 0)) if lost else 0


def _trace_first(run_dir: Path, summary: dict[str, Any], checker: str) -> None:
    """Print and draw the lineage of the first business id in the checker's evidence."""
    from reports.evidence import traceable_id  # noqa: PLC0415
    from reports.lineage import draw, render, trace, trace_path  # noqa: PLC0415

    verdict = next(v for v in summary["checkers"] if v["checker"] == checker)
    found = next((traceable_id(item) for item in verdict["evidence"] if traceable_id(item)), None)
    if found is None:
        return
    steps = trace(run_dir, found)
    if not steps:
        return
    start = datetime.fromisoformat(summary["simulated"]["start"])
    click.echo(f"\n  the first evidence, {found}:")
    click.echo(render(steps, start, found), nl=False)
    click.echo(f"  swimlane:      {draw(steps, start, found, trace_path(run_dir, found))}")
