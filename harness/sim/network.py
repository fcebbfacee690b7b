"""The simulated network: enacts each system's behaviour decisions in SimPy time.

A call asks the system's `Behaviour` for a decision, waits its delay, then applies the request
(or not) and answers with a `Reply` in one of the three error kinds. Every call is recorded as
invoke -> ok / fail / info. What a request changes is recorded as state records, and the events
it emits are delivered to the design's subscribers after the profile's webhook delays
(duplicates included).
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping
from typing import Any

import simpy

from harness.effects import Call, CallError, Reply
from harness.history import CallRecord, EventRecord, Sink, StateRecord
from simulators.base import DomainEvent, Outcome, SystemOfRecord
from simulators.profiles import Behaviour

#: Payload fields that name business IDs, and the key each is recorded under.
BUSINESS_ID_FIELDS = (
    ("quote_id", "quote"),
    ("contract_id", "contract"),
    ("contract_version", "contract_version"),
    ("order_id", "order"),
    ("subscription_id", "subscription"),
    ("invoice_id", "invoice"),
    ("customer_id", "customer"),
)

#: Called for each delivery of an event: (event, delivery number).
Deliver = Callable[[DomainEvent, int], Generator[simpy.Event, Any, None]]


class Network:
    def __init__(
        self,
        env: simpy.Environment,
        systems: Mapping[str, SystemOfRecord],
        behaviours: Mapping[str, Behaviour],
        record: Sink,
    ) -> None:
        self.env = env
        self.systems = systems
        self.behaviours = behaviours
        self.record = record
        self.subscribed: frozenset[str] = frozenset()
        self.deliver: Deliver | None = None
        self._next_call = 0

    def call(self, call: Call, trace: str | None) -> Generator[simpy.Event, Any, Reply]:
        env, record = self.env, self.record
        system = self.systems[call.system]
        self._next_call += 1
        call_id = self._next_call
        started = env.now
        payload = call.payload
        keys = {key: payload[field] for field, key in BUSINESS_ID_FIELDS if field in payload}
        record(
            CallRecord(
                started, "invoke", call_id, call.system, call.operation, call.attempt, trace,
                call.idem_key, keys=keys,
            )
        )  # fmt: skip
        decision = self.behaviours[call.system].decide(started)
        yield env.timeout(decision.delay)
        if decision.fate == "unavailable":
            error = CallError(
                "transient", "unavailable", f"{call.system} is unavailable ({decision.reason})"
            )
            self._finish(call_id, call, trace, started, "fail", error)
            return Reply({}, error)
        outcome = system.handle(call.operation, call.payload, env.now, call.idem_key)
        self.commit(outcome)
        if decision.fate == "ghost":
            lost = decision.lost_after
            if lost > 0:
                yield env.timeout(lost)
            error = CallError("ambiguous", "timeout", f"no answer from {call.system} in time")
            self._finish(call_id, call, trace, started, "info", error)
            return Reply({}, error)
        if outcome.error is not None:
            error = CallError("business", outcome.error.code, outcome.error.message)
            self._finish(call_id, call, trace, started, "fail", error)
            return Reply(outcome.body, error)
        self._finish(call_id, call, trace, started, "ok", None)
        return Reply(outcome.body)

    def _finish(
        self,
        call_id: int,
        call: Call,
        trace: str | None,
        started: float,
        kind: str,
        error: CallError | None,
    ) -> None:
        now = self.env.now
        self.record(
            CallRecord(
                now, kind, call_id, call.system, call.operation, call.attempt, trace, None,
                now - started, error.kind if error else None, error.code if error else None,
            )
        )  # fmt: skip

    def commit(self, outcome: Outcome) -> None:
        """Record what a request changed and send its events on their way."""
        now, record = self.env.now, self.record
        for change in outcome.changes:
            record(
                StateRecord(
                    now, change.system, change.entity, change.entity_id, change.change,
                    change.version, change.keys, change.effect_key,
                )
            )  # fmt: skip
        for event in outcome.events:
            record(
                EventRecord(now, "emitted", event.event_id, event.type, event.system, event.keys)
            )
            if self.deliver is not None and event.type in self.subscribed:
                for number, delay in enumerate(self.behaviours[event.system].deliveries(), 1):
                    self.env.process(self._deliver_after(delay, event, number))

    def _deliver_after(
        self, delay: float, event: DomainEvent, number: int
    ) -> Generator[simpy.Event, Any, None]:
        yield self.env.timeout(delay)
        self.record(
            EventRecord(
                self.env.now, "delivered", event.event_id, event.type, event.system, event.keys,
                number,
            )
        )  # fmt: skip
        assert self.deliver is not None
        yield from self.deliver(event, number)
