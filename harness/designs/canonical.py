"""Canonical entities and the one place vendor payloads are mapped to and from them.

The integration layer's governed contracts (seed document: "canonical data models selectively
for shared business entities"): every vendor event is turned into a canonical entity here,
whatever the vendor's shape (Salesforce CDC header, Zuora callout) and schema version (1, or 2
after a vendor upgrade), and every request to a vendor is built here from canonical entities.

| entity        | from                                    | back to (request)                   |
|---------------|-----------------------------------------|-------------------------------------|
| Customer      | the quote                               | part of the order                   |
| Product       | each quote line (SKU and kind)          | part of the order's lines           |
| Quote         | CPQ `quote.approved`                    | -                                   |
| Order         | the quote                               | ERP sales order; billing subscription |
| Contract      | the quote                               | ERP contract version                |
| Subscription  | billing `subscription.*`                | -                                   |
| Entitlement   | the quote or subscription; support's record | support entitlement             |
| Invoice, CreditMemo, Payment | billing's document events | ERP GL postings (ledger.py)       |
| Case          | support `case.*`                        | -                                   |

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


#: Billing's operation for each kind of quote, once the contract has a subscription.
BILLING_OPERATIONS: Mapping[str, str] = {
    "new": "amend_subscription",
    "amendment": "amend_subscription",
    "renewal": "renew_subscription",
    "cancellation": "cancel_subscription",
}


class MappingError(Exception):
    """A vendor payload that cannot be mapped; the message is the reason to park it with."""


@dataclass(frozen=True, slots=True)
class Customer:
    customer_id: str
    currency: str  # the currency the customer is quoted and billed in
    region: str = ""  # the account's country: which legal entity, and which ERP, serves it


@dataclass(frozen=True, slots=True)
class Product:
    sku: str
    kind: str = ""  # subscription | support | hardware, as CPQ's catalog says ("" if unsaid)


@dataclass(frozen=True, slots=True)
class Line:
    sku: str
    quantity: int
    kind: str = ""
    support_level: str = ""  # the entitlement a support plan grants, as CPQ and billing say

    @property
    def product(self) -> Product:
        return Product(self.sku, self.kind)


@dataclass(frozen=True, slots=True)
class Contract:
    """A contract at one version: what the customer has bought, as every system must show it."""

    contract_id: str
    contract_version: int
    customer_id: str
    lines: tuple[Line, ...]

    def request(self, order_id: str) -> dict[str, Any]:
        """ERP's contract upsert for this version, booked by `order_id`."""
        return {
            "contract_id": self.contract_id,
            "contract_version": self.contract_version,
            "customer_id": self.customer_id,
            "order_id": order_id,
            "lines": _line_requests(self.lines),
        }


@dataclass(frozen=True, slots=True)
class Order:
    """What an approved quote asks the back office to do: book, bill and entitle."""

    quote_id: str
    contract: Contract
    customer: Customer
    total: int
    term_months: int

    def request(self) -> dict[str, Any]:
        """ERP's sales order and billing's subscription requests take the same fields."""
        contract = self.contract
        return {
            "quote_id": self.quote_id,
            "contract_id": contract.contract_id,
            "contract_version": contract.contract_version,
            "customer_id": self.customer.customer_id,
            "currency": self.customer.currency,
            "lines": _line_requests(contract.lines),
            "total": self.total,
            "term_months": self.term_months,
        }


@dataclass(frozen=True, slots=True)
class Entitlement:
    """What support must show for a contract version: its best support plan, or none."""

    contract_id: str
    contract_version: int
    customer_id: str
    level: str
    covered_units: int

    def request(self) -> dict[str, Any]:
        return {
            "contract_id": self.contract_id,
            "contract_version": self.contract_version,
            "customer_id": self.customer_id,
            "level": self.level,
            "covered_units": self.covered_units,
        }


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
    region: str = ""

    @property
    def customer(self) -> Customer:
        return Customer(self.customer_id, self.currency, self.region)

    def contract(self) -> Contract:
        return Contract(self.contract_id, self.contract_version, self.customer_id, self.lines)

    def order(self) -> Order:
        return Order(self.quote_id, self.contract(), self.customer, self.total, self.term_months)

    def entitlement(self) -> Entitlement:
        return entitlement_for(self.contract(), active=self.quote_type != "cancellation")


@dataclass(frozen=True, slots=True)
class Subscription:
    subscription_id: str
    contract_id: str
    contract_version: int
    customer_id: str
    status: str
    lines: tuple[Line, ...]
    term_end: float | None = None

    def entitlement(self) -> Entitlement:
        contract = Contract(self.contract_id, self.contract_version, self.customer_id, self.lines)
        return entitlement_for(contract, active=self.status == "active")


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


def entitlement_for(contract: Contract, active: bool) -> Entitlement:
    """The support entitlement a contract's lines grant: its best support plan."""
    level, units = "none", 0
    for line in contract.lines:
        plan = line.support_level
        if plan and (level == "none" or plan == "premium"):
            level, units = plan, line.quantity
    return Entitlement(
        contract.contract_id, contract.contract_version, contract.customer_id,
        level if active else "none", units if active else 0,
    )  # fmt: skip


def held_entitlement(record: Mapping[str, Any]) -> Entitlement:
    """Support's entitlement record (a `get_entitlement` answer) as a canonical entitlement."""
    return _from_record("support entitlement", record, lambda: Entitlement(
        str(record["contract_id"]), int(record["contract_version"]), str(record["customer_id"]),
        str(record["level"]), int(record["covered_units"]),
    ))  # fmt: skip


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


#: The fields of a CPQ quote its approval event carries, besides its lines: what a quote record
#: read back from CPQ is mapped with when its event can no longer be replayed.
QUOTE_EVENT_FIELDS = (
    "quote_id", "quote_type", "contract_id", "contract_version", "customer_id", "region",
    "currency", "total", "amendment", "term_months",
)  # fmt: skip


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
        region=str(fields.get("region", "")),
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
    return tuple(
        Line(
            str(line["sku"]),
            int(line["quantity"]),
            str(line.get("kind", "")),
            str(line.get("support_level") or ""),
        )
        for line in raw
    )


def _line_requests(lines: tuple[Line, ...]) -> list[dict[str, Any]]:
    return [{"sku": line.sku, "quantity": line.quantity} for line in lines]


def _from_record(what: str, record: Mapping[str, Any], make: Callable[[], T]) -> T:
    try:
        return make()
    except (KeyError, TypeError, ValueError) as error:
        raise MappingError(f"{what} record: cannot map field {error}") from None


def _build(event: DomainEvent, make: Callable[[], T]) -> T:
    try:
        built = make()
    except (KeyError, TypeError, ValueError) as error:
        raise MappingError(f"{event.type} {event.event_id}: cannot map field {error}") from None
    return built
