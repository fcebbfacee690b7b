"""Holdings: what ERP, billing and support hold for each contract is what the business sold.

Version numbers can agree while content does not: a support adapter that keeps `premium` on a
cancelled contract, an ERP contract that keeps the lines it was signed with, a renewal sent as
an amendment that never extends the term. So at the end of the run each system's last record of
each contract is compared, at the version the system itself says it holds, with what CPQ sold
for that version (the business truth, harness/checkers/truth.py), in both directions:

- behind or different: ERP's contract lines (SKU, quantity); billing's lines (SKU, quantity,
  amount), currency, status and term; support's level and covered units (a cancelled
  entitlement grants nothing);
- ahead: a contract version, or an ERP sales order for a quote, that CPQ never approved;
- a compensation a design reported (its `compensation / compensated` note naming ERP's
  orders) that ERP does not show: an order still open, or the contract not put back.

Lag is not judged here (convergence and the windows do): a system holding an older version is
compared with that version's content.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from harness.checkers.base import EVIDENCE_LIMIT, Status, Verdict, holder_slot
from harness.checkers.truth import MONTH_S, Sold, Truth
from harness.history import PolicyRecord, Record, RunEnded, StateRecord
from harness.scenario.slos import HoldingsSLO

#: The holder each slot of `holder_slot` names.
SYSTEMS = ("erp", "billing", "support")


def held_grant(values: Mapping[str, Any]) -> tuple[str, int]:
    """What a support entitlement grants: nothing once cancelled or at level `none`."""
    if values.get("status") == "cancelled" or values.get("level") == "none":
        return "none", 0
    return str(values.get("level")), int(values.get("covered_units", 0))


def differences(system: str, values: Mapping[str, Any], sold: Sold) -> dict[str, Any]:
    """What `system`'s record holds that differs from what was sold, as {what: [held, owed]}."""
    found: dict[str, Any] = {}
    if system == "erp":
        booked = tuple((str(s), int(q)) for s, q in values.get("lines", ()))
        if booked != sold.booked:
            found["lines"] = [_listed(booked), _listed(sold.booked)]
    elif system == "billing":
        lines = tuple((str(s), int(q), int(a)) for s, q, a in values.get("lines", ()))
        if lines != sold.lines:
            found["lines"] = [_listed(lines), _listed(sold.lines)]
        if values.get("currency") != sold.currency:
            found["currency"] = [values.get("currency"), sold.currency]
        status = "active" if sold.active else "cancelled"
        if values.get("status") != status:
            found["status"] = [values.get("status"), status]
        elif sold.active and "term_end" in values:
            months = round((float(values["term_end"]) - float(values["term_start"])) / MONTH_S)
            if months != sold.term_months:
                found["term_months"] = [months, sold.term_months]
    else:
        grant = held_grant(values)
        if grant != sold.grant:
            found["entitlement"] = [list(grant), list(sold.grant)]
    return found


def _listed(lines: tuple[tuple[Any, ...], ...]) -> list[list[Any]]:
    return [list(line) for line in lines]


class Holdings:
    name: ClassVar[str] = "holdings"
    #: Judged at quiescence: the last record of each contract in each system.
    at_quiescence: ClassVar[bool] = True
    wants: ClassVar[tuple[type, ...]] = (StateRecord, PolicyRecord, RunEnded)
    entities: ClassVar[frozenset[str]] = frozenset(
        {"quote", "contract", "subscription", "entitlement", "sales_order"}
    )

    def __init__(self, slo: HoldingsSLO | None = None) -> None:
        self.slo = slo or HoldingsSLO()
        self.truth = Truth()
        # (system, contract) -> the holder's last record: system role, version, values, position
        self.held: dict[tuple[str, str], tuple[int, int, Mapping[str, Any], int]] = {}
        self.orders: dict[str, tuple[str, bool, int]] = {}  # order -> quote, open, position
        self.compensations: list[tuple[str, Mapping[str, Any], int]] = []
        self.compared = dict.fromkeys(SYSTEMS, 0)
        self.differing = dict.fromkeys(SYSTEMS, 0)
        self.unsold = 0
        self.unshown = 0
        self.found: list[dict[str, Any]] = []

    def observe(self, position: int, record: Record) -> None:
        if type(record) is StateRecord:
            if self.truth.observe(position, record) is not None:
                return
            slot = holder_slot(record)
            if slot is not None and record.values is not None:
                contract = str(record.keys.get("contract"))
                version = int(record.keys.get("contract_version", 0))
                self.held[(record.system, contract)] = (slot, version, record.values, position)
            elif record.entity == "sales_order" and record.system.startswith("erp"):
                quote = str(record.keys.get("quote"))
                before = self.orders.get(record.entity_id, (quote, True, position))
                still_open = (record.values or {}).get("status") != "cancelled" and before[1]
                self.orders[record.entity_id] = (quote, still_open, before[2])
        elif type(record) is PolicyRecord:
            if record.policy == "compensation" and record.event == "compensated":
                self.compensations.append((record.subject, record.details or {}, position))
        elif type(record) is RunEnded:
            self._close()

    def _close(self) -> None:
        for (system, contract), (slot, version, values, position) in sorted(self.held.items()):
            if version == 0:  # put back to nothing by a compensation: nothing to hold
                continue
            role = SYSTEMS[slot]
            sold = self.truth.at(contract, version)
            item = {"system": system, "contract": contract, "contract_version": version,
                    "position": position}  # fmt: skip
            if sold is None:
                self.unsold += 1
                self.found.append({**item, "why": "holds a contract version CPQ never approved"})
                continue
            self.compared[role] += 1
            differ = differences(role, values, sold)
            if differ:
                self.differing[role] += 1
                self.found.append({**item, "quote": sold.quote, "differ": differ})
        approved = {
            sold.quote for versions in self.truth.sold.values() for sold in versions.values()
        }
        for order, (quote, still_open, position) in sorted(self.orders.items()):
            if still_open and quote not in approved:
                self.unsold += 1
                why = "an ERP sales order for a quote CPQ never approved"
                self.found.append(
                    {"order": order, "quote": quote, "position": position, "why": why}
                )
        for workflow, details, position in self.compensations:
            for order in details.get("orders") or ():
                if self.orders.get(str(order), ("", False, 0))[1]:
                    self.unshown += 1
                    why = "reported cancelled by a compensation; ERP holds it open"
                    self.found.append(
                        {"workflow": workflow, "order": order, "position": position, "why": why}
                    )

    def verdict(self) -> Verdict:
        differing = sum(self.differing.values())
        wrong = differing + self.unsold + self.unshown
        figures: dict[str, Any] = {
            "compared": dict(self.compared), "differing": dict(self.differing),
            "unsold": self.unsold, "compensations_not_shown": self.unshown,
        }  # fmt: skip
        slo = {"max_mismatched": self.slo.max_mismatched}
        compared = sum(self.compared.values())
        if not compared:
            return Verdict(
                self.name, "unknown", "no contract held anywhere to compare", figures, slo
            )
        by_system = ", ".join(
            f"{system.upper() if system == 'erp' else system} {self.differing[system]:,}"
            for system in SYSTEMS
        )
        summary = (
            f"{compared - differing:,} of {compared:,} contract records hold what CPQ sold at "
            f"their version (differing: {by_system}); {self.unsold:,} held that CPQ never "
            f"approved; {self.unshown:,} reported compensations ERP does not show"
        )
        status: Status = "fail" if wrong > self.slo.max_mismatched else "pass"
        return Verdict(self.name, status, summary, figures, slo, self.found[:EVIDENCE_LIMIT])
