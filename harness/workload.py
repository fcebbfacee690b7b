"""What the sales floor does: new subscriptions and contract amendments arriving over time.

Arrivals are Poisson at the scenario's rates. A new deal is a fleet of edge controllers with
software per device and a support plan; an amendment changes an existing contract's full line
set (upgrade, add-on or downgrade), as CPQ amendment quotes do. All draws come from the
workload's own streams.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from harness.world import World

Lines = list[dict[str, Any]]

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


def devices(lines: Sequence[dict[str, Any]]) -> int:
    """Devices a contract covers: the software seats (one per managed device)."""
    return sum(line["quantity"] for line in lines if line["sku"].startswith("SW-FLEET"))


class Workload:
    """Decides who buys what; the driver decides when (from `arrivals`)."""

    def __init__(
        self, world: World, mix: dict[str, float], streams: Callable[[str], random.Random]
    ) -> None:
        self.world = world
        self.mix = list(itertools.accumulate(mix[kind] for kind in _AMENDMENT_KINDS))  # cumulative
        self.deals = streams("workload.deals")
        self.amendments = streams("workload.amendment_kinds")

    def new_deal(self) -> tuple[str, Lines]:
        rng = self.deals
        customer = rng.choice(self.world.customers)
        fleet = rng.choices(_FLEET_SIZES, cum_weights=_FLEET_CUMULATIVE)[0]
        lines: Lines = [
            {"sku": rng.choice(("HW-EDGE-100", "HW-EDGE-300")), "quantity": fleet},
            {"sku": "SW-FLEET-PRO" if rng.random() < 0.3 else "SW-FLEET-STD", "quantity": fleet},
            {"sku": "SUP-PREMIUM" if rng.random() < 0.4 else "SUP-STANDARD", "quantity": fleet},
        ]
        if rng.random() < 0.2:
            lines.append({"sku": "SW-ANALYTICS", "quantity": fleet})
        return customer.customer_id, lines

    def pick_contract(self, contract_ids: Sequence[str]) -> str:
        return self.amendments.choice(contract_ids)

    def amend(self, lines: Sequence[dict[str, Any]]) -> tuple[str, Lines]:
        """The amendment kind and the contract's full new line set."""
        kind = self.amendments.choices(_AMENDMENT_KINDS, cum_weights=self.mix)[0]
        current = {line["sku"]: line["quantity"] for line in lines}
        fleet = max(devices(lines), 1)
        if kind == "upgrade":
            if "SW-FLEET-STD" in current:
                current["SW-FLEET-PRO"] = current.pop("SW-FLEET-STD")
            elif "SUP-STANDARD" in current:
                current["SUP-PREMIUM"] = current.pop("SUP-STANDARD")
            else:
                _grow(current, fleet, self.amendments)
        elif kind == "add_on":
            if "SW-ANALYTICS" not in current:
                current["SW-ANALYTICS"] = fleet
            else:
                _grow(current, fleet, self.amendments)
        elif "SW-FLEET-PRO" in current and self.amendments.random() < 0.5:
            current["SW-FLEET-STD"] = current.pop("SW-FLEET-PRO")
        else:
            shrink = max(1, round(fleet * self.amendments.uniform(0.1, 0.3)))
            for sku, quantity in current.items():
                if not sku.startswith("HW-") and quantity > shrink:
                    current[sku] = quantity - shrink
        return kind, [{"sku": sku, "quantity": qty} for sku, qty in sorted(current.items())]


def _grow(current: dict[str, int], fleet: int, rng: random.Random) -> None:
    """Expand the fleet: more devices, with software and support for each."""
    added = max(1, round(fleet * rng.uniform(0.1, 0.5)))
    hardware = next((sku for sku in current if sku.startswith("HW-")), "HW-EDGE-100")
    current[hardware] = current.get(hardware, 0) + added
    for sku in list(current):
        if not sku.startswith("HW-"):
            current[sku] += added
