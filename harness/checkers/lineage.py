"""Lineage: every invoice traces back to its quote through ERP's order and contract.

The seed document asks for "end-to-end traceability from quote approval to ERP order creation,
billing activation, invoice posting". An invoice is traceable when it names its quote, CPQ
approved that quote for the invoice's contract version, ERP booked a sales order for the quote,
and ERP's contract reached that version. An invoice billing raised on its own, or for an order
ERP never booked, is not.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from harness.checkers.base import EVIDENCE_LIMIT, Status, Verdict, role
from harness.digests import Digests
from harness.history import EventRecord, Record, StateRecord
from harness.scenario.slos import LineageSLO


class Lineage:
    name: ClassVar[str] = "lineage"
    #: Judged at quiescence: while work is still moving it cannot tell lost from late.
    at_quiescence: ClassVar[bool] = True
    wants: ClassVar[tuple[type, ...]] = (EventRecord, StateRecord)
    entities: ClassVar[frozenset[str]] = frozenset({"sales_order", "contract", "invoice"})

    def __init__(self, slo: LineageSLO | None = None) -> None:
        self.slo = slo or LineageSLO()
        self.approved = Digests()  # "quote, contract, version" CPQ approved
        self.orders = Digests()  # quotes ERP booked an order for
        self.erp_versions: dict[str, int] = {}  # contract -> versions ERP ever held, as bits
        self.invoices = 0
        #: Invoices not traceable when raised (position, id, keys): judged again at the end,
        #: as an order or contract version may reach ERP after billing invoiced it.
        self.unresolved: list[tuple[int, str, dict[str, Any]]] = []

    def observe(self, position: int, record: Record) -> None:
        if isinstance(record, EventRecord):
            if record.type == "emitted" and record.event_type == "quote.approved":
                keys = record.keys
                approval = _approval(keys["quote"], keys["contract"], keys["contract_version"])
                self.approved.set(approval, 1)
            return
        assert isinstance(record, StateRecord)
        if (
            role(record.system) == "erp"
            and record.entity == "sales_order"
            and record.change == "created"
        ):
            self.orders.set(str(record.keys.get("quote")), 1)
        elif role(record.system) == "erp" and record.entity == "contract":
            version = record.keys.get("contract_version")
            if version is not None:
                contract = str(record.keys.get("contract"))
                self.erp_versions[contract] = self.erp_versions.get(contract, 0) | 1 << int(version)
        elif (
            record.system == "billing" and record.entity == "invoice" and record.change == "created"
        ):
            self.invoices += 1
            if self._break(record.keys) is not None:
                self.unresolved.append((position, record.entity_id, dict(record.keys)))

    def _break(self, keys: Mapping[str, Any]) -> str | None:
        """Where the chain from this invoice back to its quote breaks, or None."""
        quote = keys.get("quote")
        if quote is None:
            return "the invoice names no quote"
        contract, version = str(keys.get("contract")), int(keys.get("contract_version", 0))
        if _approval(quote, contract, version) not in self.approved:
            return f"CPQ approved no quote {quote} for {contract} v{version}"
        if str(quote) not in self.orders:
            return f"ERP booked no sales order for quote {quote}"
        if not self.erp_versions.get(contract, 0) >> version & 1:
            return f"ERP's contract {contract} never reached v{version}"
        return None

    def verdict(self) -> Verdict:
        broken: list[dict[str, Any]] = []
        for position, invoice, keys in self.unresolved:
            reason = self._break(keys)
            if reason is not None:
                broken.append({"invoice": invoice, "why": reason, "position": position})
        total = self.invoices
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


def _approval(quote: object, contract: object, version: str | int) -> str:
    return f"{quote}\x1f{contract}\x1f{int(version)}"
