"""The simulated message broker designs publish to.

A published message is acknowledged after the broker's latency and recorded in the history as
a `published` event (its `delivery` field counts how often that message id was published, so a
re-send after a crash shows as 2). Subscribers of the design under test receive it like any
other event, at least once; they de-duplicate on the message id.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import simpy

from harness.effects import Publish, Reply
from harness.history import EventRecord, Sink
from simulators.base import DomainEvent

#: Seconds from publish to the broker's acknowledgement.
ACK_LATENCY_S = 0.005


class Broker:
    def __init__(
        self,
        env: simpy.Environment,
        record: Sink,
        subscribed: Callable[[str], bool],
        deliver: Callable[[DomainEvent], None],
        publisher: str,
    ) -> None:
        self.env, self.record = env, record
        self.subscribed, self.deliver, self.publisher = subscribed, deliver, publisher
        self._published: dict[str, int] = {}  # message id -> times published

    def publish(self, message: Publish) -> Generator[simpy.Event, Any, Reply]:
        yield self.env.timeout(ACK_LATENCY_S)
        count = self._published[message.message_id] = self._published.get(message.message_id, 0) + 1
        now = self.env.now
        self.record(
            EventRecord(
                now, "published", message.message_id, message.topic, self.publisher,
                message.keys, count,
            )
        )  # fmt: skip
        if self.subscribed(message.topic):
            event = DomainEvent(
                message.message_id, message.topic, "broker", now, message.payload, message.keys
            )
            self.record(
                EventRecord(now, "delivered", event.event_id, event.type, "broker", event.keys, 1)
            )
            self.deliver(event)
        return Reply({"message_id": message.message_id, "published": count})
