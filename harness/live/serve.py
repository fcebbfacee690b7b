"""`syncline serve`: the scenario's systems of record as HTTP services on loopback.

The same world, domain modules and profiles as a simulated run (`harness.systems`), served by
`simulators.http` in real time: a clock whose scenario time runs `time_scale` times faster than
the wall clock, so a 4 h maintenance window lasts 4 min at `--time-scale 60`. The fault
schedule (maintenance, outages, brownouts...) opens and closes on that clock. Every record goes
to `history.jsonl` in the service's directory, with `tokens.json` (the URLs, a bearer token per
system, the admin token and the webhook signing secret).

What the vendors hold is logged as it changes (`harness.live.vendor_log`), so `serve --resume`
on the same directory after a crash rebuilds the same world: same tokens, same scenario clock,
same records, and the webhook deliveries the crash cut short start again.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import secrets
import signal
import socket
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

import httpx
import uvicorn

from harness.enactment import SystemFaults
from harness.faults import FaultWindow, build_schedule
from harness.history import SCHEMA, FaultRecord, PolicyRecord, to_json
from harness.history import Record as TypedRecord
from harness.live.client import CONNECTIONS, http_client
from harness.live.loopback import LoopbackTransport
from harness.live.operations import LiveOperations
from harness.live.supervisor import Supervisor
from harness.live.tls import certificates
from harness.live.vendor_log import FILE as VENDOR_LOG
from harness.live.vendor_log import VendorLog
from harness.scenario import Scenario, ScenarioError, load
from harness.scenario.fault_kinds import BY_NAME as FAULT_KINDS
from harness.seeds import streams
from harness.systems import build_systems
from simulators.base import DomainEvent
from simulators.http import Control, LiveSystem, Record, create_app, to_line
from simulators.vendors import Facade, facade_for
from simulators.vendors.facade import vendor_app

#: The order systems take ports in, from the first port.
PORT_ORDER = ("cpq", "erp", "billing", "support", "erp_cloud")
#: A system's vendor wire listens this many ports after its own API.
VENDOR_PORT_OFFSET = 10


class PortInUse(Exception):
    """A port the services need is taken."""


class Server(uvicorn.Server):
    """A uvicorn server that leaves signals to its host: several run in one process, and
    uvicorn's own handlers, each replacing the last, made Ctrl-C stop one server at a time."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def stop_on_signals(stop: asyncio.Event) -> None:
    """Ctrl-C or SIGTERM sets `stop` at once (the first time; a second one is Python's again)."""
    loop = asyncio.get_running_loop()

    def stopping() -> None:
        stop.set()
        for number in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(number)

    for number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(number, stopping)


@dataclass
class RealClock:
    """Scenario time from the wall clock: `time_scale` scenario seconds per wall second since
    `started` (Unix time), which the services write to `tokens.json` so that the orchestrator,
    another process, keeps the same scenario time."""

    time_scale: float = 1.0
    started: float = field(default_factory=time.time)

    def now(self) -> float:
        return (time.time() - self.started) * self.time_scale

    def unix(self) -> int:
        return int(time.time())

    async def sleep(self, seconds: float) -> None:
        """At least `seconds` of scenario time. An event loop's timer may fire a little before
        the wall clock says (uvloop measures from the start of its iteration); a retry that woke
        early would break the Retry-After it waits out, so it sleeps again for what is left."""
        until = self.now() + max(seconds, 0.0)
        while (left := until - self.now()) > 0:
            await asyncio.sleep(left / self.time_scale)


class HistoryLog:
    """The services' history: appended as it happens, readable while it grows."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[str] = path.open("a", encoding="utf-8", buffering=1)

    def __call__(self, record: Record | TypedRecord) -> None:
        """A record: a typed `harness.history` one, or a simulator's plain dict."""
        line = to_line(record) if isinstance(record, dict) else to_json(record)
        self._file.write(line + "\n")

    def lines(self) -> Iterator[str]:
        if not self._file.closed:
            self._file.flush()
        with self.path.open(encoding="utf-8") as lines:
            yield from (line.rstrip("\n") for line in lines)

    def archive(self) -> Path:
        """Set the history so far aside (`history.before-reset-<n>.jsonl`) and go on in an
        empty file: a reset loses nothing already recorded."""
        self._file.close()
        number = 1
        while (archived := self.path.with_name(f"history.before-reset-{number}.jsonl")).exists():
            number += 1
        self.path.rename(archived)
        self._file = self.path.open("a", encoding="utf-8", buffering=1)
        return archived

    def close(self) -> None:
        self._file.close()


@dataclass
class Services:
    """The live systems of one scenario, their apps and where they listen."""

    scenario: Scenario
    seed: int
    directory: Path
    clock: RealClock
    host: str
    ports: dict[str, int]
    webhooks: str | None
    admin_token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    signing_secret: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    tokens: dict[str, str] = field(default_factory=dict)
    live: dict[str, LiveSystem] = field(default_factory=dict)
    history: HistoryLog | None = None
    system_faults: SystemFaults | None = None
    operations: LiveOperations | None = None
    broker: str | None = None  # redis://... the broker designs publish to and consume from
    #: How serve was started (the orchestrator it runs, where), for `serve --resume`.
    options: dict[str, Any] = field(default_factory=dict)
    vendor_log: VendorLog | None = None
    #: The `systems` fault edges (window, starts) already enacted, as the vendor log says.
    enacted: set[tuple[int, bool]] = field(default_factory=set)
    #: On resume: the scenario time it resumed at, and deliveries the crash cut short.
    resumed_at: float | None = None
    redeliver: list[tuple[str, DomainEvent]] = field(default_factory=list)
    #: The systems served on their vendor's wire too (`serve --wire`), and their facades.
    wire: tuple[str, ...] = ()
    facades: dict[str, Facade] = field(default_factory=dict)

    def build(self, resuming: bool = False) -> None:
        """(Re)build the systems from the scenario's world: a fresh start, as after `reset`
        (or, `resuming`, the start of a replay of the vendor log)."""
        built = build_systems(self.scenario, self.seed, streams(self.seed))
        self.system_faults = SystemFaults(built.world, built.by_name, built.behaviours, built.erps)
        if self.history is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            if not resuming:
                scenario_file = self.directory / "scenario.yaml"
                scenario_file.write_text(self.scenario.to_yaml(), encoding="utf-8")
            self.history = HistoryLog(self.directory / "history.jsonl")
            self.vendor_log = VendorLog(self.directory / VENDOR_LOG)
        if not resuming:
            self.history({
                "kind": "run_started", "t": 0.0, "scenario": self.scenario.name,
                "design": "live", "seed": self.seed, "start": self.scenario.start.isoformat(),
                "horizon": self.scenario.horizon_s, "schema": SCHEMA,
            })  # fmt: skip
        for name, system in built.by_name.items():
            system.keep_feed()  # designs may poll, or replay a change stream (72 h)
            if name in self.live:  # the apps serve these objects: renew them in place
                self.live[name].renew(system, built.behaviours[name])
                continue
            token = self.tokens.setdefault(name, secrets.token_urlsafe(24))
            subscribers = [f"{self.webhooks.rstrip('/')}/webhooks/{name}"] if self.webhooks else []
            self.live[name] = LiveSystem(
                system, built.behaviours[name], self.clock, self.history, token,
                self.signing_secret, subscribers,
                applied=self.vendor_log.request if self.vendor_log is not None else None,
            )  # fmt: skip
            facade = facade_for(name, self.live[name], self.signing_secret)
            if name in self.wire and facade is not None:
                self.facades[name] = facade
                if facade.sends_webhooks:  # webhooks in the vendor's shape
                    self.live[name].wire = facade.webhook
        if self.facades:
            certificates(self.directory)  # before tokens.json names the CA

    def resume(self) -> None:
        """Apply the vendor log to the freshly built world: the vendors as they were at the
        crash. Events whose delivery never ended (delivered, dropped or lost) go out again."""
        assert self.vendor_log is not None and self.system_faults is not None
        self.resumed_at = self.clock.now()
        windows = build_schedule(self.scenario, self.seed).windows
        emitted: dict[str, tuple[str, DomainEvent]] = {}
        replayed = 0
        for system, kind, body in self.vendor_log.entries():
            replayed += 1
            if kind == "request":
                outcome = self.live[system].system.handle(
                    body["operation"], body["payload"], body["now"], body["key"],
                    body.get("fingerprint"),
                )  # fmt: skip
                emitted.update((event.event_id, (system, event)) for event in outcome.events)
            elif kind == "enact":
                index, starts = int(body["index"]), bool(body["starts"])
                self.system_faults.enact(index, windows[index], starts)
                self.enacted.add((index, starts))
            elif kind == "admin":
                window = FaultWindow(body["party"], body["kind"], 0.0, 0.0, body["params"])
                self.system_faults.enact(-1, window, bool(body["starts"]))
            elif kind == "repair":
                self.system_faults.repair_master_data()
        ended, calls = _history_so_far(self.directory / "history.jsonl")
        self.redeliver = [pair for event_id, pair in emitted.items() if event_id not in ended]
        for name, live in self.live.items():  # call numbers go on: a history names each once
            live.calls = calls.get(name, 0)
        assert self.history is not None
        details = {"replayed": replayed, "redelivering": len(self.redeliver)}
        self.history(PolicyRecord(self.resumed_at, "services", "serve", "restarted", details))

    def repair_master_data(self) -> None:
        """The operations team's repair, logged so that a restart repeats it."""
        assert self.system_faults is not None
        self.system_faults.repair_master_data()
        if self.vendor_log is not None:
            self.vendor_log.repair()

    def url(self, name: str) -> str:
        return f"http://{self.host}:{self.ports[name]}"

    def vendor_port(self, name: str) -> int:
        return self.ports[name] + VENDOR_PORT_OFFSET

    def vendor(self) -> dict[str, Any]:
        """What each vendor SDK needs: the wire, its HTTPS URL, keys and secrets."""
        if not self.facades:
            return {}
        described: dict[str, Any] = {
            name: {"wire": facade.vendor, "url": f"https://{self.host}:{self.vendor_port(name)}",
                   **facade.credentials()}
            for name, facade in self.facades.items()
        }  # fmt: skip
        return {"vendor": described, "ca_bundle": str(self.directory / "tls" / "ca.pem")}

    def describe(self) -> dict[str, Any]:
        """What a client needs: URLs, tokens, the admin token and the signing secret."""
        return {
            "systems": {n: {"url": self.url(n), "token": self.tokens[n]} for n in self.live},
            "admin_token": self.admin_token,
            "signing_secret": self.signing_secret,
            "time_scale": self.clock.time_scale,
            "started_unix": self.clock.started,
            "history": str(self.directory / "history.jsonl"),
            "seed": self.seed,
            "serve": self.options,
            **self.vendor(),
            **({"broker": self.broker, "broker_namespace": f"syncline:{self.directory.name}"}
               if self.broker else {}),
        }  # fmt: skip

    def reset(self) -> None:
        """Start again from the scenario's world at scenario time 0; the history so far is
        archived beside the new one."""
        self.clock.started = time.time()
        assert self.history is not None
        self.history.archive()
        if self.vendor_log is not None:
            self.vendor_log.clear()
        self.build()
        if (self.directory / "tokens.json").exists():
            write_tokens(self)  # the clock restarted: the orchestrator must read it again


class CannotResume(Exception):
    """A directory `serve --resume` cannot rebuild a world from; the message says why."""


def resume_services(directory: Path) -> Services:
    """The services `directory` held when they stopped or crashed, rebuilt: the same scenario,
    seed, ports, tokens and scenario clock, and the vendors' state from the vendor log."""
    tokens = directory / "tokens.json"
    if not tokens.is_file():
        raise CannotResume(
            f"{directory} holds no services to resume (no tokens.json): give the directory "
            "`syncline serve` printed, or start a new world with `syncline serve SCENARIO`"
        )
    try:
        described = json.loads(tokens.read_text(encoding="utf-8"))
        options = described["serve"]
        scenario = load(str(directory / "scenario.yaml"))
    except (ValueError, KeyError, ScenarioError, OSError) as broken:
        raise CannotResume(
            f"{directory} cannot be resumed ({type(broken).__name__}: {broken}): it was served "
            "by an earlier Syncline or its files were changed; start a new world with "
            "`syncline serve SCENARIO`"
        ) from None
    if not (directory / VENDOR_LOG).is_file():
        raise CannotResume(
            f"{directory} has no {VENDOR_LOG} (the vendors' state), so its world cannot be "
            "rebuilt; start a new world with `syncline serve SCENARIO`"
        )
    systems = described["systems"]
    ports = {name: int(system["url"].rsplit(":", 1)[1]) for name, system in systems.items()}
    services = Services(
        scenario, int(described["seed"]), directory,
        RealClock(float(described["time_scale"]), float(described["started_unix"])),
        str(options["host"]), ports, options.get("webhooks"), admin_token=described["admin_token"],
        signing_secret=described["signing_secret"],
        tokens={name: s["token"] for name, s in systems.items()}, options=dict(options),
        wire=tuple(options.get("wire", ())),
    )  # fmt: skip
    services.build(resuming=True)
    services.resume()
    return services


def ports_for(scenario: Scenario, first_port: int) -> dict[str, int]:
    present = {name for name, _ in scenario.systems.items()}
    names = [n for n in PORT_ORDER if n in present]
    return {name: first_port + index for index, name in enumerate(names)}


def plan_services(
    scenario: Scenario, seed: int, directory: Path, time_scale: float, host: str, first_port: int,
    webhooks: str | None, wire: tuple[str, ...] = (),
) -> Services:  # fmt: skip
    ports = ports_for(scenario, first_port)
    services = Services(
        scenario, seed, directory, RealClock(time_scale), host, ports, webhooks, wire=wire
    )
    services.build()
    return services


def check_ports(host: str, ports: dict[str, int]) -> None:
    """Fail before anything starts if a port is taken."""
    for name, port in ports.items():
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            # As uvicorn binds: connections of a killed process (TIME_WAIT) do not block it.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, port))
            except OSError as error:
                if error.errno in (errno.EADDRINUSE, errno.EACCES):
                    raise PortInUse(
                        f"port {port} on {host} (for {name}) is in use: stop what holds it or "
                        "choose other ports with --port"
                    ) from None
                raise


def unenactable(scenario: Scenario, seed: int, supervised: bool) -> str | None:
    """Why the services cannot enact the scenario live (its fault schedule, its systems), if
    they cannot."""
    if scenario.systems.absent:
        absent = " and ".join(scenario.systems.absent)
        return (
            f"{scenario.name} has no {absent}, and live mode serves all four systems (its load "
            "sells through CPQ): run it simulated, with syncline run"
        )
    for window in build_schedule(scenario, seed).windows:
        kind = FAULT_KINDS.get(window.kind)
        if kind is None:
            return f"the fault kind {window.kind!r} has no live enactment"
        if kind.enacted_by == "orchestrator" and not supervised:
            at = scenario.start + timedelta(seconds=window.start)
            return (
                f"{scenario.name} crashes the orchestrator at {at:%Y-%m-%dT%H:%MZ}, which serve "
                "can do only to an orchestrator it runs: add --orchestrator reference (a design) "
                "or --orchestrator-command CMD (yours), or drop the scenario's faults with "
                "--set faults=[]"
            )
    return None


async def serve(services: Services, supervisor: Supervisor | None = None) -> None:
    """Run every system's app until cancelled; enact the fault schedule on the clock; run the
    orchestrator if `supervisor` is given, and the operations team against it. (The caller
    checks the ports and the schedule first, before anything is written.)"""
    control = Control(
        services.admin_token,
        lambda: services.history.lines() if services.history else iter(()),
        services.reset,
        lambda: services.operations.pending if services.operations is not None else 0,
        admin_faults(services, supervisor),
        ADMIN_FAULTS,
    )
    async with http_client(transport=LoopbackTransport()) as client:
        slots = asyncio.Semaphore(CONNECTIONS)  # see CONNECTIONS

        async def send(url: str, body: bytes, headers: dict[str, str]) -> int:
            try:
                async with slots:
                    answer = await client.post(url, content=body, headers=headers)
            except httpx.HTTPError:  # unreachable, refused, timed out: the vendor retries later
                return 0
            return answer.status_code

        servers = []
        for name, live in services.live.items():
            live.send = send
            config = uvicorn.Config(
                create_app(live, control), host=services.host, port=services.ports[name],
                log_level="warning", lifespan="off", timeout_graceful_shutdown=2,
            )  # fmt: skip
            servers.append(Server(config))
        if services.facades:
            tls = certificates(services.directory)
            for name, facade in services.facades.items():
                config = uvicorn.Config(
                    vendor_app(facade), host=services.host, port=services.vendor_port(name),
                    log_level="warning", lifespan="off", timeout_graceful_shutdown=2,
                    ssl_certfile=str(tls.certificate), ssl_keyfile=str(tls.key),
                )  # fmt: skip
                servers.append(Server(config))
        stop = asyncio.Event()
        stop_on_signals(stop)
        serving = [asyncio.create_task(server.serve()) for server in servers]
        ending: set[asyncio.Task[Any]] = {*serving, asyncio.create_task(stop.wait())}
        tasks = set(ending)  # and the schedule and the team, which may end first
        try:
            while not all(server.started for server in servers) and not stop.is_set():
                for task in serving:
                    if task.done():
                        task.result()  # a server failed to start: say why
                        raise RuntimeError("a service stopped while starting")
                await asyncio.sleep(0.02)
            for system, event in services.redeliver:  # what a crash cut short goes out again
                services.live[system].deliver(event)
            services.redeliver.clear()
            if supervisor is not None:
                await supervisor.start()
            tasks.add(asyncio.create_task(_enact_faults(services, supervisor)))
            rules = services.scenario.operations
            if services.webhooks and (rules.exceptions or rules.dead_letters is not None):
                tasks.add(asyncio.create_task(_operations(services, services.webhooks)))
            while True:
                done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    task.result()  # a server, the schedule or the team failed: say why
                if done & ending:  # a server stopped, or Ctrl-C
                    break
                tasks -= done  # the schedule is over: serve on
        finally:
            if supervisor is not None:
                supervisor.stop()
            for server in servers:
                server.should_exit = True
            await asyncio.wait(serving, timeout=5)
            for task in tasks:
                task.cancel()
            if services.history is not None:
                services.history.close()
            if services.vendor_log is not None:
                services.vendor_log.close()


#: The fault kinds an admin starts and stops on serve itself, beside the systems' conditions
#: (the studio's buttons): a vendor's event schema, and the orchestrator it supervises.
ADMIN_FAULTS = frozenset({"vendor_upgrade", "orchestrator_crash"})


def admin_faults(
    services: Services, supervisor: Supervisor | None
) -> Callable[[str, str, Mapping[str, Any], bool], Awaitable[str | None]]:
    """Start or stop an `ADMIN_FAULTS` kind now, recorded as the schedule's are; or say why not.
    A crash's start is a SIGKILL, its stop the restart."""

    async def enact(system: str, kind: str, params: Mapping[str, Any], starts: bool) -> str | None:
        party, now = system, services.clock.now()
        if kind == "vendor_upgrade":  # enacted as the schedule's are, with the kind's defaults
            assert services.system_faults is not None
            window = FaultWindow(system, kind, now, now, {**FAULT_KINDS[kind].optional, **params})
            services.system_faults.enact(-1, window, starts)
            if services.vendor_log is not None:  # so that a resumed serve enacts it again
                services.vendor_log.admin_fault(system, kind, window.params, starts)
        else:  # orchestrator_crash
            if supervisor is None:
                return "serve runs no orchestrator to crash (start it with --orchestrator)"
            party = "orchestrator"
            if starts:
                supervisor.kill()
        if services.history is not None:
            phase = "start" if starts else "stop"
            services.history(FaultRecord(now, party, kind, phase, dict(params) or None))
        if kind == "orchestrator_crash" and not starts and supervisor is not None:
            await supervisor.start()
        return None

    return enact


async def _operations(services: Services, orchestrator: str) -> None:
    async with http_client(orchestrator, services.admin_token, timeout=10.0) as client:
        record = services.history if services.history is not None else (lambda _: None)
        services.operations = LiveOperations(
            services.scenario, services.clock, client, services.repair_master_data, record
        )
        await services.operations.run()


async def _enact_faults(services: Services, supervisor: Supervisor | None) -> None:
    """Every window of the schedule, opened and closed on the services' clock."""
    schedule = build_schedule(services.scenario, services.seed)
    for at, index, starts in schedule.edges():
        window = schedule.windows[index]
        kind = FAULT_KINDS[window.kind]
        if services.resumed_at is not None and at <= services.resumed_at:
            _catch_up(services, index, window, starts)
            continue
        await services.clock.sleep(at - services.clock.now())
        if kind.enacted_by == "condition":
            services.live[window.party].fault(window.kind, window.params, starts)
            continue  # the system records it
        if kind.enacted_by == "orchestrator":
            if supervisor is None:
                continue  # refused before serve started (unenactable)
            if starts:
                supervisor.kill()
        else:
            assert services.system_faults is not None
            services.system_faults.enact(index, window, starts)
            if services.vendor_log is not None:
                services.vendor_log.enactment(index, starts)
        if services.history is not None:
            phase = "start" if starts else "stop"
            params = dict(window.params) or None
            now = services.clock.now()
            services.history(FaultRecord(now, window.party, window.kind, phase, params))
        if kind.enacted_by == "orchestrator" and supervisor is not None and not starts:
            await supervisor.start()  # the window is over: the harness restarts it


def _catch_up(services: Services, index: int, window: FaultWindow, starts: bool) -> None:
    """A window edge that passed before a resume: a condition still open is opened again (its
    start is in the history already); a `systems` edge the log has not seen is enacted now;
    an orchestrator crash that passed is over."""
    kind = FAULT_KINDS[window.kind]
    assert services.resumed_at is not None
    if kind.enacted_by == "condition":
        if starts and window.end > services.resumed_at:
            services.live[window.party].behaviour.conditions.open(window.kind, window.params)
    elif kind.enacted_by == "systems" and (index, starts) not in services.enacted:
        assert services.system_faults is not None
        services.system_faults.enact(index, window, starts)
        if services.vendor_log is not None:
            services.vendor_log.enactment(index, starts)


def _history_so_far(history: Path) -> tuple[set[str], dict[str, int]]:
    """From the history before a crash: the events whose delivery ended (delivered, dropped or
    lost), and the last call number each system gave."""
    ended: set[str] = set()
    calls: dict[str, int] = {}
    with history.open(encoding="utf-8") as lines:
        for line in lines:
            if line.startswith('{"kind":"event"') and (
                '"type":"delivered"' in line or '"type":"dropped"' in line
                or '"type":"lost"' in line
            ):  # fmt: skip
                with contextlib.suppress(ValueError):
                    ended.add(str(json.loads(line)["event_id"]))
            elif line.startswith('{"kind":"call"') and '"type":"invoke"' in line:
                with contextlib.suppress(ValueError, KeyError):
                    record = json.loads(line)
                    system = str(record["system"])
                    calls[system] = max(calls.get(system, 0), int(record["call"]))
    return ended, calls


def write_tokens(services: Services) -> Path:
    path = services.directory / "tokens.json"
    path.write_text(json.dumps(services.describe(), indent=2) + "\n", encoding="utf-8")
    path.chmod(0o600)
    return path
