"""Options several commands share: `--set PATH=VALUE` and `--checker module:factory`, where
run directories go, and whether runs write their HTML reports."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click

from harness.sim.runtime import Progress

SET_HELP = (
    "Override a scenario field, e.g. --set duration=2d or --set erp.latency.p50=2s (a "
    "system's name stands for systems.NAME; VALUE is read as YAML; PATH+=VALUE appends to a "
    "list; repeatable)."
)
CHECKER_HELP = (
    "Add a checker plugin, package.module:factory (its thresholds under slo.plugins.NAME; "
    "repeatable). Installed plugins (entry point group syncline.checkers) are always added."
)


#: Where run directories go, for the commands that make single runs (run, demo, serve).
RUNS_OUT = click.option(
    "--out",
    default="runs",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Where run directories go (runs/latest points at the newest).",
)
#: Each run's HTML report and charts, left out where only the verdicts are read (CI).
NO_REPORTS = click.option(
    "--no-reports",
    is_flag=True,
    help="Skip each run's HTML report and charts (verdicts, JSON, JUnit and Markdown summaries "
    "are the same): in about 60 % of the time.",
)


def scenario_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """`--set` and `--checker`, both handed to the command as `overrides` (a checker is the
    override `checkers+=SPEC`, so it travels with the scenario into every run and report)."""

    @functools.wraps(command)
    def wrapped(*args: Any, checkers: tuple[str, ...] = (), **kwargs: Any) -> Any:
        kwargs["overrides"] = (*kwargs.get("overrides", ()), *(f"checkers+={c}" for c in checkers))
        return command(*args, **kwargs)

    wrapped = click.option(
        "--checker", "checkers", multiple=True, metavar="MODULE:FACTORY", help=CHECKER_HELP
    )(wrapped)
    return click.option("--set", "overrides", multiple=True, metavar="PATH=VALUE", help=SET_HELP)(
        wrapped
    )


@contextmanager
def simulating(horizon: float) -> Iterator[Progress | None]:
    """A progress bar on simulated time, when a person is watching."""
    if not sys.stderr.isatty():
        yield None
        return
    with click.progressbar(length=int(horizon), label="  simulating", file=sys.stderr) as bar:
        shown = 0

        def advance(now: float) -> None:
            nonlocal shown
            bar.update(int(now) - shown)
            shown = int(now)

        yield advance
        bar.update(int(horizon) - shown)
