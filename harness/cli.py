"""The `syncline` command (also `python -m harness`).

Exit codes (ARCHITECTURE.md): 0 every verdict passed · 1 an invariant failed · 2 bad usage or bad
input · 3 a checker could not decide · 4 internal error. A mistake a user can make gets one
sentence on stderr, never a traceback (set SYNCLINE_DEBUG=1 to see one for internal errors).
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import os
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import click
import yaml

from harness import checkers, runner
from harness.authoring_command import faults_command, init_command, schema_command
from harness.checkers.base import Verdict
from harness.cli_options import NO_REPORTS, RUNS_OUT, scenario_options, simulating
from harness.designs import SHIPPED, DesignError
from harness.diff_command import diff_command
from harness.history import read_history
from harness.pool import Task
from harness.runner import EXIT_CODES, RunResult
from harness.scenario import Scenario, ScenarioError, load, parse, shipped_scenarios
from harness.shrink_command import shrink_command
from harness.swarm_command import swarm_command
from harness.sweep_command import sweep_command
from harness.units import format_duration
from simulators.presets import PRESETS

EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 4
STATUS_COLOURS = {"pass": "green", "fail": "red", "unknown": "yellow"}
DEMO_SCENARIO = "subscription_amendment"
#: What `syncline compare` runs when no `--designs` are given: the seed document's contenders.
COMPARED = "point-to-point,choreography,batch-esb,reference"


class UserError(click.ClickException):
    """Bad input: one sentence, exit code 2."""

    exit_code = EXIT_BAD_INPUT

    def show(self, file: Any = None) -> None:
        click.echo(click.style("error: ", fg="red", bold=True) + self.message, err=True)


class SynclineGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in LAZY_COMMANDS and cmd_name not in self.commands:
            self.add_command(_lazy_command(cmd_name), cmd_name)
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (ScenarioError, DesignError) as error:
            raise UserError(str(error)) from None
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)
        except BrokenPipeError:  # the reader went away (`syncline scenarios | head`)
            sys.stderr.close()
            sys.exit(0)
        except Exception as error:
            if os.environ.get("SYNCLINE_DEBUG"):
                raise
            click.echo(
                click.style("internal error: ", fg="red", bold=True)
                + f"{type(error).__name__}: {error} "
                "(this is a Syncline bug; rerun with SYNCLINE_DEBUG=1 for the traceback)",
                err=True,
            )
            sys.exit(EXIT_INTERNAL)


@click.group(cls=SynclineGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="syncline", prog_name="syncline")
def main() -> None:
    """Simulate CPQ, billing, ERP and support integrations and check their invariants."""


@main.command("run")
@click.argument("scenario")
@click.option(
    "--design",
    default="reference",
    show_default=True,
    help=f"A shipped design ({', '.join(SHIPPED)}) or a plugin: package.module:factory.",
)
@click.option("--seed", default=0, show_default=True, type=int, help="The run's one seed.")
@click.option(
    "--out",
    default="runs",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Where run directories go.",
)
@click.option(
    "--swarm",
    is_flag=True,
    help="Add a fault profile drawn from the seed (swarm testing); the run directory's "
    "scenario.yaml replays it.",
)
@click.option("--json", "as_json", is_flag=True, help="Print summary.json instead of the table.")
@scenario_options
def run_command(
    scenario: str,
    design: str,
    seed: int,
    out: str,
    swarm: bool,
    as_json: bool,
    overrides: tuple[str, ...],
) -> None:
    """Run SCENARIO (a YAML file or a shipped scenario's name) against a design."""
    loaded = load(scenario, overrides)
    with _for_people(as_json):
        result = _run(loaded, design, seed, Path(out), swarm)
    if as_json:
        click.echo((result.run_dir / "summary.json").read_text(encoding="utf-8"), nl=False)
    sys.exit(result.exit_code)


@main.command("compare")
@click.argument("scenario")
@click.option(
    "--designs",
    default=COMPARED,
    show_default=True,
    help="Comma-separated designs: shipped names or package.module:factory plugins.",
)
@click.option("--seed", default=0, show_default=True, type=int, help="The one seed all share.")
@click.option(
    "--out",
    default="runs",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Where results go (runs/latest-compare points at the newest comparison).",
)
@click.option(
    "--workers",
    default=None,
    type=click.IntRange(min=1),
    help="Designs run at once (default: one per CPU core).",
)
@click.option("--json", "as_json", is_flag=True, help="Print comparison.json instead of the table.")
@NO_REPORTS
@scenario_options
def compare_command(
    scenario: str,
    designs: str,
    seed: int,
    out: str,
    workers: int | None,
    as_json: bool,
    no_reports: bool,
    overrides: tuple[str, ...],
) -> None:
    """Run several designs on SCENARIO with identical inputs and compare them.

    Exits 0 once the comparison is written, whatever the designs' verdicts (a comparison
    expects some designs to fail); 2 on bad input.
    """
    from harness.compare import compare  # noqa: PLC0415
    from reports.comparison import write_comparison_report  # noqa: PLC0415

    loaded = load(scenario, overrides)
    names = [name.strip() for name in designs.split(",") if name.strip()]
    if not names:
        raise UserError("--designs needs at least one design")
    if len(set(names)) != len(names):
        raise UserError(f"--designs names a design twice: {designs}")
    for name in names:
        runner.resolve_design(name, loaded.designs)  # a bad plugin fails before any run
    say = _quiet if as_json else click.echo
    say(
        click.style("Syncline", bold=True)
        + f" · comparing {', '.join(names)} on {loaded.name} · seed {seed}"
    )
    began = time.perf_counter()

    def finished(task: Task, result: RunResult) -> None:
        label = click.style(result.status, fg=STATUS_COLOURS[result.status])
        say(f"  {task.label:<16} {label}  ({time.perf_counter() - began:.1f} s)")

    comparison = compare(loaded, names, seed, Path(out), workers, finished, not no_reports)
    write_comparison_report(comparison.directory)
    if as_json:
        click.echo((comparison.directory / "comparison.json").read_text("utf-8"), nl=False)
        return
    click.echo()
    _print_comparison(comparison.data)
    click.echo(f"  comparison:    {comparison.directory / 'comparison.html'}")
    click.echo(f"  markdown:      {comparison.directory / 'comparison.md'}")


@main.command("gate")
@click.argument("scenarios", nargs=-1, required=True)
@click.option(
    "--design",
    default=None,
    help="Run every scenario against this design instead of the one each names (`design:`).",
)
@click.option("--seed", default=0, show_default=True, type=int, help="The seed of every run.")
@click.option(
    "--out",
    default="runs",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Where results go (runs/latest-gate points at the newest gate).",
)
@click.option("--workers", default=None, type=click.IntRange(min=1), help="Runs at once.")
@click.option(
    "--junit",
    "junit_path",
    default=None,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the JUnit XML here (it is always in the gate's directory).",
)
@click.option(
    "--markdown",
    "markdown_path",
    default=None,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the Markdown summary here, e.g. for a pull-request comment.",
)
@click.option(
    "--baseline",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=None,
    help="A gate directory to hold this one to: exit 1 only if a verdict got worse than there "
    "(known failures pass), and list what changed.",
)
@click.option("--json", "as_json", is_flag=True, help="Print gate.json instead of the table.")
@NO_REPORTS
@scenario_options
def gate_command(
    scenarios: Sequence[str],
    design: str | None,
    seed: int,
    out: str,
    workers: int | None,
    junit_path: Path | None,
    markdown_path: Path | None,
    baseline: Path | None,
    as_json: bool,
    no_reports: bool,
    overrides: tuple[str, ...],
) -> None:
    """Run SCENARIOS (files, directories, globs or shipped names; `shipped` for all) as a
    resilience gate: exit 0 all pass, 1 an invariant failed, 2 bad input (a scenario, a plugin,
    a baseline), 3 a checker could not decide."""
    from harness.gate import collect, gate  # noqa: PLC0415
    from reports.ci import render_gate_markdown, write_junit  # noqa: PLC0415

    loaded = collect(scenarios, overrides)
    for scenario in loaded:
        runner.resolve_design(design or scenario.design, scenario.designs)
    if baseline is not None:
        kind_of_baseline(baseline)
    say = _quiet if as_json else click.echo
    say(click.style("Syncline gate", bold=True) + f" · {len(loaded)} scenarios · seed {seed}")
    began = time.perf_counter()
    width = max(len(s.name) for s in loaded)

    def finished(task: Task, result: RunResult) -> None:
        label = click.style(result.status, fg=STATUS_COLOURS[result.status])
        failing = [v.checker for v in result.verdicts if v.status != "pass"]
        why = f"  {', '.join(failing)}" if failing else ""
        elapsed = time.perf_counter() - began
        say(f"  {task.label:<{width}}  {task.design:<14} {label}{why}  ({elapsed:.1f} s)")

    outcome = gate(loaded, design, seed, Path(out), workers, finished, reports=not no_reports)
    runs = [(s.name, design or s.design, r) for s, r in outcome.runs]
    junit = write_junit(runs, outcome.directory / "junit.xml")
    markdown = render_gate_markdown(runs, outcome.status)
    (outcome.directory / "summary.md").write_text(markdown, encoding="utf-8")
    for extra, write in ((junit_path, junit.read_bytes()), (markdown_path, markdown.encode())):
        if extra is not None:
            extra.parent.mkdir(parents=True, exist_ok=True)
            extra.write_bytes(write)
    code = EXIT_CODES[outcome.status]
    if baseline is not None:
        from harness.diff import diff  # noqa: PLC0415
        from harness.diff_command import print_diff  # noqa: PLC0415

        against = diff(baseline, outcome.directory)
        if not as_json:
            click.echo()
            print_diff(against)
        code = 1 if against.regressions else 0
    if as_json:
        click.echo((outcome.directory / "gate.json").read_text(encoding="utf-8"), nl=False)
        sys.exit(code)
    click.echo()
    _print_overall(outcome.status)
    click.echo(f"  junit:         {junit}")
    click.echo(f"  summary:       {outcome.directory / 'summary.md'}")
    sys.exit(code)


@main.command("demo")
@click.option("--seed", default=7, show_default=True, type=int, help="The run's one seed.")
@RUNS_OUT
def demo_command(seed: int, out: str) -> None:
    """The seed scenario against the reference orchestrator, narrated."""
    scenario = load(DEMO_SCENARIO)
    story = (
        f"For {format_duration(scenario.duration)} of simulated time, sales reps approve "
        f"~{scenario.workload.new_subscriptions * 3600:g} new subscriptions and "
        f"~{scenario.workload.amendments * 3600:g} amendments an hour in CPQ. The reference "
        "orchestrator validates each against ERP, books the order and contract, updates "
        "billing, and keeps support entitlements current, through maintenance, outages, "
        "lost answers and duplicate webhooks. Then the checkers judge what happened."
    )
    click.echo(click.style("Syncline demo", bold=True))
    for paragraph in (scenario.description, story):
        click.echo(click.wrap_text(paragraph, width=88) + "\n")
    result = _run(scenario, "reference", seed, Path(out))
    _offer_studio(result.run_dir)
    sys.exit(result.exit_code)


def _offer_studio(run_dir: Path) -> None:
    """The demo's last word: watch the run play in the studio, now if the user is at a
    terminal and says so."""
    try:
        from harness.live.serve import PortInUse, check_ports  # noqa: PLC0415 - the live extra
        from harness.studio.command import serve_studio  # noqa: PLC0415
        from harness.studio.server import Pane, Session  # noqa: PLC0415
        from harness.studio.sources import StoredRun  # noqa: PLC0415
    except ImportError:
        return
    click.echo()
    click.echo(f"  Watch it happen: .venv/bin/syncline studio {run_dir}")
    click.echo("  or a lesson:     .venv/bin/syncline studio --lesson duplicate-webhook")
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        return
    if click.confirm("  Open the studio on this run now?", default=False):
        try:
            check_ports("127.0.0.1", {"the studio": 8400})
        except PortInUse as error:
            click.echo(f"  {error}; run the command above with --port")
            return
        session = Session([Pane(run_dir.name, StoredRun(run_dir))])
        session.judge()
        with contextlib.suppress(KeyboardInterrupt):
            serve_studio(session, "127.0.0.1", 8400, open_browser=True)


@main.command("analyze")
@click.argument("run_dir", type=click.Path(file_okay=False, path_type=Path))
def analyze_command(run_dir: Path) -> None:
    """Re-run the checkers over a stored run directory's history."""
    history, scenario_file = run_dir / "history.jsonl", run_dir / "scenario.yaml"
    for required in (history, scenario_file):
        if not required.is_file():
            raise UserError(f"{run_dir} is not a run directory: {required.name} is missing")
    scenario = parse(
        scenario_file.read_text(encoding="utf-8"), str(scenario_file), strict_units=False
    )
    try:
        verdicts = checkers.check(read_history(history), scenario)
    except (ValueError, KeyError, TypeError) as error:
        raise UserError(f"{history} is damaged and cannot be read: {error}") from None
    _print_verdicts(verdicts)
    status = checkers.worst(v.status for v in verdicts)
    _print_overall(status)
    sys.exit(EXIT_CODES[status])


@main.command("trace")
@click.argument("run_dir", type=click.Path(file_okay=False, path_type=Path))
@click.argument("business_id")
def trace_command(run_dir: Path, business_id: str) -> None:
    """Print and draw the life of BUSINESS_ID (a quote, contract, order, invoice…) in a run."""
    from reports.lineage import draw, render, trace, trace_path  # noqa: PLC0415

    for required in ("history.jsonl", "summary.json"):
        if not (run_dir / required).is_file():
            raise UserError(f"{run_dir} is not a run directory: {required} is missing")
    steps = trace(run_dir, business_id)
    if not steps:
        raise UserError(f"nothing in {run_dir} names {business_id}; try a quote, contract, "
                        "order or invoice id from its report")  # fmt: skip
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    start = datetime.fromisoformat(summary["simulated"]["start"])
    click.echo(render(steps, start, business_id), nl=False)
    chart = draw(steps, start, business_id, trace_path(run_dir, business_id))
    click.echo(f"  swimlane:      {chart}")


@main.command("validate")
@click.argument("scenarios", nargs=-1, required=True)
@scenario_options
def validate_command(scenarios: Sequence[str], overrides: tuple[str, ...]) -> None:
    """Check scenario files (or directories, globs, shipped names) without running them."""
    from harness.gate import collect_sources  # noqa: PLC0415 - the gate's own way to name them

    for name in collect_sources(scenarios):
        loaded = load(name, overrides)
        click.echo(f"{name}: ok ({loaded.name}, {format_duration(loaded.horizon_s)} simulated)")
        click.echo(describe_scenario(loaded))


@main.command("presets")
@click.argument("names", nargs=-1)
def presets_command(names: Sequence[str]) -> None:
    """List the vendor behaviour presets, or show NAMES in full with sources and assumptions."""
    unknown = [name for name in names if name not in PRESETS]
    if unknown:
        raise UserError(f"unknown preset {unknown[0]!r}; presets: {', '.join(sorted(PRESETS))}")
    for name in names or sorted(PRESETS):
        preset = PRESETS[name]
        click.echo(f"{click.style(name, bold=True)}  {preset.vendor}")
        if not names:
            continue
        click.echo(yaml.safe_dump(dict(preset.fields), sort_keys=False).rstrip())
        click.echo("sources:")
        click.echo("\n".join(f"  - {line}" for line in preset.sources))
        click.echo("assumed:")
        click.echo("\n".join(f"  - {line}" for line in preset.assumed) + "\n")


@main.command("scenarios")
def scenarios_command() -> None:
    """List the shipped scenarios, one line each (`syncline validate NAME` checks one and says
    what it simulates; its file is scenarios/NAME.yaml)."""
    names = shipped_scenarios()
    width = max(len(name) for name in names)
    for name in names:
        scenario = load(name)
        line = scenario.title or " ".join(scenario.description.split()).split(". ")[0]
        click.echo(f"{click.style(name.ljust(width), bold=True)}  {line.rstrip('.')}")


# -- output -------------------------------------------------------------------------------


def _per_period(per_second: float) -> str:
    hourly = per_second * 3600
    return f"{hourly:.3g}/h" if hourly >= 1 else f"{hourly * 24:.3g}/d"


def describe_scenario(scenario: Scenario) -> str:
    """What a scenario simulates, a line per section, for `syncline validate`."""
    world, workload = scenario.world, scenario.workload
    catalogue = world.catalogue()
    gaps = [f"{field.replace('_', ' ')} {', '.join(values)}"
            for field, values in world.gaps.model_dump().items() if values]  # fmt: skip
    rates = [f"{_per_period(getattr(workload, name))} {name.replace('_', ' ')}"
             for name in ("new_subscriptions", "amendments", "renewals", "cancellations", "cases")
             if getattr(workload, name)]  # fmt: skip
    systems = [f"{name} {spec.preset or 'own profile'}" for name, spec in scenario.systems.items()]
    faults = [f"{f.kind} {f.party}" for f in scenario.faults]
    lines = [
        f"  {scenario.title or ' '.join(scenario.description.split())[:100]}",
        f"  from {scenario.start:%Y-%m-%d %H:%M %Z}: {format_duration(scenario.duration)} of "
        f"arrivals, then {format_duration(scenario.drain)} to settle",
        f"  world: {world.customers:,} customers in {len(world.regions)} regions, "
        f"{len(catalogue.offers)} products" + (f"; ERP gaps: {'; '.join(gaps)}" if gaps else ""),
        f"  workload: {', '.join(rates)}",
        f"  systems: {', '.join(systems)}",
        f"  faults: {', '.join(faults) or 'none beyond the systems’ own profiles'}",
        f"  gate design: {scenario.design}"
        + (f"; checker plugins: {', '.join(scenario.checkers)}" if scenario.checkers else ""),
    ]
    return "\n".join(lines)


def _run(scenario: Scenario, design: str, seed: int, out: Path, swarm: bool = False) -> RunResult:
    # matplotlib loads only when a report is written, keeping `validate` and `--help` quick.
    from reports import write_reports  # noqa: PLC0415

    runner.resolve_design(design, scenario.designs)  # a bad plugin is refused before output
    swarmed = " · swarm" if swarm else ""
    click.echo(
        click.style("Syncline", bold=True) + f" · {scenario.name} × {design} · seed {seed}{swarmed}"
    )
    began = time.perf_counter()
    with simulating(scenario.horizon_s) as progress:
        result = runner.run(scenario, design, seed, out, progress, write_reports, swarm)
    wall = time.perf_counter() - began
    workflows = result.summary["workflows"]
    click.echo(
        f"  simulated {format_duration(scenario.horizon_s)} in {wall:.1f} s wall "
        f"({scenario.horizon_s / max(wall, 1e-9):,.0f}× real time) · "
        + " · ".join(f"{count:,} {status}" for status, count in workflows.items())
    )
    click.echo()
    _print_verdicts(result.verdicts)
    _print_overall(result.status)
    if swarm:
        kinds = sorted({fault["kind"] for fault in result.summary["faults"]})
        replay = f"syncline run {result.run_dir / 'scenario.yaml'} --seed {seed} --design {design}"
        click.echo(f"  swarm faults: {', '.join(kinds)}")
        click.echo(f"  replay:        {replay}")
    click.echo(f"  report:        {result.run_dir / 'report.html'}")
    click.echo(f"  markdown:      {result.run_dir / 'report.md'}")
    return result


def _print_verdicts(verdicts: Sequence[Verdict]) -> None:
    width = max(len(v.checker) for v in verdicts)
    click.echo(f"  {'CHECKER'.ljust(width)}  VERDICT  RESULT")
    for verdict in verdicts:
        label = _verdict_label(verdict, 7)
        summary = verdict.summary
        if verdict.judged and verdict.shown != verdict.status:  # hazards never occurred
            summary = click.style(f"not exercised: {verdict.coverage}; ", fg="yellow") + summary
        click.echo(f"  {verdict.checker.ljust(width)}  {label}  {summary}")
    click.echo()


def _verdict_label(verdict: Verdict, width: int) -> str:
    """A verdict's cell in a table: its status in colour, `n/a` for a checker this business gives
    nothing to judge, `report` for figures no threshold judged."""
    if verdict.judged:
        return click.style(verdict.status.ljust(width), fg=STATUS_COLOURS[verdict.status])
    return ("n/a" if verdict.not_applicable else "report").ljust(width)


def _print_comparison(data: dict[str, Any]) -> None:
    designs = data["designs"]
    names = list(designs)
    checkers = list(next(iter(designs.values()))["verdicts"])
    width = max(len(c) for c in [*checkers, "CHECKER"])
    click.echo(f"  {'CHECKER'.ljust(width)}  " + "  ".join(n.ljust(14) for n in names))
    for checker in checkers:
        cells = []
        for name in names:
            found = designs[name]["verdicts"][checker]
            cells.append(_verdict_label(Verdict(checker, found["status"], found["summary"],
                                                judged=found.get("judged", True)), 14))  # fmt: skip
        click.echo(f"  {checker.ljust(width)}  " + "  ".join(cells))
    click.echo()


@contextmanager
def _for_people(hidden: bool) -> Iterator[None]:
    """The lines meant for people, left out where the command prints JSON instead."""
    if not hidden:
        yield
        return
    with contextlib.redirect_stdout(io.StringIO()):
        yield


def _quiet(message: str = "") -> None:
    """Where a command prints JSON, the lines for people are left out."""


def kind_of_baseline(baseline: Path) -> None:
    """A `--baseline` that is not a gate directory is refused before any run."""
    from harness.diff import NotARun, kind_of  # noqa: PLC0415

    try:
        kind = kind_of(baseline)
    except NotARun as bad:
        raise UserError(f"--baseline: {bad}") from None
    if kind != "gate":
        raise UserError(f"--baseline {baseline} is a {kind}, not a gate directory")


def _print_overall(status: str) -> None:
    text = click.style(status.upper(), fg=STATUS_COLOURS[status], bold=True)
    click.echo(f"  overall: {text}")


#: The live-mode commands and the studio: (module, attribute), imported only when named, as
#: they bring FastAPI, uvicorn, httpx, Redis' client and matplotlib (0.8 s before any command).
LAZY_COMMANDS = {
    "serve": ("harness.live.commands", "serve_command"),
    "orchestrator": ("harness.live.commands", "orchestrator_command"),
    "load": ("harness.live.commands", "load_command"),
    "conform": ("harness.live.commands", "conform_command"),
    "studio": ("harness.studio.command", "studio_command"),
}


def _lazy_command(name: str) -> click.Command:
    """Live mode needs the `live` extra (FastAPI, uvicorn, httpx); without it, say so."""
    module, attribute = LAZY_COMMANDS[name]
    try:
        command: click.Command = getattr(importlib.import_module(module), attribute)
    except ImportError as error:
        return _unavailable(name, error.name)
    return command


def _unavailable(name: str, missing: str | None) -> click.Command:
    @click.command(name, context_settings={"ignore_unknown_options": True},
                   help="Live mode (needs: pip install 'syncline[live,load]').")  # fmt: skip
    @click.argument("args", nargs=-1, type=click.UNPROCESSED)
    def unavailable(args: tuple[str, ...]) -> None:
        raise UserError(
            f"`syncline {name}` needs the live extras ({missing} is missing): "
            "pip install 'syncline[live,load]'"
        )

    return unavailable


main.add_command(sweep_command)
main.add_command(init_command)
main.add_command(schema_command)
main.add_command(faults_command)
main.add_command(swarm_command)
main.add_command(shrink_command)
main.add_command(diff_command)
