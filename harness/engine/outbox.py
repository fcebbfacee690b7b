"""The transactional outbox: what the orchestrator publishes survives a crash, and goes out.

Rules:
1. A message is staged in the journal (table `outbox`, keyed by its message id) by the same
   step that writes the state change it announces, with no blocking effect in between, so a
   crash keeps both or neither (in live mode: one SQLite transaction).
2. The relay publishes a staged message and deletes it only once the broker has acknowledged
   it. A crash between the acknowledgement and the delete sends it again with the same id:
   delivery is at least once, and consumers de-duplicate on the message id.
3. The broker being down never loses a message: the relay retries on its policy, which by
   default never gives up, since the message is safe in the journal meanwhile.
4. After a restart, `relay_all` sends everything still staged, oldest first.
Every step is noted in the history: staged, published (with the attempt), republished.
"""

from __future__ import annotations

import random
from collections.abc import Generator, Mapping
from typing import Any

from mypy_extensions import mypyc_attr

from harness.effects import Effect, Load, Note, Now, Publish, Reply, Scan, Sleep, Store
from harness.engine.retry import RetryPolicy, retry

TABLE = "outbox"
Steps = Generator[Effect, Any, None]


@mypyc_attr(allow_interpreted_subclasses=True)  # designs extend it (simulators/compiled.py)
class Outbox:
    __slots__ = ("policy",)

    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy

    def stage(
        self,
        topic: str,
        message_id: str,
        payload: Mapping[str, Any],
        keys: Mapping[str, str | int],
    ) -> Steps:
        """Journal a message; do this in the step that commits what it announces."""
        staged_at = yield Now()
        message = {
            "topic": topic, "payload": dict(payload), "keys": dict(keys), "staged_at": staged_at,
        }  # fmt: skip
        yield Store(TABLE, message_id, message)
        yield Note("outbox", message_id, "staged", {"topic": topic})

    def relay(self, message_id: str, rng: random.Random) -> Generator[Effect, Any, Reply | None]:
        """Publish one staged message until the broker takes it, then forget it."""
        message = yield Load(TABLE, message_id)
        if message is None:  # already relayed (by a resumed relay, say)
            return None
        topic, payload, keys = message["topic"], message["payload"], message["keys"]
        attempt = 1
        while True:
            reply: Reply = yield Publish(topic, message_id, payload, keys, attempt)
            if reply.error is None or not self.policy.retries(reply.error, attempt):
                break
            yield Sleep(self.policy.delay(attempt, reply.error, rng))
            attempt += 1
        if reply.error is None:
            yield Store(TABLE, message_id, None)
            yield Note("outbox", message_id, "published", {"attempts": attempt})
        else:  # a policy with an attempt limit gave up: the message stays staged
            yield Note(
                "outbox", message_id, "held", {"attempts": attempt, "code": reply.error.code}
            )
        return reply

    def relay_all(self, rng: random.Random) -> Steps:
        """After a restart: publish every message still staged, oldest first."""
        staged = yield Scan(TABLE)
        for message_id, _ in sorted(staged, key=lambda item: (item[1]["staged_at"], item[0])):
            yield Note("outbox", message_id, "republished")
            yield from self.relay(message_id, rng)

    def __repr__(self) -> str:
        return f"outbox(relay={self.policy!r})"


def outbox(policy: RetryPolicy | None = None) -> Outbox:
    """An outbox whose relay retries on `policy` (default: every minute at most, forever)."""
    return Outbox(policy or retry(initial=1.0, coefficient=2.0, max_interval=60.0))
