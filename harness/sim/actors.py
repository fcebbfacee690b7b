"""The world's actors in simulated time: the sales floor, renewals and cancellations,
customers opening cases and paying, billing staff reversing disputed invoices.

Each draws from its own named stream, so adding an actor never shifts another's draws. Like
people, they act only while the workload runs; the drain only settles what they started.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import simpy

from harness.scenario import Scenario
from harness.sim.network import Network
from harness.sim.sales import Sales
from harness.sim.world_calls import WorldCalls
from harness.workload import Workload, poisson_arrivals
from simulators.base import DomainEvent, SystemOfRecord

Streams = Callable[[str], Any]


class WorldActors:
    def __init__(
        self,
        env: simpy.Environment,
        scenario: Scenario,
        sales: Sales,
        systems: dict[str, SystemOfRecord],
        network: Network,
        world_calls: WorldCalls,
        workload: Workload,
        named: Streams,
    ) -> None:
        self.env, self.scenario, self.sales, self.systems = env, scenario, sales, systems
        self.network, self.world_calls, self.workload = network, world_calls, workload
        self._streams = named
        self._arrivals = (named("workload.new_arrivals"), named("workload.amendment_arrivals"))
        self._invoice_rng = named("workload.invoices")

    def start(self) -> None:
        env, workload = self.env, self.scenario.workload
        env.process(self._new_business())
        env.process(self._amendments())
        env.process(self._contract_changes(workload.renewals, "renew_contract", "renewals"))
        env.process(
            self._contract_changes(workload.cancellations, "cancel_contract", "cancellations")
        )
        env.process(self._support_cases(workload.cases))
        if workload.payments is not None or workload.invoice_reversals > 0:
            self.network.observers.append(self._customers_and_billing_staff)

    def _new_business(self) -> Generator[simpy.Event, Any, None]:
        rate = self.scenario.workload.new_subscriptions
        for at in poisson_arrivals(rate, self._arrivals[0], self.scenario.duration):
            yield self.env.timeout(at - self.env.now)
            customer_id, lines = self.workload.new_deal()
            self.sales.sell({"customer_id": customer_id, "lines": lines}, self.env.now)

    def _amendments(self) -> Generator[simpy.Event, Any, None]:
        rate = self.scenario.workload.amendments
        for at in poisson_arrivals(rate, self._arrivals[1], self.scenario.duration):
            yield self.env.timeout(at - self.env.now)
            if not self.sales.contracts():
                continue
            contract_id = self.workload.pick_contract(self.sales.contracts())
            current = self.sales.lines(contract_id)
            _, lines = self.workload.amend(current)
            if lines != current:
                self.sales.sell({"contract_id": contract_id, "lines": lines}, self.env.now)

    def _contract_changes(
        self, rate: float, operation: str, stream_name: str
    ) -> Generator[simpy.Event, Any, None]:
        """Renewals or cancellations of active contracts (quoted in CPQ and approved, or
        ordered in the web shop)."""
        rng = self._streams(f"workload.{stream_name}")
        for at in poisson_arrivals(rate, rng, self.scenario.duration):
            yield self.env.timeout(at - self.env.now)
            active = [c for c in self.sales.contracts() if self.sales.active(c)]
            if active:
                self.sales.change(operation, rng.choice(active), self.env.now)

    def _support_cases(self, rate: float) -> Generator[simpy.Event, Any, None]:
        """Customers with contracts open cases; the agent sees what support shows then."""
        rng = self._streams("workload.cases")
        for at in poisson_arrivals(rate, rng, self.scenario.duration):
            yield self.env.timeout(at - self.env.now)
            if self.sales.contracts():
                customer = self.sales.customer(rng.choice(self.sales.contracts()))
                request = {"customer_id": customer, "severity": rng.randint(1, 4)}
                self.env.process(
                    self.world_calls.call("support", "open_case", request, "customers")
                )

    def _customers_and_billing_staff(self, event: DomainEvent) -> None:
        """Customers pay invoices; billing staff reverse the disputed ones."""
        if event.type != "invoice.posted":
            return
        workload, rng = self.scenario.workload, self._invoice_rng
        invoice_id = str(event.keys["invoice"])
        if workload.invoice_reversals > 0 and rng.random() < workload.invoice_reversals:
            self._later(rng.uniform(3600, 86400), "reverse_invoice", invoice_id)
        elif workload.payments is not None and rng.random() < workload.payments.share:
            self._later(workload.payments.delay.model().sample(rng), "apply_payment", invoice_id)

    def _later(self, delay: float, operation: str, invoice_id: str) -> None:
        if self.env.now + delay < self.scenario.duration:
            self.env.process(self._act_on_invoice(delay, operation, invoice_id))

    def _act_on_invoice(
        self, delay: float, operation: str, invoice_id: str
    ) -> Generator[simpy.Event, Any, None]:
        yield self.env.timeout(delay)
        billing = self.systems["billing"]
        invoice = billing.table("invoice").get(invoice_id)
        if invoice is None or invoice["status"] != "posted":
            return
        request: dict[str, Any] = {"invoice_id": invoice_id}
        if operation == "apply_payment":
            if invoice["balance"] <= 0:
                return
            request["amount"] = invoice["balance"]
        who = "customers" if operation == "apply_payment" else "billing_staff"
        yield from self.world_calls.call("billing", operation, request, who)
