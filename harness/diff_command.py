"""`syncline diff BEFORE AFTER`: verdict changes and moved figures between two results."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from harness.diff import Diff, NotARun, RunDiff, diff


@click.command("diff")
@click.argument("before", type=click.Path(file_okay=False, path_type=Path))
@click.argument("after", type=click.Path(file_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the differences as JSON.")
def diff_command(before: Path, after: Path, as_json: bool) -> None:
    """Compare two results (BEFORE, the baseline; AFTER, the change): two runs, comparisons,
    gates, or sweeps or swarms (judged by their intervals). Prints the verdicts that got worse
    or better and the figures that moved; exit 1 if any verdict got worse, else 0; 2 if the
    directories hold no result or results of different kinds."""
    try:
        found = diff(before, after)
    except NotARun as bad:
        raise click.UsageError(str(bad)) from None
    if as_json:
        click.echo(json.dumps(found.to_json(), indent=2))
    else:
        print_diff(found)
    sys.exit(1 if found.regressions else 0)


def print_diff(found: Diff) -> None:
    click.echo(f"Syncline diff · {found.kind} · {found.before} → {found.after}")
    for label, run in found.runs.items():
        _print_run(run, f"{label}: " if label else "")
    for label in found.only_before:
        click.echo(f"  gone        {label} (only in {found.before})")
    for label in found.only_after:
        click.echo(f"  new         {label} (only in {found.after})")
    for change in found.intervals:
        mark = "REGRESSION" if change.regression else "moved"
        (a, a_low, a_high), (b, b_low, b_high) = change.before, change.after
        click.echo(
            f"  {mark:<11} {change.point} · {change.measure}: {a:.3g} [{a_low:.3g}, {a_high:.3g}]"
            f" → {b:.3g} [{b_low:.3g}, {b_high:.3g}]"
        )
    if found.kind == "sweep" and not found.intervals:
        click.echo("  no change beyond the intervals")
    count = found.regressions
    click.echo(f"  overall: {'REGRESSION' if count else 'no regression'}"
               f"{f' ({count} got worse)' if count else ''}")  # fmt: skip


def _print_run(found: RunDiff, label: str) -> None:
    if not found.comparable:
        click.echo(f"  {label}(different scenarios or seeds: figures are listed, not judged; a "
                   "sweep's intervals judge them)")  # fmt: skip
    for change in found.verdicts:
        mark = "REGRESSION" if change.regression else "changed"
        click.echo(f"  {mark:<11} {label}{change.checker:<27} {change.before or '(absent)'} → "
                   f"{change.after or '(absent)'}")  # fmt: skip
    for move in found.figures:
        relative = "" if move.relative is None else f" ({move.relative:+.1%})"
        click.echo(f"  moved       {label}{move.checker:<27} {move.figure}: {move.before:g} → "
                   f"{move.after:g}{relative}")  # fmt: skip
    if not found.verdicts and not found.figures:
        click.echo(f"  {label}no change: the same verdicts and figures")
