"""The live-mode commands of `syncline`: serve (and, as they land, orchestrator, load, conform)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
from collections import defaultdict
from pathlib import Path
from typing import Any

import click

from harness.cli_options import RUNS_OUT, scenario_options
from harness.designs import DesignError
from harness.designs.api import consumer_groups
from harness.live.broker import BrokerUnavailable
from harness.live.client import run_service
from harness.live.orchestrator import NeedsBroker, read_services, run_orchestrator
from harness.live.reach import ServicesGone, not_answering
from harness.live.redis_server import RedisServer
from harness.live.serve import (
    VENDOR_PORT_OFFSET,
    CannotResume,
    PortInUse,
    Services,
    check_ports,
    plan_services,
    ports_for,
    resume_services,
    serve,
    unenactable,
    write_tokens,
)
from harness.live.supervisor import OrchestratorFailed, Supervisor, design_command
from harness.runner import RunResult, new_directory, point_live, resolve_design
from harness.scenario import Scenario, load
from harness.units import format_duration, parse_duration
from simulators.vendors import FACADES as FACADE_KINDS


class LiveUsageError(click.ClickException):
    """Bad input to a live command: one sentence, exit code 2."""

    exit_code = 2


class Duration(click.ParamType[float, Any]):
    """A duration as the rest of the CLI takes it: 90 (seconds), 30s, 5m, 1h."""

    name = "duration"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        if isinstance(value, float):
            return value
        try:
            seconds = parse_duration(value)
        except ValueError as bad:
            self.fail(f"{bad} (write 90, 30s, 5m or 1h)", param, ctx)
        if seconds < 1:
            self.fail(f"{value!r} is shorter than a second", param, ctx)
        return seconds


def _answering(targets: dict[str, str]) -> None:
    """One sentence, exit 2, if any of `targets` (what -> base URL) does not answer HTTP."""
    silent = asyncio.run(not_answering(targets))
    if silent:
        what, url = silent[0]
        others = f" (nor {len(silent) - 1} more)" if len(silent) > 1 else ""
        raise LiveUsageError(f"nothing answers at {url} ({what}){others}: {_START[what]}")


_START = defaultdict(
    lambda: "start `syncline serve SCENARIO` first, or give --services the directory it printed",
    {
        "the orchestrator": "start `syncline orchestrator` (or `serve --orchestrator`), or give "
        "--orchestrator the URL of yours",
        "your orchestrator": "start it, or give --orchestrator-url the URL it listens on",
    },
)


@click.command("serve")
@click.argument("scenario", required=False)
@click.option("--seed", default=0, show_default=True, help="Seeds the world and the profiles.")
@click.option(
    "--time-scale",
    default=1.0,
    show_default=True,
    type=click.FloatRange(min=0.001),
    help="Scenario seconds per wall second: 60 makes a 4 h window last 4 min.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to listen on.")
@click.option("--port", default=8101, show_default=True,
              help="CPQ's port; ERP, billing and support take the next ones.")  # fmt: skip
@click.option(
    "--webhooks",
    metavar="URL",
    help="Deliver webhooks to URL/webhooks/<system> (the orchestrator's base URL).",
)
@click.option(
    "--orchestrator",
    "design",
    metavar="DESIGN",
    help="Also run DESIGN's orchestrator (reference, choreography, ... or a plugin), kill and "
    "restart it at the scenario's orchestrator_crash faults, and work its exceptions as the "
    "scenario's operations team.",
)
@click.option(
    "--orchestrator-command",
    "command",
    metavar="CMD",
    help="Also run your own orchestrator, CMD (one shell-quoted command line), listening on "
    "--orchestrator-port: killed and restarted like --orchestrator.",
)
@click.option("--orchestrator-port", default=8100, show_default=True,
              help="Where the orchestrator serve runs listens.")  # fmt: skip
@click.option(
    "--broker",
    metavar="URL",
    help="The Redis a design publishes to and consumes from (redis://HOST:PORT). Default: serve "
    "starts redis-server on PORT+8 when it is installed.",
)
@click.option(
    "--wire",
    metavar="vendor|SYSTEMS",
    help="Also serve systems on their vendor's wire, for the vendors' own SDKs: billing as "
    "Stripe, CPQ as Salesforce, support as Zendesk, ERP as NetSuite, each over HTTPS on its "
    "port + 10 (tokens.json has the keys and the CA to trust). `vendor`: every system; or name "
    "them, billing,support. Webhooks then go out in the vendor's shape and signature.",
)
@RUNS_OUT
@click.option(
    "--resume",
    metavar="DIR",
    type=click.Path(file_okay=False, path_type=Path),
    help="Resume the services DIR held (runs/live after a crash): the same world, tokens, "
    "clock and orchestrator, the vendors' records rebuilt from DIR's vendor log. Takes "
    "everything else from DIR.",
)
@scenario_options
def serve_command(
    scenario: str | None, seed: int, time_scale: float, host: str, port: int,
    webhooks: str | None, design: str | None, command: str | None, orchestrator_port: int,
    broker: str | None, wire: str | None, out: str, overrides: tuple[str, ...],
    resume: Path | None,
) -> None:  # fmt: skip
    """Serve SCENARIO's CPQ, ERP, billing and support over HTTP until Ctrl-C (or, with
    --resume DIR, the services DIR held when they stopped)."""
    if resume is not None:
        if scenario is not None:
            raise LiveUsageError("give SCENARIO (a new world) or --resume DIR, not both")
        try:
            services = resume_services(resume.resolve())
        except CannotResume as cannot:
            raise LiveUsageError(str(cannot)) from None
        options = services.options
        host, port, webhooks = options["host"], int(options["port"]), options.get("webhooks")
        design, command = options.get("design"), options.get("command")
        orchestrator_port, broker = int(options["orchestrator_port"]), options.get("broker")
        wired = tuple(options.get("wire", ()))
        out = str(services.directory.parent.parent.parent)
        loaded = services.scenario
    elif scenario is None:
        raise LiveUsageError("give a SCENARIO to serve, or --resume DIR to resume a crashed one")
    else:
        loaded = load(scenario, overrides)
        services = None
        wired = wire_systems(wire, loaded)
    ports = ports_for(loaded, port)
    ports.update({f"{name} ({VENDOR_WIRES[name.split('_')[0]]})": ports[name] + VENDOR_PORT_OFFSET
                  for name in wired})  # fmt: skip
    runs = design is not None or command is not None
    supervised = f"http://{host}:{orchestrator_port}"
    if design is not None and command is not None:
        raise LiveUsageError("give --orchestrator or --orchestrator-command, not both")
    if runs:
        if webhooks and webhooks.rstrip("/") != supervised:
            raise LiveUsageError(
                f"serve runs the orchestrator at {supervised}: leave out --webhooks {webhooks}"
            )
        webhooks, ports = supervised, {**ports, "orchestrator": orchestrator_port}
    redis = None
    if broker is None and RedisServer.available():
        redis = RedisServer(host, port + 8, Path(out) / "redis.log")
        ports = {**ports, "broker": redis.port}
    try:
        if design is not None:
            made = resolve_design(design, loaded.designs)()
            if consumer_groups(made) and broker is None and redis is None:
                raise DesignError(
                    f"{design} consumes from a broker: install redis-server (Debian: apt-get "
                    "install redis-server) or give --broker redis://HOST:PORT"
                )
        check_ports(host, ports)
    except (PortInUse, DesignError) as bad:
        raise LiveUsageError(str(bad)) from None
    refused = unenactable(loaded, seed if services is None else services.seed, supervised=runs)
    if refused is not None:
        raise LiveUsageError(refused)
    os.umask(0o077)  # the run's files (history, tokens, journal) are the user's alone
    if services is None:
        _hint_resume(Path(out))
        directory = new_directory(Path(out) / loaded.name / "live", seed)
        services = plan_services(loaded, seed, directory, time_scale, host, port, webhooks, wired)
        services.options = {
            "host": host, "port": port, "webhooks": webhooks, "design": design,
            "command": command, "orchestrator_port": orchestrator_port, "broker": broker,
            "wire": list(wired),
        }  # fmt: skip
    directory = services.directory
    if redis is not None:
        redis.log = directory / "redis.log"
        redis.data = directory
        try:
            redis.start()
        except RuntimeError as failed:
            raise LiveUsageError(str(failed)) from None
        services.broker = redis.url
    else:
        services.broker = broker
    tokens = write_tokens(services)
    supervisor = None
    if runs:
        argv = (
            shlex.split(command)
            if command is not None
            else design_command(directory, str(design), host, orchestrator_port)
        )
        supervisor = Supervisor(argv, supervised, directory / "orchestrator.log")
    point_live(Path(out), directory)
    _tell_served(services, supervisor, tokens, Path(out), redis is not None, design or command)
    (directory / "running").touch()  # gone after a clean stop: a crash leaves it
    try:
        with contextlib.suppress(KeyboardInterrupt):
            run_service(serve(services, supervisor))
        (directory / "running").unlink(missing_ok=True)
    except OrchestratorFailed as failed:
        raise LiveUsageError(str(failed)) from None
    finally:
        if redis is not None:
            redis.stop()


def _tell_served(
    services: Services, supervisor: Supervisor | None, tokens: Path, out: Path,
    redis_here: bool, orchestrator: str | None,
) -> None:  # fmt: skip
    directory, loaded = services.directory, services.scenario
    if services.resumed_at is not None:
        click.echo(f"Resumed {directory} at {format_duration(services.resumed_at)} of scenario "
                   f"time: {len(services.vendor_log or ())} vendor changes replayed, "
                   f"{len(services.redeliver)} webhook deliveries to start again.")  # fmt: skip
    click.echo(f"Serving {loaded.name} (seed {services.seed}, time scale "
               f"{services.clock.time_scale:g}):")  # fmt: skip
    for name in services.live:
        click.echo(f"  {name:<10} {services.url(name)}  token {services.tokens[name]}")
        click.echo(f"  {'':<10} {services.url(name)}/docs (OpenAPI)")
        if name in services.facades:
            wire = services.facades[name].vendor
            click.echo(f"  {'':<10} https://{services.host}:{services.vendor_port(name)}  "
                       f"{wire}'s wire (keys in tokens.json)")  # fmt: skip
    if services.facades:
        click.echo(f"  vendor CA:     {services.directory / 'tls' / 'ca.pem'} (trust it for the "
                   "vendor wires' HTTPS)")  # fmt: skip
    click.echo(f"  admin token    {services.admin_token}")
    click.echo(f"  tokens:        {tokens}  ({out / 'live'} points here)")
    click.echo(f"  history:       {directory / 'history.jsonl'}")
    if services.webhooks:
        click.echo(f"  webhooks to:   {services.webhooks.rstrip('/')}/webhooks/<system>")
    if services.broker:
        started = " (redis-server, started here)" if redis_here else ""
        click.echo(f"  broker:        {services.broker}{started}")
    if supervisor is not None:
        click.echo(f"  orchestrator:  {orchestrator} at {supervisor.url} (log: "
                   f"{directory / 'orchestrator.log'})")  # fmt: skip
    click.echo(f"Ctrl-C stops; after a crash, `syncline serve --resume {directory}` resumes.")


def _hint_resume(out: Path) -> None:
    """Say so when the services `out/live` points at crashed: they can be resumed."""
    previous = out / "live"
    if (previous / "running").exists():
        click.echo(f"Note: the services in {previous.resolve()} did not stop cleanly; `syncline "
                   f"serve --resume {previous}` resumes them. Starting a new world.")  # fmt: skip


@click.command("orchestrator")
@click.argument("services", default="runs/live", type=click.Path(path_type=Path))
@click.option("--design", default="reference", show_default=True,
              help="A shipped design or a plugin (package.module:factory).")  # fmt: skip
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to listen on.")
@click.option("--port", default=8100, show_default=True,
              help="Where webhooks arrive: give `serve --webhooks http://HOST:PORT`.")  # fmt: skip
@click.option("--state", type=click.Path(file_okay=False, path_type=Path),
              help="Its SQLite journal and history (default: SERVICES/orchestrator).")  # fmt: skip
def orchestrator_command(
    services: Path, design: str, host: str, port: int, state: Path | None
) -> None:
    """Run a design as a service against the simulators `syncline serve` started (SERVICES is
    the directory it printed; runs/live points at the newest)."""
    try:
        described = read_services(services)
        made = resolve_design(design, described["scenario"].designs)()
        if consumer_groups(made) and not described.get("broker"):
            raise DesignError(
                f"{design} consumes from a broker and {services} runs none: install "
                "redis-server and start serve again, or give serve --broker redis://HOST:PORT"
            )
        check_ports(host, {"orchestrator": port})
    except (FileNotFoundError, PortInUse, DesignError) as bad:
        raise LiveUsageError(str(bad)) from None
    state = state or services / "orchestrator"
    os.umask(0o077)  # its journal and history are the user's alone
    click.echo(f"Orchestrator ({design}) for {described['scenario'].name}:")
    click.echo(f"  webhooks at    http://{host}:{port}/webhooks/<system>")
    click.echo(f"  exceptions     http://{host}:{port}/exceptions (admin token)")
    click.echo(f"  journal:       {state / 'journal.sqlite'}")
    click.echo(f"  history:       {state / 'history.jsonl'}")
    click.echo("Ctrl-C stops; kill -9 loses nothing: start it again on the same state.")
    try:
        with contextlib.suppress(KeyboardInterrupt):
            run_service(run_orchestrator(services, host, port, design, state))
    except (BrokerUnavailable, NeedsBroker) as failed:
        raise LiveUsageError(str(failed)) from None


@click.command("load")
@click.argument("scenario")
@click.option(
    "--users",
    default=10,
    show_default=True,
    type=click.IntRange(min=1),
    help="Simulated sales reps (Locust users) approving quotes at once.",
)
@click.option("--spawn-rate", default=2.0, show_default=True, type=click.FloatRange(min=0.01),
              help="Users started per second.")  # fmt: skip
@click.option("--duration", default="30s", show_default=True, type=Duration(),
              help="How long Locust runs: 30s, 5m, 1h.")  # fmt: skip
@click.option(
    "--services",
    default="runs/live",
    show_default=True,
    type=click.Path(path_type=Path),
    help="The directory `syncline serve` printed.",
)
@click.option("--orchestrator", default="http://127.0.0.1:8100", show_default=True,
              help="The orchestrator's base URL (waited for until it is idle).")  # fmt: skip
@click.option(
    "--settle",
    default="60s",
    show_default=True,
    type=Duration(),
    help="How long to wait at most, after the load, for the integration to settle.",
)
@click.option(
    "--locust-arg",
    "locust_args",
    multiple=True,
    metavar="ARG",
    help="Passed to Locust, e.g. --locust-arg=--master --locust-arg=--expect-workers=2",
)
def load_command(
    scenario: str, users: int, spawn_rate: float, duration: float, services: Path,
    orchestrator: str, settle: float, locust_args: tuple[str, ...],
) -> None:  # fmt: skip
    """Load the live services of SCENARIO with Locust, then judge what happened."""
    from harness.live.load import LoadPlan, run_load  # noqa: PLC0415 - starts no Locust itself

    described = _serving(services, scenario)
    _answering({**_systems(described), "the orchestrator": orchestrator})
    # The world it started on, even if runs/live is pointed at another one meanwhile.
    services = services.resolve()
    plan = LoadPlan(services, users, spawn_rate, duration, orchestrator, settle, locust_args)
    click.echo(
        f"Locust: {users} users (+{spawn_rate:g}/s) for {format_duration(duration)} "
        f"against {services}"
    )
    try:
        result, locust_code = run_load(plan, int(described.get("seed", 0)))
    except ServicesGone as gone:
        raise LiveUsageError(str(gone)) from None
    _print_result(result)
    click.echo(f"  locust:        {result.run_dir / 'locust.html'} (Locust exited {locust_code})")
    raise SystemExit(result.exit_code)


@click.command("conform")
@click.argument("scenario")
@click.option(
    "--orchestrator-url",
    required=True,
    metavar="URL",
    help="Your orchestrator: it gets the webhooks at URL/webhooks/<system>.",
)
@click.option(
    "--services",
    default="runs/live",
    show_default=True,
    type=click.Path(path_type=Path),
    help="The directory `syncline serve` printed.",
)
@click.option(
    "--duration",
    default="60s",
    show_default=True,
    type=Duration(),
    help="How long the workload runs: 90, 30s, 5m, 1h.",
)
@click.option(
    "--rate",
    default=1.0,
    show_default=True,
    type=click.FloatRange(min=0.01),
    help="Quotes approved per second.",
)
@click.option(
    "--settle",
    default="120s",
    show_default=True,
    type=Duration(),
    help="How long to wait at most, after the workload, for the integration to settle.",
)
def conform_command(
    scenario: str, orchestrator_url: str, services: Path, duration: float, rate: float,
    settle: float,
) -> None:  # fmt: skip
    """Test your orchestrator live: workload, faults, forged and replayed webhooks, checkers."""
    from harness.live.conform import ConformPlan, run_conform  # noqa: PLC0415

    described = _serving(services, scenario)
    _answering({**_systems(described), "your orchestrator": orchestrator_url})
    click.echo(f"Conformance of {orchestrator_url}: {rate:g} quotes/s for "
               f"{format_duration(duration)}, forged and replayed webhooks, the scenario's "
               "faults")  # fmt: skip
    try:
        plan = ConformPlan(services.resolve(), orchestrator_url, duration, rate, settle)
        result = run_conform(plan)
    except ServicesGone as gone:
        raise LiveUsageError(str(gone)) from None
    _print_result(result)
    raise SystemExit(result.exit_code)


def _serving(services: Path, scenario: str) -> dict[str, Any]:
    """What `serve` wrote in `services`, if it serves `scenario`; else one sentence, exit 2."""
    try:
        described = read_services(services)
    except FileNotFoundError as missing:
        raise LiveUsageError(str(missing)) from None
    served = described["scenario"].name
    if served != load(scenario).name:
        raise LiveUsageError(f"{services} serves {served}, not {scenario}: serve {scenario} first")
    return described


def _systems(described: dict[str, Any]) -> dict[str, str]:
    return {name: system["url"] for name, system in described["systems"].items()}


def _print_result(result: RunResult) -> None:
    unsettled = result.summary.get("unsettled")
    if unsettled:
        click.echo(f"  not settled:   {unsettled}")
    for verdict in result.verdicts:
        click.echo(f"  {verdict.checker:<28} {verdict.status:<8} {verdict.summary}")
    click.echo(f"\n  overall: {result.status.upper()}")
    click.echo(f"  report:        {result.run_dir / 'report.html'}")


#: Each kind of system's vendor wire (`serve --wire`).
VENDOR_WIRES = {"cpq": "salesforce", "erp": "netsuite", "billing": "stripe", "support": "zendesk"}


def wire_systems(wire: str | None, scenario: Scenario) -> tuple[str, ...]:
    """The systems `--wire` names, checked against the scenario's."""
    present = [name for name, _ in scenario.systems.items()]
    if wire is None or wire == "syncline":
        return ()
    if wire == "vendor":
        return tuple(name for name in present if name.split("_")[0] in FACADE_KINDS)
    named = tuple(part.strip() for part in wire.split(",") if part.strip())
    for name in named:
        if name not in present:
            raise LiveUsageError(
                f"--wire names {name!r}, which {scenario.name} does not have (it has: "
                f"{', '.join(present)}); give `vendor` for all of them"
            )
        if name.split("_")[0] not in FACADE_KINDS:
            served = ", ".join(sorted(FACADE_KINDS))
            raise LiveUsageError(f"{name} has no vendor wire yet (these do: {served})")
    return named
