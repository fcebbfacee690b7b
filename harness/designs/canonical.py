"""Canonical entities and the one place vendor payloads are mapped to and from them.

The integration layer's governed contracts (seed document: "canonical data models selectively
for shared business entities"): every vendor event is turned into a canonical entity here,
whatever the vendor's shape (Salesforce CDC header, Zuora callout) and schema version (1, or 2
after a vendor upgrade), and every request to a vendor is built here from canonical entities.
A schema version this module does not know, or a payload that does not fit, raises
`MappingError` with a reason a person can act on; designs park the work with it, never crash
and never drop it silently.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from simulators.base import DomainEvent

T = TypeVar("T")

#: Schema versions understood, per (system, event type prefix).
SUPPORTED_VERSIONS: Mapping[str, frozenset[int]] = {
    "cpq": frozenset({1, 2}),
    "billing": frozenset({1, 2}),
    "support": frozenset({1, 2}),
}

#: Entitlement level granted by each support plan.
SUPPORT_LEVELS = {"SUP-STANDARD": "standard", "SUP-PREMIUM": "premium"}


class MappingError(Exception):
    """A vendor payload that cannot be mapped; the message is the reason to park it with."""


@dataclass(frozen=True, slots=True)
class Line:
    sku: str
    quantity: int


@dataclass(frozen=True, slots=True)
class Quote:
    quote_id: str
    quote_type: str  # new | amendment | renewal | cancellation
    contract_id: str
    contract_version: int
    customer_id: str
    currency: str
    total: int
    term_months: int
    lines: tuple[Line, ...]

    def order_request(self) -> dict[str, Any]:
        """The canonical order, as ERP's and billing's order requests take it."""
        return {
            "quote_id": self.quote_id,
            "contract_id": self.contract_id,
            "contract_version": self.contract_version,
            "customer_id": self.customer_id,
            "currency": self.currency,
            "lines": [{"sku": line.sku, "quantity": line.quantity} for line in self.lines],
            "total": self.total,
            "term_months": self.term_months,
        }

    def entitlement_request(self) -> dict[str, Any]:
        return entitlement_request(
            self.contract_id, self.contract_version, self.customer_id, self.lines,
            active=self.quote_type != "cancellation",
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Subscription:
    subscription_id: str
    contract_id: str
    contract_version: int
    customer_id: str
    status: str
    lines: tuple[Line, ...]
    term_end: float | None = None

    def entitlement_request(self) -> dict[str, Any]:
        return entitlement_request(
            self.contract_id, self.contract_version, self.customer_id, self.lines,
            active=self.status == "active",
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Invoice:
    invoice_id: str
    contract_id: str
    contract_version: int
    customer_id: str
    currency: str
    amount: int


@dataclass(frozen=True, slots=True)
class CreditMemo:
    credit_memo_id: str
    invoice_id: str
    contract_id: str
    customer_id: str
    currency: str
    amount: int


@dataclass(frozen=True, slots=True)
class Payment:
    payment_id: str
    invoice_id: str
    customer_id: str
    currency: str
    amount: int


@dataclass(frozen=True, slots=True)
class Case:
    case_id: str
    customer_id: str
    severity: int
    entitled: bool
    contract_id: str | None


def entitlement_request(
    contract_id: str, version: int, customer_id: str, lines: tuple[Line, ...], active: bool
) -> dict[str, Any]:
    """The support entitlement a contract's lines grant: its best support plan."""
    level, units = "none", 0
    for line in lines:
        plan = SUPPORT_LEVELS.get(line.sku)
        if plan is not None and (level == "none" or plan == "premium"):
            level, units = plan, line.quantity
    return {
        "contract_id": contract_id,
        "contract_version": version,
        "customer_id": customer_id,
        "level": level if active else "none",
        "covered_units": units if active else 0,
    }


def body(event: DomainEvent) -> Mapping[str, Any]:
    """The business fields of an event, for a schema version this module knows."""
    payload = event.payload
    try:
        version = int(payload.get("schema_version", 1))
    except (TypeError, ValueError):
        raise MappingError(f"{event.type} {event.event_id}: unreadable schema_version") from None
    if version not in SUPPORTED_VERSIONS.get(event.system, frozenset({1})):
        raise MappingError(
            f"{event.type} {event.event_id}: {event.system} schema version {version} is not "
            "supported by the integration's contracts"
        )
    if version >= 2:
        data = payload.get("data")
        if not isinstance(data, Mapping):
            raise MappingError(f"{event.type} {event.event_id}: version {version} has no data")
        return data
    return payload


def quote(event: DomainEvent) -> Quote:
    fields = body(event)
    return _build(event, lambda: Quote(
        quote_id=str(fields["quote_id"]),
        quote_type=str(fields.get("quote_type", "amendment" if fields.get("amendment") else "new")),
        contract_id=str(fields["contract_id"]),
        contract_version=int(fields["contract_version"]),
        customer_id=str(fields["customer_id"]),
        currency=str(fields["currency"]),
        total=int(fields["total"]),
        term_months=int(fields.get("term_months", 36)),
        lines=_lines(fields["lines"]),
    ))  # fmt: skip


def subscription(event: DomainEvent) -> Subscription:
    fields = body(event)
    return _build(event, lambda: Subscription(
        subscription_id=str(fields["subscription_id"]),
        contract_id=str(fields["contract_id"]),
        contract_version=int(fields["contract_version"]),
        customer_id=str(fields["customer_id"]),
        status=str(fields.get("status", "active")),
        lines=_lines(fields["lines"]),
        term_end=fields.get("term_end"),
    ))  # fmt: skip


def invoice(event: DomainEvent) -> Invoice:
    fields = body(event)
    return _build(event, lambda: Invoice(
        str(fields["invoice_id"]), str(fields["contract_id"]), int(fields["contract_version"]),
        str(fields["customer_id"]), str(fields["currency"]), int(fields["amount"]),
    ))  # fmt: skip


def reversal(event: DomainEvent) -> CreditMemo:
    """An invoice reversal: the credit memo billing issued against the invoice."""
    fields = body(event)
    return _build(event, lambda: CreditMemo(
        str(fields["credit_memo_id"]), str(fields["invoice_id"]), str(fields["contract_id"]),
        str(fields["customer_id"]), str(fields["currency"]), int(fields["amount"]),
    ))  # fmt: skip


def payment(event: DomainEvent) -> Payment:
    fields = body(event)
    return _build(event, lambda: Payment(
        str(fields["payment_id"]), str(fields["invoice_id"]), str(fields["customer_id"]),
        str(fields["currency"]), int(fields["amount"]),
    ))  # fmt: skip


def case(event: DomainEvent) -> Case:
    fields = body(event)
    return _build(event, lambda: Case(
        str(fields["case_id"]), str(fields["customer_id"]), int(fields["severity"]),
        bool(fields["entitled"]), fields.get("contract_id"),
    ))  # fmt: skip


def _lines(raw: Any) -> tuple[Line, ...]:
    return tuple(Line(str(line["sku"]), int(line["quantity"])) for line in raw)


def _build(event: DomainEvent, make: Callable[[], T]) -> T:
    try:
        built = make()
    except (KeyError, TypeError, ValueError) as error:
        raise MappingError(f"{event.type} {event.event_id}: cannot map field {error}") from None
    return built
