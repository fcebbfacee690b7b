"""Options several commands share: `--set PATH=VALUE` and `--checker module:factory`, where
run directories go, and whether runs write their HTML reports."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click

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
