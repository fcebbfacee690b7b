"""The seeded business world: regions and legal entities, the catalog, customers, ERP gaps.

The world is the scenario's business (harness/catalogue.py: by default the seed document's
global equipment manufacturer), selling through one subsidiary per region. Customers are made
by Faker in their region's locale from the run's own stream, so the same seed gives the same
customers. The scenario's gaps (a missing tax code, an unmapped SKU) are applied to ERP's copy
of master data only, as in real estates where ERP lags the commercial systems.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from faker import Faker

from harness.catalogue import SHIPPED, Catalogue
from harness.seeds import derive, stream
from simulators.catalog import Catalog
from simulators.erp import MasterData, Subsidiary, TaxCode

if TYPE_CHECKING:
    from harness.scenario import WorldSpec


@dataclass(frozen=True, slots=True)
class Customer:
    customer_id: str
    name: str
    region: str
    subsidiary_id: str
    currency: str


@dataclass(frozen=True, slots=True)
class World:
    catalog: Catalog  # what CPQ sells
    billing_catalog: Catalog  # what billing has rate plans for (gaps included)
    customers: tuple[Customer, ...]
    regions: tuple[str, ...]
    erp_master: MasterData  # what (legacy) ERP holds at the start, gaps included
    erp_reference: MasterData  # what it should hold: what operations repair it to
    erp_cloud_master: MasterData | None = None  # the cloud ERP's, during a migration
    cloud_regions: frozenset[str] = frozenset()
    catalogue: Catalogue = SHIPPED  # the business's regions, currencies and products

    def erp_for(self, region: str) -> str:
        """The ERP system that serves a region."""
        return "erp_cloud" if region in self.cloud_regions else "erp"

    def accounts(self) -> dict[str, dict[str, str]]:
        """CPQ's view of customers (CRM accounts)."""
        return {
            c.customer_id: {"name": c.name, "region": c.region, "currency": c.currency}
            for c in self.customers
        }


def subsidiary_id(region: str) -> str:
    return f"SUB-{region}"


def build_world(spec: WorldSpec, seed: int) -> World:
    rng = stream(seed, "world.customers")
    catalogue = spec.catalogue()
    regions, products = catalogue.regions, catalogue.products()
    codes = list(spec.regions)
    weights = [spec.regions[c] for c in codes]
    fakers: dict[str, Faker] = {}
    customers = []
    for number in range(1, spec.customers + 1):
        region = regions[rng.choices(codes, weights)[0]]
        faker = fakers.get(region.code)
        if faker is None:
            faker = fakers[region.code] = Faker(region.locale)
            faker.seed_instance(derive(seed, f"world.faker.{region.code}"))
        customers.append(
            Customer(
                f"CUST-{number:05d}",
                faker.company(),
                region.code,
                subsidiary_id(region.code),
                region.currency,
            )
        )
    reference = MasterData(
        subsidiaries={
            subsidiary_id(code): Subsidiary(
                subsidiary_id(code), regions[code].legal_name, code, regions[code].currency
            )
            for code in codes
        },
        customers={c.customer_id: c.subsidiary_id for c in customers},
        items=catalogue.erp_items(),
        tax_codes={code: TaxCode(regions[code].tax_code, code) for code in codes},
    )
    gaps = spec.gaps
    acquired = {subsidiary_id(code) for code in gaps.unonboarded_regions}
    master = MasterData(
        subsidiaries={k: v for k, v in reference.subsidiaries.items() if k not in acquired},
        customers={c: s for c, s in reference.customers.items() if s not in acquired},
        items={s: i for s, i in reference.items.items() if s not in gaps.unmapped_skus},
        tax_codes={
            code: TaxCode(tax.code, code, active=code not in gaps.inactive_tax_codes)
            for code, tax in reference.tax_codes.items()
            if code not in gaps.missing_tax_codes
        },
    )
    billing_catalog = Catalog(p for sku, p in products.items() if sku not in gaps.unpriced_skus)
    cloud = {subsidiary_id(code) for code in spec.cloud_erp_regions}
    legacy, migrated = _split(master, cloud), _split(master, cloud, keep=True)
    return World(
        Catalog(products.values()), billing_catalog, tuple(customers), tuple(codes), legacy,
        reference, migrated if cloud else None, frozenset(spec.cloud_erp_regions), catalogue,
    )  # fmt: skip


def _split(master: MasterData, cloud: set[str], keep: bool = False) -> MasterData:
    """The master data of the legacy ERP (without the cloud subsidiaries), or of the cloud
    ERP (`keep`: only them); items and tax codes are migrated to both."""
    return MasterData(
        subsidiaries={k: v for k, v in master.subsidiaries.items() if (k in cloud) == keep},
        customers={c: s for c, s in master.customers.items() if (s in cloud) == keep},
        items=dict(master.items),
        tax_codes=dict(master.tax_codes),
    )
