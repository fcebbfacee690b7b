"""Convergence: at the end, ERP, billing and support all hold CPQ's latest approved version.

`partial_updates` asks whether the three agree with each other; this asks whether they agree
with the truth the sales floor approved. Three systems stuck together on version 2 when CPQ
approved version 3 pass the first and fail this one. A contract with an exception held where
operators find it at the end (parked or dead-lettered in the design's exception queue) is a
managed exception, counted apart, not a divergence; so is one whose latest version the
operations team decided not to do (skipped, or compensated: `human_time`, rule 4).
"""

from __future__ import annotations

from typing import Any, ClassVar

from harness.checkers.base import (
    EVIDENCE_LIMIT,
    HOLDER_ENTITIES,
    Holders,
    Inputs,
    Status,
    Verdict,
    held_contract,
    holder_slot,
)
from harness.checkers.human import HumanTime
from harness.history import EventRecord, PolicyRecord, Record, RunEnded, StateRecord
from harness.scenario.slos import ConvergenceSLO


class Convergence:
    name: ClassVar[str] = "convergence"
    #: Judged at quiescence: while work is still moving it cannot tell lost from late.
    at_quiescence: ClassVar[bool] = True
    wants: ClassVar[tuple[type, ...]] = (EventRecord, StateRecord, PolicyRecord, RunEnded)
    entities: ClassVar[frozenset[str]] = HOLDER_ENTITIES

    def __init__(
        self,
        slo: ConvergenceSLO | None = None,
        human: HumanTime | None = None,
        absent: tuple[str, ...] = (),
    ) -> None:
        self.slo = slo or ConvergenceSLO()
        self.inputs, self.holders = Inputs(absent), Holders(absent)
        #: The truth each contract must end on: what the sales floor or the web shop sold.
        self.truth = "CPQ's latest approved" if self.inputs.from_cpq else "billing's latest"
        self.human = human
        self.closed_by_people = 0
        self.approved: dict[str, int] = {}  # contract -> latest approved version
        self.held: dict[str, list[int]] = {}  # contract -> ERP, billing, support versions
        self.held_by_exceptions: set[str] = set()  # contracts, at the end
        self.diverged: list[dict[str, Any]] = []
        self.excused = 0

    def observe(self, position: int, record: Record) -> None:
        if isinstance(record, EventRecord):
            found = self.inputs.version(record)
            if found is not None:
                contract, version = found
                self.approved[contract] = max(version, self.approved.get(contract, 0))
        elif isinstance(record, StateRecord):
            slot = holder_slot(record)
            if slot is not None and "contract_version" in record.keys:
                held = self.held.setdefault(str(record.keys.get("contract")), [0, 0, 0])
                held[slot] = int(record.keys["contract_version"])
        elif isinstance(record, PolicyRecord):
            named = held_contract(record)
            if named is not None:
                self.held_by_exceptions.add(named)
        elif isinstance(record, RunEnded):
            closed = self.human.closed if self.human is not None else set()
            for contract, version in sorted(self.approved.items()):
                held = self.held.get(contract, [0, 0, 0])
                if self.holders.agreeing(held) and self.holders.settled(held) == version:
                    continue
                if contract in self.held_by_exceptions:
                    self.excused += 1
                    continue
                if (contract, version) in closed:
                    self.closed_by_people += 1
                    continue
                self.diverged.append(
                    {"contract": contract, "approved": version, **self.holders.evidence(held)}
                )

    def verdict(self) -> Verdict:
        diverged = len(self.diverged)
        figures = {
            "contracts": len(self.approved), "diverged": diverged,
            "held_by_exceptions": self.excused, "closed_by_operations": self.closed_by_people,
        }  # fmt: skip
        slo = {"max_diverged": self.slo.max_diverged}
        if not self.approved:
            nothing = "no quote was approved" if self.inputs.from_cpq else "billing took no order"
            return Verdict(self.name, "unknown", nothing, figures, slo)
        agreeing = len(self.approved) - diverged - self.excused - self.closed_by_people
        summary = (
            f"{agreeing:,} of {len(self.approved):,} contracts end on {self.truth} "
            f"version everywhere; {diverged:,} diverged, {self.excused:,} held by open exceptions"
        )
        if self.closed_by_people:
            summary += f", {self.closed_by_people:,} whose latest version operations closed"
        status: Status = "fail" if diverged > self.slo.max_diverged else "pass"
        return Verdict(self.name, status, summary, figures, slo, self.diverged[:EVIDENCE_LIMIT])
