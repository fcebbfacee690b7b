"""The simulated broker: consumer groups, at-least-once delivery, redelivery, dead letters and
replay, driven through a tiny design."""

from __future__ import annotations

from collections import Counter
from collections.abc import Generator, Mapping
from pathlib import Path
from typing import Any

from harness.designs.api import Context
from harness.effects import Effect
from harness.history import EventRecord, PolicyRecord, Record, read_history
from harness.runner import run
from simulators.base import DomainEvent
from tests.harness.test_faults import quiet

Steps = Generator[Effect, Any, Any]


class Fanout:
    """Relays every approved quote to topic `quotes`; one group handles it, one never can."""

    name = "fanout"

    @property
    def subscriptions(self) -> Mapping[str, Any]:
        return {"quote.approved": self.relay}

    @property
    def consumers(self) -> Mapping[str, Mapping[str, Any]]:
        return {"happy": {"quotes": self.handle}, "grumpy": {"quotes": self.refuse}}

    def relay(self, ctx: Context, event: DomainEvent) -> Steps:
        yield ctx.publish("quotes", event.event_id, {}, event.keys)

    def handle(self, ctx: Context, message: DomainEvent) -> Steps:
        yield ctx.sleep(1.0)

    def refuse(self, ctx: Context, message: DomainEvent) -> Steps:
        yield ctx.sleep(1.0)
        return False  # never acknowledged


def broker_events(
    tmp_path: Path, **overrides: Any
) -> tuple[list[Record], Counter[tuple[str, str]]]:
    scenario = quiet(**overrides)
    result = run(scenario, Fanout, 5, tmp_path)
    records = list(read_history(result.run_dir / "history.jsonl"))
    counts: Counter[tuple[str, str]] = Counter(
        (r.system, r.type) for r in records if isinstance(r, EventRecord)
    )
    return records, counts


def test_each_group_gets_every_message_and_refusals_end_in_the_dead_letters(
    tmp_path: Path,
) -> None:
    records, counts = broker_events(
        tmp_path, broker={"max_deliveries": 3, "redeliver_after": "10s"}, operations={}
    )
    published = counts[("orchestrator", "published")]
    assert published > 10
    assert counts[("broker/happy", "delivered")] == published
    assert counts[("broker/grumpy", "delivered")] == 3 * published  # redelivered, then given up
    assert counts[("broker/grumpy", "dead_lettered")] == published
    assert counts[("broker/happy", "dead_lettered")] == 0
    replays = [r for r in records if isinstance(r, PolicyRecord) and r.policy == "operations"]
    assert not replays  # no dead_letters rule in this scenario: nobody replays


def test_duplicates_and_operations_replaying_dead_letters(tmp_path: Path) -> None:
    hours = {"days": "mon-sun", "start": "00:00", "end": "23:59", "tz": "UTC"}
    records, counts = broker_events(
        tmp_path,
        broker={"duplicate_probability": 1.0, "max_deliveries": 2, "redeliver_after": "10s"},
        operations={"business_hours": hours, "dead_letters": {"replay_after": "1h"}},
    )
    published = counts[("orchestrator", "published")]
    assert counts[("broker/happy", "delivered")] == 2 * published  # every one delivered twice
    replays = Counter(
        r.event for r in records if isinstance(r, PolicyRecord) and r.policy == "operations"
    )
    assert replays["broker.replay:grumpy"] > published  # replayed, dead again, replayed again
    assert counts[("broker/grumpy", "delivered")] > 2 * published
