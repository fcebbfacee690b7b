"""The live broker on a real redis-server: at-least-once delivery with the simulated broker's
rules — acknowledged on a normal end, redelivered after `redeliver_after`, dead-lettered after
`max_deliveries`, replayed by operations — and kept across an orchestrator's restart."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.effects import Publish
from harness.history import EventRecord, Record
from harness.live.broker import RedisBroker
from harness.live.redis_server import RedisServer
from harness.live.serve import RealClock
from harness.scenario.integration import BrokerSpec
from simulators.base import DomainEvent
from tests.live.test_end_to_end import free_base_port

TIME_SCALE = 600.0  # redeliver_after 30 s of scenario time: 50 ms


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    assert RedisServer.available(), "redis-server is not installed: run `make redis`"
    server = RedisServer("127.0.0.1", free_base_port(1), tmp_path / "redis.log")
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


def broker(url: str, records: list[Record], **spec: float) -> RedisBroker:
    made = RedisBroker(url, "test", BrokerSpec(**spec), RealClock(TIME_SCALE), records.append,
                       random.Random(1), TIME_SCALE)  # fmt: skip
    return made


def kinds(records: list[Record], message: str) -> list[tuple[str, int]]:
    return [(r.type, r.delivery) for r in records
            if isinstance(r, EventRecord) and r.event_id == message]  # fmt: skip


def test_a_failing_consumer_gets_it_again_until_it_succeeds(redis_url: str) -> None:
    async def scenario() -> list[Record]:
        records: list[Record] = []
        live = broker(redis_url, records)
        attempts: list[int] = []

        async def consume(group: str, event: DomainEvent) -> bool:
            attempts.append(1)
            return len(attempts) >= 3  # fails twice, then handles it

        live.consume = consume
        await live.subscribe({"adapter": ["order.booked"]})
        running = asyncio.create_task(live.run())
        await live.publish(Publish("order.booked", "MSG-1", {"quote": "Q-1"}, {"quote": "Q-1"}))
        for _ in range(200):
            if len(attempts) >= 3:
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.3)  # acknowledged: no fourth delivery comes
        running.cancel()
        await live.close()
        return records

    records = asyncio.run(scenario())
    assert kinds(records, "MSG-1") == [
        ("published", 1),
        ("delivered", 1),
        ("delivered", 2),
        ("delivered", 3),
    ]


def test_a_poison_message_is_dead_lettered_and_operations_replay_it(redis_url: str) -> None:
    async def scenario() -> tuple[list[Record], list[str], bool]:
        records: list[Record] = []
        live = broker(redis_url, records, max_deliveries=3)
        healed = asyncio.Event()

        async def consume(group: str, event: DomainEvent) -> bool:
            return healed.is_set()

        live.consume = consume
        await live.subscribe({"adapter": ["order.booked"]})
        running = asyncio.create_task(live.run())
        await live.publish(Publish("order.booked", "MSG-2", {}, {"quote": "Q-2"}))
        for _ in range(200):
            if await live.dead_letters():
                break
            await asyncio.sleep(0.02)
        dead = [f"{group}:{event.event_id}" for group, event in await live.dead_letters()]
        healed.set()  # operations fixed the cause
        replayed = await live.replay("adapter", "MSG-2")
        await asyncio.sleep(0.3)
        running.cancel()
        await live.close()
        return records, dead, replayed

    records, dead, replayed = asyncio.run(scenario())
    assert dead == ["adapter:MSG-2"] and replayed
    assert kinds(records, "MSG-2") == [
        ("published", 1), ("delivered", 1), ("delivered", 2), ("delivered", 3),
        ("dead_lettered", 3), ("delivered", 1),
    ]  # fmt: skip


def test_what_a_killed_consumer_left_unacknowledged_comes_back_after_restart(
    redis_url: str,
) -> None:
    async def scenario() -> list[Record]:
        records: list[Record] = []
        first = broker(redis_url, records)
        started = asyncio.Event()

        async def never_ends(group: str, event: DomainEvent) -> bool:
            started.set()
            await asyncio.sleep(3600)
            return True

        first.consume = never_ends
        await first.subscribe({"adapter": ["order.booked"]})
        running = asyncio.create_task(first.run())
        await first.publish(Publish("order.booked", "MSG-3", {}, {"quote": "Q-3"}))
        await started.wait()
        running.cancel()  # the orchestrator dies mid-handler: no acknowledgement
        await first.close()
        second = broker(redis_url, records)
        handled = asyncio.Event()

        async def handles(group: str, event: DomainEvent) -> bool:
            handled.set()
            return True

        second.consume = handles
        await second.subscribe({"adapter": ["order.booked"]})
        running = asyncio.create_task(second.run())
        await asyncio.wait_for(handled.wait(), 5)
        running.cancel()
        await second.close()
        return records

    records = asyncio.run(scenario())
    assert kinds(records, "MSG-3") == [("published", 1), ("delivered", 1), ("delivered", 2)]
