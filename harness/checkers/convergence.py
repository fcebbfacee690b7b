"""Convergence: at the end, ERP, billing and support all hold CPQ's latest approved version.

`partial_updates` asks whether the three agree with each other; this asks whether they agree
with the truth the sales floor approved. Three systems stuck together on version 2 when CPQ
approved version 3 pass the first and fail this one. A contract with a workflow still parked
or dead-lettered is a managed exception, counted apart, not a divergence.
"""

from __future__ import annotations

from typing import Any, ClassVar

from harness.checkers.base import (
    EVIDENCE_LIMIT,
    HOLDER_ENTITIES,
    OPEN_EXCEPTIONS,
    Status,
    Verdict,
    holder_slot,
)
from harness.history import EventRecord, Record, RunEnded, StateRecord, WorkflowRecord
from harness.scenario.slos import ConvergenceSLO


class Convergence:
    name: ClassVar[str] = "convergence"
    wants: ClassVar[tuple[type, ...]] = (EventRecord, StateRecord, WorkflowRecord, RunEnded)
    entities: ClassVar[frozenset[str]] = HOLDER_ENTITIES

    def __init__(self, slo: ConvergenceSLO | None = None) -> None:
        self.slo = slo or ConvergenceSLO()
        self.approved: dict[str, int] = {}  # contract -> latest approved version
        self.held: dict[str, list[int]] = {}  # contract -> ERP, billing, support versions
        self.open: dict[str, str] = {}  # workflow -> contract, while parked or dead-lettered
        self.diverged: list[dict[str, Any]] = []
        self.excused = 0

    def observe(self, position: int, record: Record) -> None:
        if isinstance(record, EventRecord):
            if record.type == "emitted" and record.event_type == "quote.approved":
                contract = str(record.keys["contract"])
                version = int(record.keys["contract_version"])
                self.approved[contract] = max(version, self.approved.get(contract, 0))
        elif isinstance(record, StateRecord):
            slot = holder_slot(record)
            if slot is not None and "contract_version" in record.keys:
                held = self.held.setdefault(str(record.keys.get("contract")), [0, 0, 0])
                held[slot] = int(record.keys["contract_version"])
        elif isinstance(record, WorkflowRecord):
            owner = record.keys.get("contract")
            if record.status in OPEN_EXCEPTIONS and owner is not None:
                self.open[record.workflow] = str(owner)
            else:
                self.open.pop(record.workflow, None)
        elif isinstance(record, RunEnded):
            excused = set(self.open.values())
            for contract, version in sorted(self.approved.items()):
                held = self.held.get(contract, [0, 0, 0])
                if held == [version] * 3:
                    continue
                if contract in excused:
                    self.excused += 1
                    continue
                self.diverged.append(
                    {"contract": contract, "approved": version,
                     "erp_billing_support": list(held)}
                )  # fmt: skip

    def verdict(self) -> Verdict:
        diverged = len(self.diverged)
        figures = {
            "contracts": len(self.approved), "diverged": diverged,
            "held_by_exceptions": self.excused,
        }  # fmt: skip
        slo = {"max_diverged": self.slo.max_diverged}
        if not self.approved:
            return Verdict(self.name, "unknown", "no quote was approved", figures, slo)
        summary = (
            f"{len(self.approved) - diverged - self.excused:,} of {len(self.approved):,} "
            f"contracts end on CPQ's latest approved version everywhere; {diverged:,} diverged, "
            f"{self.excused:,} held by open exceptions"
        )
        status: Status = "fail" if diverged > self.slo.max_diverged else "pass"
        return Verdict(self.name, status, summary, figures, slo, self.diverged[:EVIDENCE_LIMIT])
