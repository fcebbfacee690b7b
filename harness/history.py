"""History: every call, state change, event, workflow status and fault of a run, in time order.

Records are frozen, slotted dataclasses, written one JSON object per line as they happen, so a
long run never holds its history in memory. Calls follow Jepsen: `invoke`, then `ok`, `fail`
(known not applied, or refused) or `info` (indefinite: maybe applied). Checkers and reports read
only these records; a record's position in the file is its line number, starting at 0.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, fields
from json.encoder import encode_basestring
from pathlib import Path
from typing import IO, Any

from simulators.json_text import dumps_as

Keys = Mapping[str, str | int]
SCHEMA = "syncline.history/1"
#: The trace of calls the world makes for itself (customers, billing staff), not the design:
#: `world:customers`. Checkers of the integration leave them out.
WORLD_TRACE = "world:"


@dataclass(frozen=True, slots=True)
class RunStarted:
    t: float
    scenario: str
    design: str
    seed: int
    start: str  # the scenario's calendar start, ISO 8601 UTC
    horizon: float
    schema: str = SCHEMA


@dataclass(frozen=True, slots=True)
class CallRecord:
    t: float
    type: str  # invoke | ok | fail | info
    call: int
    system: str
    operation: str
    attempt: int = 1
    trace: str | None = None
    idem_key: str | None = None
    latency: float | None = None
    error_kind: str | None = None
    error_code: str | None = None
    keys: Keys | None = None  # business IDs found in the request, on `invoke` records
    cause: str | None = None  # why it failed: rate_limit, outage, business, ghost, ...
    queue_wait: float | None = None  # seconds waiting for a concurrency slot
    retry_after: float | None = None  # what the server asked for, on `fail` records


@dataclass(frozen=True, slots=True)
class StateRecord:
    t: float
    system: str
    entity: str
    entity_id: str
    change: str  # created | updated | reverted (a compensation put an earlier version back)
    version: int
    keys: Keys
    effect_key: str | None = None
    values: Mapping[str, Any] | None = None  # money the write commits to: total, currency
    #: Seconds after its client had timed out that the vendor applied this write, when no
    #: idempotency key guarded it (the vendor keeps none, or the call sent none): a retry of
    #: the call would apply it again. None for a write applied while its client waited.
    past_timeout: float | None = None


@dataclass(frozen=True, slots=True)
class EventRecord:
    t: float
    type: str  # emitted | delivered | failed (attempt) | dropped (vendor gave up) | lost
    event_id: str
    event_type: str
    system: str
    keys: Keys
    delivery: int = 0  # delivered: 1, then 2 for a duplicate...; failed/dropped: the attempt


@dataclass(frozen=True, slots=True)
class WorkflowRecord:
    t: float
    workflow: str
    status: str
    keys: Keys
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class FaultRecord:
    t: float
    system: str  # or "orchestrator"
    fault: str  # a kind of the fault vocabulary: outage, brownout, partition, ...
    phase: str  # start | stop
    params: Keys | None = None


@dataclass(frozen=True, slots=True)
class PolicyRecord:
    """A state change of a design's policy: a breaker opening, an exception parked or resolved."""

    t: float
    policy: str
    subject: str
    event: str
    details: Keys | None = None


@dataclass(frozen=True, slots=True)
class RunEnded:
    t: float


Record = (
    RunStarted
    | CallRecord
    | StateRecord
    | EventRecord
    | WorkflowRecord
    | FaultRecord
    | PolicyRecord
    | RunEnded
)
#: Each record type by its `kind`, the name a history line carries.
RECORD_TYPES: Mapping[str, type[Record]] = {
    "run_started": RunStarted,
    "call": CallRecord,
    "state": StateRecord,
    "event": EventRecord,
    "workflow": WorkflowRecord,
    "fault": FaultRecord,
    "policy": PolicyRecord,
    "run_ended": RunEnded,
}
KIND_OF: Mapping[type[Record], str] = {cls: kind for kind, cls in RECORD_TYPES.items()}
_FIELDS: dict[type, tuple[str, ...]] = {
    cls: tuple(f.name for f in fields(cls)) for cls in RECORD_TYPES.values()
}

Sink = Callable[[Record], None]


def record_fields(cls: type[Record]) -> tuple[str, ...]:
    """The fields of a record type, in order."""
    return _FIELDS[cls]


#: `json.dumps` with these settings, built once, for the values that are not plain scalars.
_encode = dumps_as(separators=(",", ":"), ensure_ascii=False)


def _writer(cls: type[Record]) -> Callable[[Any], str]:
    """A serializer made for one record type: its fields unrolled, strings escaped by the C
    escaper, finite floats rounded to 6 places, anything else (mappings, booleans) through
    `json`. The same bytes as `json.dumps` of the record's dict, about a third faster."""
    opening = '{"kind":' + json.dumps(KIND_OF[cls])
    lines = ["def write(record):", f"    parts = [{opening!r}]"]
    for name in _FIELDS[cls]:
        lines += [
            f"    value = record.{name}",
            "    if value is not None:",
            "        kind = type(value)",
            "        if kind is str:",
            "            text = escape(value)",
            "        elif kind is int:",
            "            text = int_repr(value)",
            "        elif kind is float and isfinite(value):",
            "            text = float_repr(round(value, 6))",
            "        else:",
            "            text = encode(round(value, 6) if kind is float else value)",
            f"        parts.append({',' + json.dumps(name) + ':'!r} + text)",
        ]
    lines += ["    parts.append('}')", "    return ''.join(parts)"]
    scope: dict[str, Any] = {
        "escape": encode_basestring, "int_repr": int.__repr__, "float_repr": float.__repr__,
        "isfinite": math.isfinite, "encode": _encode,
    }  # fmt: skip
    exec("\n".join(lines), scope)
    writer: Callable[[Any], str] = scope["write"]
    return writer


_WRITERS: dict[type, Callable[[Any], str]] = {cls: _writer(cls) for cls in RECORD_TYPES.values()}


def to_json(record: Record) -> str:
    """One compact, deterministic JSON line; None fields are left out."""
    return _WRITERS[type(record)](record)


def from_json(line: str) -> Record:
    return from_dict(json.loads(line))


def from_dict(data: Mapping[str, Any]) -> Record:
    """A record from its JSON object (`kind` names the type)."""
    fields = dict(data)
    return RECORD_TYPES[fields.pop("kind")](**fields)


class HistoryWriter:
    """Writes records to `history.jsonl` as they come."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[str] = path.open("w", encoding="utf-8", buffering=1 << 20)
        self.count = 0

    def __call__(self, record: Record) -> None:
        self._file.write(to_json(record))
        self._file.write("\n")
        self.count += 1

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> HistoryWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_history(path: Path) -> Iterator[Record]:
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                yield from_json(line)


def fan_out(sinks: Iterable[Sink]) -> Sink:
    """One sink that hands every record to each of `sinks`, in order."""
    targets = tuple(sinks)

    def record(item: Record) -> None:
        for target in targets:
            target(item)

    return record
