"""The fault schedule as data: every fault window of a run, known before any design runs.

It joins what the systems' profiles schedule (maintenance and read-only windows, random outages
and brownouts, drawn from the run's streams) with the scenario's own `faults:` list. Every
design compared on one seed meets exactly the same faults at exactly the same times.

`draw_swarm` is swarm testing (Groce et al.): instead of every fault at once, the seed switches
each fault kind on or off and draws its targets, times and strengths, so that different seeds
explore different combinations. The drawn faults are written into the scenario, and so into the
run directory's `scenario.yaml`, from which the run replays exactly.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.scenario import ORCHESTRATOR, Scenario
from harness.scenario.fault_kinds import BY_NAME, SCENARIO_KINDS
from harness.seeds import stream


@dataclass(frozen=True, slots=True)
class FaultWindow:
    party: str  # a system, or "orchestrator"
    kind: str
    start: float
    end: float
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FaultSchedule:
    windows: tuple[FaultWindow, ...]

    def edges(self) -> list[tuple[float, int, bool]]:
        """Every window's opening and closing, in time order: (at, window index, starts). At
        one instant a window closes before another opens, so back-to-back windows never
        overlap."""
        found = sorted(
            [(w.start, 1, index) for index, w in enumerate(self.windows)]
            + [(w.end, 0, index) for index, w in enumerate(self.windows)]
        )
        return [(at, index, bool(opening)) for at, opening, index in found]


def build_schedule(scenario: Scenario, seed: int) -> FaultSchedule:
    found: list[FaultWindow] = []
    for name, spec in scenario.systems.items():
        rng = stream(seed, f"{name}.outages")
        for window in spec.profile().fault_windows(scenario.start, scenario.horizon_s, rng):
            found.append(FaultWindow(name, window.kind, window.start, window.end, window.params))
    for fault in scenario.faults:
        start = scenario.offset(fault.start)
        end = scenario.horizon_s if fault.duration is None else start + fault.duration
        found.append(FaultWindow(fault.party, fault.kind, start, end, fault.params()))
    found.sort(key=lambda w: (w.start, w.party, w.kind, w.end))
    return FaultSchedule(tuple(found))


# -- swarm testing --------------------------------------------------------------------------


def draw_swarm(scenario: Scenario, seed: int) -> list[dict[str, Any]]:
    """A fault list drawn from the seed: each kind on or off, then 1-2 of each kind that is on."""
    rng = stream(seed, "swarm")
    absent = scenario.systems.absent  # a kind only for systems the business lacks is not drawn
    drawn: list[dict[str, Any]] = []
    for kind in SCENARIO_KINDS:
        if rng.random() < 0.5:
            continue
        swarm = BY_NAME[kind].swarm
        assert swarm is not None, f"{kind} has no swarm range"
        parties = tuple(party for party in swarm.parties if party not in absent)
        if not parties:
            continue
        (shortest, longest), ranges = swarm.durations, swarm.ranges
        for _ in range(rng.randint(1, 2)):
            party = rng.choice(parties)
            fault: dict[str, Any] = {
                "kind": kind,
                "start": round(rng.uniform(0, scenario.duration)),
            }
            if kind == "partition":
                fault["between"] = [ORCHESTRATOR, party]
            else:
                fault["target"] = party
            if BY_NAME[kind].needs_duration:
                fault["duration"] = round(_log_uniform(rng, shortest, longest))
            for name, (low, high) in ranges.items():
                fault[name] = round(rng.uniform(low, high), 3)
            if kind == "master_data_gap":
                _draw_gap(rng, scenario, fault)
            drawn.append(fault)
    _crash_while_busy(rng, drawn, scenario.duration)
    return sorted(drawn, key=lambda f: (f["start"], f["kind"]))


def _crash_while_busy(rng: random.Random, drawn: list[dict[str, Any]], latest: float) -> None:
    """Crashes land where they find work: at a random time most find the orchestrator idle. The
    first crash lands inside a drawn master-data gap, once refused work has piled up (parked);
    another inside a drawn outage or read-only window (work retrying, in flight)."""
    crashes = [f for f in drawn if f["kind"] == "orchestrator_crash"]
    gaps = [f for f in drawn if f["kind"] == "master_data_gap"]
    down = [f for f in drawn if f["kind"] in ("outage", "read_only")]
    for crash, busy in zip(crashes, [*gaps[:1], *down[:1]], strict=False):
        at = busy["start"] + round(busy["duration"] * rng.uniform(0.3, 0.9))
        crash["start"] = min(at, round(latest))


def with_swarm(scenario: Scenario, seed: int) -> Scenario:
    """The scenario with a swarm-drawn fault list added to its own faults."""
    data = scenario.resolved_data()
    data["faults"] = [*data.get("faults", []), *draw_swarm(scenario, seed)]
    return Scenario.model_validate(data)


def _log_uniform(rng: random.Random, low: float, high: float) -> float:
    return math.exp(rng.uniform(math.log(low), math.log(high)))


def _draw_gap(rng: random.Random, scenario: Scenario, fault: dict[str, Any]) -> None:
    regions = [r for r in scenario.world.regions if r not in scenario.world.gaps.missing_tax_codes]
    if regions and rng.random() < 0.5:
        fault["tax_code"] = rng.choice(regions)
    else:
        fault["sku"] = rng.choice(sorted(scenario.world.catalogue().skus))
