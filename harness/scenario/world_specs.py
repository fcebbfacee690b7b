"""The business in a scenario: `world:` — customers, regions, currencies, products, ERP gaps.

world:
  customers: 300
  regions: {NL: 3, US: 1}              # where customers are, by weight
  legal_entities:                      # regions of your own, beside the shipped nine
    NL: {name: Acme Nederland B.V., currency: EUR, tax_code: NL-BTW-21, locale: nl_NL}
  products:                            # your catalogue, instead of the shipped manufacturer's
    - {sku: ACME-SEAT, name: Acme seat, kind: subscription, list_price: 240}
Without `legal_entities`, `currencies` and `products`, the world is the seed document's
manufacturer (harness/catalogue.py).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from typing import Literal

from faker.config import AVAILABLE_LOCALES
from pydantic import Field, NonNegativeFloat, PositiveInt, model_validator

from harness.catalogue import SHIPPED, Catalogue, Currency, Offer, Region
from harness.scenario.types import Positive, Probability, Spec

_CODE = r"^[A-Z][A-Z0-9_-]{0,15}$"


class LegalEntitySpec(Spec):
    """A region of the business: the subsidiary that sells there, in one currency."""

    name: str
    """The subsidiary's legal name, as ERP holds it."""
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    """The ISO 4217 code it transacts in: a shipped currency or one under world.currencies."""
    tax_code: str
    """The tax code ERP applies to its orders, e.g. NL-BTW-21."""
    locale: str = "en_US"
    """Faker's locale for its customers' names, e.g. nl_NL."""


class CurrencySpec(Spec):
    minor_units: PositiveInt = 100
    """Minor units per major unit: 100 for cents, 1 for yen."""
    per_usd: Positive
    """Units of this currency per US dollar: list prices are given in dollars."""


class ProductSpec(Spec):
    """A product the business sells, its price, and its role in deals (harness/catalogue.py)."""

    sku: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    """The product code CPQ, ERP and billing share."""
    name: str = ""
    """What it is called on quotes and invoices."""
    kind: Literal["hardware", "subscription", "support"]
    """hardware is sold once; subscription and support recur yearly."""
    list_price: NonNegativeFloat
    """US dollars per unit (per year if recurring), converted by each currency's per_usd."""
    prices: dict[str, NonNegativeFloat] = {}
    """Prices in other currencies' major units, instead of the converted list price."""
    support_level: Literal["standard", "premium"] | None = None
    """The support entitlement a support plan grants (support products only, required there)."""
    upgrades_to: str | None = None
    """The SKU of the next tier in its family (an upgrade amendment moves to it)."""
    add_on: bool = False
    """An add-on: not in every deal, added by add-on amendments."""
    share: Probability = 0.0
    """How often a new deal takes it: over the tier below, or (an add-on) at all."""
    erp_item: str = ""
    """ERP's item id for the SKU (default ITEM-<position in the list>)."""

    def offer(self) -> Offer:
        return Offer(
            self.sku, self.name or self.sku, self.kind, self.list_price, self.support_level,
            self.upgrades_to, self.add_on, self.share, self.erp_item, dict(self.prices),
        )  # fmt: skip


class GapsSpec(Spec):
    """Master-data gaps in ERP from the start: what breaks mappings in practice."""

    missing_tax_codes: list[str] = []
    """Regions with no tax code in ERP at the start: their orders stop at ERP validation
    (TAX_CODE_MISSING)."""
    inactive_tax_codes: list[str] = []
    """Regions whose tax code exists in ERP but is inactive (TAX_CODE_INACTIVE)."""
    unmapped_skus: list[str] = []
    """SKUs CPQ sells that ERP has no item for (ITEM_NOT_MAPPED)."""
    unpriced_skus: list[str] = []
    """SKUs billing has no rate plan for: billing refuses what ERP accepted."""
    unonboarded_regions: list[str] = []
    """Regions of an acquired legal entity: its subsidiary and customers are not yet in ERP."""


class WorldSpec(Spec):
    customers: PositiveInt
    """How many customers the world has (made by Faker in their region's locale)."""
    regions: dict[str, Positive]
    """Region code -> relative weight of customers there, e.g. {US: 35, DE: 15}."""
    legal_entities: dict[str, LegalEntitySpec] = {}
    """Regions of your own (code -> legal entity), beside the shipped nine: US, CA, GB, DE, FR,
    JP, BR, AU, IN; a shipped code given here is replaced."""
    currencies: dict[str, CurrencySpec] = {}
    """Currencies of your own (ISO code -> minor units and rate), beside the shipped USD, CAD,
    GBP, EUR, JPY, BRL, AUD and INR."""
    products: list[ProductSpec] = []
    """Your catalogue, instead of the shipped manufacturer's seven products (when given)."""
    gaps: GapsSpec = GapsSpec()
    """What ERP's master data lacks at the start (tax codes, item mappings, subsidiaries)."""
    cloud_erp_regions: list[str] = []
    """During a cloud ERP migration: regions already live on the cloud ERP (`systems.erp_cloud`);
    the legacy ERP keeps the others."""

    def catalogue(self) -> Catalogue:
        """The business this world describes: the shipped one, with the scenario's own added."""
        if not (self.legal_entities or self.currencies or self.products):
            return SHIPPED
        regions = dict(SHIPPED.regions)
        for code, entity in self.legal_entities.items():
            regions[code] = Region(
                code, entity.name, entity.currency, entity.locale, entity.tax_code
            )
        currencies = dict(SHIPPED.currencies)
        for code, currency in self.currencies.items():
            currencies[code] = Currency(code, currency.minor_units, currency.per_usd)
        offers = tuple(p.offer() for p in self.products) if self.products else SHIPPED.offers
        return Catalogue(regions, currencies, offers)

    @model_validator(mode="after")
    def _names_what_it_defines(self) -> WorldSpec:
        for code in self.legal_entities:
            if re.match(_CODE, code) is None:
                raise ValueError(f"legal_entities: {code!r} is not a region code like NL, US-W")
        catalogue = self.catalogue()
        regions, skus = list(catalogue.regions), list(catalogue.skus)
        _known("regions", self.regions, regions, "region")
        _known("cloud_erp_regions", self.cloud_erp_regions, regions, "region")
        gaps = self.gaps
        for name in ("missing_tax_codes", "inactive_tax_codes", "unonboarded_regions"):
            _known(f"gaps.{name}", getattr(gaps, name), regions, "region")
        for name in ("unmapped_skus", "unpriced_skus"):
            _known(f"gaps.{name}", getattr(gaps, name), skus, "SKU")
        for code, entity in self.legal_entities.items():
            if entity.currency not in catalogue.currencies:
                raise ValueError(
                    f"legal_entities.{code}.currency: {entity.currency} is not a shipped "
                    "currency; define it under world.currencies"
                )
            if entity.locale not in AVAILABLE_LOCALES:
                close = difflib.get_close_matches(entity.locale, AVAILABLE_LOCALES, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise ValueError(
                    f"legal_entities.{code}.locale: unknown locale {entity.locale!r}{hint}"
                )
        self._products_are_whole(skus)
        return self

    def _products_are_whole(self, skus: list[str]) -> None:
        if len(set(skus)) != len(skus):
            twice = next(sku for sku in skus if skus.count(sku) > 1)
            raise ValueError(f"products: SKU {twice} is listed twice")
        by_sku = {p.sku: p for p in self.products}
        for index, product in enumerate(self.products):
            where = f"products[{index}] ({product.sku})"
            if product.kind == "support" and product.support_level is None:
                raise ValueError(f"{where}: a support plan needs a support_level")
            if product.kind != "support" and product.support_level is not None:
                raise ValueError(f"{where}: only support products grant a support_level")
            upper = product.upgrades_to
            if upper is not None:
                if upper not in by_sku:
                    raise ValueError(f"{where}: upgrades_to names {upper}, not in products")
                if by_sku[upper].kind != product.kind or by_sku[upper].add_on or product.add_on:
                    raise ValueError(f"{where}: upgrades_to {upper} must be a tier of its kind")
        if self.products and not any(p.kind != "hardware" and not p.add_on for p in self.products):
            raise ValueError(
                "products: a deal needs a subscription or support product that is not an add-on"
            )


def _known(field: str, given: Iterable[str], known: list[str], what: str) -> None:
    for name in given:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(known)}"
            where = "world.legal_entities adds more" if what == "region" else "see world.products"
            raise ValueError(f"{field}: unknown {what} {name!r} ({hint}; {where})")
