"""What the sales floor does: new subscriptions and contract amendments arriving over time.

Arrivals are Poisson at the scenario's rates. A new deal is a fleet of devices: a hardware
product, a tier of each product family per device, and add-ons now and then (the catalogue's
roles, harness/catalogue.py); an amendment changes an existing contract's full line set
(upgrade, add-on or downgrade), as CPQ amendment quotes do. All draws come from the workload's
own streams.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from harness.catalogue import Offer
from harness.scenario import Scenario
from harness.world import World

Lines = list[dict[str, Any]]
Family = tuple[Offer, ...]

_FLEET_SIZES = (5, 10, 20, 50, 100, 250)
_FLEET_WEIGHTS = (20, 30, 25, 15, 8, 2)
_FLEET_CUMULATIVE = tuple(itertools.accumulate(_FLEET_WEIGHTS))  # `choices` draws the same
_AMENDMENT_KINDS = ("upgrade", "add_on", "downgrade")


def poisson_arrivals(rate_per_s: float, rng: random.Random, until: float) -> Iterator[float]:
    """Arrival times of a Poisson process on [0, until)."""
    if rate_per_s <= 0:
        return
    now = rng.expovariate(rate_per_s)
    while now < until:
        yield now
        now += rng.expovariate(rate_per_s)


def expected_arrivals(scenario: Scenario) -> float:
    """Sales, renewals, cancellations and cases the scenario's rates promise over its duration:
    what a run's cost grows with, to start the longest runs of a pool first."""
    rates = scenario.workload
    per_s = rates.new_subscriptions + rates.amendments + rates.renewals + rates.cancellations
    return scenario.duration * (per_s + rates.cases)


def devices(lines: Sequence[dict[str, Any]], seats: frozenset[str]) -> int:
    """Devices a contract covers: its software seats (one per managed device)."""
    return sum(line["quantity"] for line in lines if line["sku"] in seats)


class Workload:
    """Decides who buys what; the driver decides when (from `arrivals`)."""

    def __init__(
        self, world: World, mix: dict[str, float], streams: Callable[[str], random.Random]
    ) -> None:
        self.world = world
        self.mix = list(itertools.accumulate(mix[kind] for kind in _AMENDMENT_KINDS))  # cumulative
        self.deals = streams("workload.deals")
        self.amendments = streams("workload.amendment_kinds")
        catalogue = world.catalogue
        self.hardware = catalogue.hardware()
        self.families = catalogue.families()
        self.add_ons = catalogue.add_ons()
        self.seats = catalogue.seats()
        self.subscription_families = [c for c in self.families if c[0].kind == "subscription"]

    def new_deal(self) -> tuple[str, Lines]:
        rng = self.deals
        customer = rng.choice(self.world.customers)
        fleet = rng.choices(_FLEET_SIZES, cum_weights=_FLEET_CUMULATIVE)[0]
        lines: Lines = []
        if self.hardware:
            lines.append({"sku": rng.choice(self.hardware), "quantity": fleet})
        for family in self.families:
            tier = family[0]
            for higher in family[1:]:
                if rng.random() >= higher.share:
                    break
                tier = higher
            lines.append({"sku": tier.sku, "quantity": fleet})
        for add_on in self.add_ons:
            if rng.random() < add_on.share:
                lines.append({"sku": add_on.sku, "quantity": fleet})
        return customer.customer_id, lines

    def pick_contract(self, contract_ids: Sequence[str]) -> str:
        return self.amendments.choice(contract_ids)

    def amend(self, lines: Sequence[dict[str, Any]]) -> tuple[str, Lines]:
        """The amendment kind and the contract's full new line set."""
        kind = self.amendments.choices(_AMENDMENT_KINDS, cum_weights=self.mix)[0]
        current = {line["sku"]: line["quantity"] for line in lines}
        fleet = max(devices(lines, self.seats), 1)
        if kind == "upgrade":
            if not _step(current, self.families, up=True):
                self._grow(current, fleet)
        elif kind == "add_on":
            missing = next((a.sku for a in self.add_ons if a.sku not in current), None)
            if missing is not None:
                current[missing] = fleet
            else:
                self._grow(current, fleet)
        elif _holds_upper_tier(current, self.subscription_families) and (
            self.amendments.random() < 0.5
        ):
            _step(current, self.subscription_families, up=False)
        else:
            shrink = max(1, round(fleet * self.amendments.uniform(0.1, 0.3)))
            for sku, quantity in current.items():
                if sku not in self.hardware and quantity > shrink:
                    current[sku] = quantity - shrink
        return kind, [{"sku": sku, "quantity": qty} for sku, qty in sorted(current.items())]

    def _grow(self, current: dict[str, int], fleet: int) -> None:
        """Expand the fleet: more devices, with software and support for each."""
        added = max(1, round(fleet * self.amendments.uniform(0.1, 0.5)))
        hardware = next((sku for sku in current if sku in self.hardware), None)
        if hardware is None and self.hardware:
            hardware = self.hardware[0]
        if hardware is not None:
            current[hardware] = current.get(hardware, 0) + added
        for sku in list(current):
            if sku not in self.hardware:
                current[sku] += added


def _step(current: dict[str, int], families: Sequence[Family], up: bool) -> bool:
    """Move the first family the contract holds a movable tier of one tier up (or down)."""
    for family in families:
        skus = [tier.sku for tier in family]
        steps = itertools.pairwise(skus) if up else zip(skus[1:], skus, strict=False)
        for held, replacement in steps:
            if held in current:
                current[replacement] = current.pop(held)
                return True
    return False


def _holds_upper_tier(current: dict[str, int], families: Sequence[Family]) -> bool:
    return any(tier.sku in current for family in families for tier in family[1:])
