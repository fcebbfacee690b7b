"""The systems of record of a scenario, built from its world and profiles: shared by the
simulated run and the live services, so both serve the same data with the same behaviour."""

from __future__ import annotations

from dataclasses import dataclass

from harness.scenario import Scenario
from harness.world import World, build_world
from simulators.base import SystemOfRecord
from simulators.billing import Billing
from simulators.cpq import CPQ
from simulators.erp import ERP
from simulators.profiles import Behaviour, Streams
from simulators.support import Support


@dataclass
class Systems:
    world: World
    cpq: CPQ | None  # None: the business sells through a web shop into billing
    erp: ERP | None  # None: the business keeps no ERP
    erps: dict[str, ERP]  # two during a cloud ERP migration, none without an ERP
    billing: Billing
    by_name: dict[str, SystemOfRecord]
    behaviours: dict[str, Behaviour]


def build_systems(scenario: Scenario, seed: int, named: Streams) -> Systems:
    """CPQ, ERP (and a cloud ERP when the scenario has one), billing and support, each with
    its behaviour bound to the run's named streams; the systems the business does without
    (`cpq: null`, `erp: null`) are not built."""
    world = build_world(scenario.world, seed)
    spec = scenario.systems
    profiles = {name: system.profile() for name, system in spec.items()}
    epoch = scenario.start.timestamp()
    catalog, idempotency = world.catalog, {n: p.idempotency for n, p in profiles.items()}
    accounts = world.accounts()  # CRM's customers, synced to billing and support as accounts
    cpq = CPQ(catalog, accounts, idempotency["cpq"], epoch) if spec.cpq else None
    erp = ERP(world.erp_master, idempotency["erp"], epoch) if spec.erp else None
    erps = {} if erp is None else {"erp": erp}
    if world.erp_cloud_master is not None:
        cloud = world.erp_cloud_master
        erps["erp_cloud"] = ERP(cloud, idempotency["erp_cloud"], epoch, "erp_cloud")
    billing = Billing(world.billing_catalog, idempotency["billing"], epoch, accounts)
    by_name: dict[str, SystemOfRecord] = {
        **({"cpq": cpq} if cpq is not None else {}),
        **({"erp": erp} if erp is not None else {}),
        "billing": billing,
        "support": Support(idempotency["support"], epoch, accounts),
        **{name: other for name, other in erps.items() if name != "erp"},
    }
    behaviours = {name: profile.bind(name, named) for name, profile in profiles.items()}
    return Systems(world, cpq, erp, erps, billing, by_name, behaviours)
