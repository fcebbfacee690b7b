"""System-of-record base: operations, idempotency keys, an outbox of events, errors.

A simulated vendor system is a pure state machine: `handle(operation, payload, now, idem_key)`
applies one request and returns an `Outcome` (response, state changes, events). No clock, no
I/O, no randomness: drivers decide *when* a request arrives and whether its answer is lost;
this module decides only *what* it does.

Rules every system follows:
1. An operation is a method `op_<name>(payload, now)` returning the response body, or raising
   `BusinessError`, with its request declared in `requests` (`simulators.requests`): a
   request that breaks its declaration is refused (400 `invalid_request`) before the operation
   runs, and the operation checks its business rules before it writes, so a refused request
   changes nothing (vendors answer 4xx without side effects). A malformed request does not
   use up its idempotency key (Stripe saves no result for a request that failed validation).
2. Writes go through `_create` / `_update`, which record a `StateChange`; events go through
   `_emit` into the outbox of the current request. Both are returned in the `Outcome`.
3. A write that is a business effect carries an `effect_key` (the business identity of the
   effect, e.g. one invoice per contract version); two writes with one key are a duplicate.
4. Idempotency keys follow the system's `IdempotencyRule`: a key seen within its retention with
   the same payload replays the first response and applies nothing; with another payload it is
   refused (422); a key whose first request is still in flight is refused (409, `claim`); an
   expired key, or a system without key support, applies the request again.
5. IDs come from per-prefix integer counters: same requests, same IDs.
6. Events are shaped like the vendor's own (`_envelope`), with a schema version; a vendor
   upgrade (`event_schema_version = 2`) moves the body under `data`, as a SaaS release does.
7. `reads` names the operations that change nothing (answered during read-only windows).
   `find_records` is every system's query: the records of one entity whose fields equal the
   given values, by id or by a field, a page at a time (what a vendor's list endpoint, SOQL,
   SuiteQL or a search answers; the vendor wire facades are built on it).
8. Records of the entities a system names in `archived` (orders, invoices, journal entries,
   cases...) are archived once nobody has written them for `archive_after_s` (30 days by
   default) and `still_open` does not hold them, as vendors archive old transactions: reading
   one then answers `not_found`. Contracts, subscriptions and entitlements are never archived.
   So a long run's memory follows the live business, not every record it ever made; the
   history still holds every change.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from simulators.json_text import dumps_as
from simulators.requests import ID, LIMIT, Match, Request, Text, Texts, Whole, request

Keys = Mapping[str, str | int]
Payload = Mapping[str, Any]
#: Rule 8: how long an idle transactional record stays before it is archived.
ARCHIVE_AFTER_S = 30 * 86400.0
#: An idempotency key's request, as the text its retries must match (sorted keys; a value JSON
#: cannot hold is written as its str()).
_fingerprint = dumps_as(sort_keys=True, default=str)
#: How long a polled change feed keeps an event (Salesforce CDC: 72 h).
FEED_RETENTION_S = 72 * 3600.0

#: Request fields that name business IDs, and the key each is recorded under in the history.
BUSINESS_ID_FIELDS = (
    ("quote_id", "quote"),
    ("contract_id", "contract"),
    ("contract_version", "contract_version"),
    ("order_id", "order"),
    ("subscription_id", "subscription"),
    ("invoice_id", "invoice"),
    ("payment_id", "payment"),
    ("credit_memo_id", "credit_memo"),
    ("customer_id", "customer"),
)


class BusinessError(Exception):
    """A refusal that retrying cannot fix: validation, mapping, state rules (HTTP 4xx)."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


@dataclass(frozen=True, slots=True)
class StateChange:
    """One record written by a system; `version` is the record's own revision."""

    system: str
    entity: str
    entity_id: str
    change: Literal["created", "updated", "reverted"]
    version: int
    effect_key: str | None
    keys: Keys
    values: Mapping[str, Any] | None = None  # money the write commits to: total, currency


@dataclass(frozen=True, slots=True)
class DomainEvent:
    """A state change a system announces to its webhook subscribers.

    The driver stamps each delivery: `delivery` counts attempts that reached the receiver
    (2 and more are duplicates) and `signature` is the vendor's signature header, if it signs.
    """

    event_id: str
    type: str
    system: str
    occurred_at: float
    payload: Payload
    keys: Keys
    delivery: int = 0
    signature: str | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result of one request: a response (or a business error) and what it caused."""

    status: int
    body: Payload
    error: BusinessError | None = None
    changes: tuple[StateChange, ...] = ()
    events: tuple[DomainEvent, ...] = ()
    replayed: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True, slots=True)
class IdempotencyRule:
    """How a vendor treats an Idempotency-Key header (vendor-behaviour.md: Stripe, Zuora)."""

    supported: bool = True
    retention_s: float = 24 * 3600.0
    conflict_in_flight: bool = True  # 409 for a request whose key is still being processed

    def __repr__(self) -> str:
        if not self.supported:
            return "idempotency(unsupported)"
        conflict = ", 409 in flight" if self.conflict_in_flight else ""
        return f"idempotency(retention={self.retention_s / 3600:g}h{conflict})"


@dataclass(slots=True)
class _StoredResponse:
    fingerprint: str
    outcome: Outcome
    stored_at: float


@dataclass
class _Request:
    """What the operation in progress has written and emitted so far."""

    now: float
    changes: list[StateChange] = field(default_factory=list)
    events: list[DomainEvent] = field(default_factory=list)


class SystemOfRecord:
    """Base of the four simulated systems; subclasses add `op_<name>` methods."""

    name: str = "system"  # an instance may take another (a second ERP: "erp_cloud")
    reads: ClassVar[frozenset[str]] = frozenset()
    archived: ClassVar[frozenset[str]] = frozenset()  # entities archived when idle (rule 8)
    #: Each operation's request (rule 1); a subclass adds its own to these.
    requests: ClassVar[Mapping[str, Request]] = {
        "list_changes": request(cursor=Whole(0, 2**53), limit=LIMIT, types=Texts()),
        "find_records": request(
            {"entity": Text(32)},
            where=Match(),
            after=ID,
            offset=Whole(0, 10**9),
            limit=Whole(1, 2000),  # Salesforce's largest query batch
            order_by=Text(64),
            order=Text(4, choices=("asc", "desc")),
        ),
    }

    def __init__(
        self,
        idempotency: IdempotencyRule | None = None,
        epoch: float = 0.0,
        archive_after_s: float = ARCHIVE_AFTER_S,
    ) -> None:
        self.idempotency = idempotency or IdempotencyRule()
        self.archive_after_s = archive_after_s
        self.archived_records = 0
        self._archive_due: deque[tuple[float, str, str, int]] = deque()  # (due, entity, id, rev)
        self.epoch = epoch  # Unix time of simulated t = 0, for vendor timestamps
        self.event_schema_version = 1
        self._in_flight: set[str] = set()
        self.records: dict[str, dict[str, dict[str, Any]]] = {}
        self._counters: dict[str, int] = {}
        self._idem_store: dict[str, _StoredResponse] = {}
        self._idem_expiry: deque[tuple[float, str]] = deque()
        self._request: _Request | None = None
        self.feed: list[DomainEvent] | None = None  # kept only for systems a design polls
        self.feed_start = 0  # the feed position of `feed[0]`: older events have expired
        self._operations: dict[str, Callable[[Payload, float], Payload]] = {
            attr[3:]: getattr(self, attr) for attr in sorted(dir(self)) if attr.startswith("op_")
        }
        undeclared = sorted(set(self._operations) - set(self.requests))
        if undeclared:
            raise TypeError(f"{type(self).__name__} declares no request for {undeclared}")

    @property
    def operations(self) -> tuple[str, ...]:
        return tuple(self._operations)

    # -- the entry points ----------------------------------------------------------------

    def claim(self, operation: str, idem_key: str | None) -> BusinessError | None:
        """A request arrives: refuse it (409) if its key's first request is still in flight."""
        if idem_key is None or not self.idempotency.supported:
            return None
        if not self.idempotency.conflict_in_flight:
            return None
        scoped = f"{operation}\x1f{idem_key}"
        if scoped in self._in_flight:
            return BusinessError(
                "idempotency_key_in_use",
                f"a request with key {idem_key!r} is still being processed",
                status=409,
            )
        self._in_flight.add(scoped)
        return None

    def release(self, operation: str, idem_key: str | None) -> None:
        """The request that claimed its key has been applied or refused."""
        if idem_key is not None:
            self._in_flight.discard(f"{operation}\x1f{idem_key}")

    def handle(
        self, operation: str, payload: Payload, now: float, idem_key: str | None = None,
        fingerprint: str | None = None,
    ) -> Outcome:  # fmt: skip
        """Apply one request at simulated time `now` and return what happened. `fingerprint`
        names the request for its idempotency key when the payload cannot (a vendor wire's
        request, translated against records a lost first answer may already have changed)."""
        malformed = self.malformed(operation, payload)
        if malformed is not None:
            return self._refusal(malformed)
        if self._archive_due and self._archive_due[0][0] <= now:
            self._archive(now)
        if idem_key is not None and self.idempotency.supported:
            fingerprint = fingerprint or _fingerprint(payload)
            scoped = f"{operation}\x1f{idem_key}"
            self._forget_expired_keys(now)
            stored = self._idem_store.get(scoped)
            if stored is not None and now - stored.stored_at <= self.idempotency.retention_s:
                if stored.fingerprint != fingerprint:
                    return self._refusal(
                        BusinessError(
                            "idempotency_key_reused",
                            f"key {idem_key!r} was used with a different payload",
                            status=422,
                        )
                    )
                first = stored.outcome
                return Outcome(first.status, first.body, first.error, replayed=True)
            outcome = self._apply(operation, payload, now)
            self._idem_store[scoped] = _StoredResponse(fingerprint, outcome, now)
            self._idem_expiry.append((now + self.idempotency.retention_s, scoped))
            return outcome
        return self._apply(operation, payload, now)

    def _forget_expired_keys(self, now: float) -> None:
        """Drop keys past retention, so memory follows the retention window, not the run."""
        expiry = self._idem_expiry
        while expiry and expiry[0][0] < now:
            _, scoped = expiry.popleft()
            stored = self._idem_store.get(scoped)
            if stored is not None and stored.stored_at + self.idempotency.retention_s < now:
                del self._idem_store[scoped]

    def _archive(self, now: float) -> None:
        """Archive the records idle since their last write `archive_after_s` ago (rule 8)."""
        due = self._archive_due
        while due and due[0][0] <= now:
            _, entity, entity_id, revision = due.popleft()
            record = self.records[entity].get(entity_id)
            if record is None or record["_rev"] != revision:
                continue  # archived already, or written since: a later entry is queued
            if self.still_open(entity, record):
                due.append((now + self.archive_after_s, entity, entity_id, revision))
                continue
            del self.records[entity][entity_id]
            self.archived_records += 1
            self._forget(entity, record)

    def still_open(self, entity: str, record: Mapping[str, Any]) -> bool:
        """Whether an idle record is still in use, so archiving waits (an unpaid invoice)."""
        return False

    def _forget(self, entity: str, record: Mapping[str, Any]) -> None:
        """Drop what a system's own indexes hold of an archived record."""

    def malformed(self, operation: str, payload: Any) -> BusinessError | None:
        """Why the request cannot even be tried (an unknown operation, a field that breaks its
        declaration), or None."""
        declared = self.requests.get(operation)
        if declared is None or operation not in self._operations:
            known = ", ".join(self._operations)
            return BusinessError(
                "unknown_operation",
                f"{self.name} has no operation {operation!r} (it has: {known})",
                status=404,
            )
        problem = declared.problem(payload)
        if problem is None:
            return None
        return BusinessError("invalid_request", f"{operation}: {problem}")

    def _apply(self, operation: str, payload: Payload, now: float) -> Outcome:
        method = self._operations[operation]
        self._request = _Request(now)
        try:
            body = method(payload, now)
        except BusinessError as refused:
            return self._refusal(refused)
        except (KeyError, TypeError, ValueError, ArithmeticError) as broken:  # another name:
            # compiled, one name would be typed BusinessError from the clause above
            return self._refusal(
                BusinessError("invalid_request", f"malformed {operation} payload: {broken!r}")
            )
        else:
            request = self._request
            if self.feed is not None and request.events:
                self._extend_feed(request.events, now)
            status = 201 if any(c.change == "created" for c in request.changes) else 200
            return Outcome(status, body, None, tuple(request.changes), tuple(request.events))
        finally:
            self._request = None

    @staticmethod
    def _refusal(error: BusinessError) -> Outcome:
        return Outcome(error.status, {"code": error.code, "message": error.message}, error)

    # -- polling: what changed since a cursor ---------------------------------------------

    def keep_feed(self) -> None:
        """Keep every event this system emits for `FEED_RETENTION_S`, so clients can poll for
        changes (and replay a change stream, as Salesforce CDC keeps its events for 72 h)."""
        if self.feed is None:
            self.feed = []

    def _extend_feed(self, events: Sequence[DomainEvent], now: float) -> None:
        feed = self.feed
        assert feed is not None
        feed.extend(events)
        expired = 0
        while expired < len(feed) and feed[expired].occurred_at < now - FEED_RETENTION_S:
            expired += 1
        if expired:
            del feed[:expired]
            self.feed_start += expired

    def op_list_changes(self, payload: Payload, now: float) -> Payload:
        """Changes after `cursor`, oldest first, at most `limit` of them, of the given `types`.

        The polling API a batch integration uses (a SOQL or ZOQL query on the last-modified
        time); the answer's `cursor` is where the next poll starts.
        """
        if self.feed is None:
            raise BusinessError("not_enabled", f"{self.name} keeps no change feed", 404)
        cursor, limit = int(payload.get("cursor", 0)), int(payload.get("limit", 500))
        if cursor < 0 or limit < 1:
            raise BusinessError("invalid_request", "cursor must be >= 0 and limit >= 1")
        types = frozenset(payload.get("types", ()))
        changes, end = [], self.feed_start + len(self.feed)
        for position in range(max(cursor, self.feed_start), end):  # expired events are gone
            event = self.feed[position - self.feed_start]
            if not types or event.type in types:
                changes.append(
                    {
                        "event_id": event.event_id, "type": event.type, "payload": event.payload,
                        "occurred_at": event.occurred_at, "keys": dict(event.keys),
                        "position": position,
                    }
                )  # fmt: skip
                if len(changes) == limit:
                    end = position + 1
                    break
        # `oldest`: where the kept stream starts; a cursor behind it has missed expired events.
        return {"changes": changes, "cursor": max(end, cursor), "oldest": self.feed_start}

    # -- queries: the records of one entity, a page at a time ---------------------------

    def listing(self, entity: str) -> Mapping[str, Mapping[str, Any]] | None:
        """The records `find_records` answers for `entity`, by id (None: no such entity).
        A system adds its reference data (billing's products, the customers it was given)."""
        return self.records.get(entity, {} if entity in self.entities else None)

    #: The entities `find_records` knows even before any of their records is written.
    entities: ClassVar[frozenset[str]] = frozenset()

    def op_find_records(self, payload: Payload, now: float) -> Payload:
        """Records of `entity` whose fields (and `id`) equal `where`, ordered by id (or by
        `order_by`, ties by id), after the id `after` or from `offset`, at most `limit`."""
        entity = payload["entity"]
        table = self.listing(entity)
        if table is None:
            known = ", ".join(sorted(self.entities | set(self.records)))
            raise BusinessError("unknown_entity", f"{self.name} has no {entity!r} ({known})", 404)
        where = dict(payload.get("where") or {})
        found = [
            (record_id, record) for record_id, record in sorted(table.items())
            if all((record_id if name == "id" else record.get(name)) == value
                   for name, value in where.items())
        ]  # fmt: skip
        order_by = payload.get("order_by")
        if order_by is not None:
            found.sort(key=lambda row: (_sortable(row[1].get(order_by)), row[0]),
                       reverse=payload.get("order") == "desc")  # fmt: skip
        elif payload.get("order") == "desc":
            found.reverse()
        if payload.get("after") is not None:
            after = payload["after"]
            found = [row for row in found if (row[0] < after if payload.get("order") == "desc"
                                              else row[0] > after)]  # fmt: skip
        start, limit = int(payload.get("offset", 0)), int(payload.get("limit", 100))
        page = found[start : start + limit]
        return {
            "records": [{"id": record_id, **self.public(record)} for record_id, record in page],
            "has_more": start + limit < len(found), "total": len(found),
        }  # fmt: skip

    # -- helpers for operations ----------------------------------------------------------

    @staticmethod
    def public(record: Mapping[str, Any]) -> dict[str, Any]:
        """A record as the vendor's API shows it: without the simulator's own bookkeeping."""
        return {key: value for key, value in record.items() if not key.startswith("_")}

    def next_id(self, prefix: str) -> str:
        number = self._counters.get(prefix, 0) + 1
        self._counters[prefix] = number
        return f"{prefix}-{number:06d}"

    def table(self, entity: str) -> dict[str, dict[str, Any]]:
        return self.records.setdefault(entity, {})

    def get(self, entity: str, entity_id: str, code: str = "not_found") -> dict[str, Any]:
        record = self.records.get(entity, {}).get(entity_id)
        if record is None:
            raise BusinessError(code, f"{entity} {entity_id!r} does not exist", status=404)
        return record

    def _create(
        self,
        entity: str,
        entity_id: str,
        record: dict[str, Any],
        keys: Keys,
        effect_key: str | None = None,
        values: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        record["_rev"] = 1
        self.table(entity)[entity_id] = record
        self._record_change(entity, entity_id, "created", 1, effect_key, keys, values)
        if entity in self.archived:
            self._queue_archive(entity, entity_id, 1)
        return record

    def _queue_archive(self, entity: str, entity_id: str, revision: int) -> None:
        assert self._request is not None
        due = self._request.now + self.archive_after_s
        self._archive_due.append((due, entity, entity_id, revision))

    def _update(
        self,
        entity: str,
        entity_id: str,
        fields: Mapping[str, Any],
        keys: Keys,
        effect_key: str | None = None,
        change: Literal["updated", "reverted"] = "updated",
        values: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Update a record; `reverted` marks a compensation putting an earlier version back."""
        record = self.table(entity)[entity_id]
        record.update(fields)
        record["_rev"] += 1
        self._record_change(entity, entity_id, change, record["_rev"], effect_key, keys, values)
        if entity in self.archived:
            self._queue_archive(entity, entity_id, record["_rev"])
        return record

    def _record_change(
        self,
        entity: str,
        entity_id: str,
        change: Literal["created", "updated", "reverted"],
        version: int,
        effect_key: str | None,
        keys: Keys,
        values: Mapping[str, Any] | None = None,
    ) -> None:
        assert self._request is not None, "writes happen inside an operation"
        self._request.changes.append(
            StateChange(
                self.name, entity, entity_id, change, version, effect_key, dict(keys),
                dict(values) if values else None,
            )
        )  # fmt: skip

    def _emit(self, event_type: str, payload: Payload, keys: Keys) -> None:
        assert self._request is not None, "events are emitted inside an operation"
        now = self._request.now
        event_id = self.next_id(f"{self.name.upper()}-EVT")
        body = dict(self._envelope(event_type, event_id, payload, now))
        if self.event_schema_version >= 2:
            body = {
                "schema_version": self.event_schema_version,
                "event_id": event_id,
                "event_type": event_type,
                "event_time": self.unix_ms(now),
                "data": body,
            }
        else:
            body = {"schema_version": 1, **body}
        self._request.events.append(
            DomainEvent(event_id, event_type, self.name, now, body, dict(keys))
        )

    def _envelope(self, event_type: str, event_id: str, payload: Payload, now: float) -> Payload:
        """The vendor's own event shape around `payload` (subclasses add their headers)."""
        return payload

    def unix_ms(self, now: float) -> int:
        return round((self.epoch + now) * 1000)


def _sortable(value: Any) -> tuple[int, Any]:
    """A field's value as a sort key: nothing first, then numbers, then texts."""
    if value is None:
        return (0, 0)
    if isinstance(value, int | float):
        return (1, value)
    return (2, str(value))
