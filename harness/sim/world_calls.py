"""The world's own traffic: customers opening cases and paying invoices, billing staff reversing
them. It reaches the vendors through the same network as the integration's calls, so it queues
behind the same concurrency caps, spends the same rate limits and meets the same outages (in real
life they compete for the same vendor capacity), but draws its latency and fate from streams of
its own, so the integration's draws do not move.

People retry as people do: when a vendor turns them away (down, busy, 429) they come back after
its Retry-After or five minutes, for up to an hour; a business refusal or a lost answer ends it
(a customer whose page timed out does not know whether the case was opened, and moves on).
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import Any

import simpy

from harness.effects import Call, Reply
from harness.history import WORLD_TRACE
from harness.sim.network import Network
from simulators.profiles import Behaviour

#: How often people try again after being turned away, and for how long.
RETRY_S = 300.0
PATIENCE_S = 3600.0


class WorldCalls:
    def __init__(self, env: simpy.Environment, network: Network,
                 behaviours: Mapping[str, Behaviour]) -> None:  # fmt: skip
        self.env, self.network = env, network
        self.draws = {name: behaviour.draws_for("world") for name, behaviour in behaviours.items()}

    def call(
        self, system: str, operation: str, payload: Mapping[str, Any], who: str
    ) -> Generator[simpy.Event, Any, Reply]:
        """Make the call as `who` (customers, billing_staff), trying again while turned away."""
        began = self.env.now
        while True:
            reply: Reply = yield from self.network.call(
                Call(system, operation, payload), f"{WORLD_TRACE}{who}", self.draws[system]
            )
            if reply.error is None or reply.error.kind != "transient":
                return reply
            wait = max(RETRY_S, reply.error.retry_after or 0.0)
            if self.env.now + wait - began > PATIENCE_S:
                return reply
            yield self.env.timeout(wait)
