"""Steps the alternative designs share, written once: booking an approved quote in ERP."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from harness.designs import canonical
from harness.designs.api import Context
from harness.effects import Effect, Reply
from harness.engine.retry import RetryPolicy


def book_in_erp(
    ctx: Context, policy: RetryPolicy, quote: canonical.Quote, keyed: bool = True
) -> Generator[Effect, Any, Reply]:
    """ERP's sales order, then the contract at the quote's version.

    Returns the reply that failed, or the sales order's (its body has the `order_id`) once both
    are written. With `keyed`, both writes carry idempotency keys made of business ids.
    """
    order = quote.order().request()
    order_key = f"{quote.quote_id}:erp-order" if keyed else None
    created = yield from ctx.call_with_retry(policy, "erp", "create_sales_order", order, order_key)
    if not created.ok:
        return created
    contract_key = f"{quote.contract_id}:v{quote.contract_version}:erp-contract" if keyed else None
    contract = quote.contract().request(created.body["order_id"])
    stored = yield from ctx.call_with_retry(
        policy, "erp", "upsert_contract", contract, contract_key
    )
    return created if stored.ok else stored
