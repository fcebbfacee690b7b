"""Consistency windows: how long one system lags a contract version another already shows.

`<source>_to_<target>` (e.g. `billing_to_support`, `cpq_to_erp`): for each contract version the
source shows (CPQ: approves), the time until the target's copy reaches that version, against
the scenario's p50 / p95 / max SLO. A version the target never reaches counts as missing once
it is older than the max SLO.

The integration is judged on the lag it is responsible for: time during which the target could
not accept a write (its outage, maintenance or read-only window, or a partition from the
orchestrator, as the history's fault records show) is excused, and reported as such; the raw
windows are reported too. An orchestrator crash is never excused: it is the integration's own.
"""

from __future__ import annotations

import bisect
import heapq
from array import array
from dataclasses import dataclass
from typing import Any, ClassVar

from harness.checkers.base import (
    CONTRACT_HOLDERS,
    EVIDENCE_LIMIT,
    Verdict,
    percentile,
    role,
    rounded,
)
from harness.checkers.human import HumanTime, covered
from harness.history import EventRecord, FaultRecord, Record, RunEnded, StateRecord
from harness.scenario.fault_kinds import DOWNTIME
from harness.scenario.slos import WindowSLO
from harness.units import format_duration

#: Percentiles kept for the distribution chart: every 5 %, and the tail in detail.
CDF_POINTS = (*range(0, 95, 5), 95, 96, 97, 98, 99, 99.5, 99.9, 100)
#: The record each system keeps a contract's version in.
HOLDERS = dict(CONTRACT_HOLDERS)
#: Faults of the target that excuse its lag: it could not take the write.
EXCUSING_FAULTS = DOWNTIME


def contract_version(record: StateRecord) -> tuple[str, int] | None:
    contract, version = record.keys.get("contract"), record.keys.get("contract_version")
    if contract is None or version is None:
        return None
    return str(contract), int(version)


def holds(record: StateRecord, system: str, entity: str) -> bool:
    """Whether the record is `system`'s `entity`."""
    return role(record.system) == system and record.entity == entity


class Downtime:
    """The spans during which a system (or any of several: their union) could not accept writes,
    from the fault records. A role names every system playing it (`erp`: both ERPs of a
    migration)."""

    def __init__(self, *systems: str) -> None:
        self.systems = frozenset(systems)
        self.spans: list[tuple[float, float]] = []  # in time order, not overlapping
        self._ends: list[float] = []  # each span's end, to find the first one a window meets
        self._open = 0
        self._since = 0.0

    def observe(self, record: FaultRecord) -> None:
        if record.fault not in EXCUSING_FAULTS or role(record.system) not in self.systems:
            return
        if record.phase == "start":
            if self._open == 0:
                self._since = record.t
            self._open += 1
        elif self._open > 0:
            self._open -= 1
            if self._open == 0:
                self.spans.append((self._since, record.t))
                self._ends.append(record.t)

    @property
    def down(self) -> bool:
        return self._open > 0

    def excused(self, start: float, end: float) -> float:
        """Seconds of [start, end] during which the system was down."""
        return sum(until - since for since, until in self.clipped(start, end))

    def clipped(self, start: float, end: float) -> list[tuple[float, float]]:
        """The parts of [start, end] during which the system was down."""
        found = []
        for index in range(bisect.bisect_right(self._ends, start), len(self.spans)):
            since, until = self.spans[index]
            if since >= end:
                break
            if min(until, end) > max(since, start):
                found.append((max(since, start), min(until, end)))
        if self._open and end > max(self._since, start):
            found.append((max(self._since, start), end))
        return found


class Excused:
    """What a lag is excused for: the target's downtime and the contract's human time, once
    each second (an outage while a quote waits on people is not excused twice)."""

    def __init__(self, downtime: Downtime, human: HumanTime | None) -> None:
        self.downtime, self.human = downtime, human
        self.human_s = 0.0  # human time excused, in all

    def why(self) -> str:
        """What was excused, for a summary: `erp down or waiting on people`."""
        found = [f"{'/'.join(sorted(self.downtime.systems))} down"] if self.downtime.spans else []
        found += ["waiting on people"] if self.human_s else []
        return " or ".join(found) or "nothing excused"

    def closed_by_people(self, item: Waiting) -> bool:
        """Whether the operations team skipped or compensated the version (not to deliver)."""
        return self.human is not None and (item.contract, item.version) in self.human.closed

    def __call__(self, contract: str, start: float, end: float) -> float:
        down = self.downtime.clipped(start, end)
        if self.human is None:
            return sum(until - since for since, until in down)
        waited = self.human.clipped(contract, start, end)
        if not waited:
            return sum(until - since for since, until in down)
        both = covered(down + waited)
        self.human_s += both - covered(down)
        return both


@dataclass(frozen=True, slots=True)
class Waiting:
    """Something shown at a contract version, waiting for the target to show it too."""

    contract: str
    version: int
    since: float
    position: int
    entity_id: str


class CatchUp:
    """Tracks what the target shows per contract and what is still waiting for it."""

    def __init__(self) -> None:
        self.held: dict[str, int] = {}
        self.waiting: dict[str, list[Waiting]] = {}

    def shows(self, contract: str, version: int) -> bool:
        return self.held.get(contract, 0) >= version

    def wait(self, item: Waiting) -> None:
        self.waiting.setdefault(item.contract, []).append(item)

    def changed(self, contract: str, version: int) -> list[Waiting]:
        """The target now shows `version`: what that catches up with (older ones included)."""
        self.held[contract] = version
        waiting = self.waiting.get(contract)
        if not waiting:
            return []
        caught = [item for item in waiting if item.version <= version]
        if caught:
            self.waiting[contract] = [item for item in waiting if item.version > version]
        return caught

    def never_caught(self) -> list[Waiting]:
        """What is still waiting, once the run has ended."""
        left = [item for items in self.waiting.values() for item in items]
        self.waiting = {}
        return left


class ConsistencyWindow:
    name: str
    wants: ClassVar[tuple[type, ...]] = (EventRecord, StateRecord, FaultRecord, RunEnded)

    def __init__(
        self, source: str, target: str, slo: WindowSLO, human: HumanTime | None = None
    ) -> None:
        self.source, self.target, self.slo = source, target, slo
        self.name = f"{source}_to_{target}"
        self.entities = frozenset({HOLDERS.get(source, ""), HOLDERS[target]}) - {""}
        self.downtime = Downtime(target)
        self.excused = Excused(self.downtime, human)
        self.raw = array("d")  # every window before downtime is excused, 8 bytes each
        self.catch_up = CatchUp()
        self.seen: dict[str, int] = {}  # contract -> versions the source has shown, as bits
        self.windows = array("d")  # every window measured
        #: The longest windows, (window, contract, version, shown at, caught at), a min-heap.
        self.longest: list[tuple[float, str, int, int, int]] = []
        self.missing: list[dict[str, Any]] = []
        self.undecided = 0

    def observe(self, position: int, record: Record) -> None:
        if isinstance(record, FaultRecord):
            self.downtime.observe(record)
        elif isinstance(record, RunEnded):
            self._close(record.t)
        elif isinstance(record, EventRecord):
            if (
                self.source == "cpq"
                and record.type == "emitted"
                and (record.event_type == "quote.approved")
            ):
                keys = record.keys
                contract, version = str(keys["contract"]), int(keys["contract_version"])
                self._shown(contract, version, record.t, position, str(keys.get("quote")))
        elif isinstance(record, StateRecord):
            key = contract_version(record)
            if key is None:
                return
            if holds(record, self.source, HOLDERS.get(self.source, "")):
                self._shown(*key, record.t, position, record.entity_id)
            elif holds(record, self.target, HOLDERS[self.target]):
                for item in self.catch_up.changed(*key):
                    if self.excused.closed_by_people(item):
                        continue
                    raw = record.t - item.since
                    window = raw - self.excused(key[0], item.since, record.t)
                    self.raw.append(raw)
                    self._measured(window, key[0], item.version, item.position, position)

    def _measured(
        self, window: float, contract: str, version: int, shown: int, caught: int
    ) -> None:
        self.windows.append(window)
        heapq.heappush(self.longest, (window, contract, version, shown, caught))
        if len(self.longest) > EVIDENCE_LIMIT // 2:
            heapq.heappop(self.longest)

    def _shown(self, contract: str, version: int, t: float, position: int, entity: str) -> None:
        shown = self.seen.get(contract, 0)
        if shown >> version & 1:
            return
        self.seen[contract] = shown | 1 << version
        if self.catch_up.shows(contract, version):
            self._measured(0.0, contract, version, position, position)
        else:
            self.catch_up.wait(Waiting(contract, version, t, position, entity))

    def _close(self, end: float) -> None:
        for item in self.catch_up.never_caught():
            if self.excused.closed_by_people(item):
                continue
            if end - item.since - self.excused(item.contract, item.since, end) > self.slo.max:
                self.missing.append(
                    {
                        "contract": item.contract,
                        "contract_version": item.version,
                        "shown_at": round(item.since, 3),
                        f"{self.source}_position": item.position,
                        f"{self.target}_shows": self.catch_up.held.get(item.contract),
                    }
                )
            else:
                self.undecided += 1

    def verdict(self) -> Verdict:
        ordered, spans = sorted(self.windows), self.downtime.spans
        p50, p95 = percentile(ordered, 50), percentile(ordered, 95)
        worst = ordered[-1] if ordered else float("nan")
        figures = {
            "measured": len(ordered),
            "p50_s": rounded(p50),
            "p95_s": rounded(p95),
            "max_s": rounded(worst),
            "missing": len(self.missing),
            "undecided": self.undecided,
            "quantiles_s": {f"{q:g}": rounded(percentile(ordered, q)) for q in CDF_POINTS},
            "raw_p95_s": rounded(percentile(sorted(self.raw), 95)),
            "raw_max_s": rounded(max(self.raw, default=float("nan"))),
            f"{self.target}_down_s": rounded(sum(e - s for s, e in spans)) if spans else 0,
            "human_excused_s": round(self.excused.human_s, 3),
        }
        slo = {"p50_s": self.slo.p50, "p95_s": self.slo.p95, "max_s": self.slo.max}
        if not ordered and not self.missing:
            what = f"no {self.source} change to measure"
            return Verdict(self.name, "unknown", what, figures, slo)
        breaches = [
            f"{label} {format_duration(value)} > {format_duration(limit)}"
            for label, value, limit in (
                ("p50", p50, self.slo.p50),
                ("p95", p95, self.slo.p95),
                ("max", worst, self.slo.max),
            )
            if ordered and value > limit
        ]
        if self.missing:
            breaches.append(f"{len(self.missing):,} versions never reached {self.target}")
        summary = (
            f"p50 {format_duration(p50)} · p95 {format_duration(p95)} · "
            f"max {format_duration(worst)} over {len(ordered):,} changes"
            if ordered
            else f"no version reached {self.target}"
        )
        raw_max = max(self.raw, default=0.0)
        if ordered and raw_max > worst + 1e-9:
            summary += f" (raw max {format_duration(raw_max)}, {self.excused.why()} in between)"
        worst_windows = sorted(self.longest, reverse=True)
        evidence = self.missing[: EVIDENCE_LIMIT // 2] + [
            {
                "contract": contract,
                "contract_version": version,
                "window_s": round(window, 3),
                f"{self.source}_position": shown,
                f"{self.target}_position": caught,
            }
            for window, contract, version, shown, caught in worst_windows
        ]
        if breaches:
            return Verdict(
                self.name, "fail", f"{summary}: {'; '.join(breaches)}", figures, slo, evidence
            )
        return Verdict(self.name, "pass", summary, figures, slo, evidence)


class BillingToSupportWindow(ConsistencyWindow):
    """The seed document's window: support lagging billing."""

    def __init__(self, slo: WindowSLO, human: HumanTime | None = None) -> None:
        super().__init__("billing", "support", slo, human)
