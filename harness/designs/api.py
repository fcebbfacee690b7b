"""The protocol a design implements, and the context its handlers build effects with.

A design is an object with a `name` and `subscriptions`: event type -> handler. A handler is
`handler(ctx, event)` returning a generator of effects (see `harness.effects`). The design keeps
whatever state it needs (its inbox, its saga table) as attributes; a fresh design is made for
every run by a factory, so runs never share state.

Optional attributes:
- `consumers`: consumer group -> topic -> handler, for messages on the broker (what designs
  `Publish`). A delivery is acknowledged when its handler ends, unless the handler returns
  `False`; an unacknowledged one is redelivered, then dead-lettered (harness/sim/broker.py).
- `polls`: names of systems whose change feed the design reads with `list_changes`.
Lifecycle events a design may subscribe to: `orchestrator.started` (t = 0) and
`orchestrator.restarted` (after a crash).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Generator, Mapping
from typing import Any, Protocol, runtime_checkable

from harness.effects import (
    VENDOR_SYSTEMS,
    Acquire,
    Call,
    Effect,
    Fork,
    Load,
    Note,
    Now,
    Publish,
    Release,
    Reply,
    Scan,
    Sleep,
    Status,
    Store,
)
from harness.engine.retry import RetryPolicy, call_with_retry
from simulators.base import DomainEvent

HandlerFn = Callable[["Context", DomainEvent], Generator[Effect, Any, None]]
#: A broker consumer's handler: returning False leaves the message unacknowledged.
ConsumerFn = Callable[["Context", DomainEvent], Generator[Effect, Any, bool | None]]


@runtime_checkable
class Design(Protocol):
    name: str

    @property
    def subscriptions(self) -> Mapping[str, HandlerFn]: ...


DesignFactory = Callable[[], Design]


class Context:
    """What a handler builds its effects with, plus the design's own seeded random stream.

    A handler yields each effect and receives its result: `reply = yield ctx.call(...)`. Every
    method below only builds an effect (a frozen dataclass in harness/effects.py); the driver,
    simulated or live, carries it out. `rng` is the design's `random.Random`, seeded from the
    run's seed: use it (never the global `random`) so a run replays to the byte.
    """

    __slots__ = ("rng", "systems")

    def __init__(
        self, rng: random.Random, systems: frozenset[str] = frozenset(VENDOR_SYSTEMS)
    ) -> None:
        self.rng = rng
        #: The vendor systems this business has: a scenario may do without CPQ or ERP
        #: (`systems.cpq: null`); a call to one it lacks answers a business error,
        #: NO_SUCH_SYSTEM. A design that supports such businesses looks here first.
        self.systems = systems

    @staticmethod
    def call(
        system: str, operation: str, payload: Mapping[str, Any], idem_key: str | None = None
    ) -> Call:
        """One request to a vendor system (`erp`, `billing`, `support`, `cpq`, `erp_cloud`):
        yields a `Reply` with `.ok`, `.body` and, on failure, `.error` (`kind`: business,
        transient or ambiguous; `code`, `message`, `retry_after`). `idem_key` is sent as the
        Idempotency-Key; the vendor honours it as its profile says. Not retried."""
        return Call(system, operation, payload, idem_key)

    def call_with_retry(
        self,
        policy: RetryPolicy,
        system: str,
        operation: str,
        payload: Mapping[str, Any],
        idem_key: str | None = None,
    ) -> Generator[Effect, Any, Reply]:
        """The call, retried by `policy` (`harness.retry(...)`: backoff with jitter, never
        sooner than Retry-After, business errors not retried): `reply = yield from
        ctx.call_with_retry(policy, "erp", "create_sales_order", order, idem_key=key)`."""
        return call_with_retry(Call(system, operation, payload, idem_key), policy, self.rng)

    @staticmethod
    def publish(
        topic: str,
        message_id: str,
        payload: Mapping[str, Any],
        keys: Mapping[str, str | int] | None = None,
    ) -> Publish:
        """Put a message on the broker (`topic`); consumers declared in `consumers` receive
        it. `message_id` identifies it across redeliveries; `keys` are its business ids."""
        return Publish(topic, message_id, payload, dict(keys or {}))

    @staticmethod
    def sleep(seconds: float) -> Sleep:
        """Wait `seconds` of run time (simulated, or scaled real time live)."""
        return Sleep(seconds)

    @staticmethod
    def now() -> Now:
        """The run's time: seconds since the scenario's start (a float)."""
        return Now()

    @staticmethod
    def acquire(key: str) -> Acquire:
        """Take the lock named `key` (e.g. `contract:CT-1`), waiting while another handler
        holds it: serialises work on one business object."""
        return Acquire(key)

    @staticmethod
    def release(key: str) -> Release:
        """Give the lock back; a handler that ends releases what it still holds."""
        return Release(key)

    @staticmethod
    def load(table: str, key: str) -> Load:
        """Read the design's durable journal: the value stored under `table`/`key`, or None.
        The journal survives an orchestrator crash; the design object's attributes do not."""
        return Load(table, key)

    @staticmethod
    def store(table: str, key: str, value: Any) -> Store:
        """Write the journal (None deletes). The `workflow` table is where operators find
        parked work (harness/engine/exceptions.py); other tables are the design's own."""
        return Store(table, key, value)

    @staticmethod
    def scan(table: str) -> Scan:
        """Every (key, value) of a journal table, e.g. to rebuild caches after a restart."""
        return Scan(table)

    @staticmethod
    def fork(steps: Generator[Effect, Any, Any], trace: str, daemon: bool = False) -> Fork:
        """Run another generator of effects concurrently, its calls traced as `trace`; a
        `daemon` (a scheduled job's loop) does not keep the run from ending."""
        return Fork(steps, trace, daemon)

    @staticmethod
    def note(
        policy: str, subject: str, event: str, details: Mapping[str, Any] | None = None
    ) -> Note:
        """Record a decision in the history (`policy` "versions", `event` "stale_event_ignored"
        …): shown in traces and reports; checkers never take it as proof of anything."""
        return Note(policy, subject, event, dict(details or {}))

    @staticmethod
    def status(
        workflow: str,
        status: str,
        reason: str | None = None,
        keys: Mapping[str, str | int] | None = None,
    ) -> Status:
        """Record a workflow's status (`started`, `completed`, `parked`, `dead_lettered`,
        `superseded`, `failed`…) with its business `keys` (quote, contract, contract_version):
        what reports and traces show. A design's word may make a verdict stricter, never
        more lenient (harness/checkers/__init__.py)."""
        return Status(workflow, status, reason, dict(keys or {}))


def consumer_groups(design: Design) -> dict[str, list[str]]:
    """A design's broker consumer groups (group -> topics), if it declares `consumers`."""
    consumers = getattr(design, "consumers", None) or {}
    return {group: list(topics) for group, topics in consumers.items()}
