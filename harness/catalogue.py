"""What the business is: its regions (one legal entity each), currencies and products.

By default the seed document's global equipment manufacturer: nine regions, eight currencies and
seven products (edge controllers, fleet software per device, an analytics add-on, two support
plans). A scenario may add regions and currencies (`world.legal_entities`, `world.currencies`)
and sell its own products instead (`world.products`); `Catalogue` is what both resolve to.

A product's roles tell the sales floor (harness/workload.py) what a deal and an amendment look
like: a new deal takes one of the hardware products, the base tier of each product family
(`upgrades_to` links a tier to the next; the next is taken instead with its `share`) and each
add-on with its `share`; an upgrade moves a family up a tier, an add-on amendment adds an add-on,
a downgrade moves a subscription family down.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from simulators.catalog import Product

ProductKind = Literal["hardware", "subscription", "support"]


@dataclass(frozen=True, slots=True)
class Region:
    code: str
    legal_name: str  # the subsidiary's name in ERP
    currency: str
    locale: str  # Faker's, for customer names
    tax_code: str


@dataclass(frozen=True, slots=True)
class Currency:
    code: str
    minor_units: int  # per major unit: 100 for cents, 1 for yen
    per_usd: float  # units per US dollar, for prices given in dollars


@dataclass(frozen=True, slots=True)
class Offer:
    """A product as the business sells it: the vendors' `Product` plus its roles in deals."""

    sku: str
    name: str
    kind: ProductKind
    list_price: float  # US dollars per unit (per year if recurring)
    support_level: str | None = None  # the entitlement a support plan grants
    upgrades_to: str | None = None  # the family's next tier
    add_on: bool = False
    share: float = 0.0  # how often a deal takes it over the tier below, or takes the add-on
    erp_item: str = ""  # ERP's item id ("" = ITEM-<position>)
    prices: Mapping[str, float] = field(default_factory=dict)  # major units, beside list_price


SHIPPED_REGIONS: Mapping[str, Region] = {
    r.code: r
    for r in (
        Region("US", "Kestrel Equipment Inc.", "USD", "en_US", "US-SALES-STD"),
        Region("CA", "Kestrel Equipment Canada Ltd.", "CAD", "en_CA", "CA-GST-5"),
        Region("GB", "Kestrel Equipment Ltd", "GBP", "en_GB", "GB-VAT-20"),
        Region("DE", "Kestrel Equipment GmbH", "EUR", "de_DE", "DE-USt-19"),
        Region("FR", "Kestrel Équipement SAS", "EUR", "fr_FR", "FR-TVA-20"),
        Region("JP", "Kestrel Equipment K.K.", "JPY", "ja_JP", "JP-CT-10"),
        Region("BR", "Kestrel Equipamentos Ltda.", "BRL", "pt_BR", "BR-ICMS-18"),
        Region("AU", "Kestrel Equipment Pty Ltd", "AUD", "en_AU", "AU-GST-10"),
        Region("IN", "Kestrel Equipment India Pvt Ltd", "INR", "en_IN", "IN-GST-18"),
    )
}

SHIPPED_CURRENCIES: Mapping[str, Currency] = {
    c.code: c
    for c in (
        Currency("USD", 100, 1.0),
        Currency("CAD", 100, 1.35),
        Currency("GBP", 100, 0.79),
        Currency("EUR", 100, 0.92),
        Currency("JPY", 1, 150.0),
        Currency("BRL", 100, 5.0),
        Currency("AUD", 100, 1.5),
        Currency("INR", 100, 83.0),
    )
}

SHIPPED_OFFERS: tuple[Offer, ...] = (
    Offer("HW-EDGE-100", "Edge Controller 100", "hardware", 4800),
    Offer("HW-EDGE-300", "Edge Controller 300", "hardware", 9600),
    Offer("SW-FLEET-STD", "Fleet Manager Standard, per device-year", "subscription", 600,
          upgrades_to="SW-FLEET-PRO"),
    Offer("SW-FLEET-PRO", "Fleet Manager Pro, per device-year", "subscription", 1200, share=0.3),
    Offer("SW-ANALYTICS", "Predictive Analytics add-on, per device-year", "subscription", 300,
          add_on=True, share=0.2),
    Offer("SUP-STANDARD", "Standard Support, per device-year", "support", 200, "standard",
          upgrades_to="SUP-PREMIUM"),
    Offer("SUP-PREMIUM", "Premium Support 24x7, per device-year", "support", 500, "premium",
          share=0.4),
)  # fmt: skip


@dataclass(frozen=True)
class Catalogue:
    regions: Mapping[str, Region]
    currencies: Mapping[str, Currency]
    offers: tuple[Offer, ...]

    @property
    def skus(self) -> tuple[str, ...]:
        return tuple(offer.sku for offer in self.offers)

    def offer(self, sku: str) -> Offer:
        return next(offer for offer in self.offers if offer.sku == sku)

    def products(self) -> dict[str, Product]:
        """Each product priced in every currency the regions use, in minor units."""
        return {offer.sku: Product(
            offer.sku, offer.name, offer.kind, self._prices(offer), offer.support_level
        ) for offer in self.offers}  # fmt: skip

    def erp_items(self) -> dict[str, str]:
        return {
            offer.sku: offer.erp_item or f"ITEM-{position:04d}"
            for position, offer in enumerate(self.offers, start=1)
        }

    def _prices(self, offer: Offer) -> dict[str, int]:
        prices: dict[str, int] = {}
        for region in self.regions.values():
            currency = self.currencies[region.currency]
            major = offer.prices.get(currency.code)
            if major is None:
                major = round(offer.list_price * 100) / 100 * currency.per_usd
            prices[currency.code] = round(major * currency.minor_units)
        return prices

    # -- the roles products play in deals ---------------------------------------------------

    def hardware(self) -> tuple[str, ...]:
        """The hardware a new deal takes one of."""
        return tuple(o.sku for o in self.offers if o.kind == "hardware" and not o.add_on)

    def families(self) -> tuple[tuple[Offer, ...], ...]:
        """Each recurring family's tiers, base first, in catalogue order."""
        recurring = [o for o in self.offers if o.kind != "hardware" and not o.add_on]
        above = {o.upgrades_to for o in recurring if o.upgrades_to}
        by_sku = {o.sku: o for o in recurring}
        chains = []
        for base in (o for o in recurring if o.sku not in above):
            chain, tier = [base], base
            while tier.upgrades_to is not None and tier.upgrades_to in by_sku:
                tier = by_sku[tier.upgrades_to]
                chain.append(tier)
            chains.append(tuple(chain))
        return tuple(chains)

    def add_ons(self) -> tuple[Offer, ...]:
        return tuple(o for o in self.offers if o.add_on)

    def seats(self) -> frozenset[str]:
        """The SKUs counted as a contract's devices (seats): its subscription families' tiers."""
        return frozenset(
            o.sku for chain in self.families() for o in chain if o.kind == "subscription"
        )


SHIPPED = Catalogue(SHIPPED_REGIONS, SHIPPED_CURRENCIES, SHIPPED_OFFERS)
