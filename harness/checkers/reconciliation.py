"""Financial reconciliation: the quote, ERP's order and billing's subscription agree, per
contract, in total and line by line, in the contract's currency.

For each contract's latest approved quote: CPQ's approved total and currency, the total of
the ERP sales order booked for that quote, and what billing's subscription is worth at the end
at billing's prices (recurring plus one-time, as a quote totals them). A design that
drops a line, sends another currency, or lets a stale amendment overwrite billing shows here
as money that does not add up. Totals can agree while lines do not (a line left out of ERP's
order with the total kept), so each system's lines are compared too: the SKUs and quantities
ERP booked, and the SKUs, quantities and amounts billing holds, against the quote's. An ERP
order a compensation cancelled is no longer the quote's order. Contracts one of the three never
reached are left to `nothing_lost` and `convergence`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from harness.checkers.base import EVIDENCE_LIMIT, Status, Verdict, role
from harness.history import Record, RunEnded, StateRecord
from harness.scenario.slos import ReconciliationSLO

#: (total, currency, lines): lines as (sku, quantity[, amount]), sorted, as the system recorded
#: (lines None: the record names none, as histories written before lines were recorded)
Money = tuple[int, str, tuple[tuple[Any, ...], ...] | None]


def _money(record: StateRecord) -> Money | None:
    values = record.values
    if not values or "total" not in values:
        return None
    lines = None if "lines" not in values else tuple(tuple(line) for line in values["lines"])
    return int(values["total"]), str(values.get("currency", "")), lines


def _differences(quoted: Money, ordered: Money, billed: Money) -> list[str]:
    """What does not agree, in words (empty when everything does)."""
    found = []
    if not quoted[:2] == ordered[:2] == billed[:2]:
        found.append("totals")
    if quoted[2] is None:
        return found
    booked = tuple(line[:2] for line in quoted[2])
    if ordered[2] is not None and ordered[2] != booked:
        found.append("ERP order lines")
    if billed[2] is not None and billed[2] != quoted[2]:
        found.append("billing lines")
    return found


class Reconciliation:
    name: ClassVar[str] = "reconciliation"
    #: Judged at quiescence: while work is still moving it cannot tell lost from late.
    at_quiescence: ClassVar[bool] = True
    wants: ClassVar[tuple[type, ...]] = (StateRecord, RunEnded)
    entities: ClassVar[frozenset[str]] = frozenset({"quote", "sales_order", "subscription"})

    def __init__(self, slo: ReconciliationSLO | None = None) -> None:
        self.slo = slo or ReconciliationSLO()
        self.latest: dict[str, tuple[int, str, Money]] = {}  # contract -> version, quote, money
        self.orders: dict[str, Money] = {}  # quote -> ERP order money
        self.billed: dict[str, tuple[int, Money]] = {}  # contract -> billing's last version, value
        self.compared = 0
        self.incomplete = 0
        self.mismatched: list[dict[str, Any]] = []

    def observe(self, position: int, record: Record) -> None:
        if isinstance(record, RunEnded):
            self._close()
            return
        assert isinstance(record, StateRecord)
        money = _money(record)
        if money is None:
            if (
                record.entity == "sales_order"
                and (record.values or {}).get("status") == "cancelled"
            ):
                self.orders.pop(str(record.keys.get("quote")), None)  # undone: not the order
            return
        keys = record.keys
        if record.system == "cpq" and record.entity == "quote":
            contract, version = str(keys.get("contract")), int(keys.get("contract_version", 0))
            before = self.latest.get(contract, (0, "", (0, "", None)))
            if version >= before[0]:
                quote = str(keys.get("quote"))
                if before[1] != quote:
                    self.orders.pop(before[1], None)  # superseded: never reconciled now
                self.latest[contract] = (version, quote, money)
        elif role(record.system) == "erp" and record.entity == "sales_order":
            quote, contract = str(keys.get("quote")), str(keys.get("contract"))
            latest = self.latest.get(contract)
            if latest is None or latest[1] == quote:  # only the latest quote is reconciled
                self.orders[quote] = money
        elif record.system == "billing" and record.entity == "subscription":
            self.billed[str(keys.get("contract"))] = (int(keys.get("contract_version", 0)), money)

    def _close(self) -> None:
        for contract, (version, quote, quoted) in sorted(self.latest.items()):
            ordered, held = self.orders.get(quote), self.billed.get(contract)
            if ordered is None or held is None:
                self.incomplete += 1
                continue
            self.compared += 1
            billed_version, billed = held
            differing = _differences(quoted, ordered, billed)
            if differing:
                self.mismatched.append(
                    {"contract": contract, "contract_version": version, "quote": quote,
                     "differ": differing, "quoted": _shown(quoted),
                     "erp_order": _shown(ordered), "billing": _shown(billed),
                     "billing_version": billed_version}
                )  # fmt: skip

    def verdict(self) -> Verdict:
        mismatched = len(self.mismatched)
        figures = {
            "compared": self.compared, "mismatched": mismatched, "incomplete": self.incomplete,
        }  # fmt: skip
        slo = {"max_mismatched": self.slo.max_mismatched}
        if not self.compared:
            return Verdict(self.name, "unknown", "no contract to reconcile", figures, slo)
        summary = (
            f"{self.compared - mismatched:,} of {self.compared:,} contracts reconcile: quote = "
            f"ERP order = billing, in total and line by line, in the contract's currency "
            f"({self.incomplete:,} incomplete, not judged here)"
        )
        status: Status = "fail" if mismatched > self.slo.max_mismatched else "pass"
        return Verdict(self.name, status, summary, figures, slo, self.mismatched[:EVIDENCE_LIMIT])


def _shown(money: Money) -> dict[str, Any]:
    lines = None if money[2] is None else [list(line) for line in money[2]]
    return {"total": money[0], "currency": money[1], "lines": lines}
