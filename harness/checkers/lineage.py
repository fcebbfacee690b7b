"""Lineage: every invoice traces back to its quote through ERP's order and contract.

The seed document asks for "end-to-end traceability from quote approval to ERP order creation,
billing activation, invoice posting". An invoice is traceable when it names its quote, CPQ
approved that quote for the invoice's contract version, ERP booked a sales order for the quote,
and ERP's contract reached that version. An invoice billing raised on its own, or for an order
ERP never booked, is not.
"""

from __future__ import annotations

from typing import Any, ClassVar

from harness.checkers.base import EVIDENCE_LIMIT, Status, Verdict, role
from harness.history import EventRecord, Record, StateRecord
from harness.scenario.slos import LineageSLO


class Lineage:
    name: ClassVar[str] = "lineage"
    wants: ClassVar[tuple[type, ...]] = (EventRecord, StateRecord)

    def __init__(self, slo: LineageSLO | None = None) -> None:
        self.slo = slo or LineageSLO()
        self.quotes: dict[str, tuple[str, int]] = {}  # quote -> (contract, version) approved
        self.orders: set[str] = set()  # quotes ERP booked an order for
        self.erp_versions: set[tuple[str, int]] = set()  # (contract, version) ERP ever held
        self.invoices: list[tuple[int, str, dict[str, Any]]] = []  # position, id, keys

    def observe(self, position: int, record: Record) -> None:
        if isinstance(record, EventRecord):
            if record.type == "emitted" and record.event_type == "quote.approved":
                keys = record.keys
                self.quotes[str(keys["quote"])] = (
                    str(keys["contract"]), int(keys["contract_version"]),
                )  # fmt: skip
            return
        assert isinstance(record, StateRecord)
        if (
            role(record.system) == "erp"
            and record.entity == "sales_order"
            and record.change == "created"
        ):
            self.orders.add(str(record.keys.get("quote")))
        elif role(record.system) == "erp" and record.entity == "contract":
            version = record.keys.get("contract_version")
            if version is not None:
                self.erp_versions.add((str(record.keys.get("contract")), int(version)))
        elif (
            record.system == "billing" and record.entity == "invoice" and record.change == "created"
        ):
            self.invoices.append((position, record.entity_id, dict(record.keys)))

    def _break(self, keys: dict[str, Any]) -> str | None:
        """Where the chain from this invoice back to its quote breaks, or None."""
        quote = keys.get("quote")
        if quote is None:
            return "the invoice names no quote"
        approved = self.quotes.get(str(quote))
        contract, version = str(keys.get("contract")), int(keys.get("contract_version", 0))
        if approved != (contract, version):
            return f"CPQ approved no quote {quote} for {contract} v{version}"
        if str(quote) not in self.orders:
            return f"ERP booked no sales order for quote {quote}"
        if (contract, version) not in self.erp_versions:
            return f"ERP's contract {contract} never reached v{version}"
        return None

    def verdict(self) -> Verdict:
        broken: list[dict[str, Any]] = []
        for position, invoice, keys in self.invoices:
            reason = self._break(keys)
            if reason is not None:
                broken.append({"invoice": invoice, "why": reason, "position": position})
        total = len(self.invoices)
        share = (total - len(broken)) / total if total else 1.0
        figures = {
            "invoices": total,
            "untraceable": len(broken),
            "traceable_share": round(share, 6),
        }
        slo = {"min_traceable": self.slo.min_traceable}
        if not total:
            return Verdict(self.name, "unknown", "no invoice was raised", figures, slo)
        summary = (
            f"{total - len(broken):,} of {total:,} invoices ({share:.2%}) trace back to their "
            "quote through ERP's order and contract"
        )
        status: Status = "fail" if share < self.slo.min_traceable else "pass"
        return Verdict(self.name, status, summary, figures, slo, broken[:EVIDENCE_LIMIT])
