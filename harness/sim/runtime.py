"""The SimPy driver: one run of a scenario against a design, in simulated time.

It assembles the run (world, fault schedule, systems, behaviours, workload), drives the sales
floor's arrivals into CPQ, opens and closes fault windows on time, and interprets the design's
effects. Everything random comes from the run's named streams; the only clock is SimPy's.

An orchestrator crash interrupts every handler in flight (its calls still reach the systems,
as ghost writes) and drops the design object with all it held in memory; webhooks cannot reach
the design until it is back, so vendors retry on their schedules. Only the design's journal
(`Load`/`Store`/`Scan` effects) survives. At restart the driver builds a fresh design from its
factory; a design that subscribes to `orchestrator.restarted` is told, and recovers from the
journal.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Generator
from typing import Any

import simpy

from harness.designs import Context, Design
from harness.effects import (
    Acquire,
    Call,
    Fork,
    Load,
    Note,
    Now,
    Publish,
    Release,
    Scan,
    Sleep,
    Status,
    Store,
)
from harness.engine.exceptions import TABLE as EXCEPTIONS_TABLE
from harness.engine.exceptions import held
from harness.faults import FaultSchedule, FaultWindow, build_schedule
from harness.history import (
    FaultRecord,
    PolicyRecord,
    RunEnded,
    RunStarted,
    Sink,
    WorkflowRecord,
)
from harness.scenario import ORCHESTRATOR, Scenario
from harness.seeds import streams
from harness.sim.broker import Broker
from harness.sim.network import Network
from harness.sim.operations import OperationsTeam
from harness.sim.world_calls import WorldCalls
from harness.systems import build_systems
from harness.workload import Workload, poisson_arrivals
from harness.world import World
from simulators.base import DomainEvent, Payload, SystemOfRecord
from simulators.erp import TaxCode

Progress = Callable[[float], None]
DesignFactory = Callable[[], Design]


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
        self.scenario = scenario
        self.design_factory = design_factory
        self.design = design = design_factory()
        self.journal: dict[str, dict[str, Any]] = {}  # the design's durable state
        self.seed = seed
        self.record = record
        self.progress = progress
        named = streams(seed)
        self.env = simpy.Environment()
        built = build_systems(scenario, seed, named)
        self.world: World = built.world
        self.schedule: FaultSchedule = build_schedule(scenario, seed)
        epoch = scenario.start.timestamp()
        self.cpq, self.erp, self.erps = built.cpq, built.erp, built.erps
        self.systems: dict[str, SystemOfRecord] = built.by_name
        self.behaviours = built.behaviours
        self.network = Network(self.env, self.systems, self.behaviours, record, epoch)
        self.world_calls = WorldCalls(self.env, self.network, self.behaviours)
        self.network.subscribed = frozenset(design.subscriptions)
        self.network.deliver = self._spawn
        self.broker = Broker(
            self.env, scenario.broker, named, record, self._consume,
            lambda: self.network.receiver_up, ORCHESTRATOR,
        )  # fmt: skip
        self.broker.subscribe(consumer_groups(design))
        for system in getattr(design, "polls", ()):
            self.systems[system].keep_feed()
        self.workload = Workload(self.world, scenario.workload.amendment_mix.model_dump(), named)
        self._arrivals = (named("workload.new_arrivals"), named("workload.amendment_arrivals"))
        self._streams = named
        self._invoice_rng = named("workload.invoices")
        self.context = Context(named(f"design.{design.name}"))
        self._locks: dict[str, simpy.Resource] = {}
        self._running: dict[simpy.Process, None] = {}  # handlers in flight, in start order
        self.operations = OperationsTeam(
            self.env, scenario.operations, scenario.start, self._repair_master_data,
            self._send_operator_event, record,
        )  # fmt: skip
        self.broker.on_dead_letter = self.operations.broker_dead_letter
        self.operations.replay_message = self.broker.replay
        self._restored: dict[int, Any] = {}  # fault index -> master data to put back
        self._immediate: dict[type, Callable[[Any], Any]] = {
            Now: self._now, Status: self._status, Load: self._load, Store: self._store,
            Scan: self._scan, Note: self._note,
        }  # fmt: skip

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
        workload = scenario.workload
        env.process(self._contract_changes(workload.renewals, "renew_contract", "renewals"))
        env.process(
            self._contract_changes(workload.cancellations, "cancel_contract", "cancellations")
        )
        env.process(self._support_cases(workload.cases))
        if workload.payments is not None or workload.invoice_reversals > 0:
            self.network.observers.append(self._customers_and_billing_staff)
        if self.progress is not None:
            env.process(self._report_progress(self.progress))
        if "orchestrator.started" in self.design.subscriptions:
            self._spawn(DomainEvent("START", "orchestrator.started", ORCHESTRATOR, 0.0, {}, {}))
        env.run(until=scenario.horizon_s)
        for workflow, details in held(sorted(self.journal.get(EXCEPTIONS_TABLE, {}).items())):
            self.record(PolicyRecord(env.now, "exceptions", workflow, "held_at_end", details))
        self.record(RunEnded(scenario.horizon_s))
        if self.progress is not None:
            self.progress(scenario.horizon_s)

    # -- the world outside the integration -----------------------------------------------

    def _faults(self) -> Generator[simpy.Event, Any, None]:
        windows = self.schedule.windows
        for at, index, starts in self.schedule.edges():
            if at >= self.scenario.horizon_s:
                return
            yield self.env.timeout(at - self.env.now)
            window = windows[index]
            phase = "start" if starts else "stop"
            self._enact(index, window, starts)
            params = dict(window.params) or None
            self.record(FaultRecord(self.env.now, window.party, window.kind, phase, params))

    def _enact(self, index: int, window: FaultWindow, starts: bool) -> None:
        """Open or close one fault window."""
        kind, params = window.kind, window.params
        if kind == "orchestrator_crash":
            self._crash() if starts else self._restart()
        elif kind == "master_data_gap":
            self._master_data_gap(index, params, starts)
        elif kind == "vendor_upgrade":
            system = self.systems[window.party]
            system.event_schema_version = int(params["schema_version"]) if starts else 1
        elif starts:
            self.behaviours[window.party].conditions.open(kind, params)
        else:
            self.behaviours[window.party].conditions.close(kind, params)

    def _master_data_gap(self, index: int, params: Any, starts: bool) -> None:
        region, sku = params.get("tax_code"), params.get("sku")
        if region is not None:
            if starts:
                current = self.erp.master.tax_codes.get(region)
                self._restored[index] = current
                if current is not None:
                    self.erp.set_tax_code(region, TaxCode(current.code, region, active=False))
            else:
                self.erp.set_tax_code(region, self._restored.pop(index, None))
        elif starts:
            self._restored[index] = self.erp.master.items.get(sku)
            self.erp.set_item_mapping(sku, None)
        else:
            self.erp.set_item_mapping(sku, self._restored.pop(index, None))

    def _repair_master_data(self) -> None:
        """Operations bring each ERP's master data back to what it should be."""
        reference, world = self.world.erp_reference, self.world
        for name, erp in self.erps.items():
            for region, tax_code in reference.tax_codes.items():
                erp.set_tax_code(region, tax_code)
            for sku, item_id in reference.items.items():
                erp.set_item_mapping(sku, item_id)
            for subsidiary in reference.subsidiaries.values():
                if world.erp_for(subsidiary.region) != name:
                    continue  # the other ERP's entity
                if subsidiary.subsidiary_id not in erp.master.subsidiaries:
                    customers = {
                        c: s for c, s in reference.customers.items()
                        if s == subsidiary.subsidiary_id
                    }  # fmt: skip
                    erp.onboard(subsidiary, customers)

    def _send_operator_event(self, event: DomainEvent) -> None:
        self.env.process(self._when_up(event))

    def _when_up(self, event: DomainEvent) -> Generator[simpy.Event, Any, None]:
        while not self.network.receiver_up:  # operators wait for the orchestrator to be back
            yield self.env.timeout(60.0)
        if event.type in self.design.subscriptions:
            self._spawn(event)

    def _crash(self) -> None:
        self.network.receiver_up = False
        for process in list(self._running):
            if process.is_alive:
                process.interrupt("orchestrator crash")

    def _restart(self) -> None:
        self.design = self.design_factory()  # all it held in memory is gone; the journal stays
        self.network.subscribed = frozenset(self.design.subscriptions)
        self.broker.subscribe(consumer_groups(self.design))
        self.network.receiver_up = True
        if "orchestrator.restarted" in self.design.subscriptions:
            now = self.env.now
            self._spawn(
                DomainEvent(
                    f"RESTART-{now:.0f}", "orchestrator.restarted", ORCHESTRATOR, now, {}, {}
                )
            )

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

    def _contract_changes(
        self, rate: float, operation: str, stream_name: str
    ) -> Generator[simpy.Event, Any, None]:
        """Renewals or cancellations of active contracts, quoted in CPQ and approved."""
        rng = self._streams(f"workload.{stream_name}")
        for at in poisson_arrivals(rate, rng, self.scenario.duration):
            yield self.env.timeout(at - self.env.now)
            active = [
                c
                for c in self.cpq.contract_ids
                if self.cpq.table("contract")[c]["status"] == "active"
            ]
            if active:
                contract_id = rng.choice(active)
                created = self.cpq.handle(operation, {"contract_id": contract_id}, self.env.now)
                self.network.commit(created)
                if created.ok:
                    approve = {"quote_id": created.body["quote_id"]}
                    self.network.commit(self.cpq.handle("approve_quote", approve, self.env.now))

    def _support_cases(self, rate: float) -> Generator[simpy.Event, Any, None]:
        """Customers with contracts open cases; the agent sees what support shows then."""
        rng = self._streams("workload.cases")
        for at in poisson_arrivals(rate, rng, self.scenario.duration):
            yield self.env.timeout(at - self.env.now)
            if self.cpq.contract_ids:
                contract = self.cpq.table("contract")[rng.choice(self.cpq.contract_ids)]
                request = {"customer_id": contract["customer_id"], "severity": rng.randint(1, 4)}
                self.env.process(
                    self.world_calls.call("support", "open_case", request, "customers")
                )

    def _customers_and_billing_staff(self, event: DomainEvent) -> None:
        """Customers pay invoices; billing staff reverse the disputed ones."""
        if event.type != "invoice.posted":
            return
        workload, rng = self.scenario.workload, self._invoice_rng
        invoice_id = str(event.keys["invoice"])
        if workload.invoice_reversals > 0 and rng.random() < workload.invoice_reversals:
            self._later(rng.uniform(3600, 86400), "reverse_invoice", invoice_id)
        elif workload.payments is not None and rng.random() < workload.payments.share:
            self._later(workload.payments.delay.model().sample(rng), "apply_payment", invoice_id)

    def _later(self, delay: float, operation: str, invoice_id: str) -> None:
        # Like sales, customers and staff act only while the workload runs; the drain settles.
        if self.env.now + delay < self.scenario.duration:
            self.env.process(self._act_on_invoice(delay, operation, invoice_id))

    def _act_on_invoice(
        self, delay: float, operation: str, invoice_id: str
    ) -> Generator[simpy.Event, Any, None]:
        yield self.env.timeout(delay)
        billing = self.systems["billing"]
        invoice = billing.table("invoice").get(invoice_id)
        if invoice is None or invoice["status"] != "posted":
            return
        request: dict[str, Any] = {"invoice_id": invoice_id}
        if operation == "apply_payment":
            if invoice["balance"] <= 0:
                return
            request["amount"] = invoice["balance"]
        who = "customers" if operation == "apply_payment" else "billing_staff"
        yield from self.world_calls.call("billing", operation, request, who)

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

    def _spawn(self, event: DomainEvent) -> None:
        self._start(event, None)

    def _consume(self, group: str, event: DomainEvent, acknowledged: simpy.Event) -> None:
        """A broker delivery to one of the design's consumer groups."""
        handler = getattr(self.design, "consumers", {}).get(group, {}).get(event.type)
        if handler is None:  # the design no longer consumes it (changed at a restart)
            acknowledged.succeed(True)
            return
        self._start(event, None, lambda: handler(self.context, event), acknowledged)

    def _start(
        self,
        event: DomainEvent,
        steps: Any,
        make: Callable[[], Any] | None = None,
        acknowledged: simpy.Event | None = None,
    ) -> None:
        process = self.env.process(self._handle(event, steps, make, acknowledged))
        self._running[process] = None
        process.callbacks.append(lambda _: self._running.pop(process, None))

    def _handle(
        self,
        event: DomainEvent,
        steps: Any = None,
        make: Callable[[], Any] | None = None,
        acknowledged: simpy.Event | None = None,
    ) -> Generator[simpy.Event, Any, None]:
        """Run the design's handler for one delivered event, interpreting its effects.

        An exception raised by design code, or a yielded value that is not an effect, ends the
        handler and is recorded as a `crashed` workflow; the run goes on. An orchestrator crash
        ends it as `interrupted`. A broker delivery is acknowledged only if the handler ended
        normally.
        """
        env, trace, held = self.env, event.event_id, []
        waiting: Any = None  # a lock request not yet granted
        ended_normally = False
        try:
            try:
                if steps is None:
                    steps = (make or self._subscriber(event))()
            except Exception as error:
                raise _DesignFault(f"{type(error).__name__}: {error}") from error
            result: Any = None
            while True:
                try:
                    effect = steps.send(result)
                except StopIteration as end:
                    ended_normally = end.value is not False  # a consumer's `return False` nacks
                    return
                except Exception as error:
                    raise _DesignFault(f"{type(error).__name__}: {error}") from error
                kind = type(effect)
                if kind is Call:
                    if effect.system not in self.systems:
                        raise _DesignFault(f"called unknown system {effect.system!r}")
                    result = yield from self.network.call(effect, trace)
                elif kind is Sleep:
                    yield env.timeout(max(effect.seconds, 0.0))
                    result = None
                elif kind is Publish:
                    result = yield from self.broker.publish(effect)
                elif kind is Acquire:
                    lock = self._locks.get(effect.key)
                    if lock is None:
                        lock = self._locks[effect.key] = simpy.Resource(env, capacity=1)
                    waiting = lock.request()
                    yield waiting
                    held.append((effect.key, waiting))
                    waiting = None
                    result = None
                elif kind is Release:
                    self._release(held, effect.key)
                    result = None
                elif kind is Fork:
                    forked = DomainEvent(
                        effect.trace, event.type, event.system, env.now, {}, event.keys
                    )
                    self._start(forked, effect.steps)
                    result = None
                else:
                    immediate = self._immediate.get(kind)
                    if immediate is None:
                        raise _DesignFault(f"yielded {effect!r}, which is not an effect")
                    result = immediate(effect)
        except _DesignFault as fault:
            self._crashed(event, str(fault))
        except simpy.Interrupt:
            if waiting is not None:
                waiting.cancel()
            with contextlib.suppress(Exception):  # a design's own cleanup must not stop the run
                steps.close()
            workflow = f"handler:{event.event_id}"
            self.record(
                WorkflowRecord(
                    env.now, workflow, "interrupted", dict(event.keys), "orchestrator crash"
                )
            )
        finally:
            for key, _ in list(held):
                self._release(held, key)
            if acknowledged is not None:
                acknowledged.succeed(ended_normally)

    # Effects answered at once, without simulated time passing: effect type -> its answer.

    def _now(self, effect: Now) -> Any:
        return self.env.now

    def _status(self, effect: Status) -> None:
        self.record(
            WorkflowRecord(self.env.now, effect.workflow, effect.status, effect.keys, effect.reason)
        )

    def _load(self, effect: Load) -> Any:
        return self.journal.get(effect.table, {}).get(effect.key)

    def _store(self, effect: Store) -> None:
        table = self.journal.setdefault(effect.table, {})
        if effect.value is None:
            table.pop(effect.key, None)
        else:
            table[effect.key] = effect.value

    def _scan(self, effect: Scan) -> list[tuple[str, Any]]:
        return sorted(self.journal.get(effect.table, {}).items())

    def _note(self, effect: Note) -> None:
        details = dict(effect.details) or None
        self.record(
            PolicyRecord(self.env.now, effect.policy, effect.subject, effect.event, details)
        )
        self.operations.noticed(effect)

    def _subscriber(self, event: DomainEvent) -> Callable[[], Any]:
        handler = self.design.subscriptions[event.type]
        return lambda: handler(self.context, event)

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


def consumer_groups(design: Design) -> dict[str, list[str]]:
    """A design's broker consumer groups (group -> topics), if it declares `consumers`."""
    consumers = getattr(design, "consumers", None) or {}
    return {group: list(topics) for group, topics in consumers.items()}


class _DesignFault(Exception):
    """Design code raised, or yielded something that is not an effect."""
