"""Monotonic versions: no system's copy of a contract ever goes back to an older version.

Each amendment carries the contract's version. ERP's contract, billing's subscription and
support's entitlement must only move forward; a write that puts an older version over a newer
one is a stale overwrite (an out-of-order event applied as it came, a lost update). The only
legitimate step back is a compensation, which the system records as `reverted`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from harness.checkers.base import EVIDENCE_LIMIT, HOLDER_ENTITIES, Verdict, holder_slot, role
from harness.history import Record, StateRecord
from harness.scenario.slos import MonotonicVersionsSLO


class MonotonicVersions:
    name: ClassVar[str] = "monotonic_versions"
    wants: ClassVar[tuple[type, ...]] = (StateRecord,)
    entities: ClassVar[frozenset[str]] = HOLDER_ENTITIES

    def __init__(self, slo: MonotonicVersionsSLO | None = None) -> None:
        self.slo = slo or MonotonicVersionsSLO()
        self.latest: dict[tuple[str, str], int] = {}  # (system, contract) -> newest version seen
        self.writes = 0
        self.stale: dict[str, int] = {}  # system -> stale overwrites
        self.evidence: list[dict[str, Any]] = []

    def observe(self, position: int, record: Record) -> None:
        assert isinstance(record, StateRecord)
        if holder_slot(record) is None or "contract_version" not in record.keys:
            return
        system = role(record.system)
        slot = (system, str(record.keys.get("contract")))
        version = int(record.keys["contract_version"])
        newest = self.latest.get(slot, 0)
        self.writes += 1
        if record.change == "reverted":
            self.latest[slot] = version
            return
        if version < newest:
            self.stale[system] = self.stale.get(system, 0) + 1
            if len(self.evidence) < EVIDENCE_LIMIT:
                self.evidence.append(
                    {
                        "system": system, "contract": slot[1], "wrote": version,
                        "over": newest, "position": position,
                    }
                )  # fmt: skip
            self.latest[slot] = version  # the system now holds the older version
            return
        self.latest[slot] = version

    def verdict(self) -> Verdict:
        stale = sum(self.stale.values())
        figures = {
            "versioned_writes": self.writes,
            "stale_overwrites": stale,
            "stale_by_system": dict(sorted(self.stale.items())),
        }
        if not self.writes:
            return Verdict(self.name, "unknown", "no versioned writes were recorded", figures)
        slo = {"max_stale_overwrites": self.slo.max_stale_overwrites}
        if stale > self.slo.max_stale_overwrites:
            systems = ", ".join(f"{n} in {s}" for s, n in sorted(self.stale.items()))
            summary = (
                f"{stale:,} stale overwrites ({systems}) in {self.writes:,} versioned writes: an "
                "older contract version was written over a newer one"
            )
            return Verdict(self.name, "fail", summary, figures, slo, self.evidence)
        summary = f"{self.writes:,} versioned writes, {stale:,} older than the version already held"
        return Verdict(self.name, "pass", summary, figures, slo, self.evidence)
