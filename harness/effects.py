"""What design code yields, and what it gets back.

A design is generator functions: they yield effects (plain frozen dataclasses) and receive
results. The SimPy driver interprets them in simulated time; the live driver, over HTTP. Design
code therefore never does I/O, never reads a clock and never touches global randomness.

| effect            | the driver...                                        | sends back   |
|-------------------|------------------------------------------------------|--------------|
| `Call`            | sends the request to a system through its profile    | `Reply`      |
| `Sleep`           | waits                                                | `None`       |
| `Now`             | reads the (simulated) clock                          | `float`      |
| `Acquire`/`Release` | takes / gives back a named lock (FIFO)             | `None`       |
| `Status`          | records a workflow status change in the history      | `None`       |
| `Load`/`Store`    | reads / writes the design's durable journal          | value / None |
| `Scan`            | lists a journal table, in key order                  | [(key, value)] |
| `Note`            | records a policy's state change (breaker opened...)  | `None`       |
| `Fork`            | runs another effect generator alongside this one     | `None`       |
| `Publish`         | hands a message to the broker                        | `Reply` (ack) |

The journal is what survives an orchestrator crash (SQLite in live mode): a design keeps in it
whatever it must not forget, and rebuilds everything else from it after a restart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

ErrorKind = Literal["business", "transient", "ambiguous"]


#: Every vendor system a scenario may have (`erp_cloud` only during an ERP migration).
VENDOR_SYSTEMS = ("cpq", "erp", "billing", "support", "erp_cloud")


@dataclass(frozen=True, slots=True)
class Call:
    system: str
    operation: str
    payload: Mapping[str, Any] = field(default_factory=dict)
    idem_key: str | None = None
    attempt: int = 1


@dataclass(frozen=True, slots=True)
class Sleep:
    seconds: float


@dataclass(frozen=True, slots=True)
class Now:
    pass


@dataclass(frozen=True, slots=True)
class Acquire:
    """Wait for the named lock; locks are FIFO and released when the handler ends."""

    key: str


@dataclass(frozen=True, slots=True)
class Release:
    key: str


@dataclass(frozen=True, slots=True)
class Status:
    """A workflow's business status: started, completed, parked (with a reason), superseded."""

    workflow: str
    status: str
    reason: str | None = None
    keys: Mapping[str, str | int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Load:
    table: str
    key: str


@dataclass(frozen=True, slots=True)
class Store:
    """Write `value` (plain data) under `key`; a value of None deletes the key."""

    table: str
    key: str
    value: Any


@dataclass(frozen=True, slots=True)
class Scan:
    table: str


@dataclass(frozen=True, slots=True)
class Note:
    """A policy's state change, for the history: ("breaker", "erp", "opened", {...})."""

    policy: str
    subject: str
    event: str
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Fork:
    """Run `steps` (a generator of effects) concurrently, e.g. to resume many workflows. A
    `daemon` runs for the orchestrator's life (a poller, a scheduler): it is no work in flight,
    so a live run can settle while it runs."""

    steps: Any
    trace: str
    daemon: bool = False


@dataclass(frozen=True, slots=True)
class Publish:
    """A message for the broker's `topic`; consumers de-duplicate on `message_id`."""

    topic: str
    message_id: str
    payload: Mapping[str, Any] = field(default_factory=dict)
    keys: Mapping[str, str | int] = field(default_factory=dict)
    attempt: int = 1


Effect = (
    Call | Sleep | Now | Acquire | Release | Status | Load | Store | Scan | Note | Fork | Publish
)


@dataclass(frozen=True, slots=True)
class CallError:
    """Why a call did not succeed, in the three kinds every design must tell apart.

    business: retrying cannot help (validation, mapping, 4xx).
    transient: not applied (5xx, 429, outage); safe to retry, after `retry_after` if given.
    ambiguous: maybe applied, answer lost (timeout); only an idempotency key makes a retry safe.
    """

    kind: ErrorKind
    code: str
    message: str = ""
    retry_after: float | None = None
    status: int | None = None


@dataclass(frozen=True, slots=True)
class Reply:
    body: Mapping[str, Any]
    error: CallError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None
