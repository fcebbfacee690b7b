"""The SimPy driver: one run of a scenario against a design, in simulated time.

It assembles the run (world, fault schedule, systems, behaviours, workload), drives the sales
floor's arrivals into CPQ, and interprets the design's effects. Everything random comes from the
run's named streams; the only clock is SimPy's.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import simpy

from harness.designs import Context, Design
from harness.effects import Acquire, Call, Now, Release, Sleep, Status
from harness.faults import FaultSchedule, build_schedule
from harness.history import FaultRecord, RunEnded, RunStarted, Sink, WorkflowRecord
from harness.scenario import Scenario
from harness.seeds import streams
from harness.sim.network import Network
from harness.workload import Workload, poisson_arrivals
from harness.world import World, build_world
from simulators.base import DomainEvent, Payload, SystemOfRecord
from simulators.billing import Billing
from simulators.cpq import CPQ
from simulators.erp import ERP
from simulators.support import Support

Progress = Callable[[float], None]


class Simulation:
    """Build with a scenario, a fresh design and a seed; `run()` streams history to `record`."""

    def __init__(
        self,
        scenario: Scenario,
        design: Design,
        seed: int,
        record: Sink,
        progress: Progress | None = None,
    ) -> None:
        self.scenario = scenario
        self.design = design
        self.seed = seed
        self.record = record
        self.progress = progress
        named = streams(seed)
        self.env = simpy.Environment()
        self.world: World = build_world(scenario.world, seed)
        self.schedule: FaultSchedule = build_schedule(scenario, seed)
        profiles = {name: spec.profile() for name, spec in scenario.systems.items()}
        self.cpq = CPQ(self.world.catalog, self.world.accounts(), profiles["cpq"].idempotency)
        self.systems: dict[str, SystemOfRecord] = {
            "cpq": self.cpq,
            "erp": ERP(self.world.erp_master, profiles["erp"].idempotency),
            "billing": Billing(self.world.catalog, profiles["billing"].idempotency),
            "support": Support(profiles["support"].idempotency),
        }
        behaviours = {
            name: profile.bind(name, named, self.schedule.for_system(name))
            for name, profile in profiles.items()
        }
        self.network = Network(self.env, self.systems, behaviours, record)
        self.network.subscribed = frozenset(design.subscriptions)
        self.network.deliver = self._handle
        self.workload = Workload(self.world, scenario.workload.amendment_mix.model_dump(), named)
        self._arrivals = (named("workload.new_arrivals"), named("workload.amendment_arrivals"))
        self.context = Context(named(f"design.{design.name}"))
        self._locks: dict[str, simpy.Resource] = {}

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
        env.process(self._new_business())
        env.process(self._amendments())
        if self.progress is not None:
            env.process(self._report_progress(self.progress))
        env.run(until=scenario.horizon_s)
        self.record(RunEnded(scenario.horizon_s))
        if self.progress is not None:
            self.progress(scenario.horizon_s)

    # -- the world outside the integration -----------------------------------------------

    def _faults(self) -> Generator[simpy.Event, Any, None]:
        edges = sorted(
            [(w.start, 1, w.system, w.kind, "start") for w in self.schedule.windows]
            + [(w.end, 0, w.system, w.kind, "stop") for w in self.schedule.windows]
        )
        for at, _, system, kind, phase in edges:
            if at > self.scenario.horizon_s:
                return
            yield self.env.timeout(at - self.env.now)
            self.record(FaultRecord(self.env.now, system, kind, phase))

    def _new_business(self) -> Generator[simpy.Event, Any, None]:
        rate = self.scenario.workload.new_subscriptions
        for at in poisson_arrivals(rate, self._arrivals[0], self.scenario.duration):
            yield self.env.timeout(at - self.env.now)
            customer_id, lines = self.workload.new_deal()
            self._sell({"customer_id": customer_id, "lines": lines})

    def _amendments(self) -> Generator[simpy.Event, Any, None]:
        rate = self.scenario.workload.amendments
        for at in poisson_arrivals(rate, self._arrivals[1], self.scenario.duration):
            yield self.env.timeout(at - self.env.now)
            if not self.cpq.contract_ids:
                continue
            contract_id = self.workload.pick_contract(self.cpq.contract_ids)
            current = self.cpq.latest_quote(contract_id)["lines"]
            _, lines = self.workload.amend(current)
            if lines != current:
                self._sell({"contract_id": contract_id, "lines": lines})

    def _sell(self, quote: Payload) -> None:
        """A sales rep creates a quote in CPQ and gets it approved."""
        now = self.env.now
        created = self.cpq.handle("create_quote", quote, now)
        self.network.commit(created)
        if created.ok:
            approved = self.cpq.handle("approve_quote", {"quote_id": created.body["quote_id"]}, now)
            self.network.commit(approved)

    def _report_progress(self, progress: Progress) -> Generator[simpy.Event, Any, None]:
        step = self.scenario.horizon_s / 200
        while True:
            yield self.env.timeout(step)
            progress(self.env.now)

    # -- the design under test -----------------------------------------------------------

    def _handle(self, event: DomainEvent, delivery: int) -> Generator[simpy.Event, Any, None]:
        """Run the design's handler for one delivered event, interpreting its effects.

        An exception raised by design code, or a yielded value that is not an effect, ends the
        handler and is recorded as a `crashed` workflow; the run goes on.
        """
        env, trace, held = self.env, event.event_id, []
        try:
            try:
                steps = self.design.subscriptions[event.type](self.context, event)
            except Exception as error:
                raise _DesignFault(f"{type(error).__name__}: {error}") from error
            result: Any = None
            while True:
                try:
                    effect = steps.send(result)
                except StopIteration:
                    return
                except Exception as error:
                    raise _DesignFault(f"{type(error).__name__}: {error}") from error
                if isinstance(effect, Call):
                    if effect.system not in self.systems:
                        raise _DesignFault(f"called unknown system {effect.system!r}")
                    result = yield from self.network.call(effect, trace)
                elif isinstance(effect, Sleep):
                    yield env.timeout(max(effect.seconds, 0.0))
                    result = None
                elif isinstance(effect, Now):
                    result = env.now
                elif isinstance(effect, Status):
                    self.record(
                        WorkflowRecord(
                            env.now, effect.workflow, effect.status, effect.keys, effect.reason
                        )
                    )
                    result = None
                elif isinstance(effect, Acquire):
                    lock = self._locks.get(effect.key)
                    if lock is None:
                        lock = self._locks[effect.key] = simpy.Resource(env, capacity=1)
                    request = lock.request()
                    yield request
                    held.append((effect.key, request))
                    result = None
                elif isinstance(effect, Release):
                    self._release(held, effect.key)
                    result = None
                else:
                    raise _DesignFault(f"yielded {effect!r}, which is not an effect")
        except _DesignFault as fault:
            self._crashed(event, str(fault))
        finally:
            for key, _ in list(held):
                self._release(held, key)

    def _release(self, held: list[tuple[str, Any]], key: str) -> None:
        for index, (held_key, request) in enumerate(held):
            if held_key == key:
                lock = self._locks[key]
                lock.release(request)
                del held[index]
                if lock.count == 0 and not lock.queue:
                    del self._locks[key]
                return

    def _crashed(self, event: DomainEvent, reason: str) -> None:
        workflow = f"handler:{event.event_id}"
        self.record(WorkflowRecord(self.env.now, workflow, "crashed", dict(event.keys), reason))


class _DesignFault(Exception):
    """Design code raised, or yielded something that is not an effect."""
