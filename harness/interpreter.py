"""The one interpreter of the effect protocol (harness.effects), for every driver.

A design's handler is a generator of effects. `HandlerRun` steps it; a driver (the SimPy one in
`harness.sim.driver`, the asyncio one in `harness.live.driver`, the property test's) supplies
only what differs between simulated and real time. Rules:

1. Effects that take no time are answered here, through the driver's primitives: `Now`,
   `Status` and `Note` (typed history records), `Load`/`Store`/`Scan` (the driver's journal),
   `Release` and `Fork`.
2. Effects that wait (`Call`, `Sleep`, `Publish`, `Acquire`) are yielded to the driver's own
   loop, which waits in its way and sends the answer back. `Acquire`'s answer is the driver's
   token for the lock it took; the run keeps it and gives it back at `Release` or at the end.
3. Design code that raises, yields something that is not an effect, or calls a system that is
   not there ends the handler as a `crashed` workflow; the run goes on.
4. An orchestrator crash (`interrupted()`) closes the design's generator and records the
   handler `interrupted`; only the journal survives it.
5. However it ends, the driver calls `release_all()`: no lock outlives its holder.
6. A handler that returns `False` ends abnormally on purpose (a broker consumer's nack):
   `ended_normally` tells the driver not to acknowledge.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Container, Generator
from typing import Any, Protocol

from harness.effects import (
    VENDOR_SYSTEMS,
    Acquire,
    Call,
    CallError,
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
from harness.history import PolicyRecord, Record, WorkflowRecord
from simulators.base import DomainEvent

#: The effects a driver waits on; every other effect is answered by the interpreter.
Waiting = Call | Sleep | Publish | Acquire
WAITING: frozenset[type] = frozenset({Call, Sleep, Publish, Acquire})
Steps = Generator[Any, Any, Any]


class Journal(Protocol):
    """The design's durable state: in memory (`MemoryJournal`) or SQLite live."""

    def load(self, table: str, key: str) -> Any: ...

    def store(self, table: str, key: str, value: Any) -> None: ...

    def scan(self, table: str) -> list[tuple[str, Any]]: ...


class Driver(Protocol):
    """What a driver gives the interpreter besides waiting."""

    @property
    def systems(self) -> Container[str]:
        """The systems a `Call` may name."""

    @property
    def journal(self) -> Journal: ...

    def now(self) -> float: ...

    def record(self, record: Record) -> None: ...

    def noticed(self, note: Note) -> None:
        """A design's note, for whoever acts on them (the operations team)."""

    def fork(self, event: DomainEvent, steps: Steps, daemon: bool) -> None: ...

    def release(self, key: str, token: Any) -> None: ...


class MemoryJournal(dict[str, dict[str, Any]]):
    """A design's journal kept in memory (table -> key -> value): the SimPy driver's, which an
    orchestrator crash leaves in place, and the property test's."""

    def load(self, table: str, key: str) -> Any:
        return self.get(table, {}).get(key)

    def store(self, table: str, key: str, value: Any) -> None:
        rows = self.setdefault(table, {})
        if value is None:
            rows.pop(key, None)
        else:
            rows[key] = value

    def scan(self, table: str) -> list[tuple[str, Any]]:
        return sorted(self.get(table, {}).items())


class DesignFault(Exception):
    """Design code raised, or yielded something that is not an effect."""


class HandlerRun:
    """One handler for one delivered event, from its first effect to its end."""

    __slots__ = ("_answers", "driver", "ended_normally", "event", "held", "make", "steps")

    def __init__(self, driver: Driver, event: DomainEvent, make: Callable[[], Steps]) -> None:
        self.driver, self.event, self.make = driver, event, make
        self.steps: Steps | None = None
        self.held: list[tuple[str, Any]] = []  # (lock key, the driver's token), in order
        self.ended_normally = False
        self._answers: dict[type, Callable[[Any], Any]] = {
            Now: self._now, Status: self._status, Load: self._load, Store: self._store,
            Scan: self._scan, Note: self._note, Release: self._release, Fork: self._fork,
        }  # fmt: skip

    def run(self) -> Generator[Waiting, Any, None]:
        """Step the design; yield each waiting effect to the driver, which sends its answer."""
        try:
            try:
                self.steps = steps = self.make()
            except Exception as error:
                raise DesignFault(f"{type(error).__name__}: {error}") from error
            answers, systems = self._answers, self.driver.systems
            result: Any = None
            while True:
                try:
                    effect = steps.send(result)
                except StopIteration as end:
                    self.ended_normally = end.value is not False
                    return
                except Exception as error:
                    raise DesignFault(f"{type(error).__name__}: {error}") from error
                kind = type(effect)
                answer = answers.get(kind)
                if answer is not None:
                    result = answer(effect)
                    continue
                if kind not in WAITING:
                    raise DesignFault(f"yielded {effect!r}, which is not an effect")
                if kind is Call and effect.system not in systems:
                    if effect.system not in VENDOR_SYSTEMS:
                        raise DesignFault(f"called unknown system {effect.system!r}")
                    result = absent(effect.system)  # a system this business does without
                    continue
                result = yield effect
                if kind is Acquire:
                    self.held.append((effect.key, result))
                    result = None
        except DesignFault as fault:
            self.crashed(str(fault))

    def crashed(self, reason: str) -> None:
        self._workflow("crashed", reason)

    def interrupted(self) -> None:
        """The orchestrator crashed under this handler: its memory is gone."""
        if self.steps is not None:
            with contextlib.suppress(Exception):  # a design's own cleanup must not stop the run
                self.steps.close()
        self._workflow("interrupted", "orchestrator crash")

    def release_all(self) -> None:
        held, self.held = self.held, []
        for key, token in held:
            self.driver.release(key, token)

    def _workflow(self, status: str, reason: str) -> None:
        event = self.event
        self.driver.record(
            WorkflowRecord(
                self.driver.now(), f"handler:{event.event_id}", status, dict(event.keys), reason
            )
        )

    # Effects answered at once, without time passing: effect type -> its answer.

    def _now(self, effect: Now) -> float:
        return self.driver.now()

    def _status(self, effect: Status) -> None:
        self.driver.record(
            WorkflowRecord(
                self.driver.now(), effect.workflow, effect.status, effect.keys, effect.reason
            )
        )

    def _load(self, effect: Load) -> Any:
        return self.driver.journal.load(effect.table, effect.key)

    def _store(self, effect: Store) -> None:
        self.driver.journal.store(effect.table, effect.key, effect.value)

    def _scan(self, effect: Scan) -> list[tuple[str, Any]]:
        return self.driver.journal.scan(effect.table)

    def _note(self, effect: Note) -> None:
        details = dict(effect.details) or None
        self.driver.record(
            PolicyRecord(self.driver.now(), effect.policy, effect.subject, effect.event, details)
        )
        self.driver.noticed(effect)

    def _release(self, effect: Release) -> None:
        for index, (key, token) in enumerate(self.held):
            if key == effect.key:
                del self.held[index]
                self.driver.release(key, token)
                return

    def _fork(self, effect: Fork) -> None:
        event = self.event
        forked = DomainEvent(effect.trace, event.type, event.system, self.driver.now(), {},
                             event.keys)  # fmt: skip
        self.driver.fork(forked, effect.steps, effect.daemon)


def absent(system: str) -> Reply:
    """The answer to a call to a system the business does without (`systems.<name>: null`)."""
    message = f"this business has no {system} (the scenario's systems.{system} is null)"
    return Reply({}, CallError("business", "NO_SUCH_SYSTEM", message, status=404))
