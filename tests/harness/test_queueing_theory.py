"""The driver's concurrency queue against queueing theory (M/M/c, Erlang C), seeded."""

from __future__ import annotations

import math
import random
from collections.abc import Generator, Mapping
from typing import Any, ClassVar

import pytest
import simpy

from harness.effects import Call
from harness.history import CallRecord, Record
from harness.sim.network import Network
from simulators.base import Payload, SystemOfRecord
from simulators.latency import Exponential
from simulators.limits import ConcurrencyCap
from simulators.profiles import Profile
from simulators.requests import Request, request


class Worker(SystemOfRecord):
    name = "worker"
    requests: ClassVar[Mapping[str, Request]] = {**SystemOfRecord.requests, "work": request()}

    def op_work(self, payload: Payload, now: float) -> Payload:
        return {}


def erlang_c_wait(servers: int, arrival_rate: float, service_rate: float) -> float:
    """Mean time in queue of an M/M/c system (Erlang C)."""
    load = arrival_rate / service_rate
    rho = load / servers
    below = sum(load**k / math.factorial(k) for k in range(servers))
    top = load**servers / math.factorial(servers) / (1 - rho)
    waiting_probability = top / (below + top)
    return waiting_probability / (servers * service_rate - arrival_rate)


def test_mean_queue_wait_matches_erlang_c_within_5_percent() -> None:
    """c = 4 slots, utilisation 0.75, 400,000 Poisson arrivals through the real driver.

    Waits in a loaded queue are strongly autocorrelated, so a run must be long: measured over
    seeds, 150,000 arrivals scatter about ±4 % around the Erlang C value, 600,000 about ±2 %
    (seeds 0 and 1: -1.9 % and -1.7 %). The seed is fixed; 5 % is about three spreads away.
    """
    servers, arrival_rate = 4, 3.0
    env = simpy.Environment()
    profile = Profile(
        latency=Exponential(1.0),  # service rate 1 per second
        concurrency=ConcurrencyCap(servers, "queue"),
        client_timeout_s=1e9,
    )
    behaviour = profile.bind("worker", lambda name: random.Random(f"mmc:{name}"))
    waits: list[float] = []

    def record(item: Record) -> None:
        if isinstance(item, CallRecord) and item.type == "ok":
            waits.append(item.queue_wait or 0.0)

    network = Network(env, {"worker": Worker()}, {"worker": behaviour}, record)
    arrivals = random.Random("mmc:arrivals")

    def customers() -> Generator[simpy.Event, Any, None]:
        for _ in range(400_000):
            yield env.timeout(arrivals.expovariate(arrival_rate))
            env.process(network.call(Call("worker", "work"), None))

    env.process(customers())
    env.run()
    measured = sum(waits[10_000:]) / len(waits[10_000:])  # past the warm-up
    assert measured == pytest.approx(erlang_c_wait(servers, arrival_rate, 1.0), rel=0.05)
