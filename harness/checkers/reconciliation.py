"""Financial reconciliation: the quote's total, ERP's order total and billing's subscription
value agree, per contract, in the contract's currency.

For each contract's latest approved quote: CPQ's approved total and currency, the total of
the ERP sales order booked for that quote, and what billing's subscription is worth at the end
at billing's prices (recurring plus one-time, as a quote totals them). A design that
drops a line, sends another currency, or lets a stale amendment overwrite billing shows here
as money that does not add up. Contracts one of the three never reached are left to
`nothing_lost` and `convergence`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from harness.checkers.base import EVIDENCE_LIMIT, Status, Verdict, role
from harness.history import Record, RunEnded, StateRecord
from harness.scenario.slos import ReconciliationSLO

Money = tuple[int, str]


def _money(record: StateRecord) -> Money | None:
    values = record.values
    if not values or "total" not in values:
        return None
    return int(values["total"]), str(values.get("currency", ""))


class Reconciliation:
    name: ClassVar[str] = "reconciliation"
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
            return
        keys = record.keys
        if record.system == "cpq" and record.entity == "quote":
            contract, version = str(keys.get("contract")), int(keys.get("contract_version", 0))
            before = self.latest.get(contract, (0, "", (0, "")))
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
            if not quoted == ordered == billed:
                self.mismatched.append(
                    {"contract": contract, "contract_version": version, "quote": quote,
                     "quoted": list(quoted), "erp_order": list(ordered),
                     "billing": list(billed), "billing_version": billed_version}
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
            f"ERP order = billing, in the contract's currency ({self.incomplete:,} incomplete, "
            "not judged here)"
        )
        status: Status = "fail" if mismatched > self.slo.max_mismatched else "pass"
        return Verdict(self.name, status, summary, figures, slo, self.mismatched[:EVIDENCE_LIMIT])
