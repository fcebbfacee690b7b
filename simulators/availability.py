"""When a system is degraded: calendar windows, random outages and brownouts, and the live set
of conditions the driver switches on and off as fault windows open and close.

Window kinds that change how a system answers calls (`Conditions` holds them):

| kind            | params                          | effect on a call                           |
|-----------------|---------------------------------|--------------------------------------------|
| maintenance     |                                 | refused, 503 (not applied)                 |
| outage          |                                 | refused, 503 (not applied)                 |
| read_only       |                                 | writes refused, 503; reads answered        |
| brownout        | latency_factor, error_rate      | slower, and some calls fail with 503       |
| ghost_writes    | probability                     | applied, but the answer is lost            |
| partition       |                                 | requests from and webhooks to the     |
|                 |                                 | orchestrator are lost                      |
| duplicate_storm | probability                     | webhooks delivered twice                   |
| webhook_delay   | factor                          | webhook delays multiplied                  |
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any, ClassVar, Literal
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Mode = Literal["maintenance", "read_only"]


@dataclass(frozen=True, slots=True)
class Window:
    """A span of simulated seconds during which a condition holds."""

    start: float
    end: float
    kind: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class WeeklyMaintenance:
    """A window every week at a local time, e.g. Saturday 22:00 Europe/Berlin, 4 h."""

    day: int  # 0 = Monday
    start: time
    duration_s: float
    tz: str = "UTC"
    mode: Mode = "maintenance"

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
                found.append(Window(max(offset, 0.0), offset + self.duration_s, self.mode))
            week += 1

    def __repr__(self) -> str:
        when = f"{WEEKDAYS[self.day]} {self.start:%H:%M} {self.tz}"
        return f"weekly({when}, {self.duration_s / 3600:g}h, {self.mode})"


@dataclass(frozen=True, slots=True)
class OnceMaintenance:
    """A single announced window at a calendar time."""

    at: datetime
    duration_s: float
    mode: Mode = "maintenance"

    def windows(self, calendar_start: datetime, horizon_s: float) -> list[Window]:
        offset = (self.at - calendar_start).total_seconds()
        if offset > horizon_s or offset + self.duration_s <= 0:
            return []
        return [Window(max(offset, 0.0), offset + self.duration_s, self.mode)]


Maintenance = WeeklyMaintenance | OnceMaintenance


@dataclass(frozen=True, slots=True)
class RandomOutages:
    """Unplanned outages: exponential time between failures and time to repair."""

    mtbf_s: float
    mttr_s: float

    def windows(self, rng: random.Random, horizon_s: float) -> list[Window]:
        return [
            Window(s, e, "outage")
            for s, e in _alternating(rng, self.mtbf_s, self.mttr_s, horizon_s)
        ]

    def __repr__(self) -> str:
        return f"outages(mtbf={self.mtbf_s / 3600:g}h, mttr={self.mttr_s / 60:g}m)"


@dataclass(frozen=True, slots=True)
class RandomBrownouts:
    """Unplanned degradation: slower answers and some 503s, rather than a full outage."""

    mtbf_s: float
    mean_duration_s: float
    latency_factor: float = 3.0
    error_rate: float = 0.05

    def windows(self, rng: random.Random, horizon_s: float) -> list[Window]:
        params = {"latency_factor": self.latency_factor, "error_rate": self.error_rate}
        spans = _alternating(rng, self.mtbf_s, self.mean_duration_s, horizon_s)
        return [Window(s, e, "brownout", params) for s, e in spans]


def _alternating(
    rng: random.Random, mean_up: float, mean_down: float, horizon_s: float
) -> list[tuple[float, float]]:
    found: list[tuple[float, float]] = []
    now = 0.0
    while True:
        now += rng.expovariate(1.0 / mean_up)
        if now > horizon_s:
            return found
        down = rng.expovariate(1.0 / mean_down)
        found.append((now, now + down))
        now += down


class Conditions:
    """The conditions a system is under right now; the driver opens and closes them.

    Overlapping windows of one kind stack: the condition holds while any is open, and a
    numeric parameter takes its worst (largest) open value.
    """

    __slots__ = ("_open",)

    #: The conditions a system's behaviour acts on (profiles.Behaviour); other fault kinds need
    #: a driver (a master-data gap, a vendor upgrade, an orchestrator crash).
    KINDS: ClassVar[frozenset[str]] = frozenset({
        "outage", "maintenance", "brownout", "partition", "read_only", "ghost_writes",
        "duplicate_storm", "webhook_delay",
    })  # fmt: skip

    #: Each kind's parameters and the range a value must lie in.
    PARAMETERS: ClassVar[Mapping[str, Mapping[str, tuple[float, float]]]] = {
        "brownout": {"latency_factor": (1.0, 1000.0), "error_rate": (0.0, 1.0)},
        "ghost_writes": {"probability": (0.0, 1.0)},
        "duplicate_storm": {"probability": (0.0, 1.0)},
        "webhook_delay": {"factor": (0.0, 1000.0)},
    }

    def __init__(self) -> None:
        self._open: dict[str, list[Mapping[str, Any]]] = {}

    @classmethod
    def problem(cls, kind: str, params: Any) -> str | None:
        """Why `params` cannot open a `kind` window (one sentence), or None."""
        if not isinstance(params, Mapping):
            return "a fault's parameters are a JSON object"
        allowed = cls.PARAMETERS.get(kind, {})
        for name, value in params.items():
            if name not in allowed:
                takes = ", ".join(allowed) or "no parameters"
                return f"{kind} takes {takes}, not {name}"
            low, high = allowed[name]
            if type(value) not in (int, float) or not low <= value <= high:
                return f"{kind}'s {name} must be a number from {low:g} to {high:g}"
        return None

    def open(self, kind: str, params: Mapping[str, Any]) -> None:
        self._open.setdefault(kind, []).append(params)

    def close(self, kind: str, params: Mapping[str, Any]) -> None:
        windows = self._open.get(kind, [])
        for index, candidate in enumerate(windows):
            if candidate is params or candidate == params:
                del windows[index]
                break
        if not windows:
            self._open.pop(kind, None)

    def __contains__(self, kind: str) -> bool:
        return kind in self._open

    def worst(self, kind: str, param: str, default: float) -> float:
        windows = self._open.get(kind)
        if not windows:
            return default
        return max(float(w.get(param, default)) for w in windows)

    def kinds(self) -> tuple[str, ...]:
        return tuple(sorted(self._open))
