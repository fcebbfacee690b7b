"""The simulated network: enacts each system's behaviour decisions in SimPy time.

A call asks the system's `Behaviour` for a decision and enacts it: a gateway refusal (outage,
read-only, rate limit, full concurrency), a lost request, or service (after a queue for a
concurrency slot, when the system queues) ending in an applied request whose answer arrives or
is lost. Every call is recorded as invoke -> ok / fail / info with its cause and queue wait.
What a request changes is recorded as state records; the events it emits travel to the design
as the vendor delivers webhooks: after a delay, retried on the vendor's schedule while the
receiver cannot be reached, sometimes twice, sometimes never, signed if the vendor signs.

Rules:
1. A request that reached the system is applied even if its client has gone (timed out while
   queued, or crashed mid-call): the server finishes in the background. That is a ghost write.
2. An idempotency key is claimed when its request reaches the system and released when it is
   applied; a second request with the key in between gets the vendor's 409.
3. A write of the integration's applied after its client timed out, with no idempotency key
   guarding it (the vendor keeps none, or the call sent none), says so on its state records
   (`past_timeout`): a retry would apply it again, and only the history can tell a checker
   that this happened. The world's own callers (customers, staff) are not marked.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping
from typing import Any, cast

import simpy

from harness.effects import Call, CallError, ErrorKind, Reply
from harness.history import WORLD_TRACE, CallRecord, EventRecord, Sink, StateRecord
from simulators.base import BUSINESS_ID_FIELDS, DomainEvent, Outcome, SystemOfRecord
from simulators.profiles import Behaviour, CallDecision, Draws
from simulators.webhooks import sign

#: Called for each delivery of an event that reached the design.
Deliver = Callable[[DomainEvent], None]


class Network:
    def __init__(
        self,
        env: simpy.Environment,
        systems: Mapping[str, SystemOfRecord],
        behaviours: Mapping[str, Behaviour],
        record: Sink,
        epoch: float = 0.0,
    ) -> None:
        self.env = env
        self.systems = systems
        self.behaviours = behaviours
        self.record = record
        self.epoch = epoch
        self.subscribed: frozenset[str] = frozenset()
        self.deliver: Deliver | None = None
        self.receiver_up = True  # False while the orchestrator is crashed
        self.observers: list[Callable[[DomainEvent], None]] = []  # the world reacting to events
        self._next_call = 0
        self._slots: dict[str, simpy.Resource] = {
            name: simpy.Resource(env, behaviour.profile.concurrency.limit)
            for name, behaviour in behaviours.items()
            if behaviour.profile.concurrency is not None
            and behaviour.profile.concurrency.mode == "queue"
        }

    # -- calls -------------------------------------------------------------------------

    def call(
        self, call: Call, trace: str | None, draws: Draws | None = None
    ) -> Generator[simpy.Event, Any, Reply]:
        """Enact one call; `draws` are the caller's own streams (the integration's by default)."""
        env = self.env
        system = self.systems[call.system]
        behaviour = self.behaviours[call.system]
        self._next_call += 1
        started = env.now
        payload = call.payload
        keys = {key: payload[field] for field, key in BUSINESS_ID_FIELDS if field in payload}
        self.record(
            CallRecord(
                started, "invoke", self._next_call, call.system, call.operation, call.attempt,
                trace, call.idem_key, keys=keys,
            )
        )  # fmt: skip
        finish = _Finish(self, self._next_call, call, trace, started)
        decision = behaviour.decide(started, call.operation not in system.reads, draws)
        if decision.fate == "lost" or (decision.fate == "refuse" and decision.cause != "brownout"):
            yield env.timeout(decision.delay)
            return finish.refused(decision)
        conflict = system.claim(call.operation, call.idem_key)
        if conflict is not None:
            yield env.timeout(behaviour.profile.refusal_after_s)
            return finish.error("transient", conflict.code, conflict.message, "conflict", 409)
        timeout = behaviour.profile.client_timeout_s
        slots = self._slots.get(call.system)
        try:
            if decision.delay <= timeout and (slots is None or slots.count < slots.capacity):
                # Served at once and answered in time: no race, so no server process.
                outcome = yield from self._serve_inline(call, decision, slots)
                queued = 0.0
            else:
                gave_up: list[float] = []  # when the integration's client gave up (rule 3)
                server = env.process(self._server(call, decision, gave_up))
                yield server | env.timeout(timeout)
                if not server.triggered:  # the client gave up; the server carries on (rule 1)
                    if trace is None or not trace.startswith(WORLD_TRACE):
                        gave_up.append(env.now)
                    cause = decision.cause or "timeout"
                    return finish.error(
                        "ambiguous", "timeout", f"no answer from {call.system}", cause
                    )
                outcome, queued = cast(tuple[Outcome | None, float], server.value)
        except simpy.Interrupt:
            finish.error(
                "ambiguous", "client_crashed", "the orchestrator crashed mid-call", "crash"
            )
            raise
        if decision.fate == "refuse":  # a brownout's 503, after the service time
            return finish.refused(decision, queued)
        if decision.fate == "ghost":
            lost = started + timeout - env.now
            if lost > 0:
                yield env.timeout(lost)
            return finish.error(
                "ambiguous",
                "timeout",
                f"no answer from {call.system}",
                decision.cause,
                queued=queued,
            )
        assert outcome is not None
        if outcome.error is not None:
            error = outcome.error
            return finish.error(
                "business",
                error.code,
                error.message,
                "business",
                error.status,
                queued,
                outcome.body,
            )
        return finish.ok(outcome.body, queued)

    def _serve_inline(
        self, call: Call, decision: CallDecision, slots: simpy.Resource | None
    ) -> Generator[simpy.Event, Any, Outcome | None]:
        """Serve in the caller's process; if the caller is interrupted, finish in the background."""
        env, behaviour = self.env, self.behaviours[call.system]
        slot = slots.request() if slots is not None else None  # granted at once: a slot is free
        behaviour.in_service += 1
        began = env.now
        try:
            yield env.timeout(decision.delay)
        except simpy.Interrupt:
            env.process(self._finish_serving(call, decision, slot, began + decision.delay))
            raise
        behaviour.in_service -= 1
        outcome = self._apply(call, decision)
        if slot is not None:
            slots.release(slot)  # type: ignore[union-attr]
        return outcome

    def _finish_serving(
        self, call: Call, decision: CallDecision, slot: Any, done_at: float
    ) -> Generator[simpy.Event, Any, None]:
        yield self.env.timeout(max(done_at - self.env.now, 0.0))
        self.behaviours[call.system].in_service -= 1
        self._apply(call, decision)
        if slot is not None:
            self._slots[call.system].release(slot)

    def _server(
        self, call: Call, decision: CallDecision, gave_up: list[float]
    ) -> Generator[simpy.Event, Any, tuple[Outcome | None, float]]:
        """The system's side of one request: queue for a slot, serve, apply."""
        env, behaviour = self.env, self.behaviours[call.system]
        arrived = env.now
        slots = self._slots.get(call.system)
        slot = None
        if slots is not None:
            slot = slots.request()
            yield slot
        queued = env.now - arrived
        behaviour.in_service += 1
        yield env.timeout(decision.delay)
        behaviour.in_service -= 1
        outcome = self._apply(call, decision, gave_up[0] if gave_up else None)
        if slot is not None:
            slots.release(slot)  # type: ignore[union-attr]
        return outcome, queued

    def _apply(
        self, call: Call, decision: CallDecision, gave_up: float | None = None
    ) -> Outcome | None:
        """Apply the request; `gave_up` is when its client timed out, if it has (rule 3)."""
        system = self.systems[call.system]
        system.release(call.operation, call.idem_key)
        if decision.fate == "refuse":
            return None
        now = self.env.now
        outcome = system.handle(call.operation, call.payload, now, call.idem_key)
        guarded = system.idempotency.supported and call.idem_key is not None
        self.commit(outcome, None if gave_up is None or guarded else now - gave_up)
        return outcome

    # -- what requests change, and the webhooks they cause --------------------------------

    def commit(self, outcome: Outcome, past_timeout: float | None = None) -> None:
        """Record what a request changed and send its events on their way; `past_timeout`: how
        long after its client timed out an unguarded write was applied (rule 3)."""
        now, record = self.env.now, self.record
        for change in outcome.changes:
            record(
                StateRecord(
                    now, change.system, change.entity, change.entity_id, change.change,
                    change.version, change.keys, change.effect_key, change.values, past_timeout,
                )
            )  # fmt: skip
        for event in outcome.events:
            record(
                EventRecord(now, "emitted", event.event_id, event.type, event.system, event.keys)
            )
            for observer in self.observers:
                observer(event)
            if self.deliver is not None and event.type in self.subscribed:
                self.env.process(self._webhook(event))

    def _webhook(self, event: DomainEvent) -> Generator[simpy.Event, Any, None]:
        behaviour = self.behaviours[event.system]
        webhooks = behaviour.profile.webhooks
        plan = behaviour.plan_delivery()
        if plan.lost:
            self._event(event, "lost", 0)
            return
        yield self.env.timeout(plan.delay)
        attempt, delivered = 1, 0
        while True:
            reached = self.receiver_up and "partition" not in behaviour.conditions
            delivered += 1 if reached else 0
            age = self.env.now - event.occurred_at
            step = behaviour.after_attempt(plan, reached, attempt, delivered, age)
            for kind, number in step.records:
                self._event(event, kind, number)
            if reached:
                signature = None
                if webhooks.signing_secret is not None:
                    timestamp = int(self.epoch + self.env.now)
                    signature = sign(webhooks.signing_secret, timestamp, event.payload)
                assert self.deliver is not None
                self.deliver(
                    DomainEvent(
                        event.event_id, event.type, event.system, event.occurred_at,
                        event.payload, event.keys, delivered, signature,
                    )
                )  # fmt: skip
            if step.wait is None:
                return
            attempt += 1
            yield self.env.timeout(step.wait)

    def _event(self, event: DomainEvent, kind: str, number: int) -> None:
        self.record(
            EventRecord(
                self.env.now, kind, event.event_id, event.type, event.system, event.keys, number
            )
        )


class _Finish:
    """Records how a call ended and builds the design's reply."""

    __slots__ = ("call", "call_id", "network", "started", "trace")

    def __init__(
        self, network: Network, call_id: int, call: Call, trace: str | None, started: float
    ) -> None:
        self.network, self.call_id, self.call = network, call_id, call
        self.trace, self.started = trace, started

    def ok(self, body: Mapping[str, Any], queued: float) -> Reply:
        self._record("ok", None, None, queued)
        return Reply(body)

    def refused(self, decision: CallDecision, queued: float = 0.0) -> Reply:
        if decision.fate == "lost":
            return self.error("ambiguous", "timeout", "no answer (request lost)", decision.cause)
        status = decision.status
        message = f"{self.call.system} answered {status} ({decision.cause})"
        error = CallError(
            "transient", decision.code or str(status), message, decision.retry_after, status
        )
        self._record("fail", error, decision.cause, queued)
        return Reply({}, error)

    def error(
        self,
        kind: ErrorKind,
        code: str,
        message: str,
        cause: str | None,
        status: int | None = None,
        queued: float = 0.0,
        body: Mapping[str, Any] | None = None,
    ) -> Reply:
        error = CallError(kind, code, message, None, status)
        self._record("info" if kind == "ambiguous" else "fail", error, cause, queued)
        return Reply(body or {}, error)

    def _record(self, kind: str, error: CallError | None, cause: str | None, queued: float) -> None:
        now = self.network.env.now
        call = self.call
        self.network.record(
            CallRecord(
                now, kind, self.call_id, call.system, call.operation, call.attempt, self.trace,
                None, now - self.started, error.kind if error else None,
                error.code if error else None, cause=cause, queue_wait=queued or None,
                retry_after=error.retry_after if error else None,
            )
        )  # fmt: skip
