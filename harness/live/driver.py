"""The live driver: a design's effects interpreted with asyncio and HTTP.

The same handlers as in a simulated run, through the same interpreter (harness.interpreter),
over the real network: `Call` is an HTTP request to the system's service through the one client
factory, `Sleep` waits on the scaled clock, `Load`/`Store`/`Scan` read and write the SQLite
journal, `Status` and `Note` are typed history records. A thin layer, as SimPy's `rt.py` is
over its engine.

How an HTTP answer becomes a `Reply`:
- 2xx: the body;
- 401, 403 and other 4xx: a business error (409 in flight and 429 are transient);
- 429 and 5xx but 504: transient, with `Retry-After` (scenario seconds) when given;
- 504, a timeout or a dropped connection: ambiguous — the request may have been applied.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Container, Mapping
from typing import Any

import httpx

from harness.designs import Context, Design
from harness.effects import Acquire, Call, CallError, ErrorKind, Note, Publish, Reply, Sleep
from harness.history import EventRecord, Record
from harness.interpreter import HandlerRun, Steps
from harness.live.broker import RedisBroker
from harness.live.client import CONNECTIONS
from harness.live.journal import Journal
from simulators.base import DomainEvent
from simulators.http import Clock


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
    """Runs a design's handlers for delivered events, against the systems' HTTP services: the
    asyncio driver of the one effect interpreter (harness.interpreter)."""

    def __init__(
        self,
        design: Design,
        clients: Mapping[str, httpx.AsyncClient],
        journal: Journal,
        clock: Clock,
        record: Callable[[Record], None],
        context: Context,
        broker: RedisBroker | None = None,
    ) -> None:
        self.design, self.clients, self.journal = design, clients, journal
        self.systems: Container[str] = clients
        self.clock, self.record, self.context = clock, record, context
        self.broker = broker
        self._slots = {name: asyncio.Semaphore(CONNECTIONS) for name in clients}
        if broker is not None:
            broker.consume = self.consume
        self._locks: dict[str, asyncio.Lock] = {}
        self.tasks: set[asyncio.Task[Any]] = set()
        self.daemons: set[asyncio.Task[None]] = set()

    def spawn(
        self, event: DomainEvent, steps: Steps | None = None, daemon: bool = False
    ) -> asyncio.Task[None]:
        """Interpret a handler (or forked steps) as a task: work in flight (`tasks`), or a
        daemon that runs for the orchestrator's life (`daemons`)."""
        task = asyncio.get_running_loop().create_task(self.handle(event, steps))
        running = self.daemons if daemon else self.tasks
        running.add(task)
        task.add_done_callback(running.discard)
        return task

    async def handle(self, event: DomainEvent, steps: Steps | None = None) -> None:
        """Interpret one handler to its end; a design fault is recorded as `crashed`."""
        if steps is None:
            handler = self.design.subscriptions.get(event.type)
            if handler is None:
                return
            run = HandlerRun(self, event, lambda: handler(self.context, event))
        else:
            forked = steps
            run = HandlerRun(self, event, lambda: forked)
        await self._run(run)

    async def consume(self, group: str, event: DomainEvent) -> bool:
        """A broker delivery to one of the design's consumer groups: True to acknowledge."""
        handler = getattr(self.design, "consumers", {}).get(group, {}).get(event.type)
        if handler is None:  # the design does not consume it
            return True
        run = HandlerRun(self, event, lambda: handler(self.context, event))
        task = asyncio.get_running_loop().create_task(self._run(run))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return await task

    async def _run(self, run: HandlerRun) -> bool:
        """Wait on each effect the interpreter hands over; True if the handler ended normally."""
        waits, event = run.run(), run.event
        try:
            result: Any = None
            while True:
                try:
                    effect = waits.send(result)
                except StopIteration:
                    return run.ended_normally
                result = await self._wait(effect, event.event_id)
        except asyncio.CancelledError:  # the orchestrator stops: its memory goes with it
            waits.close()
            raise
        except Exception as error:  # the driver's own failure: recorded, the service goes on
            waits.close()
            run.crashed(f"{type(error).__name__}: {error}")
            return False
        finally:
            run.release_all()

    async def _wait(self, effect: Any, trace: str) -> Any:
        if isinstance(effect, Call):
            return await self._call(effect, trace)
        if isinstance(effect, Sleep):
            await self.clock.sleep(effect.seconds)
            return None
        if isinstance(effect, Acquire):
            lock = self._locks.setdefault(effect.key, asyncio.Lock())
            await lock.acquire()
            return None
        if self.broker is not None:
            return await self.broker.publish(effect)
        return self._publish(effect)

    # -- the interpreter's primitives ----------------------------------------------------------

    def now(self) -> float:
        return self.clock.now()

    def noticed(self, note: Note) -> None:
        """Live, operators read the orchestrator's `/exceptions`; nothing to tell in-process."""

    def fork(self, event: DomainEvent, steps: Steps, daemon: bool) -> None:
        self.spawn(event, steps, daemon)

    def release(self, key: str, token: Any) -> None:
        self._locks[key].release()

    # -- waiting -------------------------------------------------------------------------------

    async def _call(self, call: Call, trace: str) -> Reply:
        client = self.clients[call.system]
        headers = {"X-Syncline-Attempt": str(call.attempt), "X-Syncline-Trace": trace}
        if call.idem_key is not None:
            headers["Idempotency-Key"] = call.idem_key
        try:
            async with self._slots[call.system]:  # see CONNECTIONS
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
        """With no broker (a design that consumes nothing), a message is published once
        recorded."""
        keys = dict(message.keys)
        topic, message_id = message.topic, message.message_id
        self.record(EventRecord(self.clock.now(), "published", message_id, topic, "orchestrator",
                                keys, 1))  # fmt: skip
        return Reply({"message_id": message.message_id, "published": 1})

    async def stop(self) -> None:
        running = [*self.tasks, *self.daemons]
        for task in running:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*running, return_exceptions=True)
