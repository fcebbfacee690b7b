"""The shipped Locust load for `syncline load` (run by Locust in its own process, never imported
by syncline or its tests).

Sales reps create quotes for the scenario's customers, get them approved, and now and then amend
a contract they sold (the same deals and amendment mix as the simulated workload); support
agents check what a customer is entitled to and open cases. The services to load are read from
the `tokens.json` named by the environment variable SYNCLINE_SERVICES.
"""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path
from typing import Any

from locust import HttpUser, between, task

from harness.scenario import parse
from harness.seeds import streams
from harness.workload import Workload
from harness.world import build_world

_SERVICES = Path(os.environ.get("SYNCLINE_SERVICES", "runs/live/tokens.json"))
_DESCRIBED: dict[str, Any] = json.loads(_SERVICES.read_text(encoding="utf-8"))
_SCENARIO = parse((_SERVICES.parent / "scenario.yaml").read_text(encoding="utf-8"), "scenario")
_WORLD = build_world(_SCENARIO.world, int(_DESCRIBED.get("seed", 0)))
_MIX = _SCENARIO.workload.amendment_mix.model_dump()
_USERS = itertools.count(1)


def _system(name: str, who: str) -> tuple[str, dict[str, str]]:
    """A system's URL and headers for `who`: the world's own traffic, traced `world:<who>` so the
    checkers of the integration leave it out (harness.history.WORLD_TRACE)."""
    system = _DESCRIBED["systems"][name]
    headers = {"Authorization": f"Bearer {system['token']}", "X-Syncline-Trace": f"world:{who}"}
    return system["url"], headers


class SalesRep(HttpUser):
    """Quotes and amendments in CPQ: the input the integration must carry everywhere."""

    weight = 3
    wait_time = between(0.5, 2.0)
    host = _DESCRIBED["systems"]["cpq"]["url"]

    def on_start(self) -> None:
        number = next(_USERS)
        self.workload = Workload(_WORLD, _MIX, streams(int(_DESCRIBED.get("seed", 0)) + number))
        self.cpq, self.headers = _system("cpq", "sales_reps")
        self.contracts: dict[str, list[dict[str, Any]]] = {}

    def _quote(self, payload: dict[str, Any], name: str) -> None:
        with self.client.post(f"{self.cpq}/v1/create_quote", json=payload, headers=self.headers,
                              name=name, catch_response=True) as created:  # fmt: skip
            if created.status_code != 200:
                created.failure(f"{created.status_code}: {created.text[:120]}")
                return
            quote = created.json()
        approve = {"quote_id": quote["quote_id"]}
        with self.client.post(f"{self.cpq}/v1/approve_quote", json=approve, headers=self.headers,
                              name="approve_quote", catch_response=True) as approved:  # fmt: skip
            if approved.status_code != 200:
                approved.failure(f"{approved.status_code}: {approved.text[:120]}")
                return
        self.contracts[quote["contract_id"]] = payload["lines"]

    @task(3)
    def new_subscription(self) -> None:
        customer_id, lines = self.workload.new_deal()
        self._quote({"customer_id": customer_id, "lines": lines}, "create_quote (new)")

    @task(2)
    def amendment(self) -> None:
        if not self.contracts:
            return
        contract_id = self.workload.pick_contract(sorted(self.contracts))
        _, lines = self.workload.amend(self.contracts[contract_id])
        self._quote({"contract_id": contract_id, "lines": lines}, "create_quote (amendment)")


class SupportAgent(HttpUser):
    """Entitlement checks and cases in support: what customers see of the integration."""

    weight = 1
    wait_time = between(1.0, 3.0)
    host = _DESCRIBED["systems"]["support"]["url"]

    def on_start(self) -> None:
        self.rng = streams(int(_DESCRIBED.get("seed", 0)) + 10_000 + next(_USERS))("agents")
        self.support, self.headers = _system("support", "support_agents")

    def _customer(self) -> str:
        return str(self.rng.choice(_WORLD.customers).customer_id)

    @task(3)
    def check_entitlement(self) -> None:
        payload = {"customer_id": self._customer()}
        self.client.post(f"{self.support}/v1/check_entitlement", json=payload,
                         headers=self.headers, name="check_entitlement")  # fmt: skip

    @task(1)
    def open_case(self) -> None:
        payload = {"customer_id": self._customer(), "severity": self.rng.randint(1, 4)}
        self.client.post(f"{self.support}/v1/open_case", json=payload, headers=self.headers,
                         name="open_case")  # fmt: skip
