"""No partial updates at quiescence: ERP, billing and support agree on every contract at the end.

The seed document's failure pattern is "partially updating downstream systems": billing shows
an amendment ERP never booked, or support never hears of it. When the run ends (after its
drain), every contract must show the same version in ERP's contract, billing's subscription and
support's entitlement, unless an exception for that contract is held where operators find it at
the end (parked or dead-lettered in the design's exception queue): a managed exception.

It also measures how long contracts were exposed in a partial state during the run (from the
first system moving to a version until the last catches up), which is normal for seconds or
minutes and alarming for hours.
"""

from __future__ import annotations

from typing import Any, ClassVar

from harness.checkers.base import (
    EVIDENCE_LIMIT,
    HOLDER_ENTITIES,
    Holders,
    Status,
    Verdict,
    held_contract,
    holder_slot,
    percentile,
    rounded,
)
from harness.history import PolicyRecord, Record, RunEnded, StateRecord
from harness.scenario.slos import PartialUpdatesSLO
from harness.units import format_duration


class PartialUpdates:
    name: ClassVar[str] = "partial_updates"
    #: Judged at quiescence: while work is still moving it cannot tell lost from late.
    at_quiescence: ClassVar[bool] = True
    wants: ClassVar[tuple[type, ...]] = (StateRecord, PolicyRecord, RunEnded)
    entities: ClassVar[frozenset[str]] = HOLDER_ENTITIES

    def __init__(self, slo: PartialUpdatesSLO | None = None, absent: tuple[str, ...] = ()) -> None:
        self.slo = slo or PartialUpdatesSLO()
        self.holders = Holders(absent)
        self.versions: dict[str, list[int]] = {}
        self.partial_since: dict[str, float] = {}
        self.exposures: list[float] = []
        self.held_by_exceptions: set[str] = set()  # contracts, at the end
        self.partial: list[dict[str, Any]] = []
        self.explained = 0

    def observe(self, position: int, record: Record) -> None:
        if isinstance(record, StateRecord):
            slot = holder_slot(record)
            if slot is None:
                return
            contract = str(record.keys.get("contract"))
            versions = self.versions.setdefault(contract, [0, 0, 0])
            versions[slot] = int(record.keys.get("contract_version", 0))
            agreeing = self.holders.agreeing(versions)
            if not agreeing and contract not in self.partial_since:
                self.partial_since[contract] = record.t
            elif agreeing and contract in self.partial_since:
                self.exposures.append(record.t - self.partial_since.pop(contract))
        elif isinstance(record, PolicyRecord):
            held = held_contract(record)
            if held is not None:
                self.held_by_exceptions.add(held)
        elif isinstance(record, RunEnded):
            self._close(record.t)

    def _close(self, end: float) -> None:
        excused = self.held_by_exceptions
        for contract, since in self.partial_since.items():
            if contract in excused:
                self.explained += 1
                continue
            shown = self.holders.evidence(self.versions[contract])
            self.partial.append(
                {"contract": contract, **shown, "partial_for_s": round(end - since, 3)}
            )

    def verdict(self) -> Verdict:
        ordered = sorted(self.exposures)
        figures = {
            "contracts": len(self.versions),
            "partial_at_end": len(self.partial),
            "explained_by_exceptions": self.explained,
            "exposure_p95_s": rounded(percentile(ordered, 95)),
            "exposure_max_s": rounded(ordered[-1] if ordered else float("nan")),
        }
        limit = self.slo.max_exposure
        slo = {"max_partial": self.slo.max_partial, "max_exposure_s": limit}
        if not self.versions:
            return Verdict(self.name, "unknown", "no contract was written", figures, slo)
        exposed = (
            f"; partial states lasted up to {format_duration(ordered[-1])} (p95 "
            f"{format_duration(percentile(ordered, 95))})"
            if ordered
            else ""
        )
        summary = (
            f"{len(self.partial):,} of {len(self.versions):,} contracts partially updated at the "
            f"end ({self.explained:,} more held by open exceptions){exposed}"
        )
        too_long = limit is not None and bool(ordered) and ordered[-1] > limit
        if too_long:
            summary += f": exposure above {format_duration(limit or 0)}"
        status: Status = "fail" if len(self.partial) > self.slo.max_partial or too_long else "pass"
        return Verdict(self.name, status, summary, figures, slo, self.partial[:EVIDENCE_LIMIT])
