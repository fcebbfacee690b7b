"""The simulated message broker designs publish to and consume from.

Topics and consumer groups, as in Kafka or SNS+SQS: a design declares `consumers`, a mapping
of group -> topic -> handler; every group subscribed to a topic gets each message published on
it. Delivery is at least once:
1. A published message is acknowledged to the publisher after the broker's latency and recorded
   as a `published` event; `delivery` counts how often that message id was published, so a
   re-send after a crash shows as 2.
2. Each group receives it after the broker's latency, sometimes held back (reordering), and
   sometimes twice (an acknowledgement lost), while the consumers are up (not during an
   orchestrator crash).
3. A delivery is acknowledged when its handler ends normally. A handler that fails or is
   interrupted leaves it unacknowledged: it comes back after `redeliver_after`, up to
   `max_deliveries`, then goes to the group's dead letters (`dead_lettered`), where operations
   can replay it.
Every delivery is an `event` record with `system` = `broker/<group>`. Draws come from the run's
`broker.*` streams.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Mapping
from typing import Any

import simpy

from harness.digests import Digests
from harness.effects import Publish, Reply
from harness.history import EventRecord, Sink
from harness.scenario.integration import BrokerSpec
from simulators.base import DomainEvent

#: How often a held delivery looks for its consumers again while they are down.
RECONNECT_S = 30.0

#: Starts a consumer's handler; the event given is set to True (acknowledged) or False.
Consume = Callable[[str, DomainEvent, simpy.Event], None]
Streams = Callable[[str], Any]


class Broker:
    def __init__(
        self,
        env: simpy.Environment,
        spec: BrokerSpec,
        streams: Streams,
        record: Sink,
        consume: Consume,
        consumers_up: Callable[[], bool],
        publisher: str,
    ) -> None:
        self.env, self.spec, self.record = env, spec, record
        self.consume, self.consumers_up, self.publisher = consume, consumers_up, publisher
        self._latency, self._reorder = spec.latency_model(), spec.reorder_model()
        self._rng = streams("broker.delivery")
        self._groups: dict[str, tuple[str, ...]] = {}  # topic -> groups, in declared order
        self._published = Digests()  # message id -> times published (up to 255)
        self.dead_letters: dict[tuple[str, str], DomainEvent] = {}  # (group, message id)
        self.on_dead_letter: Callable[[str, DomainEvent], None] | None = None

    def subscribe(self, consumers: Mapping[str, Iterable[str]]) -> None:
        """Declare the consumer groups (group -> topics) of the design under test."""
        groups: dict[str, list[str]] = {}
        for group, topics in consumers.items():
            for topic in topics:
                groups.setdefault(topic, []).append(group)
        self._groups = {topic: tuple(names) for topic, names in groups.items()}

    def publish(self, message: Publish) -> Generator[simpy.Event, Any, Reply]:
        yield self.env.timeout(self._latency.sample(self._rng))
        count = min((self._published.get(message.message_id) or 0) + 1, 255)
        self._published.set(message.message_id, count)
        self.record(
            EventRecord(
                self.env.now, "published", message.message_id, message.topic, self.publisher,
                message.keys, count,
            )
        )  # fmt: skip
        event = DomainEvent(
            message.message_id, message.topic, "broker", self.env.now, message.payload,
            message.keys,
        )  # fmt: skip
        for group in self._groups.get(message.topic, ()):
            self.env.process(self._deliver(group, event))
        return Reply({"message_id": message.message_id, "published": count})

    def replay(self, group: str, message_id: str) -> bool:
        """Operations send a dead letter to its group again; False if there is no such one."""
        event = self.dead_letters.pop((group, message_id), None)
        if event is None:
            return False
        self.env.process(self._deliver(group, event))
        return True

    def _deliver(self, group: str, event: DomainEvent) -> Generator[simpy.Event, Any, None]:
        rng, spec = self._rng, self.spec
        delay = self._latency.sample(rng)
        if rng.random() < spec.reorder_probability:
            delay += self._reorder.sample(rng)
        duplicate = rng.random() < spec.duplicate_probability
        yield self.env.timeout(delay)
        deliveries = 0
        while True:
            while not self.consumers_up():
                yield self.env.timeout(RECONNECT_S)
            deliveries += 1
            self._event("delivered", group, event, deliveries)
            acknowledged = self.env.event()
            self.consume(group, event, acknowledged)
            if (yield acknowledged):
                if not duplicate or deliveries > 1:
                    return
                yield self.env.timeout(spec.redeliver_after)  # the acknowledgement was lost
                continue
            if deliveries >= spec.max_deliveries:
                self._event("dead_lettered", group, event, deliveries)
                self.dead_letters[(group, event.event_id)] = event
                if self.on_dead_letter is not None:
                    self.on_dead_letter(group, event)
                return
            yield self.env.timeout(spec.redeliver_after)

    def _event(self, kind: str, group: str, event: DomainEvent, number: int) -> None:
        self.record(
            EventRecord(
                self.env.now, kind, event.event_id, event.type, f"broker/{group}", event.keys,
                number,
            )
        )  # fmt: skip
