"""`syncline diff BEFORE AFTER`: verdict changes and moved figures between two runs."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from harness.diff import NotARun, RunDiff, diff_runs


@click.command("diff")
@click.argument("before", type=click.Path(file_okay=False, path_type=Path))
@click.argument("after", type=click.Path(file_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the differences as JSON.")
def diff_command(before: Path, after: Path, as_json: bool) -> None:
    """Compare two run directories (BEFORE, the baseline; AFTER, the change): verdicts that got
    worse or better, and figures that moved. Exit 1 if any verdict got worse, else 0."""
    try:
        found = diff_runs(before, after)
    except NotARun as bad:
        raise click.UsageError(str(bad)) from None
    if as_json:
        click.echo(json.dumps(found.to_json(), indent=2))
    else:
        _print(found)
    sys.exit(1 if found.regressions else 0)


def _print(found: RunDiff) -> None:
    click.echo(f"Syncline diff · {found.before} → {found.after}")
    if not found.comparable:
        click.echo("  (different scenarios or seeds: figures are listed, not judged; a sweep's "
                   "intervals judge them)")  # fmt: skip
    for change in found.verdicts:
        mark = "REGRESSION" if change.regression else "changed"
        click.echo(f"  {mark:<11} {change.checker:<27} {change.before or '(absent)'} → "
                   f"{change.after or '(absent)'}")  # fmt: skip
    for move in found.figures:
        relative = "" if move.relative is None else f" ({move.relative:+.1%})"
        click.echo(f"  moved       {move.checker:<27} {move.figure}: {move.before:g} → "
                   f"{move.after:g}{relative}")  # fmt: skip
    if not found.verdicts and not found.figures:
        click.echo("  no change: the same verdicts and figures")
    count = len(found.regressions)
    click.echo(f"  overall: {'REGRESSION' if count else 'no regression'}"
               f"{f' ({count} verdicts got worse)' if count else ''}")  # fmt: skip
