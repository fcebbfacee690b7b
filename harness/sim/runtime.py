"""The SimPy run: one scenario against a design, in simulated time.

`Simulation` builds the run (world, fault schedule, systems and their behaviours, network,
broker) and wires its parts: the world's actors (`actors`), the design's driver (`driver`, over
the one effect interpreter), fault enactment (`harness.enactment`, the driver's crash and
restart) and the operations team. Everything random comes from the run's named streams; the only
clock is SimPy's.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import simpy

from harness.designs.api import consumer_groups
from harness.enactment import SystemFaults
from harness.engine.exceptions import TABLE as EXCEPTIONS_TABLE
from harness.engine.exceptions import held
from harness.faults import FaultSchedule, FaultWindow, build_schedule
from harness.history import FaultRecord, PolicyRecord, RunEnded, RunStarted, Sink
from harness.scenario import ORCHESTRATOR, Scenario
from harness.seeds import streams
from harness.sim.actors import WorldActors
from harness.sim.broker import Broker
from harness.sim.driver import DesignFactory, SimDriver
from harness.sim.network import Network
from harness.sim.operations import OperationsTeam
from harness.sim.sales import Sales, SalesFloor, WebShop
from harness.sim.world_calls import WorldCalls
from harness.systems import build_systems
from harness.workload import Workload
from harness.world import World
from simulators.base import DomainEvent, SystemOfRecord

Progress = Callable[[float], None]


class Simulation:
    """Build with a scenario, a design factory and a seed; `run()` streams history to `record`."""

    def __init__(
        self,
        scenario: Scenario,
        design_factory: DesignFactory,
        seed: int,
        record: Sink,
        progress: Progress | None = None,
    ) -> None:
        self.scenario, self.seed, self.record, self.progress = scenario, seed, record, progress
        named = streams(seed)
        self.env = env = simpy.Environment()
        built = build_systems(scenario, seed, named)
        self.world: World = built.world
        self.schedule: FaultSchedule = build_schedule(scenario, seed)
        self.cpq, self.erp, self.erps = built.cpq, built.erp, built.erps
        self.systems: dict[str, SystemOfRecord] = built.by_name
        self.behaviours = built.behaviours
        epoch = scenario.start.timestamp()
        self.network = Network(env, self.systems, self.behaviours, record, epoch)
        self.world_calls = WorldCalls(env, self.network, self.behaviours)
        self.driver = driver = SimDriver(env, design_factory, self.network, record, named)
        self.broker = Broker(
            env, scenario.broker, named, record, driver.consume,
            lambda: self.network.receiver_up, ORCHESTRATOR,
        )  # fmt: skip
        driver.broker = self.broker
        self.broker.subscribe(consumer_groups(driver.design))
        for system in getattr(driver.design, "polls", ()):
            if system in self.systems:
                self.systems[system].keep_feed()
        workload = Workload(self.world, scenario.workload.amendment_mix.model_dump(), named)
        sales: Sales = (
            SalesFloor(self.cpq, self.network)
            if self.cpq is not None
            else WebShop(built.billing, self.world, self.network)
        )
        self.actors = WorldActors(
            env, scenario, sales, self.systems, self.network, self.world_calls, workload, named
        )
        self.system_faults = SystemFaults(self.world, self.systems, self.behaviours, self.erps)
        self.operations = OperationsTeam(
            env, scenario.operations, scenario.start, self.system_faults.repair_master_data,
            driver.send_operator_event, record,
        )  # fmt: skip
        driver.on_note = self.operations.noticed
        self.broker.on_dead_letter = self.operations.broker_dead_letter
        self.operations.replay_message = self.broker.replay

    @property
    def design(self) -> Any:
        return self.driver.design

    @property
    def journal(self) -> dict[str, dict[str, Any]]:
        return self.driver.journal

    def run(self) -> None:
        scenario, env = self.scenario, self.env
        self.record(
            RunStarted(
                0.0,
                scenario.name,
                self.design.name,
                self.seed,
                scenario.start.isoformat(),
                scenario.horizon_s,
            )
        )
        env.process(self._faults())
        self.actors.start()
        if self.progress is not None:
            env.process(self._report_progress(self.progress))
        if "orchestrator.started" in self.design.subscriptions:
            self.driver.spawn(
                DomainEvent("START", "orchestrator.started", ORCHESTRATOR, 0.0, {}, {})
            )
        env.run(until=scenario.horizon_s)
        for workflow, details in held(sorted(self.journal.get(EXCEPTIONS_TABLE, {}).items())):
            self.record(PolicyRecord(env.now, "exceptions", workflow, "held_at_end", details))
        self.record(RunEnded(scenario.horizon_s))
        if self.progress is not None:
            self.progress(scenario.horizon_s)

    def _faults(self) -> Generator[simpy.Event, Any, None]:
        windows = self.schedule.windows
        for at, index, starts in self.schedule.edges():
            if at >= self.scenario.horizon_s:
                return
            yield self.env.timeout(at - self.env.now)
            window = windows[index]
            self._enact(index, window, starts)
            params = dict(window.params) or None
            phase = "start" if starts else "stop"
            self.record(FaultRecord(self.env.now, window.party, window.kind, phase, params))

    def _enact(self, index: int, window: FaultWindow, starts: bool) -> None:
        if self.system_faults.enacts(window.kind):
            self.system_faults.enact(index, window, starts)
        elif window.kind == "orchestrator_crash":
            self.driver.crash() if starts else self.driver.restart()
        else:
            raise ValueError(f"no simulated enactment for fault kind {window.kind!r}")

    def _report_progress(self, progress: Progress) -> Generator[simpy.Event, Any, None]:
        step = self.scenario.horizon_s / 200
        while True:
            yield self.env.timeout(step)
            progress(self.env.now)
