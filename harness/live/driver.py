"""The live driver: a design's effects interpreted with asyncio and HTTP.

The same handlers as in a simulated run, over the real network: `Call` is an HTTP request to
the system's service through the one client factory, `Sleep` waits on the scaled clock,
`Load`/`Store`/`Scan` read and write the SQLite journal, `Status` and `Note` go to the
orchestrator's history. A thin layer, as SimPy's `rt.py` is over its engine.

How an HTTP answer becomes a `Reply`:
- 2xx: the body;
- 401, 403 and other 4xx: a business error (409 in flight and 429 are transient);
- 429 and 5xx but 504: transient, with `Retry-After` (scenario seconds) when given;
- 504, a timeout or a dropped connection: ambiguous — the request may have been applied.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from harness.designs import Context, Design
from harness.effects import (
    Acquire,
    Call,
    CallError,
    ErrorKind,
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
from harness.live.journal import Journal
from simulators.base import DomainEvent
from simulators.http import Clock, Record


def reply_from(answer: httpx.Response) -> Reply:
    status = answer.status_code
    try:
        body = answer.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    if 200 <= status < 300:
        return Reply(body)
    found = body.get("error")
    error: dict[str, Any] = found if isinstance(found, dict) else {}
    code = str(error.get("code") or status)
    message = str(error.get("message") or f"answered {status}")
    if status == 504:
        return Reply(body, CallError("ambiguous", "timeout", message, None, status))
    if status in (409, 429) or status >= 500:
        retry_after = _seconds(answer.headers.get("Retry-After"))
        return Reply(body, CallError("transient", code, message, retry_after, status))
    return Reply(body, CallError("business", code, message, None, status))


def _seconds(header: str | None) -> float | None:
    try:
        return float(header) if header is not None else None
    except ValueError:
        return None


class LiveDriver:
    """Runs a design's handlers for delivered events, against the systems' HTTP services."""

    def __init__(
        self,
        design: Design,
        clients: Mapping[str, httpx.AsyncClient],
        journal: Journal,
        clock: Clock,
        record: Callable[[Record], None],
        context: Context,
    ) -> None:
        self.design, self.clients, self.journal = design, clients, journal
        self.clock, self.record, self.context = clock, record, context
        self._locks: dict[str, asyncio.Lock] = {}
        self.tasks: set[asyncio.Task[None]] = set()
        self.daemons: set[asyncio.Task[None]] = set()

    def spawn(
        self, event: DomainEvent, steps: Any = None, daemon: bool = False
    ) -> asyncio.Task[None]:
        """Interpret a handler (or forked steps) as a task: work in flight (`tasks`), or a
        daemon that runs for the orchestrator's life (`daemons`)."""
        task = asyncio.get_running_loop().create_task(self.handle(event, steps))
        running = self.daemons if daemon else self.tasks
        running.add(task)
        task.add_done_callback(running.discard)
        return task

    async def handle(self, event: DomainEvent, steps: Any = None) -> None:
        """Interpret one handler to its end; a design fault is recorded as `crashed`."""
        held: list[str] = []
        try:
            if steps is None:
                handler = self.design.subscriptions.get(event.type)
                if handler is None:
                    return
                steps = handler(self.context, event)
            result: Any = None
            while True:
                try:
                    effect = steps.send(result)
                except StopIteration:
                    return
                result = await self._enact(effect, event, held)
        except Exception as error:  # design code raised: record it, keep serving
            self._workflow(f"handler:{event.event_id}", "crashed", dict(event.keys),
                           f"{type(error).__name__}: {error}")  # fmt: skip
        finally:
            for key in held:
                self._locks[key].release()

    async def _enact(self, effect: Any, event: DomainEvent, held: list[str]) -> Any:
        if isinstance(effect, Call):
            return await self._call(effect, event.event_id)
        if isinstance(effect, Sleep):
            await self.clock.sleep(effect.seconds)
            return None
        if isinstance(effect, Now):
            return self.clock.now()
        if isinstance(effect, Load):
            return self.journal.load(effect.table, effect.key)
        if isinstance(effect, Store):
            self.journal.store(effect.table, effect.key, effect.value)
            return None
        if isinstance(effect, Scan):
            return self.journal.scan(effect.table)
        if isinstance(effect, Status):
            self._workflow(effect.workflow, effect.status, dict(effect.keys), effect.reason)
            return None
        if isinstance(effect, Note):
            record: Record = {"kind": "policy", "t": self._t(), "policy": effect.policy,
                              "subject": effect.subject, "event": effect.event}  # fmt: skip
            if effect.details:
                record["details"] = dict(effect.details)
            self.record(record)
            return None
        if isinstance(effect, Acquire):
            lock = self._locks.setdefault(effect.key, asyncio.Lock())
            await lock.acquire()
            held.append(effect.key)
            return None
        if isinstance(effect, Release):
            if effect.key in held:
                held.remove(effect.key)
                self._locks[effect.key].release()
            return None
        if isinstance(effect, Fork):
            forked = DomainEvent(effect.trace, event.type, event.system, self.clock.now(), {},
                                 event.keys)  # fmt: skip
            self.spawn(forked, effect.steps, effect.daemon)
            return None
        if isinstance(effect, Publish):
            return self._publish(effect)
        raise TypeError(f"yielded {effect!r}, which is not an effect")

    async def _call(self, call: Call, trace: str) -> Reply:
        client = self.clients.get(call.system)
        if client is None:
            raise LookupError(f"called unknown system {call.system!r}")
        headers = {"X-Syncline-Attempt": str(call.attempt), "X-Syncline-Trace": trace}
        if call.idem_key is not None:
            headers["Idempotency-Key"] = call.idem_key
        try:
            answer = await client.post(f"/v1/{call.operation}", json=dict(call.payload),
                                       headers=headers)  # fmt: skip
        except httpx.TimeoutException:
            return Reply({}, CallError("ambiguous", "timeout", f"no answer from {call.system}"))
        except httpx.TransportError as error:
            # Refused before it was sent is safe to retry; anything later may have been applied.
            kind: ErrorKind = "transient" if isinstance(error, httpx.ConnectError) else "ambiguous"
            return Reply({}, CallError(kind, "unreachable", f"{call.system}: {error}"))
        return reply_from(answer)

    def _publish(self, message: Publish) -> Reply:
        """The live broker is the history itself: a message is published once recorded."""
        record: Record = {
            "kind": "event", "t": self._t(), "type": "published", "event_id": message.message_id,
            "event_type": message.topic, "system": "orchestrator", "keys": dict(message.keys),
            "delivery": 1,
        }  # fmt: skip
        self.record(record)
        return Reply({"message_id": message.message_id, "published": 1})

    def _workflow(
        self, workflow: str, status: str, keys: dict[str, Any], reason: str | None
    ) -> None:
        record: Record = {"kind": "workflow", "t": self._t(), "workflow": workflow,
                          "status": status, "keys": keys}  # fmt: skip
        if reason is not None:
            record["reason"] = reason
        self.record(record)

    def _t(self) -> float:
        return round(self.clock.now(), 6)

    async def stop(self) -> None:
        running = [*self.tasks, *self.daemons]
        for task in running:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*running, return_exceptions=True)
