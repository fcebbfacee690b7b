"""The fault schedule as data: every maintenance window and outage of a run, known up front.

Computed once from the scenario and seed, before any design runs, so every design compared on
one seed meets exactly the same faults at exactly the same times.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.scenario import Scenario
from harness.seeds import stream
from simulators.profiles import Window


@dataclass(frozen=True, slots=True)
class FaultWindow:
    system: str
    kind: str
    start: float
    end: float


@dataclass(frozen=True, slots=True)
class FaultSchedule:
    windows: tuple[FaultWindow, ...]

    def for_system(self, system: str) -> list[Window]:
        return [Window(w.start, w.end, w.kind) for w in self.windows if w.system == system]


def build_schedule(scenario: Scenario, seed: int) -> FaultSchedule:
    found: list[FaultWindow] = []
    for name, spec in scenario.systems.items():
        rng = stream(seed, f"{name}.outages")
        for window in spec.profile().fault_windows(scenario.start, scenario.horizon_s, rng):
            found.append(FaultWindow(name, window.kind, window.start, window.end))
    found.sort(key=lambda w: (w.start, w.system, w.kind))
    return FaultSchedule(tuple(found))
