"""A checker of one's own, complete: ERP calls per approved quote stay within a budget.

ERP vendors meter their APIs (NetSuite's concurrency governance, SAP's call-based pricing), so a
design that reads back or retries too eagerly costs money even when every invariant holds. This
checker counts the calls ERP saw and the quotes CPQ approved (not what the design says of itself):

    .venv/bin/syncline run subscription_amendment --checker examples.erp_call_budget:ErpCallBudget

Its threshold lives in the scenario beside the others (`slo.plugins.erp_call_budget`):

    slo:
      plugins:
        erp_call_budget: {max_calls_per_quote: 6}
"""

from __future__ import annotations

from collections import Counter
from typing import Any, ClassVar

from harness.checkers import Status, Verdict
from harness.history import CallRecord, EventRecord, Record
from harness.scenario import Scenario
from harness.scenario.types import Spec

APPROVED = ("emitted", "quote.approved")


class ErpCallBudgetSLO(Spec):
    max_calls_per_quote: float = 8.0
    """ERP calls allowed per approved quote, on average (retries and read-backs count)."""


class ErpCallBudget:
    """A checker: `name`, the record types it `wants`, `observe` each, then one `verdict`."""

    name = "erp_call_budget"
    SLO = ErpCallBudgetSLO  # validates `slo.plugins.erp_call_budget`, units and all
    wants: ClassVar[tuple[type, ...]] = (CallRecord, EventRecord)

    def __init__(self, scenario: Scenario, slo: ErpCallBudgetSLO) -> None:
        self.slo = slo
        self.calls: Counter[str] = Counter()  # ERP requests per quote (from the request's trace)
        self.quotes: set[str] = set()

    def observe(self, position: int, record: Record) -> None:
        if isinstance(record, CallRecord):
            if record.type == "invoke" and record.system.startswith("erp"):
                quote = (record.keys or {}).get("quote")
                self.calls[str(quote) if quote is not None else "(no quote)"] += 1
            return
        # What CPQ approved (its own event), not what the design says it worked on.
        if isinstance(record, EventRecord) and (record.type, record.event_type) == APPROVED:
            self.quotes.add(str(record.keys.get("quote")))

    def verdict(self) -> Verdict:
        total, quotes = sum(self.calls.values()), len(self.quotes)
        figures: dict[str, Any] = {"erp_calls": total, "quotes": quotes}
        slo = self.slo.model_dump()
        if not quotes:
            return Verdict(self.name, "unknown", "no quote was approved", figures, slo)
        per_quote = total / quotes
        figures["per_quote"] = round(per_quote, 3)
        evidence = [
            {"quote": quote, "erp_calls": count}
            for quote, count in self.calls.most_common(5)
            if quote != "(no quote)"
        ]
        limit = self.slo.max_calls_per_quote
        status: Status = "fail" if per_quote > limit else "pass"
        summary = f"{per_quote:.2f} ERP calls per quote ({total:,} for {quotes:,}; SLO ≤ {limit:g})"
        return Verdict(self.name, status, summary, figures, slo, evidence)
