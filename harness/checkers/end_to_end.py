"""End to end: how long from a quote's approval until ERP, billing and support all show it, and
how many contract versions reach all three per hour.

A version counts as done when every system holds it or a later one (a later amendment carries
the whole contract). Time during which ERP, billing or support could not take a write (as the
windows excuse it) or the contract waited on people (`human_time`) is excused; the raw figures
are reported beside. Latency percentiles and throughput are judged against the scenario's
`end_to_end` SLO; whatever is not set there is reported, not judged. Quotes that never
complete are `nothing_lost`'s business, and are left out here.
"""

from __future__ import annotations

from array import array
from typing import ClassVar

from harness.checkers.base import (
    HOLDER_ENTITIES,
    Holders,
    Inputs,
    Status,
    Verdict,
    holder_slot,
    percentile,
    rounded,
)
from harness.checkers.human import HumanTime
from harness.checkers.windows import Downtime, Excused
from harness.history import EventRecord, FaultRecord, Record, StateRecord
from harness.scenario.slos import EndToEndSLO
from harness.units import format_duration


class EndToEnd:
    name: ClassVar[str] = "end_to_end"
    wants: ClassVar[tuple[type, ...]] = (EventRecord, StateRecord, FaultRecord)
    entities: ClassVar[frozenset[str]] = HOLDER_ENTITIES

    def __init__(
        self,
        slo: EndToEndSLO | None = None,
        duration_s: float = 0.0,
        human: HumanTime | None = None,
        absent: tuple[str, ...] = (),
    ) -> None:
        self.slo = slo or EndToEndSLO()
        self.inputs, self.holders = Inputs(absent), Holders(absent)
        # Where a version must reach: billing too, unless it is where the version came from.
        self.targets = (
            self.holders.everywhere
            if self.inputs.from_cpq
            else Holders((*absent, "billing")).everywhere
        )
        self.duration_s = duration_s
        self.human = human
        self.downtime = Downtime(*(name for name in ("erp", "billing", "support")
                                   if name not in absent))  # fmt: skip
        self.excused = Excused(self.downtime, human)
        self.raw = array("d")  # before downtime and human time are excused
        self.waiting: dict[str, list[tuple[int, float]]] = {}  # contract -> (version, approved)
        self.held: dict[str, list[int]] = {}
        self.approved_at = array("d")  # per version completed: when its quote was approved...
        self.latencies = array("d")  # ...and how long until all three systems held it

    def observe(self, position: int, record: Record) -> None:
        if isinstance(record, FaultRecord):
            self.downtime.observe(record)
            return
        if isinstance(record, EventRecord):
            found = self.inputs.version(record)
            if found is not None:
                self.waiting.setdefault(found[0], []).append((found[1], record.t))
            return
        assert isinstance(record, StateRecord)
        slot = holder_slot(record)
        if slot is None or "contract_version" not in record.keys:
            return
        contract = str(record.keys.get("contract"))
        held = self.held.setdefault(contract, [0, 0, 0])
        held[slot] = int(record.keys["contract_version"])
        waiting = self.waiting.get(contract)
        if not waiting:
            return
        settled = self.holders.settled(held)
        done = [(v, at) for v, at in waiting if v <= settled]
        if done:
            closed = self.human.closed if self.human else set()
            for version, at in done:
                if (contract, version) in closed:  # people decided not to do it
                    continue
                self.approved_at.append(at)
                raw = record.t - at
                self.raw.append(raw)
                self.latencies.append(raw - self.excused(contract, at, record.t))
            self.waiting[contract] = [(v, at) for v, at in waiting if v > settled]

    def verdict(self) -> Verdict:
        ordered = sorted(self.latencies)
        hours = self.duration_s / 3600
        throughput = len(ordered) / self.duration_s if self.duration_s else 0.0
        figures = {
            "completed": len(ordered),
            "p50_s": rounded(percentile(ordered, 50)),
            "p95_s": rounded(percentile(ordered, 95)),
            "max_s": rounded(ordered[-1] if ordered else float("nan")),
            "per_hour": round(len(ordered) / hours, 3) if hours else None,
            "raw_p95_s": rounded(percentile(sorted(self.raw), 95)),
            "raw_max_s": rounded(max(self.raw, default=float("nan"))),
            "human_excused_s": round(self.excused.human_s, 3),
        }
        slo = {
            "p50_s": self.slo.p50, "p95_s": self.slo.p95, "max_s": self.slo.max,
            "min_per_hour": self.slo.min_throughput * 3600 if self.slo.min_throughput else None,
        }  # fmt: skip
        if not ordered:
            return Verdict(self.name, "unknown", "no contract version completed", figures, slo)
        summary = (
            f"p50 {format_duration(percentile(ordered, 50))} · p95 "
            f"{format_duration(percentile(ordered, 95))} · max {format_duration(ordered[-1])} "
            f"from {self.inputs.start} to {self.targets}; "
            f"{throughput * 3600:,.1f}/h completed"
        )
        raw_max = max(self.raw)
        if raw_max > ordered[-1] + 1e-9:
            summary += f" (raw max {format_duration(raw_max)}, {self.excused.why()} in between)"
        misses = [
            f"{label} {format_duration(value)} > {format_duration(limit)}"
            for label, value, limit in (
                ("p50", percentile(ordered, 50), self.slo.p50),
                ("p95", percentile(ordered, 95), self.slo.p95),
                ("max", ordered[-1], self.slo.max),
            )
            if limit is not None and value > limit
        ]
        if self.slo.min_throughput is not None and throughput < self.slo.min_throughput:
            wanted = self.slo.min_throughput * 3600
            misses.append(f"throughput {throughput * 3600:,.1f}/h < {wanted:,.1f}/h")
        if misses:
            summary += ": " + "; ".join(misses)
        status: Status = "fail" if misses else "pass"
        judged = any(value is not None for value in slo.values())
        if not judged:
            summary = f"reported, not judged (no end_to_end SLO): {summary}"
        return Verdict(self.name, status, summary, figures, slo, judged=judged)
