"""What billing announces, as ERP's ledger takes it: invoices, payments and reversals.

Each billing document the orchestrator hears of becomes one GL posting in ERP, under an
idempotency key of the document's own id, so it is posted once however often it is heard of.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from harness.designs import canonical
from simulators.base import DomainEvent

#: The billing events that carry a document for the ledger.
LEDGER_EVENTS = ("invoice.posted", "payment.posted", "invoice.reversed")


@dataclass(frozen=True, slots=True)
class Posting:
    operation: str
    request: Mapping[str, Any]
    idem_key: str
    keys: Mapping[str, str | int]

    @property
    def lookup(self) -> dict[str, str]:
        """`find_journal_entries`' request for this posting: its source document, by its id."""
        source = self.operation.removeprefix("post_")
        return {"source": source, f"{source}_id": str(self.request[f"{source}_id"])}


def posting_for(event: DomainEvent) -> Posting:
    """The ERP posting for a billing document event (MappingError if it cannot be mapped)."""
    if event.type == "invoice.posted":
        invoice = canonical.invoice(event)
        request = {
            "invoice_id": invoice.invoice_id, "customer_id": invoice.customer_id,
            "currency": invoice.currency, "amount": invoice.amount,
            "contract_id": invoice.contract_id,
        }  # fmt: skip
        return Posting(
            "post_invoice", request, f"{invoice.invoice_id}:gl", {"invoice": invoice.invoice_id}
        )
    if event.type == "payment.posted":
        payment = canonical.payment(event)
        request = {
            "payment_id": payment.payment_id, "invoice_id": payment.invoice_id,
            "customer_id": payment.customer_id, "currency": payment.currency,
            "amount": payment.amount,
        }  # fmt: skip
        keys = {"payment": payment.payment_id, "invoice": payment.invoice_id}
        return Posting("post_payment", request, f"{payment.payment_id}:gl", keys)
    if event.type == "invoice.reversed":
        memo = canonical.reversal(event)
        request = {
            "credit_memo_id": memo.credit_memo_id, "customer_id": memo.customer_id,
            "currency": memo.currency, "amount": memo.amount, "contract_id": memo.contract_id,
        }  # fmt: skip
        keys = {"credit_memo": memo.credit_memo_id, "invoice": memo.invoice_id}
        return Posting("post_credit_memo", request, f"{memo.credit_memo_id}:gl", keys)
    raise canonical.MappingError(f"{event.type} {event.event_id}: not a ledger document")
