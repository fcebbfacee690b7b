"""Behaviour profiles: what happens to one call at one time, decided purely from seeded streams.

A `Profile` is configuration (frozen, picklable, printable). `Profile.bind` gives a
`Behaviour`: the profile plus its own random streams and the system's fault windows. Drivers
ask the behaviour for a `CallDecision` and enact it (SimPy waits; HTTP sleeps and answers).

Each kind of draw has its own stream (`<system>.latency`, `<system>.ghost`,
`<system>.webhooks`), so changing one knob never shifts another's draws.
"""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from simulators.base import IdempotencyRule

#: z-score of the 99th percentile of the standard normal distribution.
Z99 = 2.3263478740408408
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

Streams = Callable[[str], random.Random]


@dataclass(frozen=True, slots=True)
class LognormalLatency:
    """Lognormal latency fitted to a median and a 99th percentile, optionally capped."""

    p50: float
    p99: float
    cap: float | None = None

    def __post_init__(self) -> None:
        if not 0 < self.p50 <= self.p99:
            raise ValueError(f"latency needs 0 < p50 <= p99, got p50={self.p50} p99={self.p99}")

    @property
    def mu(self) -> float:
        return math.log(self.p50)

    @property
    def sigma(self) -> float:
        return (math.log(self.p99) - math.log(self.p50)) / Z99

    def sample(self, rng: random.Random) -> float:
        value = rng.lognormvariate(self.mu, self.sigma)
        return value if self.cap is None else min(value, self.cap)

    def __repr__(self) -> str:
        cap = f", cap={self.cap:g}s" if self.cap is not None else ""
        return f"lognormal(p50={self.p50:g}s, p99={self.p99:g}s{cap})"


@dataclass(frozen=True, slots=True)
class Window:
    """A span of simulated seconds during which a system does not answer."""

    start: float
    end: float
    kind: str  # "maintenance" | "outage"


@dataclass(frozen=True, slots=True)
class WeeklyMaintenance:
    """A maintenance window every week at a local time, e.g. Saturday 22:00 Europe/Berlin."""

    day: int  # 0 = Monday
    start: time
    duration_s: float
    tz: str = "UTC"

    def windows(self, calendar_start: datetime, horizon_s: float) -> list[Window]:
        zone = ZoneInfo(self.tz)
        local_start = calendar_start.astimezone(zone)
        first_day = local_start.date() - timedelta(days=(local_start.weekday() - self.day) % 7)
        found: list[Window] = []
        week = 0
        while True:
            day = first_day + timedelta(weeks=week)
            opens = datetime.combine(day, self.start, tzinfo=zone)
            offset = (opens - calendar_start).total_seconds()
            if offset > horizon_s:
                return found
            if offset + self.duration_s > 0:
                found.append(Window(max(offset, 0.0), offset + self.duration_s, "maintenance"))
            week += 1

    def __repr__(self) -> str:
        when = f"{WEEKDAYS[self.day]} {self.start:%H:%M} {self.tz}"
        return f"weekly({when}, {self.duration_s / 3600:g}h)"


@dataclass(frozen=True, slots=True)
class OnceMaintenance:
    """A single announced maintenance window at a calendar time."""

    at: datetime
    duration_s: float

    def windows(self, calendar_start: datetime, horizon_s: float) -> list[Window]:
        offset = (self.at - calendar_start).total_seconds()
        if offset > horizon_s or offset + self.duration_s <= 0:
            return []
        return [Window(max(offset, 0.0), offset + self.duration_s, "maintenance")]


@dataclass(frozen=True, slots=True)
class RandomOutages:
    """Unplanned outages: exponential time between failures and time to repair."""

    mtbf_s: float
    mttr_s: float

    def windows(self, rng: random.Random, horizon_s: float) -> list[Window]:
        found: list[Window] = []
        now = 0.0
        while True:
            now += rng.expovariate(1.0 / self.mtbf_s)
            if now > horizon_s:
                return found
            repair = rng.expovariate(1.0 / self.mttr_s)
            found.append(Window(now, now + repair, "outage"))
            now += repair

    def __repr__(self) -> str:
        return f"outages(mtbf={self.mtbf_s / 3600:g}h, mttr={self.mttr_s / 60:g}m)"


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    """How a vendor delivers events: delay, and the chance of delivering one twice."""

    delay: LognormalLatency = LognormalLatency(1.0, 30.0)
    duplicate_probability: float = 0.0


Maintenance = WeeklyMaintenance | OnceMaintenance


@dataclass(frozen=True, slots=True)
class Profile:
    """Everything about how one simulated system behaves, apart from what it does."""

    latency: LognormalLatency = LognormalLatency(0.2, 1.0)
    maintenance: tuple[Maintenance, ...] = ()
    outages: RandomOutages | None = None
    ghost_write_probability: float = 0.0
    client_timeout_s: float = 30.0
    unavailable_after_s: float = 0.25
    idempotency: IdempotencyRule = field(default_factory=IdempotencyRule)
    webhooks: WebhookDelivery = WebhookDelivery()

    def fault_windows(
        self, calendar_start: datetime, horizon_s: float, rng: random.Random
    ) -> list[Window]:
        """Maintenance and outage windows over the horizon, sorted by start."""
        found = [w for m in self.maintenance for w in m.windows(calendar_start, horizon_s)]
        if self.outages is not None:
            found.extend(self.outages.windows(rng, horizon_s))
        return sorted(found, key=lambda w: (w.start, w.end, w.kind))

    def bind(self, system: str, streams: Streams, windows: Sequence[Window]) -> Behaviour:
        return Behaviour(self, system, streams, windows)


@dataclass(frozen=True, slots=True)
class CallDecision:
    """What happens to one call: after `delay` seconds it is applied, refused, or ghosted.

    `apply`: applied, answer delivered. `unavailable`: not applied (transient, e.g. 503).
    `ghost`: applied, but the answer is lost; the client gives up `lost_after` seconds later,
    at its timeout (ambiguous).
    """

    delay: float
    fate: Literal["apply", "unavailable", "ghost"]
    reason: str | None = None
    lost_after: float = 0.0


class Behaviour:
    """A profile bound to its streams and fault windows: the per-call decision maker."""

    __slots__ = ("_ends", "_ghost", "_latency", "_starts", "_webhooks", "_windows", "profile")

    def __init__(
        self, profile: Profile, system: str, streams: Streams, windows: Sequence[Window]
    ) -> None:
        self.profile = profile
        self._latency = streams(f"{system}.latency")
        self._ghost = streams(f"{system}.ghost")
        self._webhooks = streams(f"{system}.webhooks")
        self._windows = _merge(windows)
        self._starts = [w.start for w in self._windows]
        self._ends = [w.end for w in self._windows]

    def window_at(self, now: float) -> Window | None:
        index = bisect.bisect_right(self._starts, now) - 1
        if index >= 0 and now < self._ends[index]:
            return self._windows[index]
        return None

    def decide(self, now: float) -> CallDecision:
        profile = self.profile
        window = self.window_at(now)
        if window is not None:
            return CallDecision(profile.unavailable_after_s, "unavailable", window.kind)
        latency = profile.latency.sample(self._latency)
        ghost = profile.ghost_write_probability > 0 and (
            self._ghost.random() < profile.ghost_write_probability
        )
        if ghost or latency > profile.client_timeout_s:
            applied = min(latency, profile.client_timeout_s)
            return CallDecision(applied, "ghost", "timeout", profile.client_timeout_s - applied)
        return CallDecision(latency, "apply")

    def deliveries(self) -> tuple[float, ...]:
        """Delays after emission at which one event reaches a subscriber (twice if duplicated)."""
        webhooks = self.profile.webhooks
        first = webhooks.delay.sample(self._webhooks)
        if webhooks.duplicate_probability > 0 and (
            self._webhooks.random() < webhooks.duplicate_probability
        ):
            return (first, webhooks.delay.sample(self._webhooks))
        return (first,)


def _merge(windows: Sequence[Window]) -> list[Window]:
    """Overlapping windows become one (labelled by the first), so lookups are a bisect."""
    merged: list[Window] = []
    for window in sorted(windows, key=lambda w: (w.start, w.end)):
        if merged and window.start <= merged[-1].end:
            last = merged[-1]
            merged[-1] = Window(last.start, max(last.end, window.end), last.kind)
        else:
            merged.append(window)
    return merged
