"""The live broker: Redis Streams, with the simulated broker's semantics (harness.sim.broker).

Rules:
1. Each topic is a stream (`<ns>:topic:<topic>`); each of the design's consumer groups is a
   Redis consumer group on the streams of its topics, created from the stream's start, so what
   was published while the orchestrator was down is consumed when it is back. A published
   message is a `published` event record; `delivery` counts how often its id was published.
2. A delivery is acknowledged (XACK) when its handler ends normally. A handler that fails, or an
   orchestrator killed mid-handler, leaves it pending; after `redeliver_after` (scenario time)
   it is claimed again (XCLAIM) and redelivered, up to `max_deliveries`; then it goes to the
   group's dead letters (a hash `<ns>:dead:<group>`, which survives a crash), where operations
   can replay it: it is re-sent on the group's own stream `<ns>:replay:<group>`.
3. The scenario's broker faults hold too: with `duplicate_probability` an acknowledgement is
   lost (the message comes back once more); with `reorder_probability` a delivery is held back
   by `reorder_delay`. Draws come from the run's `broker.delivery` stream.
Every delivery is an `event` record with `system` = `broker/<group>`, as simulated.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError, ResponseError

from harness.effects import CallError, Publish, Reply
from harness.history import EventRecord, Record
from harness.scenario.integration import BrokerSpec
from simulators.base import DomainEvent
from simulators.http import Clock

#: Starts a consumer's handler for a delivery; True when it ended normally (acknowledge).
Consume = Callable[[str, DomainEvent], Awaitable[bool]]
CONSUMER = "orchestrator"


class BrokerUnavailable(Exception):
    """The broker does not answer."""


class RedisBroker:
    def __init__(
        self,
        url: str,
        namespace: str,
        spec: BrokerSpec,
        clock: Clock,
        record: Callable[[Record], None],
        rng: random.Random,
        time_scale: float,
    ) -> None:
        self.url, self.ns, self.spec, self.clock, self.record = url, namespace, spec, clock, record
        self.rng, self.time_scale = rng, time_scale
        # redis-py's stubs type replies as unions of every shape a command can return.
        self.redis: Any = aioredis.from_url(url, decode_responses=True)
        self._reorder = spec.reorder_model()
        self._groups: dict[str, list[str]] = {}  # group -> its streams
        self._handling: set[tuple[str, str]] = set()  # (stream, entry id) in a handler now
        self._tasks: set[asyncio.Task[None]] = set()
        self.consume: Consume | None = None

    async def connect(self) -> None:
        try:
            await self.redis.ping()
        except (RedisError, OSError) as error:
            raise BrokerUnavailable(f"the broker at {self.url} does not answer ({error})") from None

    def stream(self, topic: str) -> str:
        return f"{self.ns}:topic:{topic}"

    async def subscribe(self, consumers: Mapping[str, Iterable[str]]) -> None:
        """Create the design's consumer groups (group -> topics), from each stream's start."""
        for group, topics in consumers.items():
            streams = [self.stream(topic) for topic in topics] + [f"{self.ns}:replay:{group}"]
            self._groups[group] = streams
            for stream in streams:
                with contextlib.suppress(ResponseError):  # BUSYGROUP: it exists (a restart)
                    await self.redis.xgroup_create(stream, group, id="0", mkstream=True)

    # -- publishing ------------------------------------------------------------------------

    async def publish(self, message: Publish) -> Reply:
        fields = {
            "message_id": message.message_id, "topic": message.topic,
            "payload": json.dumps(dict(message.payload)), "keys": json.dumps(dict(message.keys)),
            "occurred_at": repr(self.clock.now()),
        }  # fmt: skip
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.hincrby(f"{self.ns}:published", message.message_id, 1)
                pipe.xadd(self.stream(message.topic), fields)
                count, _ = await pipe.execute()
        except (RedisError, OSError) as error:
            return Reply({}, CallError("transient", "broker_unavailable", str(error)))
        topic, message_id, keys = message.topic, message.message_id, dict(message.keys)
        now = self.clock.now()
        self.record(EventRecord(now, "published", message_id, topic, "orchestrator", keys,
                                int(count)))  # fmt: skip
        return Reply({"message_id": message.message_id, "published": int(count)})

    # -- consuming -------------------------------------------------------------------------

    async def run(self) -> None:
        """Deliver to every group until cancelled: new messages, and pending ones again."""
        loops = [self._read(group) for group in self._groups]
        loops += [self._reclaim(group) for group in self._groups]
        try:
            await asyncio.gather(*loops)
        finally:
            for task in self._tasks:
                task.cancel()

    async def _read(self, group: str) -> None:
        streams = dict.fromkeys(self._groups[group], ">")
        while True:
            try:
                found = await self.redis.xreadgroup(group, CONSUMER, streams, count=100, block=1000)
            except (RedisError, OSError):
                await asyncio.sleep(1.0)  # the broker is away: look again
                continue
            for stream, entries in found or ():
                for entry_id, fields in entries:
                    self._deliver(group, stream, entry_id, fields, 1)

    async def _reclaim(self, group: str) -> None:
        """Pending deliveries idle past `redeliver_after`: again, or dead-lettered."""
        idle_ms = max(int(self.spec.redeliver_after / self.time_scale * 1000), 1)
        while True:
            await asyncio.sleep(max(idle_ms / 4000, 0.05))
            for stream in self._groups[group]:
                try:
                    pending = await self.redis.xpending_range(
                        stream, group, min="-", max="+", count=100, idle=idle_ms
                    )
                except (RedisError, OSError):
                    continue
                for entry in pending:
                    entry_id = str(entry["message_id"])
                    if (stream, entry_id) in self._handling:
                        continue  # its handler is still running
                    claimed = await self.redis.xclaim(stream, group, CONSUMER, idle_ms, [entry_id])
                    for claimed_id, fields in claimed:
                        if fields is None:
                            continue  # trimmed
                        times = int(entry["times_delivered"]) + 1
                        await self._again(group, stream, claimed_id, fields, times)

    async def _again(
        self, group: str, stream: str, entry_id: str, fields: dict[str, str], times: int
    ) -> None:
        if times > self.spec.max_deliveries:
            event = _event(fields)
            await self.redis.hset(f"{self.ns}:dead:{group}", event.event_id, json.dumps(fields))
            await self.redis.xack(stream, group, entry_id)
            self._event("dead_lettered", group, event, times - 1)
            return
        self._deliver(group, stream, entry_id, fields, times)

    def _deliver(
        self, group: str, stream: str, entry_id: str, fields: dict[str, str], times: int
    ) -> None:
        self._handling.add((stream, entry_id))
        task = asyncio.get_running_loop().create_task(
            self._handle(group, stream, entry_id, fields, times)
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _handle(
        self, group: str, stream: str, entry_id: str, fields: dict[str, str], times: int
    ) -> None:
        try:
            rng, spec = self.rng, self.spec
            if times == 1 and rng.random() < spec.reorder_probability:
                await self.clock.sleep(self._reorder.sample(rng))  # held back: reordered
            ack_lost = times == 1 and rng.random() < spec.duplicate_probability
            event = _event(fields)
            self._event("delivered", group, event, times)
            assert self.consume is not None
            if await self.consume(group, event) and not ack_lost:
                await self.redis.xack(stream, group, entry_id)
        except (RedisError, OSError):
            pass  # not acknowledged: it comes back
        finally:
            self._handling.discard((stream, entry_id))

    async def replay(self, group: str, message_id: str) -> bool:
        """Operations send a dead letter to its group again; False if there is no such one."""
        key = f"{self.ns}:dead:{group}"
        found = await self.redis.hget(key, message_id)
        if found is None or not await self.redis.hdel(key, message_id):
            return False
        await self.redis.xadd(f"{self.ns}:replay:{group}", json.loads(found))
        return True

    async def dead_letters(self) -> list[tuple[str, DomainEvent]]:
        """(group, message) of every dead letter, in group and message order."""
        found = []
        for group in sorted(self._groups):
            held = await self.redis.hgetall(f"{self.ns}:dead:{group}")
            found += [(group, _event(json.loads(held[key]))) for key in sorted(held)]
        return found

    def _event(self, kind: str, group: str, event: DomainEvent, number: int) -> None:
        now, keys = self.clock.now(), dict(event.keys)
        self.record(EventRecord(now, kind, event.event_id, event.type, f"broker/{group}", keys,
                                number))  # fmt: skip

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await self.redis.aclose()


def _event(fields: Mapping[str, str]) -> DomainEvent:
    keys: dict[str, Any] = json.loads(fields.get("keys", "{}"))
    payload: dict[str, Any] = json.loads(fields.get("payload", "{}"))
    occurred_at = float(fields.get("occurred_at", "0"))
    return DomainEvent(fields["message_id"], fields["topic"], "broker", occurred_at, payload, keys)
