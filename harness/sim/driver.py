"""The SimPy driver of the design under test: what `harness.interpreter` leaves to a driver.

It starts a handler for each event delivered to the design (a webhook, a broker delivery, an
operator's decision, a forked step), waits in simulated time on the effects that wait (`Call`
through the network and its profiles, `Sleep`, `Publish` to the broker, `Acquire` on a FIFO
lock), and keeps the design's journal in memory.

An orchestrator crash interrupts every handler in flight (its calls still reach the systems,
as ghost writes) and drops the design object with all it held in memory; webhooks cannot reach
the design until it is back, so vendors retry on their schedules. Only the journal survives. At
restart a fresh design is built from its factory; a design that subscribes to
`orchestrator.restarted` is told, and recovers from the journal.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Generator
from random import Random
from typing import Any

import simpy

from harness.designs import Context, Design
from harness.designs.api import consumer_groups
from harness.effects import Call, Note, Publish, Sleep
from harness.history import Record, Sink
from harness.interpreter import HandlerRun, MemoryJournal, Steps
from harness.scenario import ORCHESTRATOR
from harness.sim.broker import Broker
from harness.sim.network import Network
from simulators.base import DomainEvent

DesignFactory = Callable[[], Design]


class SimDriver:
    """Runs the design's handlers in simulated time; holds the design, its journal and locks."""

    def __init__(
        self,
        env: simpy.Environment,
        design_factory: DesignFactory,
        network: Network,
        record: Sink,
        named: Callable[[str], Random],
    ) -> None:
        self.env, self.design_factory, self.network = env, design_factory, network
        self.design = design_factory()
        self.systems: Container[str] = network.systems
        self.record_sink = record
        self.context = Context(named(f"design.{self.design.name}"), frozenset(network.systems))
        self.broker: Broker | None = None  # wired by the run, which builds the broker
        self.on_note: Callable[[Note], None] = lambda note: None
        self.journal = MemoryJournal()  # the design's durable state
        self._locks: dict[str, simpy.Resource] = {}
        self._running: dict[simpy.Process, None] = {}  # handlers in flight, in start order
        network.subscribed = frozenset(self.design.subscriptions)
        network.deliver = self.spawn

    # -- starting handlers -----------------------------------------------------------------

    def spawn(self, event: DomainEvent) -> None:
        """An event delivered to the design's subscription for its type."""
        self._start(event, lambda: self.design.subscriptions[event.type](self.context, event))

    def consume(self, group: str, event: DomainEvent, acknowledged: simpy.Event) -> None:
        """A broker delivery to one of the design's consumer groups."""
        handler = getattr(self.design, "consumers", {}).get(group, {}).get(event.type)
        if handler is None:  # the design no longer consumes it (changed at a restart)
            acknowledged.succeed(True)
            return
        self._start(event, lambda: handler(self.context, event), acknowledged)

    def _start(
        self,
        event: DomainEvent,
        make: Callable[[], Steps],
        acknowledged: simpy.Event | None = None,
    ) -> None:
        process = self.env.process(self._handle(HandlerRun(self, event, make), acknowledged))
        self._running[process] = None
        process.callbacks.append(lambda _: self._running.pop(process, None))

    def _handle(
        self, run: HandlerRun, acknowledged: simpy.Event | None
    ) -> Generator[simpy.Event, Any, None]:
        """Wait on each effect the interpreter hands over; a broker delivery is acknowledged
        only if the handler ended normally."""
        env, trace = self.env, run.event.event_id
        waiting: Any = None  # a lock request not yet granted
        waits = run.run()
        try:
            result: Any = None
            effect: Any  # narrowed by its type below, as fast as `type(...) is`
            while True:
                try:
                    effect = waits.send(result)
                except StopIteration:
                    return
                kind = type(effect)
                if kind is Call:
                    result = yield from self.network.call(effect, trace)
                elif kind is Sleep:
                    yield env.timeout(max(effect.seconds, 0.0))
                    result = None
                elif kind is Publish:
                    assert self.broker is not None
                    result = yield from self.broker.publish(effect)
                else:  # Acquire
                    lock = self._locks.get(effect.key)
                    if lock is None:
                        lock = self._locks[effect.key] = simpy.Resource(env, capacity=1)
                    waiting = lock.request()
                    yield waiting
                    result, waiting = waiting, None
        except simpy.Interrupt:
            if waiting is not None:
                waiting.cancel()
            waits.close()
            run.interrupted()
        finally:
            run.release_all()
            if acknowledged is not None:
                acknowledged.succeed(run.ended_normally)

    # -- the interpreter's primitives ----------------------------------------------------------

    def now(self) -> float:
        return self.env.now

    def record(self, record: Record) -> None:
        self.record_sink(record)

    def noticed(self, note: Note) -> None:
        self.on_note(note)

    def fork(self, event: DomainEvent, steps: Steps, daemon: bool) -> None:
        self._start(event, lambda: steps)

    def release(self, key: str, token: Any) -> None:
        lock = self._locks[key]
        lock.release(token)
        if lock.count == 0 and not lock.queue:
            del self._locks[key]

    # -- the orchestrator's life ---------------------------------------------------------------

    def crash(self) -> None:
        self.network.receiver_up = False
        for process in list(self._running):
            if process.is_alive:
                process.interrupt("orchestrator crash")

    def restart(self) -> None:
        self.design = self.design_factory()  # all it held in memory is gone; the journal stays
        self.network.subscribed = frozenset(self.design.subscriptions)
        if self.broker is not None:
            self.broker.subscribe(consumer_groups(self.design))
        self.network.receiver_up = True
        if "orchestrator.restarted" in self.design.subscriptions:
            now = self.env.now
            self.spawn(
                DomainEvent(
                    f"RESTART-{now:.0f}", "orchestrator.restarted", ORCHESTRATOR, now, {}, {}
                )
            )

    def send_operator_event(self, event: DomainEvent) -> None:
        """An operator's decision, delivered once the orchestrator is up."""
        self.env.process(self._when_up(event))

    def _when_up(self, event: DomainEvent) -> Generator[simpy.Event, Any, None]:
        while not self.network.receiver_up:  # operators wait for the orchestrator to be back
            yield self.env.timeout(60.0)
        if event.type in self.design.subscriptions:
            self.spawn(event)
