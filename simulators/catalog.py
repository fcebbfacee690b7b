"""The product catalog the simulated systems price and map: products, price books, line amounts.

Amounts are integers in the currency's minor unit (cents; yen have none), so totals add up
exactly across CPQ, ERP and billing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

ProductKind = Literal["hardware", "subscription", "support"]

#: Minor units per major unit, by ISO currency (ISO 4217 exponents).
MINOR_UNITS: Mapping[str, int] = {
    "USD": 100, "EUR": 100, "GBP": 100, "JPY": 1, "BRL": 100, "AUD": 100, "INR": 100, "CAD": 100,
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Product:
    """A sellable item: one-time hardware, or a recurring (annual) subscription or support plan."""

    sku: str
    name: str
    kind: ProductKind
    prices: Mapping[str, int]  # currency -> price in minor units (per unit, per year if recurring)
    support_level: str | None = None  # entitlement level a support plan grants

    @property
    def recurring(self) -> bool:
        return self.kind != "hardware"


class Catalog:
    """Products by SKU, with the arithmetic every system shares."""

    def __init__(self, products: Iterable[Product]) -> None:
        self.products: dict[str, Product] = {p.sku: p for p in products}

    def __contains__(self, sku: object) -> bool:
        return sku in self.products

    def product(self, sku: str) -> Product:
        return self.products[sku]

    def line_amount(self, line: Mapping[str, Any], currency: str) -> int:
        return int(self.products[line["sku"]].prices[currency]) * int(line["quantity"])

    def total(self, lines: Iterable[Mapping[str, Any]], currency: str) -> int:
        return sum(self.line_amount(line, currency) for line in lines)

    def recurring_total(self, lines: Iterable[Mapping[str, Any]], currency: str) -> int:
        return sum(
            self.line_amount(line, currency)
            for line in lines
            if self.products[line["sku"]].recurring
        )

    def one_time_total(self, lines: Iterable[Mapping[str, Any]], currency: str) -> int:
        return sum(
            self.line_amount(line, currency)
            for line in lines
            if not self.products[line["sku"]].recurring
        )

    def priced_lines(self, lines: Iterable[Mapping[str, Any]], currency: str) -> list[list[Any]]:
        """Each line as `[sku, quantity, amount]`, sorted: what the history records of the lines
        a write commits to, so they can be reconciled line by line."""
        return sorted(
            [str(line["sku"]), int(line["quantity"]), self.line_amount(line, currency)]
            for line in lines
        )
