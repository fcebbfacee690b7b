"""The world's own traffic into live services: sales reps approving quotes in CPQ (new deals
and amendments at the scenario's mix) and customers calling the service desk.

`syncline conform` drives it for its workload; the studio's load slider drives it at the rate
the trainer picks. Its calls are traced `world:<who>`, so the integration's checkers leave them
out (harness.history.WORLD_TRACE).
"""

from __future__ import annotations

import random
from typing import Any

import httpx

from harness.history import WORLD_TRACE
from harness.scenario import Scenario
from harness.seeds import streams
from harness.workload import Workload
from harness.world import build_world

#: The share of sales that amend a contract already sold, once there is one.
AMENDING = 0.4
#: The chance a customer calls the service desk after a sale.
CASES = 0.3


def world_headers(who: str) -> dict[str, str]:
    return {"X-Syncline-Trace": f"{WORLD_TRACE}{who}"}


class SalesFloor:
    """One sale at a time, each drawn from the scenario's world and mix with `seed`."""

    def __init__(self, scenario: Scenario, seed: int) -> None:
        world = build_world(scenario.world, seed)
        self.workload = Workload(world, scenario.workload.amendment_mix.model_dump(),
                                 streams(seed + 7))  # fmt: skip
        self.agents: random.Random = streams(seed + 7)("conform.cases")
        self.contracts: dict[str, list[dict[str, Any]]] = {}
        self.customers: list[str] = []
        self.sold = 0

    async def sell(self, cpq: httpx.AsyncClient, service_desk: httpx.AsyncClient) -> None:
        """A quote created and approved in CPQ; now and then a customer's case in support."""
        if self.contracts and self.workload.amendments.random() < AMENDING:
            contract_id = self.workload.pick_contract(sorted(self.contracts))
            _, lines = self.workload.amend(self.contracts[contract_id])
            payload: dict[str, Any] = {"contract_id": contract_id, "lines": lines}
        else:
            customer_id, lines = self.workload.new_deal()
            payload = {"customer_id": customer_id, "lines": lines}
        created = await cpq.post("/v1/create_quote", json=payload)
        if created.status_code == 200:
            quote = created.json()
            approved = await cpq.post("/v1/approve_quote", json={"quote_id": quote["quote_id"]})
            if approved.status_code == 200:
                self.sold += 1
                self.contracts[quote["contract_id"]] = lines
                if "customer_id" in payload:
                    self.customers.append(payload["customer_id"])
        if self.customers and self.agents.random() < CASES:
            case = {"customer_id": self.agents.choice(self.customers),
                    "severity": self.agents.randint(1, 4)}  # fmt: skip
            await service_desk.post("/v1/open_case", json=case)
