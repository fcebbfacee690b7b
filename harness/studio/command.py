"""`syncline studio`: the control room, served on loopback for a browser."""

from __future__ import annotations

import webbrowser
from collections.abc import Mapping
from pathlib import Path

import click
import uvicorn

from harness.cli_options import simulating
from harness.designs import DesignError
from harness.live.serve import PortInUse, check_ports
from harness.runner import run
from harness.scenario import ScenarioError, load
from harness.studio.lessons import LessonError, load_lesson, shipped_lessons
from harness.studio.live import LiveRun
from harness.studio.server import Pane, Session, create_app
from harness.studio.sources import NotARun, StoredRun


class StudioUsageError(click.ClickException):
    """Bad input to the studio: one sentence, exit code 2."""

    exit_code = 2


@click.command("studio")
@click.argument("targets", nargs=-1, metavar="[RUN_DIR | SERVICES_DIR | SCENARIO]...")
@click.option("--design", "designs", multiple=True, metavar="DESIGN",
              help="For a SCENARIO: the design to run (repeat for two, side by side). "
              "Default: reference.")  # fmt: skip
@click.option("--seed", default=0, show_default=True, type=int, help="For a SCENARIO or lesson.")
@click.option("--lesson", metavar="NAME|FILE", help="Play a lesson: a shipped one or a YAML file.")
@click.option("--lessons", "list_lessons", is_flag=True, help="List the shipped lessons.")
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to listen on.")
@click.option("--port", default=8400, show_default=True, type=int,
              help="The port the page is served on.")  # fmt: skip
@click.option("--open", "open_browser", is_flag=True, help="Open the page in the browser.")
@click.option("--out", default="runs", show_default=True, type=click.Path(file_okay=False),
              help="Where the runs a SCENARIO or a lesson needs are written.")  # fmt: skip
def studio_command(
    targets: tuple[str, ...], designs: tuple[str, ...], seed: int, lesson: str | None,
    list_lessons: bool, host: str, port: int, open_browser: bool, out: str,
) -> None:  # fmt: skip
    """Watch runs play: replay a RUN_DIR (default runs/latest), drive live services (the
    directory `syncline serve` printed), run a SCENARIO and replay it, show two side by side, or
    play a narrated lesson (--lesson; --lessons lists them)."""
    if list_lessons:
        for name in shipped_lessons():
            try:
                title = load_lesson(name)[1].title
            except LessonError as error:
                title = f"(cannot be played: {error})"
            click.echo(f"  {name:<22} {title}")
        return
    try:
        check_ports(host, {"the studio": port})
    except PortInUse as error:
        raise StudioUsageError(str(error)) from None
    try:
        session = (
            lesson_session(lesson, Path(out)) if lesson else _session(targets, designs, seed, out)
        )
    except (NotARun, LessonError, ScenarioError, DesignError) as error:
        raise StudioUsageError(str(error)) from None
    session.judge()
    serve_studio(session, host, port, open_browser)


def serve_studio(session: Session, host: str, port: int, open_browser: bool = False) -> None:
    url = f"http://{host}:{port}/"
    shown = {"side": "side by side"}.get(session.mode, session.mode)
    click.echo(click.style("Syncline studio", bold=True) + f" · {shown} · {url}")
    click.echo("  Ctrl-C stops.")
    if open_browser:
        webbrowser.open(url)
    config = uvicorn.Config(create_app(session), host=host, port=port, log_level="warning")
    uvicorn.Server(config).run()


def _session(targets: tuple[str, ...], designs: tuple[str, ...], seed: int, out: str) -> Session:
    if len(targets) > 2 or (designs and len(targets) != 1) or len(designs) > 2:
        raise StudioUsageError(
            "give at most two runs, or one SCENARIO with at most two --design, to show side by side"
        )
    panes: list[Pane] = []
    for target in targets or ("runs/latest",):
        path = Path(target)
        if (path / "tokens.json").is_file():
            panes.append(Pane("live", LiveRun(path)))
        elif path.is_dir():
            panes.append(Pane(path.name, StoredRun(path)))
        else:
            scenario = load(target)
            for design in designs or ("reference",):
                click.echo(f"Running {scenario.name} × {design} · seed {seed}…")
                with simulating(scenario.horizon_s) as progress:
                    result = run(scenario, design, seed, Path(out), progress)
                panes.append(Pane(design, StoredRun(result.run_dir)))
    return Session(panes)


def lesson_session(name: str, out: Path, played: Mapping[str, StoredRun] | None = None) -> Session:
    """The lesson's acts, one run per design on the same scenario and seed, judged up front:
    run into `out`, or taken from `played` (by design) when it holds them already."""
    lesson_name, lesson = load_lesson(name)
    scenario = load(lesson.scenario, lesson.set)
    panes = []
    for act in lesson.acts:
        stored = (played or {}).get(act.design)
        if stored is None:
            click.echo(f"Lesson {lesson_name}: running {scenario.name} × {act.design} · "
                       f"seed {lesson.seed}…")  # fmt: skip
            run_dir = out / "lessons" / lesson_name / act.design
            with simulating(scenario.horizon_s) as progress:
                result = run(scenario, act.design, lesson.seed, progress=progress, run_dir=run_dir)
            stored = StoredRun(result.run_dir)
        stored.judge()
        panes.append(Pane(act.design, stored))
    return Session(panes, lesson, lesson_name)
