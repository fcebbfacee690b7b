"""Shrinking a failing run: the smallest scenario that still fails the same checker.

From a run directory (its `scenario.yaml` as resolved, swarm faults included, and its
`summary.json`), each step tries a smaller scenario and keeps it if the checker still fails:

1. duration: halved while it fails, then narrowed by bisection (to the hour), the faults that
   would start after a shorter run's end left out with it. First, so that every later
   candidate is a short run: on the README's example, the fault step's candidates had been six
   full-length runs and two thirds of the search's time;
2. faults: delta debugging (Zeller's ddmin) over the `faults:` list that is left;
3. rates: each workload rate halved while it fails;
4. randomness that does not matter: each system's random outages, maintenance windows, ghost
   writes, lost requests, and its webhooks' duplicates, reorderings and losses, switched off one
   at a time.

Every candidate is a full, deterministic run with the same seed and design, so the result
replays exactly; a candidate that is not a valid scenario (a fault past the shortened end)
counts as not failing. `max_runs` bounds the search; what was found by then is kept.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.designs import DesignFactory
from harness.runner import simulate
from harness.scenario import Scenario, ScenarioError
from harness.units import format_duration, parse_duration

Data = dict[str, Any]
#: Workload rates a step may lower, as the resolved scenario writes them (`4.0/h`).
RATES = ("new_subscriptions", "amendments", "renewals", "cancellations", "cases")
#: Per system, what makes its behaviour random without being a listed fault: (path, off value).
RANDOMNESS: tuple[tuple[tuple[str, ...], Any], ...] = (
    (("outages",), None),
    (("maintenance",), []),
    (("ghost_write_probability",), 0.0),
    (("lost_request_probability",), 0.0),
    (("webhooks", "duplicate_probability"), 0.0),
    (("webhooks", "reorder_probability"), 0.0),
    (("webhooks", "loss_probability"), 0.0),
)
#: Durations are not shortened below this.
SHORTEST_S = 3600.0


@dataclass
class Shrunk:
    """Where the search stands: the smallest failing scenario's data, and how it got there."""

    data: Data
    runs: int = 0
    steps: list[str] = field(default_factory=list)


#: Told after every run: (step, what was tried, whether it still failed, runs so far).
Progress = Callable[[str, str, bool, int], None]


class Budget(Exception):
    """The run budget is spent."""


class Shrinker:
    def __init__(
        self,
        data: Data,
        factory: DesignFactory,
        seed: int,
        checker: str,
        parse: Callable[[Data], Scenario],
        max_runs: int = 200,
        progress: Progress | None = None,
    ) -> None:
        self.factory, self.seed, self.checker, self.parse = factory, seed, checker, parse
        self.max_runs, self.progress = max_runs, progress
        self.state = Shrunk(copy.deepcopy(data))

    def fails(self, data: Data, step: str, tried: str) -> bool:
        """Run the candidate; whether the checker still fails."""
        if self.state.runs >= self.max_runs:
            raise Budget
        try:
            scenario = self.parse(data)
        except ScenarioError:
            return False
        self.state.runs += 1
        verdicts, _ = simulate(scenario, self.factory, self.seed, only={self.checker})
        failed = any(v.checker == self.checker and v.status == "fail" for v in verdicts)
        if self.progress is not None:
            self.progress(step, tried, failed, self.state.runs)
        return failed

    def shrink(self) -> Shrunk:
        for step in (self._duration, self._faults, self._rates, self._randomness):
            try:
                step()
            except Budget:
                self.state.steps.append(f"run budget ({self.max_runs}) spent")
                break
        return self.state

    # -- the steps ---------------------------------------------------------------------

    def _faults(self) -> None:
        faults = list(self.state.data.get("faults") or [])
        kept = ddmin(faults, lambda subset: self.fails(
            {**self.state.data, "faults": subset}, "faults", f"{len(subset)} of {len(faults)}"
        ))  # fmt: skip
        self.state.data["faults"] = kept
        named = ", ".join(
            f"{f['kind']} {f.get('target') or '-'.join(f.get('between', []))} at {f['start']}"
            for f in kept
        )
        self.state.steps.append(
            f"faults {len(faults)} → {len(kept)}" + (f": {named}" if kept else "")
        )

    def _duration(self) -> None:
        data = self.state.data
        longest = parse_duration(data["duration"])
        within = self._faults_within(data)

        def shorter(duration: float) -> Data:
            return {**data, "duration": duration, "faults": within(duration)}

        failing, passing = longest, None
        while failing / 2 >= SHORTEST_S:
            half = failing / 2
            if not self.fails(shorter(half), "duration", _hours(half)):
                passing = half
                break
            failing = half
        while passing is not None and failing - passing > SHORTEST_S:
            middle = round((failing + passing) / 2 / SHORTEST_S) * SHORTEST_S
            if middle in (failing, passing):
                break
            if self.fails(shorter(middle), "duration", _hours(middle)):
                failing = middle
            else:
                passing = middle
        self.state.data = shorter(failing)
        left_out = len(data.get("faults") or []) - len(self.state.data["faults"])
        plural = "s" if left_out != 1 else ""
        after = f" ({left_out} fault{plural} after its end left out)" if left_out else ""
        self.state.steps.append(f"{_hours(longest)} → {_hours(failing)}{after}")

    def _faults_within(self, data: Data) -> Callable[[float], list[Any]]:
        """The faults of `data` that start before the end of a run `duration` long (with
        `data`'s drain), for each duration asked."""
        faults = list(data.get("faults") or [])
        scenario = self.parse(data)  # the failing run's own scenario
        starts = [scenario.offset(fault.start) for fault in scenario.faults]
        return lambda duration: [
            fault for fault, start in zip(faults, starts, strict=True)
            if start < duration + scenario.drain
        ]  # fmt: skip

    def _rates(self) -> None:
        workload = self.state.data["workload"]
        for name in RATES:
            rate = _per_hour(workload.get(name))
            if rate is None or rate == 0:
                continue
            start = rate
            while rate / 2 >= 0.01:
                candidate = {**workload, name: f"{rate / 2:g}/h"}
                tried = f"{name} {rate / 2:g}/h"
                if not self.fails({**self.state.data, "workload": candidate}, "rates", tried):
                    break
                rate /= 2
                workload = candidate
            self.state.data["workload"] = workload
            if rate != start:
                self.state.steps.append(f"{name} {start:g}/h → {rate:g}/h")

    def _randomness(self) -> None:
        off = []
        for system in sorted(self.state.data["systems"]):
            for path, value in RANDOMNESS:
                candidate = copy.deepcopy(self.state.data)
                spec = candidate["systems"][system]
                if not _set(spec, path, value):
                    continue
                name = f"{system}.{'.'.join(path)}"
                if self.fails(candidate, "randomness", f"{name} off"):
                    self.state.data = candidate
                    off.append(name)
        if off:
            self.state.steps.append(f"switched off: {', '.join(off)}")


def ddmin(items: Sequence[Any], fails: Callable[[list[Any]], bool]) -> list[Any]:
    """A 1-minimal sublist of `items` that still fails (Zeller and Hildebrandt's ddmin)."""
    current, chunks = list(items), 2
    if not current:
        return current
    if fails([]):
        return []
    while len(current) >= 2:
        size = math.ceil(len(current) / chunks)
        parts = [current[i : i + size] for i in range(0, len(current), size)]
        for index, part in enumerate(parts):
            if fails(part):
                current, chunks = part, 2
                break
            rest = [item for other, p in enumerate(parts) if other != index for item in p]
            if chunks > 2 and fails(rest):
                current, chunks = rest, max(chunks - 1, 2)
                break
        else:
            if chunks >= len(current):
                break
            chunks = min(chunks * 2, len(current))
    return current


def _set(spec: Data, path: tuple[str, ...], value: Any) -> bool:
    """Set a nested field if it is there and not already `value`; whether it changed."""
    node: Any = spec
    for part in path[:-1]:
        node = node.get(part)
        if not isinstance(node, dict):
            return False
    if path[-1] not in node or node[path[-1]] == value or not node[path[-1]]:
        return False
    node[path[-1]] = value
    return True


def _per_hour(rate: Any) -> float | None:
    if isinstance(rate, str) and rate.endswith("/h"):
        return float(rate[:-2])
    return None


def _hours(seconds: float) -> str:
    return format_duration(seconds)
