"""`syncline serve`: the scenario's systems of record as HTTP services on loopback.

The same world, domain modules and profiles as a simulated run (`harness.systems`), served by
`simulators.http` in real time: a clock whose scenario time runs `time_scale` times faster than
the wall clock, so a 4 h maintenance window lasts 4 min at `--time-scale 60`. The fault
schedule (maintenance, outages, brownouts...) opens and closes on that clock. Every record goes
to `history.jsonl` in the service's directory, with `tokens.json` (the URLs, a bearer token per
system, the admin token and the webhook signing secret).
"""

from __future__ import annotations

import asyncio
import errno
import json
import secrets
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx
import uvicorn

from harness.faults import build_schedule
from harness.history import SCHEMA
from harness.live.client import http_client
from harness.scenario import Scenario
from harness.seeds import streams
from harness.systems import build_systems
from simulators.availability import Conditions
from simulators.http import Control, LiveSystem, Record, create_app, to_line

#: The order systems take ports in, from the first port.
PORT_ORDER = ("cpq", "erp", "billing", "support", "erp_cloud")


class PortInUse(Exception):
    """A port the services need is taken."""


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
        await asyncio.sleep(max(seconds, 0.0) / self.time_scale)


class HistoryLog:
    """The services' history: appended as it happens, readable while it grows."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[str] = path.open("a", encoding="utf-8", buffering=1)

    def __call__(self, record: Record) -> None:
        self._file.write(to_line(record) + "\n")

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

    def build(self) -> None:
        """(Re)build the systems from the scenario's world: a fresh start, as after `reset`."""
        built = build_systems(self.scenario, self.seed, streams(self.seed))
        if self.history is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            scenario_file = self.directory / "scenario.yaml"
            scenario_file.write_text(self.scenario.to_yaml(), encoding="utf-8")
            self.history = HistoryLog(self.directory / "history.jsonl")
        self.history({
            "kind": "run_started", "t": 0.0, "scenario": self.scenario.name, "design": "live",
            "seed": self.seed, "start": self.scenario.start.isoformat(),
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
            )  # fmt: skip

    def url(self, name: str) -> str:
        return f"http://{self.host}:{self.ports[name]}"

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
        }

    def reset(self) -> None:
        """Start again from the scenario's world at scenario time 0; the history so far is
        archived beside the new one."""
        self.clock.started = time.time()
        assert self.history is not None
        self.history.archive()
        self.build()
        if (self.directory / "tokens.json").exists():
            write_tokens(self)  # the clock restarted: the orchestrator must read it again


def ports_for(scenario: Scenario, first_port: int) -> dict[str, int]:
    present = {name for name, _ in scenario.systems.items()}
    names = [n for n in PORT_ORDER if n in present]
    return {name: first_port + index for index, name in enumerate(names)}


def plan_services(
    scenario: Scenario, seed: int, directory: Path, time_scale: float, host: str, first_port: int,
    webhooks: str | None,
) -> Services:  # fmt: skip
    ports = ports_for(scenario, first_port)
    services = Services(scenario, seed, directory, RealClock(time_scale), host, ports, webhooks)
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


async def serve(services: Services) -> None:
    """Run every system's app until cancelled; enact the fault schedule on the clock. (The
    caller checks the ports first, before anything is written.)"""
    control = Control(
        services.admin_token,
        lambda: services.history.lines() if services.history else iter(()),
        services.reset,
    )
    async with http_client() as client:

        async def send(url: str, body: bytes, headers: dict[str, str]) -> int:
            try:
                answer = await client.post(url, content=body, headers=headers)
            except httpx.HTTPError:  # unreachable, refused, timed out: the vendor retries later
                return 0
            return answer.status_code

        servers = []
        for name, live in services.live.items():
            live.send = send
            config = uvicorn.Config(
                create_app(live, control), host=services.host, port=services.ports[name],
                log_level="warning", lifespan="off",
            )  # fmt: skip
            servers.append(uvicorn.Server(config))
        tasks = [asyncio.create_task(server.serve()) for server in servers]
        tasks.append(asyncio.create_task(_enact_faults(services)))
        try:
            await asyncio.gather(*tasks)
        finally:
            for server in servers:
                server.should_exit = True
            for task in tasks:
                task.cancel()
            if services.history is not None:
                services.history.close()


async def _enact_faults(services: Services) -> None:
    schedule = build_schedule(services.scenario, services.seed)
    for at, index, starts in schedule.edges():
        window = schedule.windows[index]
        if window.party in services.live and window.kind in Conditions.KINDS:
            await services.clock.sleep(at - services.clock.now())
            services.live[window.party].fault(window.kind, window.params, starts)


def write_tokens(services: Services) -> Path:
    path = services.directory / "tokens.json"
    path.write_text(json.dumps(services.describe(), indent=2) + "\n", encoding="utf-8")
    path.chmod(0o600)
    return path
