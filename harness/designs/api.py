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
    """Effect constructors plus the design's own seeded random stream."""

    __slots__ = ("rng",)

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    @staticmethod
    def call(
        system: str, operation: str, payload: Mapping[str, Any], idem_key: str | None = None
    ) -> Call:
        return Call(system, operation, payload, idem_key)

    def call_with_retry(
        self,
        policy: RetryPolicy,
        system: str,
        operation: str,
        payload: Mapping[str, Any],
        idem_key: str | None = None,
    ) -> Generator[Effect, Any, Reply]:
        """`reply = yield from ctx.call_with_retry(policy, ...)`."""
        return call_with_retry(Call(system, operation, payload, idem_key), policy, self.rng)

    @staticmethod
    def publish(
        topic: str,
        message_id: str,
        payload: Mapping[str, Any],
        keys: Mapping[str, str | int] | None = None,
    ) -> Publish:
        return Publish(topic, message_id, payload, dict(keys or {}))

    @staticmethod
    def sleep(seconds: float) -> Sleep:
        return Sleep(seconds)

    @staticmethod
    def now() -> Now:
        return Now()

    @staticmethod
    def acquire(key: str) -> Acquire:
        return Acquire(key)

    @staticmethod
    def release(key: str) -> Release:
        return Release(key)

    @staticmethod
    def load(table: str, key: str) -> Load:
        return Load(table, key)

    @staticmethod
    def store(table: str, key: str, value: Any) -> Store:
        return Store(table, key, value)

    @staticmethod
    def scan(table: str) -> Scan:
        return Scan(table)

    @staticmethod
    def fork(steps: Generator[Effect, Any, Any], trace: str, daemon: bool = False) -> Fork:
        return Fork(steps, trace, daemon)

    @staticmethod
    def note(
        policy: str, subject: str, event: str, details: Mapping[str, Any] | None = None
    ) -> Note:
        return Note(policy, subject, event, dict(details or {}))

    @staticmethod
    def status(
        workflow: str,
        status: str,
        reason: str | None = None,
        keys: Mapping[str, str | int] | None = None,
    ) -> Status:
        return Status(workflow, status, reason, dict(keys or {}))


def consumer_groups(design: Design) -> dict[str, list[str]]:
    """A design's broker consumer groups (group -> topics), if it declares `consumers`."""
    consumers = getattr(design, "consumers", None) or {}
    return {group: list(topics) for group, topics in consumers.items()}
